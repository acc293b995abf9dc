"""The notebooks in `notebooks/` run top to bottom (on small settings), and their `.ipynb`
copies hold the cells of the jupytext `.py` sources and the outputs of a full run of them.

Each `notebooks/*.py` (jupytext percent format, the source of truth) is converted with jupytext
and executed cell by cell in a fresh `python3` Jupyter kernel by nbclient, with
`PHOTOSC_SMALL=1` (coarse grids, short runs); a failing cell fails the test with its traceback.
"""

import importlib.util
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
_spec = importlib.util.spec_from_file_location("execute_notebooks", NOTEBOOKS / "execute.py")
_execute = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_execute)
code_sha256 = _execute.code_sha256  # what notebooks/execute.py records of the code it ran
SOURCES = sorted(NOTEBOOKS.glob("[0-9]*.py"))
# The two notebooks that compute phase maps are the longest checks (100-120 s each on 2
# cores; their sweeps are covered by test_phase_map.py): `heavy`, left out of CI. They
# compile the same row program, so they run one after the other on one xdist worker and
# the later one reads it from the run's compilation cache.
MAPS = {"02_interband_phase_diagram", "06_detuning_and_phonon_velocity"}
RUNS = [
    pytest.param(s, marks=[pytest.mark.heavy, pytest.mark.xdist_group("interband_row")])
    if s.stem in MAPS
    else s
    for s in SOURCES
]


def test_there_are_notebooks():
    assert len(SOURCES) >= 4, f"expected the paper notebooks in {NOTEBOOKS}"


@pytest.mark.slow
@pytest.mark.parametrize("source", RUNS, ids=[s.stem for s in SOURCES])
def test_notebook_runs(source, monkeypatch):
    monkeypatch.setenv("PHOTOSC_SMALL", "1")  # the kernel inherits this environment
    nb = jupytext.read(source)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    images = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert images > 0, f"{source.name} displayed no figure"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_ipynb_is_the_executed_source(source):
    """The committed `.ipynb` (what the docs site shows, and what users who open notebooks
    directly get) has the cells of the `.py` source, the outputs of a run of its current code
    (figures included), and none of a run's volatile metadata; it stays well under 2 MB.
    Regenerate with `python notebooks/execute.py NN` (a markdown-only edit:
    `jupytext --update --to ipynb notebooks/NN_name.py`)."""
    ipynb = source.with_suffix(".ipynb")
    rerun = f"run `python notebooks/execute.py {source.stem[:2]}`"
    cells = lambda nb: [(c.cell_type, c.source) for c in nb.cells]  # noqa: E731
    stored = jupytext.read(ipynb)
    assert cells(stored) == cells(jupytext.read(source)), f"{ipynb.name} is out of date: {rerun}"
    assert stored.metadata.get("photosc", {}).get("code_sha256") == code_sha256(stored), (
        f"{ipynb.name} holds the outputs of other code: {rerun}"
    )
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert any("image/png" in out.get("data", {}) for c in code for out in c.outputs), (
        f"{ipynb.name} has no figures: {rerun}"
    )
    assert "small settings: True" not in str([c.outputs for c in code]), f"{ipynb.name} ran small: {rerun}"
    counts = [c.execution_count for c in code] + [
        out.get("execution_count") for c in code for out in c.outputs
    ]
    assert not any(counts) and not any("execution" in c.metadata for c in code)
    assert set(stored.metadata) <= {"jupytext", "kernelspec", "photosc"}, sorted(stored.metadata)
    assert ipynb.stat().st_size < 1.5e6
