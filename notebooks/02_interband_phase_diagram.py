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
# # 02 — Interband pairing: the |Δ|(Ω, V) phase diagram (paper 1, Fig. 2)
#
# The steady |Δ| on a grid of Rabi frequencies Ω and interaction strengths V at the paper's Fig. 2
# parameters (A1 = 7, A2 = 24, Γph = 0.02, Γrr = Γph/10, k_max = 0.2, dk = 2·10⁻³, N = 201,
# T = 0), computed by `photosc_jax.sweeps.sweep` without time stepping (the default
# `method="continuation"`): row by row along V, the normal steady state once per Ω (it does not
# depend on V), its pairing growth rate at every V, the row's threshold V_c (where the growth
# rate changes sign), and the paired branch continued down from V = 8 with step control. Each
# point gets a phase: normal, paired, bistable (normal state stable and a stable paired state
# coexisting), transient (T = 0: normal state unstable, no stable paired state, the pairing
# burst decays into another normal state) or unsettled (the same at T > 0).
# A coarser time-evolution sweep (`method="evolve"`) checks the map at the end.
#
# Units: E_g = ħ = 1. Runtime 60 s as a script on a 2-core VM (2026-12-04); `PHOTOSC_SMALL=1`
# runs a 4 × 4 grid.

# %%
import os

# Expose every CPU core as a JAX device *before* JAX is imported (what the `photosc` CLI does):
# a row sweep then runs its rows in one worker process per core.
os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={os.cpu_count()}")

import time  # noqa: E402
import warnings  # noqa: E402

import jax  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import photosc_jax as ps  # noqa: E402  (float64)
from photosc_jax.interband.phase_map import PHASES  # noqa: E402
from photosc_jax.plot import plot_sweep  # noqa: E402
from photosc_jax.sweeps import status_counts, sweep  # noqa: E402

# %matplotlib inline

# the sweep's progress bar is off (progress=False); silence tqdm's notice about ipywidgets
warnings.filterwarnings("ignore", message="IProgress not found")

SMALL = os.environ.get("PHOTOSC_SMALL") == "1"
N = 4 if SMALL else 24
OMEGA = np.linspace(0.05 if SMALL else 0.01, 0.45 if SMALL else 0.5, N)
V_AXIS = np.linspace(0, 8, N)
print(f"photosc_jax {ps.__version__}, devices: {jax.devices()}, small settings: {SMALL}")

# %% [markdown]
# ## The map
#
# `sweep` returns an `xarray.Dataset` on the (Ω, V) grid: `delta_abs` (what evolution from the
# paper's initial state ends in: the paired |Δ|, 0 where normal, bistable or transient, NaN
# where unsettled), `delta_abs_paired` (the paired branch wherever it exists), `mu`,
# `growth_rate`, `n_exc`, `residual`, `phase`, `status`, and per row `threshold`
# (= `critical_V`), `branch_end` and `branch_growth` (the paired state's growth rate at the
# branch ends). Pass `out="fig2.zarr"` to write a resumable store;
# `photosc sweep interband --Omega 0.01:0.5:24 --V 0:8:24 --out fig2.zarr` is the same from
# the shell. Rows run in one worker process per core (`workers="auto"`); each compiles the
# row program once (≈ 30 s), which pays off from a few dozen rows on, so the small settings
# use one.

# %%
t0 = time.perf_counter()
ds = sweep("interband", {"Omega": OMEGA, "V": V_AXIS}, progress=False, workers=1 if SMALL else "auto")
print(
    f"{ds.delta_abs.size} points in {time.perf_counter() - t0:.1f} s (compile included; "
    f"{ds.attrs['workers']} worker process(es))"
)
print("phases:", {name: int((ds["phase"].values == k).sum()) for k, name in PHASES.items()})
ds  # noqa: B018  (the dataset's summary)

# %% [markdown]
# ## Fig. 2, and the paired branch
#
# Left: what evolution from the paper's initial state reaches; right: the paired branch. The
# white line is the threshold V_c(Ω) of the normal state, the dashed one the end of the paired
# branch. Below Ω ≈ 0.1 the branch continues below V_c (a fold: bistable points, a
# first-order onset); above, it ends above V_c with |Δ| → 0, and between the two lines no
# stationary state is reached (dotted, transient: the burst decays into another normal state).

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
plot_sweep(ds, "delta_abs", ax=axes[0])
plot_sweep(ds, "delta_abs_paired", ax=axes[1])
axes[0].set_title(r"Fig. 2: steady $|\Delta|(\Omega, V)$", fontsize="medium")
axes[1].set_title("the paired branch", fontsize="medium")
for om, vc, end in zip(
    ds["Omega"].values[:: max(1, N // 6)],
    ds["threshold"].values[:: max(1, N // 6)],
    ds["branch_end"].values[:: max(1, N // 6)],
):
    print(f"Ω = {om:.3f}:  V_c = {vc:.4f},  branch end = {end:.4f}")

# %% [markdown]
# The phase of each point, on a discrete colour bar (`plot_sweep` draws any variable with CF
# `flag_values`/`flag_meanings` this way: `phase`, `status`, `confirm_status`); the lines are
# V_c and V* again.

# %%
fig = plot_sweep(ds, "phase")

# %% [markdown]
# ## A cut at fixed Ω
#
# |Δ| of the paired branch along V at the Ω closest to 0.25 (a 1-D slice of the map:
# `plot_sweep` titles it with the parameters held fixed and marks the row's threshold V_c and
# the end of the branch V*).

# %%
cut = ds.sel(Omega=0.25, method="nearest")
fig = plot_sweep(cut, "delta_abs_paired")

# %% [markdown]
# **Compared with the paper** (README table): the threshold is near V ≈ 2 as the paper says,
# and it barely depends on Ω. The finer structure the paper cannot resolve: at T = 0 the normal
# steady states form a continuum, and the relaxed one has V_c = 2.1865 at Ω = 0.25 while the
# paired branch ends at V* ≈ 2.293 (|Δ|² → 0 there); at small Ω the branch ends below V_c.

# %% [markdown]
# ## Against time evolution
#
# Every third Ω and V, evolved from the paper's initial state (`Evolve()`'s defaults). Where evolution
# reaches a paired fixed point, both methods agree (the test suite checks 1e-6); points it
# leaves "not converged" near threshold are paired or unsettled in the map.

# %%
sub = dict(Omega=OMEGA[::3] if not SMALL else OMEGA[::2], V=V_AXIS[::3] if not SMALL else V_AXIS[::2])
t0 = time.perf_counter()
ev = sweep("interband", sub, method="evolve", progress=False)
print(
    f"{ev.delta_abs.size} points by evolution in {time.perf_counter() - t0:.1f} s; status:", status_counts(ev)
)
co = ds.sel(Omega=sub["Omega"], V=sub["V"])
fixed = (ev["status"].values == 0) & (ev["delta_abs"].values > 0)
paired = co["phase"].values == 1
both = fixed & paired
if both.any():
    diff = np.abs(co["delta_abs"].values[both] - ev["delta_abs"].values[both])
    print(f"{both.sum()} paired fixed points in both: max |Δ| difference {diff.max():.1e}")
print(
    f"evolution's paired fixed points not paired in the map: {(fixed & ~paired).sum()}; "
    f"paired points evolution did not settle: {(paired & (ev['status'].values != 0)).sum()}"
)
