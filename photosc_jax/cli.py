"""The `photosc` command line (also `python -m photosc_jax`)."""

from __future__ import annotations

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


@app.command()
def demo(
    Omega: float = typer.Option(0.25, "--Omega", help="Rabi frequency Ω [E_g]."),
    V: float = typer.Option(5.0, "--V", help="Interband interaction V [E_g]."),
    gamma_ph: float = typer.Option(0.02, help="Phonon rate Γph [E_g]."),
    gamma_rr: float = typer.Option(0.002, help="Radiative recombination rate Γrr [E_g]."),
    v: float = typer.Option(0.098, help="Phonon velocity."),
    dk: float = typer.Option(2e-3, help="Grid step (the paper's 2e-3)."),
    t1: float = typer.Option(6000.0, help="Final time [ħ/E_g]."),
    out: Path = typer.Option(Path("delta_demo.png"), help="Where to write the figure."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Driven-dissipative interband pairing at the paper's Fig. 3 parameters (A1 = 7,
    A2 = 24, k_max = 0.2) on a small grid: evolve from the normal state with a 1e-20 pairing
    seed, print |Δ| and the phase-rotation frequency μ, and plot |Δ(t)| and the populations."""
    import sys

    from .interband import InterbandParams, evolve
    from .interband.steady import state_stationarity
    from .plot import demo_figure

    params = InterbandParams(Omega=Omega, V=V, gamma_ph=gamma_ph, gamma_rr=gamma_rr, v=v, dk=dk)
    typer.echo(f"Evolving N = {params.n_k} k-points to t1 = {t1:g} ...")
    res = evolve(params, t1, progress=not quiet and sys.stderr.isatty())
    if not bool(res.success):
        typer.echo(f"Solver did not reach t1: {res.result}. Try a larger max_steps.", err=True)
        raise typer.Exit(1)
    st = state_stationarity(res.state, params)
    steady = bool(st.is_steady(1e-7, 1e-12))
    typer.echo(f"|Delta(t1)| = {abs(complex(res.delta[-1])):.6g} E_g")
    typer.echo(f"mu = {float(st.mu):.4f} E_g (phase rotation of Delta)   steady: {steady}")
    fig = demo_figure(res, effective=(0.05, 0.2))
    fig.savefig(out, dpi=120)
    typer.echo(f"Figure written to {out}")


_SWEEP_HELP = """Sweep MODEL (interband | metastability) over a grid and store the results.

Every parameter of the model is an option: a:b:n sweeps it (n points from a to b
inclusive), a comma list sweeps those values, a single number fixes it. Run options take
single numbers. Parameters can also come from a TOML file (--config) with tables
[axes] (strings "a:b:n" or lists), [fixed] and [options]; the command line wins.

\b
Examples:
  photosc sweep interband --Omega 0.01:0.5:64 --V 0:8:64 --out fig2.zarr
  photosc sweep interband --method evolve --Omega 0.01:0.5:8 --V 0:8:8 --t-max 20000
  photosc sweep metastability --DeltaE 0.1:3:128 --nu 0.2:4:128 --out fig2b.zarr

Interband maps are solved by --method continuation when an axis is swept: per row along V
the normal state's linear stability (growth rate, threshold = critical V) and the paired
branch by continuation, each point classified normal / paired / bistable / transient / unsettled; no
time stepping. The 64 x 64 Fig. 2 map above takes about 43 s on a 2-core CPU, start-up and
compile included; its rows run in one worker process per CPU core. --method evolve
evolves every point from the paper's initial state instead (run options --t-max, ...).

The store opens in plain xarray (xarray.open_zarr) as the labelled dataset, with units,
flag meanings, every parameter value and the package version in its attributes.
Re-running the same command on the same store resumes it (finished chunks are skipped,
damaged ones recomputed, damaged metadata repaired); a store made for another sweep is
refused. Chunks are blocks of the grid (whole rows along the last axis, about
--chunk-size points), independent of the device count, so a store resumes on any machine.
--shard i/n computes every n-th chunk starting at i, so n processes (e.g. a cluster array
job) fill one store together. Ctrl-C stops after the chunk in progress (exit 130).
"""


def _fmt(x) -> str:
    return x if isinstance(x, str) else f"{x:g}"


def _model_help() -> str:
    """The parameters and run options of each model, with defaults and units."""
    import dataclasses

    from .sweep.models import METHODS, MODELS, get_model, method_model

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
            opts = [f"--{k.replace('_', '-')} ({o.default:g})" for k, o in m.options.items()]
            lines += ["", f"{name} --method {method} run options (default): {', '.join(opts)}."]
    return "\n".join(lines)


@app.command(
    help=_SWEEP_HELP + _model_help(),
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def sweep(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="interband or metastability"),
    out: Path = typer.Option(None, "--out", help="zarr store to write (resumable)."),
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
    chunk_size: int = typer.Option(None, "--chunk-size", help="About how many points per chunk."),
    shard: str = typer.Option(None, "--shard", help="i/n: compute chunks i, i+n, ... only."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    import warnings

    from .sweep import StoreMismatchError, status_counts
    from .sweep import sweep as run_sweep
    from .sweep.models import default_along, default_method, get_model, method_model
    from .sweep.workers import WorkerError

    try:
        # the run options depend on the method, not on the row axis
        axes, fixed, options = _read_config(config) if config else ({}, {}, {})
        if method is None:  # continuation if an axis is swept (read the axes to know)
            probe = ({**axes}, {**fixed}, {**options})
            _read_arguments(method_model(model, default_method(model, True)), list(ctx.args), *probe)
            method = default_method(model, bool(probe[0]))
        _read_arguments(method_model(model, method), list(ctx.args), axes, fixed, options)
        if method == "continuation" and along is None:
            along = default_along(axes)
        m = get_model(model, method, along)
        if not quiet:
            typer.echo(
                f"photosc: {m.name} sweep over {', '.join(axes) or '(no axes)'}"
                + (f" into {out}" if out else "")
                + " (Ctrl-C stops after the chunk in "
                "progress; finished chunks are kept)",
                err=True,
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = run_sweep(
                m,
                axes,
                method=method,
                along=along,
                fixed=fixed,
                options=options,
                out=str(out) if out else None,
                chunk_size=chunk_size,
                shard=_parse_shard(shard),
                progress=False if quiet else None,
                stop=lambda: _INTERRUPT["requested"],
            )
        for w in caught:
            typer.echo(f"Note: {w.message}", err=True)
    except (ValueError, MemoryError, StoreMismatchError, OSError, WorkerError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{m.name}: {ds.attrs['chunks_computed']} chunk(s) computed in "
        f"{ds.attrs['wall_time']:.1f} s; status: {status_counts(ds)}"
    )
    if "vmap_waste" in ds.attrs:
        typer.echo(f"vmap waste (solver work on finished points): {ds.attrs['vmap_waste']:.1%}")
    if ds.attrs["interrupted"]:
        typer.echo(
            f"Interrupted: {ds.attrs['chunks_done']}/{ds.attrs['chunks_total']} chunks done"
            + ("; rerun the same command to resume." if out else "."),
            err=True,
        )
        raise typer.Exit(130)
    if out:
        typer.echo(f"Results in {out} (photosc info {out}; photosc plot {out})")
    else:
        main = ds[m.main]
        typer.echo(main.to_pandas().to_string() if main.ndim <= 2 else str(main))


def _number(flag: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{flag} needs a number, got {text!r}.") from None


def _read_arguments(m, extra: list[str], axes: dict, fixed: dict, options: dict) -> None:
    """Parameters (--name a:b:n | x,y | x) and run options (--name x) from the command line,
    over those of the config file."""
    from .sweep import parse_axis

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
    for flag, value in zip(extra[::2], extra[1::2]):
        if not flag.startswith("--"):
            raise ValueError(f"Expected an option --name, got {flag!r}.")
        name = flag[2:]
        if name.replace("-", "_") in m.renamed:
            new = m.renamed[name.replace("-", "_")]
            typer.echo(f"Note: {flag} is now --{new.replace('_', '-')} (the old name still works).", err=True)
            name = new
        if name in opt_names or name in m.options:
            options[opt_names.get(name, name)] = _number(flag, value)
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
            from .sweep.models import elsewhere

            raise ValueError(
                f"Unknown option {flag} for the {m.name} model by {m.method}. Parameters: "
                f"{', '.join(sorted(fields))}; run options: "
                f"{', '.join('--' + k for k in sorted(opt_names))}." + elsewhere(m, [name.replace("-", "_")])
            )


def _parse_shard(text: str | None) -> tuple[int, int] | None:
    import re

    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not int(match[1]) < int(match[2]):
        raise ValueError(f"--shard {text!r}: use i/n with whole numbers 0 <= i < n, e.g. --shard 0/4.")
    return int(match[1]), int(match[2])


def _read_config(path: Path):
    """[axes] (strings "a:b:n" or lists of numbers), [fixed] and [options] (numbers)."""
    import tomllib

    from .sweep import parse_axis

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
            if not number(v):
                hint = " (to sweep it, put it in [axes])" if table == "fixed" else ""
                raise ValueError(f"{path}: [{table}] {k} = {v!r} must be one number{hint}.")
    return axes, dict(cfg.get("fixed", {})), dict(cfg.get("options", {}))


def _open_store(store: Path):
    """`open_sweep`, or exit with status 2 and the reason (not a store, or damaged). Damaged
    chunks are reported on stderr (their values are masked)."""
    import warnings

    from .sweep import StoreMismatchError, open_sweep

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = open_sweep(store)
    except StoreMismatchError as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(2) from None
    for w in caught:
        typer.echo(f"Warning: {w.message}", err=True)
    return ds


@app.command()
def info(store: Path = typer.Argument(..., help="A sweep store (.zarr).")) -> None:
    """Describe a sweep store: model, axes, every parameter and run option, progress (each
    chunk's checksum verified), status counts, and the range of each output."""
    import numpy as np

    from .sweep import status_counts

    ds = _open_store(store)
    a = ds.attrs
    typer.echo(f"model: {a['model']}   made by photosc_jax {a['version']} on {a['created']}")
    for d in ds.dims:
        v = ds[d].values
        typer.echo(f"axis {d}: {len(v)} points from {v[0]:g} to {v[-1]:g} [{ds[d].attrs['units']}]")
    params = {k[len("parameter_") :]: v for k, v in a.items() if k.startswith("parameter_")}
    opts = {k[len("option_") :]: v for k, v in a.items() if k.startswith("option_")}
    typer.echo("parameters: " + ", ".join(f"{k}={_fmt(v)}" for k, v in params.items()))
    typer.echo("options: " + ", ".join(f"{k}={v:g}" for k, v in opts.items()))
    typer.echo(
        f"chunks done: {a['chunks_done']}/{a['chunks_total']} (checksums verified; "
        f"{a['chunks_damaged']} damaged)"
    )
    typer.echo(f"status: {status_counts(ds)}")
    for name in ds.data_vars:
        v = ds[name].values
        if v.dtype.kind == "f" and np.isfinite(v).any():
            typer.echo(
                f"  {name}: min {np.nanmin(v):.6g}, max {np.nanmax(v):.6g} [{ds[name].attrs['units']}]"
            )


@app.command()
def plot(
    store: Path = typer.Argument(..., help="A sweep store (.zarr)."),
    var: str = typer.Option(None, "--var", help="Variable to show (default: the model's main one)."),
    out: Path = typer.Option(None, "--out", help="PNG path (default: next to the store)."),
) -> None:
    """Plot a sweep: a phase diagram for 2-D sweeps (flagged points hatched), a line for 1-D."""
    from .plot import plot_sweep

    ds = _open_store(store)
    if var is not None and var not in ds.data_vars:
        typer.echo(
            f"Error: {store} has no variable {var!r}; choose one of {', '.join(ds.data_vars)}.", err=True
        )
        raise typer.Exit(2)
    fig = plot_sweep(ds, var)
    out = out or Path(str(store).rstrip("/")).with_suffix(".png")
    fig.savefig(out, dpi=130)
    typer.echo(f"Figure written to {out}")


@app.command()
def export(
    store: Path = typer.Argument(..., help="A sweep store (.zarr)."),
    out: Path = typer.Argument(..., help="netCDF file to write (.nc)."),
) -> None:
    """Export a sweep store to one netCDF file (same variables, axes and attributes)."""
    ds = _open_store(store)
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


_INTERRUPT = {"requested": False}


def _graceful_interrupt(signum, frame) -> None:
    """First Ctrl-C: finish the chunk in progress, keep every finished chunk, exit 130.
    A second Ctrl-C stops at once (the default action; stores survive any kill)."""
    import signal
    import sys

    _INTERRUPT["requested"] = True
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    print(
        "\nInterrupt: stopping after the chunk in progress (finished chunks are kept; rerun "
        "the same command to resume). Press Ctrl-C again to stop at once.",
        file=sys.stderr,
    )


def main() -> None:
    import signal
    import sys

    sweeping = len(sys.argv) > 1 and sys.argv[1] == "sweep"
    if sweeping:
        # installed before JAX is imported: an interrupt never unwinds through XLA
        signal.signal(signal.SIGINT, _graceful_interrupt)
    _use_all_cpu_cores()
    try:
        app()
    finally:
        if sweeping:
            # the work is done and the store closed: a Ctrl-C during interpreter shutdown
            # (which restores the default action of a Python handler, and takes a while
            # after JAX) would kill the process by SIGINT instead of letting it exit with
            # its status; an ignored signal stays ignored
            signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
