"""Benchmark: what the persistent compilation cache saves, and Dask against the pinned workers.

Usage: python benchmarks/bench_compile_cache.py [--n 64] [--skip-dask]

Each run is a fresh process, through the `photosc` command line as a user runs it (paper
grid N = 201, T = 0, paper defaults), with its own compilation cache directory
(`PHOTOSC_JAX_CACHE`), empty at the start:

1. the README's demo sweep (`photosc sweep interband --Omega 0.1:0.4:4 --V 2:6:4`), cold
   (empty cache) then warm (a second run, another store);
2. the n × n Fig. 2 map (Ω ∈ [0.01, 0.5], V ∈ [0, 8], continuation), cold then warm;
3. with Dask installed: the same map on a 2-worker `LocalCluster` (one thread each), in
   Python (`sweep(..., executor=client)`), cluster start-up included, twice: the first
   compiles (its workers see one CPU device, the command line one per core, and JAX keys a
   compiled program by that count), the second is warm; the warm one against the warm
   command-line run of 2. (the pinned local workers) — the ratio is printed.

First, the time to import the package in a fresh process (every `photosc` command and every
sweep worker pays it), and the part of it that `ml_dtypes` (JAX's dtypes) takes. Prints
wall times and ratios and the load average (measure on a quiet machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DASK = """
import sys, time
t = time.perf_counter()
from distributed import Client, LocalCluster
from photosc_jax.sweeps import sweep
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c, Client(c) as client:
        sweep("interband", {{"Omega": "0.01:0.5:{n}", "V": "0:8:{n}"}}, executor=client, out=sys.argv[1],
              progress=False)
    print(time.perf_counter() - t)
"""


def run(args: list[str], cache: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env={**env, "PHOTOSC_JAX_CACHE": str(cache)})
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--skip-dask", action="store_true")
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()}; cores: {os.cpu_count()}", flush=True)
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import photosc_jax"], capture_output=True, text=True
    ).stderr.splitlines()
    cumulative = {  # `-X importtime` lines: "import time: self [us] | cumulative [us] | name"
        line.split("|")[2].strip(): int(line.split("|")[1]) / 1e6
        for line in imports
        if line.count("|") == 2 and line.split("|")[1].strip().isdigit()
    }
    print(
        f"import photosc_jax: {cumulative.get('photosc_jax', float('nan')):.2f} s, "
        f"of which ml_dtypes {cumulative.get('ml_dtypes', float('nan')):.2f} s",
        flush=True,
    )
    photosc = [sys.executable, "-m", "photosc_jax", "sweep", "interband", "--no-progress"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo = [*photosc, "--Omega", "0.1:0.4:4", "--V", "2:6:4"]
        cold = run([*demo, "--out", str(tmp / "d1.zarr")], tmp / "cache-demo")
        warm = run([*demo, "--out", str(tmp / "d2.zarr")], tmp / "cache-demo")
        print(f"demo sweep 4 x 4: cold {cold:.1f} s, warm {warm:.1f} s ({cold / warm:.2f}x)", flush=True)
        fig2 = [*photosc, "--Omega", f"0.01:0.5:{a.n}", "--V", f"0:8:{a.n}"]
        cold = run([*fig2, "--out", str(tmp / "m1.zarr")], tmp / "cache-map")
        warm = run([*fig2, "--out", str(tmp / "m2.zarr")], tmp / "cache-map")
        print(
            f"Fig. 2 map {a.n} x {a.n}: cold {cold:.1f} s, warm {warm:.1f} s ({cold / warm:.2f}x)", flush=True
        )
        if a.skip_dask:
            return
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("Dask not installed (pip install -e '.[dask]'): LocalCluster run skipped")
            return
        script = tmp / "dask_map.py"
        script.write_text(DASK.format(n=a.n))
        # its workers see one CPU device, the command line's parent one per core: JAX keys a
        # compiled program by that count, so the first Dask run compiles (once, in its first task)
        first = run([sys.executable, str(script), str(tmp / "m3.zarr")], tmp / "cache-map")
        dask = run([sys.executable, str(script), str(tmp / "m4.zarr")], tmp / "cache-map")
        print(
            f"Fig. 2 map on a 2-worker LocalCluster, start-up included: first {first:.1f} s, "
            f"warm {dask:.1f} s ({dask / warm:.2f}x the pinned local workers' {warm:.1f} s)"
        )


if __name__ == "__main__":
    main()
