"""core-foundation contract: months, new ledger columns, one rate, unique ledger keys, dated reads."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib import months
from tierlib.card import assumptions
from tierlib.panel import of_carrier
from tierlib.params import SchemeError
from tierlib.paths import sample_panel


@pytest.fixture(scope="module")
def sample():
    p = pl.read_parquet(sample_panel())
    ids = p["customer_id"].unique(maintain_order=True).head(3000)
    return p.filter(pl.col("customer_id").is_in(ids.implode()))


@pytest.mark.parametrize("x", ["2025-03", "2025-03-01", "202503", 202503, dt.date(2025, 3, 1),
                               dt.datetime(2025, 3, 1)])
def test_as_month_accepts(x):
    assert months.as_month(x) == dt.date(2025, 3, 1)


@pytest.mark.parametrize("x", ["2025-03-15", "2025-13", "25-03", 2025, "March", None, 3.0, True,
                               dt.date(2025, 3, 2), dt.datetime(2025, 3, 1, 12)])
def test_as_month_refuses_naming_value(x):
    with pytest.raises(ValueError, match=r"when: .*is not a month"):
        months.as_month(x, name="when")


def test_month_index_roundtrip():
    d = dt.date(2031, 11, 1)
    assert months.month_of_index(months.month_index(d)) == d
    assert pl.select(months.date_expr(months.index_expr(pl.lit(d)))).item() == d


def test_ledger_new_columns(sample):
    for sid in tierlib.schemes():
        led = tierlib.rate(sample, sid)
        s = tierlib.load_scheme(sid)
        assert led.schema["assessed_rank"] == pl.Int8 and led.schema["rerated"] == pl.Boolean
        ranks = led["assessed"].cast(pl.String).replace_strict({t: k for k, t in enumerate(s.ladder)},
                                                              return_dtype=pl.Int8)
        assert (ranks == led["assessed_rank"]).all(), sid
        held = led.filter(pl.col("rank") > 0)
        assert ((held["score"] - held["floor"] - held["to_keep"]).abs() < 1e-9).all(), sid
        assert led.filter(pl.col("rank") == 0)["floor"].null_count() == led.filter(pl.col("rank") == 0).height


def test_rerated_agrees_with_valid_until(sample):
    """``rerated``: the row after the last month of a tier's validity (where valid_until shows it)."""
    led = tierlib.rate(sample, "unicom_vip")
    prev_until = pl.col("valid_until").shift(1).over("customer_id")
    prev_month = pl.col("month").shift(1).over("customer_id")
    inferred = (prev_until.is_not_null() & (prev_until == prev_month) & pl.col("eligible")
                & pl.col("eligible").shift(1).over("customer_id")).fill_null(False)
    got = led.with_columns(inf=inferred)
    assert got["rerated"].sum() > 0
    assert (got["rerated"] == got["inf"]).all()


def test_hand_case_rerated_and_floor():
    ms = [dt.date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 16)]
    p = pl.DataFrame({"customer_id": "c1", "month": ms, "join_month": ms[0],
                      "billed": [300.0] * 3 + [100.0] * 12})
    led = tierlib.rate(p, "unicom_vip")
    # gold from 2024-02 (6-month mean of 300), valid through 2025-01: re-rated 2025-02 and drops
    assert led.filter(pl.col("rerated"))["month"].to_list() == [dt.date(2025, 2, 1)]
    assert led.filter(pl.col("month") == dt.date(2025, 1, 1))["floor"].item() == 300.0


def test_tier_label_and_ladder_frame():
    s = tierlib.load_scheme("telecom_star")
    assert s.tier_label("star5") == "star5 五星" and s.tier_label("none") == "none" + (
        f" {s.labels['none']}" if s.labels.get("none") else "")
    f = s.ladder_frame()
    assert f.columns == ["scheme", "tier", "rank", "label", "tier_label", "top"]
    assert f["tier"].to_list() == list(s.ladder) and f["top"].sum() == 1 and f["top"][-1]
    with pytest.raises(SchemeError, match="unknown tier 'star9'"):
        s.tier_label("star9")


def test_own_carrier_filter():
    d = dt.date(2024, 1, 1)
    p = pl.DataFrame({"customer_id": [1, 2], "month": d, "join_month": d, "billed": 10.0,
                      "carrier": ["telecom", "unicom"]})
    led = tierlib.rate(p, ["telecom_star", "unicom_vip"], own_carrier=True)
    assert sorted(led.select("customer_id", pl.col("scheme").cast(pl.String)).rows()) == [
        (1, "telecom_star"), (2, "unicom_vip")]
    assert tierlib.rate(p, ["telecom_star", "unicom_vip"]).height == 4
    lazy = tierlib.rate(p.lazy(), ["telecom_star", "unicom_vip"], own_carrier=True).collect()
    assert lazy.height == 2
    assert of_carrier(p.drop("carrier"), "telecom").height == 2


def test_own_carrier_without_any_customer_of_the_schemes_carriers_is_an_error():
    """Issue 11 item 2: rate(..., own_carrier=True) replaces churn.rate_own_carrier, which refused
    an empty answer; an empty ledger for a panel of other carriers' customers is no answer."""
    d = dt.date(2024, 1, 1)
    p = pl.DataFrame({"customer_id": [1], "month": d, "join_month": d, "billed": 10.0, "carrier": ["mobile"]})
    with pytest.raises(ValueError, match="no customer of the schemes' carriers \\(telecom, unicom\\).*mobile"):
        tierlib.rate(p, ["telecom_star", "unicom_vip"], own_carrier=True)
    assert tierlib.rate(p, "mobile_credit", own_carrier=True).height == 1


@pytest.mark.parametrize("given, key", [
    (["unicom_vip", "unicom_vip"], "unicom_vip"),
    (["all", "unicom_vip"], "unicom_vip"),
    (["telecom_club:high", "telecom_club:high"], "telecom_club:high"),
])
def test_repeated_ledger_key_is_an_error(sample, given, key):
    with pytest.raises(SchemeError, match=f"'{key}' is given twice"):
        tierlib.rate(sample.head(20), given)


def test_reform_and_copy_carry_their_own_key(sample):
    base = tierlib.load_scheme("unicom_vip")
    reform = base.with_values({"thresholds.mobile.gold": 350})
    assert reform.key == "unicom_vip[thresholds.mobile.gold=350]"
    assert base.with_values({"thresholds.mobile.gold": 350}, name="gold350").key == "gold350"
    with pytest.raises(SchemeError, match="'unicom_vip' is given twice"):
        tierlib.rate(sample.head(20), [base, tierlib.load_scheme("unicom_vip")])
    led = tierlib.rate(sample, [base, reform, base.renamed("copy")])
    n = sample.height
    assert led.height == 3 * n
    assert led.group_by("scheme").len()["len"].to_list() == [n, n, n]


def test_scheme_value_at_month():
    s = tierlib.load_scheme("mobile_gotone")
    assert s.value("plan_levels.288", "2024-06") == "silver"
    assert s.value("plan_levels.288", 202503) == "platinum"
    with pytest.raises(SchemeError, match="'plan_levels.288' is dated"):
        s.value("plan_levels.288")
    assert tierlib.load_scheme("mobile_gotone", as_of="2025-02").value("plan_levels.288") == "platinum"


def test_dated_validity_months_is_read_per_month(sample):
    """Issue 9 item 1: a validity change from 2030 must not change any 2024 row."""
    base = tierlib.load_scheme("unicom_vip")
    later = base.with_values({"validity_months": {"from": "2030-01-01", "value": 1}})
    a, b = tierlib.rate(sample, base), tierlib.rate(sample, later)
    cols = [c for c in a.columns if c != "scheme"]
    assert a.select(cols).equals(b.select(cols))
    now = base.with_values({"validity_months": 1})
    assert not a.select(cols).equals(tierlib.rate(sample, now).select(cols))


def test_card_assumptions():
    a = assumptions(["unicom_vip", "mobile_gotone"])
    assert a.columns == ["scheme", "file", "path", "value", "reference"]
    assert ("unicom_vip", "rules", "thresholds.fixed.silver") in a.select("scheme", "file", "path").rows()
    assert a.filter(pl.col("file") == "benefits").height > 0
