"""The numpy/scipy baseline in benchmarks/ integrates exactly the JAX model: same right-hand
side on random packed states, same trajectory within the solver tolerances."""

import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import SMALL  # N = 41, phonon shifts 4 and 1

import photosc_jax as ps
from photosc_jax.interband import coefficients, evolve
from photosc_jax.interband.solver_state import rhs as jax_rhs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scipy_baseline as sb  # noqa: E402

# Jitted: one compile per grid size instead of one per eager op (much faster on first use).
_jit_rhs = jax.jit(jax_rhs)
_jit_coefficients = eqx.filter_jit(coefficients)


PARAMS = [
    dict(),  # the paper's grid, N = 201, T = 0
    dict(T=0.02, Omega=0.1, V=-3.0),
    dict(SMALL, T=0.05, gamma_rr=0.01, gamma_ph=0.05),
    dict(SMALL, A1=5.0, A2=11.0, v=0.15, T=0.3, V=2.0),
    dict(v=0.112, T=0.01, phonon_targets="linear"),  # σ1 = 8 (integer), σ2 = 2.33 (split)
    dict(SMALL, v=0.3456, T=0.05, phonon_targets="linear"),  # σ = 4.94, 1.44: both split
]


def _random_packed(rng, n):
    n11, n22 = rng.uniform(0.0, 1.0, size=(2, n))
    n21 = 0.3 * (rng.normal(size=n) + 1j * rng.normal(size=n))
    u = rng.normal(size=n) + 1j * rng.normal(size=n)
    u *= np.sqrt(n / np.sum(np.abs(u) ** 2))
    lam = rng.uniform(-8.0, 0.0)
    return np.concatenate([n11, n22, n21.real, n21.imag, u.real, u.imag, [lam]])


@pytest.mark.parametrize("pdict", PARAMS)
def test_numpy_rhs_matches_jax_rhs(pdict):
    params = ps.InterbandParams(**pdict)
    tab = sb.make_tables(pdict)
    assert tab.n == params.n_k
    c = _jit_coefficients(params)
    rng = np.random.default_rng(len(pdict))
    for _ in range(5):
        y = _random_packed(rng, params.n_k)
        ref = np.asarray(_jit_rhs(0.0, jnp.asarray(y), c))
        got = sb.numpy_rhs(0.0, y, tab)
        assert got.shape == ref.shape
        scale = max(1.0, np.max(np.abs(ref)))
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * scale)


def test_scipy_trajectory_matches_evolve():
    pdict = dict(SMALL, V=5.0)
    t_max = 2000.0
    ts, d_np, y1, nfev, _ = sb.solve_baseline(pdict, t_max, n_save=5)
    r = evolve(ps.InterbandParams(**pdict), t_max, saveat=jnp.asarray(ts))
    assert bool(r.success) and nfev > 0
    d_jax = np.abs(np.asarray(r.delta))
    assert d_np[-1] > 1e-3  # the pairing instability has developed by t_max
    np.testing.assert_allclose(d_np[-1], d_jax[-1], rtol=1e-5)
    n = ps.InterbandParams(**pdict).n_k
    np.testing.assert_allclose(y1[n : 2 * n], np.asarray(r.state.n22), rtol=0, atol=1e-6)
