"""The normal (s ≡ 0, Δ = 0) steady state of the driven model on the mirror-reduced grid.

It comes from a time evolution of the 4M normal unknowns with s ≡ 0 (the normal subspace,
invariant under the dynamics) until the state stops moving, continued by pseudo-transient
steps and polished by chord (frozen-Jacobian Newton) steps on the 4M
population/coherence equations (particle number fixed), with implicit differentiation. At
T = 0 the normal steady states form a continuum (Pauli-blocked occupations are dark to the
phonons), so the state depends on the history: by default the one the dynamics from the
paper's initial state relaxes to (or, with `y0`, from a given state with its pairs removed).
Plain Newton from the initial state, or from a partly relaxed state, lands elsewhere
(unphysical populations, or V_c off by up to 13 % at Ω = 0.1).

Units: E_g = ħ = 1 (rates in E_g/ħ).
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Complex, Float, Int

from .._checks import as_float, float_leaves
from .._roots import newton_chord
from .equations import coefficients, normal_rates
from .evolve import DEFAULT_ATOL, DEFAULT_RTOL, default_solver
from .outcomes import RESULTS, raise_if_failed
from .params import InterbandParams
from .solver_state import half_grid
from .state import InterbandState, initial_state, physical_populations

DEFAULT_RELAX_TOL = 3e-7  # max |dn/dt| (E_g/ħ) at which the normal-state relaxation stops
RELAX_STEPS = 200_000
NORMAL_RESIDUAL_TOL = 1e-8  # max-norm stationarity residual of an accepted normal state
_EPS = 1e-8  # shift of the final polish (and of the implicit adjoint)
_EPS_PSEUDO = 1e-3  # pseudo-transient shift: linearly implicit Euler steps of length 1000 ħ/E_g
DEFAULT_PSEUDO_STEPS = 1000
MAX_T_RELAX = 1e6


class NormalState(eqx.Module):
    """The normal (s ≡ 0) steady state on the mirror-reduced grid k ≥ 0.

    `n11`, `n22` (real), `n21` (complex): correlators, shape (M,). `residual`: max-norm of
    the stationarity residual (E_g/ħ). `result`: `RESULTS.successful` if the residual is
    below 1e-8 and the populations lie in [0, 1], else `RESULTS.normal_state_failed`;
    `success` is `result == RESULTS.successful`. `t_relax`: how long the s ≡ 0 evolution
    ran before the pseudo-transient steps and the polish (ħ/E_g); `relax_steps`: its ODE
    steps.
    """

    n11: Float[Array, "*b M"]
    n22: Float[Array, "*b M"]
    n21: Complex[Array, "*b M"]
    residual: Float[Array, "*b"]
    result: RESULTS
    t_relax: Float[Array, "*b"]
    relax_steps: Int[Array, "*b"]

    @property
    def success(self) -> Bool[Array, "*b"]:
        """True where the normal state converged (`result == RESULTS.successful`)."""
        return self.result == RESULTS.successful


def _normal_rhs(t, x, c):
    """d/dt of the normal-state unknowns x = (n11, n22, Re n21, Im n21) on the half grid
    (4M reals) with s ≡ 0: the dynamics of the normal subspace, which s ≡ 0 leaves
    invariant. Relaxing here rather than in the packed solver state (`solver_state.pack`)
    spares the integrator the normalised pairing direction u, whose fast rotation
    i(A1 + A2)k² limits the steps although s = 0 (benchmarks/RESULTS.md, "The normal state
    on its own subspace")."""
    del t
    m = c.esum.shape[0]
    n11, n22, a, b = (x[i * m : (i + 1) * m] for i in range(4))
    z = jnp.zeros_like(n11)
    return jnp.concatenate(normal_rates(n11, n22, a, b, z, z, 0.0, 0.0, c)[:4])


def _normal_residual(x, args):
    """Stationarity residual: the rates, with the first row replaced by the particle number
    (the rates conserve it, so one of them is redundant)."""
    c, n_e = args
    m = c.esum.shape[0]
    number = jnp.sum(c.weights * (x[:m] + x[m : 2 * m])) - n_e
    return _normal_rhs(None, x, c).at[0].set(number)


def normal_steady_state(
    params: InterbandParams,
    *,
    t_relax: Float[ArrayLike, ""] | None = None,
    tol: Float[ArrayLike, ""] = 1e-11,
    max_steps: int = 40,
    pseudo_steps: int = DEFAULT_PSEUDO_STEPS,
    relax_tol: Float[ArrayLike, ""] = DEFAULT_RELAX_TOL,
    y0: InterbandState | None = None,
    throw: bool = False,
) -> NormalState:
    """Normal steady state: evolve the paper's initial state with s ≡ 0 until it stops moving
    — until max_k |dn/dt| (n11, n22, n21; E_g/ħ) < `relax_tol` (default 3e-7), at most
    t = 10⁶ ħ/E_g — or, with `t_relax` given, for exactly `t_relax` (ħ/E_g); Dopri8 at
    rtol 1e-6, atol 1e-9 on the 4M normal unknowns. Finish the relaxation by
    pseudo-transient steps (each a linearly implicit Euler step of length 1/ε_pt = 1000,
    with the Jacobian of the relaxed state: one LU for all; at most `pseudo_steps`, default
    1000), then polish by chord steps with the Jacobian refreshed there (rtol = atol =
    `tol`, shift 10⁻⁸) with implicit differentiation (the relaxation is `stop_gradient`ed).
    The two stages are one compiled root find and share the step budget
    max(`pseudo_steps`, `max_steps`). Jit/vmap/grad-safe; float arguments are traced (no recompiles).

    At T = 0 the normal steady states form a continuum (Pauli-blocked occupations are dark
    to the phonons: the stationarity Jacobian has zero modes), so *which* state is reached
    depends on the history. Plain Newton from a partly relaxed state slides along the zero
    modes to a different member (or to unphysical populations); the pseudo-transient steps
    follow the damped dynamics instead, and the relaxation runs until the state stops
    moving (it slows down at weak drive), so the result is where a long evolution lands;
    looser settings land on other members of the continuum (the defaults against tighter
    ones: benchmarks/RESULTS.md, "The normal state on its own subspace").

    `result` is decided by the state itself: stationarity residual (max-norm, E_g/ħ)
    below 1e-8 and populations within [0, 1] (the root finder's own step criterion may
    never be met along the zero modes although the residual is 1e-17); if it is
    `normal_state_failed`, raise `pseudo_steps` or lower `relax_tol`. `throw=True` raises
    `outcomes.SolveError` then (default False).

    `y0` (a mirror-symmetric `InterbandState`, default the paper's initial state): relax
    from this state instead, with its pairing amplitude removed (s → 0: a *quenched* state,
    e.g. a paired steady state whose pairs are destroyed). At T = 0 that selects another
    member of the continuum (`phase_map`: the quench threshold)."""
    out = _normal_steady_state(
        float_leaves(params),
        _floats(t_relax),
        _floats(tol),
        int(max_steps),
        int(pseudo_steps),
        _floats(relax_tol),
        y0,
    )
    return raise_if_failed(out, out.result, throw)


@eqx.filter_jit
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
def _normal_steady_state(params, t_relax, tol, max_steps, pseudo_steps, relax_tol, y0=None):
    c = coefficients(params, half=True)
    p_sg = jax.lax.stop_gradient(params)
    y0 = initial_state(p_sg, seed=0.0) if y0 is None else jax.lax.stop_gradient(y0)  # s is dropped
    x_start = jnp.concatenate([half_grid(v) for v in (y0.n11, y0.n22, y0.n21.real, y0.n21.imag)])
    c_sg = jax.lax.stop_gradient(c)
    if t_relax is None:

        def settled(t, x, args, **kwargs):
            return jnp.max(jnp.abs(_normal_rhs(t, x, args))) < relax_tol

        t_end, event = MAX_T_RELAX, dfx.Event(settled)
    else:
        t_end, event = t_relax, None
    sol = dfx.diffeqsolve(
        dfx.ODETerm(_normal_rhs),
        default_solver(),
        0.0,
        t_end,
        None,
        x_start,
        args=c_sg,
        saveat=dfx.SaveAt(t1=True),
        stepsize_controller=dfx.PIDController(rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL),
        max_steps=RELAX_STEPS,
        event=event,
        throw=False,
    )
    x0 = jax.lax.stop_gradient(sol.ys[-1])
    m = c.esum.shape[0]
    n_e = jnp.sum(c.weights * (x0[:m] + x0[m : 2 * m]))

    # F(x) − ε(x − sg(x)) equals F(x) but has Jacobian J − εI: a Newton step on it is a
    # backward-Euler step of length 1/ε on dx/dt = F(x) (regular even where J is singular),
    # a chord step (J frozen) a linearly implicit Euler step, and its root is exactly F = 0.
    def shifted(x, args):
        c, n_e, eps = args
        return _normal_residual(x, (c, n_e)) - eps * (x - jax.lax.stop_gradient(x))

    # Two chord stages on one call site (one compiled root find): pseudo-transient steps
    # with the Jacobian of their start (ε = 10⁻³, a W-method: the same fixed point, a path
    # that differs from Newton's by O(J(x) − J(x0)), negligible this close to
    # stationarity; one LU instead of one per step), then the polish (ε = 10⁻⁸, the LU
    # refreshed at the pseudo-transient's end, where the chord converges in a few steps).
    # Both stages share the step budget max(pseudo_steps, max_steps); the gradient comes
    # from the implicit adjoint of the last stage (its start is `stop_gradient`ed).
    # `_roots.newton_chord`, not optimistix: it traces under shard_map (the rows of a phase
    # map on several accelerators).
    budget = jnp.maximum(pseudo_steps, max_steps)

    def stage(x, eps):
        out = newton_chord(
            shifted, jax.lax.stop_gradient(x), (c, n_e, eps), rtol=tol, atol=tol, max_steps=budget, chord=True
        )
        return out.value, None

    x, _ = jax.lax.scan(stage, x0, jnp.array([_EPS_PSEUDO, _EPS]))
    x_sg = jax.lax.stop_gradient(x)
    res = jnp.max(jnp.abs(_normal_residual(x_sg, (c, n_e))))
    physical = physical_populations(x_sg[: 2 * m])
    return NormalState(
        n11=x[:m],
        n22=x[m : 2 * m],
        n21=jax.lax.complex(x[2 * m : 3 * m], x[3 * m :]),
        residual=res,
        result=RESULTS.where(
            (res < NORMAL_RESIDUAL_TOL) & physical, RESULTS.successful, RESULTS.normal_state_failed
        ),
        t_relax=sol.ts[-1],
        relax_steps=jnp.asarray(sol.stats["num_steps"], jnp.int32),
    )


def _floats(tree):
    """Python floats → float64 arrays (traced under `eqx.filter_jit`, so new values do not
    recompile); ints (step budgets, static) and None stay as they are."""
    return jax.tree.map(lambda x: as_float(x) if isinstance(x, float) else x, tree)
