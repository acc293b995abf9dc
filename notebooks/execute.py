"""Execute the notebooks at full settings and write their `.ipynb` copies with the outputs: the
docs site shows the stored outputs (it does not execute notebooks, to keep CI in budget).

    python notebooks/execute.py            # all (about 6 min on 2 cores)
    python notebooks/execute.py 01 03      # those whose names start so

Each `NN_name.py` (jupytext percent format, the source of truth) runs top to bottom in a fresh
`python3` kernel (nbclient) without `PHOTOSC_SMALL`. The copy keeps the outputs and drops
what changes from run to run (execution counts, timings, the Python version; cell ids are
numbered) and records the SHA-256 of the code it ran (`metadata.photosc.code_sha256`), which
`tests/test_notebooks.py` compares with the source: rerun this after changing a code cell, or
whatever a notebook shows. A markdown-only edit needs no run:
`jupytext --update --to ipynb notebooks/NN_name.py` keeps the outputs.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent
# the repr of the matplotlib artist a figure's cell happens to end with: noise next to the figure
_ARTIST_REPR = re.compile(r"^\[?(Text\(|<matplotlib\.)")


def code_sha256(nb) -> str:
    """SHA-256 of a notebook's code cells, in order."""
    code = "\n\0".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()


def _artist_repr(out) -> bool:
    data = out.get("data", {})
    return set(data) == {"text/plain"} and bool(_ARTIST_REPR.match(data["text/plain"]))


def strip(nb):
    """Keep the outputs (less artist reprs); drop execution counts, timings and the kernel's
    versions."""
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = [out for out in cell.outputs if not _artist_repr(out)]
            for out in cell.outputs:
                if "execution_count" in out:  # an execute_result's
                    out.execution_count = None
    nb.metadata.pop("language_info", None)
    nb.metadata["photosc"] = {"code_sha256": code_sha256(nb)}
    return nb


def execute(source: Path) -> Path:
    nb = jupytext.read(source)
    NotebookClient(
        nb,
        timeout=1200,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    target = source.with_suffix(".ipynb")
    nbformat.write(strip(nb), target)
    return target


def main(prefixes: list[str]) -> None:
    os.environ.pop("PHOTOSC_SMALL", None)  # the kernel inherits this environment
    for source in sorted(NOTEBOOKS.glob("[0-9]*.py")):
        if not prefixes or source.stem.startswith(tuple(prefixes)):
            t0 = time.perf_counter()
            target = execute(source)
            size = target.stat().st_size / 1e6
            print(f"{target.name}: {time.perf_counter() - t0:.0f} s, {size:.2f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
