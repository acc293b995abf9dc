"""The README's first command: `photosc demo` runs, prints |Δ| and writes a figure."""

import os
import subprocess
import sys

import pytest


def test_demo_runs_and_writes_a_plot(tmp_path):
    out = tmp_path / "demo.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "photosc_jax",
            "demo",
            "--t-max",
            "2500",
            "--V",
            "5",
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "|Delta(t_max)|" in proc.stdout
    value = float(proc.stdout.split("|Delta(t_max)| = ")[1].split()[0])
    assert 0.005 < value < 0.06  # paired by t = 2500 at Fig. 3 parameters
    assert out.exists() and out.stat().st_size > 10_000


def test_help_is_readable():
    proc = subprocess.run(
        [sys.executable, "-m", "photosc_jax", "demo", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "Rabi frequency" in proc.stdout


def test_sweep_options_take_both_spellings():
    """`--name value` and `--name=value` read the same (a value starting with "-" included),
    a parameter with one value is fixed, a range is an axis, and an odd word count says how
    options are given."""
    import numpy as np
    import pytest

    from photosc_jax.cli import _read_arguments
    from photosc_jax.sweeps.models import get_model

    m = get_model("interband", "continuation", "V")
    spaced, joined = ({}, {}, {}), ({}, {}, {})
    _read_arguments(m, ["--detuning", "-0.1:0.3:5", "--Omega", "0.05", "--max-jump", "0.25"], *spaced)
    _read_arguments(m, ["--detuning=-0.1:0.3:5", "--Omega=0.05", "--max-jump=0.25"], *joined)
    (axes, fixed, options), (axes2, fixed2, options2) = spaced, joined
    assert list(axes) == list(axes2) == ["detuning"]
    assert np.allclose(axes["detuning"], np.linspace(-0.1, 0.3, 5))
    assert np.array_equal(axes["detuning"], axes2["detuning"])
    assert fixed == fixed2 == {"Omega": 0.05}
    assert options == options2 == {"max_jump": 0.25}
    with pytest.raises(ValueError, match="come in pairs"):
        _read_arguments(m, ["--Omega"], {}, {}, {})


# --------------------------------------------------------------------------------------
# What a newcomer meets: one-line errors, full summaries, readable outputs, Ctrl-C.


def test_bad_demo_input_is_one_line():
    from helpers import invoke

    run = invoke("demo", "--gamma-ph", "-0.01", "--no-progress")
    lines = run.stderr.strip().splitlines()
    assert run.exit_code == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: InterbandParams.gamma_ph = -0.01"), run.stderr
    run = invoke("demo", "--t-max", "0", "--no-progress")
    assert run.exit_code == 2 and run.stderr.strip() == (
        "Error: --t-max = 0: the final time must be positive [ħ/E_g]."
    )


def test_help_lists_every_command_with_its_whole_summary():
    from helpers import invoke

    from photosc_jax.cli import app

    text = " ".join(invoke("--help").stdout.split())  # rewrapped to one line
    for command in app.registered_commands:
        summary = " ".join(command.short_help.split())
        assert summary in text, (summary, text)
    assert "Fig. 3 parameters; print |Δ| and μ" in text


def test_every_option_that_holds_a_quantity_has_units():
    """Options of float type (and paths, which say what they are) state their units in
    brackets."""
    import typer

    from photosc_jax.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        for param in command.params:
            if getattr(param, "type", None) is not None and param.type.name == "float":
                assert "[" in (param.help or ""), (name, param.name, param.help)


def test_sweep_and_info_print_readable_counts(tmp_path):
    """No Python dicts: the outcome of every point is counted by name, for each flag
    variable; info prints a table of the outputs with their units; diagnostics only with
    --verbose."""
    from helpers import invoke

    store = tmp_path / "m.zarr"
    args = (
        "sweep",
        "metastability",
        "--DeltaE",
        "0.5:2:4",
        "--nu",
        "1:3:5",
        "--out",
        str(store),
        "--no-progress",
    )
    run = invoke(*args)
    assert run.exit_code == 0, run.stderr
    assert "{" not in run.stdout and "status:         ok 20" in run.stdout, run.stdout
    assert "regime:" in run.stdout and "vmap" not in run.stdout and "devices:" not in run.stdout
    run = invoke(*args, "--verbose")
    assert run.exit_code == 0 and "devices: " in run.stdout and "workers: " in run.stdout, run.stdout
    info = invoke("info", str(store))
    assert info.exit_code == 0, info.stderr
    lines = info.stdout.splitlines()
    assert "{" not in info.stdout
    assert any(ln.startswith("axes") and "DeltaE" in ln and "4 values" in ln for ln in lines), lines
    assert "status:         ok 20" in lines
    regime = next(ln for ln in lines if ln.startswith("regime:"))
    counts = [int(w.rstrip(",")) for w in regime.split() if w.rstrip(",").isdigit()]
    assert sum(counts) == 20, regime
    header = next(i for i, ln in enumerate(lines) if ln.startswith("output"))
    assert lines[header].split()[:4] == ["output", "min", "max", "units"]
    q_b = next(ln for ln in lines[header:] if ln.startswith("Q_B"))
    assert "l0" in q_b and "barrier position" in q_b


def test_sweep_notes_are_the_sweeps_own_not_a_librarys_unclosed_resources(tmp_path, monkeypatch):
    """`photosc sweep` prints the sweep's warnings as `Note: ...` lines, but not a
    ResourceWarning that a garbage-collected library object (an unclosed aiohttp session
    of s3fs) happens to raise meanwhile: Python hides those by default."""
    import warnings

    from helpers import invoke

    import photosc_jax.sweeps

    sweep = photosc_jax.sweeps.sweep

    def noisy(*args, **kwargs):
        warnings.warn("Unclosed client session", ResourceWarning, stacklevel=1)
        warnings.warn("a note on the sweep", stacklevel=1)
        return sweep(*args, **kwargs)

    monkeypatch.setattr(photosc_jax.sweeps, "sweep", noisy)
    run = invoke("sweep", "metastability", "--DeltaE", "0.5:2:2", "--nu", "1:3:2", "--no-progress")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == "Note: a note on the sweep\n"


def test_info_and_plot_refuse_a_non_store_in_one_line(tmp_path):
    from helpers import invoke

    for command in (("info", str(tmp_path / "nothing.zarr")), ("plot", str(tmp_path))):
        run = invoke(*command)
        assert run.exit_code == 2 and run.stderr.count("\n") == 1 and run.stderr.startswith("Error: ")


def test_default_chunks_give_every_worker_work():
    """A 12 x 12 continuation map is one default chunk (256 points); with two worker
    processes it is split into four chunks of three whole rows (two per worker), and a
    map with enough chunks, or one worker, keeps them."""
    from photosc_jax.sweeps.engine import _spread
    from photosc_jax.sweeps.models import get_model
    from photosc_jax.sweeps.spec import chunk_slices, make_spec, n_chunks

    m = get_model("interband", "continuation", "V")
    spec = make_spec(m, {"Omega": [0.1 + 0.01 * i for i in range(12)], "V": list(range(12))}, {}, {}, None)
    assert n_chunks(spec) == 1 and _spread(spec, 1) == spec
    two = _spread(spec, 2)
    assert n_chunks(two) == 4 and two["chunks"] == [3, 12]
    assert [chunk_slices(two, c)[0] for c in range(4)] == [slice(3 * i, 3 * i + 3) for i in range(4)]
    big = make_spec(m, {"Omega": [0.1 + 0.01 * i for i in range(64)], "V": list(range(64))}, {}, {}, None)
    assert _spread(big, 2) == big and n_chunks(big) == 16


def test_auto_workers_start_only_where_each_gets_eight_rows():
    """A worker process's start costs about as much as 8 rows on the paper grid, so "auto"
    (one per core) starts no more workers than leave each 8 rows: the README's 4 x 4 demo
    map runs in one process; a 64-row map uses every core; an explicit number is kept."""
    import jax
    from helpers import invoke

    from photosc_jax.sweeps.engine import _n_workers
    from photosc_jax.sweeps.models import get_model
    from photosc_jax.sweeps.workers import cores

    m = get_model("interband", "continuation", "V")
    cpus = [jax.devices("cpu")[0]] * 16  # (the rule reads the count and the platform)
    count = len(cores())
    assert [_n_workers("auto", m, cpus, 1, None, rows) for rows in (4, 12, 16, 64)] == [
        1,
        1,
        min(2, count),
        min(8, count),
    ]
    assert _n_workers(2, m, cpus, 1, None, 4) == min(2, count)
    run = invoke("sweep", "interband", "--V", "1,2", "--workers", "0", "--no-progress")
    assert run.exit_code == 2 and run.stderr == "Error: --workers '0': use a whole number >= 1 or auto.\n"


def test_a_stop_during_the_last_chunk_still_counts_as_interrupted():
    from photosc_jax.sweeps import sweep

    calls = []
    ds = sweep(
        "metastability",
        {"DeltaE": "0.5:2:4", "nu": "1:3:5"},
        progress=False,
        stop=lambda: bool(calls.append(1)) or len(calls) > 1,  # False before the chunk, True after
    )
    assert ds.attrs["chunks_computed"] == 1 and ds.attrs["interrupted"] == 1


def _start_one_chunk_map(store):
    """`photosc sweep` of a one-chunk map in a subprocess, returned once its chunk is in
    progress: the store exists (the chunk loop starts right after creating it) and half a
    second has passed (compiling and computing the chunk take seconds)."""
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "photosc_jax", *_ONE_CHUNK, "--out", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not (store / ".zmetadata").exists():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    return proc


# one chunk of 25 600 points on a fine bracketing grid: several seconds of compute
_GRID = {"DeltaE": "0.2:3:160", "nu": "0.2:4:160"}
_ONE_CHUNK = ["sweep", "metastability", *[w for k, v in _GRID.items() for w in (f"--{k}", v)]]
_ONE_CHUNK += ["--n_grid", "8192", "--chunk-size", "25600"]


def _resumes(store):
    """Rerunning the command completes the store, equal to an uninterrupted sweep."""
    import numpy as np

    from photosc_jax.sweeps import open_sweep, sweep

    done = subprocess.run(
        [sys.executable, "-m", "photosc_jax", *_ONE_CHUNK, "--out", str(store), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    ref = sweep("metastability", _GRID, fixed={"n_grid": 8192}, progress=False)
    ds = open_sweep(store)
    for name in ref.data_vars:
        np.testing.assert_array_equal(ds[name].values, ref[name].values, err_msg=name)


def test_ctrl_c_finishes_the_only_chunk_exits_130_and_the_map_resumes(tmp_path):
    import signal

    proc = _start_one_chunk_map(tmp_path / "s.zarr")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, (out, err)
    assert "stopping after the chunk in progress" in err, err
    assert "Interrupted: 1/1 chunks done." in err, err  # the chunk in progress was finished
    _resumes(tmp_path / "s.zarr")


def test_a_second_ctrl_c_stops_at_once_and_the_map_resumes(tmp_path):
    import signal
    import time

    proc = _start_one_chunk_map(tmp_path / "s.zarr")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 130 and time.monotonic() - t0 < 3.0, (out, err)
    assert err.rstrip().endswith("Stopped."), err
    _resumes(tmp_path / "s.zarr")


def test_ci_runs_the_readme_test_command_in_a_fresh_virtualenv():
    """`.ci/run` runs the README's test command word for word, inside a virtualenv it has
    just created (a package left over on the CI machine cannot hide a missing dependency)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text().splitlines()
    command = readme[next(i for i, ln in enumerate(readme) if ln.startswith("# 2. run the tests")) + 1]
    ci = (root / ".ci" / "run").read_text().splitlines()
    at = ci.index(command)
    assert any("python -m venv" in ln for ln in ci[:at]) and any("activate" in ln for ln in ci[:at])


def test_the_command_uses_every_cpu_core_as_a_device():
    """`photosc` sets XLA_FLAGS to one device per core before JAX starts a backend; that only
    works if importing the package and the CLI builds no array (a default method object
    built at import did, and the 64 x 64 map ran in one process instead of one per core)."""
    code = (
        "import jax._src.xla_bridge as xb, photosc_jax, photosc_jax.cli; "
        "assert not xb._backends, 'importing photosc_jax started a JAX backend'; "
        "photosc_jax.cli._use_all_cpu_cores(); import jax, os; "
        "assert len(jax.devices()) == (os.cpu_count() or 1), jax.devices()"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    deps = (  # some dependency versions build arrays at import themselves (optimistix 0.0.11
        # under jax 0.8): then no package on top of them can keep JAX from starting
        "import jax._src.xla_bridge as xb, equinox, diffrax, optimistix, lineax, xarray, zarr; "
        "print(bool(xb._backends))"
    )
    started = subprocess.run([sys.executable, "-c", deps], capture_output=True, text=True, env=env)
    if started.stdout.strip() == "True":
        pytest.skip("a dependency starts a JAX backend when imported (old versions)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_bug_in_a_command_exits_1_with_its_traceback():
    """An unexpected exception in a command (not bad input: that is one line and status 2)
    prints its traceback and ends the command with status 1, not 0."""
    code = (
        "import sys, photosc_jax.cli as cli\n"
        "@cli.app.command('boom')\n"
        "def boom():\n"
        "    raise RuntimeError('a bug')\n"
        "sys.argv = ['photosc', 'boom']\n"
        "cli.main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "RuntimeError: a bug"


@pytest.mark.parametrize(
    ("code", "status", "err"), [("None", 0, ""), ("3", 3, ""), ("'Error: no store'", 1, "Error: no store\n")]
)
def test_exit_now_flushes_runs_atexit_and_keeps_the_status(code, status, err):
    """`_process.exit_now` (the end of `photosc` and of its workers): buffered output and the
    atexit handlers come out before the process ends, with the status `sys.exit` gives."""
    import photosc_jax._process

    # the module alone, by its path: the package's imports (old dependencies' warnings at
    # import, under the minimum versions) would write to stderr too
    script = (
        "import atexit, importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('process', {photosc_jax._process.__file__!r})\n"
        "process = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(process)\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print('buffered', end=' ')\n"
        f"process.exit_now({code})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (status, "buffered atexit ran\n", err)
