"""Old import path of `photosc_jax.longlived.materials`, kept working: importing it gives that module
itself (`photosc_jax.materials is photosc_jax.longlived.materials`)."""

import sys

from .longlived import materials as _module

sys.modules[__name__] = _module
