"""Shared helpers for parameter modules: float64 conversion and value checks that skip
traced values (so params can be built inside jit / vmap / grad)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math

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


@dataclasses.dataclass(frozen=True)
class Range:
    """The range of values a model describes for one parameter: `low <= x <= high` (an end
    excluded where `open_low` / `open_high`), in `unit` ("" if dimensionless); `why` says
    where the bounds come from. A range with `low == -high` reads |x| <= high. Parameter
    classes keep one table {field: Range} (`check_ranges`) and list it in their docstring
    and docs page."""

    low: float
    high: float
    unit: str
    why: str
    open_low: bool = False
    open_high: bool = False

    def ok(self, v):
        """Elementwise: `v` is finite and in the range."""
        lo = v > self.low if self.open_low else v >= self.low
        hi = v < self.high if self.open_high else v <= self.high
        return np.isfinite(v) & lo & hi

    def text(self, name: str) -> str:
        """The range as it reads in messages and docs, e.g. '|V| <= 1000 E_g', '0 < v <= 10 E_g a/ħ'."""
        hi = f"{'<' if self.open_high else '<='} {self.high:g} {self.unit}".rstrip()
        if self.low == -self.high and not self.open_low:
            return f"|{name}| {hi}"
        return f"{self.low:g} {'<' if self.open_low else '<='} {name} {hi}"


def check_ranges(module, ranges: dict[str, Range]) -> None:
    """Raise a one-line `ValueError` for the first field of `module` in `ranges` whose
    concrete value (a scalar or, elementwise, an array) lies outside its `Range`: it names
    `Class.field`, the value, the range and its reason. Traced values are skipped."""
    for name, r in ranges.items():
        v = concrete_array(getattr(module, name))
        if v is None:
            continue
        bad = ~r.ok(v)
        if np.any(bad):
            x = v.reshape(-1)[np.argmax(bad.reshape(-1))].item()
            where, text = f"{type(module).__name__}.{name}", r.text(name)
            if not math.isfinite(x):
                raise ValueError(f"{where} = {x}: not finite; the model's range is {text} ({r.why}).")
            raise ValueError(f"{where} = {x:g}: outside the model's range {text} ({r.why}).")


def require_fields(module, **rules) -> None:
    """`require` for the fields of an `eqx.Module` in its `__check_init__`: each keyword maps
    a field name to `(ok, what)`; the message names the field as `Class.field`."""
    for name, (ok, what) in rules.items():
        require(f"{type(module).__name__}.{name}", getattr(module, name), ok, what)


def finite(v):
    return np.isfinite(v)


def finite_nonneg(v):
    return np.isfinite(v) & (v >= 0)


def finite_positive(v):
    return np.isfinite(v) & (v > 0)


FINITE = (finite, "must be a finite number.")  # a `require_fields` rule


def checked_args(**rules):
    """Decorator: validate named arguments of a public function before it runs (or is jitted).

    `rules` maps an argument name to `(ok, what)`; for every argument whose value is concrete
    (not a tracer: checks are skipped inside jit / vmap / grad, so decorated functions stay
    traceable) `require` raises `ValueError("{fn}: {name} = {value}: {what}")` unless `ok`
    holds elementwise. Defaults count as passed values."""

    def decorate(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, (ok, what) in rules.items():
                if name in bound.arguments:
                    require(f"{fn.__name__}: {name}", bound.arguments[name], ok, what)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
