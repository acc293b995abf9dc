"""K3C60 in the metastability model (Chattopadhyay et al., App. D and Fig. 2b; docs/model-longlived.md).

Parameters (App. D): Raman mode Hg(3) at f = 22 THz, i.e. ħω = h·f = 90.98 meV (a frequency, not
an angular frequency); DFT density of states ν(0)ω = 0.603; level splitting ΔE ≈ 250 meV; coupling
gℓ0/ω ≈ 0.6. Mott (Brinkman–Rice) renormalisation with quasi-particle residue Z: ΔE → ZΔE,
ν(0) → ν(0)/Z, while U0 is re-tuned to keep λ0 = U0ν_eff(0) = 0.3 fixed (the paper's "U0ν(0)/Z"
notation read as in docs/model-longlived.md).

Known inconsistency: with ω = 90.98 meV as the BCS cutoff, λ0 = 0.3 gives T_c ≈ 42.7 K, not the
quoted 20 K (which needs λ0 ≈ 0.2444). λ0 is the input here; `critical_temperature_K` reports the
T_c it implies and `lam0_for_tc` the λ0 a given T_c requires.

Validity: the metastable stretch lies at ΔE/ω < 1, outside the Schrieffer–Wolff regime of Eq. 5.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import units
from .._numerics import bracketed_root
from . import bcs
from .metastability import MetastabilityParams, MetastabilityResult, analyze, stationarity_minimum

PHONON_FREQUENCY_THZ = 22.0
"""Hg(3) Raman mode frequency f (THz)."""
OMEGA_MEV = float(units.thz_to_mev(PHONON_FREQUENCY_THZ))
"""ħω = h·22 THz = 90.98 meV: the phonon energy and BCS cutoff."""
DELTA_E_MEV = 250.0
"""DFT t1u level splitting ΔE (meV)."""
NU_OMEGA_DFT = 0.603
"""DFT ν(0)ω (per spin per site)."""
G_DEFAULT = 0.6
"""gℓ0/ω for the relevant Hg(3) polarisation."""
LAM0_DEFAULT = 0.3
"""λ_eff(Q = 0) = U0ν_eff(0) held fixed along the Z scan."""
TC_QUOTED_K = 20.0
"""The paper's quoted equilibrium T_c (inconsistent with λ0 = 0.3 at this cutoff)."""


def k3c60(inv_Z, G=G_DEFAULT, lam0=LAM0_DEFAULT, *, n_grid: int = 128) -> MetastabilityParams:
    """K3C60 at Mott renormalisation Z = 1/inv_Z, in phonon units: d = (ΔE/ħω)/inv_Z,
    ν = 0.603·inv_Z, G, λ0 (λ0 held fixed by re-tuning U0)."""
    inv_Z = jnp.asarray(inv_Z, dtype=jnp.result_type(float))
    return MetastabilityParams(DELTA_E_MEV / OMEGA_MEV / inv_Z, NU_OMEGA_DFT * inv_Z, G, lam0, n_grid)


def critical_temperature_K(lam0=LAM0_DEFAULT) -> Float[Array, ""]:
    """Equilibrium BCS T_c (K) for coupling λ0 with cutoff ħω = 90.98 meV (≈ 42.7 K at 0.3)."""
    return units.phonon_units_to_kelvin(bcs.critical_temperature(lam0), OMEGA_MEV)


def lam0_for_tc(Tc_K) -> Float[Array, ""]:
    """The λ0 whose BCS T_c at cutoff ħω = 90.98 meV equals `Tc_K` (≈ 0.2444 for 20 K)."""
    t = units.kelvin_to_phonon_units(Tc_K, OMEGA_MEV)
    fn = lambda lam: jnp.log(bcs.critical_temperature(lam)) - jnp.log(t)  # noqa: E731
    return bracketed_root(fn, 0.05, 2.0, decreasing=False, rtol=1e-12, atol=1e-12, throw=True)


def k3c60_scan(inv_Z, G=G_DEFAULT, lam0=LAM0_DEFAULT) -> MetastabilityResult:
    """T = 0 analysis along the Mott-renormalisation curve (vmap over `inv_Z`; T_B not computed)."""
    one = lambda z: analyze(k3c60(z, G, lam0), 0.0, with_T_B=False)  # noqa: E731
    return jax.jit(jax.vmap(one))(jnp.atleast_1d(jnp.asarray(inv_Z, dtype=float)))


def _bisect(fn, lower, upper, *, decreasing: bool):
    return bracketed_root(
        fn, lower, upper, decreasing=decreasing, rtol=1e-10, atol=1e-12, max_steps=256, throw=True
    )


def k3c60_metastability_onset(G=G_DEFAULT, lam0=LAM0_DEFAULT, bracket=(1.0, 10.0)) -> float:
    """Z⁻¹ at which a metastable minimum first appears (min_q E'(q)/q crosses 0 at T = 0).

    Just above it the class is metastable I (E(Q_MS) > E(0) at the onset, where Q_B = Q_MS).
    Raises `ValueError` if the class does not change inside `bracket`.
    """
    m = jax.jit(lambda z: stationarity_minimum(k3c60(z, G, lam0), 0.0)[2])
    lo, hi = bracket
    if not (float(m(lo)) > 0 > float(m(hi))):
        raise ValueError(f"No metastability onset for Z⁻¹ in {bracket} (G={G}, λ0={lam0}); widen `bracket`.")
    return float(_bisect(m, lo, hi, decreasing=True))


def k3c60_instability_onset(G=G_DEFAULT, lam0=LAM0_DEFAULT) -> float:
    """Z⁻¹ at which Q = 0 itself turns unstable (E''(0) = 0). Closed form: E''(0) = 0 ⇔
    Z⁻⁴ = λ0²(ΔE/ħω)² / (8 ν_DFT² G⁴ Δ0(λ0)²), Δ0 = 1/sinh(1/λ0) in units of ω."""
    D0 = bcs.zero_temperature_gap(lam0)
    d = DELTA_E_MEV / OMEGA_MEV
    return float((lam0**2 * d**2 / (8.0 * NU_OMEGA_DFT**2 * G**4 * D0**2)) ** 0.25)


def k3c60_thresholds(G=G_DEFAULT, lam0=LAM0_DEFAULT) -> dict[str, float]:
    """Z⁻¹ thresholds along the K3C60 curve: metastability onset (class I), the I → II boundary
    (E(Q_MS) = E(0)), and the loss of stability of Q = 0; plus the T_c implied by λ0 (K)."""
    onset = k3c60_metastability_onset(G, lam0)
    unstable = k3c60_instability_onset(G, lam0)
    e_ms = jax.jit(lambda z: analyze(k3c60(z, G, lam0), 0.0, with_T_B=False).E_MS)
    lo = onset * (1 + 1e-9)
    i_to_ii = float(_bisect(e_ms, lo, unstable, decreasing=True)) if float(e_ms(lo)) > 0 else onset
    return dict(
        metastability_onset=onset,
        metastable_I_to_II=i_to_ii,
        undistorted_unstable=unstable,
        Tc_K=float(critical_temperature_K(lam0)),
    )
