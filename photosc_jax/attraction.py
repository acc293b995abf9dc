"""Old import path of `photosc_jax.longlived.attraction`, kept working: importing it gives that module
itself (`photosc_jax.attraction is photosc_jax.longlived.attraction`)."""

import sys

from .longlived import attraction as _module

sys.modules[__name__] = _module
