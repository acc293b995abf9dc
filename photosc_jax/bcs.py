"""Old import path of `photosc_jax.longlived.bcs`, kept working: importing it gives that module
itself (`photosc_jax.bcs is photosc_jax.longlived.bcs`)."""

import sys

from .longlived import bcs as _module

sys.modules[__name__] = _module
