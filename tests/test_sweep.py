"""The sweep engine: correctness against direct computation, device sharding, resumable
storage (SIGKILL, corrupt chunks, refused stores), shards from independent processes, CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import zarr

import photosc_jax as ps
from photosc_jax.sweeps import StoreDamagedWarning, StoreMismatchError, open_sweep, sweep

# A tiny interband grid (N = 41) and short runs: the engine, not the physics, is under test.
TINY = dict(k_max=0.2, dk=0.01, v=0.3)
OPTS = dict(t_max=1500.0)
AXES = {"Omega": [0.15, 0.25], "V": [1.0, 4.0, 6.0]}


def _cli(*args, env=None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "photosc_jax", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        **kw,
    )


def _equal(a, b):
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_metastability_sweep_equals_the_vmapped_phase_diagram():
    ds = sweep("metastability", {"DeltaE": "0.2:3:6", "nu": "0.2:4:7"}, chunk_size=8, progress=False)
    assert ds["regime"].dims == ("DeltaE", "nu") and ds["regime"].shape == (6, 7)
    ref = ps.longlived.metastability.phase_diagram(ds.DeltaE.values, ds.nu.values)
    np.testing.assert_array_equal(ds["regime"].values, np.asarray(ref.regime))
    np.testing.assert_allclose(ds["Q_MS"].values, np.asarray(ref.Q_MS), rtol=1e-9)
    assert set(np.unique(ds["regime"].values)) >= {0, 2, 3}  # a non-trivial map
    with pytest.raises(TypeError, match="quiet"):  # progress=False is its one spelling
        sweep("metastability", {"DeltaE": "0.2:3:6", "nu": "0.2:4:7"}, quiet=True)


def test_interband_sweep_equals_single_point_runs_and_flags_failures():
    ds = sweep("interband", AXES, method="evolve", fixed=TINY, options=OPTS, chunk_size=4, progress=False)
    assert ds["delta_abs"].dims == ("Omega", "V")
    # every point against a plain evolution to the time the sweep reached (t_max unless the
    # steady-state detector stopped it earlier): same |Δ|, or both below the normal floor
    for i, om in enumerate(AXES["Omega"]):
        for j, V in enumerate(AXES["V"]):
            t_end = float(ds["t_final"].values[i, j])
            one = ps.evolve(ps.InterbandParams(**TINY, Omega=om, V=V), t_end, saveat=2)
            got, ref = float(ds["delta_abs"].values[i, j]), abs(complex(one.delta[-1]))
            if got == 0.0:
                assert ref < 1e-12, (om, V, ref)
            else:
                assert got == pytest.approx(ref, rel=1e-4), (om, V)
    assert np.all(ds["delta_abs"].values[:, 0] == 0.0)  # V = 1: normal
    assert np.all(ds["delta_abs"].values[:, 2] > 1e-3)  # V = 6: paired
    # a solver failure (step budget; V = 1000, the model's largest, needs ~10⁴ steps) is
    # flagged, the other points of its chunk are intact
    bad = sweep(
        "interband",
        {"V": [5.0, 1000.0]},
        method="evolve",
        fixed=TINY,
        options=dict(t_max=1500.0, max_steps=3000),
        progress=False,
    )
    from photosc_jax.interband.outcomes import RESULTS, code

    assert bad["status"].values[1] == int(code(RESULTS.max_steps_reached))
    assert bad["status"].values[0] != bad["status"].values[1]
    assert np.isnan(bad["delta_abs"].values[1]) and np.isfinite(bad["delta_abs"].values[0])


def test_sharded_sweep_equals_unsharded_point_for_point(tmp_path):
    script = f"""
import jax, json, numpy as np, photosc_jax as ps
from photosc_jax.sweeps import sweep
kw = dict(method="evolve", fixed={TINY!r}, options={OPTS!r}, chunk_size=8, progress=False)
a = sweep("interband", {AXES!r}, **kw)
b = sweep("interband", {AXES!r}, devices=jax.devices()[:1], **kw)
same = all(np.array_equal(a[v].values, b[v].values, equal_nan=True) for v in a.data_vars)
print(json.dumps(dict(n=len(jax.devices()), devices=a.attrs["devices"], same=same)))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == dict(n=4, devices=4, same=True)


def test_store_refuses_other_parameters_and_recomputes_corrupt_chunks(tmp_path):
    store = str(tmp_path / "s.zarr")
    axes = {"DeltaE": "0.5:2:4", "nu": "1:3:4"}
    first = sweep("metastability", axes, out=store, chunk_size=4, progress=False)
    assert first.attrs["chunks_computed"] == 4 and first.attrs["complete"] == 1
    again = sweep("metastability", axes, out=store, chunk_size=4, progress=False)
    assert again.attrs["chunks_computed"] == 0
    with pytest.raises(StoreMismatchError, match="different sweep"):
        sweep("metastability", axes, fixed={"G": 0.5}, out=store, chunk_size=4, progress=False)
    with pytest.raises(StoreMismatchError, match="different sweep"):
        sweep("metastability", {"DeltaE": "0.5:2:5", "nu": "1:3:4"}, out=store, chunk_size=4, progress=False)
    # overwrite one chunk's data with valid-looking numbers: its CRC no longer matches, so
    # it is masked on read and recomputed on resume
    g = zarr.open_group(store, mode="r+")
    g["E_B"][1, :] = 123.0
    with pytest.warns(StoreDamagedWarning, match="chunks 1"):
        damaged = open_sweep(store)
    assert np.all(np.isnan(damaged["E_B"].values[1])) and np.all(damaged["status"].values[1] == -2)
    assert damaged.attrs["complete"] == 0 and damaged.attrs["damaged_chunks"] == "1"
    with pytest.warns(UserWarning):  # the damaged chunk is reported before it is recomputed
        fixed = sweep("metastability", axes, out=store, chunk_size=4, progress=False)
    assert fixed.attrs["chunks_computed"] == 1 and fixed.attrs["chunks_corrupt_recomputed"] == 1
    _equal(fixed, first)


@pytest.mark.slow
def test_two_processes_fill_one_store_like_one_process(tmp_path):
    store = tmp_path / "shards.zarr"
    args = [
        "sweep",
        "interband",
        "--method",
        "evolve",
        "--Omega",
        "0.15,0.25",
        "--V",
        "1,4,6",
        "--k_max",
        "0.2",
        "--dk",
        "0.01",
        "--v",
        "0.3",
        "--t-max",
        "1500",
        "--chunk-size",
        "2",
        "--no-progress",
        "--out",
        str(store),
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "photosc_jax", *args, "--shard", f"{i}/2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=600) == 0, p.stderr.read()
    ds = open_sweep(store)
    assert ds.attrs["complete"] == 1
    ref = sweep("interband", AXES, method="evolve", fixed=TINY, options=OPTS, chunk_size=2, progress=False)
    _equal(ds, ref)


def test_cli_sweep_info_plot(tmp_path):
    store = tmp_path / "fig2b.zarr"
    run = _cli(
        "sweep",
        "metastability",
        "--DeltaE",
        "0.2:3:6",
        "--nu",
        "0.2:4:6",
        "--out",
        str(store),
        "--no-progress",
    )
    assert run.returncode == 0, run.stderr
    info = _cli("info", str(store))
    assert info.returncode == 0 and "1/1 done (checksums verified" in info.stdout and "DeltaE" in info.stdout
    png = tmp_path / "map.png"
    plot = _cli("plot", str(store), "--out", str(png))
    assert plot.returncode == 0, plot.stderr
    assert png.exists() and png.stat().st_size > 10_000
    nc = tmp_path / "map.nc"
    exp = _cli("export", str(store), str(nc))
    assert exp.returncode == 0, exp.stderr
    import xarray as xr

    with xr.open_dataset(nc) as back:
        np.testing.assert_array_equal(back["regime"].values, open_sweep(store)["regime"].values)
        assert back.attrs["model"] == "metastability"
    bad = _cli("sweep", "metastability", "--DeltaE", "0.2:3:6", "--bogus", "1")
    assert bad.returncode == 2 and "Unknown option --bogus" in bad.stderr
    toml = tmp_path / "s.toml"
    toml.write_text('[axes]\nDeltaE = "0.5:1.5:3"\nnu = [1.0, 2.0]\n[fixed]\nG = 0.6\n')
    cfg = _cli("sweep", "metastability", "--config", str(toml), "--no-progress")
    assert cfg.returncode == 0, cfg.stderr


def test_vmapped_batches_equal_sequential_points():
    """The accelerator path (all of a device's points in one vmapped solve) gives the same
    results as the CPU path (one point at a time), up to rounding."""
    kw = dict(method="evolve", fixed=TINY, options=OPTS, chunk_size=4, progress=False)
    seq = sweep("interband", {"V": [1.0, 4.0, 6.0]}, vmap_width=1, **kw)
    vec = sweep("interband", {"V": [1.0, 4.0, 6.0]}, vmap_width=None, **kw)
    assert vec.attrs["vmap_width"] == 3 and seq.attrs["vmap_width"] == 1  # chunk: all 3 points
    np.testing.assert_array_equal(seq["status"].values, vec["status"].values)
    np.testing.assert_allclose(seq["delta_abs"].values, vec["delta_abs"].values, rtol=1e-8)


def test_an_evolution_sweep_point_is_the_steady_state_of_evolve_with_its_defaults():
    """The evolution sweep calls `steady_state(params, Evolve(...))` with the run options as
    the object's fields: one default per knob. At T = 0.005 the point (Ω, V) = (0.25, 6)
    was flagged "not converged" by the sweep's own detector tolerance (1e-7, at the
    integrator's noise floor for rtol 1e-6); with Evolve's (rtol/2) it is a fixed point,
    with the |Δ| and μ that steady_state gives."""
    from photosc_jax.interband import Evolve, steady_state
    from photosc_jax.interband.outcomes import RESULTS, code

    ds = sweep("interband", {"V": [6.0]}, method="evolve", fixed={"Omega": 0.25, "T": 0.005}, progress=False)
    assert ds.attrs["option_tol"] == 5e-7 and ds.attrs["option_t_max"] == Evolve().t_max
    assert int(ds["status"].values[0]) == int(code(RESULTS.successful))
    ss = steady_state(ps.InterbandParams(Omega=0.25, V=6.0, T=0.005), Evolve())
    assert bool(ss.success)
    np.testing.assert_allclose(ds["delta_abs"].values[0], float(ss.delta_abs), rtol=1e-9)
    np.testing.assert_allclose(ds["mu"].values[0], float(ss.mu), rtol=1e-9)
    np.testing.assert_allclose(ds["t_final"].values[0], float(ss.t), rtol=1e-12)


def test_a_method_object_is_its_name_and_its_fields():
    """`sweep(..., method=Evolve(t_max=..., rtol=...))` is `method="evolve"` with those
    fields as run options (tol = rtol/2 as on the object); anything else is refused."""
    from photosc_jax.interband import Evolve, Newton

    a = sweep("interband", {"V": [5.0]}, method=Evolve(t_max=200.0, rtol=1e-7), fixed=TINY, progress=False)
    b = sweep(
        "interband",
        {"V": [5.0]},
        method="evolve",
        options={"t_max": 200.0, "rtol": 1e-7},
        fixed=TINY,
        progress=False,
    )
    assert a.attrs["method"] == "evolve" and a.attrs["option_tol"] == 5e-8
    _equal(a, b)
    with pytest.raises(TypeError, match=r"takes Evolve\(...\), Continuation\(...\)"):
        sweep("interband", {"V": [5.0]}, method=Newton(), progress=False)
    with pytest.raises(TypeError, match="set the run options on the method object"):
        sweep("interband", {"V": [5.0]}, method=Evolve(), options={"t_max": 1.0}, progress=False)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_workers_are_pinned_before_they_import_anything():
    """A worker process is on its own core from its first line, before the package (and with
    it scipy's OpenBLAS, which sizes its threads at load time) is imported, and runs one BLAS
    thread: pinned after the import, the 64 x 64 map ran about 8 times slower."""
    from photosc_jax.sweeps import workers

    core = max(workers.cores())
    start = workers._PINNED_START.format(core=core, report=workers._STOPPED_IDLE)
    assert start.index("sched_setaffinity") < start.index("import _main")
    probe = start.replace(
        "from photosc_jax.sweeps.workers import _main\n_main()",
        "import sys; print(sorted(os.sched_getaffinity(0)), 'scipy' in sys.modules, "
        "os.environ['OPENBLAS_NUM_THREADS'])",
    )
    assert probe != start
    env = workers._worker_env()
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.stdout.split() == [f"[{core}]", "False", "1"], out.stderr
