"""Phase maps without time stepping: one row of the |Δ|(Ω, V) map by linear stability of
the normal state and continuation of the paired branch.

A *row* is a line of grid points along one parameter (`along`, usually V). Per row:

1. **Normal state and its stability.** The normal steady state (Δ = 0,
   `stability.normal_steady_state`) does not depend on V (V only multiplies s in
   Δ* = (V dk/2π) Σ_k s, paper Eq. B3), so along V it is solved once per row and the
   pairing operator L = diag(i(A1 + A2)k² − γ_s) + i(V dk/2π) ñ wᵀ gives the leading growth
   rate g = max Re eig L at every V of the row (`stability` module docstring). The row's
   `threshold` is the smallest root of g(V) in (0, 40), as `critical_V`: Newton on the
   secular equation of L (λ = iω at threshold; `stability.threshold_V`) in the row's
   sub-bracket where g first turns positive, checked by g = 0 there.
   Along any other parameter the normal state is solved at each point and the threshold is
   the linear interpolation of g at its first sign change.
2. **The paired branch.** One cold solve (`direct`'s warm-start evolution, then Newton
   and chord steps in the co-rotating frame on the walk's own corrector) at the row's more
   unstable end (the larger g), then
   natural-parameter continuation toward the other end: a secant predictor and the chord
   corrector with the LU of an earlier point (refreshed when the chord iteration slows,
   and once at the predictor when it fails). The branch *ends* where the corrector fails or
   the root it finds is not on the branch — |Δ| below the floor (the normal root) or |Δ|
   moved by more than `max_jump` of its value in one grid step (a fold, or a jump to
   another solution); the corrector is never allowed to continue silently on another
   branch. `branch_end` reports the last `along` value on the branch.
3. **Stability of the branch.** The paired state's leading growth rate beyond its two
   symmetry zero modes (`paired_stability`) at the branch's first and last grid points;
   `branch_growth` is the larger (unstable above STABILITY_TOL = 10⁻⁹ E_g/ħ). Along the
   walk stability can change only at a fold (where the walk stops) or at a Hopf
   bifurcation, so two stable ends mean a stable branch unless two Hopf crossings lie
   between them. A branch with an unstable
   end is treated as no attractor at all (conservative: where the crossing lies is not
   searched).
4. **The phase of each point** (`PHASES`): normal (g < 0, no stable paired state), paired
   (g > 0 and a stable paired stationary state: what evolution from the paper's initial
   state reaches), bistable (g < 0 and a stable paired state coexists: a seeded evolution
   stays normal, a prepared paired state persists), transient (g > 0, no stable stationary
   paired state, T = 0: the normal steady states form a continuum and the pairing burst
   ends in a stable member of it — at Ω = 0.25 between V_c = 2.1865 and the branch end
   V* ≈ 2.293 evolution bursts to |Δ| ~ 10⁻⁴–10⁻³ and decays, tested), unsettled (the same at
   T > 0, where the normal state is unique: a limit cycle or a slow drift), failed (the
   normal state did not converge, or the row's cold direct solve failed — also after a
   second try from the first maximum of |s| after t = 6000 — so the unstable points have no answer;
   `status` says which).

5. **A quenched paired state** (T = 0, along V, `quench=True`): the branch state at its last grid point
   with its pairs removed (s → 0) relaxes to another member of the normal continuum; its
   threshold is the per-row `quench_threshold`. Bistability in this second sense (a stable
   paired state and a stable normal state its own quench reaches, at the same V) needs
   V < quench threshold of the state quenched at V. At Ω = 0.25 on the paper grid it never
   holds: the state quenched at V = 2.3, 2.32, 2.35, 2.4, 2.6, 3.0 has V_c = 2.2964, 2.3052,
   2.3174, 2.3348, 2.3669, 2.2959, each below its V (pairs regrow; tested at 2.3). A window
   V ∈ [2.293, 2.304] opens only for a state quenched at one V (≈ 2.32) and then held at a
   lower one — a hysteresis protocol, not a fixed-V coexistence. The map's bistable points
   are those whose *relaxed* normal state is stable.

6. **Confirmation by evolution** (opt-in, `confirm=Evolve(t_max=...)`): the transient and
   unsettled phases are inferred (no stable stationary paired state was found); with
   `confirm` each such point is also evolved from the paper's initial state for
   `confirm.t_max` with the steady-state detector, as the evolution sweep does
   (`steady.evolution_outcome`). `confirm_delta_abs` / `confirm_peak` / `confirm_status`
   report |Δ| at the end, the largest |Δ| seen (sampled at 129 times) and the outcome. If
   the evolution ends in a paired fixed point after all (a stationary paired state the
   walk did not reach), the point becomes paired with that |Δ|; any other outcome leaves
   the phase as it is (a decaying burst confirms transient; an undamped swing or a drift
   at the end confirms unsettled). At Ω = 0.25, V = 2.25 (T = 0, paper grid) the burst
   peaks at |Δ| ≈ 8·10⁻⁴ and has decayed by 3·10⁴ at t = 2.4·10⁵, so `t_max` ≳ 2·10⁵ is
   needed to see the decay; at V = 2.2, just above V_c, the burst has not started by then
   (tested): close to threshold no affordable evolution can tell a point's fate.

Everything is pure JAX (`jit`/`vmap`-safe): the sweep engine maps it over rows.
Units: E_g = ħ = 1.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .direct import (
    CHORD_STEPS,
    NEWTON_BEFORE_CHORD,
    _warm_start,
    chord_solve,
    electron_number,
    factor_jacobian,
    from_unknowns,
)
from .equations import coefficients
from .methods import DEFAULT_STEADY_TOL, Evolve, Newton
from .normal_state import normal_steady_state
from .outcomes import RESULTS, code
from .paired_stability import leading_mode
from .pairing_spectrum import _leading_secular, leading_along_V
from .params import InterbandParams
from .solver_state import half_grid
from .stability import DEFAULT_V_BRACKET, threshold_V
from .state import initial_state
from .steady import detector_tol, evolution_outcome, run_to_steady_state

PHASES = {0: "normal", 1: "paired", 2: "bistable", 3: "transient", 4: "unsettled", 5: "failed"}
_NORMAL, _PAIRED, _BISTABLE, _TRANSIENT, _UNSETTLED, _FAILED = range(6)
REFACTOR_AFTER = CHORD_STEPS // 2  # chord iterations beyond which the LU is refreshed
DEFAULT_MAX_JUMP = 0.5  # largest relative change of |Δ| in one grid step still on the branch
END_REFINE = 6  # halvings of a grid step before the branch is declared ended
STABILITY_TOL = 1e-9  # growth rate (E_g/ħ) above which a paired state counts as unstable
COLD_TRIES = NEWTON_BEFORE_CHORD + 6  # cold-mode corrector tries: 2 Newton steps, then chord solves
RETRY_T = 6000.0  # evolution time (ħ/E_g) before a second cold solve, if the first fails
CONFIRM_WINDOW = 17  # |Δ| samples over the last 20 % of a confirmation run (oscillation test)
CONFIRM_SAMPLES = 129  # |Δ| samples over a whole confirmation run (its peak)
NOT_CONFIRMED = 4  # confirm_status of a point that was not evolved (not transient/unsettled)


def _growth(normal, c) -> jax.Array:
    return _leading_secular(normal, c)[0]


def _with(params, along: str, value):
    return eqx.tree_at(lambda p: getattr(p, along), params, value)


def _normal_along_V(base: InterbandParams, theta, normal=None):
    """One normal state for the row (`normal`, default the one relaxed from the paper's
    initial state); g at every V (`leading_along_V`); the threshold as `critical_V` (the
    smallest root of g in (0, 40)), found from the row's own growth rates: Newton on the
    secular equation in the sub-bracket where g first turns positive (`threshold_V`)."""
    normal = normal_steady_state(base) if normal is None else normal
    c0 = coefficients(base, half=True)
    lo, hi = (jnp.asarray(x, dtype=float) for x in DEFAULT_V_BRACKET)
    n = theta.shape[0]
    # the bracket's ends ride along with the row: one secular solve for all
    growth, freq = leading_along_V(normal, c0, jnp.concatenate([theta, jnp.stack([lo, hi])]), base.dk)
    (g_lo, g_hi), (f_lo, f_hi) = growth[n:], freq[n:]
    growth, freq = growth[:n], freq[:n]
    valid = (g_lo < 0) & (g_hi > 0) & normal.success
    order = jnp.argsort(theta)
    ts = jnp.concatenate([lo[None], theta[order], hi[None]])
    gs = jnp.concatenate([g_lo[None], growth[order], g_hi[None]])
    fs = jnp.concatenate([f_lo[None], freq[order], f_hi[None]])
    first = jnp.maximum(jnp.argmax(gs > 0), 1)
    in_box = jnp.all((theta >= lo) & (theta <= hi))
    a, b = jnp.where(in_box, first - 1, 0), jnp.where(in_box, first, n + 1)
    known = (gs[a], fs[a], gs[b], fs[b])
    root = threshold_V(normal, c0, base.dk, lo, hi, valid, near=(ts[a], ts[b]), near_lead=known)
    n_exc = jnp.sum(c0.weights * normal.n22) / base.n_k
    return (
        growth,
        jnp.broadcast_to(normal.success, (n,)),
        jnp.broadcast_to(n_exc, (n,)),
        jnp.broadcast_to(normal.residual, (n,)),
        root,
    )


def _normal_each(base: InterbandParams, along: str, theta):
    """The normal state at every point (it depends on `along`); threshold by interpolation."""

    def one(x):
        p = _with(base, along, x)
        normal = normal_steady_state(p)
        c = coefficients(p, half=True)
        return (_growth(normal, c), normal.success, jnp.sum(c.weights * normal.n22) / p.n_k, normal.residual)

    growth, ok, n_exc, res = jax.lax.map(one, theta)
    cross = (jnp.sign(growth[:-1]) != jnp.sign(growth[1:])) & ok[:-1] & ok[1:]
    i = jnp.argmax(cross)
    t = growth[i] / (growth[i] - growth[i + 1])
    root = theta[i] + t * (theta[i + 1] - theta[i])
    return growth, ok, n_exc, res, jnp.where(jnp.any(cross), root, jnp.nan)


def _branch(base, along, theta_ordered, tol, delta_floor, max_jump):
    """The paired branch along `theta_ordered` (visit order): per point |Δ|, μ, n_exc,
    residual and whether the point is on the branch; and where the branch ends.

    The first point is solved cold: a warm-start evolution from the paper's initial state
    to the first maximum of |s| (`direct._warm_start`), then the walk's own corrector in
    *cold* mode — two Newton steps (a chord step with the LU refreshed at each iterate),
    then chord iterations, the LU refreshed at the last iterate each time they stall (the
    direct solve's Newton/chord scheme, `direct.direct_solve`, on the walk's single
    factorisation and chord call sites, so the row program compiles each once). If that
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
    lies where the last failed step puts it (`_branch_end`; at Ω = 0.25, T = 0, paper grid:
    V* = 2.29353 without extrapolation after 10 halvings, 2.29563 after 6, and 2.29343 with
    it after 6; the 4 halvings saved are 12–18 % of a row at Ω = 0.1–0.4).

    Returns (per-point records, branch end, the cold solve's `RESULTS` code, (state at the
    first point, state at the last grid point reached, its `along` value, points on the
    branch))."""
    p0 = _with(base, along, theta_ordered[0])
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
        p = _with(base, along, t_try)
        frac = jnp.where(
            w["have2"], (t_try - w["t1"]) / jnp.where(w["t1"] == w["t2"], 1.0, w["t1"] - w["t2"]), 0.0
        )
        frac = jnp.where(jnp.abs(frac) <= 4.0, frac, 0.0)  # no secant over a tiny last step
        x_pred = w["x1"] + frac * (w["x1"] - w["x2"])

        def body(c):
            tries, _, x, lu, fresh, _, _ = c
            refresh = (tries > 0) | w["stale"] | cold
            # the Jacobian at the last accepted point t₁ and its root x₁; in cold mode at the
            # current iterate (t_try = t₁ there: the row's first point)
            x_lu = jnp.where(cold, x, w["x1"])
            lu = jax.lax.cond(
                refresh, lambda: factor_jacobian(_with(base, along, w["t1"]), x_lu, n_e), lambda: lu
            )
            n_iter = jnp.where(cold & (tries < NEWTON_BEFORE_CHORD), 1, CHORD_STEPS)
            ss, x = chord_solve(p, jnp.where(cold, x, x_pred), n_e, lu, tol, n_iter, steady_tol, delta_floor)
            return (
                tries + 1,
                ss.converged,
                x,
                lu,
                fresh | refresh,
                record(ss, True),
                ss.stats["newton_steps"],
            )

        def again(c):
            tries, converged, x, _, fresh, _, _ = c
            more = ~converged & (tries < COLD_TRIES) & jnp.all(jnp.isfinite(x))
            return jnp.where(cold, more, (tries == 0) | (~converged & ~fresh & (tries < 2)))

        _, converged, x, lu, fresh, rec, iters = jax.lax.while_loop(
            again, body, (0, jnp.asarray(False), x_pred, w["lu"], w["fresh"], blank, 0)
        )
        ok = converged & (cold | (jnp.abs(rec["delta"] - w["d1"]) <= max_jump * w["d1"]))
        # slow chord: refresh the LU at the new point (done by the next attempt, if any)
        return ok, rec, x, lu, fresh, iters > REFACTOR_AFTER

    def step(w, th):
        def walk(w):
            def cond(c):
                w, h, fails, reached, _ = c
                return ~reached & (fails <= END_REFINE)

            def body(c):
                w, h, fails, reached, rec = c
                t_try = jnp.where(jnp.abs(th - w["t1"]) <= jnp.abs(h) * (1 + 1e-9), th, w["t1"] + h)
                ok, rec_new, x, lu, fresh, slow = attempt(w, t_try)
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
                return (w, jnp.where(ok, h, h / 2), fails, ok & (t_try == th), rec)

            w, _, _, reached, rec = jax.lax.while_loop(
                cond, body, (w, th - w["t1"], jnp.asarray(0, jnp.int32), jnp.asarray(False), blank)
            )
            xg = jnp.where(reached, w["x1"], w["xg"])  # the state at the last grid point reached
            return dict(w, alive=reached, xg=xg, tg=jnp.where(reached, th, w["tg"])), rec

        w, rec = jax.lax.cond(w["alive"], walk, lambda w: (w, blank), w)
        nan = jnp.nan
        return w, dict(
            {k: jnp.where(w["alive"], v, nan) for k, v in rec.items() if k != "alive"}, alive=w["alive"]
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
        k = c[0]
        x0, _, _, _, paired = jax.lax.stop_gradient(
            _warm_start(jax.lax.stop_gradient(p0), y_init, warm, True, t_min=jnp.where(k == 0, 0.0, RETRY_T))
        )
        last, out = jax.lax.scan(step, start(x0, paired), theta_ordered)
        return k + 1, paired, last, out

    n = theta_ordered.shape[0]
    x_blank = jnp.zeros(n_x, float)
    out0 = jax.tree.map(lambda v: jnp.broadcast_to(v, (n,)), blank)
    init = (0, jnp.asarray(False), start(x_blank, jnp.asarray(False)), out0)
    _, paired, last, out = jax.lax.while_loop(lambda c: (c[0] < 2) & ~c[3]["alive"][0], row, init)
    alive0 = out["alive"][0]
    cold_result = RESULTS.where(
        alive0, RESULTS.successful, RESULTS.where(paired, RESULTS.newton_failed, RESULTS.not_paired)
    )
    return (
        out,
        jnp.where(alive0, _branch_end(last, max_jump), jnp.nan),
        cold_result,
        (last["xf"], last["xg"], last["tg"], jnp.sum(out["alive"])),
    )


def _branch_end(w, max_jump) -> jax.Array:
    """Where the walk `w` (its final state) ended: the last accepted value t₁, or, if the
    walk stopped while |Δ| was falling, the root of |Δ|² extrapolated linearly from the last
    two accepted points (a branch closing with |Δ|² ∝ distance D to its end; `_branch`) if
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


def phase_row(
    params: InterbandParams,
    along: str,
    *,
    tol=1e-11,
    delta_floor=1e-12,
    max_jump=DEFAULT_MAX_JUMP,
    quench: bool = False,
    confirm: Evolve | None = None,
) -> dict[str, jax.Array]:
    """One row of the phase map (module docstring). `params` carries the row: its field
    `along` is the array of the row's values (n,), every other field a scalar.

    **Returns** a dict of arrays: per point (n,) `delta_abs` (what evolution from the paper's
    initial state ends in: the paired |Δ|, 0 for normal and bistable points, NaN where
    unsettled), `delta_abs_paired` (the branch, NaN off it), `mu`, `growth_rate`, `n_exc`,
    `residual`, `phase` (`PHASES`), `status` (`outcomes.RESULTS` code); per row `threshold`
    (the critical value of `along`) and `branch_end` (the last `along` value on the paired
    branch, NaN if there is none).

    With `confirm` (an `Evolve`; its float fields are traced) every transient or unsettled
    point is also evolved from the paper's initial state (module docstring, item 6):
    `confirm_delta_abs`, `confirm_peak` (E_g) and `confirm_status`
    (`steady.EVOLUTION_STATUS`, or NOT_CONFIRMED = 4 where no evolution ran)."""
    theta = jnp.asarray(getattr(params, along))
    base = _with(params, along, theta[0])
    if along == "V":
        growth, normal_ok, n_exc_n, res_n, threshold = _normal_along_V(base, theta)
    else:
        growth, normal_ok, n_exc_n, res_n, threshold = _normal_each(base, along, theta)
    n = theta.shape[0]
    order = jnp.where(growth[-1] > growth[0], jnp.arange(n)[::-1], jnp.arange(n))
    b, branch_end, cold_result, (x_first, x_last, t_last, n_on) = _branch(
        base, along, theta[order], tol, delta_floor, max_jump
    )
    branch_growth = _branch_growth(base, along, theta[order], x_first, x_last, t_last, n_on)
    if quench:
        quench_threshold = _quench_threshold(base, along, theta, x_last, t_last, n_on)
    else:
        quench_threshold = jnp.asarray(jnp.nan)
    inv = jnp.argsort(order)
    b = {k: v[inv] for k, v in b.items()}
    unstable = growth > 0
    alive = b["alive"] & ~(branch_growth > STABILITY_TOL)  # an unstable branch is no attractor
    # the warm start paired but Newton failed twice (after a longer evolution too): where
    # no branch was reached and the normal state is unstable, nothing is known
    lost = (cold_result == RESULTS.newton_failed) & unstable & ~b["alive"]
    # unstable normal state, no stable stationary paired state: at T = 0 the normal states
    # form a continuum and the pairing burst ends in a stable member of it (transient);
    # at T > 0 the normal state is unique and the motion does not settle (unsettled)
    stuck = jnp.where((theta if along == "T" else params.T) == 0, _TRANSIENT, _UNSETTLED)
    phase = jnp.where(
        ~normal_ok | lost,
        _FAILED,
        jnp.where(alive, jnp.where(unstable, _PAIRED, _BISTABLE), jnp.where(unstable, stuck, _NORMAL)),
    )
    ends_normal = (phase == _NORMAL) | (phase == _BISTABLE) | (phase == _TRANSIENT)
    delta = jnp.where(phase == _PAIRED, b["delta"], jnp.where(ends_normal, 0.0, jnp.nan))
    flagged = (phase == _TRANSIENT) | (phase == _UNSETTLED)
    if confirm is None:
        c_delta = c_peak = jnp.full(n, jnp.nan)
        c_status = jnp.full(n, NOT_CONFIRMED, jnp.int32)
    else:
        c_delta, c_peak, c_status = _confirm(base, along, theta, flagged, confirm)
        found = flagged & (c_status == 0) & (c_delta >= confirm.delta_floor)  # paired after all
        phase = jnp.where(found, _PAIRED, phase)
        delta = jnp.where(found, c_delta, delta)
    n_exc = jnp.where(
        phase == _PAIRED, b["n_exc"], jnp.where((phase == _NORMAL) | (phase == _BISTABLE), n_exc_n, jnp.nan)
    )
    status = jnp.where(
        normal_ok,
        jnp.where(lost, code(RESULTS.newton_failed), code(RESULTS.successful)),
        code(RESULTS.normal_state_failed),
    )
    return dict(
        delta_abs=delta,
        delta_abs_paired=b["delta"],
        mu=b["mu"],
        growth_rate=jnp.where(normal_ok, growth, jnp.nan),
        n_exc=n_exc,
        residual=jnp.where(b["alive"], b["residual"], res_n),
        phase=phase.astype(jnp.int32),
        status=status.astype(jnp.int32),
        threshold=threshold,
        branch_end=branch_end,
        branch_growth=branch_growth,
        quench_threshold=quench_threshold,
        confirm_delta_abs=c_delta,
        confirm_peak=c_peak,
        confirm_status=c_status,
    )


def _confirm(base, along, theta, flagged, method: Evolve):
    """Evolution from the paper's initial state at each `flagged` point (module docstring,
    item 6): (|Δ| at the end, the largest sampled |Δ|, `evolution_outcome`), NaN / NaN /
    NOT_CONFIRMED elsewhere. One loop iteration per flagged point (a `while_loop` over
    their indices), so an unflagged row costs nothing."""
    n = theta.shape[0]
    idx = jnp.nonzero(flagged, size=n, fill_value=0)[0]

    def one(i):
        p = _with(base, along, theta[i])
        y1, res, steady, sol, late = run_to_steady_state(
            p,
            initial_state(p),
            method.t_max,
            detector_tol(method.tol, method.rtol),
            method.delta_floor,
            method.solver,
            method.rtol,
            method.atol,
            method.max_steps,
            window=CONFIRM_WINDOW,
            samples=CONFIRM_SAMPLES,
        )
        seen = sol.ys[2]
        peak = jnp.maximum(jnp.max(jnp.where(jnp.isfinite(seen), seen, 0.0)), res.delta_abs)
        return res.delta_abs, peak, evolution_outcome(sol, y1, steady, late, method.delta_floor)

    def body(c):
        j, out = c
        i = idx[j]
        return j + 1, jax.tree.map(lambda o, v: o.at[i].set(v), out, one(i))

    init = (jnp.full(n, jnp.nan), jnp.full(n, jnp.nan), jnp.full(n, NOT_CONFIRMED, jnp.int32))
    count = jnp.sum(flagged)
    return jax.lax.while_loop(lambda c: c[0] < count, body, (jnp.asarray(0), init))[1]


def _quench_threshold(base, along, theta, x_last, t_last, n_on):
    """V_c of the normal state a *quenched* paired state relaxes to: the branch state at its
    last grid point with its pairs removed (s → 0), relaxed with s ≡ 0
    (`normal_steady_state(y0=...)`). At T = 0 the normal states form a continuum and this
    one differs from the state relaxed from the paper's start (module docstring, item 5;
    at Ω = 0.25, paper grid, quenched at V = 2.3: 2.2964, between the branch end 2.2934
    and 2.3, so the quenched state is unstable again and pairs regrow). Along V at
    T = 0 only (NaN otherwise, and without a branch): at T > 0 the normal state is unique."""
    if along != "V":
        return jnp.asarray(jnp.nan)

    def quench():
        normal = normal_steady_state(_with(base, along, t_last), y0=from_unknowns(x_last))
        return jnp.where(normal.success, _normal_along_V(base, theta, normal)[4], jnp.nan)

    return jax.lax.cond((n_on > 0) & (base.T == 0), quench, lambda: jnp.asarray(jnp.nan))


def _branch_growth(base, along, theta_ordered, x_first, x_last, t_last, n_on):
    """Largest growth rate of the paired state (`paired_stability.leading_mode`) at the
    branch's first and last grid points (NaN without a branch; not at the branch end
    itself, where |Δ| → 0 takes the amplitude mode's rate to 0). Along a
    natural-parameter walk stability changes only at a fold (where the walk stops) or at a
    Hopf bifurcation; the two ends bound the branch unless two Hopf crossings lie between."""

    def check():
        # one call site (one compiled eigenvalue problem), run once or twice
        points = (jnp.stack([theta_ordered[0], t_last]), jnp.stack([x_first, x_last]))

        def body(c):
            k, g = c
            return k + 1, jnp.maximum(g, leading_mode(_with(base, along, points[0][k]), points[1][k])[0])

        return jax.lax.while_loop(
            lambda c: c[0] < jnp.where(n_on > 1, 2, 1), body, (jnp.asarray(0), jnp.asarray(-jnp.inf))
        )[1]

    return jax.lax.cond(n_on > 0, check, lambda: jnp.asarray(jnp.nan))
