"""Figures, one call each. Every function returns the matplotlib Figure (and draws into `ax`
when given one); library code never calls `plt.show()`. Every axis carries its unit, legends
sit outside the data and list only what is drawn, and a variable with CF `flag_values` /
`flag_meanings` (a category per code: `phase`, `status`, `regime`, ...) gets a discrete,
labelled colour bar."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

# name → (symbol, units) of every quantity an axis, colour bar or title shows
_QUANTITIES = {
    "Omega": (r"$\Omega$", r"$E_g$"),
    "V": (r"$V$", r"$E_g$"),
    "gamma_ph": (r"$\Gamma_{ph}$", r"$E_g/\hbar$"),
    "gamma_rr": (r"$\Gamma_{rr}$", r"$E_g/\hbar$"),
    "A1": (r"$A_1$", r"$E_g a^2$"),
    "A2": (r"$A_2$", r"$E_g a^2$"),
    "v": (r"$v$", r"$E_g a/\hbar$"),
    "T": (r"$T$", ""),
    "detuning": (r"$\nu - E_g$", r"$E_g$"),
    "phonon_targets": ("phonon targets", ""),
    "k_max": (r"$k_{max}$", r"$1/a$"),
    "dk": (r"$dk$", r"$1/a$"),
    "k": (r"$k$", r"$1/a$"),
    "t": (r"$t$", r"$\hbar/E_g$"),
    "delta_abs": (r"$|\Delta|$", r"$E_g$"),
    "delta_abs_paired": (r"$|\Delta|$ paired branch", r"$E_g$"),
    "mu": (r"$\mu$", r"$E_g/\hbar$"),
    "growth_rate": (r"growth rate $g$", r"$E_g/\hbar$"),
    "n_exc": (r"$\sum_k n^{22}_k/N$", ""),
    "DeltaE": (r"$\Delta E/\omega$", ""),
    "nu": (r"$\nu(0)\omega$", ""),
    "G": (r"$g\ell_0/\omega$", ""),
    "lam0": (r"$\lambda_0$", ""),
}
# the units every figure title of a model is given in
_MODEL_UNITS = {"interband": r"[$E_g = \hbar = 1$]", "metastability": r"[$\hbar\omega = k_B = 1$]"}
_N_EFF = r"$n^{\rm eff}_k$"
_REGIMES = ["none", "metastable I", "metastable II", "Q = 0 unstable"]
# Colours of flag meanings. Paper 2, Fig. 2b: metastable I green, metastable II blue (the
# extra class "undistorted state unstable" red). Meanings not listed take unused tab10 colours.
_FLAG_COLOURS = {
    "none": "0.9",
    "metastable_I": "tab:green",
    "metastable_II": "tab:blue",
    "undistorted_state_unstable": "tab:red",
    "normal": "0.85",
    "paired": "tab:blue",
    "bistable": "tab:purple",
    "transient": "tab:orange",
    "unsettled": "tab:red",
    "failed": "k",
    "not_computed": "w",
    "damaged": "0.3",
}
# Fig. 2b's orientation: ν(0) across, ΔE up (the DFT star of K3C60, small ν and large ΔE, sits
# top left, as the paper's text says); `plot_sweep` transposes a (nu, DeltaE) sweep to match.
_METASTABILITY_ROWS = ("DeltaE", "nu")
# the per-row lines of a continuation sweep: variable, line style, symbol suffix, meaning, and
# colours: on a line plot, and on a map (with an edge of the other shade: visible on any colour)
_ROW_LINES = (
    ("threshold", "-", "_c", "growth rate 0", "0.3", "w"),
    ("branch_end", "--", "^*", "paired branch ends", "tab:red", "k"),
    ("quench_threshold", ":", "_q", "threshold after a quench, T = 0", "tab:purple", "w"),
)


def _axes(ax, figsize=(5.0, 3.5)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _label(name, units=""):
    """Axis label `symbol [units]` of a quantity (`units`: the stored ones, for names not in
    the table; none for dimensionless quantities)."""
    symbol, table_units = _QUANTITIES.get(name, (name, units if units != "1" else ""))
    return f"{symbol} [{table_units}]" if table_units else symbol


def _legend_right(ax, **kw):
    """A legend right of the axes, outside the data (constrained layout makes room)."""
    kw = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, "fontsize": "small", **kw}
    return ax.legend(**kw)


def _title(values, units):
    """`symbol = value` of each fixed parameter, in lines of about 75 characters, then `units`."""
    items = [
        f"{_QUANTITIES.get(k, (k,))[0]} = {v if isinstance(v, str) else format(float(v), '.4g')}"
        for k, v in values.items()
    ]
    lines = [""]
    for item in [*items, units]:
        if lines[-1] and len(lines[-1]) + len(item) > 75:
            lines.append("")
        lines[-1] += (", " if lines[-1] else "") + item
    return "\n".join(lines)


def params_title(params):
    """The title that states every field of an `InterbandParams` (E_g = ħ = 1)."""
    fields = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    return _title(fields, _MODEL_UNITS["interband"])


def plot_delta(result, ax=None, *, label=None, log=False, color=None):
    """|Δ(t)| of an `EvolveResult` (paper Figs. 4, 7b). Units: E_g vs ħ/E_g."""
    fig, ax = _axes(ax)
    ax.plot(np.asarray(result.ts), np.abs(np.asarray(result.delta)), label=label, color=color)
    ax.set_xlabel(_label("t"))
    ax.set_ylabel(_label("delta_abs"))
    if log:
        ax.set_yscale("log")
    if label is not None:
        _legend_right(ax)
    return fig


def _state_and_params(result, params):
    """(state, params) of an `EvolveResult` / `SteadyState` (they carry their params), or of an
    `InterbandState` with its `InterbandParams`."""
    if hasattr(result, "params"):
        if params is not None:
            raise TypeError("pass a result (it carries its params) or a state and its params, not both")
        result, params = result.state, result.params
    elif params is None:
        raise TypeError("an InterbandState needs its InterbandParams: call f(state, params) or f(result)")
    if np.ndim(result.n11) != 1:
        raise ValueError(
            f"one state at a time: the populations have shape {np.shape(result.n11)}; "
            "select one first, e.g. jax.tree.map(lambda x: x[0], result)"
        )
    return result, params


def plot_populations(result, params=None, ax=None, *, effective=False):
    """Band populations n11_k, n22_k (paper Figs. 3, 5a, 6a) of an `EvolveResult` or
    `SteadyState`, or of an `InterbandState` with its `InterbandParams`. n11 is drawn as open
    circles around n22's dots, so both show where they coincide.

    `effective=True` overlays the paper's n_k^eff (Eq. 12, Fig. 3 black line) with (Δ̃, C)
    fitted to these populations (`interband.effective.fit_effective`; values in the legend).
    Units: k in 1/a, populations per k-point."""
    from .interband import k_grid
    from .interband.effective import fit_effective, pair_occupation

    state, params = _state_and_params(result, params)
    fig, ax = _axes(ax)
    k = np.asarray(k_grid(params))
    style = dict(ls="none", ms=4.5, mew=0.8, color="tab:blue", mfc="none")
    ax.plot(k, np.asarray(state.n11), "o", **style, label=r"$n^{11}_k$ valence")
    ax.plot(k, np.asarray(state.n22), ".", ms=4, color="tab:red", label=r"$n^{22}_k$ conduction")
    if effective:
        fit = fit_effective(state, params)
        n_eff = pair_occupation(k, fit.Delta_t, C=fit.C, A1=float(params.A1), A2=float(params.A2))
        label = f"Eq. 12 {_N_EFF} fitted:\n" + rf"$\tilde\Delta$ = {fit.Delta_t:.3f}, C = {fit.C:.3f} $E_g$"
        ax.plot(k, np.asarray(n_eff), "k-", lw=1.2, label=label)
    ax.set_xlabel(_label("k"))
    ax.set_ylabel("population")
    _legend_right(ax)
    return fig


def plot_correlators(result, params=None, ax=None):
    """Re/Im of n21_k and s21_k (paper Figs. 5b, 6b, 7a), of a result or of a state with its
    params as `plot_populations`; `ax`: two axes. Units: k in 1/a, correlators per k-point."""
    from .interband import k_grid

    state, params = _state_and_params(result, params)
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10.0, 3.5), layout="constrained")
    fig = np.atleast_1d(ax)[0].figure
    k = np.asarray(k_grid(params))
    for a, (name, z) in zip(np.atleast_1d(ax), [("n^{21}_k", state.n21), ("s^{21}_k", state.s21)]):
        z = np.asarray(z)
        a.plot(k, z.real, "-", color="tab:blue", label=rf"Re ${name}$")
        a.plot(k, z.imag, "--", color="tab:orange", label=rf"Im ${name}$")
        a.set_xlabel(_label("k"))
        a.set_ylabel(rf"${name}$")
        _legend_right(a)
    return fig


def demo_figure(result):
    """What `photosc demo` writes: |Δ(t)| of an `EvolveResult` next to its final populations,
    titled with every parameter; a paired final state (|Δ(t1)| above the solvers' default
    `delta_floor`) gets the Eq. 12 n_k^eff fitted to it, a normal one no overlay."""
    from .interband.methods import DEFAULT_DELTA_FLOOR

    fig, (a, b) = plt.subplots(1, 2, figsize=(11.0, 4.0), layout="constrained")
    delta_1 = float(np.abs(np.asarray(result.delta)[-1]))
    paired = delta_1 > DEFAULT_DELTA_FLOOR
    plot_delta(result, ax=a)
    plot_populations(result, ax=b, effective=paired)
    a.set_title(rf"$|\Delta(t_1)|$ = {delta_1:.4g} $E_g$", fontsize="medium")
    b.set_title(r"populations at $t_1$" + ("" if paired else " (normal: no Eq. 12 fit)"), fontsize="medium")
    fig.suptitle(params_title(result.params), fontsize="medium")
    return fig


def _categories(da):
    """A CF flag variable as categories: the index of each point's code among the codes
    present, their labels (the flag meanings) and colours."""
    from matplotlib.colors import to_hex

    meaning = dict(zip(np.ravel(da.attrs["flag_values"]).tolist(), str(da.attrs["flag_meanings"]).split()))
    codes, index = np.unique(da.values, return_inverse=True)
    names = [meaning.get(int(c), f"code {int(c)}") for c in codes]
    used = {to_hex(c) for c in _FLAG_COLOURS.values()}
    spare = iter(c for c in plt.get_cmap("tab10").colors if to_hex(c) not in used)
    colours = [_FLAG_COLOURS.get(n) or next(spare) for n in names]
    return index.reshape(da.shape), [n.replace("_", " ") for n in names], colours


def _flagged(ds, var):
    """Points whose solve did not succeed (`status` ≠ 0), unless `var` is the status itself."""
    if "status" not in ds or var == "status":
        return np.zeros(ds[var].shape, bool)
    return ds["status"].values != 0


def _sweep_title(ds):
    """The parameters a sweep (or a slice of one) holds fixed."""
    fixed = {name: c.item() for name, c in ds.coords.items() if c.ndim == 0}
    fixed |= {k.removeprefix("parameter_"): v for k, v in ds.attrs.items() if k.startswith("parameter_")}
    if "option_T" in ds.attrs:  # model II's temperature is a run option
        fixed["T"] = ds.attrs["option_T"]
    return _title(fixed, _MODEL_UNITS.get(ds.attrs.get("model"), ""))


def _row_symbol(ds, suffix):
    """`V_c`, `V^*`, ...: a per-row line's symbol from the axis the rows run along."""
    along = _QUANTITIES.get(ds.attrs.get("along", "V"), ("V",))[0].strip("$")
    return f"${along}{suffix}$"


def plot_sweep(ds, var=None, ax=None):
    """A sweep result (`photosc_jax.sweeps.sweep` / `open_sweep`), titled with the parameters it
    holds fixed. `var` defaults to the model's main output (|Δ| for the interband model, the
    regime for metastability); a variable with CF flags is drawn as categories.

    Two swept axes: a phase diagram (pcolormesh, labelled axes and colour bar; points whose
    status is not success hatched, and a continuation map's bistable / transient / unsettled
    points; its per-row V_c, V* lines). A metastability map over (ΔE, ν) is drawn as paper
    2's Fig. 2b: ν(0)ω across, ΔE/ω up, metastable I green and metastable II blue, whatever
    the order of the sweep's axes. One swept axis (or a 1-D slice, e.g.
    `ds.sel(Omega=0.25, method="nearest")`): a line, with the row's V_c and V* marked."""
    var = var or {"interband": "delta_abs", "metastability": "regime"}.get(ds.attrs.get("model"))
    if ds.attrs.get("model") == "metastability" and set(ds[var].dims) == set(_METASTABILITY_ROWS):
        ds = ds.transpose(*_METASTABILITY_ROWS, ...)
    if ds[var].ndim not in (1, 2):
        raise ValueError(
            f"plot_sweep draws 1-D or 2-D sweeps; {var} has dims {ds[var].dims}: "
            "select a slice first, e.g. ds.isel(T=0)."
        )
    fig, ax = _axes(ax, figsize=(5.5, 4.2) if ds[var].ndim == 2 else (7.0, 3.6))
    (_sweep_map if ds[var].ndim == 2 else _sweep_line)(ds, var, ax)
    ax.set_title(_sweep_title(ds), fontsize="small")
    return fig


def _sweep_line(ds, var, ax):
    da = ds[var]
    dim = da.dims[0]
    x = ds[dim].values
    if "flag_values" in da.attrs:
        y, labels, colours = _categories(da)
        ax.scatter(x, y, c=[colours[i] for i in y], edgecolors="0.3", zorder=2)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(-0.5, len(labels) - 0.5)
    else:
        y = da.values
        ax.plot(x, y, "o-", ms=3)
        ax.set_ylabel(_label(var, da.attrs.get("units", "")))
    flagged = _flagged(ds, var)
    if flagged.any():
        ax.plot(x[flagged], y[flagged], "x", color="tab:red", label=f"{flagged.sum()} flagged (status ≠ 0)")
    if ds.attrs.get("along") == dim:
        for name, style, suffix, meaning, colour, _ in _ROW_LINES:
            if name in ds and ds[name].ndim == 0 and np.isfinite(value := float(ds[name])):
                label = f"{_row_symbol(ds, suffix)} = {value:.4g} ({meaning})"
                ax.axvline(value, ls=style, color=colour, lw=1.0, label=label)
    ax.dataLim.update_from_data_x(x, ignore=False)  # the whole swept range, NaN points too
    ax.autoscale_view(scaley=False)
    ax.set_xlabel(_label(dim, ds[dim].attrs.get("units", "")))
    if ax.get_legend_handles_labels()[0]:
        _legend_right(ax, fontsize="x-small")


def _sweep_map(ds, var, ax):
    from matplotlib.colors import BoundaryNorm, ListedColormap

    da = ds[var]
    ydim, xdim = da.dims
    x, y = ds[xdim].values, ds[ydim].values
    if "flag_values" in da.attrs:
        index, labels, colours = _categories(da)
        n = len(labels)
        norm = BoundaryNorm(np.arange(n + 1) - 0.5, n)
        mesh = ax.pcolormesh(x, y, index, shading="nearest", cmap=ListedColormap(colours), norm=norm)
        ax.figure.colorbar(mesh, ax=ax).set_ticks(range(n), labels=labels)
    else:
        mesh = ax.pcolormesh(x, y, da.values, shading="nearest")
        ax.figure.colorbar(mesh, ax=ax, label=_label(var, da.attrs.get("units", "")))
    handles = _hatches(ds, var, ax, x, y) + _row_lines(ds, ax, xdim, ydim)
    if handles:  # below the axes, clear of the x label: the colour bar holds the right side
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="x-small")
    ax.set_xlabel(_label(xdim, ds[xdim].attrs.get("units", "")))
    ax.set_ylabel(_label(ydim, ds[ydim].attrs.get("units", "")))


def _hatches(ds, var, ax, x, y):
    """Hatch the flagged points and, on a continuation map, the bistable, transient and
    unsettled ones; a legend handle for each kind present."""
    from matplotlib.patches import Patch

    flagged = _flagged(ds, var)
    marks = [(flagged, "///", f"{int(flagged.sum())} flagged (status ≠ 0)")]
    if "phase" in ds and var != "phase" and ds["phase"].dims == ds[var].dims:
        phase = ds["phase"].values
        marks += [
            (phase == 2, "\\\\", "bistable (normal stable, a paired state coexists)"),
            (phase == 3, "..", "transient (normal unstable, the pairing burst decays; T = 0)"),
            (phase == 4, "xx", "unsettled (normal unstable, no stable stationary state)"),
        ]
    handles = []
    for mask, pattern, label in marks:
        if mask.any():
            hatch = ax.pcolor(x, y, np.ma.masked_where(~mask, np.ones(mask.shape)), shading="nearest")
            hatch.set(facecolor="none", edgecolor="0.15", linewidth=0.0, hatch=pattern)
            handles.append(Patch(facecolor="none", edgecolor="0.15", hatch=pattern, label=label))
    return handles


def _row_lines(ds, ax, xdim, ydim):
    """The per-row V_c, V* (and quench) lines of a continuation map where they have values:
    light on a dark edge or dark on a light one, visible on any colour."""
    from matplotlib.patheffects import withStroke

    handles = []
    for name, style, suffix, meaning, _, colour in _ROW_LINES:
        if name in ds and ds[name].ndim == 1 and ds[name].dims[0] in (xdim, ydim):
            line, other = ds[name].values, ds[ds[name].dims[0]].values
            if np.isfinite(line).any():
                xy = (line, other) if ds[name].dims[0] == ydim else (other, line)
                label = f"{_row_symbol(ds, suffix)} ({meaning})"
                stroke = [withStroke(linewidth=2.8, foreground="k" if colour == "w" else "w")]
                handles += ax.plot(*xy, style, color=colour, lw=1.3, path_effects=stroke, label=label)
    return handles


def plot_landscape(params, T=0.0, ax=None, *, Q_max=None, num=400):
    """The adiabatic landscape E(Q) − E(0) (T = 0) or F(Q, T) − F(0, T) of paper 2 (Fig. 3a),
    with Q_B and Q_MS marked. Units: ω and ℓ0."""
    from .longlived.metastability import analyze, landscape

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
    ax.set_xlabel(r"$Q$ [$\ell_0$]")
    ax.set_ylabel(r"$E(Q) - E(0)$ [$\hbar\omega$]" if T == 0 else r"$F(Q,T) - F(0,T)$ [$\hbar\omega$]")
    ax.set_title(f"regime: {_REGIMES[int(r.regime)]}", fontsize="medium")
    if np.isfinite(q_ms):
        _legend_right(ax)
    return fig


def plot_free_energy_map(params, T=0.0, ax=None, *, Q_max=2.0, Delta_max=None, num=120):
    """F(Δ, Q) = ½Q² + F_SC(Δ; U(Q), T) per site (paper 2, Fig. 3b), phonon units."""
    import jax

    from .longlived import bcs
    from .longlived.attraction import coupling

    q = np.linspace(0.0, Q_max, num)
    lam_q = np.asarray(coupling(q, params.DeltaE, params.nu, params.G, params.lam0))
    D_max = Delta_max or 1.5 * float(bcs.zero_temperature_gap(float(np.max(lam_q))))
    D = np.linspace(0.0, D_max, num)
    F = jax.vmap(lambda l: jax.vmap(lambda d: bcs.free_energy(d, l, T, nu=float(params.nu)))(D))(lam_q)
    F = np.asarray(F) + 0.5 * q[:, None] ** 2
    fig, ax = _axes(ax)
    mesh = ax.pcolormesh(D, q, F - F[0, 0], shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=r"$F - F(0,0)$ [$\hbar\omega$]")
    ax.set_xlabel(r"$\Delta$ [$\hbar\omega$]")
    ax.set_ylabel(r"$Q$ [$\ell_0$]")
    return fig


def plot_trapped_gap(lam, T, n_star, ax=None, *, nu=1.0):
    """Δ_tr(n*) at fixed quasi-particle number (paper 2, Fig. 4c), with Δ0 for reference."""
    import jax

    from .longlived import bcs
    from .longlived.quasiparticle_trapping import trapped_gap

    n_star = np.asarray(n_star, dtype=float)
    D, _ = jax.vmap(lambda n: trapped_gap(n, lam, T, nu=nu))(n_star)
    fig, ax = _axes(ax)
    ax.plot(n_star, np.asarray(D), label=rf"$\Delta_{{tr}}$ ($\lambda$={lam:g}, T={T:g}$\omega$)")
    ax.axhline(float(bcs.zero_temperature_gap(lam)), color="0.5", ls="--", label=r"$\Delta_0$")
    ax.set_xlabel(r"$n^*$ [$\nu(0)\omega$]")
    ax.set_ylabel(r"$\Delta_{tr}$ [$\hbar\omega$]")
    _legend_right(ax)
    return fig
