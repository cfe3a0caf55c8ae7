"""Column mappings (tierlib.mapping): a Chinese warehouse export read exactly as its mapping says."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib.mapping import MappingError, apply_mapping, load_mapping, read_mapped, read_raw

D = dt.date

#: the mapping of issue 12, as an analyst writes it
MAPPING = {
    "encoding": "gbk",
    "columns": {
        "customer_id": "用户ID",
        "month": {"from": "账期", "format": "%Y%m"},
        "join_month": {"from": "入网时间", "format": "%Y%m%d", "to_month": True},
        "billed": "出账金额",
        "paid": "实收金额",
        "brand": {"from": "品牌", "values": {"全球通": "gotone", "动感地带": "mzone", "神州行": "easyown"}},
        "suspensions": "欠费停机次数",
        "churned": {"from": "是否离网", "true": ["1", "是", "Y"], "false": ["0", "否", "N"]},
    },
}
HEADER = "用户ID,账期,入网时间,出账金额,实收金额,品牌,欠费停机次数,是否离网"
ROWS = [
    "13800000001,202501,20110915,88.50,88.50,全球通,0,否",
    "13800000001,202502,20110915,90,80.25,全球通,1,0",
    "13800000001,202503,20110915,95.10,95.10,全球通,0,N",
    "13900000002,202502,20250203,38,38,动感地带,0,否",
    "13900000002,202503,20250203,40,40,动感地带,0,是",
]


def export(tmp_path, rows=ROWS, header=HEADER, encoding="gbk", name="export.csv"):
    p = tmp_path / name
    p.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return p


def test_gbk_export_reads_to_the_hand_built_panel(tmp_path):
    panel = read_mapped(export(tmp_path), MAPPING)
    want = pl.DataFrame({
        "customer_id": ["13800000001"] * 3 + ["13900000002"] * 2,
        "month": [D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1), D(2025, 2, 1), D(2025, 3, 1)],
        "join_month": [D(2011, 9, 1)] * 3 + [D(2025, 2, 1)] * 2,
        "billed": [88.5, 90.0, 95.1, 38.0, 40.0],
        "paid": [88.5, 80.25, 95.1, 38.0, 40.0],
        "brand": ["gotone"] * 3 + ["mzone"] * 2,
        "suspensions": [0, 1, 0, 0, 0],
        "churned": [False, False, False, False, True],
    })
    assert panel.equals(want)
    ledger = tierlib.rate(panel, "mobile_credit")  # a valid panel: it rates
    assert ledger.height == 5


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_other_warehouse_encodings(tmp_path, encoding):
    p = export(tmp_path, encoding=encoding)
    panel = read_mapped(p, {**MAPPING, "encoding": encoding})
    assert panel.columns[0] == "customer_id" and panel["brand"].to_list()[0] == "gotone"


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    p = export(tmp_path, encoding="utf-8-sig")
    assert read_raw(p, {**MAPPING, "encoding": "utf-8"}).columns[0] == "用户ID"


def test_wrong_encoding_is_named(tmp_path):
    with pytest.raises(MappingError, match="not utf-8 text at byte"):
        read_mapped(export(tmp_path), {**MAPPING, "encoding": "utf-8"})


def test_billing_month_as_integer_and_join_time_with_clock(tmp_path):
    raw = pl.DataFrame({"用户ID": [7, 7], "账期": [202503, 202504],
                        "入网时间": ["2011-09-15 10:31:00", "2011-09-15 10:31:00"], "出账金额": [10.0, 12.0]})
    m = {"columns": {"customer_id": "用户ID", "month": {"from": "账期", "format": "%Y%m"},
                     "join_month": {"from": "入网时间", "format": "%Y-%m-%d %H:%M:%S", "to_month": True},
                     "billed": "出账金额"}}
    out = apply_mapping(raw, m)
    assert out.select("customer_id", "month", "join_month").rows() == [
        (7, D(2025, 3, 1), D(2011, 9, 1)), (7, D(2025, 4, 1), D(2011, 9, 1))]


def test_month_first_us_dates_follow_the_named_format(tmp_path):
    # 03/04/2024 is 4 March in %m/%d/%Y: never read as 3 April, never guessed
    raw = pl.DataFrame({"id": ["a"], "m": ["03/01/2024"], "j": ["03/04/2020"], "b": ["1"]})
    m = {"columns": {"customer_id": "id", "month": {"from": "m", "format": "%m/%d/%Y"},
                     "join_month": {"from": "j", "format": "%m/%d/%Y", "to_month": True}, "billed": "b"}}
    assert apply_mapping(raw, m).row(0)[1:3] == (D(2024, 3, 1), D(2020, 3, 1))


def test_a_date_column_without_a_format_is_refused():
    raw = pl.DataFrame({"id": ["a"], "m": ["2024-03-01"], "j": ["2020-03-01"], "b": ["1"]})
    m = {"columns": {"customer_id": "id", "month": "m", "join_month": "j", "billed": "b"}}
    with pytest.raises(MappingError, match="give its date format"):
        apply_mapping(raw, m)


@pytest.mark.parametrize("row, column, what", [
    ("13800000001,2025-01,20110915,88.5,88.5,全球通,0,否", "账期", "not a date in the format '%Y%m'"),
    ("13800000001,202501,20110915,88,5元,88.5,全球通,0,否", None, None),
    ("13800000001,202501,20110915,八十,88.5,全球通,0,否", "出账金额", "not a number"),
    ("13800000001,202501,20110915,88.5,88.5,全球通,1.5,否", "欠费停机次数", "not a whole number"),
    ("13800000001,202501,20110915,88.5,88.5,大王卡,0,否", "品牌", "not in the mapping's values table"),
    ("13800000001,202501,20110915,88.5,88.5,全球通,0,离网", "是否离网", "not among the true codes"),
])
def test_unreadable_values_name_column_value_and_row(tmp_path, row, column, what):
    p = export(tmp_path, rows=[ROWS[0], row])
    if column is None:  # a stray comma: the CSV itself is broken, named with its path
        with pytest.raises(MappingError, match="export.csv"):
            read_mapped(p, MAPPING)
        return
    with pytest.raises(MappingError) as e:
        read_mapped(p, MAPPING)
    msg = str(e.value)
    assert f"source column '{column}'" in msg and what in msg and "data row(s) 2 " in msg


def test_unknown_value_is_quoted_in_the_error(tmp_path):
    p = export(tmp_path, rows=[ROWS[0], ROWS[1].replace("全球通", "大王卡")])
    with pytest.raises(MappingError, match=r"\['大王卡'\]"):
        read_mapped(p, MAPPING)


def test_unmapped_required_column_is_named(tmp_path):
    cols = {k: v for k, v in MAPPING["columns"].items() if k != "billed"}
    with pytest.raises(MappingError, match=r"required panel column\(s\) \['billed'\] are not mapped"):
        read_mapped(export(tmp_path), {**MAPPING, "columns": cols})


def test_missing_source_column_is_named(tmp_path):
    cols = {**MAPPING["columns"], "billed": "应收金额"}
    with pytest.raises(MappingError, match=r"source column\(s\) \['应收金额'\] not in the data"):
        read_mapped(export(tmp_path), {**MAPPING, "columns": cols})


def test_duplicate_headers_are_refused(tmp_path):
    p = export(tmp_path, header=HEADER.replace("实收金额", "出账金额"))
    with pytest.raises(MappingError, match=r"header\(s\) \['出账金额'\] appear more than once"):
        read_mapped(p, MAPPING)


@pytest.mark.parametrize("change, message", [
    ({"colums": {}}, "unknown key"),
    ({"encoding": "big5"}, "mapping.encoding: 'big5' is not one of ['utf-8', 'utf-8-sig', 'gbk', 'gb18030']"),
    ({"columns": {"billing": "x"}}, "mapping.columns: unknown panel column(s) ['billing'] (allowed: account_type,"),
    ({"columns": {"billed": {"from": "x", "format": "%Y"}}}, "mapping.columns.billed: unknown key(s) ['format'] "
                                                             "(allowed: factor, from)"),
    ({"columns": {"line": {"from": "x", "values": {"卫星": "satellite"}}}},
     "mapping.columns.line.values.卫星: 'satellite' is not one of ['mobile', 'fixed', 'broadband']"),
    ({"columns": {"month": {"from": "m", "format": 5}}}, "mapping.columns.month.format: 5 is not of type 'string'"),
    ({"columns": {"churned": {"from": "x", "true": [True]}}}, "mapping.columns.churned.true.0: True is not of type"),
    ({"constants": {"line": "sat"}}, "mapping.constants.line: 'sat' is not one of"),
    ({"keep": "地市"}, "mapping.keep: '地市' is not of type 'array'"),
    ({"columns": {"churned": {"from": "x", "true": ["1"], "false": ["1"]}}}, "both true and false"),
    ({"columns": {"billed": {"from": "x", "factor": 0}}}, "mapping.columns.billed.factor: 0 is less than or equal"),
    ({"columns": {"billed": "x", "paid": "x"}}, "mapped to more than one panel column"),
    ({"columns": {"month": {"format": "%Y%m"}}}, "mapping with 'from'"),
])
def test_mapping_schema_errors_name_the_path(change, message):
    with pytest.raises(MappingError) as e:
        load_mapping({**MAPPING, **change})
    assert message in str(e.value)


def test_mapping_file_on_disk(tmp_path):
    import yaml

    f = tmp_path / "mapping.yaml"
    f.write_text(yaml.safe_dump(MAPPING, allow_unicode=True), encoding="utf-8")
    assert read_mapped(export(tmp_path), f).height == 5
    (tmp_path / "bad.yaml").write_text("columns: [1, 2", encoding="utf-8")
    with pytest.raises(MappingError, match="bad.yaml: not a valid UTF-8 YAML"):
        load_mapping(tmp_path / "bad.yaml")


def test_a_folder_of_monthly_exports(tmp_path):
    (tmp_path / "src").mkdir()
    export(tmp_path / "src", rows=ROWS[:1] + ROWS[3:4], name="202501.csv")
    export(tmp_path / "src", rows=ROWS[1:3] + ROWS[4:], name="202502.csv")
    panel = read_mapped(tmp_path / "src", MAPPING)
    assert panel.height == 5
    assert tierlib.validate(panel).select("customer_id", "month").rows()[:2] == [
        ("13800000001", D(2025, 1, 1)), ("13800000001", D(2025, 2, 1))]


def test_money_factor_fen_to_yuan():
    raw = pl.DataFrame({"id": ["a"], "m": ["202401"], "j": ["202001"], "b": ["8850"]})
    m = {"columns": {"customer_id": "id", "month": {"from": "m", "format": "%Y%m"},
                     "join_month": {"from": "j", "format": "%Y%m"}, "billed": {"from": "b", "factor": 0.01}}}
    assert apply_mapping(raw, m)["billed"].to_list() == [88.5]


def test_the_issues_mapping_text_loads_as_written(tmp_path):
    # unquoted `true:` / `false:` keys are YAML booleans; the mapping of issue 12 must still read
    f = tmp_path / "mapping.yaml"
    f.write_text('encoding: gbk\ncolumns:\n  customer_id: 用户ID\n  month: {from: 账期, format: "%Y%m"}\n'
                 '  join_month: {from: 入网时间, format: "%Y%m%d", to_month: true}\n  billed: 出账金额\n'
                 '  paid: 实收金额\n  brand: {from: 品牌, values: {全球通: gotone, 动感地带: mzone, 神州行: easyown}}\n'
                 '  suspensions: 欠费停机次数\n  churned: {from: 是否离网, true: ["1", "是", "Y"], false: ["0", "否", "N"]}\n',
                 encoding="utf-8")
    m = load_mapping(f)
    churned = next(c for c in m.columns if c.target == "churned")
    assert churned.true == ("1", "是", "Y") and churned.false == ("0", "否", "N")
    assert read_mapped(export(tmp_path), f)["churned"].to_list() == [False, False, False, False, True]


@pytest.mark.parametrize("value, fmt", [
    ("03/04/24", "%m/%d/%Y"),  # a two-digit year is not %Y (it is not the year 24)
    ("3/4/2024", "%m/%d/%Y"),  # %m and %d are zero-padded; %-m/%-d say unpadded
    ("2011-9-15 10:31:00", "%Y-%m-%d %H:%M:%S"),
])
def test_a_date_must_read_back_in_its_format(value, fmt):
    raw = pl.DataFrame({"id": ["a"], "m": ["202403"], "j": [value], "b": ["1"]})
    m = {"columns": {"customer_id": "id", "month": {"from": "m", "format": "%Y%m"},
                     "join_month": {"from": "j", "format": fmt, "to_month": True}, "billed": "b"}}
    with pytest.raises(MappingError, match=rf"source column 'j' .*not a date in the format '{fmt}'.*\['{value}'\]"):
        apply_mapping(raw, m)


def test_unpadded_dates_with_dash_flags():
    raw = pl.DataFrame({"id": ["a", "a"], "m": ["3/1/2024", "12/1/2024"], "j": ["3/4/2020"] * 2, "b": ["1", "2"]})
    m = {"columns": {"customer_id": "id", "month": {"from": "m", "format": "%-m/%-d/%Y"},
                     "join_month": {"from": "j", "format": "%-m/%-d/%Y", "to_month": True}, "billed": "b"}}
    assert apply_mapping(raw, m).select("month", "join_month").rows() == [
        (D(2024, 3, 1), D(2020, 3, 1)), (D(2024, 12, 1), D(2020, 3, 1))]


def test_month_only_formats_read_unpadded_months_and_refuse_what_is_not_the_format():
    """Review of issue 12: `%Y/%-m` (the advice the error gives) parsed nothing: 2025/1 and
    2025/12 were errors. A month-only format now reads with the 1st as its day."""
    raw = pl.DataFrame({"id": ["a", "a"], "m": ["2025/1", "2025/12"], "j": ["202001"] * 2, "b": ["1", "2"]})
    m = {"columns": {"customer_id": "id", "month": {"from": "m", "format": "%Y/%-m"},
                     "join_month": {"from": "j", "format": "%Y%m"}, "billed": "b"}}
    assert apply_mapping(raw, m).select("month", "join_month").rows() == [
        (D(2025, 1, 1), D(2020, 1, 1)), (D(2025, 12, 1), D(2020, 1, 1))]
    for bad in ("2025/13", "2025/03", "25/3"):
        with pytest.raises(MappingError, match=rf"source column 'm' .*not a date in the format '%Y/%-m'.*\['{bad}'\]"):
            apply_mapping(raw.with_columns(m=pl.Series([bad, "2025/1"])), m)
