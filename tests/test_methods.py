"""Steady-state methods as objects (issue 11): validation, the string API mapping onto them,
one outcome enumeration with messages, and float knobs that never recompile."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import photosc_jax as ps
from photosc_jax.interband import RESULTS, Evolve, Newton, continuation, evolve, outcomes, steady_state
from photosc_jax.interband._traces import TRACES
from photosc_jax.interband.direct import chord_solve, electron_number, factor_jacobian, unknowns_of
from photosc_jax.interband.methods import as_method
from photosc_jax.interband.stability import critical_V, normal_steady_state

# N = 41 points, phonon shifts 4 (band 1) and 1 (band 2): the physics of the paper's model
# (threshold near V ≈ 2, a paired state at V = 5) at a fraction of the cost.
SMALL = dict(k_max=0.2, dk=0.01, v=0.3)


def test_methods_validate_and_name_the_fix():
    with pytest.raises(ValueError, match="t_max must be positive"):
        Evolve(t_max=-1.0)
    with pytest.raises(ValueError, match="max_steps"):
        Newton(max_steps=0)
    with pytest.raises(ValueError, match="diffrax solver"):
        Evolve(solver="dopri8")
    with pytest.raises(ValueError, match="Evolve"):
        Newton(fallback="evolve")
    p = ps.InterbandParams(**SMALL)
    with pytest.raises(ValueError, match=r"Evolve\(t_max=1e5"):
        steady_state(p, method=Evolve(), t_max=10.0)
    with pytest.raises(ValueError, match="method object"):
        steady_state(p, method="newton")


def test_strings_map_to_the_method_objects():
    assert eqx.tree_equal(as_method("evolve"), Evolve())
    assert eqx.tree_equal(as_method("evolve", t_max=10.0, rtol=1e-8), Evolve(t_max=10, rtol=1e-8))
    d = as_method("direct", t_max=10.0, delta_floor=1e-9)
    assert isinstance(d, Newton) and eqx.tree_equal(d.fallback, Evolve(t_max=10.0, delta_floor=1e-9))
    assert float(d.delta_floor) == 1e-9
    assert eqx.tree_equal(as_method("direct"), Newton())
    # the keyword API and the object give the same answer
    p = ps.InterbandParams(**SMALL)
    a = steady_state(p, method="direct")
    b = steady_state(p, method=Newton())
    assert bool(a.converged) and float(a.delta_abs) > 1e-3
    assert float(a.delta_abs) == float(b.delta_abs)


def test_outcome_codes_are_small_stable_ints():
    assert outcomes.names()[:4] == ["successful", "t_max_reached", "max_steps_reached", "solver_failed"]
    assert [int(outcomes.code(getattr(RESULTS, n))) for n in outcomes.names()] == list(range(len(RESULTS)))
    # every message starts with its outcome's name, so a printed result reads by name
    assert all(RESULTS[getattr(RESULTS, n)].startswith(n) for n in outcomes.names())
    assert repr(RESULTS.successful).endswith("RESULTS<successful>")
    assert len(RESULTS[RESULTS.newton_failed]) > 60  # and the rest says what to change


def test_failures_are_reported_and_raised_with_the_fix():
    p = ps.InterbandParams(**SMALL)
    r = evolve(p, 100.0, max_steps=3, saveat=3)
    assert not bool(r.success) and bool(r.result == RESULTS.max_steps_reached)
    with pytest.raises(RuntimeError, match="Increase max_steps"):
        evolve(p, 100.0, max_steps=3, saveat=3, throw=True)
    s = steady_state(p, method=Evolve(t_max=5.0))  # far too short to settle
    assert not bool(s.converged) and bool(s.result == RESULTS.t_max_reached)
    with pytest.raises(RuntimeError, match=r"Increase t_max \(Evolve\(t_max=...\)\)"):
        steady_state(p, method=Evolve(t_max=5.0), throw=True)
    below = eqx.tree_at(lambda q: q.V, p, 0.5)
    n = steady_state(below, method=Newton(fallback=None, warm=Evolve(t_max=500.0)))
    assert bool(n.result == RESULTS.not_paired) and not bool(n.converged)
    ok = steady_state(below, method=Newton(warm=Evolve(t_max=500.0)))  # falls back: normal
    assert bool(ok.result == RESULTS.successful) and float(ok.delta_abs) == 0.0
    assert bool(ok.stats["fallback"])
    steady_state(p, method=Newton(), throw=True)  # success does not raise


def _traces(name):
    return TRACES[name]


def test_float_knobs_never_recompile():
    """t1, t_max, tol, rtol, atol, brackets and every float parameter are traced: a new value
    reuses the compiled solver (counted traces, not log text)."""
    p = ps.InterbandParams(**SMALL)
    evolve(p, 50.0, saveat=5)
    n0 = _traces("evolve")
    evolve(eqx.tree_at(lambda q: q.V, p, 4.0), 80.0, t0=1.0, saveat=5, rtol=1e-7, atol=1e-10)
    evolve(ps.InterbandParams(**SMALL, Omega=0.3, T=0.01), 60.0, saveat=5)
    assert _traces("evolve") == n0

    steady_state(p, method=Evolve(t_max=300.0))
    n0 = _traces("steady.evolve")
    steady_state(
        eqx.tree_at(lambda q: q.gamma_ph, p, 0.03),
        method=Evolve(t_max=400.0, rtol=1e-7, atol=1e-11, delta_floor=1e-10),
    )
    steady_state(p, method="evolve", t_max=350.0, rtol=2e-6)
    assert _traces("steady.evolve") == n0
    steady_state(p, method=Evolve(t_max=300.0, tol=1e-6))  # an explicit tol: traced too
    n0 = _traces("steady.evolve")
    steady_state(p, method="evolve", t_max=350.0, tol=2e-6)
    assert _traces("steady.evolve") == n0

    steady_state(p, method=Newton())
    n0 = _traces("direct.newton")
    steady_state(
        eqx.tree_at(lambda q: q.V, p, 4.5),
        method=Newton(tol=1e-10, warm=Evolve(t_max=1e4, rtol=1e-5, atol=1e-8)),
    )
    assert _traces("direct.newton") == n0

    # the chord corrector of continuation and the phase map: tolerances and the iteration
    # budget are traced; the budget still caps the iterations
    q = eqx.tree_at(lambda q: q.V, p, 4.8)
    x = unknowns_of(steady_state(p, method=Newton()))
    n_e = electron_number(p)
    lu = factor_jacobian(p, x, n_e)
    full, _ = chord_solve(q, x, n_e, lu, tol=1e-11)
    n0 = _traces("direct.chord")
    capped, _ = chord_solve(q, x, n_e, lu, tol=1e-10, max_iter=2, steady_tol=1e-6)
    assert _traces("direct.chord") == n0
    assert int(capped.stats["newton_steps"]) == 2 < int(full.stats["newton_steps"])
    assert bool(full.converged) and not bool(capped.converged)

    normal_steady_state(p, t_relax=500.0)
    n0 = _traces("stability.normal_steady_state")
    normal_steady_state(eqx.tree_at(lambda q: q.T, p, 0.01), t_relax=800.0, tol=1e-10)
    assert _traces("stability.normal_steady_state") == n0

    critical_V(p, relax_tol=1e-7)
    n0 = _traces("stability.critical_V")
    critical_V(eqx.tree_at(lambda q: q.Omega, p, 0.3), bracket=(0.5, 30.0), relax_tol=1e-8)
    assert _traces("stability.critical_V") == n0


def test_continuation_takes_the_method_objects():
    p = ps.InterbandParams(**SMALL)
    vals = [5.0, 4.6, 4.2]
    a = continuation(p, "V", vals, method=Newton(tol=1e-12))
    b = continuation(p, "V", vals, newton_tol=1e-12)  # keyword form
    np.testing.assert_array_equal(np.asarray(a.delta_abs), np.asarray(b.delta_abs))
    assert np.all(np.asarray(a.result == RESULTS.successful))  # elementwise over the scan
    e = continuation(p, "V", vals, method=Evolve())
    assert np.all(np.asarray(e.converged))
    np.testing.assert_allclose(np.asarray(e.delta_abs), np.asarray(a.delta_abs), rtol=1e-4)
    with pytest.raises(ValueError, match="method object"):
        continuation(p, "V", vals, method=Newton(), newton_tol=1e-9)
    with pytest.raises(RuntimeError, match=r"index 0"):
        continuation(p, "V", [5.0], method=Evolve(t_max=5.0), throw=True)


def test_method_fields_are_dynamic_leaves():
    # tolerances and times are array leaves (traced under jit); loop bounds and the
    # solver are static
    n_leaves = len(jax.tree.leaves(eqx.filter(Newton(), eqx.is_array)))
    # Newton: tol, delta_floor; warm and fallback: t_max, rtol, atol, delta_floor (tol None:
    # tied to rtol)
    assert n_leaves == 2 + 4 + 4
    assert len(jax.tree.leaves(Evolve(tol=1e-8))) == 5
    assert jnp.asarray(Evolve().t_max).dtype == jnp.float64
