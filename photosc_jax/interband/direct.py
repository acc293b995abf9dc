"""Direct (Newton) steady state of the driven model in the co-rotating frame.

The paired steady state is stationary up to a uniform rotation of the pairing phase,
s_k(t) = s̄_k e^{−iμt}, i.e. Δ(t) = |Δ| e^{iμt} (MODEL.md "Steady state"). In the frame
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

The square system is solved by `optimistix.Newton` with a dense LU (Jacobian by `jacfwd`;
~600 unknowns at the paper's N = 201) and differentiated by `optimistix.ImplicitAdjoint`
(implicit function theorem: one transposed linear solve per gradient). Δ = 0 is a fixed
point for every parameter set, so Newton is started from a paired state: a short time
evolution (`evolve` machinery) from the paper's initial state, stopped at the first maximum
of |s| after the instability. The warm start is `stop_gradient`ed: the gradient comes from
the fixed-point equations alone.

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

from .._checks import concrete
from .equations import Coefficients, anomalous_rate, coefficients, normal_rates
from .evolve import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, default_solver, solve
from .params import InterbandParams
from .solver_state import full_grid, half_grid, pack, rates, split
from .state import InterbandState, check_mirror_symmetric, initial_state
from .steady import DEFAULT_DELTA_FLOOR, DEFAULT_STEADY_TOL, SteadyState, stationarity

DEFAULT_NEWTON_TOL = 1e-11
DEFAULT_NEWTON_STEPS = 40
DEFAULT_WARM_T_MAX = 20_000.0
WARM_S_ON = 1e-3  # rms |s| above which the warm start looks for the first maximum of |s|


def corotating_residual(x: Float[Array, " 6M+1"], args) -> Float[Array, " 6M+1"]:
    """Residual of the stationary equations in the co-rotating frame (module docstring).

    `x` = [n11, n22, Re n21, Im n21, Re s, Im s, μ] on the half grid; `args` =
    (`coefficients(params, half=True)`, N_e). Returns [dn11 (k = 0 entry replaced by
    Σ(n11 + n22) − N_e), dn22, d Re n21, d Im n21, Re(ṡ + iμs), Im(ṡ + iμs), Im Σ_k s].
    """
    c, n_e = args
    m = c.esum.shape[0]
    n11, n22, a, b, sr, si = (x[i * m : (i + 1) * m] for i in range(6))
    mu = x[-1]
    w = c.weights
    sum_r, sum_i = jnp.sum(w * sr), jnp.sum(w * si)
    dn11, dn22, da, db, gamma_s = normal_rates(
        n11, n22, a, b, sr, si, c.pair * sum_r, -c.pair * sum_i, c
    )
    gr, gi = anomalous_rate(sr, si, n11, n22, gamma_s, c, sums=(sum_r, sum_i))
    dn11 = dn11.at[0].set(jnp.sum(w * (n11 + n22)) - n_e)
    return jnp.concatenate([dn11, dn22, da, db, gr - mu * si, gi + mu * sr, sum_i[None]])


def to_unknowns(y: Float[Array, " 6M+1"], c: Coefficients) -> Float[Array, " 6M+1"]:
    """Newton unknowns from a packed solver state `y` (see `solver_state`): s = e^λ u rotated
    so that Σ_k s is real positive (Δ real), and μ estimated from the instantaneous rotation."""
    n11, n22, n21, u, lam = split(y)
    s = jnp.exp(lam) * u
    total = jnp.sum(c.weights * s)
    s = s * jnp.conj(total) / jnp.maximum(jnp.abs(total), 1e-300)
    mu = stationarity(y, c).mu
    return jnp.concatenate([n11, n22, n21.real, n21.imag, s.real, s.imag, mu[None]])


def from_unknowns(x: Float[Array, " 6M+1"]) -> InterbandState:
    """Full-grid `InterbandState` from the Newton unknowns (μ dropped)."""
    m = (x.shape[0] - 1) // 6
    n11, n22, a, b, sr, si = (x[i * m : (i + 1) * m] for i in range(6))
    return InterbandState(*(full_grid(v) for v in (n11, n22, a + 1j * b, sr + 1j * si)))


def _warm_start(params, y0, t_max, solver, rtol, atol, max_steps):
    """Evolve from `y0` until |s| passes its first maximum after exceeding WARM_S_ON (rms)."""
    c = coefficients(params, half=True)
    log_on = jnp.log(WARM_S_ON)

    def cond_fn(t, y, args, **kwargs):
        return (y[-1] > log_on) & (rates(y, args)[-1] < 0)

    sol = solve(params, y0, 0.0, t_max, saveat=dfx.SaveAt(t1=True), solver=solver, rtol=rtol,
                atol=atol, max_steps=max_steps, event=dfx.Event(cond_fn))
    y1 = sol.ys[-1]
    n11, n22 = split(y1)[:2]
    n_e = jnp.sum(c.weights * (n11 + n22))
    return to_unknowns(y1, c), n_e, sol.ts[-1], sol.stats["num_steps"], y1[-1] > log_on


def _newton(params, x0, n_e, tol, max_steps):
    c = coefficients(params, half=True)
    solver = optx.Newton(rtol=tol, atol=tol, linear_solver=lx.LU())
    sol = optx.root_find(corotating_residual, solver, x0, (c, n_e), max_steps=max_steps,
                         adjoint=optx.ImplicitAdjoint(linear_solver=lx.LU()), throw=False)
    return sol.value, sol.result, sol.stats["num_steps"]


@eqx.filter_jit
def _direct(params, y0, warm_t_max, newton_tol, newton_steps, tol, delta_floor, solver, rtol,
            atol, max_steps):
    p_sg = jax.lax.stop_gradient(params)
    c_sg = coefficients(p_sg, half=True)
    x0, n_e, t_warm, warm_steps, paired0 = jax.lax.stop_gradient(
        _warm_start(p_sg, y0, warm_t_max, solver, rtol, atol, max_steps)
    )
    x, result, n_steps = _newton(params, x0, n_e, newton_tol, newton_steps)
    c = coefficients(params, half=True)
    x_sg = jax.lax.stop_gradient(x)
    max_res = jnp.max(jnp.abs(corotating_residual(x_sg, (c_sg, n_e))))
    state = from_unknowns(x)
    res = stationarity(pack(from_unknowns(x_sg)), c_sg)
    delta_abs = jnp.abs(c.pair * jnp.sum(c.weights * half_grid(state.s21)))
    ok = (result == optx.RESULTS.successful) & paired0 & (delta_abs > delta_floor)
    converged = ok & res.is_steady(tol, delta_floor) & jnp.all(jnp.isfinite(x))
    stats = dict(newton_steps=n_steps, warm_steps=warm_steps, max_residual=max_res,
                 fallback=jnp.asarray(False))
    return SteadyState(delta_abs=delta_abs, mu=x[-1], state=state, converged=converged,
                       t=t_warm, residual=res, stats=stats, result=result, params=params)


def direct_steady_state(
    params: InterbandParams,
    *,
    y0: InterbandState | None = None,
    warm_t_max: float = DEFAULT_WARM_T_MAX,
    newton_tol: float = DEFAULT_NEWTON_TOL,
    newton_steps: int = DEFAULT_NEWTON_STEPS,
    fallback: bool = True,
    t_max: float = 50_000.0,
    tol: float = DEFAULT_STEADY_TOL,
    delta_floor: float = DEFAULT_DELTA_FLOOR,
    solver: dfx.AbstractSolver | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: bool = False,
) -> SteadyState:
    """Paired steady state by Newton's method in the co-rotating frame (module docstring).

    **Arguments:**

    - `params`: an `InterbandParams`; any field may be traced (`jax.grad` through
      `eqx.tree_at`): gradients of `delta_abs`, `mu` and `state` follow from the implicit
      function theorem (`optimistix.ImplicitAdjoint`).
    - `y0`: start of the warm-start evolution (default: the paper's initial state). A nearby
      paired steady state (e.g. `previous.state` in a parameter scan) ends the warm start
      after one step.
    - `warm_t_max`: time limit (ħ/E_g) of the warm start; it stops at the first maximum of
      |s| once rms|s| > 10⁻³.
    - `newton_tol`, `newton_steps`: Newton's rtol = atol and step budget.
    - `fallback`: if Newton fails or the warm start never paired (below threshold) and the
      values are concrete (not under `jit`/`grad`/`vmap`), return
      `steady_state(params, method="evolve")` from `y0` instead (`stats["fallback"]`).
    - `t_max`, `tol`, `delta_floor`, `solver`, `rtol`, `atol`, `max_steps`, `progress`: as in
      `steady_state` (used by the warm start and the fallback); `converged` also requires the
      gauge-invariant `Stationarity` residuals below `tol`.

    **Returns:** a `SteadyState`: `delta_abs` = |Δ| (E_g), `mu` = d arg Δ/dt (E_g/ħ), `state`
    in the gauge Δ real, `converged`, `t` = end of the warm start, `residual`
    (`Stationarity`), `stats` (`newton_steps`, `warm_steps`, `max_residual` = max-norm of
    the co-rotating residual, `fallback`), `result` (optimistix result code; the diffrax
    code after a fallback).

    Under tracing no fallback is possible: check `converged` (False below threshold, where
    Newton has no paired root to find and Δ_ss = 0; see `stability.critical_V`).

    Example: `direct_steady_state(InterbandParams()).delta_abs` → 0.0190488 (Fig. 3 point).
    """
    if newton_tol <= 0 or tol <= 0 or delta_floor <= 0:
        raise ValueError("newton_tol, tol and delta_floor must be positive.")
    if newton_steps < 1:
        raise ValueError(f"newton_steps={newton_steps}: need at least one Newton step.")
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    solver = default_solver() if solver is None else solver
    out = _direct(params, y0, float(warm_t_max), float(newton_tol), int(newton_steps),
                  float(tol), float(delta_floor), solver, rtol, atol, int(max_steps))
    done = concrete(out.converged)
    if not fallback or done is None or done:
        return out
    from .steady import steady_state

    ev = steady_state(params, y0=y0, t_max=t_max, tol=tol, delta_floor=delta_floor,
                      solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
                      progress=progress)
    stats = dict(ev.stats, **{k: v for k, v in out.stats.items() if k != "fallback"},
                 fallback=jnp.asarray(True))
    return eqx.tree_at(lambda s: s.stats, ev, stats)
