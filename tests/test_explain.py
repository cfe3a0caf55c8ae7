"""explain: score components, window, thresholds and the rule that holds the tier."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib


def months(start: dt.date, n: int) -> list[dt.date]:
    return pl.date_range(start, start.replace(year=start.year + 5), "1mo", eager=True).to_list()[:n]


def test_star_components_sum_to_score():
    ms = months(dt.date(2024, 1, 1), 14)
    p = pl.DataFrame({"customer_id": "c42", "month": ms, "join_month": ms[0], "billed": 100.0,
                      "suspensions": [0, 1] + [0] * 12})
    e = tierlib.explain(p, "telecom_star", customer_id="c42", as_of="2025-01-01")
    comps = dict((name, v) for name, v, _ in e.components)
    # 12 months x 100 yuan, tenure 12 x 10, one suspension -10
    assert comps == {"spend": 1200.0, "tenure": 120.0, "suspensions": -10.0}
    assert e.row["score"] == 1310.0 and e.row["tier"] == "star2"
    assert e.window.startswith("2024-01 .. 2024-12")
    assert "thresholds.star2 [seed 000]" in str(e)


def test_explain_names_validity_hold():
    ms = months(dt.date(2024, 1, 1), 12)
    p = pl.DataFrame({"customer_id": "c", "month": ms, "join_month": ms[0], "billed": [300.0] + [0.0] * 11})
    e = tierlib.explain(p, "unicom_vip", customer_id="c", as_of="2024-10-01")
    # Feb 2024: mean of one month of 300 = 300 -> gold, valid through Jan 2025
    assert e.row["tier"] == "gold" and e.row["assessed"] == "none" and e.row["to_keep"] == -300.0
    assert "validity: held since 2024-02, valid until 2025-01" in e.holding


def test_explain_ineligible_and_plan_level():
    ms = months(dt.date(2024, 1, 1), 3)
    p = pl.DataFrame({"customer_id": "c", "month": ms, "join_month": ms[0], "billed": 10.0, "plan_fee": 388.0})
    e = tierlib.explain(p, "mobile_gotone", customer_id="c", as_of="2024-01-01")
    assert e.row["tier"] == "gold" and "plan level" in e.holding
    e2 = tierlib.explain(p.with_columns(account_type=pl.lit("prepaid")), "unicom_vip", customer_id="c",
                         as_of="2024-03-01")
    assert not e2.eligible and e2.failed_conditions == ["account_type"]


def test_explain_incomplete_window_is_flagged():
    ms = months(dt.date(2024, 1, 1), 3)
    p = pl.DataFrame({"customer_id": "c", "month": ms, "join_month": dt.date(2020, 1, 1), "billed": 10.0})
    e = tierlib.explain(p, "telecom_star", customer_id="c", as_of="2024-03-01")
    assert "INCOMPLETE" in e.window and e.row["window_complete"] is False


def test_explain_errors():
    ms = months(dt.date(2024, 1, 1), 3)
    p = pl.DataFrame({"customer_id": "c", "month": ms, "join_month": ms[0], "billed": 10.0})
    with pytest.raises(ValueError, match="not in the panel"):
        tierlib.explain(p, "unicom_vip", customer_id="x", as_of="2024-01-01")
    with pytest.raises(ValueError, match="no row in month 2025-01-01"):
        tierlib.explain(p, "unicom_vip", customer_id="c", as_of="2025-01")
