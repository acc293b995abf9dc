"""Momentum grid and acoustic-phonon scattering tables (paper Eq. B2; docs/model-interband.md).

In band α an electron at k emits an acoustic phonon and lands at the solution k' of
A_α(k² − k'²) = v|k − k'| on the other side of k = 0: k' = −k + sign(k)·v/A_α, toward the
band bottom. On the grid (offset x = k/dk) the target is x' = −x + sign(x)·σ_α with
σ_α = v/(A_α dk) in general *not* an integer. `InterbandParams.phonon_targets` says where
the electron lands:

- `"nearest"` (default; the paper's rule and the published numbers): one jump with the
  integer shift s_α = round(σ_α) (halves away from zero), from every x with 2|x| > s_α.
  |Δ| is then a staircase in v and ∂/∂v = 0.
- `"linear"`: the off-grid target is split between its two grid neighbours, shifts
  s = floor(σ_α) and s + 1, with weights 1 − f and f (f = σ_α − floor(σ_α)): two jump
  operators with rates (1 − f)·2Γph(1 + n_B) and f·2Γph(1 + n_B). Everything is
  continuous and piecewise linear in v (kinks where σ_α is an integer, where the rule
  equals `"nearest"` exactly), so ∂|Δ|/∂v is not 0.

Each jump r with integer shift s_r leaves from every x with 2|x| > s_r (a target at or
beyond the mirror point would not lose energy) to x' = −x + sign(x)·s_r, with the jump
operator √(γ_r(1 + n_B(w))) c†_{k'} c_k and, at T > 0, the reverse absorption
√(γ_r n_B(w)) c†_k c_{k'}: γ_r = 2Γph × (weight of r), w = E_α(k) − E_α(k') the energy lost
*on the grid*, so that Fermi–Dirac populations are exactly stationary (detailed balance)
whatever v is and whichever rule.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._numerics import bose
from .params import InterbandParams


def k_grid(params: InterbandParams) -> Float[Array, " N"]:
    """k_j = −k_max + j·dk, j = 0…N−1 (symmetric, contains k = 0)."""
    n = params.n_k
    return params.dk * (jnp.arange(n, dtype=float) - (n - 1) // 2)


def phonon_steps(params: InterbandParams) -> Float[Array, " 2"]:
    """σ_α = v / (A_α dk): the momentum an emission moves an electron by, in grid steps
    (real; band 1, band 2). The jumps `phonon_jumps` realise it on the grid."""
    return params.v / (jnp.stack([params.A1, params.A2]) * params.dk)


def phonon_jumps(params: InterbandParams) -> tuple[Int[Array, "2 J"], Float[Array, "2 J"]]:
    """The integer shifts s_{α,r} and weights of the J phonon jumps of each band
    (`"nearest"`: J = 1, s = round(σ_α), weight 1; `"linear"`: J = 2, s = floor(σ_α) and
    floor(σ_α) + 1, weights 1 − f and f). The weights sum to 1 and Σ_r weight·s = σ_α for
    `"linear"`: the mean phonon momentum is exactly v/A_α.

    Example: `phonon_jumps(InterbandParams(v=0.1, phonon_targets="linear"))` gives shifts
    [[7, 8], [2, 3]] and weights [[0.857, 0.143], [0.917, 0.083]] (σ = 7.143, 2.083).
    """
    sigma = phonon_steps(params)
    if params.phonon_targets == "nearest":
        return jnp.floor(sigma + 0.5).astype(int)[:, None], jnp.ones((2, 1))
    low = jnp.floor(sigma)
    f = sigma - low  # d f/dv = 1/(A dk): floor has zero derivative
    shifts = jnp.stack([low, low + 1.0], axis=-1).astype(int)
    return shifts, jnp.stack([1.0 - f, f], axis=-1)


def effective_phonon_velocity(params: InterbandParams) -> Float[Array, " 2"]:
    """The phonon velocity each band actually sees on the grid, Σ_r weight_r·s_r·A_α·dk
    (band 1, band 2; units E_g a/ħ): v itself for `"linear"`, round(v/(A_α dk))·A_α dk
    for `"nearest"`."""
    shifts, weights = phonon_jumps(params)
    A = jnp.stack([params.A1, params.A2])
    return jnp.sum(weights * shifts.astype(float), axis=-1) * A * params.dk


class PhononTables(eqx.Module):
    """Scattering tables for both bands (axes: band α, jump r, grid index j; J jumps per
    source: 1 for `"nearest"`, 2 for `"linear"`).

    - `shift[α, r]`, `weight[α, r]`: the jumps of `phonon_jumps`.
    - `target[α, r, j]`: landing index of jump r from j (j itself if j does not emit).
    - `emit[α, r, j]`: emission jump rate weight·2Γph(1 + n_B(w)) (0 if j does not emit).
    - `absorb[α, r, j]`: rate weight·2Γph n_B(w) of the reverse jump target → j.
    - `in_src[α, r, side, y]`, `in_mask[α, r, side, y]`: the at most two emitters whose jump
      r lands on y (one from each side of k = 0), so that inflows are gathers, not scatter-adds.
    - `w[α, r, j]`: energy lost in jump r from j (0 if none).
    - `bose[α, r, j]`: Bose factor n_B(w) of that phonon (0 at T = 0 or if j does not emit).
    """

    shift: Int[Array, "2 J"]
    weight: Float[Array, "2 J"]
    target: Int[Array, "2 J N"]
    emit: Float[Array, "2 J N"]
    absorb: Float[Array, "2 J N"]
    in_src: Int[Array, "2 J 2 N"]
    in_mask: Float[Array, "2 J 2 N"]
    w: Float[Array, "2 J N"]
    bose: Float[Array, "2 J N"]

    # For the right-hand side: both bands flattened to one (2N,) axis [band 1, band 2], so
    # that one gather fetches n at every point's J emission targets and at the 2J emitters
    # landing on it; the rest is elementwise (see equations._phonons).
    gather_idx: Int[Array, "3*J 2*N"]
    flat_emit: Float[Array, "J 2*N"]
    flat_absorb: Float[Array, "J 2*N"]
    in_emit: Float[Array, "2*J 2*N"]
    in_absorb: Float[Array, "2*J 2*N"]


def _jump_table(A, s, rate, params: InterbandParams, k):
    """One jump of integer shift `s` and base rate `rate` (= weight·2Γph) in one band."""
    n = params.n_k
    c = (n - 1) // 2
    x = jnp.arange(n) - c
    emits = (2 * jnp.abs(x) > s) & (s > 0)  # s = 0 (σ just below 1, "linear"): no energy loss
    xt = jnp.where(emits, -x + jnp.sign(x) * s, x)
    target = xt + c
    w = jnp.where(emits, A * (k**2 - k[target] ** 2), 0.0)
    nb = bose(jnp.where(emits, w, 1.0), params.T)
    emit = jnp.where(emits, rate * (1.0 + nb), 0.0)
    absorb = jnp.where(emits, rate * nb, 0.0)
    # Sources landing on target offset y: from x > 0, x = s − y; from x < 0, x = −y − s.
    x_pos = s - x
    x_neg = -x - s
    ok_pos = (2 * x_pos > s) & (x_pos <= c)
    ok_neg = (-2 * x_neg > s) & (x_neg >= -c)
    in_src = jnp.stack([jnp.where(ok_pos, x_pos + c, 0), jnp.where(ok_neg, x_neg + c, 0)])
    in_mask = jnp.stack([ok_pos, ok_neg]).astype(float)
    return target, emit, absorb, in_src, in_mask, w, jnp.where(emits, nb, 0.0)


def phonon_tables(params: InterbandParams) -> PhononTables:
    """Build the phonon scattering tables once from `params` (jit/vmap/grad-safe: the shapes
    depend only on the static grid and `phonon_targets`, the values on A_α, v, Γph and T)."""
    k = k_grid(params)
    n = params.n_k
    shifts, weights = phonon_jumps(params)
    n_jumps = shifts.shape[1]
    A = (params.A1, params.A2)
    bands = [
        [
            _jump_table(A[b], shifts[b, r], 2.0 * params.gamma_ph * weights[b, r], params, k)
            for r in range(n_jumps)
        ]
        for b in range(2)
    ]
    target, emit, absorb, in_src, in_mask, w, nb = (
        jnp.stack([jnp.stack([bands[b][r][i] for r in range(n_jumps)]) for b in range(2)]) for i in range(7)
    )
    # Flatten both bands onto one axis: index b·N + j.
    offset = (n * jnp.arange(2))[:, None, None]
    flat_target = jnp.moveaxis(target + offset, 0, 1).reshape(n_jumps, 2 * n)
    src = in_src + offset[..., None]  # (2, J, 2, N)
    flat_src = jnp.moveaxis(src, 0, 2).reshape(2 * n_jumps, 2 * n)  # rows (r, side)
    flat_mask = jnp.moveaxis(in_mask, 0, 2).reshape(2 * n_jumps, 2 * n)
    flat_emit = jnp.moveaxis(emit, 0, 1).reshape(n_jumps, 2 * n)
    flat_absorb = jnp.moveaxis(absorb, 0, 1).reshape(n_jumps, 2 * n)
    rows = jnp.repeat(jnp.arange(n_jumps), 2)  # jump r of each incoming row
    return PhononTables(
        shift=shifts,
        weight=weights,
        target=target,
        emit=emit,
        absorb=absorb,
        in_src=in_src,
        in_mask=in_mask,
        w=w,
        bose=nb,
        gather_idx=jnp.concatenate([flat_target, flat_src]),
        flat_emit=flat_emit,
        flat_absorb=flat_absorb,
        in_emit=jnp.take_along_axis(flat_emit[rows], flat_src, axis=1) * flat_mask,
        in_absorb=jnp.take_along_axis(flat_absorb[rows], flat_src, axis=1) * flat_mask,
    )
