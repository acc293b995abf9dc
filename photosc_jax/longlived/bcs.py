"""BCS core of the long-lived photo-induced superconductivity paper (Chattopadhyay et al.).

Free energy per site (Eq. 7, extended by the Lagrange multiplier ζ of Eq. 9 that fixes the
quasi-particle number — the paper's "λ"):

    F_SC(Δ) = ν(0)[Δ²/λ − 2∫₀^ω (E − ξ) dξ − 4T∫₀^ω ln(1 + e^{−(E+ζ)/T}) dξ] − ζ n*,

E = √(ξ² + Δ²), λ = ν(0)U, cutoff ω. Gap equation (∂F/∂Δ = 0, Eq. 10 — Eq. B6 misses the ½):
1/λ = ∫₀^ω tanh((E+ζ)/2T)/E dξ. Quasi-particle number (∂F/∂ζ = 0, Eq. 11):
n* = 4ν(0)∫₀^ω f(E+ζ) dξ.

**The chemical-potential shift ζ** (keyword `chem_shift`): the quasi-particles occupy
f(E + ζ), i.e. they have the chemical potential −ζ. ζ = 0 is thermal equilibrium; ζ > 0 means
fewer quasi-particles than thermal (a frozen n* below the thermal number). It is fixed by n*
(Eq. 11) and is unrelated to the rotation frequency μ of Δ in model I.

**Units.** Energies (Δ, T, ζ, ω, F) in any common unit — phonon units ω = 1 by default; k_B = 1.
`nu` is the dimensionless ν(0)ω (DOS per spin per site times ω), so ν(0) = nu/ω; F is per site in
the energy unit, n* is per site (with nu = 1 it is counted in units of ν(0)ω).

**Numerics.** ∫₀^ω dξ (`xi_nodes`) is split at ξ_F/2 and ξ_F, where ξ_F = √(ζ² − Δ²) is a
Fermi edge inside the band (ζ < −Δ; otherwise the first two pieces are empty), and each piece
is sinh-mapped towards its feature — the 1/E peak of width Δ at ξ = 0 (scale min(Δ, T)), the
edge of width T|ζ|/ξ_F at ξ_F — followed by fixed composite Gauss–Legendre (6 + 4 + 10 panels
× 16 nodes): static shapes, relative error ≲ 1e-11 against adaptive quadrature for any Δ > 0,
T ≥ 0 and ζ (tests/test_bcs.py). Roots are found by `optimistix.root_find` (bisection in
log Δ / log T) with implicit differentiation, so `jax.grad` flows through `gap` and
`critical_temperature` (and `quasiparticle_trapping.trapped_gap`, built on them).

Quasi-particle trapping at fixed n* (Eqs. 9–11: `trapped_gap`, `trapped_gap_branches`) is in
`quasiparticle_trapping`, built on this module.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import as_float as _f
from .._checks import checked_args, finite, finite_nonneg, finite_positive
from .._numerics import bracketed_root, fermi, fermi_log_term, gauss_legendre, tanh_half

_N_NODES = 16
_PANELS = (6, 4, 10)  # panels of the three ξ segments (xi_nodes)
_SCALE_FLOOR = 1e-15  # smallest sinh scale, relative to ω
_DELTA_LO = 1e-12  # lower end of the Δ bracket, relative to Δ0
_TOL = 1e-12
_MAX_STEPS = 256

Scalar = Float[Array, ""]

# Argument checks of the public entry points (concrete values only; skipped under jit/vmap/grad).
_T = (finite_nonneg, "the temperature must be a finite number >= 0 (units of ω, k_B = 1).")
_LAM = (finite, "the coupling λ = ν(0)U must be a finite number (λ <= 0 means no pairing: Δ = 0).")
_DELTA = (finite, "the gap Δ must be a finite number (units of ω).")
_ZETA = (finite, "the chemical-potential shift ζ must be a finite number (units of ω; 0 = thermal).")
_NU = (
    finite_positive,
    "nu = ν(0)ω, the density of states per spin per site times ω, must be finite and > 0.",
)
_OMEGA = (finite_positive, "the cutoff ω must be a finite number > 0.")


def _solve(fn, lower, upper, args, *, decreasing: bool):
    """Root of a monotone scalar fn(y, args) on [lower, upper] (bisection, implicit adjoint)."""
    return bracketed_root(
        lambda y: fn(y, args), lower, upper, decreasing=decreasing, rtol=_TOL, atol=_TOL, max_steps=_MAX_STEPS
    )


def _sinh_rule(start, length, scale, sign, n_panels, far):
    """Nodes and weights of ∫ over [start, start + sign·length] with ξ = start + sign·s·sinh t,
    t ∈ [0, arcsinh(length/s)]: resolves every scale ≥ s near `start` (zero weights when
    length = 0)."""
    x, w = gauss_legendre(n_panels, _N_NODES)
    L = jnp.arcsinh(length / scale)
    t = L * x
    # An empty segment puts its (zero-weight) nodes at the far end of the band, away from the
    # integrable singularities at ξ = 0 that would turn 0·f into NaN.
    xi = jnp.where(length > 0, start + sign * scale * jnp.sinh(t), far)
    return xi, w * L * scale * jnp.cosh(t)


def xi_nodes(Delta, T, omega=1.0, chem_shift=0.0):
    """Quadrature nodes and weights for ∫₀^ω dξ at (Δ, T, ζ): three sinh-mapped segments.

    The integrands of Eqs. 7–11 have three features: the 1/E peak of width Δ at ξ = 0, the
    tanh/Fermi edge of width ~T at E + ζ ≈ 0, and — where ζ < −Δ — a Fermi edge *inside* the
    band at ξ_F = √(ζ² − Δ²) of width w = T|ζ|/ξ_F (a step at T = 0). The ξ axis is split at
    ξ_F/2 and ξ_F; each segment is sinh-mapped towards its feature (towards 0 with scale
    min(Δ, T), towards ξ_F from both sides with scale min(w, ξ_F)), so that every feature is an
    O(1) shape in the mapped variable. Segment ends and scales carry no gradient (the integral
    does not depend on them), so derivatives flow through the integrand and the cutoff ω only.
    Without an inner edge the first two segments have zero length. Units of ω.
    """
    Delta, T, omega, chem_shift = _f(Delta), _f(T), _f(omega), _f(chem_shift)
    D, t, z, w_ = (jax.lax.stop_gradient(v) for v in (jnp.abs(Delta), T, chem_shift, omega))
    floor = _SCALE_FLOOR * w_
    s0 = jnp.maximum(jnp.minimum(jnp.where(D > 0, D, w_), jnp.where(t > 0, t, w_)), floor)
    inner = z * z - D * D
    edge = (z < 0) & (inner > 0)
    xF = jnp.where(edge, jnp.sqrt(jnp.where(edge, inner, 1.0)), 0.0)
    xF = jnp.minimum(xF, w_)
    width = t * jnp.abs(z) / jnp.where(xF > 0, xF, 1.0)
    s_edge = jnp.where(xF > 0, jnp.minimum(width, jnp.maximum(xF, s0)), s0)
    s_edge = jnp.maximum(s_edge, floor)
    x1, w1 = _sinh_rule(0.0, 0.5 * xF, s0, 1.0, _PANELS[0], w_)
    x2, w2 = _sinh_rule(xF, 0.5 * xF, s_edge, -1.0, _PANELS[1], w_)
    x3, w3 = _sinh_rule(xF, jnp.maximum(omega - xF, 0.0), s_edge, 1.0, _PANELS[2], w_)
    return jnp.concatenate([x1, x2, x3]), jnp.concatenate([w1, w2, w3])


def xi_integral(fn, Delta, T, omega=1.0, chem_shift=0.0):
    """∫₀^ω fn(ξ, E) dξ with E = √(ξ² + Δ²), on the nodes of `xi_nodes(Δ, T, ω, ζ)`.

    `fn` is evaluated on a fixed array of 320 nodes (broadcast-safe); pass the ζ the integrand
    uses as `chem_shift` so that a Fermi edge inside the band is resolved (relative error
    ≲ 1e-11 for any Δ > 0, T and ζ; tests/test_bcs.py). Differentiable in Δ, T, ω and in
    anything `fn` closes over.
    """
    xi, wts = xi_nodes(Delta, T, omega, chem_shift)
    E = jnp.sqrt(xi**2 + _f(Delta) ** 2)
    return jnp.sum(wts * fn(xi, E))


@checked_args(Delta=_DELTA, T=_T, omega=_OMEGA, chem_shift=_ZETA)
@jax.jit
def gap_integral(Delta, T, omega=1.0, chem_shift=0.0) -> Scalar:
    """Right-hand side of the gap equation (Eq. 10): ∫₀^ω tanh((E+ζ)/2T)/E dξ (units 1)."""
    return xi_integral(lambda xi, E: tanh_half(E + chem_shift, T) / E, Delta, T, omega, chem_shift)


@checked_args(Delta=_DELTA, T=_T, chem_shift=_ZETA, nu=_NU, omega=_OMEGA)
@jax.jit
def quasiparticle_number(Delta, T, chem_shift=0.0, nu=1.0, omega=1.0) -> Scalar:
    """Bogoliubov quasi-particles per site, n = 4ν(0)∫₀^ω f(E+ζ) dξ (Eq. 11), ν(0) = nu/ω."""
    return 4.0 * nu / omega * xi_integral(lambda xi, E: fermi(E + chem_shift, T), Delta, T, omega, chem_shift)


@checked_args(
    Delta=_DELTA,
    lam=_LAM,
    T=_T,
    nu=_NU,
    omega=_OMEGA,
    chem_shift=_ZETA,
    n_star=(finite_nonneg, "n* must be a finite number >= 0 (quasi-particles per site)."),
)
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
    thermal = 4.0 * xi_integral(lambda xi, E: fermi_log_term(E + chem_shift, T), Delta, T, omega, chem_shift)
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


@checked_args(lam=_LAM, omega=_OMEGA)
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


@checked_args(lam=_LAM, T=_T, omega=_OMEGA, chem_shift=_ZETA)
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


@checked_args(lam=_LAM, T=_T, omega=_OMEGA, chem_shift=_ZETA)
@jax.jit
def solve_gap_equation(lam, T, omega=1.0, chem_shift=0.0) -> Scalar:
    """As `gap`, but decides Δ = 0 from the sign of the gap equation at Δ = 10⁻¹²Δ0 instead of
    solving for T_c: one root solve instead of two (used inside landscape scans; timings in
    benchmarks/RESULTS.md). Within ~10⁻¹² of T_c it may return a tiny Δ where `gap` returns
    exactly 0."""
    lam, lp, T, omega, chem_shift = _inputs(lam, T, omega, chem_shift)
    has_root = _gap_fn(_bracket(lp, omega)[0], (lp, T, omega, chem_shift)) > 0
    return _gap_solve(lp, T, omega, chem_shift, (lam > 0) & has_root)
