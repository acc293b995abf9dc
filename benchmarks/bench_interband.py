"""Benchmark: one interband trajectory at the paper's grid, JAX (diffrax Dopri8, the default,
and Tsit5) vs the plain numpy + scipy RK45 baseline of `scipy_baseline.py`.

Usage: python benchmarks/bench_interband.py [--t1 8000] [--jax-runs 3] [--scipy-runs 1]

Setup (issue 2, "Performance"): N = 201 (InterbandParams(Omega=0.25, V=5), defaults
otherwise), t0 = 0 → t1 = 8000 from the paper's initial state, rtol 1e-6, atol 1e-9.
Reports the JAX compile time (first call minus steady-state call), the JAX run time
(median of the steady-state runs, block_until_ready), steps, the scipy run time, their
ratio, the final |Δ| of both, the time per step and per right-hand-side evaluation, and the
cost of the bare jitted right-hand side (1000 evaluations in one lax.fori_loop) to separate
RHS cost from solver overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np

import photosc_jax as ps  # enables float64
from photosc_jax.interband import coefficients, evolve
from photosc_jax.interband.solver_state import pack
from photosc_jax.interband.solver_state import rhs as jax_rhs

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scipy_baseline as sb  # noqa: E402

RTOL, ATOL = 1e-6, 1e-9
PARAMS = dict(Omega=0.25, V=5.0)
N_SAVE = 9
N_LOOP = 1000


def _block(x):
    return jax.block_until_ready(x)


def run_jax(params, t1, ts, solver=None):
    r = evolve(params, t1, saveat=ts, rtol=RTOL, atol=ATOL, solver=solver)
    _block(r.delta)
    return r


def time_jax(params, t1, ts, runs, solver=None):
    t = time.perf_counter()
    r = run_jax(params, t1, ts, solver)
    first = time.perf_counter() - t
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        r = run_jax(params, t1, ts, solver)
        times.append(time.perf_counter() - t)
    return r, first, times


def time_rhs(params, y, y_np, tab):
    """Per-evaluation cost of the bare right-hand side (best of 5 repetitions of 1000):
    jitted, in a fori_loop (no dispatch), jitted single calls from Python (with dispatch),
    and numpy."""
    c = coefficients(params, half=True)  # the solvers integrate the mirror-reduced grid
    yj = jnp.asarray(y)

    @jax.jit
    def loop(y0, c):
        # y ← y + ε f(y): a data dependence so that XLA cannot hoist or drop evaluations.
        return jax.lax.fori_loop(0, N_LOOP, lambda i, y: y + 1e-9 * jax_rhs(0.0, y, c), y0)

    _block(loop(yj, c))
    reps = []
    for _ in range(5):
        t = time.perf_counter()
        _block(loop(yj, c))
        reps.append((time.perf_counter() - t) / N_LOOP)
    t_loop = min(reps)

    f = jax.jit(jax_rhs)
    _block(f(0.0, yj, c))
    reps = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(N_LOOP):
            out = f(0.0, yj, c)
        _block(out)
        reps.append((time.perf_counter() - t) / N_LOOP)
    t_dispatch = min(reps)

    y = y_np
    sb.numpy_rhs(0.0, y, tab)
    reps = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(N_LOOP):
            sb.numpy_rhs(0.0, y, tab)
        reps.append((time.perf_counter() - t) / N_LOOP)
    t_np = min(reps)
    return t_loop, t_dispatch, t_np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--t1", type=float, default=8000.0)
    ap.add_argument("--jax-runs", type=int, default=3)
    ap.add_argument("--scipy-runs", type=int, default=1)
    args = ap.parse_args(argv)

    params = ps.InterbandParams(**PARAMS)
    n = params.n_k
    t1 = args.t1
    ts_np = np.linspace(0.0, t1, N_SAVE)
    ts = jnp.asarray(ts_np)

    print(
        f"photosc_jax interband benchmark: N = {n}, Omega = {PARAMS['Omega']}, V = {PARAMS['V']}, "
        f"t1 = {t1:g}, rtol = {RTOL:g}, atol = {ATOL:g}"
    )
    print(
        f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPU(s), "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )

    # --- JAX ---------------------------------------------------------------------------
    r, first, times = time_jax(params, t1, ts, args.jax_runs)
    t_jax = statistics.median(times)
    compile_t = first - t_jax
    if not bool(r.success):
        print(f"JAX solve failed: {r.result}")
        return 1
    steps = int(r.stats["num_steps"])
    acc = int(r.stats["num_accepted_steps"])
    rej = int(r.stats["num_rejected_steps"])
    nfev_jax = 13 * steps + 3  # Dopri8 (14 stages, FSAL): 13 per attempted step (+ start-up)
    d_jax = np.abs(np.asarray(r.delta))

    # Reference: the same solve with Tsit5 (a "straightforward jitted Tsit5").
    r5, first5, times5 = time_jax(params, t1, ts, args.jax_runs, dfx.Tsit5())
    t_tsit5 = statistics.median(times5)
    steps5 = int(r5.stats["num_steps"])

    # --- scipy -------------------------------------------------------------------------
    scipy_times = []
    for _ in range(args.scipy_runs):
        ts_s, d_np, y1_np, nfev_np, wall = sb.solve_baseline(PARAMS, t1, n_save=N_SAVE, rtol=RTOL, atol=ATOL)
        scipy_times.append(wall)
    t_np = min(scipy_times)
    attempts_np = (nfev_np - 2) // 6  # RK45 (FSAL): 6 per attempt, + f(y0) and h0 selection

    # --- bare right-hand side ------------------------------------------------------------
    tab = sb.make_tables(PARAMS)
    rhs_loop, rhs_dispatch, rhs_np = time_rhs(params, pack(r.state), y1_np, tab)

    # --- report ----------------------------------------------------------------------------
    us = 1e6
    rel = abs(d_np[-1] - d_jax[-1]) / abs(d_jax[-1])
    w = 38
    print()
    print(f"{'':{w}} {'JAX (Dopri8)':>16} {'scipy (RK45)':>16}")
    print(f"{'compile time [s]':{w}} {compile_t:16.2f} {'-':>16}")
    print(f"{'first call (compile + run) [s]':{w}} {first:16.2f} {'-':>16}")
    print(f"{'run time (JAX median, scipy best) [s]':{w}} {t_jax:16.3f} {t_np:16.2f}")
    print(
        f"{'  (all runs [s])':{w}} {' '.join(f'{x:.3f}' for x in times):>16} "
        f"{' '.join(f'{x:.2f}' for x in scipy_times):>16}"
    )
    print(f"{'steps (accepted + rejected)':{w}} {f'{steps} ({acc}+{rej})':>16} {f'~{attempts_np}':>16}")
    print(f"{'RHS evaluations':{w}} {f'~{nfev_jax}':>16} {nfev_np:16d}")
    print(f"{'time per step [us]':{w}} {t_jax / steps * us:16.1f} {t_np / attempts_np * us:16.1f}")
    print(f"{'time per RHS evaluation [us]':{w}} {t_jax / nfev_jax * us:16.2f} {t_np / nfev_np * us:16.2f}")
    print(f"{'bare RHS, jit fori_loop [us/eval]':{w}} {rhs_loop * us:16.2f} {'-':>16}")
    print(f"{'bare RHS, jitted call [us/eval]':{w}} {rhs_dispatch * us:16.2f} {'-':>16}")
    print(f"{'bare RHS, numpy [us/eval]':{w}} {'-':>16} {rhs_np * us:16.2f}")
    print(
        f"{'RHS share of run time (bare x evals)':{w}} {rhs_loop * nfev_jax / t_jax:16.0%} "
        f"{rhs_np * nfev_np / t_np:16.0%}"
    )
    print(f"{'final |Delta|':{w}} {d_jax[-1]:16.9e} {d_np[-1]:16.9e}")
    print()
    print(f"speed-up scipy / JAX (run time, after compilation): {t_np / t_jax:.1f}x  (target >= 30x)")
    print(
        f"reference JAX Tsit5: {t_tsit5:.3f} s run, {first5 - t_tsit5:.2f} s compile, {steps5} steps, "
        f"speed-up {t_np / t_tsit5:.1f}x; final |Delta| {abs(complex(r5.delta[-1])):.9e}"
    )
    print(f"final |Delta| relative difference: {rel:.2e}  ({'OK' if rel < 1e-4 else 'LARGER THAN 1e-4'})")
    print()
    print("|Delta|(t):       t        JAX            scipy")
    for t, a, b in zip(ts_np, d_jax, d_np):
        print(f"           {t:9.1f}  {a:.6e}  {b:.6e}")
    return 0 if rel < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
