"""photosc_jax: a JAX toolkit for photo-induced superconductivity.

Two models, each a package:

- Driven-dissipative interband pairing (Porta et al.): `photosc_jax.interband`, with pump
  pulses in `photosc_jax.interband.pulses` (`ps.GaussianPulse`, `ps.FlatTopPulse`,
  `ps.decay_time`).
- Long-lived photo-induced superconductivity (Chattopadhyay et al.): `photosc_jax.longlived`
  — `bcs` (gap equation, free energies), `quasiparticle_trapping` (the gap at a frozen
  quasi-particle number, Fig. 4), `attraction` (U(Q), Eqs. 5, 14), `metastability`
  (landscapes, Q_B/Q_MS/T_B, phase diagram), `materials` (K3C60), `lifetimes` (App. C),
  `langevin` (Eq. 6) and `trapping` (phonon trapping by a pulse).

Shared: `units` (phonon units to meV / THz / K), `sweep` (batched, sharded, resumable
parameter sweeps; `ps.sweep(...)` runs one), `fit` (gradient-based fits; `ps.fit(...)` runs
one), `plot` (figures). Command line: `photosc` (see `photosc --help`). The models, their
conventions and every correction to the papers are documented in `docs/` (`mkdocs build`).

Importing this package turns on JAX's float64 mode (``jax_enable_x64``): the models'
tolerances (rtol 1e-6, atol 1e-9, seeds of 1e-20) are meaningless in float32.
"""

import jax as _jax

# Visible, documented global switch (README "Units and conventions"): float64 by default.
_jax.config.update("jax_enable_x64", True)

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import fit as fit
from . import interband as interband
from . import longlived as longlived
from . import sweep as sweep
from . import units as units
from ._callable import make_callable as _make_callable
from .interband import Evolve as Evolve
from .interband import EvolveResult as EvolveResult
from .interband import FlatTopPulse as FlatTopPulse
from .interband import GaussianPulse as GaussianPulse
from .interband import InterbandParams as InterbandParams
from .interband import InterbandState as InterbandState
from .interband import Newton as Newton
from .interband import SteadyState as SteadyState
from .interband import decay_time as decay_time
from .interband import evolve as evolve
from .interband import initial_state as initial_state
from .interband import order_parameter as order_parameter
from .interband import steady_state as steady_state
from .interband import vector_field as vector_field
from .longlived import attraction as attraction
from .longlived import bcs as bcs
from .longlived import langevin as langevin
from .longlived import lifetimes as lifetimes
from .longlived import materials as materials
from .longlived import metastability as metastability
from .longlived import quasiparticle_trapping as quasiparticle_trapping
from .longlived import trapping as trapping
from .longlived.materials import k3c60 as k3c60
from .longlived.metastability import MetastabilityParams as MetastabilityParams
from .longlived.metastability import analyze as analyze
from .sweep import open_sweep as open_sweep

# `ps.fit(...)` and `ps.sweep(...)` call the module's main function; `photosc_jax.fit.FitResult`,
# `photosc_jax.sweep.open_sweep` etc. stay ordinary module attributes.
_make_callable(fit, "fit")
_make_callable(sweep, "sweep")

try:
    __version__ = _version("photosc_jax")
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
