"""The two phonon target rules (`InterbandParams.phonon_targets`, docs/model-interband.md):
"linear" splits an emission whose target falls between grid points over the two
neighbours. Pinned here: it is exactly "nearest" when v/(A dk) is a whole number in both
bands, continuous in v where the jumps change, carries the exact mean phonon momentum, and
makes the model differentiable in v (the gradient check is in test_gradients.py; number
conservation, detailed balance and the exact Lindbladian with split jumps are in
test_interband_equations.py and test_exact_lindblad.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import SMALL

import photosc_jax as ps
from photosc_jax.interband import coefficients, effective_phonon_velocity, phonon_jumps, phonon_steps
from photosc_jax.interband.solver_state import rhs

_rhs = jax.jit(rhs)


def _random_packed(rng, m):
    """A random solver vector on the half grid (M points): populations, n21, u, λ."""
    n11, n22 = rng.uniform(0.05, 0.95, size=(2, m))
    a, b, ur, ui = 0.2 * rng.normal(size=(4, m))
    return jnp.asarray(np.concatenate([n11, n22, a, b, ur, ui, [-2.0]]))


def _rates(params, y):
    return np.asarray(_rhs(0.0, y, coefficients(params, half=True)))


# σ1 = 0.48 / (6 · 0.01) = 8 and σ2 = 0.48 / (24 · 0.01) = 2 steps: no split anywhere.
WHOLE = dict(SMALL, A1=6.0, A2=24.0, v=0.48, T=0.03, gamma_rr=0.01)


def test_linear_equals_nearest_at_whole_steps():
    near = ps.InterbandParams(**WHOLE)
    lin = ps.InterbandParams(**WHOLE, phonon_targets="linear")
    np.testing.assert_allclose(np.asarray(phonon_steps(near)), [8.0, 2.0], rtol=1e-12)
    rng = np.random.default_rng(0)
    m = (near.n_k + 1) // 2
    for _ in range(3):
        y = _random_packed(rng, m)
        np.testing.assert_allclose(_rates(lin, y), _rates(near, y), rtol=0, atol=1e-14)
    # ... and differs from it where σ is not whole (the check can fail): 1/4 step off
    off = dict(WHOLE, v=0.48 * (1 + 0.25 / 8))
    y = _random_packed(rng, m)
    gap = np.max(
        np.abs(
            _rates(ps.InterbandParams(**off, phonon_targets="linear"), y)
            - _rates(ps.InterbandParams(**off), y)
        )
    )
    assert gap > 1e-4


@pytest.mark.parametrize("side", [-1, 1])
def test_linear_rule_is_continuous_where_the_jumps_change(side):
    """At σ1 = 8 the pair of shifts changes from (7, 8) to (8, 9); the rates do not jump."""
    rng = np.random.default_rng(1)
    y = _random_packed(rng, (ps.InterbandParams(**WHOLE).n_k + 1) // 2)
    at = _rates(ps.InterbandParams(**WHOLE, phonon_targets="linear"), y)
    eps = 1e-9
    near = ps.InterbandParams(**dict(WHOLE, v=0.48 * (1 + side * eps)), phonon_targets="linear")
    assert np.asarray(phonon_jumps(near)[0])[0].tolist() == ([7, 8] if side < 0 else [8, 9])
    jump = np.max(np.abs(_rates(near, y) - at))
    assert jump < 100 * eps
    # the nearest rule does jump at its own switching point σ1 = 7.5
    v_half = 0.48 * 7.5 / 8
    lo, hi = (ps.InterbandParams(**dict(WHOLE, v=v_half * (1 + s * 1e-9))) for s in (-1, 1))
    assert np.max(np.abs(_rates(hi, y) - _rates(lo, y))) > 1e-4


def test_mean_phonon_momentum_is_exact_with_linear_targets():
    p = ps.InterbandParams(v=0.112)  # σ2 = 0.112 / 0.048 = 2.33: band 2 is rounded to 2 steps
    np.testing.assert_allclose(np.asarray(effective_phonon_velocity(p)), [0.112, 0.096], rtol=1e-12)
    lin = ps.InterbandParams(v=0.112, phonon_targets="linear")
    np.testing.assert_allclose(np.asarray(effective_phonon_velocity(lin)), [0.112, 0.112], rtol=1e-12)
    shifts, weights = (np.asarray(a) for a in phonon_jumps(lin))
    assert shifts.tolist() == [[8, 9], [2, 3]]
    np.testing.assert_allclose(weights[1], [2 / 3, 1 / 3], rtol=1e-12)


def test_nearest_rule_has_no_v_derivative_but_linear_has():
    """The staircase that the linear rule removes: ∂(rates)/∂v is exactly 0 with "nearest"
    (v enters only through round(v/(A dk))) and not 0 with "linear"."""
    y = _random_packed(np.random.default_rng(2), (ps.InterbandParams(**SMALL).n_k + 1) // 2)

    def rates(v, rule):
        p = ps.InterbandParams(**dict(SMALL, v=0.3456, T=0.02), phonon_targets=rule)
        return jnp.sum(rhs(0.0, y, coefficients(eqx.tree_at(lambda q: q.v, p, v), half=True)) ** 2)

    assert float(jax.grad(rates)(0.3456, "nearest")) == 0.0
    g = float(jax.grad(rates)(0.3456, "linear"))
    h = 1e-6
    ref = (float(rates(0.3456 + h, "linear")) - float(rates(0.3456 - h, "linear"))) / (2 * h)
    assert abs(g) > 1e-3 and g == pytest.approx(ref, rel=1e-6)


def test_phonon_targets_is_validated():
    with pytest.raises(ValueError, match="'nearest'.*'linear'"):
        ps.InterbandParams(phonon_targets="cubic")


def test_sweeps_take_the_target_rule_as_a_fixed_choice():
    """Sweeps record the rule with the other parameters (default included), the CLI reads
    `--phonon_targets linear`, it cannot be swept (it is static), and a store written before
    a parameter existed is refused on resume, not silently mixed."""
    from photosc_jax.cli import _read_arguments
    from photosc_jax.sweeps.models import get_model
    from photosc_jax.sweeps.spec import differences, make_spec

    m = get_model("interband", "continuation", "V")
    spec = make_spec(m, {"V": [2.0, 3.0]}, {}, {}, None)
    assert spec["parameters"]["phonon_targets"] == "nearest"
    lin = make_spec(m, {"V": [2.0, 3.0]}, {"phonon_targets": "linear"}, {}, None)
    assert lin["parameters"]["phonon_targets"] == "linear"
    assert any("phonon_targets" in d for d in differences(spec, lin))
    with pytest.raises(ValueError, match="cubic"):
        make_spec(m, {"V": [2.0]}, {"phonon_targets": "cubic"}, {}, None)
    with pytest.raises(ValueError, match="cannot be swept"):
        make_spec(m, {"V": [2.0], "phonon_targets": [0.0, 1.0]}, {}, {}, None)
    axes, fixed, options = {}, {}, {}
    _read_arguments(m, ["--phonon_targets", "linear", "--V", "2:3:2"], axes, fixed, options)
    assert fixed == {"phonon_targets": "linear"} and list(axes) == ["V"]
    old = {
        **spec,
        "parameters": {
            k: v for k, v in spec["parameters"].items() if k not in ("detuning", "phonon_targets")
        },
    }
    assert len(differences(old, spec)) == 2  # a pre-detuning store: both new parameters differ
