"""The Fig. 2 map by continuation against time evolution, point by point.

Usage: python benchmarks/compare_fig2.py [--n 24] [--t1 20000] [--out DIR]

Sweeps the paper's Fig. 2 grid (Ω ∈ [0.01, 0.5], V ∈ [0, 8], n × n, paper defaults, N = 201,
T = 0) with `method="evolve"` (t1, steady-state detector) and `method="continuation"`, and
prints: the largest |Δ| difference over the points that evolution flags as paired fixed
points, how the continuation phases split the evolution outcomes (a table of counts), and
the largest difference between each row's `threshold` and `critical_V`. These are the
numbers the README and docs/sweeps.md quote. Stores are kept in --out (default: a
temporary directory) so a rerun resumes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--t1", type=float, default=20000.0)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={os.cpu_count()}")
    import photosc_jax as ps
    from photosc_jax.interband.phase_map import PHASES
    from photosc_jax.sweeps import sweep

    print(f"load average: {os.getloadavg()}; cores: {os.cpu_count()}")
    out = a.out or Path(tempfile.mkdtemp(prefix="fig2-"))
    axes = {"Omega": f"0.01:0.5:{a.n}", "V": f"0:8:{a.n}"}
    t = time.perf_counter()
    ev = sweep(
        "interband",
        axes,
        method="evolve",
        options=dict(t_max=a.t1),
        out=str(out / "evolve.zarr"),
        progress=False,
    )
    t_ev = time.perf_counter() - t
    t = time.perf_counter()
    co = sweep("interband", axes, method="continuation", out=str(out / "continuation.zarr"), progress=False)
    t_co = time.perf_counter() - t
    print(
        f"evolution (t1 = {a.t1:g}): {t_ev:.0f} s; continuation: {t_co:.0f} s "
        f"({co.attrs['workers']} worker process(es)); stores in {out}"
    )
    status, d_ev = ev["status"].values, ev["delta_abs"].values
    phase, d_co = co["phase"].values, co["delta_abs"].values
    paired_fp = (status == 0) & (d_ev > 0)
    normal_fp = (status == 0) & (d_ev == 0)
    other = status != 0
    diff = np.abs(d_co[paired_fp] - d_ev[paired_fp])
    print(
        f"evolution's paired fixed points: {paired_fp.sum()}; continuation phase there: "
        f"{ {PHASES[k]: int((phase[paired_fp] == k).sum()) for k in np.unique(phase[paired_fp])} }; "
        f"max |Δ| difference {np.nanmax(diff):.1e}"
    )
    for name, mask in (("normal fixed points", normal_fp), ("not fixed points", other)):
        counts = {PHASES[k]: int((phase[mask] == k).sum()) for k in np.unique(phase[mask])}
        print(f"evolution's {name}: {mask.sum()}; continuation phase there: {counts}")
    vc = np.array(
        [float(ps.interband.critical_V(ps.InterbandParams(Omega=float(om)))) for om in co["Omega"].values]
    )
    thr = co["threshold"].values
    print(
        f"rows: threshold - critical_V: max {np.nanmax(np.abs(thr - vc)):.1e}; branch ends "
        f"above the threshold by {np.nanmin(co['branch_end'].values - thr):.3f} … "
        f"{np.nanmax(co['branch_end'].values - thr):.3f}"
    )


if __name__ == "__main__":
    main()
