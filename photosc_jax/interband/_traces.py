"""Trace counter for the jitted solver cores: `TRACES[name]` counts how often the core
`name` was traced (once per compilation). Tests use it to prove that changing a float knob
(t1, t_max, tol, rtol, atol, any float parameter) reuses the compiled solver."""

from __future__ import annotations

import collections
import functools

TRACES: collections.Counter[str] = collections.Counter()


def counted(name: str):
    """Decorator (put it *under* `eqx.filter_jit`): count the traces of the wrapped core."""

    def wrap(fn):
        @functools.wraps(fn)
        def traced(*args, **kwargs):
            TRACES[name] += 1
            return fn(*args, **kwargs)

        return traced

    return wrap
