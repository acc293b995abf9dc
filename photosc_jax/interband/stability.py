"""Linear stability of the normal (Δ = 0) steady state: the pairing instability and the
phase boundary V_c(Ω), Ω_c(V) without time stepping.

At s ≡ 0 the pairing sector decouples linearly from the populations (they enter ds/dt only
through ñ_k = n22_k + n11_{−k} − 1 and the dephasing γ_s; Im(Δ s) and |s_0|² in the
population equations are quadratic in s). With Δ* = (V dk/2π) Σ_k s_k (Eq. B3) the
linearised pairing equation (the Wick-reduced A12 of `equations`) is

    ds/dt = L s,   L = diag(i(A1 + A2)k² − γ_s,k) + i (V dk/2π) ñ wᵀ,

*complex*-linear in s (Δ* is linear in s, not s*), so the eigenvalues of the complex M×M
matrix L (M = (N+1)/2 mirror-reduced points, w = multiplicities 1, 2, 2, …) are those of the
real 2M×2M Jacobian, each with its complex conjugate (tested). The leading growth rate is
g = max Re eig(L); the normal state is unstable toward pairing iff g > 0, and the threshold
V_c(Ω) (or Ω_c(V)) is where g crosses zero. The normal state does not depend on V (V only
multiplies s), so V_c needs one normal-state solve.

The normal state comes from a time evolution with s ≡ 0 (`evolve` with seed 0), continued
by pseudo-transient Newton steps and polished by Newton on the 4M population/coherence
equations (particle number fixed), with implicit differentiation. At T = 0 the normal
steady states form a continuum (Pauli-blocked occupations are dark to the phonons), so the
state — and V_c — depends on the history: we take the one the dynamics from the paper's
initial state relaxes to. Plain Newton from the initial state, or from a partly relaxed
state, lands elsewhere (unphysical populations, or V_c off by up to 13 % at Ω = 0.1).

Units: E_g = ħ = 1 (rates in E_g/ħ).
"""

from __future__ import annotations

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Bool, Complex, Float

from .._checks import as_float, float_leaves
from .._devices import default_vmap_width
from .._numerics import bracketed_root
from ._traces import counted
from .equations import Coefficients, coefficients, normal_rates
from .evolve import relax
from .params import InterbandParams
from .solver_state import rates, split
from .state import InterbandState, initial_state

DEFAULT_RELAX_TOL = 1e-6  # max |dn/dt| (E_g/ħ) at which the normal-state relaxation stops
RELAX_STEPS = 200_000
NORMAL_RESIDUAL_TOL = 1e-8  # max-norm stationarity residual of an accepted normal state
_EPS = 1e-8  # shift of the final Newton polish (and of the implicit adjoint)
_EPS_PSEUDO = 1e-3  # pseudo-transient shift: backward-Euler steps of length 1000 ħ/E_g
DEFAULT_PSEUDO_STEPS = 200
MAX_T_RELAX = 1e6
DEFAULT_V_BRACKET = (0.0, 40.0)
DEFAULT_OMEGA_BRACKET = (1e-3, 1.0)


class NormalState(eqx.Module):
    """The normal (s ≡ 0) steady state on the mirror-reduced grid k ≥ 0.

    `n11`, `n22` (real), `n21` (complex): correlators, shape (M,). `residual`: max-norm of
    the stationarity residual (E_g/ħ). `success`: residual < 1e-8 and populations in
    [0, 1]. `t_relax`: how long the s ≡ 0 evolution ran before the Newton polish (ħ/E_g).
    """

    n11: Float[Array, "*b M"]
    n22: Float[Array, "*b M"]
    n21: Complex[Array, "*b M"]
    residual: Float[Array, "*b"]
    success: Bool[Array, "*b"]
    t_relax: Float[Array, "*b"]


class Stability(eqx.Module):
    """Leading pairing mode of the normal state: `growth_rate` = max Re eig(L) (E_g/ħ; > 0 ⇔
    unstable toward pairing), `frequency` = Im of that eigenvalue (s ∝ e^{λt}, so Δ rotates at
    −frequency at onset), `normal`: the `NormalState` (check `normal.success`: the growth
    rate of a failed normal state means nothing)."""

    growth_rate: Float[Array, "*b"]
    frequency: Float[Array, "*b"]
    normal: NormalState


def _normal_residual(x, args):
    c, n_e = args
    m = c.esum.shape[0]
    n11, n22, a, b = (x[i * m : (i + 1) * m] for i in range(4))
    z = jnp.zeros_like(n11)
    dn11, dn22, da, db, _ = normal_rates(n11, n22, a, b, z, z, 0.0, 0.0, c)
    dn11 = dn11.at[0].set(jnp.sum(c.weights * (n11 + n22)) - n_e)
    return jnp.concatenate([dn11, dn22, da, db])


def normal_steady_state(
    params: InterbandParams,
    *,
    t_relax: float | None = None,
    tol: float = 1e-11,
    max_steps: int = 40,
    pseudo_steps: int = DEFAULT_PSEUDO_STEPS,
    relax_tol: float = DEFAULT_RELAX_TOL,
    y0: InterbandState | None = None,
) -> NormalState:
    """Normal steady state: evolve the paper's initial state with s ≡ 0 until it stops moving
    — until max_k |dn/dt| (n11, n22, n21; E_g/ħ) < `relax_tol` (default 1e-6), at most
    t = 10⁶ ħ/E_g — or, with `t_relax` given, for exactly `t_relax` (ħ/E_g); finish the
    relaxation by pseudo-transient Newton steps (each a backward-Euler step of length
    1/ε_pt = 1000; at most `pseudo_steps`), then polish by Newton (rtol = atol = `tol`, at
    most `max_steps` steps) with implicit differentiation (the relaxation is
    `stop_gradient`ed). Jit/vmap/grad-safe; float arguments are traced (no recompiles).

    At T = 0 the normal steady states form a continuum (Pauli-blocked occupations are dark
    to the phonons: the stationarity Jacobian has zero modes), so *which* state is reached
    depends on the history. Plain Newton from a partly relaxed state slides along the zero
    modes to a different member (or to unphysical populations); the pseudo-transient steps
    follow the damped dynamics instead, and the relaxation runs until the state stops
    moving (it slows down at weak drive: t ≈ 5·10³ at Ω = 0.25, 1.4·10⁴ at Ω = 0.05,
    5·10⁴ at Ω = 0.02 on the paper grid), so the result is where a long evolution lands:
    V_c(Ω = 0.02) = 2.2752553 against 2.2752556 after t = 2·10⁵ (a fixed t = 5000 gave
    2.2709; relax_tol = 1e-5 gives 2.27524).

    `success` is decided by the state itself: stationarity residual (max-norm, E_g/ħ)
    below 1e-8 and populations within [0, 1] (Newton's own step criterion may never be met
    along the zero modes although the residual is 1e-17). If False, raise `pseudo_steps` or
    lower `relax_tol`.

    `y0` (a mirror-symmetric `InterbandState`, default the paper's initial state): relax
    from this state instead, with its pairing amplitude removed (s → 0: a *quenched* state,
    e.g. a paired steady state whose pairs are destroyed). At T = 0 that selects another
    member of the continuum (`phase_map`: the quench threshold)."""
    return _normal_steady_state(
        float_leaves(params),
        _floats(t_relax),
        _floats(tol),
        int(max_steps),
        int(pseudo_steps),
        _floats(relax_tol),
        y0,
    )


@eqx.filter_jit
@counted("stability.normal_steady_state")
def _normal_steady_state(params, t_relax, tol, max_steps, pseudo_steps, relax_tol, y0=None):
    c = coefficients(params, half=True)
    p_sg = jax.lax.stop_gradient(params)
    if y0 is None:
        y0 = initial_state(p_sg, seed=0.0)
    else:
        y0 = jax.lax.stop_gradient(eqx.tree_at(lambda s: s.s21, y0, jnp.zeros_like(y0.s21)))
    if t_relax is None:

        def settled(t, y, args, **kwargs):
            return jnp.max(jnp.abs(jnp.concatenate(rates(y, args)[:4]))) < relax_tol

        sol = relax(p_sg, y0, MAX_T_RELAX, max_steps=RELAX_STEPS, event=dfx.Event(settled))
    else:
        sol = relax(p_sg, y0, t_relax, max_steps=RELAX_STEPS)
    n11, n22, n21, _, _ = split(jax.lax.stop_gradient(sol.ys[-1]))
    n_e = jnp.sum(c.weights * (n11 + n22))
    x0 = jnp.concatenate([n11, n22, n21.real, n21.imag])

    # F(x) − ε(x − sg(x)) equals F(x) but has Jacobian J − εI: a Newton step on it is a
    # backward-Euler step of length 1/ε on dx/dt = F(x) (regular even where J is singular),
    # and its root is exactly F = 0.
    def shifted(eps):
        return lambda x, a: _normal_residual(x, a) - eps * (x - jax.lax.stop_gradient(x))

    solver = optx.Newton(rtol=tol, atol=tol, linear_solver=lx.LU())
    relaxed = optx.root_find(
        shifted(_EPS_PSEUDO), solver, x0, (jax.lax.stop_gradient(c), n_e), max_steps=pseudo_steps, throw=False
    )
    x1 = jax.lax.stop_gradient(relaxed.value)
    out = optx.root_find(
        shifted(_EPS),
        solver,
        x1,
        (c, n_e),
        max_steps=max_steps,
        adjoint=optx.ImplicitAdjoint(linear_solver=lx.LU()),
        throw=False,
    )
    x = out.value
    m = c.esum.shape[0]
    x_sg = jax.lax.stop_gradient(x)
    res = jnp.max(jnp.abs(_normal_residual(x_sg, (c, n_e))))
    physical = jnp.all((x_sg[: 2 * m] > -1e-8) & (x_sg[: 2 * m] < 1 + 1e-8))
    return NormalState(
        n11=x[:m],
        n22=x[m : 2 * m],
        n21=x[2 * m : 3 * m] + 1j * x[3 * m :],
        residual=res,
        success=(res < NORMAL_RESIDUAL_TOL) & physical,
        t_relax=sol.ts[-1],
    )


def _pairing_parts(normal: NormalState, c: Coefficients):
    """(d, ñ) of L = diag(d) + i c_pair ñ wᵀ: d_k = i(A1 + A2)k² − γ_s,k, ñ_k = n22 + n11 − 1."""
    z = jnp.zeros_like(normal.n11)
    *_, gamma_s = normal_rates(normal.n11, normal.n22, normal.n21.real, normal.n21.imag, z, z, 0.0, 0.0, c)
    n_tilde = normal.n22 + normal.n11 - 1.0  # mirror symmetric: n11_{−k} = n11_k
    return jax.lax.complex(-gamma_s, c.esum), n_tilde


def pairing_operator(normal: NormalState, c: Coefficients) -> Complex[Array, "M M"]:
    """L of the module docstring: ds/dt = L s at the normal state (half grid; `c` =
    `coefficients(params, half=True)`)."""
    d, n_tilde = _pairing_parts(normal, c)
    return jnp.diag(d) + 1j * c.pair * jnp.outer(n_tilde, c.weights)


def _leading(normal, c):
    """(Re, Im) of the eigenvalue of L with the largest real part, by a dense eigenvalue
    solve (differentiable: the derivative of a simple eigenvalue)."""
    ev = jnp.linalg.eigvals(pairing_operator(normal, c))
    i = jnp.argmax(ev.real)
    return ev[i].real, ev[i].imag


SECULAR_MAX_ITER = 200  # Aberth sweeps before a secular solve falls back to the dense one
_SECULAR_TOL = 1e-14  # relative size of the last Aberth correction of every root


def secular_eigenvalues(
    d: Complex[Array, " M"], u: Complex[Array, " M"], a, z0: Complex[Array, " M"]
) -> tuple[Complex[Array, " M"], Bool[Array, ""]]:
    """All M eigenvalues of L = diag(d) + a ñ wᵀ (u = ñ w elementwise, a = i c_pair) as the
    roots of det(λ − L) = Π_k(λ − d_k) · f(λ), f(λ) = 1 − a Σ_k u_k/(λ − d_k), by the
    Aberth–Ehrlich iteration (simultaneous Newton steps with mutual repulsion, cubically
    convergent for simple roots) from the guesses `z0`: O(M²) per sweep instead of the
    O(M³) of a dense eigenvalue solve. A pole with u_k = 0 is itself an eigenvalue (row k of
    L is d_k e_kᵀ); an iterate that lands on a pole stops there. Returns (roots,
    converged): converged if every root's last correction is below 1e-14 (1 + |root|)
    within SECULAR_MAX_ITER sweeps and the roots sum to trace L = Σ d + a Σ u (no root
    counted twice). Not for differentiation (see `_leading_secular`)."""
    d, u, a, z0 = (jax.lax.stop_gradient(x) for x in (d, u, a, z0))
    m = d.shape[0]
    eye = jnp.eye(m, dtype=bool)

    def newton_ratio(z):
        gap = z[:, None] - d[None, :]  # (roots, poles)
        on = gap == 0  # an iterate exactly on a pole d_k: that pole's terms are taken apart
        r = jnp.where(on, 0.0, 1.0 / jnp.where(on, 1.0, gap))
        f = 1.0 - a * (r @ u)
        df = a * ((r * r) @ u)
        ratio = 1.0 / (jnp.sum(r, axis=1) + df / f)  # p/p' of p = Π(λ − d) f
        # on d_k: p = Π_{j≠k}(λ − d_j) h, h = (λ − d_k) f_k − a u_k, so p'/p = Σ_{j≠k} r_j −
        # f_k/(a u_k); a root if u_k = 0 (ratio 0)
        u_on = jnp.sum(jnp.where(on, u[None, :], 0.0), axis=1)
        at_pole = 1.0 / (jnp.sum(r, axis=1) - f / jnp.where(u_on == 0, 1.0, a * u_on))
        ratio = jnp.where(jnp.any(on, axis=1), jnp.where(u_on == 0, 0.0, at_pole), ratio)
        return jnp.where(jnp.isfinite(ratio), ratio, 0.0)

    def sweep(c):
        z, _, it = c
        n = newton_ratio(z)
        diff = z[:, None] - z[None, :]
        rep = jnp.sum(jnp.where(eye | (diff == 0), 0.0, 1.0 / jnp.where(diff == 0, 1.0, diff)), axis=1)
        w = n / (1.0 - n * rep)
        w = jnp.where(jnp.isfinite(w), w, n)
        return z - w, jnp.max(jnp.abs(w) / (1.0 + jnp.abs(z))), it + 1

    z, step, _ = jax.lax.while_loop(
        lambda c: (c[1] > _SECULAR_TOL) & (c[2] < SECULAR_MAX_ITER), sweep, (z0, jnp.inf, 0)
    )
    trace = jnp.sum(d) + a * jnp.sum(u)
    scale = jnp.sum(jnp.abs(d)) + jnp.abs(a * jnp.sum(u)) + 1.0
    converged = (step <= _SECULAR_TOL) & (jnp.abs(jnp.sum(z) - trace) < 1e-10 * scale)
    return z, converged


def _polish(lam, d, u, a):
    """One Newton step on f at a converged root `lam` (stop-gradiented): the same value, with
    the first-order dependence on (d, u, a) of the implicit function theorem — except at a
    pole root (u_k = 0, f ≠ 0 there), which does not depend on the pairing."""
    lam = jax.lax.stop_gradient(lam)
    r = 1.0 / (lam - d)
    f = 1.0 - a * jnp.sum(u * r)
    df = a * jnp.sum(u * r * r)
    return jnp.where(jnp.abs(jax.lax.stop_gradient(f)) < 1e-8, lam - f / df, lam)


def _secular_parts(normal, c):
    d, n_tilde = _pairing_parts(normal, c)
    return d, n_tilde * c.weights, 1j * c.pair


def _leading_secular(normal, c):
    """`_leading` by `secular_eigenvalues` from the first-order perturbed poles d_k + a u_k
    (the dense solve if that does not converge); differentiable through `_polish`."""
    d, u, a = _secular_parts(normal, c)
    z, ok = secular_eigenvalues(d, u, a, d + a * u)
    z = jax.lax.cond(ok, lambda: z, lambda: jnp.linalg.eigvals(pairing_operator(normal, c)).astype(z.dtype))
    lam = _polish(z[jnp.argmax(z.real)], d, u, a)
    return lam.real, lam.imag


def leading_along_V(
    normal: NormalState, c0: Coefficients, V: Float[Array, " n"], dk
) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    """Leading pairing mode (growth rate, frequency) of one normal state at every V of a
    row: the secular roots solved in order of increasing |V|, each from the roots at the
    previous V (a few Aberth sweeps each), where the secular solve does not converge the
    dense eigenvalue solve (one point at a time, so a vmapped row pays for it only where
    needed). ≈ 1 ms per point at M = 101 against ≈ 6 ms for a dense solve."""
    d, u, a1 = _secular_parts(normal, eqx.tree_at(lambda c: c.pair, c0, dk / (2 * jnp.pi)))
    order = jnp.argsort(jnp.abs(V))

    def step(z_prev, v):
        z, ok = secular_eigenvalues(d, u, a1 * v, z_prev)
        return jnp.where(ok, z, z_prev), (z, ok)

    _, (z, ok) = jax.lax.scan(step, d + a1 * V[order][0] * u, V[order])
    inv = jnp.argsort(order)
    z, ok = z[inv], ok[inv]

    def dense(c):
        i, z = c
        j = jnp.argmax(~ok & (jnp.arange(ok.shape[0]) >= i))
        cj = eqx.tree_at(lambda c: c.pair, c0, V[j] * dk / (2 * jnp.pi))
        zj = jnp.linalg.eigvals(pairing_operator(normal, cj)).astype(z.dtype)
        return j + 1, z.at[j].set(zj)

    _, z = jax.lax.while_loop(lambda c: jnp.any(~ok & (jnp.arange(ok.shape[0]) >= c[0])), dense, (0, z))
    lam = jax.vmap(lambda zi, v: _polish(zi[jnp.argmax(zi.real)], d, u, a1 * v))(z, V)
    return lam.real, lam.imag


def _secular(x, args):
    """The threshold as a root: λ = iω is an eigenvalue of L at pairing coefficient
    c = σ V dk/2π iff 1 = i c Σ_k w_k ñ_k / (iω − d_k) (L = diag(d) + i c ñ wᵀ is diagonal plus
    rank one; the poles d_k = i(A1 + A2)k² − γ_k lie off the imaginary axis). Real and
    imaginary parts of that equation in the unknowns x = (V, ω); args = (d, ñ, w, σ dk/2π)."""
    V, omega = x[0], x[1]
    d, n_tilde, w, scale = args
    i = jax.lax.complex(0.0, 1.0)
    f = i * (V * scale) * jnp.sum(w * n_tilde / (i * omega - d)) - 1.0
    return jnp.stack([f.real, f.imag])


def threshold_V(
    normal: NormalState, c0: Coefficients, dk, lo, hi, valid, *, sign=1.0, near=None
) -> Float[Array, ""]:
    """The pairing threshold |V_c| in a bracket lo < hi (magnitudes; V = `sign`·|V|) where
    the growth rate changes sign, g(lo) < 0 < g(hi): Newton on the secular equation
    (`_secular`: λ = iω at V_c), started from the linear interpolation of V and of the
    leading frequency between the ends of `near` (a narrower sub-bracket, default the
    bracket itself), with implicit differentiation (d V_c/dθ). The root is accepted if it
    lies in `near` and the leading growth rate there is zero to 1e-9 (no other mode is
    unstable at V_c); otherwise — e.g. the leading mode changes inside — bisection on g in
    [lo, hi] (tolerance 1e-9). NaN where `valid` is False."""
    scale = sign * dk / (2 * jnp.pi)

    def lead(V):
        return _leading_secular(normal, eqx.tree_at(lambda c: c.pair, c0, V * scale))

    a, b = (lo, hi) if near is None else near
    (g_a, f_a), (g_b, f_b) = lead(a), lead(b)
    t = jnp.clip(g_a / jnp.where(g_a != g_b, g_a - g_b, 1.0), 0.0, 1.0)
    x0 = jax.lax.stop_gradient(jnp.stack([a + t * (b - a), f_a + t * (f_b - f_a)]))
    args = (*_pairing_parts(normal, c0), c0.weights, scale)
    sol = optx.root_find(
        _secular,
        optx.Newton(rtol=1e-13, atol=1e-13, linear_solver=lx.LU()),
        x0,
        args,
        max_steps=40,
        throw=False,
        adjoint=optx.ImplicitAdjoint(linear_solver=lx.LU()),
    )
    root = sol.value[0]
    root_sg = jax.lax.stop_gradient(root)
    ok = (
        (sol.result == optx.RESULTS.successful)
        & (root_sg >= a)
        & (root_sg <= b)
        & (g_a < 0)
        & (g_b > 0)
        & valid
    )
    ok = ok & (jnp.abs(lead(jnp.where(ok, root_sg, a))[0]) < 1e-9)
    growth = lambda V: lead(V)[0]  # noqa: E731
    return jax.lax.cond(ok, lambda: jnp.where(valid, root, jnp.nan), lambda: _bisect(growth, lo, hi, valid))


def stability(params: InterbandParams, normal: NormalState | None = None, **kwargs) -> Stability:
    """Leading growth rate of pairing fluctuations around the normal steady state (computed,
    or passed as `normal`, e.g. reused across V which it does not depend on). `kwargs` go to
    `normal_steady_state`. Differentiable (eigenvalue derivative of a simple eigenvalue)."""
    normal = normal_steady_state(params, **kwargs) if normal is None else normal
    g, f = _leading(normal, coefficients(params, half=True))
    return Stability(growth_rate=g, frequency=f, normal=normal)


def _bisect(fn, lower, upper, valid):
    """Sign change of an increasing fn on [lower, upper] (optimistix bisection, implicit
    adjoint); NaN where `valid` is False."""
    root = bracketed_root(fn, lower, upper, valid, decreasing=False, rtol=1e-9, atol=1e-9, max_steps=200)
    return jnp.where(valid, root, jnp.nan)


def critical_V(
    params: InterbandParams, *, bracket: tuple[float, float] = DEFAULT_V_BRACKET, **kwargs
) -> Float[Array, ""]:
    """Pairing threshold V_c at the other parameters of `params` (its V is ignored): the
    smallest-|V| bracketed zero of the growth rate, by bisection on g(V) in `bracket` (E_g).
    The normal state is solved once (it does not depend on V). Returns NaN if g does not
    change sign in `bracket` (widen it; V < 0 brackets are allowed, e.g. (0, −40)).
    Jit/vmap/grad-safe (d V_c/dθ by the implicit function theorem); `kwargs` go to
    `normal_steady_state`. Float arguments (the bracket too) are traced: changing them
    does not recompile."""
    return _critical_V(float_leaves(params), _floats(bracket), _floats(kwargs))


def _floats(tree):
    """Python floats → float64 arrays (traced under `eqx.filter_jit`, so new values do not
    recompile); ints (step budgets, static) and None stay as they are."""
    return jax.tree.map(lambda x: as_float(x) if isinstance(x, float) else x, tree)


@eqx.filter_jit
@counted("stability.critical_V")
def _critical_V(params, bracket, kwargs):
    normal = normal_steady_state(params, **kwargs)
    c0 = coefficients(params, half=True)
    lo, hi = (as_float(x) for x in bracket)
    sign = jnp.where(hi >= lo, 1.0, -1.0)

    def g(V):
        c = eqx.tree_at(lambda c: c.pair, c0, V * sign * params.dk / (2 * jnp.pi))
        return _leading_secular(normal, c)[0]

    lo_a, hi_a = jnp.abs(lo), jnp.abs(hi)
    valid = (g(lo_a) < 0) & (g(hi_a) > 0) & normal.success
    # a coarse bisection (|V| to 1e-3), then Newton on the secular equation near it
    coarse = jax.lax.stop_gradient(
        bracketed_root(g, lo_a, hi_a, valid, decreasing=False, rtol=1e-4, atol=1e-3, max_steps=60)
    )
    near = (jnp.maximum(coarse - 2e-3, lo_a), jnp.minimum(coarse + 2e-3, hi_a))
    return sign * threshold_V(normal, c0, params.dk, lo_a, hi_a, valid, sign=sign, near=near)


def critical_Omega(
    params: InterbandParams, *, bracket: tuple[float, float] = DEFAULT_OMEGA_BRACKET, **kwargs
) -> Float[Array, ""]:
    """Pairing threshold in the Rabi frequency, Ω_c (E_g), at the other parameters of
    `params`: bisection in log Ω on the growth rate g(Ω) between `bracket` ends (both > 0)
    where g < 0 and g > 0 (either order: Ω_c may be a lower or an upper threshold; V_c(Ω)
    is not monotonic, e.g. at the paper's parameters it peaks near Ω ≈ 0.05). Each
    evaluation solves a normal state (costlier than `critical_V`, slower at small Ω).
    NaN if g does not change sign in `bracket` or a normal state at its ends fails (the
    T = 0 normal state relaxes over t ≳ 10⁵ below Ω ≈ 0.02; the relaxation stops at
    t = 10⁶). Not differentiable (plain bisection)."""
    if not (bracket[0] > 0 and bracket[1] > 0):
        raise ValueError(
            f"bracket={bracket}: both ends must be positive Rabi frequencies "
            "(the bisection runs in log Ω), e.g. (1e-3, 1.0)."
        )
    return _critical_Omega(float_leaves(params), _floats(tuple(map(float, bracket))), _floats(kwargs))


@eqx.filter_jit
@counted("stability.critical_Omega")
def _critical_Omega(params, bracket, kwargs):
    def g(Omega):
        return stability(eqx.tree_at(lambda p: p.Omega, params, Omega), **kwargs).growth_rate

    lo, hi = jnp.log(bracket[0]), jnp.log(bracket[1])  # g(e^lo) < 0 < g(e^hi)
    ends = [stability(eqx.tree_at(lambda p: p.Omega, params, jnp.exp(x)), **kwargs) for x in (lo, hi)]
    valid = (
        (ends[0].growth_rate < 0)
        & (ends[1].growth_rate > 0)
        & ends[0].normal.success
        & ends[1].normal.success
    )

    # Plain bisection in log Ω (36 halvings: relative precision ~1e-10 over a 1e-3…1
    # bracket): a nested optimistix root find (Newton for the normal state inside
    # Bisection) trips optimistix's closure conversion.
    def body(_, ab):
        a, b = ab
        m = 0.5 * (a + b)
        up = g(jnp.exp(m)) > 0
        return jnp.where(up, a, m), jnp.where(up, m, b)

    a, b = jax.lax.fori_loop(0, 36, body, (lo, hi))
    return jnp.where(valid, jnp.exp(0.5 * (a + b)), jnp.nan)


def phase_boundary(
    params: InterbandParams,
    Omega: Float[Array, " n"],
    *,
    bracket: tuple[float, float] = DEFAULT_V_BRACKET,
    t_relax: float | None = None,
) -> Float[Array, " n"]:
    """V_c(Ω) for an array of Rabi frequencies: `critical_V` at each Ω (one after another on
    CPUs, vmapped on accelerators; NaN where no threshold lies in `bracket` or the normal
    state fails). `t_relax` as in `normal_steady_state` (default: relax until the normal
    state stops moving). Example: `phase_boundary(InterbandParams(), jnp.linspace(.05, .5,
    64))`."""
    return _phase_boundary(
        float_leaves(params),
        jnp.asarray(Omega, float),
        _floats(tuple(map(float, bracket))),
        None if t_relax is None else as_float(t_relax),
    )


@eqx.filter_jit
@counted("stability.phase_boundary")
def _phase_boundary(params, Omega, bracket, t_relax):
    def one(Om):
        return _critical_V(eqx.tree_at(lambda p: p.Omega, params, Om), bracket, dict(t_relax=t_relax))

    # CPUs: one Ω at a time (a vmapped adaptive solve costs ~30× more per step on a CPU, see
    # sweep.engine.default_vmap_width); accelerators: all at once.
    width = default_vmap_width(jax.devices())
    return jax.lax.map(one, Omega, batch_size=width) if width else jax.vmap(one)(Omega)
