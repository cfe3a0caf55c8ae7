"""Issue 10 items 6-8 and fault injection, issue 12 item 6: the files of ``tierlib report``.

A run folder is locked, built hidden and published whole; a second run into it is refused at
once; only a previous report is replaced (``--overwrite``); a failed run's folder says so and
does not block the next run; a cell that never ends is timed out; files a notebook writes
(output parameters) stay in the report or ``data/``; a kill -9 leaves nothing that looks
complete; key tables come out as one workbook and CSV files per notebook.

Fixture notebooks (tests/fixtures/notebooks): ``sleep`` sleeps ``seconds`` in its third cell
(touching ``started`` first) and writes ``note_csv``; ``tables`` marks two key tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from tierlib.cli import cmd_report
from tierlib.outputs import MARKER

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
SLEEP, TABLES, FAIL, CHART = (NOTEBOOKS / f"{n}.ipynb" for n in ("sleep", "tables", "fail", "chart"))
ROOT = Path(__file__).resolve().parents[1]


def config(folder: Path, notebooks: list[Path], **keys) -> Path:
    path = folder / "report.yaml"
    path.write_text(yaml.safe_dump({"notebooks": [str(n) for n in notebooks], **keys}), encoding="utf-8")
    return path


def report(cfg: Path, out: Path, *, overwrite: bool = False) -> int:
    return cmd_report(argparse.Namespace(config=str(cfg), out=str(out), overwrite=overwrite))


def cli(cfg: Path, out: Path, *extra: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tierlib.cli", "report", "--config", str(cfg), "--out", str(out),
                             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def errors(capsys) -> list[str]:
    """The problem lines on stderr (not the progress lines) since the last call."""
    progress = ("tierlib report: running ", "tierlib report:   done in ", "tierlib report:   failed in ")
    return [line for line in capsys.readouterr().err.splitlines() if not line.startswith(progress)]


def tree(d: Path) -> list[tuple[str, bytes | None]]:
    return sorted((str(p.relative_to(d)), p.read_bytes() if p.is_file() else None) for p in d.rglob("*"))


def complete(out: Path) -> bool:
    """``out`` is a finished successful report: marker ok, every file it lists present."""
    marker = json.loads((out / MARKER).read_text())
    params = json.loads((out / "params.json").read_text())
    return (marker["status"] == "ok" and params["status"] == "ok"
            and all((out / f).is_file() for f in marker["files"]) and "index.html" in marker["files"])


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


# --------------------------------------------------------------------------- item 6: locks, atomic folder


def test_item6_a_second_run_into_the_same_folder_is_refused_at_once_and_nothing_is_published_early(tmp_path, capsys):
    started = tmp_path / "started"
    cfg = config(tmp_path, [SLEEP], parameters={"seconds": 5.0, "started": str(started)})
    out = tmp_path / "out"
    first = cli(cfg, out)
    try:
        wait_for(started, first)
        assert not out.exists()  # built under a hidden sibling until the run ends
        (tmp_path / "second").mkdir()
        other = config(tmp_path / "second", [SLEEP], parameters={"seconds": 0.0})
        assert report(other, out) == 2
        assert first.poll() is None  # refused at once, while the first still runs: it did not wait
        (line,) = errors(capsys)
        assert line.startswith(f"tierlib report: {out} is being written by another tierlib run (pid {first.pid}")
    finally:
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    params = json.loads((out / "params.json").read_text())
    assert params["status"] == "ok" and params["notebooks"][0]["parameters"]["seconds"] == 5.0  # the first's own
    assert complete(out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no lock, no temporary


def test_item6_a_folder_not_written_by_tierlib_is_refused_even_with_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "index.html").write_text("my own page")
    before = tree(out)
    cfg = config(tmp_path, [SLEEP])
    for overwrite in (False, True):
        assert report(cfg, out, overwrite=overwrite) == 2
        (line,) = errors(capsys)
        assert "holds files tierlib did not write (index.html, notes.txt)" in line
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_item6_a_tierlib_output_that_is_not_a_report_is_refused(tmp_path, capsys):
    out = tmp_path / "ledger"
    out.mkdir()
    (out / "part-0.parquet").write_bytes(b"x")
    (out / MARKER).write_text(json.dumps({"written_by": "tierlib", "files": ["part-0.parquet"]}))
    assert report(config(tmp_path, [SLEEP]), out, overwrite=True) == 2
    (line,) = errors(capsys)
    assert "holds a tierlib output that is not a report" in line
    assert (out / "part-0.parquet").read_bytes() == b"x"


def test_item6_overwrite_replaces_only_a_previous_report(tmp_path, capsys):
    out = tmp_path / "out"
    assert report(config(tmp_path, [SLEEP], parameters={"seconds": 0.1}), out) == 0
    first = (out / "params.json").read_text()
    cfg = config(tmp_path, [SLEEP], parameters={"seconds": 0.2})
    assert report(cfg, out) == 2
    assert "holds a previous tierlib output; pass --overwrite" in errors(capsys)[0]
    assert (out / "params.json").read_text() == first
    assert report(cfg, out, overwrite=True) == 0
    assert json.loads((out / "params.json").read_text())["notebooks"][0]["parameters"]["seconds"] == 0.2
    assert complete(out)
    (out / "my_notes.txt").write_text("added by hand")  # now it is no longer only tierlib's
    assert report(cfg, out, overwrite=True) == 2
    assert "holds files tierlib did not write (my_notes.txt)" in errors(capsys)[0]
    assert (out / "my_notes.txt").read_text() == "added by hand"


def test_item6_a_failed_run_publishes_a_folder_that_says_failed_and_does_not_block_the_next(tmp_path, capsys):
    out = tmp_path / "out"
    assert report(config(tmp_path, [FAIL], notebook_parameters={"fail": {"divisor": 0}}), out) == 1
    assert json.loads((out / "params.json").read_text())["status"] == "failed"
    assert json.loads((out / MARKER).read_text())["status"] == "failed"
    index = (out / "index.html").read_text()
    assert "(FAILED)</title>" in index and "FAILED: 1 notebook(s) failed." in index
    assert not complete(out)
    capsys.readouterr()
    assert report(config(tmp_path, [FAIL], notebook_parameters={"fail": {"divisor": 4}}), out) == 0  # no --overwrite
    assert complete(out)


def test_item6_the_makefile_report_line_can_run_twice(tmp_path):
    """``make report`` writes reports/latest every time: its line carries --overwrite; run it twice."""
    (line,) = [l.strip() for l in (ROOT / "Makefile").read_text().splitlines() if "tierlib report" in l]
    args = line.split("tierlib report", 1)[1].split()
    assert args == ["--out", "reports/latest", "--overwrite"]
    cfg = config(tmp_path, [SLEEP])
    (tmp_path / "reports").mkdir()
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "tierlib.cli", "report", "--config", str(cfg), *args],
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert complete(tmp_path / "reports" / "latest")


# --------------------------------------------------------------------------- item 7: cell timeout


def test_item7_a_cell_that_never_ends_is_timed_out_naming_the_cell_and_leaves_nothing_blocking(tmp_path, capsys):
    out = tmp_path / "out"
    t = time.monotonic()
    assert report(config(tmp_path, [SLEEP], parameters={"seconds": 120.0}, cell_timeout=2), out) == 1
    assert time.monotonic() - t < 30
    (line,) = errors(capsys)
    assert line == ("tierlib report: sleep.ipynb failed in cell 3 (index 2, `if started:`): "
                    "CellTimeoutError: ran longer than cell_timeout = 2 s")
    params = json.loads((out / "params.json").read_text())
    assert params["status"] == "failed" and "cell_timeout" in params["notebooks"][0]["error"]
    assert report(config(tmp_path, [SLEEP], parameters={"seconds": 0.0}, cell_timeout=2), out) == 0
    assert complete(out)


@pytest.mark.parametrize("value", [0, -1, "10", True, None, float("inf")])
def test_item7_cell_timeout_must_be_a_positive_number(tmp_path, capsys, value):
    assert report(config(tmp_path, [SLEEP], cell_timeout=value), tmp_path / "out") == 2
    (line,) = errors(capsys)
    assert "'cell_timeout' must be a positive number of seconds (default 600)" in line
    assert not (tmp_path / "out").exists()


def test_item7_cell_timeout_has_a_documented_default():
    from tierlib.report import load_config

    assert load_config().cell_timeout == 600
    assert "cell_timeout: 600" in (ROOT / "tierlib" / "report_config.yaml").read_text()
    assert "cell_timeout" in (ROOT / "reports" / "README.md").read_text()


# --------------------------------------------------------------------------- item 8: output paths


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A project folder with data/private/, the working directory of the run."""
    (tmp_path / "data" / "private").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_item8_an_output_path_resolves_from_the_working_directory_like_a_data_path(project):
    cfg = config(project, [SLEEP], parameters={"note_csv": "data/private/note.csv"}, output_parameters=["note_csv"])
    assert report(cfg, project / "out") == 0
    assert (project / "data" / "private" / "note.csv").read_text() == "a,b\n1,2\n"
    assert not (NOTEBOOKS / "data").exists()
    params = json.loads((project / "out" / "params.json").read_text())
    assert params["notebooks"][0]["parameters"]["note_csv"] == str(project / "data" / "private" / "note.csv")
    assert [p.name for p in (project / "data" / "private").iterdir() if "tierlib-tmp" in p.name] == []


def test_item8_an_output_path_inside_the_report_folder_is_published_with_it(project):
    cfg = config(project, [SLEEP], parameters={"note_csv": "out/extra/note.csv"}, output_parameters=["note_csv"])
    assert report(cfg, project / "out") == 0
    assert (project / "out" / "extra" / "note.csv").read_text() == "a,b\n1,2\n"
    assert "extra/note.csv" in json.loads((project / "out" / MARKER).read_text())["files"]


@pytest.mark.parametrize("path", ["../escaped.csv", "data/../escaped.csv", "/tmp/tierlib-elsewhere.csv", "note.csv",
                                  "data/link/escaped.csv", "notebooks/x.csv"])
def test_item8_an_output_path_outside_the_report_and_data_is_refused_before_anything_runs(project, capsys, path):
    (project / "elsewhere").mkdir()
    (project / "data" / "link").symlink_to(project / "elsewhere")
    started = project / "started"
    cfg = config(project, [SLEEP], parameters={"note_csv": path, "started": str(started)},
                 output_parameters=["note_csv"])
    assert report(cfg, project / "out") == 2
    (line,) = errors(capsys)
    assert f"sleep.ipynb: output parameter 'note_csv': {path} resolves to" in line
    assert "outside the report folder" in line
    assert not started.exists() and not (project / "out").exists()
    assert not (project.parent / "escaped.csv").exists() and not (project / "elsewhere" / "escaped.csv").exists()


def test_item8_an_existing_file_tierlib_did_not_write_is_never_overwritten(project, capsys):
    mine = project / "data" / "private" / "note.csv"
    mine.write_text("my own list")
    cfg = config(project, [SLEEP], parameters={"note_csv": "data/private/note.csv"}, output_parameters=["note_csv"])
    for overwrite in (False, True):
        assert report(cfg, project / f"out{overwrite}", overwrite=overwrite) == 2
        (line,) = errors(capsys)
        assert "output parameter 'note_csv'" in line and "was not written by tierlib" in line
    assert mine.read_text() == "my own list"
    mine.unlink()
    assert report(cfg, project / "a") == 0  # now tierlib's own: replaced only with --overwrite
    assert report(cfg, project / "b") == 2
    assert "holds a previous tierlib output" in errors(capsys)[-1]
    assert report(cfg, project / "c", overwrite=True) == 0


def test_item8_the_default_config_names_notebook_03s_retention_list_an_output():
    from tierlib.report import load_config

    assert "retention_csv" in load_config().output_parameters


# --------------------------------------------------------------------------- fault injection: kill -9


def test_kill_9_at_seeded_random_points_leaves_nothing_that_looks_complete_and_the_rerun_publishes(tmp_path):
    cfg = config(tmp_path, [TABLES])
    out = tmp_path / "out"
    t = time.monotonic()
    whole = cli(cfg, tmp_path / "timing", start_new_session=True)
    assert whole.wait(timeout=90) == 0, whole.communicate()
    duration = time.monotonic() - t
    rng = random.Random(10)
    for _ in range(3):
        delay = rng.uniform(0.3, 0.9 * duration)
        run = cli(cfg, out, "--overwrite", start_new_session=True)
        time.sleep(delay)
        os.killpg(run.pid, signal.SIGKILL)  # the runner and its kernel, at once
        run.wait()
        if out.exists():  # only when a run got to its end before the kill
            assert complete(out), f"killed after {delay:.1f} s: {out} looks half-written"
        rerun = cli(cfg, out, "--overwrite")
        _, err = rerun.communicate(timeout=90)
        assert rerun.returncode == 0, (delay, err)
        assert complete(out)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # swept
    assert {p.name for p in out.iterdir()} >= {"index.html", "tables.xlsx", "tables.html", "params.json"}


# --------------------------------------------------------------------------- issue 12 item 6: key tables


def test_key_tables_are_published_as_one_workbook_and_csv_files_per_notebook(tmp_path):
    from datetime import date

    out = tmp_path / "out"
    assert report(config(tmp_path, [TABLES, SLEEP]), out) == 0
    members = pl.DataFrame({"tier": ["金卡 gold", "银卡 silver", "普通 basic"], "customers": [1200, 3400, 5600],
                            "share": [0.125, 0.35, 0.525]})
    cost = pl.DataFrame({"month": [date(2024, 1, 1), date(2024, 2, 1)], "yuan": [1.5, -2.25], "note": ["一月", None]})
    sheets = pl.read_excel(out / "tables.xlsx", sheet_id=0)
    assert list(sheets) == ["members 会员", "cost_月"]
    assert_frame_equal(sheets["members 会员"], members)
    assert_frame_equal(sheets["cost_月"].with_columns(pl.col("month").cast(pl.Date)), cost)
    assert_frame_equal(pl.read_csv(out / "tables" / "01-members_会员.csv"), members)
    assert_frame_equal(pl.read_csv(out / "tables" / "02-cost_月.csv", try_parse_dates=True), cost)
    assert (out / "tables" / "01-members_会员.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 for Excel
    assert not list(out.rglob("*.parquet")) and not (out / ".tables-tables").exists()  # scratch removed
    assert not (out / "sleep.xlsx").exists() and not (out / "sleep").exists()  # no table, no workbook
    index = (out / "index.html").read_text()
    assert 'href="tables.xlsx"' in index and 'href="tables/01-members_%E4%BC%9A%E5%91%98.csv"' in index
    params = json.loads((out / "params.json").read_text())
    assert params["notebooks"][0]["tables"] == ["tables.xlsx", "tables/01-members_会员.csv", "tables/02-cost_月.csv"]
    assert complete(out)
