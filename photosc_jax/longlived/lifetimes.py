"""Golden-rule quasi-particle rates of a BCS superconductor coupled to a phonon bath
(Chattopadhyay et al., App. C, Eqs. C3–C5) and the generation time τ_g (Eqs. 12–13).

Units: phonon units with ħ = k_B = 1 — energies (Δ, T, ζ, Ω) in ω, rates in ω (times in
1/ω); α²F(Ω) is dimensionless. Conversions to meV / ps live in `photosc_jax.units`.

For a quasi-particle at the gap edge (energy Δ, k = 0), with the quasi-particle occupation
f(E) = 1/(e^{(E+ζ)/T} + 1) (ζ = 0: thermal; ζ ≠ 0: the trapped state of Eqs. 9–11; ζ is the
quasi-particle chemical-potential shift fixed by n*, keyword `chem_shift`, the paper's "λ")
and the Bose function n(Ω):

    Γ_g = 2π ∫_{2Δ}^∞ dΩ α²F(Ω) √(Ω/(Ω−2Δ)) (1 − f(Ω−Δ)) (1 − f(Δ)) n(Ω)        (C3)
    Γ_s = 2π ∫_0^∞   dΩ α²F(Ω) √(Ω/(Ω+2Δ)) (1 − f(Ω+Δ)) [1 − f(Δ)] n(Ω)        (C4)
    Γ_r = 2π ∫_{2Δ}^∞ dΩ α²F(Ω) √(Ω/(Ω−2Δ)) f(Ω−Δ)     [1 − f(Δ)] (1 + n(Ω))  (C5)

In C3 the factor (1 − f(Δ)) is Pauli blocking of the quasi-particle being created. In C4
and C5 the quasi-particle at Δ is *consumed*; the bracketed factor printed by the paper is
spurious (docs/model-longlived.md). `scattering_rate` / `recombination_rate` implement C4 / C5 as
printed; `scattering_rate_per_qp` / `recombination_rate_per_qp` drop the factor and are the
rates per quasi-particle present at Δ. Only the latter satisfy detailed balance,
Γ_g = e^{2ζ/T} f(Δ) Γ_r^{qp} (exact, pointwise in Ω; ζ = 0 is thermal equilibrium).

Low-T limit of C3 (T ≪ Δ, ζ = 0, α²F smooth at 2Δ; docs/model-longlived.md corrects Eq. 13):
    Γ_g → 2π^{3/2} α²F(2Δ) √(2ΔT) e^{−2Δ/T},  i.e. τ_g = τ0 (2Δ/T)^{1/2} e^{2Δ/T}   (12)
    with τ0⁻¹ = 2π^{3/2} α²F(2Δ)·2Δ                                                 (13)
with relative corrections T/(8Δ) + (T/2) α²F'(2Δ)/α²F(2Δ) + O(T², e^{−Δ/T}).

All integrals use a fixed composite Gauss–Legendre rule in u with Ω = Ω_lo + u², which removes
the inverse-square-root edge singularity, with extra cuts at the nodes of a tabulated α²F and
at user-given `breakpoints` (steps, peaks of a callable α²F); shapes are static, so every
function is safe under `jit`, `vmap` and `grad`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypedDict, Unpack

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import concrete_array, require
from .._numerics import bose, fermi, gauss_legendre

# Thermal cut-off of the integrals: integrands decay at least like e^{-(Ω-Ω_lo)/T}.
_THERMAL_CUTOFF = 60.0


class Alpha2FTable(eqx.Module):
    """Eliashberg function α²F(Ω) given as a table, linearly interpolated, zero outside.

    **Arguments:** `Omega` — strictly increasing nodes (units of ω), `values` — α²F ≥ 0
    at the nodes (dimensionless). Both 1-D of equal length ≥ 2.
    """

    Omega: Float[Array, " n"]
    values: Float[Array, " n"]

    def __check_init__(self):
        Om, v = self.Omega, self.values
        if Om.ndim != 1 or v.shape != Om.shape or Om.shape[0] < 2:
            raise ValueError(
                f"Alpha2FTable needs 1-D Omega and values of equal length >= 2, got shapes "
                f"{Om.shape} and {v.shape}."
            )
        Om_c, v_c = concrete_array(Om), concrete_array(v)
        if Om_c is not None and not np.all(np.diff(Om_c) > 0):
            raise ValueError("Alpha2FTable.Omega must be strictly increasing; sort the table.")
        if v_c is not None and np.any(v_c < 0):
            raise ValueError(
                "Alpha2FTable.values has negative entries: α²F(Ω) is a coupling-weighted phonon "
                "density of states and must be >= 0. Clip or fix the table."
            )

    def __call__(self, Omega: ArrayLike) -> Float[Array, "..."]:
        return jnp.interp(Omega, self.Omega, self.values, left=0.0, right=0.0)

    @property
    def Omega_max(self) -> Float[Array, ""]:
        return self.Omega[-1]


Alpha2F = Callable[[Array], Array] | Alpha2FTable | tuple


def as_alpha2F(alpha2F: Alpha2F) -> Callable[[Array], Array]:
    """A callable α²F from a callable, an `Alpha2FTable` or a tuple `(Omega, values)`."""
    if isinstance(alpha2F, tuple):
        if len(alpha2F) != 2:
            raise ValueError("A tabulated α²F must be the pair (Omega, values).")
        Om, v = alpha2F
        return Alpha2FTable(jnp.asarray(Om, float), jnp.asarray(v, float))
    if not callable(alpha2F):
        raise TypeError(
            f"alpha2F must be a callable Ω -> α²F(Ω), an Alpha2FTable or a pair (Omega, values); "
            f"got {type(alpha2F).__name__}."
        )
    return alpha2F


def _check(Delta, T, chem_shift):
    for name, x in (("Delta", Delta), ("T", T), ("chem_shift", chem_shift)):
        require(name, x, np.isfinite, "must be a finite number (got NaN or inf); units of ω.")
    require(
        "T",
        T,
        lambda v: v > 0,
        "must be > 0 (units of ω): the golden-rule rates involve n(Ω) = 1/(e^(Ω/T)−1); "
        "at T = 0 the generation rate vanishes identically.",
    )
    require("Delta", Delta, lambda v: v >= 0, "must be >= 0 (the gap magnitude, units of ω).")
    T = eqx.error_if(T, T <= 0, "lifetimes: T must be > 0 (units of ω).")
    Delta = eqx.error_if(Delta, Delta < 0, "lifetimes: Delta must be >= 0 (units of ω).")
    return Delta, T


def _breakpoints(a2F, breakpoints):
    """Ω at which α²F may be non-smooth: a table's nodes plus the user's `breakpoints`."""
    pts = [jnp.ravel(jnp.asarray(breakpoints, dtype=float))] if breakpoints is not None else []
    if isinstance(a2F, Alpha2FTable):
        pts.append(a2F.Omega)
    return jnp.concatenate(pts) if pts else jnp.zeros((0,))


def _integrate(integrand, a2F, Omega_lo, span, Omega_max, n_panels, order, breakpoints=None):
    """∫ integrand dΩ over [Omega_lo, min(Omega_lo + span, Omega_max)] with Ω = Omega_lo + u²;
    `integrand(Ω, α²F(Ω), u)` is the integrand in u, i.e. it includes dΩ/du = 2u itself.

    The u range is cut into `n_panels` equal panels *and* at every breakpoint (the nodes of an
    `Alpha2FTable`, where its linear interpolation has kinks, and the user's `breakpoints`,
    e.g. steps or peaks of a callable α²F), each piece with an `order`-point Gauss–Legendre
    rule: static shapes (n_panels + #breakpoints pieces), and a stepped or peaked α²F is
    integrated to ~1e-10 instead of the O(h) error of a rule straddling a step. The cut points
    follow Δ (they are live), so derivatives stay exact across a step."""
    if Omega_max is None:
        Omega_max = getattr(a2F, "Omega_max", jnp.inf)
    top = jnp.minimum(Omega_lo + span, Omega_max)
    u_max = jnp.sqrt(jnp.maximum(top - Omega_lo, 0.0))
    d = jnp.clip(_breakpoints(a2F, breakpoints) - Omega_lo, 0.0, u_max**2)
    u_bp = jnp.where(d > 0, jnp.sqrt(jnp.where(d > 0, d, 1.0)), 0.0)
    edges = jnp.sort(jnp.concatenate([u_max * jnp.linspace(0.0, 1.0, n_panels + 1), u_bp]))
    x, w = gauss_legendre(1, order)
    lo, width = edges[:-1, None], jnp.diff(edges)[:, None]
    # the nodes of empty pieces (cut points outside the range) sit mid-range, with zero weight
    u = jnp.where(width > 0, lo + width * x[None, :], 0.5 * u_max).ravel()
    wts = (width * w[None, :]).ravel()
    Omega = Omega_lo + u**2
    vals = a2F(Omega)
    if not isinstance(a2F, Alpha2FTable):
        vals = eqx.error_if(vals, jnp.any(vals < 0), "alpha2F(Ω) returned negative values: α²F must be >= 0.")
    return jnp.sum(wts * integrand(Omega, vals, u))


def _occ(E, T, chem_shift):
    """Quasi-particle occupation f(E) = 1/(e^{(E+ζ)/T}+1) (stable)."""
    return fermi(E + chem_shift, T)


def _emp(E, T, chem_shift):
    """1 − f(E) = f(−E) with the same ζ shift."""
    return fermi(-(E + chem_shift), T)


def _pair_edge(Omega, u):
    # √(Ω/(Ω−2Δ)) dΩ = 2√Ω du  with Ω − 2Δ = u².
    return 2.0 * jnp.sqrt(Omega)


def _generation_scaled(Delta, T, a2F, chem_shift, quad, printed=None):
    """Γ_g · e^{2Δ/T} (finite as T → 0)."""

    def integrand(Om, a, u):
        n_scaled = jnp.exp(-(u**2) / T) / (-jnp.expm1(-Om / T))  # n(Ω) e^{2Δ/T}
        return _pair_edge(Om, u) * a * _emp(Om - Delta, T, chem_shift) * _emp(Delta, T, chem_shift) * n_scaled

    return 2 * jnp.pi * _integrate(integrand, a2F, 2 * Delta, _THERMAL_CUTOFF * T, *quad)


def _generation(Delta, T, a2F, chem_shift, quad, printed=None):
    return _generation_scaled(Delta, T, a2F, chem_shift, quad) * jnp.exp(-2 * Delta / T)


def _generation_time(Delta, T, a2F, chem_shift, quad, printed=None):
    return jnp.exp(2 * Delta / T) / _generation_scaled(Delta, T, a2F, chem_shift, quad)


def _scattering(Delta, T, a2F, chem_shift, quad, printed):
    def integrand(Om, a, u):
        # √(Ω/(Ω+2Δ)) n(Ω) dΩ with Ω = u²: 2u·u/√(u²+2Δ)·n(u²); u² n(u²) → T as u → 0.
        un = u**2 / jnp.expm1(Om / T)
        val = 2.0 * un / jnp.sqrt(Om + 2 * Delta) * a * _emp(Om + Delta, T, chem_shift)
        return val * _emp(Delta, T, chem_shift) if printed else val

    return 2 * jnp.pi * _integrate(integrand, a2F, 0.0, _THERMAL_CUTOFF * T, *quad)


def _recombination(Delta, T, a2F, chem_shift, quad, printed):
    def integrand(Om, a, u):
        val = _pair_edge(Om, u) * a * _occ(Om - Delta, T, chem_shift) * (1.0 + bose(Om, T))
        return val * _emp(Delta, T, chem_shift) if printed else val

    span = _THERMAL_CUTOFF * T + jnp.maximum(0.0, -chem_shift - Delta)
    return 2 * jnp.pi * _integrate(integrand, a2F, 2 * Delta, span, *quad)


class Quadrature(TypedDict, total=False):
    """Keyword options of every golden-rule rate (`generation_rate`, `tau_g`, the scattering
    and recombination rates, `closed_form_error`): `Omega_max` (upper end of α²F's support,
    units of ω; a table's last node by default), `n_panels` (default 64) and `order`
    (default 8) of the composite Gauss–Legendre rule (static sizes), `breakpoints` (Ω values,
    units of ω, where a callable α²F has steps, kinks or narrow peaks: the quadrature is cut
    there; a table's nodes are always cut points)."""

    Omega_max: float | None
    n_panels: int
    order: int
    breakpoints: ArrayLike | None


_QUADRATURE_DEFAULTS = dict(Omega_max=None, n_panels=64, order=8, breakpoints=None)


def _quadrature(quad) -> tuple:
    unknown = sorted(set(quad) - set(_QUADRATURE_DEFAULTS))
    if unknown:
        raise TypeError(
            f"unexpected keyword(s) {unknown}: the golden-rule rates take Delta, T, alpha2F, "
            f"chem_shift and the quadrature options {list(_QUADRATURE_DEFAULTS)} (`Quadrature`)."
        )
    q = {**_QUADRATURE_DEFAULTS, **quad}
    return tuple(q[k] for k in _QUADRATURE_DEFAULTS)


def _rate(kernel, Delta, T, alpha2F, chem_shift, quad, printed=None):
    """`kernel` of the checked arguments; `quad` = the `Quadrature` keywords."""
    Delta, T = _check(Delta, T, chem_shift)
    return kernel(Delta, T, as_alpha2F(alpha2F), chem_shift, _quadrature(quad), printed)


def generation_rate(
    Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]
) -> Float[Array, ""]:
    """Γ_g of Eq. C3: rate at which Cooper pairs absorb a bath phonon (Ω ≥ 2Δ) and create a
    quasi-particle at the gap edge Δ plus one at Ω − Δ.

    **Arguments:** `Delta` ≥ 0 (gap, units of ω), `T` > 0 (units of ω), `alpha2F` (callable,
    `Alpha2FTable` or `(Omega, values)`), `chem_shift` (ζ, the quasi-particle
    chemical-potential shift; 0 = thermal).
    Keyword-only (`Quadrature`): `Omega_max` (upper end of α²F's support; a table's last node
    by default), `n_panels`, `order` (static quadrature size), `breakpoints` (Ω values, units
    of ω, where a callable α²F has steps, kinks or narrow peaks: the quadrature is cut there;
    a table's nodes are always cut points).

    **Returns:** Γ_g in units of ω (ħ = 1).
    """
    return _rate(_generation, Delta, T, alpha2F, chem_shift, quad)


def tau_g(Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]) -> Float[Array, ""]:
    """τ_g = 1/Γ_g (Eq. C3), units of 1/ω; the lifetime of a quasi-particle-trapped state.
    Evaluated as e^{2Δ/T}/(Γ_g e^{2Δ/T}), so it stays accurate (and overflows to inf only at
    2Δ/T ≳ 700) at low T. **Arguments:** as `generation_rate`."""
    return _rate(_generation_time, Delta, T, alpha2F, chem_shift, quad)


def scattering_rate(
    Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]
) -> Float[Array, ""]:
    """Γ_s of Eq. C4 **as printed**, including the spurious (1 − f(Δ)) factor on the consumed
    quasi-particle (docs/model-longlived.md). Number-conserving absorption Δ → Δ + Ω.

    **Arguments:** as `generation_rate`. **Returns:** a rate in units of ω (ħ = 1)."""
    return _rate(_scattering, Delta, T, alpha2F, chem_shift, quad, printed=True)


def scattering_rate_per_qp(
    Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]
) -> Float[Array, ""]:
    """Γ_s per quasi-particle at Δ: Eq. C4 without the factor (1 − f(Δ)) (docs/model-longlived.md).
    **Arguments:** as `generation_rate`. **Returns:** a rate in units of ω (ħ = 1)."""
    return _rate(_scattering, Delta, T, alpha2F, chem_shift, quad, printed=False)


def recombination_rate(
    Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]
) -> Float[Array, ""]:
    """Γ_r of Eq. C5 **as printed**, including the spurious (1 − f(Δ)) factor (docs/model-longlived.md).
    It cannot balance Γ_g: in equilibrium (ζ = 0) f(Δ)·Γ_r = (1 − f(Δ))·Γ_g, and Γ_r = e^{Δ/T} Γ_g,
    whereas the per-quasi-particle rate gives f(Δ)·Γ_r^qp = Γ_g exactly.

    **Arguments:** as `generation_rate`. **Returns:** a rate in units of ω (ħ = 1)."""
    return _rate(_recombination, Delta, T, alpha2F, chem_shift, quad, printed=True)


def recombination_rate_per_qp(
    Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]
) -> Float[Array, ""]:
    """Γ_r per quasi-particle at Δ (it recombines with a partner at Ω − Δ, emitting a phonon
    Ω ≥ 2Δ): Eq. C5 without (1 − f(Δ)). Detailed balance: Γ_g = e^{2ζ/T} f(Δ) Γ_r^{qp}.
    **Arguments:** as `generation_rate`. **Returns:** a rate in units of ω (ħ = 1)."""
    return _rate(_recombination, Delta, T, alpha2F, chem_shift, quad, printed=False)


# --- closed forms (Eqs. 12–13 as corrected in docs/model-longlived.md) -------------------------------------


def tau_0(Delta0, alpha2F: Alpha2F) -> Float[Array, ""]:
    """τ0 = 1/(2π^{3/2} α²F(2Δ0)·2Δ0) (Eq. 13 made dimensionally complete; units 1/ω)."""
    a2F = as_alpha2F(alpha2F)
    return 1.0 / (2 * math.pi**1.5 * a2F(2 * Delta0) * 2 * Delta0)


def activated_enhancement(Delta0, T) -> Float[Array, ""]:
    """τ_g/τ0 = (2Δ0/T)^{1/2} e^{2Δ0/T} (Eq. 12). At the weak-coupling 2Δ0/T = 3.54 this is
    64.9; the paper's quoted bound 45.9 is (Δ0/T)^{1/2} e^{2Δ0/T} instead (docs/model-longlived.md)."""
    x = 2 * jnp.asarray(Delta0) / T
    return jnp.sqrt(x) * jnp.exp(x)


def tau_g_low_T(Delta0, T, alpha2F: Alpha2F) -> Float[Array, ""]:
    """Closed-form τ_g = τ0 (2Δ0/T)^{1/2} e^{2Δ0/T} (Eqs. 12–13 corrected): the T ≪ Δ0, ζ = 0
    limit of 1/Γ_g, valid where α²F is smooth on the scale T above 2Δ0. Units 1/ω."""
    return tau_0(Delta0, alpha2F) * activated_enhancement(Delta0, T)


def generation_rate_low_T(Delta0, T, alpha2F: Alpha2F) -> Float[Array, ""]:
    """Γ_g → 2π^{3/2} α²F(2Δ0) √(2Δ0 T) e^{−2Δ0/T} (low-T limit of Eq. C3; units ω)."""
    a2F = as_alpha2F(alpha2F)
    return 2 * math.pi**1.5 * a2F(2 * Delta0) * jnp.sqrt(2 * Delta0 * T) * jnp.exp(-2 * Delta0 / T)


def closed_form_error(
    Delta, T, alpha2F: Alpha2F, chem_shift=0.0, **quad: Unpack[Quadrature]
) -> Float[Array, ""]:
    """Relative error τ_g^{closed}/τ_g − 1 = Γ_g/Γ_g^{closed} − 1 of Eq. 12 against the
    integral C3 (computed without under/overflow). Leading behaviour at ζ = 0:
    T/(8Δ) + (T/2)·α²F'(2Δ)/α²F(2Δ) − 2e^{−Δ/T}."""
    Delta, T = _check(Delta, T, chem_shift)
    a2F = as_alpha2F(alpha2F)
    s = _generation_scaled(Delta, T, a2F, chem_shift, _quadrature(quad))
    return s / (2 * math.pi**1.5 * a2F(2 * Delta) * jnp.sqrt(2 * Delta * T)) - 1.0


class ClosedFormValidity(eqx.Module):
    """Result of `closed_form_validity`: temperatures `T` (ascending, units of ω), relative
    errors `rel_error` of Eq. 12, and `T_max`, the largest T on the grid below which
    |rel_error| ≤ rtol everywhere (0 if none)."""

    T: Float[Array, " n"]
    rel_error: Float[Array, " n"]
    T_max: Float[Array, ""]


def closed_form_validity(
    Delta, alpha2F: Alpha2F, *, rtol: float = 0.1, T_over_Delta=None, **quad
) -> ClosedFormValidity:
    """Scan T/Δ (default 64 points, geometric in [0.01, 2]) and report where the closed form
    (Eq. 12, corrected) agrees with the golden-rule integral (Eq. C3) to `rtol`."""
    if T_over_Delta is None:
        T_over_Delta = jnp.geomspace(0.01, 2.0, 64)
    T = jnp.sort(jnp.asarray(T_over_Delta, float)) * Delta
    a2F = as_alpha2F(alpha2F)
    err = jax.vmap(lambda t: closed_form_error(Delta, t, a2F, **quad))(T)
    ok = jnp.cumprod(jnp.abs(err) <= rtol) > 0
    return ClosedFormValidity(T=T, rel_error=err, T_max=jnp.max(jnp.where(ok, T, 0.0)))
