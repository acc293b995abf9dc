"""The public surface: where the model-II modules live, callable `ps.fit` / `ps.sweep`, the version."""

import importlib.metadata
import importlib.util

import photosc_jax as ps


def test_model_ii_modules_live_in_longlived():
    """Each model-II module has one import path, `photosc_jax.longlived.<module>`; the top-level
    `MetastabilityParams` and `analyze` are the objects of `longlived.metastability`."""
    for name in ("attraction", "bcs", "langevin", "lifetimes", "materials", "metastability"):
        assert importlib.util.find_spec(f"photosc_jax.longlived.{name}") is not None
        assert importlib.util.find_spec(f"photosc_jax.{name}") is None, f"photosc_jax/{name}.py is back"
    from photosc_jax.longlived.metastability import MetastabilityParams, analyze

    assert MetastabilityParams is ps.MetastabilityParams and analyze is ps.analyze


def test_fit_and_sweep_are_callable_modules():
    from photosc_jax.fit import FitResult, fit
    from photosc_jax.sweep import open_sweep, sweep

    r = ps.fit(lambda d: d["x"] ** 2 - 2.0, {"x": 1.0}, ["x"], progress=False)
    assert isinstance(r, FitResult) and abs(float(r.values["x"]) - 2.0**0.5) < 1e-8
    assert ps.fit.fit is fit
    assert callable(ps.sweep) and ps.sweep.sweep is sweep and ps.open_sweep is open_sweep


def test_version_is_the_installed_metadata():
    assert ps.__version__ == importlib.metadata.version("photosc_jax")
