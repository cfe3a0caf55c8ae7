"""Reforms: change a scheme's parameters and see who moves, what it costs, where the lines fall.

The package keeps two jobs apart:

- :mod:`tierlib.reforms.reform`, pure scheme -> scheme: :class:`Reform` (from a mapping or a
  YAML file, ``docs/REFORMS.md``), :func:`apply_reform`, stacking (``a + b``), warnings;
- the simulation machinery on a panel: the private preparation and rating at ``as_of``
  (:mod:`~tierlib.reforms.rated`), :func:`simulate` (:mod:`~tierlib.reforms.simulation`),
  :func:`sweep` and :func:`threshold_for_share` (:mod:`~tierlib.reforms.search`), reforms side by
  side with their net value (:func:`compare_reforms`, :mod:`~tierlib.reforms.side_by_side`) and
  a reform month by month from its date (:func:`unfold`, :mod:`~tierlib.reforms.unfolding`).

``compare_reforms`` and ``unfold`` use the churn tools (scikit-learn): they are imported on first
use, so ``import tierlib`` stays quick.
"""

from __future__ import annotations

from tierlib.reforms.reform import (Reform, apply_reform, cumulative, load_reform, reform_warnings, stack,
                                   starting)
from tierlib.reforms.search import ThresholdSearch, sweep, threshold_for_share
from tierlib.reforms.simulation import Simulation, simulate

_LAZY = {"compare_reforms": "side_by_side", "ReformComparison": "side_by_side",
         "unfold": "unfolding", "Unfolding": "unfolding"}

__all__ = ["Reform", "load_reform", "apply_reform", "reform_warnings", "cumulative", "starting", "stack",
           "Simulation", "simulate", "sweep", "threshold_for_share",
           "ThresholdSearch", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"tierlib.reforms.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'tierlib.reforms' has no attribute {name!r}")
