"""tierlib.plots: every chart builds, serialises and compiles on a sample of more than 5,000
customers (the builders aggregate first, so Altair's 5,000-row limit is never hit)."""

from __future__ import annotations

import base64
import json
import re

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


def _charts(r, lang="en"):
    c = r["compare"]
    return {
        "tier_bars": plots.tier_bars(c.distribution, lang=lang),
        "cross_heatmap": plots.cross_heatmap(c.cross, "telecom_star", "unicom_vip", lang=lang),
        "cross_default_pair": plots.cross_heatmap(c.cross, value="row_share", lang=lang),
        "movers_heatmap": plots.movers_heatmap(r["simulate"].movers, lang=lang),
        "sweep_curves": plots.sweep_curves(r["sweep"], baseline=4000, path="thresholds.star5", lang=lang),
        "tier_flows": plots.tier_flows(c.stability, lang=lang),
        "tier_shares_over_time": plots.tier_shares_over_time(tier_shares(r["ledger"], "telecom_star"), lang=lang),
        "tier_shares_of_a_ledger": plots.tier_shares_over_time(r["ledger"], "telecom_star", lang=lang),
        "cost_bars": plots.cost_bars(c.cost, lang=lang),
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


# --------------------------------------------------------------------------- issue 13: interactive, in two languages

CJK = re.compile(r"[\u4e00-\u9fff]")


def _units(node, inherited=None):
    """Every unit spec (one with a mark), with the encoding it inherits from its layer."""
    inherited = dict(inherited or {})
    if isinstance(node, dict):
        enc = {**inherited, **(node.get("encoding") or {})}
        if "mark" in node:
            yield node, enc
        for key in ("layer", "vconcat", "hconcat", "concat"):
            for child in node.get(key, []):
                yield from _units(child, enc if key == "layer" else None)
        if isinstance(node.get("spec"), dict):
            yield from _units(node["spec"])


def _words(spec) -> list[str]:
    """Every title, axis, legend, header and tooltip title of a spec (the words a reader sees)."""
    found = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and (k in ("title", "subtitle") or (k == "name" and key == "bind")):
                    found.append(v)
                elif k in ("title", "subtitle") and isinstance(v, list):
                    found.extend(x for x in v if isinstance(x, str))
                if k not in ("data", "datasets", "values"):
                    walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(spec)
    return found


def test_every_chart_has_its_alt_text_and_a_tooltip_on_every_mark(results):
    for name, chart in _charts(results).items():
        spec = chart.to_dict()
        title = spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"]
        assert spec["description"].startswith(f"{title}. ") and len(spec["description"]) > len(title) + 20, name
        for unit, enc in _units(spec):
            mark = unit["mark"]["type"] if isinstance(unit["mark"], dict) else unit["mark"]
            assert "tooltip" in enc, f"{name}: a {mark} mark has no tooltip"


def test_charts_speak_the_language_they_are_given(results):
    c = results["compare"]
    for name, chart in _charts(results, lang="zh").items():
        spec = chart.to_dict()
        words = [w for w in _words(spec) if not re.fullmatch(r"[a-z0-9_.\[\]=]+", w)]  # ids and paths are data
        assert words and [w for w in words if not CJK.search(w)] == [], name
        assert CJK.search(spec["description"]), name
    assert plots.tier_bars(c.distribution).to_dict()["title"] == "Tier distribution: share of customers and of revenue by tier"
    with pytest.raises(ValueError, match="lang 'fr'"):
        plots.cost_bars(c.cost, lang="fr")


def test_selections_pick_a_scheme_or_a_tier_and_the_sweep_has_a_slider(results):
    c = results["compare"]
    flows = json.dumps(plots.tier_flows(c.stability).to_dict())
    assert '"bind": "legend"' in flows and '"fields": ["scheme"]' in flows
    shares = json.dumps(plots.tier_shares_over_time(tier_shares(results["ledger"], "telecom_star")).to_dict())
    assert '"fields": ["tier_label"]' in shares
    spec = plots.sweep_curves(results["sweep"], baseline=4000, path="thresholds.star5").to_dict()
    (slider,) = [p for p in spec["params"] if p["name"] == "picked_value"]
    assert slider["value"] == 4000 and slider["bind"] == {
        "input": "range", "min": 3000.0, "max": 4500.0, "step": 500.0, "name": "pick a value of thresholds.star5: "}


def test_static_picture_draws_chinese_glyphs_not_boxes():
    """The PNG fallback is drawn with a registered CJK font: two different Chinese titles give two
    different pictures (without the font both would be the same row of boxes)."""
    import altair as alt

    from tierlib.rendering import cjk_font_dirs, static_png

    assert cjk_font_dirs(), "no CJK font installed (make fonts)"
    def png(title):
        return static_png(alt.Chart(alt.Data(values=[{"a": 1}])).mark_bar().encode(y="a:Q")
                          .properties(title=title).to_dict())
    assert png("星级") != png("保级") and png("星级") == png("星级")


def test_the_notebook_renderer_carries_the_spec_a_picture_and_the_alt_text(results):
    from tierlib.rendering import VEGALITE_MIME, mimebundle

    spec = plots.cost_bars(results["compare"].cost, lang="zh").to_dict()
    bundle, metadata = mimebundle(spec)
    assert bundle[VEGALITE_MIME] is spec and bundle["text/plain"] == spec["description"]
    assert metadata[VEGALITE_MIME]["embed_options"]["renderer"] == "svg"
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
