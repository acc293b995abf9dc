"""Exact check of the mean-field equations against the many-body Lindbladian.

For a random mirror-symmetric fermionic Gaussian state ρ = e^{−K}/Z on a tiny grid (3 or 5
k-points, two bands, Jordan–Wigner fermions in QuTiP), Tr(O 𝓛[ρ]) computed from the exact
Lindblad master equation of docs/model-interband.md must equal `vector_field` evaluated on ρ's
correlators, for every O ∈ {n11_k, n22_k, n21_k, s21_k}, at the paper's resonance ν = E_g and
detuned from it (the Hamiltonian in the frame rotating at ν built here from the band
energies, independently of the package's rotating-frame coefficients). Wick's theorem is exact for Gaussian
states, so this pins every term, sign and factor of 2 of the Wick reduction.
"""

import numpy as np
import pytest

qutip = pytest.importorskip("qutip")

import jax.numpy as jnp  # noqa: E402

import photosc_jax as ps  # noqa: E402
from photosc_jax.interband import k_grid, phonon_tables  # noqa: E402

# Two tiny grids in which both bands scatter: N = 3 (s1 = s2 = 1) and N = 5 (s1 = 1, s2 = 2).
GRIDS = {
    3: dict(k_max=0.1, dk=0.1, A1=1.0, A2=0.9, v=0.12),
    5: dict(k_max=0.2, dk=0.1, A1=1.0, A2=0.545, v=0.12),
}


def _modes(n):
    nm = 2 * n
    c = [qutip.fdestroy(nm, m) for m in range(nm)]
    return c[:n], c[n:]  # band 1, band 2


def _random_gaussian_state(rng, n, c1, c2):
    """ρ ∝ exp(−K) with K quadratic, mirror-symmetric, with all four correlator types."""
    half = n // 2
    a, b = rng.normal(size=half + 1), rng.normal(size=half + 1)
    hyb = rng.normal(size=half + 1) + 1j * rng.normal(size=half + 1)
    pair = rng.normal(size=half + 1) + 1j * rng.normal(size=half + 1)
    K = 0
    for j in range(n):
        m = abs(j - half)  # mirror-symmetric coefficients
        K += a[m] * c1[j].dag() * c1[j] + b[m] * c2[j].dag() * c2[j]
        hop = hyb[m] * c2[j].dag() * c1[j]
        pr = pair[m] * c2[j].dag() * c1[n - 1 - j].dag()
        K += hop + hop.dag() + pr + pr.dag()
    rho = (-K).expm()
    return rho / rho.tr()


def _exact_rates(params, rho, c1, c2):
    n = params.n_k
    k = np.asarray(k_grid(params))
    tab = phonon_tables(params)
    expect = lambda op, r=rho: (op * r).tr()  # noqa: E731
    s = np.array([expect(c2[j].dag() * c1[n - 1 - j].dag()) for j in range(n)])
    delta = np.conj(float(params.V) * params.dk / (2 * np.pi) * s.sum())
    # Mean-field Hamiltonian in the frame rotating at the laser frequency ν = E_g + δ
    # (docs/model-interband.md): band energies A1 k² − 1/2 + ν/2 and A2 k² + 1/2 − ν/2.
    H = 0
    nu = 1.0 + float(params.detuning)
    for j in range(n):
        H += (float(params.A1) * k[j] ** 2 - 0.5 + 0.5 * nu) * c1[j].dag() * c1[j]
        H += (float(params.A2) * k[j] ** 2 + 0.5 - 0.5 * nu) * c2[j].dag() * c2[j]
        lz = 0.5 * float(params.Omega) * c2[j].dag() * c1[j]
        pr = -delta * c2[j].dag() * c1[n - 1 - j].dag()
        H += lz + lz.dag() + pr + pr.dag()
    jumps = []
    for band, c in enumerate((c1, c2)):
        for r in range(tab.target.shape[1]):  # each (split) jump is its own operator
            for j in range(n):
                t = int(tab.target[band, r, j])
                if float(tab.emit[band, r, j]) > 0:
                    jumps.append(np.sqrt(float(tab.emit[band, r, j])) * c[t].dag() * c[j])
                if float(tab.absorb[band, r, j]) > 0:
                    jumps.append(np.sqrt(float(tab.absorb[band, r, j])) * c[j].dag() * c[t])
    for j in range(n):
        jumps.append(np.sqrt(2 * float(params.gamma_rr)) * c1[j].dag() * c2[j])
    # Tr(O 𝓛[ρ]) = Tr(𝓛†[O] ρ) with the adjoint (Heisenberg) Lindbladian
    # 𝓛†[O] = i[H, O] + Σ_j (L_j† O L_j − ½{L_j† L_j, O}): sparse products only.
    sp = lambda op: op.data.as_scipy().tocsr()  # noqa: E731
    Hs, Ls = sp(H), [sp(L) for L in jumps]
    LdL = [L.conj().T @ L for L in Ls]
    r = rho.full()
    trace = lambda X: complex(X.multiply(r.T).sum())  # Tr(X ρ) for sparse X  # noqa: E731
    out = {}
    for name, ops in {
        "n11": [c1[j].dag() * c1[j] for j in range(n)],
        "n22": [c2[j].dag() * c2[j] for j in range(n)],
        "n21": [c2[j].dag() * c1[j] for j in range(n)],
        "s21": [c2[j].dag() * c1[n - 1 - j].dag() for j in range(n)],
    }.items():
        rates, values = [], []
        for o in ops:
            O = sp(o)
            heis = 1j * (Hs @ O - O @ Hs)
            for L, M in zip(Ls, LdL):
                heis = heis + L.conj().T @ O @ L - 0.5 * (M @ O + O @ M)
            rates.append(trace(heis))
            values.append(trace(O))
        out[name] = np.array(rates)
        out[name + "_value"] = np.array(values)
    return out


def _check_against_exact(params, rng):
    n = params.n_k
    tab = phonon_tables(params)
    assert np.all(np.asarray(tab.emit).sum(axis=(1, 2)) > 0), "both bands must scatter"
    if params.T > 0:
        assert float(jnp.max(tab.absorb)) > 0
    c1, c2 = _modes(n)
    rho = _random_gaussian_state(rng, n, c1, c2)
    exact = _exact_rates(params, rho, c1, c2)
    state = ps.interband.InterbandState(
        n11=jnp.asarray(exact["n11_value"].real),
        n22=jnp.asarray(exact["n22_value"].real),
        n21=jnp.asarray(exact["n21_value"]),
        s21=jnp.asarray(exact["s21_value"]),
    )
    # The random state is far from trivial: coherences and pairing are O(0.1).
    assert np.min(np.abs(exact["s21_value"])) > 1e-3
    assert np.min(np.abs(exact["n21_value"])) > 1e-3
    mf = ps.interband.vector_field(0.0, state, params)
    for name in ("n11", "n22", "n21", "s21"):
        np.testing.assert_allclose(
            np.asarray(getattr(mf, name)), exact[name], atol=1e-10, rtol=0, err_msg=name
        )


def _random_params(rng, grid, **kw):
    return ps.InterbandParams(
        **grid,
        Omega=rng.uniform(0.1, 0.5),
        V=rng.uniform(-4, 8),
        gamma_ph=rng.uniform(0.01, 0.1),
        gamma_rr=rng.uniform(0.01, 0.1),
        **kw,
    )


@pytest.mark.parametrize("n", [3, 5])
@pytest.mark.parametrize("T", [0.0, 0.05])
@pytest.mark.parametrize("seed,detuned", [(0, False), (1, False), (2, True)])
def test_mean_field_equals_exact_lindbladian(n, T, seed, detuned):
    rng = np.random.default_rng(100 * n + seed + int(T > 0) * 7)
    detuning = (0.07 if n == 3 else -0.04) if detuned else 0.0  # ν ≠ E_g, both signs
    _check_against_exact(_random_params(rng, GRIDS[n], detuning=detuning, T=T), rng)


@pytest.mark.parametrize("T", [0.0, 0.05])
@pytest.mark.parametrize("detuning", [0.0, 0.05])
def test_split_phonon_jumps_equal_exact_lindbladian(T, detuning):
    """phonon_targets="linear" at σ1 = 1.5, σ2 = 2.75 steps: every source in both bands with
    2|x| > s has two jump operators (shifts 1, 2 and 2, 3; each active somewhere on N = 5),
    all of them in the exact Lindbladian as separate operators."""
    rng = np.random.default_rng(11 + int(T > 0) + 3 * int(detuning > 0))
    p = _random_params(rng, {**GRIDS[5], "v": 0.15}, T=T, detuning=detuning, phonon_targets="linear")
    tab = phonon_tables(p)
    assert np.asarray(tab.shift).tolist() == [[1, 2], [2, 3]]
    assert np.all(np.asarray(tab.emit).sum(axis=2) > 0), "every split jump must be active"
    _check_against_exact(p, rng)
