"""Closed mean-field equations of motion (Wick reduction of the Lindblad model of MODEL.md
part I; they replace the paper's App. A, Eqs. A7–A12, which carry typos).

With populations n_α, coherence n21, pairing s = s21 and Δ = conj((V dk/2π) Σ_k s_k):

    dn11_p/dt = −Ω Im n21_p − 2 Im(Δ s_{−p}) + R_p + Φ1_p
    dn22_p/dt = +Ω Im n21_p − 2 Im(Δ s_p)    − R_p + Φ2_p
    dn21_p/dt = −(iΩ/2)(n22_p − n11_p) + i(A2 − A1)p² n21_p − [Γrr + ½(κ1_p + κ2_p)] n21_p
    ds_p/dt   = iΔ*(n22_p + n11_{−p} − 1) + i(A1 + A2)p² s_p
                − [½(κ1_{−p} + κ2_p) + Γrr(1 − n11_p + n22_{−p})(1 − δ_{p,0})] s_p

with the radiative flux R_p = 2Γrr[n22_p(1 − n11_p) + |n21_p|² − δ_{p,0}|s_0|²] (A8
corrected), the phonon population flux Φα (emission k → k' at rate 2Γph(1+n_B) times
n_k(1 − n_k'), minus absorption) and the phonon dephasing rate
κα_p = Σ_{jumps out of p} γ_j(1 − n_target) + Σ_{jumps into p} γ_j n_source (both
emission and absorption jumps). Phonons move populations and only dephase n21 and s — the
secular form of the bath (MODEL.md "Bath structure"). Energies are in the frame rotating
at ν = E_g (RWA), where band α has dispersion A_α k².

The linear-in-s structure of ds/dt is kept explicit (`anomalous_rate`) so that the solver
can integrate s = e^λ u with a normalised u (see `evolve`).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from .grid import PhononTables, k_grid, phonon_tables
from .params import InterbandParams
from .state import InterbandState


class Coefficients(eqx.Module):
    """Everything the right-hand side needs, derived once from the parameters."""

    tables: PhononTables
    eps: Float[Array, " N"]  # (A2 − A1) k²: n21 rotation in the rotating frame
    esum: Float[Array, " N"]  # (A1 + A2) k²: s rotation
    at_zero: Float[Array, " N"]  # δ_{k,0}
    pair: Float[Array, ""]  # V dk / 2π
    Omega: Float[Array, ""]
    gamma_rr: Float[Array, ""]


def coefficients(params: InterbandParams) -> Coefficients:
    k = k_grid(params)
    return Coefficients(
        tables=phonon_tables(params),
        eps=(params.A2 - params.A1) * k**2,
        esum=(params.A1 + params.A2) * k**2,
        at_zero=(jnp.arange(params.n_k) == (params.n_k - 1) // 2).astype(float),
        pair=params.V * params.dk / (2 * jnp.pi),
        Omega=params.Omega,
        gamma_rr=params.gamma_rr,
    )


def order_parameter(state: InterbandState, params: InterbandParams) -> Complex[Array, "*batch"]:
    """Δ = conj((V dk / 2π) Σ_k s21_k) (paper Eq. B3 with V/N Σ → V/2π ∫ dk; MODEL.md)."""
    return jnp.conj(params.V * params.dk / (2 * jnp.pi) * jnp.sum(state.s21, axis=-1))


def _phonon_band(n, t: PhononTables, band: int):
    """Population flux and dephasing rate κ of one band."""
    target, emit, absorb = t.target[band], t.emit[band], t.absorb[band]
    nt = n[target]
    flux = emit * n * (1.0 - nt) - absorb * nt * (1.0 - n)  # j → target(j)
    kap_src = emit * (1.0 - nt) + absorb * nt
    kap_tgt = emit * n + absorb * (1.0 - n)  # felt at target(j)
    src, mask = t.in_src[band], t.in_mask[band]
    inflow = mask[0] * flux[src[0]] + mask[1] * flux[src[1]]
    kap_in = mask[0] * kap_tgt[src[0]] + mask[1] * kap_tgt[src[1]]
    return inflow - flux, kap_src + kap_in


def normal_rates(n11, n22, n21, s, delta, c: Coefficients):
    """Time derivatives of n11, n22, n21 and the decay rate γ_s of s (ds ⊃ −γ_s s)."""
    dphi1, kap1 = _phonon_band(n11, c.tables, 0)
    dphi2, kap2 = _phonon_band(n22, c.tables, 1)
    rad = 2.0 * c.gamma_rr * (
        n22 * (1.0 - n11) + jnp.abs(n21) ** 2 - c.at_zero * jnp.abs(s) ** 2
    )
    laser = c.Omega * n21.imag
    dn11 = -laser - 2.0 * jnp.imag(delta * jnp.flip(s)) + rad + dphi1
    dn22 = laser - 2.0 * jnp.imag(delta * s) - rad + dphi2
    dn21 = (
        -0.5j * c.Omega * (n22 - n11)
        + 1j * c.eps * n21
        - (c.gamma_rr + 0.5 * (kap1 + kap2)) * n21
    )
    gamma_s = 0.5 * (jnp.flip(kap1) + kap2) + c.gamma_rr * (
        1.0 - n11 + jnp.flip(n22)
    ) * (1.0 - c.at_zero)
    return dn11, dn22, dn21, gamma_s


def anomalous_rate(x, n11, n22, gamma_s, c: Coefficients):
    """ds/dt evaluated at s = x: linear in x (Δ* = (V dk/2π) Σ x), given the populations."""
    delta_conj = c.pair * jnp.sum(x)
    n_tilde = n22 + jnp.flip(n11) - 1.0
    return 1j * delta_conj * n_tilde + (1j * c.esum - gamma_s) * x


def vector_field(
    t, state: InterbandState, params: InterbandParams, coeffs: Coefficients | None = None
) -> InterbandState:
    """d(state)/dt of the closed mean-field equations (module docstring), with Δ computed
    self-consistently from `state.s21`. `t` is unused (the RWA frame is time-independent).
    Pass `coeffs=coefficients(params)` to skip rebuilding the tables on every call."""
    del t
    c = coefficients(params) if coeffs is None else coeffs
    delta = order_parameter(state, params)
    dn11, dn22, dn21, gamma_s = normal_rates(
        state.n11, state.n22, state.n21, state.s21, delta, c
    )
    ds = anomalous_rate(state.s21, state.n11, state.n22, gamma_s, c)
    return InterbandState(n11=dn11, n22=dn22, n21=dn21, s21=ds)
