"""Solver methods as objects: validation, one entry point that takes only method objects,
one outcome enumeration with messages and one exception type, and float knobs that never
recompile (traces counted with `eqx.debug.get_num_traces`)."""

import importlib

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import photosc_jax as ps
from photosc_jax.interband import (
    RESULTS,
    Continuation,
    Evolve,
    Newton,
    SolveError,
    continuation,
    corotating,
    evolve,
    normal_state,
    outcomes,
    stability,
    steady,
    steady_state,
)
from photosc_jax.interband.corotating import chord_solve, electron_number, factor_jacobian, unknowns_of
from photosc_jax.interband.normal_state import normal_steady_state
from photosc_jax.interband.stability import critical_V

# N = 41 points, phonon shifts 4 (band 1) and 1 (band 2): the physics of the paper's model
# (threshold near V ≈ 2, a paired state at V = 5) at a fraction of the cost.
SMALL = dict(k_max=0.2, dk=0.01, v=0.3)
# the module (the package attribute `evolve` is the function)
evolve_module = importlib.import_module("photosc_jax.interband.evolve")


def traces(core) -> int:
    """How often a jitted solver core was traced (compiled)."""
    return eqx.debug.get_num_traces(core)


def test_methods_validate_and_name_the_fix():
    with pytest.raises(ValueError, match="t_max must be positive"):
        Evolve(t_max=-1.0)
    with pytest.raises(ValueError, match="max_steps"):
        Newton(max_steps=0)
    with pytest.raises(TypeError, match="diffrax solver"):
        Evolve(solver="dopri8")
    with pytest.raises(ValueError, match="max_jump must be at most 1"):
        Continuation(max_jump=2.0)
    # wrong types: a TypeError (the runtime type checks of the tests catch them first)
    for build in (
        lambda: Newton(fallback="evolve"),
        lambda: Continuation(quench=1),
        lambda: Continuation(confirm=Newton()),
    ):
        with pytest.raises(TypeError):
            build()
    p = ps.InterbandParams(**SMALL)
    # only method objects: a string, or a keyword of the old API, says what to pass
    for bad in ("newton", "evolve", "direct", Continuation()):
        with pytest.raises(TypeError, match=r"pass a method object, Evolve\(...\)"):
            steady_state(p, bad)
    with pytest.raises(TypeError, match="t_max"):
        steady_state(p, Evolve(), t_max=10.0)
    with pytest.raises(TypeError, match=r"pass a method object"):
        continuation(p, "V", [5.0], method="direct")
    with pytest.raises(TypeError, match=r"newton_tol"):
        continuation(p, "V", [5.0], newton_tol=1e-9)


def test_evolve_tol_defaults_to_half_rtol_and_is_always_an_array():
    assert float(Evolve().tol) == 0.5 * float(Evolve().rtol) == 5e-7
    assert float(Evolve(rtol=1e-8).tol) == 5e-9
    assert float(Evolve(tol=1e-9).tol) == 1e-9
    # the same pytree whether tol is given or not: no new program for an explicit tol
    assert jax.tree.structure(Evolve()) == jax.tree.structure(Evolve(tol=3e-7))
    n_leaves = len(jax.tree.leaves(eqx.filter(Newton(), eqx.is_array)))
    assert n_leaves == 2 + 5 + 5  # Newton: tol, delta_floor; warm and fallback: 5 floats each
    assert len(jax.tree.leaves(Evolve(tol=1e-8))) == 5
    assert jnp.asarray(Evolve().t_max).dtype == jnp.float64
    c = Continuation()
    assert len(jax.tree.leaves(c)) == 3 and c.quench is False and c.confirm is None
    assert len(jax.tree.leaves(Continuation(confirm=Evolve()))) == 8


def test_outcome_codes_are_small_stable_ints():
    assert outcomes.names() == [
        "successful",
        "t_max_reached",
        "max_steps_reached",
        "solver_failed",
        "newton_failed",
        "not_paired",
        "normal_state_failed",
        "unphysical_root",
        "oscillating",
    ]
    assert [int(outcomes.code(getattr(RESULTS, n))) for n in outcomes.names()] == list(range(len(RESULTS)))
    # every message starts with its outcome's name, so a printed result reads by name
    assert all(RESULTS[getattr(RESULTS, n)].startswith(n) for n in outcomes.names())
    assert repr(RESULTS.successful).endswith("RESULTS<successful>")
    assert len(RESULTS[RESULTS.newton_failed]) > 60  # and the rest says what to change
    assert issubclass(SolveError, RuntimeError)


def test_failures_are_reported_and_raised_as_one_exception_type():
    p = ps.InterbandParams(**SMALL)
    r = evolve(p, 100.0, max_steps=3, saveat=3)
    assert not bool(r.success) and bool(r.result == RESULTS.max_steps_reached)
    with pytest.raises(SolveError, match="Increase max_steps") as err:
        evolve(p, 100.0, max_steps=3, saveat=3, throw=True)
    assert bool(err.value.result == RESULTS.max_steps_reached)
    s = steady_state(p, Evolve(t_max=5.0))  # far too short to settle
    assert not bool(s.success) and bool(s.result == RESULTS.t_max_reached)
    with pytest.raises(SolveError, match=r"^t_max_reached: .*Increase t_max \(Evolve\(t_max=...\)\)"):
        steady_state(p, Evolve(t_max=5.0), throw=True)
    below = eqx.tree_at(lambda q: q.V, p, 0.5)
    n = steady_state(below, Newton(fallback=None, warm=Evolve(t_max=500.0)))
    assert bool(n.result == RESULTS.not_paired) and not bool(n.success)
    ok = steady_state(below, Newton(warm=Evolve(t_max=500.0)))  # falls back: normal
    assert bool(ok.result == RESULTS.successful) and float(ok.delta_abs) == 0.0
    assert bool(ok.stats["fallback"])
    steady_state(p, Newton(), throw=True)  # success does not raise
    with pytest.raises(SolveError, match=r"normal_state_failed"):
        normal_steady_state(p, t_relax=1.0, pseudo_steps=1, max_steps=1, throw=True)
    with pytest.raises(SolveError, match=r"continuation point V = 5 \(index 0\): t_max_reached"):
        continuation(p, "V", [5.0], method=Evolve(t_max=5.0), throw=True)
    # under jit no Python exception is possible: equinox's runtime error, same message
    with pytest.raises(Exception, match="t_max_reached"):
        jax.jit(lambda q: steady_state(q, Evolve(t_max=5.0), throw=True).delta_abs)(p)


def test_steady_state_is_traceable_under_jit_and_vmap():
    """What the evolution sweep needs: `steady_state(params, Evolve(...))` inside jit and
    vmap, with |Δ|, μ, the state, residual, steps, final time and an outcome per point."""
    p = ps.InterbandParams(**SMALL)
    Vs = jnp.asarray([0.5, 5.0])
    method = Evolve(t_max=20_000.0)

    def point(V):
        ss = steady_state(eqx.tree_at(lambda q: q.V, p, V), method)
        return (
            ss.delta_abs,
            ss.mu,
            jnp.mean(ss.state.n22),
            ss.stats["num_steps"],
            ss.t,
            outcomes.code(ss.result),
        )

    delta, mu, n_exc, steps, t, status = jax.jit(jax.vmap(point))(Vs)
    one = steady_state(eqx.tree_at(lambda q: q.V, p, 5.0), method)
    assert np.asarray(status).tolist() == [0, 0]
    assert float(delta[0]) == 0.0 and float(delta[1]) > 1e-3
    np.testing.assert_allclose(float(delta[1]), float(one.delta_abs), rtol=1e-9)
    np.testing.assert_allclose(float(mu[1]), float(one.mu), rtol=1e-7)
    assert np.all(np.asarray(steps) > 0) and np.all(np.asarray(t) < 20_000.0)
    assert 0 < float(n_exc[1]) < 1


def test_an_undamped_oscillation_is_its_own_outcome():
    """|Δ| swinging at t_max is `oscillating`, not `t_max_reached` (the classifier on
    WINDOW samples over the last 20 % of the run)."""
    method = Evolve(t_max=100.0)
    t = jnp.linspace(80.0, 100.0, steady.WINDOW)

    class Sol(eqx.Module):
        result: object

    sol = Sol(dfx.RESULTS.successful)
    y1 = jnp.zeros(7)
    res = steady.Stationarity(*(jnp.asarray(1.0),) * 4, jnp.asarray(1e-2))
    swing = 1e-2 * (1 + 0.1 * jnp.sin(t))
    decay = 1e-2 * (1 + 0.1 * jnp.exp(-(t - 80.0)) * jnp.sin(t))
    fired = jnp.asarray(False)
    assert bool(steady._classify(sol, y1, res, fired, swing, method) == RESULTS.oscillating)
    assert bool(steady._classify(sol, y1, res, fired, decay, method) == RESULTS.t_max_reached)
    assert bool(steady._classify(sol, y1 * jnp.nan, res, fired, swing, method) == RESULTS.solver_failed)


def test_float_knobs_never_recompile():
    """t_max, tol (given or not), rtol, atol, brackets and every float parameter are
    traced: a new value reuses the compiled solver (counted traces, not log text)."""
    p = ps.InterbandParams(**SMALL)
    evolve(p, 50.0, saveat=5)
    n0 = traces(evolve_module._evolve)
    evolve(eqx.tree_at(lambda q: q.V, p, 4.0), 80.0, t0=1.0, saveat=5, rtol=1e-7, atol=1e-10)
    evolve(ps.InterbandParams(**SMALL, Omega=0.3, T=0.01), 60.0, saveat=5)
    assert traces(evolve_module._evolve) == n0

    steady_state(p, Evolve(t_max=300.0))
    n0 = traces(steady._relax)
    steady_state(
        eqx.tree_at(lambda q: q.gamma_ph, p, 0.03),
        Evolve(t_max=400.0, rtol=1e-7, atol=1e-11, delta_floor=1e-10),
    )
    steady_state(p, Evolve(t_max=300.0, tol=3e-7))  # the first explicit tol: no new program
    steady_state(p, Evolve(t_max=350.0, tol=2e-6))
    assert traces(steady._relax) == n0

    steady_state(p, Newton())
    n0 = traces(corotating._newton_core)
    steady_state(
        eqx.tree_at(lambda q: q.V, p, 4.5),
        Newton(tol=1e-10, warm=Evolve(t_max=1e4, rtol=1e-5, atol=1e-8)),
    )
    assert traces(corotating._newton_core) == n0

    # the chord corrector of continuation and the phase map: tolerances and the iteration
    # budget are traced; the budget still caps the iterations
    q = eqx.tree_at(lambda q: q.V, p, 4.8)
    x = unknowns_of(steady_state(p, Newton()))
    n_e = electron_number(p)
    lu = factor_jacobian(p, x, n_e)
    full, _ = chord_solve(q, x, n_e, lu, tol=1e-11)
    n0 = traces(corotating._chord_solve)
    capped, _ = chord_solve(q, x, n_e, lu, tol=1e-10, max_steps=2, steady_tol=1e-6)
    assert traces(corotating._chord_solve) == n0
    assert int(capped.stats["newton_steps"]) == 2 < int(full.stats["newton_steps"])
    assert bool(full.success) and not bool(capped.success)

    normal_steady_state(p, t_relax=500.0)
    n0 = traces(normal_state._normal_steady_state)
    normal_steady_state(eqx.tree_at(lambda q: q.T, p, 0.01), t_relax=800.0, tol=1e-10)
    assert traces(normal_state._normal_steady_state) == n0

    critical_V(p, relax_tol=1e-7)
    n0 = traces(stability._critical_V)
    critical_V(eqx.tree_at(lambda q: q.Omega, p, 0.3), bracket=(0.5, 30.0), relax_tol=1e-8)
    assert traces(stability._critical_V) == n0


def test_continuation_takes_the_method_objects():
    p = ps.InterbandParams(**SMALL)
    vals = [5.0, 4.6, 4.2]
    a = continuation(p, "V", vals, method=Newton(tol=1e-12))
    assert np.all(np.asarray(a.success))  # elementwise over the scan
    assert np.all(np.asarray(a.result == RESULTS.successful))
    e = continuation(p, "V", vals, method=Evolve())
    assert np.all(np.asarray(e.success))
    np.testing.assert_allclose(np.asarray(e.delta_abs), np.asarray(a.delta_abs), rtol=1e-4)
