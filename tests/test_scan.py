"""The compiled holding scan's inputs and outputs (tierlib.scan)."""

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

import tierlib
from tierlib import scan
from tierlib.engine import LEDGER


def test_only_columns_of_one_value_everywhere_are_passed_as_one_value():
    df = pl.LazyFrame({"x": [1.0, 2.0, 3.0]}).with_columns(
        lit=pl.lit(600.0), same=pl.Series([5.0, 5.0, 5.0]), nul=pl.Series([5.0, None, 5.0]),
        nan=pl.Series([5.0, float("nan"), 5.0]), flag=pl.lit(True), mixed=pl.Series([True, False, True])).collect()
    assert scan._constants(df, df.columns) == {"lit", "same", "flag"}
    zeros = pl.DataFrame({"z": [0.0, -0.0, 0.0]})  # 0.0 and -0.0: not one value
    assert scan._constants(zeros, ["z"]) == set()
    assert scan._arr(df, "lit", pl.Float64, np.nan, {"lit"}).tolist() == [600.0]
    assert np.isnan(scan._arr(df, "nul", pl.Float64, np.nan, set())).tolist() == [False, True, False]
    assert scan._constants(df.clear(), df.columns) == set()


def test_every_column_alone_equals_the_full_ledgers(small_panel, small_ledger):
    # the kernel writes only the outputs the asked-for columns read: each ledger column asked
    # for alone (beside the keys) is the full ledger's
    for c in LEDGER:
        cols = list(dict.fromkeys(["customer_id", "month", "scheme", c]))
        assert_frame_equal(tierlib.rate(small_panel, "all", columns=cols), small_ledger.select(cols))


def test_columns_of_one_value_rate_as_when_every_row_holds_it(small_panel, small_ledger, monkeypatch):
    # the same ledgers, internals included, with no column taken as one value
    seen = []
    real = scan._constants
    monkeypatch.setattr(scan, "_constants", lambda df, names: seen.append(real(df, names)) or real(df, names))
    tierlib.rate(small_panel, "all")
    assert any({"_thr1", "_thr2"} <= c for c in seen)  # the constant path is taken
    monkeypatch.setattr(scan, "_constants", lambda df, names: set())
    assert_frame_equal(tierlib.rate(small_panel, "all"), small_ledger)
    for key in ("telecom_star", "mobile_gotone"):
        s = tierlib.load_scheme(key)
        lf = tierlib.rating._rate_validated(tierlib.engine.base(tierlib.validate(small_panel).lazy()), s, keep_internals=True)
        monkeypatch.setattr(scan, "_constants", lambda df, names: set())
        per_row = lf.collect()
        monkeypatch.setattr(scan, "_constants", real)
        assert_frame_equal(lf.collect(), per_row)


def test_a_threshold_that_varies_by_row_rates_as_the_same_threshold_held_by_each_row(small_panel):
    # telecom_club's thresholds differ by brand (a real column), telecom_star's are one value:
    # a reform giving every brand the default's thresholds must rate exactly as the default
    p = small_panel
    club = tierlib.load_scheme("telecom_club")
    keys = sorted({path.split(".")[1] for path in club.params if path.startswith("thresholds.")} - {"default"})
    assert keys  # brands with thresholds of their own
    same = club.with_values({f"thresholds.{k}.{t}": club.value(f"thresholds.default.{t}")
                             for k in keys for t in club.tiers if club.has(f"thresholds.{k}.{t}")}, name="one")
    flat = tierlib.rate(p.with_columns(brand=pl.lit("no_such_brand")), club).drop("scheme")  # default thresholds
    assert_frame_equal(tierlib.rate(p, same).drop("scheme"), flat)


def test_a_yearly_validity_past_year_9999_is_null_as_a_date_cannot_hold_it():
    import datetime as dt

    months = [dt.date(y, m, 1) for y in (9997, 9998, 9999) for m in range(1, 13)]
    p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": dt.date(9990, 1, 1),
                      "billed": 900.0, "brand": "gotone"})
    led = tierlib.rate(p, "mobile_gotone", columns=["month", "rank", "valid_until"])
    held = led.filter(pl.col("month") >= dt.date(9999, 2, 1))
    assert held["rank"].min() > 0  # a level is held in the last cycle, whose end is past 9999
    assert held["valid_until"].null_count() == held.height
    assert led.filter(pl.col("month") == dt.date(9998, 3, 1))["valid_until"].to_list() == [dt.date(9999, 1, 1)]
