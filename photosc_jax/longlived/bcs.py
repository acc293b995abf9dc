"""BCS core of the long-lived photo-induced superconductivity paper (Chattopadhyay et al.).

Free energy per site (Eq. 7, extended by the Lagrange multiplier ζ of Eq. 9 that fixes the
quasi-particle number — the paper's "λ"):

    F_SC(Δ) = ν(0)[Δ²/λ − 2∫₀^ω (E − ξ) dξ − 4T∫₀^ω ln(1 + e^{−(E+ζ)/T}) dξ] − ζ n*,

E = √(ξ² + Δ²), λ = ν(0)U, cutoff ω. Gap equation (∂F/∂Δ = 0, Eq. 10 — Eq. B6 misses the ½):
1/λ = ∫₀^ω tanh((E+ζ)/2T)/E dξ. Quasi-particle number (∂F/∂ζ = 0, Eq. 11):
n* = 4ν(0)∫₀^ω f(E+ζ) dξ.

**The chemical-potential shift ζ** (keyword `chem_shift`; called `mu` in 0.1, which still
works for one release with a `DeprecationWarning`): the quasi-particles occupy f(E + ζ), i.e. they have the
chemical potential −ζ. ζ = 0 is thermal equilibrium; ζ > 0 means fewer quasi-particles than
thermal (a frozen n* below the thermal number). It is fixed by n* (Eq. 11) and is unrelated to
the rotation frequency μ of Δ in model I.

**Units.** Energies (Δ, T, ζ, ω, F) in any common unit — phonon units ω = 1 by default; k_B = 1.
`nu` is the dimensionless ν(0)ω (DOS per spin per site times ω), so ν(0) = nu/ω; F is per site in
the energy unit, n* is per site (with nu = 1 it is counted in units of ν(0)ω).

**Numerics.** ∫₀^ω dξ uses the substitution ξ = a sinh t (a ≈ max(Δ, 10⁻³T)), which maps the
1/E peak of width Δ and the tanh/Fermi edge of width T to O(1) features in t, followed by fixed
composite Gauss–Legendre (16 panels × 16 nodes): static shapes, relative error ≲ 1e-12 for
Δ ≳ 10⁻¹²ω and ζ ≥ −Δ (a Fermi edge inside the band, ζ < −Δ with |ζ| ≫ T, is resolved less well).
Roots are found by `optimistix.root_find` (bisection in log Δ / log T) with implicit
differentiation, so `jax.grad` flows through `gap`, `critical_temperature` and `trapped_gap`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import as_float as _f
from .._checks import renamed_keyword
from .._numerics import bracketed_root, fermi, fermi_log_term, gauss_legendre, tanh_half

_N_PANELS, _N_NODES = 16, 16
_A_FLOOR_T, _A_FLOOR_OMEGA = 1e-3, 1e-15
_DELTA_LO = 1e-12  # lower end of the Δ bracket, relative to Δ0
_TOL = 1e-12
_MAX_STEPS = 256

Scalar = Float[Array, ""]

_deprecated_mu = renamed_keyword(
    "mu", "chem_shift", "the quasi-particle chemical-potential shift ζ, occupation f(E + ζ)"
)


class TrappedGap(NamedTuple):
    """(Δ_tr, ζ) of `trapped_gap`: the trapped gap and the chemical-potential shift fixed by
    n* (units of ω). Unpacks like the pair it replaces: `Delta, chem_shift = trapped_gap(...)`."""

    Delta: Scalar
    chem_shift: Scalar


def _solve(fn, lower, upper, args, *, decreasing: bool):
    """Root of a monotone scalar fn(y, args) on [lower, upper] (bisection, implicit adjoint)."""
    return bracketed_root(
        lambda y: fn(y, args), lower, upper, decreasing=decreasing, rtol=_TOL, atol=_TOL, max_steps=_MAX_STEPS
    )


def xi_integral(fn, Delta, T, omega=1.0):
    """∫₀^ω fn(ξ, E) dξ with E = √(ξ² + Δ²), by ξ = a sinh t and composite Gauss–Legendre.

    `fn` is evaluated on a fixed array of 256 nodes (broadcast-safe). Differentiable in
    Δ, T, ω and in anything `fn` closes over.
    """
    Delta, T, omega = _f(Delta), _f(T), _f(omega)
    nodes, weights = gauss_legendre(_N_PANELS, _N_NODES)
    a = jnp.sqrt(Delta**2 + (_A_FLOOR_T * T) ** 2 + (_A_FLOOR_OMEGA * omega) ** 2)
    L = jnp.arcsinh(omega / a)
    t = L * nodes
    xi = a * jnp.sinh(t)
    E = jnp.sqrt(xi**2 + Delta**2)
    return jnp.sum(weights * L * a * jnp.cosh(t) * fn(xi, E))


@_deprecated_mu
@jax.jit
def gap_integral(Delta, T, omega=1.0, chem_shift=0.0) -> Scalar:
    """Right-hand side of the gap equation (Eq. 10): ∫₀^ω tanh((E+ζ)/2T)/E dξ (units 1)."""
    return xi_integral(lambda xi, E: tanh_half(E + chem_shift, T) / E, Delta, T, omega)


@_deprecated_mu
@jax.jit
def quasiparticle_number(Delta, T, chem_shift=0.0, nu=1.0, omega=1.0) -> Scalar:
    """Bogoliubov quasi-particles per site, n = 4ν(0)∫₀^ω f(E+ζ) dξ (Eq. 11), ν(0) = nu/ω."""
    return 4.0 * nu / omega * xi_integral(lambda xi, E: fermi(E + chem_shift, T), Delta, T, omega)


@_deprecated_mu
@jax.jit
def free_energy(Delta, lam, T, *, nu=1.0, omega=1.0, chem_shift=0.0, n_star=0.0) -> Scalar:
    """BCS free energy per site F_SC(Δ; λ, T) of Eq. 7 (ζ = n* = 0) or Eq. 9 (ζ, n* given).

    **Arguments:** `Delta` gap, `lam` = ν(0)U > 0, `T` ≥ 0, `nu` = ν(0)ω, cutoff `omega`,
    quasi-particle chemical-potential shift `chem_shift` (ζ, fixed by n* in Eq. 9), frozen
    quasi-particle number per site `n_star`.

    **Returns:** F in the energy unit of ω. The Δ-independent normal-state value is not
    subtracted (F(Δ=0, T=0) = 0). Uses the closed form
    2∫₀^ω(E − ξ)dξ = Δ²[ω/(E_ω + ω) + arcsinh(ω/|Δ|)], E_ω = √(ω² + Δ²).
    ∂F/∂Δ = 0 is the gap equation; ∂F/∂λ = −ν(0)Δ²/λ² (Hellmann–Feynman, ∂F/∂U = −Δ²/U²).
    """
    Delta, lam, T, omega = _f(Delta), _f(lam), _f(T), _f(omega)
    D2 = Delta**2
    absD = jnp.where(D2 > 0, jnp.abs(Delta), 1.0)
    E_w = jnp.sqrt(omega**2 + D2)
    kinetic = jnp.where(D2 > 0, D2 * (omega / (E_w + omega) + jnp.arcsinh(omega / absD)), 0.0)
    thermal = 4.0 * xi_integral(lambda xi, E: fermi_log_term(E + chem_shift, T), Delta, T, omega)
    return nu / omega * (D2 / lam - kinetic - thermal) - chem_shift * n_star


def zero_temperature_gap(lam, omega=1.0) -> Scalar:
    """Δ0 = ω/sinh(1/λ), the T = 0 solution of the gap equation (closed form; 0 for λ ≤ 0)."""
    lam = _f(lam)
    lp = jnp.where(lam > 0, lam, 1.0)
    return jnp.where(lam > 0, 2.0 * omega * jnp.exp(-1.0 / lp) / -jnp.expm1(-2.0 / lp), 0.0)


def condensation_energy(lam, nu=1.0, omega=1.0) -> Scalar:
    """E_SC(T = 0) = −ν(0)ω²(coth(1/λ) − 1) = −2 nu ω/(e^{2/λ} − 1): F_SC at Δ0 and T = 0.

    (The paper's E(Q) drops the constant +ν(0)ω²; differences are unaffected.)
    """
    lam = _f(lam)
    lp = jnp.where(lam > 0, lam, 1.0)
    return jnp.where(lam > 0, -2.0 * nu * omega / jnp.expm1(2.0 / lp), 0.0)


def _tc_fn(y, args):
    lam, omega = args
    return gap_integral(0.0, jnp.exp(y), omega) - 1.0 / lam


@jax.jit
def critical_temperature(lam, omega=1.0) -> Scalar:
    """T_c solving 1/λ = ∫₀^ω tanh(ξ/2T_c)/ξ dξ (Eq. 10 at Δ = ζ = 0); 0 for λ ≤ 0.

    Weak coupling: T_c → (2e^γ/π) ω e^{−1/λ} = 1.1339 ω e^{−1/λ}. Units of ω (k_B = 1).
    """
    lam, omega = _f(lam), _f(omega)
    lp = jnp.where(lam > 0, lam, 1.0)
    t_weak, t_strong = 1.1339 * omega * jnp.exp(-1.0 / lp), 0.5 * lp * omega
    lower = jnp.log(0.25 * jnp.minimum(t_weak, t_strong))
    upper = jnp.log(4.0 * jnp.maximum(t_weak, t_strong))

    Tc = jnp.exp(_solve(_tc_fn, lower, upper, (lp, omega), decreasing=True))
    return jnp.where(lam > 0, Tc, 0.0)


def _gap_fn(y, args):
    lam, T, omega, chem_shift = args
    return gap_integral(jnp.exp(y), T, omega, chem_shift) - 1.0 / lam


def _bracket(lp, omega):
    D0 = zero_temperature_gap(lp, omega)
    return jnp.log(_DELTA_LO * D0), jnp.log(D0) + 1e-9


def _gap_solve(lp, T, omega, chem_shift, sc):
    lower, upper = _bracket(lp, omega)
    # In the normal branch solve a harmless stand-in problem (T = ζ = 0) so no NaN leaks into grads.
    args = (lp, jnp.where(sc, T, 0.0), omega, jnp.where(sc, chem_shift, 0.0))
    Delta = jnp.exp(_solve(_gap_fn, lower, upper, args, decreasing=True))
    return jnp.where(sc, Delta, 0.0)


def _inputs(lam, T, omega, chem_shift):
    lam, T, omega, chem_shift = _f(lam), _f(T), _f(omega), _f(chem_shift)
    return lam, jnp.where(lam > 0, lam, 1.0), T, omega, chem_shift


@_deprecated_mu
@jax.jit
def gap(lam, T, omega=1.0, chem_shift=0.0) -> Scalar:
    """Δ(λ, T): the largest solution of the gap equation (Eq. 10) at fixed ζ (ζ = 0: thermal BCS).

    Returns exactly 0 (with finite, zero gradients) when there is no superconducting solution:
    for ζ = 0 when T ≥ T_c(λ) (computed by `critical_temperature`) or λ ≤ 0; for ζ ≠ 0 when the
    gap equation has no root above 10⁻¹²Δ0. Δ ≤ Δ0 always. Units of ω. Differentiable in λ, T,
    ω, ζ (implicit function theorem through the optimistix root).
    """
    lam, lp, T, omega, chem_shift = _inputs(lam, T, omega, chem_shift)
    below_tc = T < critical_temperature(lp, omega)
    has_root = _gap_fn(_bracket(lp, omega)[0], (lp, T, omega, chem_shift)) > 0
    return _gap_solve(lp, T, omega, chem_shift, (lam > 0) & jnp.where(chem_shift == 0, below_tc, has_root))


@_deprecated_mu
@jax.jit
def solve_gap_equation(lam, T, omega=1.0, chem_shift=0.0) -> Scalar:
    """As `gap`, but decides Δ = 0 from the sign of the gap equation at Δ = 10⁻¹²Δ0 instead of
    solving for T_c: one root solve instead of two (used inside landscape scans; timings in
    benchmarks/RESULTS.md). Within ~10⁻¹² of T_c it may return a tiny Δ where `gap` returns
    exactly 0."""
    lam, lp, T, omega, chem_shift = _inputs(lam, T, omega, chem_shift)
    has_root = _gap_fn(_bracket(lp, omega)[0], (lp, T, omega, chem_shift)) > 0
    return _gap_solve(lp, T, omega, chem_shift, (lam > 0) & has_root)


def _n_fn(chem_shift, args):
    Delta, n_star, T, nu, omega = args
    return quasiparticle_number(Delta, T, chem_shift, nu, omega) - n_star


def _trap_fn(y, args):
    n_star, lam, T, nu, omega = args
    Delta = jnp.exp(y)
    return gap_integral(Delta, T, omega, _shift_for_n(Delta, n_star, T, nu, omega)) - 1.0 / lam


def _shift_for_n(Delta, n_star, T, nu, omega):
    """ζ such that 4ν(0)∫f(E+ζ)dξ = n* at fixed Δ (n decreases monotonically with ζ)."""
    E_w = jnp.sqrt(omega**2 + Delta**2)
    x = n_star / (4.0 * nu)
    lower = -E_w + T * jnp.log1p(-x) - T * jnp.log(x) - T - 1e-12 * omega
    upper = -Delta - T * jnp.log(x) + T + 1e-12 * omega
    return _solve(_n_fn, lower, upper, (Delta, n_star, T, nu, omega), decreasing=True)


@jax.jit
def trapped_gap(n_star, lam, T, nu=1.0, omega=1.0) -> TrappedGap:
    """Quasi-particle trapping (Eqs. 9–11): (Δ_tr, ζ) at frozen quasi-particle number n*.

    Solves jointly 1/λ = ∫₀^ω tanh((E+ζ)/2T)/E dξ (Eq. 10) and n* = 4ν(0)∫₀^ω f(E+ζ)dξ
    (Eq. 11); the pair is a stationary point of Eq. 9 — a minimum in Δ but a *maximum* in ζ
    (F is concave in ζ; docs/model-longlived.md). `n_star` is per site (with `nu` = ν(0)ω = 1 it is in units
    of ν(0)ω), 0 < n* < 4 nu; `lam` = ν(0)U0 > 0; `T` > 0 (energies in units of ω).

    Limits: n* → 0 ⇒ ζ → ∞ and Δ_tr → Δ0 = ω/sinh(1/λ); n* equal to the thermal number at
    the thermal gap ⇒ ζ = 0 and Δ_tr = Δ(λ, T). If no gap opens (n* too large), returns
    Δ_tr = 0 and the ζ of the normal state with n* quasi-particles.
    """
    n_star, lam, T, nu, omega = _f(n_star), _f(lam), _f(T), _f(nu), _f(omega)
    D0 = zero_temperature_gap(lam, omega)
    lower, upper = jnp.log(_DELTA_LO * D0), jnp.log(D0)
    args = (n_star, lam, T, nu, omega)
    sc = _trap_fn(lower, args) > 0
    y = _solve(_trap_fn, lower, upper, args, decreasing=True)
    Delta = jnp.where(sc, jnp.exp(y), 0.0)
    return TrappedGap(Delta, _shift_for_n(Delta, n_star, T, nu, omega))
