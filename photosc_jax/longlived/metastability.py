"""Photo-induced metastability of a displaced Raman phonon (Chattopadhyay et al., Sec.
"Photo-induced metastability", Fig. 2; docs/model-longlived.md).

Phonon units throughout: energies and temperatures in ω, lengths in ℓ0 = 1/√(Mω). Per site,

    E(q)    = q²/2 + E_SC(λ(q))                                  (T = 0, closed form)
    F(q, T) = q²/2 + F_SC(Δ_eq(q, T); λ(q), T) − F_SC(0; T)       (T > 0, Eq. 7)

with λ(q) = λ0 + ν G² s(q), s = 4G²q²/(d² + 4G²q²) (Eq. 5). By Hellmann–Feynman
(∂F_SC/∂λ = −ν Δ²/λ²), dE/dq = q·h with

    h(s) = 1 − 8 ν² G⁴ D(λ(s), T)² (1 − s)² / (λ(s)² d²),

equivalent to (ΔE² + 4g²Q²)U = 2√2 (g²/Mω²) ΔE Δ — the dimensionally correct form of Eq. 8,
which reduces to Q² = ΔE Δ/(√2 g²) for U0 = 0 (Eq. 8 as printed has a spurious factor ω).
h is unimodal in s ∈ [0, 1] with h(1) = 1: Q_B (maximum of E) and Q_MS (minimum) are the two
zeros of h around its minimum. Classes (`regime`): 0 none; 1 metastable I (E(Q_MS) > E(0));
2 metastable II (E(Q_MS) ≤ E(0)); 3 the undistorted state is unstable (h(0) < 0, a class the paper
does not name). T_B is the highest T at which a minimum Q_MS ≠ 0 exists.

Validity: Eq. 5 assumes √(ΔE² + 4g²Q²) ≫ ω; the metastable regions at d = ΔE/ω ≲ 1 lie outside.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import (
    Range,
    as_float,
    check_ranges,
    checked_args,
    concrete,
    finite,
    finite_nonneg,
    finite_positive,
)
from .._numerics import bracketed_root, golden_min
from . import bcs
from .attraction import q_of_saturation, saturation

_TOL = 1e-12
_GOLDEN_TOL = 1e-10  # golden-section tolerance on the 2-cell bracket of min h (relative)


# The range of each parameter of `MetastabilityParams` the model describes (phonon units);
# its docstring and docs/model-longlived.md list it.
RANGES = {
    "DeltaE": Range(
        1e-3,
        1e3,
        "ω",
        "the splitting of an electronic excitation: below 10⁻³ ω the levels are degenerate on "
        "every scale of the model, far from Schrieffer–Wolff's ΔE ≫ ω; above 10³ ω it is ~100 eV "
        "at ω = 0.1 eV; K3C60: 2.75/Z",
    ),
    "nu": Range(
        0.0,
        100.0,
        "",
        "ν(0)ω counts states per spin per site within ω of the Fermi level, at most 1/2 for a "
        "flat band of width 2ω; 100 leaves room for Mott-renormalised ν(0)/Z; K3C60: 0.603/Z",
        open_low=True,
    ),
    "G": Range(
        0.0,
        10.0,
        "",
        "gℓ0/ω: 10 is a coupling of ten phonon energies per zero-point displacement, far beyond "
        "electron–phonon couplings in solids; the paper: 0.6",
    ),
    "lam0": Range(
        0.0,
        10.0,
        "",
        "λ0 = U0ν(0) >= 0 for an attractive U0; at λ0 = 10 the BCS gap ω/sinh(1/λ0) ≈ 10ω exceeds "
        "the cutoff ω, far outside weak coupling; the paper: 0.3",
    ),
    "n_grid": Range(
        8,
        1e6,
        "points",
        "the s-grid that brackets the zeros of h needs 8 points or more; beyond 10⁶ it resolves "
        "nothing more, the default 128 being refined by golden-section search to 10⁻¹⁰",
    ),
}


class MetastabilityParams(eqx.Module):
    """Two-level + Raman-phonon model in phonon units (ω = ℓ0 = 1; paper Eqs. 2–5).

    **Arguments:**
    - `DeltaE`: level splitting d = ΔE/ω > 0.
    - `nu`: ν(0)ω > 0, the density of states per spin per site at the Fermi level times ω.
    - `G`: gℓ0/ω ≥ 0, the dimensionless electron–phonon coupling (Fig. 2b: 0.6).
    - `lam0`: λ0 = U0ν(0) ≥ 0, the pairing of the undistorted crystal (Fig. 2b: 0.3).
    - `n_grid` (static): points of the s-grid that brackets the zeros of h. Default 128.

    **Ranges** (`RANGES`, one table; docs/model-longlived.md): the values the model
    describes, generous but bounded where it or float64 arithmetic stops making sense:

    - `0.001 <= DeltaE <= 1000 ω`: an electronic excitation, neither degenerate on every
      scale of the model nor ~100 eV.
    - `0 < nu <= 100`: ≤ 1/2 for a flat band of width 2ω; room for Mott-renormalised
      ν(0)/Z.
    - `0 <= G <= 10`: ten phonon energies per zero-point displacement, far beyond
      electron–phonon couplings in solids.
    - `0 <= lam0 <= 10`: attractive U0; at 10 the BCS gap exceeds the cutoff ω.
    - `8 <= n_grid <= 1e+06 points`: enough to bracket the zeros of h, and no more than
      resolves anything.

    Concrete values (scalars, or arrays elementwise) are validated at construction: a
    one-line `ValueError` names the parameter, its value, the range and why. Traced values
    (inside jit/vmap/grad) are not checked. Every check is per value, so a sweep checks a
    grid by each axis's extremes.
    """

    DeltaE: Float[Array, ""] = eqx.field(converter=as_float)
    nu: Float[Array, ""] = eqx.field(converter=as_float)
    G: Float[Array, ""] = eqx.field(default=0.6, converter=as_float)
    lam0: Float[Array, ""] = eqx.field(default=0.3, converter=as_float)
    n_grid: int = eqx.field(default=128, static=True, converter=int)

    def __check_init__(self):
        check_ranges(self, RANGES)

    @property
    def lam_inf(self):
        """λ at saturation, λ0 + ν G² (Q → ∞)."""
        return self.lam0 + self.nu * self.G**2


class MetastabilityResult(eqx.Module):
    """Outcome of `analyze` (phonon units; energies per site relative to E(0) / F(0, T)).

    `regime`: 0 none, 1 metastable I, 2 metastable II, 3 undistorted state unstable.
    `Q_B`, `Q_MS`: barrier top and metastable minimum (ℓ0); NaN when absent (Q_B = 0 in regime 3).
    `E_B`, `E_MS`: E(Q_B) − E(0) and E(Q_MS) − E(0) (ω). `Delta_MS`: gap at Q_MS (ω).
    `T_B`: untrapping temperature (ω), NaN in regime 0 or when not computed.
    `h0` = E''(0): curvature of the landscape at Q = 0; `h_min`: minimum of h = E'(q)/q.
    """

    regime: Int[Array, "*b"]
    Q_B: Float[Array, "*b"]
    Q_MS: Float[Array, "*b"]
    E_B: Float[Array, "*b"]
    E_MS: Float[Array, "*b"]
    Delta_MS: Float[Array, "*b"]
    T_B: Float[Array, "*b"]
    h0: Float[Array, "*b"]
    h_min: Float[Array, "*b"]


def _is_zero(T) -> bool:
    x = concrete(T)
    return x is not None and x == 0.0


def _gap(lam, T):
    return bcs.zero_temperature_gap(lam) if _is_zero(T) else bcs.solve_gap_equation(lam, T)


def stationarity(p: MetastabilityParams, s, T=0.0):
    """h(s) = E'(q)/q at saturation s = s(q) (see module docstring); h = 0 ⇔ dE/dq = 0."""
    lam = p.lam0 + p.nu * p.G**2 * s
    D = _gap(lam, T)
    ratio = jnp.where(lam > 0, D / jnp.where(lam > 0, lam, 1.0), 0.0)
    return 1.0 - 8.0 * p.nu**2 * p.G**4 * (ratio * (1.0 - s) / p.DeltaE) ** 2


def _landscape_scalar(p: MetastabilityParams, q, T):
    lam = p.lam0 + p.nu * p.G**2 * saturation(q, p.DeltaE, p.G)
    if _is_zero(T):
        return 0.5 * q**2 + bcs.condensation_energy(lam, p.nu)
    D = bcs.solve_gap_equation(lam, T)
    return 0.5 * q**2 + bcs.free_energy(D, lam, T, nu=p.nu) - bcs.free_energy(0.0, lam, T, nu=p.nu)


_T = (finite_nonneg, "the temperature must be a finite number >= 0 (units of ω, k_B = 1).")


@checked_args(Q=(finite, "the Raman coordinate Q must be finite (units of ℓ0)."), T=_T)
def landscape(p: MetastabilityParams, Q, T=0.0) -> Float[Array, "..."]:
    """E(Q) at T = 0 (closed form E_SC) or F(Q, T) at T > 0 (Eq. 7 at the equilibrium gap), per
    site in units of ω, for Q in units of ℓ0 (any shape). Includes the constant of E_SC that the
    paper drops (+ν(0)ω²), so E(Q) − E(0) is what is meaningful. Differentiable in Q."""
    return jnp.vectorize(lambda q: _landscape_scalar(p, q, T))(as_float(Q))


@checked_args(
    Delta=(finite, "the gap Δ must be finite (units of ω)."),
    Q=(finite, "the Raman coordinate Q must be finite (units of ℓ0)."),
    T=_T,
)
def free_energy_surface(p: MetastabilityParams, Delta, Q, T=0.0) -> Float[Array, "..."]:
    """F(Δ, Q; T) = ½Q² + F_SC(Δ; λ(Q), T) − F_SC(0; T) per site (Eq. 7 with Eq. 5's λ(Q); the
    paper's Fig. 3 surface), units of ω, for Δ in ω and Q in ℓ0 (broadcast together).

    F_SC(0; T) does not depend on λ, so min_Δ F(Δ, Q) = F(Q, T) − (its Q = 0 normal value) is the
    landscape of `landscape` (up to the constant F_SC(Δ0) − E_SC at T = 0, which is zero): the
    valleys of the surface are the equilibrium gap Δ_eq(Q, T). Differentiable in Δ, Q, T."""

    def one(D, q):
        lam = p.lam0 + p.nu * p.G**2 * saturation(q, p.DeltaE, p.G)
        F_sc = bcs.free_energy(D, lam, T, nu=p.nu) - bcs.free_energy(0.0, lam, T, nu=p.nu)
        return 0.5 * q**2 + F_sc

    return jnp.vectorize(one)(as_float(Delta), as_float(Q))


def _bracketed_root(fn, lower, upper, valid, *, decreasing: bool):
    """Zero of fn in [lower, upper]; where not `valid`, solves a dummy linear problem instead."""
    return bracketed_root(fn, lower, upper, valid, decreasing=decreasing, rtol=_TOL, atol=_TOL, max_steps=256)


@checked_args(T=_T)
def stationarity_minimum(params: MetastabilityParams, T=0.0):
    """(h(0), s_min, h_min): h = E'(q)/q at Q = 0 (the curvature E''(0)), and the location and
    value of the minimum of h over s ∈ [0, 1] (grid of `params.n_grid` points, refined by a
    golden-section search). A metastable minimum exists iff h_min < 0; h_min is smooth in the
    parameters, so its zero (e.g. in Z⁻¹ for K3C60) is the onset of metastability.
    Differentiable in `params` and `T` (envelope theorem)."""
    p = params
    s_grid = jnp.linspace(0.0, 1.0, p.n_grid)
    h_grid = jax.vmap(lambda s: stationarity(p, s, T))(s_grid)
    i = jnp.argmin(h_grid)
    a = s_grid[jnp.maximum(i - 1, 0)]
    b = s_grid[jnp.minimum(i + 1, p.n_grid - 1)]
    s_min, h_min = golden_min(lambda s, pT: stationarity(pT[0], s, pT[1]), a, b, (p, T), tol=_GOLDEN_TOL)
    return h_grid[0], s_min, h_min


def untrapping_temperature(p: MetastabilityParams) -> Float[Array, ""]:
    """T_B (units of ω): highest T with a nontrivial local minimum of F(Q, T), i.e. the zero of
    m(T) = min_s h(s, T) (m increases with T because Δ(λ, T) decreases). NaN if none at T = 0."""
    T_max = bcs.critical_temperature(p.lam_inf)
    m = lambda T: stationarity_minimum(p, T)[2]  # noqa: E731
    valid = stationarity_minimum(p, 0.0)[2] < 0
    y = _bracketed_root(
        lambda lt: m(jnp.exp(lt)), jnp.log(1e-6 * T_max), jnp.log(T_max), valid, decreasing=False
    )
    return jnp.where(valid, jnp.exp(y), jnp.nan)


@checked_args(T=_T)
def analyze(params: MetastabilityParams, T=0.0, *, with_T_B: bool = True) -> MetastabilityResult:
    """Stationary points and class of the landscape E(Q) (T = 0) or F(Q, T) (T > 0).

    **Arguments:** `params`; temperature `T` (units of ω); `with_T_B` (static): also compute
    the untrapping temperature T_B (costly: a bisection in T over gap solves).

    **Returns:** a `MetastabilityResult`. Q_B and Q_MS solve h = 0 by bisection (optimistix)
    between the bracketing minimum of h and s = 0 or s = 1.
    """
    p = params
    h0, s_min, h_min = stationarity_minimum(p, T)
    has_min = h_min < 0
    unstable = h0 < 0
    h = lambda s: stationarity(p, s, T)  # noqa: E731
    s_B = _bracketed_root(h, 0.0, s_min, has_min & ~unstable, decreasing=True)
    s_MS = _bracketed_root(h, s_min, 1.0, has_min, decreasing=False)
    q_B = jnp.where(unstable, 0.0, q_of_saturation(s_B, p.DeltaE, p.G))
    q_MS = q_of_saturation(s_MS, p.DeltaE, p.G)
    E0 = _landscape_scalar(p, 0.0, T)
    E_B = _landscape_scalar(p, q_B, T) - E0
    E_MS = _landscape_scalar(p, q_MS, T) - E0
    lam_MS = p.lam0 + p.nu * p.G**2 * s_MS
    regime = jnp.where(unstable, 3, jnp.where(has_min, jnp.where(E_MS > 0, 1, 2), 0))
    nan = jnp.nan
    T_B = untrapping_temperature(p) if with_T_B else jnp.asarray(nan)
    return MetastabilityResult(
        regime=regime,
        Q_B=jnp.where(has_min, q_B, nan),
        Q_MS=jnp.where(has_min, q_MS, nan),
        E_B=jnp.where(has_min, E_B, nan),
        E_MS=jnp.where(has_min, E_MS, nan),
        Delta_MS=jnp.where(has_min, _gap(lam_MS, T), nan),
        T_B=T_B,
        h0=h0,
        h_min=h_min,
    )


def first_order_temperature(params: MetastabilityParams) -> Float[Array, ""]:
    """T_1 (units of ω) of metastability II: the temperature of the first-order transition
    between the distorted superconductor and the undistorted state, F(Q_MS, T_1) = F(0, T_1)
    (Fig. 2c; the paper calls it T_c). Below T_1 the distorted minimum is the ground state;
    between T_1 and T_B it is metastable. Found as the zero of E_MS(T) = F(Q_MS, T) − F(0, T)
    in (10⁻⁶T_B, T_B) by optimistix bisection in log T (E_MS < 0 at T = 0 in class II and
    E_MS = E_B > 0 where the minimum merges with the barrier at T_B). NaN unless the class
    at T = 0 is metastable II. Costs a T_B solve plus one bisection over `analyze`."""
    p = params
    T_B = untrapping_temperature(p)
    valid = (analyze(p, 0.0, with_T_B=False).regime == 2) & jnp.isfinite(T_B)
    T_hi = jnp.where(valid, T_B, 1.0) * (1.0 - 1e-6)
    E_MS = lambda lt: analyze(p, jnp.exp(lt), with_T_B=False).E_MS  # noqa: E731
    y = _bracketed_root(E_MS, jnp.log(1e-6 * T_hi), jnp.log(T_hi), valid, decreasing=False)
    return jnp.where(valid, jnp.exp(y), jnp.nan)


@checked_args(
    DeltaE=(finite_positive, "the level splittings ΔE/ω must be finite and > 0."),
    nu=(finite_positive, "ν(0)ω must be finite and > 0."),
    G=(finite_nonneg, "gℓ0/ω must be finite and >= 0."),
    lam0=(finite_nonneg, "λ0 = U0ν(0) must be finite and >= 0 (attractive U0)."),
)
@eqx.filter_jit
def phase_diagram(DeltaE, nu, G=0.6, lam0=0.3, *, n_grid: int = 128) -> MetastabilityResult:
    """Fig. 2b: the T = 0 classification on the grid DeltaE[i] × nu[j] (phonon units), by
    `jax.vmap` over both axes (no Python loops). Returns a `MetastabilityResult` whose arrays
    have shape (len(DeltaE), len(nu)); T_B is not computed (NaN)."""

    def one(d, n):
        return analyze(MetastabilityParams(d, n, G, lam0, n_grid), 0.0, with_T_B=False)

    inner = jax.vmap(one, in_axes=(None, 0))
    return jax.vmap(inner, in_axes=(0, None))(as_float(DeltaE), as_float(nu))
