"""GPU check of the phase maps: one command, at most about 8 minutes on one H100.

Usage: python benchmarks/gpu_check.py [--out gpu_check.json] [--budget 480] [--skip-256]
       python benchmarks/gpu_check.py --smoke   (the same steps on a tiny grid, on a CPU)

On a machine lent through the `device` tool, whose image has JAX but not zarr: run
`bash benchmarks/gpu_wheels.sh` here first, then the command of docs/sweeps.md ("The GPU
check on a lent machine"), which installs those wheels there and runs this script.

On the machine's accelerators (the accelerator plan, `sweep(..., plan="accelerator")`), in
this order:

1. devices, memory and library versions (`jax.print_environment_info`);
2. the 16 × 16 Fig. 2 map (paper grid N = 201, T = 0, Ω ∈ [0.01, 0.5], V ∈ [0, 8]) against
   the CPU result stored beside this script (`gpu_check_reference.json`, made by
   `--make-reference` on a CPU): phases equal, |Δ|, growth rates and thresholds to 1e-8;
3. the 64 × 64 map timed twice (the first call compiles, the second reuses the program:
   compile = first − second), then the 256 × 256 map (skipped with a note if the 64 × 64
   times predict it would overrun `--budget` seconds: the rows of one call run side by
   side, so 4× the grid steps per row cost about 4× the warm 64 × 64 time);
4. the paired-branch stability check's eigenvalue problem (the 604 × 604 reduced Jacobian
   at Fig. 3, Ω = 0.25, V = 5), 64 copies vmapped, timed with each `jax.lax.linalg.eig`
   implementation the machine has (JAX's default, cuSOLVER, MAGMA, LAPACK; warm, compile
   excluded): the row program's largest dense kernel (`interband.Continuation.eig`);
5. lockstep efficiency of the 64 rows vmapped in one batch (`bench_lockstep.efficiencies`
   on the rows' `PhaseRow.work`);
6. peak device memory (`memory_stats()["peak_bytes_in_use"]`, after every step).

Writes one JSON (`--out`), after every step, so a run cut short keeps the steps it did; a
step that fails records its error's first line and the others still run. Prints a table at
the end. The numbers go to benchmarks/RESULTS.md with the date, the card and this command.
No GPU in CI: this script is run by hand where one is lent (`device` tool).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "gpu_check_reference.json"
COMPARED = ("delta_abs", "growth_rate", "threshold", "branch_end")


SMOKE = dict(k_max=0.2, dk=0.01, v=0.3)  # N = 41: the code paths, not the physics


def fig2(n: int, plan: str, smoke: bool = False, **kw):
    from photosc_jax.sweeps import sweep

    axes = {"Omega": np.linspace(0.01 if not smoke else 0.1, 0.5, n), "V": np.linspace(0.0, 8.0, n)}
    if smoke:  # one row per device per call: vmapped LAPACK can deadlock a small CPU
        kw = dict(kw, fixed=SMOKE, batch=1) if plan == "accelerator" else dict(kw, fixed=SMOKE, workers=1)
    t = time.perf_counter()
    ds = sweep("interband", axes, plan=plan, progress=False, **kw)
    return ds, time.perf_counter() - t


def summary(ds) -> dict:
    out = {k: np.asarray(ds[k].values).tolist() for k in COMPARED}
    out["phase"] = np.asarray(ds["phase"].values).tolist()
    return out


def compare(got: dict, ref: dict) -> dict:
    res = {"phases_equal": got["phase"] == ref["phase"]}
    for k in COMPARED:
        a, b = np.asarray(got[k], float), np.asarray(ref[k], float)
        same_nan = bool(np.array_equal(np.isnan(a), np.isnan(b)))
        both = np.isfinite(a) & np.isfinite(b)
        res[k] = {
            "nan_pattern_equal": same_nan,
            "max_abs_diff": float(np.max(np.abs(a - b)[both], initial=0.0)),
        }
    res["ok"] = res["phases_equal"] and all(
        res[k]["nan_pattern_equal"] and res[k]["max_abs_diff"] <= 1e-8 for k in COMPARED
    )
    return res


def eig_times(smoke: bool, batch: int = 64) -> dict[str, str]:
    """Seconds per reduced-Jacobian eigenvalue problem (item 5 of the module docstring) for
    each `EigImplementation` and JAX's default (None), `batch` copies vmapped in one call;
    an implementation this machine lacks is reported by its error's first line."""
    from jax.lax.linalg import EigImplementation

    from photosc_jax.interband import InterbandParams, Newton, steady_state
    from photosc_jax.interband.corotating import unknowns_of
    from photosc_jax.interband.paired_stability import reduced_jacobian

    params = InterbandParams(**(SMOKE if smoke else {}))
    ss = steady_state(params, Newton())
    k = reduced_jacobian(params, unknowns_of(ss))
    stack = jax.numpy.broadcast_to(k, (batch,) + k.shape)
    out = {"size": str(k.shape[0]), "batch": str(batch)}
    for impl in (None, *EigImplementation):
        name = "default" if impl is None else impl.value
        run = jax.jit(
            jax.vmap(
                lambda m, impl=impl: jax.lax.linalg.eig(
                    m, compute_left_eigenvectors=False, compute_right_eigenvectors=False, implementation=impl
                )[0]
            )
        )
        try:
            jax.block_until_ready(run(stack))
            t = time.perf_counter()
            jax.block_until_ready(run(stack))
            out[name] = f"{(time.perf_counter() - t) / batch * 1e3:.2f} ms per matrix"
        except Exception as e:  # noqa: BLE001 - an implementation this platform lacks
            out[name] = "unavailable: " + (str(e).splitlines() or [type(e).__name__])[0][:120]
    return out


def peak_memory() -> int | None:
    try:
        return int(jax.devices()[0].memory_stats()["peak_bytes_in_use"])
    except Exception:  # noqa: BLE001 - CPUs report none
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gpu_check.json")
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for the whole check")
    ap.add_argument("--skip-256", action="store_true")
    ap.add_argument("--make-reference", action="store_true", help="write the 16 x 16 CPU reference")
    ap.add_argument("--smoke", action="store_true", help="tiny grid on a CPU: checks the script runs")
    a = ap.parse_args()
    t_start = time.perf_counter()
    if a.make_reference:
        ds, wall = fig2(16, "cpu")
        REFERENCE.write_text(json.dumps({"made": time.strftime("%Y-%m-%d"), "wall_s": wall, **summary(ds)}))
        print(f"wrote {REFERENCE} ({wall:.1f} s)")
        return
    out = Path(a.out)
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv), "stage_s": {}}

    def stage(name: str, run):
        """One step of the check: its result, or its error's first line, goes into the
        report, which is written after every step (a run cut short keeps what it did)."""
        t = time.perf_counter()
        try:
            report[name] = run()
        except Exception as e:  # noqa: BLE001 - a failed step must not cost the others
            traceback.print_exc()
            report[name] = {"error": f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}"}
        report["stage_s"][name] = time.perf_counter() - t
        report["peak_memory_bytes"] = peak_memory()
        out.write_text(json.dumps(report, indent=1, default=str))
        return report[name]

    def environment():
        text = jax.print_environment_info(return_string=True)
        print(text, flush=True)
        return {"info": text, "devices": [str(d) for d in jax.devices()]}

    s = a.smoke
    n16, n64 = (4, 6) if s else (16, 64)

    def map16():
        ds16, wall16 = fig2(n16, "accelerator", s)
        ref = summary(fig2(n16, "cpu", s)[0]) if s else json.loads(REFERENCE.read_text())
        return {"wall_s": wall16, **compare(summary(ds16), ref)}

    def map64():
        ds64, cold = fig2(n64, "accelerator", s)
        _, warm = fig2(n64, "accelerator", s)
        return {
            "wall_cold_s": cold,
            "wall_warm_s": warm,
            "compile_s": cold - warm,
            "batch": int(ds64.attrs["vmap_width"]),
            "calls": int(ds64.attrs["calls"]),
            "phases": np.bincount(ds64["phase"].values.reshape(-1), minlength=6).tolist(),
        }

    def map256():
        m = report.get("map64", {})
        left = a.budget - (time.perf_counter() - t_start)
        if a.skip_256 or s:
            return {"skipped": "not asked for"}
        if "wall_warm_s" not in m:
            return {"skipped": "the 64 x 64 map failed"}
        # the rows of a call run side by side: 4x the grid steps per row; 4x the calls too
        # where the 64 rows already needed several (the device's memory)
        predicted = m["compile_s"] + 4 * m["wall_warm_s"] * (4 if m["calls"] > 1 else 1)
        if predicted > left:
            return {"skipped": f"predicted {predicted:.0f} s > {left:.0f} s left of --budget"}
        ds256, wall256 = fig2(256, "accelerator")
        return {
            "wall_s": wall256,
            "predicted_s": predicted,
            "batch": int(ds256.attrs["vmap_width"]),
            "calls": int(ds256.attrs["calls"]),
            "phases": np.bincount(ds256["phase"].values.reshape(-1), minlength=6).tolist(),
        }

    def lockstep64():
        sys.path.insert(0, str(HERE))
        from bench_lockstep import efficiencies, row_work

        # all rows vmapped in one batch (one at a time in a smoke run: vmapped LAPACK on a CPU)
        work, wall = row_work(n64, vmapped=not s, omega_min=0.1 if s else 0.01, fixed=SMOKE if s else None)
        return {"wall_s": wall, **efficiencies(work, n64)}

    # the 256 x 256 map (the target) before the steps that only explain it
    stage("environment", environment)
    stage("map16", map16)
    stage("map64", map64)
    stage("map256", map256)
    stage("eig", lambda: eig_times(s, 4 if s else 64))
    stage("lockstep64", lockstep64)
    report["total_s"] = time.perf_counter() - t_start
    out.write_text(json.dumps(report, indent=1, default=str))
    print_table(report, out)


def print_table(report: dict, out: Path) -> None:
    """The report as a table (a failed step shows its error)."""
    print(f"\n{'check':<40} value")
    r16 = report["map16"]
    wall16 = r16.get("wall_s", float("nan"))
    print(f"{'16 x 16 equals the CPU map':<40} {r16.get('ok', r16)} ({wall16:.1f} s)")
    m = report["map64"]
    if "error" in m:
        print(f"{'64 x 64':<40} {m}")
    else:
        times = f"{m['wall_cold_s']:.1f} / {m['wall_warm_s']:.1f} / {m['compile_s']:.1f} s"
        print(f"{'64 x 64: cold / warm / compile':<40} {times}")
        print(f"{'64 x 64: rows per device per call':<40} {m['batch']} ({m['calls']} calls)")
    print(f"{'256 x 256':<40} {report['map256']}")
    for k, v in report["lockstep64"].items():
        if k != "wall_s":
            print(f"{k:<56} {v if isinstance(v, str) else f'{v:.3f}'}")
    for impl, v in report["eig"].items():
        print(f"{'eig ' + impl:<40} {v}")
    print(f"{'peak device memory':<40} {report['peak_memory_bytes']}")
    print(f"{'total':<40} {report['total_s']:.0f} s; written {os.path.abspath(out)}")


if __name__ == "__main__":
    main()
