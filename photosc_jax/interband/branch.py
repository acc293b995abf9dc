"""The paired branch along a phase-map row by natural-parameter continuation with step
control (`phase_map`, item 2): `walk_branch` follows the paired steady state from a cold
solve at the row's first point along the row; `branch_end` says where it ended.

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

import equinox as eqx
import jax
import jax.numpy as jnp

from .._roots import batch_cond
from .corotating import (
    CHORD_STEPS,
    NEWTON_BEFORE_CHORD,
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

REFACTOR_AFTER = CHORD_STEPS // 2  # chord iterations beyond which the LU is refreshed
END_REFINE = 6  # halvings of a grid step before the branch is declared ended
COLD_TRIES = NEWTON_BEFORE_CHORD + 6  # cold-mode corrector tries: 2 Newton steps, then chord solves
RETRY_T = 6000.0  # evolution time (ħ/E_g) before a second cold solve, if the first fails


def with_field(params: InterbandParams, along: str, value) -> InterbandParams:
    """`params` with its field `along` set to `value` (a point of the row)."""
    return eqx.tree_at(lambda p: getattr(p, along), params, value)


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

    Returns (per-point records, branch end, the cold solve's outcome (a `RESULTS` item),
    (unknowns at the first point, unknowns at the last grid point reached, its `along`
    value, points on the branch), warm-start ODE steps). The records carry, per grid step
    in visit order, `calls` (corrector solves) and `chord` (chord iterations in them): the
    walk's work, for the lockstep measurements (`phase_map.RowWork`)."""
    p0 = with_field(base, along, theta_ordered[0])
    n_e = electron_number(p0)
    y_init = initial_state(p0)
    warm = Newton().warm
    steady_tol = jnp.asarray(DEFAULT_STEADY_TOL)
    n_x = 6 * half_grid(y_init.n11).shape[0] + 1
    # the structure of `factor_jacobian`'s output (lu_factor's (matrix, pivots)), for the
    # loop carry's placeholder before the first factorisation
    lu_shape = jax.eval_shape(jax.scipy.linalg.lu_factor, jax.ShapeDtypeStruct((n_x, n_x), float))
    f0 = jnp.zeros((), float)
    blank = dict(delta=f0, mu=f0, n_exc=f0, residual=f0, alive=jnp.asarray(False))  # loop-carry placeholder

    def record(ss, alive):
        n_exc = jnp.sum(ss.state.n22) / p0.n_k  # full grid
        nan = jnp.nan
        return dict(
            delta=jnp.where(alive, ss.delta_abs, nan),
            mu=jnp.where(alive, ss.mu, nan),
            n_exc=jnp.where(alive, n_exc, nan),
            residual=jnp.where(alive, ss.stats["max_residual"], nan),
            alive=alive,
        )

    def attempt(w, t_try):
        """One corrector solve at `t_try` from the secant predictor, with the current LU
        (first refreshed if it is `stale`) and, if that fails and it is not fresh, with the
        LU of the Jacobian at the last accepted point (good for any short step; one refresh
        per accepted point). In cold mode (`w["cold"]`, the row's first point, from the
        warm start) the LU is refreshed at the current iterate before every try: the first
        NEWTON_BEFORE_CHORD tries are single (Newton) steps, then up to COLD_TRIES chord
        solves. The only factorisation and chord call sites of the row program.
        Returns (accepted, record of the root, x, lu, refreshed, LU stale at the root)."""
        cold = w["cold"]
        p = with_field(base, along, t_try)
        frac = jnp.where(
            w["have2"], (t_try - w["t1"]) / jnp.where(w["t1"] == w["t2"], 1.0, w["t1"] - w["t2"]), 0.0
        )
        frac = jnp.where(jnp.abs(frac) <= 4.0, frac, 0.0)  # no secant over a tiny last step
        x_pred = w["x1"] + frac * (w["x1"] - w["x2"])

        def body(c):
            tries, _, x, lu, fresh, _, _, total = c
            refresh = (tries > 0) | w["stale"] | cold
            # the Jacobian at the last accepted point t₁ and its root x₁; in cold mode at the
            # current iterate (t_try = t₁ there: the row's first point)
            x_lu = jnp.where(cold, x, w["x1"])
            lu = batch_cond(
                refresh, lambda: factor_jacobian(with_field(base, along, w["t1"]), x_lu, n_e), lambda: lu
            )
            n_iter = jnp.where(cold & (tries < NEWTON_BEFORE_CHORD), 1, CHORD_STEPS)
            ss, x = chord_solve(p, jnp.where(cold, x, x_pred), n_e, lu, tol, n_iter, steady_tol, delta_floor)
            steps = ss.stats["newton_steps"]
            return (tries + 1, ss.success, x, lu, fresh | refresh, record(ss, True), steps, total + steps)

        def again(c):
            tries, converged, x, _, fresh, *_ = c
            more = ~converged & (tries < COLD_TRIES) & jnp.all(jnp.isfinite(x))
            return jnp.where(cold, more, (tries == 0) | (~converged & ~fresh & (tries < 2)))

        tries, converged, x, lu, fresh, rec, iters, total = jax.lax.while_loop(
            again, body, (0, jnp.asarray(False), x_pred, w["lu"], w["fresh"], blank, 0, 0)
        )
        ok = converged & (cold | (jnp.abs(rec["delta"] - w["d1"]) <= max_jump * w["d1"]))
        # slow chord: refresh the LU at the new point (done by the next attempt, if any)
        return ok, rec, x, lu, fresh, iters > REFACTOR_AFTER, (tries, total)

    def step(w, th):
        def walk(w):
            def cond(c):
                w, h, fails, reached, *_ = c
                return w["alive"] & ~reached & (fails <= END_REFINE)

            def body(c):
                w, h, fails, reached, rec, work = c
                t_try = jnp.where(jnp.abs(th - w["t1"]) <= jnp.abs(h) * (1 + 1e-9), th, w["t1"] + h)
                ok, rec_new, x, lu, fresh, slow, (tries, chord) = attempt(w, t_try)
                work = (work[0] + tries, work[1] + chord)
                cold = w["cold"]
                moved = dict(
                    x1=x,
                    x2=jnp.where(cold, x, w["x1"]),  # no secant from the warm start
                    t1=t_try,
                    t2=w["t1"],
                    d1=rec_new["delta"],
                    d2=jnp.where(cold, rec_new["delta"], w["d1"]),
                    lu=lu,
                    have2=~cold,
                    alive=w["alive"],
                    fresh=jnp.asarray(False),
                    stale=slow,
                    cold=jnp.asarray(False),
                    xf=jnp.where(cold, x, w["xf"]),
                    xg=w["xg"],
                    tg=w["tg"],
                    hf=w["hf"],
                )
                stayed = dict(w, lu=lu, fresh=fresh, stale=jnp.asarray(False), hf=t_try - w["t1"])
                w = jax.tree.map(lambda a, b: jnp.where(ok, a, b), moved, stayed)
                rec = jax.tree.map(lambda a, b: jnp.where(ok, a, b), rec_new, rec)
                # a failed cold solve ends the try (no step to halve)
                fails = jnp.where(cold & ~ok, END_REFINE + 1, fails + (~ok).astype(jnp.int32))
                return (w, jnp.where(ok, h, h / 2), fails, ok & (t_try == th), rec, work)

            zero = jnp.asarray(0, jnp.int32)
            init = (w, th - w["t1"], zero, jnp.asarray(False), blank, (zero, zero))
            w, _, _, reached, rec, work = jax.lax.while_loop(cond, body, init)
            xg = jnp.where(reached, w["x1"], w["xg"])  # the state at the last grid point reached
            return dict(w, alive=reached, xg=xg, tg=jnp.where(reached, th, w["tg"])), (rec, work)

        idle = jnp.asarray(0, jnp.int32)
        w, (rec, (calls, chord)) = batch_cond(w["alive"], walk, lambda w: (w, (blank, (idle, idle))), w)
        nan = jnp.nan
        return w, dict(
            {k: jnp.where(w["alive"], v, nan) for k, v in rec.items() if k != "alive"},
            alive=w["alive"],
            calls=calls,
            chord=chord,
        )

    t0 = theta_ordered[0]

    def start(x0, alive):
        lu0 = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), lu_shape)  # factored in the first attempt
        return dict(
            x1=x0, x2=x0, t1=t0, t2=t0, d1=f0, d2=f0, lu=lu0, have2=jnp.asarray(False), alive=alive,
            fresh=jnp.asarray(False), stale=jnp.asarray(True), cold=jnp.asarray(True), xf=x0, xg=x0,
            tg=t0, hf=jnp.zeros_like(t0),
        )  # fmt: skip

    def row(c):
        """One try: the warm start (the first maximum of |s|, after t = RETRY_T on the
        second try) and the walk over the whole row, its first point cold."""
        k, warm_steps = c[0], c[4]
        x0, _, _, steps, paired = jax.lax.stop_gradient(
            warm_start(jax.lax.stop_gradient(p0), y_init, warm, True, t_min=jnp.where(k == 0, 0.0, RETRY_T))
        )
        last, out = jax.lax.scan(step, start(x0, paired), theta_ordered)
        return k + 1, paired, last, out, warm_steps + steps.astype(jnp.int32)

    n = theta_ordered.shape[0]
    x_blank = jnp.zeros(n_x, float)
    idle = jnp.zeros(n, jnp.int32)
    out0 = dict(jax.tree.map(lambda v: jnp.broadcast_to(v, (n,)), blank), calls=idle, chord=idle)
    init = (0, jnp.asarray(False), start(x_blank, jnp.asarray(False)), out0, jnp.asarray(0, jnp.int32))
    _, paired, last, out, warm_steps = jax.lax.while_loop(lambda c: (c[0] < 2) & ~c[3]["alive"][0], row, init)
    alive0 = out["alive"][0]
    cold_result = RESULTS.where(
        alive0, RESULTS.successful, RESULTS.where(paired, RESULTS.newton_failed, RESULTS.not_paired)
    )
    return (
        out,
        jnp.where(alive0, branch_end(last, max_jump), jnp.nan),
        cold_result,
        (last["xf"], last["xg"], last["tg"], jnp.sum(out["alive"])),
        warm_steps,
    )


def branch_end(w, max_jump) -> jax.Array:
    """Where the walk `w` (its final state) ended: the last accepted value t₁, or, if the
    walk stopped while |Δ| was falling, the root of |Δ|² extrapolated linearly from the last
    two accepted points (a branch closing with |Δ|² ∝ distance D to its end; `walk_branch`) if
    it lies where the last failed step `hf` puts it. On such a branch a step h keeps
    |Δ| within `max_jump` iff h ≤ D(1 − (1 − max_jump)²), so a step that failed by the jump
    test puts the end within hf/(1 − (1 − max_jump)²); farther (a fold, where |Δ| stays
    finite), t₁ is the end."""
    d1, d2 = w["d1"] ** 2, w["d2"] ** 2
    falling = ~w["alive"] & w["have2"] & (d1 < d2) & (w["hf"] != 0)
    dt = d1 * (w["t1"] - w["t2"]) / jnp.where(falling, d2 - d1, 1.0)
    frac = dt / jnp.where(falling, w["hf"], 1.0)
    reach = 1.0 / (1.0 - (1.0 - max_jump) ** 2)
    return jnp.where(falling & (frac >= 0) & (frac <= reach * (1 + 1e-6)), w["t1"] + dt, w["t1"])
