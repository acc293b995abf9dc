"""Ending a process that has run JAX without the interpreter's slow shutdown."""

from __future__ import annotations

import atexit
import os
import sys


def exit_now(code: object = 0) -> None:
    """End the process with `code` as `sys.exit` would (None is status 0, an int itself,
    anything else is printed to stderr and is status 1): run the `atexit` handlers, flush
    stdout and stderr, then `os._exit`, skipping the interpreter's teardown of the modules,
    which is slow once JAX is imported (benchmarks/RESULTS.md, "Faster start and end of a
    mapped sweep"). Call it only once everything the process wrote is closed."""
    status = 0 if code is None else code if isinstance(code, int) else 1
    if status == 1 and not isinstance(code, int):
        print(code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a broken pipe: nothing more to say
            pass
    os._exit(status)
