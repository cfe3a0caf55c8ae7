"""Every parameter declares its domain; loading and reforming check it (issue 9, item 2)."""

from __future__ import annotations

import math

import pytest
import yaml

import tierlib
from tierlib.domains import DOMAINS, _domain
from tierlib.params import SchemeError
from tierlib.schemefiles import SCHEME_DIR, load_scheme

KEYS = [*tierlib.schemes(), "telecom_club:high"]


@pytest.mark.parametrize("key", KEYS)
def test_every_parameter_of_every_scheme_has_a_domain(key):
    s = load_scheme(key)
    assert all(_domain(p) is not None for p in s.params)


@pytest.mark.parametrize("change, message", [
    ({"validity_months": 0}, "validity_months: 0 is not a whole number of months >= 1"),
    ({"validity_months": -12}, "validity_months: -12 is not a whole number of months >= 1"),
    ({"validity_months": 6.5}, "validity_months: 6.5 is not a whole number of months >= 1"),  # was truncated to 6
    ({"window_months": 0}, "window_months: 0 is not a whole number of months >= 1"),
    ({"window_months": -3}, "window_months: -3 is not a whole number of months >= 1"),
    ({"thresholds.mobile.gold": -5}, "thresholds.mobile.gold: -5 is not a finite amount >= 0"),
    ({"thresholds.mobile.gold": math.nan}, "thresholds.mobile.gold: nan is not a finite amount >= 0"),
    ({"thresholds.mobile.gold": math.inf}, "thresholds.mobile.gold: inf is not a finite amount >= 0"),
    ({"thresholds.mobile.gold": 100}, "thresholds.mobile.gold: 100 is below thresholds.mobile.silver 150"),
    ({"thresholds.mobile.silver": {"from": "2025-01-01", "value": 500}},
     "thresholds.mobile.gold: 300 is below thresholds.mobile.silver 500 (in force from 2025-01-01)"),
    ({"validity_months": {"from": "2030-01-01", "value": 0}}, "validity_months: 0 (from 2030-01-01)"),
    ({"eligible_account_types": ["standard", "vip"]}, "is not a list of values from standard"),
])
def test_unicom_vip_reforms_outside_the_domain_are_refused(change, message):
    with pytest.raises(SchemeError) as e:
        tierlib.apply_reform(load_scheme("unicom_vip"), change)
    assert message in str(e.value)


@pytest.mark.parametrize("scheme, change, message", [
    ("mobile_gotone", {"rating_month": 13}, "rating_month: 13 is not a month of the year"),
    ("mobile_gotone", {"plan_levels.288": "gold_plus"}, "plan_levels.288: 'gold_plus'"),
    ("telecom_star", {"top_star_grant.from_star": "star9"}, "is not a tier of the ladder"),
    ("telecom_star", {"points_per_suspension": 10}, "points_per_suspension: 10 is not a finite penalty <= 0"),
    ("mobile_credit", {"spend_points.points": [0, 20, 50]}, "spend_points.points: 3 entries for the 6"),
    ("mobile_credit", {"tenure_points.years": [1, 3, 2, 4, 5]}, "is not strictly increasing"),
    ("unicom_ladder", {"thresholds.gold.cumulative": 500}, "thresholds.gold.cumulative: 500 is below thresholds.silver.cumulative 1000"),
    ("telecom_club", {"high.gold": 100}, "high.gold: 100 is below high.silver 3600"),
])
def test_other_schemes_domains(scheme, change, message):
    with pytest.raises(SchemeError) as e:
        tierlib.apply_reform(load_scheme(scheme), change)
    assert message in str(e.value)


def test_a_scheme_file_outside_its_domain_fails_to_load_naming_file_path_and_value(tmp_path):
    doc = yaml.safe_load((SCHEME_DIR / "unicom_vip.yaml").read_text(encoding="utf-8"))
    doc["parameters"]["validity_months"]["value"] = 0
    f = tmp_path / "province.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError, match=r"province.yaml: validity_months: 0 is not a whole number"):
        load_scheme(f)


def test_a_parameter_without_a_domain_is_refused(tmp_path):
    doc = yaml.safe_load((SCHEME_DIR / "unicom_vip.yaml").read_text(encoding="utf-8"))
    doc["parameters"]["bonus_factor"] = {"value": 2, "source": "assumed"}
    f = tmp_path / "bonus.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError, match="parameter 'bonus_factor' declares no domain"):
        load_scheme(f)


def test_valid_reforms_still_apply():
    s = tierlib.apply_reform(load_scheme("unicom_vip"), {"validity_months": 6, "thresholds.mobile.gold": 350})
    assert s.value("validity_months") == 6 and len(DOMAINS) > 20
