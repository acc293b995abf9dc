"""Figures, one call each. Every function returns the matplotlib Figure (and draws into `ax`
when given one); library code never calls `plt.show()`."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _axes(ax, figsize=(5.0, 3.5)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_delta(result, ax=None, *, label=None, log=False):
    """|Δ(t)| of an `EvolveResult` (paper Figs. 4, 7b). Units: E_g vs ħ/E_g."""
    fig, ax = _axes(ax)
    ax.plot(np.asarray(result.ts), np.abs(np.asarray(result.delta)), label=label)
    ax.set_xlabel(r"$t$ [$\hbar/E_g$]")
    ax.set_ylabel(r"$|\Delta|$ [$E_g$]")
    if log:
        ax.set_yscale("log")
    if label is not None:
        ax.legend()
    return fig


def plot_populations(state, params, ax=None, *, effective=None):
    """Band populations n11_k, n22_k of an `InterbandState` (paper Figs. 3, 5a, 6a).

    `effective=(Delta_t, C)` overlays the Eq. 12 BdG occupation n_k^eff (Fig. 3 black line).
    """
    from .interband import k_grid
    from .interband.effective import effective_occupations

    fig, ax = _axes(ax)
    k = np.asarray(k_grid(params))
    ax.plot(k, np.asarray(state.n11), ".", ms=3, color="tab:blue", label=r"$n^{11}_k$")
    ax.plot(k, np.asarray(state.n22), ".", ms=3, color="tab:red", label=r"$n^{22}_k$")
    if effective is not None:
        Delta_t, C = effective
        n1, n2 = effective_occupations(k, Delta_t, C=C, A1=float(params.A1), A2=float(params.A2))
        n_eff = 0.5 * (np.asarray(n1) + np.asarray(n2))
        ax.plot(k, n_eff, "k-", lw=1, label=rf"$n^{{\rm eff}}_k$ ($\tilde\Delta$={Delta_t:g})")
    ax.set_xlabel(r"$k$")
    ax.set_ylabel("population")
    ax.legend(fontsize="small")
    return fig


def plot_correlators(state, params, ax=None):
    """Re/Im of n21_k and s21_k (paper Figs. 5b, 6b, 7a)."""
    from .interband import k_grid

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
    fig = np.atleast_1d(ax)[0].figure
    k = np.asarray(k_grid(params))
    for a, (name, z) in zip(np.atleast_1d(ax), [("n^{21}_k", state.n21), ("s^{21}_k", state.s21)]):
        z = np.asarray(z)
        a.plot(k, z.real, label=rf"Re ${name}$")
        a.plot(k, z.imag, label=rf"Im ${name}$")
        a.set_xlabel(r"$k$")
        a.legend(fontsize="small")
    return fig


def demo_figure(result, *, effective=None):
    """|Δ(t)| next to the final populations: what `photosc demo` writes."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
    plot_delta(result, ax=a)
    plot_populations(result.state, result.params, ax=b, effective=effective)
    p = result.params
    fig.suptitle(
        rf"$\Omega$={float(p.Omega):g}, V={float(p.V):g}, $\Gamma_{{ph}}$={float(p.gamma_ph):g}, "
        rf"$\Gamma_{{rr}}$={float(p.gamma_rr):g}, $A_1$={float(p.A1):g}, $A_2$={float(p.A2):g}, "
        rf"v={float(p.v):g}, N={p.n_k}",
        fontsize="medium",
    )
    return fig
