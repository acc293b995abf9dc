"""Experiment: the normal-state relaxation with another diffrax solver.

Usage: python benchmarks/relax_solvers.py dopri8|kvaerno5|kvaerno3|etd4

Swaps `interband.normal_state.default_solver` (Dopri8) for the named solver (same rtol,
atol and stopping rule) and prints, at Ω = 0.01, 0.05, 0.25 (paper defaults, T = 0): the
relaxation's ODE steps, its end time, whether the normal state converged, and V_c
(`critical_V`, which relaxes the normal state itself). Wall times include compilation.

`etd4` is an exponential integrator written here for the experiment (`RotatingETD4`): the
coherences' rotation i(A2 − A1)k² — the eigenvalues ≈ −0.04 ± 0.68i that bound Dopri8's
step — integrated exactly, the rest by Cox–Matthews ETDRK4 with an embedded ETDRK3 error
estimate (benchmarks/RESULTS.md, "An exponential integrator for the relaxation").
"""

from __future__ import annotations

import math
import sys
import time

import diffrax as dfx
import jax
import jax.numpy as jnp

import photosc_jax.interband.normal_state as ns
from photosc_jax.interband import InterbandParams
from photosc_jax.interband.equations import coefficients
from photosc_jax.interband.stability import critical_V


def _phis(z, k_max):
    """φ_0 … φ_k_max at the complex z (elementwise): Taylor series where |z| < 1, else the
    recursion φ_{k+1} = (φ_k − 1/k!)/z."""
    small = jnp.abs(z) < 1.0
    zs, zc = jnp.where(small, z, 0.0), jnp.where(small, 1.0, z)
    closed = [jnp.exp(z)]
    for k in range(k_max):
        closed.append((closed[-1] - 1.0 / math.factorial(k)) / zc)
    series = [sum(zs**j / math.factorial(j + k) for j in range(18)) for k in range(k_max + 1)]
    return [jnp.where(small, a, b) for a, b in zip(series, closed)]


class RotatingETD4(dfx.AbstractSolver):
    """ETDRK4 (Cox–Matthews) for y = [populations (2M), Re n21 (M), Im n21 (M)] with the
    linear part n21' = i·`freq`·n21 exact; error estimate: ETDRK3 on the first stage."""

    freq: jax.Array
    term_structure = dfx.AbstractTerm
    interpolation_cls = dfx.LocalLinearInterpolation

    def order(self, terms):
        return 4

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        m = self.freq.shape[0]
        lin = 1j * self.freq
        split = lambda y: (y[: 2 * m], jax.lax.complex(y[2 * m : 3 * m], y[3 * m :]))  # noqa: E731
        join = lambda p, z: jnp.concatenate([p, z.real, z.imag])  # noqa: E731

        def rest(p, z):  # the flow minus its linear part
            fp, fz = split(terms.vf(t0, join(p, z), args))
            return fp, fz - lin * z

        h = t1 - t0
        e2, q2 = _phis(lin * h / 2, 1)
        e1, p1, p2, p3 = _phis(lin * h, 3)
        f1, f2, f3 = p1 - 3 * p2 + 4 * p3, p2 - 2 * p3, -p2 + 4 * p3
        g1, g2, g3 = 1 / 6, 1 / 6, 1 / 6  # f1, f2, f3 at z = 0
        up, uz = split(y0)
        nu = rest(up, uz)
        ap, az = up + h / 2 * nu[0], e2 * uz + h / 2 * q2 * nu[1]
        na = rest(ap, az)
        bp, bz = up + h / 2 * na[0], e2 * uz + h / 2 * q2 * na[1]
        nb = rest(bp, bz)
        cp, cz = ap + h / 2 * (2 * nb[0] - nu[0]), e2 * az + h / 2 * q2 * (2 * nb[1] - nu[1])
        nc = rest(cp, cz)
        y4 = join(
            up + h * (g1 * nu[0] + 2 * g2 * (na[0] + nb[0]) + g3 * nc[0]),
            e1 * uz + h * (f1 * nu[1] + 2 * f2 * (na[1] + nb[1]) + f3 * nc[1]),
        )
        dp, dz = up + h * (2 * na[0] - nu[0]), e1 * uz + h * p1 * (2 * na[1] - nu[1])
        nd = rest(dp, dz)
        y3 = join(
            up + h * (g1 * nu[0] + 4 * g2 * na[0] + g3 * nd[0]),
            e1 * uz + h * (f1 * nu[1] + 4 * f2 * na[1] + f3 * nd[1]),
        )
        return y4, y4 - y3, dict(y0=y0, y1=y4), None, dfx.RESULTS.successful


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "dopri8"
    if which == "etd4":
        freq = coefficients(InterbandParams(), half=True).eps  # the same at every Ω
        ns.default_solver = lambda: RotatingETD4(freq)
    elif which != "dopri8":
        ns.default_solver = {"kvaerno5": dfx.Kvaerno5, "kvaerno3": dfx.Kvaerno3}[which]
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
