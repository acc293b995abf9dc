"""Resumable on-disk sweep results: a zarr store written one chunk at a time.

Layout: every output is a flat array over the grid points (C order of the swept axes, last
axis fastest) whose zarr chunks are exactly the sweep's chunks, so a chunk of results is
one write of one file per variable. After its data, a chunk's completion flag and a CRC32
of its data are written (`chunk_done`, `chunk_crc`, one zarr chunk per sweep chunk). A
store killed at any moment therefore holds finished chunks (flag set, CRC matches) and at
most one unfinished chunk, which is recomputed on resume; a chunk whose data no longer
matches its CRC (a corrupt file) is recomputed too. The swept axes are stored as
coordinate variables and the whole specification (model, axes, fixed parameters, run
options, chunk size, package version) in the attribute `photosc_sweep`; a store made with
another specification is refused. `open_sweep` returns the results with one dimension per
swept parameter.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

ATTR = "photosc_sweep"


class StoreMismatchError(ValueError):
    """The store at the given path holds a sweep with a different specification."""


def _fill(dtype):
    return np.nan if np.dtype(dtype).kind == "f" else -1


def create_or_open(path, spec: dict, outputs: dict[str, np.dtype]) -> None:
    """Create the store at `path` for `spec` (atomically: built in a temporary directory and
    renamed), or check that an existing one was made for the same `spec`."""
    path = Path(path)
    if path.exists():
        check_spec(path, spec)
        return
    n, chunk, n_chunks = spec["n_points"], spec["chunk_size"], spec["n_chunks"]
    data = {
        name: ("point", np.full(n, _fill(dt), dtype=dt)) for name, dt in outputs.items()
    }
    data["chunk_done"] = ("chunk", np.zeros(n_chunks, dtype=np.int8))
    data["chunk_crc"] = ("chunk", np.zeros(n_chunks, dtype=np.int64))
    coords = {name: (name, np.asarray(values)) for name, values in spec["axes"].items()}
    ds = xr.Dataset(data, coords=coords, attrs={ATTR: json.dumps(spec)})
    encoding = {name: {"chunks": (chunk,)} for name in outputs}
    encoding.update(chunk_done={"chunks": (1,)}, chunk_crc={"chunks": (1,)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=path.name + ".tmp", dir=path.parent))
    try:
        ds.to_zarr(tmp / "store.zarr", mode="w", encoding=encoding, consolidated=False)
        try:
            os.rename(tmp / "store.zarr", path)
        except OSError:  # another process created it meanwhile
            if not path.exists():
                raise
            check_spec(path, spec)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_spec(path) -> dict:
    try:
        g = zarr.open_group(str(path), mode="r")
        return json.loads(g.attrs[ATTR])
    except Exception as err:  # noqa: BLE001
        raise StoreMismatchError(
            f"{path} is not a photosc sweep store ({err}). Check the path; a sweep writing to "
            "it needs another --out path, or delete it if it is a damaged store."
        ) from None


def check_spec(path, spec: dict) -> None:
    old = read_spec(path)
    keys = ("model", "axes", "fixed", "options", "chunk_size")
    diff = [k for k in keys if json.dumps(old.get(k)) != json.dumps(spec.get(k))]
    if diff:
        details = "; ".join(f"{k}: store has {old.get(k)!r}, now {spec.get(k)!r}" for k in diff)
        raise StoreMismatchError(
            f"The store {path} was made for a different sweep ({details}). Results are never "
            "mixed: use another --out path, or delete the store to start over."
        )


def _crc(values: dict[str, np.ndarray]) -> int:
    crc = 0
    for name in sorted(values):
        crc = zlib.crc32(np.ascontiguousarray(values[name]).tobytes(), crc)
    return crc


def write_chunk(path, spec: dict, index: int, values: dict[str, np.ndarray]) -> None:
    """Write one finished chunk: data first, then its CRC and completion flag."""
    g = zarr.open_group(str(path), mode="r+")
    a = index * spec["chunk_size"]
    b = a + len(next(iter(values.values())))
    for name, v in values.items():
        g[name][a:b] = v
    g["chunk_crc"][index : index + 1] = np.asarray([_crc(values)], dtype=np.int64)
    g["chunk_done"][index : index + 1] = np.asarray([1], dtype=np.int8)


def finished_chunks(path, spec: dict, outputs) -> tuple[set[int], set[int]]:
    """(chunks whose flag is set and whose data match their CRC, chunks flagged done but
    corrupt). Unreadable flags count as not done."""
    g = zarr.open_group(str(path), mode="r")
    done, corrupt = set(), set()
    chunk, n = spec["chunk_size"], spec["n_points"]
    for i in range(spec["n_chunks"]):
        try:
            if int(g["chunk_done"][i]) != 1:
                continue
            a, b = i * chunk, min((i + 1) * chunk, n)
            values = {name: np.asarray(g[name][a:b]) for name in outputs}
            ok = _crc(values) == int(g["chunk_crc"][i])
        except Exception:  # noqa: BLE001 - a damaged chunk file reads as not done
            ok = False
        (done if ok else corrupt).add(i)
    return done, corrupt


def open_sweep(path) -> xr.Dataset:
    """The results of a sweep store as an `xarray.Dataset` with one dimension per swept
    parameter (in sweep order) and the specification in `attrs`. Points not computed yet
    are NaN (or −1 for integer outputs); `attrs["complete"]` says whether all are done."""
    spec = read_spec(path)
    flat = xr.open_zarr(str(path), consolidated=False)
    dims = list(spec["axes"])
    shape = tuple(len(v) for v in spec["axes"].values())
    coords = {d: np.asarray(spec["axes"][d]) for d in dims}
    data = {}
    for name in spec["outputs"]:
        v = flat[name].values.reshape(shape)
        data[name] = (dims, v, {"description": spec["outputs"][name]})
    done = flat["chunk_done"].values
    attrs = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in spec.items()}
    attrs["complete"] = int(done.sum() == spec["n_chunks"])
    attrs["chunks_done"] = int(done.sum())
    return xr.Dataset(data, coords=coords, attrs=attrs)
