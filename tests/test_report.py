"""tierlib report: parameter checks before running, papermill runs, offline pages, real browser.

The fixture notebooks in tests/fixtures/notebooks: ``chart`` draws an Altair bar chart from a
tiny polars frame (or a CSV given as the ``panel`` data parameter); ``fail`` raises in its
third cell.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from tests import browser
from tierlib.cli import cmd_report as cli_main
from tierlib.report import (
    ReportConfig,
    ReportError,
    check_parameters,
    declared_parameters,
    find_remote_resources,
    load_config,
    notebook_to_html,
    run_report,
)

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
CHART, FAIL, BARS = NOTEBOOKS / "chart.ipynb", NOTEBOOKS / "fail.ipynb", NOTEBOOKS / "bars.csv"
VEGA_BLUE = (0x4C, 0x78, 0xA8)  # Vega's default mark colour

needs_chromium = pytest.mark.skipif(
    browser.chromium() is None,
    reason="chromium is not installed: the browser tests need Debian's chromium (make browser installs it)",
)


def write_config(folder: Path, **config) -> Path:
    path = folder / "report.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def report(config: Path, out: Path) -> int:
    return cli_main(argparse.Namespace(config=str(config), out=str(out), overwrite=False))


@pytest.fixture(scope="module")
def chart_run(tmp_path_factory):
    """One successful run of the chart notebook, shared by the tests that read its output."""
    folder = tmp_path_factory.mktemp("chart_run")
    # Unquoted date on purpose: the notebook declares `as_of: str | None`.
    (folder / "report.yaml").write_text(
        f"notebooks: [{CHART}]\n"
        f"parameters: {{title: Bars, panel: {BARS}}}\n"
        "notebook_parameters: {chart: {n_bars: 2, scale: 2, as_of: 2024-12-01}}\n"
        "data_parameters: [panel]\n",
        encoding="utf-8",
    )
    run = run_report(load_config(folder / "report.yaml"), out=folder / "out")
    assert run.ok, run.failures
    return run.out


# --------------------------------------------------------------------------- a good run


def test_run_writes_index_pages_notebooks_and_params(chart_run):
    assert {p.name for p in chart_run.iterdir()} == {"index.html", "chart.html", "chart.ipynb", "params.json",
                                                     "_tierlib.json"}
    params = json.loads((chart_run / "params.json").read_text())
    assert params["notebooks"][0]["parameters"] == {
        "title": "Bars", "panel": str(BARS.resolve()), "n_bars": 2, "scale": 2, "as_of": "2024-12-01",
    }
    assert params["data"] == [str(BARS.resolve())] and params["notebooks"][0]["status"] == "ok"
    index = (chart_run / "index.html").read_text()
    assert 'href="chart.html"' in index and 'href="params.json"' in index
    for fact in (params["run_date"], params["tierlib_version"], str(BARS.resolve()), "Bars"):
        assert fact in index


def test_parameters_reach_the_notebook_and_code_is_hidden(chart_run):
    page = (chart_run / "chart.html").read_text()
    (spec,) = _specs(page)
    assert spec["title"] == "Bars (2024-12-01)"
    rows = [r for values in spec["datasets"].values() for r in values]
    assert [r["label"] for r in rows] == ["x", "y"]  # the CSV's first n_bars=2 rows
    assert "alt.Chart(" not in page and "n_bars = 2" not in page  # inputs hidden
    assert "In&nbsp;[" not in page and 'class="jp-InputPrompt' not in page  # no prompts


def test_pages_load_nothing_from_the_network(chart_run):
    remote = re.compile(
        r"""<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//"""
        r"""|@import\s+(?:url\()?["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""",
        re.IGNORECASE,
    )
    for page in chart_run.glob("*.html"):
        text = page.read_text()
        assert not remote.findall(text), page.name
        assert find_remote_resources(text) == [], page.name
    # Issue 13: the page runs two scripts, tierlib's own: the Vega bundle (once) and the bootstrap
    chart = (chart_run / "chart.html").read_text()
    assert chart.count("<script") == 3 and len(_specs(chart)) == 1
    assert chart.count('<script id="tierlib-vega">') == 1 and "cdn" not in chart.lower()
    assert "<script" not in (chart_run / "index.html").read_text()


# --------------------------------------------------------------------------- rejected before running


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"notebook_parameters": {"chart": {"n_barz": 2}}}, "chart.ipynb: unknown parameter 'n_barz'"),
        ({"parameters": {"colour": "red"}}, "unknown parameter 'colour' in 'parameters': no notebook declares it"),
        ({"notebook_parameters": {"chart": {"n_bars": "2"}}},
         "chart.ipynb: parameter 'n_bars' (number of bars (int)) must be int (notebook default 3), got str '2'"),
        ({"notebook_parameters": {"chart": {"scale": True}}},
         "parameter 'scale' (bar height multiplier (float)) must be float"),
        ({"notebook_parameters": {"chart": {"labels": "a,b"}}},
         "parameter 'labels' (bar labels, one per bar) must be list"),
        ({"notebook_parameters": {"chart": {"as_of": 202412}}}, "parameter 'as_of'"),
        ({"notebook_parameters": {"chrat": {"n_bars": 2}}}, "notebook_parameters: 'chrat' is none of the notebooks"),
        ({"parameters": {"panel": "no/such.csv"}, "data_parameters": ["panel"]}, "data parameter 'panel'"),
    ],
)
def test_bad_parameters_are_rejected_before_anything_runs(tmp_path, capsys, section, problem):
    config = write_config(tmp_path, notebooks=[str(CHART), str(FAIL)], **section)
    assert report(config, tmp_path / "out") == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and problem in lines[0], lines
    assert not (tmp_path / "out").exists()  # no notebook ran, nothing was written


def test_accepted_parameter_values(tmp_path, monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)
    config = ReportConfig(
        notebooks=(Path("chart.ipynb"),),
        parameters={"panel": "bars.csv"},  # relative to the working directory, made absolute
        notebook_parameters={"chart": {"scale": 2, "note": {"any": "type"}, "as_of": None, "colors": {"a": "red"}}},
        data_parameters=("panel",),
    )
    (job,) = check_parameters(config)
    assert job.parameters == {"panel": str(BARS.resolve()), "scale": 2, "note": {"any": "type"},
                              "as_of": None, "colors": {"a": "red"}}


def test_declared_parameters_read_annotations_and_defaults():
    params = declared_parameters(CHART)
    assert {name: sorted(p.types) if p.types else None for name, p in params.items()} == {
        "title": ["str"], "n_bars": ["int"], "scale": ["float"], "show_table": ["bool"], "labels": ["list"],
        "colors": ["dict"], "as_of": ["None", "str"], "panel": ["None", "str"], "note": None,
    }
    assert params["as_of"].help == 'month label for the title, e.g. "2024-12-01"'


def test_output_folder_with_files_is_refused(tmp_path):
    (tmp_path / "old.html").write_text("previous run")
    with pytest.raises(ReportError, match="holds files tierlib did not write"):
        run_report(ReportConfig(notebooks=(CHART,)), out=tmp_path)


def test_default_config_lists_the_three_report_notebooks():
    config = load_config()
    assert [p.as_posix() for p in config.notebooks] == [
        "notebooks/01_compare_schemes.ipynb", "notebooks/02_threshold_simulation.ipynb",
        "notebooks/03_churn_near_tier_drop.ipynb",
    ]


# --------------------------------------------------------------------------- failures


def test_failing_notebook_exits_non_zero_keeps_partial_notebook_and_names_the_cell(tmp_path, capsys):
    config = write_config(tmp_path, notebooks=[str(FAIL)], notebook_parameters={"fail": {"divisor": 0}})
    assert report(config, tmp_path / "out") == 1
    (line,) = [l for l in capsys.readouterr().err.splitlines() if "failed in cell" in l]
    assert line == ("tierlib report: fail.ipynb failed in cell 3 (index 2, "
                    "`ratio = 1 / divisor  # fails: the third cell`): ZeroDivisionError: division by zero")
    partial = nbformat.read(tmp_path / "out" / "fail.ipynb", as_version=4)
    sources = [c.source for c in partial.cells]
    assert any(o.get("ename") == "ZeroDivisionError" for c in partial.cells for o in c.get("outputs", []))
    assert not partial.cells[sources.index('print("never reached")')].outputs  # stopped there
    assert partial.cells[1].outputs[0].text.strip() == sys.executable  # the kernel is this interpreter
    index = (tmp_path / "out" / "index.html").read_text()
    assert "failed" in index and "ZeroDivisionError" in index
    assert json.loads((tmp_path / "out" / "params.json").read_text())["notebooks"][0]["status"] == "failed"


def test_dead_kernel_names_the_cell_it_was_running(tmp_path, capsys):
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell("steps = 1"), new_code_cell("import os\n\nos._exit(3)  # like a crash in native code")]
    cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=cells), tmp_path / "crash.ipynb")
    config = write_config(tmp_path, notebooks=[str(tmp_path / "crash.ipynb")], parameters={"steps": 2})
    assert report(config, tmp_path / "out") == 1
    assert "tierlib report: crash.ipynb failed in cell 2 (index 1, `import os`): DeadKernelError" in capsys.readouterr().err
    assert (tmp_path / "out" / "crash.ipynb").exists() and (tmp_path / "out" / "index.html").exists()


def test_chart_from_a_cdn_fails_the_run(tmp_path, capsys):
    nb = nbformat.read(CHART, as_version=4)
    nb.cells[0].source += '\nalt.renderers.enable("html")  # vega-embed from a CDN'
    nbformat.write(nb, tmp_path / "cdn.ipynb")
    assert report(write_config(tmp_path, notebooks=[str(tmp_path / "cdn.ipynb")]), tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "cdn.html would load https://cdn.jsdelivr.net/" in err and "setup_notebook()" in err


def test_remote_resources_are_found():
    page = """<link rel="stylesheet" href="//fonts.example.com/a.css"><img src="HTTPS://x.example/a.png">
    <style>@import url("https://cdn.example/b.css");</style><script>require.config({paths: {vega:
    'https://cdn.jsdelivr.net/npm/vega@6?noext'}})</script><a href="https://www.189.cn">ok</a>"""
    assert find_remote_resources(page) == [
        "//fonts.example.com/a.css", "HTTPS://x.example/a.png", "https://cdn.example/b.css",
        "https://cdn.jsdelivr.net/npm/vega@6?noext",
    ]


def test_nbconvert_cdn_scripts_are_dropped():
    from nbformat.v4 import new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell("$x^2$ and\n```mermaid\ngraph TD; A-->B\n```")],
                      metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}})
    page = notebook_to_html(nb)
    assert find_remote_resources(page) == [] and "<script" not in page


# --------------------------------------------------------------------------- in a real browser


def _specs(page: str) -> list[dict]:
    """The chart specs of a page (its JSON data blocks)."""
    blocks = re.findall(r'<script[^>]*class="tierlib-spec"[^>]*>(.*?)</script>', page, re.S)
    return [json.loads(b) for b in blocks]


@needs_chromium
def test_chart_renders_in_headless_chromium(chart_run, tmp_path):
    dom = browser.dump_dom(chart_run / "chart.html", tmp_path / "profile")
    assert 'class="tierlib-chart tierlib-live"' in dom  # drawn by vega-embed, the static PNG hidden
    view = dom[re.search(r'class="tierlib-view[ "]', dom).start():]
    assert re.search(r'<g class="mark-rect role-mark[^>]*>\s*<path', view)
    (img,) = re.findall(r'<img[^>]*class="tierlib-static"[^>]*>', dom)
    png = re.search(r'src="data:image/png;base64,([^"]+)"', img).group(1)
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n" and 'alt="Bars (2024-12-01)"' in img

    png = browser.screenshot(chart_run / "chart.html", tmp_path / "chart.png", tmp_path / "profile")
    pixels = browser.read_png(png)
    bars = browser.count_color(pixels, VEGA_BLUE)
    assert bars > 1500, f"only {bars} pixels of the bars' colour: the chart did not render"


@needs_chromium
def test_index_renders_in_headless_chromium(chart_run, tmp_path):
    dom = browser.dump_dom(chart_run / "index.html", tmp_path / "profile")
    assert re.search(r'<a href="chart.html">chart</a>', dom) and "tierlib version" in dom


def test_notebooks_set_up_without_importing_the_runner():
    """Issue 11 item 3: notebooks import ``tierlib.notebook``; the runner (papermill, nbconvert) stays out."""
    import subprocess
    import sys

    code = ("import sys, tierlib.notebook; tierlib.notebook.setup_notebook(); "
            "print(sorted(m for m in sys.modules if m.startswith(('tierlib.report', 'papermill', 'nbconvert'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_report_package_modules_are_small():
    """Issue 11 item 3: the report runner is a package of small modules (was one file of 842 lines)."""
    folder = Path(__file__).parents[1] / "tierlib" / "report"
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert {"config.py", "parameters.py", "execution.py", "pages.py", "index.py"} <= set(sizes)
    assert max(sizes.values()) < 400, sizes


@needs_chromium
def test_pages_request_nothing_in_headless_chromium_with_the_network_blocked(chart_run):
    """Issue 10 item 9, layer b, on this run's pages: every request but the page's own is aborted and recorded."""
    from tierlib.report.browser import check_pages

    pages = sorted(chart_run.glob("*.html"))
    assert [p.name for p in pages] == ["chart.html", "index.html"]
    assert check_pages(pages) == {}
