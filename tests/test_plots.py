"""tierlib.plots: every chart builds, serialises and compiles on a sample of more than 5,000
customers (the builders aggregate first, so Altair's 5,000-row limit is never hit)."""

from __future__ import annotations

import json

import polars as pl
import pytest
import vl_convert as vlc

import tierlib
from tierlib import plots
from tierlib.compare import compare, tier_shares
from tierlib.reforms import simulate, sweep

N_CUSTOMERS = 5200


@pytest.fixture(scope="module")
def results():
    from tierlib.synth import make_panel

    panel, _ = make_panel(N_CUSTOMERS, 13, seed=11)
    assert panel["customer_id"].n_unique() > 5000 and panel.height > 5000
    ledger = tierlib.rate(panel, ["telecom_star", "unicom_vip", "mobile_gotone"])
    return {
        "ledger": ledger,
        "compare": compare(ledger, panel),
        "simulate": simulate(panel, "unicom_vip", {"thresholds.mobile.gold": 350}),
        "sweep": sweep(panel, "telecom_star", "thresholds.star5", [3000, 3500, 4000, 4500]),
    }


def _charts(r):
    c = r["compare"]
    return {
        "tier_bars": plots.tier_bars(c.distribution),
        "cross_heatmap": plots.cross_heatmap(c.cross, "telecom_star", "unicom_vip"),
        "cross_default_pair": plots.cross_heatmap(c.cross, value="row_share"),
        "movers_heatmap": plots.movers_heatmap(r["simulate"].movers),
        "sweep_curves": plots.sweep_curves(r["sweep"], baseline=4000, path="thresholds.star5"),
        "tier_flows": plots.tier_flows(c.stability),
        "tier_shares_over_time": plots.tier_shares_over_time(tier_shares(r["ledger"], "telecom_star")),
        "tier_shares_of_a_ledger": plots.tier_shares_over_time(r["ledger"], "telecom_star"),
        "cost_bars": plots.cost_bars(c.cost),
    }


def test_every_chart_serialises_and_compiles(results):
    for name, chart in _charts(results).items():
        spec = chart.to_dict()  # raises MaxRowsError on a customer-level frame
        rows = _embedded_rows(spec)
        assert 0 < rows < 1000, f"{name}: {rows} rows embedded"
        json.dumps(spec, ensure_ascii=False)
        svg = vlc.vegalite_to_svg(spec)  # the report renders to SVG: the spec must compile
        assert svg.startswith("<svg"), name


def _embedded_rows(node) -> int:
    """Rows of data embedded anywhere in a spec (named datasets and inline values)."""
    if isinstance(node, dict):
        own = sum(len(v) for v in node["datasets"].values()) if isinstance(node.get("datasets"), dict) else 0
        own += len(node["values"]) if isinstance(node.get("values"), list) else 0
        return own + sum(_embedded_rows(v) for k, v in node.items() if k not in ("datasets", "values"))
    if isinstance(node, list):
        return sum(_embedded_rows(v) for v in node)
    return 0


def test_labels_show_id_and_chinese_label(results):
    spec = json.dumps(plots.tier_bars(results["compare"].distribution).to_dict(), ensure_ascii=False)
    assert "star5 五星" in spec and "diamond 钻石卡" in spec
    heat = json.dumps(plots.cross_heatmap(results["compare"].cross, "telecom_star", "unicom_vip").to_dict(),
                      ensure_ascii=False)
    assert "star7 七星" in heat and "gold 金卡" in heat


def test_every_chart_takes_its_labels_from_the_table_it_is_given(results):
    """Issue 11 item 1: the analyses' tables carry tier_label; charts read no parameter file."""
    c = results["compare"]
    def text(chart):
        return json.dumps(chart.to_dict(), ensure_ascii=False)
    assert "gold 金卡" in text(plots.cost_bars(c.cost)) and "star5 五星" in text(plots.cost_bars(c.cost))
    assert "star5 五星" in text(plots.tier_shares_over_time(tier_shares(results["ledger"], "telecom_star")))
    sweep_chart = text(plots.sweep_curves(results["sweep"], scheme=tierlib.load_scheme("telecom_star")))
    assert "star5 五星" in sweep_chart
    with pytest.raises(TypeError, match="pass the Scheme"):
        plots.sweep_curves(results["sweep"], scheme="telecom_star")
    # no label column: the tier id, never a label looked up behind the table's back
    bare = c.cost.drop("tier_label")
    assert "gold 金卡" not in text(plots.cost_bars(bare)) and '"gold"' in text(plots.cost_bars(bare))


def test_movers_counts_print_with_thousands_separators():
    m = pl.DataFrame({"tier_base": ["none", "gold"], "rank_base": [0, 2], "tier_reform": ["none", "silver"],
                      "rank_reform": [0, 1], "customers": [1234567, 0], "revenue": [0.0, 10.0],
                      "move": ["same", "down"]})
    spec = plots.movers_heatmap(m).to_dict()
    rows = spec["data"]["values"] if "data" in spec else [r for d in spec["datasets"].values() for r in d]
    shown = [row["shown"] for row in rows]
    assert shown == ["1,234,567", ""]


def test_cost_charts_say_unit_costs_are_assumed(results):
    for chart in (plots.cost_bars(results["compare"].cost), plots.sweep_curves(results["sweep"])):
        assert "unit costs assumed" in json.dumps(chart.to_dict(), ensure_ascii=False)


def test_customer_level_frames_are_aggregated_or_refused(results):
    rows = results["ledger"].with_columns(pl.col("tier").cast(pl.String), yearly_cost=pl.lit(1.0))
    assert rows.height > 5000
    spec = plots.cost_bars(rows).to_dict()  # aggregates by scheme and tier itself
    assert _embedded_rows(spec) < 30
    per_customer = rows.select(tier_base="tier", rank_base="rank", tier_reform="tier", rank_reform="rank",
                               customers=pl.lit(1), revenue=pl.lit(0.0), move=pl.lit("same"))
    with pytest.raises(ValueError, match="aggregated tables"):
        plots.movers_heatmap(per_customer)
