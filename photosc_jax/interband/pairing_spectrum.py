"""The pairing spectrum of a normal steady state: the linear operator of pairing
fluctuations and its eigenvalues.

At s ≡ 0 the pairing sector decouples linearly from the populations (they enter ds/dt only
through ñ_k = n22_k + n11_{−k} − 1 and the dephasing γ_s; Im(Δ s) and |s_0|² in the
population equations are quadratic in s). With Δ* = (V dk/2π) Σ_k s_k (Eq. B3) the
linearised pairing equation (the Wick-reduced A12 of `equations`) is

    ds/dt = L s,   L = diag(i(A1 + A2)k² − γ_s,k) + i (V dk/2π) ñ wᵀ,

*complex*-linear in s (Δ* is linear in s, not s*), so the eigenvalues of the complex M×M
matrix L (M = (N+1)/2 mirror-reduced points, w = multiplicities 1, 2, 2, …) are those of the
real 2M×2M Jacobian, each with its complex conjugate (tested). The leading growth rate is
g = max Re eig(L); the normal state is unstable toward pairing iff g > 0. L is diagonal
plus rank one, so its eigenvalues are the roots of a secular equation
(`secular_eigenvalues`: O(M²) per sweep instead of a dense O(M³) solve; tested against the
dense one), which is how a phase-map row gets g at all of its V values.

Units: E_g = ħ = 1 (rates in E_g/ħ).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Complex, Float

from .._numerics import real_times
from .._roots import batch_cond
from .equations import Coefficients, normal_rates
from .normal_state import NormalState


def _pairing_parts(normal: NormalState, c: Coefficients):
    """(d, ñ) of L = diag(d) + i c_pair ñ wᵀ: d_k = i(A1 + A2)k² − γ_s,k, ñ_k = n22 + n11 − 1."""
    z = jnp.zeros_like(normal.n11)
    *_, gamma_s = normal_rates(normal.n11, normal.n22, normal.n21.real, normal.n21.imag, z, z, 0.0, 0.0, c)
    n_tilde = normal.n22 + normal.n11 - 1.0  # mirror symmetric: n11_{−k} = n11_k
    return jax.lax.complex(-gamma_s, c.esum), n_tilde


def pairing_operator(normal: NormalState, c: Coefficients) -> Complex[Array, "M M"]:
    """L of the module docstring: ds/dt = L s at the normal state (half grid; `c` =
    `coefficients(params, half=True)`)."""
    d, n_tilde = _pairing_parts(normal, c)
    rank_one = c.pair * jnp.outer(n_tilde, c.weights)
    return jnp.diag(d) + jax.lax.complex(jnp.zeros_like(rank_one), rank_one)


def _leading(normal, c):
    """(Re, Im) of the eigenvalue of L with the largest real part, by a dense eigenvalue
    solve (differentiable: the derivative of a simple eigenvalue)."""
    ev = jnp.linalg.eigvals(pairing_operator(normal, c))
    i = jnp.argmax(ev.real)
    return ev[i].real, ev[i].imag


SECULAR_MAX_ITER = 200  # Aberth sweeps before a secular solve falls back to the dense one
_SECULAR_TOL = 1e-14  # relative size of the last Aberth correction of every root


def secular_eigenvalues(
    d: Complex[Array, " M"], u: Complex[Array, " M"], a, z0: Complex[Array, " M"]
) -> tuple[Complex[Array, " M"], Bool[Array, ""]]:
    """All M eigenvalues of L = diag(d) + a ñ wᵀ (u = ñ w elementwise, real but held as a
    complex array so that all arithmetic is complex; a = i c_pair) as the
    roots of det(λ − L) = Π_k(λ − d_k) · f(λ), f(λ) = 1 − a Σ_k u_k/(λ − d_k), by the
    Aberth–Ehrlich iteration (simultaneous Newton steps with mutual repulsion, cubically
    convergent for simple roots) from the guesses `z0`: O(M²) per sweep instead of the
    O(M³) of a dense eigenvalue solve. A pole with u_k = 0 is itself an eigenvalue (row k of
    L is d_k e_kᵀ); an iterate that lands on a pole stops there. Returns (roots,
    converged): converged if every root's last correction is below 1e-14 (1 + |root|)
    within SECULAR_MAX_ITER sweeps and the roots sum to trace L = Σ d + a Σ u (no root
    counted twice). Not for differentiation (see `_leading_secular`)."""
    d, u, a, z0 = (jax.lax.stop_gradient(x) for x in (d, u, a, z0))
    m = d.shape[0]
    eye = jnp.eye(m, dtype=bool)

    def newton_ratio(z):
        gap = z[:, None] - d[None, :]  # (roots, poles)
        on = gap == 0  # an iterate exactly on a pole d_k: that pole's terms are taken apart
        r = jnp.where(on, 0.0, 1.0 / jnp.where(on, 1.0, gap))
        f = 1.0 - a * (r @ u)
        df = a * ((r * r) @ u)
        ratio = 1.0 / (jnp.sum(r, axis=1) + df / f)  # p/p' of p = Π(λ − d) f
        # on d_k: p = Π_{j≠k}(λ − d_j) h, h = (λ − d_k) f_k − a u_k, so p'/p = Σ_{j≠k} r_j −
        # f_k/(a u_k); a root if u_k = 0 (ratio 0)
        u_on = jnp.sum(jnp.where(on, u[None, :], 0.0), axis=1)
        at_pole = 1.0 / (jnp.sum(r, axis=1) - f / jnp.where(u_on == 0, 1.0, a * u_on))
        ratio = jnp.where(jnp.any(on, axis=1), jnp.where(u_on == 0, 0.0, at_pole), ratio)
        return jnp.where(jnp.isfinite(ratio), ratio, 0.0)

    def sweep(c):
        z, _, it = c
        n = newton_ratio(z)
        diff = z[:, None] - z[None, :]
        rep = jnp.sum(jnp.where(eye | (diff == 0), 0.0, 1.0 / jnp.where(diff == 0, 1.0, diff)), axis=1)
        w = n / (1.0 - n * rep)
        w = jnp.where(jnp.isfinite(w), w, n)
        return z - w, jnp.max(jnp.abs(w) / (1.0 + jnp.abs(z))), it + 1

    z, step, _ = jax.lax.while_loop(
        lambda c: (c[1] > _SECULAR_TOL) & (c[2] < SECULAR_MAX_ITER), sweep, (z0, jnp.inf, 0)
    )
    trace = jnp.sum(d) + a * jnp.sum(u)
    scale = jnp.sum(jnp.abs(d)) + jnp.abs(a * jnp.sum(u)) + 1.0
    converged = (step <= _SECULAR_TOL) & (jnp.abs(jnp.sum(z) - trace) < 1e-10 * scale)
    return z, converged


def _polish(lam, d, u, a):
    """One Newton step on f at a converged root `lam` (stop-gradiented): the same value, with
    the first-order dependence on (d, u, a) of the implicit function theorem — except at a
    pole root (u_k = 0, f ≠ 0 there), which does not depend on the pairing."""
    lam = jax.lax.stop_gradient(lam)
    r = 1.0 / (lam - d)
    f = 1.0 - a * jnp.sum(u * r)
    df = a * jnp.sum(u * r * r)
    return jnp.where(jnp.abs(jax.lax.stop_gradient(f)) < 1e-8, lam - f / df, lam)


def _secular_parts(normal, c):
    d, n_tilde = _pairing_parts(normal, c)
    u = n_tilde * c.weights
    return d, jax.lax.complex(u, jnp.zeros_like(u)), jax.lax.complex(jnp.zeros_like(c.pair), c.pair)


def _leading_secular(normal, c):
    """`_leading` by `secular_eigenvalues` from the first-order perturbed poles d_k + a u_k
    (the dense solve if that does not converge); differentiable through `_polish`."""
    d, u, a = _secular_parts(normal, c)
    z, ok = secular_eigenvalues(d, u, a, d + a * u)
    z = batch_cond(~ok, lambda: jnp.linalg.eigvals(pairing_operator(normal, c)).astype(z.dtype), lambda: z)
    lam = _polish(z[jnp.argmax(z.real)], d, u, a)
    return lam.real, lam.imag


def leading_along_V(
    normal: NormalState, c0: Coefficients, V: Float[Array, " n"], dk
) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    """Leading pairing mode (growth rate, frequency) of one normal state at every V of a
    row: the secular roots solved in order of increasing |V|, each from the roots at the
    previous V (a few Aberth sweeps each), where the secular solve does not converge the
    dense eigenvalue solve (one point at a time, so a vmapped row pays for it only where
    needed). ≈ 1 ms per point at M = 101 against ≈ 6 ms for a dense solve."""
    d, u, a1 = _secular_parts(normal, eqx.tree_at(lambda c: c.pair, c0, dk / (2 * jnp.pi)))
    order = jnp.argsort(jnp.abs(V))

    def step(z_prev, v):
        z, ok = secular_eigenvalues(d, u, real_times(v, a1), z_prev)
        return jnp.where(ok, z, z_prev), (z, ok)

    _, (z, ok) = jax.lax.scan(step, d + real_times(V[order][0], a1) * u, V[order])
    inv = jnp.argsort(order)
    z, ok = z[inv], ok[inv]

    def dense(c):
        i, z = c
        j = jnp.argmax(~ok & (jnp.arange(ok.shape[0]) >= i))
        cj = eqx.tree_at(lambda c: c.pair, c0, V[j] * dk / (2 * jnp.pi))
        zj = jnp.linalg.eigvals(pairing_operator(normal, cj)).astype(z.dtype)
        return j + 1, z.at[j].set(zj)

    _, z = jax.lax.while_loop(lambda c: jnp.any(~ok & (jnp.arange(ok.shape[0]) >= c[0])), dense, (0, z))
    lam = jax.vmap(lambda zi, v: _polish(zi[jnp.argmax(zi.real)], d, u, real_times(v, a1)))(z, V)
    return lam.real, lam.imag
