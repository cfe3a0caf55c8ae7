"""Snapshot panels and churn (issue 12 item 3): a panel spread from a one-row-per-customer
snapshot says, before any computing, that it supports rating at its month but not churn."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import tierlib
from tierlib.churn import drop_effect, fit_churn
from tierlib.churn.model import ChurnModel
from tierlib.snapshot import from_snapshot, history_support

WHY = ("every churn flag of this panel falls in one month (2024-12), as in a one-row-per-customer "
       "snapshot: it supports rating and comparing schemes at 2024-12, not churn fitting or drop effects")


@pytest.fixture(scope="module")
def snapshot_panel(tmp_path_factory):
    """A public-like snapshot (the IBM Telco layout: customerID, tenure, MonthlyCharges,
    TotalCharges blank at tenure 0, Churn Yes/No), written as CSV and imported as analysts do."""
    rng = np.random.default_rng(12)
    n = 600
    tenure = rng.integers(0, 73, n)
    monthly = np.round(rng.uniform(18.25, 118.75, n), 2)
    total = [("" if t == 0 else f"{m * t:.2f}") for t, m in zip(tenure, monthly)]
    churn = np.where(rng.random(n) < 0.27, "Yes", "No")
    path = tmp_path_factory.mktemp("snap") / "telco.csv"
    pl.DataFrame({"customerID": [f"{i:04d}-ABCDE" for i in range(n)], "tenure": tenure.astype(str),
                  "MonthlyCharges": monthly.astype(str), "TotalCharges": total, "Churn": churn}).write_csv(path)
    snap = pl.read_csv(path, infer_schema=False)
    panel = from_snapshot(snap, columns={"customer_id": "customerID", "tenure": "tenure", "monthly": "MonthlyCharges",
                                         "churn": "Churn"}, as_of="2024-12", currency_factor=7.2)
    return panel, tierlib.rate(panel, "telecom_star")


def test_snapshot_panel_rates_at_its_month(snapshot_panel):
    panel, ledger = snapshot_panel
    assert ledger.height == panel.height and panel["churned"].sum() > 100
    assert history_support(panel).startswith(WHY)


def test_fit_churn_says_what_a_snapshot_cannot_support(snapshot_panel):
    panel, ledger = snapshot_panel
    with pytest.raises(ValueError) as e:
        fit_churn(panel, ledger, model=ChurnModel(max_iter=5), n_refit=0)
    assert str(e.value).startswith("fit_churn: " + WHY) and "\n" not in str(e.value)


def test_drop_effect_says_it_instead_of_nan(snapshot_panel):
    panel, ledger = snapshot_panel
    with pytest.raises(ValueError, match="^drop_effect: every churn flag of this panel falls in one month"):
        drop_effect(panel, ledger, n_boot=5)


def test_a_monthly_panel_with_churn_over_time_passes():
    from tierlib.synth import make_panel

    panel, _ = make_panel(300, 24, seed=1)
    assert history_support(panel) is None
    assert history_support(panel.lazy()) is None
