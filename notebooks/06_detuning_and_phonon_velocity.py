# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 — Driven pairing off resonance, and the phonon velocity
#
# Two knobs of paper 1 that the paper fixes: the laser frequency ν (the paper drives at
# ν = E_g) and the acoustic phonon velocity v (the paper does not give it and says the
# results are insensitive to it).
#
# 1. **Detuning** δ = ν − E_g (`InterbandParams.detuning`): the steady |Δ|(δ, V) at the
#    paper's Fig. 2 parameters and at a five times weaker drive, sweeps by continuation
#    along V.
# 2. **Phonon velocity**: |Δ|(v) at Fig. 3 parameters with the paper's rounding of the
#    phonon step to whole grid steps (`phonon_targets="nearest"`) and with the split,
#    continuous rule (`"linear"`); then the grid convergence of |Δ| and μ at a fixed v.
#
# Units: E_g = ħ = 1. Runtime 2.4 min as a script on a 2-core VM (2026-12-04; mostly
# compilation); `PHOTOSC_SMALL=1` (used by the tests) runs a 4 × 4 map, 5 velocities and one
# grid.

# %%
import os

# one CPU device per core (as in notebook 02: the map's rows run one per core)
os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={os.cpu_count()}")
import time  # noqa: E402
import warnings  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import photosc_jax as ps  # noqa: E402  (float64)
from photosc_jax.interband import continuation, effective_phonon_velocity, phonon_jumps  # noqa: E402
from photosc_jax.interband.phase_map import PHASES  # noqa: E402
from photosc_jax.plot import plot_sweep  # noqa: E402
from photosc_jax.sweeps import sweep  # noqa: E402

warnings.filterwarnings("ignore", message="IProgress not found")
SMALL = os.environ.get("PHOTOSC_SMALL") == "1"
print(f"photosc_jax {ps.__version__}, small settings: {SMALL}")

# %% [markdown]
# ## 1. |Δ|(detuning, V)
#
# In the frame rotating at ν the bands are A1 k² + δ/2 and A2 k² − δ/2; the drive is resonant
# where (A2 − A1)k² = δ, a ring at k_r = √(δ/(A2 − A1)) for δ > 0 and nowhere for δ < 0. Each
# row of the sweep is a continuation along V (normal state, its stability, the paired branch).

# %%
DETUNING = np.linspace(-0.1, 0.2, 4) if SMALL else np.linspace(-0.1, 0.3, 17)
V_AXIS = np.linspace(0.0, 8.0, 4) if SMALL else np.linspace(1.5, 5.5, 33)
t0 = time.perf_counter()
dmap = sweep("interband", {"detuning": DETUNING, "V": V_AXIS}, progress=False, workers=1 if SMALL else "auto")
print(f"{dmap.delta_abs.size} points in {time.perf_counter() - t0:.0f} s")
print("ring radius k_r at the largest detuning:", np.sqrt(DETUNING[-1] / (24.0 - 7.0)))

fig, axes = plt.subplots(1, 2, figsize=(12, 4.0), layout="constrained")
plot_sweep(dmap, "delta_abs", ax=axes[0])
axes[0].set_title(r"steady $|\Delta|$ (Fig. 2 parameters, $\Omega$ = 0.25)", fontsize="medium")
axes[1].plot(dmap["detuning"], dmap["threshold"], "o-", ms=3, label=r"$V_c$ (normal state unstable)")
axes[1].plot(dmap["detuning"], dmap["branch_end"], "s-", ms=3, label="end of the paired branch")
axes[1].set_xlabel(r"detuning $\nu - E_g$ [$E_g$]")
axes[1].set_ylabel(r"$V$ [$E_g$]")
axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))

# %% [markdown]
# At Ω = 0.25 the drive is power-broadened beyond every detuning of the scan: |Δ| and V_c move
# by about 1 % (docs/model-interband.md, "Where the drive is resonant"); only the end of the
# paired branch shifts.
#
# ### A weaker drive: Ω = 0.05
#
# Five times weaker, the Rabi frequency is comparable to the detunings of the scan, and the
# ring matters: |Δ| is largest for a blue detuning (δ ≈ 0.1–0.15, ring at k_r ≈ 0.08–0.09),
# and whether the branch ends below V_c (a bistable window) or above it (a transient window)
# changes sign near δ ≈ 0.12.

# %%
weak = sweep(
    "interband",
    {"detuning": DETUNING, "V": V_AXIS},
    fixed={"Omega": 0.05},
    progress=False,
    workers=1 if SMALL else "auto",
)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.0), layout="constrained")
for V in V_AXIS[-1:] if SMALL else (2.5, 3.0, 4.0, 5.5):
    for dm, style, label in ((dmap, "--", r"$\Omega$ = 0.25"), (weak, "o-", r"$\Omega$ = 0.05")):
        row = dm.delta_abs.sel(V=V, method="nearest")
        axes[0].plot(dm["detuning"], row, style, ms=3, label=f"{label}, V = {float(row.V):g}")
axes[0].set_xlabel(r"detuning $\nu - E_g$ [$E_g$]")
axes[0].set_ylabel(r"steady $|\Delta|$ [$E_g$]")
axes[0].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
axes[1].plot(weak["detuning"], weak["threshold"], "o-", ms=3, label=r"$V_c$, $\Omega$ = 0.05")
axes[1].plot(weak["detuning"], weak["branch_end"], "s-", ms=3, label=r"branch end, $\Omega$ = 0.05")
axes[1].set_xlabel(r"detuning $\nu - E_g$ [$E_g$]")
axes[1].set_ylabel(r"$V$ [$E_g$]")
axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
print("phase counts at Ω = 0.05:", {name: int((weak.phase == code).sum()) for code, name in PHASES.items()})

# %% [markdown]
# The numbers (docs/model-interband.md): at V = 4, |Δ| goes from 0.0077 (δ = −0.1) to 0.0118
# (δ = 0.15), a 50 % change, against 1 % at Ω = 0.25; V_c moves between 2.18 and 2.32. For
# δ ≤ 0.1 the paired branch continues below V_c (bistable points), for δ ≥ 0.15 it ends above
# V_c (transient points). An evolution from the paper's initial state at (δ, V) = (0.15, 4)
# and (−0.1, 4) ends at the map's |Δ| to 2e-5.

# %% [markdown]
# ## 2. |Δ| against the phonon velocity
#
# An emission moves an electron by σ_α = v/(A_α dk) grid steps, in general not a whole
# number. `"nearest"` rounds it (the paper's rule), so |Δ| depends on v only through two
# integers: a staircase with zero derivative. `"linear"` splits each emission over the two
# neighbouring grid points with weights that make the mean step exactly σ_α.

# %%
vs = np.linspace(0.09, 0.13, 5 if SMALL else 21)
scan = {}
for rule in ("nearest", "linear"):
    r = continuation(ps.InterbandParams(v=float(vs[0]), phonon_targets=rule), "v", vs)
    assert bool(np.all(r.success))
    scan[rule] = np.asarray(r.delta_abs), np.asarray(r.mu)
p = ps.InterbandParams(v=0.1, phonon_targets="linear")
print(
    "v = 0.1, linear: shifts",
    np.asarray(phonon_jumps(p)[0]).tolist(),
    "weights",
    np.round(np.asarray(phonon_jumps(p)[1]), 3).tolist(),
    "effective v",
    np.asarray(effective_phonon_velocity(p)).tolist(),
)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for rule, style in (("nearest", "o-"), ("linear", "s-")):
    axes[0].plot(
        vs,
        scan[rule][0],
        style,
        ms=3,
        drawstyle="steps-mid" if rule == "nearest" else "default",
        label=f'phonon_targets="{rule}"',
    )
    axes[1].plot(vs, scan[rule][1], style, ms=3, label=rule)
axes[0].set_xlabel(r"$v$ [$E_g a/\hbar$]")
axes[0].set_ylabel(r"steady $|\Delta|$ [$E_g$]")
axes[0].legend(fontsize="small")
axes[1].set_xlabel(r"$v$ [$E_g a/\hbar$]")
axes[1].set_ylabel(r"$\mu$ [$E_g/\hbar$]")
axes[0].set_title(rf"Fig. 3 parameters, N = {p.n_k}", fontsize="medium")
for rule in scan:
    d = scan[rule][0]
    print(
        f"{rule:8s}: |Δ| from {d.min():.5f} to {d.max():.5f} ({100 * (d.max() - d.min()) / d.mean():.1f} %)"
    )

# %% [markdown]
# ## 3. Grid convergence at fixed physical v
#
# v = 0.112: v/A1 is a whole number of steps on the paper grid, v/A2 (2.33 steps) is not.
# With `"nearest"` the velocity band 2 actually sees changes with dk, and |Δ| jumps from grid
# to grid; with `"linear"` it is v on every grid.

# %%
DKS = [2e-3] if SMALL else [4e-3, 2e-3, 1e-3, 5e-4]  # small settings: the paper grid only
conv = {rule: [] for rule in ("nearest", "linear")}
for dk in DKS:
    for rule in conv:
        r = continuation(ps.InterbandParams(v=0.112, dk=dk, phonon_targets=rule), "v", [0.112])
        conv[rule].append((float(r.delta_abs[0]), float(r.mu[0])))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
for rule, style in (("nearest", "o-"), ("linear", "s-")):
    d, m = np.array(conv[rule]).T
    axes[0].plot(DKS, d, style, label=rule)
    axes[1].plot(DKS, m, style, label=rule)
    print(f"{rule:8s}: |Δ| = {np.round(d, 6).tolist()}, μ = {np.round(m, 5).tolist()}")
for ax, name in zip(axes, (r"$|\Delta|$ [$E_g$]", r"$\mu$ [$E_g/\hbar$]")):
    ax.set_xscale("log")
    ax.set_xlabel(r"grid step $dk$ [$1/a$]")
    ax.set_ylabel(name)
    ax.legend(fontsize="small")
axes[0].set_title("v = 0.112, Fig. 3 parameters", fontsize="medium")

# %% [markdown]
# `"linear"` is converged to 0.1 % in |Δ| on the coarsest grid; μ converges at first order in
# dk (to ≈ −0.344 as dk → 0). The numbers and the dk → 0 extrapolation are in
# docs/model-interband.md ("Where a phonon emission lands"); `benchmarks/phonon_velocity.py`
# prints them.
