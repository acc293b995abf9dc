"""Newton's method in the co-rotating frame (`steady_state(params, Newton())`) against long
time evolution, and `continuation` along a line of points."""

import jax.numpy as jnp
import numpy as np
import pytest

import photosc_jax as ps
from photosc_jax.interband import RESULTS, Evolve, Newton, SolveError, evolve, steady_state
from photosc_jax.interband.corotating import corotating_residual
from photosc_jax.interband.state import initial_state


def test_newton_agrees_with_long_time_evolution_at_fig3_parameters():
    p = ps.InterbandParams()  # paper Fig. 3: Omega = 0.25, V = 5, N = 201
    d = steady_state(p, Newton())
    e = steady_state(p, Evolve())
    assert bool(d.success) and bool(e.success)
    assert not bool(d.stats["fallback"])
    assert float(d.stats["max_residual"]) < 1e-12
    assert abs(float(d.delta_abs) - float(e.delta_abs)) < 1e-6
    assert abs(float(d.mu) - float(e.mu)) < 1e-6
    assert abs(float(d.delta_abs) - 0.019049) < 2e-6  # README / steady.py value
    np.testing.assert_allclose(d.state.n22, e.state.n22, atol=1e-5)
    # gauge fixed: Δ real; particle number of the initial state conserved
    assert abs(float(ps.interband.order_parameter(d.state, p).imag)) < 1e-14
    assert abs(float(d.state.particle_number()) - p.n_k) < 1e-9


def test_newton_state_is_stationary_in_the_lab_frame():
    """Evolving the Newton state: |Δ| stays put and arg Δ advances at μ."""
    p = ps.InterbandParams(v=0.1, dk=4e-3)
    d = steady_state(p, Newton())
    assert bool(d.success)
    r = evolve(p, 20.0, y0=d.state, saveat=5, rtol=1e-10, atol=1e-13)
    assert np.max(np.abs(np.abs(np.asarray(r.delta)) - float(d.delta_abs))) < 1e-9
    phase = np.unwrap(np.angle(np.asarray(r.delta)))
    np.testing.assert_allclose(np.diff(phase) / np.diff(np.asarray(r.ts)), float(d.mu), atol=1e-8)


def test_residual_vanishes_only_with_the_right_mu():
    p = ps.InterbandParams(v=0.1, dk=4e-3)
    d = steady_state(p, Newton())
    from photosc_jax.interband.equations import coefficients
    from photosc_jax.interband.solver_state import half_grid

    c = coefficients(p, half=True)
    s = d.state
    x = jnp.concatenate(
        [
            half_grid(s.n11),
            half_grid(s.n22),
            half_grid(s.n21.real),
            half_grid(s.n21.imag),
            half_grid(s.s21.real),
            half_grid(s.s21.imag),
            jnp.atleast_1d(d.mu),
        ]
    )
    args = (c, float(p.n_k))
    assert float(jnp.max(jnp.abs(corotating_residual(x, args)))) < 1e-12
    assert float(jnp.max(jnp.abs(corotating_residual(x.at[-1].add(1e-3), args)))) > 1e-5


def test_below_threshold_falls_back_to_evolution():
    p = ps.InterbandParams(v=0.1, dk=4e-3, V=1.0)
    d = steady_state(p, Newton(warm=Evolve(t_max=3000.0, rtol=1e-4, atol=1e-7)))
    assert bool(d.stats["fallback"])
    assert float(d.delta_abs) == 0.0
    assert bool(d.success)


def test_newton_refuses_an_unphysical_root():
    """Newton started far from the steady state (the paper's initial populations with a
    uniform s = 0.1, no warm start) converges at the Fig. 3 point to a stationary point of
    the mean-field equations with n11 down to -5.4 and |Δ| = 0.0245: a root, but not a
    state: `unphysical_root`, and the fallback evolves from the same start to the state the
    dynamics reaches (|Δ| = 0.0190488)."""
    p = ps.InterbandParams()
    y0 = initial_state(p, 0.1 + 0j)
    s = steady_state(p, Newton(fallback=None, max_steps=60), y0=y0)
    assert float(jnp.max(jnp.abs(s.stats["max_residual"]))) < 1e-10  # a true root ...
    assert float(s.state.n11.min()) < -1.0  # ... outside the physical range
    assert bool(s.result == RESULTS.unphysical_root) and not bool(s.success)
    with pytest.raises(SolveError, match="outside"):
        steady_state(p, Newton(fallback=None, max_steps=60), y0=y0, throw=True)
    f = steady_state(p, Newton(max_steps=60), y0=y0)
    assert bool(f.success) and bool(f.stats["fallback"])
    assert abs(float(f.delta_abs) - 0.0190488) < 1e-6
    assert float(f.state.n11.min()) > 0.0


def test_continuation_matches_pointwise_solves_and_crosses_the_threshold():
    import equinox as eqx

    from photosc_jax.interband import continuation

    p = ps.InterbandParams(v=0.1, dk=4e-3)
    vals = [1.5, 3.0, 3.2, 3.4, 3.6]  # below threshold (V_c ≈ 2.2), then paired
    r = continuation(p, "V", vals)
    assert r.delta_abs.shape == (5,) and np.all(np.asarray(r.success))
    assert float(r.delta_abs[0]) == 0.0 and bool(r.stats["fallback"][0])
    np.testing.assert_allclose(np.asarray(r.params.V), vals)
    for i in range(1, 5):
        cold = steady_state(eqx.tree_at(lambda q: q.V, p, vals[i]), Newton())
        assert abs(float(r.delta_abs[i]) - float(cold.delta_abs)) < 1e-10
        assert abs(float(r.mu[i]) - float(cold.mu)) < 1e-10
    # continued points start from the secant predictor: no warm-start evolution at all
    assert np.all(np.asarray(r.stats["warm_steps"][2:]) == 0)
    with pytest.raises(ValueError, match="k_max"):
        continuation(p, "dk", [1e-3])


def test_float_fields_set_by_tree_at_do_not_recompile():
    # eqx.tree_at bypasses the converters; a Python float leaf would be static under
    # eqx.filter_jit and recompile the solver for every value (seconds per call). Counted
    # traces of the jitted Newton core, not log text.
    import equinox as eqx

    from photosc_jax.interband.corotating import _newton_core

    p = ps.InterbandParams(v=0.1, dk=4e-3)
    steady_state(eqx.tree_at(lambda q: q.V, p, 4.0), Newton())
    n = eqx.debug.get_num_traces(_newton_core)
    steady_state(eqx.tree_at(lambda q: q.V, p, 4.5), Newton())
    warm = eqx.tree_at(lambda m: m.warm.t_max, Newton(tol=1e-10), 1e4)  # a Python float leaf
    steady_state(eqx.tree_at(lambda q: q.V, p, 4.5), eqx.tree_at(lambda m: m.warm.rtol, warm, 2e-4))
    assert eqx.debug.get_num_traces(_newton_core) == n
