"""The README's first command: `photosc demo` runs, prints |Δ| and writes a figure."""

import subprocess
import sys


def test_demo_runs_and_writes_a_plot(tmp_path):
    out = tmp_path / "demo.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "photosc_jax",
            "demo",
            "--t1",
            "2500",
            "--V",
            "5",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "|Delta(t1)|" in proc.stdout
    value = float(proc.stdout.split("|Delta(t1)| = ")[1].split()[0])
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
    from photosc_jax.sweep.models import get_model

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
