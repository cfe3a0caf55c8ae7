"""Issue 10 items 1-6 and 10 on the command line: tierlib never destroys, half-writes or silently
overwrites data; killed runs resume (kill -9 at seeded random points in a subprocess)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
import tierlib.scale as scale
from tierlib.cli import main
from tierlib.scale import read_ledger
from tierlib.synth import make_panel

KEYS = ["scheme", "customer_id", "month"]
SCHEMES = "unicom_vip,mobile_credit"


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return make_panel(300, 24, seed=5)[0]


@pytest.fixture(scope="module")
def expected(panel) -> pl.DataFrame:
    return _plain(tierlib.rate(panel, SCHEMES.split(",")))


@pytest.fixture(scope="module")
def big() -> tuple[pl.DataFrame, pl.DataFrame]:
    p = make_panel(3000, 24, seed=6)[0]
    return p, _plain(tierlib.rate(p, SCHEMES.split(",")))


def _plain(df):
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String)).sort(KEYS)


def _tree(d):
    return sorted((str(p.relative_to(d)), p.read_bytes() if p.is_file() else None) for p in d.rglob("*"))


def _rate(src, out, *extra):
    return main(["rate", str(src), "-s", SCHEMES, "--out", str(out), "-q", *extra])


@pytest.mark.parametrize("holds", ["_staging", "_tierlib.json"])
def test_item1_a_folder_with_a_staging_dir_or_manifest_and_user_files_is_never_deleted(tmp_path, panel, holds, capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    out = tmp_path / "out"
    (out / "src").mkdir(parents=True)
    (out / "README.md").write_text("r")
    (out / "src" / "analysis.py").write_text("a")
    (out / "thesis.docx").write_bytes(b"t")
    (out / holds).mkdir() if holds == "_staging" else (out / holds).write_text("{}")
    before = _tree(out)
    for extra in ([], ["--overwrite"]):
        assert _rate(src, out, *extra) == 2
        assert "holds files tierlib did not write" in capsys.readouterr().err
    assert _tree(out) == before


def test_item1_a_rerun_into_a_real_ledger_never_deletes_another_file(tmp_path, panel, capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    out = tmp_path / "ledger"
    assert _rate(src, out) == 0
    (out / "my_notes.txt").write_text("mine")
    assert _rate(src, out, "--overwrite") == 2
    assert "my_notes.txt" in capsys.readouterr().err and (out / "my_notes.txt").read_text() == "mine"


@pytest.mark.parametrize("partitions", ["3", "1"])
def test_item2_a_failing_rerun_keeps_the_previous_good_ledger(tmp_path, panel, expected, partitions, capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    out = tmp_path / "ledger"
    assert _rate(src, out, "-p", partitions) == 0
    before = _tree(out)
    last = panel["customer_id"].max()  # a bad row in the last partition
    panel.with_columns(billed=pl.when(pl.col("customer_id") == last).then(-1.0).otherwise("billed")
                       ).write_parquet(src)
    assert _rate(src, out, "-p", partitions, "--overwrite") == 2
    assert "negative money" in capsys.readouterr().err
    assert _tree(out) == before
    assert_frame_equal(_plain(read_ledger(out)), expected)
    assert main(["rate", str(src), "-s", "unicom_vip,unicom_vip", "--out", str(out), "-q", "--overwrite"]) == 2
    assert _tree(out) == before


def test_item3_out_inside_the_input_folder_is_refused(tmp_path, panel, capsys):
    d = tmp_path / "panel"
    d.mkdir()
    panel.write_parquet(d / "p.parquet")
    assert _rate(d, d / "ledger") == 2
    assert "lies inside the input" in capsys.readouterr().err and sorted(os.listdir(d)) == ["p.parquet"]


KILLED = textwrap.dedent("""
    import sys
    from tierlib.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("plan", ["range", "hash"])
def test_item4_kill_9_at_random_points_then_rerun_equals_in_memory_rate(tmp_path, big, plan):
    panel, expected = big
    src = tmp_path / "p.parquet"
    p = panel if plan == "range" else panel.sample(fraction=1.0, shuffle=True, seed=1)
    p.write_parquet(src, row_group_size=500)
    out = tmp_path / "ledger"
    argv = [sys.executable, "-c", KILLED, "rate", str(src), "-s", SCHEMES, "--out", str(out), "-p", "8", "-q"]
    work = tmp_path / ".ledger.tierlib-partial"
    rng = random.Random(10 if plan == "range" else 11)
    partial = 0
    for j in sorted(rng.sample(range(7), 3)):  # kill after j complete partitions + a random delay
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if len(json.loads((work / "_tierlib.json").read_text())["parts"]) >= j:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():  # completed before the kill: complete, with its manifest
            break
        partial += work.exists()
        visible = [f for f in tmp_path.rglob("part-*.parquet") if not any(
            x.startswith(".") for x in f.relative_to(tmp_path).parts)]
        assert visible == []  # nothing looks like a ledger before it is complete
    assert partial  # some kill landed inside the run
    r = subprocess.run(argv, capture_output=True, text=True)
    assert r.returncode in (0, 2), r.stderr
    if r.returncode == 2:
        assert "complete ledger of these arguments" in r.stderr
    assert_frame_equal(_plain(read_ledger(out)), expected)


@pytest.mark.parametrize("sorted_input", [True, False])
def test_item4_an_interrupted_run_resumes_from_its_complete_partitions(tmp_path, panel, expected, sorted_input,
                                                                          monkeypatch, capsys):
    src = tmp_path / "p.parquet"
    (panel if sorted_input else panel.sample(fraction=1.0, shuffle=True, seed=2)).write_parquet(
        src, row_group_size=300)
    out = tmp_path / "ledger"
    real, calls = scale._read_partition, []

    def dies_at_third(*a):
        calls.append(a[-1])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(scale, "_read_partition", dies_at_third)
    assert _rate(src, out, "-p", "4") == 130
    assert not out.exists()
    monkeypatch.setattr(scale, "_read_partition", real)
    assert main(["rate", str(src), "-s", SCHEMES, "--out", str(out), "-p", "4"]) == 0
    assert "resuming: 2 of 4 partitions already complete" in capsys.readouterr().err
    assert_frame_equal(_plain(read_ledger(out)), expected)
    meta = read_ledger  # the published manifest names its plan
    assert meta and (out / "_tierlib.json").exists()


def test_item4_other_arguments_into_an_interrupted_run_are_refused_naming_them(tmp_path, panel, monkeypatch,
                                                                                capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src, row_group_size=300)
    out = tmp_path / "ledger"
    monkeypatch.setattr(scale, "_read_partition", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    assert _rate(src, out, "-p", "4") == 130
    monkeypatch.undo()
    assert _rate(src, out, "-p", "3") == 2
    assert "interrupted run of other arguments (--partitions 4 then, 3 now" in capsys.readouterr().err


def test_item5_output_onto_its_input_panel_is_refused(tmp_path, panel, capsys):
    src = tmp_path / "X.parquet"
    panel.write_parquet(src)
    before = src.read_bytes()
    for extra in ([], ["--overwrite"]):
        assert main(["rate", str(src), "-s", "unicom_vip", "-o", str(src), *extra]) == 2
        assert "is the input" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_item5_single_file_outputs_never_overwrite_a_foreign_file(tmp_path, panel, capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    mine = tmp_path / "l.csv"
    mine.write_text("analyst's file")
    assert main(["rate", str(src), "-s", "unicom_vip", "-o", str(mine), "--overwrite"]) == 2
    assert mine.read_text() == "analyst's file"
    out = tmp_path / "l.parquet"
    assert main(["rate", str(src), "-s", "unicom_vip", "-o", str(out)]) == 0
    assert main(["rate", str(src), "-s", "unicom_vip", "-o", str(out)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["rate", str(src), "-s", "unicom_vip", "-o", str(out), "--overwrite"]) == 0


def test_item5_synth_never_overwrites(tmp_path, capsys):
    out = tmp_path / "syn"
    assert main(["synth", "--customers", "50", "--months", "6", "--out", str(out)]) == 0
    before = _tree(out)
    assert main(["synth", "--customers", "80", "--months", "6", "--out", str(out), "--seed", "3"]) == 2
    assert "previous tierlib output" in capsys.readouterr().err and _tree(out) == before


def test_item5_killed_synth_leaves_nothing_validate_accepts(tmp_path):
    rng = random.Random(7)
    for i in range(3):
        out = tmp_path / f"syn{i}"
        argv = [sys.executable, "-c", KILLED, "synth", "--customers", "250000", "--months", "12", "--out", str(out)]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 5.0))
        proc.send_signal(signal.SIGKILL if i else signal.SIGINT)
        proc.wait()
        assert not out.exists()
        assert main(["validate", str(out / "panel.parquet")]) == 2


def test_item6_a_second_concurrent_run_is_refused_at_once(tmp_path, panel, capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    hold = ("import sys, time\nfrom tierlib.outputs import output_lock\nwith output_lock(sys.argv[1]):\n"
            "    print('locked', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path / "ledger")], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        t = time.perf_counter()
        assert _rate(src, tmp_path / "ledger") == 2
        assert time.perf_counter() - t < 5
        assert "being written by another tierlib run" in capsys.readouterr().err
    finally:
        proc.kill()
        proc.wait()
    assert _rate(src, tmp_path / "ledger") == 0  # the dead holder's lock is stale


def test_item10_a_missing_output_parent_is_an_error_and_not_created(tmp_path, panel, capsys):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    for out in (tmp_path / "nonexistent_dir" / "x.parquet", tmp_path / "nonexistent_dir" / "ledger"):
        assert main(["rate", str(src), "-s", "unicom_vip", "--out", str(out), "-q"]) == 2
        assert "does not exist (tierlib does not create it)" in capsys.readouterr().err
    assert not (tmp_path / "nonexistent_dir").exists()


def test_item4_a_truncated_manifest_is_named_not_a_bare_json_error(tmp_path, panel):
    src = tmp_path / "p.parquet"
    panel.write_parquet(src)
    assert _rate(src, tmp_path / "ledger") == 0
    m = tmp_path / "ledger" / "_tierlib.json"
    m.write_text(m.read_text()[:40])
    with pytest.raises(ValueError, match="holds no complete tierlib ledger"):
        read_ledger(tmp_path / "ledger")
