"""Time evolution of the driven-dissipative model with diffrax."""

from __future__ import annotations

from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Complex, Float

from .._checks import as_float, float_leaves
from ._traces import counted
from .equations import coefficients
from .outcomes import RESULTS, from_diffrax, raise_if_failed
from .params import InterbandParams
from .pulses import AbstractDrive, as_drive
from .solver_state import driven_rhs, pack, packed_order_parameter, rhs, split, unpack
from .state import InterbandState, check_mirror_symmetric, initial_state

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
DEFAULT_MAX_STEPS = 500_000


class EvolveResult(eqx.Module):
    """Outcome of `evolve`.

    - `ts`: save times (units ħ/E_g); the last entry is t1.
    - `delta`: complex order parameter Δ(ts) (Eq. B3).
    - `n_exc`: conduction-band electrons in the box, Σ_k n22_k, at `ts`.
    - `state`: the `InterbandState` at t1.
    - `stats`: solver statistics (`num_steps`, `num_accepted_steps`, `num_rejected_steps`).
    - `success`: True iff the solver reached t1 (False: max_steps hit, NaN, step too small).
    - `result`: the outcome, an `outcomes.RESULTS` item (`successful`, `max_steps_reached`,
      `solver_failed`); `RESULTS[result]` says what to change. The diffrax code is in
      `stats["diffrax_result"]`.
    - `params`: the parameters the result was computed with.
    - `drive`: the `pulses.AbstractDrive` that replaced `params.Omega` (None: constant Ω).
    """

    ts: Float[Array, "*batch T"]
    delta: Complex[Array, "*batch T"]
    n_exc: Float[Array, "*batch T"]
    state: InterbandState
    stats: dict[str, Any]
    success: Bool[Array, "*batch"]
    result: Any
    params: InterbandParams
    drive: AbstractDrive | None = None

    @property
    def delta_abs(self) -> Float[Array, "*batch T"]:
        return jnp.abs(self.delta)


def default_solver() -> dfx.AbstractSolver:
    """Dopri8 (8th-order adaptive explicit Runge–Kutta; the paper used adaptive RK4).

    At the paper's accuracy (rtol 1e-6, atol 1e-9) it takes ~5× fewer steps than Tsit5
    (2.7k vs 13k to t = 8000 at Fig. 3 parameters, final |Δ| equal to 1e-7) and, since the
    per-step cost on a CPU is dominated by fixed overhead, runs ~2.5× faster
    (benchmarks/bench_interband.py)."""
    return dfx.Dopri8()


def _observables(t, y, c):
    n11, n22, n21, u, lam = split(y)
    return packed_order_parameter(lam, u, c), jnp.sum(c.weights * n22)


def solve(
    params: InterbandParams,
    y0: InterbandState,
    t0,
    t1,
    *,
    saveat: dfx.SaveAt,
    solver: dfx.AbstractSolver,
    rtol,
    atol,
    max_steps: int,
    dt0=None,
    event: dfx.Event | None = None,
    progress: bool = False,
    drive: AbstractDrive | None = None,
) -> dfx.Solution:
    """Low-level: diffeqsolve on the packed solver state (see `solver_state`). Not jitted;
    call it inside `eqx.filter_jit`. Never throws: check `sol.result`.

    With a `drive`, Ω = drive(t) replaces `params.Omega`, `args` is (coefficients, drive)
    (`solver_state.driven_rhs`; an `event`'s cond_fn sees that pair), and the step-size
    controller steps exactly to `drive.edges()` (without a drive: the plain PID controller,
    the program of the undriven model unchanged)."""
    c = coefficients(params, half=True)
    controller = dfx.PIDController(rtol=rtol, atol=atol)
    if drive is None:
        term, args = dfx.ODETerm(rhs), c
    else:
        term, args = dfx.ODETerm(driven_rhs), (c, drive)
        edges = drive.edges()
        if edges is not None:
            # Where the steps fall is a numerical choice, not a function of the pulse: no
            # gradient through it (the steps around an edge would otherwise not cancel).
            controller = dfx.ClipStepSizeController(controller, jump_ts=jax.lax.stop_gradient(edges))
    return dfx.diffeqsolve(
        term,
        solver,
        t0,
        t1,
        dt0,
        pack(y0),
        args=args,
        saveat=saveat,
        stepsize_controller=controller,
        max_steps=max_steps,
        event=event,
        throw=False,
        progress_meter=dfx.TqdmProgressMeter() if progress else dfx.NoProgressMeter(),
    )


@eqx.filter_jit
@counted("evolve")
def _evolve(params, y0, t0, t1, ts, solver, rtol, atol, max_steps, progress, drive):
    c = coefficients(params, half=True)
    saveat = dfx.SaveAt(
        subs=[
            dfx.SubSaveAt(ts=ts, fn=lambda t, y, args: _observables(t, y, c)),
            dfx.SubSaveAt(t1=True),
        ]
    )
    sol = solve(
        params,
        y0,
        t0,
        t1,
        saveat=saveat,
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        progress=progress,
        drive=drive,
    )
    (delta, n_exc), y1 = sol.ys
    stats = dict(sol.stats, diffrax_result=sol.result._value)
    return sol.ts[0], delta, n_exc, unpack(y1[-1]), stats, from_diffrax(sol.result)


def evolve(
    params: InterbandParams,
    t1: float,
    *,
    y0: InterbandState | None = None,
    t0: float = 0.0,
    saveat: int | Float[Array, " T"] = 401,
    solver: dfx.AbstractSolver | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: bool = False,
    throw: bool = False,
    drive=None,
) -> EvolveResult:
    """Integrate the mean-field equations from `t0` to `t1` (units ħ/E_g).

    **Arguments:**

    - `params`: an `InterbandParams`.
    - `t1`: final time.
    - `y0`: initial state; default `initial_state(params)` (the paper's, seed 1e-20(1+i)).
    - `saveat`: number of equally spaced save times in [t0, t1] (default 401), or an
      increasing array of times in [t0, t1] (t1 is appended if it is not the last).
    - `solver`: a diffrax solver; default `default_solver()` (Dopri8).
    - `rtol`, `atol`: tolerances (default 1e-6, 1e-9, the paper's accuracy). The pairing
      amplitude is integrated in log-scaled variables, so its growth from the 1e-20 seed is
      controlled relatively, independent of `atol`.
    - `max_steps`: step budget; exceeding it gives `success=False` (no exception).
    - `progress`: show a tqdm progress bar.
    - `throw`: raise the outcome's message if the solver did not reach t1 (default False).
    - `drive`: a time-dependent Rabi frequency Ω(t) (E_g) replacing `params.Omega` — a pulse
      from `pulses` (`GaussianPulse`, `FlatTopPulse`, `ConstantDrive`, ...) or any
      JAX-traceable callable t ↦ Ω(t) (wrapped in a `FunctionDrive`). The solver steps
      exactly to the pulse's `edges()`, so a short pulse is not stepped over. Default None:
      the constant `params.Omega` of the paper.

    `t0`, `t1`, `rtol`, `atol`, the float fields of `params` and of a pulse are traced:
    changing them does not recompile (`max_steps`, `solver`, the number of save times and
    the type of the drive do). `jax.vmap` over a batch of pulses works.

    **Returns:** an `EvolveResult` (`ts`, `delta`, `n_exc`, `state`, `stats`, `success`,
    `result`, `drive`).

    Example: `r = evolve(InterbandParams(Omega=0.25, V=5), 8000.0); abs(r.delta[-1])`;
    with a pump of length 2000: `evolve(params, 6000.0, drive=FlatTopPulse(0.25, 0.0, 2000.0))`.
    """
    params = float_leaves(params)
    drive = None if drive is None else float_leaves(as_drive(drive))
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    if isinstance(saveat, (int, np.integer)):
        if saveat < 1:
            raise ValueError(f"saveat={saveat}: need at least one save time.")
        ts = jnp.linspace(t0, t1, int(saveat)) if saveat > 1 else jnp.asarray([t1], float)
    else:
        ts = np.asarray(saveat, dtype=float).reshape(-1)
        if ts.size == 0 or np.any(np.diff(ts) <= 0) or ts[0] < t0 or ts[-1] > t1:
            raise ValueError(f"saveat must be increasing times within [t0, t1] = [{t0}, {t1}]; got {ts}.")
        if ts[-1] < t1:  # the last entry is always t1
            ts = np.append(ts, float(t1))
        ts = jnp.asarray(ts)
    if not float(t1) > float(t0):
        raise ValueError(f"t1={t1} must be larger than t0={t0}.")
    solver = default_solver() if solver is None else solver
    ts_out, delta, n_exc, state, stats, result = _evolve(
        params,
        y0,
        *map(as_float, (t0, t1)),
        ts,
        solver,
        *map(as_float, (rtol, atol)),
        int(max_steps),
        progress,
        drive,
    )
    out = EvolveResult(
        ts=ts_out,
        delta=delta,
        n_exc=n_exc,
        state=state,
        stats=stats,
        success=result == RESULTS.successful,
        result=result,
        params=params,
        drive=drive,
    )
    return raise_if_failed(out, result, throw)
