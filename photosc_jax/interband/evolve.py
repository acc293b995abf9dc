"""Time evolution of the driven-dissipative model with diffrax: `evolve(params, t_max)`.

The mean-field equations (`equations`: the Wick reduction of the Lindblad model, with the
self-consistency Δ* = (V dk/2π) Σ_k s, Eq. B3) are integrated in the solver variables of
`solver_state` (log-amplitude of s, mirror-reduced grid k ≥ 0).

Units: E_g = ħ = 1 (times in ħ/E_g, Δ in E_g).
"""

from __future__ import annotations

from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Complex, Float

from .._checks import as_float, float_leaves
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

    - `ts`: save times (units ħ/E_g); the last entry is t_max.
    - `delta`: complex order parameter Δ(ts) (Eq. B3).
    - `n_exc`: conduction-band electrons in the box, Σ_k n22_k, at `ts`.
    - `state`: the `InterbandState` at t_max.
    - `stats`: solver statistics (`num_steps`, `num_accepted_steps`, `num_rejected_steps`).
    - `result`: the outcome, an `outcomes.RESULTS` item (`successful`: t_max reached;
      `max_steps_reached`, `solver_failed`); `RESULTS[result]` says what to change. The
      diffrax code is in `stats["diffrax_result"]`. `success` is `result ==
      RESULTS.successful`.
    - `params`: the parameters the result was computed with.
    - `drive`: the `pulses.AbstractDrive` that replaced `params.Omega` (None: constant Ω).
    """

    ts: Float[Array, "*batch T"]
    delta: Complex[Array, "*batch T"]
    n_exc: Float[Array, "*batch T"]
    state: InterbandState
    stats: dict[str, Any]
    result: RESULTS
    params: InterbandParams
    drive: AbstractDrive | None = None

    @property
    def delta_abs(self) -> Float[Array, "*batch T"]:
        return jnp.abs(self.delta)

    @property
    def success(self) -> Bool[Array, "*batch"]:
        """True where the solver reached t_max (`result == RESULTS.successful`)."""
        return self.result == RESULTS.successful


def default_solver() -> dfx.AbstractSolver:
    """Dopri8 (8th-order adaptive explicit Runge–Kutta; the paper used adaptive RK4).

    At the paper's accuracy (rtol 1e-6, atol 1e-9) it takes several times fewer steps than
    Tsit5 and, the per-step cost on a CPU being mostly fixed overhead, runs faster
    (benchmarks/bench_interband.py, benchmarks/RESULTS.md)."""
    return dfx.Dopri8()


def _observables(t, y, c):
    n11, n22, n21, u, lam = split(y)
    return packed_order_parameter(lam, u, c), jnp.sum(c.weights * n22)


def solve(
    params: InterbandParams,
    y0: InterbandState,
    t0,
    t_max,
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
    """Low-level: diffeqsolve from `t0` to `t_max` on the packed solver state (see
    `solver_state`). Not jitted;
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
        t_max,
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
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
def _evolve(params, y0, t0, t_max, ts, solver, rtol, atol, max_steps, progress, drive):
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
        t_max,
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
    t_max: float,
    *,
    y0: InterbandState | None = None,
    t0: float = 0.0,
    saveat: int | Float[ArrayLike, " T"] = 401,
    solver: dfx.AbstractSolver | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: bool = False,
    throw: bool = False,
    drive=None,
) -> EvolveResult:
    """Integrate the mean-field equations from `t0` to `t_max` (units ħ/E_g).

    **Arguments:**

    - `params`: an `InterbandParams`.
    - `t_max`: final time (ħ/E_g), larger than `t0`.
    - `y0`: initial state (mirror symmetric); default `initial_state(params)` (the
      paper's, seed 1e-20(1+i)).
    - `t0`: initial time (ħ/E_g). Default 0.
    - `saveat`: number of equally spaced save times in [t0, t_max] (default 401), or an
      increasing array of times in [t0, t_max] (t_max is appended if it is not the last).
    - `solver`: a diffrax solver; default `default_solver()` (Dopri8).
    - `rtol`, `atol`: tolerances (default 1e-6, 1e-9, the paper's accuracy). The pairing
      amplitude is integrated in log-scaled variables, so its growth from the 1e-20 seed is
      controlled relatively, independent of `atol`.
    - `max_steps`: step budget (static); exceeding it gives `result =
      RESULTS.max_steps_reached` (no exception unless `throw`).
    - `progress`: show a tqdm progress bar.
    - `throw`: raise `outcomes.SolveError` with the outcome's message if the solver did not
      reach t_max (default False; under `jit` an `equinox` runtime error, `outcomes`).
    - `drive`: a time-dependent Rabi frequency Ω(t) (E_g) replacing `params.Omega` — a pulse
      from `pulses` (`GaussianPulse`, `FlatTopPulse`, `ConstantDrive`, ...) or any
      JAX-traceable callable t ↦ Ω(t) (wrapped in a `FunctionDrive`). The solver steps
      exactly to the pulse's `edges()`, so a short pulse is not stepped over. Default None:
      the constant `params.Omega` of the paper.

    `t0`, `t_max`, `rtol`, `atol`, the float fields of `params` and of a pulse are traced:
    changing them does not recompile (`max_steps`, `solver`, the number of save times and
    the type of the drive do). `jax.vmap` over a batch of pulses works.

    **Returns:** an `EvolveResult` (`ts`, `delta`, `n_exc`, `state`, `stats`, `result`,
    `success`, `drive`).

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
        ts = jnp.linspace(t0, t_max, int(saveat)) if saveat > 1 else jnp.asarray([t_max], float)
    else:
        ts = np.asarray(saveat, dtype=float).reshape(-1)
        if ts.size == 0 or np.any(np.diff(ts) <= 0) or ts[0] < t0 or ts[-1] > t_max:
            raise ValueError(
                f"saveat must be increasing times within [t0, t_max] = [{t0}, {t_max}]; got {ts}."
            )
        if ts[-1] < t_max:  # the last entry is always t_max
            ts = np.append(ts, float(t_max))
        ts = jnp.asarray(ts)
    if not float(t_max) > float(t0):
        raise ValueError(f"t_max={t_max} must be larger than t0={t0}.")
    solver = default_solver() if solver is None else solver
    ts_out, delta, n_exc, state, stats, result = _evolve(
        params,
        y0,
        *map(as_float, (t0, t_max)),
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
        result=result,
        params=params,
        drive=drive,
    )
    return raise_if_failed(out, result, throw)
