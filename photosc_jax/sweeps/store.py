"""Sweep results on disk: a zarr store that plain `xarray.open_zarr` opens as the labelled
N-D dataset, written one chunk at a time, resumable, and checked on every read.

Layout (zarr format 2, consolidated metadata, CF attributes):

- one array per output over the swept axes (dims in sweep order), chunked by the sweep's
  chunks (`spec.chunk_layout`), with `long_name`, `units` and, for codes,
  `flag_values`/`flag_meanings`; one coordinate array per swept parameter;
- fill values (what a chunk not written, or whose file is missing, reads as): NaN for
  floats and −1 ("not computed", `models.STORE_STATUS`) for integer outputs. Plain
  `xarray.open_zarr` applies the CF `_FillValue`, so it decodes integer outputs to floats
  with NaN at points not computed (or missing); `open_sweep` keeps them integers (−1);
- the root attributes: CF globals, every parameter value (`parameter_<name>`, defaults
  filled in), every run option (`option_<name>`), the package version, the creation time,
  and the full specification as JSON (`photosc_sweep`);
- bookkeeping in the subgroup `_photosc` (which xarray does not show): a completion flag and
  a CRC32 of each chunk's values (`chunk_done`, `chunk_crc`, one zarr chunk each) and a copy
  of the specification.

Every zarr chunk also carries numcodecs' CRC32 filter, so a damaged file cannot decode
silently, not even for a reader that knows nothing of this package. A chunk is finished
when its flag is set, its values match its CRC and each of its files is there (a lost file
reads as the fill value, which can equal what was computed); anything else is recomputed on
resume.
`repair` restores damaged metadata and coordinates from the stored specification (and
removes stray zarr v3 `zarr.json` files); `check_metadata` reports what it would repair.

A store lives in a local folder or on any storage fsspec reaches (module `location`; every
function here takes a path, a `file://` URL, another fsspec URL or a `location.Local` /
`location.Remote`). What differs on an object store is how a store is created
(`create_or_open`); chunks, flags and checksums are objects written one PUT each.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import shutil
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numcodecs
import numpy as np
import zarr
import zarr.core.sync

from .location import Local, Remote, location
from .models import SweepModel, model_of
from .spec import LAYOUT, n_chunks, var_chunks, var_dims, var_shape, var_slices

if TYPE_CHECKING:  # imported where a dataset is made: a sweep worker never needs xarray
    import xarray as xr

ATTR = "photosc_sweep"
SIDE = "_photosc"
_METADATA = (".zarray", ".zattrs", ".zgroup", ".zmetadata")


class StoreMismatchError(ValueError):
    """The path holds no usable sweep store, or one made for a different sweep."""


class StoreDamagedWarning(UserWarning):
    """Some chunks of a store failed their checksum; their values are masked."""


class StoreFullError(OSError):
    """A store could not be written: no space left on its device, or the disk quota used
    up (`errno` says which). Its message is one line that says what to do."""

    def __str__(self) -> str:
        return self.strerror


_FULL = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}


@contextlib.contextmanager
def _full_disk_is_one_error(path):
    """Turn a full disk (or quota) while writing the store at `path` into `StoreFullError`
    (other errors pass unchanged)."""
    try:
        yield
    except StoreFullError:
        raise
    except OSError as err:
        if err.errno not in _FULL:
            raise
        raise StoreFullError(
            err.errno,
            f"Writing the store {path} failed: {_FULL[err.errno]}: free space or use another "
            "--out; finished chunks are kept and a rerun resumes.",
        ) from err


def _settle() -> None:
    """Wait for zarr's writes still in flight. When one write of a batch fails, zarr raises
    at once (`asyncio.gather`) and leaves the others running in its event loop, where they
    would write, and recreate folders, after the caller has cleaned up."""

    async def others():
        me = asyncio.current_task()
        await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not me), return_exceptions=True)

    zarr.core.sync.sync(others())


@contextlib.contextmanager
def _scratch(prefix: str, where: Path | None = None):
    """Yields a new temporary directory (in `where`, default the system's), removed on every
    exit path once no zarr write is in flight (`_settle`)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
    try:
        yield tmp
    finally:
        _settle()
        shutil.rmtree(tmp, ignore_errors=True)


def _codecs():
    return dict(filters=[numcodecs.CRC32()], compressors=[numcodecs.Zstd(level=3)])


def _fill(dtype):
    return np.nan if np.dtype(dtype).kind == "f" else -1


def root_attrs(spec: dict, model: SweepModel) -> dict:
    """The CF global attributes of a store or dataset made for `spec`."""
    attrs = dict(
        Conventions="CF-1.10",
        title=f"photosc_jax {spec['model']} sweep over {', '.join(spec['axes'])}",
        source=f"photosc_jax {spec['version']}",
        history=f"{spec['created']} created by photosc_jax {spec['version']}",
        model=spec["model"],
        method=spec["method"],
        version=spec["version"],
        created=spec["created"],
        swept_parameters=" ".join(spec["axes"]),
    )
    if spec.get("along") is not None:
        attrs["along"] = spec["along"]
    attrs.update({f"parameter_{k}": v for k, v in spec["parameters"].items()})
    attrs.update({f"option_{k}": v for k, v in spec["options"].items()})
    attrs[ATTR] = json.dumps(spec)
    return attrs


def _write_layout(path: Path, spec: dict, model: SweepModel) -> None:
    """Write the metadata and coordinates of a store for `spec` at `path` (no data: a chunk
    not written reads as the fill value, NaN for floats and −1, "not computed", for integer
    outputs)."""
    root = zarr.open_group(str(path), mode="w", zarr_format=2, attributes=root_attrs(spec, model))
    for name, values in spec["axes"].items():
        long_name, units = model.parameters.get(name, (name, "1"))
        a = root.create_array(
            name,
            shape=(len(values),),
            chunks=(len(values),),
            dtype="f8",
            fill_value=np.nan,
            attributes=dict(_ARRAY_DIMENSIONS=[name], long_name=long_name, units=units),
            **_codecs(),
        )
        a[:] = np.asarray(values, dtype=float)
    for name, var in model.outputs.items():
        dt, shape = np.dtype(var.dtype), var_shape(spec, var.per_row)
        root.create_array(
            name,
            shape=shape,
            chunks=var_chunks(spec, var.per_row),
            dtype=dt,
            fill_value=_fill(dt),
            attributes=dict(_ARRAY_DIMENSIONS=var_dims(spec, var.per_row), **var.attrs()),
            **_codecs(),
        )
    side = root.create_group(SIDE, attributes={ATTR: json.dumps(spec)})
    for name, dt in (("chunk_done", "i1"), ("chunk_crc", "i8")):
        side.create_array(name, shape=(n_chunks(spec),), chunks=(1,), dtype=dt, fill_value=0, **_codecs())
    zarr.consolidate_metadata(str(path), zarr_format=2)


def create_or_open(path, spec: dict) -> tuple[dict, list[str]]:
    """Create the store for `spec` at `path`, or open an existing one made for the same
    sweep and repair its metadata. Returns the store's specification and notes on what was
    decided or repaired. Raises `StoreFullError` on a full disk.

    In a local folder the store is created atomically: built in a temporary directory next
    to it, renamed (the directory removed on every exit path); of processes creating it at
    once one wins and the others open its store. On an object store (`location.Remote`)
    there is no rename: the layout is written object by object, each write atomic, the
    whole not — so in an order that leaves an interrupted creation recognisable: every
    array's metadata and the coordinates first, then the specification's copy in
    `_photosc`, the root attributes (with the specification), the root group (`.zgroup`:
    without it zarr and xarray find no group) and the consolidated metadata last. Until
    the first specification is written the prefix holds no sweep store (a rerun writes the
    layout again, after checking that nothing else is stored there); after it, a store
    whose missing metadata `check_metadata` names and a rerun restores (`repair`). Two
    processes creating one store on an object store at once are not guarded against
    (`engine.sweep` refuses `shard` there)."""
    loc = location(path)
    model = model_of(spec)
    if isinstance(loc, Remote):
        with _full_disk_is_one_error(loc):
            return _create_or_open_remote(loc, spec, model)
    path = loc.path
    with _full_disk_is_one_error(path):
        if path.exists():
            return _resume(loc, spec, model)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _scratch(path.name + ".tmp", path.parent) as tmp:
            _write_layout(tmp / "store.zarr", spec, model)
            try:
                os.rename(tmp / "store.zarr", path)
            except OSError:  # another process created it meanwhile
                if not path.exists():
                    raise
                return _resume(loc, spec, model)
    return spec, []


# the objects a creation on an object store writes last, in this order (`create_or_open`)
_LAST = (f"{SIDE}/.zattrs", ".zattrs", ".zgroup", ".zmetadata")


def _create_or_open_remote(loc: Remote, spec: dict, model: SweepModel) -> tuple[dict, list[str]]:
    """`create_or_open` on an object store (its docstring)."""
    if loc.exists(".zattrs") or loc.exists(f"{SIDE}/.zattrs"):  # a specification: a store
        return _resume(loc, spec, model)
    with _template(spec) as tmpl:
        layout = {f.relative_to(tmpl).as_posix(): f for f in sorted(tmpl.rglob("*")) if f.is_file()}
        other = sorted(set(loc.files()) - set(layout))
        if other:
            raise StoreMismatchError(
                f"{loc} holds {len(other)} object(s) of something other than a sweep store (e.g. "
                f"{other[0]}) and no sweep specification; use another --out location."
            )
        loc.write_all({rel: f.read_bytes() for rel, f in layout.items() if rel not in _LAST})
        for rel in _LAST:
            loc.write_bytes(rel, layout[rel].read_bytes())
    return spec, []


def _resume(path, spec: dict, model: SweepModel) -> tuple[dict, list[str]]:
    from .spec import differences

    old = read_spec(path)
    diff = differences(old, spec)
    if diff:
        raise StoreMismatchError(
            f"The store {path} was made for a different sweep ({'; '.join(diff)}). Results are "
            "never mixed: use another --out path, or delete the store to start over."
        )
    notes = []
    if old["version"] != spec["version"]:
        if old.get("numerics") != model.numerics:
            raise StoreMismatchError(
                f"The store {path} was made by photosc_jax {old['version']}, whose {model.name} "
                f"numerics (revision {old.get('numerics')}) differ from this version's "
                f"(revision {model.numerics}): its points would not be comparable with new ones. "
                "Rerun the sweep into a new store (another --out path)."
            )
        notes.append(
            f"resuming a store made by photosc_jax {old['version']} with {spec['version']}: the "
            f"{model.name} numerics are unchanged (revision {model.numerics}), so new points "
            "differ from old ones at most by rounding"
        )
    notes += repair(path, old)
    return old, notes


def read_spec(path) -> dict:
    """The specification stored in a store: the root attribute, else its copy in `_photosc`."""
    path = location(path)
    if not path.present():
        raise StoreMismatchError(f"{path} is not a sweep store ({path.nothing}).")
    err = None
    for where in (".zattrs", f"{SIDE}/.zattrs"):
        try:
            attrs = json.loads(path.read_bytes(where).decode("utf-8"))
            spec = json.loads(attrs[ATTR])
        except Exception as e:  # noqa: BLE001 - any damage: try the copy
            err = err or e
            continue
        if spec.get("layout") != LAYOUT:
            raise StoreMismatchError(
                f"{path} was written by photosc_jax {spec.get('version', '0.1')} in the old flat "
                "layout (one `point` dimension), which this version does not read. Rerun the "
                f"sweep into a new store: {command_line(spec)} --out NEW.zarr"
            )
        return spec
    raise StoreMismatchError(
        f"{path} is not a photosc sweep store, or its specification is damaged in both copies "
        f"({type(err).__name__}: {err}). Check the path; if it is a damaged store, delete it "
        "and rerun the sweep."
    )


def command_line(spec: dict) -> str:
    """A `photosc sweep` command that recomputes the sweep of `spec` (either layout)."""
    parts = ["photosc", "sweep", spec.get("model", "MODEL")]
    for name, values in spec.get("axes", {}).items():
        v = np.asarray(values, dtype=float)
        if len(v) > 2 and np.allclose(v, np.linspace(v[0], v[-1], len(v)), rtol=0, atol=1e-12):
            parts += [f"--{name}", f"{v[0]:.10g}:{v[-1]:.10g}:{len(v)}"]
        else:
            parts += [f"--{name}", ",".join(f"{x:.10g}" for x in v)]
    fixed = dict(spec.get("fixed", {}))  # the old layout stored the given values only
    if "parameters" in spec:
        fixed = _non_default(spec)
        if spec.get("method") == "continuation":
            parts += ["--method", "continuation", "--along", spec["along"]]
    for name, value in fixed.items():
        parts += [f"--{name}", value if isinstance(value, str) else f"{value:.10g}"]
    return " ".join(parts)


def _non_default(spec: dict) -> dict:
    """Parameters and run options of `spec` that differ from the model's defaults."""
    import dataclasses

    model = model_of(spec)
    defaults = {f.name: f.default for f in dataclasses.fields(model.params_cls)}
    out = {k: v for k, v in spec["parameters"].items() if defaults.get(k) != v}
    out.update({k.replace("_", "-"): v for k, v in spec["options"].items() if model.options[k].default != v})
    return out


def repair(path, spec: dict) -> list[str]:
    """Restore every metadata file and coordinate array of the store at `path` that differs
    from what `spec` prescribes, and remove stray zarr v3 metadata (`zarr.json`: zarr and
    xarray would read the store as format 3); data chunks are left alone (their CRCs
    decide). Returns what was repaired."""
    path = location(path)
    repaired = []
    with _template(spec) as tmpl:
        for rel, fault in _metadata_faults(path, spec, tmpl):
            if fault == STRAY:
                path.remove(rel)
                repaired.append(f"removed {rel} ({STRAY})")
                continue
            path.write_bytes(rel, (tmpl / rel).read_bytes())
            repaired.append(f"repaired {rel}")
    return repaired


def check_metadata(path, spec: dict) -> list[str]:
    """What `repair` would restore or remove in the store at `path` made for `spec`, without
    writing: one "<file> is <fault>" per file, relative to the store (fault: "missing",
    "damaged" or STRAY); empty where metadata and coordinates are intact."""
    with _template(spec) as tmpl:
        return [f"{rel} is {fault}" for rel, fault in _metadata_faults(location(path), spec, tmpl)]


STRAY = "stray zarr v3 metadata"  # a `zarr.json` in a format 2 store (`_metadata_faults`)


@contextlib.contextmanager
def _template(spec: dict):
    """Yields the path of a fresh layout for `spec` (metadata and coordinates, no data) in
    a temporary directory, removed on exit."""
    with _scratch("photosc-template") as tmp:
        _write_layout(tmp / "t.zarr", spec, model_of(spec))
        yield tmp / "t.zarr"


def _metadata_faults(path: Local | Remote, spec: dict, tmpl: Path) -> list[tuple[str, str]]:
    """(file relative to the store, fault) for each metadata file and coordinate chunk of
    the store at `path` that is "missing" or "damaged" (differs from the template `tmpl`
    written for `spec`), and for each `zarr.json` anywhere in it (STRAY: zarr and xarray
    read a store with one as zarr format 3, and fail)."""
    faults = []
    for src in sorted(tmpl.rglob("*")):
        rel = src.relative_to(tmpl)
        is_coord = rel.parts[0] in spec["axes"]
        if src.is_dir() or not (src.name in _METADATA or is_coord):
            continue
        if not _same(src, path, rel.as_posix(), json_file=src.name in _METADATA):
            faults.append((rel.as_posix(), "damaged" if path.exists(rel.as_posix()) else "missing"))
    return faults + [(rel, STRAY) for rel in path.find("zarr.json")]


def xarray_error(path) -> str | None:
    """Why plain `xarray.open_zarr` cannot open the store at `path` (one line: the error's
    type and first line), or None if it opens it (metadata and coordinates are read, values
    are not)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "both zarr.json and .zgroup exist"
            import xarray as xr

            xr.open_zarr(location(path).zarr_path()).close()
    except Exception as err:  # noqa: BLE001 - whatever a user of plain xarray would meet
        first = (str(err).strip().splitlines() or [""])[0]
        return f"{type(err).__name__}: {first}"
    return None


def _same(a: Path, store: Local | Remote, rel: str, *, json_file: bool) -> bool:
    """The template file `a` and the file `rel` of `store` hold the same (JSON: the same
    values)."""
    try:
        if json_file:
            return json.loads(a.read_bytes()) == json.loads(store.read_bytes(rel))
        return a.read_bytes() == store.read_bytes(rel)
    except Exception:  # noqa: BLE001 - missing or unreadable: not the same
        return False


def crc(values: dict[str, np.ndarray]) -> int:
    """CRC32 of one chunk's values (all outputs, in name order, C-contiguous bytes)."""
    c = 0
    for name in sorted(values):
        c = zlib.crc32(np.ascontiguousarray(values[name]).tobytes(), c)
    return c


def write_chunk(path, spec: dict, index: int, values: dict[str, np.ndarray]) -> None:
    """Write one finished chunk (`values`: arrays of the chunk's block shape): data first,
    then its CRC, then its completion flag. Raises `StoreFullError` on a full disk (the
    chunk is then not done: its flag is written last)."""
    model = model_of(spec)
    path = location(path)
    with _full_disk_is_one_error(path), _every_chunk_written():
        root = zarr.open_group(path.zarr_path(), mode="r+", zarr_format=2)
        for name, v in values.items():
            root[name][var_slices(spec, model.outputs[name].per_row, index)] = v
        root[SIDE]["chunk_crc"][index : index + 1] = np.asarray([crc(values)], dtype=np.int64)
        root[SIDE]["chunk_done"][index : index + 1] = np.asarray([1], dtype=np.int8)


def _every_chunk_written():
    """zarr skips (and deletes) chunks equal to the fill value; a written chunk always gets
    its file here, so what is on disk is exactly what was computed, checksummed."""
    return zarr.config.set({"array.write_empty_chunks": True})


def _read_array(
    path: Local | Remote, name: str, spec: dict, dtype, shape, slices
) -> tuple[np.ndarray, set[int]]:
    """Read the array `name` (relative to the store) of the store `path`; on damage, chunk
    by chunk (`slices(i)`: the block of sweep chunk i). Returns (values, indices of chunks
    that could not be read); unreadable values are filled."""
    try:
        a = zarr.open_array(path.zarr_path(name), mode="r", zarr_format=2)
        if a.shape != tuple(shape) or np.dtype(a.dtype) != np.dtype(dtype):
            raise ValueError(f"{name} has shape {a.shape}, dtype {a.dtype}")
    except Exception:  # noqa: BLE001 - metadata damaged: the whole array is unreadable
        return np.full(shape, _fill(dtype), dtype=dtype), set(range(n_chunks(spec)))
    try:
        return np.asarray(a[...]), set()
    except Exception:  # noqa: BLE001 - a damaged chunk: find which
        pass
    out, bad = np.full(shape, _fill(dtype), dtype=dtype), set()
    for i in range(n_chunks(spec)):
        sl = slices(i)
        try:
            out[sl] = a[sl]
        except Exception:  # noqa: BLE001
            bad.add(i)
    return out, bad


def chunk_key(spec: dict, per_row: bool, index: int, separator: str = ".") -> str:
    """The zarr (format 2) key, relative to its array, of the file that holds sweep chunk
    `index` of an output (`per_row`: without the row axis): the chunk's grid indices joined
    by the array's `dimension_separator` ("0" for a 0-d array). Assumes the array is chunked
    by `var_chunks` (one zarr chunk per sweep chunk)."""
    grid = [s.start // c for s, c in zip(var_slices(spec, per_row, index), var_chunks(spec, per_row))]
    return separator.join(str(g) for g in grid) or "0"


def _missing_files(path: Local | Remote, name: str, spec: dict, per_row: bool, chunks) -> set[int]:
    """The sweep chunks among `chunks` whose file of the output `name` is missing. A chunk
    written by `write_chunk` always has its file, but a lost file reads as the fill value,
    which may equal what was computed (an all-NaN chunk): its checksum would pass. Returns
    an empty set where the array's metadata cannot be read (`_read_array` marks those)."""
    try:
        sep = zarr.open_array(path.zarr_path(name), mode="r", zarr_format=2).metadata.dimension_separator
    except Exception:  # noqa: BLE001 - metadata damaged: every chunk is bad already
        return set()
    keys = {i: chunk_key(spec, per_row, i, sep) for i in chunks}
    missing = path.missing(name, keys.values()) if keys else set()
    return {i for i, k in keys.items() if k in missing}


def load(path, spec: dict | None = None) -> tuple[dict, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Read and verify a store: (spec, values, done, damaged), where `done`/`damaged` flag
    each chunk. A chunk whose completion flag is set is damaged if its values fail their
    CRC or any of its files is missing; other processes may be writing chunks meanwhile
    (shards, workers): those read as not done. Values of chunks not done or damaged are
    masked (NaN; −1 for integer outputs, and −2 in `status` for damaged chunks)."""
    path = location(path)
    spec = spec or read_spec(path)
    model = model_of(spec)
    nc = n_chunks(spec)
    # flags and CRCs before the values: `write_chunk` sets them after the values, so a chunk
    # flagged here has its final values on disk; one flagged meanwhile (another process
    # writing) reads as not done, never as damaged
    one = lambda i: (slice(i, i + 1),)  # noqa: E731
    flags, bad_flags = _read_array(path, f"{SIDE}/chunk_done", spec, np.dtype("i1"), (nc,), one)
    crcs, bad_crcs = _read_array(path, f"{SIDE}/chunk_crc", spec, np.dtype("i8"), (nc,), one)
    flagged = [i for i in range(nc) if flags[i] == 1 and i not in bad_flags]
    values, bad = {}, set()
    blocks = {name: (lambda i, r=var.per_row: var_slices(spec, r, i)) for name, var in model.outputs.items()}
    for name, var in model.outputs.items():
        values[name], b = _read_array(
            path, name, spec, np.dtype(var.dtype), var_shape(spec, var.per_row), blocks[name]
        )
        bad |= b | _missing_files(path, name, spec, var.per_row, flagged)
    done, damaged = np.zeros(nc, bool), np.zeros(nc, bool)
    for i in flagged:
        ok = (
            i not in bad
            and i not in bad_crcs
            and crc({k: v[blocks[k](i)] for k, v in values.items()}) == int(crcs[i])
        )
        done[i], damaged[i] = ok, not ok
    for i in np.flatnonzero(~done):
        for name, v in values.items():
            v[blocks[name](i)] = -2 if (name == "status" and damaged[i]) else _fill(v.dtype)
    return spec, values, done, damaged


def dataset(spec: dict, values: dict[str, np.ndarray], done: np.ndarray, damaged=None) -> xr.Dataset:
    """The labelled dataset of a sweep (what `xarray.open_zarr` shows of a store, with the
    bookkeeping summarised in `attrs`: complete, chunks_done, chunks_total, chunks_damaged)."""
    model = model_of(spec)
    coords = {}
    for d in spec["axes"]:
        long_name, units = model.parameters.get(d, (d, "1"))
        coords[d] = (d, np.asarray(spec["axes"][d], dtype=float), dict(long_name=long_name, units=units))
    data = {
        name: (var_dims(spec, var.per_row), values[name], var.attrs()) for name, var in model.outputs.items()
    }
    attrs = root_attrs(spec, model)
    damaged = np.zeros_like(done) if damaged is None else damaged
    attrs.update(
        complete=int(done.all()),
        chunks_done=int(done.sum()),
        chunks_total=int(done.size),
        chunks_damaged=int(damaged.sum()),
    )
    if damaged.any():
        attrs["damaged_chunks"] = " ".join(str(i) for i in np.flatnonzero(damaged))
    import xarray as xr

    return xr.Dataset(data, coords=coords, attrs=attrs)


def open_sweep(path) -> xr.Dataset:
    """The results of a sweep store (a path, a `file://` URL or the URL of storage an
    installed fsspec filesystem reaches: `s3://bucket/map.zarr`, …; `location.location`) as
    an `xarray.Dataset` with one dimension per swept parameter (in sweep order), every
    chunk's checksum verified. Points not computed yet are
    NaN (−1 for integer outputs); `attrs["complete"]` says whether all are done. Chunks
    whose values fail their checksum are masked as well (`status` −2), listed in
    `attrs["damaged_chunks"]`, and reported with a `StoreDamagedWarning`: rerunning the
    sweep command recomputes exactly those chunks."""
    path = location(path)
    spec, values, done, damaged = load(path)
    if damaged.any():
        warnings.warn(damage_message(path, spec, damaged), StoreDamagedWarning, stacklevel=2)
    return dataset(spec, values, done, damaged)


def damage_message(path, spec: dict, damaged: np.ndarray) -> str:
    idx = np.flatnonzero(damaged)
    shown = ", ".join(str(i) for i in idx[:20]) + (", ..." if len(idx) > 20 else "")
    return (
        f"{len(idx)} chunk(s) of {path} failed their checksum (chunks {shown}); their "
        f"values are masked (NaN, status -2). To repair, rerun the sweep on this store "
        f"({command_line(spec)} --out {path}): only those chunks are recomputed."
    )
