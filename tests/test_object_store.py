"""Sweep stores on object storage (any fsspec URL), tested on fsspec's in-process
`memory://` filesystem: a store written there reads back (`open_sweep`, plain xarray, the
CLI) exactly as the same sweep written to a local folder, resumes, detects and recomputes a
lost chunk object, repairs its metadata, survives an interrupted creation, runs on an
executor, and what object storage cannot support (independent shards) is refused in one
line, as is a URL whose filesystem is not installed. One test runs on S3 itself, emulated
by moto's server (the `test` extra installs moto and s3fs). The metastability model keeps
these tests fast: the store is model-agnostic."""

import multiprocessing
import socket
import sys
import uuid
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import fsspec
import numpy as np
import pytest
import xarray as xr
from helpers import invoke

from photosc_jax.sweeps import StoreDamagedWarning, StoreMismatchError, open_sweep, sweep
from photosc_jax.sweeps import location as location_mod
from photosc_jax.sweeps import store as stored

pytestmark = pytest.mark.xdist_group("object_store")

AXES = {"DeltaE": "0.5:2:4", "nu": "1:3:5"}  # 4 x 5 grid
KW = dict(chunk_size=10, progress=False)  # chunks of 2 rows x 5 -> 2 chunks
CLI = ["sweep", "metastability", "--DeltaE", "0.5:2:4", "--nu", "1:3:5", "--chunk-size", "10"]
CLI += ["--no-progress"]


@pytest.fixture
def url():
    """A fresh `memory://` store location, removed afterwards."""
    top = f"photosc-test-{uuid.uuid4().hex}"
    yield f"memory://{top}/map.zarr"
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{top}"):
        fs.rm(f"/{top}", recursive=True)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The sweep written to a local folder: what a store on object storage must equal."""
    path = tmp_path_factory.mktemp("local") / "map.zarr"
    sweep("metastability", AXES, out=str(path), **KW)
    return path


def _equal(a, b):
    assert set(a.data_vars) == set(b.data_vars)
    for name in [*a.data_vars, *a.coords]:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def _objects(url):
    loc = location_mod.location(url)
    return loc.files()


def test_a_store_on_object_storage_reads_back_as_the_local_one(url, local):
    ds = sweep("metastability", AXES, out=url, **KW)
    assert ds.attrs["complete"] == 1 and ds.attrs["chunks_computed"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _equal(ds, open_sweep(local))
        _equal(open_sweep(url), open_sweep(local))
        plain, plain_local = xr.open_zarr(url).load(), xr.open_zarr(local).load()
    _equal(plain, plain_local)
    assert {k: v for k, v in plain.attrs.items() if k not in ("created", "history", "photosc_sweep")} == {
        k: v for k, v in plain_local.attrs.items() if k not in ("created", "history", "photosc_sweep")
    }
    # the same objects as the local folder's files
    files = sorted(f.relative_to(local).as_posix() for f in local.rglob("*") if f.is_file())
    assert _objects(url) == files
    again = sweep("metastability", AXES, out=url, **KW)
    assert again.attrs["chunks_computed"] == 0


def test_the_command_line_takes_a_url(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = invoke(*CLI, "--out", url)
    assert run.exit_code == 0, run.stderr
    assert f"Results in {url}" in run.stdout
    info = invoke("info", url)
    assert info.exit_code == 0, info.stderr
    assert f"store       {url}" in info.stdout and "2/2 done" in info.stdout
    assert "intact (plain xarray.open_zarr opens the store)" in info.stdout
    plot = invoke("plot", url)  # the figure: in the current directory, named after the store
    assert plot.exit_code == 0, plot.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_an_interrupted_sweep_resumes_with_the_rest(url, local):
    calls = []
    first = sweep("metastability", AXES, out=url, stop=lambda: calls.append(1) or len(calls) > 1, **KW)
    assert first.attrs["interrupted"] == 1 and first.attrs["chunks_computed"] == 1
    assert open_sweep(url).attrs["chunks_done"] == 1
    rest = sweep("metastability", AXES, out=url, **KW)
    assert rest.attrs["chunks_computed"] == 1 and rest.attrs["complete"] == 1
    _equal(rest, open_sweep(local))


def test_a_deleted_chunk_object_is_detected_and_recomputed(url, local):
    """Chunk 1 of Q_MS is all NaN, which is what its missing object reads as: its checksum
    passes, but the listing finds the object missing."""
    sweep("metastability", AXES, out=url, **KW)
    fs, root = fsspec.core.url_to_fs(url)
    assert np.all(np.isnan(open_sweep(local)["Q_MS"].values[2:4]))
    fs.rm_file(f"{root}/Q_MS/1.0")
    with pytest.warns(StoreDamagedWarning, match=r"1 chunk\(s\) of memory://.*\(chunks 1\)"):
        assert open_sweep(url).attrs["damaged_chunks"] == "1"
    with pytest.warns(UserWarning) as seen:
        ds = sweep("metastability", AXES, out=url, **KW)
    assert [str(w.message) for w in seen] == ["1 chunk(s) failed their checksum and are recomputed: [1]"]
    assert ds.attrs["chunks_computed"] == 1 and fs.exists(f"{root}/Q_MS/1.0")
    _equal(ds, open_sweep(local))


def test_damaged_metadata_on_object_storage_is_reported_and_repaired(url, local):
    sweep("metastability", AXES, out=url, **KW)
    fs, root = fsspec.core.url_to_fs(url)
    fs.rm_file(f"{root}/.zmetadata")
    fs.pipe_file(f"{root}/E_B/.zattrs", b"{}")
    fs.pipe_file(f"{root}/zarr.json", b"{}")
    spec = stored.read_spec(url)
    assert stored.check_metadata(url, spec) == [
        ".zmetadata is missing",
        "E_B/.zattrs is damaged",
        f"zarr.json is {stored.STRAY}",
    ]
    info = invoke("info", url)
    assert info.exit_code == 0 and "damaged: .zmetadata is missing" in info.stdout
    with pytest.warns(UserWarning) as seen:
        ds = sweep("metastability", AXES, out=url, **KW)
    assert sorted(str(w.message) for w in seen) == [
        "removed zarr.json (stray zarr v3 metadata)",
        "repaired .zmetadata",
        "repaired E_B/.zattrs",
    ]
    assert ds.attrs["chunks_computed"] == 0 and stored.check_metadata(url, spec) == []
    _equal(xr.open_zarr(url).load(), xr.open_zarr(local).load())


@pytest.mark.parametrize("fails", stored._LAST)
def test_an_interrupted_creation_is_recognised_and_a_rerun_completes_it(url, local, monkeypatch, fails):
    """Creating a store on object storage writes the specification and the root metadata
    last: interrupted before the first specification, it is no sweep store yet; after, one
    whose missing metadata a rerun restores. Either way the rerun completes it."""
    write = location_mod.Remote.write_bytes

    def crash(self, rel, data):
        if rel == fails:
            raise ConnectionError("lost the connection")
        write(self, rel, data)

    with monkeypatch.context() as m:
        m.setattr(location_mod.Remote, "write_bytes", crash)
        with pytest.raises(ConnectionError):
            sweep("metastability", AXES, out=url, **KW)
    if fails == stored._LAST[0]:
        with pytest.raises(StoreMismatchError, match="not a photosc sweep store"):
            open_sweep(url)
    else:
        missing = stored._LAST[stored._LAST.index(fails) :]
        assert stored.check_metadata(url, stored.read_spec(url)) == [f"{rel} is missing" for rel in missing]
    if fails != ".zmetadata":
        with pytest.raises(Exception):  # noqa: B017 - whatever plain xarray raises: no group
            xr.open_zarr(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the notes on what was repaired)
        ds = sweep("metastability", AXES, out=url, **KW)
    assert ds.attrs["complete"] == 1 and stored.check_metadata(url, stored.read_spec(url)) == []
    _equal(ds, open_sweep(local))


def test_a_prefix_holding_other_objects_is_not_taken_over(url):
    fs, root = fsspec.core.url_to_fs(url)
    fs.pipe_file(f"{root}/notes.txt", b"mine")
    with pytest.raises(StoreMismatchError) as err:
        sweep("metastability", AXES, out=url, **KW)
    assert str(err.value) == (
        f"{url} holds 1 object(s) of something other than a sweep store (e.g. notes.txt) and no "
        "sweep specification; use another --out location."
    )
    assert _objects(url) == ["notes.txt"]


def test_an_executor_writes_the_chunks_and_needs_no_claims(url, local):
    with ThreadPoolExecutor(2) as pool:
        ds = sweep("metastability", AXES, out=url, executor=pool, **KW)
    assert ds.attrs["plan"] == "executor" and ds.attrs["chunks_computed"] == 2
    _equal(ds, open_sweep(local))


SHARD = (
    "--shard (shard=) with --out {}: independent shard processes may each create the store, which "
    "needs a filesystem's atomic rename, and object storage has none; run the sweep once with "
    "--scheduler (sweep(executor=...)), where one process creates the store, or put the store on a "
    "shared filesystem."
)


def test_shards_and_process_executors_are_refused_where_they_cannot_work(url):
    with pytest.raises(ValueError) as err:
        sweep("metastability", AXES, out=url, shard=(0, 2), **KW)
    assert str(err.value) == SHARD.format(url)
    run = invoke(*CLI, "--out", url, "--shard", "0/2")
    assert run.exit_code == 2 and run.stderr == f"Error: {SHARD.format(url)}\n"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as processes:
        with pytest.raises(ValueError, match=r"lives in this process's memory.* ThreadPoolExecutor\.$"):
            sweep("metastability", AXES, out=url, executor=processes, **KW)
    assert _objects(url) == []  # refused before anything was written


MISSING = "s3://bucket/map.zarr: stores on s3:// need the package s3fs (pip install s3fs)."
UNKNOWN = (
    "nosuch://bucket/map.zarr: no fsspec filesystem knows the protocol nosuch://; give a path, a "
    "file:// URL or the URL of storage an installed fsspec filesystem reaches (s3://, gs://, …)."
)


def test_a_url_whose_filesystem_is_not_installed_names_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a refused URL must not become a local folder "s3:"
    monkeypatch.setitem(sys.modules, "s3fs", None)  # (not installed, whatever this machine has)
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    for where, message in (("s3://bucket/map.zarr", MISSING), ("nosuch://bucket/map.zarr", UNKNOWN)):
        with pytest.raises(ValueError) as err:
            sweep("metastability", AXES, out=where, **KW)
        assert str(err.value) == message
        run = invoke(*CLI, "--out", where)
        assert run.exit_code == 2 and run.stderr == f"Error: {message}\n"
        for command in ("info", "plot"):
            run = invoke(command, where)
            assert run.exit_code == 2 and run.stderr == f"Error: {message}\n"
        with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
            open_sweep(where)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def s3(monkeypatch):
    """An S3 emulator (moto's server, in a thread) with one bucket; fsspec's configuration
    points s3:// at it, as `FSSPEC_S3_ENDPOINT_URL` etc. would. Yields the bucket's URL."""
    pytest.importorskip("s3fs")
    ThreadedMotoServer = pytest.importorskip("moto.server").ThreadedMotoServer

    with socket.socket() as probe:  # a free port (moto < 5.0.x cannot report the one it took)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {"endpoint_url": f"http://127.0.0.1:{port}", "key": "test", "secret": "test"}
    monkeypatch.setitem(fsspec.config.conf, "s3", options)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"photosc-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", skip_instance_cache=True).mkdir(bucket)
    try:
        yield f"s3://{bucket}"
    finally:
        server.stop()
        fsspec.filesystem("s3").clear_instance_cache()


def test_a_store_on_an_s3_emulator_repairs_and_recomputes_what_was_lost(s3, local):
    """The same on S3 (s3fs, an asynchronous filesystem that zarr drives directly, with no
    folders: a prefix exists while objects are under it)."""
    url = f"{s3}/map.zarr"
    assert sweep("metastability", AXES, out=url, **KW).attrs["complete"] == 1
    fs, root = fsspec.core.url_to_fs(url)
    fs.rm_file(f"{root}/Q_MS/1.0")
    fs.rm_file(f"{root}/.zmetadata")
    with pytest.warns(UserWarning) as seen:
        ds = sweep("metastability", AXES, out=url, **KW)
    assert any("recomputed: [1]" in str(w.message) for w in seen)
    assert any(str(w.message) == "repaired .zmetadata" for w in seen)
    assert ds.attrs["chunks_computed"] == 1 and stored.check_metadata(url, stored.read_spec(url)) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _equal(open_sweep(url), open_sweep(local))
        _equal(xr.open_zarr(url).load(), xr.open_zarr(local).load())
