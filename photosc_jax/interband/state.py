"""The mean-field state: one-body correlators on the momentum grid (paper Sec. II B)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Complex, Float

from .params import InterbandParams

POPULATION_SLACK = 1e-8  # how far outside [0, 1] a solved population may stray (rounding)


def physical_populations(n: Float[Array, "..."], slack=POPULATION_SLACK) -> Bool[Array, ""]:
    """True iff every population in `n` (n11 and/or n22 values) lies in [0, 1] up to
    `slack`. The stationary mean-field equations also have roots outside that range
    (found by Newton from a crude start: at the Fig. 3 point one with n11 down to −5.4 and
    |Δ| = 0.0245, unstable), which no dynamics from a physical state reaches; the solvers
    refuse them (`normal_state`, `corotating`)."""
    return jnp.all((n > -slack) & (n < 1 + slack))


class InterbandState(eqx.Module):
    """Correlators of the mirror-symmetric Gaussian state, arrays over the k grid:

    - `n11[k] = ⟨c1†_k c1_k⟩`, `n22[k] = ⟨c2†_k c2_k⟩` (real, band populations),
    - `n21[k] = ⟨c2†_k c1_k⟩` (complex, interband coherence),
    - `s21[k] = ⟨c2†_k c1†_{−k}⟩` (complex, anomalous interband pairing amplitude).
    """

    n11: Float[Array, "*batch N"]
    n22: Float[Array, "*batch N"]
    n21: Complex[Array, "*batch N"]
    s21: Complex[Array, "*batch N"]

    def n_tilde(self) -> Float[Array, "*batch N"]:
        """ñ_k = n22_k + n11_{−k} − 1, the factor driving s21 (paper Sec. III A)."""
        return self.n22 + jnp.flip(self.n11, axis=-1) - 1.0

    def particle_number(self) -> Float[Array, "*batch"]:
        """Σ_k (n11_k + n22_k): electrons in the box (conserved by the dynamics)."""
        return jnp.sum(self.n11 + self.n22, axis=-1)


def initial_state(params: InterbandParams, seed=1e-20 * (1 + 1j)) -> InterbandState:
    """The paper's initial state: valence band full, conduction band empty, no coherence,
    and a tiny anomalous seed s21 = `seed` (scalar or array over k) that only sets when the
    pairing instability shows (App. B 2)."""
    n = params.n_k
    s = jnp.broadcast_to(jnp.asarray(seed, dtype=complex), (n,))
    return InterbandState(n11=jnp.ones(n), n22=jnp.zeros(n), n21=jnp.zeros(n, dtype=complex), s21=s)


def check_mirror_symmetric(state: InterbandState, tol: float = 1e-12) -> None:
    """Raise `ValueError` if a concrete `state` is not mirror symmetric (x_k = x_{−k}); the
    closed equations and the solvers (which integrate k ≥ 0 only) assume it. Traced states
    are not checked."""
    import jax

    for name in ("n11", "n22", "n21", "s21"):
        x = getattr(state, name)
        if isinstance(x, jax.core.Tracer):
            return
        x = jnp.asarray(x)
        err = float(jnp.max(jnp.abs(x - jnp.flip(x, axis=-1))))
        scale = max(1.0, float(jnp.max(jnp.abs(x))))
        if err > tol * scale:
            raise ValueError(
                f"InterbandState.{name} is not mirror symmetric (max |x_k − x_-k| = {err:.3g}). "
                "The model's correlator set is closed only for states with x(k) = x(−k), and "
                "the solvers integrate k ≥ 0; symmetrise it, e.g. 0.5 * (x + x[::-1])."
            )
