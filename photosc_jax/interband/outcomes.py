"""One outcome type for every solver of the driven model (the shape of optimistix `RESULTS`).

`evolve`, `steady_state` (either method), `continuation` and the sweeps report how a solve
ended as a `RESULTS` item: `result == RESULTS.successful` is a boolean array (batched
results compare elementwise), `RESULTS[result]` is the message (it starts with the
outcome's name, so a printed result reads by name), and with `throw=True` the entry points
raise that message, which says what to change. Members and their integer codes
(`code(result)`; stable, small, in this order — the sweep stores them as its `status`):

| code | member | meaning |
|---|---|---|
| 0 | `successful` | steady (or, for `evolve`, t1 reached) |
| 1 | `t_max_reached` | evolution reached t_max before the state became stationary |
| 2 | `max_steps_reached` | the ODE solver used up `max_steps` |
| 3 | `solver_failed` | the ODE solver broke down (step size collapsed, non-finite state) |
| 4 | `newton_failed` | Newton / chord iteration did not converge on the co-rotating residual |
| 5 | `not_paired` | Newton had no paired state to start from (below threshold Δ_ss = 0) |
| 6 | `normal_state_failed` | the normal (Δ = 0) steady state did not converge |
| 7 | `unphysical_root` | Newton converged to a stationary point with populations outside [0, 1] |
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Int


class RESULTS(eqx.Enumeration):
    successful = "successful"
    t_max_reached = (
        "t_max_reached: the state was not yet stationary at t_max. Increase t_max "
        "(Evolve(t_max=...)); near the pairing threshold the growth is slow, so prefer "
        "Newton() there, and if |Δ| keeps oscillating the drive may sustain a limit cycle "
        "(look at evolve(...).delta)."
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


def raise_if_failed(out, result: RESULTS, throw: bool):
    """With `throw=True`, raise the message of `result` wherever it is not `successful`
    (an `equinox` runtime error, also under `jit`); returns `out` unchanged."""
    if not throw:
        return out
    return result.error_if(out, result != RESULTS.successful)
