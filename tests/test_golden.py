"""Golden cases (tests/cases/*.yaml, computed by hand from RULES.md): the reference and the
engine must both reproduce every one of them."""

from __future__ import annotations

import pytest

from tests.golden import all_cases, case_panel, check_case
from tests.reference import reference_rate

import tierlib  # a broken import fails the suite, never skips it
from tierlib import rate as engine_rate

CASES = all_cases()
IDS = [f"{stem}::{case['name']}" for stem, _, case in CASES]


def test_case_names_unique_and_explained():
    assert len(set(IDS)) == len(IDS)
    for stem, _, case in CASES:
        assert case.get("why"), f"{stem}::{case['name']} has no `why`"
        assert case.get("expect"), f"{stem}::{case['name']} expects nothing"


def test_every_scheme_has_cases():
    stems = {stem for stem, _, _ in CASES}
    expected = {"telecom_star", "telecom_club", "unicom_vip", "unicom_ladder",
                "mobile_gotone", "mobile_credit"}
    expected |= set(tierlib.schemes())  # a new scheme needs its golden case file
    assert expected <= stems, f"no golden cases for {sorted(expected - stems)}"
    assert all(len(doc) >= 5 for doc in [[c for s, _, c in CASES if s == stem] for stem in stems])


@pytest.mark.parametrize(("stem", "scheme", "case"), CASES, ids=IDS)
def test_reference_reproduces_case(stem, scheme, case):
    problems = check_case(reference_rate(case_panel(case), scheme), case)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("stem", "scheme", "case"), CASES, ids=IDS)
def test_engine_reproduces_case(stem, scheme, case):
    ledger = engine_rate(case_panel(case), scheme)
    problems = check_case(ledger, case)
    assert not problems, "\n".join(problems)


def test_format_example_in_golden_docstring_holds():
    """The example case in tests/golden.py's docstring is a real case too."""
    import yaml

    import tests.golden as golden

    doc = golden.__doc__.split("A case file::")[1].split("A *series*")[0]
    case = yaml.safe_load(doc)["cases"][0]
    assert not check_case(reference_rate(case_panel(case), "unicom_vip"), case)
    if engine_rate is not None:
        assert not check_case(engine_rate(case_panel(case), "unicom_vip"), case)
