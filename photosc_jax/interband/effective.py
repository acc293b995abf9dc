"""Effective equilibrium BdG model of the paired steady state (paper Sec. III B, Eq. 12).

H_eff = Σ_{k,α} ε_α(k) c†_{α,k} c_{α,k} − Δ̃ Σ_k (c†_{2,k} c†_{1,−k} + h.c.),
ε_α(k) = A_α k² − C (C ≈ 0.2 E_g in the paper).

Typo note: Eq. 12 as printed, −Δ̃ Σ_{k,α≠β}(c†_{α,k} c†_{β,−k} + h.c.), vanishes identically
(relabelling k → −k in the α = 2 term gives −1 times the α = 1 term). We use the σ^y form of
Eq. 2, i.e. the pairing of the driven model with Δ → Δ̃ (real, any sign).

Each Nambu block ψ_k = (c_{2,k}, c†_{1,−k}) has h_k = [[ε2(k), −Δ̃], [−Δ̃, −ε1(−k)]] with
eigenvalues e_± = δ ± E, δ = (ε2 − ε1)/2, ξ = (ε2 + ε1)/2, E = √(ξ² + Δ̃²).
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._numerics import fermi


def effective_occupations(
    k: Float[ArrayLike, " N"],
    Delta_t: float,
    *,
    C: float = 0.2,
    A1: float = 7.0,
    A2: float = 24.0,
    T: float = 0.0,
) -> tuple[Float[Array, " N"], Float[Array, " N"]]:
    """Band occupations (n1_k, n2_k) of the effective model Eq. 12 at temperature T (E_g).

    In the strong-pairing regime (|δ| < E) both equal v_k² = ½(1 − ξ/E) at T = 0: this is the
    paper's n_k^eff, the black line of Fig. 3. Mirror symmetry makes n_α(k) = n_α(−k).
    """
    k = jnp.asarray(k, dtype=float)
    e1, e2 = A1 * k**2 - C, A2 * k**2 - C
    xi, dlt = 0.5 * (e2 + e1), 0.5 * (e2 - e1)
    E = jnp.sqrt(xi**2 + jnp.asarray(Delta_t, float) ** 2)
    r = jnp.where(E > 0, xi / jnp.where(E > 0, E, 1.0), 1.0)
    fp, fm = fermi(dlt + E, T), fermi(dlt - E, T)
    n2 = 0.5 * (1 + r) * fp + 0.5 * (1 - r) * fm
    n1 = 1.0 - (0.5 * (1 - r) * fp + 0.5 * (1 + r) * fm)
    return n1, n2
