"""The `photosc` command line (also `python -m photosc_jax`)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="photosc: simulate photo-induced superconductivity models (units: E_g = ħ = 1).",
    no_args_is_help=True,
    add_completion=False,
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
