"""Benchmark: the Fig. 2b (ΔE, ν(0)) metastability phase diagram on a 128 × 128 grid.

G = gℓ0/ω = 0.6, λ0 = U0ν(0) = 0.3, T = 0, computed with `jax.vmap` (no Python loops over grid
points). Prints the compile+run time, the run time of a second call and the class counts.
Run: `python benchmarks/metastability_phase_diagram.py`.
"""

import time

import jax.numpy as jnp
import numpy as np

import photosc_jax  # noqa: F401  (float64)
from photosc_jax.longlived.metastability import phase_diagram

N = 128
DeltaE = jnp.linspace(0.1, 3.0, N)  # ΔE/ω
nu = jnp.linspace(0.2, 4.0, N)  # ν(0)ω

t0 = time.perf_counter()
res = phase_diagram(DeltaE, nu, 0.6, 0.3)
res.regime.block_until_ready()
t1 = time.perf_counter()
res = phase_diagram(DeltaE * (1 + 1e-12), nu, 0.6, 0.3)
res.regime.block_until_ready()
t2 = time.perf_counter()
counts = np.bincount(np.asarray(res.regime).ravel(), minlength=4)
print(f"{N}x{N} phase diagram: first call (compile + run) {t1 - t0:.2f} s, second call {t2 - t1:.2f} s")
print("points per class [none, metastable I, metastable II, Q=0 unstable]:", counts.tolist())
