"""tierlib.reforms: identity, stricter thresholds, errors naming the path, baseline untouched,
sweep monotone, threshold search against brute force."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from tierlib.domains import ladder_bounds

import tierlib
from tierlib.params import SchemeError
from tierlib.schemefiles import load_scheme
from tierlib.reforms.rated import _prepare_panel
from tierlib.reforms import (apply_reform, load_reform, reform_warnings, simulate, sweep,
                             threshold_for_share)

# one real threshold per scheme, and its baseline value
THRESHOLD = {
    "telecom_star": ("thresholds.star5", 4000), "telecom_club": ("thresholds.default.gold", 2400),
    "unicom_vip": ("thresholds.mobile.gold", 300), "unicom_ladder": ("thresholds.silver.cumulative", 1000),
    "mobile_gotone": ("thresholds.gold", 2000), "mobile_credit": ("thresholds.star3", 300),
}


@pytest.fixture(scope="module")
def panel():
    from tierlib.synth import make_panel

    return make_panel(1200, 30, seed=7)[0]


def _months(start: dt.date, n: int) -> list[dt.date]:
    return [dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1) for i in range(n)]


def _customer(cid, billed: list[float], start=dt.date(2023, 1, 1)) -> pl.DataFrame:
    m = _months(start, len(billed))
    return pl.DataFrame({"customer_id": cid, "month": m, "join_month": start, "billed": billed})


@pytest.mark.parametrize("scheme", sorted(THRESHOLD))
def test_identity_reform_keeps_everyone_on_the_diagonal(panel, scheme):
    path, value = THRESHOLD[scheme]
    assert load_scheme(scheme).value(path) == value
    for reform in ({}, {path: value}):
        sim = simulate(panel, scheme, reform)
        off = sim.movers.filter(pl.col("rank_base") != pl.col("rank_reform"))
        assert off["customers"].sum() == 0
        s = sim.summary.row(0, named=True)
        assert (s["up"], s["down"], s["cost_change"]) == (0, 0, 0.0)
        assert s["near_base"] == s["near_reform"]
        assert any("changes nothing" in w for w in sim.warnings)


def test_raising_a_threshold_moves_nobody_up_and_someone_down(panel):
    # mobile_credit has no holding rule: a stricter star3 can only move customers down
    sim = simulate(panel, "mobile_credit", {"thresholds.star3": 350})
    s = sim.summary.row(0, named=True)
    assert s["up"] == 0 and s["down"] > 0
    assert sim.movers.filter(move="up")["customers"].sum() == 0
    assert set(sim.movers.filter((pl.col("move") == "down") & (pl.col("customers") > 0))["tier_base"]) == {"star3"}
    assert not sim.warnings
    assert s["members_reform"] <= s["members_base"]


def test_stricter_gold_moves_the_customer_between_old_and_new_threshold_down():
    # 6-month mean 320 sits between the old gold threshold (300) and the new one (350)
    p = pl.concat([_customer(1, [320.0] * 10), _customer(2, [500.0] * 10), _customer(3, [200.0] * 10)])
    sim = simulate(p, "unicom_vip", {"thresholds.mobile.gold": 350})
    moved = sim.movers.filter(pl.col("customers") > 0).select("tier_base", "tier_reform", "customers", "move").rows()
    assert sorted(moved) == [("diamond", "diamond", 1, "same"), ("gold", "silver", 1, "down"),
                             ("silver", "silver", 1, "same")]
    s = sim.summary.row(0, named=True)
    assert (s["up"], s["down"], s["down_revenue"]) == (0, 1, 320.0 * 10)
    assert s["cost_change"] == pytest.approx(8.0 - 98.0)  # gold -> silver per member (unit costs assumed)


def test_validity_can_move_a_customer_up_under_a_stricter_threshold():
    # Documented behaviour, not a bug: under 350 the customer reaches gold later (2023-10), so
    # the validity restarted then outlasts the baseline's gold (from 2023-02, re-rated 2024-02).
    p = _customer(1, [310.0] * 6 + [400.0] * 3 + [100.0] * 5)
    sim = simulate(p, "unicom_vip", {"thresholds.mobile.gold": 350}, as_of="2024-02-01")
    assert sim.movers.filter(customers=1).select("tier_base", "tier_reform", "move").row(0) == ("silver", "gold", "up")


def test_misspelt_path_is_an_error_naming_it(panel, tmp_path):
    bad = {"thresholds.mobile.gould": 350}
    for call in (lambda: apply_reform("unicom_vip", bad), lambda: simulate(panel, "unicom_vip", bad),
                 lambda: sweep(panel, "unicom_vip", "thresholds.mobile.gould", [1, 2]),
                 lambda: threshold_for_share(panel, "unicom_vip", "thresholds.mobile.gould", 0.1)):
        with pytest.raises(SchemeError, match="thresholds.mobile.gould"):
            call()
    f = tmp_path / "typo.yaml"
    f.write_text("changes:\n  validity_month: 6\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="validity_month"):
        apply_reform("unicom_vip", f)


@pytest.mark.parametrize("changes, path", [
    ({"validity_months": "six"}, "validity_months"),
    ({"thresholds.mobile.gold": True}, "thresholds.mobile.gold"),
    ({"upgrade_resets": 1}, "upgrade_resets"),
    ({"eligible_account_types": "standard"}, "eligible_account_types"),
])
def test_wrong_type_is_an_error_naming_the_path(changes, path):
    with pytest.raises(SchemeError, match=path):
        apply_reform("unicom_vip", changes)


def test_baseline_is_unchanged_after_a_reform(panel):
    base = load_scheme("unicom_vip")
    before = dict(base.params)
    new = apply_reform(base, {"thresholds.mobile.gold": 350, "validity_months": 6})
    sim = simulate(panel, base, {"thresholds.mobile.gold": 350})
    assert dict(base.params) == before and base.changes == ()
    assert base.value("thresholds.mobile.gold") == 300 and base.value("validity_months") == 12
    assert new.value("thresholds.mobile.gold") == 350 and new.p("validity_months").value_at().source == "reform"
    assert sim.baseline is base and load_scheme("unicom_vip").value("thresholds.mobile.gold") == 300
    # rating the baseline again gives the same ledger as before the reform
    assert tierlib.rate(panel, base).equals(tierlib.rate(panel, "unicom_vip"))


def test_reform_from_yaml_with_dated_and_nested_values(tmp_path):
    f = tmp_path / "gold350.yaml"
    f.write_text(
        "name: gold 350\ndescription: stricter gold for mobile lines\nchanges:\n"
        "  thresholds:\n    mobile:\n      gold: 350\n"
        "  thresholds.mobile.diamond: {from: 2026-01-01, value: 500}\n", encoding="utf-8")
    r = load_reform(f)
    assert r.name == "gold 350" and set(r.changes) == {"thresholds.mobile.gold", "thresholds.mobile.diamond"}
    s = apply_reform("unicom_vip", f)
    assert s.value("thresholds.mobile.gold") == 350
    assert s.value("thresholds.mobile.diamond", "2025-12-01") == 450
    assert s.value("thresholds.mobile.diamond", "2026-01-01") == 500
    assert "reform: gold 350" in s.p("thresholds.mobile.gold").value_at().reference
    with pytest.raises(SchemeError, match="needs 'from'"):
        load_reform({"validity_months": {"value": 6}})


def test_dated_reform_applies_from_its_date():
    # mobile_credit has no holding: the rating follows the threshold month by month
    p = pl.DataFrame({"customer_id": 1, "month": _months(dt.date(2024, 1, 1), 8),
                      "join_month": dt.date(2018, 1, 1), "billed": 100.0, "brand": "gotone"})
    # score = 50 (brand) + 300 (tenure >= 5 y) + 100 (mean 100) = 450 -> star4; the first panel
    # month has no completed month in the panel (left-truncated): spend 0 -> 350 -> star3
    new = apply_reform("mobile_credit", {"thresholds.star4": {"from": "2024-05-01", "value": 460}})
    tiers = tierlib.rate(p, new)["tier"].cast(pl.String).to_list()
    assert tiers == ["star3"] + ["star4"] * 3 + ["star3"] * 4
    assert tierlib.rate(p, "mobile_credit")["tier"].cast(pl.String).to_list() == ["star3"] + ["star4"] * 7


def test_reform_warnings():
    assert reform_warnings("unicom_vip", {"thresholds.mobile.gold": 350}) == []
    w = reform_warnings("unicom_vip", {"thresholds.mobile.gold": 350, "validity_months": 12})
    assert w == ["validity_months: the reform's value equals the baseline (12)"]
    # a dated value equal to the value already in force from that date changes nothing
    assert "changes nothing" in reform_warnings(
        "mobile_gotone", {"plan_levels.288": {"from": "2025-02-01", "value": "platinum"}})[0]
    # the same value dated from 2013 drops the 2025 change: that is a change
    assert reform_warnings("mobile_gotone", {"plan_levels.288": {"from": "2013-01-01", "value": "silver"}}) == []


def test_prepare_panel_keeps_what_as_of_needs(panel):
    valid, d = _prepare_panel(panel, "2024-06-01")
    assert d == dt.date(2024, 6, 1) and valid["month"].max() == d
    at = panel.filter(pl.col("month") == d)["customer_id"]
    assert set(valid["customer_id"]) == set(at)
    with pytest.raises(ValueError, match="is not a month"):
        _prepare_panel(panel, "2024-06-15")


@pytest.mark.parametrize("scheme, path", [("telecom_star", "thresholds.star5"), ("mobile_credit", "thresholds.star3"),
                                          ("unicom_vip", "thresholds.mobile.gold")])
def test_sweep_is_monotone_in_the_threshold(panel, scheme, path):
    s = load_scheme(scheme)
    base = s.value(path)
    # values between the neighbouring tiers' thresholds: beyond them the ladder is out of order
    # and the reform is refused (issue 9 item 2)
    below, above = ladder_bounds(s, path, dt.date(2025, 1, 1))
    values = sorted({int(below + (above - below) * f) for f in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)} | {int(base)})
    sw = sweep(panel, scheme, path, values)
    assert sw["value"].to_list() == values and sw.height == len(values)
    share = sw["tier_or_above_share"].to_list()
    assert all(a >= b for a, b in zip(share, share[1:]))
    assert share[0] > share[-1]
    # without a holding policy, moving a higher tier's threshold cannot change who is a member;
    # under validity it can (an earlier upgrade restarts the validity earlier), so no law there
    if load_scheme(scheme).holding == "none":
        assert sw["member_share"].n_unique() == 1
    assert sw["yearly_cost"].to_list()[0] >= sw["yearly_cost"].to_list()[-1]
    tiers = [c for c in sw.columns if c.startswith("share_")]
    assert sw.select(pl.sum_horizontal(tiers) + (1 - pl.col("member_share"))).to_series().to_list() == pytest.approx([1.0] * len(values))
    # the row of the baseline value is the baseline rating
    sim = simulate(panel, scheme, {})
    assert sw.filter(value=int(base))["near"].item() == sim.summary["near_base"].item()


@pytest.mark.parametrize("scheme, path, target, step, lo, hi", [
    ("mobile_credit", "thresholds.star3", 0.25, 10, 200, 400),  # no holding: direct quantile
    ("telecom_star", "thresholds.star5", 0.04, 100, 2300, 6000),  # validity: bisection (star4 .. star6)
])
def test_threshold_for_share_agrees_with_brute_force(panel, scheme, path, target, step, lo, hi):
    found = threshold_for_share(panel, scheme, path, target, step=step)
    grid = list(range(lo, hi + 1, step))
    sw = sweep(panel, scheme, path, grid)
    ok = sw.filter(pl.col("tier_or_above_share") >= target)["value"]
    assert found.value == ok.max()
    assert found.share == pytest.approx(sw.filter(value=ok.max())["tier_or_above_share"].item())
    assert found.share >= target > found.next_share
    assert found.ratings < len(grid) / 3
    assert "ratings" in repr(found)


def test_threshold_for_share_unreachable(panel):
    with pytest.raises(ValueError, match="even a threshold of 0"):
        threshold_for_share(panel, "mobile_credit", "thresholds.star1", 1.0)
    with pytest.raises(ValueError, match="share must be"):
        threshold_for_share(panel, "mobile_credit", "thresholds.star3", 1.5)
    with pytest.raises(ValueError, match="give tier="):
        threshold_for_share(panel, "unicom_vip", "validity_months", 0.1)


def test_simulate_tables_add_up(panel):
    sim = simulate(panel, "telecom_star", {"thresholds.star4": 2000, "validity_months": 6}, as_of="2024-12-01")
    s = sim.summary.row(0, named=True)
    assert sim.movers["customers"].sum() == s["customers"] == sim.distribution["customers_base"].sum()
    assert sim.movers.filter(move="up")["customers"].sum() == s["up"]
    assert sim.movers.filter(move="down")["customers"].sum() == s["down"]
    assert sim.movers.height == 8 * 8
    assert s["cost_change"] == pytest.approx(sim.cost["cost_change"].sum())
    assert math.isclose(sim.distribution["share_reform"].sum(), 1.0)
    assert "unit costs assumed" in repr(sim)


def test_a_reform_carries_its_name_into_the_ledger_and_compare_counts_each_once(panel, tmp_path):
    """Issue 9 item 3: a baseline and its reform in one ledger never share a key."""
    f = tmp_path / "gold350.yaml"
    f.write_text("thresholds:\n  mobile:\n    gold: 350\n", encoding="utf-8")
    base = load_scheme("unicom_vip")
    named = apply_reform(base, f)
    assert named.key == "gold350"
    assert apply_reform(base, {"thresholds.mobile.gold": 350}, name="gold 350").key == "gold 350"
    ledger = tierlib.rate(panel, [base, named])
    assert sorted(ledger["scheme"].cast(pl.String).unique()) == ["gold350", "unicom_vip"]
    cmp = tierlib.compare(ledger, panel, schemes={"unicom_vip": base, "gold350": named})
    n = panel.filter(pl.col("month") == panel["month"].max())["customer_id"].n_unique()
    assert cmp.summary["customers"].to_list() == [n, n]
    with pytest.raises(tierlib.SchemeError, match="given twice"):
        tierlib.rate(panel, [base, base.renamed("unicom_vip")])
