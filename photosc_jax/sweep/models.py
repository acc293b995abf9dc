"""What a sweep computes at one parameter point, for each model.

A `SweepModel` names the parameter class, the per-point function (pure, jit/vmap-safe,
params → dict of scalars), the outputs it records, and the run options (with defaults)
that enter every point. The sweep engine (`engine.py`) is model-agnostic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import diffrax as dfx
import jax.numpy as jnp

# Status codes of a grid point (stored in the `status` variable).
STATUS = {0: "fixed point", 1: "oscillating", 2: "not converged", 3: "solver failure"}


@dataclasses.dataclass(frozen=True)
class SweepModel:
    name: str
    params_cls: type
    options: dict[str, Any]  # run options and their defaults (stored with the sweep)
    outputs: dict[str, str]  # output variable → description with units
    main: str  # the variable a phase-diagram plot shows
    point: Callable[[Any, dict[str, Any]], dict[str, Any]]  # (params, options) → outputs
    status_names: dict[int, str] = dataclasses.field(default_factory=lambda: dict(STATUS))

    def param_fields(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.params_cls)]


# --------------------------------------------------------------------------------------
# Interband model: steady state by time evolution with the gauge-invariant detector.


def _interband_point(params, opt):
    from ..interband.equations import coefficients
    from ..interband.solver_state import split
    from ..interband.state import initial_state
    from ..interband.steady import run_to_steady_state

    floor = opt["delta_floor"]
    c = coefficients(params, half=True)
    y1, res, steady, sol, late = run_to_steady_state(
        params, initial_state(params), opt["t1"], opt["steady_tol"], floor, dfx.Dopri8(),
        opt["rtol"], opt["atol"], opt["max_steps"], window=17,
    )
    ok = (sol.result == dfx.RESULTS.successful) | (sol.result == dfx.RESULTS.event_occurred)
    finite = jnp.all(jnp.isfinite(y1))
    # Not steady by t1: oscillating if |Δ| keeps swinging, undamped, over the last 20 % of
    # the run (the swing of the second half is at least half that of the first, and there
    # is no net drift); otherwise still converging (or drifting).
    scale = jnp.maximum(jnp.mean(late), floor)
    swing1 = (jnp.max(late[:9]) - jnp.min(late[:9])) / scale
    swing2 = (jnp.max(late[8:]) - jnp.min(late[8:])) / scale
    drift = jnp.abs(late[-1] - late[0]) / scale
    oscillating = (swing2 > 1e-3) & (swing2 > 0.5 * swing1) & (drift < 0.5 * swing2)
    status = jnp.where(
        ~(ok & finite), 3, jnp.where(steady & finite, 0, jnp.where(oscillating, 1, 2))
    ).astype(jnp.int32)
    paired = res.delta_abs >= floor
    bad = status == 3
    n22 = jnp.sum(c.weights * split(y1)[1]) / params.n_k
    return dict(
        delta_abs=jnp.where(bad, jnp.nan, jnp.where(paired, res.delta_abs, 0.0)),
        mu=jnp.where(bad | ~paired, jnp.nan, res.mu),
        n_exc=jnp.where(bad, jnp.nan, n22),
        residual=jnp.where(paired, jnp.maximum(res.populations, jnp.abs(res.growth)),
                           res.populations),
        status=status,
        steps=sol.stats["num_steps"].astype(jnp.int32),
        t_final=sol.ts[0][-1],
    )


def _interband_model() -> SweepModel:
    from ..interband.params import InterbandParams

    return SweepModel(
        name="interband",
        params_cls=InterbandParams,
        options=dict(t1=20_000.0, rtol=1e-6, atol=1e-9, steady_tol=1e-7, delta_floor=1e-12,
                     max_steps=200_000),
        outputs=dict(
            delta_abs="steady-state |Δ| [E_g] (0: normal state; NaN: solver failure)",
            mu="rotation frequency of Δ, Δ(t) ≈ |Δ|e^{iμt} [E_g/ħ] (NaN if normal)",
            n_exc="mean conduction-band population Σ_k n22_k / N",
            residual="stationarity residual at the end (populations; and d ln|s|/dt if paired) [E_g/ħ]",
            status="0 fixed point, 1 oscillating, 2 not converged by t1, 3 solver failure",
            steps="solver steps",
            t_final="time reached [ħ/E_g] (steady-state detection stops early)",
        ),
        main="delta_abs",
        point=_interband_point,
    )


# --------------------------------------------------------------------------------------
# Metastability of the long-lived model (paper 2, Fig. 2b).


def _metastability_point(params, opt):
    from ..metastability import analyze

    r = analyze(params, opt["T"], with_T_B=False)
    return dict(
        regime=r.regime.astype(jnp.int32),
        Q_B=r.Q_B,
        Q_MS=r.Q_MS,
        E_B=r.E_B,
        E_MS=r.E_MS,
        Delta_MS=r.Delta_MS,
        status=jnp.where(jnp.isfinite(r.h0) & jnp.isfinite(r.h_min), 0, 3).astype(jnp.int32),
    )


def _metastability_model() -> SweepModel:
    from ..metastability import MetastabilityParams

    return SweepModel(
        name="metastability",
        params_cls=MetastabilityParams,
        options=dict(T=0.0),
        outputs=dict(
            regime="0 none, 1 metastable I, 2 metastable II, 3 undistorted state unstable",
            Q_B="barrier position [ℓ0]",
            Q_MS="metastable minimum [ℓ0]",
            E_B="E(Q_B) − E(0) [ω]",
            E_MS="E(Q_MS) − E(0) [ω]",
            Delta_MS="gap at Q_MS [ω]",
            status="0 ok, 3 non-finite result",
        ),
        main="regime",
        point=_metastability_point,
        status_names={0: "ok", 3: "non-finite result"},
    )


MODELS: dict[str, Callable[[], SweepModel]] = {
    "interband": _interband_model,
    "metastability": _metastability_model,
}


_BUILT: dict[str, SweepModel] = {}


def get_model(name: str | SweepModel) -> SweepModel:
    if isinstance(name, SweepModel):
        return name
    try:
        if name not in _BUILT:
            _BUILT[name] = MODELS[name]()
        return _BUILT[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose one of {sorted(MODELS)}.") from None
