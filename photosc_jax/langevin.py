"""Old import path of the Langevin model, kept working: the SDE of `photosc_jax.longlived.langevin`
and the trapping analysis of `photosc_jax.longlived.trapping` (one module before the split)."""

from .longlived.langevin import *  # noqa: F403
from .longlived.langevin import __all__ as _sde
from .longlived.trapping import *  # noqa: F403
from .longlived.trapping import __all__ as _trapping

__all__ = [*_sde, *_trapping]
