"""One bracketed root finder for both models (optimistix bisection, implicit adjoint)."""

from __future__ import annotations

import jax.numpy as jnp
import optimistix as optx


def bracketed_root(fn, lower, upper, valid=True, *, decreasing: bool, rtol: float, atol: float,
                   max_steps: int, throw: bool = False):
    """Zero of the monotone `fn` on [lower, upper] (decreasing or increasing). Where `valid`
    is False (e.g. inside a vmap over points without a root) a dummy linear problem is
    solved instead so that the batch stays finite; the caller masks the result."""
    mid = 0.5 * (lower + upper)
    sign = -1.0 if decreasing else 1.0

    def g(x, _):
        return jnp.where(valid, fn(x), sign * (x - mid))

    solver = optx.Bisection(rtol=rtol, atol=atol, flip=decreasing)
    sol = optx.root_find(g, solver, mid, None, options=dict(lower=lower, upper=upper),
                         max_steps=max_steps, throw=throw)
    return sol.value
