"""Q-dependent pairing attraction (Chattopadhyay et al. Eq. 5, App. A; Eq. 14, App. E).

Displaced Raman phonon (Eq. 5, Schrieffer–Wolff after the rotation by tan 2θ = 2gQ/ΔE):

    U(Q) = U0 + (g²/Mω²) · 4g²Q²/(ΔE² + 4g²Q²).

In phonon units (energies in ω, lengths in ℓ0 = 1/√(Mω); d = ΔE/ω, G = gℓ0/ω, q = Q/ℓ0) this is
U/ω = U0/ω + G²·4G²q²/(d² + 4G²q²), and the BCS coupling λ(q) = ν(0)U(q) = λ0 + ν G² s(q) with
the saturation variable s = 4G²q²/(d² + 4G²q²) ∈ [0, 1).

Oscillating phonon (Eq. 14): U = 4g⁴ΔE²⟨Q²⟩/(Mω²(ΔE² − ω²)²) — in phonon units
U/ω = 4G⁴d²⟨q²⟩/(d² − 1)². It diverges at the resonance ΔE = ω (App. E's E35 has 2g⁴ and E34
the opposite sign; Eq. 14 is the reference, docs/model-longlived.md). Its ratio to the small-Q limit of Eq. 5,
4G⁴q²/d², is d⁴/(d² − 1)².

Validity: Schrieffer–Wolff assumes Δ_eff = √(ΔE² + 4g²Q²) ≫ ω; results with ΔE/ω ≲ 1 (the
metastable stretch of the K3C60 curve) are outside that regime.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import as_float, concrete_array

RESONANCE_RTOL = 1e-9


def attraction(Q, DeltaE, g, M, omega, U0=0.0) -> Float[Array, "..."]:
    """U(Q) of Eq. 5 in any consistent units (ħ = 1): U0 + (g²/Mω²)·4g²Q²/(ΔE² + 4g²Q²)."""
    x = 4.0 * g**2 * Q**2
    return as_float(U0 + g**2 / (M * omega**2) * x / (DeltaE**2 + x))


def saturation(q, DeltaE, G) -> Float[Array, "..."]:
    """s(q) = 4G²q²/(d² + 4G²q²) ∈ [0, 1) (phonon units; `DeltaE` = d = ΔE/ω)."""
    x = 4.0 * G**2 * q**2
    return as_float(x / (DeltaE**2 + x))


def q_of_saturation(s, DeltaE, G) -> Float[Array, "..."]:
    """Inverse of `saturation`: q = (d/2G)·√(s/(1 − s)), s ∈ [0, 1)."""
    return 0.5 * DeltaE / G * jnp.sqrt(s / (1.0 - s))


def coupling(q, DeltaE, nu, G, lam0) -> Float[Array, "..."]:
    """λ(q) = ν(0)U(q) = λ0 + ν G²·4G²q²/(d² + 4G²q²) (Eq. 5, phonon units, ν = ν(0)ω)."""
    return as_float(lam0 + nu * G**2 * saturation(q, DeltaE, G))


def _check_resonance(d2m1, d2, on_resonance: str, rtol: float):
    at_res = jnp.abs(d2m1) <= rtol * d2
    if on_resonance == "inf":
        return at_res
    if on_resonance == "raise":
        value = concrete_array(at_res)
        if value is not None and bool(np.any(value)):
            raise ValueError(
                "Eq. 14 diverges at the resonance ΔE = ω (here |ΔE² − ω²| ≤ "
                f"{rtol:g}·ΔE²): the Schrieffer–Wolff expansion breaks down there. Move ΔE off "
                "resonance, or pass on_resonance='inf' to get +inf instead of an error."
            )
        return eqx.error_if(
            at_res,
            at_res,
            "Eq. 14 evaluated at the resonance ΔE = ω "
            "(diverges); move ΔE off resonance or use on_resonance='inf'.",
        )
    raise ValueError(f"on_resonance must be 'inf' or 'raise', got {on_resonance!r}.")


def oscillating_attraction(
    Q2, DeltaE, g, M, omega, *, on_resonance: str = "raise", rtol: float = RESONANCE_RTOL
) -> Float[Array, "..."]:
    """Attraction of an oscillating phonon, Eq. 14: U = 4g⁴ΔE²⟨Q²⟩/(Mω²(ΔE² − ω²)²).

    **Arguments:** `Q2` = ⟨Q²⟩, level splitting `DeltaE`, coupling `g`, mass `M`, phonon
    frequency `omega` (consistent units, ħ = 1). Keyword `on_resonance`: what to do when
    |ΔE² − ω²| ≤ rtol·ΔE² — `"raise"` (default; a `ValueError` for concrete inputs, an
    `equinox` run-time error under `jit`) or `"inf"` (return +inf there). Off resonance the
    value is returned as is, large near the resonance because the formula is.
    """
    d2 = DeltaE**2
    d2m1 = d2 - omega**2
    at_res = _check_resonance(d2m1, d2, on_resonance, rtol)
    safe = jnp.where(at_res, 1.0, d2m1)
    val = 4.0 * g**4 * d2 * Q2 / (M * omega**2 * safe**2)
    return jnp.where(at_res, jnp.inf, val)


def oscillating_attraction_phonon_units(q2, DeltaE, G, **kwargs) -> Float[Array, "..."]:
    """Eq. 14 in phonon units: U/ω = 4G⁴d²⟨q²⟩/(d² − 1)² (d = ΔE/ω, G = gℓ0/ω, q = Q/ℓ0)."""
    return oscillating_attraction(q2, DeltaE, G, 1.0, 1.0, **kwargs)
