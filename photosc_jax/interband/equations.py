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


def _phonons(n, t: PhononTables):
    """Population flux and dephasing rate κ of both bands; `n` has shape (2, N).

    For the jump j → target(j) with rates e_j (emission) and a_j (absorption back):
    outflow_j = e_j n_j(1 − n_t) − a_j n_t(1 − n_j); the inflow at y sums the same over the
    emitters landing on y; κ adds e(1 − n_target) + a n_target at the source and
    e n_source + a(1 − n_source) at the target. One gather fetches all neighbours."""
    flat = n.reshape(-1)
    nt, s0, s1 = flat[t.gather_idx]
    e, a = t.emit.reshape(-1), t.absorb.reshape(-1)
    ie, ia = t.in_emit, t.in_absorb
    gain = ie[0] * s0 + ie[1] * s1
    back = ia[0] * (1.0 - s0) + ia[1] * (1.0 - s1)
    out = e * flat * (1.0 - nt) - a * nt * (1.0 - flat)
    dn = gain * (1.0 - flat) - back * flat - out
    kappa = e * (1.0 - nt) + a * nt + gain + back
    return dn.reshape(n.shape), kappa.reshape(n.shape)


def normal_rates(n11, n22, a, b, sr, si, delta_re, delta_im, c: Coefficients):
    """Real form of the population and coherence equations (module docstring).

    `a, b` = Re, Im n21; `sr, si` = Re, Im s; Δ = delta_re + i delta_im. Returns
    (dn11, dn22, da, db, γ_s) with ds ⊃ −γ_s s.
    """
    dphi, kap = _phonons(jnp.stack([n11, n22]), c.tables)
    rad = 2.0 * c.gamma_rr * (n22 * (1.0 - n11) + a * a + b * b - c.at_zero * (sr * sr + si * si))
    laser = c.Omega * b
    im_ds = delta_re * si + delta_im * sr  # Im(Δ s_p)
    dn11 = -laser - 2.0 * jnp.flip(im_ds) + rad + dphi[0]
    dn22 = laser - 2.0 * im_ds - rad + dphi[1]
    dephase = c.gamma_rr + 0.5 * (kap[0] + kap[1])
    da = -c.eps * b - dephase * a
    db = -0.5 * c.Omega * (n22 - n11) + c.eps * a - dephase * b
    gamma_s = 0.5 * (jnp.flip(kap[0]) + kap[1]) + c.gamma_rr * (
        1.0 - n11 + jnp.flip(n22)
    ) * (1.0 - c.at_zero)
    return dn11, dn22, da, db, gamma_s


def anomalous_rate(xr, xi, n11, n22, gamma_s, c: Coefficients, sums=None):
    """ds/dt at s = xr + i xi (real and imaginary parts): linear in x, with
    Δ* = (V dk/2π) Σ x, given the populations. `sums` = (Σ xr, Σ xi) if already known."""
    sum_r, sum_i = (jnp.sum(xr), jnp.sum(xi)) if sums is None else sums
    pr, pi = c.pair * sum_r, c.pair * sum_i  # Δ*
    n_tilde = n22 + jnp.flip(n11) - 1.0
    gr = -pi * n_tilde - c.esum * xi - gamma_s * xr
    gi = pr * n_tilde + c.esum * xr - gamma_s * xi
    return gr, gi


def vector_field(
    t, state: InterbandState, params: InterbandParams, coeffs: Coefficients | None = None
) -> InterbandState:
    """d(state)/dt of the closed mean-field equations (module docstring), with Δ computed
    self-consistently from `state.s21`. `t` is unused (the RWA frame is time-independent).
    Pass `coeffs=coefficients(params)` to skip rebuilding the tables on every call."""
    del t
    c = coefficients(params) if coeffs is None else coeffs
    delta = order_parameter(state, params)
    n11, n22, n21, s = state.n11, state.n22, state.n21, state.s21
    dn11, dn22, da, db, gamma_s = normal_rates(
        n11, n22, n21.real, n21.imag, s.real, s.imag, delta.real, delta.imag, c
    )
    gr, gi = anomalous_rate(s.real, s.imag, n11, n22, gamma_s, c)
    return InterbandState(n11=dn11, n22=dn22, n21=da + 1j * db, s21=gr + 1j * gi)
