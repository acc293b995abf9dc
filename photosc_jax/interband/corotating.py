"""Steady states of the driven model by Newton's method in the co-rotating frame: the engine
of `steady_state(params, Newton(...))`, and the chord corrector of `continuation` and the
phase map.

The paired steady state is stationary up to a uniform rotation of the pairing phase,
s_k(t) = s̄_k e^{−iμt}, i.e. Δ(t) = |Δ| e^{iμt} (docs/model-interband.md, "Steady state and
the rotating phase"). In the frame rotating with it, the state is a fixed point of

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
steps (the last Jacobian and its dense LU reused; full Newton if the chord iteration
stalls), and differentiated by `optimistix.ImplicitAdjoint` (implicit function theorem: one
transposed linear solve per gradient). Δ = 0 is a fixed point for every parameter set, so
the iteration starts from a paired state: a loose-tolerance time evolution from the paper's
initial state, stopped at the first maximum of |s| after the instability (`warm_start`),
or a paired `y0` as given. The warm start is `stop_gradient`ed: the gradient comes from the
fixed-point equations alone. `chord_solve` / `factor_jacobian` reuse one LU across
neighbouring parameter points (`continuation`, `phase_map`). The engine here never falls
back to time evolution; `stationary.steady_state` does (`Newton.fallback`).

Units: E_g = ħ = 1 (rates and μ in E_g/ħ, times in ħ/E_g).
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int

from .._checks import concrete, float_leaves
from .._numerics import real_times
from .equations import Coefficients, anomalous_rate, coefficients, normal_rates
from .evolve import solve
from .methods import DEFAULT_DELTA_FLOOR, DEFAULT_NEWTON_TOL, DEFAULT_STEADY_TOL, Evolve, Newton
from .outcomes import RESULTS
from .params import InterbandParams
from .solver_state import full_grid, half_grid, pack, rates, split
from .state import InterbandState, check_mirror_symmetric, initial_state, physical_populations
from .steady import SteadyState, stationarity

NEWTON_BEFORE_CHORD = 2
CHORD_STEPS = 40
REFACTOR_AFTER = CHORD_STEPS // 2  # chord iterations beyond which a reused LU is refreshed
ANDERSON_MEMORY = 5  # chord steps remembered by the Anderson-accelerated corrector
WARM_S_ON = 1e-3  # rms |s| above which the warm start looks for the first maximum of |s|


def corotating_flow(z: Float[Array, " n"], mu: Float[Array, ""], c: Coefficients) -> Float[Array, " n"]:
    """The mean-field flow in the frame rotating with Δ at frequency μ (E_g/ħ): d/dt of
    z = [n11, n22, Re n21, Im n21, Re s, Im s] on the half grid (length n = 6M; the
    right-hand side of `equations` with ṡ → ṡ + iμs). Its zeros with Im Σ_k s = 0 are the
    steady states; its Jacobian is the linear stability operator of one (`paired_stability`)."""
    m = c.esum.shape[0]
    n11, n22, a, b, sr, si = (z[i * m : (i + 1) * m] for i in range(6))
    w = c.weights
    sum_r, sum_i = jnp.sum(w * sr), jnp.sum(w * si)
    dn11, dn22, da, db, gamma_s = normal_rates(n11, n22, a, b, sr, si, c.pair * sum_r, -c.pair * sum_i, c)
    gr, gi = anomalous_rate(sr, si, n11, n22, gamma_s, c, sums=(sum_r, sum_i))
    return jnp.concatenate([dn11, dn22, da, db, gr - mu * si, gi + mu * sr])


def corotating_residual(x: Float[Array, " n"], args) -> Float[Array, " n"]:
    """Residual of the stationary equations in the co-rotating frame (module docstring).

    `x` = [n11, n22, Re n21, Im n21, Re s, Im s, μ] on the half grid (n = 6M + 1); `args` =
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


def to_unknowns(y: Float[Array, " n"], c: Coefficients) -> Float[Array, " n"]:
    """Newton unknowns (n = 6M + 1) from a packed solver state `y` (`solver_state`, also
    6M + 1): s = e^λ u rotated so that Σ_k s is real positive (Δ real), and μ estimated
    from the instantaneous rotation."""
    n11, n22, n21, u, lam = split(y)
    total = jnp.sum(real_times(c.weights, u))
    # s = e^λ u rotated by the phase of conj(Σ_k w s): real arithmetic, no promotion
    s = real_times(jnp.exp(lam) / jnp.maximum(jnp.abs(total), 1e-300), u * jnp.conj(total))
    mu = stationarity(y, c).mu
    return jnp.concatenate([n11, n22, n21.real, n21.imag, s.real, s.imag, mu[None]])


def unknowns_of(ss: SteadyState) -> Float[Array, " n"]:
    """Newton unknowns (n = 6M + 1) of a `SteadyState` in the gauge Δ real (inverse of
    `from_unknowns`)."""
    st = ss.state
    parts = (st.n11, st.n22, st.n21.real, st.n21.imag, st.s21.real, st.s21.imag)
    return jnp.concatenate([*(half_grid(v) for v in parts), jnp.atleast_1d(ss.mu)])


def from_unknowns(x: Float[Array, " n"]) -> InterbandState:
    """Full-grid `InterbandState` from the Newton unknowns (n = 6M + 1; μ dropped)."""
    m = (x.shape[0] - 1) // 6
    n11, n22, a, b, sr, si = (x[i * m : (i + 1) * m] for i in range(6))
    return InterbandState(*(full_grid(v) for v in (n11, n22, jax.lax.complex(a, b), jax.lax.complex(sr, si))))


def warm_start(params: InterbandParams, y0: InterbandState, warm: Evolve, evolve=True, t_min=0.0):
    """Newton's starting point: evolve from `y0` (the `warm` method's t_max, rtol, atol,
    max_steps, solver) until |s| passes its first maximum after exceeding WARM_S_ON (rms)
    and after `t_min` (ħ/E_g, traced; a later maximum, for a second try), at most until
    `warm.t_max` + `t_min`. With `evolve=False` (a paired `y0`, e.g. a neighbouring steady
    state), start from `y0` itself. Returns (unknowns, N_e, end time, ODE steps, whether
    the start is paired)."""
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
    solves. If the chord iteration does not converge, full Newton takes over (at most
    `max_steps` steps). The value is differentiated by the implicit function theorem at the
    root (`ImplicitAdjoint`), whichever path found it."""
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


def newton_solve(params: InterbandParams, y0: InterbandState, method: Newton, evolve=True) -> SteadyState:
    """The traced body of the Newton engine (no fallback, no host checks): warm start from
    `y0` (`warm_start`; with `evolve=False` from the paired `y0` itself), Newton, chord,
    `SteadyState`. Jit/vmap/grad-safe."""
    p_sg = jax.lax.stop_gradient(params)
    x0, n_e, t_warm, warm_steps, paired0 = jax.lax.stop_gradient(warm_start(p_sg, y0, method.warm, evolve))
    x, result, n_steps = _newton(
        params, x0, n_e, method.tol, method.max_steps, NEWTON_BEFORE_CHORD if evolve else 0
    )
    ok = result == optx.RESULTS.successful
    return root_result(
        params, x, n_e, ok, paired0, n_steps, t_warm, warm_steps, DEFAULT_STEADY_TOL, method.delta_floor
    )


def root_result(
    params: InterbandParams,
    x: Float[Array, " n"],
    n_e: Float[Array, ""],
    ok: Bool[Array, ""],
    paired0: Bool[Array, ""],
    n_steps: Int[Array, ""] | int,
    t_warm: Float[Array, ""],
    warm_steps: Int[Array, ""] | int,
    steady_tol,
    delta_floor,
) -> SteadyState:
    """`SteadyState` from the Newton unknowns `x` (gradients flow through `x` only). `ok`:
    the iteration converged; `paired0`: its start was paired. Success also needs a paired,
    finite root whose gauge-invariant `Stationarity` residuals are below `steady_tol`
    (E_g/ħ) and whose populations lie in [0, 1] (`state.physical_populations`; a converged
    iteration on an unphysical root is `RESULTS.unphysical_root`)."""
    c = coefficients(params, half=True)
    c_sg = jax.lax.stop_gradient(c)
    x_sg = jax.lax.stop_gradient(x)
    max_res = jnp.max(jnp.abs(corotating_residual(x_sg, (c_sg, n_e))))
    state = from_unknowns(x)
    res = stationarity(pack(from_unknowns(x_sg)), c_sg)
    delta_abs = jnp.abs(c.pair) * jnp.abs(jnp.sum(real_times(c.weights, half_grid(state.s21))))
    m = c.esum.shape[0]  # half-grid points: x = [n11, n22, ...] in blocks of m
    physical = physical_populations(x_sg[: 2 * m])
    stationary = ok & paired0 & (delta_abs > delta_floor) & res.is_steady(steady_tol, delta_floor)
    converged = stationary & jnp.all(jnp.isfinite(x)) & physical
    failed = RESULTS.where(stationary & ~physical, RESULTS.unphysical_root, RESULTS.newton_failed)
    result = RESULTS.where(converged, RESULTS.successful, RESULTS.where(paired0, failed, RESULTS.not_paired))
    stats = dict(
        newton_steps=jnp.asarray(n_steps, jnp.int32),
        warm_steps=jnp.asarray(warm_steps, jnp.int32),
        max_residual=max_res,
        fallback=jnp.asarray(False),
    )
    return SteadyState(
        delta_abs=delta_abs,
        mu=x[-1],
        state=state,
        t=jnp.asarray(t_warm, float),
        residual=res,
        stats=stats,
        result=result,
        params=params,
    )


@eqx.filter_jit
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
def _newton_core(params, y0, method: Newton, evolve):
    return newton_solve(params, y0, method, evolve)


def newton_steady_state(
    params: InterbandParams, method: Newton, y0: InterbandState | None = None
) -> SteadyState:
    """The engine behind `steady_state(params, Newton(...))`, without its fallback: warm
    start (`method.warm`) unless `y0` is already paired (rms|s| > 10⁻³), then Newton/chord,
    compiled once per program. Jit/vmap/grad-safe; never raises on a failed solve (see
    `result`: `successful`, `newton_failed`, `not_paired`, `unphysical_root`)."""
    params = float_leaves(params)
    method = float_leaves(method)
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    s_rms = concrete(jnp.sqrt(jnp.mean(jnp.abs(y0.s21) ** 2)))
    evolve = s_rms is None or s_rms <= WARM_S_ON  # a paired y0 is its own warm start
    return _newton_core(params, y0, method, evolve)


# --- continuation helpers: one LU reused across neighbouring parameter points --------------


def electron_number(params: InterbandParams) -> Float[Array, ""]:
    """N_e = Σ_k (n11 + n22) of the paper's initial state (the constraint of the solve)."""
    return initial_state(params).particle_number()


@eqx.filter_jit
def factor_jacobian(params: InterbandParams, x: Float[Array, " n"], n_e):
    """LU factors (`jax.scipy.linalg.lu_factor`) of the co-rotating Jacobian at the unknowns
    `x` (n = 6M + 1), for `chord_solve`."""
    c = coefficients(params, half=True)
    return jax.scipy.linalg.lu_factor(jax.jacfwd(corotating_residual)(x, (c, n_e)))


def chord_solve(
    params: InterbandParams,
    x0: Float[Array, " n"],
    n_e,
    lu,
    tol=DEFAULT_NEWTON_TOL,
    max_steps=CHORD_STEPS,
    steady_tol=DEFAULT_STEADY_TOL,
    delta_floor=DEFAULT_DELTA_FLOOR,
) -> tuple[SteadyState, Float[Array, " n"]]:
    """Chord iteration x ← x − J₀⁻¹F(x) from the unknowns `x0` (n = 6M + 1), with the LU
    factors `lu` of a Jacobian J₀ taken at a *neighbouring* parameter point
    (`factor_jacobian`): no Jacobian, no factorisation, each step one residual and two
    triangular solves, Anderson-accelerated over the last ANDERSON_MEMORY = 5 steps (the
    next iterate minimises the linearised chord step over the step history). Converged when
    the chord step |J₀⁻¹F(x)| ≤ tol(1 + |x|) (max norm) within `max_steps` iterations; the
    last step is a plain chord step. `steady_tol` (E_g/ħ) and `delta_floor` (E_g) as in
    `root_result`. Not differentiable (use `steady_state(params, Newton())` for gradients).
    Returns a `SteadyState` (`stats["newton_steps"]` = chord iterations) and the unknowns.
    Every argument but `params`' structure is traced, `max_steps` too: changing them does
    not recompile, so a compiled caller (`phase_map`'s walk) can pass a traced budget."""
    return _chord_solve(
        float_leaves(params), x0, n_e, lu, *map(jnp.asarray, (tol, steady_tol, delta_floor, max_steps))
    )


@eqx.filter_jit
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
def _chord_solve(params, x0, n_e, lu, tol, steady_tol, delta_floor, max_steps):
    c = coefficients(params, half=True)
    args = (c, n_e)

    m = ANDERSON_MEMORY
    n = x0.shape[0]

    def cond(carry):
        i, x, step, *_ = carry
        return (i < max_steps) & (step > tol) & ~jnp.isnan(step)  # NaN: diverged

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
    out = root_result(
        params, x, n_e, ok, jnp.asarray(True), i, jnp.asarray(0.0), jnp.asarray(0), steady_tol, delta_floor
    )
    return out, x
