"""Issue 11 item 4 (reform parts): reforms.py split into scheme -> scheme code and simulation
machinery; reform_churn_cost takes a Simulation only and reads its per-customer rows."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import tierlib
import tierlib.reforms
from tierlib.churn import reform_churn_cost, reform_churn_cost_ledgers

PKG = Path(tierlib.reforms.__file__).parent
OLD_PUBLIC = ["Reform", "load_reform", "apply_reform", "reform_warnings",
              "Simulation", "simulate", "sweep", "threshold_for_share", "ThresholdSearch"]
#: issue 11 item 2: the machinery behind simulate becomes private
PRIVATE = ["prepare_panel", "rate_at"]


def test_every_former_public_name_still_imports():
    for name in OLD_PUBLIC:
        assert getattr(tierlib.reforms, name) is not None
        assert name in tierlib.reforms.__all__
    for name in PRIVATE:
        assert not hasattr(tierlib.reforms, name) and name not in tierlib.reforms.__all__


def test_reform_code_is_pure_scheme_to_scheme_and_modules_are_small():
    tree = ast.parse((PKG / "reform.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    # no panel, rating, engine, ledger or churn code in the pure reform module
    assert not imported & {"polars", "tierlib.engine", "tierlib.rating", "tierlib.panel", "tierlib.ledger",
                           "tierlib.reforms.rated", "tierlib.reforms.simulation"}
    for f in PKG.glob("*.py"):
        assert len(f.read_text(encoding="utf-8").splitlines()) < 400, f.name


def _panel() -> pl.DataFrame:
    months = [dt.date(2024, m, 1) for m in range(1, 9)]
    rows = [("a", 320.0), ("b", 330.0), ("c", 200.0), ("d", 500.0)]
    return pl.concat([pl.DataFrame({"customer_id": c, "month": months, "join_month": months[0], "billed": b})
                      for c, b in rows])


def test_reform_churn_cost_reads_the_simulation_without_rating_again():
    p = _panel()
    sim = tierlib.simulate(p, "unicom_vip", {"thresholds.mobile.gold": 350})
    assert sim.customers.height == 4 and sim.name == "unicom_vip[thresholds.mobile.gold=350]"
    cost = reform_churn_cost(sim, churn=0.1, effect=(2.0, 1.5, 3.0))
    s = cost.summary.row(0, named=True)
    # a (320) and b (330) fall from gold to silver; revenue = 8 months billed
    assert s["downgraded"] == 2
    assert s["extra_churners"] == pytest.approx(2 * 0.1)  # 0.1 * (2 - 1) each
    assert s["extra_lo"] == pytest.approx(2 * 0.05) and s["extra_hi"] == pytest.approx(2 * 0.2)
    assert s["revenue_lost"] == pytest.approx(0.1 * 8 * (320 + 330))
    # the same figures as the ledger route with the panel's revenue
    base = tierlib.rate(p, "unicom_vip")
    new = tierlib.rate(p, sim.reform)
    led = reform_churn_cost_ledgers(base, new, churn=0.1, effect=(2.0, 1.5, 3.0), panel=p)
    assert led.summary.drop("no_probability").row(0) == cost.summary.select(led.summary.drop("no_probability").columns).row(0)
    assert reform_churn_cost(sim, p, churn=0.1, effect=(2.0, 1.5, 3.0)).summary.equals(cost.summary)
