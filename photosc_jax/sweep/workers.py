"""Worker processes: row methods on several CPU cores.

A row method (e.g. the interband "continuation") solves each row with optimistix/lineax
root finds, which do not trace under `shard_map` (lineax issue #185: the operator's
structure carries the manual mesh's sharding, the vector's does not), and separate CPU
devices of one process run their computations one after another. So on CPUs the rows are
spread over *processes*: the parent creates the store and starts `n` workers
(`python -m photosc_jax.sweep.workers`, one JAX CPU device each); worker i computes the
chunks i, i + n, i + 2n, … (`sweep(..., shard=(i, n))`) while the parent only waits and
shows the progress. Each chunk is written with its own completion flag, so the processes
never write the same file, and a store left by any of them resumes as usual.

Each worker is pinned to its own CPU core: two JAX processes sharing two cores unpinned
ran 20–40× slower than one alone on the 2-core test machine (XLA's CPU thread pools of
the two processes contend), pinned each runs at full speed.

Compilation is the exception to one core each: XLA's CPU compiler is multi-threaded (the
continuation row program at the paper grid compiles in 13.6 s with two cores, 24.9 s pinned
to one), and a process cannot be pinned once JAX runs (its thread pools are sized for the
cores it saw at start; squeezed onto one core afterwards it crawls). So one extra,
unpinned process compiles the chunk program with every core, writes it to the persistent
compilation cache and opens a gate (`CompileGate`), and exits; the workers trace the
program meanwhile, wait at the gate and load the compiled program from the cache
(`JAX_COMPILATION_CACHE_DIR`; a temporary one unless the environment sets it).

Workers die with their parent (Linux `PR_SET_PDEATHSIG`), finish the chunk in progress on
SIGINT (the parent forwards its own interrupt; they run in their own session, so a
terminal's Ctrl-C reaches the parent only), and report how many chunks they computed on
their last line of output.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CompileGate", "Worker", "WorkerError", "start", "wait"]

GATE_TIMEOUT = 900.0  # s a worker waits for the compiling process before compiling itself


class WorkerError(RuntimeError):
    """A sweep worker process failed (its output is in the message)."""


@dataclass
class Worker:
    shard: tuple[int, int] | None  # None: the compiling process
    proc: subprocess.Popen
    log: Path
    scratch: list[Path] = field(default_factory=list)  # removed by `wait`

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this worker when its parent dies (Linux), and exit now if it
    already has."""
    if sys.platform == "linux":
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        sys.exit(1)


class Compiled(Exception):
    """Raised in the compiling process once the chunk program is compiled (and cached)."""


@dataclass
class CompileGate:
    """The compiling process (`compiles`) opens the gate (creates the file `path`) once the
    chunk program is compiled, and stops there (`Compiled`); a worker waits for the gate
    before compiling (a persistent-cache hit), at most GATE_TIMEOUT seconds or until
    `stop()` (module docstring)."""

    path: Path
    compiles: bool
    stop: Callable[[], bool] = lambda: False

    def before_compile(self) -> None:
        deadline = time.monotonic() + GATE_TIMEOUT
        while not (self.compiles or self.path.exists() or self.stop() or time.monotonic() > deadline):
            time.sleep(0.05)

    def after_compile(self) -> None:
        if self.compiles:
            self.open()
            raise Compiled

    def open(self) -> None:
        if self.compiles:
            self.path.touch()


def _one_device_env() -> dict[str, str]:
    flags = [
        f for f in os.environ.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f
    ]
    return {**os.environ, "XLA_FLAGS": " ".join(flags + ["--xla_force_host_platform_device_count=1"])}


def cores() -> list[int]:
    """The CPU cores this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def start(spec: dict, out: str, n: int) -> list[Worker]:
    """Start workers for shards 0 … n−1 of the sweep `spec` on the existing store `out`."""
    job = {k: spec[k] for k in ("model", "method", "along", "axes", "parameters", "options")}
    mine = cores()
    env = _one_device_env()
    scratch = [Path(tempfile.mkdtemp(prefix="photosc-workers-"))]  # the gate (and the cache)
    if not env.get("JAX_COMPILATION_CACHE_DIR"):
        env["JAX_COMPILATION_CACHE_DIR"] = str(scratch[0] / "xla-cache")
    gate = scratch[0] / "compiled"
    workers = []
    for i in [None, *range(n)]:  # None: the compiling process (unpinned, computes nothing)
        name = "compile" if i is None else str(i)
        log = Path(tempfile.mkstemp(prefix=f"photosc-worker-{name}-", suffix=".log")[1])
        payload = json.dumps(
            {
                **job,
                "out": str(out),
                "shard": [0, 1] if i is None else [i, n],
                "parent": os.getpid(),
                "core": None if i is None else mine[i % len(mine)],
                "gate": str(gate),
            }
        )
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "photosc_jax.sweep.workers", payload],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )  # Ctrl-C: parent forwards once
        workers.append(Worker(None if i is None else (i, n), proc, log, scratch if i is None else []))
    return workers


def wait(workers: list[Worker], poll=None, stop=None) -> tuple[int, bool]:
    """Wait for every worker; `poll()` is called about twice a second (progress), `stop()`
    when true interrupts the workers. Returns (chunks computed, interrupted); raises
    `WorkerError` with the worker's output if one failed."""
    import time

    interrupted = False
    while any(w.proc.poll() is None for w in workers):
        if stop is not None and not interrupted and stop():
            interrupted = True
            for w in workers:
                w.interrupt()
        if poll is not None:
            poll()
        time.sleep(0.5)
    computed, failed = 0, []
    for w in workers:
        for path in w.scratch:
            shutil.rmtree(path, ignore_errors=True)
        text = w.log.read_text(errors="replace")
        w.log.unlink(missing_ok=True)
        if w.shard is None:  # the compiling process: if it failed, the workers compiled themselves
            continue
        lines = text.strip().splitlines()
        try:
            report = json.loads(lines[-1])
            computed += int(report["chunks_computed"])
            interrupted |= bool(report["interrupted"])
        except (IndexError, ValueError, KeyError, TypeError):
            if w.proc.returncode in (130, -signal.SIGINT) and stop is not None and stop():
                interrupted = True
            else:
                failed.append(
                    f"worker {w.shard[0]}/{w.shard[1]} (exit {w.proc.returncode}):\n" + "\n".join(lines[-20:])
                )
    if failed:
        raise WorkerError(
            "A sweep worker process failed; the chunks it finished are kept "
            "(rerun to resume):\n" + "\n".join(failed)
        )
    return computed, interrupted


def _main() -> None:
    job = json.loads(sys.argv[1])
    _die_with_parent(job["parent"])
    compiles = job["core"] is None
    if hasattr(os, "sched_setaffinity") and not compiles:  # before JAX starts its threads: they inherit it
        os.sched_setaffinity(0, {job["core"]})
    requested = {"stop": False}
    gate = CompileGate(Path(job["gate"]), compiles, stop=lambda: requested["stop"])

    def on_interrupt(signum, frame):
        requested["stop"] = True
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    signal.signal(signal.SIGINT, on_interrupt)
    import warnings

    from .engine import sweep

    warnings.simplefilter("ignore")  # the parent reports the sweep's notes
    try:
        ds = sweep(
            job["model"],
            job["axes"],
            method=job["method"],
            along=job["along"],
            fixed=job["parameters"],
            options=job["options"],
            out=job["out"],
            shard=tuple(job["shard"]),
            workers=1,
            progress=False,
            stop=lambda: requested["stop"],
            _gate=gate,
        )
    except Compiled:
        return
    finally:
        gate.open()  # also when the compiling process failed or found nothing to do
    print(
        json.dumps(
            {"chunks_computed": int(ds.attrs["chunks_computed"]), "interrupted": int(ds.attrs["interrupted"])}
        )
    )


if __name__ == "__main__":
    _main()
