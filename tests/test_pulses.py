"""Pump pulses (`interband.pulses`): a time-dependent Ω(t) in `evolve`, checked against an
independent integration (the numpy/scipy baseline with the same Ω(t)), exact two-level
limits (Rabi oscillation of a rectangular pulse, the area theorem for a narrow Gaussian late
in a long run), the undriven evolution, gradients against finite differences, and the decay
helper on exact exponentials.

All on the N = 41 grid of `helpers.SMALL`. The Gaussian-pulse evolutions share one compiled
solver (13 save times throughout), which the trace-count test relies on too.
"""

import importlib
import math
import sys
import types
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import SMALL
from helpers import central_difference as fd

import photosc_jax as ps
from photosc_jax.interband import Evolve, Newton, evolve, k_grid, steady_state
from photosc_jax.interband.pulses import (
    ConstantDrive,
    FlatTopPulse,
    FunctionDrive,
    GaussianPulse,
    decay_time,
)
from photosc_jax.interband.steady import state_stationarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scipy_baseline as sb  # noqa: E402

N_SAVE = 13  # one save-time count for every Gaussian evolution: one compilation
# Dissipation-free, unpaired: every k is an independent driven two-level system.
TWO_LEVEL = dict(SMALL, V=0.0, gamma_ph=0.0, gamma_rr=0.0)


def test_gaussian_pulse_matches_the_scipy_baseline():
    """|Δ(t)| and the populations under a Gaussian pump = the numpy/scipy port (full grid,
    RK45, Ω(t) a plain Python function, steps capped below the width). The pump builds the
    inversion; the pairing instability then grows from the 10⁻²⁰ seed by 18 orders of
    magnitude and decays after the pulse."""
    pdict = dict(SMALL, V=5.0)
    amp, tc, width, t_max = 0.25, 700.0, 220.0, 2200.0
    omega = lambda t: amp * math.exp(-0.5 * ((t - tc) / width) ** 2)  # noqa: E731
    tol = dict(rtol=1e-7, atol=1e-10)
    ts, d_np, y1, nfev, _ = sb.solve_baseline(pdict, t_max, n_save=N_SAVE, drive=omega, max_step=50.0, **tol)
    r = evolve(
        ps.InterbandParams(**pdict), t_max, saveat=jnp.asarray(ts), drive=GaussianPulse(amp, tc, width), **tol
    )
    assert bool(r.success) and nfev > 0
    d_jax = np.asarray(r.delta_abs)
    assert d_np.max() > 1e-2 and d_np.min() < 1e-28  # grown from the seed (and decayed in the pulse)
    assert d_np[-1] < 0.5 * d_np.max()  # decaying after the pulse
    # ln|Δ| agrees at every save time (relative error control from the seed on) ...
    np.testing.assert_allclose(np.log(d_jax), np.log(d_np), rtol=0, atol=1e-4)
    paired = d_np > 1e-3  # ... and to 1e-5 relative once paired
    assert paired.sum() >= 3
    np.testing.assert_allclose(d_jax[paired], d_np[paired], rtol=1e-5)
    n = r.params.n_k
    np.testing.assert_allclose(np.asarray(r.state.n11), y1[:n], rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(r.state.n22), y1[n : 2 * n], rtol=0, atol=1e-6)
    assert float(r.n_exc[-1]) > 10.0  # the pump left electrons behind
    np.testing.assert_allclose(float(r.n_exc[-1]), y1[n : 2 * n].sum(), rtol=1e-7)


@pytest.mark.slow  # two compilations (with and without a drive)
def test_constant_drive_reproduces_the_undriven_evolution():
    p = ps.InterbandParams(**SMALL, V=5.0)
    ref = evolve(p, 3000.0, saveat=N_SAVE)
    got = evolve(p, 3000.0, saveat=N_SAVE, drive=ConstantDrive(p.Omega))
    assert abs(complex(ref.delta[-1])) > 1e-2  # paired by t_max: a trajectory through the instability
    np.testing.assert_allclose(np.asarray(got.delta_abs), np.asarray(ref.delta_abs), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(got.n_exc), np.asarray(ref.n_exc), rtol=1e-10)
    for name in ("n11", "n22"):
        np.testing.assert_allclose(getattr(got.state, name), getattr(ref.state, name), rtol=0, atol=1e-10)
    assert got.stats["num_steps"] == ref.stats["num_steps"]


def test_zero_amplitude_excites_nothing_and_new_pulses_reuse_the_solver():
    p = ps.InterbandParams(**SMALL, V=5.0)  # params.Omega = 0.25 must be overridden
    off = evolve(p, 2000.0, saveat=N_SAVE, drive=GaussianPulse(0.0, 500.0, 100.0))
    core = importlib.import_module("photosc_jax.interband.evolve")._evolve
    n0 = eqx.debug.get_num_traces(core)
    on = evolve(p, 2000.0, saveat=N_SAVE, drive=GaussianPulse(0.2, 600.0, 80.0))  # new values
    assert eqx.debug.get_num_traces(core) == n0  # pulse parameters are traced: no recompilation
    assert bool(off.success) and bool(on.success)
    s = off.state
    assert np.max(np.abs(np.asarray(off.n_exc))) < 1e-30
    assert np.max(np.abs(1.0 - np.asarray(s.n11))) < 1e-30
    assert np.max(np.abs(np.asarray(s.n22))) < 1e-30 and np.max(np.abs(np.asarray(s.n21))) < 1e-30
    assert abs(complex(off.delta[-1])) < abs(complex(off.delta[0]))  # the seed only decays
    assert float(on.n_exc[-1]) > 1.0  # the same solver with a finite pulse does excite


def test_rectangular_pulse_is_a_rabi_flop_at_every_k():
    """Without dissipation and pairing each k is a two-level system detuned by
    ε_k = (A2 − A1)k²: a rectangular pulse (ramp = 0) of height Ω and length τ leaves
    n22_k = Ω²/(Ω² + ε²) sin²(√(Ω² + ε²) τ/2). The pulse starts late, after a quiet
    stretch the adaptive solver crosses in large steps."""
    p = ps.InterbandParams(**TWO_LEVEL)
    amp = 0.3
    tau = math.pi / amp  # a π pulse at the resonance k = 0
    pulse = FlatTopPulse(amp, 4000.0, tau, ramp=0.0)
    r = evolve(p, 4100.0, saveat=N_SAVE, drive=pulse, rtol=1e-10, atol=1e-13)
    eps = (p.A2 - p.A1) * np.asarray(k_grid(p)) ** 2
    w = np.sqrt(amp**2 + eps**2)
    exact = amp**2 / w**2 * np.sin(w * tau / 2) ** 2
    assert exact.max() > 0.9 and exact.min() < 0.1
    np.testing.assert_allclose(np.asarray(r.state.n22), exact, rtol=0, atol=1e-8)
    np.testing.assert_allclose(float(pulse.area), amp * tau, rtol=1e-15)


def test_narrow_gaussian_late_in_a_long_run_is_not_stepped_over():
    """A π/2 Gaussian pulse of width 0.03 at t = 3000 (no dissipation), at the loose rtol of
    Newton's warm start (steps ≈ 2, 60 widths): at k = 0 (resonant) n22 = sin²(θ/2) = 1/2,
    θ the pulse area (area theorem). The solver steps to the pulse's edges (the next test
    shows what happens without them)."""
    p = ps.InterbandParams(**TWO_LEVEL)
    width = 0.03
    amp = (math.pi / 2) / (width * math.sqrt(2 * math.pi))
    pulse = GaussianPulse(amp, 3000.0, width)
    np.testing.assert_allclose(float(pulse.area), math.pi / 2, rtol=1e-15)
    r = evolve(p, 3100.0, saveat=N_SAVE, drive=pulse, rtol=1e-4)
    assert abs(float(r.state.n22[p.n_k // 2]) - 0.5) < 1e-5


@pytest.mark.slow
def test_without_edges_the_narrow_pulse_is_stepped_over():
    """Why drives have `edges`: the pulse of the test above as a plain callable (no edges) is
    stepped over by the same solver (n22 stays 0). Pins today's diffrax stepping; if a
    future solver happens to hit the pulse anyway, the edges are still what guarantees it."""
    p = ps.InterbandParams(**TWO_LEVEL)
    width = 0.03
    amp = (math.pi / 2) / (width * math.sqrt(2 * math.pi))
    plain = lambda t: amp * jnp.exp(-0.5 * ((t - 3000.0) / width) ** 2)  # noqa: E731
    blind = evolve(p, 3100.0, saveat=N_SAVE, drive=FunctionDrive(plain), rtol=1e-4)
    assert float(blind.state.n22[p.n_k // 2]) < 1e-6


@pytest.mark.slow
def test_gradient_with_respect_to_pulse_parameters_equals_finite_differences():
    """d ln|Δ(t_max)| and d n_exc(t_max) with respect to the amplitude and the width of a Gaussian
    pump, by reverse mode through the adaptive solve, = central differences."""
    p = ps.InterbandParams(**SMALL, V=5.0)
    t_max = 1600.0

    def observables(pulse):
        r = evolve(p, t_max, saveat=N_SAVE, drive=pulse, rtol=1e-10, atol=1e-12)
        return jnp.stack([jnp.log(r.delta_abs[-1]), r.n_exc[-1]])

    base = GaussianPulse(0.25, 600.0, 200.0)
    jac = jax.jacrev(observables)(base)
    for name, h in [("amplitude", 1e-6), ("width", 1e-4)]:
        g = np.asarray(getattr(jac, name))
        x0 = float(getattr(base, name))
        with_x = lambda x, name=name: observables(eqx.tree_at(lambda q: getattr(q, name), base, x))  # noqa: E731
        ref = np.asarray(fd(with_x, x0, h))
        assert np.all(np.abs(ref) > 1e-3), (name, ref)
        np.testing.assert_allclose(g, ref, rtol=1e-4, err_msg=name)


@pytest.mark.slow
def test_vmap_over_a_batch_of_pulses_equals_a_loop():
    p = ps.InterbandParams(**SMALL, V=5.0)
    widths = jnp.asarray([150.0, 250.0, 400.0])

    def run(w):
        r = evolve(p, 2500.0, saveat=N_SAVE, drive=FlatTopPulse(0.25, 100.0, 4.0 * w, ramp=w / 2))
        return r.delta_abs, r.n_exc

    d_batch, n_batch = jax.vmap(run)(widths)
    for i, w in enumerate(widths):
        d, n = run(float(w))
        np.testing.assert_allclose(np.asarray(d_batch[i]), np.asarray(d), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(n_batch[i]), np.asarray(n), rtol=1e-6)
    assert float(n_batch[2, -1]) != pytest.approx(float(n_batch[0, -1]), rel=1e-3)


@pytest.mark.slow
def test_steady_state_detector_waits_for_the_end_of_the_pulse():
    """The initial state is stationary until the pump arrives: the detector is armed at
    t_end only. After a pump at V = 0 the state settles (T = 0: a Pauli-blocked
    inversion survives, the phonons and the vertical recombination cannot empty band 2)."""
    p = ps.InterbandParams(**SMALL, V=0.0)
    late = GaussianPulse(0.0, 3000.0, 10.0)
    quiet = steady_state(p, Evolve(t_max=5000.0), drive=late)
    assert bool(quiet.success)
    assert float(late.t_end) <= float(quiet.t) < float(late.t_end) + 1.0
    pump = GaussianPulse(0.25, 500.0, 100.0)
    ss = steady_state(p, Evolve(t_max=40000.0), drive=pump)
    assert bool(ss.success) and float(ss.t) > float(pump.t_end)
    after = state_stationarity(ss.state, eqx.tree_at(lambda q: q.Omega, p, 0.0))
    assert float(after.populations) < 1e-6  # stationary without the drive
    assert float(jnp.sum(ss.state.n22)) > 1.0  # electrons left in band 2


def _synthetic(ts, d):
    return types.SimpleNamespace(ts=jnp.asarray(ts), delta_abs=jnp.asarray(d), drive=None)


def test_decay_time_is_exact_on_exponentials():
    ts = np.linspace(0.0, 1000.0, 41)  # spacing 25
    t_off, tau, d0 = 300.0, 137.0, 0.02
    rise = d0 * np.exp((ts - t_off) / 40.0)
    decay = d0 * np.exp(-(ts - t_off) / tau)
    got = decay_time(_synthetic(ts, np.where(ts < t_off, rise, decay)), t_off)
    np.testing.assert_allclose(float(got), tau, rtol=1e-12)
    # t_off between save points: exact where ln|Δ| is linear across it.
    np.testing.assert_allclose(float(decay_time(_synthetic(ts, decay), 310.0)), tau, rtol=1e-12)
    # Pairing that still grows after the drive: τ counts from t_off, through the peak.
    t_peak = 500.0
    bump = d0 * np.exp(np.where(ts < t_peak, (ts - t_peak) / 30.0, -(ts - t_peak) / tau))
    np.testing.assert_allclose(
        float(decay_time(_synthetic(ts, bump), t_off)), t_peak - t_off + tau, rtol=1e-12
    )
    # Batched, with a batch of drive ends; other decay factors.
    batch = decay_time(_synthetic(np.stack([ts, ts]), np.stack([decay, decay])), jnp.asarray([t_off, t_off]))
    np.testing.assert_allclose(np.asarray(batch), [tau, tau], rtol=1e-12)
    np.testing.assert_allclose(
        float(decay_time(_synthetic(ts, decay), t_off, factor=10.0)), tau * math.log(10.0)
    )
    # Undefined: no decay by e within the run, no pairing at all, t_off outside the run.
    assert np.isnan(float(decay_time(_synthetic(ts, d0 * np.exp(-(ts - t_off) / 5000.0)), t_off)))
    assert np.isnan(float(decay_time(_synthetic(ts, 1e-15 * np.exp(-(ts - t_off) / tau)), t_off)))
    assert np.isnan(float(decay_time(_synthetic(ts, decay), 1500.0)))


def test_pulse_shapes():
    g = GaussianPulse(0.3, 100.0, 10.0)
    np.testing.assert_allclose(float(g(110.0)), 0.3 * math.exp(-0.5), rtol=1e-15)
    assert float(g(g.t_end)) < 2e-8 * 0.3
    f = FlatTopPulse(0.2, 50.0, 100.0, ramp=20.0)
    ts = jnp.linspace(0.0, 250.0, 25_001)
    area = float(jnp.sum(jax.jit(jax.vmap(f))(ts)) * (ts[1] - ts[0]))
    np.testing.assert_allclose(area, float(f.area), rtol=1e-6)  # = amplitude · FWHM
    assert float(f(60.0)) == pytest.approx(0.1) and float(f(160.0)) == pytest.approx(0.1)  # FWHM
    assert float(f(f.t_end)) == 0.0 and float(f(49.0)) == 0.0 and float(f(100.0)) == pytest.approx(0.2)
    assert float(jax.grad(f)(50.0 + 1e-9)) == pytest.approx(0.0, abs=1e-9)  # C¹ ramps
    assert float(ConstantDrive(0.25)(123.0)) == 0.25


def test_invalid_pulses_and_drives_raise():
    with pytest.raises(ValueError, match="width"):
        GaussianPulse(0.25, 100.0, -5.0)
    with pytest.raises(ValueError, match="amplitude"):
        GaussianPulse(float("nan"), 100.0, 5.0)
    with pytest.raises(ValueError, match="at least the ramp"):
        FlatTopPulse(0.25, 0.0, 10.0, ramp=20.0)
    with pytest.raises(ValueError, match="ramp"):
        FlatTopPulse(0.25, 0.0, 100.0, ramp=-1.0)
    with pytest.raises(ValueError, match="duration"):
        FlatTopPulse(0.25, 0.0, 0.0, ramp=0.0)
    with pytest.raises(ValueError, match="finite"):
        ConstantDrive(float("inf"))
    p = ps.InterbandParams(**SMALL)
    with pytest.raises(ValueError, match="callable"):
        evolve(p, 10.0, drive=0.25)
    with pytest.raises(ValueError, match="one scalar"):
        evolve(p, 10.0, saveat=3, drive=lambda t: jnp.stack([t, t]))
    with pytest.raises(ValueError, match="Evolve"):
        steady_state(p, Newton(), drive=GaussianPulse(0.25, 100.0, 10.0))
    with pytest.raises(ValueError, match="t_end"):
        steady_state(p, drive=lambda t: 0.25 + 0.0 * t)
    with pytest.raises(ValueError, match="never ends"):
        decay_time(_synthetic([0.0, 1.0], [1.0, 0.1]), ConstantDrive(0.25).t_end)
    with pytest.raises(ValueError, match="pass t_off"):
        decay_time(_synthetic([0.0, 1.0], [1.0, 0.1]))
