"""Benchmark: throughput of the interband |Δ|(Ω, V) sweep at the paper's grid (N = 201).

Usage: python benchmarks/bench_sweep.py [--n 8] [--t1 8000] [--chunks 8,16,32,64]
       [--devices 1,2] [--scipy-points 2]

For each chunk size (and device count: each count runs in its own process with
XLA_FLAGS=--xla_force_host_platform_device_count=D) it sweeps an n × n grid
Ω ∈ [0.1, 0.4], V ∈ [1, 6] to t1 with rtol 1e-6, atol 1e-9 and reports compile time
(first chunk call minus a later one) and points/s after compilation, twice:
- "to t1": steady-state detection off (tol = 1e-30, which never fires), every point runs to t1 — the same
  work as the scipy baseline, which is timed on `--scipy-points` points of the grid (RK45,
  full grid, to t1) and extrapolated per point;
- "detect": the default sweep, which stops each point at its steady state.
The per-point speed-up against scipy is printed for both. The fraction of solver work
wasted under vmap on already-finished points is printed from the recorded steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(n, t1, chunks):
    import jax
    import numpy as np

    import photosc_jax  # noqa: F401  (float64)
    from photosc_jax.sweeps import sweep

    axes = {"Omega": np.linspace(0.1, 0.4, n), "V": np.linspace(1.0, 6.0, n)}
    rows = []
    for chunk in chunks:
        for mode, tol in (("to t1", 1e-30), ("detect", 1e-7)):
            opts = dict(t_max=t1, tol=tol)
            # compile + first full sweep, then a timed second sweep (compiled once per shape)
            t = time.perf_counter()
            sweep("interband", axes, method="evolve", options=opts, chunk_size=chunk, progress=False)
            first = time.perf_counter() - t
            t = time.perf_counter()
            ds = sweep("interband", axes, method="evolve", options=opts, chunk_size=chunk, progress=False)
            run = time.perf_counter() - t
            rows.append(
                dict(
                    devices=len(jax.devices()),
                    chunk=chunk,
                    mode=mode,
                    compile=first - run,
                    run=run,
                    points=n * n,
                    pps=n * n / run,
                    waste=ds.attrs["vmap_waste"],
                    paired=int((ds["delta_abs"].values > 0).sum()),
                )
            )
    print("RESULT " + json.dumps(rows))


def scipy_per_point(n_points, t1):
    import numpy as np

    sys.path.insert(0, str(HERE))
    import scipy_baseline as sb

    times = []
    for om, V in [(0.25, 5.0), (0.1, 2.0), (0.4, 6.0)][:n_points]:
        p = dict(Omega=om, V=V)
        *_, wall = sb.solve_baseline(p, t1)
        times.append(wall)
    return float(np.mean(times)), times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--t1", type=float, default=8000.0)
    ap.add_argument("--chunks", default="8,16,32,64")
    ap.add_argument("--devices", default="1,2")
    ap.add_argument("--scipy-points", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    chunks = [int(c) for c in args.chunks.split(",")]
    if args.worker:
        worker(args.n, args.t1, chunks)
        return 0
    print(
        f"interband sweep benchmark: {args.n}x{args.n} (Omega, V), N = 201, t1 = {args.t1:g}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    rows = []
    for d in (int(x) for x in args.devices.split(",")):
        env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={d}"}
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                "--n",
                str(args.n),
                "--t1",
                str(args.t1),
                "--chunks",
                args.chunks,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1]
        rows += json.loads(line[7:])
    sp, times = scipy_per_point(args.scipy_points, args.t1)
    print(f"scipy baseline (RK45, to t1): {sp:.2f} s per point ({', '.join(f'{t:.2f}' for t in times)})")
    print()
    print(
        f"{'devices':>7} {'chunk':>5} {'mode':>7} {'compile s':>9} {'run s':>7} {'points/s':>9} "
        f"{'s/point':>8} {'vs scipy':>8} {'vmap waste':>10} {'paired':>6}"
    )
    for r in rows:
        print(
            f"{r['devices']:>7} {r['chunk']:>5} {r['mode']:>7} {r['compile']:>9.2f} {r['run']:>7.2f} "
            f"{r['pps']:>9.2f} {1 / r['pps']:>8.3f} {sp * r['pps']:>7.1f}x {r['waste']:>10.1%} "
            f"{r['paired']:>6}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
