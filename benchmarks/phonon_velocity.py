"""How the steady gap depends on the phonon velocity v, and how it converges with the grid,
under both phonon target rules (`InterbandParams.phonon_targets`; docs/model-interband.md,
"Where a phonon emission lands").

Fig. 3 parameters (Ω = 0.25, V = 5, T = 0; the paper does not give v). Prints

1. |Δ| and μ against v on the paper grid (dk = 2e-3), "nearest" and "linear";
2. |Δ| and μ at fixed physical v for dk = 4e-3 … 5e-4 with both rules, and the dk → 0
   extrapolation from the two finest grids (Richardson, first order in dk for μ and for
   "nearest"; the printed orders are measured from three grids).

Run: `python benchmarks/phonon_velocity.py [--quick]` (--quick: fewer points, dk ≥ 1e-3).
Steady states by `interband.continuation` (a cold direct solve, then the secant/chord
corrector) along v, and one direct solve per grid.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import photosc_jax as ps
from photosc_jax.interband import Newton, continuation, effective_phonon_velocity, steady_state

RULES = ("nearest", "linear")


def v_scan(vs):
    out = {}
    for rule in RULES:
        r = continuation(ps.InterbandParams(phonon_targets=rule, v=float(vs[0])), "v", vs)
        assert bool(np.all(r.success)), f"{rule}: not converged at v = {vs[~np.asarray(r.success)]}"
        out[rule] = (np.asarray(r.delta_abs), np.asarray(r.mu))
    return out


def grid_scan(v, dks):
    out = {rule: [] for rule in RULES}
    for dk in dks:
        for rule in RULES:
            p = ps.InterbandParams(v=v, dk=dk, phonon_targets=rule)
            r = steady_state(p, Newton())
            assert bool(r.success), (rule, dk)
            out[rule].append((float(r.delta_abs), float(r.mu), np.asarray(effective_phonon_velocity(p))))
    return out


def richardson(x_coarse, x_fine, order=1.0, ratio=2.0):
    return x_fine + (x_fine - x_coarse) / (ratio**order - 1.0)


def main(quick: bool = False) -> None:
    t0 = time.perf_counter()
    vs = np.round(np.arange(0.090, 0.1301, 0.004 if quick else 0.002), 6)
    scan = v_scan(vs)
    print("1. |Delta| and mu vs v, Fig. 3 parameters (Omega = 0.25, V = 5, T = 0), dk = 2e-3")
    cols = [f"{'|D| ' + r:>12} {'mu ' + r:>11}" for r in RULES]
    print(f"{'v':>7} {'s1/s2 (v/A dk)':>15} | {cols[0]} | {cols[1]}")
    for i, v in enumerate(vs):
        s = v / (np.array([7.0, 24.0]) * 2e-3)
        (dn, mn), (dl, ml) = ((scan[r][0][i], scan[r][1][i]) for r in RULES)
        print(f"{v:7.3f} {s[0]:7.2f}/{s[1]:5.2f}   | {dn:12.7f} {mn:11.5f} | {dl:12.7f} {ml:11.5f}")
    for rule in RULES:
        d = scan[rule][0]
        print(
            f"   {rule}: |Delta| over v in [{vs[0]}, {vs[-1]}]: {d.min():.5f} ... {d.max():.5f} "
            f"(spread {100 * (d.max() - d.min()) / d.mean():.1f} %)"
        )

    dks = [4e-3, 2e-3, 1e-3] if quick else [4e-3, 2e-3, 1e-3, 5e-4]
    for v in (0.112, 0.098):
        conv = grid_scan(v, dks)
        print(f"\n2. grid convergence at v = {v} (Fig. 3 parameters)")
        print(f"{'dk':>8} | {cols[0]} {'v_eff (band 1, 2)':>18} | {cols[1]}")
        for i, dk in enumerate(dks):
            (dn, mn, ve), (dl, ml, _) = conv["nearest"][i], conv["linear"][i]
            print(f"{dk:8.1e} | {dn:12.7f} {mn:11.5f}   {ve[0]:.4f}, {ve[1]:.4f}  | {dl:12.7f} {ml:11.5f}")
        for rule in RULES:
            d = np.array([c[0] for c in conv[rule]])
            m = np.array([c[1] for c in conv[rule]])
            orders = [
                np.log2(abs((x[-3] - x[-2]) / (x[-2] - x[-1]))) if len(x) >= 3 and x[-2] != x[-1] else np.nan
                for x in (d, m)
            ]
            print(
                f"   {rule}: dk -> 0 (Richardson, order 1): |Delta| = {richardson(d[-2], d[-1]):.6f}, "
                f"mu = {richardson(m[-2], m[-1]):.5f}; observed orders: "
                f"|Delta| {orders[0]:.2f}, mu {orders[1]:.2f}"
            )
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
