"""Every notebook under notebooks/ runs with small parameters, and is committed clean.

Generic on purpose: a new notebook is picked up by the glob. It gets the small-run knobs its
``parameters`` cell declares (``max_customers``, ...) and runs with papermill, kernel
``python3``, in its own folder as working directory (as in JupyterLab and ``tierlib report``).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

from tierlib.report import declared_parameters

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Small-run values, passed to a notebook only when its parameters cell declares the name.
SMALL = {"max_customers": 300, "n_customers": 300, "customers": 300, "sample_customers": 300}
# Per-notebook extras (file stem -> parameters), for knobs that are not shared.
EXTRA: dict[str, dict] = {
    "02_threshold_simulation": {"sweep_values": [250, 300, 350]},
    "03_churn_near_tier_drop": {"n_refit": 3, "n_boot": 50},
}


def _ids(paths):
    return [p.stem for p in paths]


def test_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_compare_schemes", "02_threshold_simulation"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("execution_count") is None, f"{path.name}: outputs not stripped"
            assert cell.get("outputs") == [], f"{path.name}: outputs not stripped"
    nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_layout(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "tierlib.notebook.setup_notebook()" in code[0].source, "the first code cell sets up offline charts"
    declared = declared_parameters(nb)
    assert declared, f"{path.name}: no cell tagged 'parameters'"
    undocumented = [n for n, p in declared.items() if not p.help]
    assert not undocumented, f"{path.name}: parameters without a comment: {undocumented}"
    assert any(c.cell_type == "markdown" for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_with_small_parameters(path, tmp_path):
    declared = declared_parameters(path) or {}
    params = {k: v for k, v in {**SMALL, **EXTRA.get(path.stem, {})}.items() if k in declared}
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters=params, kernel_name="python3",
                               cwd=str(path.parent), progress_bar=False, log_output=False)
    ran = nbformat.read(out, as_version=4)
    errors = [o for c in ran.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
