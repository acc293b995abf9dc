"""Sweeps on executors (`sweep(..., executor=...)`, module `sweeps.executors`): a 2-worker
Dask `LocalCluster` and a spawn `ProcessPoolExecutor` give the serial store; a worker killed
with SIGKILL mid-sweep, or the parent killed, loses nothing and a rerun computes only what
is missing; a chunk that always fails is listed after its retries with every other chunk
kept; wrong executors and arguments are refused in one line."""

import concurrent.futures as cf
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from helpers import SMALL, invoke

from photosc_jax.sweeps import ChunksFailedError, open_sweep, sweep
from photosc_jax.sweeps import executors as executors_mod

distributed = pytest.importorskip("distributed")

# a continuation map of 4 rows in 4 chunks on the tiny grid: seconds per chunk
AXES = {"Omega": [0.15, 0.2, 0.25, 0.3], "V": "0:6:6"}
KW = dict(fixed=SMALL, chunk_size=6, progress=False)
META = {"DeltaE": "0.5:2:4", "nu": "1:3:5"}  # metastability: 2 chunks of 10 points

pytestmark = pytest.mark.xdist_group("executors")  # one module fixture, one cluster at a time


@pytest.fixture(scope="module")
def serial():
    return sweep("interband", AXES, workers=1, **KW)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c, distributed.Client(c) as client:  # fmt: skip
        yield client


def _equal(a, b):
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def _done(store) -> int:
    try:
        return int(zarr.open_array(str(Path(store) / "_photosc" / "chunk_done"), mode="r")[:].sum())
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def test_a_local_cluster_gives_the_serial_store_with_each_worker_on_its_own_core(cluster, serial, tmp_path):
    ds = sweep("interband", AXES, executor=cluster, out=str(tmp_path / "dask.zarr"), **KW)
    assert ds.attrs["chunks_computed"] == 4 and ds.attrs["complete"] == 1
    assert ds.attrs["plan"] == "executor" and ds.attrs["workers"] == 2
    _equal(ds, serial)
    _equal(open_sweep(tmp_path / "dask.zarr"), serial)
    pinned = [
        cluster.submit(os.sched_getaffinity, 0, workers=[w], pure=False).result() for w in cluster.nthreads()
    ]
    assert [len(p) for p in pinned] == [1, 1] and len(set().union(*pinned)) == min(2, os.cpu_count())


def test_a_worker_killed_mid_sweep_loses_nothing(cluster, serial, tmp_path):
    """SIGKILL of one worker once the first chunk is in: Dask restarts it and reruns its
    task (or ours retries it); the store completes and equals the serial one."""
    store = str(tmp_path / "killed.zarr")
    box = {}
    run = threading.Thread(
        target=lambda: box.update(ds=sweep("interband", AXES, executor=cluster, out=store, **KW))
    )
    run.start()
    deadline = time.monotonic() + 300
    while _done(store) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _done(store) < 4, "the sweep ended before a worker could be killed"
    victim = next(iter(cluster.run(os.getpid).values()))
    os.kill(victim, signal.SIGKILL)
    run.join(300)
    assert not run.is_alive() and box["ds"].attrs["complete"] == 1
    _equal(open_sweep(store), serial)


class FailingExecutor(cf.ThreadPoolExecutor):
    """Runs tasks in threads of this process; every task of chunk `bad` raises."""

    def __init__(self, bad):
        super().__init__(max_workers=2)
        self.bad, self.tries = bad, 0

    def submit(self, fn, *args, **kwargs):
        if fn is executors_mod.run_chunk and args[2] == self.bad:
            self.tries += 1
            return super().submit(lambda: 1 / 0)
        return super().submit(fn, *args, **kwargs)


def test_a_chunk_that_always_fails_is_listed_after_its_retries_and_the_rest_kept(tmp_path):
    store = str(tmp_path / "failing.zarr")
    ex = FailingExecutor(bad=1)
    with ex, pytest.raises(ChunksFailedError) as err:
        sweep("metastability", META, executor=ex, out=store, chunk_size=10, progress=False)
    assert ex.tries == executors_mod.RETRIES + 1 and list(err.value.failed) == [1]
    assert str(err.value) == (
        f"1 chunk(s) failed on all 3 tries (chunk 1: ZeroDivisionError: division by zero). The "
        f"other chunks are in {store}: rerun the same sweep to retry these."
    )
    assert open_sweep(store).attrs["chunks_done"] == 1
    with cf.ThreadPoolExecutor(2) as ex:
        again = sweep("metastability", META, executor=ex, out=store, chunk_size=10, progress=False)
    assert again.attrs["chunks_computed"] == 1 and again.attrs["complete"] == 1
    _equal(again, sweep("metastability", META, chunk_size=10, progress=False))


class RecordingExecutor(cf.ThreadPoolExecutor):
    """Runs tasks in threads of this process and records the function of each task."""

    def __init__(self, workers):
        super().__init__(max_workers=workers)
        self.tasks = []

    def submit(self, fn, *args, **kwargs):
        self.tasks.append(fn.__name__)
        return super().submit(fn, *args, **kwargs)


def test_the_other_workers_import_the_package_while_the_first_compiles(tmp_path):
    """One task compiles the chunk program first; the executor's other workers (2 of 3
    here) import the package meanwhile, each in a distinct task (Dask would merge equal
    ones); then one task per chunk (4)."""
    ex = RecordingExecutor(workers=3)
    with ex:
        sweep("metastability", META, executor=ex, out=str(tmp_path / "s.zarr"), chunk_size=5, progress=False)
    assert ex.tasks == ["compile_chunk", "prepare", "prepare", *["run_chunk"] * 4]


def test_a_killed_parent_resumes_with_only_the_rest_computed(serial, tmp_path):
    """The parent (with its spawn process pool) is killed once a chunk is in; a rerun on the
    same store computes exactly the chunks that were not finished."""
    store = str(tmp_path / "parent.zarr")
    script = f"""
import multiprocessing, concurrent.futures as cf
from photosc_jax.sweeps import sweep
if __name__ == "__main__":
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        kw = dict(fixed={SMALL!r}, chunk_size=6, progress=False)
        sweep("interband", {AXES!r}, executor=ex, out={store!r}, **kw)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _done(store) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _done(store)
    assert 1 <= before < 4, proc.stderr.read().decode()
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        ds = sweep("interband", AXES, executor=ex, out=store, **KW)
    assert ds.attrs["chunks_computed"] == 4 - before and ds.attrs["complete"] == 1
    _equal(ds, serial)


FORK = multiprocessing.get_context("fork")
NEEDS_OUT = "sweep(executor=...): the tasks write their chunks to a store; give out="


@pytest.mark.parametrize(
    "kw, error, message",
    [
        (dict(executor=object(), out="x.zarr"), TypeError, "sweep(executor=object): give a concurrent."),
        (dict(executor=cf.ThreadPoolExecutor(1)), ValueError, NEEDS_OUT),
        (
            dict(executor=cf.ThreadPoolExecutor(1), out="x.zarr", plan="cpu"),
            ValueError,
            "leave plan, workers, devices and vmap_width at their defaults",
        ),
        (
            dict(executor=cf.ProcessPoolExecutor(1, mp_context=FORK), out="x.zarr"),
            ValueError,
            "its processes start by 'fork', which JAX does not survive; use "
            "ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn')).",
        ),
    ],
)
def test_a_wrong_executor_or_argument_is_refused_in_one_line(kw, error, message):
    with pytest.raises(error) as err:
        sweep("metastability", META, progress=False, **kw)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_command_runs_on_a_dask_cluster_by_its_address(cluster, serial, tmp_path):
    store = str(tmp_path / "cli.zarr")
    fixed = [f"--{k}={v}" for k, v in SMALL.items()]
    args = ["sweep", "interband", "--Omega", "0.15,0.2,0.25,0.3", "--V", "0:6:6", *fixed, "--chunk-size", "6"]
    run = invoke(*args, "--scheduler", cluster.scheduler.address, "--out", store, "--no-progress")
    assert run.exit_code == 0, run.stderr
    _equal(open_sweep(store), serial)
    run = invoke(*args, "--scheduler", cluster.scheduler.address, "--no-progress")
    assert run.exit_code == 2 and run.stderr.strip() == (
        "Error: --scheduler: the cluster's workers write the chunks to a store; give --out on "
        "storage every worker reaches."
    )
