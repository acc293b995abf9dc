"""Shared numerics (`photosc_jax._numerics`) against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import photosc_jax  # noqa: F401  (float64)
from photosc_jax._numerics import (
    bose,
    bracketed_root,
    fermi,
    fermi_log_term,
    gauss_legendre,
    golden_min,
    tanh_half,
)


def test_occupation_functions_and_their_zero_temperature_limits():
    x = jnp.array([-1.0, -1e-3, 0.0, 1e-3, 2.0])
    T = 0.05
    np.testing.assert_allclose(fermi(x, T), 1 / (np.exp(np.asarray(x) / T) + 1), rtol=1e-14)
    np.testing.assert_allclose(tanh_half(x, T), 1 - 2 * fermi(x, T), atol=1e-15)
    np.testing.assert_allclose(fermi_log_term(x, T), T * np.log1p(np.exp(-np.asarray(x) / T)), rtol=1e-14)
    np.testing.assert_array_equal(fermi(x, 0.0), [1.0, 1.0, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(tanh_half(x, 0.0), [-1.0, -1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(fermi_log_term(x, 0.0), [1.0, 1e-3, 0.0, 0.0, 0.0])
    w = jnp.array([1e-3, 0.1, 3.0])
    np.testing.assert_allclose(bose(w, T), 1 / np.expm1(np.asarray(w) / T), rtol=1e-13)
    np.testing.assert_array_equal(bose(w, 0.0), 0.0)
    # d/dx [T ln(1 + e^{−x/T})] = −f(x); finite gradients at T = 0
    np.testing.assert_allclose(jax.grad(fermi_log_term)(0.3, T), -fermi(0.3, T), rtol=1e-12)
    assert np.isfinite(jax.grad(bose, argnums=1)(0.1, 0.0))


def test_gauss_legendre_is_exact_for_polynomials_per_panel():
    x, w = gauss_legendre(4, 5)  # degree ≤ 9 exact on each of 4 panels of [0, 1]
    assert x.shape == w.shape == (20,) and float(jnp.sum(w)) == pytest.approx(1.0, abs=1e-15)
    assert float(jnp.sum(w * x**9)) == pytest.approx(0.1, rel=1e-14)
    assert float(jnp.sum(w * jnp.abs(x - 0.5))) == pytest.approx(0.25, rel=1e-14)  # kink at a node edge


def test_bracketed_root_vmaps_with_a_validity_mask_and_differentiates():
    c = jnp.array([0.5, 2.0, -1.0])  # roots of x² − c on [0, 3]: valid only for c > 0
    roots = jax.vmap(
        lambda ci: bracketed_root(
            lambda x: x**2 - ci, 0.0, 3.0, ci > 0, decreasing=False, rtol=1e-13, atol=1e-13
        )
    )(c)
    np.testing.assert_allclose(roots[:2], np.sqrt([0.5, 2.0]), rtol=1e-12)
    assert np.isfinite(roots[2])  # the masked point solved a dummy problem
    g = jax.grad(
        lambda ci: bracketed_root(lambda x: x**2 - ci, 0.0, 3.0, decreasing=False, rtol=1e-13, atol=1e-13)
    )(2.0)
    assert float(g) == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-9)  # implicit function theorem


@pytest.mark.parametrize("a, b, c", [(0.4, 0.6, 0.5), (0.55, 0.57, 0.563), (0.4, 0.6, 0.4)])
def test_golden_min_on_brackets_away_from_zero(a, b, c):
    x, f = golden_min(lambda x, args: (x - args) ** 2 + 1.0, a, b, c)
    # a minimum is located to √ε relative (f is flat to rounding within ~1e-8 of it)
    assert float(x) == pytest.approx(c, abs=3e-8) and float(f) == pytest.approx(1.0, abs=1e-15)
    # envelope theorem: d(min f)/d(shift) = ∂f/∂shift at x*, i.e. 0 for this family, and
    # d/dk min (k (x − c)² + k) = 1
    dk = jax.grad(lambda k: golden_min(lambda x, k: k * ((x - c) ** 2 + 1.0), a, b, k)[1])(2.0)
    assert float(dk) == pytest.approx(1.0, abs=1e-9)
