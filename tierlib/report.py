"""Run the report notebooks with papermill and publish them as offline HTML pages.

``tierlib report [--config FILE] [--out reports/<run-id>]`` reads a config (default:
``tierlib/report_config.yaml``), checks every parameter against the notebooks' ``parameters``
cells *before* anything runs, executes the notebooks, converts each to a self-contained HTML
page with the code hidden, and writes ``index.html`` and ``params.json`` next to them.

Offline by construction (carrier analysts work on intranets):

- charts: :func:`setup_notebook`, called in each notebook's first cell, makes Altair render
  every chart to SVG in the kernel (vl-convert); the page embeds it as an image (a ``data:``
  URI), so a page carries no chart script at all;
- pages: the HTML template drops nbconvert's CDN references (require.js, MathJax, Mermaid,
  Jupyter widgets), and every page is scanned afterwards: anything that would make a browser
  fetch from the network (:func:`find_remote_resources`) fails the run.

Notebooks run in a kernel of the interpreter that runs the report, importing the same
``tierlib``, with the notebook's own folder as working directory (as in JupyterLab).
"""

from __future__ import annotations

import ast
import html
import io
import json
import logging
import warnings
import os
import re
import sys
import time
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

DEFAULT_CONFIG = Path(__file__).with_name("report_config.yaml")
_CONFIG_KEYS = {"notebooks", "parameters", "notebook_parameters", "data_parameters"}
_TYPE_NAMES = ("bool", "int", "float", "str", "list", "dict", "None")


class ReportWarning(UserWarning):
    """A report config that runs, but maybe not as meant (a common parameter a notebook ignores)."""


class ReportError(ValueError):
    """A report config or parameter problem, found before any notebook runs.

    ``str(error)`` holds one line per problem, each naming the notebook and the parameter.
    """


# --------------------------------------------------------------------------- notebook side


def setup_notebook() -> None:
    """Set up a notebook's display for offline reports; call it in the notebook's first cell.

    Altair charts render to SVG in the kernel (vl-convert; no script, no CDN), in JupyterLab
    and in the report pages alike (no tooltips or zoom: a report page is a printout). Polars
    tables show 20 rows, 30 columns and strings up to 60 characters.

    Examples
    --------
    >>> import altair as alt, polars as pl
    >>> before = alt.renderers.active
    >>> with pl.Config():
    ...     setup_notebook()
    ...     alt.renderers.active
    'svg'
    >>> _ = alt.renderers.enable(before)
    """
    import altair as alt
    import polars as pl

    alt.renderers.enable("svg")
    pl.Config.set_tbl_rows(20)
    pl.Config.set_tbl_cols(30)
    pl.Config.set_fmt_str_lengths(60)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ReportConfig:
    """What to run: notebooks in order, common and per-notebook parameters.

    Relative paths (notebooks and data parameters) are taken from the working directory.
    """

    notebooks: tuple[Path, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    notebook_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    data_parameters: tuple[str, ...] = ()
    source: Path | None = None


class _StringDates(yaml.SafeLoader):
    """YAML loader that keeps ``2024-12-01`` a string: notebooks take dates as ISO strings."""


_StringDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _StringDates.yaml_implicit_resolvers.items()
}


def load_config(path: str | Path | None = None) -> ReportConfig:
    """Read a report config file (YAML); ``None`` reads the default config.

    Examples
    --------
    >>> config = load_config()
    >>> [p.name for p in config.notebooks]
    ['01_compare_schemes.ipynb', '02_threshold_simulation.ipynb', '03_churn_near_tier_drop.ipynb']
    >>> config.data_parameters
    ('panel',)
    """
    source = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_StringDates) or {}
    except OSError as exc:
        raise ReportError(f"{source}: cannot read the config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ReportError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    problems = _config_shape_problems(raw)
    if problems:
        raise ReportError("\n".join(f"{source}: {p}" for p in problems))
    return ReportConfig(
        notebooks=tuple(Path(p) for p in raw["notebooks"]),
        parameters=raw.get("parameters") or {},
        notebook_parameters={k: v or {} for k, v in (raw.get("notebook_parameters") or {}).items()},
        data_parameters=tuple(raw.get("data_parameters") or ()),
        source=source,
    )


def _config_shape_problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict):
        return ["the config must be a mapping with a 'notebooks' list"]
    problems = [f"unknown key '{k}' (expected one of: {', '.join(sorted(_CONFIG_KEYS))})"
                for k in raw if k not in _CONFIG_KEYS]
    notebooks = raw.get("notebooks")
    if not isinstance(notebooks, list) or not notebooks or not all(isinstance(p, str) for p in notebooks):
        problems.append("'notebooks' must be a non-empty list of notebook paths")
    if not isinstance(raw.get("parameters") or {}, dict):
        problems.append("'parameters' must be a mapping of name: value")
    sections = raw.get("notebook_parameters") or {}
    if not isinstance(sections, dict) or not all(isinstance(v or {}, dict) for v in sections.values()):
        problems.append("'notebook_parameters' must map a notebook name to a mapping of name: value")
    data = raw.get("data_parameters") or []
    if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
        problems.append("'data_parameters' must be a list of parameter names")
    return problems


# --------------------------------------------------------------------------- parameters


class Parameter(NamedTuple):
    """One knob of a notebook's ``parameters`` cell.

    ``types`` is the set of accepted type names (``int``, ``float``, ``str``, ``bool``,
    ``list``, ``dict``, ``None``), or ``None`` when the cell does not say (default ``None``
    or an expression that is not a literal): then any value is accepted.
    """

    name: str
    types: frozenset[str] | None
    default: str
    help: str


def declared_parameters(notebook: Any) -> dict[str, Parameter] | None:
    """The parameters declared by the notebook's cell tagged ``parameters``.

    ``notebook`` is a path or an ``nbformat`` notebook. Returns ``None`` when no cell is tagged
    ``parameters``. Types come from annotations (``as_of: str | None = None``), else from the
    literal default (``n = 3`` is an ``int``; an ``int`` is also accepted for a ``float``).

    The cell is read with :mod:`ast` rather than ``papermill.inspect_notebook``: papermill 2.7's
    line-based inspector silently drops ``x: str | None = None`` and any line with two ``=``,
    and infers no type from defaults.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell('panel = "data/sample/panel.parquet"  # the panel\\nas_of: str | None = None')
    >>> cell.metadata["tags"] = ["parameters"]
    >>> params = declared_parameters(new_notebook(cells=[cell]))
    >>> params["panel"].types, params["panel"].help
    (frozenset({'str'}), 'the panel')
    >>> sorted(params["as_of"].types)
    ['None', 'str']
    """
    nb = _read_notebook(notebook) if isinstance(notebook, (str, Path)) else notebook
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return None
    source = _without_magics(cell.source)
    comments = _comments_by_line(source)
    declared = {}
    for stmt in ast.parse(source).body:
        for name, types in _assigned(stmt):
            default = ast.get_source_segment(source, stmt.value) if stmt.value else ""
            declared[name] = Parameter(name, types, default or "", comments.get(stmt.end_lineno, ""))
    return declared


def _read_notebook(path: str | Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _without_magics(source: str) -> str:
    # IPython magics are legal in a notebook cell but not Python; blank them, keep line numbers.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _comments_by_line(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT}


def _assigned(stmt: ast.stmt) -> list[tuple[str, frozenset[str] | None]]:
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [(stmt.target.id, _annotation_types(stmt.annotation) or _literal_types(stmt.value))]
    if isinstance(stmt, ast.Assign):
        names = [t for t in stmt.targets if isinstance(t, ast.Name)]
        unpacked = [e for t in stmt.targets if isinstance(t, ast.Tuple) for e in t.elts if isinstance(e, ast.Name)]
        return [(n.id, _literal_types(stmt.value)) for n in names] + [(n.id, None) for n in unpacked]
    return []


def _literal_types(node: ast.expr | None) -> frozenset[str] | None:
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None  # not a literal (a call, a name): the notebook decides at run time
    if value is None:
        return None
    name = "list" if isinstance(value, tuple) else _type_name(value)
    return frozenset({name}) if name in _TYPE_NAMES else None


_ANNOTATION_ALIASES = {"List": "list", "Tuple": "list", "tuple": "list", "Dict": "dict", "NoneType": "None"}


def _annotation_types(node: ast.expr) -> frozenset[str] | None:
    """``int``, ``list[str]``, ``str | None``, ``Optional[float]``... -> type names; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "int" (quoted)
        try:
            return _annotation_types(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.Constant) and node.value is None:
        return frozenset({"None"})
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_types(node.left), _annotation_types(node.right)
        return left | right if left is not None and right is not None else None
    if isinstance(node, ast.Subscript):
        outer = _annotation_name(node.value)
        if outer in ("Optional", "Union"):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            types = [_annotation_types(p) for p in parts]
            if any(t is None for t in types):
                return None
            return frozenset().union(*types) | ({"None"} if outer == "Optional" else set())
        node = node.value  # list[str] -> list
    name = _annotation_name(node)
    name = _ANNOTATION_ALIASES.get(name, name)
    return frozenset({name}) if name in _TYPE_NAMES else None


def _annotation_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.Optional
        return node.attr
    return None


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _accepts(types: frozenset[str] | None, value: Any) -> bool:
    if types is None:
        return True
    name = _type_name(value)
    return name in types or (name == "int" and "float" in types)


@dataclass(frozen=True)
class NotebookJob:
    """A notebook to run (absolute ``path``), its page ``name`` and its checked parameters."""

    path: Path
    name: str  # the file name without .ipynb: page name and notebook_parameters key
    parameters: dict[str, Any]


def check_parameters(config: ReportConfig) -> list[NotebookJob]:
    """Match the config's parameters to the notebooks' ``parameters`` cells; run nothing.

    Returns the notebooks in order with the parameters each will get. Raises
    :class:`ReportError` with one line per problem: a missing notebook, an unknown parameter,
    a value of the wrong type, a missing data file.

    Examples
    --------
    >>> import tempfile
    >>> from nbformat import write
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("months = 12  # window length")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> path = Path(tempfile.mkdtemp()) / "demo.ipynb"
    >>> write(new_notebook(cells=[cell]), path)
    >>> check_parameters(ReportConfig(notebooks=(path,), parameters={"months": 6}))[0].parameters
    {'months': 6}
    >>> check_parameters(ReportConfig(notebooks=(path,), parameters={"months": "6"}))
    Traceback (most recent call last):
    ...
    tierlib.report.ReportError: demo.ipynb: parameter 'months' (window length) must be int (notebook default 12), got str '6'
    """
    problems: list[str] = []
    paths = [p.resolve() for p in config.notebooks]
    names = [p.stem for p in paths]
    problems += [f"{p}: notebook not found" for p in paths if not p.is_file()]
    problems += [f"two notebooks are named '{n}': page names must be unique"
                 for n in sorted(set(names)) if names.count(n) > 1]
    problems += [f"notebook_parameters: '{k}' is none of the notebooks ({', '.join(names)})"
                 for k in config.notebook_parameters if k not in names]
    problems += _data_problems(config)
    if problems:
        raise ReportError("\n".join(problems))

    declared = _declarations(paths)
    for name in config.parameters:
        if not any(name in (d or {}) for d in declared.values()):
            problems.append(f"unknown parameter '{name}' in 'parameters': no notebook declares it")
            continue
        # a report-wide value (e.g. as_of) that some notebook does not declare silently does not
        # reach it: that notebook describes another month than the rest of the report
        for path in paths:
            if name not in (declared[path] or {}):
                warnings.warn(f"{path.name}: does not declare '{name}', given to every notebook in "
                              f"'parameters'; it runs with its own default", ReportWarning, stacklevel=2)
    jobs = []
    for path in paths:
        common = {k: v for k, v in config.parameters.items() if k in (declared[path] or {})}
        own = dict(config.notebook_parameters.get(path.stem, {}))
        problems += _notebook_problems(path.name, declared[path], own, {**common, **own})
        jobs.append(NotebookJob(path, path.stem, _absolute_data({**common, **own}, config.data_parameters)))
    if problems:
        raise ReportError("\n".join(problems))
    return jobs


def _declarations(paths: list[Path]) -> dict[Path, dict[str, Parameter] | None]:
    declared, problems = {}, []
    for path in paths:
        try:
            declared[path] = declared_parameters(path)
        except Exception as exc:  # unreadable JSON, a parameters cell that is not Python
            problems.append(f"{path.name}: cannot read its parameters cell ({_one_line(str(exc))})")
    if problems:
        raise ReportError("\n".join(problems))
    return declared


def _notebook_problems(label: str, declared: dict[str, Parameter] | None, own: dict, values: dict) -> list[str]:
    if declared is None:
        if not own:
            return []
        return [f"{label}: no cell is tagged 'parameters', so it takes no parameter ({', '.join(own)} given)"]
    problems = []
    for name, value in values.items():
        param = declared.get(name)
        if param is None:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(f"{label}: unknown parameter '{name}' (its parameters cell declares: {known})")
        elif not _accepts(param.types, value):
            about = f" ({param.help})" if param.help else ""
            wanted = " or ".join(t for t in _TYPE_NAMES if t in param.types)
            problems.append(f"{label}: parameter '{name}'{about} must be {wanted} (notebook default "
                            f"{param.default}), got {_type_name(value)} {value!r}")
    return problems


def _data_problems(config: ReportConfig) -> list[str]:
    problems = []
    sections = [("parameters", config.parameters)]
    sections += [(f"notebook_parameters.{k}", v) for k, v in config.notebook_parameters.items()]
    for section, params in sections:
        for name in config.data_parameters:
            value = params.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                problems.append(f"{section}: data parameter '{name}' must be a path (str), "
                                f"got {_type_name(value)} {value!r}")
            elif not Path(value).exists():
                problems.append(f"{section}: data parameter '{name}': {Path(value).resolve()} does not exist")
    return problems


def _absolute_data(params: dict[str, Any], data_parameters: tuple[str, ...]) -> dict[str, Any]:
    # Notebooks run in their own folder: a relative data path would point elsewhere there.
    return {k: str(Path(v).resolve()) if k in data_parameters and isinstance(v, str) else v for k, v in params.items()}


# --------------------------------------------------------------------------- execution


@dataclass
class NotebookResult:
    """The outcome of one notebook: ``error`` is ``None`` when it ran and its page is offline."""

    name: str
    source: Path
    parameters: dict[str, Any]
    seconds: float = 0.0
    error: str | None = None


@dataclass
class ReportRun:
    """A finished run: the output folder and one result per notebook, in config order."""

    out: Path
    run_id: str
    started: datetime
    results: list[NotebookResult]
    config: ReportConfig

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results)

    @property
    def failures(self) -> list[str]:
        return [r.error for r in self.results if r.error is not None]


def run_report(config: ReportConfig | None = None, *, out: str | Path | None = None,
               progress: Callable[[str], None] | None = None) -> ReportRun:
    """Check the parameters, run every notebook, write the pages, ``index.html`` and ``params.json``.

    ``out`` defaults to ``reports/<run-id>`` with a timestamp run id; it must not hold files.
    A parameter problem raises :class:`ReportError` and creates nothing. A failing notebook
    does not stop the others: its partial ``.ipynb`` and page are kept, ``ok`` is false and
    ``failures`` has one line for it naming the cell.

    Examples
    --------
    >>> run_report(ReportConfig(notebooks=(Path("no/such.ipynb"),)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tierlib.report.ReportError: ...no/such.ipynb: notebook not found
    """
    config = config if config is not None else load_config()
    jobs = check_parameters(config)
    started = datetime.now().astimezone()
    out = Path(out) if out is not None else Path("reports") / started.strftime("%Y%m%d-%H%M%S")
    if out.exists() and any(out.iterdir()):
        raise ReportError(f"{out}: the output folder already holds files; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    run = ReportRun(out, out.name, started, [NotebookResult(j.name, j.path, j.parameters) for j in jobs], config)
    for job, result in zip(jobs, run.results):
        if progress:
            progress(f"running {job.path.name} ...")
        began = time.monotonic()
        failed = _execute(job, out / f"{job.name}.ipynb")
        offline = _publish(job, out) if (out / f"{job.name}.ipynb").exists() else None  # also a partial one
        result.error = failed or offline
        result.seconds = round(time.monotonic() - began, 1)
        if progress:
            progress(f"  {'failed' if result.error else 'done'} in {result.seconds} s")
        _write_params(run)
    (out / "index.html").write_text(_index_html(run), encoding="utf-8")
    return run


def _execute(job: NotebookJob, output: Path) -> str | None:
    """Run one notebook with papermill; on failure return one line naming the cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        with _without_papermill_inspector_warnings():
            papermill.execute_notebook(
                str(job.path), str(output), parameters=job.parameters, kernel_name="python3",
                language="python", kernel_manager_class=_kernel_manager_class(), cwd=str(job.path.parent),
                progress_bar=False, log_output=False,
            )
    except PapermillExecutionError as exc:
        return _failure_line(job, output, exc.cell_index, exc.ename, exc.evalue)
    except Exception as exc:  # the kernel died (or did not start): no error output to read
        started = _last_started_cell(output)
        if started is None:
            return f"{job.path.name} failed: {type(exc).__name__}: {_one_line(str(exc))}"
        return _failure_line(job, output, started, type(exc).__name__, str(exc))
    return None


@contextmanager
def _without_papermill_inspector_warnings() -> Iterator[None]:
    """Drop papermill's "Passed unknown parameter" warnings: its inspector misses parameters
    that :func:`declared_parameters` reads (``x: str | None = None``), which were checked."""
    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Passed unknown parameter")

    logger = logging.getLogger("papermill")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _executed_cells(output: Path) -> list[Any]:
    """The cells papermill ran, without the error notes it adds to a failed notebook."""
    nb = _read_notebook(output)
    return [c for c in nb.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]


def _last_started_cell(output: Path) -> int | None:
    if not output.exists():
        return None
    started = [i for i, c in enumerate(_executed_cells(output)) if c.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _failure_line(job: NotebookJob, output: Path, cell_index: int, ename: str, evalue: str) -> str:
    # papermill counts the cell it injected after the parameters cell; report the index in
    # the notebook the analyst edits.
    cells = _executed_cells(output)
    injected = sum("injected-parameters" in c.metadata.get("tags", []) for c in cells[:cell_index])
    index = cell_index - injected
    first = next((line.strip() for line in cells[cell_index].source.splitlines() if line.strip()), "")
    return f"{job.path.name} failed in cell {index + 1} (index {index}, `{first}`): {ename}: {_one_line(evalue)}"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_KERNEL_MANAGER = None


def _kernel_manager_class() -> type:
    """A kernel manager that always starts this interpreter, importing this ``tierlib``.

    A ``python3`` kernelspec found on the Jupyter path may point at another interpreter (a
    user-level ``ipykernel install`` from another environment); the report must not depend on it.
    """
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is None:
        import zmq
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict
        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import AsyncKernelManager
        from traitlets import default

        class ThisInterpreterKernelManager(AsyncKernelManager):
            @property
            def kernel_spec(self) -> KernelSpec:
                if self._kernel_spec is None:
                    package_root = str(Path(__file__).resolve().parent.parent)
                    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
                    # The kernel's own log is noise here (shutdown starts with SIGINT, logged
                    # as an error); a cell's errors are in the notebook, a dead kernel is reported.
                    quiet = ["--IPKernelApp.log_level=CRITICAL"]
                    self._kernel_spec = KernelSpec(resource_dir=RESOURCES, env={"PYTHONPATH": path},
                                                   **get_kernel_dict(extra_arguments=quiet))
                return self._kernel_spec

            @default("transport_encryption")
            def _encrypt_when_possible(self) -> str:
                return "auto" if zmq.has("curve") else "disabled"

        _KERNEL_MANAGER = ThisInterpreterKernelManager
    return _KERNEL_MANAGER


# --------------------------------------------------------------------------- pages


_PAGE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{#- nbconvert's lab page without anything fetched from a CDN -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>main { max-width: 1100px; margin: 0 auto; } nav.tierlib { padding: 8px 20px; font: 14px sans-serif; }</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="tierlib"><a href="index.html">&larr; report index</a></nav>
{%- endblock body_header -%}
{#- no widget state: widgets need their manager script, which would come from a CDN -#}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""


def notebook_to_html(notebook: Any, *, name: str = "notebook", folder: str | Path = ".") -> str:
    """An executed notebook as one self-contained HTML page: no code, no prompts, no CDN.

    ``folder`` is where images referenced by the notebook's Markdown are looked up (they
    are embedded).

    Examples
    --------
    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> page = notebook_to_html(new_notebook(cells=[new_markdown_cell("# Tiers")]))
    >>> "<h1" in page, find_remote_resources(page)
    (True, [])
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", template_file="tierlib_page.html.j2",
        extra_loaders=[DictLoader({"tierlib_page.html.j2": _PAGE_TEMPLATE})],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": name, "path": str(folder)}})
    return body


_FIX = "call tierlib.report.setup_notebook() in the notebook's first cell"
_SHOWN = {"text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/latex"}


def _publish(job: NotebookJob, out: Path) -> str | None:
    """Write the page; return one line if it would need the network or lost a chart."""
    nb = _read_notebook(out / f"{job.name}.ipynb")
    try:
        page = notebook_to_html(nb, name=job.name, folder=job.path.parent)
    except Exception as exc:
        return f"{job.name}.html could not be written: {type(exc).__name__}: {_one_line(str(exc))}"
    (out / f"{job.name}.html").write_text(page, encoding="utf-8")
    remote = find_remote_resources(page)
    if remote:
        more = f" (and {len(remote) - 1} more)" if len(remote) > 1 else ""
        return f"{job.name}.html would load {remote[0]} from the network{more}: {_FIX}"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            kinds = set(output.get("data", {}))
            lost = sorted(k for k in kinds if k.startswith("application/vnd."))
            if lost and not kinds & _SHOWN:  # e.g. Altair's default renderer: a spec, no picture
                first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
                return f"{job.name}.html shows the {lost[0]} output of `{first}` as plain text: {_FIX}"
    return None


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+)["']?((?:https?:)?//[^"')\s]+)""", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""", re.IGNORECASE)
_FETCHED = ("src", "href", "xlink:href", "srcset", "data", "poster", "background")


class _RemoteFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if not value:
                continue
            if key in _FETCHED and tag not in ("a", "area") and _REMOTE.match(value):
                self.found.append(value.strip())  # a link to follow is fine; a resource is not
            elif key == "style":
                self.found += _CSS_URL.findall(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.found += _CSS_URL.findall(data)
        elif self._in == "script":
            self.found += _SCRIPT_URL.findall(data)


def find_remote_resources(page: str) -> list[str]:
    """URLs a browser would fetch from the network when it opens ``page``.

    Counts ``src``/``href`` of scripts, stylesheets, images, frames (not ``<a>`` links),
    ``url(...)``/``@import`` in CSS, and any URL string inside an inline script (a script
    that names a CDN loads from it, e.g. Altair's default renderer).

    Examples
    --------
    >>> find_remote_resources('<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>')
    ['https://cdn.jsdelivr.net/npm/vega@6']
    >>> find_remote_resources('<a href="https://www.10010.com">Unicom</a><img src="data:image/png;base64,AA">')
    []
    """
    finder = _RemoteFinder()
    finder.feed(page)
    finder.close()
    return finder.found


# --------------------------------------------------------------------------- index


def _tierlib_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierlib")
    except PackageNotFoundError:  # running from a checkout that is not installed
        import tierlib

        return getattr(tierlib, "__version__", "unknown")


def _data_paths(run: ReportRun) -> list[str]:
    names = run.config.data_parameters
    return sorted({str(v) for r in run.results for k, v in r.parameters.items() if k in names})


def _run_summary(run: ReportRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "run_date": run.started.isoformat(timespec="seconds"),
        "tierlib_version": _tierlib_version(),
        "config": str(run.config.source.resolve()) if run.config.source else None,
        "data": _data_paths(run),
        "parameters": dict(run.config.parameters),
        "notebooks": [
            {"name": r.name, "source": str(r.source), "parameters": r.parameters,
             "status": "failed" if r.error else "ok", "error": r.error, "seconds": r.seconds}
            for r in run.results
        ],
    }


def _write_params(run: ReportRun) -> None:
    text = json.dumps(_run_summary(run), indent=2, ensure_ascii=False, default=str)
    (run.out / "params.json").write_text(text + "\n", encoding="utf-8")


def _index_html(run: ReportRun) -> str:
    s = _run_summary(run)
    e = html.escape
    rows = []
    for nb in s["notebooks"]:
        status = "ok" if nb["error"] is None else f"<strong>failed</strong>: {e(nb['error'])}"
        params = e(json.dumps(nb["parameters"], ensure_ascii=False, default=str))
        rows.append(f'<tr><td><a href="{e(nb["name"])}.html">{e(nb["name"])}</a></td><td>{status}</td>'
                    f'<td><code>{params}</code></td><td>{nb["seconds"]} s</td>'
                    f'<td><a href="{e(nb["name"])}.ipynb">.ipynb</a></td></tr>')
    facts = [("Run", s["run_id"]), ("Run date", s["run_date"]), ("tierlib version", s["tierlib_version"]),
             ("Data", ", ".join(s["data"]) or "none given"), ("Config", s["config"] or "(in code)"),
             ("Common parameters", json.dumps(s["parameters"], ensure_ascii=False, default=str))]
    dl = "\n".join(f"<dt>{e(k)}</dt><dd><code>{e(str(v))}</code></dd>" for k, v in facts)
    verdict = "All notebooks ran." if run.ok else f"{len(run.failures)} notebook(s) failed."
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tierlib report {e(s["run_id"])}</title>
<style>
body {{ font: 15px/1.5 sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }} dt {{ font-weight: bold; }}
dd {{ margin: 0; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em; text-align: left; vertical-align: top; }}
code {{ font-size: 13px; word-break: break-word; }}
</style></head>
<body>
<h1>tierlib report {e(s["run_id"])}</h1>
<p>{e(verdict)} Parameters as run: <a href="params.json">params.json</a>.</p>
<dl>
{dl}
</dl>
<table><thead>
<tr><th>Notebook</th><th>Status</th><th>Parameters</th><th>Time</th><th>Executed notebook</th></tr>
</thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
