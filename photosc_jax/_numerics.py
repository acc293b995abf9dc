"""Numerics shared by both models: occupation functions, quadrature rules, root finding and
minimisation on optimistix. One implementation of each; both models import them.

Occupation functions take an energy `x` and a temperature `T` in the same unit (k_B = 1) and
are safe at T = 0 (they return the T → 0 limit there, with finite gradients): `fermi`,
`bose`, `tanh_half` and `fermi_log_term`.

Quadrature: `gauss_legendre(n_panels, order)` is a composite Gauss–Legendre rule on [0, 1]
(static shapes, so integrals built on it are jit/vmap/grad-safe).

Solvers (all on optimistix, all with implicit differentiation through the solution):
`bracketed_root` (bisection of a monotone scalar function, vmappable with a validity mask)
and `golden_min` (golden-section minimisation of a unimodal scalar function on [a, b]).

Drives: `gaussian_pulse` and `GaussianEnvelope`, the base of both models' Gaussian pulses.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

from ._checks import FINITE, finite_positive, require_fields

__all__ = [
    "bose",
    "bracketed_root",
    "fermi",
    "fermi_log_term",
    "gauss_legendre",
    "golden_min",
    "tanh_half",
]


def _positive(T):
    """T where T > 0, else 1 (keeps the unused branch of a `jnp.where` finite)."""
    return jnp.where(T > 0, T, 1.0)


def fermi(x: ArrayLike, T: ArrayLike) -> Float[Array, "..."]:
    """Fermi function f(x) = 1/(e^{x/T} + 1); at T = 0 its limit Θ(−x), with f(0) = ½.

    `x` and `T` in the same energy unit (k_B = 1), T ≥ 0; broadcasts."""
    thermal = jax.nn.sigmoid(-x / _positive(T))
    zero_T = jnp.where(x < 0, 1.0, jnp.where(x > 0, 0.0, 0.5))
    return jnp.where(T > 0, thermal, zero_T)


def bose(w: ArrayLike, T: ArrayLike) -> Float[Array, "..."]:
    """Bose factor n_B(w) = 1/(e^{w/T} − 1) for w > 0; exactly 0 at T = 0.

    Written as e^{−w/T}/(1 − e^{−w/T}), which is stable for w ≫ T and differentiable as
    T → 0. `w`, `T` in the same energy unit (k_B = 1)."""
    Tp = _positive(T)
    return jnp.where(T > 0, jnp.exp(-w / Tp) / (-jnp.expm1(-w / Tp)), 0.0)


def tanh_half(x: ArrayLike, T: ArrayLike) -> Float[Array, "..."]:
    """tanh(x/2T) = 1 − 2f(x), with its T → 0 limit sign(x) (the gap equation's kernel)."""
    return jnp.where(T > 0, jnp.tanh(x / (2.0 * _positive(T))), jnp.sign(x))


def fermi_log_term(x: ArrayLike, T: ArrayLike) -> Float[Array, "..."]:
    """T ln(1 + e^{−x/T}) (minus the grand potential of a fermion level at energy x), with its
    T → 0 limit max(−x, 0). Its x-derivative is −f(x)."""
    Tp = _positive(T)
    return jnp.where(T > 0, Tp * jax.nn.softplus(-x / Tp), jnp.maximum(-x, 0.0))


def real_times(x: ArrayLike, z: ArrayLike) -> Array:
    """x · z for real x and complex z, computed as two real products (no implicit
    float → complex promotion, so it runs under `jax_numpy_dtype_promotion="strict"`)."""
    z = jnp.asarray(z)
    return jax.lax.complex(x * z.real, x * z.imag)


def gaussian_pulse(
    t: ArrayLike, amplitude: ArrayLike, center: ArrayLike, width: ArrayLike
) -> Float[Array, "..."]:
    """amplitude · exp(−(t − center)²/(2 width²)): the Gaussian envelope of both models'
    drives (`interband.pulses.GaussianPulse`, `longlived.langevin.Pulse`)."""
    return amplitude * jnp.exp(-0.5 * ((t - center) / width) ** 2)


class GaussianEnvelope(eqx.Module):
    """Base of both models' Gaussian drives, `amplitude` · exp(−(t − `t_center`)²/(2σ²)):
    the field checks and the evaluation. A subclass declares the fields `amplitude`,
    `t_center` and its width field, and names that field in `width_field` (its public name
    differs between the models: `GaussianPulse.width`, `langevin.Pulse.duration`)."""

    # (no eqx.AbstractVar for `amplitude` / `t_center`: it would reorder the subclasses'
    # positional fields)
    width_field: ClassVar[str]

    @property
    def sigma(self) -> Float[Array, ""]:
        """The Gaussian width σ (standard deviation of the envelope, in units of t)."""
        return getattr(self, self.width_field)

    def __check_init__(self):
        rule = (finite_positive, f"the pulse width σ (`{self.width_field}`) must be finite and > 0.")
        require_fields(self, **{self.width_field: rule}, amplitude=FINITE, t_center=FINITE)

    def __call__(self, t: ArrayLike) -> Float[Array, "..."]:
        return gaussian_pulse(t, self.amplitude, self.t_center, self.sigma)


@functools.cache
def _gauss_legendre_np(n_panels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(order)
    nodes = ((np.arange(n_panels)[:, None] + 0.5 * (x + 1.0)) / n_panels).ravel()
    weights = np.tile(0.5 * w / n_panels, n_panels)
    return nodes, weights


def gauss_legendre(n_panels: int, order: int) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    """Composite Gauss–Legendre rule on [0, 1]: `n_panels` equal panels of `order` nodes each.

    Returns (nodes, weights), float64 arrays of length n_panels·order, so that
    ∫₀¹ f(u) du ≈ Σ weights·f(nodes) (exact for polynomials of degree < 2·order per panel)."""
    nodes, weights = _gauss_legendre_np(int(n_panels), int(order))
    return jnp.asarray(nodes), jnp.asarray(weights)


def bracketed_root(
    fn,
    lower,
    upper,
    valid=True,
    *,
    decreasing: bool,
    rtol: float,
    atol: float,
    max_steps: int = 256,
    throw: bool = False,
) -> Float[Array, ""]:
    """Zero of the monotone scalar `fn` on [lower, upper], by `optimistix.Bisection`.

    **Arguments:** `fn(x) -> scalar`, increasing or (`decreasing=True`) decreasing, with a sign
    change in [lower, upper]; `valid`: where False (e.g. inside a vmap over points without a
    root) a dummy linear problem with its zero at the midpoint is solved instead, so that the
    batch stays finite — the caller masks the result. `rtol`, `atol`, `max_steps`, `throw` as in
    `optimistix.root_find`.

    **Returns:** the root (same units as `lower`). Differentiable by the implicit function
    theorem (optimistix's implicit adjoint), also in what `fn` closes over.
    """
    mid = 0.5 * (lower + upper)
    sign = -1.0 if decreasing else 1.0

    def g(x, _):
        return jnp.where(valid, fn(x), sign * (x - mid))

    solver = optx.Bisection(rtol=rtol, atol=atol, flip=decreasing)
    sol = optx.root_find(
        g, solver, mid, None, options=dict(lower=lower, upper=upper), max_steps=max_steps, throw=throw
    )
    return sol.value


def golden_min(
    fn, a, b, args=None, *, tol: float = 1e-10, max_steps: int = 256
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """Minimiser and minimum of a unimodal scalar `fn(x, args)` on [a, b], by
    `optimistix.GoldenSearch`.

    The search runs on t ∈ [0, 1], x = a + (b − a)t, to tolerance `tol` in t (optimistix 0.1's
    GoldenSearch mis-places its first point unless the lower bound is 0), with `args` (and the
    bracket) under `stop_gradient`: no derivative is ever taken through the search. The
    minimiser x* is returned without gradient and the minimum as fn(x*, args) with live
    `args`: by the envelope theorem that is the exact derivative of the minimum value with
    respect to `args`. Pass everything `fn` depends on that may be differentiated as `args`.
    """
    # Python scalars stay Python scalars (callers branch on concrete values such as T = 0).
    a, b, frozen = jax.tree.map(
        lambda x: jax.lax.stop_gradient(x) if isinstance(x, jax.Array) else x, (a, b, args)
    )

    def g(t, _):
        return fn(a + (b - a) * t, frozen)

    solver = optx.GoldenSearch(rtol=tol, atol=tol)
    dtype = jnp.result_type(float)
    sol = optx.minimise(
        g,
        solver,
        jnp.asarray(0.5, dtype),
        None,
        options=dict(lower=jnp.asarray(0.0, dtype), upper=jnp.asarray(1.0, dtype)),
        max_steps=max_steps,
        throw=False,
    )
    x = jax.lax.stop_gradient(a + (b - a) * sol.value)
    return x, fn(x, args)
