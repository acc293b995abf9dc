"""Experiment: the normal-state relaxation with another diffrax solver.

Usage: python benchmarks/relax_solvers.py dopri8|kvaerno5|kvaerno3

Swaps `interband.normal_state.default_solver` (Dopri8) for the named solver (same rtol,
atol and stopping rule) and prints, at Ω = 0.01, 0.05, 0.25 (paper defaults, T = 0): the
relaxation's ODE steps, its end time, whether the normal state converged, and V_c
(`critical_V`, which relaxes the normal state itself). Wall times include compilation.
"""

from __future__ import annotations

import sys
import time

import diffrax as dfx

import photosc_jax.interband.normal_state as ns
from photosc_jax.interband import InterbandParams
from photosc_jax.interband.stability import critical_V


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "dopri8"
    if which != "dopri8":
        solver = {"kvaerno5": dfx.Kvaerno5, "kvaerno3": dfx.Kvaerno3}[which]
        ns.default_solver = solver
    for omega in (0.01, 0.05, 0.25):
        p = InterbandParams(Omega=omega)
        t = time.perf_counter()
        n = ns.normal_steady_state(p)
        vc = float(critical_V(p))
        print(
            f"{which} Omega={omega}: steps {int(n.relax_steps)}, t_relax {float(n.t_relax):.0f}, "
            f"converged {bool(n.success)}, V_c {vc:.10f} ({time.perf_counter() - t:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
