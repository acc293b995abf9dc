"""Worker processes: row methods on several CPU cores.

In the CPU plan (`engine.sweep`'s `plan`) a row method (e.g. the interband
"continuation") solves its rows one after another on each core: separate CPU devices of one
process run their computations one after another, and vmapped rows would run batched
LAPACK kernels, which can deadlock a small CPU thread pool. So on CPUs the rows are
spread over *processes*: the parent creates the store and starts `n` workers
(`python -m photosc_jax.sweeps.workers`, each on its first JAX CPU device). The workers take the
chunks to compute one at a time, in order, each claiming the next free one (`Claims`: an
exclusively created file per chunk), so a worker that drew slow rows (small Ω) does not
hold up the end of the map. Each chunk is written with its own completion flag, so the
processes never write the same file, and a store left by any of them resumes as usual;
the worker then marks it in the sweep's local temporary folder, from which the parent
shows the progress (`finished`).

Each worker is pinned to its own CPU core: unpinned JAX processes sharing the cores run
many times slower than one alone (XLA's CPU thread pools of the processes contend;
benchmarks/RESULTS.md, "Quoted figures"), pinned each runs at full speed.

Compilation is the exception to one core each: XLA's CPU compiler is multi-threaded (the
row program compiles about twice as fast on two cores as on one, benchmarks/RESULTS.md),
and a process cannot be pinned once JAX runs (its thread pools are sized for the
cores it saw at start; squeezed onto one core afterwards it crawls). So the parent, which
is not pinned and has already imported JAX and built the sweep, compiles the chunk program
with every core while the workers start, saves the executable
(`jax.experimental.serialize_executable`) and opens a gate (`CompileGate`); the workers wait
at the gate and load the executable without tracing the program. Where the parent's
program came from JAX's persistent compilation cache (`photosc_jax._compilation_cache`,
on by default; the parent's cache directory is passed on), nothing is saved — such a
program cannot be re-serialized (the workers' copy failed with "Function ... not found") —
and the workers load the traced program the parent stored (`programs`) and take its
compilation from the cache as well. Where an earlier run stored that traced program, the
parent compiles nothing: the gate opens at once and each worker loads the program and its
compilation from the cache. A worker finding neither traces and compiles the program
itself. A worker ends with `os._exit` once its report is written (`_process.exit_now`),
skipping the interpreter's slow teardown after JAX.

Workers die with their parent (Linux `PR_SET_PDEATHSIG`), finish the chunk in progress on
SIGINT (the parent forwards its own interrupt; they run in their own session, so a
terminal's Ctrl-C reaches the parent only), and report how many chunks they computed on
their last line of output.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CompileGate", "Worker", "WorkerError", "finished", "start", "wait"]

GATE_TIMEOUT = 900.0  # s a worker waits for the parent's compilation before compiling itself
ABANDONED_SWITCH = 1e-4  # s: the interpreter's switch interval while a dropped compilation runs
MARKS = "done"  # the folder, beside the workers' logs, where they mark the chunks they wrote


class WorkerError(RuntimeError):
    """A sweep worker process failed (its output is in the message; `failed`: one text per
    failed worker, its first line saying which and how)."""

    def __init__(self, message: str, failed: list[str]):
        super().__init__(message)
        self.failed = failed


@dataclass
class Worker:
    shard: tuple[int, int]  # (i, n): worker i of n
    proc: subprocess.Popen
    log: Path  # in the sweep's local temporary folder, beside the chunks' marks (MARKS)
    scratch: list[Path] = field(default_factory=list)  # removed by `wait`

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)


# The temporary folders of the sweeps in progress in this process (worker logs, the gate and
# its program, the chunk claims, a scratch store): removed when a sweep ends, and by
# `remove_scratch` when the process is stopped at once (`photosc`'s second Ctrl-C, SIGTERM),
# which skips the `finally` blocks.
_SCRATCH: set[Path] = set()


def scratch_dir(prefix: str) -> Path:
    """A new temporary folder, registered for `release` / `remove_scratch`."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _SCRATCH.add(path)
    return path


def release(path: Path) -> None:
    """Remove the temporary folder `path` (from `scratch_dir`). Another thread of this
    process (the sweep's, opening the compile gate) or a worker about to die with it may
    create a file in it while it is removed, which leaves it behind: then it is removed
    again (a few times at most)."""
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            break
    _SCRATCH.discard(path)


def remove_scratch() -> None:
    """Remove every temporary folder of a sweep still in progress in this process."""
    for path in list(_SCRATCH):
        release(path)


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this worker when its parent dies (Linux), and exit now if it
    already has."""
    if sys.platform == "linux":
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        sys.exit(1)


def _lapack_ready() -> bool:
    """Register LAPACK's FFI targets, which JAX otherwise does while *lowering* a LAPACK
    call: a deserialized program that calls LU or eig crashes the process without it
    (jax 0.10; `jax.export` does the same before loading). False if this JAX has no such
    hook (then no saved program is loaded)."""
    try:
        from jax._src.lax import linalg

        linalg.initialize_lapack()
    except (ImportError, AttributeError):
        return False
    return True


@dataclass
class CompileGate:
    """The parent compiles the chunk program (`compile`), saves it next to the gate
    (`jax.experimental.serialize_executable`) and opens the gate (creates the file `path`,
    also if compiling or saving failed); a worker (`program`) waits for the gate — at most
    GATE_TIMEOUT seconds or until `stop()` — and loads the saved program without tracing
    it, or, where none was saved for its arguments, lowers and compiles it itself (module
    docstring)."""

    path: Path
    stop: Callable[[], bool] = lambda: False

    @property
    def saved(self) -> Path:
        return self.path.with_name(self.path.name + ".program")

    def compile(self, run, args) -> None:
        """Compile the `jax.jit` function `run` for `args`, save it beside the gate unless it
        came from the persistent compilation cache (then the workers load it from there),
        open the gate."""
        from jax import monitoring
        from jax.experimental import serialize_executable

        from .programs import signature

        hits = []

        def cached(event, **kwargs):
            if event == "/jax/compilation_cache/cache_hits":
                hits.append(event)

        monitoring.register_event_listener(cached)
        try:
            compiled = run.lower(args).compile()
            if hits:  # from the persistent cache: the workers take it from there too
                return
            program, _, out_tree = serialize_executable.serialize(compiled)
            blob = pickle.dumps((signature(args), program, out_tree))
            tmp = self.saved.with_suffix(".tmp")
            tmp.write_bytes(blob)
            tmp.replace(self.saved)  # atomically, before the gate opens
        except Exception:  # not serializable here: the workers compile it themselves
            pass
        finally:
            getattr(monitoring, "unregister_event_listener", lambda _: None)(cached)
            self.open()

    def compile_unless_stopped(self, run, args, stop=None) -> bool:
        """`compile`, in a background thread, while `stop()` is polled: False as soon as it
        returns True (nothing is lost: the workers wait at the gate, no chunk is in
        progress; the compilation finishes in the background and is dropped), else True
        once the gate is open. A Ctrl-C during the compilation thus ends the sweep at once
        instead of after it. While a dropped compilation still runs, the interpreter
        switches threads every ABANDONED_SWITCH seconds instead of every 5 ms: tracing holds
        the interpreter, and the sweep's own thread, reading the store back in many small
        reads, would wait a switch interval after each (benchmarks/RESULTS.md, "Faster
        start and end of a mapped sweep")."""
        import threading

        usual, dropped = sys.getswitchinterval(), threading.Event()

        def compile_then_restore() -> None:
            try:
                self.compile(run, args)
            finally:
                if dropped.is_set():
                    sys.setswitchinterval(usual)

        worker = threading.Thread(target=compile_then_restore, name="photosc-compile", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            if stop is not None and stop():
                dropped.set()
                sys.setswitchinterval(ABANDONED_SWITCH)
                if not worker.is_alive():  # it ended meanwhile (and may not have seen the flag)
                    sys.setswitchinterval(usual)
                return False
        return True

    def program(self, run, args):
        """The compiled chunk program `run` (a `jax.jit` function) for `args`; None if
        `stop()` ended the wait (nothing is compiled then)."""
        self.wait()
        if self.stop():
            return None
        return self.load(args) or run.lower(args).compile()

    def load(self, args):
        """The saved program if it was compiled for `args`, else None."""
        import jax
        from jax.experimental import serialize_executable

        from .programs import signature as signature_of

        try:
            signature, program, out_tree = pickle.loads(self.saved.read_bytes())
        except (OSError, pickle.UnpicklingError, ValueError, EOFError):
            return None
        if signature != signature_of(args) or not _lapack_ready():
            return None
        import inspect

        tree = jax.tree.structure(((args,), {}))
        if "execution_devices" not in inspect.signature(serialize_executable.deserialize_and_load).parameters:
            return None  # (old JAX: it would run on every device; the worker compiles instead)
        # on the first device, as compiled: a worker sees as many CPU devices as its parent
        return serialize_executable.deserialize_and_load(
            program, tree, out_tree, execution_devices=jax.devices()[:1]
        )

    def wait(self) -> None:
        deadline = time.monotonic() + GATE_TIMEOUT
        while not (self.path.exists() or self.stop() or time.monotonic() > deadline):
            time.sleep(0.05)

    def open(self) -> None:
        try:
            self.path.touch()
        except OSError:  # the sweep ended (and removed its folder) while this compiled
            pass


@dataclass
class Claims:
    """Chunks taken by the workers of one sweep: a worker computes chunk `c` only if it is
    the first to create the file `<folder>/<c>` (`os.O_EXCL`: atomic on a local disk). The
    folder is the sweep's local temporary one (`start`), not beside the store, so the store
    itself may be on object storage, which has no exclusive create."""

    folder: Path

    def __call__(self, c: int) -> bool:
        try:
            os.close(os.open(self.folder / str(c), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True


# A worker is pinned to its core before it imports anything: the package imports scipy,
# whose OpenBLAS (also jaxlib's CPU LAPACK) sizes its thread pool for the cores it sees at
# load time, and a two-thread pool squeezed onto one core ran the 64 x 64 map about 8 times
# slower (benchmarks/RESULTS.md, "Workers pinned before any import").
_STOPPED_IDLE = '{"chunks_computed": 0, "interrupted": 1}'  # the report of a worker stopped idle
_PINNED_START = (
    "import os, signal\n"
    "if hasattr(os, 'sched_setaffinity'):\n"
    "    os.sched_setaffinity(0, {{{core}}})\n"
    "def stop(*_):\n"
    "    print({report!r}, flush=True)\n"
    "    os._exit(130)\n"
    "signal.signal(signal.SIGINT, stop)\n"
    "from photosc_jax.sweeps.workers import _main\n"
    "_main()"
)  # a Ctrl-C forwarded while the worker imports ends it at once (it has nothing to finish)


def finished(workers: list[Worker]) -> set[int]:
    """The chunks the `workers` (of one sweep) have written so far: what the parent shows as
    progress. An empty file per chunk in a local folder, made after the chunk's flag, so
    polling it costs the parent (whose core a worker shares) no store reads; empty after
    `wait` removed the folder."""
    try:
        return {int(name) for name in os.listdir(workers[0].log.with_name(MARKS))}
    except (OSError, IndexError):
        return set()


def _worker_env() -> dict[str, str]:
    """The workers' environment: one BLAS thread, this process's compilation cache (or
    none) and its number of JAX CPU devices. A worker computes on its first device only,
    but JAX's persistent cache keys a program by the CPU client's device count, so the
    same count makes the parent's program a cache hit for the workers."""
    import jax

    flags = [
        f for f in os.environ.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f
    ]
    count = f"--xla_force_host_platform_device_count={len(jax.devices('cpu'))}"
    one = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    cache = {"PHOTOSC_JAX_CACHE": jax.config.jax_compilation_cache_dir or "off"}
    return {**os.environ, **one, **cache, "XLA_FLAGS": " ".join([*flags, count])}


def cores() -> list[int]:
    """The CPU cores this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def start(spec: dict, out: str, todo: list[int], n: int) -> tuple[list[Worker], CompileGate]:
    """Start n pinned workers for the chunks `todo` of the sweep `spec` on the existing store
    `out`. Returns them and the gate the parent opens once it has compiled the chunk
    program (`CompileGate.compile`; until then the workers wait, at most GATE_TIMEOUT)."""
    job = {"spec": json.dumps(spec), "todo": list(todo)}
    mine = cores()
    env = _worker_env()
    scratch = scratch_dir("photosc-workers-")  # the gate, the program, the claims, the logs
    (scratch / "claims").mkdir()
    (scratch / MARKS).mkdir()
    gate = CompileGate(scratch / "compiled")
    workers = []
    for i in range(n):
        log = scratch / f"worker-{i}.log"
        payload = json.dumps(
            {
                **job,
                "out": str(out),
                "parent": os.getpid(),
                "core": mine[i % len(mine)],
                "gate": str(gate.path),
                "claims": str(scratch / "claims"),
                "done": str(scratch / MARKS),
            }
        )
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _PINNED_START.format(core=mine[i % len(mine)], report=_STOPPED_IDLE),
                    payload,
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )  # Ctrl-C: parent forwards once
        workers.append(Worker((i, n), proc, log, [scratch] if i == 0 else []))
    return workers, gate


def wait(workers: list[Worker], poll=None, stop=None) -> tuple[int, bool]:
    """Wait for every worker, returning as soon as the last one ended; `poll()` is called
    about five times a second and once after the last worker ended (progress), `stop()`
    when true interrupts the workers. Returns (chunks computed, interrupted); raises
    `store.StoreFullError` if a worker found the disk full, else `WorkerError` with each
    failed worker's output (or the signal that killed it) if one failed."""
    from .store import StoreFullError

    interrupted = False
    while running := [w for w in workers if w.proc.poll() is None]:
        if stop is not None and not interrupted and stop():
            interrupted = True
            for w in workers:
                w.interrupt()
        if poll is not None:
            poll()
        # 0.2 s, or less if it is the last to end (then the sweep goes on at once)
        with contextlib.suppress(subprocess.TimeoutExpired):
            running[-1].proc.wait(0.2)
    if poll is not None:  # what the last workers did since the last poll
        poll()
    computed, failed, full = 0, [], None
    texts = [w.log.read_text(errors="replace") if w.log.exists() else "" for w in workers]
    for w in workers:
        for path in w.scratch:
            release(path)
    for w, text in zip(workers, texts, strict=True):
        lines = text.strip().splitlines()
        try:
            report = json.loads(lines[-1])
            if "full" in report:
                full = StoreFullError(report["errno"], report["full"])
                continue
            computed += int(report["chunks_computed"])
            interrupted |= bool(report["interrupted"])
        except (IndexError, ValueError, KeyError, TypeError):
            code = w.proc.returncode
            if code in (130, -signal.SIGINT) and stop is not None and stop():
                interrupted = True
            elif code is not None and code < 0:
                failed.append(
                    f"worker {w.shard[0]}/{w.shard[1]} was killed by {signal.Signals(-code).name}"
                    + (":\n" + "\n".join(lines[-20:]) if lines else " before it wrote any output")
                )
            else:
                failed.append(f"worker {w.shard[0]}/{w.shard[1]} (exit {code}):\n" + "\n".join(lines[-20:]))
    if full is not None:
        raise full
    if failed:
        raise WorkerError(
            "A sweep worker process failed; the chunks it finished are kept "
            "(rerun to resume):\n" + "\n".join(failed),
            failed,
        )
    return computed, interrupted


def _main() -> None:
    job = json.loads(sys.argv[1])
    _die_with_parent(job["parent"])
    if hasattr(os, "sched_setaffinity"):  # pinned already (`_PINNED_START`); kept for direct runs
        os.sched_setaffinity(0, {job["core"]})
    # a Ctrl-C (forwarded by the parent) before this worker took a chunk ends it at once:
    # it has nothing to finish; after that, it stops after the chunk in progress
    requested = {"stop": False, "busy": False}

    def stopped_idle() -> None:
        print(_STOPPED_IDLE, flush=True)
        os._exit(130)

    def on_interrupt(signum, frame):
        requested["stop"] = True
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if not requested["busy"]:
            stopped_idle()

    signal.signal(signal.SIGINT, on_interrupt)
    gate = CompileGate(Path(job["gate"]), stop=lambda: requested["stop"])
    claims = Claims(Path(job["claims"]))

    from .._process import exit_now
    from .store import StoreFullError

    try:
        computed = _compute(job, gate, claims, requested)
    except StoreFullError as err:  # the parent raises it as the one-line error it is
        print(json.dumps({"full": err.strerror, "errno": err.errno}))
        exit_now(1)
    print(json.dumps({"chunks_computed": computed, "interrupted": int(requested["stop"])}))
    exit_now(0)  # its chunks are written: the parent sees the end at once


def _compute(job: dict, gate: CompileGate, claims: Claims, requested: dict) -> int:
    """A worker's share of the sweep `job["spec"]` (JSON) on the store `job["out"]`: the
    chunks `job["todo"]` in order, each computed only if this worker claims it first
    (`claims`), with the program from `gate` (`CompileGate.program`), and written with its
    checksum and completion flag, as an executor's task writes it (`executors.run_chunk`),
    then marked in the local folder `job["done"]` (`finished`); until `requested["stop"]`.
    Returns how many chunks it computed."""
    from . import engine, store
    from .models import model_of

    spec = json.loads(job["spec"])
    model = model_of(spec)
    program, computed = None, 0
    for c in job["todo"]:
        if requested["stop"]:
            break
        if program is None:  # one program for every chunk (one shape)
            program = gate.program(*engine.chunk_program(model, spec, c)[:2])
            if program is None:  # stopped while waiting at the gate
                break
        requested["busy"] = True  # from here on a Ctrl-C finishes the chunk in progress
        if not claims(c):
            continue  # another worker has it
        store.write_chunk(job["out"], spec, c, engine.compute_chunk(model, spec, c, program))
        Path(job["done"], str(c)).touch()
        computed += 1
    return computed


if __name__ == "__main__":
    _main()
