"""Shared test fixtures that are plain values: the small grids and finite differences.

Grids (model I, `InterbandParams` keyword arguments):

- `SMALL`: k_max = 0.2, dk = 0.01 → N = 41 points, phonon shifts 4 (band 1) and 1 (band 2);
  the structure of the paper's model at a fraction of the cost.
- `COARSE`: the paper's box with dk = 4·10⁻³ (N = 101) and v = 0.1: paper physics, 4× cheaper.
"""

from __future__ import annotations

import numpy as np


def invoke(*args):
    """The `photosc` command run in this process (no interpreter start-up per call) by
    typer's test runner: `.exit_code`, `.stdout` and `.stderr` (apart: click < 8.2, which
    the oldest typer allowed runs on, needs `mix_stderr=False` for that)."""
    import inspect

    from typer.testing import CliRunner

    from photosc_jax.cli import app

    apart = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
    return CliRunner(**apart).invoke(app, list(args))


SMALL = dict(k_max=0.2, dk=0.01, A1=7.0, A2=24.0, v=0.3)
COARSE = dict(v=0.1, dk=4e-3)


def central_difference(f, x, h):
    """(f(x + h) − f(x − h)) / 2h: error O(h² f‴), the reference for every gradient test."""
    return (f(x + h) - f(x - h)) / (2 * h)


def mirror(half):
    """A mirror-symmetric full-grid array from its k ≥ 0 half (x[0] is k = 0)."""
    half = np.asarray(half)
    return np.concatenate([half[:0:-1], half])
