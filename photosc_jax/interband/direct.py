"""Direct (Newton) steady state of the driven model in the co-rotating frame.

The paired steady state is stationary up to a uniform rotation of the pairing phase,
s_k(t) = s̄_k e^{−iμt}, i.e. Δ(t) = |Δ| e^{iμt} (docs/model-interband.md, "Steady state and
the rotating phase"). In the frame
rotating with it, the state is a fixed point of

    dn11/dt = 0,  dn22/dt = 0,  dn21/dt = 0,  ds/dt + iμ s = 0        (mean-field Eqs.)

with the right-hand side of `equations` (the Wick reduction replacing App. A, A7–A12, and
the self-consistency Δ* = (V dk/2π) Σ_k s, Eq. B3). The unknowns are the state on the
mirror-reduced grid k ≥ 0 — x = [n11, n22, Re n21, Im n21, Re s, Im s] (M = (N+1)/2 points
each; plain s, which is O(0.1) in the paired state) — and the rotation frequency μ:
6M + 1 real unknowns. Two exact zero modes are removed:

- the global U(1) phase, s → e^{iθ}s, by the gauge condition Im Σ_k s_k = 0 (Δ real);
- particle-number conservation (Σ_k(dn11 + dn22) = 0 identically: phonons and recombination
  conserve it, and the pairing terms sum to −4 Im(|Δ|²/pair) = 0), by replacing the dn11
  equation at k = 0 with Σ_k (n11 + n22) = N_e, the electron number of the initial state.

The square system is solved by two `optimistix.Newton` steps and then `optimistix.Chord`
steps (the last Jacobian and its dense LU reused; ~600 unknowns at the paper's N = 201;
full Newton if the chord iteration stalls), and differentiated by
`optimistix.ImplicitAdjoint` (implicit function theorem: one transposed linear solve per
gradient; forward mode works too). Δ = 0 is a fixed point for every parameter set, so the
iteration starts from a paired state: a loose-tolerance time evolution (`evolve` machinery)
from the paper's initial state, stopped at the first maximum of |s| after the instability,
or a paired `y0` as given. The warm start is `stop_gradient`ed: the gradient comes from the
fixed-point equations alone. `chord_solve` / `factor_jacobian` serve `continuation`, which
reuses one LU across neighbouring parameter points.

Units: E_g = ħ = 1 (rates and μ in E_g/ħ, times in ħ/E_g).
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Float

from .._checks import concrete, float_leaves
from .._numerics import real_times
from ._traces import counted
from .equations import Coefficients, anomalous_rate, coefficients, normal_rates
from .evolve import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, solve
from .methods import (
    DEFAULT_DELTA_FLOOR,
    DEFAULT_NEWTON_STEPS,
    DEFAULT_NEWTON_TOL,
    DEFAULT_STEADY_TOL,
    DEFAULT_T_MAX,
    DEFAULT_WARM_ATOL,
    DEFAULT_WARM_RTOL,
    DEFAULT_WARM_T_MAX,
    Evolve,
    Newton,
    newton_method,
)
from .outcomes import RESULTS
from .params import InterbandParams
from .solver_state import full_grid, half_grid, pack, rates, split
from .state import InterbandState, check_mirror_symmetric, initial_state, physical_populations
from .steady import SteadyState, evolve_steady_state, stationarity

NEWTON_BEFORE_CHORD = 2
CHORD_STEPS = 40
ANDERSON_MEMORY = 5  # chord steps remembered by the Anderson-accelerated corrector
WARM_S_ON = 1e-3  # rms |s| above which the warm start looks for the first maximum of |s|


def corotating_flow(z: Float[Array, " 6M"], mu, c: Coefficients) -> Float[Array, " 6M"]:
    """The mean-field flow in the frame rotating with Δ at frequency μ: d/dt of
    z = [n11, n22, Re n21, Im n21, Re s, Im s] on the half grid (the right-hand side of
    `equations` with ṡ → ṡ + iμs). Its zeros with Im Σ_k s = 0 are the steady states; its
    Jacobian is the linear stability operator of one (`paired_stability`)."""
    m = c.esum.shape[0]
    n11, n22, a, b, sr, si = (z[i * m : (i + 1) * m] for i in range(6))
    w = c.weights
    sum_r, sum_i = jnp.sum(w * sr), jnp.sum(w * si)
    dn11, dn22, da, db, gamma_s = normal_rates(n11, n22, a, b, sr, si, c.pair * sum_r, -c.pair * sum_i, c)
    gr, gi = anomalous_rate(sr, si, n11, n22, gamma_s, c, sums=(sum_r, sum_i))
    return jnp.concatenate([dn11, dn22, da, db, gr - mu * si, gi + mu * sr])


def corotating_residual(x: Float[Array, " 6M+1"], args) -> Float[Array, " 6M+1"]:
    """Residual of the stationary equations in the co-rotating frame (module docstring).

    `x` = [n11, n22, Re n21, Im n21, Re s, Im s, μ] on the half grid; `args` =
    (`coefficients(params, half=True)`, N_e). Returns `corotating_flow` with its k = 0 dn11
    entry replaced by Σ(n11 + n22) − N_e, and the gauge condition Im Σ_k s appended.
    """
    c, n_e = args
    m = c.esum.shape[0]
    z = x[:-1]
    flow = corotating_flow(z, x[-1], c)
    number = jnp.sum(c.weights * (z[:m] + z[m : 2 * m])) - n_e
    gauge = jnp.sum(c.weights * z[5 * m :])
    return jnp.concatenate([flow.at[0].set(number), gauge[None]])


def to_unknowns(y: Float[Array, " 6M+1"], c: Coefficients) -> Float[Array, " 6M+1"]:
    """Newton unknowns from a packed solver state `y` (see `solver_state`): s = e^λ u rotated
    so that Σ_k s is real positive (Δ real), and μ estimated from the instantaneous rotation."""
    n11, n22, n21, u, lam = split(y)
    total = jnp.sum(real_times(c.weights, u))
    # s = e^λ u rotated by the phase of conj(Σ_k w s): real arithmetic, no promotion
    s = real_times(jnp.exp(lam) / jnp.maximum(jnp.abs(total), 1e-300), u * jnp.conj(total))
    mu = stationarity(y, c).mu
    return jnp.concatenate([n11, n22, n21.real, n21.imag, s.real, s.imag, mu[None]])


def unknowns_of(ss: SteadyState) -> Float[Array, " 6M+1"]:
    """Newton unknowns of a `SteadyState` in the gauge Δ real (inverse of `from_unknowns`)."""
    st = ss.state
    parts = (st.n11, st.n22, st.n21.real, st.n21.imag, st.s21.real, st.s21.imag)
    return jnp.concatenate([*(half_grid(v) for v in parts), jnp.atleast_1d(ss.mu)])


def from_unknowns(x: Float[Array, " 6M+1"]) -> InterbandState:
    """Full-grid `InterbandState` from the Newton unknowns (μ dropped)."""
    m = (x.shape[0] - 1) // 6
    n11, n22, a, b, sr, si = (x[i * m : (i + 1) * m] for i in range(6))
    return InterbandState(*(full_grid(v) for v in (n11, n22, jax.lax.complex(a, b), jax.lax.complex(sr, si))))


def _warm_start(params, y0, warm: Evolve, evolve=True, t_min=0.0):
    """Evolve from `y0` until |s| passes its first maximum after exceeding WARM_S_ON (rms)
    and after `t_min` (traced; a later maximum, for a second try), at most until
    `warm.t_max` + `t_min`. With `evolve=False` (a paired `y0`, e.g. a neighbouring steady
    state), start from `y0`."""
    c = coefficients(params, half=True)
    log_on = jnp.log(WARM_S_ON)
    n_e = y0.particle_number()  # conserved exactly by the flow (and by any RK step)
    if not evolve:
        y = pack(y0)
        return to_unknowns(y, c), n_e, jnp.asarray(0.0), jnp.asarray(0), y[-1] > log_on

    def cond_fn(t, y, args, **kwargs):
        return (y[-1] > log_on) & (rates(y, args)[-1] < 0) & (t >= t_min)

    sol = solve(
        params,
        y0,
        0.0,
        warm.t_max + t_min,
        saveat=dfx.SaveAt(t1=True),
        solver=warm.solver,
        rtol=warm.rtol,
        atol=warm.atol,
        max_steps=warm.max_steps,
        event=dfx.Event(cond_fn),
    )
    y1 = sol.ys[-1]
    return to_unknowns(y1, c), n_e, sol.ts[-1], sol.stats["num_steps"], y1[-1] > log_on


def _newton(params, x0, n_e, tol, max_steps, pre_steps=NEWTON_BEFORE_CHORD):
    """Newton for the first `pre_steps` steps (the warm start may be far from the root; none
    when continuing from a neighbouring steady state), then the chord method: the Jacobian
    and LU of that point are reused, so each further step is one residual and two triangular
    solves, ~20× cheaper than a Newton step at N = 201. If the chord iteration does not
    converge, full Newton takes over. The value is differentiated by the implicit function
    theorem at the root (`ImplicitAdjoint`), whichever path found it."""
    c = coefficients(params, half=True)
    args = (c, n_e)
    adjoint = optx.ImplicitAdjoint(linear_solver=lx.LU())
    newton = optx.Newton(rtol=tol, atol=tol, linear_solver=lx.LU())
    chord = optx.Chord(rtol=tol, atol=tol, linear_solver=lx.LU())
    x1, steps = jax.lax.stop_gradient(x0), 0
    if pre_steps > 0:
        pre = optx.root_find(
            corotating_residual, newton, x0, args, max_steps=pre_steps, adjoint=adjoint, throw=False
        )
        x1, steps = jax.lax.stop_gradient(pre.value), pre.stats["num_steps"]
    sol = optx.root_find(
        corotating_residual, chord, x1, args, max_steps=CHORD_STEPS, adjoint=adjoint, throw=False
    )
    steps = steps + sol.stats["num_steps"]

    def by_newton(_):
        s = optx.root_find(
            corotating_residual, newton, x1, args, max_steps=max_steps, adjoint=adjoint, throw=False
        )
        return s.value, s.result, steps + s.stats["num_steps"]

    return jax.lax.cond(
        sol.result == optx.RESULTS.successful, lambda _: (sol.value, sol.result, steps), by_newton, None
    )


@eqx.filter_jit
@counted("direct.newton")
def _direct(params, y0, method: Newton, evolve):
    return direct_solve(params, y0, method, evolve)


def direct_solve(params, y0, method: Newton, evolve=True):
    """The traced body of the direct solve (no fallback, no host checks): warm start from
    `y0` (stopping at the first maximum of |s|, see `_warm_start`), Newton, chord,
    `SteadyState`. (`phase_map`'s rows use `_warm_start` and then their own
    corrector, so that a row program compiles one factorisation and one chord site.)"""
    p_sg = jax.lax.stop_gradient(params)
    x0, n_e, t_warm, warm_steps, paired0 = jax.lax.stop_gradient(_warm_start(p_sg, y0, method.warm, evolve))
    x, result, n_steps = _newton(
        params, x0, n_e, method.tol, method.max_steps, NEWTON_BEFORE_CHORD if evolve else 0
    )
    ok = result == optx.RESULTS.successful
    return _result(
        params, x, n_e, ok, paired0, n_steps, t_warm, warm_steps, DEFAULT_STEADY_TOL, method.delta_floor
    )


def _result(params, x, n_e, ok, paired0, n_steps, t_warm, warm_steps, tol, delta_floor):
    """`SteadyState` from the Newton unknowns `x` (gradients flow through `x` only). `ok`:
    the iteration converged; `paired0`: its start was paired. Success also needs a paired,
    finite root whose gauge-invariant `Stationarity` residuals are below `tol` and whose
    populations lie in [0, 1] (`state.physical_populations`; a converged iteration on an
    unphysical root is `RESULTS.unphysical_root`)."""
    c = coefficients(params, half=True)
    c_sg = jax.lax.stop_gradient(c)
    x_sg = jax.lax.stop_gradient(x)
    max_res = jnp.max(jnp.abs(corotating_residual(x_sg, (c_sg, n_e))))
    state = from_unknowns(x)
    res = stationarity(pack(from_unknowns(x_sg)), c_sg)
    delta_abs = jnp.abs(c.pair) * jnp.abs(jnp.sum(real_times(c.weights, half_grid(state.s21))))
    m = c.esum.shape[0]  # half-grid points: x = [n11, n22, ...] in blocks of m
    physical = physical_populations(x_sg[: 2 * m])
    stationary = ok & paired0 & (delta_abs > delta_floor) & res.is_steady(tol, delta_floor)
    converged = stationary & jnp.all(jnp.isfinite(x)) & physical
    failed = RESULTS.where(stationary & ~physical, RESULTS.unphysical_root, RESULTS.newton_failed)
    result = RESULTS.where(converged, RESULTS.successful, RESULTS.where(paired0, failed, RESULTS.not_paired))
    stats = dict(
        newton_steps=jnp.asarray(n_steps),
        warm_steps=jnp.asarray(warm_steps),
        max_residual=max_res,
        fallback=jnp.asarray(False),
    )
    return SteadyState(
        delta_abs=delta_abs,
        mu=x[-1],
        state=state,
        converged=converged,
        t=t_warm,
        residual=res,
        stats=stats,
        result=result,
        params=params,
    )


def newton_steady_state(
    params: InterbandParams, method: Newton, y0: InterbandState | None = None, progress: bool = False
) -> SteadyState:
    """The Newton engine behind `steady_state(params, method=Newton(...))`: warm start
    (`method.warm`) unless `y0` is already paired (rms|s| > 10⁻³), Newton/chord iteration,
    and — where the values are concrete and the solve failed — `method.fallback` (time
    evolution from `y0`; `stats["fallback"]` = True). See `direct_steady_state`."""
    params = float_leaves(params)
    method = float_leaves(method)
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    s_rms = concrete(jnp.sqrt(jnp.mean(jnp.abs(y0.s21) ** 2)))
    evolve = s_rms is None or s_rms <= WARM_S_ON  # a paired y0 is its own warm start
    out = _direct(params, y0, method, evolve)
    done = concrete(out.converged)
    if method.fallback is None or done is None or done:
        return out
    ev = evolve_steady_state(params, method.fallback, y0=y0, progress=progress)
    stats = dict(
        ev.stats, **{k: v for k, v in out.stats.items() if k != "fallback"}, fallback=jnp.asarray(True)
    )
    return eqx.tree_at(lambda s: s.stats, ev, stats)


# --- continuation helpers: one LU reused across neighbouring parameter points --------------


def electron_number(params: InterbandParams) -> Float[Array, ""]:
    """N_e = Σ_k (n11 + n22) of the paper's initial state (the constraint of the solve)."""
    return initial_state(params).particle_number()


@eqx.filter_jit
def factor_jacobian(params: InterbandParams, x: Float[Array, " 6M+1"], n_e):
    """LU factors (`jax.scipy.linalg.lu_factor`) of the co-rotating Jacobian at `x`."""
    c = coefficients(params, half=True)
    return jax.scipy.linalg.lu_factor(jax.jacfwd(corotating_residual)(x, (c, n_e)))


def chord_solve(
    params,
    x0,
    n_e,
    lu,
    tol=DEFAULT_NEWTON_TOL,
    max_iter=CHORD_STEPS,
    steady_tol=DEFAULT_STEADY_TOL,
    delta_floor=DEFAULT_DELTA_FLOOR,
):
    """Chord iteration x ← x − J₀⁻¹F(x) with the LU factors `lu` of a Jacobian J₀ taken at a
    *neighbouring* parameter point (`factor_jacobian`): no Jacobian, no factorisation, each
    step one residual and two triangular solves, Anderson-accelerated over the last
    ANDERSON_MEMORY = 5 steps (the next iterate minimises the linearised chord step over
    the step history: at Ω = 0.25 a phase-map row needs 1108 instead of 1649 iterations and
    12 instead of 24 LU refreshes). Converged when the chord step |J₀⁻¹F(x)| ≤ tol(1 + |x|)
    (max norm); the last step is a plain chord step. Not differentiable (use
    `direct_steady_state` for gradients). Returns a `SteadyState` (`stats["newton_steps"]`
    = chord iterations) and the unknowns. The float arguments are traced: changing them
    does not recompile, and neither does a new `max_iter` (traced too, so a compiled caller
    such as `phase_map`'s walk can pass a traced iteration budget)."""
    return _chord_solve(
        float_leaves(params), x0, n_e, lu, *map(jnp.asarray, (tol, steady_tol, delta_floor, max_iter))
    )


@eqx.filter_jit
@counted("direct.chord")
def _chord_solve(params, x0, n_e, lu, tol, steady_tol, delta_floor, max_iter):
    c = coefficients(params, half=True)
    args = (c, n_e)

    m = ANDERSON_MEMORY
    n = x0.shape[0]

    def cond(carry):
        i, x, step, *_ = carry
        return (i < max_iter) & (step > tol) & ~jnp.isnan(step)  # NaN: diverged

    def body(carry):
        i, x, _, x_prev, f_prev, dX, dF = carry
        f = -jax.scipy.linalg.lu_solve(lu, corotating_residual(x, args))  # the chord step
        step = jnp.max(jnp.abs(f) / (1.0 + jnp.abs(x)))
        # Anderson acceleration of the chord map G(x) = x + f: the next iterate minimises
        # the linearised chord step over the last `m` differences (GMRES-like on the
        # stale-Jacobian iteration; a plain chord step while the history is empty)
        slot = (i - 1) % m
        push = i > 0
        dX = jnp.where(push, dX.at[slot].set(x - x_prev), dX)
        dF = jnp.where(push, dF.at[slot].set(f - f_prev), dF)
        filled = jnp.arange(m) < jnp.minimum(i, m)
        gram = dF @ dF.T
        scale = jnp.trace(gram) + 1e-300
        gram = gram + jnp.diag(jnp.where(filled, 1e-14 * scale, 1.0))
        gamma = jnp.where(filled, jnp.linalg.solve(gram, dF @ f), 0.0)
        x_new = x + f - (dX + dF).T @ gamma
        x_new = jnp.where(step <= tol, x + f, x_new)  # converged: the plain last step
        return i + 1, x_new, step, x, f, dX, dF

    zeros = jnp.zeros((m, n), x0.dtype)
    init = (0, x0, jnp.asarray(jnp.inf), x0, jnp.zeros_like(x0), zeros, zeros)
    i, x, step, *_ = jax.lax.while_loop(cond, body, init)
    ok = step <= tol
    out = _result(
        params, x, n_e, ok, jnp.asarray(True), i, jnp.asarray(0.0), jnp.asarray(0), steady_tol, delta_floor
    )
    return out, x


def direct_steady_state(
    params: InterbandParams,
    *,
    y0: InterbandState | None = None,
    warm_t_max: float = DEFAULT_WARM_T_MAX,
    warm_rtol: float = DEFAULT_WARM_RTOL,
    warm_atol: float = DEFAULT_WARM_ATOL,
    newton_tol: float = DEFAULT_NEWTON_TOL,
    newton_steps: int = DEFAULT_NEWTON_STEPS,
    fallback: bool = True,
    t_max: float = DEFAULT_T_MAX,
    tol: float | None = None,
    delta_floor: float = DEFAULT_DELTA_FLOOR,
    solver: dfx.AbstractSolver | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: bool = False,
) -> SteadyState:
    """Paired steady state by Newton's method in the co-rotating frame (module docstring):
    the keyword form of `steady_state(params, method=Newton(...))` (the keywords build the
    `Newton` object, see `newton_method`).

    **Arguments:**

    - `params`: an `InterbandParams`; any field may be traced (`jax.grad` through
      `eqx.tree_at`): gradients of `delta_abs`, `mu` and `state` follow from the implicit
      function theorem (`optimistix.ImplicitAdjoint`).
    - `y0`: start of the warm-start evolution (default: the paper's initial state). A paired
      `y0` (rms|s| > 10⁻³, e.g. `previous.state` of a neighbouring point in a parameter scan:
      continuation) is used as Newton's starting point directly, without evolution.
    - `warm_t_max`: time limit (ħ/E_g) of the warm start; it stops at the first maximum of
      |s| once rms|s| > 10⁻³.
    - `warm_rtol`, `warm_atol`: tolerances of the warm start (default 1e-4, 1e-7: it only has
      to land in Newton's basin; the root does not depend on them).
    - `newton_tol`, `newton_steps`: rtol = atol of the root find, and the step budget of the
      full-Newton stage (the solve is two Newton steps, then chord steps reusing that
      Jacobian, then full Newton only if the chord iteration stalls).
    - `fallback`: if Newton fails or the warm start never paired (below threshold) and the
      values are concrete (not under `jit`/`grad`/`vmap`), return
      `steady_state(params, method="evolve")` from `y0` instead (`stats["fallback"]`).
    - `t_max`, `tol`, `delta_floor`, `solver`, `rtol`, `atol`, `max_steps`, `progress`: as in
      `steady_state` (`solver` and `max_steps` also serve the warm start; `tol`, `rtol`,
      `atol`, `t_max` and `progress` the fallback only); `converged` also requires the
      gauge-invariant `Stationarity` residuals of the root below 1e-7.

    **Returns:** a `SteadyState`: `delta_abs` = |Δ| (E_g), `mu` = d arg Δ/dt (E_g/ħ), `state`
    in the gauge Δ real, `converged`, `t` = end of the warm start, `residual`
    (`Stationarity`), `stats` (`newton_steps`, `warm_steps`, `max_residual` = max-norm of
    the co-rotating residual, `fallback`), `result` (`outcomes.RESULTS`: `successful`,
    `newton_failed`, `not_paired`, `unphysical_root`; after a fallback the evolution's
    outcome).

    Under tracing no fallback is possible: check `converged` (False below threshold, where
    Newton has no paired root to find and Δ_ss = 0; see `stability.critical_V`).

    Example: `direct_steady_state(InterbandParams()).delta_abs` → 0.0190488 (Fig. 3 point).
    """
    # every other keyword configures the Newton object: newton_method takes the same names
    knobs = {k: v for k, v in locals().items() if k not in ("params", "y0", "progress")}
    return newton_steady_state(params, newton_method(**knobs), y0=y0, progress=progress)
