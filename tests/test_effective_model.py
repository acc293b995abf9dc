"""Eq. 12 BdG occupations against exact diagonalisation of one (k, −k) sector."""

import numpy as np
import pytest

from photosc_jax.interband.effective import effective_occupations


def _fock_ops(n_modes):
    """Jordan–Wigner annihilation operators as dense matrices."""
    a = np.array([[0.0, 1.0], [0.0, 0.0]])
    z = np.diag([1.0, -1.0])
    ops = []
    for m in range(n_modes):
        mats = [z] * m + [a] + [np.eye(2)] * (n_modes - m - 1)
        op = mats[0]
        for x in mats[1:]:
            op = np.kron(op, x)
        ops.append(op)
    return ops


@pytest.mark.parametrize("Delta_t, T", [(0.05, 0.0), (0.02, 0.0), (0.05, 0.03), (0.0, 0.01)])
@pytest.mark.parametrize("k", [0.0, 0.05, 0.09, 0.15])
def test_bdg_occupations_equal_exact_diagonalisation(k, Delta_t, T):
    A1, A2, C = 7.0, 24.0, 0.2
    c1k, c2k, c1m, c2m = _fock_ops(4)  # modes (1,k), (2,k), (1,−k), (2,−k)
    d = lambda x: x.conj().T  # noqa: E731
    e1, e2 = A1 * k**2 - C, A2 * k**2 - C
    H = e1 * (d(c1k) @ c1k + d(c1m) @ c1m) + e2 * (d(c2k) @ c2k + d(c2m) @ c2m)
    pair = d(c2k) @ d(c1m) + d(c2m) @ d(c1k)  # Σ_k c†_{2,k} c†_{1,−k} over k and −k
    H = H - Delta_t * (pair + d(pair))
    w, U = np.linalg.eigh(H)
    if T == 0:
        g = w - w.min() < 1e-12  # average over a degenerate ground space
        p = g / g.sum()
    else:
        p = np.exp(-(w - w.min()) / T)
        p /= p.sum()
    rho = (U * p) @ d(U)
    n1 = np.trace(rho @ d(c1k) @ c1k).real
    n2 = np.trace(rho @ d(c2k) @ c2k).real
    m1, m2 = effective_occupations(np.array([k]), Delta_t, C=C, A1=A1, A2=A2, T=T)
    assert float(m1[0]) == pytest.approx(n1, abs=1e-10)
    assert float(m2[0]) == pytest.approx(n2, abs=1e-10)


def test_strong_pairing_populations_are_equal_and_smooth():
    k = np.linspace(-0.2, 0.2, 201)
    n1, n2 = effective_occupations(k, 0.05)
    n1, n2 = np.asarray(n1), np.asarray(n2)
    xi, dlt = (24 + 7) / 2 * k**2 - 0.2, (24 - 7) / 2 * k**2
    strong = np.abs(dlt) < np.sqrt(xi**2 + 0.05**2)
    np.testing.assert_allclose(n1[strong], n2[strong], atol=1e-12)
    assert n1[100] > 0.95 and n1[0] < 0.05  # filled at the bottom, empty at the edge
