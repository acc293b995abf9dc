"""Laser detuning ν − E_g (`InterbandParams.detuning`): in the frame rotating at ν the drive
is resonant on the ring (A2 − A1) k² = detuning. The equations themselves are pinned by the
exact many-body Lindblad test at ν ≠ E_g (`test_exact_lindblad.py`); here the physics it
implies: without phonons every k is an independent driven two-level system, excited most
where it is resonant, and the normal state's response to the detuning is differentiable."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import central_difference as fd

import photosc_jax as ps
from photosc_jax.interband import k_grid
from photosc_jax.interband.normal_state import normal_steady_state

# no phonons (Γph = 0): independent two-level systems; weak drive, so the resonance is narrow
BARE = dict(k_max=0.2, dk=0.01, v=0.3, gamma_ph=0.0, gamma_rr=0.002, Omega=0.05)
K_RING = 0.1  # a grid point


@jax.jit
def _n22(p):
    return normal_steady_state(p).n22


def test_the_drive_is_resonant_on_the_ring():
    p0 = ps.InterbandParams(**BARE)
    ring = float(p0.A2 - p0.A1) * K_RING**2  # detuning that puts the ring at K_RING
    k = np.asarray(k_grid(p0))[(p0.n_k - 1) // 2 :]  # k >= 0, the solver's half grid
    n22 = {d: np.asarray(_n22(eqx.tree_at(lambda q: q.detuning, p0, d))) for d in (0.0, ring, -ring)}
    assert k[np.argmax(n22[ring])] == pytest.approx(K_RING)  # the ring
    assert np.argmax(n22[0.0]) == 0 and np.argmax(n22[-ring]) == 0  # k = 0: resonant, nearest
    assert n22[ring].max() == pytest.approx(n22[0.0].max(), rel=0.05)  # the same two-level peak
    assert n22[-ring].max() < 0.1 * n22[0.0].max()  # below the gap: off resonance everywhere
    # each k is a two-level system whose response is even in its local detuning
    # (A2 − A1)k² − detuning (n21 → −n21* maps ε → −ε): points of equal |local detuning| in the
    # three runs have equal n22, e.g. k = 0.08 at the ring detuning and k = 0.06 at none
    # (∓0.0612), k = 0 at ±ring and k = 0.1 at none (±0.17)
    at = lambda d, kk: n22[d][int(round(kk / p0.dk))]  # noqa: E731
    assert at(ring, 0.08) == pytest.approx(at(0.0, 0.06), rel=1e-7)
    assert at(ring, 0.1) == pytest.approx(at(0.0, 0.0), rel=1e-7)
    assert at(ring, 0.0) == pytest.approx(at(0.0, 0.1), rel=1e-7)
    assert at(-ring, 0.0) == pytest.approx(at(0.0, 0.1), rel=1e-7)


def test_the_normal_state_is_differentiable_in_the_detuning():
    p0 = ps.InterbandParams(k_max=0.2, dk=0.01, v=0.3)  # with phonons

    def n_exc(d):
        return jnp.sum(normal_steady_state(eqx.tree_at(lambda q: q.detuning, p0, d)).n22)

    g, ref = float(jax.grad(n_exc)(0.02)), float(fd(jax.jit(n_exc), 0.02, 1e-5))
    assert abs(ref) > 1e-2 and abs(g - ref) < 1e-4 * abs(ref), (g, ref)
