"""The steady-state entry point: `steady_state(params, method=...)` dispatches on the type of
the method object (`methods.Evolve` → the evolution engine in `steady`, `methods.Newton` →
the co-rotating Newton engine in `direct`). This module imports both engines; neither
imports it, and `steady` never imports `direct` (data flows one way).

Units: E_g = ħ = 1.
"""

from __future__ import annotations

import diffrax as dfx

from .direct import newton_steady_state
from .methods import AbstractSteadyStateMethod, Evolve, Newton, as_method
from .outcomes import raise_if_failed
from .params import InterbandParams
from .state import InterbandState
from .steady import SteadyState, evolve_steady_state

_ENGINES = {Evolve: evolve_steady_state, Newton: newton_steady_state}


def steady_state(
    params: InterbandParams,
    *,
    method: AbstractSteadyStateMethod | str = "evolve",
    y0: InterbandState | None = None,
    progress: bool = False,
    throw: bool = False,
    drive=None,
    t_max: float | None = None,
    tol: float | None = None,
    delta_floor: float | None = None,
    solver: dfx.AbstractSolver | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int | None = None,
) -> SteadyState:
    """Steady state of the driven model (stationary in the frame co-rotating with Δ,
    docs/model-interband.md, "Steady state and the rotating phase"; mean-field equations with
    the self-consistency Eq. B3).

    **Arguments:**

    - `params`: an `InterbandParams`.
    - `method`: `Evolve(...)` — time evolution from `y0` until the stationarity detector
      fires (`steady` module docstring) or `t_max` — or `Newton(...)` — Newton's method in
      the co-rotating frame from a short warm-start evolution, with `Evolve` as fallback
      below threshold (`direct`; faster to tight tolerances, differentiable by implicit
      differentiation). Default: evolution, `Evolve()`. The strings `"evolve"` and
      `"direct"` name the same methods, configured by the keywords below.
    - `y0`: initial state (default: the paper's, `initial_state(params)`). For `Newton`, a
      paired `y0` (e.g. a neighbouring steady state) is Newton's starting point.
    - `progress`: tqdm progress bar of the evolution.
    - `throw`: raise the outcome's message (`outcomes.RESULTS`) if the solve did not
      succeed. Default False (batch use: check `converged` / `result`).
    - `drive`: a time-dependent Ω(t) replacing `params.Omega` (`pulses`; `evolve`'s
      `drive=`), only with `method=Evolve(...)`. The detector is armed from the drive's
      `t_end` on, so the state found is the one the system settles in after the pump (a
      `ConstantDrive(params.Omega)` gives the undriven result). Default None.
    - `t_max`, `tol`, `delta_floor`, `solver`, `rtol`, `atol`, `max_steps`: the keyword
      form, only with a string `method` (for an object set them on it, e.g.
      `Evolve(t_max=1e5)`); see `Evolve` for their meaning (for `"direct"` they configure
      the fallback evolution).

    Float knobs (times, tolerances, every float field of `params` and of the method) are
    traced: changing them reuses the compiled solver.

    **Returns:** a `SteadyState`: `delta_abs` = |Δ| (E_g; 0 in the normal state), `mu` (Δ(t)
    ≈ |Δ|e^{iμt}, E_g/ħ), `state`, `converged`, `t`, `residual` (`Stationarity`), `stats`,
    `result` (`outcomes.RESULTS`; `converged` ⇔ `result == RESULTS.successful`).

    Example: `ss = steady_state(InterbandParams(Omega=0.25, V=5), method=Newton());
    ss.delta_abs, ss.mu` → 0.0190488, ≈ −0.35 (Fig. 3 point).
    """
    method = as_method(
        method,
        t_max=t_max,
        tol=tol,
        delta_floor=delta_floor,
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
    )
    try:
        engine = _ENGINES[type(method)]
    except KeyError:
        raise ValueError(
            f"method={method!r}: steady_state knows {[m.__name__ for m in _ENGINES]}; "
            "pass one of these objects."
        ) from None
    if drive is None:
        out = engine(params, method, y0=y0, progress=progress)
    elif isinstance(method, Evolve):
        out = engine(params, method, y0=y0, progress=progress, drive=drive)
    else:
        raise ValueError(
            f"steady_state(drive=..., method={type(method).__name__}(...)): a time-dependent drive "
            "needs method=Evolve(...) (Newton solves the stationary equations of a constant Ω; for "
            "that set params.Omega)."
        )
    return raise_if_failed(out, out.result, throw)
