"""Issue 12 item 5: a reform unfolds month by month; tiers held by validity drop only when
their validity ends; a panel that ends before the reform date is said plainly."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tierlib.reforms import simulate, starting, unfold

GOLD = {"thresholds.mobile.gold": 350}


def months(first: dt.date, n: int) -> list[dt.date]:
    t = first.year * 12 + first.month - 1
    return [dt.date((t + i) // 12, (t + i) % 12 + 1, 1) for i in range(n)]


def customer(cid: str, billed: float, join: dt.date, last: dt.date = dt.date(2025, 6, 1)) -> pl.DataFrame:
    n = (last.year - join.year) * 12 + last.month - join.month + 1
    return pl.DataFrame({"customer_id": cid, "month": months(join, n), "join_month": join, "billed": billed})


def panel(last: dt.date = dt.date(2025, 6, 1)) -> pl.DataFrame:
    # unicom_vip: 6-month mean, gold >= 300, validity 12 months (RULES.md section 2).
    # a (320) joins 2024-01: gold from 2024-02, valid through 2025-01, re-rated 2025-02.
    # d (320) joins 2024-04: gold from 2024-05, valid through 2025-04, re-rated 2025-05.
    # b (200) silver and c (400) gold are not moved by gold 350.
    return pl.concat([customer("a", 320.0, dt.date(2024, 1, 1), last), customer("b", 200.0, dt.date(2024, 1, 1), last),
                      customer("c", 400.0, dt.date(2024, 1, 1), last), customer("d", 320.0, dt.date(2024, 4, 1), last)])


def test_validity_makes_the_drop_come_months_after_the_reform_date():
    u = unfold(panel(), "unicom_vip", GOLD, start="2024-06", horizon=12, name="gold 350",
               drop_effect=(1.5, 2.0, 3.0), churn=0.1)
    m = u.months
    assert m["month"].to_list() == months(dt.date(2024, 6, 1), 12) and u.notes[:1] != ("the panel ends",)
    assert set(m["reform"]) == {"gold 350"} and set(u.tiers["reform"]) == {"gold 350"}
    # a drops 8 months after the reform date, d 11 months after it: not at the reform date
    newly = dict(m.filter(pl.col("newly_downgraded") > 0).select("month", "newly_downgraded").iter_rows())
    assert newly == {dt.date(2025, 2, 1): 1, dt.date(2025, 5, 1): 1}
    assert m["downgraded"].to_list() == [0] * 8 + [1, 1, 1, 2]
    # yearly cost per member (assumed unit costs): silver 8, gold 98; a month is a twelfth
    assert m["cost_base"].to_list() == pytest.approx([(8 + 98 * 3) / 12] * 12)
    assert m["cost_change"].to_list() == pytest.approx([0.0] * 8 + [-90 / 12] * 3 + [-180 / 12])
    assert m["cum_cost_change"][-1] == pytest.approx(-90 / 12 * 3 - 180 / 12)
    # churn: p (HR - 1) x revenue of the month (12 months billed; d has 14 months in 2025-05)
    assert m.filter(month=dt.date(2025, 2, 1))["revenue_lost"].item() == pytest.approx(0.1 * 12 * 320)
    assert m.filter(month=dt.date(2025, 5, 1))["revenue_lost_hi"].item() == pytest.approx(0.2 * 12 * 320)
    assert m["cum_extra_leavers"][-1] == pytest.approx(0.2)
    t = u.tiers.filter(month=dt.date(2025, 5, 1)).select("tier", "members_base", "members_reform").rows()
    assert t == [("silver", 1, 3), ("gold", 3, 1), ("diamond", 0, 0)]


def test_the_last_month_agrees_with_simulate_at_that_month():
    p = panel()
    u = unfold(p, "unicom_vip", GOLD, start="2024-06", horizon=12)
    sim = simulate(p.filter(pl.col("month") <= dt.date(2025, 5, 1)), "unicom_vip", starting(GOLD, "2024-06"))
    last = u.months.row(-1, named=True)
    assert last["downgraded"] == sim.summary["down"].item()
    assert last["cost_change"] * 12 == pytest.approx(sim.summary["cost_change"].item())
    assert "extra_leavers" not in u.months.columns  # no drop effect given: no churn columns


def test_a_panel_that_ends_before_the_reform_date_is_an_error_naming_both_months():
    with pytest.raises(ValueError, match="the panel ends 2025-06, before the reform date 2025-09.*does not project"):
        unfold(panel(), "unicom_vip", GOLD, start="2025-09")
    with pytest.raises(ValueError, match="before the panel's first month 2024-01"):
        unfold(panel(), "unicom_vip", GOLD, start="2023-06")
    with pytest.raises(ValueError, match="horizon"):
        unfold(panel(), "unicom_vip", GOLD, start="2024-06", horizon=0)


def test_a_horizon_past_the_panel_end_is_not_projected_and_says_so():
    u = unfold(panel(), "unicom_vip", GOLD, start="2025-02", horizon=12)
    assert u.months["month"].to_list() == months(dt.date(2025, 2, 1), 5)
    assert "shows 5 of the 12 months from 2025-02 to 2026-01" in u.notes[0]
    assert "not projected" in u.notes[0] and "not projected" in repr(u)


def test_a_customer_downgraded_twice_counts_one_first_downgrade():
    """Review of issue 12: `newly_downgraded` fired again when a customer left the downgraded state
    and came back, so its extra leavers were counted twice (22 first downgrades for 19 customers
    down on the sample). Both schemes with 1-month validity so the tier follows the 6-month mean:
    e's mean crosses 350 up and down again; under gold 350 e is down, then not, then down."""
    import tierlib

    base = tierlib.load_scheme("unicom_vip").with_values({"validity_months": 1}, reference="test")
    billed = [340.0] * 8 + [420.0] * 6 + [330.0] * 10
    e = pl.DataFrame({"customer_id": "e", "month": months(dt.date(2024, 1, 1), len(billed)),
                      "join_month": dt.date(2024, 1, 1), "billed": billed})
    u = unfold(e, base, GOLD, start="2024-08", horizon=16, drop_effect=2.0, churn=0.1)
    down = u.months["downgraded"].to_list()
    spells = sum(1 for i, x in enumerate(down) if x and (i == 0 or not down[i - 1]))
    assert spells == 2, down  # the premise: two separate spells of being downgraded
    assert u.months["newly_downgraded"].sum() == 1
    assert u.months["extra_leavers"].sum() == pytest.approx(0.1 * (2.0 - 1))
