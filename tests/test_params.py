"""Scheme parameter files: provenance on every value, dated values, immutability, cards."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib.params import Param, SchemeError, Value

ALL = tierlib.schemes()


def test_registered_schemes():
    assert ALL == ["mobile_credit", "mobile_gotone", "telecom_club", "telecom_star", "unicom_ladder", "unicom_vip"]


@pytest.mark.parametrize("sid", ALL)
def test_every_value_has_provenance(sid):
    s = tierlib.load_scheme(sid)
    for path, p in s.params.items():
        for v in p.history:
            assert v.source.split()[0] in ("seed", "public", "assumed"), path
            assert v.reference, f"{sid}.{path} has no reference"


@pytest.mark.parametrize("sid", ALL)
def test_ladder_and_thresholds_increase(sid):
    """Thresholds are inclusive lower bounds of an ordered ladder: they must increase."""
    s = tierlib.load_scheme(sid)
    assert s.ladder[0] == "none" and len(set(s.ladder)) == len(s.ladder)
    groups: dict[str, list[float]] = {}
    for path, p in s.params.items():
        parts = path.split(".")
        if parts[0] == "thresholds" and parts[-1] in s.tiers:
            groups.setdefault(".".join(parts[:-1]), []).append((s.rank(parts[-1]), p.at()))
        if parts[0] == "thresholds" and parts[-2] in s.tiers:  # unicom_ladder: thresholds.<tier>.<kind>
            groups.setdefault(parts[-1], []).append((s.rank(parts[-2]), p.at()))
    assert groups
    for key, vals in groups.items():
        ordered = [v for _, v in sorted(vals)]
        assert ordered == sorted(ordered), f"{sid} {key}: {ordered}"


@pytest.mark.parametrize("sid", ALL)
def test_card_shows_every_assumption(sid):
    s = tierlib.load_scheme(sid)
    card = s.card()
    assert s.name in card and "Assumptions (not carrier rules)" in card
    for p in s.assumptions():
        assert p.path in card.split("Assumptions (not carrier rules)")[1]
    assert "[ASSUMED]" in card or not s.assumptions()


def test_known_assumptions_are_marked():
    """RULES.md marks these [assumed]: they must be visible as assumptions on the cards."""
    marked = {
        "unicom_vip": ["thresholds.fixed.silver"],
        "telecom_star": ["migration.diamond", "points_multiplier.star5", "top_star_grant.required"],
        "telecom_club": ["rerating_month"],
        "unicom_ladder": ["thresholds.regular.cumulative", "never_drops"],
        "mobile_gotone": ["thresholds.vip", "thresholds.platinum"],
        "mobile_credit": ["window_months"],
    }
    for sid, paths in marked.items():
        s = tierlib.load_scheme(sid)
        for path in paths:
            assert s.p(path).assumed, f"{sid}.{path}"
    assert not tierlib.load_scheme("mobile_gotone").p("thresholds.diamond").assumed


def test_dated_values_and_at():
    s = tierlib.load_scheme("mobile_gotone")
    p = s.p("plan_levels.288")
    assert p.dated and p.at("2025-01-01") == "silver" and p.at("2025-02-01") == "platinum"
    assert p.value_at("2014-06-01").source == "seed 002"
    with pytest.raises(SchemeError, match="no value before"):
        p.at("2012-12-01")
    frozen = tierlib.load_scheme("mobile_gotone", as_of="2024-12-01")
    assert frozen.value("plan_levels.388") == "gold" and not frozen.p("plan_levels.388").dated


def test_param_expr_resolves_per_month():
    p = Param("x", (Value(1, "seed 1", "r", dt.date(2020, 1, 1)), Value(2, "public", "r", dt.date(2021, 1, 1))))
    df = pl.DataFrame({"month": [dt.date(2019, 12, 1), dt.date(2020, 6, 1), dt.date(2021, 1, 1)]})
    assert df.select(p.expr()).to_series().to_list() == [None, 1, 2]


def test_with_values_is_a_new_scheme():
    s = tierlib.load_scheme("unicom_vip")
    r = s.with_values({"thresholds.mobile.gold": 350, "validity_months": 6})
    assert r.value("thresholds.mobile.gold") == 350 and r.value("validity_months") == 6
    assert s.value("thresholds.mobile.gold") == 300 and s.value("validity_months") == 12
    assert r.p("validity_months").history[-1].source == "reform"
    assert "Reform applied" in r.card()


def test_with_values_dated_keeps_history():
    s = tierlib.load_scheme("unicom_vip")
    r = s.with_values({"thresholds.mobile.gold": {"from": "2026-01-01", "value": 350}})
    p = r.p("thresholds.mobile.gold")
    assert p.at("2025-12-01") == 300 and p.at("2026-01-01") == 350


@pytest.mark.parametrize("changes,match", [
    ({"thresholds.gold": 350}, "no parameter 'thresholds.gold'; did you mean thresholds.mobile.gold"),
    ({"validity_months": "six"}, "'validity_months'.*str"),
    ({"upgrade_resets": 1}, "'upgrade_resets'"),
    ({"eligible_account_types": "standard"}, "'eligible_account_types'"),
])
def test_with_values_errors_name_the_path(changes, match):
    with pytest.raises(SchemeError, match=match):
        tierlib.load_scheme("unicom_vip").with_values(changes)


def test_scheme_is_immutable():
    s = tierlib.load_scheme("unicom_vip")
    with pytest.raises(Exception):
        s.holding = "none"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.params["validity_months"] = None  # type: ignore[index]


def test_variants():
    high = tierlib.load_scheme("telecom_club:high")
    assert high.key == "telecom_club:high" and high.value("regional.all_high") is True
    assert tierlib.load_scheme("telecom_club", variant="high").key == "telecom_club:high"
    with pytest.raises(SchemeError, match="no variant 'low'"):
        tierlib.load_scheme("telecom_club:low")
    with pytest.raises(SchemeError, match="unknown scheme 'nope'"):
        tierlib.load_scheme("nope")


def test_scheme_from_a_copied_parameter_file(tmp_path):
    """A new scheme is one parameter file (plus a module, which may be shared)."""
    text = (tierlib.schemefiles.SCHEME_DIR / "unicom_vip.yaml").read_text(encoding="utf-8")
    path = tmp_path / "bank_like.yaml"
    path.write_text(text.replace("id: unicom_vip", "id: bank_like\nmodule: unicom_vip")
                    .replace("value: 450,", "value: 900,"), encoding="utf-8")
    s = tierlib.load_scheme(path)
    assert s.key == "bank_like" and s.value("thresholds.mobile.diamond") == 900
    months = [dt.date(2024, m, 1) for m in range(1, 9)]
    panel = pl.DataFrame({"customer_id": "c", "month": months, "join_month": months[0], "billed": 500.0})
    out = tierlib.rate(panel, s)
    assert out["scheme"].cast(pl.String).unique().to_list() == ["bank_like"]
    assert out["tier"].cast(pl.String).to_list()[-1] == "gold"  # 500 < 900


def test_ladder_never_drops_is_a_real_switch():
    ms = [dt.date(2024, m, 1) for m in range(1, 7)]
    p = pl.DataFrame({"customer_id": "c", "month": ms, "join_month": ms[0],
                      "billed": [1000.0, 60.0, 60.0, 0.0, 0.0, 0.0]})
    # Feb: C 1000, M 1000 -> silver; Mar, Apr: C 1060/1120, M 60 -> silver; May, Jun: M 0 -> regular
    base = tierlib.rate(p, "unicom_ladder")["tier"].cast(pl.String).to_list()
    assert base == ["none", "silver", "silver", "silver", "silver", "silver"]  # never drops
    drops = tierlib.load_scheme("unicom_ladder").with_values({"never_drops": False})
    assert tierlib.rate(p, drops)["tier"].cast(pl.String).to_list() == [
        "none", "silver", "silver", "silver", "regular", "regular"]


def test_scheme_pickles_and_deep_copies():
    """Reforms travel to worker processes (multiprocessing, Spark) and caches."""
    import copy
    import pickle

    r = tierlib.load_scheme("telecom_club:high").with_values({"rerating_month": 2})
    for back in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert back == r and back.key == "telecom_club:high[rerating_month=2]" and back.value("rerating_month") == 2
        assert back.changes == r.changes
        with pytest.raises(TypeError):
            back.params["rerating_month"] = None  # type: ignore[index]
