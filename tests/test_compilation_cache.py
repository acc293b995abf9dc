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
    """The pinned workers (one per core) on a 2 x 6 continuation map, twice, into two stores:
    the first stores the traced row program and its compilation, the second adds no cache
    entry (the parent and both workers hit the first run's) and gives the same store."""
    cache = tmp_path / "xla"
    fixed = [f"--{k}={v}" for k, v in SMALL.items()]
    args = ["sweep", "interband", "--Omega", "0.15,0.25", "--V", "0:6:6", *fixed, "--workers", "2"]
    first = _run([sys.executable, "-m", "photosc_jax", *args, "--out", str(tmp_path / "a.zarr")],
                 PHOTOSC_JAX_CACHE=str(cache))  # fmt: skip
    assert first.returncode == 0, first.stderr
    entries = sorted(p.name for p in cache.iterdir())
    assert any(n.startswith("photosc-program-") for n in entries), "no traced program stored"
    second = _run([sys.executable, "-m", "photosc_jax", *args, "--out", str(tmp_path / "b.zarr")],
                  PHOTOSC_JAX_CACHE=str(cache))  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in cache.iterdir()) == entries  # every program was a cache hit
    a, b = xr.open_zarr(tmp_path / "a.zarr"), xr.open_zarr(tmp_path / "b.zarr")
    for name in a.data_vars:
        xr.testing.assert_identical(a[name].load(), b[name].load())


def test_a_chunk_program_is_traced_once_and_loaded_from_the_cache_after(tmp_path, monkeypatch):
    """`programs.CachedProgram`: the first call traces and stores the program, a new object
    with the same key loads it without tracing (same values), a damaged file is traced and
    stored again, and another key or argument shape is another program; without a cache
    the plain jit function runs."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from photosc_jax.sweeps import programs

    traces = []

    def make():
        @jax.jit
        def run(args):
            traces.append(1)
            return {"y": jnp.linalg.solve(args["a"], args["b"])}

        return run

    monkeypatch.setattr(programs, "_directory", lambda: tmp_path)  # the cache's directory
    args = {"a": jnp.eye(3) * 2.0, "b": jnp.arange(3.0)}
    first = programs.CachedProgram(make(), "key")(args)
    stored = list(tmp_path.glob("photosc-program-*.exported"))
    assert len(traces) == 1 and len(stored) == 1
    again = programs.CachedProgram(make(), "key")(args)
    assert len(traces) == 1  # loaded: not traced
    np.testing.assert_array_equal(np.asarray(again["y"]), np.asarray(first["y"]))
    stored[0].write_bytes(b"garbage")
    programs.CachedProgram(make(), "key")(args)
    assert len(traces) == 2 and stored[0].read_bytes() != b"garbage"
    programs.CachedProgram(make(), "other key")(args)
    programs.CachedProgram(make(), "key")({"a": jnp.eye(4), "b": jnp.ones(4)})
    assert len(traces) == 4 and len(list(tmp_path.glob("photosc-program-*.exported"))) == 3
    monkeypatch.setattr(programs, "_directory", lambda: None)  # no cache
    plain = make()
    assert programs.CachedProgram(plain, "key").for_args(args) is plain


def test_a_program_that_cannot_be_exported_runs_as_plain_jit_and_is_not_tried_again(tmp_path, monkeypatch):
    """A host callback (`equinox.error_if`, as in the interband evolution) cannot be
    stored: the exported program runs in this process, and a `.plain` marker makes later
    processes run the plain jit function without trying again (one trace each)."""
    import equinox as eqx
    import jax
    import numpy as np

    from photosc_jax.sweeps import programs

    traces = []

    def make():
        @jax.jit
        def run(args):
            traces.append(1)
            return {"y": eqx.error_if(args["b"] * 2.0, args["b"] < -1.0, "negative")}

        return run

    monkeypatch.setattr(programs, "_directory", lambda: tmp_path)
    args = {"b": np.arange(3.0)}
    np.testing.assert_array_equal(np.asarray(programs.CachedProgram(make(), "k")(args)["y"]), 2 * args["b"])
    assert len(traces) == 1
    assert [p.suffix for p in tmp_path.iterdir()] == [".plain"]
    np.testing.assert_array_equal(np.asarray(programs.CachedProgram(make(), "k")(args)["y"]), 2 * args["b"])
    assert len(traces) == 2  # the plain jit function, traced once
