"""Run the report notebooks with papermill and publish them as offline HTML pages.

``tierlib report [--config FILE] [--out reports/<run-id>]`` reads a config (default:
``tierlib/report_config.yaml``), checks every parameter against the notebooks' ``parameters``
cells *before* anything runs, executes the notebooks, converts each to a self-contained HTML
page with the code hidden, and writes ``index.html`` and ``params.json`` next to them.

Offline by construction (carrier analysts work on intranets):

- charts: :func:`tierlib.notebook.setup_notebook`, called in each notebook's first cell, makes
  Altair render every chart to SVG in the kernel (vl-convert); the page embeds it as an image
  (a ``data:`` URI), so a page carries no chart script at all;
- pages: the HTML template drops nbconvert's CDN references (require.js, MathJax, Mermaid,
  Jupyter widgets), and every page is scanned afterwards: anything that would make a browser
  fetch from the network (:func:`find_remote_resources`) fails the run.

Notebooks run in a kernel of the interpreter that runs the report, importing the same
``tierlib``, with the notebook's own folder as working directory (as in JupyterLab).

Modules: :mod:`~tierlib.report.config` (the YAML config), :mod:`~tierlib.report.parameters`
(notebook parameters, checked before anything runs), :mod:`~tierlib.report.execution`
(papermill runs), :mod:`~tierlib.report.pages` (HTML pages and the offline check),
:mod:`~tierlib.report.index` (index page, ``params.json``); the command line lives in :mod:`tierlib.cli`.
Notebooks import :mod:`tierlib.notebook`, never this package.
"""

from tierlib.report.config import DEFAULT_CONFIG, ReportConfig, ReportError, ReportWarning, load_config
from tierlib.report.execution import NotebookResult, ReportRun, run_report
from tierlib.report.pages import find_remote_resources, notebook_to_html
from tierlib.report.parameters import NotebookJob, Parameter, check_parameters, declared_parameters

ReportError.__module__ = __name__  # shown as tierlib.report.ReportError in one-line errors and doctests

__all__ = [
    "DEFAULT_CONFIG", "NotebookJob", "NotebookResult", "Parameter", "ReportConfig", "ReportError", "ReportWarning",
    "ReportRun", "check_parameters", "declared_parameters",
    "find_remote_resources", "load_config", "notebook_to_html", "run_report",
]
