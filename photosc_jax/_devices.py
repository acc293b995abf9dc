"""Device-dependent choices shared by the sweep engine and the phase-boundary scans."""

from __future__ import annotations


def default_vmap_width(devices) -> int | None:
    """Points solved together in one vmapped while loop on each device. On a CPU a vmapped
    adaptive solve is slower per point than sequential ones (the batched stage loop of
    diffrax's Runge–Kutta solvers turns into selects and scatters; the per-step costs are in
    benchmarks/RESULTS.md), so CPUs solve their points one after another (width 1);
    accelerators vmap the whole per-device batch (None)."""
    return 1 if devices[0].platform == "cpu" else None
