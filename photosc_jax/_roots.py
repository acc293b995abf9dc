"""Root finds and control flow for programs that are vmapped and sharded over devices.

`batch_cond(pred, expensive, cheap)`: a `lax.cond` that stays a branch under `vmap`.

`newton_chord(fn, x0, args, ...)` is `optimistix.root_find` with `optimistix.Newton` or
`optimistix.Chord` (dense LU, the same step and the same termination rule) and
`ImplicitAdjoint`, written on `lax.while_loop`, `jax.scipy.linalg.lu_factor` and
`lax.custom_root`. It exists because lineax's linear operators do not trace under
`jax.shard_map` (lineax issue #185), and the phase-map rows run under `shard_map` on
several accelerators (`sweeps.engine`, plan "accelerator"); everything here traces under
`jit`, `vmap`, `grad` and `shard_map` and holds no collective.

Units: none (pure numerics).
"""

from __future__ import annotations

import typing

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

KAPPA = 1e-2  # optimistix's contraction-factor tolerance of the Newton/chord termination


class Root(eqx.Module):
    """Outcome of `newton_chord`: `value` (the last iterate), `success` (the termination
    rule met within the step budget, no divergence, no singular Jacobian) and `steps`
    (iterations taken)."""

    value: Float[Array, " n"]
    success: Bool[Array, ""]
    steps: Int[Array, ""]


def newton_chord(
    fn: typing.Callable,
    x0: Float[Array, " n"],
    args,
    *,
    rtol,
    atol,
    max_steps,
    chord: bool,
) -> Root:
    """A root of `fn(x, args)` (a vector function of a vector, length n) from `x0`.

    Newton (`chord=False`: the Jacobian and its LU at every iterate) or the chord method
    (`chord=True`: the LU of the Jacobian at `x0`, reused). Steps stop as optimistix's
    Newton/Chord stop them: with step size d_j = max|Δx / (atol + rtol|x|)| after at least
    two steps, when d_j is at the floating-point resolution, or the contraction factor
    d_j r/(1 − r), r = d_j/d_{j−1}, lies in (0, KAPPA) (success), or r > 2 or not finite
    (divergence); `max_steps` (traced) caps the count. The root is differentiated by the
    implicit function theorem (`lax.custom_root`: one dense solve with the Jacobian of `fn`
    at the root per tangent), whatever path found it; `x0` gets no gradient.
    """
    resolution = 10.0 ** (2 - jnp.finfo(x0.dtype).precision)

    f = lambda x: fn(x, jax.lax.stop_gradient(args))  # noqa: E731 - the iteration: no gradients
    x_init = jax.lax.stop_gradient(x0)
    lu0 = jax.scipy.linalg.lu_factor(jax.jacfwd(f)(x_init)) if chord else None

    def cond(c):
        k, _, _, _, done, _ = c
        return ~done & (k < max_steps)

    def body(c):
        k, x, d, _, _, _ = c
        lu = lu0 if chord else jax.scipy.linalg.lu_factor(jax.jacfwd(f)(x))
        diff = jax.scipy.linalg.lu_solve(lu, f(x))
        x_new = x - diff
        d_new = jnp.max(jnp.abs(diff / (atol + rtol * jnp.abs(x_new))))
        rate = d_new / d
        factor = d_new * rate / (1 - rate)
        small = d_new < resolution
        diverged = ~jnp.isfinite(rate) | (rate > 2)
        converged = (factor > 0) & (factor < KAPPA)
        finite = jnp.all(jnp.isfinite(diff))
        done = ((k + 1 >= 2) & (small | diverged | converged)) | ~finite
        ok = finite & (small | (~diverged & converged))
        return k + 1, x_new, d_new, d, done, ok

    big = jnp.asarray(jnp.inf, x_init.dtype)
    init = (jnp.asarray(0), x_init, big, big, jnp.asarray(False), jnp.asarray(False))
    k, x, _, _, done, ok = jax.lax.while_loop(cond, body, init)

    # the root's tangents by the implicit function theorem: `custom_root` with the root
    # found above as its own solve (no second iteration)
    def tangent_solve(g, y):
        return jnp.linalg.solve(jax.jacfwd(g)(y), y)

    x = jax.lax.custom_root(lambda z: fn(z, args), jax.lax.stop_gradient(x), lambda _, z: z, tangent_solve)
    return Root(value=x, success=ok & done, steps=k)


def batch_cond(pred: Bool[Array, ""], expensive: typing.Callable, cheap: typing.Callable, *operands):
    """`lax.cond(pred, expensive, cheap, *operands)` for batched programs.

    Under `vmap` a `lax.cond` with a batched predicate becomes a select that runs both
    branches for every member. Here the predicate is first reduced over the batch
    (`equinox.internal.unvmap_any`, local to the device: no collective), so `expensive`
    runs only when some member of the batch takes it, and then each member keeps its own
    branch's value. Unbatched, it is `lax.cond`. Both branches must return finite values
    where they are not taken if the result is differentiated (the select's other side gets
    a zero cotangent times the branch's derivative).
    """

    def both(*ops):
        a, b = expensive(*ops), cheap(*ops)
        return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)

    return jax.lax.cond(eqx.internal.unvmap_any(pred), both, cheap, *operands)
