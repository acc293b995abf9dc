"""The accelerator plan of the sweeps (`sweep(..., plan="accelerator")`), run on four CPU
devices (`XLA_FLAGS=--xla_force_host_platform_device_count=4`, in a subprocess: the flag must
be set before JAX starts): rows vmapped per device under `shard_map`, several chunks per
call. It must equal the CPU plan point for point, compile to a row program without
collectives, and size its batches from a memory model that matches the compiled program.

One row per device per call here: jaxlib 0.10's *batched* CPU LAPACK kernels can deadlock a
2-thread pool (benchmarks/RESULTS.md, "the `BlockLU` hang found"), and a vmapped batch of
two rows per device did hang on this 2-core machine; a batch of one runs unbatched kernels.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import photosc_jax as ps

SCRIPT = r"""
import json, sys
import jax, numpy as np
from photosc_jax.sweeps import engine, sweep
from photosc_jax.sweeps.models import get_model
from photosc_jax.sweeps.spec import compiled_bytes, make_spec
out = sys.argv[1]
TINY = dict(k_max=0.2, dk=0.01, v=0.3)
axes = {"Omega": np.linspace(0.1, 0.3, 6), "V": np.linspace(0.0, 8.0, 8)}
# chunks of 2 rows (3 chunks), 4 devices x 1 row per call: 2 calls, one chunk split between them
acc = sweep("interband", axes, fixed=TINY, plan="accelerator", batch=1, chunk_size=16, out=out,
            progress=False)
cpu = sweep("interband", axes, fixed=TINY, plan="cpu", workers=1, progress=False)
res = {"devices": len(jax.devices()), "calls": int(acc.attrs["calls"]), "plan": acc.attrs["plan"],
       "chunks": int(acc.attrs["chunks_computed"]), "diff": {}, "same": {}}
for k in cpu.data_vars:
    a, b = acc[k].values, cpu[k].values
    same = np.array_equal(np.isnan(a), np.isnan(b)) if a.dtype.kind == "f" else np.array_equal(a, b)
    res["same"][k] = bool(same)
    if a.dtype.kind == "f":
        res["diff"][k] = float(np.nanmax(np.abs(a - b))) if np.isfinite(b).any() else 0.0
# the row program as the plan compiles it, on all four devices: its HLO
model = get_model("interband", "continuation", "V")
spec = make_spec(model, axes, dict(TINY), {}, None)
devs = jax.devices()
run, sharding = engine._runner(model, spec, devs, None)
rows = [engine.chunk_rows(spec, 0)[0]] * len(devs)
hlo = run.lower(engine._batched_params(model, spec, rows, len(devs), sharding)).compile().as_text()
res["collectives"] = {op: hlo.count(op) for op in
    ("all-reduce", "all-gather", "collective-permute", "all-to-all", "reduce-scatter", "send(", "recv(")}
res["hlo_chars"] = len(hlo)
# the memory model against memory_analysis(), two rows vmapped on one device (compiled only)
one, sh1 = engine._runner(model, spec, devs[:1], None)
prog = one.lower(engine._batched_params(model, spec, rows[:2], 2, sh1)).compile()
res["compiled_bytes"] = compiled_bytes(prog)
res["model_bytes"] = 2 * int(model.bytes_per_point(spec["parameters"], spec["options"]))
print("RESULT " + json.dumps(res))
"""


# the tests of the four-device run share one worker, so that the run is made once
ON_FOUR_DEVICES = pytest.mark.xdist_group("four_devices")


@ON_FOUR_DEVICES
def test_loadgroup_keeps_the_xdist_groups(request):
    """Under `--dist loadgroup` (the README's test command) a test's xdist_group must reach
    the scheduler, which reads it from the nodeid's suffix: pytest 9.2 drops that suffix
    and every group is silently split over the workers (pytest-xdist#1386), so the module
    fixtures shared by a group (`four_devices` below, those of the grouped modules) are
    made once per worker."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@four_devices"), request.node.nodeid


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory):
    out = tmp_path_factory.mktemp("acc") / "map.zarr"
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)], capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :]), out


@ON_FOUR_DEVICES
def test_the_accelerator_plan_on_four_devices_equals_the_cpu_plan(four_devices):
    res, out = four_devices
    assert res["devices"] == 4 and res["plan"] == "accelerator"
    assert res["calls"] == 2 and res["chunks"] == 3  # a chunk's rows span two calls
    assert all(res["same"].values()), res["same"]  # phases, statuses, NaN patterns
    assert max(res["diff"].values()) <= 1e-10, res["diff"]
    # the store holds the same map, readable with plain xarray
    ds = ps.sweeps.open_sweep(str(out))
    assert ds.attrs["complete"]
    assert np.isfinite(ds["threshold"].values).all()


@ON_FOUR_DEVICES
def test_the_row_program_under_shard_map_has_no_collectives(four_devices):
    res, _ = four_devices
    assert res["hlo_chars"] > 10_000  # the whole row program was compiled
    assert res["collectives"] == dict.fromkeys(res["collectives"], 0), res["collectives"]


@ON_FOUR_DEVICES
def test_the_row_memory_model_is_within_30_percent_of_memory_analysis(four_devices):
    res, _ = four_devices
    assert res["compiled_bytes"] > 0
    assert abs(res["model_bytes"] / res["compiled_bytes"] - 1) < 0.3, res


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(plan="gpu"), "plan='gpu': use one of auto, cpu, accelerator."),
        (dict(plan="accelerator", batch=0), "batch=0: use a whole number >= 1"),
        (dict(plan="accelerator", workers=2), "plan='accelerator' with workers=2"),
    ],
)
def test_plan_arguments_are_checked_before_any_work(kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ps.sweep("interband", {"Omega": [0.1, 0.2], "V": [1.0, 2.0]}, **kw)


def test_the_accelerator_plan_batches_points_of_an_evolution_sweep_too():
    """Point methods take the same plan: points vmapped per device, several chunks per call;
    the same results as the CPU plan (one point per call here: the vmap of one point is not
    bitwise the unbatched solve, so floats to 1e-10)."""
    tiny = dict(k_max=0.2, dk=0.01, v=0.3)
    axes = {"Omega": [0.15, 0.25], "V": [1.0, 4.0, 6.0]}
    kw = dict(method="evolve", fixed=tiny, options=dict(t_max=1500.0), progress=False)
    acc = ps.sweep("interband", axes, plan="accelerator", batch=1, chunk_size=2, **kw)
    cpu = ps.sweep("interband", axes, plan="cpu", **kw)
    assert acc.attrs["plan"] == "accelerator" and acc.attrs["calls"] == 6
    for k in cpu.data_vars:
        a, b = acc[k].values, cpu[k].values
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14, err_msg=k)
        else:
            np.testing.assert_array_equal(a, b, err_msg=k)


def test_the_command_line_takes_the_plan_and_refuses_a_bad_one_in_one_line():
    from helpers import invoke

    r = invoke("sweep", "interband", "--Omega", "0.1:0.2:2", "--V", "1:2:2", "--plan", "gpu")
    assert r.exit_code == 2
    assert r.stderr == "Error: plan='gpu': use one of auto, cpu, accelerator.\n"
    assert "--plan" in invoke("sweep", "--help").stdout


def test_a_sweep_refuses_a_method_field_it_cannot_run():
    """Only a method's fields that are run options reach a sweep: a solver given on the
    object would be dropped, so the sweep refuses it."""
    import diffrax as dfx

    from photosc_jax.interband import Evolve

    with pytest.raises(ValueError, match="leave solver at its default or call steady_state or phase_row"):
        ps.sweep("interband", {"Omega": [0.1, 0.2], "V": [1.0, 2.0]}, method=Evolve(solver=dfx.Tsit5()))


def test_the_eigenvalue_implementation_is_a_run_option():
    """`Continuation.eig` is the run option `eig` (a name; "auto" for None) both ways, and a
    GPU implementation on CPU devices is refused in one line before any compute."""
    from helpers import invoke
    from jax.lax.linalg import EigImplementation

    from photosc_jax.interband import Continuation
    from photosc_jax.sweeps.models import get_model

    m = get_model("interband", "continuation", "V")
    assert m.options_of(Continuation())["eig"] == "auto"
    assert m.options_of(Continuation(eig=EigImplementation.LAPACK))["eig"] == "lapack"
    assert m.method_of(
        {**m.resolve({**{k: o.default for k, o in m.options.items()}, "eig": "magma"})}
    ).eig == (EigImplementation.MAGMA)
    grid = ("--Omega", "0.1:0.2:2", "--V", "1:2:2")
    r = invoke("sweep", "interband", *grid, "--eig", "cusolver")
    assert r.exit_code == 2
    assert (
        r.stderr
        == "Error: --eig cusolver runs on NVIDIA GPUs; these devices are cpu: use --eig auto (or lapack).\n"
    )
    r = invoke("sweep", "interband", *grid, "--eig", "gpu")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: --eig = 'gpu': choose one of auto, lapack, cusolver, magma (")
    assert "--eig (auto)" in " ".join(invoke("sweep", "--help").stdout.split())
