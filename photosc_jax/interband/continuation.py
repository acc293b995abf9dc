"""Steady states along a line in parameter space by numerical continuation.

Along a scan θ_0, θ_1, … of one `InterbandParams` field, each paired steady state is found
from a *secant predictor* — the linear extrapolation of the two previous solutions (the
Newton unknowns of `direct`, in the gauge Δ real, so they can be extrapolated) — by the
chord iteration x ← x − J₀⁻¹F(x) with the LU factors of a Jacobian J₀ from an *earlier*
point (`direct.chord_solve`): no time evolution, no Jacobian and no factorisation per
point, only residual evaluations and triangular solves. J₀ is refreshed when the chord
iteration slows down (> `REFACTOR_AFTER` iterations). The first point, a point after an
unpaired one (below threshold, Δ_ss = 0) and any point where the chord iteration fails are
solved by the whole `Newton` method (warm start, Newton, its `fallback` evolution), so the
scan may cross the phase boundary in either direction. With `method=Evolve(...)` each point
is instead evolved from the previous point's steady state. The result at each point is the same root
the direct solver finds (tested to 1e-10).

Units: E_g = ħ = 1.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .direct import (
    CHORD_STEPS,
    chord_solve,
    electron_number,
    factor_jacobian,
    from_unknowns,
    newton_steady_state,
    unknowns_of,
)
from .methods import DEFAULT_STEADY_TOL, AbstractSteadyStateMethod, Evolve, Newton, newton_method
from .outcomes import RESULTS
from .params import _FIELDS, InterbandParams
from .steady import SteadyState, evolve_steady_state

REFACTOR_AFTER = CHORD_STEPS // 2  # chord iterations beyond which the Jacobian is refreshed


def continuation(
    params: InterbandParams,
    name: str,
    values: Float[Array, " n"],
    *,
    method: AbstractSteadyStateMethod | None = None,
    progress: bool = False,
    throw: bool = False,
    **kwargs,
) -> SteadyState:
    """Paired steady states at `params` with field `name` set to each of `values`, in order.

    **Arguments:**

    - `params`: the other parameters (any `InterbandParams`).
    - `name`: the field to scan (`"V"`, `"Omega"`, `"gamma_ph"`, `"gamma_rr"`, `"v"`, `"T"`,
      `"A1"`, `"A2"`).
    - `values`: the scan values, in the order to visit them (a monotonic, reasonably fine
      scan converges fastest; steps of a few per cent of the value are typical). Start far
      from threshold: the one cold solve is cheapest where pairing sets in fast (at Fig. 3
      parameters 0.06 s at V = 8, 0.3 s at V = 2.5).
    - `method`: `Newton(...)` (default `Newton()`: secant predictor and chord corrector as
      above; its `tol` is the chord tolerance, cold points use the whole method including
      its `fallback`), or `Evolve(...)` (each point evolved from the previous point's
      paired steady state; the first, and those after a normal one, from the paper's
      initial state).
    - `progress`: a tqdm bar over the points.
    - `throw`: raise the outcome message (`outcomes.RESULTS`) of the first point that did
      not succeed, after the scan. Default False.
    - `kwargs`: the keyword form instead of `method`, as for `direct_steady_state` (e.g.
      `newton_tol`, `tol`, `fallback`; they build the `Newton` object).

    **Returns:** one `SteadyState` whose leaves carry a leading axis of length `len(values)`
    (`delta_abs`, `mu`, `state`, `converged`, `result` (`RESULTS` per point), `stats` = the
    direct solver's `newton_steps` (chord iterations at continued points), `warm_steps` (0
    at continued points), `max_residual`, `fallback` (with `Evolve`: the evolution's
    stats), and `params` with the scanned field batched). Check `converged` per point; below
    threshold `delta_abs` is 0 (found by the fallback to time evolution, flagged in
    `stats["fallback"]`).

    Example: `r = continuation(InterbandParams(), "V", jnp.linspace(8, 2.5, 23)); r.delta_abs`
    (0.3 s on 2 CPU cores, 13× faster than evolving each point; benchmarks/RESULTS.md).
    """
    if "y0" in kwargs:
        raise ValueError(
            "continuation chooses each point's starting state itself; drop y0 "
            "(to start from a given state, call steady_state(params, y0=...))."
        )
    if name not in _FIELDS:
        raise ValueError(
            f"name={name!r} is not a scannable InterbandParams field; use one of "
            f"{list(_FIELDS)} (k_max and dk fix the grid and cannot be continued)."
        )
    if method is not None and kwargs:
        raise ValueError(
            f"continuation(method=..., {', '.join(kwargs)}=...): set these on the "
            "method object instead, e.g. method=Newton(tol=1e-12)."
        )
    method = newton_method(**kwargs) if method is None else method
    if not isinstance(method, (Newton, Evolve)):
        raise ValueError(f"method={method!r}: continuation takes Newton(...) or Evolve(...).")
    vals = np.asarray(values, dtype=float).reshape(-1)
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise ValueError(f"values must be a non-empty array of finite numbers, got {values}.")
    it = range(vals.size)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"continuation in {name}", unit="pt")
    points = [eqx.tree_at(lambda q: getattr(q, name), params, jnp.asarray(v)) for v in vals]
    scan = _by_evolution if isinstance(method, Evolve) else _by_newton
    out = jax.tree.map(lambda *xs: jnp.stack(xs), *scan(points, vals, method, it))
    if throw:
        bad = np.flatnonzero(~np.asarray(out.converged))
        if bad.size:
            i = int(bad[0])
            msg = RESULTS[jax.tree.map(lambda x: x[i], out.result)]
            raise RuntimeError(
                f"continuation: {bad.size} of {vals.size} points failed; the first, "
                f"{name} = {vals[i]:g} (index {i}): {msg}"
            )
    return out


def _by_evolution(points, vals, method, it):
    out, y0 = [], None
    for i in it:
        r = evolve_steady_state(points[i], method, y0=y0)
        # continue from a paired state only: a normal one may carry s ≡ 0 exactly, which
        # stays normal even where it is unstable
        paired = bool(r.converged) and float(r.delta_abs) > 0
        y0 = r.state if paired else None
        out.append(r)
    return out


def _by_newton(points, vals, method, it):
    n_e = electron_number(points[0])
    chord_kw = dict(tol=method.tol, steady_tol=DEFAULT_STEADY_TOL, delta_floor=method.delta_floor)
    out, hist, lu = [], [], None  # hist: (value, unknowns) of the last paired solutions
    for i in it:
        p = points[i]
        x_pred = None
        if len(hist) == 2:
            (a, xa), (b, xb) = hist
            x_pred = xb + (vals[i] - b) / (b - a) * (xb - xa) if b != a else xb
        elif len(hist) == 1:
            x_pred = hist[0][1]
        r = None
        if x_pred is not None and lu is not None:
            r, x = chord_solve(p, x_pred, n_e, lu, **chord_kw)
            if not bool(r.converged):  # stale Jacobian: refresh it here and try once more
                lu = factor_jacobian(p, x_pred, n_e)
                r, x = chord_solve(p, x_pred, n_e, lu, **chord_kw)
            if not bool(r.converged):
                r = None
            elif int(r.stats["newton_steps"]) > REFACTOR_AFTER:
                lu = factor_jacobian(p, x, n_e)  # the old Jacobian is getting stale
        if r is None:  # first point, after a gap, or the chord iteration failed
            r = newton_steady_state(p, method, y0=None if x_pred is None else from_unknowns(x_pred))
            if x_pred is not None and not bool(r.converged):  # predictor too far
                r = newton_steady_state(p, method)
            x = unknowns_of(r)
            lu = factor_jacobian(p, x, n_e) if _paired(r) else None
        hist = (hist + [(vals[i], x)])[-2:] if _paired(r) else []
        out.append(_uniform(r))
    return out


def _paired(r: SteadyState) -> bool:
    return bool(r.converged) and not bool(r.stats["fallback"]) and float(r.delta_abs) > 0


_STATS = ("newton_steps", "warm_steps", "max_residual", "fallback")


def _uniform(r: SteadyState) -> SteadyState:
    """Same pytree structure for every point (a fallback result carries the evolution's
    stats): the direct solver's stats, with uniform dtypes."""
    stats = {k: jnp.asarray(r.stats[k]) for k in _STATS}
    stats["newton_steps"] = stats["newton_steps"].astype(jnp.int32)
    stats["warm_steps"] = stats["warm_steps"].astype(jnp.int32)
    return eqx.tree_at(lambda s: s.stats, r, stats)
