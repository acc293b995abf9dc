"""Steady-state methods as objects: `steady_state(params, method=Newton())`.

A method is a final `eqx.Module` holding its knobs (the shape of dynamiqs' `method=` and of
optimistix solvers). Tolerances and times are *dynamic* fields (float64 arrays): changing
them never recompiles the solver. Loop bounds (`max_steps`) and the ODE `solver` are static
(they change the compiled program). The objects only describe a method; the engines are
`steady` (time evolution with the stationarity detector) and `direct` (Newton in the
co-rotating frame), and `stationary.steady_state` dispatches on `type(method)`.

Units: E_g = ħ = 1 (times in ħ/E_g, rates and residual tolerances in E_g/ħ).
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
from jaxtyping import Array, Float

from .._checks import as_float, concrete
from .evolve import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, default_solver

DEFAULT_STEADY_TOL = 1e-7
DEFAULT_DELTA_FLOOR = 1e-12
DEFAULT_T_MAX = 50_000.0
DEFAULT_NEWTON_TOL = 1e-11
DEFAULT_NEWTON_STEPS = 40
DEFAULT_WARM_T_MAX = 20_000.0
DEFAULT_WARM_RTOL = 1e-4  # the warm start only has to land in Newton's basin
DEFAULT_WARM_ATOL = 1e-7


def _optional_float(x):
    return None if x is None else as_float(x)


def _positive(owner: str, **values) -> None:
    for name, x in values.items():
        v = concrete(x)
        if v is not None and not v > 0:
            raise ValueError(f"{owner}({name}={v}): {name} must be positive.")


class AbstractSteadyStateMethod(eqx.Module):
    """Base class of the steady-state methods (`Evolve`, `Newton`)."""


class Evolve(AbstractSteadyStateMethod):
    """Time evolution from the initial state until the stationarity detector fires
    (`steady` module docstring: populations, d ln|s|/dt and the co-rotating shape change of
    s all below `tol`), or until `t_max`.

    **Arguments** (all dynamic unless marked static):

    - `t_max`: time limit (ħ/E_g). Default 5·10⁴.
    - `tol`: detector tolerance on the stationarity residuals (E_g/ħ); the distance to the
      fixed point is about tol / (slowest relaxation rate). Default None: tied to the
      integration tolerance, `rtol`/2 (`steady.detector_tol`; 5e-7 at the default rtol).
      Late in an adaptive solve the residuals sit on a floor ∝ rtol (≈ 0.14·rtol at
      Fig. 3 parameters, T = 0.005), so a fixed `tol` below it never fires; an explicit
      value is used as given.
    - `rtol`, `atol`: tolerances of the adaptive step controller. Default 1e-6, 1e-9 (the
      paper's accuracy).
    - `delta_floor`: |Δ| (E_g) below which a state with decaying pairing counts as normal.
      Default 1e-12.
    - `max_steps` (static): step budget of the ODE solver. Default 5·10⁵.
    - `solver` (static): a diffrax solver. Default Dopri8 (`evolve.default_solver`).

    Example: `steady_state(params, method=Evolve(t_max=1e5, rtol=1e-8))`.
    """

    t_max: Float[Array, ""] = eqx.field(default=DEFAULT_T_MAX, converter=as_float)
    tol: Float[Array, ""] | None = eqx.field(default=None, converter=_optional_float)
    rtol: Float[Array, ""] = eqx.field(default=DEFAULT_RTOL, converter=as_float)
    atol: Float[Array, ""] = eqx.field(default=DEFAULT_ATOL, converter=as_float)
    delta_floor: Float[Array, ""] = eqx.field(default=DEFAULT_DELTA_FLOOR, converter=as_float)
    max_steps: int = eqx.field(default=DEFAULT_MAX_STEPS, static=True, converter=int)
    solver: dfx.AbstractSolver = eqx.field(default_factory=default_solver, static=True)

    def __check_init__(self):
        _positive(
            "Evolve",
            t_max=self.t_max,
            rtol=self.rtol,
            atol=self.atol,
            delta_floor=self.delta_floor,
            **({} if self.tol is None else dict(tol=self.tol)),
        )
        if self.max_steps < 1:
            raise ValueError(f"Evolve(max_steps={self.max_steps}): need at least one step.")
        if not isinstance(self.solver, dfx.AbstractSolver):
            raise ValueError(
                f"Evolve(solver={self.solver!r}): pass a diffrax solver, e.g. "
                "diffrax.Dopri8() or diffrax.Tsit5()."
            )


class Newton(AbstractSteadyStateMethod):
    """Newton's method on the stationary equations in the frame co-rotating with Δ
    (`direct` module docstring; the mean-field equations with Eq. B3), started from a short
    loose-tolerance evolution (`warm`) or from a paired `y0`; differentiable by implicit
    differentiation.

    **Arguments** (all dynamic unless marked static):

    - `tol`: rtol = atol of the root find (relative step size at convergence). Default 1e-11.
    - `max_steps` (static): step budget of the full-Newton stage (the solve is two Newton
      steps, then chord steps reusing that Jacobian, then full Newton only if the chord
      iteration stalls). Default 40.
    - `delta_floor`: |Δ| (E_g) below which a root counts as the normal state (not accepted
      as paired). Default 1e-12.
    - `warm`: the warm-start evolution, an `Evolve` whose `t_max`, `rtol`, `atol`,
      `max_steps`, `solver` are used; it stops at the first maximum of |s| once
      rms|s| > 10⁻³. Default `Evolve(t_max=2e4, rtol=1e-4, atol=1e-7)`.
    - `fallback`: an `Evolve` used, where values are concrete (not under `jit`/`grad`/
      `vmap`), when Newton fails or the warm start never paired (below threshold, where the
      steady state is normal); `None` for none. Default `Evolve()`.

    Example: `steady_state(InterbandParams(), method=Newton()).delta_abs` → 0.0190488.
    """

    tol: Float[Array, ""] = eqx.field(default=DEFAULT_NEWTON_TOL, converter=as_float)
    max_steps: int = eqx.field(default=DEFAULT_NEWTON_STEPS, static=True, converter=int)
    delta_floor: Float[Array, ""] = eqx.field(default=DEFAULT_DELTA_FLOOR, converter=as_float)
    warm: Evolve = eqx.field(
        default_factory=lambda: Evolve(
            t_max=DEFAULT_WARM_T_MAX, rtol=DEFAULT_WARM_RTOL, atol=DEFAULT_WARM_ATOL
        )
    )
    fallback: Evolve | None = eqx.field(default_factory=Evolve)

    def __check_init__(self):
        _positive("Newton", tol=self.tol, delta_floor=self.delta_floor)
        if self.max_steps < 1:
            raise ValueError(f"Newton(max_steps={self.max_steps}): need at least one step.")
        if not isinstance(self.warm, Evolve):
            raise ValueError(f"Newton(warm={self.warm!r}): the warm start must be an Evolve(...).")
        if self.fallback is not None and not isinstance(self.fallback, Evolve):
            raise ValueError(f"Newton(fallback={self.fallback!r}): use an Evolve(...) or None.")


def as_method(method, **legacy) -> AbstractSteadyStateMethod:
    """The method object for `method` (an object, or the strings "evolve" / "direct" of the
    keyword API, built from the `legacy` keywords of `steady_state`: t_max, tol,
    delta_floor, solver, rtol, atol, max_steps; None = default). Raises `ValueError` for an
    unknown method, or for keywords given together with a method object."""
    given = {k: v for k, v in legacy.items() if v is not None}
    if isinstance(method, AbstractSteadyStateMethod):
        if given:
            raise ValueError(
                f"steady_state(method={type(method).__name__}(...), {', '.join(given)}=...): "
                "with a method object, set these on the object instead, e.g. "
                "method=Evolve(t_max=1e5, tol=1e-8) or Newton(fallback=Evolve(t_max=1e5))."
            )
        return method
    if method == "evolve":
        return Evolve(**given)
    if method == "direct":
        return newton_method(**given)
    raise ValueError(
        f"method={method!r}: use a method object, Evolve(...) (time evolution) or "
        "Newton(...) (co-rotating frame), or the strings 'evolve' / 'direct'."
    )


def newton_method(
    *,
    warm_t_max=DEFAULT_WARM_T_MAX,
    warm_rtol=DEFAULT_WARM_RTOL,
    warm_atol=DEFAULT_WARM_ATOL,
    newton_tol=DEFAULT_NEWTON_TOL,
    newton_steps=DEFAULT_NEWTON_STEPS,
    fallback=True,
    t_max=DEFAULT_T_MAX,
    tol=None,
    delta_floor=DEFAULT_DELTA_FLOOR,
    solver=None,
    rtol=DEFAULT_RTOL,
    atol=DEFAULT_ATOL,
    max_steps=DEFAULT_MAX_STEPS,
) -> Newton:
    """The `Newton` object equivalent to the keywords of `direct_steady_state` (`solver` and
    `max_steps` serve the warm start and the fallback; `t_max`, `tol`, `rtol`, `atol` the
    fallback)."""
    solver_kw = {} if solver is None else dict(solver=solver)
    warm = Evolve(t_max=warm_t_max, rtol=warm_rtol, atol=warm_atol, max_steps=max_steps, **solver_kw)
    back = (
        Evolve(
            t_max=t_max,
            tol=tol,
            rtol=rtol,
            atol=atol,
            delta_floor=delta_floor,
            max_steps=max_steps,
            **solver_kw,
        )
        if fallback
        else None
    )
    return Newton(tol=newton_tol, max_steps=newton_steps, delta_floor=delta_floor, warm=warm, fallback=back)
