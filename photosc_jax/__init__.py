"""photosc_jax: a JAX toolkit for photo-induced superconductivity.

Two models, each a small family of modules:

- Driven-dissipative interband pairing (Porta et al.): `photosc_jax.interband`.
- Long-lived photo-induced superconductivity (Chattopadhyay et al.): `bcs` (gap equation,
  free energies, quasi-particle trapping), `attraction` (U(Q), Eqs. 5, 14), `metastability`
  (landscapes, Q_B/Q_MS/T_B, phase diagram), `materials` (K3C60), `lifetimes` (App. C),
  `langevin` (Eq. 6); `units` converts phonon units to meV / THz / K.

Shared: `sweep` (batched, sharded, resumable parameter sweeps), `plot` (figures, one call
each), `fit` (gradient-based parameter fits). Command line: `photosc` (see `photosc --help`).

Importing this package turns on JAX's float64 mode (``jax_enable_x64``): the models'
tolerances (rtol 1e-6, atol 1e-9, seeds of 1e-20) are meaningless in float32.
"""

import jax as _jax

# Visible, documented global switch (README "Units and conventions"): float64 by default.
_jax.config.update("jax_enable_x64", True)

from . import attraction as attraction
from . import bcs as bcs
from . import fit as fit
from . import interband as interband
from . import langevin as langevin
from . import lifetimes as lifetimes
from . import materials as materials
from . import metastability as metastability
from . import units as units
from .interband import EvolveResult as EvolveResult
from .interband import InterbandParams as InterbandParams
from .interband import InterbandState as InterbandState
from .interband import SteadyState as SteadyState
from .interband import evolve as evolve
from .interband import initial_state as initial_state
from .interband import order_parameter as order_parameter
from .interband import steady_state as steady_state
from .interband import vector_field as vector_field
from .materials import k3c60 as k3c60
from .metastability import MetastabilityParams as MetastabilityParams
from .metastability import analyze as analyze

__version__ = "0.1.0"
