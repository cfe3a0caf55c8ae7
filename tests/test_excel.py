"""tierlib.excel: workbooks read back equal, Chinese intact, what Excel cannot hold refused."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tierlib import excel
from tierlib.outputs import OutputError


def test_tables_read_back_equal_with_types_and_chinese(tmp_path):
    a = pl.DataFrame({
        "as_of": [dt.date(2025, 6, 1), dt.date(2025, 7, 1)],
        "档位 tier": ["钻石卡 diamond", "金卡 gold"],
        "customers": [12, 3_400_000],
        "cost_yuan": [1234.5678, None],
    })
    b = pl.DataFrame({"reform": ["gold 350"], "net_value": [-12.5]})
    p = excel.write_workbook({"members 会员": a, "reforms": b}, tmp_path / "t.xlsx")
    assert set(pl.read_excel(p, sheet_id=0)) == {"members 会员", "reforms"}
    back = pl.read_excel(p, sheet_name="members 会员")
    assert back.columns == a.columns
    assert back["customers"].to_list() == [12, 3_400_000]
    assert back["档位 tier"].to_list() == ["钻石卡 diamond", "金卡 gold"]
    assert back["as_of"].cast(pl.Date).to_list() == a["as_of"].to_list()
    assert back["cost_yuan"].to_list() == [1234.5678, None]
    assert pl.read_excel(p, sheet_name="reforms").equals(b)


def test_too_many_rows_refused_and_nothing_written(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 10)
    with pytest.raises(OutputError, match=r"table 'ledger' has 10 rows; an Excel sheet holds 9"):
        excel.write_workbook({"ledger": pl.DataFrame({"x": range(10)})}, tmp_path / "l.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_sheet_names_that_collide_or_nested_columns_refused(tmp_path):
    t = pl.DataFrame({"x": [1]})
    with pytest.raises(OutputError, match="would share the sheet name"):
        excel.write_workbook({"a/b": t, "a:b": t}, tmp_path / "c.xlsx")
    with pytest.raises(OutputError, match=r"nested columns \['l'\]"):
        excel.write_workbook({"t": pl.DataFrame({"l": [[1, 2]]})}, tmp_path / "n.xlsx")
    with pytest.raises(OutputError, match="written as .xlsx"):
        excel.write_workbook({"t": t}, tmp_path / "n.xls")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_own_workbook_only(tmp_path):
    t = pl.DataFrame({"x": [1]})
    p = excel.write_workbook({"t": t}, tmp_path / "t.xlsx")
    excel.write_workbook({"t": t.with_columns(x=pl.lit(2))}, p, overwrite=True)
    assert pl.read_excel(p)["x"].to_list() == [2]
    foreign = tmp_path / "mine.xlsx"
    foreign.write_bytes(b"analyst's own workbook")
    with pytest.raises(OutputError):
        excel.write_workbook({"t": t}, foreign, overwrite=True)
    assert foreign.read_bytes() == b"analyst's own workbook"


def test_nan_and_infinity_are_empty_cells_not_a_crash(tmp_path):
    """Review of issue 12: `tierlib compare --out t.xlsx` on a small panel raised xlsxwriter's
    TypeError (NAN/INF not supported) for a NaN rank correlation."""
    t = pl.DataFrame({"pair": ["a~b", "a~c", "b~c"], "spearman_rank": [float("nan"), 0.5, float("inf")],
                      "n": [3, 4, 5]})
    p = excel.write_workbook({"correlation": t}, tmp_path / "c.xlsx")
    back = pl.read_excel(p)
    assert back["spearman_rank"].to_list() == [None, 0.5, None]
    assert back["n"].to_list() == [3, 4, 5] and back["pair"].to_list() == t["pair"].to_list()
