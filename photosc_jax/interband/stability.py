"""Linear stability of the normal (Δ = 0) steady state: the pairing instability and the
phase boundary V_c(Ω), Ω_c(V) without time stepping.

The normal state (`normal_state`) and the spectrum of its pairing fluctuations
(`pairing_spectrum`: ds/dt = L s, L diagonal plus rank one in V) give the leading growth
rate g = max Re eig L; the normal state is unstable toward pairing iff g > 0, and the
threshold V_c(Ω) (or Ω_c(V)) is where g crosses zero. The normal state does not depend on
V (V only multiplies s), so V_c needs one normal-state solve.

Units: E_g = ħ = 1 (rates in E_g/ħ).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import as_float, float_leaves
from .._devices import default_vmap_width
from .._numerics import bracketed_root, real_times
from .._roots import batch_cond, newton_chord
from .equations import Coefficients, coefficients
from .normal_state import NormalState, _floats, normal_steady_state
from .pairing_spectrum import _leading, _leading_secular, _pairing_parts
from .params import InterbandParams

DEFAULT_V_BRACKET = (0.0, 40.0)
DEFAULT_OMEGA_BRACKET = (1e-3, 1.0)


class Stability(eqx.Module):
    """Leading pairing mode of the normal state: `growth_rate` = max Re eig(L) (E_g/ħ; > 0 ⇔
    unstable toward pairing), `frequency` = Im of that eigenvalue (s ∝ e^{λt}, so Δ rotates at
    −frequency at onset), `normal`: the `NormalState` (check `normal.success`: the growth
    rate of a failed normal state means nothing). Rates in E_g/ħ."""

    growth_rate: Float[Array, "*b"]
    frequency: Float[Array, "*b"]
    normal: NormalState


def _secular(x, args):
    """The threshold as a root: λ = iω is an eigenvalue of L at pairing coefficient
    c = σ V dk/2π iff 1 = i c Σ_k w_k ñ_k / (iω − d_k) (L = diag(d) + i c ñ wᵀ is diagonal plus
    rank one; the poles d_k = i(A1 + A2)k² − γ_k lie off the imaginary axis). Real and
    imaginary parts of that equation in the unknowns x = (V, ω); args = (d, ñ, w, σ dk/2π)."""
    V, omega = x[0], x[1]
    d, n_tilde, w, scale = args
    s = jnp.sum(real_times(w * n_tilde, 1.0 / jax.lax.complex(-d.real, omega - d.imag)))  # Σ wñ/(iω − d)
    coupling = V * scale
    return jnp.stack([-coupling * s.imag - 1.0, coupling * s.real])  # i c s − 1


def threshold_V(
    normal: NormalState, c0: Coefficients, dk, lo, hi, valid, *, sign=1.0, near=None, near_lead=None
) -> Float[Array, ""]:
    """The pairing threshold |V_c| in a bracket lo < hi (magnitudes; V = `sign`·|V|) where
    the growth rate changes sign, g(lo) < 0 < g(hi): Newton on the secular equation
    (`_secular`: λ = iω at V_c), started from the linear interpolation of V and of the
    leading frequency between the ends of `near` (a narrower sub-bracket, default the
    bracket itself), with implicit differentiation (d V_c/dθ). The root is accepted if it
    lies in `near` and the leading growth rate there is zero to 1e-9 (no other mode is
    unstable at V_c); otherwise — e.g. the leading mode changes inside — bisection on g in
    [lo, hi] (tolerance 1e-9). NaN where `valid` is False. `near_lead` = (g, ω, g, ω): the
    leading mode at the two ends of `near` if already known (a phase-map row has them)."""
    scale = sign * dk / (2 * jnp.pi)

    def lead(V):
        return _leading_secular(normal, eqx.tree_at(lambda c: c.pair, c0, V * scale))

    a, b = (lo, hi) if near is None else near
    if near_lead is None:
        (g_a, f_a), (g_b, f_b) = lead(a), lead(b)
    else:
        g_a, f_a, g_b, f_b = near_lead
    t = jnp.clip(g_a / jnp.where(g_a != g_b, g_a - g_b, 1.0), 0.0, 1.0)
    x0 = jax.lax.stop_gradient(jnp.stack([a + t * (b - a), f_a + t * (f_b - f_a)]))
    args = (*_pairing_parts(normal, c0), c0.weights, scale)
    sol = newton_chord(_secular, x0, args, rtol=1e-13, atol=1e-13, max_steps=40, chord=False)
    root = sol.value[0]
    root_sg = jax.lax.stop_gradient(root)
    ok = sol.success & (root_sg >= a) & (root_sg <= b) & (g_a < 0) & (g_b > 0) & valid
    ok = ok & (jnp.abs(lead(jnp.where(ok, root_sg, a))[0]) < 1e-9)
    growth = lambda V: lead(V)[0]  # noqa: E731
    return batch_cond(~ok, lambda: _bisect(growth, lo, hi, valid), lambda: jnp.where(valid, root, jnp.nan))


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


@eqx.filter_jit
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
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
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
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

    def bisect(ends):
        a, b = jax.lax.fori_loop(0, 36, body, ends)
        return jnp.exp(0.5 * (a + b))

    # No bisection (36 normal-state solves) when the bracket is invalid.
    return jax.lax.cond(valid, bisect, lambda _: jnp.nan, (lo, hi))


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
@eqx.debug.assert_max_traces(max_traces=None)  # tests count the traces: eqx.debug.get_num_traces
def _phase_boundary(params, Omega, bracket, t_relax):
    def one(Om):
        return _critical_V(eqx.tree_at(lambda p: p.Omega, params, Om), bracket, dict(t_relax=t_relax))

    # CPUs: one Ω at a time (a vmapped adaptive solve costs many times more per step on a
    # CPU, `_devices.default_vmap_width`); accelerators: all at once.
    width = default_vmap_width(jax.devices())
    return jax.lax.map(one, Omega, batch_size=width) if width else jax.vmap(one)(Omega)
