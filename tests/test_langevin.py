"""Langevin dynamics of Q (Eq. 6 corrected per docs/model-longlived.md): Boltzmann statistics, trapping."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import photosc_jax  # noqa: F401  (float64)
from photosc_jax.longlived import langevin as LG
from photosc_jax.longlived import metastability as M
from photosc_jax.longlived import trapping as TR

# its module-scoped fixtures are computed once: keep the module on one xdist worker
pytestmark = pytest.mark.xdist_group("langevin")

# Metastable-I example above T_c (λ0 = 0.3 ⇒ T_c ≈ 0.040 ω): ν(0)ω = 3, ΔE/ω = 1.3, gℓ0/ω = 0.6.
PARAMS = M.MetastabilityParams(1.3, 3.0, 0.6, 0.3)
T = 0.06


@pytest.fixture(scope="module")
def bcs():
    res = M.analyze(PARAMS, T, with_T_B=False)
    assert int(res.regime) == 1
    table = TR.bcs_force_table(PARAMS, T, Q_max=1.8, n=541)  # symmetric: [−1.8, 1.8]
    return dict(
        Q_B=float(res.Q_B),
        Q_MS=float(res.Q_MS),
        table=table,
        F_s=float(TR.spinodal_force(table, float(res.Q_B))),
    )


def _mean_and_error(x):
    """Mean over paths and time, with its error from the spread of per-path means."""
    per_path = jnp.mean(x, axis=1)
    return float(jnp.mean(per_path)), float(jnp.std(per_path) / np.sqrt(per_path.shape[0] - 1))


def test_harmonic_equipartition_with_N_eff():
    """F = kQ²/2, drive off: ⟨Q²⟩ = T/(k N_eff) and ⟨P²⟩ = T/N_eff (M = 1), exactly."""
    k, Tb, N = 2.0, 0.1, 10.0
    prm = LG.LangevinParams(gamma=1.0, T=Tb, N_eff=N)
    sol = LG.simulate_ensemble(
        lambda q: 0.5 * k * q**2,
        prm,
        0.0,
        1000.0,
        jax.random.key(0),
        32,
        dt=0.05,
        n_save=4001,
        t_save_from=50.0,
    )
    q2, dq2 = _mean_and_error(sol.Q**2)
    p2, dp2 = _mean_and_error(sol.P**2)
    assert abs(q2 - Tb / (k * N)) < 4 * dq2 and dq2 < 0.02 * Tb / (k * N)
    assert abs(p2 - Tb / N) < 4 * dp2 and dp2 < 0.02 * Tb / N
    # The VirtualBrownianTree path runs too (reverse-mode differentiable variant).
    tree = LG.simulate(
        lambda q: 0.5 * k * q**2, prm, 0.0, 5.0, key=jax.random.key(3), dt=0.05, n_save=11, brownian="tree"
    )
    assert bool(jnp.all(jnp.isfinite(tree.Q))) and float(jnp.std(tree.Q)) > 0
    # Noise off: the oscillator just decays (and nothing random happens).
    det = LG.simulate(lambda q: 0.5 * k * q**2, prm, 0.3, 60.0, n_save=3)
    assert abs(float(det.Q[-1])) < 1e-6


def test_force_table_is_the_autodiff_force(bcs):
    land = TR.bcs_landscape(PARAMS, T)
    for q in (0.1, 0.35, 0.62, 0.98, 1.4, -0.62, -1.4):
        np.testing.assert_allclose(bcs["table"](q), jax.grad(land)(q), atol=2e-4)
    # the default table is symmetric: it covers the mirror well and F′(−Q) = −F′(Q) exactly
    q = jnp.linspace(0.0, 2.5, 26)
    assert bool(jnp.all(bcs["table"](-q) == -bcs["table"](q))) and float(bcs["table"](0.0)) == 0.0
    # At the stationary points found by metastability.analyze the force vanishes.
    assert abs(float(bcs["table"](bcs["Q_B"]))) < 1e-4
    assert abs(float(bcs["table"](bcs["Q_MS"]))) < 1e-4


@pytest.mark.slow
def test_boltzmann_in_the_metastable_bcs_well(bcs):
    """Start at Q_MS, drive off: the stationary law is exp(−N_eff F(Q,T)/T) in the well
    (barrier/T_eff ≈ 14, so escape is negligible). The mean shift from Q_MS and the excess
    variance are anharmonic effects that a harmonic approximation gets wrong."""
    N = 16.0
    T_eff = T / N
    prm = LG.LangevinParams(gamma=1.0, T=T, N_eff=N)
    sol = LG.simulate_ensemble(
        bcs["table"], prm, bcs["Q_MS"], 2100.0, jax.random.key(1), 32, dt=0.05, n_save=8001, t_save_from=100.0
    )
    assert bool(jnp.all(sol.Q > bcs["Q_B"]))  # never escaped
    m1, dm1 = _mean_and_error(sol.Q)
    var, dvar = _mean_and_error((sol.Q - m1) ** 2)
    p2, dp2 = _mean_and_error(sol.P**2)
    land = TR.bcs_landscape(PARAMS, T)
    b1, b2 = np.asarray(LG.boltzmann_moments(land, T_eff, bcs["Q_B"], 1.8, n=401))
    b_var = b2 - b1**2
    assert abs(m1 - b1) < 4 * dm1
    assert abs(var - b_var) < 4 * dvar
    assert abs(p2 - T_eff) < 4 * dp2
    # The check has power: the harmonic approximation at Q_MS is off by many error bars.
    k = float(jax.grad(jax.grad(land))(bcs["Q_MS"]))
    assert abs(bcs["Q_MS"] - b1) > 6 * dm1
    assert abs(T_eff / k - b_var) > 3 * dvar


def test_boltzmann_sampling_of_both_wells(bcs):
    """N_eff = 2 (barriers ~1.5 T_eff): Q hops between −Q_MS, 0 and +Q_MS, and the histogram
    of Q over 16 paths matches exp(−N_eff F/T) normalised on [−1.8, 1.8] (F from the landscape,
    not the table) in every bin to 4 standard errors (error from the spread of per-path
    histograms). The mirror well at −Q_MS holds as much weight as the one at +Q_MS, which a
    table covering only Q ≳ −Q_MS/3 (the former default) cannot give."""
    N = 2.0
    prm = LG.LangevinParams(gamma=1.0, T=T, N_eff=N)
    sol = LG.simulate_ensemble(
        bcs["table"], prm, 0.0, 1000.0, jax.random.key(2), 16, dt=0.05, n_save=2001, t_save_from=50.0
    )
    edges = np.linspace(-1.8, 1.8, 13)
    h = np.stack([np.histogram(np.asarray(q), edges)[0] / q.shape[0] for q in sol.Q])
    p_sim, err = h.mean(axis=0), h.std(axis=0) / np.sqrt(h.shape[0] - 1)
    Qh = np.linspace(0.0, 1.8, 91)
    F_half = np.asarray(jax.vmap(TR.bcs_landscape(PARAMS, T))(jnp.asarray(Qh)))
    Qg, Fg = np.concatenate([-Qh[:0:-1], Qh]), np.concatenate([F_half[:0:-1], F_half])
    w = np.exp(-N * (Fg - Fg.min()) / T)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(Qg))])
    p_B = np.diff(np.interp(edges, Qg, cum)) / cum[-1]
    assert np.all(np.abs(p_sim - p_B) < 4 * err + 1e-3), (p_sim, p_B, err)
    left, right = p_sim[edges[1:] <= -0.3].sum(), p_sim[edges[:-1] >= 0.3].sum()
    assert left > 0.25 and right > 0.25 and abs(left - right) < 4 * np.sqrt(np.sum(err**2))


def test_strong_pulse_traps_weak_pulse_does_not(bcs):
    """A slow Gaussian pulse 10 % above the spinodal force leaves Q in the metastable
    superconducting minimum Q_MS (after the pulse, with thermal noise at N_eff = 1e4); 10 %
    below it, Q returns to 0 for every noise realisation."""
    prm = LG.LangevinParams(gamma=0.5, T=T, N_eff=1e4)

    def run(amp):
        return LG.simulate_ensemble(
            bcs["table"],
            prm,
            0.0,
            1400.0,
            jax.random.key(2),
            4,
            pulse=LG.Pulse(amp * bcs["F_s"], 100.0, 500.0),
            dt=0.05,
            n_save=101,
        )

    strong, weak = run(1.1), run(0.9)
    assert bool(jnp.all(TR.is_trapped(strong, bcs["Q_B"])))
    np.testing.assert_allclose(strong.Q[:, -1], bcs["Q_MS"], atol=0.02)
    assert not bool(jnp.any(TR.is_trapped(weak, bcs["Q_B"])))
    np.testing.assert_allclose(weak.Q[:, -1], 0.0, atol=0.02)


def test_slow_pulse_threshold_is_the_spinodal_force(bcs):
    """For a slow pulse the drive is a quasi-static tilt −aQ: Q crosses the barrier exactly when
    a exceeds max_{Q<Q_B} dF/dQ. The dynamical threshold approaches it from above."""
    prm = LG.LangevinParams(gamma=0.5, T=T, N_eff=1e4)
    F_s = bcs["F_s"]
    thr = float(
        TR.trapping_threshold(bcs["table"], prm, bcs["Q_B"], 100.0, lo=0.8 * F_s, hi=1.3 * F_s, rounds=3)
    )
    assert 0.995 * F_s < thr < 1.01 * F_s
    # The spinodal force is not the barrier height over Q_B (a naive estimate): they differ.
    E_B = float(M.analyze(PARAMS, T, with_T_B=False).E_B)
    assert abs(E_B / bcs["Q_B"] - F_s) > 0.2 * F_s


def test_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="damping"):
        LG.LangevinParams(gamma=-1.0, T=0.1)
    with pytest.raises(ValueError, match="temperature must be finite and >= 0"):
        LG.LangevinParams(gamma=1.0, T=-0.1)
    with pytest.raises(ValueError, match="number of sites"):
        LG.LangevinParams(gamma=1.0, T=0.1, N_eff=0.0)
    with pytest.raises(ValueError, match="pulse width"):
        LG.Pulse(1.0, 0.0, 5.0)
    # positional order (amplitude, duration, t_center), as documented; the shared Gaussian base
    # must not reorder it: one σ from the peak the envelope is e^{-1/2}
    pulse = LG.Pulse(2.0, 3.0, 10.0)
    assert (float(pulse.duration), float(pulse.t_center)) == (3.0, 10.0)
    np.testing.assert_allclose(float(pulse(13.0)), 2.0 * np.exp(-0.5), rtol=1e-15)
    with pytest.raises(ValueError, match="brownian"):
        LG.simulate(
            lambda q: q**2, LG.LangevinParams(1.0, 0.1), 0.0, 1.0, key=jax.random.key(0), brownian="nope"
        )
    with pytest.raises(ValueError, match="t1 > t0"):
        LG.simulate(lambda q: q**2, LG.LangevinParams(1.0, 0.1), 0.0, -1.0)
