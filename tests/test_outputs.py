"""tierlib.outputs: atomic publication, never touching what tierlib did not write, locks,
outputs refused on inputs (issue 10 items 1, 2, 3, 5, 6, 10). Real files, real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tierlib.outputs import (MARKER, OutputError, atomic_dir, atomic_file, check_output, output_lock)


def _listing(d):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


# --- atomic_file ----------------------------------------------------------------------------

def test_atomic_file_failure_leaves_the_previous_file_and_no_temporary(tmp_path):
    out = tmp_path / "ledger.csv"
    with atomic_file(out) as tmp:
        tmp.write_text("old\n")
    before = _listing(tmp_path)
    with pytest.raises(RuntimeError):
        with atomic_file(out, overwrite=True) as tmp:
            tmp.write_text("new, half")
            raise RuntimeError("killed half-way")
    assert out.read_text() == "old\n" and _listing(tmp_path) == before


def test_atomic_file_never_replaces_a_foreign_file_even_with_overwrite(tmp_path):
    out = tmp_path / "thesis.parquet"
    out.write_bytes(b"my work")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="not written by tierlib"):
            with atomic_file(out, overwrite=overwrite) as tmp:
                tmp.write_text("ledger")
    assert out.read_bytes() == b"my work"


def test_atomic_file_replaces_its_own_output_only_with_overwrite_and_unchanged(tmp_path):
    out = tmp_path / "l.csv"
    with atomic_file(out) as tmp:
        tmp.write_text("1\n")
    with pytest.raises(OutputError, match="pass --overwrite"):
        with atomic_file(out) as tmp:
            tmp.write_text("2\n")
    with atomic_file(out, overwrite=True) as tmp:
        tmp.write_text("2\n")
    assert out.read_text() == "2\n"
    out.write_text("edited by the analyst\n")  # no longer what tierlib wrote
    with pytest.raises(OutputError, match="changed since"):
        with atomic_file(out, overwrite=True) as tmp:
            tmp.write_text("3\n")
    assert out.read_text() == "edited by the analyst\n"


def test_atomic_file_keyboard_interrupt_removes_the_temporary(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(tmp_path / "x.parquet") as tmp:
            tmp.write_text("partial")
            raise KeyboardInterrupt
    assert _listing(tmp_path) == []


# --- atomic_dir -----------------------------------------------------------------------------

def _user_folder(d):
    d.mkdir()
    (d / "README.md").write_text("notes")
    (d / "src").mkdir()
    (d / "src" / "analysis.py").write_text("print(1)")
    (d / MARKER).write_text("{}")  # even a file named like tierlib's marker
    (d / "_staging").mkdir()
    return _listing(d)


@pytest.mark.parametrize("overwrite", [False, True])
def test_atomic_dir_refuses_a_foreign_folder_in_one_line(tmp_path, overwrite):
    d = tmp_path / "out"
    before = _user_folder(d)
    with pytest.raises(OutputError, match="holds files tierlib did not write") as e:
        with atomic_dir(d, overwrite=overwrite) as tmp:
            (tmp / "a.parquet").write_text("x")
    assert "\n" not in str(e.value) and "README.md" in str(e.value)
    assert _listing(d) == before and len(list(tmp_path.iterdir())) == 1


def test_atomic_dir_replaces_its_own_output_but_never_a_file_added_to_it(tmp_path):
    d = tmp_path / "out"
    with atomic_dir(d) as tmp:
        (tmp / "s").mkdir()
        (tmp / "s" / "part-0.parquet").write_text("v1")
    assert json.loads((d / MARKER).read_text())["files"] == ["s/part-0.parquet"]
    with pytest.raises(OutputError, match="pass --overwrite"):
        with atomic_dir(d) as tmp:
            pass
    with atomic_dir(d, overwrite=True) as tmp:
        (tmp / "s").mkdir()
        (tmp / "s" / "part-0.parquet").write_text("v2")
    assert (d / "s" / "part-0.parquet").read_text() == "v2"
    (d / "my_notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="my_notes.txt"):
        with atomic_dir(d, overwrite=True) as tmp:
            pass
    assert (d / "my_notes.txt").read_text() == "mine" and (d / "s" / "part-0.parquet").read_text() == "v2"


def test_atomic_dir_failed_rerun_keeps_the_previous_output_readable(tmp_path):
    d = tmp_path / "out"
    with atomic_dir(d) as tmp:
        (tmp / "a.csv").write_text("good")
    with pytest.raises(ValueError):
        with atomic_dir(d, overwrite=True) as tmp:
            (tmp / "a.csv").write_text("half")
            raise ValueError("a bad row in a late partition")
    assert (d / "a.csv").read_text() == "good" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_dir_publishes_into_an_empty_folder(tmp_path):
    (tmp_path / "out").mkdir()
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.csv").write_text("x")
    assert (tmp_path / "out" / "a.csv").read_text() == "x"


def test_temporaries_of_killed_runs_are_swept_only_when_their_process_is_dead(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / f".out.{dead}-abcd.tierlib-tmp").mkdir()
    (tmp_path / f".out.{child.pid}-abcd.tierlib-tmp").mkdir()
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "a").write_text("x")
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [f".out.{child.pid}-abcd.tierlib-tmp", "out"]
    finally:
        child.kill()
        child.wait()


# --- output_lock ----------------------------------------------------------------------------

HOLD = textwrap.dedent("""
    import sys, time
    from tierlib.outputs import output_lock
    with output_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def _holder(target):
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_a_second_writer_is_refused_at_once(tmp_path):
    p = _holder(tmp_path / "ledger")
    try:
        t = time.perf_counter()
        with pytest.raises(OutputError, match=f"another tierlib run \\(pid {p.pid}") as e:
            with output_lock(tmp_path / "ledger"):
                pass
        assert time.perf_counter() - t < 1 and "\n" not in str(e.value)
    finally:
        p.terminate()
        p.wait()


def test_a_lock_left_by_a_killed_run_is_stale(tmp_path):
    p = _holder(tmp_path / "ledger")
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert (tmp_path / ".ledger.tierlib-lock").exists()  # left behind by kill -9
    with output_lock(tmp_path / "ledger"):
        pass
    assert not (tmp_path / ".ledger.tierlib-lock").exists()


# --- check_output ---------------------------------------------------------------------------

def test_output_on_or_inside_or_around_an_input_is_refused(tmp_path):
    (tmp_path / "in").mkdir()
    panel = tmp_path / "in" / "p.parquet"
    panel.write_text("x")
    with pytest.raises(OutputError, match="is the input"):
        check_output(panel, [panel])
    with pytest.raises(OutputError, match="lies inside the input"):
        check_output(tmp_path / "in" / "ledger", [tmp_path / "in"])
    with pytest.raises(OutputError, match="contains the input"):
        check_output(tmp_path / "in", [panel])
    os.symlink(panel, tmp_path / "alias.parquet")
    with pytest.raises(OutputError, match="is the input"):
        check_output(tmp_path / "alias.parquet", [panel])
    assert check_output(tmp_path / "ledger", [tmp_path / "in"]) == tmp_path / "ledger"


def test_a_missing_parent_is_an_error_and_nothing_is_created(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_file(tmp_path / "nope" / "x.parquet") as tmp:
            tmp.write_text("x")
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_dir(tmp_path / "nope" / "ledger"):
            pass
    assert list(tmp_path.iterdir()) == []
