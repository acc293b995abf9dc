"""Fit model parameters to targets by gradients (Levenberg–Marquardt or any optax optimiser).

Parameters are chosen by field name on an `eqx.Module` (e.g. `InterbandParams`,
`MetastabilityParams`) or as keys of a dict of scalars, each mapped to an unconstrained
variable z by a transform: `None` (identity), `"positive"` (x = softplus(z)), or a bounds
pair `(lo, hi)` (x = lo + (hi − lo) sigmoid(z)). The target is a `residual(params)` function
returning a scalar or a vector r; the loss is ½‖r‖². Gradients come from JAX: through
`steady_state(p, Newton())` by implicit differentiation, through `evolve` by diffrax's
reverse-mode adjoint, through the bisections of `bcs`/`metastability` by optimistix.

Units: whatever the model uses (E_g = ħ = 1 for part I, phonon units for part II).

Example: the V at which |Δ_ss| = 0.015 E_g at Ω = 0.25,

    fit(lambda p: steady_state(p, Newton()).delta_abs - 0.015, InterbandParams(V=4.0),
        {"V": (2.5, 10.0)})
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Float

Transform = None | str | tuple[float, float]


class FitResult(eqx.Module):
    """Outcome of `fit`: `params` (fitted, same type as the input), `values` (dict name →
    fitted value), `loss_history` (½‖r‖² per accepted step, first entry at the start),
    `success` (loss or relative step below tolerance within `max_steps`), `n_steps`."""

    params: Any
    values: dict[str, Float[Array, ""]]
    loss_history: Float[Array, " n"]
    success: bool = eqx.field(static=True)
    n_steps: int = eqx.field(static=True)


def _check_transform(name, tr):
    if tr is None or tr == "positive":
        return
    if isinstance(tr, tuple) and len(tr) == 2 and float(tr[0]) < float(tr[1]):
        return
    raise ValueError(
        f"Transform for {name!r} is {tr!r}: use None, 'positive' or a bounds pair (lo, hi) with lo < hi."
    )


def _to_x(tr, z):
    if tr is None:
        return z
    if tr == "positive":
        return jax.nn.softplus(z)
    lo, hi = tr
    return lo + (hi - lo) * jax.nn.sigmoid(z)


def _to_z(name, tr, x):
    x = float(x)
    if tr is None:
        return x
    if tr == "positive":
        if x <= 0:
            raise ValueError(f"Initial {name} = {x} must be positive for the 'positive' transform.")
        return float(np.log(np.expm1(x))) if x < 30 else x
    lo, hi = map(float, tr)
    if not lo < x < hi:
        raise ValueError(f"Initial {name} = {x} lies outside its bounds {tr}; start inside them.")
    u = (x - lo) / (hi - lo)
    return float(np.log(u / (1 - u)))


def _get(params, name):
    return params[name] if isinstance(params, dict) else getattr(params, name)


def _set(params, names, values):
    if isinstance(params, dict):
        return {**params, **dict(zip(names, values))}
    return eqx.tree_at(lambda p: [getattr(p, n) for n in names], params, list(values))


def fit(
    residual: Callable[[Any], Float[Array, "..."]],
    params: Any,
    parameters: dict[str, Transform] | list[str],
    *,
    optimizer: Any = None,
    max_steps: int = 50,
    tol: float = 1e-20,
    rtol: float = 1e-10,
    progress: bool = True,
) -> FitResult:
    """Minimise ½‖residual(params)‖² over the named parameters.

    **Arguments:**

    - `residual`: params → scalar or vector residual (differentiable; e.g.
      `lambda p: steady_state(p, Newton()).delta_abs - 0.015`).
    - `params`: initial parameters (an `eqx.Module` or a dict of scalars).
    - `parameters`: names to fit, as a list (no transform) or a dict name → transform
      (`None`, `"positive"`, `(lo, hi)`).
    - `optimizer`: `None` → Levenberg–Marquardt with the Jacobian by `jax.jacrev` (best for
      few parameters and small residuals); or an `optax.GradientTransformation` (gradient
      steps on the loss, e.g. `optax.adam(1e-2)`).
    - `max_steps`, `tol` (absolute loss), `rtol` (relative step in z): stopping rules.
    - `progress`: a tqdm bar (only when stderr is a TTY).

    **Returns:** a `FitResult`. Never raises on non-convergence: check `success`.
    """
    if isinstance(parameters, (list, tuple)):
        parameters = {n: None for n in parameters}
    if not parameters:
        raise ValueError("Choose at least one parameter to fit, e.g. {'V': (2.5, 10.0)}.")
    names = list(parameters)
    for n in names:
        _check_transform(n, parameters[n])
        try:
            _get(params, n)
        except (AttributeError, KeyError):
            raise ValueError(f"{type(params).__name__} has no parameter {n!r}.") from None
    trs = [parameters[n] for n in names]

    def unpack(z):
        return _set(params, names, [_to_x(t, z[i]) for i, t in enumerate(trs)])

    def r_of_z(z):
        return jnp.atleast_1d(jnp.asarray(residual(unpack(z)), dtype=float))

    z = jnp.asarray([_to_z(n, t, _get(params, n)) for n, t in zip(names, trs)], dtype=float)
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=max_steps, desc="fit", leave=False)
    loss0 = 0.5 * float(jnp.sum(r_of_z(z) ** 2))
    run = _least_squares if optimizer is None else _optax_descent
    z, history, converged, steps = run(r_of_z, z, loss0, optimizer, max_steps, tol, rtol, bar)
    if bar is not None:
        bar.close()
    fitted = unpack(z)
    return FitResult(
        params=fitted,
        values={n: _get(fitted, n) for n in names},
        loss_history=jnp.asarray(history),
        success=bool(converged),
        n_steps=steps,
    )


def _least_squares(r_of_z, z, loss0, optimizer, max_steps, tol, rtol, bar):
    """optimistix Levenberg–Marquardt, stepped from Python so that each accepted step's loss
    is recorded and shown (the documented interactive use of an optimistix solver)."""
    del optimizer
    solver = optx.LevenbergMarquardt(rtol=rtol, atol=1e-14)
    fn = lambda z, args: (r_of_z(z), None)  # noqa: E731
    # Reverse-mode Jacobians: forward mode through the Newton steady state is not supported.
    opts, tags = {"jac": "bwd"}, frozenset()
    f_struct = jax.eval_shape(lambda: r_of_z(z))
    state = solver.init(fn, z, None, opts, f_struct, None, tags)
    step = eqx.filter_jit(lambda z, st: solver.step(fn, z, None, opts, st, tags)[:2])
    terminate = eqx.filter_jit(lambda z, st: solver.terminate(fn, z, None, opts, st, tags))
    history, converged, steps = [loss0], loss0 <= tol, 0
    while not converged and steps < max_steps:
        z, state = step(z, state)
        steps += 1
        loss = float(state.f_info.as_min())  # ½‖r‖² at the last accepted point
        if steps > 1 and loss != history[-1]:
            history.append(loss)
        done, result = terminate(z, state)
        converged = loss <= tol or (bool(done) and result == optx.RESULTS.successful)
        if bool(done) and not converged:
            break
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3e}")
    return z, history, converged, steps


def _optax_descent(r_of_z, z, loss0, optimizer, max_steps, tol, rtol, bar):
    """Plain optax loop on the loss ½‖r‖² (for many parameters or noisy targets)."""
    import optax

    loss_and_grad = eqx.filter_jit(jax.value_and_grad(lambda z: 0.5 * jnp.sum(r_of_z(z) ** 2)))
    opt_state = optimizer.init(z)
    history, converged, steps = [loss0], loss0 <= tol, 0
    while not converged and steps < max_steps:
        loss, g = loss_and_grad(z)
        updates, opt_state = optimizer.update(g, opt_state, z)
        z_new = optax.apply_updates(z, updates)
        steps += 1
        small = float(jnp.max(jnp.abs(z_new - z) / (1.0 + jnp.abs(z)))) < rtol
        z = z_new
        history.append(float(loss_and_grad(z)[0]))
        converged = history[-1] <= tol or small
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history[-1]:.3e}")
    return z, history, converged, steps
