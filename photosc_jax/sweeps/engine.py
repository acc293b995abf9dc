"""The sweep engine, shared by both models: grid → chunks → jitted, vmapped, device-sharded
calls → results (in memory or in a resumable zarr store).

In the CPU plan each chunk is one call of a function compiled once (all chunks have the
same padded size); in the accelerator plan (`sweep`'s `plan`) one call takes a batch of
rows or points per device from several chunks (`_run_batched`). The batch dimension is
split over a 1-D device mesh with `shard_map`, so each device runs its own solver loops
on its points (letting XLA auto-shard a vmapped adaptive solve would put collectives
inside the loop: diffrax #407, jax #26586). Under `vmap` a batch runs as long as its
slowest point; points are taken in grid order (last axis fastest), so neighbours in a
batch differ in one parameter only, and the fraction of solver work wasted on finished
points is reported (`attrs["vmap_waste"]`) when the model records solver steps.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._devices import default_vmap_width
from . import executors as executors_mod
from . import programs, store
from . import workers as workers_mod
from .arguments import check_arguments, check_eig, check_location, check_writable, validate_points
from .location import location
from .models import (
    SweepModel,
    default_along,
    default_method,
    get_model,
    method_model,
    method_name,
    model_of,
)
from .spec import (
    check_memory,
    chunk_layout,
    chunk_points,
    chunk_rows,
    chunk_slices,
    is_static,
    make_spec,
    memory_batch,
    memory_fits,
    n_chunks,
    parse_axis,
    read_axes,
    var_shape,
    var_slices,
)

if TYPE_CHECKING:  # imported where a dataset is made: a sweep worker never needs xarray
    import xarray as xr

__all__ = ["parse_axis", "status_counts", "sweep", "vmap_waste"]


def _runner(model: SweepModel, spec, devices, vmap_width):
    """The jitted chunk function, cached so that repeated sweeps with the same model, run
    options, devices and width reuse one compilation (per chunk shape)."""
    key = (id(model), json.dumps(spec["options"], sort_keys=True), tuple(devices), vmap_width)
    if key not in _RUNNERS:
        _RUNNERS[key] = _make_runner(model, spec, devices, vmap_width)
    return _RUNNERS[key]


_RUNNERS: dict = {}  # the cached runners also keep their models alive, so ids stay unique
_PROGRAMS: dict = {}  # compiled accelerator-plan programs: {(runner, argument signature): executable}


def _make_runner(model: SweepModel, spec, devices, vmap_width):
    opts = spec["options"]
    mesh = Mesh(np.asarray(devices), ("points",))

    def local(batched):
        fn = lambda p: model.point(p, opts)  # noqa: E731
        if vmap_width is None:
            return jax.vmap(fn)(batched)
        if vmap_width == 1:
            # no vmap at all: lax.map(..., batch_size=1) vmaps each point, which turns every
            # lax.cond of the solvers into a select that evaluates both branches
            return jax.lax.map(fn, batched)
        return jax.lax.map(fn, batched, batch_size=vmap_width)

    sharding = NamedSharding(mesh, PartitionSpec("points"))
    if len(devices) == 1:  # its traced program kept on disk (module `programs`; the static
        # parameters are in the arguments' tree, which the program's name includes)
        what = (model.name, model.method, model.along, list(model.outputs), model.numerics, opts, vmap_width)
        return programs.CachedProgram(jax.jit(local), json.dumps(what, sort_keys=True)), sharding
    sharded = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=PartitionSpec("points"),
        out_specs=PartitionSpec("points"),
        check_vma=False,
    )
    return jax.jit(sharded), sharding


def _batched_params(model: SweepModel, spec, points, size, sharding):
    """Params of one chunk, batched over its points (or, for a row method, its rows: the
    `along` field then carries the whole row), padded to `size`."""
    pad = points + [points[-1]] * (size - len(points))
    swept = {k: np.asarray([p[k] for p in pad]) for k in spec["axes"] if k != spec.get("along")}
    if spec.get("along") is not None:
        swept[spec["along"]] = np.tile(np.asarray(spec["axes"][spec["along"]]), (size, 1))
    static = {k: v for k, v in spec["parameters"].items() if is_static(model.params_cls, k)}
    fixed = {k: np.full(size, v) for k, v in spec["parameters"].items() if k not in static}
    params = model.params_cls(**static, **fixed, **swept)
    return jax.device_put(params, sharding)


def _progress(total, progress, desc):
    from tqdm.auto import tqdm

    disable = (not progress) if progress is not None else not sys.stderr.isatty()
    return tqdm(total=total, unit="pt", desc=desc, disable=disable, smoothing=0.1)


def sweep(
    model: str | SweepModel,
    axes: Mapping[str, Sequence[float] | str],
    *,
    method: str | None = None,
    along: str | None = None,
    fixed: Mapping[str, float] | None = None,
    options: Mapping[str, Any] | None = None,
    out: str | None = None,
    chunk_size: int | None = None,
    shard: tuple[int, int] | None = None,
    devices=None,
    plan: str = "auto",
    batch: int | None = None,
    vmap_width: int | None | str = "auto",
    workers: int | str = "auto",
    executor=None,
    progress: bool | None = None,
    stop: Callable[[], bool] | None = None,
) -> xr.Dataset:
    """Sweep `model` ("interband" or "metastability") over the grid `axes`.

    **Arguments:**

    - `axes`: {parameter: values} — any (non-static) field of the model's parameter class;
      values as an array or as text 'a:b:n'. The grid is their Cartesian product, dims in
      the order given.
    - `method`: how each point is solved. Interband: "continuation" (the default when an
      axis is swept: per row along `along` the normal state's linear stability, the row's
      threshold and the paired branch by continuation with step control, each point
      classified as normal, paired, bistable or unsettled — `interband.phase_map`; no time
      stepping beyond one warm start per row) or "evolve" (time evolution from the paper's
      initial state with the steady-state detector, per point; the default with no swept
      axis). Metastability: "direct". For the interband model a method object does both at
      once: `interband.Continuation(...)` or `interband.Evolve(...)` (the object
      `steady_state` takes), its fields being the run options (then give no `options`).
    - `along`: the row axis of "continuation" (default: V if swept, else the last axis).
    - `fixed`: other parameter fields (defaults: the class's defaults; all are recorded).
    - `options`: run options: the fields of the method object each point is solved with
      that a sweep can run (numbers, and names of choices), named and defaulted as on the
      object, which checks them (interband evolve:
      `interband.Evolve`'s t_max, tol, rtol, atol, delta_floor, max_steps; continuation:
      `interband.Continuation`'s tol, delta_floor, max_jump, quench (0/1), confirm_t_max,
      the t_max of its `confirm` evolution, 0 for none, and eig, the name of its eigenvalue
      implementation: "auto", "lapack", "cusolver" or "magma"; metastability: T).
    - `out`: where to write the zarr store: a path, a `file://` URL, or the URL of storage an
      installed fsspec filesystem reaches (an object store: `s3://bucket/map.zarr`, …;
      `memory://` in this process; module `location`): results are written chunk by
      chunk; re-running on the same store skips finished chunks, recomputes damaged ones
      and repairs damaged metadata; a store made for another sweep is refused. On an
      object store `shard` is refused (no atomic creation: use `executor`), and a
      `memory://` store, which no other process reaches, runs in this process (or on a
      `ThreadPoolExecutor`).
    - `chunk_size`: about how many points form one chunk (default: the model's — 256 for
      the interband continuation, 64 otherwise — split finer where that leaves fewer than
      two chunks per worker process). Chunks are blocks of the grid — whole rows along the
      last axis (the row axis of a row method) — and are stored with the sweep, so a store
      resumes on any machine with its own chunks.
    - `shard=(i, n)`: compute only chunks i, i+n, i+2n, … (independent processes filling
      one store, e.g. a cluster array job). Damaged chunks are recomputed, and warned of at
      the end, by the shard that computes them; others' are named in a note.
    - `devices`: devices to split the work over (default: all, `jax.devices()`).
    - `plan`: how the work is laid out on them. "accelerator": every device runs a vmapped
      batch of `batch` rows (points, for point methods) per compiled call under
      `shard_map` — no collectives, each device its own loops — and one call spans several
      chunks (the store's chunks are unchanged); "cpu": one chunk per call, points or
      rows solved one after another on each device (`vmap_width`), row methods spread
      over pinned worker processes (`workers`); "auto" (default): "accelerator" on GPUs
      and TPUs, "cpu" on CPUs. The accelerator plan runs on CPU devices too (tests do).
    - `batch`: rows (points) per device per call in the accelerator plan (an int ≥ 1), or
      None (default): as many as the memory allows — the model's per-row estimate against
      half the device's memory, checked against the compiled program's
      `memory_analysis()` and lowered if that finds more — spread evenly over the calls.
    - `vmap_width`: points per vmapped solve on each device: an int, None (all of the
      device's points), or "auto" (1 on CPUs, None on accelerators; `default_vmap_width`).
      Results do not depend on it beyond rounding. On a CPU keep 1 for the interband row
      method: vmapped rows batch their LU and eigenvalue calls, and jaxlib 0.10's batched
      CPU LAPACK kernels can deadlock XLA's thread pool when two run at once on a small
      machine (benchmarks/RESULTS.md, "the `BlockLU` hang found").
    - `workers`: processes for a row method on CPUs (`sweep.workers`): an int, or "auto"
      (one per device when the devices are CPUs, but at most one per 8 rows — a small map
      runs faster in this process than it takes workers to start — else 1); at most one
      per CPU core, each pinned to its core (the CPU plan: separate CPU devices of one
      process run one after another, so the rows are spread over processes instead of
      devices). The chunk program is compiled once, by this (unpinned) process with every
      core while the workers start, and loaded by them without tracing (or, where it came
      from the persistent compilation cache, read by them from the cache as well; where
      an earlier run stored it, only the workers take it from the cache); the workers
      claim chunks one at a time, in order. `photosc sweep` exposes every core as
      a device, so it uses them all. Other methods and the accelerator plan ignore it (they
      split the work over the devices).
    - `executor`: run the chunks as tasks on this `concurrent.futures.Executor` — a Dask
      cluster (a `distributed.Client`, or its `get_executor()`), a `ProcessPoolExecutor` with
      the spawn start method, … — instead of on this process's devices and workers (module
      `executors`): one task per unfinished chunk, each computed on the first device of the
      process that runs it and written to the store `out` (required: a path the workers can
      reach), a failed chunk retried twice, then listed in a `ChunksFailedError` (the store
      keeps every other chunk). `plan`, `devices`, `vmap_width` and `workers` do not apply.
    - `progress`: show a progress bar (True/False; default None: only on a terminal) — the
      same keyword as `evolve(..., progress=)`.
    - `stop`: called before each chunk and at the end; once it returns True the sweep ends
      after the chunk in progress (finished chunks are kept) and `attrs["interrupted"]` = 1,
      even if that chunk was the last. `photosc sweep` sets it on Ctrl-C.

    **Returns:** an `xarray.Dataset` with one dimension per swept parameter, the model's
    outputs with CF attributes (`photosc_jax.sweeps.MODELS`), and the specification in
    `attrs`.

    **Raises:** `ValueError` for a bad value (a parameter outside the model's range, a bad
    axis or option, …) and `TypeError` for an argument of the wrong kind (e.g. `axes` not a
    mapping), each one line saying what to change; `MemoryError` for a sweep whose points in
    flight or whose results (in memory, or per chunk of a store) cannot fit in memory,
    checked before any compute; `StoreMismatchError` for a store of another sweep,
    `StoreFullError` (an `OSError`) when the store's disk is full (finished chunks are
    kept), `sweep.workers.WorkerError` if a worker process failed (its finished chunks are
    kept).
    """
    axes = read_axes(axes)
    check_arguments(fixed, options, out, shard, devices, vmap_width, workers, stop, plan, batch, executor)
    if out is not None:
        where = location(out)
        check_location(where, shard, executor)
        out = str(where)
    return _sweep(
        model,
        axes,
        method,
        along,
        fixed,
        options,
        out,
        chunk_size,
        shard,
        devices,
        vmap_width,
        workers,
        progress,
        stop,
        plan=plan,
        batch=batch,
        executor=executor,
    )


def _sweep(
    model,
    axes,
    method,
    along,
    fixed,
    options,
    out,
    chunk_size,
    shard,
    devices,
    vmap_width,
    workers,
    progress,
    stop,
    plan: str = "auto",
    batch: int | None = None,
    executor=None,
) -> xr.Dataset:
    """`sweep` with its arguments checked."""
    if method is None and isinstance(model, str):
        method = default_method(model, bool(axes))
    if method is not None and not isinstance(method, str):  # a method object: its fields
        if options:
            raise TypeError("sweep(method=<object>, options=...): set the run options on the method object.")
        obj, method = method, method_name(model if isinstance(model, str) else model.name, method)
        options = method_model(model if isinstance(model, str) else model.name, method).options_of(obj)
    if method == "continuation" and along is None:
        along = default_along(axes)
    model = get_model(model, method, along)
    chunks = None
    if out is not None and chunk_size is None and location(out).present():
        try:  # resume with the store's own chunks
            old = store.read_spec(out)
            if [len(v) for v in old["axes"].values()] == [len(v) for v in axes.values()]:
                chunks = old["chunks"]
        except store.StoreMismatchError:
            pass
    spec = make_spec(model, axes, dict(fixed or {}), dict(options or {}), chunk_size, chunks=chunks)
    validate_points(model, spec)
    devices = list(devices or jax.devices())
    check_eig(spec, devices, executor)
    if plan == "auto":
        plan = "cpu" if devices[0].platform == "cpu" else "accelerator"
    if plan == "accelerator":
        vmap_width, workers = None, 1
    if vmap_width == "auto":
        vmap_width = default_vmap_width(devices)
    if executor is not None:  # the executor's workers take the chunks: spread for them
        executor, n_workers = executors_mod.executor_of(executor)
        plan = "executor"  # (recorded in the dataset's attrs)
    else:
        rows = math.prod(len(v) for k, v in spec["axes"].items() if k != model.along)
        n_workers = _n_workers(workers, model, devices, vmap_width, shard, rows)
        if out is not None and location(out).in_process:
            n_workers = 1  # (worker processes could not reach the store)
    if chunk_size is None and chunks is None:
        spec = _spread(spec, n_workers)
    n_workers = min(n_workers, n_chunks(spec))
    model = model.for_options(spec["options"])  # the outputs its run options produce
    if model.along is not None and vmap_width is not None:
        devices = devices[:1]  # rows one after another (CPUs): processes, not devices
    mine = range(n_chunks(spec))
    if shard is not None:  # (i, n), checked by `arguments.check_arguments`
        mine = range(shard[0], n_chunks(spec), shard[1])
    scratch = None
    if n_workers > 1 and out is None and executor is None:  # the processes meet in a temporary store
        scratch = workers_mod.scratch_dir("photosc-sweep-")
        out = str(scratch / "sweep.zarr")
    units = chunk_rows if model.along is not None else chunk_points  # what one call maps over
    size = len(units(spec, 0))  # the first chunk is a full block
    size = -(-size // len(devices)) * len(devices)  # padded to a multiple of the devices
    check_memory(model, spec, devices, 1 if plan == "accelerator" else vmap_width or size // len(devices))
    notes, todo, corrupt, results = [], list(mine), set(), {}
    if out is not None:
        check_writable(out)
        spec, notes = store.create_or_open(out, spec)
        _, _, done, damaged = store.load(out, spec)
        corrupt = set(np.flatnonzero(damaged).tolist())
        todo = [c for c in mine if not done[c]]
        notes += _damage_notes(corrupt, mine)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    computed, interrupted, t0, planned = 0, False, time.perf_counter(), list(todo)
    bar = _progress(sum(len(chunk_points(spec, c)) for c in todo), progress, f"{model.name} ({model.method})")
    calls = None
    if executor is not None:
        if todo:
            try:
                computed, interrupted = executors_mod.run(
                    executor, n_workers, spec, todo, out, bar.update, stop
                )
            finally:
                bar.close()
        todo = []
    elif plan == "accelerator":
        if todo:
            computed, interrupted, calls, batch = _run_batched(
                model, spec, todo, devices, batch, out, results, bar, stop
            )
        todo = []
    elif n_workers > 1 and todo:  # worker processes compute every chunk (module `workers`)
        helpers, gate = workers_mod.start(spec, out, todo, n_workers)
        try:
            # the parent compiles the program with every core while the workers start,
            # unless an earlier run did (then each worker takes it from the cache at once)
            run, sharding = _runner(model, spec, devices[:1], vmap_width)
            args = _batched_params(model, spec, units(spec, todo[0]), size, sharding)
            if isinstance(run, programs.CachedProgram) and run.stored(args):
                gate.open()
            elif not gate.compile_unless_stopped(run, args, stop):
                for w in helpers:  # stopped while compiling: the workers leave the gate at once
                    w.interrupt()
            computed, interrupted = workers_mod.wait(
                helpers, poll=lambda: _follow(spec, todo, helpers, bar), stop=stop
            )
        except workers_mod.WorkerError as err:
            _, _, done, _ = store.load(out, spec)
            if not done[todo].all():
                if scratch is not None:
                    workers_mod.release(scratch)
                raise
            # the others finished its chunks: the map is whole, the failure only worth a note
            died = "; ".join(f.splitlines()[0].rstrip(":") for f in err.failed)
            warnings.warn(
                f"{died}; the other workers computed every chunk: the map is complete.", stacklevel=2
            )
            computed = len(todo)
        except BaseException:
            if scratch is not None:
                workers_mod.release(scratch)
            raise
        todo = []
    elif todo:
        run, sharding = _runner(model, spec, devices, vmap_width)
    for c in todo:
        if stop is not None and stop():
            interrupted = True
            break
        pts = units(spec, c)
        values = run(_batched_params(model, spec, pts, size, sharding))
        _keep(
            model, spec, c, {k: np.asarray(values[k])[: len(pts)] for k in model.outputs}, out, results, bar
        )
        computed += 1
    bar.close()
    # a stop asked for during the last chunk ends the sweep as interrupted all the same
    interrupted = interrupted or (stop is not None and bool(stop()))
    if out is not None:
        ds = _read_back(out, spec, mine)
        if scratch is not None:
            workers_mod.release(scratch)
    else:
        ds = _in_memory(model, spec, results)
    ds.attrs.update(
        chunks_computed=computed,
        chunks_corrupt_recomputed=len(corrupt & set(planned[:computed])),
        interrupted=int(interrupted),
        wall_time=time.perf_counter() - t0,
        devices=len(devices),
        workers=n_workers,
        plan=plan,
        vmap_width=(batch or 0) if plan == "accelerator" else (vmap_width or size // len(devices)),
    )
    if calls is not None:
        ds.attrs["calls"] = calls
    if notes:
        ds.attrs["notes"] = "; ".join(notes)
    if "steps" in ds:
        ds.attrs["vmap_waste"] = vmap_waste(ds["steps"].values.reshape(-1), ds.attrs["vmap_width"])
    return ds


def chunk_program(model: SweepModel, spec, c: int):
    """(the jitted chunk function, its arguments for chunk `c`, the chunk's number of rows or
    points) on this process's first device: the CPU plan for one chunk (rows or points one
    after another on a CPU, vmapped on an accelerator). What an executor's tasks run
    (`executors.run_chunk`, `executors.compile_chunk`)."""
    devices = jax.devices()[:1]
    run, sharding = _runner(model, spec, devices, default_vmap_width(devices))
    units = chunk_rows if model.along is not None else chunk_points
    pts = units(spec, c)
    size = len(units(spec, 0))  # every chunk padded to the first's (full) block: one program
    return run, _batched_params(model, spec, pts, size, sharding), len(pts)


def compute_chunk(model: SweepModel, spec, c: int, program=None) -> dict[str, np.ndarray]:
    """The outputs of chunk `c` in its block shape, computed by `chunk_program`'s function,
    or by `program`, that function compiled already (every chunk has one shape; a sweep
    worker's `CompileGate.program`)."""
    run, args, n = chunk_program(model, spec, c)
    values = (run if program is None else program)(args)
    return {k: _block(spec, c, var, np.asarray(values[k])[:n]) for k, var in model.outputs.items()}


def _follow(spec, todo, helpers, bar) -> None:
    """While the worker processes `helpers` compute the chunks `todo`: move the progress bar
    to the points done, and once fewer chunks are left than workers (a core is free), import
    xarray for the read-back at the end (so that it is paid neither after the last chunk nor
    on a busy worker's core)."""
    done = workers_mod.finished(helpers)
    bar.update(sum(len(chunk_points(spec, c)) for c in done) - bar.n)
    if len(done) >= max(1, len(todo) - len(helpers) + 1) and "xarray" not in sys.modules:
        import xarray  # noqa: F401


def _damage_notes(corrupt: set[int], mine) -> list[str]:
    """The notes on the damaged chunks `corrupt` found as a sweep starts: those among `mine`
    (the chunks this run computes: its shard's) are recomputed; other shards' chunks are
    their own shards' to recompute (a chunk being rewritten by one may read as damaged)."""
    ours, theirs = sorted(corrupt & set(mine)), sorted(corrupt - set(mine))
    notes = [f"{len(ours)} chunk(s) failed their checksum and are recomputed: {ours}"] if ours else []
    if theirs:
        notes.append(
            f"{len(theirs)} chunk(s) of other shards failed their checksum: {theirs}; the "
            "shards that compute them recompute them when run (again) on this store"
        )
    return notes


def _read_back(out, spec, mine) -> xr.Dataset:
    """The store `out` as a dataset at the end of a sweep (`store.open_sweep`), warning
    (`StoreDamagedWarning`) of damaged chunks among `mine` only: other shards' chunks may be
    being rewritten by their shard meanwhile (all damaged chunks stay listed in
    `attrs["damaged_chunks"]`)."""
    spec, values, done, damaged = store.load(out, spec)
    ours = np.zeros_like(damaged)
    ours[list(mine)] = damaged[list(mine)]
    if ours.any():
        warnings.warn(store.damage_message(out, spec, ours), store.StoreDamagedWarning, stacklevel=3)
    return store.dataset(spec, values, done, damaged)


def _run_batched(model: SweepModel, spec, todo, devices, batch, out, results, bar, stop):
    """The accelerator plan (`sweep`'s `plan`): the units (rows of a row method, else points)
    of the chunks `todo`, in order, `batch` per device per call of one compiled
    `shard_map(vmap(...))` program; a chunk is written (or kept in `results`) as soon as all
    of its units are done. Returns (chunks computed, interrupted, calls, batch)."""
    units = chunk_rows if model.along is not None else chunk_points
    items = [(c, i) for c in todo for i in range(len(units(spec, c)))]
    n_dev = len(devices)
    per_device = -(-len(items) // n_dev)
    if batch is None:
        batch = max(1, min(per_device, memory_batch(model, spec, devices[0])))
    n_calls = -(-per_device // batch)
    batch = -(-per_device // n_calls)  # the same work, spread evenly over the calls
    run, sharding = _runner(model, spec, devices, None)

    def compiled_for(b):
        args = _batched_params(
            model, spec, [units(spec, c)[i] for c, i in items[: b * n_dev]], b * n_dev, sharding
        )
        leaves, tree = jax.tree.flatten(args)
        key = (run, tree, tuple((x.shape, x.dtype) for x in leaves))
        if key not in _PROGRAMS:  # compiled once per runner and argument signature
            _PROGRAMS[key] = run.lower(args).compile()
        return _PROGRAMS[key]

    program = compiled_for(batch)
    fits = memory_fits(program, devices[0])
    if fits < 1.0:  # the compiled program needs more than the estimate: fewer rows per call
        batch = max(1, int(batch * fits))
        n_calls = -(-per_device // batch)
        batch = -(-per_device // n_calls)
        program = compiled_for(batch)
    size = batch * n_dev
    pending: dict[int, dict[int, dict]] = {}
    computed, interrupted, calls = 0, False, 0
    for start in range(0, len(items), size):
        if stop is not None and stop():
            interrupted = True
            break
        part = items[start : start + size]
        args = _batched_params(model, spec, [units(spec, c)[i] for c, i in part], size, sharding)
        values = {k: np.asarray(v) for k, v in program(args).items()}
        calls += 1
        for j, (c, i) in enumerate(part):
            pending.setdefault(c, {})[i] = {k: values[k][j] for k in model.outputs}
            n = len(units(spec, c))
            if len(pending[c]) < n:
                continue
            done = pending.pop(c)
            _keep(
                model,
                spec,
                c,
                {k: np.stack([done[u][k] for u in range(n)]) for k in model.outputs},
                out,
                results,
                bar,
            )
            computed += 1
    return computed, interrupted, calls, batch


def _keep(model: SweepModel, spec, c, values, out, results, bar) -> None:
    """Chunk `c` done: its outputs `values` ({name: array over its points or rows}) in the
    chunk's block shape, written to the store `out` (or kept in `results`); the progress
    bar moves on by its points."""
    block = {k: _block(spec, c, var, values[k]) for k, var in model.outputs.items()}
    if out is not None:
        store.write_chunk(out, spec, c, block)
    else:
        results[c] = block
    bar.update(len(chunk_points(spec, c)))


def _spread(spec, n_workers: int):
    """`spec` with its default chunks split finer where there are fewer than two per worker
    (never less than one row along the row axis), so that every worker gets work and the
    workers' chunk claims can balance uneven rows."""
    if n_workers < 2 or n_chunks(spec) >= 2 * n_workers:
        return spec
    shape = tuple(len(v) for v in spec["axes"].values())
    row_axis = None if spec["along"] is None else list(spec["axes"]).index(spec["along"])
    target = max(1, math.prod(shape) // (2 * n_workers))
    return {**spec, "chunks": [int(c) for c in chunk_layout(shape, target, row_axis)]}


ROWS_PER_WORKER = 8  # a worker process's start-up (≈ 5 s) pays off from about this many rows


def _n_workers(workers, model: SweepModel, devices, vmap_width, shard, rows: int) -> int:
    """Worker processes for this sweep (`workers` argument of `sweep`; `rows`: the rows of
    a row method). "auto": one per CPU device, but no more than leave each worker
    ROWS_PER_WORKER rows — a worker's start (the interpreter, the imports, tracing the row
    program) costs about as much as that many rows on the paper grid, so a small map runs
    faster in this process (benchmarks/RESULTS.md, "Compile once")."""
    if workers == "auto":
        auto = (
            model.along is not None
            and devices[0].platform == "cpu"
            and vmap_width is not None
            and shard is None
        )
        workers = max(1, min(len(devices), rows // ROWS_PER_WORKER)) if auto else 1
    # (an int >= 1 or "auto", checked by `arguments.check_arguments`); one per core: each is pinned
    # to its own (two JAX processes on one core crawl)
    workers = min(workers, len(workers_mod.cores()))
    if workers > 1 and shard is not None:
        raise ValueError(
            "workers > 1 and shard: the worker processes are shards themselves; use one of the two."
        )
    return workers


def _block(spec, c, var, v: np.ndarray) -> np.ndarray:
    """One output of chunk `c` in the chunk's block shape: the mapped axis (points, or rows
    with the row values last) reshaped onto the grid's axes."""
    shape = [sl.stop - sl.start for sl in chunk_slices(spec, c)]
    v = v.astype(var.dtype)
    if spec.get("along") is None:
        return v.reshape(shape)
    a = list(spec["axes"]).index(spec["along"])
    other = shape[:a] + shape[a + 1 :]
    if var.per_row:
        return v.reshape(other)
    return np.moveaxis(v.reshape(other + [shape[a]]), -1, a)


def _in_memory(model, spec, results) -> xr.Dataset:
    values = {
        name: np.full(var_shape(spec, var.per_row), store._fill(var.dtype), dtype=var.dtype)
        for name, var in model.outputs.items()
    }
    done = np.zeros(n_chunks(spec), bool)
    for c, v in results.items():
        for name, var in model.outputs.items():
            values[name][var_slices(spec, var.per_row, c)] = v[name]
        done[c] = True
    return store.dataset(spec, values, done)


def vmap_waste(steps: np.ndarray, width: int) -> float:
    """Fraction of solver iterations spent on already-finished points: each group of
    `width` points solved in one vmapped loop runs max(steps) iterations for all of them.
    (Groups are approximated as consecutive points.)"""
    steps = np.asarray(steps, dtype=float)
    steps = steps[np.isfinite(steps) & (steps >= 0)]
    if steps.size == 0:
        return float("nan")
    per = max(1, int(width))
    total = used = 0.0
    for a in range(0, steps.size, per):
        s = steps[a : a + per]
        total += s.max() * s.size
        used += s.sum()
    return float(1.0 - used / total) if total > 0 else 0.0


def status_counts(ds: xr.Dataset) -> dict[str, int]:
    """How many points of a sweep ended in each status (names per model)."""
    names = model_of(json.loads(ds.attrs["photosc_sweep"])).status_meanings()
    s = ds["status"].values.reshape(-1)
    return {names.get(int(k), f"status {int(k)}"): int((s == k).sum()) for k in np.unique(s)}
