"""Test configuration: float64 and JAX's strict promotion rules.

- float64: `import photosc_jax` turns on `jax_enable_x64` (visibly, in its `__init__`); it is
  imported here first so that every test runs in float64 whatever it imports.
- Runtime shape and dtype checks: the jaxtyping annotations of both models, the shared
  numerics and the unit conversions (`photosc_jax.interband`, `photosc_jax.longlived`,
  `photosc_jax._numerics`, `photosc_jax.units`) are checked by beartype on every call
  (`RUNTIME_CHECKED`; inside `jit` once per trace).
- Strict promotion: every test runs with `jax_numpy_rank_promotion="raise"` (no implicit
  broadcasting of arrays of different rank) and `jax_numpy_dtype_promotion="strict"` (no
  implicit float → complex or int → float promotion of arrays), so a shape or dtype slip in
  the library fails the test instead of silently broadcasting.

A test that must run with JAX's default promotion can opt out with
`@pytest.mark.loose_promotion` (none does: the whole library, time evolution and steady
states included, runs under strict promotion).
"""

import os
import shutil
import tempfile

# One XLA compilation cache per test run (before jax is imported): the xdist workers, the
# sweep worker processes some tests start and the notebook kernels inherit the variable, so
# a function compiled for the same shapes in several processes compiles once. Fresh for
# every run (removed by the process that created it), so timings stay those of a clean
# checkout.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="photosc-test-xla-")
else:
    _CACHE = None
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")

import jax  # noqa: E402
import jaxtyping  # noqa: E402
import pytest  # noqa: E402

# Packages whose jaxtyping annotations are checked at run time (installed before the first
# import of photosc_jax, so that their functions and modules are instrumented).
RUNTIME_CHECKED = [
    "photosc_jax.interband",
    "photosc_jax.longlived",
    "photosc_jax._numerics",
    "photosc_jax.units",
]
with jaxtyping.install_import_hook(RUNTIME_CHECKED, "beartype.beartype"):
    import photosc_jax  # noqa: F401  (float64)

assert jax.config.jax_enable_x64, "photosc_jax must enable float64 on import"


def pytest_unconfigure(config):
    if _CACHE is not None:
        shutil.rmtree(_CACHE, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "loose_promotion: run this test with JAX's default (non-strict) promotion"
    )


@pytest.fixture(autouse=True)
def _strict_promotion(request):
    if request.node.get_closest_marker("loose_promotion"):
        yield
        return
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield
