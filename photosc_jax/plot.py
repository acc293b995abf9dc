"""Figures, one call each. Every function returns the matplotlib Figure (and draws into `ax`
when given one); library code never calls `plt.show()`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax, figsize=(5.0, 3.5)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_delta(result, ax=None, *, label=None, log=False):
    """|Δ(t)| of an `EvolveResult` (paper Figs. 4, 7b). Units: E_g vs ħ/E_g."""
    fig, ax = _axes(ax)
    ax.plot(np.asarray(result.ts), np.abs(np.asarray(result.delta)), label=label)
    ax.set_xlabel(r"$t$ [$\hbar/E_g$]")
    ax.set_ylabel(r"$|\Delta|$ [$E_g$]")
    if log:
        ax.set_yscale("log")
    if label is not None:
        ax.legend()
    return fig


def plot_populations(state, params, ax=None, *, effective=None):
    """Band populations n11_k, n22_k of an `InterbandState` (paper Figs. 3, 5a, 6a).

    `effective=(Delta_t, C)` overlays the Eq. 12 BdG occupation n_k^eff (Fig. 3 black line).
    """
    from .interband import k_grid
    from .interband.effective import effective_occupations

    fig, ax = _axes(ax)
    k = np.asarray(k_grid(params))
    ax.plot(k, np.asarray(state.n11), ".", ms=3, color="tab:blue", label=r"$n^{11}_k$")
    ax.plot(k, np.asarray(state.n22), ".", ms=3, color="tab:red", label=r"$n^{22}_k$")
    if effective is not None:
        Delta_t, C = effective
        n1, n2 = effective_occupations(k, Delta_t, C=C, A1=float(params.A1), A2=float(params.A2))
        n_eff = 0.5 * (np.asarray(n1) + np.asarray(n2))
        ax.plot(k, n_eff, "k-", lw=1, label=rf"$n^{{\rm eff}}_k$ ($\tilde\Delta$={Delta_t:g})")
    ax.set_xlabel(r"$k$")
    ax.set_ylabel("population")
    ax.legend(fontsize="small")
    return fig


def plot_correlators(state, params, ax=None):
    """Re/Im of n21_k and s21_k (paper Figs. 5b, 6b, 7a)."""
    from .interband import k_grid

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
    fig = np.atleast_1d(ax)[0].figure
    k = np.asarray(k_grid(params))
    for a, (name, z) in zip(np.atleast_1d(ax), [("n^{21}_k", state.n21), ("s^{21}_k", state.s21)]):
        z = np.asarray(z)
        a.plot(k, z.real, label=rf"Re ${name}$")
        a.plot(k, z.imag, label=rf"Im ${name}$")
        a.set_xlabel(r"$k$")
        a.legend(fontsize="small")
    return fig


def demo_figure(result, *, effective=None):
    """|Δ(t)| next to the final populations: what `photosc demo` writes."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
    plot_delta(result, ax=a)
    plot_populations(result.state, result.params, ax=b, effective=effective)
    p = result.params
    fig.suptitle(
        rf"$\Omega$={float(p.Omega):g}, V={float(p.V):g}, $\Gamma_{{ph}}$={float(p.gamma_ph):g}, "
        rf"$\Gamma_{{rr}}$={float(p.gamma_rr):g}, $A_1$={float(p.A1):g}, $A_2$={float(p.A2):g}, "
        rf"v={float(p.v):g}, N={p.n_k}",
        fontsize="medium",
    )
    return fig


_LABELS = {
    "Omega": r"$\Omega$ [$E_g$]",
    "V": r"$V$ [$E_g$]",
    "gamma_ph": r"$\Gamma_{ph}$ [$E_g$]",
    "gamma_rr": r"$\Gamma_{rr}$ [$E_g$]",
    "delta_abs": r"$|\Delta|$ [$E_g$]",
    "DeltaE": r"$\Delta E/\omega$",
    "nu": r"$\nu(0)\omega$",
    "regime": "regime",
    "mu": r"$\mu$ [$E_g/\hbar$]",
    "delta_abs_paired": r"$|\Delta|$ paired branch [$E_g$]",
    "growth_rate": r"growth rate $g$ [$E_g/\hbar$]",
}
_REGIMES = ["none", "metastable I", "metastable II", "Q = 0 unstable"]
# Paper 2, Fig. 2b: metastable I green, metastable II blue (our extra class 3 red).
_REGIME_COLOURS = ["0.9", "tab:green", "tab:blue", "tab:red"]
# Fig. 2b's orientation: ν(0) across, ΔE up (the DFT star of K3C60, small ν and large ΔE, sits
# top left, as the paper's text says); `plot_sweep` transposes a (nu, DeltaE) sweep to match.
_METASTABILITY_ROWS = ("DeltaE", "nu")


def plot_sweep(ds, var=None, ax=None):
    """A sweep result (`photosc_jax.sweep.sweep` / `open_sweep`): for two swept axes a phase
    diagram (pcolormesh, labelled axes and colour bar; points whose status is not "fixed
    point" hatched), for one axis a line. `var` defaults to the model's main output
    (|Δ| for the interband model, the regime for metastability). A metastability map over
    (ΔE, ν) is drawn as paper 2's Fig. 2b: ν(0)ω across, ΔE/ω up, metastable I green and
    metastable II blue, whatever the order of the sweep's axes."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    var = var or {"interband": "delta_abs", "metastability": "regime"}.get(ds.attrs.get("model"))
    if ds.attrs.get("model") == "metastability" and set(ds[var].dims) == set(_METASTABILITY_ROWS):
        ds = ds.transpose(*_METASTABILITY_ROWS, ...)
    da = ds[var]
    fig, ax = _axes(ax, figsize=(5.5, 4.2))
    flagged = (ds["status"].values != 0) if "status" in ds else np.zeros(da.shape, bool)
    if da.ndim == 1:
        x = ds[da.dims[0]].values
        ax.plot(x, da.values, "o-", ms=3)
        ax.plot(x[flagged], da.values[flagged], "x", color="tab:red", label="flagged")
        ax.set_xlabel(_LABELS.get(da.dims[0], da.dims[0]))
        ax.set_ylabel(_LABELS.get(var, var))
        return fig
    if da.ndim != 2:
        raise ValueError(
            f"plot_sweep draws 1-D or 2-D sweeps; {var} has dims {da.dims}: "
            "select a slice first, e.g. ds.isel(T=0)."
        )
    ydim, xdim = da.dims
    x, y = ds[xdim].values, ds[ydim].values
    kw = {}
    if var == "regime":
        kw = dict(
            cmap=ListedColormap(_REGIME_COLOURS),
            norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], 4),
        )
    mesh = ax.pcolormesh(x, y, da.values, shading="nearest", **kw)
    cb = fig.colorbar(mesh, ax=ax)
    if var == "regime":
        cb.set_ticks([0, 1, 2, 3], labels=_REGIMES)
    else:
        cb.set_label(_LABELS.get(var, var))
    marks = [(flagged, "///", f"{int(flagged.sum())} flagged (status ≠ success)")]
    if "phase" in ds and ds["phase"].dims == da.dims:  # a continuation map: mark its phases
        phase = ds["phase"].values
        marks += [
            (phase == 2, "\\\\", "bistable (normal stable, paired state coexists)"),
            (phase == 3, "..", "transient (normal unstable, pairing burst decays; T = 0)"),
            (phase == 4, "xx", "unsettled (normal unstable, no stable stationary state)"),
        ]
    handles = []
    for mask, pattern, label in marks:
        if mask.any():
            hatch = ax.pcolor(x, y, np.ma.masked_where(~mask, np.ones(mask.shape)), shading="nearest")
            hatch.set(facecolor="none", edgecolor="0.15", linewidth=0.0, hatch=pattern)
            handles.append(Patch(facecolor="none", edgecolor="0.15", hatch=pattern, label=label))
    for name, style, label in (
        ("threshold", "-", "threshold (growth rate 0)"),
        ("branch_end", "--", "end of the paired branch"),
        ("quench_threshold", ":", "threshold of a quenched paired state (T = 0)"),
    ):
        if name in ds and ds[name].ndim == 1 and ds[name].dims[0] in (xdim, ydim):
            line, other = ds[name].values, ds[ds[name].dims[0]].values
            xy = (line, other) if ds[name].dims[0] == ydim else (other, line)
            handles += ax.plot(*xy, style, color="w", lw=1.2, label=label)
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize="x-small", framealpha=0.8)
    ax.set_xlabel(_LABELS.get(xdim, xdim))
    ax.set_ylabel(_LABELS.get(ydim, ydim))
    return fig


def plot_landscape(params, T=0.0, ax=None, *, Q_max=None, num=400):
    """The adiabatic landscape E(Q) − E(0) (T = 0) or F(Q, T) − F(0, T) of paper 2 (Fig. 3a),
    with Q_B and Q_MS marked. Units: ω and ℓ0."""
    from .metastability import analyze, landscape

    r = analyze(params, T, with_T_B=False)
    q_ms = float(r.Q_MS)
    q_max = Q_max or (1.6 * q_ms if np.isfinite(q_ms) else 2.0)
    q = np.linspace(0.0, q_max, num)
    E = np.asarray(landscape(params, q, T))
    fig, ax = _axes(ax)
    ax.plot(q, E - E[0])
    for name, qq, ee in (("$Q_B$", r.Q_B, r.E_B), ("$Q_{MS}$", r.Q_MS, r.E_MS)):
        if np.isfinite(float(qq)):
            ax.plot(float(qq), float(ee), "o", label=name)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(r"$Q/\ell_0$")
    ax.set_ylabel(r"$E(Q) - E(0)$ [$\omega$]" if T == 0 else r"$F(Q,T) - F(0,T)$ [$\omega$]")
    ax.set_title(f"regime: {_REGIMES[int(r.regime)]}", fontsize="medium")
    if np.isfinite(q_ms):
        ax.legend()
    return fig


def plot_free_energy_map(params, T=0.0, ax=None, *, Q_max=2.0, Delta_max=None, num=120):
    """F(Δ, Q) = ½Q² + F_SC(Δ; U(Q), T) per site (paper 2, Fig. 3b), phonon units."""
    import jax

    from . import bcs
    from .attraction import coupling

    q = np.linspace(0.0, Q_max, num)
    lam_q = np.asarray(coupling(q, params.DeltaE, params.nu, params.G, params.lam0))
    D_max = Delta_max or 1.5 * float(bcs.zero_temperature_gap(float(np.max(lam_q))))
    D = np.linspace(0.0, D_max, num)
    F = jax.vmap(lambda l: jax.vmap(lambda d: bcs.free_energy(d, l, T, nu=float(params.nu)))(D))(lam_q)
    F = np.asarray(F) + 0.5 * q[:, None] ** 2
    fig, ax = _axes(ax)
    mesh = ax.pcolormesh(D, q, F - F[0, 0], shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=r"$F - F(0,0)$ [$\omega$]")
    ax.set_xlabel(r"$\Delta/\omega$")
    ax.set_ylabel(r"$Q/\ell_0$")
    return fig


def plot_trapped_gap(lam, T, n_star, ax=None, *, nu=1.0):
    """Δ_tr(n*) at fixed quasi-particle number (paper 2, Fig. 4c), with Δ0 for reference."""
    import jax

    from . import bcs

    n_star = np.asarray(n_star, dtype=float)
    D, _ = jax.vmap(lambda n: bcs.trapped_gap(n, lam, T, nu=nu))(n_star)
    fig, ax = _axes(ax)
    ax.plot(n_star, np.asarray(D), label=rf"$\Delta_{{tr}}$ ($\lambda$={lam:g}, T={T:g}$\omega$)")
    ax.axhline(float(bcs.zero_temperature_gap(lam)), color="0.5", ls="--", label=r"$\Delta_0$")
    ax.set_xlabel(r"$n^*$ [$\nu(0)\omega$]")
    ax.set_ylabel(r"$\Delta_{tr}/\omega$")
    ax.legend(fontsize="small")
    return fig
