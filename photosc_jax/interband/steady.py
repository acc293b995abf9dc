"""Steady states of the driven model, detected on gauge-invariant quantities.

In the paired steady state the populations, n21 and |s| are stationary while the phase of
s (and of Δ) rotates uniformly: Δ(t) = |Δ| e^{iμt} (docs/model-interband.md, "Steady state
and the rotating phase"). The detector
therefore measures, at the current state,

- `populations`: max |d/dt| of n11, n22, n21 (gauge invariant);
- `growth`: d ln|s|/dt (= dλ/dt in the solver variables);
- `shape`: max |du/dt − iω u| / rms(u), the change of s's shape in the frame co-rotating at
  the instantaneous frequency ω = Im(u†u̇)/(u†u);

and calls the state steady when all three are below `tol`, or when the populations are
stationary, Δ is below `delta_floor` and still decaying (the normal state below threshold,
where s decays exponentially forever). `evolve_steady_state` is the engine of
`steady_state(params, method=Evolve(...))` (entry point: `stationary`); the Newton engine
(`direct`) imports this module, never the other way round.

Units: E_g = ħ = 1 (rates and tolerances in E_g/ħ, times in ħ/E_g).
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
from ._traces import counted
from .equations import coefficients
from .evolve import solve
from .methods import DEFAULT_DELTA_FLOOR as DEFAULT_DELTA_FLOOR
from .methods import DEFAULT_STEADY_TOL as DEFAULT_STEADY_TOL
from .methods import Evolve
from .outcomes import RESULTS, from_diffrax
from .params import InterbandParams
from .pulses import AbstractDrive, as_drive, with_drive
from .solver_state import pack, packed_order_parameter, rates, split, unpack
from .state import InterbandState, check_mirror_symmetric, initial_state


class Stationarity(eqx.Module):
    """Residuals of the steady-state conditions (rates in E_g/ħ)."""

    populations: Float[Array, ""]
    growth: Float[Array, ""]
    shape: Float[Array, ""]
    mu: Float[Array, ""]
    delta_abs: Float[Array, ""]

    def is_steady(self, tol, delta_floor) -> Bool[Array, ""]:
        paired = (jnp.abs(self.growth) < tol) & (self.shape < tol)
        normal = (self.delta_abs < delta_floor) & (self.growth < 0)
        return (self.populations < tol) & (paired | normal)


def state_stationarity(state: InterbandState, params: InterbandParams) -> Stationarity:
    """`stationarity` of an `InterbandState` (e.g. `evolve(...).state`)."""
    return stationarity(pack(state), coefficients(params, half=True))


def stationarity(y, c) -> Stationarity:
    """Residuals at the packed solver state `y` (see `solver_state`), with the mirror-reduced
    coefficients `coefficients(params, half=True)`."""
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
    """Outcome of `steady_state` (either method) and of `continuation`.

    - `delta_abs`: |Δ| in the steady state (E_g); 0 up to `delta_floor` in the normal state.
    - `mu`: rotation frequency of Δ, Δ(t) ≈ |Δ|e^{iμt} (E_g/ħ); 0 in the normal state.
    - `state`: the final `InterbandState`.
    - `converged`: True iff the solve succeeded (`result == RESULTS.successful`); for
      `Evolve`: the detector fired before `t_max` and the ODE solver succeeded.
    - `t`: the time at which the state was declared steady (or where the solve stopped;
      for `Newton` the end of the warm start).
    - `residual`: the `Stationarity` residuals at `t`.
    - `stats`: solver statistics (`Evolve`: diffrax's and `diffrax_result`; `Newton`:
      `newton_steps`, `warm_steps`, `max_residual`, `fallback`).
    - `result`: the outcome, an `outcomes.RESULTS` item; `RESULTS[result]` says what to change.
    - `params`: the parameters of the solve.
    """

    delta_abs: Float[Array, "*batch"]
    mu: Float[Array, "*batch"]
    state: InterbandState
    converged: Bool[Array, "*batch"]
    t: Float[Array, "*batch"]
    residual: Stationarity
    stats: dict[str, Any]
    result: RESULTS
    params: InterbandParams


def run_to_steady_state(
    params,
    y0,
    t_max,
    tol,
    delta_floor,
    solver,
    rtol,
    atol,
    max_steps,
    progress=False,
    window: int = 0,
    samples: int = 0,
    drive=None,
):
    """Evolve until the detector fires or `t_max` (pure; jit/vmap-safe). Returns
    (final packed state, its `Stationarity`, converged, diffrax Solution) and, with
    `window > 0`, |Δ| at `window` equally spaced times over the last 20 % of [0, t_max]
    (inf where the run stopped earlier) — what the sweeps use to tell oscillations apart
    (`evolution_outcome`). With `samples > 0`, |Δ| at `samples` equally spaced times over
    the whole of [0, t_max] is saved too (`sol.ys[-1]`; inf after an early stop).

    With a `drive` (`pulses.AbstractDrive`), Ω = drive(t) replaces `params.Omega` and the
    detector is armed only from `drive.t_end` on (before it the state may look stationary
    while the pump has not arrived yet); the residuals are those at Ω = drive(t)."""
    c = coefficients(params, half=True)

    if drive is None:

        def cond_fn(t, y, args, **kwargs):
            return stationarity(y, args).is_steady(tol, delta_floor)

    else:

        def cond_fn(t, y, args, **kwargs):
            c_t, drive_t = args
            steady = stationarity(y, with_drive(c_t, drive_t, t)).is_steady(tol, delta_floor)
            return (t >= drive_t.t_end) & steady

    def delta_abs(t, y, args):
        return stationarity(y, c).delta_abs

    subs = [dfx.SubSaveAt(t1=True)]
    if window:
        subs.append(dfx.SubSaveAt(ts=jnp.linspace(0.8 * t_max, t_max, window), fn=delta_abs))
    if samples:
        subs.append(dfx.SubSaveAt(ts=jnp.linspace(0.0, t_max, samples), fn=delta_abs))
    sol = solve(
        params,
        y0,
        0.0,
        t_max,
        saveat=dfx.SaveAt(subs=subs),
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        event=dfx.Event(cond_fn),
        progress=progress,
        drive=drive,
    )
    y1 = sol.ys[0][-1]
    res = stationarity(y1, c if drive is None else with_drive(c, drive, sol.ts[0][-1]))
    fired = sol.event_mask if sol.event_mask is not None else False
    ok = (sol.result == dfx.RESULTS.successful) | (sol.result == dfx.RESULTS.event_occurred)
    converged = ok & jnp.asarray(fired) & res.is_steady(tol, delta_floor)
    if drive is not None:  # the event can only have fired once the drive was over
        converged = converged & (sol.ts[0][-1] >= drive.t_end)
    return y1, res, converged, sol, (sol.ys[1] if window else None)


EVOLUTION_STATUS = {0: "fixed point", 1: "oscillating", 2: "not converged", 3: "solver failure"}


def evolution_outcome(sol, y1, steady, late, delta_floor) -> jax.Array:
    """`EVOLUTION_STATUS` code of a `run_to_steady_state(..., window=17)` run: 0 the
    detector fired (a fixed point), 3 the ODE solve failed or the state is not finite;
    otherwise 1 (oscillating) if |Δ| keeps swinging, undamped, over the last 20 % of the
    run (the swing of the second half of `late` is at least half that of the first, and
    there is no net drift), else 2 (still converging, or drifting)."""
    ok = (sol.result == dfx.RESULTS.successful) | (sol.result == dfx.RESULTS.event_occurred)
    finite = jnp.all(jnp.isfinite(y1))
    h = late.shape[0] // 2
    scale = jnp.maximum(jnp.mean(late), delta_floor)
    swing1 = (jnp.max(late[: h + 1]) - jnp.min(late[: h + 1])) / scale
    swing2 = (jnp.max(late[h:]) - jnp.min(late[h:])) / scale
    drift = jnp.abs(late[-1] - late[0]) / scale
    oscillating = (swing2 > 1e-3) & (swing2 > 0.5 * swing1) & (drift < 0.5 * swing2)
    return jnp.where(~(ok & finite), 3, jnp.where(steady & finite, 0, jnp.where(oscillating, 1, 2))).astype(
        jnp.int32
    )


def detector_tol(tol, rtol):
    """The detector tolerance of `Evolve(tol, rtol)`: `tol` if given, else rtol/2.

    Late in an adaptive solve the steps are long and the state sits on the Runge–Kutta
    map's own invariant orbit, whose stationarity residuals are a fixed bias proportional
    to rtol — measured with Dopri8 at Fig. 3 parameters and T = 0.005: 1.41e-7 at
    rtol = 1e-6, 1.21e-8 at 1e-7, constant over 10⁴ steps (at T = 0 it is below 1e-8). The
    former fixed default 1e-7 therefore never fired at T = 0.005 (converged=False with |Δ|
    right to 1e-8); rtol/2 leaves a factor 3.5 and costs ≈ 3e-7 in |Δ| at Fig. 3 parameters
    (pass a smaller `tol`, or a smaller rtol, for more)."""
    return 0.5 * rtol if tol is None else tol


@eqx.filter_jit
@counted("steady.evolve")
def _steady(params, y0, method: Evolve, progress, drive=None):
    tol = detector_tol(method.tol, method.rtol)
    y1, res, converged, sol, _ = run_to_steady_state(
        params,
        y0,
        method.t_max,
        tol,
        method.delta_floor,
        method.solver,
        method.rtol,
        method.atol,
        method.max_steps,
        progress,
        drive=drive,
    )
    result = from_diffrax(sol.result)
    result = RESULTS.where((result == RESULTS.successful) & ~converged, RESULTS.t_max_reached, result)
    return SteadyState(
        delta_abs=jnp.where(res.delta_abs >= method.delta_floor, res.delta_abs, 0.0),
        mu=jnp.where(res.delta_abs >= method.delta_floor, res.mu, 0.0),
        state=unpack(y1),
        converged=converged,
        t=sol.ts[0][-1],
        residual=res,
        stats=dict(sol.stats, diffrax_result=sol.result._value),
        result=result,
        params=params,
    )


def evolve_steady_state(
    params: InterbandParams,
    method: Evolve,
    y0: InterbandState | None = None,
    progress: bool = False,
    drive: AbstractDrive | None = None,
) -> SteadyState:
    """The time-evolution engine behind `steady_state(params, method=Evolve(...))` (no
    Newton polish: that is added by `stationary.steady_state`). Evolves from `y0` (default:
    the paper's initial state) until the detector fires or `method.t_max`. Jit/vmap-safe;
    never raises on a failed solve (see `result`). With a `drive` (`pulses`), Ω = drive(t)
    and the detector is armed from `drive.t_end` on (`run_to_steady_state`)."""
    params = float_leaves(params)
    method = float_leaves(method)
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    if drive is None:  # the undriven program, unchanged
        return _steady(params, y0, method, progress)
    drive = float_leaves(as_drive(drive))
    end = concrete(drive.t_end)
    if end is not None and math.isnan(end):
        raise ValueError(
            "steady_state(drive=...): the drive's end is unknown (a plain callable or a "
            "FunctionDrive without t_end), so the detector cannot tell 'before the pump' from "
            "'steady'. Use FunctionDrive(fn, t_end=...) or a pulse from photosc_jax.interband.pulses."
        )
    return _steady(params, y0, method, progress, drive)
