"""Sweeps on an executor: one task per unfinished chunk, on any `concurrent.futures.Executor`
— a Dask cluster (`distributed.Client`, or its `get_executor()`), a `ProcessPoolExecutor`
with the spawn start method, `mpi4py.futures`, … (`engine.sweep`'s `executor`).

A task is `run_chunk(spec, out, index, attempt)`: a module-level function given the sweep's
specification as JSON, the store's location and the chunk's index — no pickled modules or
compiled programs cross the wire. It computes the chunk on the first device of the process
it runs in (its rows one after another on a CPU, vmapped on an accelerator: the CPU plan of
`engine.sweep` for one chunk) and writes the chunk with its checksum and completion flag
(`store.write_chunk`), so running a chunk twice writes the same bytes. The parent alone
writes the store's metadata, keeps a bounded number of tasks in flight, moves the progress
bar as tasks complete, resubmits a chunk whose task failed (an exception, or its worker
died) up to `retries` times, and raises `ChunksFailedError` listing the chunks that still
failed — the store keeps every other chunk and a rerun resumes. A first task compiles the
chunk program alone (`compile_chunk`) into JAX's persistent compilation cache
(`photosc_jax._compilation_cache`) while the other workers import the package (`prepare`);
they then load it from the cache (sharing its directory: one machine, or a shared home)
instead of all compiling at once.

Worker processes must be started with the spawn method (JAX does not survive a fork), and a
CPU worker should run one task at a time: a task pins its process to one core before JAX
starts there when it knows which worker it is (a Dask worker with one thread, named by its
index as `LocalCluster` names them, or a `ProcessPoolExecutor` process), since unpinned JAX
processes sharing the cores run many times slower (`workers` module docstring).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import json
import os
from collections.abc import Callable

__all__ = ["ChunksFailedError", "run_chunk"]

RETRIES = 2  # resubmissions of a chunk whose task failed
_SETTLED = {"done": False}  # this process pinned (or not) before its first task


class ChunksFailedError(RuntimeError):
    """Chunks of a sweep whose tasks failed on every try (`failed`: {chunk: last error});
    the store keeps all other chunks, and rerunning the sweep retries these."""

    def __init__(self, message: str, failed: dict[int, str]):
        super().__init__(message)
        self.failed = failed


def run_chunk(spec: str, out: str, index: int, attempt: int = 0) -> int:
    """Compute chunk `index` of the sweep `spec` (its specification, JSON) and write it to
    the store `out` (created by the parent). `attempt` only makes each try a distinct task
    (Dask caches a task by its arguments). Returns the chunk's number of points."""
    del attempt
    sweep_spec, model = _begin(spec)
    from . import engine, store
    from .spec import chunk_points

    block = engine.compute_chunk(model, sweep_spec, index)
    store.write_chunk(out, sweep_spec, index, block)
    return len(chunk_points(sweep_spec, index))


def compile_chunk(spec: str, index: int) -> None:
    """Compile the program of chunk `index` of the sweep `spec` (JSON) without running it:
    the first task of a sweep (`run`), which puts the program into the persistent
    compilation cache for the other workers."""
    sweep_spec, model = _begin(spec)
    from . import engine

    run, args, _ = engine.chunk_program(model, sweep_spec, index)
    run.lower(args).compile()


def prepare(spec: str, which: int) -> None:
    """Settle this process and import what a task of the sweep `spec` (JSON) needs, without
    its program: what the other workers do while the first task compiles it (`run`).
    `which` only makes each such task a distinct one (Dask caches a task by its arguments)."""
    del which
    _begin(spec)
    from . import engine  # noqa: F401


def _begin(spec: str):
    """The start of every task: settle this process (`_settle`), then parse the sweep
    `spec` (JSON) and build its model. Returns (the specification, the model)."""
    _settle()
    from .models import model_of

    sweep_spec = json.loads(spec)
    return sweep_spec, model_of(sweep_spec)


def _settle() -> None:
    """Once per process, before JAX starts there: one BLAS thread, and the process pinned to
    one core if it is a numbered single-task worker (module docstring)."""
    if _SETTLED["done"]:
        return
    _SETTLED["done"] = True
    try:
        from jax._src import xla_bridge

        started = xla_bridge.backends_are_initialized()
    except (ImportError, AttributeError):  # cannot tell: leave the process as it is
        started = True
    if started or not hasattr(os, "sched_setaffinity"):
        return
    index = _worker_index()
    if index is None:
        return
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    from .workers import cores

    mine = cores()
    os.sched_setaffinity(0, {mine[index % len(mine)]})


def _worker_index() -> int | None:
    """0, 1, … for a numbered worker that runs one task at a time: a Dask worker with one
    thread whose name is its index (`LocalCluster`), or a process of a
    `ProcessPoolExecutor`; else None."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        worker = None
    if worker is not None:
        name = worker.name
        return int(name) if worker.state.nthreads == 1 and isinstance(name, int) else None
    import multiprocessing

    identity = getattr(multiprocessing.current_process(), "_identity", ())
    return identity[0] - 1 if identity else None


def executor_of(executor) -> tuple[cf.Executor, int]:
    """(the `concurrent.futures.Executor` to submit to, how many tasks it runs at once):
    a Dask `Client` gives its `get_executor()` and its workers' threads. A
    `ProcessPoolExecutor` must use the spawn start method."""
    if hasattr(executor, "get_executor") and hasattr(executor, "nthreads"):  # a Dask client
        return executor.get_executor(), max(1, sum(executor.nthreads().values()))
    if not isinstance(executor, cf.Executor):
        raise TypeError(
            f"sweep(executor={type(executor).__name__}): give a concurrent.futures.Executor "
            "(e.g. ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn'))) or a "
            "dask.distributed Client."
        )
    context = getattr(executor, "_mp_context", None)
    if context is not None and context.get_start_method() != "spawn":
        raise ValueError(
            f"sweep(executor=ProcessPoolExecutor(...)): its processes start by "
            f"{context.get_start_method()!r}, which JAX does not survive; use "
            "ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn'))."
        )
    client = getattr(executor, "_client", None)  # a Dask ClientExecutor
    if client is not None and hasattr(client, "nthreads"):
        return executor, max(1, sum(client.nthreads().values()))
    return executor, max(1, getattr(executor, "_max_workers", None) or os.cpu_count() or 1)


def run(
    executor: cf.Executor,
    capacity: int,
    spec: dict,
    todo: list[int],
    out: str,
    progress: Callable[[int], None],
    stop: Callable[[], bool] | None = None,
    retries: int = RETRIES,
) -> tuple[int, bool]:
    """Run the chunks `todo` of the sweep `spec` on `executor` (module docstring): first a
    task that compiles the chunk program alone (`compile_chunk`), with `capacity` − 1 tasks
    that import the package on the other workers meanwhile (`prepare`), then the chunks, at most
    2·`capacity` tasks in flight; `progress(points)` after each finished chunk. Returns
    (chunks computed, interrupted); raises `ChunksFailedError`."""
    job = json.dumps(spec)
    pending = collections.deque(todo)
    tries: collections.Counter = collections.Counter()
    failed: dict[int, str] = {}
    running: dict[cf.Future, int] = {}
    computed, interrupted = 0, False
    # first the program alone (one worker compiles it into the cache; the others load it);
    # if that fails, each task compiles for itself. Meanwhile the other workers import the
    # package (their first chunk then only loads the program)
    pilot = executor.submit(compile_chunk, job, todo[0])
    warm = [executor.submit(prepare, job, i) for i in range(1, capacity)]
    while not pilot.done():
        if stop is not None and stop():
            for f in (pilot, *warm):
                f.cancel()
            return 0, True
        cf.wait([pilot], timeout=0.2)
    while pending or running:
        if stop is not None and stop():
            interrupted = True
            for f in running:
                f.cancel()  # not started: never runs; started: finishes and writes its chunk
            break
        while pending and len(running) < 2 * capacity:
            c = pending.popleft()
            running[executor.submit(run_chunk, job, out, c, tries[c])] = c
        done, _ = cf.wait(running, timeout=0.5, return_when=cf.FIRST_COMPLETED)
        for f in done:
            c = running.pop(f)
            try:
                points = f.result()
            except Exception as e:  # noqa: BLE001 - a task's failure: retried, then listed
                tries[c] += 1
                if tries[c] <= retries:
                    pending.append(c)
                else:
                    failed[c] = _one_line(e)
                continue
            computed += 1
            progress(points)
    if failed:
        listed = "; ".join(f"chunk {c}: {why}" for c, why in sorted(failed.items())[:10])
        listed += "; ..." if len(failed) > 10 else ""
        raise ChunksFailedError(
            f"{len(failed)} chunk(s) failed on all {retries + 1} tries ({listed}). The other "
            f"chunks are in {out}: rerun the same sweep to retry these.",
            failed,
        )
    return computed, interrupted


def _one_line(e: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__
