"""The entry points for stationary states of the driven model: `steady_state` at one
parameter point and `continuation` along a line of points.

Both take a method object (`methods.Evolve`: time evolution with the stationarity
detector, engine in `steady`; `methods.Newton`: Newton's method in the frame co-rotating
with Δ, engine in `corotating`) and dispatch on its type. The engines are pure (jit/vmap
safe, never raise); this module adds what needs concrete values: `Newton.fallback` and
`throw`. It imports both engines and neither imports it (data flows one way).

`continuation` visits a scan θ_0, θ_1, … of one `InterbandParams` field. With `Newton`,
the paired branch is followed by the phase-map rows' engine (`branch.BranchWalk`): each
point from a *secant predictor* — the linear extrapolation of the two previous solutions
(the Newton unknowns, in the gauge Δ real) — by the chord iteration with the LU factors of
a Jacobian from an *earlier* point (`corotating.chord_solve`), the LU refreshed when the
chord iteration slows down or fails, and the step halved where the corrector still fails
or |Δ| more than doubles or halves: no time evolution, no Jacobian and no factorisation per
point. The first point, a point after an unpaired one (below threshold, Δ_ss = 0) and any
point the walk cannot reach are solved by `steady_state` with the whole `Newton` method
(warm start, Newton, its fallback), so the scan may cross the phase boundary in either
direction; the root at each point is the one `steady_state(p, Newton())` finds. With
`Evolve` each point is evolved from the previous point's paired steady state.

Units: E_g = ħ = 1.
"""

from __future__ import annotations

import typing

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .branch import BranchWalk
from .corotating import electron_number, from_unknowns, newton_steady_state, root_result, unknowns_of
from .methods import DEFAULT_STEADY_TOL, AbstractSteadyStateMethod, Evolve, Newton
from .outcomes import raise_if_failed
from .params import _FIELDS, InterbandParams
from .pulses import AbstractDrive, as_drive
from .state import InterbandState
from .steady import SteadyState, evolve_steady_state


def _method_error(fn: str, method) -> TypeError:
    return TypeError(
        f"{fn}(method={method!r}): pass a method object, Evolve(...) (time evolution) or "
        "Newton(...) (Newton in the co-rotating frame), e.g. "
        f"{fn}(params, {'Newton()' if fn == 'steady_state' else '..., method=Evolve()'})."
    )


def _by_evolution(params, method: Evolve, y0, progress, drive) -> SteadyState:
    drive = None if drive is None else as_drive(drive)
    return evolve_steady_state(params, method, y0=y0, progress=progress, drive=drive)


def _by_newton(params, method: Newton, y0, progress, drive) -> SteadyState:
    if drive is not None:
        raise ValueError(
            "steady_state(drive=..., method=Newton(...)): a time-dependent drive needs "
            "method=Evolve(...) (Newton solves the stationary equations of a constant Ω; for "
            "that set params.Omega)."
        )
    out = newton_steady_state(params, method, y0)
    ok = out.success
    if method.fallback is None or isinstance(ok, jax.core.Tracer) or bool(ok):
        return out
    ev = evolve_steady_state(params, method.fallback, y0=y0, progress=progress)
    stats = dict(ev.stats, **{k: v for k, v in out.stats.items() if k != "fallback"})
    return eqx.tree_at(lambda s: s.stats, ev, dict(stats, fallback=jnp.asarray(True)))


_ENGINES = {Evolve: _by_evolution, Newton: _by_newton}


# The entry points check `method` themselves (a one-line TypeError that names the fix), so
# the tests' runtime type checks (tests/conftest.py) leave them alone.
@typing.no_type_check
def steady_state(
    params: InterbandParams,
    method: AbstractSteadyStateMethod | None = None,
    *,
    y0: InterbandState | None = None,
    throw: bool = False,
    progress: bool = False,
    drive: AbstractDrive | None = None,
) -> SteadyState:
    """Steady state of the driven model (stationary in the frame co-rotating with Δ,
    docs/model-interband.md, "Steady state and the rotating phase"; mean-field equations with
    the self-consistency Eq. B3).

    **Arguments:**

    - `params`: an `InterbandParams`; any float field may be traced (`jit`, `vmap`, and for
      `Newton` `grad` by implicit differentiation).
    - `method`: `Evolve(...)` — time evolution from `y0` until the stationarity detector
      fires (`steady` module docstring) or `t_max` — or `Newton(...)` — Newton's method in
      the co-rotating frame from a short warm-start evolution, with `Newton.fallback` (an
      evolution) where it fails or finds no paired state (below threshold), where values
      are concrete (`corotating`; faster to tight tolerances, differentiable). Default
      `Evolve()`.
    - `y0`: initial state (mirror symmetric; default the paper's, `initial_state(params)`).
      For `Newton`, a paired `y0` (rms|s| > 10⁻³, e.g. a neighbouring steady state) is
      Newton's starting point, without warm start.
    - `throw`: raise `outcomes.SolveError` with the outcome's message if the solve did not
      succeed. Default False (batch use: check `result` / `success`).
    - `progress`: tqdm progress bar of the evolution.
    - `drive`: a time-dependent Ω(t) replacing `params.Omega` (`pulses`; `evolve`'s
      `drive=`), only with `Evolve`. The detector is armed from the drive's `t_end` on, so
      the state found is the one the system settles in after the pump. Default None.

    Float knobs (every float field of `params` and of the method) are traced: changing them
    reuses the compiled solver. With `throw=False` and `progress=False` the call is
    traceable: `jax.jit` / `jax.vmap` over `params` (or over the method's floats) work
    (with `Newton`, no fallback then: check `result`).

    **Returns:** a `SteadyState`: `delta_abs` = |Δ| (E_g; 0 in the normal state), `mu` (Δ(t)
    ≈ |Δ|e^{iμt}, E_g/ħ), `state`, `t` (ħ/E_g), `residual` (`Stationarity`), `stats`
    (`Evolve`: diffrax's, e.g. `num_steps`), `result` (`outcomes.RESULTS`: `successful`,
    `t_max_reached`, `oscillating`, `max_steps_reached`, `solver_failed`; for `Newton`
    also `newton_failed`, `not_paired`, `unphysical_root`) and `success`.

    Example: `ss = steady_state(InterbandParams(Omega=0.25, V=5), Newton());
    ss.delta_abs, ss.mu` → 0.0190488, ≈ −0.35 (Fig. 3 point).
    """
    method = Evolve() if method is None else method
    try:
        engine = _ENGINES[type(method)]
    except (KeyError, TypeError):
        raise _method_error("steady_state", method) from None
    out = engine(params, method, y0, progress, drive)
    return raise_if_failed(out, out.result, throw)


@typing.no_type_check
def continuation(
    params: InterbandParams,
    name: str,
    values: Float[Array, " n"],
    *,
    method: AbstractSteadyStateMethod | None = None,
    throw: bool = False,
    progress: bool = False,
) -> SteadyState:
    """Steady states at `params` with field `name` set to each of `values`, in order
    (module docstring).

    **Arguments:**

    - `params`: the other parameters (any `InterbandParams`).
    - `name`: the field to scan (`"V"`, `"Omega"`, `"gamma_ph"`, `"gamma_rr"`, `"v"`, `"T"`,
      `"A1"`, `"A2"`, `"detuning"`).
    - `values`: the scan values, in the order to visit them (a monotonic, reasonably fine
      scan converges fastest; steps of a few per cent of the value are typical). Start far
      from threshold, where the one cold solve is cheapest (pairing sets in fast).
    - `method`: `Newton(...)` (default: secant predictor and chord corrector; its `tol` is
      the chord tolerance, cold points use the whole method including its `fallback`), or
      `Evolve(...)` (each point evolved from the previous point's paired steady state; the
      first, and those after a normal one, from the paper's initial state).
    - `throw`: raise `outcomes.SolveError` for the first point that did not succeed (its
      index and value in the message), after the scan. Default False.
    - `progress`: a tqdm bar over the points.

    **Returns:** one `SteadyState` whose leaves carry a leading axis of length `len(values)`
    (`delta_abs`, `mu`, `state`, `result` per point, `success`; `stats` = `newton_steps`
    (chord iterations at continued points), `warm_steps` (0 at continued points),
    `max_residual`, `fallback` (with `Evolve`: the evolution's stats); `params` with the
    scanned field batched). Below threshold `delta_abs` is 0 (found by the fallback to time
    evolution, flagged in `stats["fallback"]`).

    Example: `r = continuation(InterbandParams(), "V", jnp.linspace(8, 2.5, 23)); r.delta_abs`
    (timings: benchmarks/RESULTS.md).
    """
    method = Newton() if method is None else method
    if type(method) not in _ENGINES:
        raise _method_error("continuation", method)
    if name not in _FIELDS:
        raise ValueError(
            f"name={name!r} is not a scannable InterbandParams field; use one of "
            f"{list(_FIELDS)} (k_max and dk fix the grid and cannot be continued)."
        )
    vals = np.asarray(values, dtype=float).reshape(-1)
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise ValueError(f"values must be a non-empty array of finite numbers, got {values}.")
    it = range(vals.size)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"continuation in {name}", unit="pt")
    points = [eqx.tree_at(lambda q: getattr(q, name), params, jnp.asarray(v)) for v in vals]
    scan = _scan_by_evolution if isinstance(method, Evolve) else _scan_by_newton
    args = (points, vals, method, it) + ((name,) if scan is _scan_by_newton else ())
    out = jax.tree.map(lambda *xs: jnp.stack(xs), *scan(*args))
    return raise_if_failed(
        out, out.result, throw, where=lambda i: f"continuation point {name} = {vals[i]:g} (index {i})"
    )


def _scan_by_evolution(points, vals, method: Evolve, it):
    out, y0 = [], None
    for i in it:
        r = evolve_steady_state(points[i], method, y0=y0)
        # continue from a paired state only: a normal one may carry s ≡ 0 exactly, which
        # stays normal even where it is unstable
        paired = bool(r.success) and float(r.delta_abs) > 0
        y0 = r.state if paired else None
        out.append(r)
    return out


def _scan_by_newton(points, vals, method: Newton, it, name):
    """Continued points by `branch.BranchWalk` (the phase-map rows' engine: secant
    predictor, chord corrector with a reused LU, step halving), each returned as the
    `SteadyState` of its root; the first point, a point after an unpaired one and a point
    the walk cannot reach are solved by `steady_state` with the whole method (warm start,
    Newton, its fallback), and the walk resumes from there."""
    n_e = electron_number(points[0])
    floats = (method.tol, method.delta_floor, 1.0, DEFAULT_STEADY_TOL)  # max_jump 1: |Δ| may halve or double
    engine = BranchWalk(points[0], name, n_e, *map(jnp.asarray, floats))
    out, w = [], None  # w: the walk's state while on a paired branch
    for i in it:
        p, r = points[i], None
        if w is not None:
            w_new, point = _walk_step(engine, w, jnp.asarray(vals[i]))
            if bool(point.alive):
                w, r = w_new, _continued(p, w_new.x1, n_e, point, method)
        if r is None:  # first point, after a gap, or the walk did not reach it
            r = steady_state(p, method, y0=None if w is None else from_unknowns(w.x1))
            if w is not None and not bool(r.success):  # the last root was too far
                r = steady_state(p, method)
            w = engine.resume(unknowns_of(r), jnp.asarray(vals[i]), r.delta_abs) if _paired(r) else None
        out.append(_uniform(r))
    return out


@eqx.filter_jit
def _walk_step(engine: BranchWalk, w, value):
    return engine.step(w, value)


@eqx.filter_jit
def _continued(params, x, n_e, point, method: Newton) -> SteadyState:
    """The `SteadyState` of a continued root `x` (`stats["newton_steps"]`: the walk's chord
    iterations to reach it)."""
    ok = jnp.asarray(True)
    no_warm = (jnp.asarray(0.0), jnp.asarray(0))
    return root_result(params, x, n_e, ok, ok, point.chord, *no_warm, DEFAULT_STEADY_TOL, method.delta_floor)


def _paired(r: SteadyState) -> bool:
    return bool(r.success) and not bool(r.stats["fallback"]) and float(r.delta_abs) > 0


_STATS = ("newton_steps", "warm_steps", "max_residual", "fallback")


def _uniform(r: SteadyState) -> SteadyState:
    """Same pytree structure for every point (a fallback result carries the evolution's
    stats): the Newton engine's stats, with uniform dtypes."""
    stats = {k: jnp.asarray(r.stats[k]) for k in _STATS}
    stats["newton_steps"] = stats["newton_steps"].astype(jnp.int32)
    stats["warm_steps"] = stats["warm_steps"].astype(jnp.int32)
    return eqx.tree_at(lambda s: s.stats, r, stats)
