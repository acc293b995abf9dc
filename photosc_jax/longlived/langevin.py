"""Langevin dynamics of the Raman coordinate Q in the adiabatic BCS landscape (Chattopadhyay et
al., Eq. 6, corrected per docs/model-longlived.md):

    Q̈ + γ Q̇ + ω² Q + (1/M) ∂F_SC/∂Q = z E²(t) + η(t),    ⟨η(t)η(t')⟩ = 2γT/(M N_eff) δ(t−t').

Units: phonon units, ω = ℓ0 = ħ = k_B = 1, hence M = 1/(ω ℓ0²) = 1; Q in ℓ0, t in 1/ω, energies
and T in ω. The landscape F(Q) = ½Q² + F_SC(Δ_eq(Q, T)) − F_SC(0) is the free energy *per site*
(so `F'(Q)` already contains the elastic ω²Q); Q is a collective coordinate of `N_eff` sites,
so the noise acts at temperature T/N_eff and the stationary law is ∝ exp(−N_eff F(Q)/T) ×
exp(−N_eff P²/(2T)). Eq. 6 as printed multiplies Q by the force; see docs/model-longlived.md. The
drive zE²(t) is a displacive acceleration, here a Gaussian `Pulse`; γ is a free parameter.

The SDE is solved with diffrax (`MultiTerm(ODETerm, ControlTerm)`, ShARK by default — strong
order 1.5 for additive noise — with fixed steps on a Brownian path carrying space-time Lévy
area: `UnsafeBrownianPath` by default, `VirtualBrownianTree` on request).
Without a PRNG key the noise is off and the ODE is integrated with adaptive Tsit5.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import (
    as_float,
    checked_args,
    finite,
    finite_nonneg,
    finite_positive,
    require_fields,
)
from .._numerics import GaussianEnvelope

__all__ = [
    "ForceTable",
    "LangevinParams",
    "LangevinSolution",
    "Landscape",
    "Pulse",
    "boltzmann_moments",
    "landscape_force",
    "simulate",
    "simulate_ensemble",
]


# the checks of LangevinParams' fields (`_checks.require_fields`)
_PARAM_RULES = dict(
    gamma=(
        finite_nonneg,
        "the damping γ must be finite and >= 0 (a negative γ pumps energy in and breaks "
        "fluctuation-dissipation).",
    ),
    T=(
        finite_nonneg,
        "the temperature must be finite and >= 0 (units of ω); a negative T makes the noise "
        "variance 2γT/N_eff negative.",
    ),
    N_eff=(
        finite_positive,
        "the number of sites must be finite and > 0 (it divides the noise temperature).",
    ),
)


class LangevinParams(eqx.Module):
    """Bath of the Raman coordinate (phonon units).

    - `gamma`: damping rate γ ≥ 0 (units ω). Not given by the paper.
    - `T`: bath temperature ≥ 0 (units ω); use the same T as the landscape F(Q, T).
    - `N_eff`: number of sites Q describes collectively (> 0); noise temperature T/N_eff.
    """

    gamma: Float[Array, ""] = eqx.field(converter=as_float)
    T: Float[Array, ""] = eqx.field(converter=as_float)
    N_eff: Float[Array, ""] = eqx.field(default=1.0, converter=as_float)

    def __check_init__(self):
        require_fields(self, **_PARAM_RULES)

    @property
    def noise_strength(self) -> Float[Array, ""]:
        """σ² = 2γT/(M N_eff) with M = 1: ⟨η(t)η(t')⟩ = σ² δ(t − t')."""
        return 2.0 * self.gamma * self.T / self.N_eff


class Pulse(GaussianEnvelope):
    """Displacive drive zE²(t) = amplitude · exp(−(t − t_center)²/(2 duration²)).

    `amplitude` is an acceleration (units ω²ℓ0, i.e. a force per site in phonon units);
    `duration` (> 0) is the Gaussian width σ_t and `t_center` the peak time (units 1/ω).
    """

    amplitude: Float[Array, ""] = eqx.field(converter=as_float)
    duration: Float[Array, ""] = eqx.field(converter=as_float)
    t_center: Float[Array, ""] = eqx.field(converter=as_float)
    width_field = "duration"


class ForceTable(eqx.Module):
    """dF/dQ tabulated on a uniform grid (linear interpolation). Outside the grid the force
    continues with slope ω² = 1: at large |Q| U(Q) saturates and the elastic term dominates.
    Build it with `ForceTable.from_landscape` (any range) or `ForceTable.from_even_landscape` (an even
    landscape F(−Q) = F(Q) on [−Q_max, Q_max]: only Q ≥ 0 is tabulated, `odd=True`, and the
    force is evaluated as sign(Q)·F′(|Q|), so F′(−Q) = −F′(Q) holds exactly); it makes each SDE
    step a table look-up instead of a gap-equation solve."""

    Q: Float[Array, " n"]
    force: Float[Array, " n"]
    odd: bool = eqx.field(static=True, default=False)

    @classmethod
    def from_landscape(cls, landscape: Callable, Q_min: float, Q_max: float, n: int = 4001):
        """Tabulate jax.grad(landscape) on `n` points in [Q_min, Q_max] (vmapped)."""
        if not Q_max > Q_min or n < 2:
            raise ValueError(f"Need Q_max > Q_min and n >= 2, got [{Q_min}, {Q_max}], n={n}.")
        Q = jnp.linspace(Q_min, Q_max, n)
        return cls(Q, jax.vmap(jax.grad(landscape))(Q))

    @classmethod
    def from_even_landscape(cls, landscape: Callable, Q_max: float, n: int = 2001):
        """Force of an even landscape on [−Q_max, Q_max]: jax.grad(landscape) on `n` points of
        [0, Q_max] (F′(0) = 0 set exactly), mirrored as an odd function."""
        if not Q_max > 0 or n < 2:
            raise ValueError(f"Need Q_max > 0 and n >= 2, got Q_max={Q_max}, n={n}.")
        Q = jnp.linspace(0.0, Q_max, n)
        force = jax.vmap(jax.grad(landscape))(Q).at[0].set(0.0)
        return cls(Q, force, odd=True)

    def __call__(self, Q: ArrayLike) -> Float[Array, "..."]:
        q = jnp.abs(Q) if self.odd else Q
        inside = jnp.interp(q, self.Q, self.force)
        below = self.force[0] + (q - self.Q[0])
        above = self.force[-1] + (q - self.Q[-1])
        f = jnp.where(q < self.Q[0], below, jnp.where(q > self.Q[-1], above, inside))
        return jnp.sign(Q) * f if self.odd else f


Landscape = Callable[[Array], Array] | ForceTable


def landscape_force(landscape: Landscape) -> Callable[[Array], Array]:
    """dF/dQ: a `ForceTable` as is, a scalar landscape F(Q) differentiated with jax.grad."""
    if isinstance(landscape, ForceTable):
        return landscape
    if not callable(landscape):
        raise TypeError("landscape must be a callable F(Q) -> scalar or a ForceTable.")
    return jax.grad(landscape)


class LangevinSolution(eqx.Module):
    """Saved trajectory: times `ts` (1/ω), coordinate `Q` (ℓ0) and momentum `P` (M=1: Q̇)."""

    ts: Float[Array, "*batch n"]
    Q: Float[Array, "*batch n"]
    P: Float[Array, "*batch n"]


@checked_args(
    Q0=(finite, "the initial coordinate must be finite (units of ℓ0)."),
    P0=(finite, "the initial momentum must be finite."),
)
def simulate(
    landscape: Landscape,
    params: LangevinParams,
    Q0,
    t1: float,
    *,
    key: PRNGKeyArray | None = None,
    pulse: Pulse | None = None,
    P0=0.0,
    t0: float = 0.0,
    dt: float = 0.02,
    n_save: int = 501,
    t_save_from: float | None = None,
    solver: diffrax.AbstractSolver | None = None,
    max_steps: int | None = None,
    brownian: str = "fast",
) -> LangevinSolution:
    """Integrate Eq. 6 (corrected) from (Q0, P0) at t0 to t1.

    **Arguments:** `landscape` — F(Q) per site (callable, differentiated by autodiff) or a
    `ForceTable`; `params` — γ, T, N_eff; `Q0`, `t1`. Keyword-only: `key` — PRNG key for the
    noise (None: noise off, deterministic adaptive ODE); `pulse` — the drive (None: off); `dt`
    — fixed SDE step (1/ω); `n_save` points saved uniformly on [t_save_from or t0, t1];
    `solver` (default ShARK for the SDE, Tsit5 for the ODE); `max_steps`; `brownian` —
    "fast" (`UnsafeBrownianPath`, fixed steps, forward-mode autodiff only; much cheaper per
    step, see benchmarks/RESULTS.md) or "tree" (`VirtualBrownianTree`, reverse-mode
    differentiable, the diffrax default choice).

    **Returns:** `LangevinSolution`. vmap over `key` for an ensemble (see `simulate_ensemble`).
    """
    if not t1 > t0 or not dt > 0:
        raise ValueError(f"Need t1 > t0 and dt > 0, got t0={t0}, t1={t1}, dt={dt}.")
    force = landscape_force(landscape)
    gamma = params.gamma

    def drift(t, y, args):
        Q, P = y[0], y[1]
        a = 0.0 if pulse is None else pulse(t)
        return jnp.stack([P, -gamma * P - force(Q) + a])

    y0 = jnp.stack([as_float(Q0), as_float(P0)])
    ts = jnp.linspace(t0 if t_save_from is None else t_save_from, t1, n_save)
    n_steps = int(np.ceil((t1 - t0) / dt))
    if key is None:  # deterministic: adaptive steps
        terms, solver = diffrax.ODETerm(drift), solver or diffrax.Tsit5()
        controller = diffrax.PIDController(rtol=1e-8, atol=1e-10)
        max_steps, adjoint = max_steps or 16 * n_steps + 4096, diffrax.RecursiveCheckpointAdjoint()
    else:  # Langevin: fixed steps dt
        sigma = jnp.sqrt(params.noise_strength)
        if brownian == "tree":
            bm = diffrax.VirtualBrownianTree(
                t0, t1, tol=dt / 4, shape=(), key=key, levy_area=diffrax.SpaceTimeLevyArea
            )
            adjoint = diffrax.RecursiveCheckpointAdjoint()
        elif brownian == "fast":
            bm = diffrax.UnsafeBrownianPath(shape=(), key=key, levy_area=diffrax.SpaceTimeLevyArea)
            adjoint = diffrax.ForwardMode()
        else:
            raise ValueError(f"brownian must be 'fast' or 'tree', got {brownian!r}.")
        diffusion = diffrax.ControlTerm(lambda t, y, args: jnp.stack([0.0 * sigma, sigma]), bm)
        terms, solver = diffrax.MultiTerm(diffrax.ODETerm(drift), diffusion), solver or diffrax.ShARK()
        controller, max_steps = diffrax.ConstantStepSize(), max_steps or n_steps + 16
    sol = diffrax.diffeqsolve(
        terms,
        solver,
        t0,
        t1,
        dt,
        y0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        max_steps=max_steps,
        adjoint=adjoint,
    )
    return LangevinSolution(ts=sol.ts, Q=sol.ys[:, 0], P=sol.ys[:, 1])


def simulate_ensemble(
    landscape: Landscape, params: LangevinParams, Q0, t1, key, n_paths: int, **kwargs
) -> LangevinSolution:
    """`n_paths` independent noise realisations of `simulate` (jax.vmap over split keys);
    arrays gain a leading axis of length n_paths."""
    keys = jax.random.split(key, n_paths)
    return jax.vmap(lambda k: simulate(landscape, params, Q0, t1, key=k, **kwargs))(keys)


def boltzmann_moments(
    landscape: Callable, T_eff, Q_lo, Q_hi, n: int = 4001, orders=(1, 2)
) -> Float[Array, " k"]:
    """⟨Q^k⟩ under exp(−F(Q)/T_eff) restricted to [Q_lo, Q_hi] (trapezoid), T_eff = T/N_eff:
    the stationary law of Eq. 6 without drive, for checking simulations."""
    Q = jnp.linspace(Q_lo, Q_hi, n)
    F = jax.vmap(landscape)(Q)
    w = jnp.exp(-(F - jnp.min(F)) / T_eff)
    Z = jnp.trapezoid(w, Q)
    return jnp.stack([jnp.trapezoid(w * Q**k, Q) / Z for k in orders])
