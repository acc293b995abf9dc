"""The variables the ODE solver integrates, and the right-hand side in them.

The pairing amplitude starts at |s| ~ 1e-20 and grows by ~20 orders of magnitude. With a
scalar absolute tolerance atol ≫ |s| the solver would not control s at all while it is
tiny, so the onset time of the instability would depend on atol. We therefore integrate
s = e^λ u with a scalar log-amplitude λ and a shape u normalised to Σ|u|² = N:

    dλ/dt = Re(u†g)/(u†u),   du/dt = g − u dλ/dt,   g = (ds/dt)(s = u)

(ds/dt is linear in s at fixed populations, so g = e^{−λ} ds/dt exactly; u†u is conserved
by the flow). Errors in λ are relative errors in |s|, whatever its size, so Δ(t) is
controlled from the seed on. s ≡ 0 is represented by λ = −1000 (e^λ underflows to 0); `rhs`
freezes λ while e^λ = 0, so the normal state stays exactly normal (even where it is
unstable; `rates` still reports the linear growth rate dλ/dt of u).

The solver state is one flat float64 vector [n11, n22, Re n21, Im n21, Re u, Im u, λ]
on the mirror-reduced grid k ≥ 0 (length 6M + 1, M = (N+1)/2): the model's states are
mirror symmetric (docs/model-interband.md), so k < 0 carries no information; one leaf keeps per-step
overhead low and avoids complex arithmetic in the solver. The inner product in dλ/dt
weights each k > 0 point twice, so Σ|u|² is the full-grid norm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._numerics import real_times
from .equations import Coefficients, anomalous_rate, normal_rates
from .pulses import with_drive
from .state import InterbandState

LOG_ZERO = -1000.0  # λ representing s ≡ 0 (exp underflows to exactly 0)


def half_grid(x):
    """The k ≥ 0 half of a mirror-symmetric array over the full grid."""
    n = x.shape[-1]
    return x[..., (n - 1) // 2 :]


def full_grid(x):
    """Mirror a k ≥ 0 half back onto the full grid."""
    return jnp.concatenate([jnp.flip(x[..., 1:], axis=-1), x], axis=-1)


def pack(state: InterbandState) -> Float[Array, " n"]:
    """Solver variables on the mirror-reduced grid k ≥ 0 (M = (N+1)/2 points); the state
    must be mirror symmetric (`evolve` checks)."""
    n = state.s21.shape[-1]
    n11, n22, n21, s = (half_grid(x) for x in (state.n11, state.n22, state.n21, state.s21))
    w = jnp.where(jnp.arange(s.shape[-1]) == 0, 1.0, 2.0)
    norm = jnp.sqrt(jnp.sum(w * jnp.abs(s) ** 2) / n)
    is_zero = norm == 0
    lam = jnp.where(is_zero, LOG_ZERO, jnp.log(jnp.where(is_zero, 1.0, norm)))
    safe = jnp.where(is_zero, 1.0, norm)
    ur = jnp.where(is_zero, 1.0, s.real / safe)
    ui = jnp.where(is_zero, 0.0, s.imag / safe)
    return jnp.concatenate([n11, n22, n21.real, n21.imag, ur, ui, lam[None]])


def split(y: Float[Array, " n"]):
    """(n11, n22, n21, u, λ) on the half grid from the packed vector (n21, u complex)."""
    m = (y.shape[-1] - 1) // 6
    n11, n22, a, b, ur, ui = (y[..., i * m : (i + 1) * m] for i in range(6))
    return n11, n22, jax.lax.complex(a, b), jax.lax.complex(ur, ui), y[..., -1]


def packed_order_parameter(lam, u, c: Coefficients):
    """Δ = conj(pair e^λ Σ_k w_k u_k) from the packed parts (`split`) and the mirror-reduced
    coefficients (w: the half-grid weights), in real arithmetic."""
    return jnp.conj(real_times(c.pair * jnp.exp(lam), jnp.sum(real_times(c.weights, u))))


def unpack(y: Float[Array, " n"]) -> InterbandState:
    """The full-grid `InterbandState` (s21 = e^λ u) of a packed solver vector."""
    n11, n22, n21, u, lam = split(y)
    scale = jnp.exp(lam)[..., None]
    s = jax.lax.complex(scale * u.real, scale * u.imag)
    return InterbandState(*(full_grid(x) for x in (n11, n22, n21, s)))


def rates(y, c: Coefficients):
    """Real-arithmetic rates at the packed state `y` (coefficients from
    `coefficients(params, half=True)`): (dn11, dn22, da, db, dur, dui, dλ) with
    n21 = a + ib, u = ur + i ui."""
    m = (y.shape[-1] - 1) // 6
    n11, n22, a, b, ur, ui = (y[i * m : (i + 1) * m] for i in range(6))
    scale = jnp.exp(y[-1])
    sr, si = scale * ur, scale * ui
    # Reductions stacked: fewer kernels per call (the RHS is launch-bound on a CPU).
    w = c.weights
    sum_r, sum_i, norm2 = jnp.sum(w[None, :] * jnp.stack([ur, ui, ur * ur + ui * ui]), axis=1)
    # Δ = conj((V dk/2π) Σ_k s)
    delta_re, delta_im = c.pair * scale * sum_r, -c.pair * scale * sum_i
    dn11, dn22, da, db, gamma_s = normal_rates(n11, n22, a, b, sr, si, delta_re, delta_im, c)
    gr, gi = anomalous_rate(ur, ui, n11, n22, gamma_s, c, sums=(sum_r, sum_i))
    dlam = jnp.sum(w * (ur * gr + ui * gi)) / norm2
    return dn11, dn22, da, db, gr - dlam * ur, gi - dlam * ui, dlam


def rhs(t, y, c: Coefficients) -> Float[Array, " n"]:
    """The ODE right-hand side in solver variables (diffrax signature)."""
    del t
    dn11, dn22, da, db, dur, dui, dlam = rates(y, c)
    # s ≡ 0 is invariant. Once e^λ underflows to exactly 0 (λ ≲ −745, e.g. LOG_ZERO), λ is
    # frozen (u keeps its normalised linear dynamics): otherwise λ would climb at the growth
    # rate and, in an unstable normal state, turn "exactly normal" into paired after ~1000
    # e-folds.
    live = (jnp.exp(y[-1]) > 0).astype(y.dtype)
    return jnp.concatenate([dn11, dn22, da, db, dur, dui, (live * dlam)[None]])


def driven_rhs(t, y, args) -> Float[Array, " n"]:
    """`rhs` under a time-dependent drive: `args` = (coefficients, drive), and Ω = drive(t)
    (`pulses.AbstractDrive`) replaces `coefficients.Omega`."""
    c, drive = args
    return rhs(t, y, with_drive(c, drive, t))
