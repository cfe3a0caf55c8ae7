"""tierlib.io.read_panel: CSV read with the contract's dtypes, never guessed (issue 9 items 5, 6);
broken and disagreeing input files named (issue 10 item 10)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib.cli import main
from tierlib.io import PanelFileError, read_panel
from tierlib.panel import PanelError
from tierlib.paths import sample_panel

D = dt.date


def small(ids=("c1", "c2"), n=3) -> pl.DataFrame:
    months = [D(2024, m, 1) for m in range(1, n + 1)]
    return pl.DataFrame({"customer_id": [i for i in ids for _ in months], "month": months * len(ids),
                         "join_month": D(2024, 1, 1), "billed": [100.0] * (n * len(ids))})


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return pl.read_parquet(sample_panel())


def test_the_sample_round_trips_parquet_csv_rate_with_an_identical_ledger(sample, tmp_path):
    """Issue 9 item 6: the CSV reader guessed org_revenue's type from empty first rows."""
    sample.write_csv(tmp_path / "sample.csv")
    assert main(["rate", str(tmp_path / "sample.csv"), "--out", str(tmp_path / "ledger.parquet")]) == 0
    got = pl.read_parquet(tmp_path / "ledger.parquet")
    assert_frame_equal(got, tierlib.rate(sample, "all"), categorical_as_str=True)


def test_csv_dtypes_follow_the_contract_not_the_first_rows(tmp_path):
    p = small().with_columns(org_revenue=pl.when(pl.int_range(pl.len()) == 5).then(1234.5),
                             in_arrears=False, suspensions=0, note=pl.lit("7"))
    p.write_csv(tmp_path / "p.csv")
    got = read_panel(tmp_path / "p.csv")
    assert got.schema["org_revenue"] == pl.Float64 and got["org_revenue"].to_list()[5] == 1234.5
    assert got.schema["in_arrears"] == pl.Boolean and got.schema["suspensions"] == pl.Int64
    assert got.schema["note"] == pl.String and got.schema["month"] == pl.Date  # not in the contract: text
    assert read_panel(tmp_path / "p.csv", lazy=True).collect().equals(got)


def test_csv_ids_integers_only_when_every_id_is_written_as_an_integer(tmp_path):
    small(ids=("7", "007")).write_csv(tmp_path / "a.csv")
    assert read_panel(tmp_path / "a.csv")["customer_id"].unique().sort().to_list() == ["007", "7"]
    small(ids=(7, 12)).write_csv(tmp_path / "b.csv")
    assert read_panel(tmp_path / "b.csv")["customer_id"].dtype == pl.Int64
    assert read_panel(tmp_path / "b.csv", ids="string")["customer_id"].to_list()[0] == "7"


def test_csv_with_two_billed_headers_is_an_error_naming_the_column(tmp_path, capsys):
    """Issue 9 item 5: the second `billed` was silently read as `billed_duplicated_0`."""
    (tmp_path / "p.csv").write_text("customer_id,month,join_month,billed,billed\n"
                                    "c1,2024-01-01,2024-01-01,10,999\n")
    with pytest.raises(PanelError, match="column 'billed': the column appears 2 times"):
        read_panel(tmp_path / "p.csv")
    assert main(["validate", str(tmp_path / "p.csv")]) == 2
    assert "column 'billed'" in capsys.readouterr().err


@pytest.mark.parametrize("column,value,message", [
    ("billed", "12,5", "value '12,5' at CSV line 3 is not a number"),
    ("month", "2024-1-01", "is not a date YYYY-MM-DD"),
    ("churned", "yes", "value 'yes' at CSV line 3 is not true or false"),
])
def test_a_csv_value_of_the_wrong_kind_is_named(tmp_path, column, value, message):
    p = small().with_columns(pl.col(pl.Date).cast(pl.String), churned=pl.lit("false")).with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(value)).otherwise(pl.col(column).cast(pl.String))
        .alias(column))
    p.write_csv(tmp_path / "p.csv")
    with pytest.raises(PanelError, match=f"column '{column}': .*{message}"):
        read_panel(tmp_path / "p.csv")


def test_one_broken_parquet_file_of_twenty_is_named(tmp_path, capsys):
    """Issue 10 item 10: `Couldn't deserialize thrift` / "magic bytes not found" named no file."""
    d = tmp_path / "panel"
    d.mkdir()
    for k in range(20):
        small(ids=(f"k{k}",)).write_parquet(d / f"part-{k:02d}.parquet")
    raw = (d / "part-13.parquet").read_bytes()
    (d / "part-13.parquet").write_bytes(raw[: len(raw) // 2])  # truncated copy
    with pytest.raises(PanelFileError, match="part-13.parquet: not a readable parquet file"):
        read_panel(d)
    assert main(["rate", str(d), "-s", "unicom_vip"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "part-13.parquet" in err and "Traceback" not in err


def test_mixed_int_and_string_ids_across_files_is_a_clear_error(tmp_path, capsys):
    """Issue 10 item 10: a TypeError traceback before."""
    d = tmp_path / "panel"
    d.mkdir()
    small(ids=(1, 2)).write_parquet(d / "a.parquet")
    small(ids=("x",)).write_parquet(d / "b.parquet")
    with pytest.raises(PanelFileError, match="customer ids are Int64 in .*a.parquet but String in .*b.parquet"):
        read_panel(d)
    for argv in (["rate", str(d), "-s", "unicom_vip"], ["rate", str(d), "-s", "unicom_vip", "--out",
                                                         str(tmp_path / "ledger"), "-q"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "customer ids are Int64" in err and "Traceback" not in err


def test_a_folder_skips_hidden_and_underscore_entries_and_refuses_mixed_formats(tmp_path):
    d = tmp_path / "panel"
    (d / "_staging").mkdir(parents=True)
    small(ids=("a",)).write_parquet(d / "a.parquet")
    small(ids=("b",)).write_parquet(d / "_staging" / "b.parquet")
    small(ids=("c",)).write_parquet(d / ".c.parquet.tierlib-tmp.parquet")
    assert read_panel(d)["customer_id"].unique().to_list() == ["a"]
    small(ids=("d",)).write_csv(d / "d.csv")
    with pytest.raises(PanelFileError, match="mixes parquet and CSV"):
        read_panel(d)
    with pytest.raises(FileNotFoundError, match="panel not found"):
        read_panel(tmp_path / "none.csv")


def test_a_gbk_value_in_a_panel_csv_is_named_not_replaced(tmp_path):
    # the first rows are ASCII, a later brand is GBK: never read as replacement characters
    rows = ["customer_id,month,join_month,billed,brand"] + [f"{i},2024-01-01,2024-01-01,5,x" for i in range(20000)]
    p = tmp_path / "export.csv"
    p.write_bytes(("\n".join(rows) + "\n").encode() + "20001,2024-01-01,2024-01-01,5,全球通\n".encode("gbk"))
    with pytest.raises(PanelFileError, match=r"export.csv: not UTF-8 text; .*--map mapping.yaml"):
        read_panel(p)
    p.write_bytes(("\n".join(rows[:3]) + "\n").encode("utf-8-sig") + "20001,2024-01-01,2024-01-01,5,全球通\n".encode())
    assert read_panel(p)["brand"].to_list() == ["x", "x", "全球通"]
