"""Doctest fixture of tierlib.churn: one small fitted churn model shared by the examples."""

from __future__ import annotations

from functools import cached_property

import pytest


class ChurnDemo:
    """A 4,000-customer all-telecom synthetic panel, its ledger and one fit (built on first use)."""

    @cached_property
    def panel(self):
        from tierlib.synth import make_panel

        return make_panel(4000, 30, seed=3, carrier_shares={"telecom": 1.0})[0]

    @cached_property
    def ledger(self):
        import tierlib

        return tierlib.rate(self.panel, "telecom_star")

    @cached_property
    def fit(self):
        from tierlib.churn import ChurnModel, fit_churn

        return fit_churn(self.panel, self.ledger, model=ChurnModel(max_iter=30), n_refit=5)


_DEMO = ChurnDemo()


@pytest.fixture(autouse=True)
def _churn_demo(doctest_namespace):
    doctest_namespace["churn_demo"] = _DEMO
