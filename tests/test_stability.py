"""Linear stability of the normal state: complex-linear pairing operator, growth rate vs
time evolution, threshold bracketing (issue 5)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import COARSE

import photosc_jax as ps
from photosc_jax._numerics import real_times
from photosc_jax.interband import coefficients, evolve
from photosc_jax.interband import pairing_spectrum as spec
from photosc_jax.interband import stability as st
from photosc_jax.interband.equations import anomalous_rate, normal_rates
from photosc_jax.interband.normal_state import NormalState, normal_steady_state
from photosc_jax.interband.outcomes import RESULTS
from photosc_jax.interband.solver_state import full_grid


def test_complex_operator_matches_real_jacobian():
    p = ps.InterbandParams(**COARSE)
    ns = normal_steady_state(p)
    assert bool(ns.success)
    c = coefficients(p, half=True)
    m = ns.n11.shape[0]
    z = jnp.zeros(m)
    *_, gs = normal_rates(ns.n11, ns.n22, ns.n21.real, ns.n21.imag, z, z, 0.0, 0.0, c)

    def g(x):
        return jnp.concatenate(anomalous_rate(x[:m], x[m:], ns.n11, ns.n22, gs, c))

    ev_real = np.linalg.eigvals(np.asarray(jax.jacfwd(g)(jnp.zeros(2 * m))))
    ev = np.asarray(jnp.linalg.eigvals(spec.pairing_operator(ns, c)))
    both = np.concatenate([ev, ev.conj()])
    np.testing.assert_allclose(np.sort_complex(both), np.sort_complex(ev_real), atol=1e-10)


@pytest.mark.parametrize("T", [0.0, 0.01])
def test_secular_spectrum_is_the_dense_spectrum(T):
    """All M eigenvalues of the diagonal-plus-rank-one L from the secular equation (Aberth)
    equal numpy's dense eigenvalues, along a row of V started cold and continued from the
    previous V's roots, and the row's leading modes equal the dense leading modes."""
    p = ps.InterbandParams(**COARSE, T=T)
    ns = normal_steady_state(p)
    c0 = coefficients(p, half=True)
    d, u, a1 = spec._secular_parts(ns, eqx.tree_at(lambda c: c.pair, c0, p.dk / (2 * np.pi)))
    Vs = np.linspace(0.0, 12.0, 13)
    dense = []
    for V in Vs:
        c = eqx.tree_at(lambda c: c.pair, c0, V * p.dk / (2 * np.pi))
        ev = np.sort_complex(np.linalg.eigvals(np.asarray(spec.pairing_operator(ns, c))))
        a = a1 * complex(V)  # a Python scalar: no implicit float → complex array promotion
        z, ok = spec.secular_eigenvalues(d, u, a, d + a * u)
        assert bool(ok)
        np.testing.assert_allclose(np.sort_complex(np.asarray(z)), ev, atol=1e-12)
        dense.append(ev[np.argmax(ev.real)])
    g, f = spec.leading_along_V(ns, c0, jnp.asarray(Vs[::-1].copy()), p.dk)  # any order
    np.testing.assert_allclose(np.asarray(g)[::-1], np.real(dense), atol=1e-12)
    np.testing.assert_allclose(np.asarray(f)[::-1], np.imag(dense), atol=1e-12)
    # differentiable through the Newton polish: d g / dV = the dense eigenvalue derivative
    grad = jax.grad(
        lambda V: spec._leading_secular(ns, eqx.tree_at(lambda c: c.pair, c0, V * p.dk / (2 * np.pi)))[0]
    )
    fd = (
        float(spec._leading(ns, eqx.tree_at(lambda c: c.pair, c0, 5.001 * p.dk / (2 * np.pi)))[0])
        - float(spec._leading(ns, eqx.tree_at(lambda c: c.pair, c0, 4.999 * p.dk / (2 * np.pi)))[0])
    ) / 0.002
    assert abs(float(grad(5.0)) - fd) < 1e-6 * abs(fd)


def _seeded(p, ns, amp):
    c = coefficients(p, half=True)
    ev, vec = jnp.linalg.eig(spec.pairing_operator(ns, c))
    v = vec[:, jnp.argmax(ev.real)]
    s = real_times(amp / jnp.linalg.norm(v), v)
    return ps.interband.InterbandState(*(full_grid(x) for x in (ns.n11, ns.n22, ns.n21, s)))


def test_growth_rate_matches_time_evolution():
    p = ps.InterbandParams(**COARSE)
    s = st.stability(p)
    assert float(s.growth_rate) > 0.01
    r = evolve(p, 100.0, y0=_seeded(p, s.normal, 1e-12), saveat=201, rtol=1e-9, atol=1e-12)
    a = np.log(np.abs(np.asarray(r.delta)))
    rate = np.polyfit(np.asarray(r.ts), a, 1)[0]
    assert abs(rate - float(s.growth_rate)) < 1e-4 * abs(float(s.growth_rate)) + 1e-6
    # Δ rotates at −Im λ at onset (s ∝ e^{λt}, Δ = conj(...))
    w = np.diff(np.unwrap(np.angle(np.asarray(r.delta)))) / np.diff(np.asarray(r.ts))
    np.testing.assert_allclose(w, -float(s.frequency), atol=1e-6)


@pytest.mark.slow
def test_critical_V_brackets_the_evolution_threshold():
    p = ps.InterbandParams(**COARSE)
    vc = float(st.critical_V(p))
    assert 1.5 < vc < 3.0  # the paper's "V ≳ 2"
    ns = normal_steady_state(p)
    for factor, grows in [(1.05, True), (0.95, False)]:
        q = eqx.tree_at(lambda q: q.V, p, vc * factor)
        r = evolve(q, 1500.0, y0=_seeded(q, ns, 1e-8), saveat=3)
        a = np.abs(np.asarray(r.delta))
        assert (a[-1] > a[0]) == grows, (factor, a)
    # the growth rate changes sign at V_c
    g = lambda V: float(st.stability(eqx.tree_at(lambda q: q.V, p, V), normal=ns).growth_rate)  # noqa: E731
    assert g(vc * 0.999) < 0 < g(vc * 1.001)


def test_threshold_is_the_secular_root_where_the_leading_mode_is_marginal():
    """critical_V (Newton on the secular equation of the diagonal-plus-rank-one L) equals an
    independent bisection on max Re eig L to 1e-11, the leading growth rate vanishes there,
    and its gradient (implicit differentiation) matches central differences."""
    p = ps.InterbandParams(**COARSE)
    vc = float(st.critical_V(p))
    ns = normal_steady_state(p)
    c0 = coefficients(p, half=True)

    def g(V):
        c = eqx.tree_at(lambda c: c.pair, c0, V * p.dk / (2 * np.pi))
        return float(np.max(np.linalg.eigvals(np.asarray(spec.pairing_operator(ns, c))).real))

    lo, hi = 0.0, 40.0
    for _ in range(60):  # plain bisection with numpy's eigvals
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
    assert vc == pytest.approx(0.5 * (lo + hi), abs=1e-11)
    assert abs(g(vc)) < 1e-12
    d = lambda G: st.critical_V(eqx.tree_at(lambda q: q.gamma_rr, p, G))  # noqa: E731
    grad = float(jax.grad(d)(p.gamma_rr))
    h = 1e-6
    fd = (float(d(p.gamma_rr + h)) - float(d(p.gamma_rr - h))) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-5)


@pytest.mark.slow
def test_phase_boundary_matches_pointwise_thresholds():
    p = ps.InterbandParams(**COARSE)
    Om = jnp.asarray([0.15, 0.3])
    vcs = np.asarray(st.phase_boundary(p, Om))
    for o, vc in zip(np.asarray(Om), vcs):
        assert abs(vc - float(st.critical_V(eqx.tree_at(lambda q: q.Omega, p, o)))) < 1e-6


def test_exactly_normal_state_stays_normal_where_it_is_unstable():
    # s ≡ 0 is invariant: λ = LOG_ZERO must not climb at the growth rate (it used to reach
    # λ ≈ 0 — a paired state — after ~1000 e-folds, t ≈ 16000 at these parameters).
    p = ps.InterbandParams(**COARSE)
    assert float(st.stability(p).growth_rate) > 0.03
    r = evolve(p, 40_000.0, y0=ps.interband.initial_state(p, seed=0.0), saveat=5)
    assert bool(r.success)
    assert np.all(np.asarray(r.delta) == 0)


@pytest.mark.slow
@pytest.mark.heavy
def test_normal_state_is_where_a_long_relaxation_lands():
    # At T = 0 the normal states form a continuum: plain Newton from a partly relaxed state
    # used to land elsewhere (V_c = 1.96 instead of 2.26 at Ω = 0.1). The pseudo-transient
    # polish must agree with a 15× longer evolution.
    p = ps.InterbandParams(Omega=0.1)  # the paper's grid (the coarse one hides the effect)
    short, long = normal_steady_state(p), normal_steady_state(p, t_relax=30_000.0)
    assert bool(short.success) and bool(long.success)
    np.testing.assert_allclose(np.asarray(short.n22), np.asarray(long.n22), atol=2e-4)
    vc_short, vc_long = float(st.critical_V(p)), float(st.critical_V(p, t_relax=30_000.0))
    assert abs(vc_short - vc_long) < 1e-4 * vc_long


@pytest.mark.slow
@pytest.mark.heavy
def test_critical_Omega_inverts_critical_V():
    # Ω_c(V_c(Ω0)) = Ω0 where V_c(Ω) is monotonic around Ω0. Its shape depends on the grid
    # (rising on this coarse one, peaked near Ω ≈ 0.05 on the paper's), so order the
    # bracket from the stable end (larger V_c) to the unstable one.
    p = ps.InterbandParams(**COARSE)
    vc_lo, vc0, vc_hi = np.asarray(st.phase_boundary(p, jnp.asarray([0.1, 0.15, 0.3])))
    assert min(vc_lo, vc_hi) < vc0 < max(vc_lo, vc_hi)
    q = eqx.tree_at(lambda q: q.V, p, vc0)
    bracket = (0.3, 0.1) if vc_hi > vc_lo else (0.1, 0.3)
    assert abs(float(st.critical_Omega(q, bracket=bracket)) - 0.15) < 1e-6
    assert np.isnan(float(st.critical_Omega(q, bracket=bracket[::-1])))  # g > 0 at its start
    with pytest.raises(ValueError, match="positive"):
        st.critical_Omega(q, bracket=(0.0, 0.3))


@pytest.mark.slow
def test_paired_branch_ends_at_the_linear_threshold_at_finite_temperature():
    # At T > 0 the normal steady state is unique (absorption lifts the Pauli-blocked dark
    # occupations), so the paired branch, followed by continuation, must close exactly where
    # the normal state turns unstable (a supercritical bifurcation: |Δ|² ∝ V − V_c). At T = 0
    # it ends above V_c on the paper's grid (README; this test fails with T = 0 there).
    from photosc_jax.interband import continuation

    p = ps.InterbandParams(T=0.01)  # paper grid
    vc = float(st.critical_V(p))
    vals = np.array([1.6, 1.3, 1.1, 1.04, 1.02, 1.01, 0.99]) * vc
    r = continuation(p, "V", vals)
    d = np.asarray(r.delta_abs)
    assert np.all(np.asarray(r.success))
    assert np.all(d[:-1] > 0) and d[-1] == 0.0  # paired just above V_c, normal just below
    # |Δ|² linear in V near V_c: the last three paired points extrapolate to V_c
    slope, icpt = np.polyfit(vals[-4:-1], d[-4:-1] ** 2, 1)
    assert abs(-icpt / slope - vc) < 2e-3 * vc


def test_normal_state_success_comes_from_the_residual_not_newtons_step_limit():
    # Along the T = 0 zero modes Newton's step criterion may never be met although the
    # residual is 1e-17 (critical_V(InterbandParams(v=0.112)) used to be NaN): success is
    # decided by the residual and the population range. One polish step cannot satisfy
    # optimistix's step criterion, so this failed before the fix.
    p = ps.InterbandParams(**COARSE)
    ns = normal_steady_state(p, max_steps=1)
    assert float(ns.residual) < 1e-10
    assert bool(ns.success)
    bad = eqx.tree_at(lambda n: n.n22, ns, ns.n22.at[3].set(1.2))
    physical = jnp.all((bad.n22 >= 0) & (bad.n22 <= 1))
    result = RESULTS.where(physical, RESULTS.successful, RESULTS.normal_state_failed)
    assert not bool(
        NormalState(bad.n11, bad.n22, bad.n21, bad.residual, result, bad.t_relax, bad.relax_steps).success
    )


@pytest.mark.slow
def test_thresholds_where_the_normal_state_used_to_fail_or_land_wrong():
    # Paper grid. v = 0.112: the Newton polish hit its step limit at residual 1e-17 (V_c was
    # NaN; true 1.9652). Ω = 0.05 and 0.02: a fixed relaxation time landed on another member
    # of the T = 0 normal continuum (2.3183 and 2.2709); relaxing until the normal state
    # stops moving gives the long-relaxation values (t_relax = 2e5: 2.31640, 2.27526).
    # Ω = 0.01: the relaxation is slowest; stopping at |dn/dt| < 1e-6 with 200 pseudo steps
    # gave 2.27529, 3.4e-4 below the value relaxed to |dn/dt| < 1e-9 (t ≈ 7e5), 2.2756246.
    assert abs(float(st.critical_V(ps.InterbandParams(v=0.112))) - 1.9652) < 2e-4
    for Om, vc in [(0.05, 2.316402), (0.02, 2.275256), (0.01, 2.2756246)]:
        assert abs(float(st.critical_V(ps.InterbandParams(Omega=Om))) - vc) < 1e-5, Om


@pytest.mark.slow
def test_paired_stability_exchanges_stability_with_the_normal_state_at_threshold():
    """Exact limit of a supercritical pitchfork (T > 0, where the branch closes at V_c):
    close to threshold the paired state's slowest mode is the amplitude mode with rate
    −2g, g the normal state's growth rate at the same V (Landau: ȧ = g a − b|a|²a). Paper
    box, coarse grid, T = 0.01; the relative deviation shrinks ∝ V − V_c. Also: the reduced
    spectrum is eig(J) without exactly its two symmetry zeros."""
    import equinox as eqx

    from photosc_jax.interband import continuation
    from photosc_jax.interband.corotating import corotating_flow, unknowns_of
    from photosc_jax.interband.equations import coefficients
    from photosc_jax.interband.paired_stability import paired_stability, reduced_jacobian

    p = ps.InterbandParams(Omega=0.25, T=0.01, **COARSE)
    vc = float(st.critical_V(p))
    values = vc + np.geomspace(0.5, 2e-3, 14)
    branch = continuation(eqx.tree_at(lambda q: q.V, p, float(values[0])), "V", values)
    assert bool(np.all(branch.success))
    dev = []
    for i in (-4, -1):
        q = eqx.tree_at(lambda q: q.V, p, float(values[i]))
        ss = jax.tree.map(
            lambda a, i=i: a[i] if getattr(a, "ndim", 0) and len(a) == len(values) else a, branch
        )
        ss = eqx.tree_at(lambda s: s.params, ss, q)
        mode = paired_stability(ss)
        g = float(st.stability(q).growth_rate)
        assert float(mode.frequency) == 0.0 and float(mode.growth_rate) < 0 < g
        dev.append(float(mode.growth_rate) / (-2 * g) - 1)
    assert abs(dev[1]) < 0.02 and abs(dev[1]) < 0.5 * abs(dev[0])
    # eig(J) = {0, 0} ∪ eig(K) at the last point
    x = unknowns_of(ss)
    full = np.sort_complex(
        np.linalg.eigvals(np.asarray(jax.jacfwd(corotating_flow)(x[:-1], x[-1], coefficients(q, half=True))))
    )
    red = np.linalg.eigvals(np.asarray(reduced_jacobian(q, x)))
    near0 = np.sort(np.abs(full))[:2]
    assert np.all(near0 < 1e-6) and len(red) == len(full) - 2
    assert np.max(red.real) == pytest.approx(np.sort(full.real)[-3], abs=1e-7)
