"""Closed mean-field equations of motion (Wick reduction of the Lindblad model of
docs/model-interband.md; they replace the paper's App. A, Eqs. A7–A12, which carry typos).

With populations n_α, coherence n21, pairing s = s21 and Δ = conj((V dk/2π) Σ_k s_k):

    dn11_p/dt = −Ω Im n21_p − 2 Im(Δ s_{−p}) + R_p + Φ1_p
    dn22_p/dt = +Ω Im n21_p − 2 Im(Δ s_p)    − R_p + Φ2_p
    dn21_p/dt = −(iΩ/2)(n22_p − n11_p) + i[(A2 − A1)p² − δ] n21_p − [Γrr + ½(κ1_p + κ2_p)] n21_p
    ds_p/dt   = iΔ*(n22_p + n11_{−p} − 1) + i(A1 + A2)p² s_p
                − [½(κ1_{−p} + κ2_p) + Γrr(1 − n11_p + n22_{−p})(1 − δ_{p,0})] s_p

with the radiative flux R_p = 2Γrr[n22_p(1 − n11_p) + |n21_p|² − δ_{p,0}|s_0|²] (A8
corrected), the phonon population flux Φα (emission k → k' at rate 2Γph(1+n_B) times
n_k(1 − n_k'), minus absorption) and the phonon dephasing rate
κα_p = Σ_{jumps out of p} γ_j(1 − n_target) + Σ_{jumps into p} γ_j n_source (both
emission and absorption jumps). Phonons move populations and only dephase n21 and s — the
secular form of the bath (docs/model-interband.md, "Why one operator per (band, source)").
Energies are in the frame rotating at the laser frequency ν = E_g + δ (RWA; δ =
`detuning`, 0 in the paper), where the bands are A1 k² + δ/2 and A2 k² − δ/2: the detuning
shifts the rotation of n21 only (s = ⟨c_{1,−p} c_{2,p}⟩-type pairs rotate at the sum of the
two band energies, in which δ cancels).

The linear-in-s structure of ds/dt is kept explicit (`anomalous_rate`) so that the solver
can integrate s = e^λ u with a normalised u (see `solver_state`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, Int

from .._checks import float_leaves
from .._numerics import real_times
from .grid import k_grid, phonon_tables
from .params import InterbandParams
from .state import InterbandState


class Coefficients(eqx.Module):
    """Everything the right-hand side needs, derived once from the parameters, on the full
    grid (M = N points) or, with `half=True`, on the mirror-reduced grid k ≥ 0
    (M = (N+1)/2 points; the state is mirror symmetric, so k < 0 is redundant). `two_M` = 2M:
    both bands flattened into one axis."""

    emit: Float[Array, "J two_M"]  # rate of phonon-emission jump r from each point (bands flattened)
    absorb: Float[Array, "J two_M"]  # rate of the reverse absorption jump
    gather_idx: Int[Array, "3*J two_M"]  # [emission targets (J), incoming emitters (2J)]
    in_emit: Float[Array, "2*J two_M"]  # emission rates of the incoming emitters (0: none)
    in_absorb: Float[Array, "2*J two_M"]
    eps: Float[Array, " M"]  # (A2 − A1) k² − detuning: n21 rotation in the rotating frame
    esum: Float[Array, " M"]  # (A1 + A2) k²: s rotation
    at_zero: Float[Array, " M"]  # δ_{k,0}
    weights: Float[Array, " M"]  # multiplicity of each point in Σ_k (1 on the full grid)
    pair: Float[Array, ""]  # V dk / 2π
    Omega: Float[Array, ""]
    gamma_rr: Float[Array, ""]
    half: bool = eqx.field(static=True, default=False)


def coefficients(params: InterbandParams, *, half: bool = False) -> Coefficients:
    """Right-hand-side coefficients; `half=True` gives the mirror-reduced grid k ≥ 0 used by
    the solvers (exact for mirror-symmetric states, half the work). Python-float fields (set
    by `eqx.tree_at`, which bypasses the converters) become float64 arrays."""
    params = float_leaves(params)
    k = k_grid(params)
    n = params.n_k
    m = (n - 1) // 2
    t = phonon_tables(params)
    at_zero = (jnp.arange(n) == m).astype(float)
    full = Coefficients(
        emit=t.flat_emit,
        absorb=t.flat_absorb,
        gather_idx=t.gather_idx,
        in_emit=t.in_emit,
        in_absorb=t.in_absorb,
        eps=(params.A2 - params.A1) * k**2 - params.detuning,
        esum=(params.A1 + params.A2) * k**2,
        at_zero=at_zero,
        weights=jnp.ones(n),
        pair=params.V * params.dk / (2 * jnp.pi),
        Omega=params.Omega,
        gamma_rr=params.gamma_rr,
    )
    if not half:
        return full
    # Keep the points x = 0…m of each band; point x stands for ±x (weight 2 for x > 0) and
    # any full-grid index j is represented by |j − m|.
    cols = jnp.concatenate([jnp.arange(m, n), n + jnp.arange(m, n)])
    to_half = lambda idx: (idx // n) * (m + 1) + jnp.abs(idx % n - m)  # noqa: E731
    return Coefficients(
        emit=full.emit[:, cols],
        absorb=full.absorb[:, cols],
        gather_idx=to_half(full.gather_idx[:, cols]),
        in_emit=full.in_emit[:, cols],
        in_absorb=full.in_absorb[:, cols],
        eps=full.eps[m:],
        esum=full.esum[m:],
        at_zero=at_zero[m:],
        weights=jnp.where(jnp.arange(m + 1) == 0, 1.0, 2.0),
        pair=full.pair,
        Omega=full.Omega,
        gamma_rr=full.gamma_rr,
        half=True,
    )


def mirror(x, c: Coefficients):
    """x_{−k}: a flip on the full grid, the identity on the mirror-reduced one."""
    return x if c.half else jnp.flip(x, axis=-1)


def order_parameter(state: InterbandState, params: InterbandParams) -> Complex[Array, "*batch"]:
    """Δ = conj((V dk / 2π) Σ_k s21_k) (paper Eq. B3 with V/N Σ → V/2π ∫ dk;
    docs/model-interband.md). Units of E_g; complex, shape of `state` without the k axis."""
    total = jnp.sum(state.s21, axis=-1)
    return jnp.conj(real_times(params.V * params.dk / (2 * jnp.pi), total))


def _phonons(n, t: Coefficients):
    """Population flux and dephasing rate κ of both bands; `n` has shape (2, M).

    For each jump j → target(j) (J per source: `grid.phonon_jumps`) with rates e_j
    (emission) and a_j (absorption back): outflow_j = e_j n_j(1 − n_t) − a_j n_t(1 − n_j);
    the inflow at y sums the same over the emitters landing on y; κ adds
    e(1 − n_target) + a n_target at the source and e n_source + a(1 − n_source) at the
    target. One gather fetches all neighbours."""
    flat = n.reshape(-1)
    near = flat[t.gather_idx]
    here = flat[None, :]
    n_jumps = t.emit.shape[0]
    nt, src = near[:n_jumps], near[n_jumps:]
    e, a = t.emit, t.absorb
    ie, ia = t.in_emit, t.in_absorb
    gain = jnp.sum(ie * src, axis=0)
    back = jnp.sum(ia * (1.0 - src), axis=0)
    out = jnp.sum(e * here * (1.0 - nt) - a * nt * (1.0 - here), axis=0)
    dn = gain * (1.0 - flat) - back * flat - out
    kappa = jnp.sum(e * (1.0 - nt) + a * nt, axis=0) + gain + back
    return dn.reshape(n.shape), kappa.reshape(n.shape)


def normal_rates(n11, n22, a, b, sr, si, delta_re, delta_im, c: Coefficients):
    """Real form of the population and coherence equations (module docstring).

    `a, b` = Re, Im n21; `sr, si` = Re, Im s; Δ = delta_re + i delta_im. Returns
    (dn11, dn22, da, db, γ_s) with ds ⊃ −γ_s s.
    """
    dphi, kap = _phonons(jnp.stack([n11, n22]), c)
    rad = 2.0 * c.gamma_rr * (n22 * (1.0 - n11) + a * a + b * b - c.at_zero * (sr * sr + si * si))
    laser = c.Omega * b
    im_ds = delta_re * si + delta_im * sr  # Im(Δ s_p)
    dn11 = -laser - 2.0 * mirror(im_ds, c) + rad + dphi[0]
    dn22 = laser - 2.0 * im_ds - rad + dphi[1]
    dephase = c.gamma_rr + 0.5 * (kap[0] + kap[1])
    da = -c.eps * b - dephase * a
    db = -0.5 * c.Omega * (n22 - n11) + c.eps * a - dephase * b
    gamma_s = 0.5 * (mirror(kap[0], c) + kap[1]) + c.gamma_rr * (1.0 - n11 + mirror(n22, c)) * (
        1.0 - c.at_zero
    )
    return dn11, dn22, da, db, gamma_s


def anomalous_rate(xr, xi, n11, n22, gamma_s, c: Coefficients, sums=None):
    """ds/dt at s = xr + i xi (real and imaginary parts): linear in x, with
    Δ* = (V dk/2π) Σ_k x, given the populations. `sums` = (Σ_k xr, Σ_k xi) if known."""
    if sums is None:
        sums = (jnp.sum(c.weights * xr), jnp.sum(c.weights * xi))
    sum_r, sum_i = sums
    pr, pi = c.pair * sum_r, c.pair * sum_i  # Δ*
    n_tilde = n22 + mirror(n11, c) - 1.0
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
    return InterbandState(n11=dn11, n22=dn22, n21=jax.lax.complex(da, db), s21=jax.lax.complex(gr, gi))
