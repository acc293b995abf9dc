"""Momentum grid and acoustic-phonon scattering tables (paper Eq. B2; docs/model-interband.md).

In band α an electron at grid offset x (steps from k = 0) emits a phonon iff 2|x| > s_α,
s_α = round(v / (A_α dk)), and lands at x' = −x + sign(x)·s_α: toward the band bottom,
on the other side of k = 0 (the 1-D solution of A_α(k² − k'²) = v|k − k'|). Each emission
has the jump operator √(2Γph(1 + n_B(w))) c†_{k'} c_k and, at T > 0, the reverse absorption
√(2Γph n_B(w)) c†_k c_{k'}, with w = E_α(k) − E_α(k') the energy lost on the grid, so that
Fermi–Dirac populations are exactly stationary (detailed balance) whatever v is.
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


class PhononTables(eqx.Module):
    """Scattering tables for both bands (leading axis: band 1, band 2).

    - `shift`: s_α in grid steps.
    - `target[α, j]`: landing index of an emission from j (j itself if j does not emit).
    - `emit[α, j]`: emission jump rate 2Γph(1 + n_B(w)) from j (0 if j does not emit).
    - `absorb[α, j]`: rate 2Γph n_B(w) of the reverse jump target → j.
    - `in_src[α, r, y]`, `in_mask[α, r, y]` (r = 0, 1): the at most two emitters landing on y
      (one from each side of k = 0), so that inflows are gathers, not scatter-adds.
    - `w[α, j]`: energy lost in the emission from j (0 if none).
    - `bose[α, j]`: Bose factor n_B(w) of that phonon (0 at T = 0 or if j does not emit).
    """

    shift: Int[Array, " 2"]
    target: Int[Array, "2 N"]
    emit: Float[Array, "2 N"]
    absorb: Float[Array, "2 N"]
    in_src: Int[Array, "2 2 N"]
    in_mask: Float[Array, "2 2 N"]
    w: Float[Array, "2 N"]
    bose: Float[Array, "2 N"]

    # For the right-hand side: both bands flattened to one (2N,) array [band 1, band 2], so
    # that one gather fetches n at every point's emission target and at the (at most two)
    # emitters landing on it; the rest is elementwise (see equations._phonons).
    gather_idx: Int[Array, "3 2*N"]
    in_emit: Float[Array, "2 2*N"]
    in_absorb: Float[Array, "2 2*N"]


def _band_table(A, params: InterbandParams, k):
    n = params.n_k
    c = (n - 1) // 2
    x = jnp.arange(n) - c
    s = jnp.floor(params.v / (A * params.dk) + 0.5).astype(int)
    emits = 2 * jnp.abs(x) > s
    xt = jnp.where(emits, -x + jnp.sign(x) * s, x)
    target = xt + c
    w = jnp.where(emits, A * (k**2 - k[target] ** 2), 0.0)
    nb = bose(jnp.where(emits, w, 1.0), params.T)
    emit = jnp.where(emits, 2.0 * params.gamma_ph * (1.0 + nb), 0.0)
    absorb = jnp.where(emits, 2.0 * params.gamma_ph * nb, 0.0)
    # Sources landing on target offset y: from x > 0, x = s − y; from x < 0, x = −y − s.
    x_pos = s - x
    x_neg = -x - s
    ok_pos = (2 * x_pos > s) & (x_pos <= c)
    ok_neg = (-2 * x_neg > s) & (x_neg >= -c)
    in_src = jnp.stack([jnp.where(ok_pos, x_pos + c, 0), jnp.where(ok_neg, x_neg + c, 0)])
    in_mask = jnp.stack([ok_pos, ok_neg]).astype(float)
    return s, target, emit, absorb, in_src, in_mask, w, jnp.where(emits, nb, 0.0)


def phonon_tables(params: InterbandParams) -> PhononTables:
    """Build the phonon scattering tables once from `params` (jit/vmap/grad-safe: the shapes
    depend only on the static grid, the values on A_α, v, Γph and T)."""
    k = k_grid(params)
    bands = [_band_table(A, params, k) for A in (params.A1, params.A2)]
    shift, target, emit, absorb, in_src, in_mask, w, nb = (jnp.stack(p) for p in zip(*bands))
    offset = params.n_k * jnp.arange(2)
    flat_src = jnp.moveaxis(in_src + offset[:, None, None], 0, 1).reshape(2, -1)
    flat_mask = jnp.moveaxis(in_mask, 0, 1).reshape(2, -1)
    return PhononTables(
        shift=shift,
        target=target,
        emit=emit,
        absorb=absorb,
        in_src=in_src,
        in_mask=in_mask,
        w=w,
        bose=nb,
        gather_idx=jnp.concatenate([(target + offset[:, None]).reshape(1, -1), flat_src]),
        in_emit=emit.reshape(-1)[flat_src] * flat_mask,
        in_absorb=absorb.reshape(-1)[flat_src] * flat_mask,
    )
