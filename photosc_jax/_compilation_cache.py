"""JAX's persistent compilation cache, on by default: a program compiled once (a phase-map
row, an `evolve` trajectory) is loaded from disk by every later process — a second run of
the same sweep, a resumed one, a restarted notebook kernel, every sweep worker — instead of
being compiled again (≈ 13 s for the phase-map row program on two cores; measured:
benchmarks/RESULTS.md, "Compile once").

Importing `photosc_jax` calls `configure()`, which points JAX's cache
(`jax_compilation_cache_dir`) at

- the directory named by the environment variable `PHOTOSC_JAX_CACHE`, or
- `$XDG_CACHE_HOME/photosc_jax/jax` (default `~/.cache/photosc_jax/jax`),

unless the cache is already configured (`JAX_COMPILATION_CACHE_DIR`, or
`jax.config.update("jax_compilation_cache_dir", ...)` before the import: then that one is
used) or `PHOTOSC_JAX_CACHE=off` (no cache). Programs that compile in under a second are
not stored (JAX's `jax_persistent_cache_min_compile_time_secs`). Sweeps also keep their
traced chunk programs there (`sweeps.programs`), so a later run skips tracing too. The
cache is only ever a
copy of what compiling gives: deleting the directory is always safe. It does not evict old
entries (about 1 MB a program); clear it with `rm -rf ~/.cache/photosc_jax`.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PHOTOSC_JAX_CACHE"
OFF = ("off", "0", "no", "false", "none")


def default_dir() -> Path:
    """The cache directory photosc_jax uses when nothing is configured."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "photosc_jax" / "jax"


def configure() -> str | None:
    """Turn JAX's persistent compilation cache on (module docstring). Returns the directory
    in use, or None where the cache is off. Starts no JAX backend (it sets a config value),
    so it may run before `XLA_FLAGS` are final."""
    import jax

    chosen = os.environ.get(ENV)
    if chosen is not None and chosen.strip().lower() in OFF:
        return None
    if jax.config.jax_compilation_cache_dir:  # set by the user (env var or config)
        return jax.config.jax_compilation_cache_dir
    path = Path(chosen).expanduser() if chosen else default_dir()
    jax.config.update("jax_compilation_cache_dir", str(path))
    return str(path)


def in_use() -> bool:
    """Whether compiled programs are read from and written to a persistent cache."""
    import jax

    return bool(jax.config.jax_compilation_cache_dir)
