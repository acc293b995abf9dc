"""JAX's persistent compilation cache (`photosc_jax._compilation_cache`): on by default,
moved or turned off by `PHOTOSC_JAX_CACHE`, a user's own cache kept; a second `photosc
sweep` of the same map takes the row program from the cache in the parent and in every
worker process (the workers used to crash on a re-serialized cached program, and compiled
their own copy under another cache key)."""

import os
import subprocess
import sys

import xarray as xr
from helpers import SMALL

PROBE = "import photosc_jax, jax; print(jax.config.jax_compilation_cache_dir)"


def _run(args, **env):
    base = {
        k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "PHOTOSC_JAX_CACHE")
    }
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env={**base, **env})


def test_the_cache_is_on_by_default_moved_or_off_by_the_variable_and_a_users_own_is_kept(tmp_path):
    home = tmp_path / "cache-home"
    assert _run([sys.executable, "-c", PROBE], XDG_CACHE_HOME=str(home)).stdout.split() == [
        str(home / "photosc_jax" / "jax")
    ]
    moved = tmp_path / "moved"
    assert _run([sys.executable, "-c", PROBE], PHOTOSC_JAX_CACHE=str(moved)).stdout.split() == [str(moved)]
    assert _run([sys.executable, "-c", PROBE], PHOTOSC_JAX_CACHE="off").stdout.split() == ["None"]
    own = tmp_path / "own"
    kept = _run(
        [sys.executable, "-c", PROBE], JAX_COMPILATION_CACHE_DIR=str(own), PHOTOSC_JAX_CACHE=str(moved)
    )
    assert kept.stdout.split() == [str(own)]


def test_a_second_sweep_takes_the_row_program_from_the_cache_in_every_worker(tmp_path):
    """The pinned workers (one per core) on a 2 x 6 continuation map, twice, into two stores: the second run
    adds no cache entry (the parent and both workers hit the first run's) and gives the same
    store."""
    cache = tmp_path / "xla"
    fixed = [f"--{k}={v}" for k, v in SMALL.items()]
    args = ["sweep", "interband", "--Omega", "0.15,0.25", "--V", "0:6:6", *fixed, "--workers", "2"]
    first = _run([sys.executable, "-m", "photosc_jax", *args, "--out", str(tmp_path / "a.zarr")],
                 PHOTOSC_JAX_CACHE=str(cache))  # fmt: skip
    assert first.returncode == 0, first.stderr
    entries = sorted(p.name for p in cache.iterdir())
    assert entries, "the first run stored no compiled program"
    second = _run([sys.executable, "-m", "photosc_jax", *args, "--out", str(tmp_path / "b.zarr")],
                  PHOTOSC_JAX_CACHE=str(cache))  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in cache.iterdir()) == entries  # every program was a cache hit
    a, b = xr.open_zarr(tmp_path / "a.zarr"), xr.open_zarr(tmp_path / "b.zarr")
    for name in a.data_vars:
        xr.testing.assert_identical(a[name].load(), b[name].load())
