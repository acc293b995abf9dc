"""The public surface: old import paths, callable `ps.fit` / `ps.sweep`, the version."""

import importlib.metadata

import photosc_jax as ps


def test_old_model_ii_paths_are_the_new_modules():
    import photosc_jax.attraction
    import photosc_jax.bcs
    import photosc_jax.lifetimes
    import photosc_jax.materials
    import photosc_jax.metastability
    from photosc_jax.metastability import MetastabilityParams, analyze

    assert photosc_jax.bcs is ps.longlived.bcs is ps.bcs
    assert photosc_jax.metastability is ps.longlived.metastability
    assert photosc_jax.materials is ps.longlived.materials
    assert photosc_jax.lifetimes is ps.longlived.lifetimes
    assert photosc_jax.attraction is ps.longlived.attraction
    assert MetastabilityParams is ps.MetastabilityParams and analyze is ps.analyze


def test_old_langevin_path_has_the_sde_and_the_trapping_analysis():
    from photosc_jax.langevin import LangevinParams, simulate, spinodal_force, trapping_threshold

    assert simulate is ps.longlived.langevin.simulate
    assert LangevinParams is ps.longlived.langevin.LangevinParams
    assert spinodal_force is ps.longlived.trapping.spinodal_force
    assert trapping_threshold is ps.longlived.trapping.trapping_threshold


def test_trapped_state_names_are_still_in_bcs_and_lifetimes():
    """The quasi-particle-trapping functions moved to `longlived.quasiparticle_trapping`;
    their old homes `bcs` and `lifetimes` (and the flat `photosc_jax.bcs`) still give them,
    the same objects, and an unknown name is still an AttributeError."""
    import pytest

    from photosc_jax.bcs import trapped_gap as flat
    from photosc_jax.longlived import bcs, lifetimes
    from photosc_jax.longlived import quasiparticle_trapping as qpt

    for name in ("TrappedGap", "TrappedBranches", "trapped_gap", "trapped_gap_branches"):
        assert getattr(bcs, name) is getattr(qpt, name)
    for name in ("trapped_tau_g", "QuenchRelease", "quench_and_release"):
        assert getattr(lifetimes, name) is getattr(qpt, name)
    assert flat is qpt.trapped_gap is ps.quasiparticle_trapping.trapped_gap
    with pytest.raises(AttributeError, match="no attribute 'trapped_gapp'"):
        bcs.trapped_gapp  # noqa: B018


def test_fit_and_sweep_are_callable_modules():
    from photosc_jax.fit import FitResult, fit
    from photosc_jax.sweep import open_sweep, sweep

    r = ps.fit(lambda d: d["x"] ** 2 - 2.0, {"x": 1.0}, ["x"], progress=False)
    assert isinstance(r, FitResult) and abs(float(r.values["x"]) - 2.0**0.5) < 1e-8
    assert ps.fit.fit is fit
    assert callable(ps.sweep) and ps.sweep.sweep is sweep and ps.open_sweep is open_sweep


def test_version_is_the_installed_metadata():
    assert ps.__version__ == importlib.metadata.version("photosc_jax")
