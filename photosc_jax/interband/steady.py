"""The steady state of the driven model: what it is (`SteadyState`), how stationarity is
measured (`Stationarity`), and how time evolution reaches it (the engine of
`steady_state(params, Evolve(...))`).

In the paired steady state the populations, n21 and |s| are stationary while the phase of
s (and of Δ) rotates uniformly: Δ(t) = |Δ| e^{iμt} (docs/model-interband.md, "Steady state
and the rotating phase"). The detector therefore measures, at the current state,

- `populations`: max |d/dt| of n11, n22, n21 (gauge invariant);
- `growth`: d ln|s|/dt (= dλ/dt in the solver variables);
- `shape`: max |du/dt − iω u| / rms(u), the change of s's shape in the frame co-rotating at
  the instantaneous frequency ω = Im(u†u̇)/(u†u);

and calls the state steady when all three are below `tol`, or when the populations are
stationary, Δ is below `delta_floor` and still decaying (the normal state below threshold,
where s decays exponentially forever). A run that reaches t_max without firing is
classified by |Δ| over its last 20 %: `RESULTS.oscillating` if it keeps swinging,
undamped, else `RESULTS.t_max_reached`.

Data flow: `methods` → this module → `corotating` (Newton, which builds `SteadyState`s
too) → `stationary` (the entry points).

Units: E_g = ħ = 1 (rates and tolerances in E_g/ħ, times in ħ/E_g, |Δ| in E_g).
"""

from __future__ import annotations

import math
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._checks import concrete, float_leaves
from .._numerics import real_times
from .equations import Coefficients, coefficients
from .evolve import solve
from .methods import Evolve
from .outcomes import RESULTS, from_diffrax
from .params import InterbandParams
from .pulses import AbstractDrive, as_drive, with_drive
from .solver_state import pack, packed_order_parameter, rates, split, unpack
from .state import InterbandState, check_mirror_symmetric, initial_state

WINDOW = 17  # |Δ| samples over the last 20 % of [0, t_max]: the oscillation test
OSCILLATION_SWING = 1e-3  # relative swing of |Δ| below which it counts as settled


class Stationarity(eqx.Module):
    """Residuals of the steady-state conditions (module docstring; rates in E_g/ħ, |Δ| in
    E_g): `populations`, `growth`, `shape`, and the state's `mu` (Δ ∝ e^{iμt}) and
    `delta_abs`."""

    populations: Float[Array, "*batch"]
    growth: Float[Array, "*batch"]
    shape: Float[Array, "*batch"]
    mu: Float[Array, "*batch"]
    delta_abs: Float[Array, "*batch"]

    def is_steady(self, tol, delta_floor) -> Bool[Array, "*batch"]:
        """Steady at detector tolerance `tol` (E_g/ħ): paired and stationary, or normal
        (|Δ| < `delta_floor`, E_g) with decaying pairing; populations stationary in both."""
        paired = (jnp.abs(self.growth) < tol) & (self.shape < tol)
        normal = (self.delta_abs < delta_floor) & (self.growth < 0)
        return (self.populations < tol) & (paired | normal)


def state_stationarity(state: InterbandState, params: InterbandParams) -> Stationarity:
    """`stationarity` of an `InterbandState` (e.g. `evolve(...).state`) at `params`."""
    return stationarity(pack(state), coefficients(params, half=True))


def stationarity(y: Float[Array, " n"], c: Coefficients) -> Stationarity:
    """Residuals at the packed solver state `y` (`solver_state`: length 6M + 1 on the half
    grid), with the mirror-reduced coefficients `coefficients(params, half=True)`."""
    dn11, dn22, da, db, dur, dui, dlam = rates(y, c)
    _, _, _, u, lam = split(y)
    du, dn21 = jax.lax.complex(dur, dui), jax.lax.complex(da, db)
    w = c.weights
    delta = packed_order_parameter(lam, u, c)
    uu = jnp.sum(w * jnp.abs(u) ** 2)
    omega = jnp.sum(w * jnp.imag(jnp.conj(u) * du)) / uu
    rms = jnp.sqrt(uu / jnp.sum(w))
    # Δ = conj(pair e^λ Σ_k u): its phase rotates at μ = −Im(Σ_k u̇ / Σ_k u).
    mu = -jnp.imag(jnp.sum(real_times(w, du)) / jnp.sum(real_times(w, u)))
    return Stationarity(
        populations=jnp.max(jnp.abs(jnp.concatenate([dn11, dn22, jnp.abs(dn21)]))),
        growth=dlam,
        shape=jnp.max(jnp.abs(du - real_times(omega, 1j * u))) / rms,
        mu=mu,
        delta_abs=jnp.abs(delta),
    )


class SteadyState(eqx.Module):
    """Outcome of `steady_state` (either method) and of `continuation` (there every leaf
    has a leading axis over the scan).

    - `delta_abs`: |Δ| in the steady state (E_g); 0 below `delta_floor` (the normal state).
    - `mu`: rotation frequency of Δ, Δ(t) ≈ |Δ|e^{iμt} (E_g/ħ); 0 in the normal state.
    - `state`: the final `InterbandState` (for `Newton`: in the gauge Δ real).
    - `t`: the time at which the state was declared steady, or where the evolution stopped
      (ħ/E_g; for `Newton` the end of the warm start).
    - `residual`: the `Stationarity` residuals at `t`.
    - `stats`: solver statistics (`Evolve`: diffrax's — `num_steps`, ... — and
      `diffrax_result`; `Newton`: `newton_steps`, `warm_steps`, `max_residual` (max-norm
      of the co-rotating residual), `fallback`).
    - `result`: the outcome, an `outcomes.RESULTS` item; `RESULTS[result]` says what to
      change. `success` is `result == RESULTS.successful`.
    - `params`: the parameters of the solve.
    """

    delta_abs: Float[Array, "*batch"]
    mu: Float[Array, "*batch"]
    state: InterbandState
    t: Float[Array, "*batch"]
    residual: Stationarity
    stats: dict[str, Any]
    result: RESULTS
    params: InterbandParams

    @property
    def success(self) -> Bool[Array, "*batch"]:
        """True where the solve succeeded (`result == RESULTS.successful`)."""
        return self.result == RESULTS.successful


def _classify(sol, y1, res, fired, late, method: Evolve) -> RESULTS:
    """The outcome of a relaxation run: `successful` if the detector fired on a finite
    steady state; the ODE solver's failure (`max_steps_reached`, `solver_failed`, also for a
    non-finite state); otherwise, at t_max, `oscillating` if |Δ| in `late` (WINDOW samples
    over the last 20 % of the run) keeps swinging, undamped — the swing of its second half
    at least half that of the first, above OSCILLATION_SWING of its mean, and no net drift
    — else `t_max_reached` (still converging, or drifting)."""
    solved = from_diffrax(sol.result)
    finite = jnp.all(jnp.isfinite(y1))
    steady = fired & res.is_steady(method.tol, method.delta_floor) & finite
    h = late.shape[0] // 2
    scale = jnp.maximum(jnp.mean(late), method.delta_floor)
    swing1 = (jnp.max(late[: h + 1]) - jnp.min(late[: h + 1])) / scale
    swing2 = (jnp.max(late[h:]) - jnp.min(late[h:])) / scale
    drift = jnp.abs(late[-1] - late[0]) / scale
    oscillating = (swing2 > OSCILLATION_SWING) & (swing2 > 0.5 * swing1) & (drift < 0.5 * swing2)
    at_t_max = RESULTS.where(oscillating, RESULTS.oscillating, RESULTS.t_max_reached)
    ran = RESULTS.where(steady, RESULTS.successful, at_t_max)
    ran = RESULTS.where(finite, ran, RESULTS.solver_failed)
    return RESULTS.where(solved == RESULTS.successful, ran, solved)


def relax(
    params: InterbandParams,
    y0: InterbandState,
    method: Evolve,
    *,
    drive: AbstractDrive | None = None,
    samples: int = 0,
    progress: bool = False,
) -> tuple[SteadyState, Float[Array, " samples"] | None]:
    """Evolve `y0` until the detector fires (tolerance `method.tol`) or `method.t_max`
    (pure: jit/vmap-safe; never raises, see `result`). Returns the `SteadyState` and, with
    `samples > 0`, |Δ| (E_g) at `samples` equally spaced times over [0, t_max] (inf after
    an early stop; else None).

    With a `drive` (`pulses.AbstractDrive`), Ω = drive(t) replaces `params.Omega` and the
    detector is armed only from `drive.t_end` on (before it the state may look stationary
    while the pump has not arrived yet); the residuals are those at Ω = drive(t)."""
    c = coefficients(params, half=True)
    tol, floor = method.tol, method.delta_floor

    if drive is None:

        def cond_fn(t, y, args, **kwargs):
            return stationarity(y, args).is_steady(tol, floor)

    else:

        def cond_fn(t, y, args, **kwargs):
            c_t, drive_t = args
            steady = stationarity(y, with_drive(c_t, drive_t, t)).is_steady(tol, floor)
            return (t >= drive_t.t_end) & steady

    def delta_abs(t, y, args):
        return stationarity(y, c).delta_abs

    t_max = method.t_max
    subs = [
        dfx.SubSaveAt(t1=True),
        dfx.SubSaveAt(ts=jnp.linspace(0.8 * t_max, t_max, WINDOW), fn=delta_abs),
    ]
    if samples:
        subs.append(dfx.SubSaveAt(ts=jnp.linspace(0.0, t_max, samples), fn=delta_abs))
    sol = solve(
        params,
        y0,
        0.0,
        t_max,
        saveat=dfx.SaveAt(subs=subs),
        solver=method.solver,
        rtol=method.rtol,
        atol=method.atol,
        max_steps=method.max_steps,
        event=dfx.Event(cond_fn),
        progress=progress,
        drive=drive,
    )
    y1, t_stop = sol.ys[0][-1], sol.ts[0][-1]
    res = stationarity(y1, c if drive is None else with_drive(c, drive, t_stop))
    fired = jnp.asarray(sol.event_mask if sol.event_mask is not None else False)
    if drive is not None:  # the event can only have fired once the drive was over
        fired = fired & (t_stop >= drive.t_end)
    paired = res.delta_abs >= floor
    out = SteadyState(
        delta_abs=jnp.where(paired, res.delta_abs, 0.0),
        mu=jnp.where(paired, res.mu, 0.0),
        state=unpack(y1),
        t=t_stop,
        residual=res,
        stats=dict(sol.stats, diffrax_result=sol.result._value),
        result=_classify(sol, y1, res, fired, sol.ys[1], method),
        params=params,
    )
    return out, (sol.ys[2] if samples else None)


@eqx.filter_jit
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
def _relax(params, y0, method: Evolve, progress, drive):
    return relax(params, y0, method, drive=drive, progress=progress)[0]


def evolve_steady_state(
    params: InterbandParams,
    method: Evolve,
    y0: InterbandState | None = None,
    progress: bool = False,
    drive: AbstractDrive | None = None,
) -> SteadyState:
    """The engine behind `steady_state(params, Evolve(...))`: `relax` from `y0` (default:
    the paper's initial state), compiled once per program. Jit/vmap-safe; never raises on a
    failed solve (see `result`); raises `ValueError` for a drive whose end is unknown (the
    detector could not tell 'before the pump' from 'steady')."""
    params = float_leaves(params)
    method = float_leaves(method)
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    if drive is not None:
        drive = float_leaves(as_drive(drive))
        end = concrete(drive.t_end)
        if end is not None and math.isnan(end):
            raise ValueError(
                "steady_state(drive=...): the drive's end is unknown (a plain callable or a "
                "FunctionDrive without t_end), so the detector cannot tell 'before the pump' from "
                "'steady'. Use FunctionDrive(fn, t_end=...) or a pulse from photosc_jax.interband.pulses."
            )
    return _relax(params, y0, method, progress, drive)
