"""The public surface: one screen of names, where the model-II modules live, `ps.fit` /
`ps.sweep` as functions, the version."""

import importlib.metadata
import importlib.util
import types

import photosc_jax as ps


def test_model_ii_modules_live_in_longlived():
    """Each model-II module has one import path, `photosc_jax.longlived.<module>`; the top-level
    `MetastabilityParams` and `analyze` are the objects of `longlived.metastability`."""
    for name in ("attraction", "bcs", "langevin", "lifetimes", "materials", "metastability"):
        assert importlib.util.find_spec(f"photosc_jax.longlived.{name}") is not None
        assert importlib.util.find_spec(f"photosc_jax.{name}") is None, f"photosc_jax/{name}.py is back"
    from photosc_jax.longlived.metastability import MetastabilityParams, analyze

    assert MetastabilityParams is ps.MetastabilityParams and analyze is ps.analyze


def test_the_public_api_fits_one_screen():
    """`import photosc_jax as ps` shows the models' params and entry points, the method
    objects, `sweep`, `open_sweep`, `fit`, `plot`, `units` and the two model packages (and
    the modules `fitting` / `sweeps` that hold fit and sweep): no aliases, no more."""
    import subprocess
    import sys

    code = "import photosc_jax as ps; print(' '.join(n for n in dir(ps) if n[0] != '_'))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    public = set(run.stdout.split())  # a fresh process: no submodule another test imported
    assert public == {
        *("interband", "longlived", "plot", "units", "fitting", "sweeps"),
        *("InterbandParams", "evolve", "steady_state", "Evolve", "Newton"),
        *("MetastabilityParams", "analyze", "k3c60"),
        *("sweep", "open_sweep", "fit"),
    }
    assert len(public) <= 25


def test_fit_and_sweep_are_functions():
    from photosc_jax.fitting import FitResult, fit
    from photosc_jax.sweeps import open_sweep, sweep

    r = ps.fit(lambda d: d["x"] ** 2 - 2.0, {"x": 1.0}, ["x"], progress=False)
    assert isinstance(r, FitResult) and abs(float(r.values["x"]) - 2.0**0.5) < 1e-8 and r.success
    assert ps.fit is fit and ps.sweep is sweep and ps.open_sweep is open_sweep
    assert isinstance(fit, types.FunctionType) and isinstance(sweep, types.FunctionType)


def test_version_is_the_installed_metadata():
    assert ps.__version__ == importlib.metadata.version("photosc_jax")


def test_importing_the_package_or_a_sweep_worker_leaves_xarray_and_matplotlib_out():
    """`import photosc_jax`, and a sweep worker process's own imports, load neither xarray
    (with pandas) nor matplotlib: every worker and every process that only computes would
    pay for them at its start (benchmarks/RESULTS.md, "Faster start and end of a mapped
    sweep"); `open_sweep` and `plot` load them when used."""
    import subprocess
    import sys

    code = (
        "import sys, photosc_jax, photosc_jax.sweeps.workers; "
        "heavy = ('xarray', 'pandas', 'matplotlib'); print([m for m in heavy if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
