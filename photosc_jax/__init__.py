"""photosc_jax: a JAX toolkit for photo-induced superconductivity.

Importing this package turns on JAX's float64 mode (``jax_enable_x64``): the models'
tolerances (rtol 1e-6, atol 1e-9, seeds of 1e-20) are meaningless in float32.
"""

import jax as _jax

# Visible, documented global switch (README "Units and conventions"): float64 by default.
_jax.config.update("jax_enable_x64", True)

from . import interband as interband  # noqa: E402
from .interband import InterbandParams as InterbandParams  # noqa: E402
from .interband import InterbandState as InterbandState  # noqa: E402
from .interband import initial_state as initial_state  # noqa: E402
from .interband import order_parameter as order_parameter  # noqa: E402
from .interband import vector_field as vector_field  # noqa: E402

__version__ = "0.1.0"
