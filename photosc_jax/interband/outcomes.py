"""One outcome type for every solver of the driven model (the shape of optimistix `RESULTS`).

Every result type (`EvolveResult`, `SteadyState`, `NormalState`, `phase_map.PhaseRow`)
carries how its solve ended as `result`, a `RESULTS` item, and a `success` property
(`result == RESULTS.successful`, a boolean array: batched results compare elementwise).
`RESULTS[result]` is the message; it starts with the outcome's name, so a printed result
reads by name, and says what to change. Members and their integer codes (`code(result)`;
stable, small, in this order — the sweeps store them as their `status`):

| code | member | meaning |
|---|---|---|
| 0 | `successful` | steady (for `evolve`: t_max reached) |
| 1 | `t_max_reached` | evolution reached t_max before the state became stationary |
| 2 | `max_steps_reached` | the ODE solver used up `max_steps` |
| 3 | `solver_failed` | the ODE solver broke down (step size collapsed, non-finite state) |
| 4 | `newton_failed` | Newton / chord iteration did not converge on the co-rotating residual |
| 5 | `not_paired` | Newton had no paired state to start from (below threshold Δ_ss = 0) |
| 6 | `normal_state_failed` | the normal (Δ = 0) steady state did not converge |
| 7 | `unphysical_root` | Newton converged to a stationary point with populations outside [0, 1] |
| 8 | `oscillating` | evolution reached t_max with |Δ| still swinging, undamped |

`throw=True` on an entry point (`evolve`, `steady_state`, `continuation`,
`normal_steady_state`) raises `SolveError` — one exception type, carrying the message —
where the outcome is not `successful`. Inside `jax.jit` (an entry point called on traced
values) no Python exception can be raised: there `throw=True` becomes `equinox.error_if`,
an `equinox.EquinoxRuntimeError` with the same message when the compiled program runs.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int


class RESULTS(eqx.Enumeration):
    successful = "successful"
    t_max_reached = (
        "t_max_reached: the state was not yet stationary at t_max (|Δ| still converging or "
        "drifting). Increase t_max (Evolve(t_max=...)); near the pairing threshold the growth "
        "is slow, so prefer Newton() there."
    )
    max_steps_reached = (
        "max_steps_reached: the ODE solver used up max_steps before the state became "
        "stationary or t_max was reached. Increase max_steps (Evolve(max_steps=...), "
        "evolve(max_steps=...)) or loosen rtol / atol."
    )
    solver_failed = (
        "solver_failed: the ODE solver broke down (step size collapsed or the state became "
        "non-finite). Tighten rtol / atol, or check the parameters (InterbandParams) for "
        "extreme values."
    )
    newton_failed = (
        "newton_failed: Newton's method did not converge on the co-rotating steady-state "
        "equations. Start closer to the root (y0 = a neighbouring paired steady state), allow "
        "more steps (Newton(max_steps=...)), loosen Newton(tol=...), or keep the "
        "time-evolution fallback (Newton(fallback=Evolve()))."
    )
    not_paired = (
        "not_paired: Newton had no paired state to start from: the warm-start evolution did "
        "not pair within Newton(warm=Evolve(t_max=...)). Below the pairing threshold the "
        "steady state is normal (|Δ| = 0): use Evolve() or keep Newton(fallback=Evolve()); "
        "just above it, increase the warm start's t_max (stability.critical_V gives the "
        "threshold)."
    )
    normal_state_failed = (
        "normal_state_failed: the normal (Δ = 0) steady state did not converge (residual too "
        "large or populations outside [0, 1]). Increase t_relax or pseudo_steps of "
        "normal_steady_state."
    )
    unphysical_root = (
        "unphysical_root: Newton converged to a stationary point of the mean-field equations "
        "with populations outside [0, 1]: a root no physical state evolves to, reached from a "
        "start far from the steady state. Start from the paper's initial state (the default "
        "warm start: y0=None) or from a neighbouring paired steady state, or keep the "
        "time-evolution fallback (Newton(fallback=Evolve()))."
    )
    oscillating = (
        "oscillating: |Δ| was still swinging, undamped, over the last 20 % of the evolution "
        "at t_max: the drive may sustain a limit cycle (no steady state), or the approach is a "
        "slow spiral. Evolve longer (Evolve(t_max=...)) and look at "
        "evolve(params, t_max).delta_abs; paired_stability of a Newton() steady state tells "
        "whether the stationary state is unstable."
    )


class SolveError(RuntimeError):
    """What `throw=True` raises when a solve did not succeed: the outcome's message
    (`RESULTS[result]`, prefixed by where it happened for a batched result). `result` is
    the failed `RESULTS` item (the first failed one of a batch)."""

    def __init__(self, message: str, result: RESULTS | None = None):
        super().__init__(message)
        self.result = result


def code(result: RESULTS) -> Int[Array, "*batch"]:
    """The integer code of a `RESULTS` item (table in the module docstring), e.g. for storage."""
    return jnp.asarray(result._value, dtype=jnp.int32)


def names() -> list[str]:
    """Member names in code order: `names()[code(r)]` names the outcome `r`."""
    return list(RESULTS._name_to_item)


def from_diffrax(result) -> RESULTS:
    """Our outcome for a diffrax result code (an event firing counts as success)."""
    ok = (result == dfx.RESULTS.successful) | (result == dfx.RESULTS.event_occurred)
    steps = result == dfx.RESULTS.max_steps_reached
    return RESULTS.where(
        ok, RESULTS.successful, RESULTS.where(steps, RESULTS.max_steps_reached, RESULTS.solver_failed)
    )


def raise_if_failed(out, result: RESULTS, throw: bool, where: Callable[[int], str] | None = None):
    """With `throw=True`, raise `SolveError` with the message of `result` if it is not
    `successful` (for a batched `result`: the first failed element, its flat index `i`
    described by `where(i)`, and how many failed); returns `out` unchanged. On traced values
    (inside `jax.jit`) it attaches `equinox.error_if` instead (module docstring)."""
    if not throw:
        return out
    if isinstance(result._value, jax.core.Tracer):
        return result.error_if(out, result != RESULTS.successful)
    codes = np.asarray(result._value).reshape(-1)
    bad = np.flatnonzero(codes != int(code(RESULTS.successful)))
    if bad.size == 0:
        return out
    i = int(bad[0])
    first = jax.tree.map(lambda x: jnp.reshape(x, -1)[i], result)
    message = RESULTS[first]
    if codes.size > 1 or where is not None:
        place = where(i) if where is not None else f"index {i}"
        message = f"{bad.size} of {codes.size} failed; the first, {place}: {message}"
    raise SolveError(message, first)
