"""Phonon trapping by a pulse: the Raman coordinate Q driven over the barrier of the adiabatic
BCS landscape into the metastable minimum (Chattopadhyay et al., Figs. 2–3, with Eq. 6 as
corrected in `langevin`).

- `bcs_landscape`, `bcs_force_table`: the landscape F(Q, T) of `metastability.landscape` as a
  function of Q, or its force dF/dQ tabulated once (on [−Q_max, Q_max], odd in Q, by default),
  for `langevin.simulate`.
- `spinodal_force`: max_{0 ≤ Q ≤ Q_B} F′(Q), the static force a slow drive must exceed — the
  trapping threshold of a slow pulse (not the barrier energy over its width, which is lower).
- `trapping_threshold`: the smallest Gaussian-pulse amplitude that leaves Q beyond Q_B, found
  by vmapped multisection over noiseless runs; `is_trapped` classifies saved trajectories.

Units: phonon units (ω = ℓ0 = ħ = k_B = 1, M = 1): Q in ℓ0, times in 1/ω, forces (and pulse
amplitudes, accelerations) in ω²ℓ0, energies and T in ω.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import as_float
from . import metastability
from .langevin import (
    ForceTable,
    Landscape,
    LangevinParams,
    LangevinSolution,
    Pulse,
    landscape_force,
    simulate,
)

__all__ = [
    "bcs_force_table",
    "bcs_landscape",
    "is_trapped",
    "spinodal_force",
    "trapping_threshold",
]


def bcs_landscape(params: metastability.MetastabilityParams, T) -> Callable[[Array], Array]:
    """The adiabatic landscape F(Q, T) per site (E(Q) at T = 0) of `metastability.landscape`,
    as a scalar function of Q for `simulate` (force by autodiff through the gap solve)."""
    return lambda Q: metastability.landscape(params, Q, T)


def bcs_force_table(
    params: metastability.MetastabilityParams, T, Q_min=None, Q_max=2.5, n: int = 1501
) -> ForceTable:
    """`ForceTable` of dF/dQ for the BCS landscape at temperature T: n gap solves, once.

    By default (`Q_min=None`) the table is symmetric: F(Q, T) is even in Q (U depends on Q²),
    so [−Q_max, Q_max] is covered, the mirror well at −Q_MS included, with F′(−Q) = −F′(Q)
    exactly (`ForceTable.from_even_landscape`, n points on [0, Q_max]). Give `Q_min` for a
    table on [Q_min, Q_max] only."""
    if Q_min is None:
        return ForceTable.from_even_landscape(bcs_landscape(params, T), Q_max, n)
    return ForceTable.from_landscape(bcs_landscape(params, T), Q_min, Q_max, n)


def spinodal_force(landscape: Landscape, Q_B, n: int = 4001) -> Float[Array, ""]:
    """max_{0 ≤ Q ≤ Q_B} dF/dQ: the static force a slow drive must exceed to push Q from the
    undistorted minimum over the barrier at Q_B (the tilted landscape F − aQ loses its
    minimum near 0 at this a). Grid maximum refined by a parabola through the top 3 points."""
    force = landscape_force(landscape)
    Q = jnp.linspace(0.0, 1.0, n) * Q_B
    Fp = jax.vmap(force)(Q)
    i = jnp.clip(jnp.argmax(Fp), 1, n - 2)
    a, b, c = Fp[i - 1], Fp[i], Fp[i + 1]
    den = a - 2 * b + c
    return jnp.where(den < 0, b - (c - a) ** 2 / (8 * den), jnp.max(Fp))


def is_trapped(sol: LangevinSolution, Q_B, tail: int = 10) -> Array:
    """True where the last `tail` saved Q all lie beyond the barrier Q_B."""
    return jnp.all(sol.Q[..., -tail:] > Q_B, axis=-1)


def trapping_threshold(
    landscape: Landscape,
    params: LangevinParams,
    Q_B,
    duration,
    *,
    lo,
    hi,
    rounds: int = 5,
    n_per_round: int = 8,
    t_settle=None,
    **kwargs,
) -> Float[Array, ""]:
    """Smallest Gaussian-pulse amplitude that leaves Q beyond Q_B, noise off, by vmapped
    multisection in [lo, hi] (`rounds` × `n_per_round` deterministic runs). The pulse peaks at
    t = 5·duration; the run ends `t_settle` (default 5·duration + 20/γ) after it."""
    t_c = 5.0 * duration
    t_settle = t_settle if t_settle is not None else 5.0 * duration + 20.0 / max(float(params.gamma), 1e-300)
    t1 = t_c + t_settle

    @jax.jit
    def trapped(amps):
        def one(a):
            sol = simulate(
                landscape,
                params,
                0.0,
                t1,
                pulse=Pulse(a, duration, t_c),
                n_save=16,
                t_save_from=t1 - 1.0,
                **kwargs,
            )
            return is_trapped(sol, Q_B, tail=4)

        return jax.vmap(one)(amps)

    if not float(params.gamma) > 0:
        raise ValueError("trapping_threshold needs gamma > 0: without damping Q never settles.")
    lo, hi = float(lo), float(hi)
    flags = np.asarray(trapped(jnp.array([lo, hi])))
    if flags[0] or not flags[1]:
        raise ValueError(
            f"trapping_threshold: need no trap at lo={lo} and a trap at hi={hi}; "
            f"got trapped={flags.tolist()}. Widen the bracket."
        )
    for _ in range(rounds):
        amps = np.linspace(lo, hi, n_per_round + 2)[1:-1]
        flags = np.asarray(trapped(jnp.asarray(amps)))
        k = int(np.argmax(flags)) if flags.any() else n_per_round
        hi = amps[k] if k < n_per_round else hi
        lo = amps[k - 1] if k > 0 else lo
    return as_float(0.5 * (lo + hi))
