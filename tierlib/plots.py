"""Altair charts of comparisons, simulations and sweeps.

Every builder takes one of the small aggregated tables of :mod:`tierlib.compare` or
:mod:`tierlib.reforms` (tens of rows, whatever the sample size), so no chart embeds customer
rows (and none hits Altair's 5,000-row limit). Tiers show their id and Chinese label
(``star5 五星``). Charts of benefit cost say that unit costs are assumed.

Every builder takes ``lang`` (``en``, the default, or ``zh``): its title, axes, legends and
tooltips come from the terms catalogue (:mod:`tierlib.terms`, ``charts.yaml``) in that
language. Every chart carries a ``description``, its alt text (title and what it shows); every
mark has a tooltip; legends pick a scheme or a tier where that answers a question, and the
sweep has a slider over its swept values.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from tierlib.terms import check_lang, term
from tierlib.terms import text as _t  # every chart word: term(key, lang) with its fields

__all__ = ["tier_bars", "cross_heatmap", "movers_heatmap", "sweep_curves", "tier_flows",
           "tier_shares_over_time", "cost_bars", "COST_NOTE"]

COST_NOTE = term("chart_cost_note", "en")
MOVES = ("up", "same", "down")
MOVE_RANGE = ["#2a9d8f", "#bdbdbd", "#e76f51"]
#: Opacity of what a legend selection leaves out.
FADED = 0.15



def _described(chart, title: str, alt_key: str, lang: str, **fields):
    """``chart`` with its alt text (``description``): its title, then what it shows."""
    return chart.properties(description=f"{title}. {_t(alt_key, lang, **fields)}")


def _legend_pick(field: str):
    """A selection of one value of ``field`` by clicking the legend (shift-click adds more)."""
    return alt.selection_point(fields=[field], bind="legend")


def _data(df: pl.DataFrame, limit: int = 5000) -> alt.Data:
    """Inline values (dates as ISO text); refuses customer-level frames by design."""
    if df.height > limit:
        raise ValueError(f"{df.height} rows: chart builders take aggregated tables (compare / simulate / "
                         f"sweep outputs), not customer rows")
    out = df.with_columns(pl.col(c).cast(pl.String) for c, t in df.schema.items() if t in (pl.Date, pl.Datetime))
    return alt.Data(values=out.to_dicts())


def _labels(df: pl.DataFrame, tier: str = "tier", label: str = "tier_label") -> pl.DataFrame:
    """The table's own ``tier_label`` (id + Chinese label, added by the analysis that made it);
    the tier id when the table has none. Charts never read parameter files."""
    if label in df.columns:
        return df
    return df.with_columns(pl.col(tier).cast(pl.String).alias(label))


def _thousands(n: pl.Expr) -> pl.Expr:
    """A non-negative integer as text with thousands separators (``1234567`` -> ``1,234,567``).

    >>> pl.select(_thousands(pl.lit(1234567))).item(), pl.select(_thousands(pl.lit(12))).item()
    ('1,234,567', '12')
    """
    return n.cast(pl.Int64).cast(pl.String).str.reverse().str.extract_all(r"\d{1,3}").list.join(",").str.reverse()


def _tier_names(scheme) -> dict[str, str]:
    """Tier id -> ``tier_label`` from a Scheme (its ``ladder_frame``) or a ladder table."""
    if scheme is None:
        return {}
    if isinstance(scheme, str):
        raise TypeError(f"sweep_curves: scheme={scheme!r} is an id; pass the Scheme "
                        "(tierlib.load_scheme(id)) or its ladder_frame(): charts do not read parameter files")
    ladder = scheme if isinstance(scheme, pl.DataFrame) else scheme.ladder_frame()
    return dict(ladder.select("tier", "tier_label").iter_rows())


def tier_bars(distribution: pl.DataFrame, *, columns: int = 3, title: str | None = None,
              lang: str = "en") -> alt.FacetChart:
    """Share of customers and of revenue by tier, one panel per scheme.

    ``distribution`` is ``compare(...).distribution`` (or :func:`tierlib.compare.tier_distribution`).
    Clicking the legend picks customers or revenue.

    >>> d = pl.DataFrame({"scheme": "unicom_vip", "tier": ["none", "silver"], "rank": [0, 1],
    ...                   "tier_label": ["none 非会员", "silver 银卡"], "share": [0.8, 0.2],
    ...                   "revenue_share": [0.5, 0.5]})
    >>> sorted(tier_bars(d).to_dict())[:3]
    ['$schema', 'columns', 'config']
    >>> tier_bars(d, lang="zh").to_dict()["title"]
    '等级分布：各等级的客户占比与收入占比'
    """
    check_lang(lang)
    cols = ["share"] + (["revenue_share"] if "revenue_share" in distribution.columns
                        and distribution["revenue_share"].null_count() < distribution.height else [])
    names = {"share": _t("chart_measure_customers", lang), "revenue_share": _t("chart_measure_revenue", lang)}
    extra = [c for c in ("customers", "revenue") if c in distribution.columns]
    long = distribution.unpivot(index=["scheme", "tier", "rank", "tier_label", *extra], on=cols,
                                variable_name="measure", value_name="value").with_columns(
        pl.col("measure").replace_strict(names))
    pick = _legend_pick("measure")
    tips = [alt.Tooltip("scheme:N", title=_t("scheme", lang)), alt.Tooltip("tier_label:N", title=_t("tier", lang)),
            alt.Tooltip("measure:N", title=_t("chart_share_of", lang)),
            alt.Tooltip("value:Q", format=".1%", title=_t("share", lang))]
    if "customers" in extra:
        tips.append(alt.Tooltip("customers:Q", format=",", title=_t("customers", lang)))
    if "revenue" in extra:
        tips.append(alt.Tooltip("revenue:Q", format=",.0f", title=_t("revenue", lang)))
    bars = alt.Chart(_data(long)).mark_bar().encode(
        x=alt.X("tier_label:N", sort=alt.EncodingSortField("rank", order="ascending"), title=None,
                axis=alt.Axis(labelAngle=-40)),
        xOffset=alt.XOffset("measure:N"),
        y=alt.Y("value:Q", title=_t("share", lang), axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", title=_t("chart_share_of", lang), sort=[names[c] for c in cols]),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(FADED)),
        tooltip=tips,
    ).add_params(pick).properties(width=alt.Step(16), height=150)
    title = title or _t("chart_tier_bars_title", lang)
    chart = bars.facet(facet=alt.Facet("scheme:N", title=None), columns=columns).resolve_scale(
        x="independent").properties(title=title)
    return _described(chart, title, "chart_tier_bars_alt", lang)


def cross_heatmap(cross: pl.DataFrame, a: str | None = None, b: str | None = None, *,
                  value: str = "share", lang: str = "en") -> alt.LayerChart:
    """Heatmap of tier of scheme ``a`` x tier of scheme ``b`` (first pair of the table by default).

    ``cross`` is ``compare(...).cross``; ``value`` colours the cells (``share``, ``row_share``,
    ``customers``), and each cell prints its customer count.

    >>> c = pl.DataFrame({"scheme_a": "a", "scheme_b": "b", "tier_a": ["none", "x"], "rank_a": [0, 1],
    ...                   "tier_b": ["y", "y"], "rank_b": [1, 1], "customers": [3, 1],
    ...                   "share": [0.75, 0.25], "row_share": [1.0, 1.0]})
    >>> cross_heatmap(c).to_dict()["layer"][0]["mark"]["type"]
    'rect'
    """
    check_lang(lang)
    a = a or cross["scheme_a"][0]
    b = b or cross.filter(scheme_a=a)["scheme_b"][0]
    df = cross.filter((pl.col("scheme_a") == a) & (pl.col("scheme_b") == b))
    df = _labels(_labels(df, "tier_a", "tier_label_a"), "tier_b", "tier_label_b").rename(
        {"tier_label_a": "label_a", "tier_label_b": "label_b"})
    under_a, under_b = _t("chart_tier_under", lang, scheme=a), _t("chart_tier_under", lang, scheme=b)
    base = alt.Chart(_data(df)).encode(
        x=alt.X("label_b:N", sort=alt.EncodingSortField("rank_b"), title=under_b, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("label_a:N", sort=alt.EncodingSortField("rank_a", order="descending"), title=under_a),
        tooltip=[alt.Tooltip("label_a:N", title=under_a), alt.Tooltip("label_b:N", title=under_b),
                 alt.Tooltip("customers:Q", format=",", title=_t("customers", lang)),
                 alt.Tooltip("share:Q", format=".1%", title=_t("share", lang))],
    )
    fmt = "d" if value == "customers" else ".1%"
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues"),
                                                   legend=alt.Legend(format=fmt),
                                                   title=_t("customers" if value == "customers" else "share", lang)))
    text = base.mark_text(fontSize=11).encode(text=alt.Text("customers:Q", format=","))
    title = _t("chart_cross_title", lang, a=a, b=b)
    return _described((rect + text).properties(title=title, width=320, height=220), title, "chart_cross_alt", lang,
                      a=a, b=b)


def movers_heatmap(movers: pl.DataFrame, *, title: str | None = None, lang: str = "en") -> alt.LayerChart:
    """Baseline tier x reform tier: cells coloured by direction, labelled with customer counts.

    ``movers`` is ``simulate(...).movers``.

    >>> m = pl.DataFrame({"tier_base": ["none", "gold"], "rank_base": [0, 2], "tier_reform": ["none", "silver"],
    ...                   "rank_reform": [0, 1], "customers": [5, 1], "revenue": [0.0, 10.0], "move": ["same", "down"]})
    >>> movers_heatmap(m).to_dict()["layer"][1]["mark"]["type"]
    'text'
    """
    check_lang(lang)
    moves = {m: _t(f"chart_move_{m}", lang) for m in MOVES}
    df = movers.with_columns(shown=pl.when(pl.col("customers") > 0).then(_thousands(pl.col("customers")))
                             .otherwise(pl.lit("")), move=pl.col("move").cast(pl.String).replace_strict(moves))
    x, y = ("label_reform", "label_base") if "label_base" in df.columns else ("tier_reform", "tier_base")
    reform, baseline = _t("chart_tier_reform", lang), _t("chart_tier_baseline", lang)
    base = alt.Chart(_data(df)).encode(
        x=alt.X(f"{x}:N", sort=alt.EncodingSortField("rank_reform"), title=reform, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y(f"{y}:N", sort=alt.EncodingSortField("rank_base", order="descending"), title=baseline),
        tooltip=[alt.Tooltip(f"{y}:N", title=baseline), alt.Tooltip(f"{x}:N", title=reform),
                 alt.Tooltip("move:N", title=_t("chart_move", lang)),
                 alt.Tooltip("customers:Q", format=",", title=_t("customers", lang)),
                 alt.Tooltip("revenue:Q", format=",.0f", title=_t("revenue", lang))],
    )
    scale = alt.Scale(domain=list(moves.values()), range=MOVE_RANGE)
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color("move:N", scale=scale, title=_t("chart_move", lang)),
        opacity=alt.condition("datum.customers > 0", alt.value(1.0), alt.value(0.25)),
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text("shown:N"))
    title = title or _t("chart_movers_title", lang)
    return _described((rect + text).properties(title=title, width=300, height=220), title, "chart_movers_alt", lang)


def _sweep_step(values: list[float]) -> float:
    """The slider's step: the smallest gap between two swept values (1 for a single value).

    >>> _sweep_step([3000, 3500, 4500]), _sweep_step([0.1, 0.15, 0.2]), _sweep_step([5])
    (500.0, 0.05, 1.0)
    """
    gaps = [b - a for a, b in zip(values, values[1:]) if b > a]
    return round(float(min(gaps)), 10) if gaps else 1.0


def sweep_curves(sweep: pl.DataFrame, *, baseline: float | None = None, path: str = "threshold",
                 scheme=None, lang: str = "en") -> alt.VConcatChart:
    """Threshold curves from :func:`tierlib.reforms.sweep`: shares by tier, then cost and near counts.

    ``baseline`` draws a rule at the current value; ``scheme`` (the swept Scheme, or its
    ``ladder_frame()``) adds the tiers' Chinese labels. A slider over the swept values moves a
    second rule and prints every curve's value there; clicking the legend picks a tier.

    >>> s = pl.DataFrame({"value": [1, 2], "customers": 10, "member_share": [0.5, 0.4], "share_gold": [0.3, 0.2],
    ...                   "near": [1, 2], "yearly_cost": [10.0, 8.0]})
    >>> len(sweep_curves(s, baseline=1).to_dict()["vconcat"])
    2
    """
    check_lang(lang)
    shares = [c for c in sweep.columns if c.startswith("share_")] + (
        ["tier_or_above_share"] if "tier_or_above_share" in sweep.columns else [])
    labels = _tier_names(scheme)
    names = {c: labels.get(c.removeprefix("share_"), c.removeprefix("share_")) for c in shares}
    names["tier_or_above_share"] = _t("chart_swept_or_above", lang)
    values = sorted(float(v) for v in sweep["value"].unique().to_list())
    step = _sweep_step(values)
    start = baseline if baseline is not None and values[0] <= baseline <= values[-1] else values[len(values) // 2]
    picked = alt.param(name="picked_value", value=start, bind=alt.binding_range(
        min=values[0], max=values[-1], step=step, name=_t("chart_pick_value", lang, path=path)))
    near_pick = f"abs(datum.value - picked_value) < {step / 2}"
    value_tip = alt.Tooltip("value:Q", title=path)
    long = sweep.unpivot(index="value", on=shares, variable_name="series", value_name="share").with_columns(
        pl.col("series").replace_strict(names))
    x = alt.X("value:Q", title=path)
    pick = _legend_pick("series")
    line_base = alt.Chart(_data(long)).mark_line(point=True).encode(
        x=x, y=alt.Y("share:Q", axis=alt.Axis(format="%"), title=_t("chart_share_of_base", lang)),
        color=alt.Color("series:N", title=_t("tier", lang), sort=[names[c] for c in shares]),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(FADED)),
        tooltip=[value_tip, alt.Tooltip("series:N", title=_t("tier", lang)),
                 alt.Tooltip("share:Q", format=".2%", title=_t("chart_share_of_base", lang))],
    )
    lines = line_base.add_params(pick).properties(name="sweep_shares")
    marks = line_base.mark_text(align="left", dx=6, dy=-6, fontSize=11).encode(
        text=alt.Text("share:Q", format=".1%")).transform_filter(near_pick)
    rule = alt.Chart(_data(pl.DataFrame({"one": [1]}))).transform_calculate(value="picked_value").mark_rule(
        color="#333").encode(x="value:Q", tooltip=[value_tip])
    lower_cols = [c for c in ("yearly_cost", "near", "near_tier") if c in sweep.columns]
    within = (_t("chart_within", lang, margin=f"{sweep['near_margin'][0]:.0%}") if "near_margin" in sweep.columns
              else _t("chart_near", lang))  # the sweep's own margin, never a hard-coded one
    low = sweep.unpivot(index="value", on=lower_cols, variable_name="series", value_name="amount").with_columns(
        pl.col("amount").cast(pl.Float64),
        pl.col("series").replace({"yearly_cost": _t("chart_yearly_cost_series", lang),
                                  "near": _t("chart_near_any", lang, within=within),
                                  "near_tier": _t("chart_near_tier", lang, within=within)}))
    low_line = alt.Chart(name="sweep_lower").mark_line(point=True, color="#555").encode(
        x=x, y=alt.Y("amount:Q", title=None),
        tooltip=[value_tip, alt.Tooltip("series:N", title=_t("chart_series", lang)),
                 alt.Tooltip("amount:Q", format=",.0f", title=_t("chart_amount", lang))])
    low_text = low_line.mark_text(align="left", dx=6, dy=-6, fontSize=11).encode(
        text=alt.Text("amount:Q", format=",.0f")).transform_filter(near_pick)
    low_rule = alt.Chart().mark_rule(color="#333").encode(x="value:Q", tooltip=[value_tip]).transform_filter(near_pick)
    bottom = alt.layer(low_line, low_text, low_rule, data=_data(low)).properties(width=420, height=110).facet(
        row=alt.Row("series:N", title=None, header=alt.Header(labelOrient="top", labelAnchor="start"))
    ).resolve_scale(y="independent")
    layers = [lines, marks, rule]
    if baseline is not None:
        layers.append(alt.Chart(_data(pl.DataFrame({"value": [baseline]}))).mark_rule(strokeDash=[4, 3]).encode(
            x="value:Q", tooltip=[value_tip]))
    top = alt.layer(*layers).properties(width=420, height=200, title=_t("chart_sweep_shares", lang))
    title = _t("chart_sweep_title", lang, path=path)
    chart = alt.vconcat(top, bottom).add_params(picked).resolve_scale(color="independent").properties(
        title=alt.TitleParams(title, subtitle=[_t("chart_benefit_cost_note", lang,
                                                  note=_t("chart_cost_note", lang))]))
    return _described(chart, title, "chart_sweep_alt", lang, path=path)


def tier_flows(stability: pl.DataFrame, *, lang: str = "en") -> alt.FacetChart:
    """Monthly upgrade and downgrade rates, and the share of tiers held up by a holding rule.

    ``stability`` is ``compare(...).stability``; clicking the legend picks a scheme.

    >>> s = pl.DataFrame({"scheme": "a", "month": [dt.date(2024, 2, 1)], "upgrade_rate": [0.01],
    ...                   "downgrade_rate": [0.02], "held_share": [0.1]})
    >>> tier_flows(s).to_dict()["facet"]["row"]["field"]
    'measure'
    """
    check_lang(lang)
    long = stability.unpivot(index=["scheme", "month"], on=["upgrade_rate", "downgrade_rate", "held_share"],
                             variable_name="measure", value_name="rate").with_columns(
        pl.col("measure").replace({"upgrade_rate": _t("chart_upgraded", lang),
                                   "downgrade_rate": _t("chart_downgraded", lang),
                                   "held_share": _t("chart_held", lang)}))
    pick = _legend_pick("scheme")
    share = _t("chart_share_of_customers", lang)
    title = _t("chart_flows_title", lang)
    chart = alt.Chart(_data(long)).mark_line(point=True).encode(
        x=alt.X("month:T", title=None), y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title=share),
        color=alt.Color("scheme:N", title=_t("scheme", lang)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(FADED)),
        tooltip=[alt.Tooltip("scheme:N", title=_t("scheme", lang)),
                 alt.Tooltip("month:T", format="%Y-%m", title=_t("month", lang)),
                 alt.Tooltip("measure:N", title=_t("chart_series", lang)),
                 alt.Tooltip("rate:Q", format=".2%", title=share)],
    ).add_params(pick).properties(width=520, height=120).facet(
        row=alt.Row("measure:N", title=None, header=alt.Header(labelOrient="top", labelAnchor="start"))
    ).resolve_scale(y="independent").properties(title=title)
    return _described(chart, title, "chart_flows_alt", lang)


def tier_shares_over_time(shares: pl.DataFrame, scheme: str | None = None, *, lang: str = "en") -> alt.Chart:
    """Stacked shares of each tier of one scheme, month by month.

    ``shares`` is :func:`tierlib.compare.tier_shares` (``month, tier, rank, tier_label,
    customers, share``); a ledger is aggregated here, its tiers shown by id. Clicking the
    legend picks a tier.

    >>> l = pl.DataFrame({"customer_id": [1, 2], "month": dt.date(2024, 1, 1), "scheme": "unicom_vip",
    ...                   "tier": ["none", "gold"], "rank": [0, 2]})
    >>> tier_shares_over_time(l, "unicom_vip").to_dict()["mark"]["type"]
    'area'
    """
    check_lang(lang)
    f = shares.filter(pl.col("scheme") == scheme) if scheme is not None and "scheme" in shares.columns else shares
    scheme = scheme or (f["scheme"][0] if "scheme" in f.columns and f.height else "")
    if "share" not in f.columns:  # a ledger: count its rows
        f = f.group_by("month", "tier", "rank").agg(customers=pl.len()).with_columns(pl.col("tier").cast(pl.String))
        f = f.with_columns(share=pl.col("customers") / pl.col("customers").sum().over("month"))
    f = _labels(f).sort("month", "rank")
    pick = _legend_pick("tier_label")
    tips = [alt.Tooltip("month:T", format="%Y-%m", title=_t("month", lang)),
            alt.Tooltip("tier_label:N", title=_t("tier", lang)),
            alt.Tooltip("share:Q", format=".1%", title=_t("share", lang))]
    if "customers" in f.columns:
        tips.append(alt.Tooltip("customers:Q", format=",", title=_t("customers", lang)))
    title = _t("chart_shares_title", lang, scheme=scheme)
    chart = alt.Chart(_data(f)).mark_area().encode(
        x=alt.X("month:T", title=None),
        y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title=_t("share", lang)),
        color=alt.Color("tier_label:N", sort=alt.EncodingSortField("rank"), title=_t("tier", lang)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(FADED)),
        order=alt.Order("rank:Q"), tooltip=tips,
    ).add_params(pick).properties(width=520, height=200, title=title)
    return _described(chart, title, "chart_shares_alt", lang, scheme=scheme)


def cost_bars(cost: pl.DataFrame, *, title: str | None = None, lang: str = "en") -> alt.Chart:
    """Yearly benefit cost per scheme, stacked by tier (``compare(...).cost``); unit costs assumed.

    Clicking the legend picks a tier rank.

    >>> c = pl.DataFrame({"scheme": "unicom_vip", "tier": ["gold", "silver"], "rank": [2, 1],
    ...                   "entitlement": "x", "yearly_cost": [98.0, 8.0]})
    >>> cost_bars(c).to_dict()["title"]["subtitle"][0].startswith("unit costs assumed")
    True
    """
    check_lang(lang)
    keys = ["scheme", "tier", "rank"] + (["tier_label"] if "tier_label" in cost.columns else [])
    by_tier = _labels(cost.group_by(keys).agg(pl.col("yearly_cost").sum()))
    pick = _legend_pick("rank")
    title = title or _t("chart_cost_title", lang)
    chart = alt.Chart(_data(by_tier)).mark_bar().encode(
        y=alt.Y("scheme:N", title=None),
        x=alt.X("yearly_cost:Q", title=_t("chart_yuan_a_year", lang), axis=alt.Axis(format="~s")),
        color=alt.Color("rank:O", title=_t("chart_tier_rank", lang), scale=alt.Scale(scheme="viridis")),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(FADED)),
        order=alt.Order("rank:Q"),
        tooltip=[alt.Tooltip("scheme:N", title=_t("scheme", lang)),
                 alt.Tooltip("tier_label:N", title=_t("tier", lang)),
                 alt.Tooltip("yearly_cost:Q", format=",.0f", title=_t("chart_yearly_cost", lang))],
    ).add_params(pick).properties(width=460, height=30 * max(1, by_tier["scheme"].n_unique()),
                                  title=alt.TitleParams(title, subtitle=[_t("chart_cost_note", lang)]))
    return _described(chart, title, "chart_cost_alt", lang)
