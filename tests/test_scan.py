"""The compiled holding scan's inputs and outputs (tierlib.scan)."""

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

import tierlib
from tierlib import scan
from tierlib.synth import make_panel


def test_only_columns_of_one_value_everywhere_are_passed_as_one_value():
    df = pl.LazyFrame({"x": [1.0, 2.0, 3.0]}).with_columns(
        lit=pl.lit(600.0), same=pl.Series([5.0, 5.0, 5.0]), nul=pl.Series([5.0, None, 5.0]),
        nan=pl.Series([5.0, float("nan"), 5.0]), flag=pl.lit(True), mixed=pl.Series([True, False, True])).collect()
    assert scan._constants(df, df.columns) == {"lit", "same", "flag"}
    assert scan._arr(df, "lit", pl.Float64, np.nan, {"lit"}).tolist() == [600.0]
    assert np.isnan(scan._arr(df, "nul", pl.Float64, np.nan, set())).tolist() == [False, True, False]
    assert scan._constants(df.clear(), df.columns) == set()


def test_the_kernel_writes_only_the_outputs_asked_for():
    flags = {"vu": False}
    want = scan._wanted(["customer_id", "month", "rank"], False, flags)
    assert [o for o, w in zip(scan.OUTPUTS, want) if w] == ["rank"]
    want = scan._wanted(["tier", "valid_until", "next_tier"], False, flags)
    assert [o for o, w in zip(scan.OUTPUTS, want) if w] == ["rank", "until_t", "next_rank"]
    assert all(scan._wanted(["rank"], True, flags))


def test_a_threshold_that_varies_by_row_rates_as_the_same_threshold_held_by_each_row():
    # telecom_club's thresholds differ by brand (a real column), telecom_star's are one value:
    # a reform giving every brand the default's thresholds must rate exactly as the default
    p = make_panel(120, 24, seed=5)[0]
    club = tierlib.load_scheme("telecom_club")
    keys = sorted({path.split(".")[1] for path in club.params if path.startswith("thresholds.")} - {"default"})
    assert keys  # brands with thresholds of their own
    same = club.with_values({f"thresholds.{k}.{t}": club.value(f"thresholds.default.{t}")
                             for k in keys for t in club.tiers if club.has(f"thresholds.{k}.{t}")}, name="one")
    flat = tierlib.rate(p.with_columns(brand=pl.lit("no_such_brand")), club).drop("scheme")  # default thresholds
    assert_frame_equal(tierlib.rate(p, same).drop("scheme"), flat)
