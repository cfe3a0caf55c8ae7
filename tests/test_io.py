"""The snapshot importer (tierlib.io.from_snapshot) on small hand-made snapshots."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib.io import from_snapshot

D = dt.date


def snap(**overrides) -> pl.DataFrame:
    """An IBM-like extract as read with infer_schema=False: odd names, text numbers, blanks."""
    data = {
        "Customer ID": ["A-1", "B-2", "C-3", "D-4"],
        "Tenure (months)": ["3", "0", " 12 ", "1"],
        " Monthly $ ": ["50.5", "20", "99.9", "30"],
        "TOTAL charges": ["150", " ", "1100.4", "30"],
        "Churn?": ["Yes", "No", "no", "TRUE"],
        "Brand": ["gotone", "mzone", "gotone", "easyown"],
    }
    data.update(overrides)
    return pl.DataFrame(data)


COLS = {"customer_id": "Customer ID", "tenure": "Tenure (months)", "monthly": " Monthly $ ",
        "total": "TOTAL charges", "churn": "Churn?", "brand": "Brand"}


def test_flat_spend_rows_and_months():
    p = from_snapshot(snap(), columns=COLS, as_of="2024-12")
    rows = dict(p.group_by("customer_id").len().iter_rows())
    assert rows == {"A-1": 3, "B-2": 1, "C-3": 12, "D-4": 1}  # tenure 0 -> one row, the join month
    a = p.filter(pl.col("customer_id") == "A-1")
    assert a["month"].to_list() == [D(2024, 10, 1), D(2024, 11, 1), D(2024, 12, 1)]
    assert (a["join_month"] == D(2024, 10, 1)).all() and (a["billed"] == 50.5).all()
    assert p["month"].max() == D(2024, 12, 1)
    assert (p["paid"] == p["billed"]).all()  # panel default filled by validate
    assert tierlib.validate(p).equals(p)


def test_churn_flag_on_the_last_row_only():
    p = from_snapshot(snap(), columns=COLS, as_of="2024-12")
    churned = p.filter("churned")
    assert sorted(churned["customer_id"]) == ["A-1", "D-4"]
    assert (churned["month"] == D(2024, 12, 1)).all()


def test_total_spend_sums_to_total_charges():
    p = from_snapshot(snap(), columns=COLS, as_of="2024-12", spend="total", currency_factor=7.2)
    sums = dict(p.group_by("customer_id").agg(pl.col("billed").sum()).iter_rows())
    assert sums["A-1"] == pytest.approx(150 * 7.2)
    assert sums["C-3"] == pytest.approx(1100.4 * 7.2)
    assert sums["B-2"] == 0.0  # documented rule: blank total at tenure 0 reads as 0


def test_currency_factor_scales_flat_spend():
    p = from_snapshot(snap(), columns=COLS, as_of="2024-12", currency_factor=7.0)
    assert p.filter(pl.col("customer_id") == "A-1")["billed"].to_list() == pytest.approx([353.5] * 3)


def test_since_join_tenure_adds_the_join_month():
    p = from_snapshot(snap(), columns=COLS, as_of="2024-12", tenure="since_join")
    rows = dict(p.group_by("customer_id").len().iter_rows())
    assert rows == {"A-1": 4, "B-2": 1, "C-3": 13, "D-4": 2}


def test_max_months_left_truncates():
    p = from_snapshot(snap(), columns=COLS, as_of="2024-12", max_months=6)
    c = p.filter(pl.col("customer_id") == "C-3")
    assert c.height == 6 and c["month"].min() == D(2024, 7, 1)
    assert (c["join_month"] == D(2024, 1, 1)).all()  # the true join month is kept


def test_static_columns_and_constants():
    p = from_snapshot(snap(), columns=COLS, as_of=D(2024, 12, 15),
                      constants={"line": "mobile", "province": "guizhou"})
    assert set(p["brand"]) == {"gotone", "mzone", "easyown"}
    assert (p["province"] == "guizhou").all() and (p["month"].max() == D(2024, 12, 1))
    led = tierlib.rate(p, "mobile_credit")  # brand feeds the credit score
    assert led.height == p.height


def test_without_ids_uses_row_numbers_and_numeric_input():
    df = pl.DataFrame({"len": [2, 5, 2], "charge": [10.0, 80.0, 10.0], "left": [0, 1, 0]})
    p = from_snapshot(df, columns={"tenure": "len", "monthly": "charge", "churn": "left"}, as_of="2024-06")
    assert sorted(p["customer_id"].unique()) == [1, 2, 3]  # duplicate rows stay distinct customers
    assert p.filter("churned")["customer_id"].to_list() == [2]


def test_lazy_input():
    p = from_snapshot(snap().lazy(), columns=COLS, as_of="2024-12")
    assert p.height == 17


# --- bad input: a clear error naming the column and the rows, never a silent drop ----------

def _err(df, match, **kw) -> tierlib.PanelError:
    with pytest.raises(tierlib.PanelError, match=match) as e:
        from_snapshot(df, **{"columns": COLS, "as_of": "2024-12", **kw})
    return e.value


def test_blank_total_with_tenure_is_an_error():
    e = _err(snap(**{"TOTAL charges": ["150", " ", " ", "30"]}), "blank total", spend="total")
    assert e.column == "TOTAL charges" and e.customers == ["C-3"] and "row 2" in str(e)


def test_blank_monthly_is_an_error():
    e = _err(snap(**{" Monthly $ ": ["50.5", "", "99.9", ""]}), "blank monthly")
    assert e.column == " Monthly $ " and e.customers == ["B-2", "D-4"] and "rows 1, 3" in str(e)


def test_text_in_a_numeric_field():
    e = _err(snap(**{"Tenure (months)": ["3", "two", "12", "1"]}), "not a number")
    assert e.column == "Tenure (months)" and e.customers == ["B-2"]


def test_negative_charge():
    e = _err(snap(**{" Monthly $ ": ["50.5", "-20", "99.9", "30"]}), "negative")
    assert e.customers == ["B-2"]


def test_fractional_and_blank_tenure():
    _err(snap(**{"Tenure (months)": ["3", "0", "1.5", "1"]}), "whole number")
    _err(snap(**{"Tenure (months)": ["3", None, "12", "1"]}), "blank tenure")


def test_unknown_churn_flag():
    e = _err(snap(**{"Churn?": ["Yes", "maybe", "no", "TRUE"]}), "unrecognised churn flag")
    assert e.customers == ["B-2"] and "maybe" in str(e)


def test_duplicate_and_blank_ids():
    _err(snap(**{"Customer ID": ["A-1", "A-1", "C-3", "D-4"]}), "duplicate customer id")
    _err(snap(**{"Customer ID": ["A-1", None, "C-3", "D-4"]}), "blank customer id")


def test_missing_column_names_itself():
    e = _err(snap().drop("TOTAL charges"), "not found", spend="total")
    assert e.column == "TOTAL charges"


def test_bad_static_value_is_caught_by_validate():
    with pytest.raises(tierlib.PanelError, match="line"):
        from_snapshot(snap(), columns=COLS, as_of="2024-12", constants={"line": "satellite"})


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown keys"):
        from_snapshot(snap(), columns={**COLS, "gender": "Brand"}, as_of="2024-12")
    with pytest.raises(ValueError, match="spend"):
        from_snapshot(snap(), columns=COLS, as_of="2024-12", spend="average")
    with pytest.raises(ValueError, match="monthly"):
        from_snapshot(snap(), columns={"tenure": "Tenure (months)"}, as_of="2024-12")
    with pytest.raises(ValueError, match="currency_factor"):
        from_snapshot(snap(), columns=COLS, as_of="2024-12", currency_factor=0)
    with pytest.raises(TypeError):
        from_snapshot({"a": [1]}, columns=COLS, as_of="2024-12")
