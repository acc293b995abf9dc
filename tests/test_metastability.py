"""Attraction U(Q) (Eqs. 5, 14) and the metastability landscape (Fig. 2; docs/model-longlived.md)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import photosc_jax  # noqa: F401
from photosc_jax.longlived import attraction as att
from photosc_jax.longlived import bcs
from photosc_jax.longlived import metastability as ms

# one point of each class at G = 0.6, λ0 = 0.3 (K3C60 curve at Z⁻¹ = 3.4, 3.5, 4.5 and Z⁻¹ = 2)
P_I = ms.MetastabilityParams(0.80829, 2.0502)
P_II = ms.MetastabilityParams(0.78506, 2.1105)
P_UNSTABLE = ms.MetastabilityParams(0.61060, 2.7135)
P_NONE = ms.MetastabilityParams(1.37385, 1.206)


def test_eq5_phonon_units_match_dimensional_form():
    M, omega, g, dE, U0, Q = 2.3, 0.7, 0.4, 1.1, 0.05, 0.9
    l0 = 1 / math.sqrt(M * omega)
    U = att.attraction(Q, dE, g, M, omega, U0)
    lam = att.coupling(Q / l0, dE / omega, 1.0, g * l0 / omega, U0 / omega)  # ν(0)ω = 1
    assert abs(float(U) / omega - float(lam)) < 1e-14
    # saturation at g²/Mω² and small-Q limit 4g⁴Q²/(Mω²ΔE²)
    assert abs(float(att.attraction(1e8, dE, g, M, omega)) - g**2 / (M * omega**2)) < 1e-12
    q = 1e-4
    assert float(att.attraction(q, dE, g, M, omega)) == pytest.approx(
        4 * g**4 * q**2 / (M * omega**2 * dE**2), rel=1e-7
    )
    assert float(att.q_of_saturation(att.saturation(0.37, 1.3, 0.6), 1.3, 0.6)) == pytest.approx(0.37)


@pytest.mark.parametrize("d", [0.3, 0.8, 1.7, 4.0])
def test_eq14_ratio_to_small_q_eq5(d):
    G, q2 = 0.6, 1e-10
    osc = att.oscillating_attraction_phonon_units(q2, d, G)
    static = att.coupling(math.sqrt(q2), d, 1.0, G, 0.0)  # U/ω with ν(0)ω = 1, U0 = 0
    assert float(osc / static) == pytest.approx(d**4 / (d**2 - 1) ** 2, rel=1e-5)


def test_eq14_resonance_is_explicit():
    with pytest.raises(ValueError, match="resonance"):
        att.oscillating_attraction(0.1, 1.0, 0.5, 1.0, 1.0)
    assert float(att.oscillating_attraction(0.1, 1.0, 0.5, 1.0, 1.0, on_resonance="inf")) == math.inf
    f = jax.jit(lambda d: att.oscillating_attraction(0.1, d, 0.5, 1.0, 1.0, on_resonance="inf"))
    assert np.isinf(float(f(1.0))) and np.isfinite(float(f(1.01)))
    with pytest.raises(Exception, match="resonance"):
        jax.jit(lambda d: att.oscillating_attraction(0.1, d, 0.5, 1.0, 1.0))(1.0).block_until_ready()


def test_params_validation():
    with pytest.raises(ValueError, match="DeltaE"):
        ms.MetastabilityParams(-1.0, 1.0)
    with pytest.raises(ValueError, match="nu"):
        ms.MetastabilityParams(1.0, 0.0)


@pytest.mark.parametrize("p,regime", [(P_NONE, 0), (P_I, 1), (P_II, 2), (P_UNSTABLE, 3)])
def test_stationary_points(p, regime):
    r = ms.analyze(p, with_T_B=False)
    assert int(r.regime) == regime
    dE = jax.grad(lambda q: ms.landscape(p, q))
    d2E = jax.grad(dE)
    assert float(d2E(0.0)) == pytest.approx(float(r.h0), abs=1e-10)  # E''(0) = h(0)
    if regime == 0:
        assert np.isnan(float(r.Q_MS)) and float(r.h_min) > 0
        return
    assert abs(float(dE(r.Q_MS))) < 1e-9 and float(d2E(r.Q_MS)) > 0
    if regime in (1, 2):
        assert abs(float(dE(r.Q_B))) < 1e-9 and float(d2E(r.Q_B)) < 0
        assert 0 < float(r.Q_B) < float(r.Q_MS)
        assert float(r.E_B) > max(float(r.E_MS), 0.0)
    else:
        assert float(r.Q_B) == 0.0 and float(d2E(0.0)) < 0
    E0 = float(ms.landscape(p, 0.0))
    assert float(r.E_MS) == pytest.approx(float(ms.landscape(p, r.Q_MS)) - E0, abs=1e-13)
    assert (float(r.E_MS) > 0) == (regime == 1)
    assert float(r.Delta_MS) > float(bcs.zero_temperature_gap(p.lam0))


def test_corrected_eq8():
    """Stationarity (ΔE² + 4g²Q²)U = 2√2 (g²/Mω²)ΔE Δ(Q); for U0 = 0, Q² = ΔE Δ/(√2 g²)."""
    p = P_II
    r = ms.analyze(p, with_T_B=False)
    for Q in (r.Q_B, r.Q_MS):
        lam = att.coupling(Q, p.DeltaE, p.nu, p.G, p.lam0)
        lhs = (p.DeltaE**2 + 4 * p.G**2 * Q**2) * lam / p.nu
        rhs = 2 * math.sqrt(2) * p.G**2 * p.DeltaE * bcs.zero_temperature_gap(lam)
        assert float(lhs) == pytest.approx(float(rhs), rel=1e-9)
    p0 = ms.MetastabilityParams(0.5, 3.0, 0.6, 0.0)
    r0 = ms.analyze(p0, with_T_B=False)
    assert int(r0.regime) in (1, 2)
    lam = att.coupling(r0.Q_MS, p0.DeltaE, p0.nu, p0.G, 0.0)
    D = bcs.zero_temperature_gap(lam)
    assert float(r0.Q_MS) ** 2 == pytest.approx(float(p0.DeltaE * D / (math.sqrt(2) * p0.G**2)), rel=1e-9)


def test_classification_flips_where_E_MS_equals_E0():
    """Along ν at fixed d, the class changes from I to II exactly where E(Q_MS) = E(0)."""
    import optimistix as optx

    d = 0.8
    e_ms = lambda nu, _: ms.analyze(ms.MetastabilityParams(d, nu), with_T_B=False).E_MS  # noqa: E731
    nu_star = optx.root_find(
        e_ms, optx.Bisection(rtol=1e-10, atol=1e-13), 2.05, None, options=dict(lower=2.0, upper=2.1)
    ).value
    for nu, regime in ((nu_star * (1 - 1e-6), 1), (nu_star * (1 + 1e-6), 2)):
        p = ms.MetastabilityParams(d, nu)
        r = ms.analyze(p, with_T_B=False)
        assert int(r.regime) == regime
        direct = float(ms.landscape(p, r.Q_MS) - ms.landscape(p, 0.0))
        assert (direct > 0) == (regime == 1)


def test_finite_temperature_force():
    """∂F/∂Q at T > 0: autodiff through the implicit gap vs finite differences vs q·h."""
    p, T = P_II, 0.06
    F = lambda q: ms.landscape(p, q, T)  # noqa: E731
    q = 0.5
    g = float(jax.grad(F)(q))
    assert g == pytest.approx(float((F(q + 1e-5) - F(q - 1e-5)) / 2e-5), abs=1e-8)
    s = att.saturation(q, p.DeltaE, p.G)
    assert g == pytest.approx(q * float(ms.stationarity(p, s, T)), abs=1e-10)


@pytest.mark.slow
def test_untrapping_temperature():
    p = P_II
    r = ms.analyze(p)
    TB = float(r.T_B)
    assert TB > float(bcs.critical_temperature(p.lam0))  # metastability survives above Tc
    assert int(ms.analyze(p, 0.98 * TB, with_T_B=False).regime) in (1, 2)
    assert int(ms.analyze(p, 1.02 * TB, with_T_B=False).regime) == 0


def test_phase_diagram_matches_pointwise_analysis():
    d = jnp.array([0.61060, 0.80829, 1.37385])
    nu = jnp.array([1.206, 2.0502, 2.7135])
    r = ms.phase_diagram(d, nu)
    assert r.regime.shape == (3, 3)
    assert int(r.regime[1, 1]) == 1 and int(r.regime[2, 0]) == 0 and int(r.regime[0, 2]) == 3
    single = ms.analyze(ms.MetastabilityParams(d[0], nu[1]), with_T_B=False)
    assert int(r.regime[0, 1]) == int(single.regime)
    assert float(r.Q_MS[0, 1]) == pytest.approx(float(single.Q_MS), rel=1e-10)


@pytest.mark.slow
def test_first_order_temperature_of_metastability_ii():
    """Class II (distorted ground state at T = 0): F(Q_MS, T) = F(0, T) at T_1, the first-order
    transition of Fig. 2c. Just below T_1 the class is II (E_MS < 0), just above it I; T_1 lies
    above the undistorted T_c(λ0) and below the untrapping temperature T_B."""
    T1 = float(ms.first_order_temperature(P_II))
    assert abs(float(ms.analyze(P_II, T1, with_T_B=False).E_MS)) < 1e-10
    below, above = (ms.analyze(P_II, f * T1, with_T_B=False) for f in (0.99, 1.01))
    assert int(below.regime) == 2 and float(below.E_MS) < 0
    assert int(above.regime) == 1 and float(above.E_MS) > 0
    assert float(bcs.critical_temperature(P_II.lam0)) < T1 < float(ms.untrapping_temperature(P_II))


def test_free_energy_surface_valleys_are_the_landscape():
    """Fig. 3 surface F(Δ, Q): at fixed Q its minimum over Δ is at the equilibrium gap
    Δ(λ(Q), T) (∂F/∂Δ = 0, ∂²F/∂Δ² > 0) and equals the landscape F(Q, T), at T = 0 (closed
    form E_SC) and T > 0; the undistorted normal state is F(0, 0) = 0."""
    p = P_I
    for T in (0.0, 0.05):
        assert float(ms.free_energy_surface(p, 0.0, 0.0, T)) == 0.0
        for q in (0.0, 0.6, 1.2):
            lam = float(p.lam0 + p.nu * p.G**2 * att.saturation(q, p.DeltaE, p.G))
            D = bcs.gap(lam, T)
            F = lambda d: ms.free_energy_surface(p, d, q, T)  # noqa: B023
            assert abs(float(F(D)) - float(ms.landscape(p, q, T))) < 1e-12
            if float(D) > 0:
                assert abs(float(jax.grad(F)(D))) < 1e-10 and float(jax.grad(jax.grad(F))(D)) > 0
    grid = ms.free_energy_surface(p, jnp.linspace(0.0, 0.5, 6)[:, None], jnp.linspace(0.0, 1.5, 4)[None, :])
    assert grid.shape == (6, 4)
