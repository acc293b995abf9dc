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
