"""Benchmark: the paper-1 Fig. 2 map |Δ|(Ω, V) by continuation vs by time evolution.

Usage: python benchmarks/bench_phase_map.py [--n 64] [--subset 8] [--t1 20000]

Both through the `photosc` command line, as a user runs them, compile included (each with
an empty compilation cache of its own: a first run), each in a fresh process (paper grid
N = 201, T = 0, Ω ∈ [0.01, 0.5], V ∈ [0, 8], paper defaults):
- the n × n map with `--method continuation` (rows along V);
- an `subset` × `subset` map with the default `--method evolve` (same axes ranges), whose
  time per point gives the per-point speed-up.
Prints wall times, points per second, the per-point ratio and the phase counts. Measure on
a quiet machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str], cache: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env["PHOTOSC_JAX_CACHE"] = str(cache)  # empty: each run compiles (cold), as on a first run
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "photosc_jax", *args], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"photosc {' '.join(args)} failed:\n{proc.stderr}")
    return wall, proc.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--subset", type=int, default=8)
    ap.add_argument("--t1", type=float, default=20000.0)
    ap.add_argument("--keep", type=Path, default=None, help="write the stores here (kept)")
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()}; cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = a.keep or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        cont = Path(tmp) / "cont.zarr"
        wall_c, out_c = run(
            [
                "sweep",
                "interband",
                "--Omega",
                f"0.01:0.5:{a.n}",
                "--V",
                f"0:8:{a.n}",
                "--method",
                "continuation",
                "--out",
                str(cont),
                "--no-progress",
            ],
            Path(tmp) / "cache-cont",
        )
        print(
            f"continuation {a.n}x{a.n}: {wall_c:.1f} s wall incl. start-up and compile; "
            f"{out_c.splitlines()[0]}",
            flush=True,
        )
        ev = Path(tmp) / "ev.zarr"
        wall_e, out_e = run(
            [
                "sweep",
                "interband",
                "--method",
                "evolve",
                "--Omega",
                f"0.01:0.5:{a.subset}",
                "--V",
                f"0:8:{a.subset}",
                "--t-max",
                f"{a.t1:g}",
                "--out",
                str(ev),
                "--no-progress",
            ],
            Path(tmp) / "cache-ev",
        )
        import numpy as np

        from photosc_jax.sweeps import open_sweep

        ds = open_sweep(cont)
        phases = {
            name: int((ds["phase"].values == k).sum())
            for k, name in [
                (0, "normal"),
                (1, "paired"),
                (2, "bistable"),
                (3, "transient"),
                (4, "unsettled"),
                (5, "failed"),
            ]
        }
        n_c, n_e = a.n * a.n, a.subset * a.subset
        print(
            f"continuation {a.n}x{a.n}: {wall_c:.1f} s wall incl. start-up and compile "
            f"({n_c / wall_c:.1f} points/s); {out_c.splitlines()[0]}"
        )
        print(
            f"  phases: {phases}; rows with a threshold: "
            f"{int(np.isfinite(ds['threshold'].values).sum())}/{a.n}"
        )
        print(
            f"evolution {a.subset}x{a.subset} (t1 = {a.t1:g}): {wall_e:.1f} s wall "
            f"({n_e / wall_e:.2f} points/s); {out_e.splitlines()[0]}"
        )
        print(f"per-point speed-up of continuation over evolution: {(wall_e / n_e) / (wall_c / n_c):.1f}x")


if __name__ == "__main__":
    main()
