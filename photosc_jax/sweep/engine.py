"""The sweep engine, shared by both models: grid → chunks → one jitted, vmapped, device-sharded
call per chunk → results (in memory or in a resumable zarr store).

Each chunk is one call of a function compiled once (all chunks have the same padded size).
Its batch dimension is split over a 1-D device mesh with `shard_map`, so each device runs
its own adaptive-solver while loop on its points (letting XLA auto-shard a vmapped adaptive
solve would put collectives inside the loop: diffrax #407, jax #26586). Under `vmap` a
batch runs as long as its slowest point; points are taken in grid order (last axis
fastest), so neighbours in a batch differ in one parameter only, and the fraction of solver
work wasted on finished points is reported (`attrs["vmap_waste"]`) when the model records
solver steps.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._devices import default_vmap_width
from .models import STATUS, SweepModel, get_model
from .store import create_or_open, finished_chunks, open_sweep, write_chunk


def parse_axis(text: str) -> np.ndarray:
    """'a:b:n' → n points from a to b inclusive; 'x,y,z' → those values; 'x' → [x]."""
    text = str(text).strip()
    try:
        if ":" in text:
            a, b, n = text.split(":")
            if int(n) < 1:
                raise ValueError
            return np.linspace(float(a), float(b), int(n))
        return np.asarray([float(x) for x in text.split(",")])
    except ValueError:
        raise ValueError(
            f"Cannot read the axis {text!r}: use a:b:n (n points from a to b inclusive), "
            "a comma-separated list, or a single number."
        ) from None


def _version() -> str:
    from .. import __version__

    return __version__


def make_spec(model: SweepModel, axes, fixed, options, chunk_size) -> dict[str, Any]:
    fields = model.param_fields()
    static = {f for f in fields if _is_static(model.params_cls, f)}
    for name in list(axes) + list(fixed):
        if name not in fields:
            raise ValueError(
                f"{name!r} is not a parameter of the {model.name} model; its parameters are "
                f"{', '.join(fields)} (run options: {', '.join(model.options)})."
            )
    for name in axes:
        if name in static:
            raise ValueError(
                f"{name!r} sets array shapes and cannot be swept in one sweep; run one sweep "
                f"per value (fix it with --{name})."
            )
    unknown = set(options) - set(model.options)
    if unknown:
        raise ValueError(f"Unknown run options {sorted(unknown)}; known: {sorted(model.options)}.")
    axes = {k: [float(x) for x in np.atleast_1d(np.asarray(v, dtype=float))] for k, v in axes.items()}
    if not axes:
        raise ValueError("Give at least one swept axis, e.g. --Omega 0.05:0.5:16.")
    n_points = math.prod(len(v) for v in axes.values())
    chunk_size = int(chunk_size or min(n_points, 64))
    n_dev = len(jax.devices())
    chunk_size = max(n_dev, -(-chunk_size // n_dev) * n_dev)  # a multiple of the devices
    return dict(
        model=model.name,
        axes=axes,
        fixed={k: float(v) for k, v in fixed.items()},
        options={**model.options, **{k: type(model.options[k])(v) for k, v in options.items()}},
        chunk_size=chunk_size,
        n_points=n_points,
        n_chunks=-(-n_points // chunk_size),
        outputs=model.outputs,
        version=_version(),
    )


def _is_static(cls, name) -> bool:
    import dataclasses

    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    return bool(f.metadata.get("static", False))


def _points(spec) -> list[dict[str, float]]:
    names = list(spec["axes"])
    return [dict(zip(names, combo)) for combo in itertools.product(*spec["axes"].values())]


def _validate_points(model: SweepModel, spec, points) -> None:
    """Build every point's params once on the host: bad points fail before any compute,
    with the parameter class's own message."""
    for p in points:
        try:
            model.params_cls(**spec["fixed"], **p)
        except ValueError as err:
            raise ValueError(f"Grid point {p}: {err}") from None


def _runner(model: SweepModel, spec, devices, vmap_width):
    """The jitted chunk function, cached so that repeated sweeps with the same model, run
    options, devices and width reuse one compilation (per chunk shape)."""
    key = (id(model), json.dumps(spec["options"], sort_keys=True), tuple(devices), vmap_width)
    if key not in _RUNNERS:
        _RUNNERS[key] = _make_runner(model, spec["options"], devices, vmap_width)
    return _RUNNERS[key]


_RUNNERS: dict = {}  # the cached runners also keep their models alive, so ids stay unique


def _make_runner(model: SweepModel, opts, devices, vmap_width):
    mesh = Mesh(np.asarray(devices), ("points",))

    def local(batched):
        fn = lambda p: model.point(p, opts)  # noqa: E731
        if vmap_width is None:
            return jax.vmap(fn)(batched)
        return jax.lax.map(fn, batched, batch_size=vmap_width)

    sharded = jax.shard_map(
        local, mesh=mesh, in_specs=PartitionSpec("points"), out_specs=PartitionSpec("points"),
        check_vma=False,
    )
    return jax.jit(sharded), NamedSharding(mesh, PartitionSpec("points"))


def _batched_params(model: SweepModel, spec, chunk_points, size, sharding):
    pad = chunk_points + [chunk_points[-1]] * (size - len(chunk_points))
    swept = {k: np.asarray([p[k] for p in pad]) for k in spec["axes"]}
    fixed = {k: np.full(size, v) for k, v in spec["fixed"].items() if k not in swept}
    static = {k: v for k, v in spec["fixed"].items() if _is_static(model.params_cls, k)}
    batched = {k: v for k, v in {**fixed, **swept}.items() if k not in static}
    params = model.params_cls(**static, **batched)
    # fields left at their defaults are scalars: broadcast them to the batch as well
    leaves, treedef = jax.tree_util.tree_flatten(params)
    leaves = [jnp.broadcast_to(x, (size, *jnp.shape(x))) if jnp.ndim(x) == 0 else x for x in leaves]
    return jax.device_put(jax.tree_util.tree_unflatten(treedef, leaves), sharding)


def _progress(total, quiet, desc):
    from tqdm.auto import tqdm

    disable = quiet if quiet is not None else not sys.stderr.isatty()
    return tqdm(total=total, unit="pt", desc=desc, disable=disable, smoothing=0.1)


def sweep(
    model: str | SweepModel,
    axes: Mapping[str, Sequence[float] | str],
    *,
    fixed: Mapping[str, float] | None = None,
    options: Mapping[str, Any] | None = None,
    out: str | None = None,
    chunk_size: int | None = None,
    shard: tuple[int, int] | None = None,
    devices=None,
    vmap_width: int | None | str = "auto",
    quiet: bool | None = None,
) -> xr.Dataset:
    """Sweep `model` ("interband" or "metastability") over the grid `axes`.

    **Arguments:**

    - `axes`: {parameter: values} — any (non-static) field of the model's parameter class;
      values as an array or as text 'a:b:n'. The grid is their Cartesian product.
    - `fixed`: other parameter fields (defaults: the class's defaults).
    - `options`: run options (interband: t1, rtol, atol, steady_tol, delta_floor, max_steps;
      metastability: T).
    - `out`: a zarr store path: results are written chunk by chunk; re-running on the same
      store skips finished chunks; a store made for other parameters is refused.
    - `chunk_size`: points per jitted call (rounded up to a multiple of the device count).
    - `shard=(i, n)`: compute only chunks i, i+n, i+2n, … (independent processes filling
      one store, e.g. a cluster array job).
    - `devices`: devices to split each chunk over (default: all, `jax.devices()`).
    - `vmap_width`: points per vmapped solve on each device: an int, None (all of the
      device's points), or "auto" (1 on CPUs, None on accelerators; `default_vmap_width`).
      Results do not depend on it beyond rounding.
    - `quiet`: no progress bar (default: bar only on a terminal).

    **Returns:** an `xarray.Dataset` with one dimension per swept parameter, the model's
    outputs (see `photosc_jax.sweep.MODELS`), and the specification in `attrs`.
    """
    model = get_model(model)
    axes = {k: parse_axis(v) if isinstance(v, str) else v for k, v in axes.items()}
    spec = make_spec(model, axes, dict(fixed or {}), dict(options or {}), chunk_size)
    points = _points(spec)
    _validate_points(model, spec, points)
    devices = list(devices or jax.devices())
    if spec["chunk_size"] % len(devices):
        raise ValueError(f"chunk_size {spec['chunk_size']} must be a multiple of {len(devices)} devices.")
    dtypes = {k: (np.int32 if k in ("status", "steps", "regime") else np.float64) for k in model.outputs}
    mine = range(spec["n_chunks"])
    if shard is not None:
        i, n = shard
        if not 0 <= i < n:
            raise ValueError(f"shard {i}/{n}: need 0 <= i < n.")
        mine = range(i, spec["n_chunks"], n)
    todo, corrupt, results = list(mine), set(), {}
    if out is not None:
        create_or_open(out, spec, dtypes)
        done, corrupt = finished_chunks(out, spec, dtypes)
        todo = [c for c in mine if c not in done]
    if vmap_width == "auto":
        vmap_width = default_vmap_width(devices)
    run, sharding = _runner(model, spec, devices, vmap_width)
    size, computed, t0 = spec["chunk_size"], 0, time.perf_counter()
    bar = _progress(sum(min(size, spec["n_points"] - c * size) for c in todo), quiet, model.name)
    for c in todo:
        chunk_points = points[c * size : (c + 1) * size]
        values = run(_batched_params(model, spec, chunk_points, size, sharding))
        values = {k: np.asarray(v)[: len(chunk_points)].astype(dtypes[k]) for k, v in values.items()}
        if out is not None:
            write_chunk(out, spec, c, values)
        else:
            results[c] = values
        computed += 1
        bar.update(len(chunk_points))
    bar.close()
    if out is not None:
        ds = open_sweep(out)
    else:
        ds = _in_memory(spec, results)
    ds.attrs.update(
        chunks_computed=computed,
        chunks_corrupt_recomputed=len(corrupt & set(todo)),
        wall_time=time.perf_counter() - t0,
        devices=len(devices),
        vmap_width=vmap_width or size // len(devices),
    )
    if "steps" in ds:
        ds.attrs["vmap_waste"] = vmap_waste(ds["steps"].values.reshape(-1), ds.attrs["vmap_width"])
    return ds


def _in_memory(spec, results) -> xr.Dataset:
    dims = list(spec["axes"])
    shape = tuple(len(v) for v in spec["axes"].values())
    data = {}
    for name in spec["outputs"]:
        parts = [results[c][name] for c in sorted(results)]
        v = np.concatenate(parts) if parts else np.zeros(0)
        if v.size != math.prod(shape):  # a shard of the grid: fill the rest
            full = np.full(spec["n_points"], np.nan)
            for c in sorted(results):
                a = c * spec["chunk_size"]
                full[a : a + len(results[c][name])] = results[c][name]
            v = full
        data[name] = (dims, v.reshape(shape), {"description": spec["outputs"][name]})
    coords = {d: np.asarray(spec["axes"][d]) for d in dims}
    attrs = {k: _attr(v) for k, v in spec.items()}
    attrs.update(complete=int(len(results) == spec["n_chunks"]), chunks_done=len(results))
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _attr(v):
    return json.dumps(v) if isinstance(v, (dict, list)) else v


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
    names = get_model(ds.attrs["model"]).status_names if "model" in ds.attrs else STATUS
    s = ds["status"].values.reshape(-1)
    counts = {names.get(int(k), f"status {int(k)}"): int((s == k).sum()) for k in np.unique(s)}
    return {("not computed" if k == "status -1" else k): v for k, v in counts.items()}
