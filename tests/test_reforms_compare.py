"""Issue 12 item 4: reforms side by side with their net value, stacking with an additive
breakdown, every reform's name in every output, untrusted drop effects said in words."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tierlib.revenue import YEARLY_REVENUE

import tierlib
from tierlib.reforms import Reform, compare_reforms, simulate

GOLD = Reform({"thresholds.mobile.gold": 350}, "gold 350")
SILVER = Reform({"thresholds.mobile.silver": 250}, "silver 250")
EFFECT = (1.5, 2.0, 3.0)  # low, central, high


def hand_panel(churned: bool = True) -> pl.DataFrame:
    months = [dt.date(2024, m, 1) for m in range(1, 9)]
    rows = [("a", 320.0), ("b", 330.0), ("c", 200.0), ("d", 500.0)]
    p = pl.concat([pl.DataFrame({"customer_id": c, "month": months, "join_month": months[0], "billed": b})
                   for c, b in rows])
    return p.with_columns(churned=pl.lit(False)) if churned else p


@pytest.fixture(scope="module")
def synth():
    from tierlib.synth import make_panel

    return make_panel(3000, 30, seed=11, carrier_shares={"unicom": 1.0})[0]


def test_hand_computed_net_values():
    # unicom_vip, 6-month mean: a 320 and b 330 are gold (>= 300), c 200 silver, d 500 diamond.
    # gold 350 moves a, b to silver; silver 250 moves c to none. Yearly cost per member (unit
    # costs assumed): silver 8, gold 98, diamond 278. p = 0.1. A leaver's revenue is a year of
    # their mean monthly billing (the panel holds 8 months: 12 x monthly billed, not 8 x).
    cmp = compare_reforms(hand_panel(), "unicom_vip", {"gold 350": GOLD, "silver 250": SILVER,
                                                        "both": GOLD + SILVER}, drop_effect=EFFECT, churn=0.1)
    t = {r["reform"]: r for r in cmp.table.iter_rows(named=True)}
    g, s, b = t["gold 350"], t["silver 250"], t["both"]
    assert (g["up"], g["down"], g["members_gold"], g["members_gold_change"], g["members_silver_change"]) == (0, 2, 0, -2, 2)
    assert g["cost_saved"] == pytest.approx(2 * 90.0)
    assert g["extra_leavers"] == pytest.approx(2 * 0.1 * (2.0 - 1))
    assert g["revenue_lost"] == pytest.approx(0.1 * 12 * (320 + 330))                 # 780
    assert g["net_value"] == pytest.approx(180 - 780)
    assert g["net_value_lo"] == pytest.approx(180 - 0.2 * 12 * 650)                 # high effect: -1380
    assert g["net_value_hi"] == pytest.approx(180 - 0.05 * 12 * 650)                # low effect: -210
    assert s["cost_saved"] == pytest.approx(8.0) and s["net_value"] == pytest.approx(8 - 0.1 * 12 * 200)
    assert (s["members_silver_change"], s["members_change"]) == (-1, -1)
    assert b["net_value"] == pytest.approx(g["net_value"] + s["net_value"])
    assert (g["drop_effect"], g["drop_effect_lo"], g["drop_effect_hi"]) == (2.0, 1.5, 3.0)
    assert "set by the analyst" in g["drop_effect_source"] and g["warnings"] == ""


def test_reference_revenue_lost_is_p_times_effect_minus_one_times_movers_revenue(synth):
    # with one p for everybody and p * HR < 1: revenue lost = p (HR - 1) x revenue of the downgraded
    cmp = compare_reforms(synth, "unicom_vip", {"gold 350": GOLD}, drop_effect=EFFECT, churn=0.05)
    r = cmp.table.row(0, named=True)
    sim = simulate(synth, "unicom_vip", GOLD)
    # the downgraded customers' yearly revenue, from the panel by its definition
    down = sim.customers.filter(pl.col("rank_reform") < pl.col("rank_base")).select("customer_id")
    yearly = YEARLY_REVENUE.at(synth, cmp.as_of)
    down_revenue = down.join(yearly, on="customer_id", how="left")["revenue"].fill_null(0.0).sum()
    assert down_revenue > sim.summary["down_revenue"].item()  # late joiners count a whole year
    assert r["down"] == sim.summary["down"].item() > 0
    assert r["revenue_lost"] == pytest.approx(0.05 * 1.0 * down_revenue)
    assert r["revenue_lost_lo"] == pytest.approx(0.05 * 0.5 * down_revenue)
    assert r["revenue_lost_hi"] == pytest.approx(0.05 * 2.0 * down_revenue)
    assert r["cost_saved"] == pytest.approx(-sim.summary["cost_change"].item())
    assert r["net_value"] == pytest.approx(r["cost_saved"] - r["revenue_lost"])


def test_stacked_breakdown_adds_up_to_the_stacked_total(synth):
    validity = Reform({"validity_months": 6}, "validity 6")
    cmp = compare_reforms(synth, "unicom_vip", {"gold 350": GOLD, "both": GOLD + validity},
                          drop_effect=EFFECT, churn=0.05)
    both = cmp.table.filter(reform="both").row(0, named=True)
    steps = cmp.breakdown.filter(reform="both").sort("step")
    assert steps["step_reform"].to_list() == ["gold 350", "validity 6"]
    additive = [c for c in steps.columns if c not in ("reform", "step", "step_reform", "applied")]
    assert "net_value" in additive and "members_gold_change" in additive
    for c in additive:
        assert steps[c].sum() == pytest.approx(both[c]), c
    # the first step is gold 350 alone; the second its marginal contribution
    alone = cmp.table.filter(reform="gold 350").row(0, named=True)
    assert steps.row(0, named=True)["net_value"] == pytest.approx(alone["net_value"])
    assert steps.row(1, named=True)["net_value"] != 0
    # order matters for the steps (not for the total)
    rev = compare_reforms(synth, "unicom_vip", {"both": validity + GOLD}, drop_effect=EFFECT, churn=0.05)
    assert rev.table["net_value"].item() == pytest.approx(both["net_value"])
    assert rev.breakdown["step_reform"].to_list() == ["validity 6", "gold 350"]


def test_every_output_names_each_reform(tmp_path):
    names = ["gold 350", "silver 250", "both"]
    cmp = compare_reforms(hand_panel(), "unicom_vip", {"gold 350": GOLD, "silver 250": SILVER,
                                                        "both": GOLD + SILVER}, drop_effect=EFFECT, churn=0.1)
    assert cmp.table["reform"].to_list() == names
    assert set(cmp.breakdown["reform"]) == set(names)
    assert set(names) <= set(cmp.assumptions["reform"])
    assert all(all(n in x for n in names) for x in cmp.assumptions["reform"] if x.startswith("every reform"))
    assert list(cmp.simulations) == names and all(n in repr(cmp) for n in names)
    assert cmp.simulations["gold 350"].reform.key == "gold 350"
    a = cmp.assumptions
    assert a.filter(topic="change", reform="both")["value"].to_list() == ["thresholds.mobile.gold = 350",
                                                                          "thresholds.mobile.silver = 250"]
    assert (a.filter(pl.col("topic").str.ends_with("unit_cost"))["source"] == "assumed").all()


def test_a_drop_effect_that_cannot_be_estimated_is_said_in_words():
    # 8 months and nobody leaves: drop_effect's history check refuses before looking for re-ratings
    cmp = compare_reforms(hand_panel(), "unicom_vip", {"gold 350": GOLD}, n_boot=20)
    r = cmp.table.row(0, named=True)
    assert "drop effect cannot be estimated" in r["warnings"] and "no customer of this panel leaves" in r["warnings"]
    assert r["net_value"] is None and r["revenue_lost"] is None and r["cost_saved"] == pytest.approx(180.0)
    assert r["drop_effect_source"] == "not available"


def test_an_untrusted_estimate_carries_the_churn_warnings(synth):
    cmp = compare_reforms(synth, "unicom_vip", {"gold 350": GOLD}, n_boot=30)
    r = cmp.table.row(0, named=True)
    assert r["drop_effect_source"].startswith("estimated on the panel")
    assert "drop effect not to be trusted: only" in r["warnings"] and "leavers below" in r["warnings"]
    assert r["net_value"] is not None and r["net_value_lo"] <= r["net_value"] <= r["net_value_hi"]
    assert "members at" in r["probability"] and "(assumed)" in r["probability"]
    assert any("drop effect not to be trusted" in n for n in cmp.notes)


def test_without_churned_there_is_no_churn_cost_and_the_row_says_why():
    cmp = compare_reforms(hand_panel(churned=False), "unicom_vip", {"gold 350": GOLD}, drop_effect=2.0)
    r = cmp.table.row(0, named=True)
    assert r["net_value"] is None and "no `churned` column" in r["warnings"]
    # a p given by the analyst needs no churned column
    r = compare_reforms(hand_panel(churned=False), "unicom_vip", {"gold 350": GOLD}, drop_effect=2.0,
                        churn=0.1).table.row(0, named=True)
    assert r["net_value"] == pytest.approx(180 - 780) and r["drop_effect_lo"] == 2.0


def test_bad_arguments_are_errors_naming_them():
    with pytest.raises(ValueError, match="low, central, high"):
        compare_reforms(hand_panel(), "unicom_vip", {"g": GOLD}, drop_effect=(3.0, 2.0, 1.5), churn=0.1)
    with pytest.raises(ValueError, match="drop_effect"):
        compare_reforms(hand_panel(), "unicom_vip", {"g": GOLD}, drop_effect="guess", churn=0.1)
    with pytest.raises(TypeError, match="mapping"):
        compare_reforms(hand_panel(), "unicom_vip", [GOLD])
    with pytest.raises(tierlib.SchemeError, match="thresholds.mobile.gould"):
        compare_reforms(hand_panel(), "unicom_vip", {"typo": {"thresholds.mobile.gould": 1}}, drop_effect=2.0)


def test_a_change_dated_after_as_of_is_said_to_change_nothing_yet():
    later = {"validity_months": {"from": "2026-03-01", "value": 6}}
    r = compare_reforms(hand_panel(), "unicom_vip", {"validity 6": later}, drop_effect=2.0,
                        churn=0.1).table.row(0, named=True)
    assert "takes effect from 2026-03, after as_of 2024-08" in r["warnings"] and r["down"] == 0


def test_hazard_ratios_windows_and_interval_orders_that_make_no_sense_are_refused(tmp_path, capsys):
    """Review of issue 12: a hazard ratio of -2 turned the churn cost into a gain, a window of 0
    months gave p = 0 (net value = the cost saved), and reform_churn_cost took (1.5, 2.0, 3.0) as
    (hr, lo, hi), an interval [2, 3] that excludes its own 1.5; all silently."""
    from tierlib.churn import reform_churn_cost
    from tierlib.cli import main

    for bad in (-2.0, 0.0, (-1.0, 2.0, 3.0), float("inf")):
        with pytest.raises(ValueError, match="positive"):
            compare_reforms(hand_panel(), "unicom_vip", {"g": GOLD}, drop_effect=bad, churn=0.1)
    for kw in ({"window": 0}, {"window": -3}, {"n_boot": 0}):
        with pytest.raises(ValueError, match="a whole number >= 1"):
            compare_reforms(hand_panel(), "unicom_vip", {"g": GOLD}, **kw)
    sim = simulate(hand_panel(), "unicom_vip", GOLD)
    for bad in (-2.0, (1.5, 2.0, 3.0), (2.0, 0.0, 3.0)):
        with pytest.raises(ValueError, match="0 < low <= hazard ratio <= high"):
            reform_churn_cost(sim, churn=0.1, effect=bad)
    p = tmp_path / "p.parquet"
    hand_panel().write_parquet(p)
    reform = tmp_path / "g.yaml"
    reform.write_text("name: gold 350\nchanges:\n  thresholds.mobile.gold: 350\n", encoding="utf-8")
    for extra, msg in ((["--drop-effect", "-2"], "positive number"), (["--window", "0"], "window = 0")):
        assert main(["simulate", str(p), "-s", "unicom_vip", "-r", str(reform), "--churn-rate", "0.1", *extra]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1


def test_reform_file_mistakes_name_the_file_or_the_parameter(tmp_path):
    """Review of issue 12: `from: 2025-13-01` gave only "month must be in 1..12", and `{from: ...}`
    without a value "no parameter 'thresholds.mobile.gold.from'"."""
    from tierlib.reforms import load_reform

    bad = tmp_path / "bad.yaml"
    bad.write_text("changes:\n  thresholds.mobile.gold: {from: 2025-13-01, value: 350}\n", encoding="utf-8")
    with pytest.raises(tierlib.SchemeError, match=r"bad\.yaml: not valid YAML: month must be in 1\.\.12"):
        load_reform(bad)
    bad.write_text("changes:\n  thresholds.mobile.gold: {from: 2025-01-01}\n", encoding="utf-8")
    with pytest.raises(tierlib.SchemeError, match=r"reform 'thresholds.mobile.gold': a dated value needs 'from' and 'value'"):
        load_reform(bad)


def test_a_given_drop_effect_that_is_not_a_number_gives_no_churn_cost_in_words():
    """Found at integration: notebook 03 on a small sample passed an estimated DropEffect of nan,
    which the hazard-ratio check (rightly) refused deep inside; it is now 'no churn cost', said."""
    from tierlib.churn import DropEffect

    nan, empty = float("nan"), pl.DataFrame()
    eff = DropEffect(hazard_ratio=nan, ci=(nan, nan), level=0.9, p_value=nan, naive_ratio=nan,
                     naive_ci=(nan, nan), bandwidth=0.2, window=3, n_below=0, n_above=0, events_below=0,
                     events_above=0, first_stage=(nan, nan), density_ratio=nan, sensitivity=empty,
                     bins=empty, curve=empty)
    r = compare_reforms(hand_panel(), "unicom_vip", {"gold 350": GOLD}, drop_effect=eff, churn=0.1).table.row(0, named=True)
    assert r["net_value"] is None and r["revenue_lost"] is None and r["cost_saved"] == pytest.approx(180.0)
    assert "the drop effect estimate is not a number" in r["warnings"]
