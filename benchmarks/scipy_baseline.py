"""Plain numpy + scipy baseline of the driven-dissipative interband model.

An independent port (no JAX, no photosc_jax import) of `photosc_jax.interband`:
the phonon tables of `grid.py`, `equations.normal_rates` / `anomalous_rate`, and
`solver_state.rhs` in the same packed real variables

    y = [n11, n22, Re n21, Im n21, Re u, Im u, λ]   (length 6N + 1, s21 = e^λ u),

integrated with `scipy.integrate.solve_ivp(method="RK45")`. Vectorised numpy, no Python
loops over k in the right-hand side. Used by `bench_interband.py` as the reference run time
and by `tests/test_scipy_baseline.py` as an independent check of the JAX right-hand side.

Units E_g = ħ = k_B = 1 (see docs/model-interband.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

# Same defaults as photosc_jax.interband.InterbandParams (paper Fig. 2–3 set).
DEFAULTS = dict(
    A1=7.0,
    A2=24.0,
    Omega=0.25,
    V=5.0,
    gamma_ph=0.02,
    gamma_rr=0.002,
    v=0.098,
    T=0.0,
    detuning=0.0,
    phonon_targets="nearest",
    k_max=0.2,
    dk=2e-3,
)
LOG_ZERO = -1000.0  # λ representing s ≡ 0


@dataclass(frozen=True)
class Tables:
    """Everything the numpy right-hand side needs (index 0: band 1, index 1: band 2)."""

    n: int
    target: np.ndarray  # (2, J, N) landing index of emission jump r from j (j if none)
    emit: np.ndarray  # (2, J, N) emission rate weight·2Γph(1 + n_B(w)), 0 if j does not emit
    absorb: np.ndarray  # (2, J, N) reverse absorption rate weight·2Γph n_B(w)
    eps: np.ndarray  # (A2 − A1) k² − detuning
    esum: np.ndarray  # (A1 + A2) k²
    at_zero: np.ndarray  # δ_{k,0}
    not_zero: np.ndarray  # 1 − δ_{k,0}
    pair: float  # V dk / 2π
    Omega: float
    gamma_rr: float


def full_params(params: dict | None = None) -> dict:
    p = dict(DEFAULTS)
    if params:
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        p.update({k: v if k == "phonon_targets" else float(v) for k, v in params.items()})
    if p["phonon_targets"] not in ("nearest", "linear"):
        raise ValueError(f"phonon_targets must be 'nearest' or 'linear', got {p['phonon_targets']!r}")
    return p


def n_k(p: dict) -> int:
    return int(round(2.0 * p["k_max"] / p["dk"])) + 1


def k_grid(p: dict) -> np.ndarray:
    n = n_k(p)
    return p["dk"] * (np.arange(n, dtype=float) - (n - 1) // 2)


def bose(w, T):
    """n_B(w) = 1/(e^{w/T} − 1), exactly 0 at T = 0."""
    if T <= 0:
        return np.zeros_like(w)
    x = np.exp(-w / T)
    return x / (-np.expm1(-w / T))


def _band_jumps(A: float, p: dict, k: np.ndarray):
    """Emission rule of grid.py. The target −k + sign(k)·v/A lies σ = v/(A dk) steps from
    −k; "nearest" takes one jump of s = round(σ) (halves up) steps, "linear" two, of
    floor(σ) and floor(σ) + 1 steps with weights 1 − frac(σ) and frac(σ). Jump s leaves
    offset x iff 2|x| > s (and s > 0), lands at −x + sign(x) s, losing w = A(k² − k'²).
    Returns (target, emit, absorb), each of shape (J, N)."""
    n = k.size
    c = (n - 1) // 2
    x = np.arange(n) - c
    sigma = p["v"] / (A * p["dk"])
    if p["phonon_targets"] == "nearest":
        jumps = [(int(math.floor(sigma + 0.5)), 1.0)]
    else:
        low = math.floor(sigma)
        jumps = [(low, 1.0 - (sigma - low)), (low + 1, sigma - low)]
    out = []
    for s, weight in jumps:
        emits = (2 * np.abs(x) > s) & (s > 0)
        target = np.where(emits, -x + np.sign(x) * s, x) + c
        w = np.where(emits, A * (k**2 - k[target] ** 2), 0.0)
        nb = bose(np.where(emits, w, 1.0), p["T"])
        emit = np.where(emits, weight * 2.0 * p["gamma_ph"] * (1.0 + nb), 0.0)
        absorb = np.where(emits, weight * 2.0 * p["gamma_ph"] * nb, 0.0)
        out.append((target, emit, absorb))
    return tuple(np.stack(a) for a in zip(*out))


def make_tables(params: dict | None = None) -> Tables:
    p = full_params(params)
    k = k_grid(p)
    n = k.size
    b1 = _band_jumps(p["A1"], p, k)
    b2 = _band_jumps(p["A2"], p, k)
    at_zero = (np.arange(n) == (n - 1) // 2).astype(float)
    return Tables(
        n=n,
        target=np.stack([b1[0], b2[0]]),
        emit=np.stack([b1[1], b2[1]]),
        absorb=np.stack([b1[2], b2[2]]),
        eps=(p["A2"] - p["A1"]) * k**2 - p["detuning"],
        esum=(p["A1"] + p["A2"]) * k**2,
        at_zero=at_zero,
        not_zero=1.0 - at_zero,
        pair=p["V"] * p["dk"] / (2 * np.pi),
        Omega=p["Omega"],
        gamma_rr=p["gamma_rr"],
    )


def _phonon_band(nn, tab: Tables, band: int):
    """Population flux Φ and dephasing rate κ of one band, summed over its jumps. Inflows
    are scatter-adds (np.bincount over the landing index); non-emitters carry zero weight."""
    dphi = np.zeros(tab.n)
    kappa = np.zeros(tab.n)
    for target, emit, absorb in zip(tab.target[band], tab.emit[band], tab.absorb[band]):
        nt = nn[target]
        flux = emit * nn * (1.0 - nt) - absorb * nt * (1.0 - nn)  # j → target(j)
        kap_src = emit * (1.0 - nt) + absorb * nt
        kap_tgt = emit * nn + absorb * (1.0 - nn)  # felt at target(j)
        dphi += np.bincount(target, weights=flux, minlength=tab.n) - flux
        kappa += kap_src + np.bincount(target, weights=kap_tgt, minlength=tab.n)
    return dphi, kappa


def numpy_rhs(t, y, tab: Tables, drive=None) -> np.ndarray:
    """dy/dt in the packed variables (numpy port of `solver_state.rhs`). `drive`: an optional
    plain Python callable t ↦ Ω(t) used instead of `tab.Omega` (port of
    `solver_state.driven_rhs`)."""
    omega = tab.Omega if drive is None else float(drive(t))
    n = tab.n
    n11, n22 = y[0:n], y[n : 2 * n]
    n21 = y[2 * n : 3 * n] + 1j * y[3 * n : 4 * n]
    u = y[4 * n : 5 * n] + 1j * y[5 * n : 6 * n]
    lam = y[-1]
    s = math.exp(lam) * u
    delta = np.conj(tab.pair * np.sum(s))

    # normal_rates
    dphi1, kap1 = _phonon_band(n11, tab, 0)
    dphi2, kap2 = _phonon_band(n22, tab, 1)
    rad = (
        2.0
        * tab.gamma_rr
        * (n22 * (1.0 - n11) + (n21.real**2 + n21.imag**2) - tab.at_zero * (s.real**2 + s.imag**2))
    )
    laser = omega * n21.imag
    dn11 = -laser - 2.0 * np.imag(delta * s[::-1]) + rad + dphi1
    dn22 = laser - 2.0 * np.imag(delta * s) - rad + dphi2
    dn21 = -0.5j * omega * (n22 - n11) + 1j * tab.eps * n21 - (tab.gamma_rr + 0.5 * (kap1 + kap2)) * n21
    gamma_s = 0.5 * (kap1[::-1] + kap2) + tab.gamma_rr * (1.0 - n11 + n22[::-1]) * tab.not_zero

    # anomalous_rate at s = u, then the log-amplitude split
    delta_conj_u = tab.pair * np.sum(u)
    n_tilde = n22 + n11[::-1] - 1.0
    g = 1j * delta_conj_u * n_tilde + (1j * tab.esum - gamma_s) * u
    dlam = np.real(np.vdot(u, g)) / np.real(np.vdot(u, u))
    du = g - dlam * u

    out = np.empty_like(y)
    out[0:n] = dn11
    out[n : 2 * n] = dn22
    out[2 * n : 3 * n] = dn21.real
    out[3 * n : 4 * n] = dn21.imag
    out[4 * n : 5 * n] = du.real
    out[5 * n : 6 * n] = du.imag
    out[-1] = dlam
    return out


def initial_y(tab: Tables, seed: complex = 1e-20 * (1 + 1j)) -> np.ndarray:
    """The paper's initial state (valence band full, seed s21 = `seed`), packed as in
    `solver_state.pack`: u normalised to Σ|u|² = N, λ = log of the RMS of s."""
    n = tab.n
    s = np.full(n, seed, dtype=complex)
    norm = math.sqrt(np.sum(np.abs(s) ** 2) / n)
    if norm == 0:
        lam, u = LOG_ZERO, np.ones(n, dtype=complex)
    else:
        lam, u = math.log(norm), s / norm
    return np.concatenate([np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n), u.real, u.imag, [lam]])


def delta_abs(y: np.ndarray, tab: Tables) -> np.ndarray:
    """|Δ| = |(V dk/2π) Σ_k e^λ u_k| for y of shape (6N+1,) or (6N+1, T)."""
    n = tab.n
    u = y[4 * n : 5 * n] + 1j * y[5 * n : 6 * n]
    return np.abs(tab.pair * np.exp(y[-1]) * np.sum(u, axis=0))


def solve_baseline(
    params_dict: dict | None,
    t1: float,
    *,
    n_save: int = 9,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    drive=None,
    max_step: float = np.inf,
):
    """Integrate from the paper's initial state to `t1` with solve_ivp RK45.

    `drive`: optional plain Python callable t ↦ Ω(t) replacing Ω (`numpy_rhs`); `max_step`:
    solve_ivp's step cap (with a pulse, keep it below the pulse width so that RK45 cannot
    step over it). Returns (ts, |Δ|(ts), final y, nfev, wall time in s), ts = n_save equally
    spaced times in [0, t1]. The wall time covers solve_ivp only (tables and y0 are built
    before)."""
    tab = make_tables(params_dict)
    y0 = initial_y(tab)
    ts = np.linspace(0.0, float(t1), n_save)
    t_start = time.perf_counter()
    sol = solve_ivp(
        numpy_rhs,
        (0.0, float(t1)),
        y0,
        method="RK45",
        t_eval=ts,
        args=(tab, drive),
        rtol=rtol,
        atol=atol,
        max_step=max_step,
    )
    wall = time.perf_counter() - t_start
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.t, delta_abs(sol.y, tab), sol.y[:, -1], sol.nfev, wall


if __name__ == "__main__":
    ts, d, y1, nfev, wall = solve_baseline(dict(k_max=0.2, dk=0.01, v=0.3), 2000.0)
    for t, x in zip(ts, d):
        print(f"t = {t:8.1f}  |Δ| = {x:.6e}")
    print(f"nfev = {nfev}, wall = {wall:.2f} s")
