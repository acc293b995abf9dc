"""The checks a sweep makes before any compute (`engine.sweep`): its arguments, every grid
point's parameters, the eigenvalue implementation against the devices, the store location
against the way of running, and that the store can be written. Each failure is a one-line
`TypeError` / `ValueError` that says what to give instead."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import jax

from . import executors as executors_mod
from .location import Local, location
from .models import SweepModel
from .spec import short


def validate_points(model: SweepModel, spec) -> None:
    """Build params on the host at every corner of the box spanned by each axis's smallest
    and largest value (the fixed parameters as given): bad points fail before any compute,
    with the parameter class's own message. The classes' checks are per value (ranges) or
    monotone in each parameter, so the corners cover every grid point, and the cost does
    not grow with the axes' lengths (2^d points for d axes)."""
    names = list(spec["axes"])
    ends = [sorted({min(v), max(v)}) for v in spec["axes"].values()]
    for corner in itertools.product(*ends):
        p = dict(zip(names, corner))
        try:
            model.params_cls(**spec["parameters"], **p)
        except ValueError as err:
            raise ValueError(f"Grid point {p}: {err}") from None


PLANS = ("auto", "cpu", "accelerator")
_EIG_PLATFORM = {"cusolver": "gpu", "magma": "gpu"}  # where each named eig implementation runs


def check_eig(spec, devices, executor) -> None:
    """A one-line `ValueError` for a GPU eigenvalue implementation (run option `eig`) on
    devices of another platform (an executor's workers are not known here: not checked)."""
    need = _EIG_PLATFORM.get(spec["options"].get("eig"))
    have = devices[0].platform
    if need is not None and executor is None and have != need:
        raise ValueError(
            f"--eig {spec['options']['eig']} runs on NVIDIA GPUs; these devices are {have}: "
            "use --eig auto (or lapack)."
        )


def check_arguments(
    fixed, options, out, shard, devices, vmap_width, workers, stop, plan="auto", batch=None, executor=None
) -> None:
    """The arguments of `sweep` beyond the model, its axes and method (checked by `make_spec`
    and `get_model`), before any work: a one-line `TypeError` / `ValueError` that says what
    to give."""
    for name, value in (("fixed", fixed), ("options", options)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name}={short(value)}: give a mapping {{name: value}} or None.")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out={short(out)}: give the path of a zarr store (str or os.PathLike) or None.")
    if shard is not None and not (
        isinstance(shard, (tuple, list))
        and len(shard) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
        and 0 <= shard[0] < shard[1]
    ):
        raise ValueError(
            f"shard={short(shard)}: need a pair (i, n) of whole numbers 0 <= i < n (e.g. --shard 0/4)."
        )
    if devices is not None and not (
        isinstance(devices, (list, tuple))
        and devices
        and all(isinstance(d, jax.Device) for d in devices)
        and len(set(devices)) == len(devices)
    ):
        raise TypeError(
            f"devices={short(devices)}: give a non-empty list of distinct JAX devices "
            "(e.g. jax.devices()[:2]) or None (all of them)."
        )
    if not (vmap_width is None or _count(vmap_width) or _is(vmap_width, "auto")):
        raise ValueError(
            f"vmap_width={short(vmap_width)}: use a whole number >= 1 (an int: points per vmapped "
            "solve), None (all of a device's points) or 'auto'."
        )
    if not (_count(workers) or _is(workers, "auto")):
        raise ValueError(f"workers={short(workers)}: use a whole number >= 1 (an int) or 'auto'.")
    if stop is not None and not callable(stop):
        raise TypeError(f"stop={short(stop)}: give a function of no arguments (True: stop) or None.")
    if not (isinstance(plan, str) and plan in PLANS):
        raise ValueError(f"plan={short(plan)}: use one of {', '.join(PLANS)}.")
    if not (batch is None or _count(batch)):
        raise ValueError(f"batch={short(batch)}: use a whole number >= 1 (rows per device per call) or None.")
    if executor is not None:
        executors_mod.executor_of(executor)  # a TypeError / ValueError for the wrong kind
        if out is None:
            raise ValueError(
                "sweep(executor=...): the tasks write their chunks to a store; give out= a path "
                "every worker can reach (on a cluster: shared storage)."
            )
        if plan != "auto" or workers != "auto" or devices is not None or vmap_width != "auto":
            raise ValueError(
                "sweep(executor=...): the executor's workers run the chunks, each on its own "
                "first device; leave plan, workers, devices and vmap_width at their defaults."
            )
    if plan == "accelerator" and _count(workers) and workers > 1:
        raise ValueError(
            f"plan='accelerator' with workers={workers}: the accelerator plan runs in this process "
            "on every device; drop workers or use plan='cpu'."
        )


def check_location(where, shard, executor) -> None:
    """What a store's location (`location.Local` / `Remote`) cannot support: independent
    shard processes creating the store need an atomic rename, and a store in this process's
    memory cannot be reached by an executor's worker processes (one-line `ValueError`s)."""
    if shard is not None and not where.atomic_rename:
        raise ValueError(
            f"--shard (shard=) with --out {where}: independent shard processes may each create "
            "the store, which needs a filesystem's atomic rename, and object storage has none; "
            "run the sweep once with --scheduler (sweep(executor=...)), where one process "
            "creates the store, or put the store on a shared filesystem."
        )
    if executor is not None and where.in_process and not isinstance(executor, ThreadPoolExecutor):
        raise ValueError(
            f"sweep(executor=...) with out={where}: this store lives in this process's memory, "
            "which the executor's workers cannot reach; use storage every worker reaches, or a "
            "ThreadPoolExecutor."
        )


def _count(x) -> bool:
    """`x` is an int >= 1 (not a bool)."""
    return isinstance(x, int) and not isinstance(x, bool) and x >= 1


def _is(x, word: str) -> bool:
    """`x` is the string `word` (`x` may be an array, which `==` compares elementwise)."""
    return isinstance(x, str) and x == word


def check_writable(out) -> None:
    """Fail before any compute if results could not be written at `out` (by trying: a file
    created and removed)."""
    where = location(out)
    if not isinstance(where, Local):
        try:
            where.write_bytes(".photosc-probe", b"")
            where.remove(".photosc-probe")
        except Exception as err:  # noqa: BLE001 - whatever the filesystem raises
            first = (str(err).strip().splitlines() or [""])[0]
            raise ValueError(
                f"--out {out}: cannot write there ({type(err).__name__}: {first}); choose another location."
            ) from None
        return
    path = where.path
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"--out {out} exists and is not a directory (a zarr store is one); choose another path."
        )
    where = path if path.exists() else path.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".photosc-probe", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(
            f"--out {out}: cannot write there ({err.strerror or err}); choose another path."
        ) from None
