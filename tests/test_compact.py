"""Compact ledger (issue 15): ``rate(..., columns=[...])``, ``tierlib rate --columns a,b`` and
``rate_parquet(..., columns=)`` build only the columns asked for, equal to the full ledger's."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib.cli import main
from tierlib.scale import rate_parquet, read_ledger

COLS = ["customer_id", "month", "scheme", "tier", "to_keep", "valid_until"]


def test_compact_ledger_equals_the_full_ledgers_columns(small_panel, small_ledger):
    got = tierlib.rate(small_panel, "all", columns=COLS)
    assert got.columns == COLS
    assert_frame_equal(got, small_ledger.select(COLS))


def test_compact_lazy_ledger_equals_the_full_ledgers_columns(small_panel, small_ledger):
    got = tierlib.rate(small_panel.lazy(), "unicom_vip", columns=["rank", "floor"]).collect()
    assert_frame_equal(got, small_ledger.filter(pl.col("scheme") == "unicom_vip").select("rank", "floor"))


@pytest.mark.parametrize("cols, words", [(["tierx"], "unknown 'tierx'"), (["tier", "tier"], "given twice"),
                                         (["customer_id", "tier"], "'scheme' must be among")])
def test_bad_columns_are_refused_by_name(small_panel, cols, words):
    with pytest.raises(ValueError, match=words):
        tierlib.rate(small_panel, "all", columns=cols)


def test_cli_columns_writes_only_those(small_panel, small_ledger, tmp_path, capsys):
    src = tmp_path / "small_panel.parquet"
    small_panel.write_parquet(src)
    out = tmp_path / "ledger.parquet"
    assert main(["rate", str(src), "--columns", "customer_id,month,scheme,rank", "-o", str(out)]) == 0
    assert_frame_equal(pl.read_parquet(out), small_ledger.select("customer_id", "month", "scheme", "rank"))
    assert "share" in capsys.readouterr().out  # the summary still counts tiers
    assert main(["rate", str(src), "--columns", "tier", "-o", str(tmp_path / "x.parquet")]) == 2
    assert "'scheme' must be among" in capsys.readouterr().err


def test_out_of_core_compact_ledger(small_panel, small_ledger, tmp_path):
    src = tmp_path / "small_panel.parquet"
    small_panel.write_parquet(src)
    m = rate_parquet(src, ["unicom_vip", "telecom_star"], tmp_path / "led", partitions=2, progress=False,
                     columns=["customer_id", "month", "tier"])
    got = read_ledger(tmp_path / "led", "telecom_star").sort("customer_id", "month")
    want = small_ledger.filter(pl.col("scheme") == "telecom_star").select("customer_id", "month", "tier")
    assert_frame_equal(got, want.sort("customer_id", "month"))
    assert m["latest_month_tiers"]  # the summary is still made
    with pytest.raises(ValueError, match="no 'scheme' column"):
        read_ledger(tmp_path / "led")
