"""Modules that can be called like their main function (`ps.fit(...)`, `ps.sweep(...)`)."""

from __future__ import annotations

import types


class _CallableModule(types.ModuleType):
    """A module whose call forwards to its attribute named by `__call_target__`."""

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__call_target__)(*args, **kwargs)


def make_callable(module: types.ModuleType, name: str) -> None:
    """Make `module(...)` call `module.<name>(...)`; every attribute and import path of the
    module keeps working (its class changes, nothing else). The docstring of the call is that
    of the target function."""
    module.__call_target__ = name
    module.__class__ = _CallableModule
