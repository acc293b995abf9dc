"""Chunk programs traced once: a sweep's jitted chunk function is exported (`jax.export`,
serialized StableHLO) into the persistent compilation cache's directory the first time it
is traced, and every later process — a second run of the sweep, a resumed one, a sweep
worker, an executor's task — loads it from there instead of tracing the phase-map row again
(≈ 3 s on two cores; measured: benchmarks/RESULTS.md, "Compile once"). Compiling the loaded
program is then a hit in JAX's persistent cache (`photosc_jax._compilation_cache`).

A program file is named by a digest of everything that decides the traced program: the
package's source, the versions of JAX and of the libraries it traces through, the backend,
the x64 flag, the model, method and run options (the caller's `key`) and the arguments'
tree (with the static parameters), shapes and dtypes. Deleting the files is always safe; without the
persistent cache (`PHOTOSC_JAX_CACHE=off`), for programs over several devices, or where
exporting or storing fails (a program with a host callback, e.g. `equinox.error_if`, as
the interband evolution's: an empty `.plain` file then tells later processes not to try
again), the plain `jax.jit` function runs (the same numbers).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from pathlib import Path

import jax

_TRACED_THROUGH = ("jax", "jaxlib", "equinox", "diffrax", "optimistix", "lineax", "numpy")


def signature(args) -> str:
    """What a chunk program is traced for: the arguments' tree and their shapes and dtypes."""
    import numpy as np

    leaves, tree = jax.tree.flatten(args)
    return f"{tree} {[(np.shape(x), str(getattr(x, 'dtype', None) or np.result_type(x))) for x in leaves]}"


@functools.cache
def _environment() -> str:
    """The package source and the versions of what it traces through (once per process)."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())

    def known(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    return digest.hexdigest() + " " + " ".join(f"{n}={known(n)}" for n in _TRACED_THROUGH)


def _directory() -> Path | None:
    """Where programs are kept: the persistent compilation cache's directory (None where the
    cache is off or not a local directory)."""
    where = jax.config.jax_compilation_cache_dir
    if not where or "://" in where:
        return None
    return Path(where)


class CachedProgram:
    """A `jax.jit` chunk function `run` (one device) whose traced program is kept on disk
    (module docstring). Called, or lowered (`.lower(args)`), like `run`."""

    def __init__(self, run, key: str):
        self.run, self.key = run, key
        self._loaded: dict[str, object] = {}

    def __call__(self, args):
        return self.for_args(args)(args)

    def lower(self, args):
        return self.for_args(args).lower(args)

    def for_args(self, args):
        """The jitted function for `args`: the stored program's, exported first if none is
        stored, else (no cache, or exporting failed) `run`."""
        sig = signature(args)
        if sig not in self._loaded:
            self._loaded[sig] = self._load_or_export(args, sig)
        return self._loaded[sig]

    def stored(self, args) -> bool:
        """Whether the traced program for `args` is on disk (an earlier process traced it,
        and so also compiled it into the persistent cache)."""
        path = self._path(signature(args))
        return path is not None and path.exists()

    def _path(self, sig: str) -> Path | None:
        """The program's file (module docstring), None where the cache is off."""
        folder = _directory()
        if folder is None:
            return None
        material = "\n".join(
            (_environment(), jax.default_backend(), str(jax.config.jax_enable_x64), self.key, sig)
        )
        return folder / f"photosc-program-{hashlib.sha256(material.encode()).hexdigest()[:32]}.exported"

    def _load_or_export(self, args, sig: str):
        path = self._path(sig)
        if path is None:
            return self.run
        plain = path.with_suffix(".plain")  # marks a program that cannot be exported
        if plain.exists():
            return self.run
        try:
            exported = jax.export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # none stored (or unreadable): trace and store it
            leaves, tree = jax.tree.flatten(args)
            try:
                exported = jax.export.export(jax.jit(lambda *xs: self.run(jax.tree.unflatten(tree, xs))))(
                    *leaves
                )
            except Exception:  # not exportable (e.g. a host callback): plain jit, now and later
                with contextlib.suppress(Exception):
                    _write(plain, b"")
                return self.run
            try:
                _write(path, exported.serialize())
            except Exception:  # not serializable (a host callback), or a read-only cache
                with contextlib.suppress(Exception):
                    _write(plain, b"")
        return jax.jit(lambda a: exported.call(*jax.tree.leaves(a)))


def _write(path: Path, blob: bytes) -> None:
    """Write `blob` to `path` atomically (a reader sees the whole file or none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)
