"""Faults around the CPU plan's pinned worker processes (`sweeps.workers`), as a user of
`photosc sweep` meets them: a worker killed before it took a chunk (the others finish the
map: exit 0 and a note, not a failure), SIGTERM (status 143, no temporary files left), a
Ctrl-C while the row program compiles (it stops at once, not after the compilation) and a
full disk in a worker (the one-line error, not a worker's traceback)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SMALL

from photosc_jax.sweeps import open_sweep

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the worker processes need two cores")

FIXED = [f"--{k}={v}" for k, v in SMALL.items()]
MAP = [
    "sweep",
    "interband",
    "--Omega",
    "0.15,0.2,0.25,0.3",
    "--V",
    "0:6:6",
    *FIXED,
    "--chunk-size",
    "6",
    "--workers",
    "2",
]


def _start(tmp_path, *args, cache=None, env=None):
    """`photosc sweep` in a subprocess with its own temporary folder (`tmp_path/tmp`) and,
    with `cache`, its own compilation cache (a cold compile)."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    extra = {"TMPDIR": str(tmp_path / "tmp"), **(env or {})}
    if cache is not None:
        extra["PHOTOSC_JAX_CACHE"] = str(cache)
    full = {k: v for k, v in os.environ.items() if not (cache and k == "JAX_COMPILATION_CACHE_DIR")}
    return subprocess.Popen(
        [sys.executable, "-m", "photosc_jax", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**full, **extra},
    )


def _workers(proc, n=2, timeout=120):
    """The pids of the sweep's worker processes, once `n` have started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        pids = []  # the children of every thread (the command runs in a thread of its own)
        for kids in Path(f"/proc/{proc.pid}/task").glob("*/children"):
            try:
                pids += [int(p) for p in kids.read_text().split()]
            except OSError:  # a thread that just ended
                pass
        if len(pids) >= n:
            return pids
        time.sleep(0.05)
    raise AssertionError("the workers did not start")


def _left_over(tmp_path):
    return sorted(p.name for p in (tmp_path / "tmp").iterdir())


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the workers in /proc")
def test_a_worker_killed_before_it_took_a_chunk_leaves_a_complete_map_and_a_note(tmp_path):
    store = tmp_path / "s.zarr"
    proc = _start(tmp_path, *MAP, "--out", str(store), "--no-progress")
    victim = _workers(proc)[0]
    os.kill(victim, signal.SIGKILL)  # the parent is still compiling: no chunk is taken yet
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "was killed by SIGKILL before it wrote any output; the other workers computed every chunk" in err
    assert open_sweep(store).attrs["complete"] == 1
    assert _left_over(tmp_path) == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the workers in /proc")
def test_sigterm_stops_at_once_with_143_and_leaves_no_temporary_files(tmp_path):
    proc = _start(tmp_path, *MAP, "--no-progress")  # no --out: a scratch store in TMPDIR
    _workers(proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.rstrip().endswith("Terminated."), err
    assert _left_over(tmp_path) == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the workers in /proc")
def test_ctrl_c_while_the_program_compiles_stops_at_once(tmp_path):
    """A cold compile of the paper-grid row program takes ≥ 10 s; the Ctrl-C, sent once the
    workers are up (the parent is compiling), ends the command within a few seconds."""
    store = tmp_path / "s.zarr"
    args = [
        "sweep",
        "interband",
        "--Omega",
        "0.1,0.2",
        "--V",
        "2,4",
        "--workers",
        "2",
        "--out",
        str(store),
        "--no-progress",
    ]
    proc = _start(tmp_path, *args, cache=tmp_path / "cold")
    _workers(proc)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - t0
    assert proc.returncode == 130 and "Interrupted: 0/" in err, err
    assert took < 8.0, f"{took:.1f} s after the Ctrl-C"
    assert _left_over(tmp_path) == []


SITE = """
import errno, os
if os.getppid() != {pytest_pid} and os.environ.get("PHOTOSC_TEST_FULL"):
    from zarr.storage import _local

    put = _local._put

    def full(path, value, *args, **kwargs):
        if path.parent.name == "delta_abs":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return put(path, value, *args, **kwargs)

    _local._put = full
"""


def test_a_full_disk_in_a_worker_is_one_line(tmp_path):
    """ENOSPC on the workers' chunk writes (a `sitecustomize` in the workers only: their
    parent is the command, whose parent is this test): one `Error:` line, exit 2, the
    store resumable, no temporary files."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITE.format(pytest_pid=os.getpid()))
    store = tmp_path / "s.zarr"
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    proc = _start(tmp_path, *MAP, "--out", str(store), env={"PYTHONPATH": path, "PHOTOSC_TEST_FULL": "1"})
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 2 and err == (
        f"Error: Writing the store {store} failed: no space left on device: free space or use "
        "another --out; finished chunks are kept and a rerun resumes.\n"
    ), err
    assert _left_over(tmp_path) == []
