"""From a warehouse export to a panel on the command line (issue 12 items 1, 2 and 6's
``rate --out ledger.xlsx``): ``tierlib import``, ``--map`` on validate / rate / explain, and
``validate`` reporting every broken rule in one run."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

import tierlib
from tierlib.cli import main
from tierlib.panel import COLUMNS

from .test_mapping import HEADER
from .test_mapping import ROWS as MAPPING_ROWS

D = dt.date

#: the mapping exactly as issue 12 writes it (unquoted YAML ``true:`` / ``false:`` keys)
MAPPING_YAML = """\
# mapping.yaml
encoding: {encoding}
columns:
  customer_id: 用户ID
  month: {{from: 账期, format: "%Y%m"}}
  join_month: {{from: 入网时间, format: "{join_format}", to_month: true}}
  billed: 出账金额
  paid: 实收金额
  brand: {{from: 品牌, values: {{全球通: gotone, 动感地带: mzone, 神州行: easyown}}}}
  suspensions: 欠费停机次数
  churned: {{from: 是否离网, true: ["1", "是", "Y"], false: ["0", "否", "N"]}}
"""
ROWS = [*MAPPING_ROWS, "13700000003,202503,20190101,18,0,神州行,2,Y"]  # the export of tests/test_mapping.py
EXPECTED = pl.DataFrame({
    "customer_id": ["13700000003"] + ["13800000001"] * 3 + ["13900000002"] * 2,
    "month": [D(2025, 3, 1), D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1), D(2025, 2, 1), D(2025, 3, 1)],
    "join_month": [D(2019, 1, 1)] + [D(2011, 9, 1)] * 3 + [D(2025, 2, 1)] * 2,
    "billed": [18.0, 88.5, 90.0, 95.1, 38.0, 40.0],
    "paid": [0.0, 88.5, 80.25, 95.1, 38.0, 40.0],
    "brand": ["easyown"] + ["gotone"] * 3 + ["mzone"] * 2,
    "suspensions": [2, 0, 1, 0, 0, 0],
    "churned": [True, False, False, False, False, True],
})


def write_export(d, encoding="gbk", rows=ROWS, join_format="%Y%m%d", name="export.csv"):
    """The export in the warehouse's encoding (encoded here, at test time) and its mapping file."""
    src = d / name
    src.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(encoding))
    m = d / "mapping.yaml"
    m.write_text(MAPPING_YAML.format(encoding=encoding, join_format=join_format), encoding="utf-8")
    return src, m


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_import_writes_the_hand_built_panel(tmp_path, capsys, encoding):
    src, m = write_export(tmp_path, encoding)
    out = tmp_path / "panel.parquet"
    assert main(["import", str(src), "--map", str(m), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert_frame_equal(pl.read_parquet(out), EXPECTED)
    assert_frame_equal(tierlib.io.read_panel(src, mapping=m).sort("customer_id", "month"), EXPECTED)
    assert main(["validate", str(out)]) == 0 and "ok: 6 rows, 3 customers" in capsys.readouterr().out


def test_import_end_to_end_in_a_subprocess(tmp_path):
    src, m = write_export(tmp_path)
    out = tmp_path / "panel.parquet"
    run = subprocess.run([sys.executable, "-m", "tierlib.cli", "import", str(src), "--map", str(m),
                          "--out", str(out)], capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 0, run.stderr
    assert_frame_equal(pl.read_parquet(out), EXPECTED)


def test_import_from_a_folder_and_integer_months_in_parquet(tmp_path):
    (tmp_path / "src").mkdir()
    raw = pl.DataFrame({"用户ID": [1, 1], "账期": [202503, 202504], "入网时间": ["2011-09-15 10:31:00"] * 2,
                        "出账金额": [10.0, 12.0], "实收金额": [10.0, 12.0], "品牌": ["全球通"] * 2,
                        "欠费停机次数": [0, 0], "是否离网": ["0", "1"]})
    raw[:1].write_parquet(tmp_path / "src" / "202503.parquet")
    raw[1:].write_parquet(tmp_path / "src" / "202504.parquet")
    _, m = write_export(tmp_path, join_format="%Y-%m-%d %H:%M:%S")
    out = tmp_path / "p.parquet"
    assert main(["import", str(tmp_path / "src"), "--map", str(m), "--out", str(out)]) == 0
    got = pl.read_parquet(out)
    assert got.select("customer_id", "month", "join_month", "churned").rows() == [
        (1, D(2025, 3, 1), D(2011, 9, 1), False), (1, D(2025, 4, 1), D(2011, 9, 1), True)]


def test_us_dates_are_month_first_and_never_guessed(tmp_path, capsys):
    rows = [r.replace("20110915", "09/15/2011").replace("20250203", "02/03/2025").replace("20190101", "01/01/2019")
            for r in ROWS]
    src, m = write_export(tmp_path, rows=rows, join_format="%m/%d/%Y")
    out = tmp_path / "p.parquet"
    assert main(["import", str(src), "--map", str(m), "--out", str(out)]) == 0
    assert_frame_equal(pl.read_parquet(out), EXPECTED)  # 02/03/2025 is 3 February, not 2 March
    capsys.readouterr()
    src, m = write_export(tmp_path, rows=[r.replace("09/15/2011", "9/15/2011") for r in rows], join_format="%m/%d/%Y")
    assert main(["import", str(src), "--map", str(m), "--out", str(tmp_path / "q.parquet")]) == 2
    err = capsys.readouterr().err
    assert "source column '入网时间'" in err and "['9/15/2011']" in err and "data row(s) 1, 2, 3" in err
    assert not (tmp_path / "q.parquet").exists()


def test_unreadable_values_name_source_column_values_rows_and_count(tmp_path, capsys):
    rows = [r.replace("全球通", "大王卡") for r in ROWS[:3]] + ROWS[3:]
    src, m = write_export(tmp_path, rows=rows)
    assert main(["import", str(src), "--map", str(m), "--out", str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "source column '品牌'" in err and "3 value(s)" in err and "['大王卡']" in err
    assert "data row(s) 1, 2, 3" in err
    rows = [r.replace(",否", ",离网") for r in ROWS]
    src, m = write_export(tmp_path, rows=rows)
    assert main(["validate", str(src), "--map", str(m)]) == 2
    assert "source column '是否离网'" in capsys.readouterr().err


def test_unmapped_required_column_and_bad_mapping_file_are_named(tmp_path, capsys):
    src, m = write_export(tmp_path)
    m.write_text(m.read_text(encoding="utf-8").replace("  billed: 出账金额\n", ""), encoding="utf-8")
    assert main(["import", str(src), "--map", str(m), "--out", str(tmp_path / "p.parquet")]) == 2
    assert "required panel column(s) ['billed'] are not mapped" in capsys.readouterr().err
    m.write_text(m.read_text(encoding="utf-8").replace("to_month: true", "to_month: yes please"), encoding="utf-8")
    assert main(["validate", str(src), "--map", str(m)]) == 2
    assert f"{m}.columns.join_month.to_month: 'yes please' is not of type 'boolean'" in capsys.readouterr().err


def test_import_never_overwrites_what_it_did_not_write(tmp_path, capsys):
    src, m = write_export(tmp_path)
    out = tmp_path / "panel.parquet"
    out.write_bytes(b"the analyst's own file")
    assert main(["import", str(src), "--map", str(m), "--out", str(out), "--overwrite"]) == 2
    assert out.read_bytes() == b"the analyst's own file" and "panel.parquet" in capsys.readouterr().err
    out.unlink()
    assert main(["import", str(src), "--map", str(m), "--out", str(out)]) == 0
    assert main(["import", str(src), "--map", str(m), "--out", str(out)]) == 2  # own, but no --overwrite
    assert main(["import", str(src), "--map", str(m), "--out", str(out), "--overwrite"]) == 0


def test_rate_and_explain_read_through_the_mapping(tmp_path, capsys):
    src, m = write_export(tmp_path)
    assert main(["rate", str(src), "--map", str(m), "-s", "mobile_credit", "--out", str(tmp_path / "l.parquet")]) == 0
    assert pl.read_parquet(tmp_path / "l.parquet").height == 6
    capsys.readouterr()
    assert main(["explain", str(src), "--map", str(m), "-s", "mobile_credit", "-c", "13800000001",
                 "--as-of", "202503"]) == 0
    text = capsys.readouterr().out
    assert "13800000001" in text and "\ufffd" not in text and "Ã" not in text


def test_errors_print_chinese_column_names_without_mojibake(tmp_path):
    src, m = write_export(tmp_path, rows=[ROWS[0].replace("202501", "2025年1月")])
    run = subprocess.run([sys.executable, "-m", "tierlib.cli", "explain", str(src), "--map", str(m), "-s",
                          "mobile_credit", "-c", "13800000001", "--as-of", "202501"],
                         capture_output=True, encoding="utf-8")
    assert run.returncode == 2
    assert "source column '账期'" in run.stderr and "['2025年1月']" in run.stderr


def five_broken() -> pl.DataFrame:
    months = [D(2024, m, 1) for m in range(1, 5)]
    p = pl.DataFrame({"customer_id": ["a"] * 4 + ["b"] * 4 + ["c"] * 4, "month": months * 3,
                      "join_month": D(2024, 1, 1), "billed": [100.0] * 12, "line": ["mobile"] * 12,
                      "churned": [False] * 12})
    return p.with_columns(
        billed=pl.when(pl.col("customer_id") != "a").then(pl.col("billed")).otherwise(-5.0),  # 1: a x4
        line=pl.when(pl.col("customer_id") == "b").then(pl.lit("satellite")).otherwise("line"),  # 2: b x4
        join_month=pl.when((pl.col("customer_id") == "c") & (pl.col("month") == D(2024, 4, 1)))
        .then(D(2024, 2, 1)).otherwise("join_month"),  # 3: c differs (4 rows)
        churned=(pl.col("customer_id") == "a") & (pl.col("month") == D(2024, 2, 1)),  # 4: a, rows after churn
    ).filter(~((pl.col("customer_id") == "b") & (pl.col("month") == D(2024, 3, 1))))  # 5: gap for b


def test_check_all_lists_five_broken_rules_with_counts_and_customers():
    from tierlib.panelcheck import check_all

    report = check_all(five_broken())
    got = {(r["column"], r["rule"].split(" (")[0]): (r["rows"], r["customers"], r["examples"])
           for r in report.iter_rows(named=True)}
    assert got == {
        ("billed", "negative money"): (4, 1, "a"),
        ("line", "unknown value"): (3, 1, "b"),
        ("join_month", "join_month differs between rows of one customer"): (4, 1, "c"),
        ("month", "gap in months"): (1, 1, "b"),
        ("churned", "rows after churned = true"): (1, 1, "a"),
    }
    assert check_all(five_broken().lazy()).equals(report)


def test_validate_reports_every_broken_rule_in_one_run(tmp_path, capsys):
    five_broken().write_parquet(tmp_path / "p.parquet")
    assert main(["validate", str(tmp_path / "p.parquet")]) == 1
    cap = capsys.readouterr()
    for rule in ("negative money", "unknown value", "join_month differs", "gap in months", "rows after churned"):
        assert rule in cap.out
    assert "breaks 5 rule(s)" in cap.err


def test_missing_and_mistyped_columns_are_reported_with_the_row_rules():
    from tierlib.panelcheck import check_all

    p = five_broken().drop("join_month").with_columns(pl.col("billed").cast(pl.String))
    report = check_all(p.with_columns(suspensions=pl.lit(-1)))
    assert report.select("column", "rule").rows()[:2] == [
        ("join_month", "required column is missing"), ("billed", "wrong type String, expected number (yuan)")]
    assert ("suspensions", "negative count (must be >= 0)") in report.select("column", "rule").rows()


def test_import_refuses_a_broken_panel_with_the_whole_table(tmp_path, capsys):
    rows = [r.replace("88.50,88.50", "-88.50,88.50") for r in ROWS]
    rows[4] = rows[4].replace("202503", "202505")  # a gap for customer 13900000002
    src, m = write_export(tmp_path, rows=rows)
    assert main(["import", str(src), "--map", str(m), "--out", str(tmp_path / "p.parquet")]) == 1
    cap = capsys.readouterr()
    assert "negative money" in cap.out and "gap in months" in cap.out and "nothing written" in cap.err
    assert not (tmp_path / "p.parquet").exists()


def test_rate_writes_a_workbook_a_sheet_per_scheme(tmp_path):
    src, m = write_export(tmp_path)
    out = tmp_path / "ledger.xlsx"
    assert main(["rate", str(src), "--map", str(m), "-s", "mobile_credit,unicom_vip", "--out", str(out)]) == 0
    ledger = tierlib.rate(tierlib.io.read_panel(src, mapping=m), ["mobile_credit", "unicom_vip"])
    for s in ("mobile_credit", "unicom_vip"):
        back = pl.read_excel(out, sheet_name=s)
        want = ledger.filter(pl.col("scheme") == s)
        assert back.height == want.height == 6
        assert back["customer_id"].cast(pl.String).to_list() == want["customer_id"].to_list()
        assert back["tier"].to_list() == want["tier"].cast(pl.String).to_list()
        assert back["month"].to_list() == want["month"].to_list()


def test_rate_refuses_a_ledger_larger_than_a_sheet_before_rating(tmp_path, capsys, monkeypatch):
    import tierlib.excel

    src, m = write_export(tmp_path)
    monkeypatch.setattr(tierlib.excel, "EXCEL_MAX_ROWS", 6)  # 5 rows below the header; the panel has 6

    def no_rating(*a, **k):
        raise AssertionError("rated before refusing")

    monkeypatch.setattr(tierlib, "rate", no_rating)
    assert main(["rate", str(src), "--map", str(m), "-s", "mobile_credit", "--out", str(tmp_path / "l.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "would have 6 rows per scheme; an Excel sheet holds 5 below its header" in err
    assert err.count("\n") == 1 and not (tmp_path / "l.xlsx").exists()


def test_the_schema_file_agrees_with_the_panel_contract():
    from tierlib.mapping import mapping_schema

    schema = mapping_schema()
    cols = schema["properties"]["columns"]["properties"]
    assert list(cols) == list(COLUMNS) and list(schema["properties"]["constants"]["properties"]) == [
        c for c in COLUMNS if c != "customer_id"]
    for name, spec in cols.items():
        assert spec["$ref"] == f"#/$defs/{COLUMNS[name].kind}"
        if COLUMNS[name].values is not None:
            ref = spec["properties"]["values"]["additionalProperties"]["$ref"].rsplit("/", 1)[1]
            assert tuple(schema["$defs"][ref]["enum"]) == COLUMNS[name].values


def test_the_shipped_example_mapping_reads_the_shipped_example_export(tmp_path):
    from pathlib import Path

    docs = Path(__file__).parents[1] / "docs" / "examples"
    out = tmp_path / "panel.parquet"
    src, m = docs / "export_gbk.csv", docs / "mapping_gbk.yaml"
    assert main(["import", str(src), "--map", str(m), "--out", str(out)]) == 0
    assert tierlib.validate(pl.read_parquet(out)).height > 0
    assert yaml.safe_load((docs / "mapping_gbk.yaml").read_text(encoding="utf-8"))["encoding"] == "gbk"


def test_the_example_export_is_what_its_script_writes(tmp_path):
    import importlib.util
    from pathlib import Path

    docs = Path(__file__).parents[1] / "docs" / "examples"
    spec = importlib.util.spec_from_file_location("make_export_gbk", docs / "make_export_gbk.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.write(tmp_path / "e.csv").read_bytes() == (docs / "export_gbk.csv").read_bytes()


def test_check_all_agrees_with_validate_in_any_row_order():
    from tierlib.panel import PanelError
    from tierlib.panelcheck import check_all

    p = five_broken()
    report = check_all(p)
    shuffled = check_all(p.sample(fraction=1.0, shuffle=True, seed=3))
    assert shuffled.drop("examples").equals(report.drop("examples"))
    first = report.row(0, named=True)
    with pytest.raises(PanelError) as e:
        tierlib.validate(p)
    assert (e.value.column, e.value.rule, e.value.n_rows) == (first["column"], first["rule"], first["rows"])
    ok = p.filter(pl.col("customer_id") == "z")
    assert check_all(ok).height == 0 and check_all(EXPECTED).height == 0
