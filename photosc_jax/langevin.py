"""Langevin dynamics of the Raman coordinate Q in the adiabatic BCS landscape (Chattopadhyay et
al., Eq. 6, corrected per MODEL.md part II):

    Q̈ + γ Q̇ + ω² Q + (1/M) ∂F_SC/∂Q = z E²(t) + η(t),    ⟨η(t)η(t')⟩ = 2γT/(M N_eff) δ(t−t').

Units: phonon units, ω = ℓ0 = ħ = k_B = 1, hence M = 1/(ω ℓ0²) = 1; Q in ℓ0, t in 1/ω, energies
and T in ω. The landscape F(Q) = ½Q² + F_SC(Δ_eq(Q, T)) − F_SC(0) is the free energy *per site*
(so `F'(Q)` already contains the elastic ω²Q); Q is a collective coordinate of `N_eff` sites,
so the noise acts at temperature T/N_eff and the stationary law is ∝ exp(−N_eff F(Q)/T) ×
exp(−N_eff P²/(2T)). Eq. 6 as printed multiplies Q by the force; MODEL.md fixes that. The
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

from . import metastability


def _f(x) -> Float[Array, ""]:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _concrete(x):
    return None if isinstance(x, jax.core.Tracer) else np.asarray(x)


def _require(name, x, ok, what):
    v = _concrete(x)
    if v is not None and not np.all(ok(v)):
        raise ValueError(f"{name} = {v}: {what}")


class LangevinParams(eqx.Module):
    """Bath of the Raman coordinate (phonon units).

    - `gamma`: damping rate γ ≥ 0 (units ω). Not given by the paper.
    - `T`: bath temperature ≥ 0 (units ω); use the same T as the landscape F(Q, T).
    - `N_eff`: number of sites Q describes collectively (> 0); noise temperature T/N_eff.
    """

    gamma: Float[Array, ""] = eqx.field(converter=_f)
    T: Float[Array, ""] = eqx.field(converter=_f)
    N_eff: Float[Array, ""] = eqx.field(default=1.0, converter=_f)

    def __check_init__(self):
        _require("LangevinParams.gamma", self.gamma, lambda v: v >= 0,
                 "the damping γ must be >= 0 (a negative γ pumps energy in and breaks "
                 "fluctuation-dissipation).")
        _require("LangevinParams.T", self.T, lambda v: v >= 0,
                 "the temperature must be >= 0 (units of ω); the noise variance 2γT/N_eff "
                 "would be negative.")
        _require("LangevinParams.N_eff", self.N_eff, lambda v: v > 0,
                 "the number of sites must be > 0 (it divides the noise temperature).")

    @property
    def noise_strength(self) -> Float[Array, ""]:
        """σ² = 2γT/(M N_eff) with M = 1: ⟨η(t)η(t')⟩ = σ² δ(t − t')."""
        return 2.0 * self.gamma * self.T / self.N_eff


class Pulse(eqx.Module):
    """Displacive drive zE²(t) = amplitude · exp(−(t − t_center)²/(2 duration²)).

    `amplitude` is an acceleration (units ω²ℓ0, i.e. a force per site in phonon units);
    `duration` (> 0) is the Gaussian width σ_t and `t_center` the peak time (units 1/ω).
    """

    amplitude: Float[Array, ""] = eqx.field(converter=_f)
    duration: Float[Array, ""] = eqx.field(converter=_f)
    t_center: Float[Array, ""] = eqx.field(converter=_f)

    def __check_init__(self):
        _require("Pulse.duration", self.duration, lambda v: v > 0, "the pulse width must be > 0.")

    def __call__(self, t: ArrayLike) -> Float[Array, "..."]:
        return self.amplitude * jnp.exp(-0.5 * ((t - self.t_center) / self.duration) ** 2)


class ForceTable(eqx.Module):
    """dF/dQ tabulated on a uniform grid (linear interpolation). Outside the grid the force
    continues with slope ω² = 1: at large |Q| U(Q) saturates and the elastic term dominates.
    Build it with `ForceTable.from_landscape`; it makes each SDE step a table look-up instead
    of a gap-equation solve."""

    Q: Float[Array, " n"]
    force: Float[Array, " n"]

    @classmethod
    def from_landscape(cls, landscape: Callable, Q_min: float, Q_max: float, n: int = 4001):
        """Tabulate jax.grad(landscape) on `n` points in [Q_min, Q_max] (vmapped)."""
        if not Q_max > Q_min or n < 2:
            raise ValueError(f"Need Q_max > Q_min and n >= 2, got [{Q_min}, {Q_max}], n={n}.")
        Q = jnp.linspace(Q_min, Q_max, n)
        return cls(Q, jax.vmap(jax.grad(landscape))(Q))

    def __call__(self, Q: ArrayLike) -> Float[Array, "..."]:
        inside = jnp.interp(Q, self.Q, self.force)
        below = self.force[0] + (Q - self.Q[0])
        above = self.force[-1] + (Q - self.Q[-1])
        return jnp.where(Q < self.Q[0], below, jnp.where(Q > self.Q[-1], above, inside))


Landscape = Callable[[Array], Array] | ForceTable


def bcs_landscape(params: metastability.MetastabilityParams, T) -> Callable[[Array], Array]:
    """The adiabatic landscape F(Q, T) per site (E(Q) at T = 0) of `metastability.landscape`,
    as a scalar function of Q for `simulate` (force by autodiff through the gap solve)."""
    return lambda Q: metastability.landscape(params, Q, T)


def bcs_force_table(params: metastability.MetastabilityParams, T, Q_min=-0.5, Q_max=2.5,
                    n: int = 1501) -> "ForceTable":
    """`ForceTable` of dF/dQ for the BCS landscape at temperature T: n gap solves, once."""
    return ForceTable.from_landscape(bcs_landscape(params, T), Q_min, Q_max, n)


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
    "fast" (`UnsafeBrownianPath`, fixed steps, forward-mode autodiff only; ~25× faster) or
    "tree" (`VirtualBrownianTree`, reverse-mode differentiable, the diffrax default choice).

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

    y0 = jnp.stack([_f(Q0), _f(P0)])
    ts = jnp.linspace(t0 if t_save_from is None else t_save_from, t1, n_save)
    n_steps = int(np.ceil((t1 - t0) / dt))
    if key is None:
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(drift), solver or diffrax.Tsit5(), t0, t1, dt, y0,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
            max_steps=max_steps or 16 * n_steps + 4096,
        )
    else:
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
        sol = diffrax.diffeqsolve(
            diffrax.MultiTerm(diffrax.ODETerm(drift), diffusion), solver or diffrax.ShARK(),
            t0, t1, dt, y0, saveat=diffrax.SaveAt(ts=ts), max_steps=max_steps or n_steps + 16,
            adjoint=adjoint,
        )
    return LangevinSolution(ts=sol.ts, Q=sol.ys[:, 0], P=sol.ys[:, 1])


def simulate_ensemble(landscape: Landscape, params: LangevinParams, Q0, t1, key, n_paths: int,
                      **kwargs) -> LangevinSolution:
    """`n_paths` independent noise realisations of `simulate` (jax.vmap over split keys);
    arrays gain a leading axis of length n_paths."""
    keys = jax.random.split(key, n_paths)
    return jax.vmap(lambda k: simulate(landscape, params, Q0, t1, key=k, **kwargs))(keys)


def spinodal_force(landscape: Landscape, Q_B, n: int = 4001) -> Float[Array, ""]:
    """max_{0 ≤ Q ≤ Q_B} dF/dQ: the static force a slow drive must exceed to push Q from the
    undistorted minimum over the barrier at Q_B (the tilted landscape F − aQ loses its
    minimum near 0 at this a). Grid maximum refined by a parabola through the top 3 points."""
    force = landscape_force(landscape)
    Q = jnp.linspace(0.0, 1.0, n) * Q_B
    Fp = jax.vmap(force)(Q)
    i = jnp.clip(jnp.argmax(Fp), 1, n - 2)
    a, b, c = Fp[i - 1], Fp[i], Fp[i + 1]
    den = a - 2 * b + c
    return jnp.where(den < 0, b - (c - a) ** 2 / (8 * den), jnp.max(Fp))


def is_trapped(sol: LangevinSolution, Q_B, tail: int = 10) -> Array:
    """True where the last `tail` saved Q all lie beyond the barrier Q_B."""
    return jnp.all(sol.Q[..., -tail:] > Q_B, axis=-1)


def trapping_threshold(landscape: Landscape, params: LangevinParams, Q_B, duration, *,
                       lo, hi, rounds: int = 5, n_per_round: int = 8, t_settle=None,
                       **kwargs) -> Float[Array, ""]:
    """Smallest Gaussian-pulse amplitude that leaves Q beyond Q_B, noise off, by vmapped
    multisection in [lo, hi] (`rounds` × `n_per_round` deterministic runs). The pulse peaks at
    t = 5·duration; the run ends `t_settle` (default 5·duration + 20/γ) after it."""
    t_c = 5.0 * duration
    t_settle = t_settle if t_settle is not None else 5.0 * duration + 20.0 / max(
        float(params.gamma), 1e-300)
    t1 = t_c + t_settle

    @jax.jit
    def trapped(amps):
        def one(a):
            sol = simulate(landscape, params, 0.0, t1, pulse=Pulse(a, duration, t_c), n_save=16,
                           t_save_from=t1 - 1.0, **kwargs)
            return is_trapped(sol, Q_B, tail=4)
        return jax.vmap(one)(amps)

    if not float(params.gamma) > 0:
        raise ValueError("trapping_threshold needs gamma > 0: without damping Q never settles.")
    lo, hi = float(lo), float(hi)
    flags = np.asarray(trapped(jnp.array([lo, hi])))
    if flags[0] or not flags[1]:
        raise ValueError(f"trapping_threshold: need no trap at lo={lo} and a trap at hi={hi}; "
                         f"got trapped={flags.tolist()}. Widen the bracket.")
    for _ in range(rounds):
        amps = np.linspace(lo, hi, n_per_round + 2)[1:-1]
        flags = np.asarray(trapped(jnp.asarray(amps)))
        k = int(np.argmax(flags)) if flags.any() else n_per_round
        hi = amps[k] if k < n_per_round else hi
        lo = amps[k - 1] if k > 0 else lo
    return _f(0.5 * (lo + hi))


def boltzmann_moments(landscape: Callable, T_eff, Q_lo, Q_hi, n: int = 4001,
                      orders=(1, 2)) -> Float[Array, " k"]:
    """⟨Q^k⟩ under exp(−F(Q)/T_eff) restricted to [Q_lo, Q_hi] (trapezoid), T_eff = T/N_eff:
    the stationary law of Eq. 6 without drive, for checking simulations."""
    Q = jnp.linspace(Q_lo, Q_hi, n)
    F = jax.vmap(landscape)(Q)
    w = jnp.exp(-(F - jnp.min(F)) / T_eff)
    Z = jnp.trapezoid(w, Q)
    return jnp.stack([jnp.trapezoid(w * Q**k, Q) / Z for k in orders])
