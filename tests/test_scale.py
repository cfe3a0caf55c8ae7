"""Out-of-core rating (tierlib.scale, ``tierlib rate --out DIR``): same ledger as in-memory
``rate``, customers never split across partitions, CLI conventions. Small data, a few seconds."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib.cli import main
from tierlib.scale import MANIFEST, plan_partitions, rate_parquet, read_ledger
from tierlib.synth import make_panel

KEYS = ["scheme", "customer_id", "month"]


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return make_panel(240, 30, seed=11)[0]


@pytest.fixture(scope="module")
def expected(panel) -> pl.DataFrame:
    return _plain(tierlib.rate(panel, "all"))


def _plain(ledger: pl.DataFrame) -> pl.DataFrame:
    return ledger.with_columns(pl.col(pl.Categorical).cast(pl.String)).sort(KEYS)


def _customers_per_part(out, scheme: str) -> list[set]:
    files = sorted((out / scheme).glob("part-*.parquet"))
    return [set(pl.read_parquet(f)["customer_id"].to_list()) for f in files]


def _assert_never_split(out, schemes) -> None:
    for s in schemes:
        parts = _customers_per_part(out, s)
        assert sum(len(p) for p in parts) == len(set().union(*parts)), f"{s}: a customer is in two partitions"


def test_sorted_input_is_cut_into_id_ranges(tmp_path, panel, expected):
    src = tmp_path / "panel.parquet"
    panel.write_parquet(src, row_group_size=500)  # sorted by customer: many ordered row groups
    n, bounds = plan_partitions(src, 3)
    assert n == 3 and bounds is not None and bounds == sorted(bounds)
    m = rate_parquet(src, "all", tmp_path / "ledger", partitions=3, progress=False)
    assert m["partitioning"] == "range" and m["panel_rows"] == panel.height
    got = read_ledger(tmp_path / "ledger")
    assert got.columns == expected.columns and got.schema == tierlib.rate(panel.head(40), "all").schema
    assert_frame_equal(_plain(got), expected)
    _assert_never_split(tmp_path / "ledger", tierlib.schemes())


def test_unsorted_string_ids_are_hash_partitioned(tmp_path, panel):
    shuffled = panel.with_columns(pl.col("customer_id").cast(pl.String).str.zfill(6)).sample(
        fraction=1.0, shuffle=True, seed=2)
    (tmp_path / "in").mkdir()
    shuffled[: shuffled.height // 2].write_parquet(tmp_path / "in" / "a.parquet")
    shuffled[shuffled.height // 2:].write_parquet(tmp_path / "in" / "b.parquet")
    schemes = ["telecom_club", "telecom_club:high", "unicom_ladder"]
    m = rate_parquet(tmp_path / "in", schemes, tmp_path / "ledger", partitions=4, progress=False)
    assert m["partitioning"] == "hash" and m["partitions"] == 4
    assert not (tmp_path / "ledger" / "_staging").exists()
    assert_frame_equal(_plain(read_ledger(tmp_path / "ledger")), _plain(tierlib.rate(shuffled, schemes)))
    assert_frame_equal(_plain(read_ledger(tmp_path / "ledger", "telecom_club:high")),
                       _plain(tierlib.rate(shuffled, "telecom_club:high")))
    _assert_never_split(tmp_path / "ledger", ["telecom_club", "telecom_club-high", "unicom_ladder"])


def test_cli_rate_into_a_directory(tmp_path, panel, capsys):
    src = tmp_path / "panel.parquet"
    panel.write_parquet(src)
    out = tmp_path / "ledger"
    assert main(["rate", str(src), "-s", "unicom_vip,mobile_credit", "--out", str(out), "--partitions", "2"]) == 0
    printed = capsys.readouterr()
    assert "ledger rows (2 schemes, 2 partitions)" in printed.out and "unicom_vip" in printed.out
    assert "2/2 partitions" in printed.err  # the progress bar
    meta = json.loads((out / MANIFEST).read_text())
    assert meta["schemes"] == ["unicom_vip", "mobile_credit"]
    assert_frame_equal(_plain(read_ledger(out)), _plain(tierlib.rate(panel, ["unicom_vip", "mobile_credit"])))
    # a second run of other arguments is refused naming them; --overwrite replaces the ledger it wrote
    assert main(["rate", str(src), "-s", "unicom_vip", "--out", str(out), "-q"]) == 2
    assert "other arguments (schemes" in capsys.readouterr().err
    assert main(["rate", str(src), "-s", "unicom_vip", "--out", str(out), "-q", "--overwrite"]) == 0
    assert read_ledger(out)["scheme"].unique().to_list() == ["unicom_vip"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("args", "message"), [
    (["--partitions", "2"], "--partitions needs --out DIR"),
    (["--partitions", "2", "--out", "x.parquet"], "--partitions writes a directory"),
    (["--partitions", "0", "--out", "DIR"], "partitions must be >= 1"),
])
def test_cli_errors_are_one_line(tmp_path, panel, capsys, args, message):
    src = tmp_path / "panel.parquet"
    panel.head(100).write_parquet(src)
    args = [a.replace("DIR", str(tmp_path / "out")) for a in args]
    assert main(["rate", str(src), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_refuses_a_foreign_directory_and_reports_bad_panels(tmp_path, panel, capsys):
    src = tmp_path / "panel.parquet"
    panel.head(100).write_parquet(src)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(["rate", str(src), "--out", str(other), "-q"]) == 2
    assert "holds files tierlib did not write (notes.txt)" in capsys.readouterr().err and (other / "notes.txt").exists()
    bad = tmp_path / "bad.parquet"
    panel.head(100).with_columns(billed=pl.lit(-1.0)).write_parquet(bad)
    assert main(["rate", str(bad), "--out", str(tmp_path / "l2"), "-q"]) == 2
    assert "negative money" in capsys.readouterr().err


def test_hash_partitioning_without_polars_partitioned_sink(tmp_path, panel, monkeypatch, expected):
    # pl.PartitionBy is an unstable polars API: the pyarrow fallback gives the same ledger
    monkeypatch.delattr(pl, "PartitionBy")
    src = tmp_path / "panel.parquet"
    panel.sample(fraction=1.0, shuffle=True, seed=4).write_parquet(src)
    m = rate_parquet(src, "all", tmp_path / "ledger", partitions=3, progress=False)
    assert m["partitioning"] == "hash"
    assert_frame_equal(_plain(read_ledger(tmp_path / "ledger")), expected)
    _assert_never_split(tmp_path / "ledger", tierlib.schemes())


def test_cli_summary_matches_in_memory_summary(tmp_path, panel, capsys):
    # the out-of-core summary is assembled from partitions without reading the ledger back
    src = tmp_path / "panel.parquet"
    panel.write_parquet(src, row_group_size=400)
    assert main(["rate", str(src), "--out", str(tmp_path / "a"), "--partitions", "4", "-q"]) == 0
    assert main(["rate", str(src), "--out", str(tmp_path / "b.parquet")]) == 0
    out = capsys.readouterr().out.splitlines()
    table = [line for line in out if line.startswith("│")]
    half = len(table) // 2
    assert table[:half] == table[half:]
