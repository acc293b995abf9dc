"""Shared helpers for parameter modules: float64 conversion and value checks that skip
traced values (so params can be built inside jit / vmap / grad)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def as_float(x) -> Float[Array, ""]:
    """Converter for eqx.Module fields: a float64 JAX array (tracers pass through)."""
    return jnp.asarray(x, dtype=jnp.result_type(float))


def concrete(x) -> float | None:
    """The Python value of a scalar parameter, or None while it is traced or batched."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return float(np.asarray(x))
    except (TypeError, ValueError):
        return None
