"""The panel contract of RULES.md §1: a corpus of malformed panels, one per rule, and the
defaults of a valid panel.

Every malformed panel must raise ``tierlib.PanelError`` (a ``ValueError``) whose message names
the column and, for a row problem, some of the offending customer_ids (at most five). The
row defects are planted in seven customers ``BAD1`` .. ``BAD7`` next to two good ones, so the
"at most five" part can fail.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from tests.golden import add_months

import tierlib  # a broken import fails the suite, never skips it
from tierlib import PanelError

GOOD = ["OK1", "OK2"]
BAD = [f"BAD{k}" for k in range(1, 8)]
START = dt.date(2024, 1, 1)
MONTHS = 4


def full_panel(ids: list[str] = GOOD + BAD) -> pl.DataFrame:
    """A valid panel with every column of RULES.md §1, four months per customer."""
    rows = []
    for cid in ids:
        for k in range(MONTHS):
            rows.append({
                "customer_id": cid, "month": add_months(START, k), "join_month": START,
                "billed": 100.0 + k, "paid": 90.0, "plan_fee": 88.0, "brand": "tianyi",
                "line": "fixed", "segment": "enterprise", "account_type": "prepaid",
                "suspensions": 1, "in_arrears": k == 1, "n_mobile": 2, "n_fixed": 1,
                "n_broadband": 1, "n_itv": 0, "org_revenue": 60000.0,
                "official_rank": "division", "churned": False, "province": "guizhou",
            })
    return pl.DataFrame(rows, schema={
        "customer_id": pl.String, "month": pl.Date, "join_month": pl.Date, "billed": pl.Float64,
        "paid": pl.Float64, "plan_fee": pl.Float64, "brand": pl.String, "line": pl.String,
        "segment": pl.String, "account_type": pl.String, "suspensions": pl.Int64,
        "in_arrears": pl.Boolean, "n_mobile": pl.Int64, "n_fixed": pl.Int64,
        "n_broadband": pl.Int64, "n_itv": pl.Int64, "org_revenue": pl.Float64,
        "official_rank": pl.String, "churned": pl.Boolean, "province": pl.String,
    })


def required_only() -> pl.DataFrame:
    return full_panel().select("customer_id", "month", "join_month", "billed")


IS_BAD = pl.col("customer_id").is_in(BAD)


def set_bad(column: str, value: object, dtype: pl.DataType | None = None, *, months=None):
    """Put ``value`` in ``column`` for the BAD customers (optionally only some months)."""
    def mutate(p: pl.DataFrame) -> pl.DataFrame:
        where = IS_BAD if months is None else IS_BAD & pl.col("month").is_in(months)
        lit = pl.lit(value, dtype=dtype or p.schema[column])
        return p.with_columns(pl.when(where).then(lit).otherwise(pl.col(column)).alias(column))
    return mutate


def retype(column: str, values: object, dtype: pl.DataType):
    """The whole column replaced by one of the wrong type."""
    def mutate(p: pl.DataFrame) -> pl.DataFrame:
        return p.with_columns(pl.lit(values, dtype=dtype).alias(column))
    return mutate


def dup_rows(p: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([p, p.filter(IS_BAD & (pl.col("month") == add_months(START, 2)))])


def gap(p: pl.DataFrame) -> pl.DataFrame:
    return p.filter(~(IS_BAD & (pl.col("month") == add_months(START, 1))))


def not_first(column: str):
    def mutate(p: pl.DataFrame) -> pl.DataFrame:
        return p.with_columns(
            pl.when(IS_BAD).then(pl.col(column).dt.offset_by("14d")).otherwise(pl.col(column))
        )
    return mutate


def join_after_first_row(p: pl.DataFrame) -> pl.DataFrame:
    return set_bad("join_month", add_months(START, 1))(p)


def join_varies(p: pl.DataFrame) -> pl.DataFrame:
    return set_bad("join_month", dt.date(2023, 6, 1), months=[add_months(START, 3)])(p)


# (name, mutation, base, column the message must name, whether BAD ids must be listed)
ROW = True
CORPUS = [
    *[(f"missing required {c}", lambda p, c=c: p.drop(c), required_only, c, False)
      for c in ("customer_id", "month", "join_month", "billed")],
    ("month as text", retype("month", "2024-01-01", pl.String), full_panel, "month", False),
    ("join_month as text", retype("join_month", "2024-01-01", pl.String), full_panel,
     "join_month", False),
    *[(f"{c} as text", retype(c, "12", pl.String), full_panel, c, False)
      for c in ("billed", "paid", "plan_fee", "org_revenue", "suspensions", "n_mobile",
                "n_fixed", "n_broadband", "n_itv", "in_arrears", "churned")],
    *[(f"{c} as a number", retype(c, 1, pl.Int64), full_panel, c, False)
      for c in ("brand", "line", "segment", "account_type", "official_rank", "province")],
    *[(f"negative {c}", set_bad(c, -0.01), full_panel, c, ROW)
      for c in ("billed", "paid", "plan_fee", "org_revenue")],
    *[(f"negative {c}", set_bad(c, -1), full_panel, c, ROW)
      for c in ("suspensions", "n_mobile", "n_fixed", "n_broadband", "n_itv")],
    ("month not on the 1st", not_first("month"), full_panel, "month", ROW),
    ("join_month not on the 1st", not_first("join_month"), full_panel, "join_month", ROW),
    ("duplicate (customer_id, month)", dup_rows, full_panel, "month", ROW),
    ("gap in months", gap, full_panel, "month", ROW),
    ("row before join_month", join_after_first_row, full_panel, "join_month", ROW),
    ("join_month varies within a customer", join_varies, full_panel, "join_month", ROW),
    ("unknown line", set_bad("line", "satellite"), full_panel, "line", ROW),
    ("unknown segment", set_bad("segment", "government"), full_panel, "segment", ROW),
    ("unknown account_type", set_bad("account_type", "vip_card"), full_panel,
     "account_type", ROW),
    ("unknown official_rank", set_bad("official_rank", "minister"), full_panel,
     "official_rank", ROW),
    ("null customer_id", lambda p: p.with_columns(
        pl.when(IS_BAD).then(None).otherwise(pl.col("customer_id")).alias("customer_id")),
     full_panel, "customer_id", False),
    *[(f"null {c}", set_bad(c, None), full_panel, c, ROW)
      for c in ("month", "join_month", "billed")],
    # RULES.md §1: a customer who leaves and rejoins is a new customer_id
    ("rows after churned", set_bad("churned", True, months=[add_months(START, 1)]), full_panel,
     "churned", ROW),
]


def listed_ids(message: str) -> list[str]:
    return [c for c in GOOD + BAD if re.search(rf"\b{c}\b", message)]


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
@pytest.mark.parametrize(("name", "mutate", "base", "column", "row"), CORPUS,
                         ids=[c[0] for c in CORPUS])
def test_malformed_panel_is_refused(name, mutate, base, column, row, lazy):
    panel = mutate(base())
    with pytest.raises(PanelError) as info:
        out = tierlib.validate(panel.lazy() if lazy else panel)
        if isinstance(out, pl.LazyFrame):  # a lazy check may only fire on collect
            out.collect()
    err = info.value
    assert isinstance(err, ValueError)
    message = str(err)
    assert re.search(rf"\b{re.escape(column)}\b", message), f"{column!r} not named in: {message}"
    listed = listed_ids(message)
    if row:
        assert listed, f"no offending customer_id in: {message}"
        assert set(listed) <= set(BAD), f"good customers blamed in: {message}"
        assert len(listed) <= 5, f"{len(listed)} customer_ids listed in: {message}"


@pytest.mark.parametrize("scheme", ["unicom_vip", "telecom_club"])
def test_rate_refuses_a_malformed_panel(scheme):
    with pytest.raises(PanelError, match="billed"):
        tierlib.rate(set_bad("billed", -5.0)(full_panel()), scheme)


def test_the_corpus_base_panels_are_valid():
    """Guard for the corpus: without the defect, nothing is raised."""
    for base in (full_panel, required_only):
        assert tierlib.validate(base()).height == base().height


DEFAULTS = {
    "plan_fee": 0.0, "brand": "", "line": "mobile", "segment": "personal",
    "account_type": "standard", "suspensions": 0, "in_arrears": False, "n_mobile": 1,
    "n_fixed": 0, "n_broadband": 0, "n_itv": 0, "org_revenue": None, "official_rank": None,
    "churned": False, "province": None,
}


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_required_columns_only_get_the_defaults(lazy):
    panel = required_only()
    out = tierlib.validate(panel.lazy() if lazy else panel)
    assert isinstance(out, pl.LazyFrame) == lazy
    out = out.collect() if lazy else out
    assert out.height == panel.height  # nothing dropped
    keys = ["customer_id", "month"]
    out = out.sort(keys)
    assert_same = out.select(panel.columns).equals(panel.sort(keys))
    assert assert_same, "required columns changed by validate"
    assert out["paid"].to_list() == out["billed"].to_list()  # paid defaults to billed
    for column, default in DEFAULTS.items():
        assert column in out.columns, f"{column} not filled"
        values = out[column].to_list()
        assert all(v == default if default is not None else v is None for v in values), (
            f"{column}: expected {default!r}, got {sorted(set(values), key=str)[:5]}")


def test_a_full_valid_panel_keeps_every_row_and_value():
    panel = full_panel()
    out = tierlib.validate(panel)
    keys = ["customer_id", "month"]
    assert out.height == panel.height
    assert out.select(panel.columns).sort(keys).equals(panel.sort(keys))


# --- one defect in one random row of a random valid panel ---------------------------------
# The corpus above plants each defect in whole customers; here a single row anywhere (the
# panel's first row, a customer's last row, ...) must be enough to be refused.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.strategies import panels  # noqa: E402

ROW_DEFECTS = {
    # kind: (column named in the message, value or callable(row) -> row)
    "negative billed": ("billed", -1.0),
    "negative paid": ("paid", -0.5),
    "negative plan_fee": ("plan_fee", -88.0),
    "negative org_revenue": ("org_revenue", -1.0),
    "negative suspensions": ("suspensions", -1),
    "negative n_mobile": ("n_mobile", -1),
    "negative n_itv": ("n_itv", -2),
    "null billed": ("billed", None),
    "null month": ("month", None),
    "null join_month": ("join_month", None),
    "month on the 2nd": ("month", lambda r: r["month"] + dt.timedelta(days=1)),
    "join_month on the 15th": ("join_month", lambda r: r["join_month"] + dt.timedelta(days=14)),
    "unknown line": ("line", "satellite"),
    "unknown segment": ("segment", "government"),
    "unknown account_type": ("account_type", "vip_card"),
    "unknown official_rank": ("official_rank", "minister"),
}
FILL = {"paid": 1.0, "plan_fee": 0.0, "org_revenue": 0.0, "suspensions": 0, "n_mobile": 1,
        "n_itv": 0, "line": "mobile", "segment": "personal", "account_type": "standard",
        "official_rank": None}
FILL_TYPES = {"paid": pl.Float64, "plan_fee": pl.Float64, "org_revenue": pl.Float64,
              "suspensions": pl.Int64, "n_mobile": pl.Int64, "n_itv": pl.Int64,
              "line": pl.String, "segment": pl.String, "account_type": pl.String,
              "official_rank": pl.String}


def _with_row(panel: pl.DataFrame, k: int, row: dict | None, *, extra: dict | None = None):
    rows = panel.rows(named=True)
    if row is None:
        del rows[k]
    else:
        rows[k] = row
    if extra is not None:
        rows.insert(k + 1, extra)
    return pl.DataFrame(rows, schema=panel.schema)


@st.composite
def one_bad_row(draw):
    """(panel with one defect, column to name, customer_id at fault)."""
    panel = draw(panels(max_customers=3))
    kind = draw(st.sampled_from(sorted(ROW_DEFECTS) + ["duplicate", "gap", "join varies",
                                                        "before join"]))
    k = draw(st.integers(0, panel.height - 1))
    row = dict(panel.row(k, named=True))
    cid = row["customer_id"]
    mine = panel.filter(pl.col("customer_id") == cid).sort("month")
    if kind == "duplicate":
        return _with_row(panel, k, row, extra=dict(row)), "month", cid
    if kind == "gap" and mine.height >= 3:
        middle = mine["month"][draw(st.integers(1, mine.height - 2))]
        return panel.filter((pl.col("customer_id") != cid) | (pl.col("month") != middle)), \
            "month", cid
    if kind == "join varies" and mine.height >= 2:
        row["join_month"] = dt.date(row["join_month"].year - 1, row["join_month"].month, 1)
        return _with_row(panel, k, row), "join_month", cid
    if kind in ("gap", "join varies", "before join"):
        later = add_months(mine["month"][0], 1)
        return panel.with_columns(
            pl.when(pl.col("customer_id") == cid).then(pl.lit(later)).otherwise(
                pl.col("join_month")).alias("join_month")), "join_month", cid
    column, value = ROW_DEFECTS[kind]
    if column not in panel.columns:
        panel = panel.with_columns(pl.lit(FILL[column], dtype=FILL_TYPES[column]).alias(column))
        row = dict(panel.row(k, named=True))
    row[column] = value(row) if callable(value) else value
    return _with_row(panel, k, row), column, cid


@settings(max_examples=120, derandomize=True, database=None, deadline=None)
@given(case=one_bad_row())
def test_one_bad_row_anywhere_is_refused(case):
    panel, column, cid = case
    with pytest.raises(PanelError) as info:
        tierlib.validate(panel)
    message = str(info.value)
    assert re.search(rf"\b{re.escape(column)}\b", message), f"{column!r} not named: {message}"
    assert re.search(rf"\b{re.escape(str(cid))}\b", message), f"{cid!r} not listed: {message}"
