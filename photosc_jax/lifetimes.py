"""Old import path of `photosc_jax.longlived.lifetimes`, kept working: importing it gives that module
itself (`photosc_jax.lifetimes is photosc_jax.longlived.lifetimes`)."""

import sys

from .longlived import lifetimes as _module

sys.modules[__name__] = _module
