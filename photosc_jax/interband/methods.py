"""Solver methods as objects: `steady_state(params, Newton())`, `phase_row(params, "V",
Continuation())`.

A method is a final `eqx.Module` holding its knobs (the shape of dynamiqs' `method=` and of
optimistix solvers); it only describes the method, the engines are elsewhere (`steady`:
time evolution, `corotating`: Newton in the co-rotating frame, `phase_map`: phase-map
rows). Tolerances and times are *dynamic* fields (float64 arrays): changing them never
recompiles. Loop bounds (`max_steps`), the ODE `solver` and switches that change the program
(`Continuation.quench`) are static.

- `Evolve`: time evolution until the stationarity detector fires (`steady_state`,
  `continuation`, `Newton`'s warm start and fallback, `Continuation`'s confirmation).
- `Newton`: Newton's method in the frame co-rotating with Δ (`steady_state`, `continuation`).
- `Continuation`: a phase-map row by linear stability and continuation (`phase_row`).

Units: E_g = ħ = 1 (times in ħ/E_g, rates and residual tolerances in E_g/ħ, |Δ| in E_g).
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import numpy as np
from jax.lax.linalg import EigImplementation
from jaxtyping import Array, Float

from .._checks import as_float, concrete
from .evolve import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, default_solver

DEFAULT_STEADY_TOL = 1e-7  # stationarity residual (E_g/ħ) a Newton root must meet
DEFAULT_DELTA_FLOOR = 1e-12
DEFAULT_T_MAX = 50_000.0
DEFAULT_NEWTON_TOL = 1e-11
DEFAULT_NEWTON_STEPS = 40
DEFAULT_WARM_T_MAX = 20_000.0
DEFAULT_WARM_RTOL = 1e-4  # the warm start only has to land in Newton's basin
DEFAULT_WARM_ATOL = 1e-7
DEFAULT_MAX_JUMP = 0.5


def _positive(owner: str, **values) -> None:
    for name, x in values.items():
        v = concrete(x)
        if v is not None and not v > 0:
            raise ValueError(f"{owner}({name}={v}): {name} must be positive.")


def _plain_bool(x):
    return bool(x) if isinstance(x, np.bool_) else x


class AbstractSteadyStateMethod(eqx.Module):
    """Base class of the steady-state methods (`Evolve`, `Newton`)."""


class Evolve(AbstractSteadyStateMethod):
    """Time evolution from the initial state until the stationarity detector fires
    (`steady` module docstring: populations, d ln|s|/dt and the co-rotating shape change of
    s all below `tol`), or until `t_max`.

    **Arguments** (all dynamic unless marked static):

    - `t_max`: time limit (ħ/E_g). Default 5·10⁴.
    - `tol`: detector tolerance on the stationarity residuals (E_g/ħ); the distance to the
      fixed point is about tol / (slowest relaxation rate). Default: `rtol`/2, set when the
      object is built (a later `eqx.tree_at` on `rtol` leaves it alone). Late in an adaptive
      solve the state sits on the Runge–Kutta map's own invariant orbit, whose residuals
      are a bias ∝ rtol (≈ 0.14·rtol with Dopri8 at Fig. 3 parameters, T = 0.005), so a
      fixed `tol` below that floor never fires; rtol/2 stays above it at a cost in |Δ| of
      order tol / (slowest rate) (benchmarks/RESULTS.md, "The cold direct solve at matched
      accuracy"). An explicit value is used as given. Always an array: giving it or not
      does not change the compiled program.
    - `rtol`, `atol`: tolerances of the adaptive step controller. Default 1e-6, 1e-9 (the
      paper's accuracy).
    - `delta_floor`: |Δ| (E_g) below which a state with decaying pairing counts as normal.
      Default 1e-12.
    - `max_steps` (static): step budget of the ODE solver. Default 5·10⁵.
    - `solver` (static): a diffrax solver. Default Dopri8 (`evolve.default_solver`).

    Example: `steady_state(params, Evolve(t_max=1e5, rtol=1e-8))`.
    """

    t_max: Float[Array, ""]
    tol: Float[Array, ""]
    rtol: Float[Array, ""]
    atol: Float[Array, ""]
    delta_floor: Float[Array, ""]
    max_steps: int = eqx.field(static=True)
    solver: dfx.AbstractSolver = eqx.field(static=True)

    def __init__(
        self,
        t_max=DEFAULT_T_MAX,
        tol=None,
        rtol=DEFAULT_RTOL,
        atol=DEFAULT_ATOL,
        delta_floor=DEFAULT_DELTA_FLOOR,
        max_steps=DEFAULT_MAX_STEPS,
        solver=None,
    ):
        self.t_max = as_float(t_max)
        self.rtol = as_float(rtol)
        self.tol = 0.5 * self.rtol if tol is None else as_float(tol)
        self.atol = as_float(atol)
        self.delta_floor = as_float(delta_floor)
        self.max_steps = int(max_steps)
        self.solver = default_solver() if solver is None else solver

    def __check_init__(self):
        _positive(
            "Evolve",
            t_max=self.t_max,
            tol=self.tol,
            rtol=self.rtol,
            atol=self.atol,
            delta_floor=self.delta_floor,
        )
        for name in ("rtol", "atol"):
            v = concrete(getattr(self, name))
            if v is not None and not v < 1:
                raise ValueError(
                    f"Evolve({name}={v}): {name} must be below 1 (a relative or absolute error)."
                )
        if self.max_steps < 1:
            raise ValueError(f"Evolve(max_steps={self.max_steps}): need at least one step.")
        if not isinstance(self.solver, dfx.AbstractSolver):
            raise TypeError(
                f"Evolve(solver={self.solver!r}): pass a diffrax solver, e.g. "
                "diffrax.Dopri8() or diffrax.Tsit5()."
            )


class Newton(AbstractSteadyStateMethod):
    """Newton's method on the stationary equations in the frame co-rotating with Δ
    (`corotating` module docstring; the mean-field equations with Eq. B3), started from a
    short loose-tolerance evolution (`warm`) or from a paired `y0`; differentiable by
    implicit differentiation.

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
    - `fallback`: an `Evolve` used by `steady_state` and `continuation`, where values are
      concrete (not under `jit`/`grad`/`vmap`), when Newton fails or the warm start never
      paired (below threshold, where the steady state is normal); `None` for none.
      Default `Evolve()`.

    Example: `steady_state(InterbandParams(), Newton()).delta_abs` → 0.0190488.
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
            raise TypeError(f"Newton(warm={self.warm!r}): the warm start must be an Evolve(...).")
        if self.fallback is not None and not isinstance(self.fallback, Evolve):
            raise TypeError(f"Newton(fallback={self.fallback!r}): use an Evolve(...) or None.")


class Continuation(eqx.Module):
    """One row of the phase map by linear stability of the normal state and continuation of
    the paired branch (`phase_map` module docstring), for `phase_map.phase_row`.

    **Arguments** (all dynamic unless marked static):

    - `tol`: relative step size at which the chord corrector has converged. Default 1e-11.
    - `delta_floor`: |Δ| (E_g) below which a root counts as the normal state. Default 1e-12.
    - `max_jump`: largest relative change of |Δ| in one grid step still on the branch
      (0 < max_jump ≤ 1). Default 0.5.
    - `quench` (static, bool): also relax the branch state quenched at its last grid point
      and report that normal state's threshold (`PhaseRow.quench_threshold`; T = 0, rows
      along V). Default False.
    - `confirm`: an `Evolve` with which every transient or unsettled point is also evolved
      from the paper's initial state (`PhaseRow.confirm_*`), or None. Default None.
    - `eig` (static): the implementation of the paired-branch stability check's dense
      eigenvalue problem (6M − 2 unknowns, 604 on the paper's grid), a
      `jax.lax.linalg.EigImplementation`: `LAPACK` (on the host CPU; the only one on CPUs),
      `CUSOLVER` (on an NVIDIA GPU, cuSOLVER ≥ 11.7.1), `MAGMA` (on the GPU, MAGMA
      installed), or None (default: JAX's choice, cuSOLVER where available, else LAPACK).

    Example: `phase_row(params, "V", Continuation(quench=True, confirm=Evolve(t_max=2e5)))`.
    """

    tol: Float[Array, ""] = eqx.field(default=DEFAULT_NEWTON_TOL, converter=as_float)
    delta_floor: Float[Array, ""] = eqx.field(default=DEFAULT_DELTA_FLOOR, converter=as_float)
    max_jump: Float[Array, ""] = eqx.field(default=DEFAULT_MAX_JUMP, converter=as_float)
    quench: bool = eqx.field(default=False, static=True, converter=_plain_bool)
    confirm: Evolve | None = None
    eig: EigImplementation | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        if not (self.eig is None or isinstance(self.eig, EigImplementation)):
            raise TypeError(
                f"Continuation(eig={self.eig!r}): use a jax.lax.linalg.EigImplementation "
                "(LAPACK, CUSOLVER, MAGMA) or None."
            )
        _positive("Continuation", tol=self.tol, delta_floor=self.delta_floor, max_jump=self.max_jump)
        jump = concrete(self.max_jump)
        if jump is not None and jump > 1:
            raise ValueError(f"Continuation(max_jump={jump}): max_jump must be at most 1.")
        if not isinstance(self.quench, bool):
            raise TypeError(f"Continuation(quench={self.quench!r}): quench is True or False.")
        if self.confirm is not None and not isinstance(self.confirm, Evolve):
            raise TypeError(
                f"Continuation(confirm={self.confirm!r}): use an Evolve(...), e.g. "
                "Evolve(t_max=2e5), or None."
            )
