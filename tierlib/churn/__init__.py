"""Churn among customers close to dropping a tier (issue #5).

Data flows one way: panel -> ledger (``tierlib.rate``; ``own_carrier=True`` rates each scheme
on its own carrier's customers) -> the functions here.

=====================================  ==================================================
:func:`near_drop`                      who is close to dropping (ledger only)
:func:`churn_features`                 features + k-month target, in polars
:class:`ChurnModel`                    calibrated classifier (scikit-learn contract)
:func:`fit_churn`                      time-based split, held-out metrics, every row scored
:func:`expected_churn`                 expected churners / revenue at risk, with intervals
:func:`retention_list`                 ranked list for a retention team (CSV-ready)
:func:`drop_effect`                    hazard ratio of a tier drop (RD at the floor) vs naive
:func:`reform_churn_cost`              extra churners a simulated reform causes among the downgraded
:func:`reform_churn_cost_ledgers`      the same from a baseline and a reform ledger
=====================================  ==================================================
"""

from __future__ import annotations

from tierlib.churn.effect import DropEffect, drop_effect, rerating_events
from tierlib.churn.features import FEATURES, churn_features
from tierlib.churn.fit import ChurnFit, calibration_table, expected_calibration_error, fit_churn
from tierlib.churn.model import ChurnModel
from tierlib.churn.neardrop import near_drop
from tierlib.churn.reform import ReformChurnCost, reform_churn_cost, reform_churn_cost_ledgers
from tierlib.churn.risk import ExpectedChurn, expected_churn, retention_list

__all__ = ["near_drop", "churn_features", "FEATURES", "ChurnModel", "ChurnFit", "fit_churn",
           "calibration_table", "expected_calibration_error", "ExpectedChurn", "expected_churn",
           "retention_list", "DropEffect", "drop_effect", "rerating_events", "ReformChurnCost",
           "reform_churn_cost", "reform_churn_cost_ledgers"]
