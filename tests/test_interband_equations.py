"""Structural physics of the interband equations: tables, conservation, detailed balance,
the normal-state fixed point, parameter validation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import SMALL  # N = 41, phonon shifts 4 and 1

import photosc_jax as ps
from photosc_jax.interband import k_grid, phonon_tables, vector_field


def _random_state(rng, n, pairing=0.1):
    """A random mirror-symmetric state (not necessarily Gaussian-consistent)."""
    half = rng.uniform(0.05, 0.95, size=(4, n // 2 + 1))
    sym = lambda a: np.concatenate([a[:0:-1], a])  # noqa: E731
    n11, n22 = sym(half[0]), sym(half[1])
    n21 = sym(0.2 * (half[2] - 0.5)) + 1j * sym(0.2 * (half[3] - 0.5))
    s = pairing * (sym(rng.normal(size=n // 2 + 1)) + 1j * sym(rng.normal(size=n // 2 + 1)))
    return ps.interband.InterbandState(
        n11=jnp.asarray(n11), n22=jnp.asarray(n22), n21=jnp.asarray(n21), s21=jnp.asarray(s)
    )


def test_grid_and_paper_defaults():
    p = ps.InterbandParams()
    k = np.asarray(k_grid(p))
    assert p.n_k == 201 and k[0] == pytest.approx(-0.2) and k[-1] == pytest.approx(0.2)
    assert k[100] == 0.0
    tab = phonon_tables(p)
    assert np.asarray(tab.shift).tolist() == [[7], [2]]  # v/A1 = 7 steps exactly at the defaults


@pytest.mark.parametrize(
    "params",
    [
        ps.InterbandParams(),
        ps.InterbandParams(**SMALL, T=0.02),
        ps.InterbandParams(**{**SMALL, "v": 0.3456}, T=0.02, phonon_targets="linear"),
        ps.InterbandParams(v=0.105, phonon_targets="linear"),
    ],
)
def test_phonon_tables_follow_the_jump_rule(params):
    tab = jax.tree_util.tree_map(np.asarray, phonon_tables(params))
    k = np.asarray(k_grid(params))
    c = (params.n_k - 1) // 2
    for band, A in enumerate((float(params.A1), float(params.A2))):
        sigma = float(params.v) / (A * params.dk)
        if params.phonon_targets == "nearest":
            assert tab.shift[band].tolist() == [int(np.floor(sigma + 0.5))]
            assert tab.weight[band].tolist() == [1.0]
        else:  # split between floor(σ) and floor(σ) + 1 with linear weights
            assert tab.shift[band].tolist() == [int(np.floor(sigma)), int(np.floor(sigma)) + 1]
            np.testing.assert_allclose(tab.weight[band], [1 - sigma % 1, sigma % 1], rtol=1e-12)
            assert 0 < sigma % 1 < 1  # a genuinely split case
            assert float(tab.weight[band] @ tab.shift[band]) == pytest.approx(sigma, rel=1e-12)
        for r, s in enumerate(tab.shift[band].tolist()):
            for j in range(params.n_k):
                x = j - c
                t = int(tab.target[band, r, j])
                emits = 2 * abs(x) > s
                assert (float(tab.emit[band, r, j]) > 0) == emits
                if emits:
                    assert t - c == -x + np.sign(x) * s  # lands across k = 0, closer to it
                    assert abs(t - c) < abs(x)
                    w = A * (k[j] ** 2 - k[t] ** 2)
                    assert w > 0 and float(tab.w[band, r, j]) == pytest.approx(w)
                    # the grid energy loss equals v|k - k'| when v/A is a whole number of steps
                    if abs(sigma - s) < 1e-9:
                        assert w == pytest.approx(float(params.v) * abs(k[j] - k[t]))
            # inflow tables list exactly the emitters landing on each point
            for y in range(params.n_k):
                src = [
                    int(tab.in_src[band, r, side, y])
                    for side in range(2)
                    if tab.in_mask[band, r, side, y] > 0
                ]
                expected = [
                    j
                    for j in range(params.n_k)
                    if float(tab.emit[band, r, j]) > 0 and int(tab.target[band, r, j]) == y
                ]
                assert sorted(src) == expected


@pytest.mark.parametrize("rule", ["nearest", "linear"])
@pytest.mark.parametrize("Omega", [0.0, 0.25, 1.3])
def test_particle_number_conserved_in_the_normal_state(Omega, rule):
    rng = np.random.default_rng(0)
    p = ps.InterbandParams(**{**SMALL, "v": 0.3456}, Omega=Omega, gamma_rr=0.05, T=0.03, phonon_targets=rule)
    st = _random_state(rng, p.n_k, pairing=0.0)
    d = vector_field(0.0, st, p)
    assert float(jnp.sum(d.n11 + d.n22)) == pytest.approx(0.0, abs=1e-14)
    assert np.all(np.asarray(d.s21) == 0)  # s ≡ 0 is a fixed point: the normal state


def test_particle_number_conserved_with_self_consistent_pairing():
    """With Δ self-consistent, Σ_p Im(Δ s_p) = Im(Vdk/2π |Σs|²) = 0: pairs are not created
    out of nothing, the mean-field dynamics conserves N exactly (any V)."""
    rng = np.random.default_rng(1)
    for V, rule in ((-3.0, "nearest"), (5.0, "nearest"), (5.0, "linear")):
        p = ps.InterbandParams(**{**SMALL, "v": 0.3456}, V=V, gamma_rr=0.05, phonon_targets=rule)
        st = _random_state(rng, p.n_k, pairing=0.3)
        d = vector_field(0.0, st, p)
        assert float(jnp.sum(d.n11 + d.n22)) == pytest.approx(0.0, abs=1e-13)
        # ... while each band alone is not conserved (the check can fail)
        assert abs(float(jnp.sum(d.n22))) > 1e-4


@pytest.mark.parametrize("rule", ["nearest", "linear"])
def test_fermi_dirac_is_exactly_stationary(rule):
    """Detailed balance on the grid: any Fermi–Dirac population (own μ per band) is a fixed
    point of the phonon dynamics at T > 0, whatever v (here v/A is not a whole number) and
    with either target rule (every split jump balances with its own Bose factor)."""
    p = ps.InterbandParams(
        **{**SMALL, "v": 0.3456}, Omega=0.0, V=0.0, gamma_rr=0.0, T=0.02, phonon_targets=rule
    )
    k = k_grid(p)
    fd = lambda A, mu: 1.0 / (jnp.exp((A * k**2 - mu) / 0.02) + 1.0)  # noqa: E731
    st = ps.interband.InterbandState(
        n11=fd(p.A1, 0.05),
        n22=fd(p.A2, 0.1),
        n21=jnp.zeros(p.n_k, complex),
        s21=jnp.zeros(p.n_k, complex),
    )
    d = vector_field(0.0, st, p)
    assert float(jnp.max(jnp.abs(d.n11))) < 1e-15
    assert float(jnp.max(jnp.abs(d.n22))) < 1e-15
    # a distribution at the wrong temperature is not stationary
    st2 = ps.interband.InterbandState(n11=fd(p.A1 * 2, 0.05), n22=st.n22, n21=st.n21, s21=st.s21)
    assert float(jnp.max(jnp.abs(vector_field(0.0, st2, p).n11))) > 1e-4


@pytest.mark.slow
def test_detailed_balance_reached_dynamically():
    """Ω = V = Γrr = 0, T > 0, from random populations: the steady state obeys
    n_a(1−n_b)/(n_b(1−n_a)) = exp(−(E_a−E_b)/T) on every phonon-connected pair."""
    T = 0.02
    p = ps.InterbandParams(**SMALL, Omega=0.0, V=0.0, gamma_rr=0.0, T=T, gamma_ph=0.05)
    st = _random_state(np.random.default_rng(3), p.n_k, pairing=0.0)
    st = ps.interband.InterbandState(n11=st.n11, n22=st.n22, n21=st.n21 * 0, s21=st.s21)
    r = ps.interband.evolve(p, 40000.0, y0=st, saveat=2, rtol=1e-10, atol=1e-12)
    assert bool(r.success)
    tab = phonon_tables(p)
    k = np.asarray(k_grid(p))
    checked = 0
    for band, (A, n) in enumerate([(float(p.A1), r.state.n11), (float(p.A2), r.state.n22)]):
        n = np.asarray(n)
        for j in range(p.n_k):
            if float(tab.emit[band, 0, j]) == 0:
                continue
            t = int(tab.target[band, 0, j])
            lhs = n[j] * (1 - n[t]) / (n[t] * (1 - n[j]))
            assert lhs == pytest.approx(np.exp(-A * (k[j] ** 2 - k[t] ** 2) / T), rel=1e-6)
            checked += 1
    assert checked > 40
    # the populations moved: the initial random state was far from this
    assert np.max(np.abs(np.asarray(r.state.n11) - np.asarray(st.n11))) > 0.1


def test_vector_field_is_jit_vmap_grad_safe():
    """Under jit, vmap and grad the right-hand side is the same function of V as eagerly: V
    enters only through Δ = conj((V dk/2π) Σ s), so d(state)/dt is affine in V (Δ = 0 at
    V = 0), and d/dV equals the (exact) finite difference of an affine function."""
    p = ps.InterbandParams(**SMALL)
    st = _random_state(np.random.default_rng(4), p.n_k)

    def n22_dot(V):
        return vector_field(0.0, st, eqx.tree_at(lambda q: q.V, p, V)).n22

    Vs = jnp.linspace(0.0, 4.0, 3)
    eager = jnp.stack([n22_dot(jnp.asarray(V)) for V in Vs])
    jitted = jnp.stack([jax.jit(n22_dot)(V) for V in Vs])
    batched = jax.vmap(n22_dot)(Vs)
    np.testing.assert_allclose(jitted, eager, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(batched, eager, rtol=1e-13, atol=1e-15)
    step = eager[1] - eager[0]
    assert float(jnp.max(jnp.abs(step))) > 1e-3, "V must change dn22/dt (through Δ)"
    np.testing.assert_allclose(eager[2] - eager[1], step, rtol=1e-10, atol=1e-14)  # affine in V
    assert complex(ps.interband.order_parameter(st, eqx.tree_at(lambda q: q.V, p, 0.0))) == 0  # Δ ∝ V
    g = jax.grad(lambda V: jnp.sum(n22_dot(V)))(jnp.asarray(3.0))
    fd = jnp.sum(step) / (Vs[1] - Vs[0])
    assert float(g) == pytest.approx(float(fd), rel=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gamma_ph=-0.1), "gamma_ph"),
        (dict(gamma_rr=-1e-3), "gamma_rr"),
        (dict(T=-0.01), "T"),
        (dict(dk=0.3), "must not exceed k_max"),
        (dict(v=0.01), "not resolved"),
        (dict(Omega=float("nan")), "not finite"),
        (dict(A1=-7.0), "positive"),
        (dict(dk=0.003), "whole number"),
        (dict(A1=1.0, v=0.5), "exceeds the box"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ps.InterbandParams(**kwargs)


@pytest.mark.parametrize("T", [0.0, 0.03])
def test_mirror_reduced_solver_rhs_equals_full_grid(T):
    """The solvers integrate k ≥ 0 only; on mirror-symmetric states this must be exact:
    the reduced right-hand side equals the k ≥ 0 half of the full-grid one."""
    from photosc_jax.interband import coefficients
    from photosc_jax.interband.solver_state import full_grid, half_grid, pack, rhs

    for params in (ps.InterbandParams(T=T), ps.InterbandParams(**SMALL, T=T, V=-2.0)):
        st = _random_state(np.random.default_rng(5), params.n_k, pairing=0.2)
        y_half = pack(st)
        m = (y_half.shape[0] - 1) // 6
        y_full = jnp.concatenate([full_grid(y_half[i * m : (i + 1) * m]) for i in range(6)] + [y_half[-1:]])
        jrhs, jcoef = jax.jit(rhs), eqx.filter_jit(coefficients)  # one compile, not one per op
        d_full = jrhs(0.0, y_full, jcoef(params))
        d_half = jrhs(0.0, y_half, jcoef(params, half=True))
        n = params.n_k
        expected = jnp.concatenate([half_grid(d_full[i * n : (i + 1) * n]) for i in range(6)] + [d_full[-1:]])
        np.testing.assert_allclose(np.asarray(d_half), np.asarray(expected), atol=1e-14)
        assert float(jnp.max(jnp.abs(d_half))) > 1e-3


@pytest.mark.parametrize("rule", ["nearest", "linear"])
def test_bose_factors_in_the_tables(rule):
    p = ps.InterbandParams(**{**SMALL, "v": 0.3456}, T=0.03, phonon_targets=rule)
    t = jax.tree_util.tree_map(np.asarray, phonon_tables(p))
    emits = t.emit > 0
    weight = np.broadcast_to(t.weight[:, :, None], t.emit.shape)[emits]
    assert rule == "nearest" or np.all(weight < 1)
    np.testing.assert_allclose(t.bose[emits], 1.0 / np.expm1(t.w[emits] / 0.03), rtol=1e-12)
    np.testing.assert_allclose(t.emit[emits], 2 * 0.02 * weight * (1 + t.bose[emits]), rtol=1e-12)
    np.testing.assert_allclose(t.absorb[emits], 2 * 0.02 * weight * t.bose[emits], rtol=1e-12)
    assert np.all(phonon_tables(ps.InterbandParams(**SMALL)).bose == 0)  # T = 0
