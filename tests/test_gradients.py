"""Gradients checked against central finite differences (issue 5): implicit
differentiation through the Newton steady state, reverse mode through time evolution, and
model II (free energy, Δ(λ,T), Q_MS, T_B, Δ_tr, τ_g)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import COARSE
from helpers import central_difference as fd

import photosc_jax as ps
from photosc_jax.interband import Newton, evolve, steady_state
from photosc_jax.longlived import bcs, lifetimes, metastability
from photosc_jax.longlived.quasiparticle_trapping import trapped_gap


@pytest.mark.parametrize("name,h", [("V", 1e-4), ("Omega", 1e-5), ("gamma_ph", 1e-6), ("v", 1e-6)])
def test_implicit_gradient_of_steady_gap(name, h):
    """d|Δ|/dx through the steady state, with the continuous phonon target rule
    (`phonon_targets="linear"`; σ1 = 3.57, σ2 = 1.04 steps at COARSE: both bands split), so
    that v is differentiable too ("nearest" gives ∂/∂v = 0, test_phonon_targets.py). All four
    share one compiled solve; with "nearest" the program differs only in its tables."""
    p = ps.InterbandParams(**COARSE, phonon_targets="linear")

    def f(x):
        return steady_state(eqx.tree_at(lambda q: getattr(q, name), p, x), Newton()).delta_abs

    x0 = float(getattr(p, name))
    g = float(jax.grad(f)(x0))
    ref = float(fd(f, x0, h))
    assert abs(g) > 1e-4
    assert abs(g - ref) < 1e-5 * abs(ref)
    if name == "V":  # forward mode (implicit JVP) agrees with reverse mode
        assert abs(float(jax.jacfwd(f)(x0)) - g) < 1e-10 * abs(g)


def test_gradient_through_time_evolution_of_transient_gap():
    p0 = ps.InterbandParams(k_max=0.2, dk=0.01, v=0.3)  # N = 41

    def f(gph):
        p = eqx.tree_at(lambda q: q.gamma_ph, p0, gph)
        return jnp.log(evolve(p, 400.0, saveat=2, rtol=1e-10, atol=1e-12).delta_abs[-1])

    g = float(jax.grad(f)(0.02))
    ref = float(fd(f, 0.02, 1e-6))  # d ln|Δ(t)|/dΓph in the growth phase
    assert abs(ref) > 1.0
    assert abs(g - ref) < 1e-4 * abs(ref)


def test_model_ii_free_energy_and_gap_gradients():
    lam, T = 0.3, 0.01
    for fn, x, h in [
        (lambda l: bcs.free_energy(0.05, l, T), lam, 1e-6),
        (lambda t: bcs.free_energy(0.05, lam, t), T, 1e-7),
        (lambda l: bcs.gap(l, T), lam, 1e-6),
        (lambda t: bcs.gap(lam, t), T, 1e-7),
        (lambda n: trapped_gap(n, lam, T)[0], 1e-3, 1e-7),
    ]:
        g, ref = float(jax.grad(fn)(x)), float(fd(fn, x, h))
        assert abs(g - ref) < 1e-5 * abs(ref) + 1e-10, (g, ref)


@pytest.mark.heavy
def test_model_ii_metastability_and_lifetime_gradients():
    def res(d):
        return metastability.analyze(metastability.MetastabilityParams(d, 2.0), 0.0)

    def quantities(d):
        r = res(d)
        return jnp.stack([r.Q_MS, r.E_B, r.T_B])

    d0 = 0.8
    assert int(res(d0).regime) in (1, 2)
    # reverse mode (what jax.grad does) for all three at once; jitted, so each side compiles once
    g = np.asarray(jax.jit(jax.jacrev(quantities))(d0))
    ref = np.asarray(fd(jax.jit(quantities), d0, 1e-5))
    assert np.all(np.isfinite(g)) and np.all(np.abs(g - ref) < 1e-4 * np.abs(ref)), (g, ref)
    a2F = lambda w: 0.5 * jnp.exp(-((w - 0.6) ** 2) / 0.02)  # noqa: E731
    fn = lambda t: jnp.log(lifetimes.tau_g(0.1, t, a2F))  # noqa: E731
    g, ref = float(jax.grad(fn)(0.03)), float(fd(fn, 0.03, 1e-6))
    assert abs(g - ref) < 1e-5 * abs(ref)
