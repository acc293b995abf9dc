"""The `photosc` command line (also `python -m photosc_jax`)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

app = typer.Typer(
    help="photosc: simulate photo-induced superconductivity models (units: E_g = ħ = 1). "
    "Every CPU core is used as a JAX device unless XLA_FLAGS sets "
    "--xla_force_host_platform_device_count.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # help text verbatim: no markup, no emoji codes (":b:" in a:b:n)
)


@app.callback()
def _root() -> None:
    """photosc: simulate photo-induced superconductivity models (units: E_g = ħ = 1)."""


@contextlib.contextmanager
def _user_errors(*also: type[BaseException]):
    """Bad input (and the other errors in `also`) ends the command with one line on stderr,
    `Error: <what to change>`, and exit status 2."""
    try:
        yield
    except (ValueError, TypeError, MemoryError, OSError, *also) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(2) from None


@app.command(
    short_help="Evolve the interband model at the paper's Fig. 3 parameters; print |Δ| and μ, plot.",
)
def demo(
    Omega: float = typer.Option(0.25, "--Omega", help="Rabi frequency Ω [E_g]."),
    V: float = typer.Option(5.0, "--V", help="Interband interaction V [E_g]."),
    gamma_ph: float = typer.Option(0.02, help="Phonon rate Γph [E_g/ħ]."),
    gamma_rr: float = typer.Option(0.002, help="Radiative recombination rate Γrr [E_g/ħ]."),
    v: float = typer.Option(0.098, help="Acoustic phonon velocity v [E_g a/ħ]."),
    dk: float = typer.Option(2e-3, help="Momentum grid step [1/a] (the paper's 2e-3)."),
    t_max: float = typer.Option(6000.0, "--t-max", help="Final time [ħ/E_g]."),
    out: Path = typer.Option(Path("delta_demo.png"), help="Where to write the figure [PNG path]."),
    progress: bool = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on a terminal).", show_default=False
    ),
) -> None:
    """Driven-dissipative interband pairing at the paper's Fig. 3 parameters (A1 = 7,
    A2 = 24, k_max = 0.2): evolve from the normal state with a 1e-20 pairing seed, print
    |Δ| and the phase-rotation frequency μ, and plot |Δ(t)| and the populations."""
    import sys

    from .interband import InterbandParams, evolve
    from .interband.steady import state_stationarity
    from .plot import demo_figure

    with _user_errors():
        params = InterbandParams(Omega=Omega, V=V, gamma_ph=gamma_ph, gamma_rr=gamma_rr, v=v, dk=dk)
        if not t_max > 0:
            raise ValueError(f"--t-max = {t_max:g}: the final time must be positive [ħ/E_g].")
        typer.echo(f"Evolving N = {params.n_k} k-points to t_max = {t_max:g} ...")
        res = evolve(params, t_max, progress=sys.stderr.isatty() if progress is None else progress)
    if not bool(res.success):
        from .interband.outcomes import RESULTS

        typer.echo(f"Error: the solver did not reach t_max. {RESULTS[res.result]}", err=True)
        raise typer.Exit(1)
    st = state_stationarity(res.state, params)
    steady = bool(st.is_steady(1e-7, 1e-12))
    typer.echo(f"|Delta(t_max)| = {abs(complex(res.delta[-1])):.6g} E_g")
    typer.echo(f"mu = {float(st.mu):.4f} E_g/hbar (phase rotation of Delta)   steady: {steady}")
    fig = demo_figure(res)
    with _user_errors():
        fig.savefig(out, dpi=120)
    typer.echo(f"Figure written to {out}")


_SWEEP_HELP = """Sweep MODEL (interband | metastability) over a grid and store the results.

Every parameter of the model is an option: a:b:n sweeps it (n points from a to b
inclusive), a comma list sweeps those values, a single number fixes it; each is given
once. Run options take single numbers. Parameters can also come from a TOML file
(--config) with tables [axes] (strings "a:b:n" or lists), [fixed] and [options]; an
option on the command line replaces the file's value of that name.

\b
Examples:
  photosc sweep interband --Omega 0.01:0.5:64 --V 0:8:64 --out fig2.zarr
  photosc sweep interband --method evolve --Omega 0.01:0.5:8 --V 0:8:8 --t-max 20000
  photosc sweep metastability --DeltaE 0.1:3:128 --nu 0.2:4:128 --out fig2b.zarr

Interband maps are solved by --method continuation when an axis is swept: per row along V
the normal state's linear stability (growth rate, threshold = critical V) and the paired
branch by continuation, each point classified normal / paired / bistable / transient /
unsettled; no time stepping. Its rows run in one worker process per CPU core (timings of
the 64 x 64 Fig. 2 map: benchmarks/RESULTS.md). --method evolve evolves every point from
the paper's initial state instead (run options --t-max, ...).

The store opens in plain xarray (xarray.open_zarr) as the labelled dataset, with units,
flag meanings, every parameter value and the package version in its attributes.
Re-running the same command on the same store resumes it (finished chunks are skipped,
damaged ones recomputed, damaged metadata repaired); a store made for another sweep is
refused. Chunks are blocks of the grid (whole rows along the row axis), about
--chunk-size points each: by default 256 for continuation and 64 otherwise, split finer
where that would leave a worker process fewer than two. They are stored with the sweep,
so a store resumes on any machine. --shard i/n computes every n-th chunk starting at i,
so n processes (e.g. a cluster array job) fill one store together; --shard auto takes i
and n from SLURM (an array job, or the tasks of srun).

Compiled programs are cached on disk (~/.cache/photosc_jax/jax; PHOTOSC_JAX_CACHE=DIR
moves it, =off turns it off): a second or resumed run of the same map starts computing
at once.

Ctrl-C stops after the chunk in progress (at once while the program compiles) and exits
with status 130 (finished chunks are kept: rerun the same command to resume); a second
Ctrl-C stops at once. SIGTERM stops at once (status 143). Temporary files are removed
either way.
"""


def _fmt(x) -> str:
    return x if isinstance(x, str) else f"{x:g}"


def _model_help() -> str:
    """The parameters and run options of each model, with defaults and units."""
    import dataclasses

    from .sweeps.models import METHODS, MODELS, get_model, method_model

    lines = []
    for name in MODELS:
        m = get_model(name)
        params = []
        for f in dataclasses.fields(m.params_cls):
            long_name, units = m.parameters.get(f.name, (f.name, "1"))
            default = "required" if f.default is dataclasses.MISSING else _fmt(f.default)
            params.append(f"--{f.name} ({default}; {units})")
        lines += ["", f"{name} parameters (default; units): {', '.join(params)}."]
        for method in METHODS[name]:
            m = method_model(name, method)
            opts = [
                f"--{k.replace('_', '-')} ({'set by the method' if o.default is None else _fmt(o.default)})"
                for k, o in m.options.items()
            ]
            lines += ["", f"{name} --method {method} run options (default): {', '.join(opts)}."]
    return "\n".join(lines)


# the sweep command's own options (typos of these are caught among the model's options)
_SWEEP_FLAGS = (
    "--out",
    "--config",
    "--method",
    "--along",
    "--chunk-size",
    "--shard",
    "--plan",
    "--batch",
    "--progress",
    "--verbose",
)


@app.command(
    help=_SWEEP_HELP + _model_help(),
    short_help="Sweep a model over a grid of parameters into a resumable zarr store.",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def sweep(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="interband or metastability"),
    out: str = typer.Option(
        None,
        "--out",
        help="zarr store to write (resumable) [directory path, file:// URL, or an fsspec URL: s3://...].",
    ),
    config: Path = typer.Option(None, "--config", help="TOML file with [axes], [fixed], [options]."),
    method: str = typer.Option(
        None,
        "--method",
        help="interband: continuation (default when an "
        "axis is swept; rows: linear stability + continued paired branch, "
        "phases) or evolve (time evolution per point).",
        show_default=False,
    ),
    along: str = typer.Option(
        None, "--along", help="Row axis of --method continuation (default: V if swept, else the last axis)."
    ),
    chunk_size: int = typer.Option(
        None, "--chunk-size", help="About how many grid points per chunk [points] (default: see above)."
    ),
    shard: str = typer.Option(
        None,
        "--shard",
        help="i/n: compute chunks i, i+n, ... only; auto: i and n from a SLURM array job or "
        "srun's tasks (SLURM_ARRAY_TASK_ID/_COUNT, else SLURM_PROCID/SLURM_NTASKS).",
    ),
    plan: str = typer.Option(
        "auto",
        "--plan",
        help="auto, cpu or accelerator: one vmapped batch of rows (points) per device per call "
        "under shard_map, several chunks per call (auto: accelerator on GPUs/TPUs, cpu on CPUs).",
    ),
    batch: int = typer.Option(
        None,
        "--batch",
        help="Rows (points) per device per call with --plan accelerator [rows] (default: as many "
        "as half the device memory holds, spread evenly over the calls).",
        show_default=False,
    ),
    workers: str = typer.Option(
        "auto",
        "--workers",
        help="Worker processes for --method continuation on CPUs: a number, or auto (one per "
        "core, at most one per 8 rows: a small map runs faster in one process).",
    ),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        help="Run the chunks as tasks on a running Dask cluster: its scheduler's address "
        "(tcp://host:8786) or scheduler file (a .json path); needs --out on storage every "
        "worker reaches and the dask extra (pip install 'photosc_jax[dask]').",
    ),
    progress: bool = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on a terminal).", show_default=False
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Also print the run's diagnostics (devices, workers, vmap waste)."
    ),
) -> None:
    import contextlib

    from .sweeps.executors import ChunksFailedError
    from .sweeps.models import default_along, default_method, get_model, method_model
    from .sweeps.workers import WorkerError

    with _user_errors(WorkerError, ChunksFailedError), contextlib.ExitStack() as cleanup:
        axes, fixed, options = _read_config(config) if config else ({}, {}, {})
        if method is None:  # continuation if an axis is swept (read the axes to know)
            probe = ({**axes}, {**fixed}, {**options})
            _read_arguments(method_model(model, default_method(model, True)), list(ctx.args), *probe)
            method = default_method(model, bool(probe[0]))
        _read_arguments(method_model(model, method), list(ctx.args), axes, fixed, options)
        if method == "continuation" and along is None:
            along = default_along(axes)
        m = get_model(model, method, along)
        banner = (
            f"photosc: {m.name} sweep by {m.method} over {', '.join(axes) or '(no axes)'}"
            + (f" into {out}" if out else "")
            + " (Ctrl-C stops after the chunk in progress; finished chunks are kept)"
        )
        ds = _run_sweep(
            banner,
            m,
            axes,
            method=method,
            along=along,
            fixed=fixed,
            options=options,
            out=str(out) if out else None,
            chunk_size=chunk_size,
            shard=_parse_shard(shard),
            plan=plan,
            batch=batch,
            workers=_parse_workers(workers),
            executor=_dask_client(scheduler, out, cleanup) if scheduler else None,
            progress=progress,
        )
    a = ds.attrs
    typer.echo(f"{m.name}: {a['chunks_computed']} chunk(s) computed in {a['wall_time']:.1f} s")
    _print_counts(ds)
    if verbose:
        typer.echo(
            f"plan: {a['plan']}, devices: {a['devices']}, workers: {a['workers']}, "
            f"vmap width: {a['vmap_width']}" + (f", calls: {a['calls']}" if "calls" in a else "")
        )
        if "vmap_waste" in a:
            typer.echo(f"vmap waste (solver work on finished points): {a['vmap_waste']:.1%}")
    if a["interrupted"]:
        typer.echo(
            f"Interrupted: {a['chunks_done']}/{a['chunks_total']} chunks done"
            + ("; rerun the same command to resume." if out and not a["complete"] else "."),
            err=True,
        )
        raise typer.Exit(130)
    if out:
        typer.echo(f"Results in {out} (photosc info {out}; photosc plot {out})")
    else:
        main = ds[m.main]
        typer.echo(main.to_pandas().to_string() if main.ndim <= 2 else str(main))


def _parse_workers(text: str) -> int | str:
    """`--workers`: "auto" or a whole number >= 1."""
    if text.strip() == "auto":
        return "auto"
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"--workers {text!r}: use a whole number >= 1 or auto.")
    return int(text)


def _dask_client(scheduler: str, out, cleanup):
    """A Dask client of the cluster at `scheduler` (an address, or a scheduler file ending in
    .json), closed by `cleanup` (an `ExitStack`)."""
    if out is None:
        raise ValueError(
            "--scheduler: the cluster's workers write the chunks to a store; give --out on "
            "storage every worker reaches."
        )
    try:
        from distributed import Client
    except ImportError:
        raise ValueError(
            "--scheduler needs Dask: pip install 'photosc_jax[dask]' (or pip install 'dask[distributed]')."
        ) from None
    kw = {"scheduler_file": scheduler} if scheduler.endswith(".json") else {"address": scheduler}
    try:
        client = Client(**kw, timeout=30)
    except (OSError, TimeoutError, ValueError) as e:
        raise ValueError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({e}).") from None
    return cleanup.enter_context(client)


def _run_sweep(banner: str, model, axes, **kw):
    """`sweep.sweep`, stopping at the first Ctrl-C (`_interrupt`); `banner` is printed where
    the progress bar is shown, and the library's notes as `Note: ...` lines."""
    import sys
    import warnings

    from .sweeps import sweep as run_sweep

    _INTERRUPT["graceful"] = True
    if kw["progress"] or (kw["progress"] is None and sys.stderr.isatty()):
        typer.echo(banner, err=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # a library's socket or session left unclosed and collected meanwhile is no
            # note on the sweep (Python hides ResourceWarning by default)
            warnings.simplefilter("ignore", ResourceWarning)
            ds = run_sweep(model, axes, stop=lambda: _INTERRUPT["requested"], **kw)
    finally:
        _INTERRUPT["graceful"] = False
        for w in caught:
            typer.echo(f"Note: {w.message}", err=True)
    if _INTERRUPT["requested"]:  # also when the stop came after the last chunk
        ds.attrs["interrupted"] = 1
    return ds


def _flag_counts(da) -> list[tuple[str, int]]:
    """(meaning, count) of each code a flag variable (CF flag_values / flag_meanings) takes."""
    import numpy as np

    meanings = dict(zip(da.attrs["flag_values"], da.attrs["flag_meanings"].split()))
    codes, counts = np.unique(np.asarray(da.values).reshape(-1), return_counts=True)
    return [(meanings.get(int(c), f"code {int(c)}").replace("_", " "), int(n)) for c, n in zip(codes, counts)]


def _print_counts(ds) -> None:
    """One line per flag variable (status, phase, regime, ...): how many points have each
    meaning."""
    for name in ds.data_vars:
        if "flag_values" in ds[name].attrs:
            counts = ", ".join(f"{meaning} {n}" for meaning, n in _flag_counts(ds[name]))
            typer.echo(f"{name + ':':<16}{counts}")


def _number(flag: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{flag} needs a number, got {text!r}.") from None


def _read_arguments(m, extra: list[str], axes: dict, fixed: dict, options: dict) -> None:
    """Parameters (--name a:b:n | x,y | x) and run options (--name x) from the command line,
    over those of the config file; each given once."""
    from .sweeps import parse_axis

    # --name=value is --name value (a value that starts with "-", e.g. --detuning=-0.1:0.3:17,
    # may be given either way)
    extra = [
        part
        for arg in extra
        for part in (arg.split("=", 1) if arg.startswith("--") and "=" in arg else [arg])
    ]
    if len(extra) % 2:
        raise ValueError(f"Options come in pairs --name value (or --name=value); got {' '.join(extra)}.")
    fields = set(m.param_fields())
    opt_names = {k.replace("_", "-"): k for k in m.options}
    given: dict[str, str] = {}
    for flag, value in zip(extra[::2], extra[1::2]):
        if not flag.startswith("--"):
            raise ValueError(f"Expected an option --name, got {flag!r}.")
        name = flag[2:]
        key = opt_names.get(name, name)
        if key in given:
            raise ValueError(f"{flag} is given twice ({given[key]} and {value}); give it once.")
        given[key] = value
        if key in m.options:
            options[key] = value if m.options[key].kind is str else _number(flag, value)
        elif name in m.choice_fields():
            fixed[name] = value
        elif name in fields:
            values = parse_axis(value)
            if len(values) == 1 and ":" not in value and "," not in value:
                fixed[name] = float(values[0])
                axes.pop(name, None)
            else:
                axes[name] = values
                fixed.pop(name, None)
        else:
            raise ValueError(_unknown(m, flag, fields, opt_names))


def _unknown(m, flag: str, fields, opt_names) -> str:
    """The message for an unknown sweep option: the closest known name first, then what
    exists."""
    import difflib

    from .sweeps.models import elsewhere

    known = [f"--{n}" for n in sorted(fields)] + [f"--{n}" for n in sorted(opt_names)] + list(_SWEEP_FLAGS)
    close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return (
        f"Unknown option {flag} for the {m.name} model by {m.method}.{hint} Parameters: "
        f"{', '.join(sorted(fields))}; run options: "
        f"{', '.join('--' + k for k in sorted(opt_names))}." + elsewhere(m, [flag[2:].replace("-", "_")])
    )


def _parse_shard(text: str | None, env=None) -> tuple[int, int] | None:
    """`--shard i/n`, or `--shard auto`: this process's place in a SLURM job (`env`, default
    `os.environ`) — an array job (task i of n: (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN)
    / SLURM_ARRAY_TASK_STEP of SLURM_ARRAY_TASK_COUNT), else the tasks of one step
    (SLURM_PROCID of SLURM_NTASKS)."""
    import os
    import re

    if text is None:
        return None
    if text.strip() == "auto":
        env = os.environ if env is None else env
        if "SLURM_ARRAY_TASK_ID" in env and "SLURM_ARRAY_TASK_COUNT" in env:
            step = int(env.get("SLURM_ARRAY_TASK_STEP", 1) or 1)
            i = (int(env["SLURM_ARRAY_TASK_ID"]) - int(env.get("SLURM_ARRAY_TASK_MIN", 0))) // step
            return i, int(env["SLURM_ARRAY_TASK_COUNT"])
        if "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
            return int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"])
        raise ValueError(
            "--shard auto: no SLURM array job (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or "
            "task (SLURM_PROCID, SLURM_NTASKS) variables here; give --shard i/n."
        )
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not int(match[1]) < int(match[2]):
        raise ValueError(
            f"--shard {text!r}: use i/n with whole numbers 0 <= i < n, or auto, e.g. --shard 0/4."
        )
    return int(match[1]), int(match[2])


def _read_config(path: Path):
    """[axes] (strings "a:b:n" or lists of numbers), [fixed] (numbers, or names for a choice
    parameter) and [options] (numbers); a parameter in one of [axes] and [fixed] only."""
    import tomllib

    from .sweeps import parse_axis

    try:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path} is not valid TOML: {err}.") from None
    unknown = set(cfg) - {"axes", "fixed", "options"}
    if unknown:
        raise ValueError(f"{path}: unknown table(s) {sorted(unknown)}; use [axes], [fixed], [options].")

    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    both = sorted(set(cfg.get("axes", {})) & set(cfg.get("fixed", {})))
    if both:
        raise ValueError(
            f"{path}: {both[0]} is in [axes] and in [fixed]; keep it in one table "
            "([axes] to sweep it, [fixed] to fix it)."
        )
    axes = {}
    for k, v in cfg.get("axes", {}).items():
        if isinstance(v, str):
            axes[k] = parse_axis(v)
        elif isinstance(v, list) and v and all(number(x) for x in v):
            axes[k] = [float(x) for x in v]
        else:
            raise ValueError(
                f'{path}: [axes] {k} = {v!r}: an axis is a string "a:b:n" or a list '
                "of numbers; to fix a single value put it in [fixed]."
            )
    for table in ("fixed", "options"):
        for k, v in cfg.get(table, {}).items():
            # [fixed] also takes the names a choice parameter takes (phonon_targets = "linear")
            if not (number(v) or (table == "fixed" and isinstance(v, str))):
                what = "one number or a name" if table == "fixed" else "one number"
                hint = " (to sweep it, put it in [axes])" if table == "fixed" else ""
                raise ValueError(f"{path}: [{table}] {k} = {v!r} must be {what}{hint}.")
    return axes, dict(cfg.get("fixed", {})), dict(cfg.get("options", {}))


def _store_path(store: str):
    """A store argument (a path, a file:// URL or another fsspec URL) as its location
    (`sweeps.location`), or exit 2 with the reason."""
    from .sweeps.location import location

    with _user_errors():
        return location(store)


def _open_store(store):
    """`open_sweep`, or exit with status 2 and the reason (not a store, or damaged). Damaged
    chunks are reported on stderr (their values are masked)."""
    import warnings

    from .sweeps import open_sweep

    with _user_errors(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = open_sweep(store)
    for w in caught:
        typer.echo(f"Warning: {w.message}", err=True)
    return ds


def _row(label: str, text: str) -> None:
    """One line of a table: the label in a 12-character column, the text wrapped beside it
    at spaces only (paths and commands stay whole, to copy)."""
    import textwrap

    typer.echo(
        textwrap.fill(
            text,
            100,
            initial_indent=f"{label:<12}",
            subsequent_indent=" " * 12,
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def _metadata_state(store, spec: dict) -> str:
    """The `metadata` line of `info`: intact, or which files are damaged and how to repair
    them; and whether plain `xarray.open_zarr` opens the store."""
    from .sweeps import store as stored

    faults, error = stored.check_metadata(store, spec), stored.xarray_error(store)
    if not faults and error is None:
        return "intact (plain xarray.open_zarr opens the store)"
    text = f"damaged: {'; '.join(faults)}" if faults else "intact"
    text += f"; plain xarray.open_zarr fails ({error})" if error else ""
    if not faults:
        return text + "."
    return (
        f"{text}. Rerun the sweep command on this store to repair it: "
        f"{stored.command_line(spec)} --out {store}"
    )


@app.command(short_help="Describe a sweep store: axes, parameters, progress, outcome counts, ranges.")
def info(
    store: str = typer.Argument(
        ..., help="A sweep store (.zarr directory, file:// URL or fsspec URL: s3://...)."
    ),
) -> None:
    """Describe a sweep store: model and method, axes, every fixed parameter and run option,
    progress (each chunk's checksum verified), how many points have each status, phase or
    regime, the state of the metadata (damaged files; whether plain xarray opens the store),
    and the range of each output with its units."""
    import json

    import numpy as np

    store = _store_path(store)
    ds = _open_store(store)
    a = ds.attrs
    how = f"by {a['method']}" + (f" along {a['along']}" if "along" in a else "")
    _row("store", str(store))
    _row("model", f"{a['model']}, {how} (photosc_jax {a['version']}, created {a['created']})")
    for i, d in enumerate(ds.dims):
        v = ds[d].values
        _row(
            "axes" if i == 0 else "",
            f"{d:<10} {len(v):>5} values  {v[0]:g} … {v[-1]:g}  [{ds[d].attrs['units']}]",
        )
    params = {k[len("parameter_") :]: v for k, v in a.items() if k.startswith("parameter_")}
    opts = {k[len("option_") :]: v for k, v in a.items() if k.startswith("option_")}
    _row("parameters", ", ".join(f"{k} = {_fmt(v)}" for k, v in params.items()))
    _row("options", ", ".join(f"{k} = {_fmt(v)}" for k, v in opts.items()))
    _row(
        "chunks",
        f"{a['chunks_done']}/{a['chunks_total']} done (checksums verified; {a['chunks_damaged']} damaged)",
    )
    with _user_errors():  # (the check writes a template store in the temporary directory)
        _row("metadata", _metadata_state(store, json.loads(a["photosc_sweep"])))
    typer.echo("")
    _print_counts(ds)
    typer.echo("")
    typer.echo(f"{'output':<18}{'min':>13} {'max':>13}  {'units':<11}meaning")
    for name in ds.data_vars:
        da = ds[name]
        v = da.values
        if v.dtype.kind != "f" or "flag_values" in da.attrs:
            continue
        finite = v[np.isfinite(v)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (np.nan, np.nan)
        typer.echo(f"{name:<18}{lo:13.6g} {hi:13.6g}  {da.attrs['units']:<11}{da.attrs['long_name']}")


@app.command(short_help="Plot a sweep store: a phase diagram (2-D) or a line (1-D), as a PNG.")
def plot(
    store: str = typer.Argument(
        ..., help="A sweep store (.zarr directory, file:// URL or fsspec URL: s3://...)."
    ),
    var: str = typer.Option(None, "--var", help="Variable to show (default: the model's main one)."),
    out: Path = typer.Option(
        None, "--out", help="PNG path (default: next to the store; a URL's: in the current directory)."
    ),
) -> None:
    """Plot a sweep: a phase diagram for 2-D sweeps (flagged points hatched), a line for 1-D."""
    from .plot import plot_sweep

    store = _store_path(store)
    ds = _open_store(store)
    with _user_errors():
        if var is not None and var not in ds.data_vars:
            raise ValueError(f"{store} has no variable {var!r}; choose one of {', '.join(ds.data_vars)}.")
        fig = plot_sweep(ds, var)
        out = out or store.beside(".png")
        fig.savefig(out, dpi=130)
    typer.echo(f"Figure written to {out}")


@app.command(short_help="Export a sweep store to one netCDF file.")
def export(
    store: str = typer.Argument(
        ..., help="A sweep store (.zarr directory, file:// URL or fsspec URL: s3://...)."
    ),
    out: Path = typer.Argument(..., help="netCDF file to write (.nc)."),
) -> None:
    """Export a sweep store to one netCDF file (same variables, axes and attributes)."""
    store = _store_path(store)
    ds = _open_store(store)
    with _user_errors():
        ds.to_netcdf(out)
    typer.echo(f"Written {out}")


def _use_all_cpu_cores() -> None:
    """Expose every CPU core as a JAX device (sweeps split their chunks over devices), unless
    the user set the device count already. Must run before JAX initialises its backend;
    accelerators are unaffected."""
    import os

    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        n = os.cpu_count() or 1
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()


# Ctrl-C: `requested` once asked for; `graceful` while a sweep can stop after its chunk
_INTERRUPT = {"requested": False, "graceful": False}


def _interrupt(signum, frame) -> None:
    """Ctrl-C. During a sweep the first one asks it to stop after the chunk in progress
    (finished chunks are kept; exit status 130); otherwise, or the second time, the
    command stops at once with status 130 (stores survive any kill; worker processes die
    with their parent)."""
    import sys

    if _INTERRUPT["graceful"] and not _INTERRUPT["requested"]:
        _INTERRUPT["requested"] = True
        print(
            "\nInterrupt: stopping after the chunk in progress (finished chunks are kept; rerun "
            "the same command to resume). Press Ctrl-C again to stop at once.",
            file=sys.stderr,
        )
        return
    _stop_now("Stopped.", 130)


def _terminate(signum, frame) -> None:
    """SIGTERM (a batch system's or `kill`'s stop): stop at once, status 143, the sweep's
    temporary files removed (finished chunks are kept; rerun to resume)."""
    _stop_now("Terminated.", 128 + int(signum))


def _stop_now(message: str, status: int) -> None:
    """End the process now with `status`, after removing the temporary folders of a sweep in
    progress (worker logs, the compiled program, a scratch store): `os._exit` skips every
    `finally`. Worker processes die with their parent; stores survive any kill."""
    import os
    import sys

    from .sweeps.workers import remove_scratch

    remove_scratch()
    print(f"\n{message}", file=sys.stderr, flush=True)
    os._exit(status)


def main() -> None:
    """The `photosc` command. The command runs in a second thread while the main thread
    waits: Python runs signal handlers in the main thread only, between bytecodes, so a
    main thread inside a long XLA call would hold a Ctrl-C until the call returned."""
    import signal
    import threading

    from ._process import exit_now

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _terminate)
    _use_all_cpu_cores()
    status = {"code": 0}

    def command() -> None:
        try:
            app()
        except SystemExit as done:  # typer ends every command with sys.exit
            status["code"] = done.code
        except BaseException:  # a bug: its traceback, and a failed status
            import traceback

            traceback.print_exc()
            status["code"] = 1

    thread = threading.Thread(target=command, name="photosc", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
    # the command is over and its store closed: end at once, without the interpreter's slow
    # teardown after JAX (a Ctrl-C during it would replace the command's exit status, and
    # it cannot happen at all under XLA's compiler, still running in the background when
    # a sweep was stopped while compiling: `CompileGate.compile_unless_stopped`)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_now(status["code"])


if __name__ == "__main__":
    main()
