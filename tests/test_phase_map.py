"""Phase maps by continuation (`sweep(..., method="continuation")`, `interband.phase_map`):
the row's threshold is `critical_V`, the continued branch is the root `continuation` (Newton
in the co-rotating frame) finds, the phases follow the normal state's growth rate, and the map agrees
with time evolution wherever evolution reaches a paired fixed point. One compiled shape
(2 rows of 12 V values on the small grid) serves every test."""

import dataclasses
import os
import warnings

import numpy as np
import pytest
import xarray as xr

import photosc_jax as ps
from photosc_jax.interband.phase_map import PHASES
from photosc_jax.sweeps import StoreMismatchError, open_sweep, sweep

# its module-scoped fixtures are computed once: keep the module on one xdist worker
pytestmark = pytest.mark.xdist_group("phase_map")

TINY = dict(k_max=0.2, dk=0.01, v=0.3)
OMEGA = [0.15, 0.3]
V = np.linspace(0.5, 8.0, 12)
KW = dict(method="continuation", fixed=TINY, chunk_size=24, progress=False)


def _arrays(row) -> dict[str, np.ndarray]:
    """A `PhaseRow`'s fields (and its `status`) as NumPy arrays, by name."""
    out = {f.name: np.asarray(getattr(row, f.name)) for f in dataclasses.fields(row) if f.name != "result"}
    return dict(out, status=np.asarray(row.status))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("pm") / "map.zarr"
    sweep("interband", {"Omega": OMEGA, "V": V}, out=str(path), **KW)
    return path


def test_threshold_and_branch_are_those_of_critical_V_and_continuation(store):
    ds = open_sweep(store)
    assert ds.attrs["along"] == "V" and ds.attrs["method"] == "continuation"
    for i, om in enumerate(OMEGA):
        p = ps.InterbandParams(**TINY, Omega=om)
        assert float(ds["threshold"].values[i]) == pytest.approx(float(ps.interband.critical_V(p)), abs=1e-10)
        ref = ps.interband.continuation(p, "V", V[::-1])  # the package's own scan, downward
        ref_d = np.asarray(ref.delta_abs)[::-1]
        on = np.isfinite(ds["delta_abs_paired"].values[i])
        assert on.sum() >= 6  # a real branch was followed
        np.testing.assert_allclose(ds["delta_abs_paired"].values[i][on], ref_d[on], rtol=1e-8)
        np.testing.assert_allclose(ds["mu"].values[i][on], np.asarray(ref.mu)[::-1][on], rtol=1e-8)
        assert np.all(ref_d[~on] == 0.0)  # off the branch the steady state is normal
        g = ds["growth_rate"].values[i]
        assert np.all(np.diff(g[g > 0]) > 0)  # g grows with V above threshold
        thr = ds["threshold"].values[i]
        assert np.all((g > 0) == (V > thr))  # the threshold is the sign change of g


def test_phases_follow_the_growth_rate_and_the_branch(store):
    ds = open_sweep(store)
    phase, g = ds["phase"].values, ds["growth_rate"].values
    on = np.isfinite(ds["delta_abs_paired"].values)
    assert set(np.unique(phase)) <= set(PHASES)
    np.testing.assert_array_equal(phase == 1, on & (g > 0))  # paired
    np.testing.assert_array_equal(phase == 2, on & (g < 0))  # bistable
    np.testing.assert_array_equal(phase == 0, ~on & (g < 0))  # normal
    assert np.all(ds["delta_abs"].values[phase == 0] == 0.0)
    np.testing.assert_array_equal(
        ds["delta_abs"].values[phase == 1], ds["delta_abs_paired"].values[phase == 1]
    )
    assert np.all(ds["status"].values == 0) and (phase == 1).sum() >= 10 and (phase == 0).sum() >= 4
    # the branch end lies between its last grid point and the next one, above the threshold
    for i in range(len(OMEGA)):
        end, last = ds["branch_end"].values[i], V[on[i]].min()
        assert V[V < last].max() < end <= last and end >= ds["threshold"].values[i]


def test_paired_points_agree_with_time_evolution(store):
    """Every point that evolution from the paper's initial state flags as a paired fixed
    point has the same |Δ| to 1e-6 in the continuation map (the evolution's detector at
    1e-8, above the integrator's noise floor at rtol 1e-8)."""
    ds = open_sweep(store)
    ev = sweep(
        "interband",
        {"Omega": OMEGA, "V": V[[5, 8, 11]]},
        method="evolve",
        fixed=TINY,
        options=dict(t_max=30000.0, rtol=1e-8, atol=1e-11, tol=1e-8),
        chunk_size=6,
        progress=False,
    )
    fixed = (ev["status"].values == 0) & (ev["delta_abs"].values > 0)
    assert fixed.sum() == 6, ev["status"].values
    cont = ds["delta_abs"].values[:, [5, 8, 11]]
    np.testing.assert_allclose(cont[fixed], ev["delta_abs"].values[fixed], rtol=0, atol=1e-6)


def test_the_store_holds_per_row_variables_labelled(store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = xr.open_zarr(store)
    assert ds["threshold"].dims == ("Omega",) and ds["delta_abs"].dims == ("Omega", "V")
    assert ds["phase"].attrs["flag_meanings"].split()[1:] == list(PHASES.values())
    assert ds["threshold"].attrs["units"] == "E_g"
    # options off (quench 0, confirm 0): their variables are not written
    assert "quench_threshold" not in ds and not [n for n in ds if n.startswith("confirm_")]
    again = sweep("interband", {"Omega": OMEGA, "V": V}, out=str(store), **KW)
    assert again.attrs["chunks_computed"] == 0  # resumes like any store
    with pytest.raises(StoreMismatchError, match="method"):
        sweep(
            "interband",
            {"Omega": OMEGA, "V": V},
            out=str(store),
            method="evolve",
            fixed=TINY,
            chunk_size=24,
            progress=False,
        )
    # continuation is the default for a swept interband grid: the same store resumes
    assert (
        sweep(
            "interband", {"Omega": OMEGA, "V": V}, out=str(store), fixed=TINY, chunk_size=24, progress=False
        ).attrs["chunks_computed"]
        == 0
    )


def test_confirmation_by_evolution_recovers_paired_points_the_walk_missed(store):
    """With a branch walk crippled on purpose (max_jump 1e-9: no step is accepted, so only
    the cold solve's end is on the branch), the unstable points off the branch are
    classified transient (T = 0); the confirmation evolution from the paper's start reaches
    a paired fixed point there and reclassifies them paired, with the |Δ| of the intact map
    to the detector's accuracy. Stable points are not evolved."""
    import equinox as eqx
    import jax

    from photosc_jax.interband import Continuation, Evolve, PhaseRow
    from photosc_jax.interband.phase_map import NOT_CONFIRMED, phase_row

    ds = open_sweep(store)
    p = eqx.tree_at(lambda q: q.V, ps.InterbandParams(**TINY, Omega=OMEGA[1]), jax.numpy.asarray(V))
    row = jax.jit(lambda q, m: phase_row(q, "V", Continuation(max_jump=1e-9, confirm=m)))
    r = row(p, Evolve(t_max=3e4, rtol=1e-8, atol=1e-11, tol=1e-8))
    assert isinstance(r, PhaseRow) and bool(np.all(r.success))
    out = _arrays(r)
    intact = ds["delta_abs"].values[1]
    on = np.isfinite(out["delta_abs_paired"])
    assert on.sum() == 1 and on[-1]  # the walk did not move from V = 8
    evolved = out["confirm_status"] != NOT_CONFIRMED
    np.testing.assert_array_equal(evolved, (out["growth_rate"] > 0) & ~on)
    assert evolved.sum() >= 5 and np.all(out["confirm_status"][evolved] == 0)  # successful: fixed points
    np.testing.assert_array_equal(out["phase"], ds["phase"].values[1])  # all reclassified paired
    np.testing.assert_allclose(out["delta_abs"], intact, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out["confirm_delta_abs"][evolved], intact[evolved], rtol=0, atol=1e-6)
    assert np.all(out["confirm_peak"][evolved] >= out["confirm_delta_abs"][evolved])
    assert np.all(np.isnan(out["confirm_delta_abs"][~evolved]))
    # (only transient or unsettled points are evolved, so the crippled walk had left these
    # transient; the store's intact map has them paired without any evolution)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPU cores")
def test_worker_processes_fill_the_same_map(store, capsys):
    """Rows spread over two pinned worker processes (`sweep.workers`, what `photosc sweep`
    does on a multi-core CPU) give the one-process map (to rounding: a chunk is one row
    here, two in the fixture's store), and the parent's progress bar, fed by the workers'
    marks, ends at every point."""
    import glob
    import tempfile

    scratch = lambda: set(glob.glob(os.path.join(tempfile.gettempdir(), "photosc-worker*")))  # noqa: E731
    before = scratch()
    one = open_sweep(store)
    two = sweep(
        "interband", {"Omega": OMEGA, "V": V}, workers=2, **{**KW, "chunk_size": 12, "progress": True}
    )
    assert two.attrs["workers"] == 2 and two.attrs["chunks_computed"] == 2
    assert "| 24/24 [" in capsys.readouterr().err.split("\r")[-1]  # the bar's last state
    assert scratch() == before  # logs, the compile gate and its cache are removed
    for name in one.data_vars:
        a, b = two[name].values, one[name].values
        if a.dtype.kind == "i":
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-15, err_msg=name)


def test_compile_gate(tmp_path, monkeypatch):
    """A worker waits at the gate for the parent's compilation, for a stop request (then
    it compiles nothing), or at most GATE_TIMEOUT (`sweep.workers`)."""
    import time

    from photosc_jax.sweeps import workers

    gate = workers.CompileGate(tmp_path / "compiled")
    monkeypatch.setattr(workers, "GATE_TIMEOUT", 0.3)
    t = time.monotonic()
    gate.wait()  # closed gate: waits out the timeout
    assert 0.3 <= time.monotonic() - t < 5.0
    monkeypatch.setattr(workers, "GATE_TIMEOUT", 60.0)
    t = time.monotonic()
    stopped = workers.CompileGate(gate.path, stop=lambda: True)  # Ctrl-C while waiting
    assert stopped.program(None, None) is None and time.monotonic() - t < 1.0
    assert not gate.path.exists()


def test_the_progress_counts_the_chunks_a_worker_wrote_just_before_it_ended(tmp_path):
    """The parent's progress (`workers.finished`, polled by `workers.wait`) sees the chunks
    a worker marked done right before it exited, between two polls: `wait` polls once more
    after the last worker ended, before it removes the marks."""
    import subprocess
    import sys

    from photosc_jax.sweeps import workers

    done, log = tmp_path / workers.MARKS, tmp_path / "worker-0.log"
    done.mkdir()
    log.write_text('{"chunks_computed": 2, "interrupted": 0}\n')
    script = f"import pathlib; [pathlib.Path({str(done)!r}, c).touch() for c in '37']"
    proc = subprocess.Popen([sys.executable, "-c", script])
    crew = [workers.Worker((0, 1), proc, log)]
    seen = []
    assert workers.wait(crew, poll=lambda: seen.append(workers.finished(crew))) == (2, False)
    assert seen[0] == set() and seen[-1] == {3, 7}  # (the first poll: before the marks)


def test_a_file_made_while_the_scratch_folder_is_removed_does_not_keep_it(tmp_path, monkeypatch):
    """`workers.release` (also what SIGTERM runs) removes a sweep's temporary folder although a
    file appeared in it during the removal (another thread opening the compile gate)."""
    import shutil

    from photosc_jax.sweeps import workers

    folder = tmp_path / "photosc-workers-x"
    (folder / "claims").mkdir(parents=True)
    real, calls = shutil.rmtree, []

    def racing(path, ignore_errors=False):
        calls.append(path)
        if len(calls) == 1:  # the gate's file appears while the folder is emptied: it stays
            real(path / "claims")
            (path / "compiled").touch()
        else:
            real(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(workers.shutil, "rmtree", racing)
    workers.release(folder)
    assert not folder.exists() and len(calls) == 2


def test_compiled_program_loads_in_a_fresh_process(tmp_path):
    """The parent's freshly compiled chunk program, saved at the gate, runs in a new process
    that never traced it — also LAPACK calls (LU, eig), which crash a freshly loaded program
    unless their targets are registered first — and is refused for other arguments; one
    taken from the persistent compilation cache is not saved (it cannot be re-serialized).
    Chunks are claimed once."""
    import subprocess
    import sys

    import jax
    import jax.numpy as jnp

    from photosc_jax.sweeps import workers

    def f(a):
        return jnp.sum(jnp.linalg.eigvals(a).real) + jnp.sum(jax.scipy.linalg.lu_factor(a)[0])

    a = 2.0 * jnp.eye(4) + 0.1
    gate = workers.CompileGate(tmp_path / "compiled")
    gate.compile(jax.jit(f), a)
    assert gate.path.exists() and gate.saved.exists()
    assert gate.load(jnp.eye(5)) is None  # another shape: the worker compiles itself
    if jax.config.jax_compilation_cache_dir:  # (the tests run with a cache: conftest)
        least = jax.config.jax_persistent_cache_min_compile_time_secs
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        try:
            g = jax.jit(lambda a: f(a) + 1.0)
            workers.CompileGate(tmp_path / "first").compile(g, a)  # fresh: saved, and cached
            jax.clear_caches()  # this process forgets it: the next compile reads the disk cache
            again = workers.CompileGate(tmp_path / "again")
            again.compile(g, a)
        finally:
            jax.config.update("jax_persistent_cache_min_compile_time_secs", least)
        assert (tmp_path / "first.program").exists()
        assert again.path.exists() and not again.saved.exists()
    code = (
        "import photosc_jax, jax.numpy as jnp; from pathlib import Path; "
        "from photosc_jax.sweeps.workers import CompileGate; a = 2.0 * jnp.eye(4) + 0.1; "
        f"run = CompileGate(Path({str(gate.path)!r})).load(a); print(float(run(a)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip().splitlines()[-1]) == pytest.approx(float(f(a)), rel=1e-12)
    (tmp_path / "claims").mkdir()
    claims = workers.Claims(tmp_path / "claims")
    assert claims(3) and not claims(3) and claims(4)


def test_row_method_needs_a_swept_row_axis():
    with pytest.raises(ValueError, match="not swept"):
        sweep("interband", {"Omega": OMEGA}, along="V", **KW)
    with pytest.raises(ValueError, match="no method"):
        sweep("metastability", {"DeltaE": [1.0], "nu": [1.0]}, method="continuation", progress=False)


@pytest.mark.slow
@pytest.mark.heavy
def test_vmapped_rows_equal_sequential_rows(store):
    """The accelerator path (a chunk's rows in one vmapped solve) gives the CPU path's map."""
    seq = open_sweep(store)
    vec = sweep("interband", {"Omega": OMEGA, "V": V}, vmap_width=None, **KW)
    np.testing.assert_array_equal(vec["phase"].values, seq["phase"].values)
    for name in ("delta_abs_paired", "growth_rate", "threshold"):
        np.testing.assert_allclose(vec[name].values, seq[name].values, rtol=1e-8, err_msg=name)


def test_branch_end_extrapolates_a_closing_branch_but_not_a_fold():
    """The walk's end (`branch.branch_end`): where |Δ|² falls linearly to 0 at V* = 2 (|Δ|² =
    V − 2), a walk stopped at 2.01 after accepting 2.02, its last try 2.01 → 2.002 rejected
    by the jump test (|Δ| halved and more), puts the end at V* exactly; a failed step of
    0.006 (which the jump test at max_jump = 0.5 passes) bounds the end to within 0.008,
    short of V*, and then the last accepted value is the end (at max_jump = 0.3 the bound is
    0.0118 and V* is the end); where |Δ| falls but stays finite (a fold) the last accepted
    value is the end; so it is for a walk still alive."""
    import jax.numpy as jnp

    from photosc_jax.interband.branch import BranchState, branch_end

    def walk(d1, d2, hf, alive=False):  # a walk's final state (only these fields matter)
        x, no = jnp.zeros(3), jnp.asarray(False)
        at = lambda v: jnp.asarray(v, float)  # noqa: E731
        return BranchState(
            x1=x, x2=x, t1=at(2.01), t2=at(2.02), d1=at(d1), d2=at(d2), lu=(), have2=jnp.asarray(True),
            alive=jnp.asarray(alive), fresh=no, stale=no, cold=no, xf=x, xg=x, tg=at(2.01), hf=at(hf),
        )  # fmt: skip

    root = (0.01**0.5, 0.02**0.5)
    assert float(branch_end(walk(*root, -0.008), 0.5)) == pytest.approx(2.0, abs=1e-12)
    assert float(branch_end(walk(*root, -0.006), 0.5)) == 2.01
    assert float(branch_end(walk(*root, -0.006), 0.3)) == pytest.approx(2.0, abs=1e-12)
    assert float(branch_end(walk(0.099, 0.1, -0.008), 0.5)) == 2.01  # fold
    assert float(branch_end(walk(*root, -0.008, alive=True), 0.5)) == 2.01


@pytest.mark.slow
def test_the_branch_ends_above_the_threshold_at_omega_025():
    """Paper grid, T = 0, Ω = 0.25 (what an independent check found): the normal state is
    unstable from V_c = 2.1865, but the paired branch, continued down from V = 8, ends only
    at V* ≈ 2.293 with |Δ|² → 0 linearly, and is linearly stable at both ends (growth rate
    < 0); between V_c and V* no paired steady state exists (transient at T = 0: evolution
    from the paper's start bursts and decays, `test_pairing_burst_decays_below_the_branch_end`),
    above V* the points are paired.

    What 'transient' means, by time evolution (the `confirm` evolution from the paper's
    initial state at the three transient points, to t = 2.4·10⁵): at V = 2.25 and 2.28 the
    seeded normal state is unstable, |Δ| bursts to ~8·10⁻⁴ and then decays (by 3·10⁴ and by
    10² by then: still decaying, not a fixed point) into another normal state; at V = 2.2, just
    above V_c, the burst has not started by then."""
    import equinox as eqx
    import jax

    from photosc_jax.interband import Continuation, Evolve
    from photosc_jax.interband.outcomes import RESULTS, code
    from photosc_jax.interband.phase_map import NOT_CONFIRMED, phase_row

    V_row = np.array([2.1, 2.2, 2.25, 2.28, 2.3, 2.32, 2.35, 2.4, 3.0, 4.0, 6.0, 8.0])
    p = eqx.tree_at(lambda q: q.V, ps.InterbandParams(Omega=0.25), jax.numpy.asarray(V_row))
    row = jax.jit(lambda q, m: phase_row(q, "V", Continuation(quench=True, confirm=m)))
    out = _arrays(row(p, Evolve(t_max=2.4e5)))
    assert out["threshold"] == pytest.approx(2.18654, abs=1e-5)
    assert 2.290 < out["branch_end"] < 2.297
    # with 10 halvings the walk's last point on the branch is 2.29353 (an upper bound on
    # V*); with 6 halvings 2.29563, and |Δ|² → 0 extrapolated from there 2.29343
    assert out["branch_end"] == pytest.approx(2.2934, abs=1.5e-4)
    np.testing.assert_array_equal(out["phase"], [0, 3, 3, 3] + [1] * 8)
    assert -1e-3 < out["branch_growth"] < -1e-5  # stable, and weakly so near |Δ| → 0
    d2 = out["delta_abs_paired"][4:7] ** 2  # V = 2.3, 2.32, 2.35
    slope, icpt = np.polyfit(V_row[4:7], d2, 1)
    assert -icpt / slope == pytest.approx(out["branch_end"], abs=3e-3)  # |Δ|² → 0 at the end
    np.testing.assert_array_equal(out["delta_abs"][1:4], 0.0)  # transient: ends normal
    assert np.all(np.isnan(out["delta_abs_paired"][1:4]))  # and no paired steady state
    # the paired state at V = 2.3 with its pairs removed relaxes to a normal state whose
    # threshold lies between the branch end and 2.3: unstable at V = 2.3 itself, so the
    # pairs regrow (no bistability at fixed V; an evolution with V = 0 instead of s → 0
    # gives the same state, 2.2964097)
    assert out["quench_threshold"] == pytest.approx(2.29641, abs=1e-5)
    assert out["branch_end"] < out["quench_threshold"] < 2.3
    # the confirmation evolution at the transient points V = 2.2, 2.25, 2.28: still decaying
    # at t_max
    late = int(code(RESULTS.t_max_reached))
    np.testing.assert_array_equal(out["confirm_status"], [NOT_CONFIRMED] + [late] * 3 + [NOT_CONFIRMED] * 8)
    peak, end = out["confirm_peak"][2:4], out["confirm_delta_abs"][2:4]
    assert np.all((1e-4 < peak) & (peak < 1e-3)), peak
    assert end[0] < 1e-4 * peak[0] and end[1] < 0.02 * peak[1], end / peak  # decayed (later near V*)
    # just above V_c (g ≈ 3·10⁻⁴ at V = 2.2) the burst has not even started by t = 2.4·10⁵:
    # evolution cannot tell this point's fate, the map can
    assert out["confirm_delta_abs"][1] < 1e-6 and out["growth_rate"][1] > 0
