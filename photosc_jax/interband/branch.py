"""The paired branch along a line of parameter values by natural-parameter continuation
with step control: the engine `BranchWalk` (`init` / `resume` / `step` / `terminate` on a
`BranchState`, in the shape of an optimistix solver), shared by the phase-map rows
(`walk_branch`: from a cold solve at the row's first point; `phase_map`, item 2) and by
`stationary.continuation` (from a solved root); `branch_end` says where a walk ended.

The corrector is the chord iteration on the stationary equations in the frame co-rotating
with Δ (`corotating.chord_solve`: the mean-field equations with Eq. B3) with the LU of an
earlier Jacobian; the predictor is the secant through the last two accepted points. The
branch *ends* where the corrector fails or its root leaves the branch — |Δ| below
`delta_floor` (the normal root) or |Δ| moved by more than `max_jump` of its value in one
step (a fold, or another solution). Pure JAX (`jit`/`vmap`-safe), with one factorisation and
one chord call site per program.

Units: E_g = ħ = 1 (|Δ| in E_g, μ in E_g/ħ).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from .._roots import batch_cond
from .corotating import (
    CHORD_STEPS,
    NEWTON_BEFORE_CHORD,
    REFACTOR_AFTER,
    chord_solve,
    electron_number,
    factor_jacobian,
    warm_start,
)
from .methods import DEFAULT_STEADY_TOL, Newton
from .outcomes import RESULTS
from .params import InterbandParams
from .solver_state import half_grid
from .state import initial_state

END_REFINE = 6  # halvings of a grid step before the branch is declared ended
COLD_TRIES = NEWTON_BEFORE_CHORD + 6  # cold-mode corrector tries: 2 Newton steps, then chord solves
RETRY_T = 6000.0  # evolution time (ħ/E_g) before a second cold solve, if the first fails


def with_field(params: InterbandParams, along: str, value) -> InterbandParams:
    """`params` with its field `along` set to `value` (a point of the row)."""
    return eqx.tree_at(lambda p: getattr(p, along), params, value)


class BranchPoint(eqx.Module):
    """One grid point of the walk (arrays of these over a row, in visit order): `delta`
    (|Δ|, E_g), `mu` (E_g/ħ), `n_exc` (Σ_k n22_k / N), `residual` (max-norm, E_g/ħ) of the
    root (NaN off the branch), `alive` (the point is on the branch), and the work the walk
    spent reaching it: `calls` (corrector solves) and `chord` (chord iterations in them)."""

    delta: Float[Array, ""]
    mu: Float[Array, ""]
    n_exc: Float[Array, ""]
    residual: Float[Array, ""]
    alive: Bool[Array, ""]
    calls: Int[Array, ""]
    chord: Int[Array, ""]


class BranchState(eqx.Module):
    """The walk's loop state: the last two accepted points (`t1`, `t2` their `along`
    values, `x1`, `x2` their unknowns, `d1`, `d2` their |Δ|; `have2`: the second is a real
    point, not the warm start), the corrector's LU factors `lu` and whether they were
    `fresh`ly refreshed at t₁ or are `stale` (a slow chord at the last root), `alive` (on
    the branch), `cold` (the first point, not solved yet), `xf` (unknowns at the first
    point), `xg`, `tg` (unknowns and `along` value at the last grid point reached) and `hf`
    (the last failed step, for `branch_end`)."""

    x1: Float[Array, " n"]
    x2: Float[Array, " n"]
    t1: Float[Array, ""]
    t2: Float[Array, ""]
    d1: Float[Array, ""]
    d2: Float[Array, ""]
    lu: tuple
    have2: Bool[Array, ""]
    alive: Bool[Array, ""]
    fresh: Bool[Array, ""]
    stale: Bool[Array, ""]
    cold: Bool[Array, ""]
    xf: Float[Array, " n"]
    xg: Float[Array, " n"]
    tg: Float[Array, ""]
    hf: Float[Array, ""]


class BranchWalk(eqx.Module):
    """Natural-parameter continuation of the paired branch along the field `along` of
    `base` with step control (`walk_branch`), as an optimistix-style solver: `init` (the
    state before the first point, from a warm start), `step` (to the next grid value;
    returns the new state and that point's `BranchPoint`) and `terminate` (the branch has
    ended). `tol`, `delta_floor`, `max_jump` as in `methods.Continuation`; `n_e` the
    electron number of the constraint; `steady_tol` as in `corotating.root_result`."""

    base: InterbandParams
    along: str = eqx.field(static=True)
    n_e: Float[Array, ""]
    tol: Float[Array, ""]
    delta_floor: Float[Array, ""]
    max_jump: Float[Array, ""]
    steady_tol: Float[Array, ""]

    def init(self, x0: Float[Array, " n"], t0: Float[Array, ""], paired: Bool[Array, ""]) -> BranchState:
        """The state before the first point `t0`, from the warm start's unknowns `x0`
        (`paired`: the warm start paired; otherwise nothing is walked). The LU is factored
        by the first corrector solve."""
        n_x = x0.shape[0]
        lu_shape = jax.eval_shape(jax.scipy.linalg.lu_factor, jax.ShapeDtypeStruct((n_x, n_x), float))
        lu0 = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), lu_shape)
        f0, no = jnp.zeros((), float), jnp.asarray(False)
        return BranchState(
            x1=x0, x2=x0, t1=t0, t2=t0, d1=f0, d2=f0, lu=lu0, have2=no, alive=paired, fresh=no,
            stale=jnp.asarray(True), cold=jnp.asarray(True), xf=x0, xg=x0, tg=t0, hf=jnp.zeros_like(t0),
        )  # fmt: skip

    def resume(self, x: Float[Array, " n"], t: Float[Array, ""], delta: Float[Array, ""]) -> BranchState:
        """The state at an already solved root: unknowns `x` at the `along` value `t`, with
        |Δ| = `delta` (no cold solve; the LU is factored at `x` by the next step)."""
        w = self.init(x, t, jnp.asarray(True))
        return dataclasses.replace(w, d1=delta, d2=delta, cold=jnp.asarray(False))

    def terminate(self, w: BranchState) -> Bool[Array, ""]:
        """The walk is over: the branch has ended (or was never reached)."""
        return ~w.alive

    def _point(self, ss, calls=0, chord=0) -> BranchPoint:
        """The `BranchPoint` of a corrector root `ss` (a `SteadyState`)."""
        return BranchPoint(
            delta=ss.delta_abs,
            mu=ss.mu,
            n_exc=jnp.sum(ss.state.n22) / self.base.n_k,  # full grid
            residual=ss.stats["max_residual"],
            alive=jnp.asarray(True),
            calls=jnp.asarray(calls, jnp.int32),
            chord=jnp.asarray(chord, jnp.int32),
        )

    def _blank(self) -> BranchPoint:
        f0, i0 = jnp.zeros((), float), jnp.zeros((), jnp.int32)
        return BranchPoint(f0, f0, f0, f0, jnp.asarray(False), i0, i0)

    def attempt(self, w: BranchState, t_try):
        """One corrector solve at `t_try` from the secant predictor, with the current LU
        (first refreshed if it is `stale`) and, if that fails and it is not fresh, with the
        LU of the Jacobian at the last accepted point (good for any short step; one refresh
        per accepted point). In cold mode (`w.cold`, the row's first point, from the warm
        start) the LU is refreshed at the current iterate before every try: the first
        NEWTON_BEFORE_CHORD tries are single (Newton) steps, then up to COLD_TRIES chord
        solves. The only factorisation and chord call sites of the row program.
        Returns (accepted, point of the root, x, lu, refreshed, LU stale at the root,
        (solves, chord iterations))."""
        base, along, n_e = self.base, self.along, self.n_e
        cold = w.cold
        p = with_field(base, along, t_try)
        frac = jnp.where(w.have2, (t_try - w.t1) / jnp.where(w.t1 == w.t2, 1.0, w.t1 - w.t2), 0.0)
        frac = jnp.where(jnp.abs(frac) <= 4.0, frac, 0.0)  # no secant over a tiny last step
        x_pred = w.x1 + frac * (w.x1 - w.x2)

        def body(c):
            tries, _, x, lu, fresh, _, _, total = c
            refresh = (tries > 0) | w.stale | cold
            # the Jacobian at the last accepted point t₁ and its root x₁; in cold mode at the
            # current iterate (t_try = t₁ there: the row's first point)
            x_lu = jnp.where(cold, x, w.x1)
            lu = batch_cond(
                refresh, lambda: factor_jacobian(with_field(base, along, w.t1), x_lu, n_e), lambda: lu
            )
            n_iter = jnp.where(cold & (tries < NEWTON_BEFORE_CHORD), 1, CHORD_STEPS)
            ss, x = chord_solve(
                p, jnp.where(cold, x, x_pred), n_e, lu, self.tol, n_iter, self.steady_tol, self.delta_floor
            )
            steps = ss.stats["newton_steps"]
            return (tries + 1, ss.success, x, lu, fresh | refresh, self._point(ss), steps, total + steps)

        def again(c):
            tries, converged, x, _, fresh, *_ = c
            more = ~converged & (tries < COLD_TRIES) & jnp.all(jnp.isfinite(x))
            return jnp.where(cold, more, (tries == 0) | (~converged & ~fresh & (tries < 2)))

        init = (0, jnp.asarray(False), x_pred, w.lu, w.fresh, self._blank(), 0, 0)
        tries, converged, x, lu, fresh, point, iters, total = jax.lax.while_loop(again, body, init)
        ok = converged & (cold | (jnp.abs(point.delta - w.d1) <= self.max_jump * w.d1))
        # slow chord: refresh the LU at the new point (done by the next attempt, if any)
        return ok, point, x, lu, fresh, iters > REFACTOR_AFTER, (tries, total)

    def step(self, w: BranchState, th) -> tuple[BranchState, BranchPoint]:
        """From the state `w` to the grid value `th` (module docstring, `walk_branch`): the
        new state and the point's `BranchPoint` (NaN and not alive off the branch)."""

        def walk(w):
            def cond(c):
                w, h, fails, reached, *_ = c
                return w.alive & ~reached & (fails <= END_REFINE)

            def body(c):
                w, h, fails, reached, point, work = c
                t_try = jnp.where(jnp.abs(th - w.t1) <= jnp.abs(h) * (1 + 1e-9), th, w.t1 + h)
                ok, new, x, lu, fresh, slow, (tries, chord) = self.attempt(w, t_try)
                work = (work[0] + tries, work[1] + chord)
                cold, no = w.cold, jnp.asarray(False)
                moved = BranchState(
                    x1=x,
                    x2=jnp.where(cold, x, w.x1),  # no secant from the warm start
                    t1=t_try,
                    t2=w.t1,
                    d1=new.delta,
                    d2=jnp.where(cold, new.delta, w.d1),
                    lu=lu,
                    have2=~cold,
                    alive=w.alive,
                    fresh=no,
                    stale=slow,
                    cold=no,
                    xf=jnp.where(cold, x, w.xf),
                    xg=w.xg,
                    tg=w.tg,
                    hf=w.hf,
                )
                stayed = dataclasses.replace(w, lu=lu, fresh=fresh, stale=no, hf=t_try - w.t1)
                w = jax.tree.map(lambda a, b: jnp.where(ok, a, b), moved, stayed)
                point = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, point)
                # a failed cold solve ends the try (no step to halve)
                fails = jnp.where(cold & ~ok, END_REFINE + 1, fails + (~ok).astype(jnp.int32))
                return (w, jnp.where(ok, h, h / 2), fails, ok & (t_try == th), point, work)

            zero = jnp.asarray(0, jnp.int32)
            init = (w, th - w.t1, zero, jnp.asarray(False), self._blank(), (zero, zero))
            w, _, _, reached, point, work = jax.lax.while_loop(cond, body, init)
            xg = jnp.where(reached, w.x1, w.xg)  # the state at the last grid point reached
            w = dataclasses.replace(w, alive=reached, xg=xg, tg=jnp.where(reached, th, w.tg))
            return w, (point, work)

        idle = jnp.asarray(0, jnp.int32)
        w, (point, (calls, chord)) = batch_cond(
            w.alive, walk, lambda w: (w, (self._blank(), (idle, idle))), w
        )
        nan = jnp.nan
        return w, BranchPoint(
            delta=jnp.where(w.alive, point.delta, nan),
            mu=jnp.where(w.alive, point.mu, nan),
            n_exc=jnp.where(w.alive, point.n_exc, nan),
            residual=jnp.where(w.alive, point.residual, nan),
            alive=w.alive,
            calls=calls,
            chord=chord,
        )


def walk_branch(base: InterbandParams, along: str, theta_ordered, tol, delta_floor, max_jump):
    """The paired branch along `theta_ordered` (the row's values of the field `along`, shape
    (n,), in visit order; `base` the other parameters): per point |Δ|, μ, n_exc, residual
    and whether the point is on the branch; and where the branch ends. `tol` (relative
    chord step), `delta_floor` (E_g) and `max_jump` as in `methods.Continuation`.

    The first point is solved cold: a warm-start evolution from the paper's initial state
    to the first maximum of |s| (`corotating.warm_start`), then the walk's own corrector in
    *cold* mode — two Newton steps (a chord step with the LU refreshed at each iterate),
    then chord iterations, the LU refreshed at the last iterate each time they stall (the
    Newton engine's scheme, `corotating.newton_solve`, on the walk's single factorisation
    and chord call sites, so the row program compiles each once). If that
    fails, the whole row is retried once from the first maximum of |s| after t = RETRY_T,
    for when the first maximum fell outside Newton's basin.

    Natural-parameter continuation with step control from there: each grid step is tried
    whole; when the corrector fails (also with a fresh LU, of the Jacobian at the last
    accepted point: one refresh per accepted point) or its root leaves the branch (|Δ|
    changed by more than `max_jump` of its value, or below `delta_floor`), the step is
    halved, up to END_REFINE times, and the walk goes on from the last accepted sub-step
    (secant predictor over the last two accepted points). A grid point is on the branch if
    the walk reaches it; where it stops (a fold, or the end of the branch at |Δ| → 0), the
    last accepted value is the branch end, to 2^-END_REFINE of a grid step; where |Δ| was
    falling there, |Δ|² is extrapolated linearly to 0 from the last two accepted points
    (|Δ|² ∝ distance to the end near a branch that closes) and the root is the end if it
    lies where the last failed step puts it (`branch_end`; its accuracy against more
    halvings: benchmarks/RESULTS.md, "extrapolated branch end").

    The walk is `BranchWalk` (`init` / `step` / `terminate`, in the shape of an optimistix
    solver) scanned over the row.

    Returns (a `BranchPoint` per point in visit order, branch end, the cold solve's outcome
    (a `RESULTS` item), (unknowns at the first point, unknowns at the last grid point
    reached, its `along` value, points on the branch), warm-start ODE steps)."""
    p0 = with_field(base, along, theta_ordered[0])
    y_init = initial_state(p0)
    engine = BranchWalk(
        base, along, electron_number(p0), *map(jnp.asarray, (tol, delta_floor, max_jump, DEFAULT_STEADY_TOL))
    )
    warm = Newton().warm
    n_x = 6 * half_grid(y_init.n11).shape[0] + 1
    t0 = theta_ordered[0]

    def row(c):
        """One try: the warm start (the first maximum of |s|, after t = RETRY_T on the
        second try) and the walk over the whole row, its first point cold."""
        k, warm_steps = c[0], c[4]
        x0, _, _, steps, paired = jax.lax.stop_gradient(
            warm_start(jax.lax.stop_gradient(p0), y_init, warm, True, t_min=jnp.where(k == 0, 0.0, RETRY_T))
        )
        # a closure, not the bound method: scan hashes its function, and the engine holds tracers
        last, out = jax.lax.scan(lambda w, th: engine.step(w, th), engine.init(x0, t0, paired), theta_ordered)
        return k + 1, paired, last, out, warm_steps + steps.astype(jnp.int32)

    n = theta_ordered.shape[0]
    out0 = jax.tree.map(lambda v: jnp.broadcast_to(v, (n,)), engine._blank())
    start = engine.init(jnp.zeros(n_x, float), t0, jnp.asarray(False))
    init = (0, jnp.asarray(False), start, out0, jnp.asarray(0, jnp.int32))
    _, paired, last, out, warm_steps = jax.lax.while_loop(lambda c: (c[0] < 2) & ~c[3].alive[0], row, init)
    alive0 = out.alive[0]
    cold_result = RESULTS.where(
        alive0, RESULTS.successful, RESULTS.where(paired, RESULTS.newton_failed, RESULTS.not_paired)
    )
    return (
        out,
        jnp.where(alive0, branch_end(last, max_jump), jnp.nan),
        cold_result,
        (last.xf, last.xg, last.tg, jnp.sum(out.alive)),
        warm_steps,
    )


def branch_end(w: BranchState, max_jump) -> jax.Array:
    """Where the walk `w` (its final state) ended: the last accepted value t₁, or, if the
    walk stopped while |Δ| was falling, the root of |Δ|² extrapolated linearly from the last
    two accepted points (a branch closing with |Δ|² ∝ distance D to its end; `walk_branch`) if
    it lies where the last failed step `hf` puts it. On such a branch a step h keeps
    |Δ| within `max_jump` iff h ≤ D(1 − (1 − max_jump)²), so a step that failed by the jump
    test puts the end within hf/(1 − (1 − max_jump)²); farther (a fold, where |Δ| stays
    finite), t₁ is the end."""
    d1, d2 = w.d1**2, w.d2**2
    falling = ~w.alive & w.have2 & (d1 < d2) & (w.hf != 0)
    dt = d1 * (w.t1 - w.t2) / jnp.where(falling, d2 - d1, 1.0)
    frac = dt / jnp.where(falling, w.hf, 1.0)
    reach = 1.0 / (1.0 - (1.0 - max_jump) ** 2)
    return jnp.where(falling & (frac >= 0) & (frac <= reach * (1 + 1e-6)), w.t1 + dt, w.t1)
