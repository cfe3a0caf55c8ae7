"""tierlib: rate, compare and simulate Chinese telecom carriers' VIP and star tier schemes.

>>> import tierlib
>>> tierlib.schemes()
['mobile_credit', 'mobile_gotone', 'telecom_club', 'telecom_star', 'unicom_ladder', 'unicom_vip']
"""

from __future__ import annotations

from tierlib.explain import Explanation, explain
from tierlib.panel import PanelError, validate
from tierlib.params import Param, Scheme, SchemeError
from tierlib.schemefiles import load_scheme, schemes
from tierlib.rating import rate
from tierlib.benefits import Catalogue, load_catalogue
from tierlib.compare import Comparison, compare
from tierlib.reforms import (Reform, Simulation, ThresholdSearch, apply_reform, load_reform, simulate, sweep,
                             threshold_for_share)

__version__ = "0.1.0"

# The churn tools import scikit-learn and scipy: loaded on first use, so that `import tierlib`
# and the command line stay quick.
_CHURN = ("near_drop", "ChurnModel", "fit_churn", "expected_churn", "retention_list", "drop_effect",
          "reform_churn_cost")


def __getattr__(name: str):
    if name in _CHURN:
        from tierlib import churn

        return getattr(churn, name)
    raise AttributeError(f"module 'tierlib' has no attribute {name!r}")

__all__ = ["rate", "validate", "explain", "load_scheme", "schemes", "PanelError", "SchemeError",
           "Scheme", "Param", "Explanation", "compare", "Comparison", "simulate", "Simulation", "sweep",
           "threshold_for_share", "ThresholdSearch", "apply_reform", "load_reform", "Reform",
           "load_catalogue", "Catalogue", "churn", *_CHURN, "__version__"]
