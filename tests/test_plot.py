"""Every figure is one call, returns a Figure, and shows what it says it shows: units on every
axis, legends outside the data listing only what is drawn, categories on a discrete labelled
colour bar, the fixed parameters in the title."""

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.colors import BoundaryNorm, to_rgba

import photosc_jax as ps
from photosc_jax import plot
from photosc_jax.interband import InterbandState, k_grid
from photosc_jax.interband.effective import fit_effective, pair_occupation
from photosc_jax.sweeps.models import get_model

SMALL_GRID = dict(k_max=0.2, dk=0.01, v=0.3)  # threshold V_c = 2.66 at Ω = 0.25


@pytest.fixture(scope="module")
def paired():
    """An evolution at V = 5 that has reached the paired steady state (N = 41)."""
    return ps.evolve(ps.InterbandParams(**SMALL_GRID), 4000.0, saveat=41)


def legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def assert_legends_outside(fig):
    """No legend overlaps any axes (data area or colour bar) or any axis label of `fig`."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    assert legends, "expected a legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for a in fig.axes:
            assert not box.overlaps(a.bbox), f"legend {legend_texts(legend.axes)} covers an axes"
            for label in (a.xaxis.label, a.yaxis.label):
                if label.get_text():
                    assert not box.overlaps(label.get_window_extent(renderer)), label.get_text()


def test_plot_delta_units_and_values(paired):
    fig = plot.plot_delta(paired, log=True)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.abs(np.asarray(paired.delta)))
    assert ax.get_xlabel() == r"$t$ [$\hbar/E_g$]" and ax.get_ylabel() == r"$|\Delta|$ [$E_g$]"
    plot.plot_delta(paired, ax=ax, label="second")
    assert_legends_outside(fig)


def test_plot_populations_takes_a_result_or_a_state_and_its_params(paired):
    """The README quick start's `plot_populations(res)`; n11 and n22 in distinct markers so
    both show where they coincide; k in 1/a."""
    a = plot.plot_populations(paired).axes[0]
    b = plot.plot_populations(paired.state, paired.params).axes[0]
    for ax in (a, b):
        n11, n22 = ax.lines
        np.testing.assert_allclose(n11.get_xdata(), np.asarray(k_grid(paired.params)))
        np.testing.assert_allclose(n11.get_ydata(), np.asarray(paired.state.n11))
        np.testing.assert_allclose(n22.get_ydata(), np.asarray(paired.state.n22))
        assert n11.get_marker() != n22.get_marker() and n11.get_markerfacecolor() == "none"
        assert ax.get_xlabel() == r"$k$ [$1/a$]"
    assert_legends_outside(a.figure)
    with pytest.raises(TypeError, match="needs its InterbandParams"):
        plot.plot_populations(paired.state)
    with pytest.raises(TypeError, match="not both"):
        plot.plot_populations(paired, paired.params)


def test_effective_fit_recovers_the_occupation_it_was_made_from():
    p = ps.InterbandParams(**SMALL_GRID)
    n = jnp.asarray(pair_occupation(k_grid(p), 0.07, C=0.15, A1=7.0, A2=24.0))
    zero = jnp.zeros_like(n, dtype=complex)
    fit = fit_effective(InterbandState(n11=n, n22=n, n21=zero, s21=zero), p)
    np.testing.assert_allclose([fit.Delta_t, fit.C], [0.07, 0.15], rtol=1e-6)
    assert fit.rms < 1e-8


def test_effective_overlay_is_the_fit_not_fixed_numbers(paired):
    fit = fit_effective(paired.state, paired.params)
    assert abs(fit.Delta_t - 0.05) > 1e-3 and abs(fit.C - 0.2) > 1e-3  # not the paper's guess
    ax = plot.plot_populations(paired, effective=True).axes[0]
    eff = ax.lines[2]
    expected = pair_occupation(k_grid(paired.params), fit.Delta_t, C=fit.C)
    np.testing.assert_allclose(eff.get_ydata(), np.asarray(expected))
    assert f"{fit.Delta_t:.3f}" in eff.get_label() and f"{fit.C:.3f}" in eff.get_label()
    assert eff.get_label() in legend_texts(ax)


def test_correlators_units_and_legends(paired):
    fig = plot.plot_correlators(paired)
    assert len(fig.axes) == 2
    for ax, name in zip(fig.axes, ("n^{21}_k", "s^{21}_k")):
        assert ax.get_xlabel() == r"$k$ [$1/a$]" and name in ax.get_ylabel()
        assert legend_texts(ax) == [f"Re ${name}$", f"Im ${name}$"]
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), np.asarray(paired.state.s21).imag)
    assert_legends_outside(fig)


def test_demo_figure_fits_a_paired_state_and_leaves_a_normal_one_bare(paired):
    fig = plot.demo_figure(paired)
    title = fig.get_suptitle()
    assert r"$\Omega$ = 0.25" in title and "$V$ = 5" in title and "$dk$ = 0.01" in title
    ax = fig.axes[1]
    fit = fit_effective(paired.state, paired.params)
    assert len(ax.lines) == 3 and f"{fit.Delta_t:.3f}" in ax.lines[2].get_label()
    assert f"{float(paired.delta_abs[-1]):.4g}" in fig.axes[0].get_title()
    assert_legends_outside(fig)
    normal = ps.evolve(ps.InterbandParams(**SMALL_GRID, V=1.0), 500.0, saveat=11)
    fig = plot.demo_figure(normal)
    assert len(fig.axes[1].lines) == 2 and "no Eq. 12 fit" in fig.axes[1].get_title()
    assert "$V$ = 1" in fig.get_suptitle()


# --------------------------------------------------------------------------------------
# Sweeps


def continuation_map():
    """A 2-D (Omega, V) continuation map as `sweep` stores it (CF attrs from the model)."""
    model = get_model("interband", "continuation", "V")
    phase = np.array([[0, 2, 1, 1], [0, 3, 1, 1], [0, 0, 4, 1]], dtype=np.int32)
    status = np.zeros_like(phase)
    status[2, 3] = 4  # one failed solve
    delta = np.where(phase == 1, 0.01, np.nan)  # the paired branch
    ds = xr.Dataset(
        {
            "delta_abs": (("Omega", "V"), delta),
            "phase": (("Omega", "V"), phase),
            "status": (("Omega", "V"), status),
            "threshold": (("Omega",), np.array([2.2, 2.3, 2.4])),
            "branch_end": (("Omega",), np.array([2.1, 2.4, 2.6])),
            "quench_threshold": (("Omega",), np.full(3, np.nan)),  # quench option off
        },
        coords={"Omega": [0.1, 0.25, 0.4], "V": [1.0, 2.0, 3.0, 4.0]},
        attrs={
            "model": "interband",
            "method": "continuation",
            "along": "V",
            "parameter_gamma_ph": 0.02,
            "parameter_A1": 7.0,
        },
    )
    for name in ds.data_vars:
        ds[name].attrs = model.outputs[name].attrs()
    for name in ("Omega", "V"):
        ds[name].attrs = {"long_name": name, "units": "E_g"}
    return ds


def test_phase_diagram_axes_hatches_and_lines():
    ds = continuation_map()
    fig = plot.plot_sweep(ds)
    ax = fig.axes[0]
    assert ax.get_xlabel() == r"$V$ [$E_g$]" and ax.get_ylabel() == r"$\Omega$ [$E_g$]"
    assert fig.axes[1].get_ylabel() == r"$|\Delta|$ [$E_g$]"  # colour bar
    hatched = {c.get_hatch(): np.ma.count(c.get_array()) for c in ax.collections if c.get_hatch()}
    assert hatched == {"///": 1, "\\\\": 1, "..": 1, "xx": 1}
    drawn = {line.get_label() for line in ax.lines}
    assert drawn == {"$V_c$ (growth rate 0)", "$V^*$ (paired branch ends)"}
    np.testing.assert_allclose(ax.lines[0].get_xdata(), ds["threshold"].values)
    assert r"$\Gamma_{ph}$ = 0.02" in ax.get_title() and "$A_1$ = 7" in ax.get_title()
    with pytest.raises(ValueError, match="1-D or 2-D"):
        plot.plot_sweep(ds.expand_dims(T=[0.0, 1.0]))


def test_phase_diagram_legend_lists_only_what_is_drawn_and_stays_off_the_map():
    ds = continuation_map()
    ax = plot.plot_sweep(ds).axes[0]
    texts = legend_texts(ax)
    assert not any("quench" in t for t in texts)  # all-NaN line: not drawn, not listed
    assert len(texts) == 6 and texts[0] == "1 flagged (status ≠ 0)"
    assert_legends_outside(ax.figure)
    quiet = ds.assign(status=ds["status"] * 0, phase=ds["phase"].where(ds["phase"] < 2, 1))
    quiet = quiet.drop_vars(["threshold", "branch_end"])
    assert plot.plot_sweep(quiet).axes[0].get_legend() is None


@pytest.mark.parametrize("var", ["phase", "status"])
def test_categorical_variables_get_a_discrete_labelled_colour_bar(var):
    ds = continuation_map()
    fig = plot.plot_sweep(ds, var)
    ax, cbar = fig.axes
    mesh = ax.collections[0]
    codes = np.unique(ds[var].values)
    meaning = dict(zip(ds[var].attrs["flag_values"], ds[var].attrs["flag_meanings"].split()))
    labels = [t.get_text() for t in cbar.get_yticklabels()]
    assert labels == [meaning[c].replace("_", " ") for c in codes]
    assert isinstance(mesh.norm, BoundaryNorm) and mesh.norm.Ncmap == len(codes)
    np.testing.assert_allclose(cbar.get_yticks(), range(len(codes)))
    # each cell is coloured by its code
    colours = mesh.cmap(mesh.norm(np.asarray(mesh.get_array()))).reshape(*ds[var].shape, 4)
    for i, c in enumerate(codes):
        np.testing.assert_allclose(colours[ds[var].values == c], [mesh.cmap(i)] * (ds[var].values == c).sum())
    if var == "phase":
        assert not [c for c in ax.collections if c.get_hatch() in ("\\\\", "..", "xx")]  # no double marking


def test_metastability_map_has_the_paper_fig2b_colours_and_axes():
    """Paper 2, Fig. 2b: ν(0) across, ΔE up, metastable I green, metastable II blue — whatever
    the order of the sweep's axes; the regimes on a labelled colour bar."""
    model = get_model("metastability")
    regime = np.array([[0, 1, 2], [3, 2, 1]], dtype=np.int32)  # rows: nu, columns: DeltaE
    ds = xr.Dataset(
        {"regime": (("nu", "DeltaE"), regime), "status": (("nu", "DeltaE"), np.zeros_like(regime))},
        coords={"nu": [1.0, 2.0], "DeltaE": [0.5, 1.0, 1.5]},
        attrs={"model": "metastability", "parameter_G": 0.6, "option_T": 0.0},
    )
    for name in ds.data_vars:
        ds[name].attrs = model.outputs[name].attrs()
    fig = plot.plot_sweep(ds)
    ax, cbar = fig.axes
    assert ax.get_xlabel() == r"$\nu(0)\omega$" and ax.get_ylabel() == r"$\Delta E/\omega$"
    assert "$T$ = 0" in ax.get_title() and r"$g\ell_0/\omega$ = 0.6" in ax.get_title()
    mesh = ax.collections[0]
    colours = mesh.cmap(mesh.norm(np.asarray(mesh.get_array()))).reshape(3, 2, 4)  # rows ΔE
    assert tuple(colours[regime.T == 1][0]) == to_rgba("tab:green")
    assert tuple(colours[regime.T == 2][0]) == to_rgba("tab:blue")
    assert [t.get_text() for t in cbar.get_yticklabels()] == [
        "none",
        "metastable I",
        "metastable II",
        "undistorted state unstable",
    ]


def test_line_sweep_is_titled_and_marked_at_the_threshold_and_branch_end():
    """A 1-D cut of a continuation map: the fixed Ω in the title, V_c and V* as lines."""
    ds = continuation_map()
    cut = ds.sel(Omega=0.25)
    fig = plot.plot_sweep(cut, "delta_abs")
    ax = fig.axes[0]
    assert r"$\Omega$ = 0.25" in ax.get_title() and r"$\Gamma_{ph}$ = 0.02" in ax.get_title()
    assert ax.get_xlabel() == r"$V$ [$E_g$]" and ax.get_ylabel() == r"$|\Delta|$ [$E_g$]"
    marks = {line.get_label(): line.get_xdata()[0] for line in ax.lines if line.get_label().startswith("$V")}
    assert marks == {"$V_c$ = 2.3 (growth rate 0)": 2.3, "$V^*$ = 2.4 (paired branch ends)": 2.4}
    assert set(legend_texts(ax)) == set(marks)  # nothing flagged on this row: not listed
    lo, hi = ax.get_xlim()
    assert lo <= 1.0 and hi >= 4.0  # the whole row, its points off the branch (NaN) too
    assert_legends_outside(fig)
    row = ds.sel(Omega=0.4)
    ax = plot.plot_sweep(row, "phase").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["normal", "paired", "unsettled"]
    assert "1 flagged (status ≠ 0)" in legend_texts(ax)


def test_model_two_figures():
    p = ps.MetastabilityParams(1.3, 3.0, 0.6, 0.3)
    fig = plot.plot_landscape(p)
    assert "metastable" in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) >= 3  # E(Q), Q_B, Q_MS
    assert_legends_outside(fig)
    assert len(plot.plot_free_energy_map(p, num=30).axes) == 2  # map + colour bar
    fig = plot.plot_trapped_gap(0.3, 0.02, np.linspace(0.001, 0.2, 8))
    d = fig.axes[0].lines[0].get_ydata()
    assert np.all(np.diff(d) <= 0) and d[0] > 0.95 * 0.0714 and d[-1] == 0  # more qps, smaller gap
    assert_legends_outside(fig)
    plt.close("all")


def test_every_axis_has_units_or_is_dimensionless(paired):
    """Axis labels that name a dimensionful quantity carry a [unit]."""
    p = ps.MetastabilityParams(1.3, 3.0, 0.6, 0.3)
    figs = [
        plot.plot_delta(paired),
        plot.plot_populations(paired),
        plot.plot_correlators(paired),
        plot.plot_landscape(p),
        plot.plot_free_energy_map(p, num=10),
        plot.plot_trapped_gap(0.3, 0.02, np.linspace(0.001, 0.2, 4)),
        plot.plot_sweep(continuation_map()),
    ]
    dimensionless = ("population", "$n^{21}_k$", "$s^{21}_k$")
    for fig in figs:
        for ax in fig.axes:
            for label in (ax.get_xlabel(), ax.get_ylabel()):
                assert not label or "[" in label or label in dimensionless, label
    plt.close("all")
