"""What a sweep is: its grid, its fully resolved parameters and run options, and the layout
of its chunks. Everything here is plain host-side Python (no JAX), checked before any compute.

The *specification* (`make_spec`) is a JSON-able dict that is stored with the results and
compared on resume. It holds every parameter value with the defaults filled in, so a sweep
given `--T 0` explicitly is the same sweep as one that left T at its default.

Chunks are blocks of the grid, fixed by the grid alone (never by the device count), so a
store can be resumed on any machine: in one dimension `chunk_size` consecutive points; in
more, whole rows along the last axis (`row_axis`), as many rows of the axis before it as fit
in `chunk_size` points, and one index along every other axis.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import reprlib
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

LAYOUT = 2  # version of the on-disk layout (1: the flat `point` layout of photosc_jax 0.1)


def parse_axis(text: str) -> np.ndarray:
    """'a:b:n' → n points from a to b inclusive; 'x,y,z' → those values; 'x' → [x]."""
    text = str(text).strip()
    try:
        if ":" in text:
            a, b, n = text.split(":")
            if not n.strip().isdigit() or int(n) < 1:
                raise ValueError
            values = np.linspace(float(a), float(b), int(n))
        else:
            values = np.asarray([float(x) for x in text.split(",")])
    except ValueError:
        raise ValueError(
            f"Cannot read the axis {text!r}: use a:b:n (n points from a to b inclusive, n a "
            "whole number >= 1), a comma-separated list, or a single number."
        ) from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"The axis {text!r} contains a value that is not finite.")
    return values


def short(value) -> str:
    """`repr(value)` cut to one short line (long lists and arrays shortened with '...')."""
    r = reprlib.Repr()
    r.maxlist = r.maxtuple = r.maxdict = 6
    r.maxstring, r.maxother = 40, 60
    return r.repr(value.tolist() if isinstance(value, np.ndarray) else value)


def whole(flag: str, value, low: int = 1) -> int:
    """`value` as an int if it is a whole number >= `low` (bools are not numbers here)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not float(value).is_integer()
        or value < low
    ):
        raise ValueError(f"{flag} must be a whole number >= {low}, got {short(value)}.")
    return int(value)


def axis_values(name: str, values) -> np.ndarray:
    """The values of the axis `name`: text 'a:b:n' / 'x,y' (`parse_axis`) or real numbers,
    checked to be a non-empty 1-D list of distinct finite values."""
    if isinstance(values, str):
        values = parse_axis(values)
    try:
        arr = np.atleast_1d(np.asarray(values))
    except (TypeError, ValueError):  # e.g. a ragged list
        arr = np.asarray([None])
    if arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"The axis {name} must be a non-empty list of real numbers or the text 'a:b:n', "
            f"got {short(values)}."
        )
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"The axis {name} contains a value that is not finite ({bad}).")
    unique, counts = np.unique(arr, return_counts=True)
    if unique.size != arr.size:
        twice = unique[counts > 1][0]
        raise ValueError(f"The axis {name} repeats a value ({twice:g}); give distinct values.")
    return arr


def read_axes(axes) -> dict[str, np.ndarray]:
    """`sweep`'s `axes` checked and read: {parameter: values} (`axis_values`)."""
    if not isinstance(axes, Mapping):
        raise TypeError(
            f"axes={short(axes)}: give a mapping {{parameter: values}}, e.g. {{'V': '1:7:13'}} "
            "or {'V': [1.0, 2.0]}."
        )
    return {name: axis_values(name, values) for name, values in axes.items()}


@dataclasses.dataclass(frozen=True)
class Option:
    """A run option: its default, type, allowed range (or, for a name, its choices) and
    meaning (with units)."""

    default: float | int | str | None  # None: the method object sets it (Evolve.tol = rtol/2)
    help: str
    kind: type = float  # float, int, or str (a name among `choices`)
    choices: tuple[str, ...] = ()
    low: float = -math.inf  # allowed range; `open_low`/`open_high` exclude the ends
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False

    def check(self, name: str, value) -> float | int | str | None:
        flag = "--" + name.replace("_", "-")
        if value is None and self.default is None:  # left to the method object (`SweepModel.resolve`)
            return None
        if self.kind is str:
            if value not in self.choices:
                raise ValueError(
                    f"{flag} = {value!r}: choose one of {', '.join(self.choices)} ({self.help})."
                )
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{flag} must be a number, got {value!r}.")
        x = float(value)
        if self.kind is int:
            if not (math.isfinite(x) and x == round(x)):
                raise ValueError(f"{flag} must be a whole number, got {value!r} ({self.help}).")
            x = int(round(x))
        lo_ok = x > self.low if self.open_low else x >= self.low
        hi_ok = x < self.high if self.open_high else x <= self.high
        if not (math.isfinite(x) and lo_ok and hi_ok):
            lt_lo, lt_hi = ("<" if self.open_low else "<="), ("<" if self.open_high else "<=")
            need = [f"{self.low:g} {lt_lo} {name}"] if self.low > -math.inf else []
            need += [f"{name} {lt_hi} {self.high:g}"] if self.high < math.inf else []
            raise ValueError(
                f"{flag} = {value!r}: need a finite {' and '.join(need) or 'value'} ({self.help})."
            )
        return x


def resolve_options(model, given: Mapping[str, Any]) -> dict[str, Any]:
    given = dict(given)
    unknown = set(given) - set(model.options)
    if unknown:
        from .models import elsewhere

        raise ValueError(
            f"Unknown run options {sorted(unknown)} for the {model.name} model by "
            f"{model.method}; known: {', '.join(sorted(model.options))}." + elsewhere(model, sorted(unknown))
        )
    checked = {name: opt.check(name, given.get(name, opt.default)) for name, opt in model.options.items()}
    return model.resolve(checked)


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def is_static(cls, name: str) -> bool:
    return bool(_fields(cls)[name].metadata.get("static", False))


def _number(where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{where} must be a number, got {short(value)}.")
    return float(value)


def _choice(cls, name: str, value) -> str:
    """A string-valued parameter, checked by constructing the class with it."""
    if not isinstance(value, str):
        raise ValueError(f"The parameter {name} takes a name, got {value!r}.")
    try:
        cls(**{name: value})
    except ValueError as err:
        raise ValueError(f"--{name} {value}: {err}") from None
    return value


def resolve_parameters(model, axes: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict[str, float]:
    """Every parameter that is not swept, with its value: given, or the class default."""
    both = [name for name in axes if name in fixed]
    if both:
        name = both[0]
        raise ValueError(
            f"The parameter {name} is given in both axes ({short(axes[name])}) and fixed "
            f"({short(fixed[name])}): keep it in axes to sweep it or in fixed to fix it."
        )
    fields = _fields(model.params_cls)
    for name in list(axes) + list(fixed):
        if name not in fields:
            raise ValueError(
                f"{name!r} is not a parameter of the {model.name} model; its parameters are "
                f"{', '.join(fields)} (run options: {', '.join(model.options)})."
            )
    out = {}
    for name, f in fields.items():
        if name in axes:
            continue
        if isinstance(f.default, str):  # a choice, e.g. phonon_targets (static)
            out[name] = _choice(model.params_cls, name, fixed.get(name, f.default))
            continue
        if name in fixed:
            out[name] = _number(f"The parameter {name}", fixed[name])
        elif f.default is not dataclasses.MISSING:
            out[name] = float(f.default)
        else:
            raise ValueError(
                f"The {model.name} model needs a value for {name!r} (it has no default): "
                f"sweep it (--{name} a:b:n) or fix it (--{name} x)."
            )
        if isinstance(f.default, int) and not isinstance(f.default, bool):  # e.g. a grid size
            if not float(out[name]).is_integer():
                raise ValueError(f"The parameter {name} must be a whole number, got {out[name]!r}.")
            out[name] = int(out[name])
    return out


def chunk_layout(shape: tuple[int, ...], target: int, row_axis: int | None = None) -> tuple[int, ...]:
    """The chunk shape of a grid of `shape` for about `target` points per chunk: whole rows
    along `row_axis` (default the last axis), several rows of the axis before it."""
    d = len(shape)
    target = max(1, int(target))
    if d == 1:
        return (min(shape[0], target),)
    r = d - 1 if row_axis is None else row_axis
    chunks = [1] * d
    chunks[r] = shape[r]
    other = max(a for a in range(d) if a != r)
    chunks[other] = max(1, min(shape[other], target // shape[r]))
    return tuple(chunks)


def make_spec(model, axes, fixed, options, chunk_size: int | None, *, chunks=None) -> dict[str, Any]:
    """The resolved, JSON-able specification of a sweep (see the module docstring). For a
    row method (`model.along`), chunks hold whole rows along that axis."""
    ax = read_axes(axes)
    if not ax:
        raise ValueError("Give at least one swept axis, e.g. --Omega 0.05:0.5:16.")
    if model.along is not None and model.along not in ax:
        raise ValueError(
            f"The {model.method} method works along a swept axis; {model.along!r} "
            f"is not swept (swept: {', '.join(ax)}). Choose --along among those."
        )
    for name in ax:
        if name in _fields(model.params_cls) and is_static(model.params_cls, name):
            raise ValueError(
                f"{name!r} sets array shapes and cannot be swept in one sweep; run one sweep "
                f"per value (fix it with --{name})."
            )
    params = resolve_parameters(model, ax, fixed)
    if model.along is not None:
        _check_row(model, ax)
    shape = tuple(len(v) for v in ax.values())
    if chunk_size is not None:
        chunk_size = whole("--chunk-size", chunk_size)
    if chunks is None:
        row_axis = None if model.along is None else list(ax).index(model.along)
        chunks = chunk_layout(shape, chunk_size or model.chunk_size, row_axis)
    return dict(
        layout=LAYOUT,
        model=model.name,
        method=model.method,
        along=model.along,
        numerics=model.numerics,
        axes={k: [float(x) for x in v] for k, v in ax.items()},
        parameters=params,
        options=resolve_options(model, options),
        chunks=[int(c) for c in chunks],
        version=package_version(),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def _check_row(model, ax) -> None:
    """A row method walks each row along `model.along` from one end to the other
    (`interband.phase_map.phase_row`): that axis needs 2 or more values, in increasing or
    decreasing order."""
    along, row = model.along, ax[model.along]
    if row.size < 2:
        others = [k for k, v in ax.items() if v.size > 1]
        raise ValueError(
            f"The {model.method} method solves rows along {along} and needs 2 or more values of "
            f"it, got {row[0]:g} only: sweep {along} over a range (e.g. --{along} a:b:n)"
            + (f" or choose --along among {', '.join(others)}." if others else ".")
        )
    steps = np.diff(row)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(
            f"The {model.method} method walks each row along {along} from one end to the other: "
            f"give the values of {along} in increasing or decreasing order, got {short(row)}."
        )


# What decides the numbers of a sweep: two stores agreeing on these hold comparable results.
COMPARED = ("model", "method", "along", "axes", "parameters", "options", "chunks")
_SINGULAR = {"axes": "axis", "parameters": "parameter", "options": "option"}  # in `differences`


def differences(old: dict, new: dict) -> list[str]:
    """The differences between two specifications that would change results or layout."""
    diff = []
    for key in COMPARED:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    diff.append(
                        f"{_SINGULAR.get(key, key)} {name}: store has "
                        f"{a.get(name, 'nothing')!r}, now {b.get(name, 'nothing')!r}"
                    )
        elif a != b:
            diff.append(f"{key}: store has {a!r}, now {b!r}")
    return diff


def package_version() -> str:
    from .. import __version__

    return __version__


def grid_shape(spec) -> tuple[int, ...]:
    return tuple(len(v) for v in spec["axes"].values())


def chunk_grid(spec) -> tuple[int, ...]:
    return tuple(-(-n // c) for n, c in zip(grid_shape(spec), spec["chunks"]))


def n_chunks(spec) -> int:
    return math.prod(chunk_grid(spec))


def chunk_slices(spec, index: int) -> tuple[slice, ...]:
    """The block of the grid that chunk `index` (C order over the chunk grid) covers."""
    pos = np.unravel_index(index, chunk_grid(spec))
    return tuple(slice(p * c, min((p + 1) * c, n)) for p, c, n in zip(pos, spec["chunks"], grid_shape(spec)))


def _along(spec) -> int | None:
    return None if spec.get("along") is None else list(spec["axes"]).index(spec["along"])


def var_dims(spec, per_row: bool) -> list[str]:
    """Dims of an output: every swept axis, less the row axis for a per-row output."""
    return [d for d in spec["axes"] if not (per_row and d == spec.get("along"))]


def var_shape(spec, per_row: bool) -> tuple[int, ...]:
    a = _along(spec)
    return tuple(n for i, n in enumerate(grid_shape(spec)) if not (per_row and i == a))


def var_chunks(spec, per_row: bool) -> tuple[int, ...]:
    a = _along(spec)
    return tuple(c for i, c in enumerate(spec["chunks"]) if not (per_row and i == a))


def var_slices(spec, per_row: bool, index: int) -> tuple[slice, ...]:
    a = _along(spec)
    return tuple(s for i, s in enumerate(chunk_slices(spec, index)) if not (per_row and i == a))


def chunk_rows(spec, index: int) -> list[dict[str, float]]:
    """The rows of a chunk of a row method: the values of the other axes, in C order of the
    chunk's block (each row spans the whole `along` axis)."""
    names = [n for n in spec["axes"] if n != spec["along"]]
    sl = dict(zip(spec["axes"], chunk_slices(spec, index)))
    vals = [spec["axes"][n][sl[n]] for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*vals)]


def chunk_points(spec, index: int) -> list[dict[str, float]]:
    """The parameter points of a chunk, in C order of its block (last axis fastest)."""
    names = list(spec["axes"])
    sl = chunk_slices(spec, index)
    vals = [spec["axes"][n][s] for n, s in zip(names, sl)]
    return [dict(zip(names, combo)) for combo in itertools.product(*vals)]


def host_memory() -> int:
    """Physical memory of this machine in bytes (0 if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def device_memory(device) -> int:
    """Memory of an accelerator in bytes (host memory for CPUs; 0 if unknown)."""
    if device.platform == "cpu":
        return host_memory()
    try:
        return int((device.memory_stats() or {}).get("bytes_limit", 0))
    except Exception:  # noqa: BLE001 - not every backend reports memory
        return 0


def result_bytes(model, spec) -> int:
    """Bytes of the sweep's result arrays on the host: every output over the whole grid (a
    sweep returns its whole dataset, also when it writes a store)."""
    return sum(
        np.dtype(v.dtype).itemsize * math.prod(var_shape(spec, v.per_row)) for v in model.outputs.values()
    )


MEMORY_SHARE = 0.5  # share of a device's memory the points in flight may take


def memory_batch(model, spec, device) -> int:
    """Units (rows of a row method, else points) one device can hold at once by the model's
    per-unit estimate (`SweepModel.bytes_per_point`): MEMORY_SHARE of the device's memory
    over it; a large number where the memory is unknown."""
    have = device_memory(device)
    per = int(model.bytes_per_point(spec["parameters"], spec["options"]))
    if not have or per <= 0:
        return 1 << 20
    return max(1, int(MEMORY_SHARE * have) // per)


def compiled_bytes(program) -> int:
    """Bytes a compiled program needs on one device by its `memory_analysis()`: temporaries,
    arguments and outputs (0 where the backend does not say)."""
    try:
        m = program.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return 0
    if m is None:
        return 0
    return int(m.temp_size_in_bytes + m.argument_size_in_bytes + m.output_size_in_bytes)


def memory_fits(program, device) -> float:
    """MEMORY_SHARE of the device's memory over what the compiled `program` needs
    (`compiled_bytes`): ≥ 1 where it fits, inf where either is unknown."""
    need, have = compiled_bytes(program), device_memory(device)
    return MEMORY_SHARE * have / need if need and have else math.inf


def check_memory(model, spec, devices, in_flight_per_device: int) -> int:
    """Refuse, before any compute, a sweep that cannot fit in memory: the points in flight
    on the device, and the result arrays on the host (`result_bytes`; with the points in
    flight when the devices are CPUs). Returns the estimated bytes per point."""
    per_point = int(model.bytes_per_point(spec["parameters"], spec["options"]))
    cpu = devices[0].platform == "cpu"
    in_flight = in_flight_per_device * (len(devices) if cpu else 1)
    need = per_point * in_flight
    have = device_memory(devices[0])
    if have and need > MEMORY_SHARE * have:
        size = model.size_description(spec["parameters"])
        raise MemoryError(
            f"This sweep needs about {need / 1e9:.3g} GB at once ({in_flight} point(s) in flight "
            f"x {per_point / 1e9:.3g} GB; {size}), more than half of the {have / 1e9:.3g} GB "
            f"{'of this machine' if cpu else 'of the device'}. Use a coarser grid "
            f"({model.size_hint}) or fewer points per device."
        )
    results, host = result_bytes(model, spec), host_memory()
    if host and results + (need if cpu else 0) > 0.5 * host:
        raise MemoryError(
            f"The results of this sweep need about {results / 1e9:.3g} GB in memory "
            f"({math.prod(grid_shape(spec))} points x {len(model.outputs)} outputs), more than "
            f"half of the {host / 1e9:.3g} GB of this machine. Sweep fewer points, or split the "
            "grid into several sweeps (one store each)."
        )
    return per_point
