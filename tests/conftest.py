"""Test-run settings shared by every test module (and the kernels and subprocesses they start).

``make test`` runs two xdist workers on a 2-core machine. scikit-learn's gradient boosting uses
OpenMP, whose threads spin while they wait: two workers each starting one OpenMP thread per core
(and the notebook kernels they start, which inherit the environment) oversubscribe the cores,
and the churn fits of tests/test_churn.py and notebook 03 ran 5x slower (about 100 s instead of
20 s). One OpenMP thread per process, set before anything imports scikit-learn; a value the
caller set is kept.
"""

import os
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def small_panel():
    """A synthetic panel of 120 customers x 30 months (every scheme's tiers and rules occur)."""
    from tierlib.synth import make_panel

    return make_panel(120, 30, seed=5)[0]


@pytest.fixture(scope="session")
def small_ledger(small_panel):
    """The full ledger of :func:`small_panel` under every scheme."""
    import tierlib

    return tierlib.rate(small_panel, "all")
