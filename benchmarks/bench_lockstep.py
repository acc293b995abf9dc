"""Benchmark: lockstep efficiency of the phase-map rows when they are vmapped in batches.

Usage: python benchmarks/bench_lockstep.py [--n 64] [--batch 64 16 8] [--json out.json]

Rows vmapped together (the accelerator plan, `sweep(..., plan="accelerator")`) run every
loop as long as their slowest member. Per loop, the lockstep efficiency of a batch of rows
is (sum over rows of the iterations each row needs) / (rows × iterations the batch runs):

- flat loops (normal-state relaxation, warm start): Σ_r s_r / (B · max_r s_r);
- the walk, a scan over the grid steps with a loop of corrector solves inside each and a
  chord loop inside each solve: per grid step j, Σ_r c_rj / (B · Σ_j max_r c_rj), for the
  corrector solves and for the chord iterations (the latter summed over the solves of a
  step: exact where a step takes one solve, otherwise a bound from above).

A row whose branch has ended (or never began) idles through the rest of the walk, so the
walk's loops are also reported among the rows still on the branch at each step,
Σ_r c_rj / Σ_j (rows on the branch at j · max_r c_rj): the unevenness of the work itself,
apart from the map's normal points.

The rows' iteration counts come from `PhaseRow.work` (`RowWork`), computed here one row after
another (`lax.map`, no vmap: the counts do not depend on batching) for the n × n Fig. 2 map
(paper grid N = 201, T = 0, Ω ∈ [0.01, 0.5], V ∈ [0, 8]); batches are consecutive rows in
grid order (consecutive Ω), as the sweep engine forms them. Prints a table per batch size;
the load average is printed (measure on a quiet machine: only the run time depends on it).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np


def efficiencies(work: dict[str, np.ndarray], batch: int) -> dict[str, float]:
    """Lockstep efficiency per loop (module docstring) of consecutive batches of `batch`
    rows; `work` maps loop names to per-row counts (rows,) or per-step counts (rows, n)."""
    out = {}
    for name, counts in work.items():
        counts = np.asarray(counts, float)
        need = run = living = 0.0
        for a in range(0, counts.shape[0], batch):
            c = counts[a : a + batch]
            need += c.sum()
            run += c.shape[0] * (c.max(axis=0).sum() if c.ndim == 2 else c.max())
            if c.ndim == 2:  # a row on the branch makes at least one corrector solve a step
                living += ((c > 0).sum(axis=0) * c.max(axis=0)).sum()
        out[name] = need / run if run > 0 else float("nan")
        if counts.ndim == 2:
            out[name + ", rows on the branch"] = need / living if living > 0 else float("nan")
    return out


def row_work(
    n: int, *, vmapped: bool = False, omega_min: float = 0.01, fixed: dict | None = None
) -> tuple[dict[str, np.ndarray], float]:
    """Per-row iteration counts of the n × n Fig. 2 map (Ω from `omega_min` to 0.5, V from
    0 to 8, other parameters `fixed`, default the paper's) and the wall time of computing
    them: rows one after another (`lax.map`), or all vmapped in one batch (`vmapped`; the
    counts are the same, only the time differs)."""
    from photosc_jax.interband import InterbandParams, phase_row

    omega = jnp.linspace(omega_min, 0.5, n)
    V = jnp.linspace(0.0, 8.0, n)
    rows = InterbandParams(Omega=omega, V=jnp.tile(V, (n, 1)), **(fixed or {}))
    rows = jax.tree.map(lambda x: jnp.broadcast_to(x, (n,) + jnp.shape(x)) if jnp.ndim(x) == 0 else x, rows)
    batched = jax.vmap if vmapped else jax.lax.map
    run = jax.jit(lambda p: batched(lambda q: phase_row(q, "V").work, p))
    t = time.perf_counter()
    w = jax.block_until_ready(run(rows))
    wall = time.perf_counter() - t
    work = {
        "normal-state relaxation (ODE steps)": np.asarray(w.normal_steps),
        "warm start (ODE steps)": np.asarray(w.warm_steps),
        "walk: corrector solves per grid step": np.asarray(w.corrector_calls),
        "walk: chord iterations per grid step": np.asarray(w.chord_iterations),
    }
    return work, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 16, 8])
    ap.add_argument("--json", default=None, help="also write the counts and efficiencies here")
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()}; cores: {os.cpu_count()}; jax {jax.__version__}")
    work, wall = row_work(a.n)
    print(f"{a.n} rows of {a.n} points computed one after another in {wall:.1f} s (compile included)")
    table = {b: efficiencies(work, b) for b in a.batch}
    width = max(len(k) for k in table[a.batch[0]])
    print(f"{'loop':<{width}}  " + "  ".join(f"B = {b:>3}" for b in a.batch) + "  mean per row")
    for name in table[a.batch[0]]:
        counts = work.get(name)
        mean = (
            "" if counts is None else f"{(counts.sum(axis=1) if counts.ndim == 2 else counts).mean():10.1f}"
        )
        cells = "  ".join(f"{table[b][name]:7.3f}" for b in a.batch)
        print(f"{name:<{width}}  {cells}  {mean}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(
                {
                    "n": a.n,
                    "wall": wall,
                    "efficiency": table,
                    "work": {k: v.tolist() for k, v in work.items()},
                },
                fh,
            )


if __name__ == "__main__":
    main()
