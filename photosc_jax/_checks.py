"""Shared helpers for parameter modules: float64 conversion and value checks that skip
traced values (so params can be built inside jit / vmap / grad)."""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def as_float(x) -> Float[Array, ""]:
    """Converter for eqx.Module fields: a float64 JAX array (tracers pass through)."""
    return jnp.asarray(x, dtype=jnp.result_type(float))


def float_leaves(tree):
    """`tree` with Python int/float leaves turned into float64 arrays.

    `eqx.tree_at(lambda p: p.V, params, 3.0)` bypasses the field converters and leaves a
    Python float in the module; `eqx.filter_jit` would treat it as static and recompile for
    every new value. Public entry points pass params through this first."""
    return jax.tree.map(
        lambda x: as_float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x,
        tree,
    )


def concrete(x) -> float | None:
    """The Python value of a scalar parameter, or None while it is traced or batched."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return float(np.asarray(x))
    except (TypeError, ValueError):
        return None


def concrete_array(x) -> np.ndarray | None:
    """The NumPy value of an array-like, or None while it is traced."""
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x)


def require(name: str, x, ok, what: str) -> None:
    """Raise `ValueError("{name} = {x}: {what}")` unless `ok(x)` holds elementwise; skipped for
    traced values (checked only where they are concrete, e.g. at construction outside jit)."""
    v = concrete_array(x)
    if v is not None and not np.all(ok(v)):
        raise ValueError(f"{name} = {v}: {what}")


def renamed_keyword(old: str, new: str, what: str):
    """Decorator: accept the keyword `old` as a deprecated alias of `new` for one release.

    Passing `old=` emits a `DeprecationWarning` naming `new` (`what` says what it is) and
    forwards the value; passing both raises `TypeError`. Positional calls are unaffected."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{fn.__name__}() got both {old}= and {new}=; pass only {new}=.")
                warnings.warn(
                    f"{fn.__name__}({old}=...) is deprecated and will be removed in the next release: "
                    f"use {new}=... ({what}).",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
