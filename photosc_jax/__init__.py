"""photosc_jax: a JAX toolkit for photo-induced superconductivity.

Two models, each a package:

- `interband`: driven-dissipative interband pairing (Porta et al.) — `InterbandParams`,
  `evolve`, `steady_state` with a method object (`Evolve`, `Newton`), pump pulses.
- `longlived`: long-lived photo-induced superconductivity (Chattopadhyay et al.) — `bcs`,
  `attraction`, `metastability`, `quasiparticle_trapping`, `materials`, `lifetimes`,
  `langevin`, `trapping`.

Shared: `sweep` / `open_sweep` (batched, resumable parameter sweeps into zarr stores), `fit`
(gradient-based fits), `plot` (figures), `units` (phonon units to meV / THz / K). Command
line: `photosc --help`. Equations, conventions and every correction to the papers: `docs/`.

Importing this package turns on JAX's float64 mode (``jax_enable_x64``): the models'
tolerances (rtol 1e-6, atol 1e-9, seeds of 1e-20) are meaningless in float32. It also turns
on JAX's persistent compilation cache (``jax_compilation_cache_dir``, default
``~/.cache/photosc_jax/jax``; ``PHOTOSC_JAX_CACHE=DIR`` moves it, ``PHOTOSC_JAX_CACHE=off``
turns it off; a cache the user configured is kept): programs compiled once are loaded by
later processes instead of compiled again (`photosc_jax._compilation_cache`).
"""

import jax as _jax

# Visible, documented global switch (docs/conventions.md): float64 by default.
_jax.config.update("jax_enable_x64", True)

from ._compilation_cache import configure as _configure_cache

_configure_cache()  # visible, documented (docs/conventions.md): compile once per machine

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import interband as interband
from . import longlived as longlived
from . import units as units
from .fitting import fit as fit
from .interband import Evolve as Evolve
from .interband import InterbandParams as InterbandParams
from .interband import Newton as Newton
from .interband import evolve as evolve
from .interband import steady_state as steady_state
from .longlived.materials import k3c60 as k3c60
from .longlived.metastability import MetastabilityParams as MetastabilityParams
from .longlived.metastability import analyze as analyze
from .sweeps import open_sweep as open_sweep
from .sweeps import sweep as sweep

try:
    __version__ = _version("photosc_jax")
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str):
    """`photosc_jax.plot` is imported on first use: matplotlib costs ≈ 0.3 s at import, which
    every sweep worker process and every non-plotting command would pay."""
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "plot"})
