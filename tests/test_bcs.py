"""BCS core and quasi-particle trapping (Chattopadhyay et al. Eqs. 7, 9–11; docs/model-longlived.md)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import central_difference
from scipy import integrate, optimize

import photosc_jax  # noqa: F401  (enables float64)
from photosc_jax.longlived import bcs
from photosc_jax.longlived import quasiparticle_trapping as qpt

BCS_RATIO = 2.0 * math.pi * math.exp(-np.euler_gamma)  # 2Δ0/Tc = 3.5276 in weak coupling


def fd(f, x, h=1e-5):
    return central_difference(f, x, h)


def test_weak_coupling_ratio():
    lam = 0.1
    ratio = 2 * bcs.zero_temperature_gap(lam) / bcs.critical_temperature(lam)
    assert abs(float(ratio) - BCS_RATIO) < 1e-6
    # strong coupling (finite cutoff) visibly departs from it
    assert float(2 * bcs.zero_temperature_gap(1.0) / bcs.critical_temperature(1.0)) > 3.7


def _scipy_gap_integral(D, T):
    g = lambda x: math.tanh(math.sqrt(x * x + D * D) / (2 * T)) / math.sqrt(x * x + D * D)
    return integrate.quad(g, 0.0, 1.0, points=[D, T], epsabs=1e-14, epsrel=1e-13, limit=200)[0]


def test_finite_cutoff_against_scipy():
    lam = 0.3
    Tc_ref = optimize.brentq(lambda T: _scipy_gap_integral(0.0, T) - 1 / lam, 1e-3, 0.5, xtol=1e-15)
    Tc = float(bcs.critical_temperature(lam))
    assert abs(Tc / Tc_ref - 1) < 1e-9
    T = 0.6 * Tc_ref
    D_ref = optimize.brentq(lambda D: _scipy_gap_integral(D, T) - 1 / lam, 1e-6, 0.2, xtol=1e-15)
    assert abs(float(bcs.gap(lam, T)) / D_ref - 1) < 1e-9
    ratio = 2 * float(bcs.zero_temperature_gap(lam)) / Tc_ref
    assert abs(ratio - 3.5322) < 1e-3 and abs(ratio - BCS_RATIO) > 1e-3


@pytest.mark.parametrize("lam,nu", [(0.3, 1.0), (0.5, 0.7)])
def test_closed_form_condensation_energy(lam, nu):
    res = optimize.minimize_scalar(
        lambda D: float(bcs.free_energy(D, lam, 0.0, nu=nu)),
        bounds=(1e-4, 1.0),
        method="bounded",
        options=dict(xatol=1e-12),
    )
    assert abs(res.x - float(bcs.zero_temperature_gap(lam))) < 1e-6
    E = float(bcs.condensation_energy(lam, nu))
    assert abs(res.fun - E) < 1e-12
    assert abs(E + nu * (1 / math.tanh(1 / lam) - 1)) < 1e-14
    assert abs(float(bcs.zero_temperature_gap(lam)) - 1 / math.sinh(1 / lam)) < 1e-15


def test_gradients_against_finite_differences():
    D, lam, T, zeta, ns = 0.05, 0.3, 0.03, 0.02, 0.01
    F = lambda D, zeta: bcs.free_energy(D, lam, T, nu=0.8, chem_shift=zeta, n_star=ns)
    gD, gzeta = jax.grad(F, argnums=(0, 1))(D, zeta)
    assert abs(float(gD) - float(fd(lambda x: F(x, zeta), D))) < 1e-8
    assert abs(float(gzeta) - float(fd(lambda x: F(D, x), zeta))) < 1e-8
    # ∂F/∂ζ = n(Δ, ζ) − n*
    assert abs(float(gzeta) - (float(bcs.quasiparticle_number(D, T, zeta, 0.8)) - ns)) < 1e-12


def test_gap_solution_is_stationary_and_hellmann_feynman():
    lam, T, nu = 0.3, 0.025, 0.7
    D = bcs.gap(lam, T)
    assert abs(float(jax.grad(bcs.free_energy)(D, lam, T, nu=nu))) < 1e-10
    assert float(jax.grad(jax.grad(bcs.free_energy))(D, lam, T, nu=nu)) > 0  # a minimum
    # total dF/dλ through the implicit gap solution = ∂F/∂λ = −ν(0)Δ²/λ² (∂F/∂U = −Δ²/U²)
    dF = jax.grad(lambda l: bcs.free_energy(bcs.gap(l, T), l, T, nu=nu))(lam)
    assert abs(float(dF) + nu * float(D) ** 2 / lam**2) < 1e-10
    assert abs(float(dF) - float(fd(lambda l: bcs.free_energy(bcs.gap(l, T), l, T, nu=nu), lam))) < 1e-8


def test_gap_is_exactly_zero_above_tc_with_finite_gradients():
    lam = 0.3
    Tc = bcs.critical_temperature(lam)
    for T in [Tc, 1.01 * Tc, 3.0 * Tc]:
        assert float(bcs.gap(lam, T)) == 0.0
        g = jax.grad(bcs.gap, argnums=(0, 1))(lam, T)
        assert all(np.isfinite(float(x)) and float(x) == 0.0 for x in g)
    # just below: small, with the Ginzburg–Landau amplitude ≈ 3.06 Tc √(1 − T/Tc)
    T = float(Tc) * (1 - 1e-6)
    assert abs(float(bcs.gap(lam, T)) / (3.063 * float(Tc) * 1e-3) - 1) < 1e-2
    # gradient of the gap below Tc against finite differences
    T = 0.7 * float(Tc)
    gl, gT = jax.grad(bcs.gap, argnums=(0, 1))(lam, T)
    assert abs(float(gT) - float(fd(lambda t: bcs.gap(lam, t), T, 1e-6))) < 1e-6
    assert abs(float(gl) - float(fd(lambda l: bcs.gap(l, T), lam, 1e-6))) < 1e-6
    assert float(bcs.gap(0.0, 0.01)) == 0.0 and float(bcs.critical_temperature(-0.1)) == 0.0


def test_gap_vmaps_and_jits():
    Ts = jnp.linspace(0.0, 0.05, 11)
    D = jax.jit(jax.vmap(bcs.gap, in_axes=(None, 0)))(0.3, Ts)
    assert float(D[0]) == pytest.approx(float(bcs.zero_temperature_gap(0.3)), rel=1e-12)
    assert np.all(np.diff(np.asarray(D)) <= 0) and float(D[-1]) == 0.0


# ---------------------------------------------------------------- quasi-particle trapping
def test_trapping_limits():
    lam = 0.3
    Tc = float(bcs.critical_temperature(lam))
    T = 1.3 * Tc
    Dtr, zeta = qpt.trapped_gap(1e-12, lam, T)
    assert abs(float(Dtr) / float(bcs.zero_temperature_gap(lam)) - 1) < 1e-9 and float(zeta) > 0
    # ζ = 0 ⇒ thermal BCS: freeze the thermal number of the thermal state
    T = 0.6 * Tc
    D = bcs.gap(lam, T)
    Dtr, zeta = qpt.trapped_gap(bcs.quasiparticle_number(D, T), lam, T)
    assert abs(float(Dtr) / float(D) - 1) < 1e-9 and abs(float(zeta)) < 1e-10


@pytest.mark.slow
def test_trapped_state_is_a_saddle_of_eq9():
    lam, T, ns, nu = 0.3, 0.05, 3e-3, 0.9
    Dtr, zeta = qpt.trapped_gap(ns, lam, T, nu=nu)
    F = lambda D, m: bcs.free_energy(D, lam, T, nu=nu, chem_shift=m, n_star=ns)
    gD, gzeta = jax.grad(F, argnums=(0, 1))(Dtr, zeta)
    assert abs(float(gD)) < 1e-10 and abs(float(gzeta)) < 1e-12
    H = jax.hessian(F, argnums=(0, 1))(Dtr, zeta)
    assert float(H[0][0]) > 0 and float(H[1][1]) < 0  # min in Δ, max in ζ (docs/model-longlived.md)


@pytest.mark.slow
def test_trapped_gap_decreases_with_n_star():
    lam = 0.3
    T = 1.2 * float(bcs.critical_temperature(lam))
    ns = jnp.logspace(-6, -1.3, 6)
    D = jax.vmap(lambda n: qpt.trapped_gap(n, lam, T)[0])(ns)
    assert np.all(np.diff(np.asarray(D)) < 0) and float(D[0]) < float(bcs.zero_temperature_gap(lam))
    assert float(D[-1]) > 0  # above Tc, yet gapped
    # a large frozen number (above the normal-state thermal value) gives no gap
    n_normal = float(bcs.quasiparticle_number(0.0, T))
    assert float(qpt.trapped_gap(1.05 * n_normal, lam, T)[0]) == 0.0


def test_trapped_gap_is_the_pair_delta_chem_shift():
    """`trapped_gap` returns `TrappedGap(Delta, chem_shift)`, which unpacks as (Δ_tr, ζ), and its ζ
    is the one that fixes the frozen number: n(Δ_tr, T, ζ) = n* (Eq. 11)."""
    lam, T, ns = 0.3, 0.03, 1e-3
    res = qpt.trapped_gap(ns, lam, T)
    assert isinstance(res, qpt.TrappedGap)
    assert res.Delta is res[0] and res.chem_shift is res[1]
    assert float(res.Delta) > 0 and float(res.chem_shift) > 0
    n = bcs.quasiparticle_number(res.Delta, T, chem_shift=res.chem_shift)
    assert abs(float(n) / ns - 1) < 1e-9


# ---------------------------------------------------------------- ξ quadrature (xi_nodes)
def _scipy_xi(g, D, T, zeta):
    """∫₀¹ g(E) dξ by adaptive quadrature with breakpoints at Δ, T and the inner Fermi edge."""
    pts = [D, T] + ([math.sqrt(zeta**2 - D**2)] if zeta < -D else [])
    pts = [p for p in pts if 0 < p < 1]
    f = lambda x: g(math.hypot(x, D))
    return integrate.quad(f, 0.0, 1.0, points=pts or None, epsabs=0.0, epsrel=1e-12, limit=400)[0]


@pytest.mark.parametrize(
    "D_over_T,zeta_over",
    [(1e-6, 0.3), (1e-6, -0.3), (1e-6, -30.0), (1e-3, -3.0), (0.1, -30.0), (1.0, -1.0001), (10.0, -0.5)],
)
def test_xi_integrals_against_scipy(D_over_T, zeta_over):
    """Gap integral (Eq. 10) and quasi-particle number (Eq. 11) to 1e-10 relative for tiny Δ
    with ζ ≠ 0 (the 1/E peak of width Δ: the former fixed floor 10⁻³T made it 6 % wrong at
    Δ = 10⁻⁶T) and for a Fermi edge inside the band (ζ < −Δ), against scipy's adaptive quad.
    ζ is given in units of max(Δ, T)."""
    T = 0.03
    D = D_over_T * T
    zeta = zeta_over * max(D, T)
    ref_gap = _scipy_xi(lambda E: math.tanh((E + zeta) / (2 * T)) / E, D, T, zeta)
    ref_n = 4 * _scipy_xi(lambda E: 0.5 * (1 - math.tanh((E + zeta) / (2 * T))), D, T, zeta)
    assert abs(float(bcs.gap_integral(D, T, 1.0, zeta)) / ref_gap - 1) < 1e-10
    assert abs(float(bcs.quasiparticle_number(D, T, zeta)) / ref_n - 1) < 1e-10


# ---------------------------------------------------------------- trapping: the global minimum
def _scipy_phi(D, ns, lam, T):
    """Constrained free energy Φ(Δ) = F(Δ, ζ*) of Eq. 9 with ζ* from Eq. 11 by brentq, all by
    scipy (ν = ω = 1): the independent reference of the trapping tests."""

    def xi_quad(g, z):
        pts = [p for p in [D, T] + ([math.sqrt(z * z - D * D)] if z < -D else []) if 0 < p < 1]
        f = lambda x: g(x, math.hypot(x, D))
        return integrate.quad(f, 0.0, 1.0, points=pts or None, epsabs=0.0, epsrel=1e-12, limit=400)[0]

    n = lambda z: 4 * xi_quad(lambda x, E: 0.5 * (1 - math.tanh((E + z) / (2 * T))), z)
    z = optimize.brentq(lambda z: n(z) - ns, -1.5, 1.5, xtol=1e-15, rtol=1e-14)
    kinetic = 2 * xi_quad(lambda x, E: D * D / (E + x), z)  # 2∫(E − ξ)dξ without cancellation
    thermal = 4 * T * xi_quad(lambda x, E: float(np.logaddexp(0.0, -(E + z) / T)), z)
    return D * D / lam - kinetic - thermal - z * ns


def _scipy_branches(ns, lam, T, n_grid=41):
    """Dense-grid brute force of Φ(Δ) − Φ(0) on (0, Δ0] with the local minima polished by
    bounded Brent: returns the grid values and the polished minima [(Δ, Φ − Φ_N), ...]."""
    D0 = float(bcs.zero_temperature_gap(lam))
    phi0 = _scipy_phi(0.0, ns, lam, T)
    Ds = np.linspace(0.0, 1.0, n_grid)[1:] * D0
    v = np.array([_scipy_phi(D, ns, lam, T) - phi0 for D in Ds])
    minima = []
    for i in range(1, len(Ds) - 1):
        if v[i] <= v[i - 1] and v[i] <= v[i + 1]:
            r = optimize.minimize_scalar(
                lambda D: _scipy_phi(D, ns, lam, T) - phi0,
                bounds=(Ds[i - 1], Ds[i + 1]),
                method="bounded",
                options=dict(xatol=1e-10 * D0),
            )
            minima.append((r.x, r.fun))
    return v, minima


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # roundoff at ζ far out in brentq
@pytest.mark.parametrize(
    "T_over_Tc,T_abs,ns,D_ref,gapped",
    [
        (0.5, None, 0.070, 0.42667, True),
        (None, 0.005, 0.020, 0.85442, True),
        (0.5, None, 0.079, 0.25365, False),
    ],
)
def test_trapped_gap_is_the_global_minimum(T_over_Tc, T_abs, ns, D_ref, gapped):
    """`trapped_gap` returns the global minimum of the constrained free energy at fixed n*
    (Eqs. 9–11), normal state included, against a scipy brute-force scan of Φ(Δ) with ζ*(Δ)
    from brentq. λ = 0.3; at T = 0.5 T_c, n* = 0.079 lies in the first-order window: the gapped
    branch (Δ = 0.2537 Δ0) is a metastable minimum above the normal state, so Δ_tr = 0."""
    lam = 0.3
    D0 = float(bcs.zero_temperature_gap(lam))
    T = T_abs if T_abs is not None else T_over_Tc * float(bcs.critical_temperature(lam))
    b = qpt.trapped_gap_branches(ns, lam, T)
    v, minima = _scipy_branches(ns, lam, T)
    assert len(minima) == 1  # one gapped local minimum; the normal state is the other
    D_sc, dF_sc = minima[0]
    assert abs(float(b.Delta_sc) / D_sc - 1) < 1e-6 and abs(D_sc / D0 - D_ref) < 1e-4
    assert abs(float(b.free_energy_sc) - dF_sc) < 1e-12
    assert bool(b.first_order)  # both the normal state and the gapped branch are minima
    assert 0 < float(b.Delta_barrier) < float(b.Delta_sc) and float(b.free_energy_barrier) > 0
    Dtr, zeta = qpt.trapped_gap(ns, lam, T)
    if gapped:
        assert (
            dF_sc < 0 and float(Dtr) == float(b.Delta_sc) and float(b.free_energy) == float(b.free_energy_sc)
        )
        assert np.all(v >= dF_sc - 1e-12)  # no grid point below the returned state
    else:
        assert dF_sc > 0 and np.all(v > 0) and float(Dtr) == 0.0 and float(b.free_energy) == 0.0
        assert float(zeta) == float(b.chem_shift_normal)


def test_trapped_gap_first_order_loss():
    """As n* grows at T = 0.5 T_c (λ = 0.3) the gapped branch crosses the normal state at
    n* = 0.078815: Δ_tr jumps from 0.26 Δ0 to 0 there, while the gapped branch survives as a
    metastable minimum (free_energy_sc > 0)."""
    lam = 0.3
    D0 = float(bcs.zero_temperature_gap(lam))
    T = 0.5 * float(bcs.critical_temperature(lam))
    below, above = (qpt.trapped_gap_branches(n, lam, T) for n in (0.07880, 0.07883))
    assert float(below.free_energy_sc) < 0 < float(above.free_energy_sc)
    assert float(below.Delta) / D0 > 0.25 and float(above.Delta) == 0.0
    assert float(above.Delta_sc) / D0 > 0.25 and bool(above.first_order)


# ---------------------------------------------------------------- argument checks (model II)
def _model_ii_calls():
    from photosc_jax.longlived import langevin as LG
    from photosc_jax.longlived import metastability as M

    P = M.MetastabilityParams(1.3, 3.0, 0.6, 0.3)

    def analyze(lam, T):  # T through analyze, the coupling λ0 through phase_diagram
        return M.analyze(P, T, with_T_B=False) if math.isfinite(lam) else M.phase_diagram(1.3, 3.0, 0.6, lam)

    def langevin(gamma, T):
        return LG.simulate(lambda q: 0.5 * q**2, LG.LangevinParams(gamma=gamma, T=T), 0.1, 1.0)

    return {
        "gap": lambda lam, T: bcs.gap(lam, T),
        "trapped_gap": lambda lam, T: qpt.trapped_gap(1e-3, lam, T),
        "free_energy": lambda lam, T: bcs.free_energy(0.05, lam, T),
        "critical_temperature": lambda lam, T: (bcs.critical_temperature(lam), bcs.gap_integral(0.01, T)),
        "MetastabilityParams": lambda lam, T: M.analyze(M.MetastabilityParams(1.3, 3.0, 0.6, lam), T),
        "analyze": analyze,
        "trapped_tau_g": lambda lam, T: qpt.trapped_tau_g(1e-3, lam, T, lambda W: W**2),
        "langevin": langevin,
    }


@pytest.mark.parametrize("entry", list(_model_ii_calls()))
@pytest.mark.parametrize(
    "lam,T,match", [(0.3, math.nan, "T = nan"), (0.3, -0.01, "T = -0.01"), (math.nan, 0.03, "nan")]
)
def test_model_ii_entry_points_reject_nan_and_negative_T(entry, lam, T, match):
    """Every model-II entry point raises a ValueError naming the bad argument (NaN or negative T,
    NaN coupling — λ, λ0 or γ) and what it must be, instead of returning NaN or a silent 0; the
    checks skip traced values, so the same functions still jit (checked on `gap`)."""
    with pytest.raises(ValueError, match=match) as info:
        jax.block_until_ready(_model_ii_calls()[entry](lam, T))
    assert "finite" in str(info.value) or "must be" in str(info.value)
    assert float(jax.jit(bcs.gap)(0.3, 0.02)) > 0
