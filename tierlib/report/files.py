"""The files of a report run: its folder, the files its notebooks write, and their key tables.

Built on :mod:`tierlib.outputs` (the one way tierlib writes):

- the run folder is locked (:func:`~tierlib.outputs.output_lock`), built under a hidden
  temporary sibling and published whole (:func:`~tierlib.outputs.atomic_dir`); its marker says
  ``kind: tierlib report`` and the run's ``status``. A folder holding anything else is refused;
  ``--overwrite`` replaces a previous report; the folder of a *failed* report is replaced
  without it (nothing in it is a result);
- an output parameter (a file a notebook writes, config ``output_parameters``) resolves like a
  data parameter (from the working directory), must lie in the report folder or in ``data/``,
  and is written to a temporary the notebook is given, published when the notebook succeeds;
- key tables (:func:`tierlib.notebook.table`) are collected into ``<notebook>.xlsx`` and
  ``<notebook>/<nn>-<name>.csv``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierlib.outputs import MARKER, OutputError, atomic_file, check_target, own_dir

if TYPE_CHECKING:
    from tierlib.report.config import ReportConfig
    from tierlib.report.parameters import NotebookJob

#: ``kind`` in the marker of a report folder.
KIND = "tierlib report"
#: Files every run writes at the top of its folder (besides one page, notebook, workbook per notebook).
RUN_FILES = ("index.html", "params.json", MARKER)


def _marker(out: Path) -> dict | None:
    try:
        meta = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def report_target(out: Path, overwrite: bool) -> bool:
    """Check ``out`` may receive the report; return the ``overwrite`` flag to publish it with.

    A missing or empty folder is fine; a previous report needs ``overwrite`` unless it failed;
    anything else (files tierlib did not write, another tierlib output) is refused.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> report_target(d / "new", False)
    False
    >>> _ = (d / "notes.txt").write_text("mine")
    >>> report_target(d, True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tierlib.outputs.OutputError: ... holds files tierlib did not write (notes.txt); ...
    >>> shutil.rmtree(d)
    """
    meta = _marker(out) if out.is_dir() else None
    if meta is not None and not own_dir(out):
        if meta.get("kind") != KIND:
            raise OutputError(f"{out} holds a tierlib output that is not a report "
                              f"({meta.get('kind') or 'a ledger or panel'}); choose another --out")
        overwrite = overwrite or meta.get("status") == "failed"
    check_target(out, overwrite=overwrite)
    return overwrite


def write_marker(folder: Path, ok: bool) -> None:
    """The marker :func:`tierlib.outputs.publish_dir` completes with the file list."""
    (folder / MARKER).write_text(json.dumps({"kind": KIND, "status": "ok" if ok else "failed"}), encoding="utf-8")


# --------------------------------------------------------------------------- output parameters


def _data_folder() -> Path:
    return (Path.cwd() / "data").resolve()


def output_problems(config: ReportConfig, jobs: list[NotebookJob], out: Path, overwrite: bool) -> list[str]:
    """One line per output parameter that may not be written; resolves them in ``jobs``.

    A relative path is taken from the working directory (as data parameters are) and must lie
    in the report folder ``out`` or in ``data/`` (symbolic links followed); a file there that
    tierlib did not write is refused, and one it wrote needs ``overwrite``.
    """
    problems: list[str] = []
    report, data = out.resolve(), _data_folder()
    taken = {n for job in jobs for n in (f"{job.name}.html", f"{job.name}.ipynb", f"{job.name}.xlsx", job.name)}
    for job in jobs:
        for name in config.output_parameters:
            value = job.parameters.get(name)
            if value is None:
                continue
            where = f"{job.path.name}: output parameter '{name}'"
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where} must be a file path (str), got {value!r}")
                continue
            path = Path(value).expanduser().resolve()
            if path.is_relative_to(report) and path != report:
                rel = path.relative_to(report)
                if rel.parts[0] in taken or str(rel) in RUN_FILES:
                    problems.append(f"{where}: {value} is a file the report itself writes; choose another name")
            elif path.is_relative_to(data) and path != data:
                if not path.parent.is_dir():
                    problems.append(f"{where}: {path.parent} does not exist (tierlib does not create it)")
                else:
                    try:
                        check_target(path, overwrite=overwrite)
                    except OutputError as exc:
                        problems.append(f"{where}: {exc}")
            else:
                problems.append(f"{where}: {value} resolves to {path}, outside the report folder {report} "
                                f"and the data folder {data}; a report writes only there")
            job.parameters[name] = str(path)
    return problems


@contextlib.contextmanager
def bound_outputs(job: NotebookJob, names: tuple[str, ...], out: Path, tmp: Path,
                  overwrite: bool) -> Any:
    """Yield the notebook's parameters with each output file replaced by where it writes now.

    A file inside the report goes to the same place in the temporary folder ``tmp``; one in
    ``data/`` to a hidden temporary sibling, published (:func:`~tierlib.outputs.atomic_file`)
    when the block ends without error. A named file the notebook did not write is an error.
    """
    params = dict(job.parameters)
    report = out.resolve()
    with contextlib.ExitStack() as stack:
        wanted = {}
        for name in names:
            value = params.get(name)
            if not isinstance(value, str):
                continue
            path = Path(value)
            if path.is_relative_to(report):
                target = tmp / path.relative_to(report)
                target.parent.mkdir(parents=True, exist_ok=True)
            else:
                target = stack.enter_context(atomic_file(path, overwrite=overwrite))
            params[name] = str(target)
            wanted[name] = (target, value)
        yield params
        missing = [f"{n} ({shown})" for n, (target, shown) in wanted.items() if not target.exists()]
        if missing:
            raise OutputError(f"{job.path.name} ran but did not write its output file(s): {', '.join(missing)}")


# --------------------------------------------------------------------------- key tables


def _file_name(name: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip())
    return kept.strip("._") or "table"


def collect_tables(scratch: Path, folder: Path, notebook: str) -> list[str]:
    """Publish the tables :func:`tierlib.notebook.table` left in ``scratch``; remove ``scratch``.

    Writes ``folder/<notebook>.xlsx`` (a sheet per table, in call order) and
    ``folder/<notebook>/<nn>-<name>.csv``; returns those paths relative to ``folder``.

    >>> import polars as pl, tempfile
    >>> d = Path(tempfile.mkdtemp()); (d / "s").mkdir()
    >>> pl.DataFrame({"x": [1]}).write_parquet(d / "s" / "001.parquet", metadata={"tierlib_table": "会员 a/b"})
    >>> collect_tables(d / "s", d, "nb")
    ['nb.xlsx', 'nb/01-会员_a_b.csv']
    >>> (d / "s").exists()
    False
    >>> shutil.rmtree(d)
    """
    import polars as pl

    from tierlib.excel import write_workbook

    files = sorted(scratch.glob("[0-9][0-9][0-9].parquet")) if scratch.is_dir() else []
    tables = {}
    for f in files:
        name = pl.read_parquet_metadata(f).get("tierlib_table") or f.stem
        if name in tables:
            raise OutputError(f"{notebook}: two key tables are named {name!r}; give each table(...) its own name")
        tables[name] = pl.read_parquet(f)
    written = []
    if tables:
        write_workbook(tables, folder / f"{notebook}.xlsx")
        written.append(f"{notebook}.xlsx")
        (folder / notebook).mkdir(exist_ok=True)
        for i, (name, df) in enumerate(tables.items(), start=1):
            csv = Path(notebook) / f"{i:02d}-{_file_name(name)}.csv"
            df.write_csv(folder / csv, include_bom=True)  # Excel opens a UTF-8 CSV with a BOM as UTF-8
            written.append(str(csv))
    shutil.rmtree(scratch, ignore_errors=True)
    return written
