"""Every notebook under notebooks/ runs with small parameters, and is committed clean.

Generic on purpose: a new notebook is picked up by the glob. It gets the small-run knobs its
``parameters`` cell declares (``max_customers``, ...) and runs with papermill, kernel
``python3``, in its own folder as working directory (as in JupyterLab and ``tierlib report``).
"""

from __future__ import annotations

import json
import re
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
    "03_churn_near_tier_drop": {"n_refit": 3, "n_boot": 50, "max_iter": 40},  # a small model: the test reads the page, not the fit
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


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_with_small_parameters(path, lang, tmp_path):
    """Runs in both report languages (zh through the engine that takes its Markdown from the
    notebook's .zh.yaml); every table header it shows is in the terms catalogue (a missing one
    is a KeyError in the run), and nothing it displays is a raw repr."""
    from tierlib.papermill_engine import register

    declared = declared_parameters(path) or {}
    params = {k: v for k, v in {**SMALL, **EXTRA.get(path.stem, {}), "lang": lang}.items() if k in declared}
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters=params, kernel_name="python3", engine_name=register(),
                               cwd=str(path.parent), progress_bar=False, log_output=False)
    ran = nbformat.read(out, as_version=4)
    errors = [o for c in ran.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    raw = [(c.id, o["data"]["text/plain"][:80]) for c in ran.cells if c.cell_type == "code" for o in c.outputs
           if o.output_type in ("execute_result", "display_data") and set(o["data"]) == {"text/plain"}]
    assert not raw, f"{path.name}: results shown as a raw repr (no HTML, Markdown or image): {raw}"
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/html", ""))
                     + str(o.get("data", {}).get("text/markdown", ""))
                     for c in ran.cells if c.cell_type == "code" for o in c.outputs)
    assert "shape: (" not in text and "<ThresholdSearch" not in text
    assert not re.search(r"\bnan\b", text), re.search(r".{60}\bnan\b.{20}", text)  # an estimate that is not one
    if lang == "zh":  # printed lines (progress, warnings) in Chinese: no run of four English words
        printed = "\n".join(o.get("text", "") for c in ran.cells if c.cell_type == "code" for o in c.outputs
                             if o.output_type == "stream")
        assert not re.search(r"[A-Za-z]{3,}(?: [A-Za-z]{3,}){3}", printed), printed
    assert not re.search(r"\d\.\d+e[+-]?\d", text), re.search(r".{40}\d\.\d+e[+-]?\d.{20}", text)
    headings = [line for c in ran.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]
    assert headings
    if lang == "zh":
        english = [h for h in headings if not re.search(r"[\u4e00-\u9fff]", h)]
        assert not english, f"{path.name}: headings of the zh run that are not Chinese: {english}"
