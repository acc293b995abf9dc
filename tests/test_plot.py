"""Every figure is one call, returns a Figure, and shows what it says it shows."""

import numpy as np
import pytest
import xarray as xr

import photosc_jax as ps
from photosc_jax import plot


def test_interband_figures():
    p = ps.InterbandParams(k_max=0.2, dk=0.01, v=0.3)
    res = ps.evolve(p, 500.0, saveat=51)
    fig = plot.plot_delta(res, log=True)
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), np.abs(np.asarray(res.delta)))
    fig = plot.plot_populations(res.state, p, effective=(0.05, 0.2))
    assert len(fig.axes[0].lines) == 3
    assert len(plot.plot_correlators(res.state, p).axes) == 2
    assert len(plot.demo_figure(res).axes) == 2


def test_phase_diagram_hatches_flagged_points():
    status = np.array([[0, 3], [1, 0]])
    ds = xr.Dataset(
        {
            "delta_abs": (("Omega", "V"), np.array([[0.0, np.nan], [0.01, 0.02]])),
            "status": (("Omega", "V"), status),
        },
        coords={"Omega": [0.1, 0.2], "V": [2.0, 4.0]},
        attrs={"model": "interband"},
    )
    fig = plot.plot_sweep(ds)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("$V$") and ax.get_ylabel().startswith(r"$\Omega$")
    hatched = [c for c in ax.collections if c.get_hatch()]
    assert len(hatched) == 1 and np.ma.count(hatched[0].get_array()) == 2  # two flagged cells
    with pytest.raises(ValueError, match="1-D or 2-D"):
        plot.plot_sweep(ds.expand_dims(T=[0.0, 1.0]))


def test_model_two_figures():
    p = ps.MetastabilityParams(1.3, 3.0, 0.6, 0.3)
    fig = plot.plot_landscape(p)
    assert "metastable" in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) >= 3  # E(Q), Q_B, Q_MS
    assert len(plot.plot_free_energy_map(p, num=30).axes) == 2  # map + colour bar
    fig = plot.plot_trapped_gap(0.3, 0.02, np.linspace(0.001, 0.2, 8))
    d = fig.axes[0].lines[0].get_ydata()
    assert np.all(np.diff(d) <= 0) and d[0] > 0.95 * 0.0714 and d[-1] == 0  # more qps, smaller gap


def test_metastability_map_has_the_paper_fig2b_colours_and_axes():
    """Paper 2, Fig. 2b: ν(0) across, ΔE up, metastable I green, metastable II blue — whatever
    the order of the sweep's axes."""
    from matplotlib.colors import to_rgba

    regime = np.array([[0, 1, 2], [3, 2, 1]], dtype=np.int32)  # rows: nu, columns: DeltaE
    ds = xr.Dataset(
        {"regime": (("nu", "DeltaE"), regime), "status": (("nu", "DeltaE"), np.zeros_like(regime))},
        coords={"nu": [1.0, 2.0], "DeltaE": [0.5, 1.0, 1.5]},
        attrs={"model": "metastability"},
    )
    ax = plot.plot_sweep(ds).axes[0]
    assert ax.get_xlabel() == r"$\nu(0)\omega$" and ax.get_ylabel() == r"$\Delta E/\omega$"
    mesh = ax.collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(3, 2), regime.T)  # rows ΔE
    colour = lambda k: mesh.cmap(mesh.norm(k))  # noqa: E731
    assert colour(1) == to_rgba("tab:green") and colour(2) == to_rgba("tab:blue")
