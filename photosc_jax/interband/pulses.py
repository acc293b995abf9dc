"""Pump pulses: a time-dependent Rabi frequency Ω(t) for `evolve(params, t_max, drive=...)`.

The paper keeps the laser on at constant Ω from t = 0 (its Eq. 1 with Ω(t) = Ω cos νt, in
the rotating-wave approximation a static Ω). A pump is a laser of finite length: in the
frame rotating at ν its Rabi frequency is the pulse envelope Ω(t), which replaces
`InterbandParams.Omega` in the equations of motion (`equations` module docstring; Ω enters
only the drive terms ∓Ω Im n21 and −(iΩ/2)(n22 − n11)). The RWA needs the envelope to vary
slowly on the optical period 2π/ν ≈ 2π ħ/E_g: widths and ramps ≫ 1.

A drive is an `AbstractDrive`: an `eqx.Module` whose float fields are dynamic (float64
arrays), so new pulse parameters reuse the compiled solver, `jax.grad` differentiates with
respect to them, and `jax.vmap` over a batch of pulses works. It also says when it is over
(`t_end`, used by the steady-state detector and by `decay_time`) and where its shape has
features the adaptive solver must not step over (`edges`: the solver steps exactly to them).

- `GaussianPulse(amplitude, t_center, width)`: Ω(t) = amplitude · exp(−(t − t_center)²/2width²).
- `FlatTopPulse(amplitude, t_on, duration, ramp)`: sin² ramps around a plateau, full width
  at half maximum `duration`.
- `ConstantDrive(Omega)`: Ω(t) = Omega, the paper's drive.
- `FunctionDrive(fn, t_end, edges)`: any JAX-traceable t ↦ Ω(t) (a plain callable passed as
  `drive=` is wrapped in one).

`decay_time(result)` reports how long |Δ| survives after the drive ends.

Units: E_g = ħ = 1 (Ω, amplitudes in E_g; times in ħ/E_g).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import (
    FINITE,
    as_float,
    concrete_array,
    finite_nonneg,
    finite_positive,
    require_fields,
)
from .._numerics import GaussianEnvelope

GAUSSIAN_TAIL = 6.0  # a Gaussian pulse is over at t_center + 6 width: Ω/amplitude = e^−18 ≈ 1.5e-8


class AbstractDrive(eqx.Module):
    """A time-dependent Rabi frequency Ω(t) (E_g), replacing `InterbandParams.Omega`.

    Subclasses implement `__call__(t)` (a float64 scalar; JAX-traceable), `t_end` (the time,
    ħ/E_g, from which Ω(t) stays at its final value — 0 for a pulse; −inf for a constant
    drive) and may override `edges()` (times the adaptive solver must step to: ramp ends,
    the flanks of a narrow pulse; default none).
    """

    @abc.abstractmethod
    def __call__(self, t) -> Float[Array, ""]:
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def t_end(self) -> Float[Array, ""]:
        raise NotImplementedError

    def edges(self) -> Float[Array, " n"] | None:
        """Times (ħ/E_g) the solver steps to exactly, or None. Without them an adaptive
        solver that has grown its step in a quiet stretch can step over a short pulse."""
        return None


class GaussianPulse(GaussianEnvelope, AbstractDrive):
    """Ω(t) = `amplitude` · exp(−(t − `t_center`)² / (2 `width`²)).

    **Arguments** (all dynamic float fields, E_g = ħ = 1):

    - `amplitude`: peak Rabi frequency (E_g; any finite value, the sign is a phase).
    - `t_center`: time of the peak (ħ/E_g).
    - `width`: standard deviation σ of the envelope (ħ/E_g, > 0); FWHM = 2√(2 ln 2) σ ≈
      2.355 σ. Pulse area ∫Ω dt = amplitude · width · √(2π) (`area`; π inverts k = 0 when
      there is no dissipation).

    The pulse is over (`t_end`) at t_center + 6 width, where Ω/amplitude = e⁻¹⁸ ≈ 1.5·10⁻⁸.
    The solver steps to t_center ± 6, ± 2, 0 widths, so a narrow pulse late in a long run is
    resolved.

    Example: `evolve(params, 3000.0, drive=GaussianPulse(0.25, 500.0, 100.0))`.
    """

    amplitude: Float[Array, ""] = eqx.field(converter=as_float)
    t_center: Float[Array, ""] = eqx.field(converter=as_float)
    width: Float[Array, ""] = eqx.field(converter=as_float)
    width_field = "width"

    @property
    def t_end(self) -> Float[Array, ""]:
        return self.t_center + GAUSSIAN_TAIL * self.width

    @property
    def area(self) -> Float[Array, ""]:
        """∫Ω(t) dt = amplitude · width · √(2π) (dimensionless)."""
        return self.amplitude * self.width * math.sqrt(2.0 * math.pi)

    def edges(self) -> Float[Array, " 5"]:
        x = jnp.asarray([-GAUSSIAN_TAIL, -2.0, 0.0, 2.0, GAUSSIAN_TAIL])
        return self.t_center + self.width * x


def _sin2_ramp(x):
    """sin²(πx/2) on [0, 1], 0 below, 1 above (C¹: continuous value and slope)."""
    return jnp.sin(0.5 * jnp.pi * jnp.clip(x, 0.0, 1.0)) ** 2


class FlatTopPulse(AbstractDrive):
    """A plateau of height `amplitude` with sin² ramps:

        Ω(t) = amplitude · r((t − t_on)/ramp) · r((t_on + duration + ramp − t)/ramp),
        r(x) = sin²(πx/2) clipped to [0, 1].

    Ω rises from 0 at `t_on` to `amplitude` at t_on + ramp, stays there until
    t_on + duration, and falls back to 0 at t_on + duration + ramp (`t_end`). Half maximum is
    reached at t_on + ramp/2 and t_on + duration + ramp/2, so `duration` is the full width at
    half maximum, and the pulse area is exactly amplitude · duration (`area`) whatever the
    ramp. Ω and dΩ/dt are continuous (d²Ω/dt² jumps at the four ramp ends, which the solver
    steps to); `ramp = 0` gives a rectangular pulse.

    **Arguments** (all dynamic float fields, E_g = ħ = 1):

    - `amplitude`: plateau Rabi frequency (E_g; finite).
    - `t_on`: start of the rising ramp (ħ/E_g).
    - `duration`: FWHM (ħ/E_g, > 0, at least `ramp`).
    - `ramp`: length of each ramp (ħ/E_g, ≥ 0). Default 50: slow on the optical period
      2π ħ/E_g, short against the radiative time 1/Γrr = 500 at the paper's rates.

    Example: `FlatTopPulse(0.25, 0.0, 2000.0)` — the paper's drive for t ≈ 2000, then off.
    """

    amplitude: Float[Array, ""] = eqx.field(converter=as_float)
    t_on: Float[Array, ""] = eqx.field(converter=as_float)
    duration: Float[Array, ""] = eqx.field(converter=as_float)
    ramp: Float[Array, ""] = eqx.field(default=50.0, converter=as_float)

    def __check_init__(self):
        require_fields(
            self,
            amplitude=FINITE,
            t_on=FINITE,
            ramp=(finite_nonneg, "the ramp length must be finite and >= 0."),
            duration=(finite_positive, "the duration (FWHM) must be finite and > 0."),
        )
        d, r = concrete_array(self.duration), concrete_array(self.ramp)
        if d is not None and r is not None and np.any(d < r):
            raise ValueError(
                f"FlatTopPulse(duration={d}, ramp={r}): the duration (FWHM) must be at least the "
                "ramp length (the plateau lasts duration − ramp). Use a shorter ramp or a "
                "GaussianPulse for a pulse without a plateau."
            )

    def __call__(self, t) -> Float[Array, ""]:
        has_ramp = self.ramp > 0
        r = jnp.where(has_ramp, self.ramp, 1.0)
        up = jnp.where(has_ramp, _sin2_ramp((t - self.t_on) / r), (t >= self.t_on).astype(float))
        t_end = self.t_on + self.duration + self.ramp
        down = jnp.where(has_ramp, _sin2_ramp((t_end - t) / r), (t < t_end).astype(float))
        return self.amplitude * up * down

    @property
    def t_end(self) -> Float[Array, ""]:
        return self.t_on + self.duration + self.ramp

    @property
    def area(self) -> Float[Array, ""]:
        """∫Ω(t) dt = amplitude · duration (dimensionless)."""
        return self.amplitude * self.duration

    def edges(self) -> Float[Array, " 4"]:
        d = self.duration
        return self.t_on + jnp.stack([jnp.zeros_like(d), self.ramp, d, d + self.ramp])


class ConstantDrive(AbstractDrive):
    """Ω(t) = `Omega` (E_g) at all times: the paper's drive. With `Omega = params.Omega` it
    reproduces the evolution without a drive. `t_end` = −inf (Ω never changes)."""

    Omega: Float[Array, ""] = eqx.field(converter=as_float)

    def __check_init__(self):
        require_fields(self, Omega=FINITE)

    def __call__(self, t) -> Float[Array, ""]:
        return self.Omega + 0.0 * t

    @property
    def t_end(self) -> Float[Array, ""]:
        return jnp.asarray(-jnp.inf)


class FunctionDrive(AbstractDrive):
    """Any JAX-traceable `fn`: t ↦ Ω(t) (E_g) as a drive.

    - `fn` (static): the function. Arrays it closes over are constants of the compiled
      solver: for sweeps without recompilation write an `AbstractDrive` subclass whose
      parameters are fields.
    - `t_end`: time (ħ/E_g) from which Ω stays at its final value; default NaN (unknown:
      `decay_time` then needs `t_off=`, and `steady_state` refuses the drive).
    - `edges`: times the solver must step to (where `fn` has narrow features or kinks);
      default none — a pulse shorter than the solver's step in a quiet stretch can then be
      stepped over.
    """

    fn: Callable = eqx.field(static=True)
    end: Float[Array, ""] = eqx.field(default=float("nan"), converter=as_float)
    edge_ts: Float[Array, " n"] | None = eqx.field(default=None)

    def __init__(self, fn: Callable, t_end=float("nan"), edges=None):
        if not callable(fn):
            raise ValueError(f"FunctionDrive(fn={fn!r}): fn must be a callable t -> Omega(t).")
        self.fn = fn
        self.end = as_float(t_end)
        self.edge_ts = None if edges is None else jnp.asarray(edges, dtype=float).reshape(-1)

    def __call__(self, t):  # whatever `fn` returns: `rabi_frequency` checks it is one real scalar
        return self.fn(t)

    @property
    def t_end(self) -> Float[Array, ""]:
        return self.end

    def edges(self):
        return None if self.edge_ts is None or self.edge_ts.size == 0 else self.edge_ts


def as_drive(drive) -> AbstractDrive:
    """`drive` as an `AbstractDrive` (a plain callable becomes a `FunctionDrive`)."""
    if isinstance(drive, AbstractDrive):
        return drive
    if callable(drive):
        return FunctionDrive(drive)
    raise ValueError(
        f"drive={drive!r}: pass a callable t -> Omega(t) or a pulse, e.g. "
        "GaussianPulse(amplitude=0.25, t_center=500.0, width=100.0)."
    )


def rabi_frequency(drive: AbstractDrive, t) -> Float[Array, ""]:
    """Ω = drive(t) as a float64 scalar; raises `ValueError` (at trace time) for a drive that
    does not return one real scalar."""
    omega = jnp.asarray(drive(t))
    if omega.shape != ():
        raise ValueError(
            f"drive(t) returned shape {omega.shape}; it must return one scalar Ω(t). For a batch "
            "of pulses, vmap over the call: jax.vmap(lambda d: evolve(params, t_max, drive=d))(pulses)."
        )
    if not jnp.issubdtype(omega.dtype, jnp.floating) and not jnp.issubdtype(omega.dtype, jnp.integer):
        raise ValueError(f"drive(t) returned dtype {omega.dtype}; Ω(t) must be real.")
    return omega.astype(float)


def with_drive(c, drive: AbstractDrive, t):
    """The right-hand-side coefficients `c` (`equations.Coefficients`) with Ω = drive(t)."""
    return eqx.tree_at(lambda x: x.Omega, c, rabi_frequency(drive, t))


DELTA_FLOOR = 1e-12  # = methods.DEFAULT_DELTA_FLOOR: below it there is no pairing to survive


def decay_time(result, t_off=None, *, factor: float = math.e, delta_floor: float = DELTA_FLOOR):
    """How long the pairing survives after the drive ends: τ = t_× − t_off (ħ/E_g).

    `t_off` is the end of the drive (default `result.drive.t_end`, e.g. t_on + duration +
    ramp for a `FlatTopPulse`); t_× is the first time after the maximum of |Δ| on
    [t_off, t_max] at which |Δ| has fallen to that maximum / `factor` (default e). If |Δ|
    decreases from t_off on, τ is the 1/e time of |Δ| counted from the end of the drive —
    exactly τ for |Δ(t)| = |Δ(t_off)| e^{−(t − t_off)/τ}; if the pairing still grows after
    the drive (the drive has left a population inversion behind), τ includes that growth.

    **Arguments:**

    - `result`: an `EvolveResult` (or anything with `ts` and `delta_abs`, shapes
      `(*batch, T)`). τ is read off the saved samples, with ln|Δ| interpolated linearly
      between them (exact for an exponential): save densely after the drive
      (`evolve(..., saveat=...)`) for a precise τ.
    - `t_off`: end of the drive (ħ/E_g; scalar or `batch`-shaped); default the drive's
      `t_end`. Needed for a plain-callable drive (its end is unknown).
    - `factor`: decay factor (> 1). Default e.
    - `delta_floor`: |Δ| (E_g) below which there is no pairing to decay. Default 1e-12.

    **Returns:** τ (ħ/E_g), shape `batch`; NaN where it is not defined: |Δ| has not fallen by
    `factor` by the end of the run (the pairing outlives t_max − t_off: run longer), its maximum
    after t_off is below `delta_floor` (no pairing formed), or t_off lies outside the saved
    times. Pure jnp: jit/vmap-safe.

    Example: `decay_time(evolve(params, 6000.0, drive=FlatTopPulse(0.25, 0.0, 2000.0)))`.
    """
    if t_off is None:
        drive = getattr(result, "drive", None)
        if drive is None:
            raise ValueError(
                "decay_time(result): the result has no drive; pass t_off= (the time the drive ends)."
            )
        t_off = drive.t_end
    v = concrete_array(t_off)
    if v is not None and not np.all(np.isfinite(v)):
        raise ValueError(
            f"decay_time: t_off = {v} is not a finite time. A ConstantDrive never ends, and a "
            "FunctionDrive without t_end has an unknown end: pass t_off= (the time the drive ends)."
        )
    if not float(factor) > 1.0:
        raise ValueError(f"decay_time(factor={factor}): the decay factor must be > 1 (default e).")
    return _decay(
        jnp.asarray(result.ts),
        jnp.asarray(result.delta_abs),
        as_float(t_off),
        as_float(math.log(float(factor))),
        as_float(math.log(float(delta_floor))),
    )


@jax.jit
def _decay(ts, d, t_off, ln_factor, ln_floor):
    core = jnp.vectorize(_decay_1d, signature="(t),(t),(),(),()->()")
    return core(ts, d, t_off, ln_factor, ln_floor)


def _decay_1d(ts, d, t_off, ln_factor, ln_floor):
    ln = jnp.log(jnp.maximum(d, 1e-300))  # |Δ| = 0 (exactly normal): a very deep minimum
    ln_off = jnp.interp(t_off, ts, ln)
    after = ts > t_off
    ln_after = jnp.where(after, ln, -jnp.inf)
    i_max = jnp.argmax(ln_after)
    peak_at_off = ln_off >= ln_after[i_max]
    ln_peak = jnp.maximum(ln_off, ln_after[i_max])
    t_peak = jnp.where(peak_at_off, t_off, ts[i_max])
    threshold = ln_peak - ln_factor
    below = after & (ts > t_peak) & (ln <= threshold)
    i = jnp.argmax(below)  # the first crossing (if any)
    i_prev = jnp.maximum(i - 1, 0)
    prev_is_off = (i == 0) | (ts[i_prev] <= t_off)
    t_prev = jnp.where(prev_is_off, t_off, ts[i_prev])
    ln_prev = jnp.where(prev_is_off, ln_off, ln[i_prev])
    gap = ln_prev - ln[i]
    frac = jnp.where(gap > 0, (ln_prev - threshold) / jnp.where(gap > 0, gap, 1.0), 1.0)
    t_cross = t_prev + frac * (ts[i] - t_prev)
    valid = jnp.any(below) & (ln_peak >= ln_floor) & (t_off >= ts[0]) & (t_off <= ts[-1])
    return jnp.where(valid, t_cross - t_off, jnp.nan)
