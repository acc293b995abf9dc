"""Linear stability of a paired steady state (the counterpart of `stability`, which treats
the normal state Δ = 0).

In the frame rotating with Δ at its frequency μ a paired steady state is a fixed point z* of
the flow ż = F(z) (`corotating.corotating_flow`, z = [n11, n22, Re n21, Im n21, Re s, Im s] on
the mirror-reduced grid k ≥ 0). Small deviations obey δż = J δz with J = ∂F/∂z at z*. Two
eigenvalues of J are zero for every steady state, by symmetry, and say nothing about
stability:

- the global U(1) phase: F(e^{iθ}z) = e^{iθ}F(z), so the rotation r = ∂_θ z* = [0, 0, 0, 0,
  −Im s, Re s] is a right null vector (J r = 0);
- particle-number conservation: l·F ≡ 0 for l = [w, w, 0, 0, 0, 0] (Σ_k w_k(n11 + n22),
  w = multiplicities 1, 2, 2, …), so l is a left null vector (lᵀJ = 0). Since l·r = 0 the
  zero eigenvalue is defective: a change of N changes μ, which in the co-rotating frame is
  a drift of the phase (J g ∝ r), and numerically the pair splits as ±√ε.

Both are removed exactly: range(J) ⊂ ker(lᵀ), and J maps span(r) to 0, so in an orthonormal
basis [l̂, r̂, B] of R^{6M} the matrix of J has a zero first row and a zero second column,
and eig(J) = {0, 0} ∪ eig(Bᵀ J B). The state is linearly stable (within the mirror-symmetric
sector the solver works in) iff every eigenvalue of K = Bᵀ J B has a negative real part;
`growth_rate` = max Re eig K.

Units: E_g = ħ = 1 (rates in E_g/ħ).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.lax.linalg import EigImplementation
from jaxtyping import Array, Float

from .corotating import corotating_flow, unknowns_of
from .equations import coefficients
from .params import InterbandParams
from .steady import SteadyState


class PairedStability(eqx.Module):
    """Leading mode of a paired steady state beyond the two symmetry zero modes (module
    docstring): `growth_rate` = max Re λ (E_g/ħ; < 0 ⇔ linearly stable), `frequency` = |Im λ|
    of that mode (E_g/ħ; nonzero: an oscillatory mode, a Hopf bifurcation where the growth
    rate crosses zero)."""

    growth_rate: Float[Array, ""]
    frequency: Float[Array, ""]


def _reflect(m: Float[Array, "n n"], v: Float[Array, " n"]) -> Float[Array, "n n"]:
    """H m H for the Householder reflector H = 1 − 2vvᵀ/(vᵀv) (O(n²), H = Hᵀ = H⁻¹)."""
    c = 2.0 / (v @ v)
    m = m - c * jnp.outer(m @ v, v)
    return m - c * jnp.outer(v, v @ m)


def reduced_jacobian(params: InterbandParams, x: Float[Array, " n"]) -> Float[Array, "k k"]:
    """K = Bᵀ J B (k × k, k = 6M − 2): the flow's Jacobian at the steady state with unknowns
    `x` ([z, μ], n = 6M + 1, `corotating.unknowns_of`), with the phase and particle-number
    zero modes removed.

    The basis is Q = H₁H₂ (two Householder reflectors): H₁ maps the unit number vector l̂
    to ±e₁, H₂ the unit rotation r̂ (⊥ l̂, and zero in the first entry, so H₁ leaves it
    alone) to −e₂; the columns of Q beyond the first two are an orthonormal basis B of
    the complement, and K = (QᵀJQ)[2:, 2:] costs O(n²) instead of two dense products."""
    c = coefficients(params, half=True)
    z, mu = x[:-1], x[-1]
    m = c.esum.shape[0]
    jac = jax.jacfwd(corotating_flow)(z, mu, c)
    zero = jnp.zeros(m)
    number = jnp.concatenate([c.weights, c.weights, zero, zero, zero, zero])
    phase = jnp.concatenate([zero, zero, zero, zero, -z[5 * m :], z[4 * m : 5 * m]])
    l_hat = number / jnp.linalg.norm(number)
    r_hat = phase / jnp.linalg.norm(phase)
    e1, e2 = jnp.zeros_like(l_hat).at[0].set(1.0), jnp.zeros_like(l_hat).at[1].set(1.0)
    v1 = l_hat + jnp.where(l_hat[0] >= 0, 1.0, -1.0) * e1  # l̂[0] = w₀/|l| > 0: no cancellation
    v2 = r_hat + e2  # r̂[1] = 0 (an n11 entry): H₂ r̂ = −e₂, and H₂e₁ = e₁
    return _reflect(_reflect(jac, v1), v2)[2:, 2:]


def leading_mode(
    params: InterbandParams, x: Float[Array, " n"], eig: EigImplementation | None = None
) -> tuple[jax.Array, jax.Array]:
    """(max Re λ, |Im λ| of that λ) (E_g/ħ) over the eigenvalues of `reduced_jacobian` at
    the unknowns `x` (n = 6M + 1), by `jax.lax.linalg.eig` with the implementation `eig`
    (None: JAX's choice; `methods.Continuation.eig`)."""
    (lam,) = jax.lax.linalg.eig(
        reduced_jacobian(params, x),
        compute_left_eigenvectors=False,
        compute_right_eigenvectors=False,
        implementation=eig,
    )
    i = jnp.argmax(lam.real)
    return lam.real[i], jnp.abs(lam.imag[i])


@eqx.filter_jit
def _paired_stability(params, x):
    return PairedStability(*leading_mode(params, x))


def paired_stability(ss: SteadyState) -> PairedStability:
    """Linear stability of the paired steady state `ss` (from `steady_state` or one point of
    `continuation`; its `params` are used). Only meaningful for a successful paired state
    (`ss.success`, `ss.delta_abs > 0`). One dense eigenvalue problem of size 6M − 2 (604 at
    the paper's N = 201).

    Example: at Fig. 3 parameters (Ω = 0.25, V = 5),
    `paired_stability(steady_state(InterbandParams(), Newton()))` gives an oscillatory
    leading mode, λ ≈ −0.0029 ± 0.0385i (stable)."""
    return _paired_stability(ss.params, unknowns_of(ss))
