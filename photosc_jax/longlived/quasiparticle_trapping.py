"""Quasi-particle trapping in the long-lived photo-induced superconductivity paper
(Chattopadhyay et al., Sec. IV and Fig. 4): a gap held at a frozen quasi-particle number n*.

After a quench the quasi-particles cannot leave fast: their number n* per site is fixed, and
the gap follows from the free energy F(Δ, ζ) of Eq. 9 with the Lagrange multiplier ζ (the
quasi-particle chemical-potential shift, occupation f(E + ζ)) that fixes n* by Eq. 11. The
stationary states solve Eqs. 10–11 together; `trapped_gap` returns the global minimum of the
constrained free energy Φ(Δ) = F(Δ, ζ*(Δ)), the normal state included, and
`trapped_gap_branches` every branch (the gapped minimum, the barrier, the normal state) with
the flag of the first-order loss of the gap as n* grows. Their lifetimes: `trapped_tau_g`
(τ_g of Eq. C3 at the trapped state) and the whole Fig. 4a protocol, `quench_and_release`.

The BCS quantities these are built from (gap integral, quasi-particle number, free energy)
are in `bcs`, the golden-rule rates in `lifetimes`. Units: phonon units, energies in ω,
times in 1/ω, k_B = ħ = 1; `nu` = ν(0)ω.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import as_float as _f
from .._checks import checked_args, finite_positive
from .._numerics import bracketed_root
from .attraction import coupling
from .bcs import (
    _LAM,
    _MAX_STEPS,
    _NU,
    _OMEGA,
    _T,
    _TOL,
    Scalar,
    _solve,
    free_energy,
    gap,
    gap_integral,
    quasiparticle_number,
    zero_temperature_gap,
)
from .lifetimes import Alpha2F, tau_g

__all__ = [
    "QuenchRelease",
    "TrappedBranches",
    "TrappedGap",
    "quench_and_release",
    "trapped_gap",
    "trapped_gap_branches",
    "trapped_tau_g",
]

_SCAN_LO, _N_SCAN_LOG, _N_SCAN_LIN = 1e-6, 12, 52  # Δ scan of trapped_gap_branches
_NSTAR = (finite_positive, "the frozen quasi-particle number per site must be finite and > 0 (and < 4·nu).")


class TrappedGap(NamedTuple):
    """(Δ_tr, ζ) of `trapped_gap`: the trapped gap and the chemical-potential shift fixed by
    n* (units of ω). Unpacks like the pair it replaces: `Delta, chem_shift = trapped_gap(...)`."""

    Delta: Scalar
    chem_shift: Scalar


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


class TrappedBranches(NamedTuple):
    """All stationary states of the constrained free energy Φ(Δ) at fixed n* (`trapped_gap_branches`).

    Φ(Δ; n*) = F(Δ, ζ*(Δ)) of Eq. 9 with ζ*(Δ) fixed by Eq. 11 at each Δ; its stationary points
    are the solutions of Eqs. 10–11. Energies per site in the unit of ω (with `nu` = ν(0)ω they
    are in ν(0)ω² when nu = 1), all relative to the normal state Φ(0).

    - `Delta`, `chem_shift`: the global minimum (what `trapped_gap` returns).
    - `free_energy`: Φ(Delta) − Φ(0) ≤ 0.
    - `Delta_sc`, `chem_shift_sc`, `free_energy_sc`: the gapped local minimum (largest-Δ root
      of Eqs. 10–11 where Φ decreases through it); Delta_sc = 0 and free_energy_sc = 0 if none.
      free_energy_sc > 0 means the gapped branch is metastable, the normal state is lower.
    - `Delta_barrier`, `free_energy_barrier`: the local maximum of Φ between the normal state
      and the gapped branch (the unstable root of Eqs. 10–11); 0 and 0 where it lies below the
      scan (Δ < 10⁻⁶Δ0) or does not exist.
    - `chem_shift_normal`: ζ of the normal state with n* quasi-particles.
    - `first_order`: the normal state and the gapped branch are both local minima, so Δ_tr
      jumps (first-order) between them where their free energies cross as n* (or T) varies.
      The normal state is a local minimum iff ζ_N < 0, or ζ_N = 0 and T ≥ T_c: as Δ → 0 the
      gap integral behaves as tanh(ζ_N/2T)·ln(1/Δ).
    """

    Delta: Scalar
    chem_shift: Scalar
    free_energy: Scalar
    Delta_sc: Scalar
    chem_shift_sc: Scalar
    free_energy_sc: Scalar
    Delta_barrier: Scalar
    free_energy_barrier: Scalar
    chem_shift_normal: Scalar
    first_order: Bool[Array, ""]


def _scan_grid(D0):
    """Δ grid of the branch scan: geometric on [10⁻⁶, 10⁻²)Δ0, then linear up to Δ0(1 + 10⁻⁹)."""
    lo = np.geomspace(_SCAN_LO, 1e-2, _N_SCAN_LOG, endpoint=False)
    hi = np.linspace(1e-2, 1.0 + 1e-9, _N_SCAN_LIN)
    return D0 * jnp.asarray(np.concatenate([lo, hi]))


def _last(mask):
    """Index of the last True of a 1-D mask (0 if none) and whether there is one."""
    n = mask.shape[0]
    return n - 1 - jnp.argmax(mask[::-1]), jnp.any(mask)


@checked_args(n_star=_NSTAR, lam=_LAM, T=_T, nu=_NU, omega=_OMEGA)
@jax.jit
def trapped_gap_branches(n_star, lam, T, nu=1.0, omega=1.0) -> TrappedBranches:
    """Quasi-particle trapping (Eqs. 9–11) at frozen n*: every branch and the global minimum.

    At fixed Δ, Eq. 11 fixes ζ*(Δ) (F is concave in ζ, so this is the maximum over ζ); the
    constrained free energy Φ(Δ) = F(Δ, ζ*(Δ)) of Eq. 9 has dΦ/dΔ = 2ν(0)Δ[1/λ − I(Δ, ζ*)],
    I the gap integral of Eq. 10, so its stationary points are the solutions of Eqs. 10–11.
    The residual I(Δ, ζ*(Δ)) − 1/λ is scanned on a Δ grid (10⁻⁶Δ0 … Δ0; no root lies above
    Δ0), each sign change is refined by `optimistix` bisection in log Δ (implicit
    differentiation), and the gapped minimum is compared with the normal state Φ(0). As n*
    grows the gapped minimum is lost *first-order*: it rises above the normal state (jump of
    Δ_tr to 0) before it merges with the barrier; `first_order` and `free_energy_sc` report
    this instead of hiding it.

    **Arguments:** `n_star` per site, 0 < n* < 4 nu; `lam` = ν(0)U0 > 0; `T` > 0; `nu` =
    ν(0)ω; cutoff `omega` (energies in units of ω). **Returns:** `TrappedBranches`.
    """
    n_star, lam, T, nu, omega = _f(n_star), _f(lam), _f(T), _f(nu), _f(omega)
    D0 = zero_temperature_gap(lam, omega)
    grid = jax.lax.stop_gradient(_scan_grid(D0))
    args = (n_star, lam, T, nu, omega)

    # The scan only chooses brackets: it carries no gradient (the refined roots do).
    n_s, lam_s, T_s, nu_s, om_s = (jax.lax.stop_gradient(a) for a in args)
    zeta_grid = jax.vmap(lambda D: _shift_for_n(D, n_s, T_s, nu_s, om_s))(grid)
    r = jax.vmap(lambda D, z: gap_integral(D, T_s, om_s, z))(grid, zeta_grid) - 1.0 / lam_s
    phi_grid = jax.vmap(
        lambda D, z: free_energy(D, lam_s, T_s, nu=nu_s, omega=om_s, chem_shift=z, n_star=n_s)
    )(grid, zeta_grid)
    k = jnp.arange(r.shape[0] - 1)
    down = (r[:-1] > 0) & (r[1:] <= 0)  # Φ turns from decreasing to increasing: a minimum
    # the lowest of the gapped minima (normally there is one), judged on the grid
    cell_phi = jnp.where(down, jnp.minimum(phi_grid[:-1], phi_grid[1:]), jnp.inf)
    i_sc, has_sc = jnp.argmin(cell_phi), jnp.any(down)
    i_b, has_b = _last((r[:-1] <= 0) & (r[1:] > 0) & (k < i_sc))
    logg = jnp.log(grid)

    # Refine the minimum (residual decreasing through it) and the barrier (increasing: refined
    # as the root of −residual). Sequential: a vmap over implicit roots breaks reverse mode.
    def refine(i, ok, sgn):
        y = bracketed_root(
            lambda y: sgn * _trap_fn(y, args),
            logg[i],
            logg[i + 1],
            ok,
            decreasing=True,
            rtol=_TOL,
            atol=_TOL,
            max_steps=_MAX_STEPS,
        )
        Delta = jnp.where(ok, jnp.exp(y), 0.0)
        return Delta, _shift_for_n(Delta, n_star, T, nu, omega)

    def phi(Delta, zeta):
        return free_energy(Delta, lam, T, nu=nu, omega=omega, chem_shift=zeta, n_star=n_star)

    D_sc, z_sc = refine(i_sc, has_sc, 1.0)
    D_b, z_b = refine(i_b, has_b, -1.0)
    z_n = _shift_for_n(jnp.zeros_like(D0), n_star, T, nu, omega)
    phi_n = phi(0.0, z_n)
    dF_sc = jnp.where(has_sc, phi(D_sc, z_sc) - phi_n, 0.0)
    dF_b = jnp.where(has_b, phi(D_b, z_b) - phi_n, 0.0)
    # Δ → 0: the gap integral ~ tanh(ζ_N/2T) ln(1/Δ); at ζ_N = 0 it is the thermal one (T vs T_c)
    at_tc = gap_integral(jnp.zeros_like(T), T, omega, 0.0) <= 1.0 / lam
    normal_stable = (z_n < 0) | ((z_n == 0) & at_tc)
    gapped = has_sc & (dF_sc < 0)
    return TrappedBranches(
        Delta=jnp.where(gapped, D_sc, 0.0),
        chem_shift=jnp.where(gapped, z_sc, z_n),
        free_energy=jnp.where(gapped, dF_sc, 0.0),
        Delta_sc=D_sc,
        chem_shift_sc=jnp.where(has_sc, z_sc, z_n),
        free_energy_sc=dF_sc,
        Delta_barrier=D_b,
        free_energy_barrier=dF_b,
        chem_shift_normal=z_n,
        first_order=normal_stable & has_sc,
    )


@checked_args(n_star=_NSTAR, lam=_LAM, T=_T, nu=_NU, omega=_OMEGA)
def trapped_gap(n_star, lam, T, nu=1.0, omega=1.0) -> TrappedGap:
    """Quasi-particle trapping (Eqs. 9–11): (Δ_tr, ζ) at frozen quasi-particle number n*.

    Solves jointly 1/λ = ∫₀^ω tanh((E+ζ)/2T)/E dξ (Eq. 10) and n* = 4ν(0)∫₀^ω f(E+ζ)dξ
    (Eq. 11) and returns the solution of lowest constrained free energy Φ(Δ) = F(Δ, ζ*(Δ))
    (Eq. 9), the normal state Δ = 0 included: the **global minimum** at fixed n*. Each
    solution is a minimum in Δ but a *maximum* in ζ (F is concave in ζ;
    docs/model-longlived.md). `n_star` is per site (with `nu` = ν(0)ω = 1 it is in units of
    ν(0)ω), 0 < n* < 4 nu; `lam` = ν(0)U0 > 0; `T` > 0 (energies in units of ω).

    Limits: n* → 0 ⇒ ζ → ∞ and Δ_tr → Δ0 = ω/sinh(1/λ); n* equal to the thermal number at
    the thermal gap ⇒ ζ = 0 and Δ_tr = Δ(λ, T). As n* grows the gap is lost **first-order**:
    Δ_tr jumps to 0 where the gapped branch rises above the normal state, while that branch
    still exists as a metastable minimum. Then Δ_tr = 0 and ζ is that of the normal state with
    n* quasi-particles. `trapped_gap_branches` returns both branches, the barrier between them,
    their free energies and a `first_order` flag.
    """
    b = trapped_gap_branches(n_star, lam, T, nu, omega)
    return TrappedGap(b.Delta, b.chem_shift)


def trapped_tau_g(n_star, lam, T, alpha2F: Alpha2F, nu=1.0, **quad) -> Float[Array, ""]:
    """Self-consistent lifetime of the quasi-particle-trapped state: (Δ_tr, ζ) from
    `trapped_gap(n_star, lam, T, nu)` (Eqs. 10–11), then τ_g(Δ_tr, T, ζ) from Eq. C3.
    Phonon units (ω = 1)."""
    Delta_tr, chem_shift = trapped_gap(n_star, lam, T, nu=nu)
    return tau_g(Delta_tr, T, alpha2F, chem_shift, **quad)


class QuenchRelease(eqx.Module):
    """Result of `quench_and_release` (Fig. 4a), phonon units: the state held at Q*
    (`Delta_star`, thermal `n_star`, `lam_star` = λ(Q*)), the trapped state after release to
    Q = 0 (`Delta_tr`, `chem_shift` ζ, the global minimum at fixed n*), its lifetime `tau_g`
    (Eq. C3, units 1/ω; inf where Δ_tr = 0 would be meaningless, so there it is the metal's
    generation time), and `first_order`: the release lands in the window where the normal
    state and the gapped branch are both minima (see `trapped_gap_branches`)."""

    lam_star: Float[Array, ""]
    Delta_star: Float[Array, ""]
    n_star: Float[Array, ""]
    Delta_tr: Float[Array, ""]
    chem_shift: Float[Array, ""]
    tau_g: Float[Array, ""]
    first_order: Array


def quench_and_release(params, Q_star, T, alpha2F: Alpha2F, **quad) -> QuenchRelease:
    """The quasi-particle-trapping protocol of Fig. 4a: (1) drive Q from 0 to Q* and hold it,
    (2) thermalise at T with the enhanced pairing λ* = λ(Q*) (Eq. 5): gap Δ* = Δ(λ*, T) and the
    thermal quasi-particle number n* = 4ν(0)∫f(E*)dξ (Eq. 11 at ζ = 0), (3) release Q to 0 with
    n* frozen: (Δ_tr, ζ) = `trapped_gap(n*, λ0, T, ν)` (Eqs. 9–11, global minimum), and the
    generation time τ_g(Δ_tr, T, ζ) of Eq. C3.

    **Arguments:** `params` — a `metastability.MetastabilityParams` (ΔE, ν(0)ω, G, λ0);
    `Q_star` (ℓ0); `T` > 0 (ω); `alpha2F` as in `generation_rate`; `**quad` passed to `tau_g`.
    Phonon units throughout. **Returns:** `QuenchRelease`. Assumes the release is adiabatic
    for the gap and fast against τ_g, as the paper does."""
    lam_star = coupling(Q_star, params.DeltaE, params.nu, params.G, params.lam0)
    D_star = gap(lam_star, T)
    n_star = quasiparticle_number(D_star, T, 0.0, params.nu)
    br = trapped_gap_branches(n_star, params.lam0, T, params.nu)
    tau = tau_g(br.Delta, T, alpha2F, br.chem_shift, **quad)
    return QuenchRelease(lam_star, D_star, n_star, br.Delta, br.chem_shift, tau, br.first_order)
