"""Steady states along a line in parameter space by numerical continuation.

Along a scan θ_0, θ_1, … of one `InterbandParams` field, each paired steady state is found
from a *secant predictor* — the linear extrapolation of the two previous solutions (the
Newton unknowns of `direct`, in the gauge Δ real, so they can be extrapolated) — by the
chord iteration x ← x − J₀⁻¹F(x) with the LU factors of a Jacobian J₀ from an *earlier*
point (`direct.chord_solve`): no time evolution, no Jacobian and no factorisation per
point, only residual evaluations and triangular solves. J₀ is refreshed when the chord
iteration slows down (> `REFACTOR_AFTER` iterations). The first point, a point after an
unpaired one (below threshold, Δ_ss = 0) and any point where the chord iteration fails are
solved by `direct_steady_state` (warm start, Newton, fallback to evolution), so the scan may
cross the phase boundary in either direction. The result at each point is the same root
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
    DEFAULT_NEWTON_TOL,
    chord_solve,
    direct_steady_state,
    electron_number,
    factor_jacobian,
    from_unknowns,
    unknowns_of,
)
from .params import _FIELDS, InterbandParams
from .steady import DEFAULT_DELTA_FLOOR, DEFAULT_STEADY_TOL, SteadyState

REFACTOR_AFTER = CHORD_STEPS // 2  # chord iterations beyond which the Jacobian is refreshed


def continuation(
    params: InterbandParams,
    name: str,
    values: Float[Array, " n"],
    *,
    progress: bool = False,
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
    - `progress`: a tqdm bar over the points.
    - `kwargs`: passed to `direct_steady_state` (e.g. `newton_tol`, `tol`, `fallback`).

    **Returns:** one `SteadyState` whose leaves carry a leading axis of length `len(values)`
    (`delta_abs`, `mu`, `state`, `converged`, `stats` = the direct solver's `newton_steps`
    (chord iterations at continued points), `warm_steps` (0 at continued points),
    `max_residual`, `fallback`, and `params` with the scanned field batched;
    `result` is None). Check `converged` per point; below threshold `delta_abs` is 0 (found by the
    direct solver's fallback to time evolution, flagged in `stats["fallback"]`).

    Example: `r = continuation(InterbandParams(), "V", jnp.linspace(8, 2.5, 23)); r.delta_abs`
    (0.3 s on 2 CPU cores, 13× faster than evolving each point; benchmarks/RESULTS.md).
    """
    if "y0" in kwargs:
        raise ValueError("continuation chooses each point's starting state itself; drop y0 "
                         "(to start from a given state, call direct_steady_state(params, y0=...)).")
    if name not in _FIELDS:
        raise ValueError(f"name={name!r} is not a scannable InterbandParams field; use one of "
                         f"{list(_FIELDS)} (k_max and dk fix the grid and cannot be continued).")
    vals = np.asarray(values, dtype=float).reshape(-1)
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise ValueError(f"values must be a non-empty array of finite numbers, got {values}.")
    it = range(vals.size)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"continuation in {name}", unit="pt")
    n_e = electron_number(params)
    newton_tol = kwargs.get("newton_tol", DEFAULT_NEWTON_TOL)
    chord_kw = dict(tol=newton_tol, steady_tol=kwargs.get("tol", DEFAULT_STEADY_TOL),
                    delta_floor=kwargs.get("delta_floor", DEFAULT_DELTA_FLOOR))
    out, hist, lu = [], [], None  # hist: (value, unknowns) of the last paired solutions
    for i in it:
        p = eqx.tree_at(lambda q: getattr(q, name), params, jnp.asarray(vals[i]))
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
            r = direct_steady_state(p, y0=None if x_pred is None else from_unknowns(x_pred),
                                    **kwargs)
            if x_pred is not None and not bool(r.converged):  # predictor too far
                r = direct_steady_state(p, **kwargs)
            x = unknowns_of(r)
            lu = factor_jacobian(p, x, n_e) if _paired(r) else None
        hist = (hist + [(vals[i], x)])[-2:] if _paired(r) else []
        out.append(_uniform(r))
    return jax.tree.map(lambda *xs: jnp.stack(xs), *out)


def _paired(r: SteadyState) -> bool:
    return bool(r.converged) and not bool(r.stats["fallback"]) and float(r.delta_abs) > 0


_STATS = ("newton_steps", "warm_steps", "max_residual", "fallback")


def _uniform(r: SteadyState) -> SteadyState:
    """Same pytree structure for every point (a fallback result carries the evolution's
    stats and a diffrax result code): the direct solver's stats, `result` dropped."""
    stats = {k: jnp.asarray(r.stats[k]) for k in _STATS}
    return eqx.tree_at(lambda s: (s.stats, s.result), r, (stats, None),
                       is_leaf=lambda x: x is None)
