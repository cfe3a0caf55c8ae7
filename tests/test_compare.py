"""tierlib.compare and the benefits catalogues: golden numbers on a hand-made ledger, invariants
on a synthetic sample."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib.benefits import CATALOGUE_DIR, load_catalogue
from tierlib.card import assumptions
from tierlib.compare import (benefit_cost, compare, cross_table, equivalence, rank_correlation,
                             stability, tier_distribution)
from tierlib.params import SchemeError
from tierlib.schemefiles import load_scheme
from tierlib.reforms import apply_reform

JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


def _rows(scheme, month, tiers, ranks, scores=None, assessed=None, status=None, assessed_rank=None):
    n = len(tiers)
    return pl.DataFrame({
        "customer_id": list(range(1, n + 1)), "month": [month] * n, "scheme": [scheme] * n,
        "tier": tiers, "rank": ranks, "score": scores or [0.0] * n, "assessed": assessed or tiers,
        "assessed_rank": assessed_rank or ranks,
        "status": status or ["none" if r == 0 else "active" for r in ranks],
    }, schema_overrides={"rank": pl.Int8, "assessed_rank": pl.Int8})


@pytest.fixture(scope="module")
def golden():
    """Five customers, two schemes, two months; every number below is worked out by hand."""
    ledger = pl.concat([
        _rows("unicom_vip", JAN, ["none", "silver", "gold", "gold", "diamond"], [0, 1, 2, 2, 3]),
        _rows("unicom_vip", FEB, ["none", "silver", "silver", "gold", "diamond"], [0, 1, 1, 2, 3],
              scores=[100.0, 160.0, 200.0, 320.0, 500.0],
              assessed=["none", "silver", "silver", "silver", "diamond"],  # customer 4: gold held by validity
              assessed_rank=[0, 1, 1, 1, 3],
              status=["none", "frozen", "active", "active", "active"]),   # customer 2: benefits suspended
        _rows("mobile_credit", JAN, ["star1", "star1", "star2", "star3", "star5"], [1, 1, 2, 3, 5]),
        _rows("mobile_credit", FEB, ["star1", "star1", "star3", "star3", "star5"], [1, 1, 3, 3, 5],
              scores=[150.0, 120.0, 350.0, 310.0, 520.0]),
    ])
    panel = pl.DataFrame({"customer_id": [1, 2, 3, 4, 5] * 2, "month": [JAN] * 5 + [FEB] * 5,
                          "billed": [10.0 * i for i in range(1, 6)] * 2})
    return ledger, panel


def test_golden_distribution(golden):
    ledger, panel = golden
    d = tier_distribution(ledger, panel).filter(scheme="unicom_vip")
    assert d["tier"].to_list() == ["none", "silver", "gold", "diamond"]
    assert d["customers"].to_list() == [1, 2, 1, 1]
    assert d["share"].to_list() == pytest.approx([0.2, 0.4, 0.2, 0.2])
    assert d["cum_share"].to_list() == pytest.approx([1.0, 0.8, 0.4, 0.2])
    # revenue = billed Jan + Feb = 20 x customer id; total 300
    assert d["revenue"].to_list() == pytest.approx([20.0, 100.0, 80.0, 100.0])
    assert d["revenue_share"].to_list() == pytest.approx([20 / 300, 100 / 300, 80 / 300, 100 / 300])
    assert d["tier_label"].to_list() == ["none 非会员", "silver 银卡", "gold 金卡", "diamond 钻石卡"]
    c = tier_distribution(ledger).filter(scheme="mobile_credit")
    assert c["customers"].to_list() == [0, 2, 0, 2, 0, 1]
    assert c["cum_share"].to_list() == pytest.approx([1.0, 1.0, 0.6, 0.6, 0.2, 0.2])


def test_golden_cross_table(golden):
    x = cross_table(golden[0], "unicom_vip", "mobile_credit")
    assert x.height == 4 * 6 and x["customers"].sum() == 5
    cells = {(a, b): n for a, b, n in x.filter(pl.col("customers") > 0).select("tier_a", "tier_b", "customers").rows()}
    assert cells == {("none", "star1"): 1, ("silver", "star1"): 1, ("silver", "star3"): 1,
                     ("gold", "star3"): 1, ("diamond", "star5"): 1}
    silver = x.filter(tier_a="silver", tier_b="star1")
    assert silver["share"].item() == pytest.approx(0.2) and silver["row_share"].item() == pytest.approx(0.5)


def test_golden_equivalence_and_correlation(golden):
    e = equivalence(golden[0], "unicom_vip", "mobile_credit")
    assert e.select("tier_a", "share_a", "tier_b", "share_b", "score_b").rows() == [
        ("silver", pytest.approx(0.8), "star1", pytest.approx(1.0), 150.0),  # 4 customers: star1+ holds 5, star2+ 3
        ("gold", pytest.approx(0.4), "star3", pytest.approx(0.6), 350.0),
        ("diamond", pytest.approx(0.2), "star5", pytest.approx(0.2), 520.0),
    ]
    r = rank_correlation(golden[0]).row(0, named=True)
    # score ranks (1,2,3,4,5) vs (2,1,4,3,5): sum d^2 = 4, rho = 1 - 6*4 / (5*24) = 0.8
    assert (r["scheme_a"], r["scheme_b"], r["customers"]) == ("unicom_vip", "mobile_credit", 5)
    assert r["spearman_score"] == pytest.approx(0.8)


def test_golden_stability(golden):
    s = stability(golden[0]).filter(month=FEB)
    vip = s.filter(scheme="unicom_vip").row(0, named=True)
    assert (vip["customers"], vip["upgrades"], vip["downgrades"], vip["held"]) == (5, 0, 1, 1)
    assert vip["downgrade_rate"] == pytest.approx(0.2) and vip["held_share"] == pytest.approx(0.2)
    assert vip["held_of_members"] == pytest.approx(0.25)
    credit = s.filter(scheme="mobile_credit").row(0, named=True)
    assert (credit["upgrades"], credit["downgrades"], credit["held"]) == (1, 0, 0)
    assert stability(golden[0], as_of=JAN).height == 0  # no month before January


def test_golden_cost(golden):
    ledger, panel = golden
    c = benefit_cost(ledger, panel).group_by("scheme", "tier").agg(pl.col("yearly_cost").sum(), pl.col("members").first())
    got = {(s, t): (m, round(y, 6)) for s, t, y, m in c.select("scheme", "tier", "yearly_cost", "members").rows()}
    # unicom_vip per member: silver 3 + 5 = 8; gold 8 + 2 x 0.3 x 150 = 98; diamond 8 + 6 x 0.3 x 150 = 278.
    # Customer 2's silver card is frozen: no benefits, so silver counts one member.
    assert got[("unicom_vip", "silver")] == (1, 8.0)
    assert got[("unicom_vip", "gold")] == (1, 98.0)
    assert got[("unicom_vip", "diamond")] == (1, 278.0)
    assert sum(v[1] for k, v in got.items() if k[0] == "mobile_credit") == pytest.approx(5 * 3.0)


def test_golden_compare(golden):
    ledger, panel = golden
    r = compare(ledger, panel)
    assert r.as_of == FEB and r.schemes == ("unicom_vip", "mobile_credit")
    vip = r.summary.filter(scheme="unicom_vip").row(0, named=True)
    assert vip["member_share"] == pytest.approx(0.8) and vip["top_share"] == pytest.approx(0.2)
    assert vip["top_tier"] == "diamond" and vip["member_revenue_share"] == pytest.approx(280 / 300)
    assert vip["yearly_cost"] == pytest.approx(8 + 98 + 278)
    assert r["cross"].height == 24 and r.equivalence.height == 3 + 5  # both directions
    text = repr(r)
    assert "Comparison of 2 scheme(s) at 2024-02-01" in text and "assumed" in text
    with pytest.raises(KeyError, match="no table"):
        r["nope"]
    with pytest.raises(ValueError, match="not a month of the ledger"):
        compare(ledger, panel, as_of="2023-01-01")
    with pytest.raises(ValueError, match="not in the ledger: telecom_star"):
        compare(ledger, panel, pairs=[("unicom_vip", "telecom_star")])


@pytest.fixture(scope="module")
def sample():
    from tierlib.synth import make_panel

    panel, _ = make_panel(1500, 18, seed=3)
    return panel, tierlib.rate(panel, "all")


def test_compare_sample_invariants(sample):
    panel, ledger = sample
    r = compare(ledger, panel)
    d = r.distribution
    sums = d.group_by("scheme").agg(pl.col("share").sum(), pl.col("revenue_share").sum(),
                                    pl.col("cum_share").filter(pl.col("rank") == 0).first())
    assert sums["share"].to_list() == pytest.approx([1.0] * 6)
    assert sums["revenue_share"].to_list() == pytest.approx([1.0] * 6)
    assert sums["cum_share"].to_list() == pytest.approx([1.0] * 6)
    n = r.summary["customers"][0]
    assert r.cross.group_by("scheme_a", "scheme_b").agg(pl.col("customers").sum())["customers"].to_list() == [n] * 15
    # equivalence is monotone: a higher tier of A never maps to a lower tier of B
    for (_, _), g in r.equivalence.group_by("scheme_a", "scheme_b"):
        ranks = g.sort("rank_a")["rank_b"].drop_nulls().to_list()
        assert ranks == sorted(ranks)
    assert r.correlation["spearman_score"].is_between(-1, 1).all()
    assert r.stability["held_share"].is_between(0, 1).all()
    assert set(r.cost["scheme"]) == {"telecom_star", "telecom_club", "unicom_vip", "mobile_gotone", "mobile_credit"}
    assert any("unicom_ladder: benefit cost is 0" in n for n in r.notes)


def test_compare_named_ledgers_reform(sample):
    panel, _ = sample
    base = load_scheme("unicom_vip")
    new = apply_reform(base, {"thresholds.mobile.gold": 350})
    ledgers = {"baseline": tierlib.rate(panel, base), "reform": tierlib.rate(panel, new)}
    r = compare(ledgers, panel, schemes={"baseline": base, "reform": new})
    assert r.schemes == ("baseline", "reform")
    gold = r.distribution.filter(tier="gold").select("scheme", "customers").rows()
    assert dict(gold)["reform"] <= dict(gold)["baseline"]
    assert r.cost.filter(scheme="reform").height > 0  # the catalogue follows the scheme id


@pytest.mark.parametrize("scheme", tierlib.schemes())
def test_catalogue_per_scheme(scheme):
    c = load_catalogue(scheme)
    s = load_scheme(scheme)
    t = c.table(s)
    assert set(t["tier"]) <= set(s.tiers)
    for name in c.entitlements:
        assert c.p(f"{name}.min_tier").at() in s.tiers
        for key in ("unit_cost", "use_rate", "point_value"):
            if f"{name}.{key}" in c.params:  # every cost is an analyst's assumption
                assert c.p(f"{name}.{key}").value_at().source == "assumed", f"{scheme}: {name}.{key}"
    # more tiers never cost less: benefits accumulate up the ladder
    per = t.group_by("rank").agg(pl.col("per_member").sum()).sort("rank")["per_member"].to_list()
    assert per == sorted(per)


def test_catalogue_files_match_schemes():
    assert sorted(p.stem for p in CATALOGUE_DIR.glob("*.yaml")) == tierlib.schemes()


def test_catalogue_edits_and_points_follow_reform():
    c = load_catalogue("telecom_star")
    members = pl.DataFrame({"tier": ["star4"], "members": [10], "paid": [1000.0]})
    base = c.costs(members).filter(entitlement="points")["yearly_cost"].item()
    assert base == pytest.approx(1000.0 * 1.2 * 0.01 * 0.3)
    richer = apply_reform("telecom_star", {"points_multiplier.star4": 2.4})
    assert c.costs(members, richer).filter(entitlement="points")["yearly_cost"].item() == pytest.approx(2 * base)
    edited = c.with_values({"account_manager.unit_cost": 120.0})
    am = lambda cat: cat.costs(members).filter(entitlement="account_manager")["yearly_cost"].item()  # noqa: E731
    assert am(edited) == pytest.approx(2 * am(c))
    assert load_catalogue("telecom_star").p("account_manager.unit_cost").at() == 60.0  # file untouched
    with pytest.raises(SchemeError, match="account_manager.unit_kost"):
        c.with_values({"account_manager.unit_kost": 1.0})
    with pytest.raises(SchemeError, match="account_manager.unit_cost"):
        c.with_values({"account_manager.unit_cost": "cheap"})


def test_assumptions_table():
    a = assumptions(["telecom_star", "unicom_ladder"])
    assert {"rules", "benefits"} == set(a["file"])
    assert a.filter(scheme="telecom_star", path="points_multiplier.star7")["value"].item() == "2.0"
    assert a.filter(file="benefits", scheme="unicom_ladder").height == 0


def test_lazy_inputs_give_the_same_tables(sample):
    panel, ledger = sample
    eager = compare(ledger, panel, pairs=[("telecom_star", "unicom_vip")])
    lazy = compare(ledger.lazy(), panel.lazy(), pairs=[("telecom_star", "unicom_vip")])
    for name in eager.keys():
        assert eager[name].equals(lazy[name]), name


def test_customer_revenue_is_billed_over_the_12_months_up_to_as_of():
    """Hand-computed: months 2023-03 .. 2024-04 billed 1..14 yuan; at 2024-03 the window is 2023-04..2024-03."""
    from tierlib.ledger import REVENUE, customer_revenue

    months = [dt.date(2023 + (2 + k) // 12, (2 + k) % 12 + 1, 1) for k in range(14)]
    p = pl.DataFrame({"customer_id": [7] * 14 + [8], "month": months + [dt.date(2024, 2, 1)],
                      "billed": [float(k + 1) for k in range(14)] + [9.0]})
    got = dict(customer_revenue(p, "2024-03").rows())
    assert got == {7: float(sum(range(2, 14))), 8: 9.0}  # 2+..+13 = 90; a newcomer: its one month
    assert dict(customer_revenue(p, dt.date(2024, 3, 1), months=3).rows()) == {7: 11.0 + 12.0 + 13.0, 8: 9.0}
    assert "12 months" in str(REVENUE)


def test_reforms_take_the_ledger_utilities_from_the_ledger_module():
    import ast
    import pathlib

    files = sorted((pathlib.Path(tierlib.__file__).parent / "reforms").glob("*.py"))  # the reforms package
    assert files
    sideways = [(f.name, n.module) for f in files for n in ast.walk(ast.parse(f.read_text()))
                if isinstance(n, ast.ImportFrom) and n.module == "tierlib.compare"]
    assert not sideways


def test_assumptions_live_on_the_card_only():
    import tierlib.compare as c

    assert not hasattr(c, "assumptions")


def test_stability_reads_the_ledgers_assessed_rank_even_for_a_renamed_ledger():
    """Issue 11 item 1: the rank of `assessed` is the ledger's `assessed_rank`, not looked up in a
    ladder. Under a name no scheme file has ("reform"), the ladder is read from the ledger's own
    tiers: silver, which nobody holds, was missing from it and the held gold went uncounted."""
    feb = _rows("unicom_vip", FEB, ["gold", "gold"], [2, 2], assessed=["silver", "gold"],
                assessed_rank=[1, 2])
    jan = _rows("unicom_vip", JAN, ["gold", "gold"], [2, 2])
    s = stability({"reform": pl.concat([jan, feb])}, as_of=FEB).row(0, named=True)
    assert (s["scheme"], s["customers"], s["held"], s["held_share"]) == ("reform", 2, 1, 0.5)
    with pytest.raises(ValueError, match="assessed_rank"):
        stability(pl.concat([jan, feb]).drop("assessed_rank"))
