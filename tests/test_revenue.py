"""One definition of revenue, carried on results and printed from there; `near` likewise (issue 9 item 11)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib.churn import reform_churn_cost, reform_churn_cost_ledgers
from tierlib.churn.features import churn_features
from tierlib.plots import sweep_curves
from tierlib.revenue import REVENUE, Revenue

D = dt.date
MONTHS = [D(2024, m, 1) for m in range(1, 13)] + [D(2025, m, 1) for m in range(1, 7)]


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    # c1 spends 320 a month for 18 months; c2 joined in 2025-01 at 500; c3 100 then 200
    rows = []
    for m in MONTHS:
        rows.append(("c1", m, D(2023, 6, 1), 320.0))
        if m >= D(2025, 1, 1):
            rows.append(("c2", m, D(2025, 1, 1), 500.0))
        rows.append(("c3", m, D(2020, 1, 1), 100.0 if m < D(2025, 1, 1) else 200.0))
    return pl.DataFrame(rows, schema=["customer_id", "month", "join_month", "billed"], orient="row")


# hand-computed revenue at 2025-06 (12 months 2024-07 .. 2025-06): c1 12 x 320; c2 6 x 500;
# c3 6 x 100 + 6 x 200
WANT = {"c1": 3840.0, "c2": 3000.0, "c3": 1800.0}


def test_revenue_definition_by_hand(panel):
    assert dict(REVENUE.at(panel, "2025-06").rows()) == WANT
    assert dict(Revenue(3).at(panel, "202506").rows()) == {"c1": 960.0, "c2": 1500.0, "c3": 600.0}
    with pytest.raises(ValueError, match="revenue months: 0 is not a whole number"):
        Revenue(0)


def test_every_analysis_uses_the_one_definition(panel):
    ledger = tierlib.rate(panel, "unicom_vip")
    # compare: revenue by tier at as_of sums the customers' revenue
    cmp = tierlib.compare(ledger, panel, as_of="2025-06")
    assert cmp["distribution"]["revenue"].sum() == pytest.approx(sum(WANT.values()))
    assert cmp.revenue == REVENUE and any(str(REVENUE)[1:] in n for n in cmp.notes)
    # churn features (revenue at risk, retention list): the same figure on the as-of row
    f = churn_features(panel, ledger, k=3).filter(pl.col("month") == D(2025, 6, 1))
    assert dict(f.select("customer_id", "revenue").rows()) == WANT
    # reform churn cost: revenue lost = extra churners x the same revenue
    new = tierlib.rate(panel, tierlib.load_scheme("unicom_vip").with_values({"thresholds.mobile.gold": 400}))
    cost = reform_churn_cost_ledgers(ledger, new, churn=0.1, effect=2.0, panel=panel, as_of="2025-06")
    got = dict(cost.customers.select("customer_id", "revenue").rows())
    assert got and all(got[c] == WANT[c] for c in got)
    assert cost.summary["revenue_lost"][0] == pytest.approx(sum(0.1 * WANT[c] for c in got))


def test_simulation_carries_revenue_and_near(panel):
    sim = tierlib.simulate(panel, "unicom_vip", {"thresholds.mobile.gold": 400}, as_of="2025-06", near=0.25)
    down = sim.summary["down_revenue"][0]
    assert sim.summary["down"][0] >= 1 and down in {sum(x) for x in ([WANT["c1"]], [WANT["c1"], WANT["c2"]])}
    assert sim.near == 0.25 and sim.revenue == REVENUE
    text = repr(sim)
    assert "within 25% of a threshold" in text and "within 10%" not in text and str(REVENUE) in text
    cost = reform_churn_cost(sim, panel, churn=0.1, effect=2.0)
    assert cost.revenue == sim.revenue


def test_sweep_chart_prints_the_sweeps_own_margin(panel):
    sw = tierlib.sweep(panel, "unicom_vip", "thresholds.mobile.gold", [300, 350], as_of="2025-06", near=0.05)
    assert sw["near_margin"].to_list() == [0.05, 0.05]
    spec = str(sweep_curves(sw).to_dict())
    assert "customers within 5% of any threshold" in spec and "within 10%" not in spec
