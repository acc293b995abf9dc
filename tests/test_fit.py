"""The fit API on the issue's three examples (issue 5)."""

import equinox as eqx
import jax.numpy as jnp
import pytest

import photosc_jax as ps
from photosc_jax.fitting import fit
from photosc_jax.interband import Newton, evolve, steady_state
from photosc_jax.longlived import materials
from photosc_jax.longlived.metastability import stationarity_minimum


def test_fit_V_to_target_gap():
    p = ps.InterbandParams(V=4.0)  # Ω = 0.25, paper defaults otherwise
    r = fit(lambda q: steady_state(q, Newton()).delta_abs - 0.015, p, {"V": (2.5, 10.0)}, progress=False)
    assert r.success
    check = steady_state(r.params, Newton())
    assert abs(float(check.delta_abs) - 0.015) < 1e-8
    assert float(r.loss_history[-1]) < float(r.loss_history[0])


def test_fit_k3c60_metastability_onset():
    r = fit(
        lambda d: stationarity_minimum(materials.k3c60(d["inv_Z"]), 0.0)[2],
        {"inv_Z": 3.0},
        {"inv_Z": (2.0, 4.0)},
        progress=False,
    )
    assert r.success
    assert abs(float(r.values["inv_Z"]) - materials.k3c60_metastability_onset()) < 1e-6


@pytest.mark.slow
@pytest.mark.heavy
def test_fit_gamma_ph_to_a_gap_trace():
    p_true = ps.InterbandParams(k_max=0.2, dk=0.01, v=0.3)  # N = 41, Γph = 0.02
    ts = jnp.linspace(100.0, 400.0, 7)

    def trace(p):
        return jnp.log(evolve(p, 400.0, saveat=ts, rtol=1e-10, atol=1e-12).delta_abs)

    data = trace(p_true)
    start = eqx.tree_at(lambda q: q.gamma_ph, p_true, 0.015)
    r = fit(lambda q: trace(q) - data, start, {"gamma_ph": "positive"}, progress=False)
    assert r.success
    assert abs(float(r.values["gamma_ph"]) - 0.02) < 1e-4 * 0.02
