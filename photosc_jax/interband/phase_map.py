"""Phase maps without time stepping: one row of the |Δ|(Ω, V) map by linear stability of
the normal state and continuation of the paired branch, `phase_row(params, along,
Continuation())` → `PhaseRow`.

A *row* is a line of grid points along one parameter (`along`, usually V). Per row:

1. **Normal state and its stability.** The normal steady state (Δ = 0,
   `normal_state.normal_steady_state`) and the leading growth rate g = max Re eig L of its
   pairing fluctuations (`pairing_spectrum`) at every point. The normal state does not
   depend on V (V only multiplies s in Δ* = (V dk/2π) Σ_k s, paper Eq. B3), so along V it is
   solved once per row, and the row's `threshold` is the smallest root of g(V) in (0, 40),
   as `stability.critical_V` (Newton on the secular equation of L in the sub-bracket where g
   first turns positive). Along any other parameter the normal state is solved at each
   point and the threshold is the linear interpolation of g at its first sign change.
2. **The paired branch** (`branch.walk_branch`). One cold solve (`corotating.warm_start`,
   then Newton and chord steps on the walk's own corrector) at the row's more unstable end
   (the larger g), then natural-parameter continuation with step control toward the other
   end: a secant predictor and the chord corrector with the LU of an earlier point. The branch *ends*
   where the corrector fails or the root it finds is not on the branch — |Δ| below
   `delta_floor` (the normal root) or |Δ| moved by more than `max_jump` of its value in one
   step (a fold, or another solution). `branch_end` is the last `along` value on it.
3. **Stability of the branch.** The paired state's leading growth rate beyond its two
   symmetry zero modes (`paired_stability`) at the branch's first and last grid points;
   `branch_growth` is the larger (unstable above STABILITY_TOL). Along the walk stability
   changes only at a fold (where the walk stops) or at a Hopf bifurcation, so two stable
   ends mean a stable branch unless two Hopf crossings lie between them; a branch with an
   unstable end counts as no attractor (conservative).
4. **The phase of each point** (`PHASES`): normal (g < 0, no stable paired state), paired
   (g > 0 and a stable paired state: what evolution from the paper's initial state
   reaches), bistable (g < 0 and a stable paired state coexists), transient (g > 0, no
   stable stationary paired state, T = 0: the normal steady states form a continuum and
   the pairing burst ends in a stable member of it), unsettled (the same at T > 0, where
   the normal state is unique: a limit cycle or a slow drift), failed (the normal state
   did not converge, or the row's cold solve failed twice — the second time from the first
   maximum of |s| after t = `branch.RETRY_T` — so the unstable points have no answer).
5. **A quenched paired state** (`Continuation(quench=True)`, T = 0, along V): the branch
   state at its last grid point with its pairs removed (s → 0) relaxes to another member
   of the normal continuum; its threshold is `quench_threshold`. A stable paired state and
   the stable normal state its own quench reaches coexist at V only if V lies below it.
6. **Confirmation by evolution** (`Continuation(confirm=Evolve(t_max=...))`): every
   transient or unsettled point is also evolved from the paper's initial state with the
   steady-state detector (`steady.relax`); an evolution that ends in a paired fixed point
   makes the point paired with that |Δ|, any other outcome leaves the phase as it is. Close
   to threshold the burst takes longer than any affordable t_max.

What the phases look like on the paper's grid, and the measured values behind these
choices (branch ends, quench thresholds, burst times, timings): docs/sweeps.md and
benchmarks/RESULTS.md. Everything is pure JAX (`jit`/`vmap`-safe): the sweep engine maps
`phase_row` over rows. Units: E_g = ħ = 1.
"""

from __future__ import annotations

import typing

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from .._roots import batch_cond
from .branch import walk_branch, with_field
from .corotating import from_unknowns
from .equations import coefficients
from .methods import Continuation, Evolve
from .normal_state import normal_steady_state
from .outcomes import RESULTS, code
from .paired_stability import leading_mode
from .pairing_spectrum import _leading_secular, leading_along_V
from .params import InterbandParams
from .stability import DEFAULT_V_BRACKET, threshold_V
from .state import initial_state
from .steady import relax

PHASES = {0: "normal", 1: "paired", 2: "bistable", 3: "transient", 4: "unsettled", 5: "failed"}
_NORMAL, _PAIRED, _BISTABLE, _TRANSIENT, _UNSETTLED, _FAILED = range(6)
STABILITY_TOL = 1e-9  # growth rate (E_g/ħ) above which a paired state counts as unstable
CONFIRM_SAMPLES = 129  # |Δ| samples over a whole confirmation run (its peak)
NOT_CONFIRMED = -3  # confirm_status of a point not evolved (negative: no `outcomes` code)


def _growth(normal, c) -> jax.Array:
    return _leading_secular(normal, c)[0]


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
        normal.relax_steps,
    )


def _normal_each(base: InterbandParams, along: str, theta):
    """The normal state at every point (it depends on `along`); threshold by interpolation."""

    def one(x):
        p = with_field(base, along, x)
        normal = normal_steady_state(p)
        c = coefficients(p, half=True)
        n_exc = jnp.sum(c.weights * normal.n22) / p.n_k
        return _growth(normal, c), normal.success, n_exc, normal.residual, normal.relax_steps

    growth, ok, n_exc, res, steps = jax.lax.map(one, theta)
    cross = (jnp.sign(growth[:-1]) != jnp.sign(growth[1:])) & ok[:-1] & ok[1:]
    i = jnp.argmax(cross)
    t = growth[i] / (growth[i] - growth[i + 1])
    root = theta[i] + t * (theta[i + 1] - theta[i])
    return growth, ok, n_exc, res, jnp.where(jnp.any(cross), root, jnp.nan), jnp.sum(steps)


class RowWork(eqx.Module):
    """The iterations a row's loops ran, for lockstep measurements: rows vmapped together
    run every loop as long as their slowest member (benchmarks/bench_lockstep.py).

    - `normal_steps`: ODE steps of the normal-state relaxation (summed over the row's
      points where the normal state depends on `along`).
    - `warm_steps`: ODE steps of the warm start(s) of the row's cold solve.
    - `corrector_calls`, `chord_iterations`: per grid step of the walk, in the order the
      walk visits them (from the more unstable end), the corrector's chord solves and the
      chord iterations in them (0 off the branch).
    """

    normal_steps: Int[Array, "*b"]
    warm_steps: Int[Array, "*b"]
    corrector_calls: Int[Array, "*b n"]
    chord_iterations: Int[Array, "*b n"]


class PhaseRow(eqx.Module):
    """Outcome of `phase_row` (module docstring): arrays over the row's n points, and
    scalars per row (a leading batch axis where `phase_row` is vmapped over rows).

    Per point (n,):

    - `delta_abs`: the |Δ| (E_g) evolution from the paper's initial state ends in: the
      paired |Δ|, 0 for normal, bistable and transient points, NaN where unsettled or failed.
    - `delta_abs_paired`: |Δ| on the paired branch (E_g; NaN off it); `mu`: its rotation
      frequency, Δ ∝ e^{iμt} (E_g/ħ; NaN off the branch).
    - `growth_rate`: leading pairing growth rate of the normal state (E_g/ħ; > 0: unstable).
    - `n_exc`: mean conduction-band population Σ_k n22_k / N of the reported state.
    - `residual`: max-norm stationarity residual of the reported state (E_g/ħ).
    - `phase`: `PHASES` code (int32).
    - `result`: the outcome per point, an `outcomes.RESULTS` item (`successful`,
      `newton_failed`: the cold solve failed where the normal state is unstable,
      `normal_state_failed`); `status` is its integer code, `success` a bool array.
    - `confirm_delta_abs`, `confirm_peak`: |Δ| at the end of the confirmation evolution and
      the largest of CONFIRM_SAMPLES samples over it (E_g; NaN where none ran);
      `confirm_status`: its `outcomes` code (int32), NOT_CONFIRMED = −3 where none ran.

    Per row (scalars): `threshold` (the critical value of `along`), `branch_end` (the last
    `along` value on the paired branch, NaN without one), `branch_growth` (the larger
    growth rate of the paired state at the branch's two ends, E_g/ħ; NaN without one),
    `quench_threshold` (critical `along` of the quenched state's normal relaxation; NaN
    unless `Continuation(quench=True)`, T = 0, along V), and `work` (a `RowWork`: the
    iterations its loops ran).
    """

    delta_abs: Float[Array, "*b n"]
    delta_abs_paired: Float[Array, "*b n"]
    mu: Float[Array, "*b n"]
    growth_rate: Float[Array, "*b n"]
    n_exc: Float[Array, "*b n"]
    residual: Float[Array, "*b n"]
    phase: Int[Array, "*b n"]
    result: RESULTS
    threshold: Float[Array, "*b"]
    branch_end: Float[Array, "*b"]
    branch_growth: Float[Array, "*b"]
    quench_threshold: Float[Array, "*b"]
    confirm_delta_abs: Float[Array, "*b n"]
    confirm_peak: Float[Array, "*b n"]
    confirm_status: Int[Array, "*b n"]
    work: RowWork

    @property
    def status(self) -> Int[Array, "*b n"]:
        """The integer code of `result` (`outcomes.code`), as the sweeps store it."""
        return code(self.result)

    @property
    def success(self) -> Bool[Array, "*b n"]:
        """True where the point was solved (`result == RESULTS.successful`)."""
        return self.result == RESULTS.successful


@typing.no_type_check  # checks `method` itself: a one-line TypeError that names the fix
def phase_row(params: InterbandParams, along: str, method: Continuation | None = None) -> PhaseRow:
    """One row of the phase map (module docstring).

    **Arguments:**

    - `params`: an `InterbandParams` carrying the row: its field `along` is the array of
      the row's values (n,), n ≥ 2, monotonic; every other field a scalar.
    - `along`: the name of that field (usually `"V"`).
    - `method`: a `methods.Continuation` (tolerances, `max_jump`, `quench`, `confirm`).
      Default `Continuation()`.

    **Returns:** a `PhaseRow`. Pure JAX: `jax.jit` (the method's float fields traced) and
    `jax.vmap` over rows work; never raises on a failed solve (see `result`, `phase`).
    """
    method = Continuation() if method is None else method
    if not isinstance(method, Continuation):
        raise TypeError(
            f"phase_row(method={method!r}): pass a Continuation(...), e.g. "
            "phase_row(params, 'V', Continuation(confirm=Evolve(t_max=2e5)))."
        )
    theta = jnp.asarray(getattr(params, along))
    base = with_field(params, along, theta[0])
    if along == "V":
        growth, normal_ok, n_exc_n, res_n, threshold, normal_steps = _normal_along_V(base, theta)
    else:
        growth, normal_ok, n_exc_n, res_n, threshold, normal_steps = _normal_each(base, along, theta)
    n = theta.shape[0]
    order = jnp.where(growth[-1] > growth[0], jnp.arange(n)[::-1], jnp.arange(n))
    b, branch_end, cold_result, (x_first, x_last, t_last, n_on), warm_steps = walk_branch(
        base, along, theta[order], method.tol, method.delta_floor, method.max_jump
    )
    branch_growth = _branch_growth(base, along, theta[order], x_first, x_last, t_last, n_on, method.eig)
    if method.quench:
        quench_threshold = _quench_threshold(base, along, theta, x_last, t_last, n_on)
    else:
        quench_threshold = jnp.asarray(jnp.nan)
    work = RowWork(normal_steps, warm_steps, b.calls, b.chord)
    inv = jnp.argsort(order)
    b = jax.tree.map(lambda v: v[inv], b)  # grid order
    unstable = growth > 0
    alive = b.alive & ~(branch_growth > STABILITY_TOL)  # an unstable branch is no attractor
    # the warm start paired but Newton failed twice (after a longer evolution too): where
    # no branch was reached and the normal state is unstable, nothing is known
    lost = (cold_result == RESULTS.newton_failed) & unstable & ~b.alive
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
    delta = jnp.where(phase == _PAIRED, b.delta, jnp.where(ends_normal, 0.0, jnp.nan))
    flagged = (phase == _TRANSIENT) | (phase == _UNSETTLED)
    confirm = method.confirm
    if confirm is None:
        c_delta = c_peak = jnp.full(n, jnp.nan)
        c_status = jnp.full(n, NOT_CONFIRMED, jnp.int32)
    else:
        c_delta, c_peak, c_status = _confirm(base, along, theta, flagged, confirm)
        # paired after all: the evolution ended in a paired fixed point
        found = flagged & (c_status == code(RESULTS.successful)) & (c_delta >= confirm.delta_floor)
        phase = jnp.where(found, _PAIRED, phase)
        delta = jnp.where(found, c_delta, delta)
    n_exc = jnp.where(
        phase == _PAIRED, b.n_exc, jnp.where((phase == _NORMAL) | (phase == _BISTABLE), n_exc_n, jnp.nan)
    )
    result = jax.vmap(  # per point (`RESULTS.where` takes one predicate at a time)
        lambda ok, gone: RESULTS.where(
            ok, RESULTS.where(gone, RESULTS.newton_failed, RESULTS.successful), RESULTS.normal_state_failed
        )
    )(normal_ok, lost)
    return PhaseRow(
        delta_abs=delta,
        delta_abs_paired=b.delta,
        mu=b.mu,
        growth_rate=jnp.where(normal_ok, growth, jnp.nan),
        n_exc=n_exc,
        residual=jnp.where(b.alive, b.residual, res_n),
        phase=phase.astype(jnp.int32),
        result=result,
        threshold=threshold,
        branch_end=branch_end,
        branch_growth=branch_growth,
        quench_threshold=quench_threshold,
        confirm_delta_abs=c_delta,
        confirm_peak=c_peak,
        confirm_status=c_status,
        work=work,
    )


def _confirm(base, along, theta, flagged, method: Evolve):
    """Evolution from the paper's initial state at each `flagged` point (module docstring,
    item 6; `steady.relax`): (|Δ| at the end, the largest sampled |Δ|, the `outcomes` code),
    NaN / NaN / NOT_CONFIRMED elsewhere. One loop iteration per flagged point (a
    `while_loop` over their indices), so an unflagged row costs nothing."""
    n = theta.shape[0]
    idx = jnp.nonzero(flagged, size=n, fill_value=0)[0]

    def one(i):
        p = with_field(base, along, theta[i])
        ss, seen = relax(p, initial_state(p), method, samples=CONFIRM_SAMPLES)
        end = ss.residual.delta_abs
        peak = jnp.maximum(jnp.max(jnp.where(jnp.isfinite(seen), seen, 0.0)), end)
        return end, peak, code(ss.result)

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
    values on the paper's grid: docs/sweeps.md). Along V at T = 0 only (NaN otherwise, and
    without a branch): at T > 0 the normal state is unique."""
    if along != "V":
        return jnp.asarray(jnp.nan)

    def quench():
        normal = normal_steady_state(with_field(base, along, t_last), y0=from_unknowns(x_last))
        return jnp.where(normal.success, _normal_along_V(base, theta, normal)[4], jnp.nan)

    return batch_cond((n_on > 0) & (base.T == 0), quench, lambda: jnp.asarray(jnp.nan))


def _branch_growth(base, along, theta_ordered, x_first, x_last, t_last, n_on, eig=None):
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
            return k + 1, jnp.maximum(
                g, leading_mode(with_field(base, along, points[0][k]), points[1][k], eig)[0]
            )

        return jax.lax.while_loop(
            lambda c: c[0] < jnp.where(n_on > 1, 2, 1), body, (jnp.asarray(0), jnp.asarray(-jnp.inf))
        )[1]

    return batch_cond(n_on > 0, check, lambda: jnp.asarray(jnp.nan))
