"""Golden-rule rates (App. C, Eqs. C3–C5) and τ_g (Eqs. 12–13, corrected per docs/model-longlived.md)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import photosc_jax  # noqa: F401  (float64)
from photosc_jax.longlived import bcs
from photosc_jax.longlived import lifetimes as L
from photosc_jax.longlived import quasiparticle_trapping as qpt

# A smooth Debye-like Eliashberg function with an exponential tail (phonon units).
A, W0 = 0.5, 0.3


def a2F(W):
    return A * W**2 * jnp.exp(-W / W0)


def a2F_np(W):
    return A * W**2 * np.exp(-W / W0)


def a2F_log_slope(W):  # α²F'/α²F
    return 2.0 / W - 1.0 / W0


def fermi(E, T, zeta):
    return 1.0 / (np.exp((E + zeta) / T) + 1.0)


def bose(W, T):
    return 1.0 / np.expm1(W / T)


def scipy_rates(D, T, zeta):
    """Independent evaluation of C3, C4, C5 as printed (scipy adaptive quadrature in the
    substituted variable Ω = Ω_lo + u², so that the edge singularity is removed)."""
    f, n = (lambda E: fermi(E, T, zeta)), (lambda W: bose(W, T))
    top = 2 * D + 80 * T
    g = quad(
        lambda u: (
            2
            * np.sqrt(2 * D + u * u)
            * a2F_np(2 * D + u * u)
            * (1 - f(D + u * u))
            * (1 - f(D))
            * n(2 * D + u * u)
        ),
        0,
        math.sqrt(top - 2 * D),
        epsabs=0,
        epsrel=1e-12,
    )[0]
    s = quad(
        lambda W: a2F_np(W) * np.sqrt(W / (W + 2 * D)) * (1 - f(W + D)) * (1 - f(D)) * n(W),
        0,
        80 * T,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    r = quad(
        lambda u: (
            2
            * np.sqrt(2 * D + u * u)
            * a2F_np(2 * D + u * u)
            * f(D + u * u)
            * (1 - f(D))
            * (1 + n(2 * D + u * u))
        ),
        0,
        math.sqrt(top - 2 * D),
        epsabs=0,
        epsrel=1e-12,
    )[0]
    return 2 * np.pi * g, 2 * np.pi * s, 2 * np.pi * r


@pytest.mark.parametrize("D,T,zeta", [(0.1, 0.03, 0.0), (0.1, 0.03, 0.05), (0.05, 0.04, -0.02)])
def test_rates_match_independent_quadrature(D, T, zeta):
    g, s, r = scipy_rates(D, T, zeta)
    np.testing.assert_allclose(L.generation_rate(D, T, a2F, zeta), g, rtol=1e-8)
    np.testing.assert_allclose(L.scattering_rate(D, T, a2F, zeta), s, rtol=1e-8)
    np.testing.assert_allclose(L.recombination_rate(D, T, a2F, zeta), r, rtol=1e-8)
    # A table of the same function gives the same rates to interpolation accuracy.
    W = np.linspace(0.0, 4.0, 8001)
    tab = L.Alpha2FTable(jnp.asarray(W), jnp.asarray(a2F_np(W)))
    np.testing.assert_allclose(L.generation_rate(D, T, tab, zeta), g, rtol=1e-4)
    np.testing.assert_allclose(L.scattering_rate(D, T, (W, a2F_np(W)), zeta), s, rtol=1e-4)


@pytest.mark.parametrize("D,T", [(0.1, 0.02), (0.1, 0.08), (0.03, 0.1), (0.2, 0.05)])
def test_detailed_balance_in_thermal_equilibrium(D, T):
    """ζ = 0: creation of a quasi-particle at Δ balances its recombination,
    Γ_g = f(Δ) Γ_r^qp. The as-printed C5 (extra 1 − f(Δ)) misses it by e^{−Δ/T}."""
    g = L.generation_rate(D, T, a2F)
    r_qp = L.recombination_rate_per_qp(D, T, a2F)
    fD = fermi(D, T, 0.0)
    np.testing.assert_allclose(g, fD * r_qp, rtol=1e-10)
    r_printed = L.recombination_rate(D, T, a2F)
    np.testing.assert_allclose(g / (fD * r_printed), 1.0 / (1.0 - fD), rtol=1e-10)
    assert abs(g / (fD * r_printed) - 1.0) > 0.5 * math.exp(-D / T)


@pytest.mark.parametrize("zeta", [0.03, -0.01])
def test_trapped_distribution_breaks_balance_by_exp_2zeta_over_T(zeta):
    """A trapped state (ζ > 0: fewer quasi-particles than thermal) generates faster than it
    recombines: Γ_g / (f(Δ) Γ_r^qp) = e^{2ζ/T} exactly."""
    D, T = 0.1, 0.03
    ratio = L.generation_rate(D, T, a2F, zeta) / (
        fermi(D, T, zeta) * L.recombination_rate_per_qp(D, T, a2F, zeta)
    )
    np.testing.assert_allclose(ratio, math.exp(2 * zeta / T), rtol=1e-10)


def test_per_qp_rates_drop_only_the_blocking_factor():
    D, T, zeta = 0.08, 0.05, 0.01
    block = 1.0 - fermi(D, T, zeta)
    np.testing.assert_allclose(
        L.scattering_rate(D, T, a2F, zeta),
        block * L.scattering_rate_per_qp(D, T, a2F, zeta),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        L.recombination_rate(D, T, a2F, zeta),
        block * L.recombination_rate_per_qp(D, T, a2F, zeta),
        rtol=1e-12,
    )


def test_tau_g_approaches_closed_form_as_T_decreases():
    """Eq. 12 (corrected) is the T ≪ Δ limit of 1/Γ_g: the relative error shrinks with T and
    its slope matches the first correction T/(8Δ) + (T/2) α²F'/α²F at 2Δ."""
    D = 0.1
    Ts = D * np.array([0.2, 0.1, 0.05, 0.025, 0.0125])
    errs = np.array([float(L.tau_g_low_T(D, T, a2F) / L.tau_g(D, T, a2F) - 1.0) for T in Ts])
    assert np.all(np.abs(np.diff(np.abs(errs))) > 0) and np.all(np.diff(np.abs(errs)) < 0)
    assert abs(errs[-1]) < 8e-3
    slope = 1.0 / (8 * D) + 0.5 * a2F_log_slope(2 * D)
    np.testing.assert_allclose(errs[-2:] / Ts[-2:], slope, rtol=0.03)
    # closed_form_error is the same quantity, computed without overflow.
    np.testing.assert_allclose(L.closed_form_error(D, Ts[-1], a2F), errs[-1], rtol=1e-8)
    # Deep in the limit, tau_g stays finite where e^{2Δ/T} is huge (2Δ/T = 400).
    tg = L.tau_g(D, D / 200, a2F)
    assert np.isfinite(tg) and abs(tg / L.tau_g_low_T(D, D / 200, a2F) - 1) < 3e-3


def test_closed_form_validity_scan():
    D = 0.1
    v = L.closed_form_validity(D, a2F, rtol=0.02, T_over_Delta=np.geomspace(0.005, 1.0, 40))
    err = np.asarray(v.rel_error)
    T_max = float(v.T_max)
    assert 0 < T_max < D
    assert np.all(np.abs(err[np.asarray(v.T) <= T_max]) <= 0.02)
    assert np.abs(err[np.searchsorted(np.asarray(v.T), T_max) + 1]) > 0.02


def test_eq13_constants_and_paper_bound():
    D = 0.1
    np.testing.assert_allclose(1 / L.tau_0(D, a2F), 2 * math.pi**1.5 * float(a2F(2 * D)) * 2 * D)
    # τ_g/τ0 at the weak-coupling 2Δ0/Tc = 3.54: the formula gives 64.9, not the quoted 45.9.
    np.testing.assert_allclose(L.activated_enhancement(1.77, 1.0), 64.85, rtol=1e-3)
    assert abs(math.sqrt(1.77) * math.exp(3.54) - 45.9) < 0.05


def test_phonon_bottleneck_gap_in_alpha2F():
    """If α²F has no weight at Ω ≥ 2Δ (a gapped phonon spectrum), no bath phonon can break a
    pair: Γ_g = 0, while number-conserving scattering Γ_s stays finite."""
    W = np.linspace(0.0, 0.15, 301)
    tab = (W, 2.0 * W**2)
    D, T = 0.1, 0.05
    assert float(L.generation_rate(D, T, tab)) == 0.0
    assert float(L.scattering_rate_per_qp(D, T, tab)) > 1e-4


def test_jit_vmap_grad():
    D = 0.1
    Ts = jnp.linspace(0.01, 0.1, 7)
    batched = jax.jit(jax.vmap(lambda T: L.tau_g(D, T, a2F)))(Ts)
    np.testing.assert_allclose(batched, [L.tau_g(D, T, a2F) for T in Ts], rtol=1e-12)
    g = jax.grad(lambda d: jnp.log(L.tau_g(d, 0.03, a2F)))(D)
    h = 1e-5
    fd = (math.log(L.tau_g(D + h, 0.03, a2F)) - math.log(L.tau_g(D - h, 0.03, a2F))) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="must be >= 0"):
        L.Alpha2FTable(jnp.array([0.0, 1.0]), jnp.array([0.1, -0.2]))
    with pytest.raises(ValueError, match="strictly increasing"):
        L.Alpha2FTable(jnp.array([1.0, 0.0]), jnp.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="T = 0.0: must be > 0"):
        L.generation_rate(0.1, 0.0, a2F)
    with pytest.raises(ValueError, match="Delta"):
        L.tau_g(-0.1, 0.1, a2F)
    with pytest.raises(Exception, match="negative"):
        jax.block_until_ready(L.generation_rate(0.1, 0.05, lambda W: -W))
    with pytest.raises(TypeError, match="alpha2F"):  # ours, or the runtime type check (conftest)
        L.generation_rate(0.1, 0.05, 3.0)
    with pytest.raises(TypeError, match="n_panels"):  # a misspelt quadrature keyword
        L.scattering_rate(0.1, 0.05, a2F, n_panel=32)
    # the quadrature keywords reach the integral: a coarser rule changes the value a little
    fine, coarse = (
        L.recombination_rate_per_qp(0.1, 0.05, a2F),
        L.recombination_rate_per_qp(0.1, 0.05, a2F, n_panels=2, order=2),
    )
    assert 0 < abs(float(coarse) / float(fine) - 1) < 0.5


def test_trapped_lifetime_is_self_consistent():
    """τ_g of the trapped state uses (Δ_tr, ζ) from `trapped_gap` (Eqs. 10–11). With n* equal
    to the thermal number below T_c it is the thermal τ_g; fewer quasi-particles (ζ > 0) mean
    less Pauli blocking in C3, so at the same Δ the trapped state generates faster."""
    lam, T = 0.3, 0.02  # T_c ≈ 0.040
    D = float(bcs.gap(lam, T))
    n_th = float(bcs.quasiparticle_number(D, T))
    np.testing.assert_allclose(qpt.trapped_tau_g(n_th, lam, T, a2F), L.tau_g(D, T, a2F), rtol=1e-6)
    D_tr, zeta = qpt.trapped_gap(1e-3 * n_th, lam, T)
    assert float(zeta) > 0 and float(D_tr) > D
    assert float(qpt.trapped_tau_g(1e-3 * n_th, lam, T, a2F)) < float(L.tau_g(D_tr, T, a2F))


# A stepped and peaked Eliashberg function: two plateaus and a narrow triangular peak (phonon units).
STEPS = (0.25, 0.4, 0.6)
PEAK, PEAK_W = 0.33, 2e-3


def a2F_rough_np(W):
    plateau = 0.2 * (STEPS[0] < W < STEPS[1]) + 0.05 * (STEPS[1] <= W < STEPS[2])
    return plateau + 0.5 * max(0.0, 1.0 - abs(W - PEAK) / PEAK_W)


def a2F_rough(W):
    plateau = jnp.where((W > STEPS[0]) & (W < STEPS[1]), 0.2, 0.0)
    plateau = plateau + jnp.where((W >= STEPS[1]) & (W < STEPS[2]), 0.05, 0.0)
    return plateau + 0.5 * jnp.maximum(0.0, 1.0 - jnp.abs(W - PEAK) / PEAK_W)


def test_stepped_and_peaked_alpha2F_with_breakpoints():
    """A stepped, peaked α²F: the rates with `breakpoints` at its steps and peak (and a table,
    whose nodes are cut points by themselves) agree with scipy quad given the same `points=`
    to 1e-6; without the cuts the equal-panel rule is visibly off (> 1e-4)."""
    D, T, zeta = 0.1, 0.03, 0.01
    kinks = np.array([*STEPS, PEAK - PEAK_W, PEAK, PEAK + PEAK_W])
    f, n = (lambda E: fermi(E, T, zeta)), (lambda W: bose(W, T))
    top = 2 * D + 60 * T
    u_pts = [math.sqrt(p - 2 * D) for p in kinks if 2 * D < p < top]
    g_ref = 2 * np.pi * quad(
        lambda u: 2 * math.sqrt(2 * D + u * u) * a2F_rough_np(2 * D + u * u) * (1 - f(D + u * u)) * (1 - f(D))
        * n(2 * D + u * u),
        0, math.sqrt(top - 2 * D), points=u_pts, epsabs=0, epsrel=1e-12, limit=400,
    )[0]  # fmt: skip
    s_ref = 2 * np.pi * quad(
        lambda W: a2F_rough_np(W) * math.sqrt(W / (W + 2 * D)) * (1 - f(W + D)) * n(W),
        0, 60 * T, points=[p for p in kinks if p < 60 * T], epsabs=0, epsrel=1e-12, limit=400,
    )[0]  # fmt: skip
    bp = jnp.asarray(kinks)
    g = float(L.generation_rate(D, T, a2F_rough, zeta, breakpoints=bp))
    s = float(L.scattering_rate_per_qp(D, T, a2F_rough, zeta, breakpoints=bp))
    assert abs(g / g_ref - 1) < 1e-6 and abs(s / s_ref - 1) < 1e-6
    assert abs(float(L.generation_rate(D, T, a2F_rough, zeta)) / g_ref - 1) > 1e-4
    # the same function as a table (linear between its nodes, so exact at the peak's kinks)
    grid = np.unique(np.concatenate([np.linspace(0.0, 1.0, 201), kinks, kinks[:3] + 1e-12]))
    vals = np.array([a2F_rough_np(W) for W in grid])
    table = L.Alpha2FTable(jnp.asarray(grid), jnp.asarray(vals))
    tab_np = lambda W: float(np.interp(W, grid, vals))
    g_tab_ref = 2 * np.pi * quad(
        lambda u: 2 * math.sqrt(2 * D + u * u) * tab_np(2 * D + u * u) * (1 - f(D + u * u)) * (1 - f(D))
        * n(2 * D + u * u),
        0, math.sqrt(top - 2 * D), points=[math.sqrt(p - 2 * D) for p in grid if 2 * D < p < top],
        epsabs=0, epsrel=1e-12, limit=1000,
    )[0]  # fmt: skip
    assert abs(float(L.generation_rate(D, T, table, zeta)) / g_tab_ref - 1) < 1e-6


@pytest.mark.slow
def test_quench_and_release_protocol():
    """Fig. 4a: hold Q*, thermalise (Δ*, thermal n*), release to Q = 0 with n* frozen. Below T_c
    and Q* = 0 nothing changes: Δ_tr is the thermal gap, ζ = 0, τ_g the thermal one. Above T_c
    (no equilibrium gap at λ0) deeper quenches (larger Q*) leave fewer quasi-particles, a larger
    trapped gap (→ Δ0) and a longer generation time; Q* = 0 leaves the metal."""
    from photosc_jax.longlived import metastability as M

    P = M.MetastabilityParams(1.3, 3.0, 0.6, 0.3)
    Tc, D0 = float(bcs.critical_temperature(0.3)), float(bcs.zero_temperature_gap(0.3))
    T = 0.6 * Tc
    r = qpt.quench_and_release(P, 0.0, T, a2F)
    D = bcs.gap(0.3, T)
    assert abs(float(r.Delta_tr) / float(D) - 1) < 1e-9 and abs(float(r.chem_shift)) < 1e-10
    assert abs(float(r.tau_g) / float(L.tau_g(D, T, a2F)) - 1) < 1e-6
    T = 1.2 * Tc
    runs = [qpt.quench_and_release(P, q, T, a2F) for q in (0.0, 0.3, 0.6)]
    assert float(runs[0].Delta_tr) == 0.0 and float(runs[0].Delta_star) == 0.0
    n = [float(x.n_star) for x in runs]
    D_tr = [float(x.Delta_tr) for x in runs]
    tau = [float(x.tau_g) for x in runs[1:]]
    assert n[0] > n[1] > n[2] and 0 < D_tr[1] < D_tr[2] < D0 * (1 + 1e-9) and tau[0] < tau[1]
    # n* is the thermal number of the held state
    assert abs(n[1] / float(bcs.quasiparticle_number(runs[1].Delta_star, T, 0.0, 3.0)) - 1) < 1e-12
