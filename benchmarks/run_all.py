"""Run every benchmark in `benchmarks/` and write `benchmarks/RESULTS.md`.

Usage: python benchmarks/run_all.py [--out benchmarks/RESULTS.md] [--only NAME,...]
       [--sweep-args "--n 6 --chunks 12,36 --devices 1,2"] [--grid-dk 4e-3,2e-3,1e-3]

Each benchmark script runs in its own process (`python benchmarks/<script>.py ARGS`); its
printed output goes into RESULTS.md verbatim, preceded by the machine (CPU model, cores, RAM,
JAX devices), the versions (python, jax, jaxlib, diffrax, equinox, numpy, scipy, …), the
date and a summary table of headline numbers parsed from the outputs (compile time, run time,
speed-up against the scipy baseline, points per second). Besides the scripts it measures how
one trajectory scales with the momentum-grid size N (`--grid-dk`; a built-in benchmark).

Scripts are discovered: every `*.py` here except this file and `scipy_baseline.py` (a
module), with default arguments from `ARGS` below (the sweep benchmark's small options finish
in a few minutes on 2 cores). A failing benchmark is reported in RESULTS.md and makes the exit
status 1; the others still run. Total ≈ 6 min on a 2-core laptop.

On a GPU: install `jax[cuda12]` and run the same command (benchmarks/README.md, "GPU").
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run_all.py", "scipy_baseline.py"}
ARGS = {"bench_sweep.py": "--n 6 --chunks 12,36 --devices 1,2"}
ORDER = ["bench_interband.py", "bench_steady_state.py", "bench_sweep.py", "metastability_phase_diagram.py"]
PACKAGES = [
    "photosc_jax",
    "jax",
    "jaxlib",
    "diffrax",
    "equinox",
    "optimistix",
    "lineax",
    "numpy",
    "scipy",
    "xarray",
    "zarr",
]
GRID = "grid_scaling"  # the built-in benchmark


# --- machine and versions ------------------------------------------------------------------


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> dict[str, str]:
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    devices = subprocess.run(
        [sys.executable, "-c", "import jax; print(jax.devices())"], capture_output=True, text=True
    ).stdout.strip()
    gpu = (
        subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
        )
        if _which("nvidia-smi")
        else None
    )
    return {
        "CPU": cpu.group(1).strip() if cpu else platform.processor() or platform.machine(),
        "cores (os.cpu_count)": str(os.cpu_count()),
        "RAM": f"{int(mem.group(1)) / 2**20:.1f} GiB" if mem else "?",
        "GPU": gpu.stdout.strip().replace("\n", "; ") if gpu and gpu.returncode == 0 else "none",
        "JAX devices": devices or "?",
        "OS": platform.platform(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _which(name):
    return any((Path(p) / name).exists() for p in os.environ.get("PATH", "").split(os.pathsep))


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    git = subprocess.run(
        ["git", "-C", str(HERE), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    out["git commit"] = git.stdout.strip() if git.returncode == 0 else "?"
    return out


# --- running ---------------------------------------------------------------------------------


def discover() -> list[str]:
    found = sorted(p.name for p in HERE.glob("*.py") if p.name not in NOT_BENCHMARKS)
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def run(cmd: list[str]) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    out = proc.stdout + (f"\n[stderr]\n{proc.stderr[-4000:]}" if proc.returncode and proc.stderr else "")
    shown = [
        "python" if c == sys.executable else os.path.relpath(c, HERE.parent) if c.startswith(str(HERE)) else c
        for c in cmd
    ]
    return dict(
        cmd=" ".join(shlex.quote(c) for c in shown),
        wall=time.perf_counter() - t,
        rc=proc.returncode,
        out=out.rstrip(),
    )


def grid_scaling_worker(dks: list[float]) -> None:
    """One trajectory (Fig. 3 parameters, t1 = 8000, rtol 1e-6, atol 1e-9) per grid step dk:
    compile time (first call minus second) and run time (best of 3)."""
    import jax

    import photosc_jax as ps
    from photosc_jax.interband import evolve

    print(
        f"trajectory cost vs momentum-grid size N (Omega = 0.25, V = 5, k_max = 0.2, t1 = 8000), "
        f"{jax.devices()[0].platform}"
    )
    print(f"{'dk':>8} {'N':>5} {'compile s':>9} {'run s':>8} {'steps':>6} {'us/step':>8} {'|Delta|(t1)':>12}")
    rows = []
    for dk in dks:
        p = ps.InterbandParams(Omega=0.25, V=5.0, dk=dk)
        t = time.perf_counter()
        r = evolve(p, 8000.0, saveat=9)
        jax.block_until_ready(r.delta)
        first = time.perf_counter() - t
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            r = evolve(p, 8000.0, saveat=9)
            jax.block_until_ready(r.delta)
            runs.append(time.perf_counter() - t)
        run_t, steps = min(runs), int(r.stats["num_steps"])
        rows.append(dict(dk=dk, N=p.n_k, compile=first - run_t, run=run_t, steps=steps))
        print(
            f"{dk:8.1e} {p.n_k:5d} {first - run_t:9.2f} {run_t:8.3f} {steps:6d} "
            f"{1e6 * run_t / steps:8.1f} {abs(complex(r.delta[-1])):12.6e}"
        )
    print("RESULT " + json.dumps(rows))


# --- parsing headline numbers ------------------------------------------------------------------


def _num(pattern, text, group=1):
    m = re.search(pattern, text, re.M)
    return float(m.group(group)) if m else None


def _fmt(x, spec):
    return "–" if x is None else format(x, spec)


def headlines(name: str, out: str) -> list[tuple[str, str, str, str, str]]:
    """(case, compile s, run s, vs scipy, points/s) rows parsed from a benchmark's output."""
    rows = []
    if name == "bench_interband.py":
        comp = _num(r"^compile time \[s\]\s+([\d.]+)", out)
        m = re.search(r"^run time \(JAX median, scipy best\) \[s\]\s+([\d.]+)\s+([\d.]+)", out, re.M)
        speed = _num(r"speed-up scipy / JAX[^:]*:\s*([\d.]+)x", out)
        n = _num(r"N = (\d+)", out)
        case = f"trajectory N = {n:.0f}, t1 = 8000: JAX Dopri8" if n else "trajectory: JAX Dopri8"
        if m:
            rows.append((case, _fmt(comp, ".2f"), m.group(1), _fmt(speed, ".1f") + "×", "–"))
            rows.append(("same: scipy RK45 baseline (numpy RHS)", "–", m.group(2), "1×", "–"))
        t5 = re.search(
            r"reference JAX Tsit5: ([\d.]+) s run, ([\d.]+) s compile, \d+ steps, "
            r"speed-up ([\d.]+)x",
            out,
        )
        if t5:
            rows.append(("same: JAX Tsit5", t5.group(2), t5.group(1), t5.group(3) + "×", "–"))
    elif name == "bench_sweep.py":
        grid = re.search(r"benchmark: (\d+)x\d+", out)
        npts = int(grid.group(1)) ** 2 if grid else None
        for m in re.finditer(
            r"^\s*(\d+)\s+(\d+)\s+(to t1|detect)\s+([\d.-]+)\s+([\d.]+)\s+([\d.]+)\s+"
            r"[\d.]+\s+([\d.]+)x",
            out,
            re.M,
        ):
            dev, chunk, mode, comp, run_t, pps, vs = m.groups()
            what = "every point to t1" if mode == "to t1" else "stop at steady state"
            rows.append(
                (
                    f"sweep {npts or '?'} pts, {dev} device(s), chunk {chunk}, {what}",
                    comp,
                    run_t,
                    vs + "×",
                    pps,
                )
            )
        sp = _num(r"scipy baseline \(RK45, to t1\): ([\d.]+) s per point", out)
        if sp:
            rows.append(("same: scipy RK45, per point to t1", "–", f"{sp:.2f}", "1×", f"{1 / sp:.2f}"))
    elif name == "metastability_phase_diagram.py":
        m = re.search(
            r"(\d+)x(\d+) phase diagram: first call \(compile \+ run\) ([\d.]+) s, "
            r"second call ([\d.]+) s",
            out,
        )
        if m:
            n, first, second = int(m.group(1)) * int(m.group(2)), float(m.group(3)), float(m.group(4))
            rows.append(
                (
                    f"metastability (ΔE, ν) map {m.group(1)}×{m.group(2)}, vmap",
                    f"{first - second:.2f}",
                    f"{second:.3f}",
                    "–",
                    f"{n / second:,.0f}",
                )
            )
    elif name == "bench_steady_state.py":
        for line in out.splitlines():
            if line.startswith("ROW|"):
                case, comp, run_t, vs, pps = line[4:].rsplit("|", 4)  # the case may hold |Δ|
                rows.append((case, comp, run_t, vs, pps))
    elif name == GRID:
        line = [s for s in out.splitlines() if s.startswith("RESULT ")]
        for r in json.loads(line[-1][7:]) if line else []:
            rows.append(
                (
                    f"trajectory N = {r['N']} (dk = {r['dk']:g}), t1 = 8000: JAX Dopri8",
                    f"{r['compile']:.2f}",
                    f"{r['run']:.3f}",
                    "–",
                    "–",
                )
            )
    return rows


# --- report -------------------------------------------------------------------------------------


def report(results: dict, mach: dict, vers: dict, started: str, total: float, argv: list[str]) -> str:
    cmd = "python benchmarks/run_all.py" + (" " + " ".join(shlex.quote(a) for a in argv) if argv else "")
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{cmd}` on {started} (UTC) in {total / 60:.1f} min. Timings are wall-clock on",
        "the machine below; other work running at the same time inflates them (see the load average).",
        "Regenerate with the same command; see `benchmarks/README.md` for what each benchmark measures.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in mach.items()],
        "",
        "## Versions",
        "",
        "| package | version |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in vers.items()],
        "",
        "## Summary",
        "",
        "Compile = first call minus a later call; run = a call after compilation; vs scipy = run-time",
        "speed-up against the numpy + `scipy.integrate.solve_ivp` (RK45) baseline of the same equations",
        "(for sweeps: per point, scipy extrapolated from a few points run to t1).",
        "",
        "| benchmark | case | compile [s] | run [s] | vs scipy | points/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rows = headlines(name, r["out"]) if r["rc"] == 0 else []
        if r["rc"] != 0:
            lines.append(f"| {name} | **FAILED** (exit {r['rc']}) | | | | |")
        for case, comp, run_t, vs, pps in rows:
            case = case.replace("|", "\\|")  # a literal | inside a markdown table cell
            lines.append(f"| {name} | {case} | {comp} | {run_t} | {vs} | {pps} |")
    lines += ["", "## Outputs", ""]
    for name, r in results.items():
        status = "ok" if r["rc"] == 0 else f"**failed, exit {r['rc']}**"
        lines += [
            f"### {name}",
            "",
            f"`{r['cmd']}` — {r['wall']:.0f} s, {status}",
            "",
            "```",
            r["out"],
            "```",
            "",
        ]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--only", default=None, help="comma-separated script names (or grid_scaling)")
    ap.add_argument(
        "--sweep-args",
        default=ARGS["bench_sweep.py"],
        help="arguments of bench_sweep.py (default: %(default)s)",
    )
    ap.add_argument("--grid-dk", default="4e-3,2e-3,1e-3", help="grid steps of the N-scaling run")
    ap.add_argument("--grid-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    dks = [float(x) for x in args.grid_dk.split(",")]
    if args.grid_worker:
        grid_scaling_worker(dks)
        return 0

    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    t0 = time.perf_counter()
    mach, vers = machine(), versions()
    names = discover() + [GRID]
    if args.only:
        wanted = {s.strip() for s in args.only.split(",")}
        names = [n for n in names if n in wanted or n.removesuffix(".py") in wanted]
    extra = {**ARGS, "bench_sweep.py": args.sweep_args}
    results = {}
    for name in names:
        if name == GRID:
            cmd = [sys.executable, __file__, "--grid-worker", "--grid-dk", args.grid_dk]
        else:
            cmd = [sys.executable, str(HERE / name), *shlex.split(extra.get(name, ""))]
        print(f"[run_all] {name} ...", flush=True)
        results[name] = r = run(cmd)
        print(f"[run_all] {name}: {r['wall']:.0f} s, exit {r['rc']}", flush=True)
    text = report(results, mach, vers, started, time.perf_counter() - t0, argv)
    Path(args.out).write_text(text + "\n")
    print(f"[run_all] wrote {args.out}")
    return 0 if all(r["rc"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
