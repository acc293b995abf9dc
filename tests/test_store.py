"""Sweep stores as a user and a fault-injection audit see them: plain xarray opens the
labelled dataset, the store describes itself (CF), resumes on any machine and version with
the numbers unchanged, never hands back a corrupted value, repairs damaged metadata, and
refuses bad input with one line. The metastability model keeps these tests fast: the store
is model-agnostic."""

import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr
from helpers import invoke

from photosc_jax.sweeps import StoreDamagedWarning, StoreFullError, StoreMismatchError, open_sweep, sweep

# its module-scoped fixtures are computed once: keep the module on one xdist worker
pytestmark = pytest.mark.xdist_group("store")

AXES = {"DeltaE": "0.5:2:4", "nu": "1:3:5"}  # 4 x 5 grid
KW = dict(chunk_size=10, progress=False)  # chunks of 2 rows x 5 -> 2 chunks


def _cli(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "photosc_jax", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _equal(a, b):
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def _set_spec(store, **changes):
    """Edit the stored specification in both of its copies."""
    for f in (Path(store) / ".zattrs", Path(store) / "_photosc" / ".zattrs"):
        attrs = json.loads(f.read_text())
        spec = json.loads(attrs["photosc_sweep"])
        spec.update(changes)
        attrs["photosc_sweep"] = json.dumps(spec)
        f.write_text(json.dumps(attrs))
    zarr.consolidate_metadata(str(store), zarr_format=2)


@pytest.fixture(scope="module")
def reference():
    return sweep("metastability", AXES, **KW)


def test_plain_xarray_opens_the_labelled_self_describing_dataset(tmp_path, reference):
    store = tmp_path / "s.zarr"
    sweep("metastability", AXES, out=str(store), fixed={"lam0": 0.3}, **KW)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "consolidated metadata" or any other warning
        ds = xr.open_zarr(store)
    assert ds["Q_MS"].dims == ("DeltaE", "nu") and ds["Q_MS"].shape == (4, 5)
    assert set(ds.data_vars) == set(reference.data_vars)  # bookkeeping is not shown
    _equal(ds.load(), reference)
    np.testing.assert_allclose(ds["nu"].values, np.linspace(1, 3, 5))
    for name in [*ds.data_vars, *ds.coords]:  # CF: units and long_name everywhere
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
    assert ds["E_B"].attrs["units"] == "hbar omega" and ds["DeltaE"].attrs["units"] == "hbar omega"
    for name in ("status", "regime"):
        a = ds[name].attrs
        assert len(a["flag_values"]) == len(a["flag_meanings"].split())
        assert ds[name].encoding["_FillValue"] == -1  # "not computed": decoded as NaN
    assert "metastable_I" in ds["regime"].attrs["flag_meanings"].split()
    a = ds.attrs
    # every parameter with its default filled in, every run option, version and time
    got = (a["parameter_G"], a["parameter_lam0"], a["parameter_n_grid"], a["option_T"])
    assert got == (0.6, 0.3, 128, 0.0)
    assert a["version"] and a["created"].endswith("Z") and a["Conventions"].startswith("CF")
    spec = json.loads(a["photosc_sweep"])
    assert spec["parameters"] == {"G": 0.6, "lam0": 0.3, "n_grid": 128}


def _integer_outputs(store) -> list[str]:
    return [name for name, v in open_sweep(store).data_vars.items() if v.dtype.kind == "i"]


def test_integer_outputs_read_as_not_computed_where_missing_in_plain_xarray(tmp_path, reference):
    """Integer outputs (codes) have the fill value -1, "not computed": a point not computed,
    or a chunk whose file is gone, is NaN in plain xarray (which decodes the CF _FillValue,
    so codes become floats there) and -1 in `open_sweep` -- never a valid code such as 0."""
    store = tmp_path / "i.zarr"
    sweep("metastability", AXES, out=str(store), shard=(0, 2), **KW)  # chunk 0: rows 0-1
    names = _integer_outputs(store)
    assert sorted(names) == ["regime", "status"]
    (store / "regime" / "0.0").unlink()  # a finished chunk's file lost
    plain = xr.open_zarr(store).load()
    for name in names:
        assert json.loads((store / name / ".zarray").read_text())["fill_value"] == -1
        assert plain[name].dtype.kind == "f" and np.all(np.isnan(plain[name].values[2:])), name
    np.testing.assert_array_equal(plain["status"].values[:2], reference["status"].values[:2])
    assert np.all(np.isnan(plain["regime"].values))
    with pytest.warns(StoreDamagedWarning, match=r"chunks 0\b"):
        ds = open_sweep(store)
    assert ds["regime"].dtype.kind == "i" and np.all(ds["regime"].values == -1)
    assert np.all(ds["status"].values[:2] == -2) and np.all(ds["status"].values[2:] == -1)


def test_a_store_with_integer_fill_value_null_resumes_and_is_migrated(tmp_path, reference):
    """Stores made before the integer fill value was -1 (`fill_value: null`, every integer
    chunk written with -1 at creation) resume: the metadata is repaired to -1 (data chunks
    do not depend on the fill value) and the store completes equal to a fresh sweep."""
    store = tmp_path / "old.zarr"
    sweep("metastability", AXES, out=str(store), shard=(0, 2), **KW)
    for name in _integer_outputs(store):
        f = store / name / ".zarray"
        f.write_text(json.dumps({**json.loads(f.read_text()), "fill_value": None}))
        with zarr.config.set({"array.write_empty_chunks": True}):  # the old creation's -1
            zarr.open_array(str(store / name), mode="r+", zarr_format=2)[2:4] = -1
    zarr.consolidate_metadata(str(store), zarr_format=2)
    with pytest.warns(UserWarning, match=r"repaired regime/\.zarray"):
        ds = sweep("metastability", AXES, out=str(store), **KW)
    assert ds.attrs["chunks_computed"] == 1 and ds.attrs["complete"] == 1
    assert "regime/.zarray" in ds.attrs["notes"] and "status/.zarray" in ds.attrs["notes"]
    _equal(ds, reference)
    for name in _integer_outputs(store):
        assert json.loads((store / name / ".zarray").read_text())["fill_value"] == -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _equal(xr.open_zarr(store).load(), reference)
    assert sweep("metastability", AXES, out=str(store), **KW).attrs["chunks_computed"] == 0


def test_explicit_defaults_are_the_same_sweep_and_real_differences_are_named(tmp_path):
    store = str(tmp_path / "s.zarr")
    first = sweep("metastability", AXES, out=store, **KW)
    assert first.attrs["chunks_computed"] == 2
    again = sweep(
        "metastability", AXES, out=store, fixed={"G": 0.6, "n_grid": 128}, options={"T": 0}, progress=False
    )  # explicit defaults; chunks from the store
    assert again.attrs["chunks_computed"] == 0
    with pytest.raises(StoreMismatchError, match=r"parameter G: store has 0\.6, now 0\.5"):
        sweep("metastability", AXES, out=store, fixed={"G": 0.5}, **KW)
    with pytest.raises(StoreMismatchError, match="option T"):
        sweep("metastability", AXES, out=store, options={"T": 0.01}, **KW)
    with pytest.raises(StoreMismatchError, match="chunks"):
        sweep("metastability", AXES, out=store, chunk_size=5, progress=False)


def test_chunks_come_from_the_grid_so_a_store_resumes_with_another_device_count(tmp_path, reference):
    """Half the chunks on one device, the rest on four forced host devices (a chunk of 5
    points is padded to 8 there): the store completes and equals a one-device sweep."""
    store = tmp_path / "d.zarr"
    script = f"""
import jax, json, numpy as np
from photosc_jax.sweeps import sweep

a = sweep("metastability", {AXES!r}, out={str(store)!r}, shard=(0, 2), devices=jax.devices()[:1],
          chunk_size=5, progress=False)
b = sweep("metastability", {AXES!r}, out={str(store)!r}, progress=False)
print(json.dumps(dict(n=len(jax.devices()), first=a.attrs["chunks_computed"],
                      rest=b.attrs["chunks_computed"], complete=b.attrs["complete"])))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == dict(n=4, first=2, rest=2, complete=1)
    _equal(open_sweep(store), reference)


def test_version_difference_resumes_only_when_the_numerics_are_unchanged(tmp_path):
    store = tmp_path / "v.zarr"
    sweep("metastability", AXES, out=str(store), shard=(0, 2), **KW)
    _set_spec(store, version="0.0.1")
    with pytest.warns(UserWarning, match="numerics are unchanged"):
        ds = sweep("metastability", AXES, out=str(store), **KW)
    assert ds.attrs["chunks_computed"] == 1 and ds.attrs["complete"] == 1
    _set_spec(store, numerics=0)
    with pytest.raises(StoreMismatchError, match="numerics .* differ"):
        sweep("metastability", AXES, out=str(store), **KW)


def test_a_store_in_the_old_flat_layout_is_refused_with_the_command_to_rerun(tmp_path):
    store = tmp_path / "old.zarr"
    old = dict(
        model="metastability",
        axes={"DeltaE": [0.5, 1.0, 1.5], "nu": [1.0, 2.0]},
        fixed={"G": 0.5},
        options={"T": 0.0},
        chunk_size=4,
        n_points=6,
        n_chunks=2,
        version="0.1.0",
    )
    g = zarr.open_group(str(store), mode="w", zarr_format=2)
    g.attrs["photosc_sweep"] = json.dumps(old)
    g.create_array("delta_abs", shape=(6,), dtype="f8")
    with pytest.raises(StoreMismatchError, match="old flat layout") as err:
        open_sweep(store)
    assert "photosc sweep metastability --DeltaE 0.5:1.5:3 --nu 1,2 --G 0.5" in str(err.value)
    run = _cli("info", str(store))
    assert run.returncode == 2 and "old flat layout" in run.stderr and "Traceback" not in run.stderr


def _flip_byte(path: Path):
    b = bytearray(path.read_bytes())
    b[len(b) // 2] ^= 0x01
    path.write_bytes(bytes(b))


def test_damaged_chunks_are_masked_on_read_and_recomputed_alone(tmp_path, reference):
    store = tmp_path / "c.zarr"
    sweep("metastability", AXES, out=str(store), **KW)
    # chunk 0: a byte flipped in a file (the codec's CRC catches it); chunk 1: values that
    # decode fine but are not what was computed (the chunk CRC catches it)
    _flip_byte(store / "Q_MS" / "0.0")
    zarr.open_group(str(store), mode="r+")["E_B"][2:4, :] = 7.0
    with pytest.warns(StoreDamagedWarning, match=r"2 chunk\(s\).*chunks 0, 1.*rerun the sweep"):
        ds = open_sweep(store)
    assert ds.attrs["complete"] == 0 and ds.attrs["chunks_damaged"] == 2
    assert np.all(np.isnan(ds["Q_MS"].values)) and np.all(np.isnan(ds["E_B"].values))
    assert np.all(ds["status"].values == -2) and np.all(ds["regime"].values == -1)
    info = _cli("info", str(store))
    assert info.returncode == 0 and "2 damaged" in info.stdout and "failed their checksum" in info.stderr
    with pytest.raises(RuntimeError):  # plain xarray fails loudly instead of returning bad bytes
        xr.open_zarr(store)["Q_MS"].load()
    fixed = sweep("metastability", AXES, out=str(store), **KW)
    assert fixed.attrs["chunks_computed"] == 2 and fixed.attrs["chunks_corrupt_recomputed"] == 2
    _equal(fixed, reference)
    # one damaged chunk only: exactly that one is recomputed
    _flip_byte(store / "regime" / "1.0")
    with pytest.warns(UserWarning, match="recomputed: \\[1\\]"):
        again = sweep("metastability", AXES, out=str(store), **KW)
    assert again.attrs["chunks_computed"] == 1
    _equal(again, reference)


def test_a_lost_chunk_file_is_damage_even_where_the_fill_reads_the_computed_values(tmp_path, reference):
    """Chunk 1 of Q_MS is all NaN, which is also what its lost file reads as: its checksum
    passes, but a finished chunk with a file missing is damaged all the same, and a rerun
    recomputes it and leaves every chunk file present."""
    store = tmp_path / "lost.zarr"
    sweep("metastability", AXES, out=str(store), **KW)
    assert np.all(np.isnan(reference["Q_MS"].values[2:4]))
    (store / "Q_MS" / "1.0").unlink()
    with pytest.warns(StoreDamagedWarning, match=r"1 chunk\(s\) .*\(chunks 1\)"):
        assert open_sweep(store).attrs["damaged_chunks"] == "1"
    with pytest.warns(UserWarning, match=r"recomputed: \[1\]"):
        ds = sweep("metastability", AXES, out=str(store), **KW)
    assert ds.attrs["chunks_computed"] == 1 and (store / "Q_MS" / "1.0").is_file()
    _equal(ds, reference)


def test_chunk_files_are_found_with_the_arrays_dimension_separator(tmp_path, reference):
    """A store whose arrays use nested keys ("0/0", `dimension_separator` "/") is complete:
    the chunk files are looked up with the separator each array's metadata gives."""
    store = tmp_path / "nested.zarr"
    sweep("metastability", AXES, out=str(store), **KW)
    for name in reference.data_vars:
        meta = store / name / ".zarray"
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "dimension_separator": "/"}))
        for f in sorted((store / name).glob("[0-9]*")):
            (f.parent / f.name.split(".")[0]).mkdir(exist_ok=True)
            f.rename(f.parent / f.name.split(".")[0] / f.name.split(".")[1])
    zarr.consolidate_metadata(str(store), zarr_format=2)
    assert (store / "Q_MS" / "1" / "0").is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = open_sweep(store)
    assert ds.attrs["complete"] == 1
    _equal(ds, reference)


def _other_shard_writes(monkeypatch, store, chunk, reference, before: int):
    """Make chunk `chunk` of `store` be written (as another shard would: `write_chunk`, with
    the reference values) just before the `before`-th array read (from 1) of the next
    `load`. Returns the list of arrays read, filled as they are."""
    from photosc_jax.sweeps import store as stored
    from photosc_jax.sweeps.spec import var_slices

    spec = stored.read_spec(store)
    outputs = stored.model_of(spec).outputs
    values = {k: reference[k].values[var_slices(spec, v.per_row, chunk)] for k, v in outputs.items()}
    read, calls = stored._read_array, []

    def reading(path, name, *args):
        if len(calls) == before - 1:
            stored.write_chunk(store, spec, chunk, values)
        calls.append(name)
        return read(path, name, *args)

    monkeypatch.setattr(stored, "_read_array", reading)
    return calls


def test_a_chunk_written_by_another_shard_during_a_read_is_never_damaged(tmp_path, monkeypatch, reference):
    """A writer writes values, then the CRC, then the completion flag, and `load` reads the
    flags first: a chunk that another shard writes at any moment of a read is done (written
    before the read began) or not done, never damaged."""
    from photosc_jax.sweeps import store as stored

    base = tmp_path / "base.zarr"
    sweep("metastability", AXES, out=str(base), shard=(0, 2), **KW)
    n_reads = len(reference.data_vars) + 2  # every output, the flags and the CRCs
    first = reference.isel(DeltaE=slice(0, 2))  # chunk 0
    for before in range(1, n_reads + 1):
        store = tmp_path / f"read{before}.zarr"
        shutil.copytree(base, store)
        with monkeypatch.context() as m:
            calls = _other_shard_writes(m, store, 1, reference, before)
            spec, values, done, damaged = stored.load(store)
        assert len(calls) == n_reads and not damaged.any(), (before, calls)
        assert list(done) == [True, before == 1], (before, calls)
        _equal(stored.dataset(spec, values, done).isel(DeltaE=slice(0, 2)), first)
        assert stored.load(store)[2].all()  # the next read finds it done


def test_shards_report_only_their_own_chunks(tmp_path, monkeypatch, reference):
    """A shard does not report the chunks of other shards as recomputed, nor warn of them
    at its end (they may be in flight): a damaged one is named in a note as theirs, and one
    the other shard writes during the last read is simply not done yet."""
    from photosc_jax.sweeps import store as stored

    store = tmp_path / "shards.zarr"
    kw = dict(chunk_size=5, progress=False)  # 4 chunks of one row; shards 0/3: 0, 3; 1/3: 1; 2/3: 2
    sweep("metastability", AXES, out=str(store), shard=(0, 3), **kw)
    _flip_byte(store / "Q_MS" / "0.0")  # shard 0's chunk 0, damaged
    load, loads = stored.load, []

    def loading(*args, **kwargs):  # the second load is the sweep's last read
        loads.append(args)
        if len(loads) == 2:
            _other_shard_writes(monkeypatch, store, 2, reference, before=2)  # shard 2's chunk
        return load(*args, **kwargs)

    monkeypatch.setattr(stored, "load", loading)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = sweep("metastability", AXES, out=str(store), shard=(1, 3), **kw)
    assert [str(w.message) for w in caught] == [
        "1 chunk(s) of other shards failed their checksum: [0]; the shards that compute them "
        "recompute them when run (again) on this store"
    ]
    assert len(loads) == 2 and ds.attrs["chunks_computed"] == 1
    assert ds.attrs["chunks_done"] == 2 and ds.attrs["damaged_chunks"] == "0"  # chunks 1, 3
    monkeypatch.undo()
    with pytest.warns(StoreDamagedWarning, match=r"\(chunks 0\)"):
        assert open_sweep(store).attrs["chunks_done"] == 3  # chunk 2 written meanwhile
    with pytest.warns(UserWarning, match=r"recomputed: \[0\]"):
        ds = sweep("metastability", AXES, out=str(store), shard=(0, 3), **kw)
    assert ds.attrs["chunks_corrupt_recomputed"] == 1 and ds.attrs["complete"] == 1
    _equal(ds, reference)


def test_damaged_metadata_and_coordinates_are_reported_then_repaired_on_resume(tmp_path, reference):
    store = tmp_path / "m.zarr"
    sweep("metastability", AXES, out=str(store), **KW)
    (store / "nu" / "0").write_bytes(b"\x00garbage")  # a coordinate
    (store / "E_MS" / ".zarray").write_text("{not json")  # an array's metadata
    (store / ".zattrs").write_bytes(b"\xff\xfe")  # the root attributes (spec has a copy)
    (store / ".zmetadata").write_text("[]")  # consolidated metadata
    info = _cli("info", str(store))  # reports, no zstd/utf-8 traceback
    assert info.returncode == 0 and "Traceback" not in info.stderr, info.stderr
    assert "failed their checksum" in info.stderr
    with pytest.warns(UserWarning, match="repaired"):
        ds = sweep("metastability", AXES, out=str(store), **KW)
    assert ds.attrs["chunks_computed"] == 0  # the data were intact: nothing recomputed
    _equal(ds, reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _equal(xr.open_zarr(store).load(), reference)
    for f in (store / ".zattrs", store / "_photosc" / ".zattrs"):
        f.write_text("{}")
    run = _cli("info", str(store))
    assert run.returncode == 2 and "damaged in both copies" in run.stderr


def _garbage(name):
    return lambda store: (store / name).write_text("garbage")


@pytest.mark.parametrize(
    "damage, fault, repaired",
    [
        (_garbage("zarr.json"), "zarr.json is stray zarr v3 metadata", "removed zarr.json"),
        (_garbage(".zattrs"), ".zattrs is damaged", "repaired .zattrs"),
        (_garbage(".zmetadata"), ".zmetadata is damaged", "repaired .zmetadata"),
        (lambda store: (store / ".zgroup").unlink(), ".zgroup is missing", "repaired .zgroup"),
    ],
    ids=["zarr.json", ".zattrs", ".zmetadata", ".zgroup"],
)
def test_info_reports_metadata_that_breaks_plain_xarray_and_a_rerun_repairs_it(
    tmp_path, reference, damage, fault, repaired
):
    """Each of these leaves `open_sweep` working (it reads the arrays and the spec's copy)
    but breaks plain `xarray.open_zarr`: `info` names the file, the xarray error and the
    command that repairs it; the rerun does, and then plain xarray reads what `open_sweep`
    reads."""
    store = tmp_path / "meta.zarr"
    sweep("metastability", AXES, out=str(store), **KW)
    damage(store)
    run = invoke("info", str(store))
    out = " ".join(run.stdout.split())
    assert run.exit_code == 0 and "chunks 2/2 done (checksums verified; 0 damaged)" in out, run.stdout
    expected = (
        re.escape(f"metadata damaged: {fault}; plain xarray.open_zarr fails (")
        + r"\w+: [^\n]+"
        + re.escape(
            "). Rerun the sweep command on this store to repair it: photosc sweep metastability "
            f"--DeltaE 0.5:2:4 --nu 1:3:5 --out {store} "
        )
    )
    assert re.search(expected, out), run.stdout
    with warnings.catch_warnings(), pytest.raises(Exception):  # noqa: B017 - whichever zarr gives
        warnings.simplefilter("ignore")  # "both zarr.json and .zgroup exist"
        xr.open_zarr(store)
    with pytest.warns(UserWarning, match=re.escape(repaired)):
        ds = sweep("metastability", AXES, out=str(store), **KW)
    assert ds.attrs["chunks_computed"] == 0
    assert "metadata intact (plain xarray.open_zarr opens the store)" in " ".join(
        invoke("info", str(store)).stdout.split()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _equal(xr.open_zarr(store).load(), open_sweep(store))
    _equal(open_sweep(store), reference)


FULL = (
    "Writing the store {} failed: no space left on device: free space or use another --out; "
    "finished chunks are kept and a rerun resumes."
)


def _disk_full(monkeypatch, fails, batch=lambda path: False):
    """zarr's file writes raise ENOSPC where `fails(path)`; those of the same batch
    (`batch(path)`: written concurrently) finish after the failure, as threads writing to
    a full disk do, so a clean-up that does not wait for them leaves folders behind.
    Returns the list of failed paths and an event set once the batch's writes are done."""
    from zarr.storage import _local

    put, failed, failure, late = _local._put, [], threading.Event(), threading.Event()

    def full(path, value, *args, **kwargs):  # (zarr's own signature differs between versions)
        if fails(path):
            failed.append(path)
            failure.set()
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        if not batch(path):
            return put(path, value, *args, **kwargs)
        assert failure.wait(10)
        time.sleep(0.2)  # still writing when the error reaches the caller
        try:
            return put(path, value, *args, **kwargs)
        finally:
            late.set()

    monkeypatch.setattr(_local, "_put", full)
    return failed, late


def test_a_full_disk_creating_a_store_is_one_error_and_leaves_nothing(tmp_path, monkeypatch):
    store = tmp_path / "full.zarr"
    failed, late = _disk_full(
        monkeypatch,
        lambda path: path.name == ".zarray" and path.parent.name == "Q_MS",
        batch=lambda path: path.name == ".zattrs" and path.parent.name == "Q_MS",
    )
    with pytest.raises(StoreFullError) as err:
        sweep("metastability", AXES, out=str(store), **KW)
    assert failed and err.value.errno == errno.ENOSPC and str(err.value) == FULL.format(store)
    assert late.wait(10)  # (the late writes have ended)
    assert list(tmp_path.iterdir()) == []  # no store, no temporary folder


def test_a_full_disk_writing_a_chunk_is_one_line_and_the_rerun_resumes(tmp_path, monkeypatch, reference):
    store = tmp_path / "full.zarr"
    sweep("metastability", AXES, out=str(store), shard=(0, 2), **KW)
    failed, _ = _disk_full(monkeypatch, lambda path: path.parent.name == "E_B" and path.name == "1.0")
    args = ["sweep", "metastability", "--DeltaE", "0.5:2:4", "--nu", "1:3:5", "--out", str(store)]
    run = invoke(*args, "--no-progress")
    assert failed and run.exit_code == 2, (run.stdout, run.stderr)
    assert run.stderr == f"Error: {FULL.format(store)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.zarr"]
    assert not [p for p in store.rglob("*") if ".partial" in p.name or ".tmp" in p.name]
    monkeypatch.undo()
    ds = sweep("metastability", AXES, out=str(store), **KW)
    assert ds.attrs["chunks_computed"] == 1 and ds.attrs["chunks_damaged"] == 0
    _equal(ds, reference)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--t-max", "-5"], "Evolve(t_max=-5.0): t_max must be positive."),
        (["--t-max", "nan"], "--t-max = nan"),
        (["--rtol", "1.5"], "Evolve(rtol=1.5): rtol must be below 1"),
        (["--atol", "0"], "Evolve(atol=0.0): atol must be positive."),
        (["--max-steps", "0"], "1 <= max_steps"),
        (["--max-steps", "2.5"], "whole number"),
        (["--t-max", "abc"], "--t-max needs a number"),
        (["--shard", "1-2"], "--shard '1-2': use i/n"),
        (["--shard", "2/2"], "0 <= i < n"),
        (["--chunk-size", "0"], "--chunk-size must be a whole number >= 1"),
        (["--T", "nan"], "not finite"),
        (["--Omega", "0:1:2.5"], "n a whole number"),
        (["--Omega", "0.1,0.1"], "repeats a value"),
        (["--V", "3"], "--V is given twice (1,2 and 3); give it once."),
        (["--rtol", "1e-6", "--rtol=1e-7"], "--rtol is given twice (1e-6 and 1e-7); give it once."),
        (["--dk", "1e-8"], "GB at once"),
        (["--out", "/proc/photosc.zarr"], "cannot write there"),
    ],
)
def test_bad_interband_input_is_one_line(args, message):
    run = invoke("sweep", "interband", "--method", "evolve", "--V", "1,2", *args, "--no-progress")
    assert run.exit_code == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], run.stderr


@pytest.mark.parametrize(
    "env, shard",
    [
        ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}, (3, 4)),
        ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, (3, 4)),
        (  # --array=10-16:2: tasks 10, 12, 14, 16
            {
                "SLURM_ARRAY_TASK_ID": "14",
                "SLURM_ARRAY_TASK_COUNT": "4",
                "SLURM_ARRAY_TASK_MIN": "10",
                "SLURM_ARRAY_TASK_STEP": "2",
            },
            (2, 4),
        ),  # fmt: skip
        ({"SLURM_PROCID": "5", "SLURM_NTASKS": "8"}, (5, 8)),
    ],
)
def test_shard_auto_reads_slurms_array_or_task_variables(env, shard):
    from photosc_jax.cli import _parse_shard

    assert _parse_shard("auto", env) == shard


def test_shard_auto_fills_a_store_in_an_array_job(tmp_path, monkeypatch):
    """Two array tasks with `--shard auto` fill one store; outside SLURM it is refused."""
    store = str(tmp_path / "auto.zarr")
    args = ["sweep", "metastability", "--DeltaE", "0.5:2:4", "--nu", "1:3:5", "--chunk-size", "10"]
    for task in ("1", "2"):
        monkeypatch.setenv("SLURM_ARRAY_TASK_ID", task)
        monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "1")
        monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "2")
        run = invoke(*args, "--out", store, "--shard", "auto", "--no-progress")
        assert run.exit_code == 0, run.stderr
    assert open_sweep(store).attrs["complete"] == 1
    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "SLURM_PROCID"):
        monkeypatch.delenv(name, raising=False)
    run = invoke(*args, "--shard", "auto", "--no-progress")
    assert run.exit_code == 2 and run.stderr.strip() == (
        "Error: --shard auto: no SLURM array job (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) "
        "or task (SLURM_PROCID, SLURM_NTASKS) variables here; give --shard i/n."
    ), run.stderr


def test_an_option_of_the_other_method_names_it():
    """The default interband method is continuation: --t-max (an evolve option) says so."""
    run = invoke("sweep", "interband", "--V", "1,2", "--t-max", "100", "--no-progress")
    assert run.exit_code == 2
    assert "'evolve' (CLI --method evolve" in run.stderr and "--t-max" in run.stderr, run.stderr
    with pytest.raises(ValueError, match="run option.*of method 'evolve'"):
        sweep("interband", {"V": [1.0, 2.0]}, options={"t_max": 100.0}, progress=False)


def test_an_unknown_option_suggests_the_closest_name():
    """A misspelt option names the closest one (and the old name --t1 of --t-max is just
    unknown: no note followed by an error for the same option)."""
    run = invoke("sweep", "interband", "--Omgea", "0.1:0.3:3", "--V", "1,2", "--no-progress")
    line = run.stderr.strip()
    assert run.exit_code == 2 and "\n" not in line, run.stderr
    assert line.startswith(
        "Error: Unknown option --Omgea for the interband model by continuation. Did you mean --Omega?"
    )
    run = invoke("sweep", "interband", "--method", "evolve", "--V", "1,2", "--t1", "500", "--no-progress")
    assert run.exit_code == 2 and run.stderr.count("\n") == 1 and "--t1" in run.stderr
    assert "Note" not in run.stderr and "--t-max" in run.stderr  # listed among the run options


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[axes]\nDeltaE = 0.25\n", 'an axis is a string "a:b:n" or a list'),
        ("[fixed]\nG = [0.5, 0.6]\n", "must be one number or a name (to sweep it"),
        ('[fixed]\nG = "strong"\n', "The parameter G must be a number, got 'strong'"),
        ("[axes]\nnu = [1.0, 2.0]\n[fixed]\nnu = 3\n", "nu is in [axes] and in [fixed]; keep it in one"),
        ('[options]\nT = "hot"\n', "must be one number"),
        ("[axis]\nnu = [1.0]\n", "unknown table"),
        ("[axes\n", "not valid TOML"),
    ],
)
def test_bad_toml_is_one_line(tmp_path, toml, message):
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    run = invoke(
        "sweep", "metastability", "--config", str(cfg), "--nu", "1,2", "--DeltaE", "1", "--no-progress"
    )
    lines = run.stderr.strip().splitlines()
    assert run.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), run.stderr
    assert message in lines[0], run.stderr


def test_toml_takes_what_the_command_line_takes(tmp_path):
    """A choice parameter in [fixed] (phonon_targets = "linear") as on the command line."""
    from photosc_jax.cli import _read_config
    from photosc_jax.sweeps.models import get_model
    from photosc_jax.sweeps.spec import make_spec

    cfg = tmp_path / "c.toml"
    cfg.write_text('[axes]\nV = "1:3:3"\n[fixed]\nphonon_targets = "linear"\nOmega = 0.2\n')
    axes, fixed, options = _read_config(cfg)
    assert fixed == {"phonon_targets": "linear", "Omega": 0.2}
    spec = make_spec(get_model("interband", "evolve"), axes, fixed, options, None)
    assert spec["parameters"]["phonon_targets"] == "linear" and spec["axes"]["V"] == [1.0, 2.0, 3.0]


def test_bad_model_ii_temperature_is_refused():
    for T in (float("nan"), -0.1):
        with pytest.raises(ValueError, match="0 <= T"):
            sweep("metastability", AXES, options={"T": T}, progress=False)


def _done(store) -> int:
    try:
        return int(np.asarray(zarr.open_group(str(store), mode="r")["_photosc/chunk_done"][:]).sum())
    except Exception:  # noqa: BLE001 - not created yet
        return 0


CAMPAIGN = [
    "sweep",
    "metastability",
    "--DeltaE",
    "0.2:3:24",
    "--nu",
    "0.2:4:24",
    "--chunk-size",
    "24",
    "--no-progress",
]  # 24 chunks of one row


@pytest.fixture(scope="module")
def campaign_reference():
    return sweep("metastability", {"DeltaE": "0.2:3:24", "nu": "0.2:4:24"}, chunk_size=24, progress=False)


@pytest.mark.slow
def test_sigkill_campaign_always_resumes_to_the_same_store(tmp_path, campaign_reference):
    """Kill -9 at random moments (import, compile, compute, write), resume after each: no
    finished chunk is ever lost, the final run computes only what was left, and the store
    equals an uninterrupted sweep bit for bit."""
    store = tmp_path / "kill.zarr"
    rng = random.Random(1234)
    history = [0]
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "photosc_jax", *CAMPAIGN, "--out", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.0, 9.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        history.append(_done(store))
        assert history[-1] >= history[-2]  # finished chunks survive every kill
    final = _cli(*CAMPAIGN, "--out", str(store))
    assert final.returncode == 0, final.stderr
    assert f"{24 - history[-1]} chunk(s) computed" in final.stdout
    ds = open_sweep(store)
    assert ds.attrs["complete"] == 1
    _equal(ds, campaign_reference)


@pytest.mark.slow
def test_sigint_at_any_moment_exits_cleanly_and_resumes(tmp_path, campaign_reference):
    store = tmp_path / "int.zarr"
    rng = random.Random(99)
    interrupted = 0
    for _ in range(4):
        args = [a for a in CAMPAIGN if a != "--no-progress"] + ["--progress"]  # its start line marks the run
        proc = subprocess.Popen(
            [sys.executable, "-m", "photosc_jax", *args, "--out", str(store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # once the command runs (then: setting up, compiling, computing or writing); an
        # interrupt during interpreter start-up is Python's own KeyboardInterrupt
        assert proc.stderr.readline().startswith("photosc: metastability sweep")
        time.sleep(rng.uniform(0.0, 1.0))  # the whole campaign takes ~1–2 s here
        before = _done(store)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 130), (proc.returncode, err)  # never a crash (-11, -6)
        assert "Traceback" not in err and "Segmentation" not in err, err
        if proc.returncode == 130:  # (also when the last chunk was done: "Interrupted: 24/24")
            assert "Interrupted: " in err, err
            interrupted += 1
        assert _done(store) >= before  # nothing finished was lost
    assert interrupted >= 2  # the interrupts did land mid-sweep
    final = _cli(*CAMPAIGN, "--out", str(store))
    assert final.returncode == 0, final.stderr
    _equal(open_sweep(store), campaign_reference)


def test_a_file_url_is_a_store_path(tmp_path, reference):
    """(Other URLs: tests/test_object_store.py.)"""
    url = (tmp_path / "url.zarr").as_uri()
    assert url.startswith("file:///")
    ds = sweep("metastability", AXES, out=url, **KW)
    assert ds.attrs["complete"] == 1 and (tmp_path / "url.zarr" / ".zmetadata").exists()
    _equal(open_sweep(url), reference)
    assert invoke("info", url).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["url.zarr"]
