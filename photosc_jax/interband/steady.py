"""Steady states of the driven model, detected on gauge-invariant quantities.

In the paired steady state the populations, n21 and |s| are stationary while the phase of
s (and of Δ) rotates uniformly: Δ(t) = |Δ| e^{iμt} (MODEL.md "Steady state"). The detector
therefore measures, at the current state,

- `populations`: max |d/dt| of n11, n22, n21 (gauge invariant);
- `growth`: d ln|s|/dt (= dλ/dt in the solver variables);
- `shape`: max |du/dt − iω u| / rms(u), the change of s's shape in the frame co-rotating at
  the instantaneous frequency ω = Im(u†u̇)/(u†u);

and calls the state steady when all three are below `tol`, or when the populations are
stationary, Δ is below `delta_floor` and still decaying (the normal state below threshold,
where s decays exponentially forever).
"""

from __future__ import annotations

from typing import Any

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._checks import float_leaves
from .equations import coefficients
from .evolve import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, default_solver, solve
from .params import InterbandParams
from .solver_state import pack, rates, split, unpack
from .state import InterbandState, check_mirror_symmetric, initial_state

DEFAULT_STEADY_TOL = 1e-7
DEFAULT_DELTA_FLOOR = 1e-12


class Stationarity(eqx.Module):
    """Residuals of the steady-state conditions (rates in E_g/ħ)."""

    populations: Float[Array, ""]
    growth: Float[Array, ""]
    shape: Float[Array, ""]
    mu: Float[Array, ""]
    delta_abs: Float[Array, ""]

    def is_steady(self, tol, delta_floor) -> Bool[Array, ""]:
        paired = (jnp.abs(self.growth) < tol) & (self.shape < tol)
        normal = (self.delta_abs < delta_floor) & (self.growth < 0)
        return (self.populations < tol) & (paired | normal)


def state_stationarity(state: InterbandState, params: InterbandParams) -> Stationarity:
    """`stationarity` of an `InterbandState` (e.g. `evolve(...).state`)."""
    return stationarity(pack(state), coefficients(params, half=True))


def stationarity(y, c) -> Stationarity:
    """Residuals at the packed solver state `y` (see `solver_state`), with the mirror-reduced
    coefficients `coefficients(params, half=True)`."""
    dn11, dn22, da, db, dur, dui, dlam = rates(y, c)
    _, _, _, u, lam = split(y)
    du, dn21 = dur + 1j * dui, da + 1j * db
    w = c.weights
    delta = jnp.exp(lam) * jnp.conj(c.pair * jnp.sum(w * u))
    uu = jnp.sum(w * jnp.abs(u) ** 2)
    omega = jnp.sum(w * jnp.imag(jnp.conj(u) * du)) / uu
    rms = jnp.sqrt(uu / jnp.sum(w))
    # Δ = conj(pair e^λ Σ_k u): its phase rotates at μ = −Im(Σ_k u̇ / Σ_k u).
    mu = -jnp.imag(jnp.sum(w * du) / jnp.sum(w * u))
    return Stationarity(
        populations=jnp.max(jnp.abs(jnp.concatenate([dn11, dn22, jnp.abs(dn21)]))),
        growth=dlam,
        shape=jnp.max(jnp.abs(du - 1j * omega * u)) / rms,
        mu=mu,
        delta_abs=jnp.abs(delta),
    )


class SteadyState(eqx.Module):
    """Outcome of `steady_state`.

    - `delta_abs`: |Δ| in the steady state (E_g); 0 up to `delta_floor` in the normal state.
    - `mu`: rotation frequency of Δ, Δ(t) ≈ |Δ|e^{iμt} (E_g/ħ); 0 in the normal state.
    - `state`: the final `InterbandState`.
    - `converged`: True iff the detector fired before `t_max` and the solver succeeded.
    - `t`: the time at which the state was declared steady (or where the solve stopped).
    - `residual`: the `Stationarity` residuals at `t`.
    - `stats`, `result`: solver statistics and diffrax result code.
    """

    delta_abs: Float[Array, "*batch"]
    mu: Float[Array, "*batch"]
    state: InterbandState
    converged: Bool[Array, "*batch"]
    t: Float[Array, "*batch"]
    residual: Stationarity
    stats: dict[str, Any]
    result: Any
    params: InterbandParams


def run_to_steady_state(
    params, y0, t_max, tol, delta_floor, solver, rtol, atol, max_steps,
    progress=False, window: int = 0,
):
    """Evolve until the detector fires or `t_max` (pure; jit/vmap-safe). Returns
    (final packed state, its `Stationarity`, converged, diffrax Solution) and, with
    `window > 0`, |Δ| at `window` equally spaced times over the last 20 % of [0, t_max]
    (inf where the run stopped earlier) — what the sweeps use to tell oscillations apart."""
    c = coefficients(params, half=True)

    def cond_fn(t, y, args, **kwargs):
        return stationarity(y, args).is_steady(tol, delta_floor)

    subs = [dfx.SubSaveAt(t1=True)]
    if window:
        late = jnp.linspace(0.8 * t_max, t_max, window)
        subs.append(dfx.SubSaveAt(ts=late, fn=lambda t, y, args: stationarity(y, c).delta_abs))
    sol = solve(
        params, y0, 0.0, t_max, saveat=dfx.SaveAt(subs=subs), solver=solver, rtol=rtol,
        atol=atol, max_steps=max_steps, event=dfx.Event(cond_fn), progress=progress,
    )
    y1 = sol.ys[0][-1]
    res = stationarity(y1, c)
    fired = sol.event_mask if sol.event_mask is not None else False
    ok = (sol.result == dfx.RESULTS.successful) | (sol.result == dfx.RESULTS.event_occurred)
    converged = ok & jnp.asarray(fired) & res.is_steady(tol, delta_floor)
    return y1, res, converged, sol, (sol.ys[1] if window else None)


@eqx.filter_jit
def _steady(params, y0, t_max, tol, delta_floor, solver, rtol, atol, max_steps, progress):
    y1, res, converged, sol, _ = run_to_steady_state(
        params, y0, t_max, tol, delta_floor, solver, rtol, atol, max_steps, progress
    )
    paired = res.delta_abs >= delta_floor
    return (
        jnp.where(paired, res.delta_abs, 0.0),
        jnp.where(paired, res.mu, 0.0),
        unpack(y1),
        converged,
        sol.ts[0][-1],
        res,
        sol.stats,
        sol.result,
    )


def steady_state(
    params: InterbandParams,
    *,
    t_max: float = 50_000.0,
    tol: float = DEFAULT_STEADY_TOL,
    delta_floor: float = DEFAULT_DELTA_FLOOR,
    y0: InterbandState | None = None,
    solver: dfx.AbstractSolver | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_steps: int = DEFAULT_MAX_STEPS,
    progress: bool = False,
    method: str = "evolve",
) -> SteadyState:
    """Evolve from `y0` (default: the paper's initial state) until the steady-state detector
    fires (module docstring) or `t_max` is reached.

    `tol` bounds the stationarity residuals (rates, E_g/ħ); the distance to the fixed point
    is roughly tol / (slowest relaxation rate). `converged=False` flags a run that hit
    `t_max` or failed (check `result`), e.g. slow growth just above threshold, or a limit
    cycle. Never raises on a failed solve.

    `method="direct"` solves the stationary equations in the co-rotating frame by Newton's
    method instead (`direct.direct_steady_state`, same arguments and result type; faster to
    tight tolerances and differentiable by implicit differentiation).

    Example: `ss = steady_state(InterbandParams(Omega=0.25, V=5)); ss.delta_abs, ss.mu`.
    """
    params = float_leaves(params)
    if method == "direct":
        from .direct import direct_steady_state

        return direct_steady_state(
            params, y0=y0, t_max=t_max, tol=tol, delta_floor=delta_floor, solver=solver,
            rtol=rtol, atol=atol, max_steps=max_steps, progress=progress,
        )
    if method != "evolve":
        raise ValueError(f"method={method!r}: use 'evolve' (time evolution) or 'direct' (Newton).")
    if tol <= 0 or delta_floor <= 0:
        raise ValueError("tol and delta_floor must be positive.")
    y0 = initial_state(params) if y0 is None else y0
    check_mirror_symmetric(y0)
    solver = default_solver() if solver is None else solver
    out = _steady(
        params, y0, float(t_max), tol, delta_floor, solver, rtol, atol, int(max_steps), progress
    )
    delta_abs, mu, state, converged, t, res, stats, result = out
    return SteadyState(
        delta_abs=delta_abs, mu=mu, state=state, converged=converged, t=t, residual=res,
        stats=stats, result=result, params=params,
    )
