"""Execution: run the checked notebooks with papermill, in a kernel of this interpreter."""

from __future__ import annotations

import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierlib.notebook import TABLES_ENV
from tierlib.outputs import OutputError, atomic_dir, output_lock
from tierlib.report.browser import chromium
from tierlib.report.config import ReportConfig, ReportError, load_config, one_line
from tierlib.report.files import bound_outputs, collect_tables, output_problems, report_target, write_marker
from tierlib.report.index import index_html, write_params
from tierlib.report.pages import publish
from tierlib.report.parameters import NotebookJob, _read_notebook, check_parameters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

@dataclass
class NotebookResult:
    """The outcome of one notebook: ``error`` is ``None`` when it ran and its page is offline."""

    name: str
    source: Path
    parameters: dict[str, Any]
    seconds: float = 0.0
    error: str | None = None
    tables: list[str] = field(default_factory=list)  # workbook and CSV files, relative to the run folder


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


def run_report(config: ReportConfig | None = None, *, out: str | Path | None = None, overwrite: bool = False,
               progress: Callable[[str], None] | None = None) -> ReportRun:
    """Check the parameters, run every notebook, publish the pages, ``index.html`` and ``params.json``.

    ``out`` defaults to ``reports/<run-id>`` with a timestamp run id. Nothing appears under
    ``out`` until the run ends: the folder is built under a hidden temporary sibling while
    the run holds a lock on ``out`` (a second run into it is refused at once), then published
    whole. A folder holding anything but a previous report is refused; a previous report is
    replaced only with ``overwrite`` (a failed one also without). A parameter or output
    problem raises :class:`ReportError` and creates nothing. A failing notebook does not stop
    the others: its partial ``.ipynb`` and page are kept, ``ok`` is false, ``params.json``
    says ``"status": "failed"`` and ``failures`` has one line for it naming the cell.

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
    if out is None:
        out = Path("reports") / started.strftime("%Y%m%d-%H%M%S")
        out.parent.mkdir(exist_ok=True)  # the default place; a named --out's parent must exist
    out = Path(out)
    problems = output_problems(config, jobs, out, overwrite)
    if config.browser_check and chromium() is None:
        problems.append("browser_check: true, but chromium is not installed (Debian: apt-get install chromium)")
    if problems:
        raise ReportError("\n".join(problems))
    run = ReportRun(out, out.name, started, [NotebookResult(j.name, j.path, dict(j.parameters)) for j in jobs],
                    config)
    try:
        with output_lock(out):
            replace = report_target(out, overwrite)
            with atomic_dir(out, overwrite=replace) as tmp:
                tmp = tmp.resolve()  # notebooks run in their own folder
                for job, result in zip(jobs, run.results):
                    _run_one(job, result, run, tmp, overwrite, progress)
                    write_params(run, tmp)
                if config.browser_check:
                    _browser_check(jobs, run, tmp, progress)
                    write_params(run, tmp)
                (tmp / "index.html").write_text(index_html(run), encoding="utf-8")
                write_marker(tmp, run.ok)
    except OutputError as exc:
        raise ReportError(str(exc)) from None
    return run


def _run_one(job: NotebookJob, result: NotebookResult, run: ReportRun, tmp: Path, overwrite: bool,
             progress: Callable[[str], None] | None) -> None:
    if progress:
        progress(f"running {job.path.name} ...")
    began = time.monotonic()
    scratch = tmp / f".tables-{job.name}"
    scratch.mkdir()
    output = tmp / f"{job.name}.ipynb"
    try:
        with bound_outputs(job, run.config.output_parameters, run.out, tmp, overwrite) as params:
            failed = _execute(job, output, params, scratch, run.config.cell_timeout)
            if failed:
                raise _Failed(failed)
    except _Failed as exc:
        result.error = str(exc)
    except OutputError as exc:  # it did not write a file it was given
        result.error = str(exc)
    offline = publish(job, tmp) if output.exists() else None  # also a partial one
    result.error = result.error or offline
    if result.error is None:
        try:
            result.tables = collect_tables(scratch, tmp, job.name)
        except OutputError as exc:
            result.error = str(exc)
    shutil.rmtree(scratch, ignore_errors=True)
    result.seconds = round(time.monotonic() - began, 1)
    if progress:
        progress(f"  {'failed' if result.error else 'done'} in {result.seconds} s")


def _browser_check(jobs: list[NotebookJob], run: ReportRun, tmp: Path,
                   progress: Callable[[str], None] | None) -> None:
    """Load every page in headless chromium with the network blocked; a request fails its notebook."""
    from tierlib.report.browser import check_pages

    if progress:
        progress("loading the pages in headless chromium ...")
    pages = [tmp / f"{r.name}.html" for r in run.results if (tmp / f"{r.name}.html").exists()]
    problems = check_pages(pages)
    for result in run.results:
        line = problems.get(f"{result.name}.html")
        if line and result.error is None:
            result.error = line


class _Failed(Exception):
    """A notebook failed (one line): its output files are not published."""


def _execute(job: NotebookJob, output: Path, parameters: dict[str, Any], tables: Path,
             timeout: float) -> str | None:
    """Run one notebook with papermill; on failure return one line naming the cell."""
    import papermill
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    from tierlib.papermill_engine import register

    try:
        with _without_papermill_inspector_warnings():
            papermill.execute_notebook(  # the engine puts the Markdown in the `lang` parameter's language
                str(job.path), str(output), parameters=parameters, kernel_name="python3", engine_name=register(),
                language="python", kernel_manager_class=_kernel_manager_class({TABLES_ENV: str(tables)}),
                cwd=str(job.path.parent), progress_bar=False, log_output=False, execution_timeout=timeout,
            )
    except PapermillExecutionError as exc:
        return _failure_line(job, output, exc.cell_index, exc.ename, exc.evalue)
    except CellTimeoutError:
        started = _last_started_cell(output)
        what = f"ran longer than cell_timeout = {timeout:g} s"
        if started is None:
            return f"{job.path.name} failed: a cell {what}"
        return _failure_line(job, output, started, "CellTimeoutError", what)
    except Exception as exc:  # the kernel died (or did not start): no error output to read
        started = _last_started_cell(output)
        if started is None:
            return f"{job.path.name} failed: {type(exc).__name__}: {one_line(str(exc))}"
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
    return f"{job.path.name} failed in cell {index + 1} (index {index}, `{first}`): {ename}: {one_line(evalue)}"


_KERNEL_MANAGER = None


def _kernel_manager_class(env: dict[str, str] | None = None) -> type:
    """A kernel manager that always starts this interpreter, importing this ``tierlib``.

    A ``python3`` kernelspec found on the Jupyter path may point at another interpreter (a
    user-level ``ipykernel install`` from another environment); the report must not depend on it.
    ``env`` is added to the kernel's environment (e.g. where :func:`tierlib.notebook.table`
    leaves the notebook's tables).
    """
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is None:
        import zmq
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict
        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import AsyncKernelManager
        from traitlets import default

        class ThisInterpreterKernelManager(AsyncKernelManager):
            extra_env: dict[str, str] = {}

            @property
            def kernel_spec(self) -> KernelSpec:
                if self._kernel_spec is None:
                    package_root = str(Path(__file__).resolve().parents[2])
                    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
                    # The kernel's own log is noise here (shutdown starts with SIGINT, logged
                    # as an error); a cell's errors are in the notebook, a dead kernel is reported.
                    quiet = ["--IPKernelApp.log_level=CRITICAL"]
                    self._kernel_spec = KernelSpec(resource_dir=RESOURCES, env={"PYTHONPATH": path, **self.extra_env},
                                                   **get_kernel_dict(extra_arguments=quiet))
                return self._kernel_spec

            @default("transport_encryption")
            def _encrypt_when_possible(self) -> str:
                return "auto" if zmq.has("curve") else "disabled"

        _KERNEL_MANAGER = ThisInterpreterKernelManager
    if not env:
        return _KERNEL_MANAGER
    return type(_KERNEL_MANAGER.__name__, (_KERNEL_MANAGER,), {"extra_env": dict(env)})
