"""Old import path of `photosc_jax.longlived.metastability`, kept working: importing it gives that module
itself (`photosc_jax.metastability is photosc_jax.longlived.metastability`)."""

import sys

from .longlived import metastability as _module

sys.modules[__name__] = _module
