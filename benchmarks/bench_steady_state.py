"""Issue 5 benchmark: direct (Newton) steady state vs time evolution, one implicit gradient
vs one solve, and the linear-stability phase boundary V_c(Ω) at 64 Ω values.

Run: python benchmarks/bench_steady_state.py  (paper grid N = 201; compile times excluded,
median of repeats). Prints measured ratios as they are, against the issue's targets.
"""

import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp

import photosc_jax as ps
from photosc_jax.interband import stability as st
from photosc_jax.interband import steady_state
from photosc_jax.interband.direct import direct_steady_state


def timed(fn, repeats=3):
    jax.block_until_ready(fn())  # compile
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main():
    p = ps.InterbandParams()
    ref = direct_steady_state(p)
    print(f"direct: |Δ| = {float(ref.delta_abs):.10f}, μ = {float(ref.mu):.8f}, "
          f"Newton steps {int(ref.stats['newton_steps'])}, warm-start steps "
          f"{int(ref.stats['warm_steps'])}, residual {float(ref.stats['max_residual']):.1e}")
    t_direct = timed(lambda: direct_steady_state(p).delta_abs)
    warm = timed(lambda: direct_steady_state(p, y0=ref.state).delta_abs)
    for tol in (1e-7, 1e-8):
        ev = steady_state(p, tol=tol)
        err = abs(float(ev.delta_abs) - float(ref.delta_abs))
        t_ev = timed(lambda tol=tol: steady_state(p, tol=tol).delta_abs)
        print(f"evolve tol={tol:g}: {t_ev:.3f} s, |Δ| error {err:.1e}, converged "
              f"{bool(ev.converged)} ; direct (cold) {t_direct:.3f} s -> ratio "
              f"{t_ev / t_direct:.2f}x (target >= 20x); direct warm-started from a neighbouring "
              f"state {warm:.3f} s -> {t_ev / warm:.2f}x")

    f = eqx.filter_jit(jax.grad(lambda V: direct_steady_state(
        eqx.tree_at(lambda q: q.V, p, V)).delta_abs))
    t_grad = timed(lambda: f(5.0))
    print(f"implicit gradient d|Δ|/dV: {t_grad:.3f} s = {t_grad / t_direct:.2f}x one solve "
          "(target <= 3x)")

    Om = jnp.linspace(0.05, 0.5, 64)
    t0 = time.perf_counter()
    vc = jax.block_until_ready(st.phase_boundary(p, Om))
    t_first = time.perf_counter() - t0
    t_pb = timed(lambda: st.phase_boundary(p, Om + 1e-3), repeats=1)
    print(f"V_c(Ω) at 64 Ω: {t_pb:.1f} s (first call incl. compile {t_first:.1f} s; target well "
          f"under 60 s); V_c(0.25) = {float(st.critical_V(p)):.4f}, "
          f"NaN count {int(jnp.sum(jnp.isnan(vc)))}")


if __name__ == "__main__":
    main()
