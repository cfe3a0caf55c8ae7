"""Altair charts of comparisons, simulations and sweeps.

Every builder takes one of the small aggregated tables of :mod:`tierlib.compare` or
:mod:`tierlib.reforms` (tens of rows, whatever the sample size), so no chart embeds customer
rows (and none hits Altair's 5,000-row limit). Tiers show their id and Chinese label
(``star5 五星``). Charts of benefit cost say that unit costs are assumed.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

__all__ = ["tier_bars", "cross_heatmap", "movers_heatmap", "sweep_curves", "tier_flows",
           "tier_shares_over_time", "cost_bars", "COST_NOTE"]

COST_NOTE = "unit costs assumed (tierlib/benefits/<scheme>.yaml, source: assumed)"
MOVE_COLORS = alt.Scale(domain=["up", "same", "down"], range=["#2a9d8f", "#bdbdbd", "#e76f51"])


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


def tier_bars(distribution: pl.DataFrame, *, columns: int = 3, title: str | None = None) -> alt.FacetChart:
    """Share of customers and of revenue by tier, one panel per scheme.

    ``distribution`` is ``compare(...).distribution`` (or :func:`tierlib.compare.tier_distribution`).

    >>> d = pl.DataFrame({"scheme": "unicom_vip", "tier": ["none", "silver"], "rank": [0, 1],
    ...                   "tier_label": ["none 非会员", "silver 银卡"], "share": [0.8, 0.2],
    ...                   "revenue_share": [0.5, 0.5]})
    >>> sorted(tier_bars(d).to_dict())[:3]
    ['$schema', 'columns', 'config']
    """
    cols = ["share"] + (["revenue_share"] if "revenue_share" in distribution.columns
                        and distribution["revenue_share"].null_count() < distribution.height else [])
    long = distribution.unpivot(index=["scheme", "tier", "rank", "tier_label"], on=cols,
                                variable_name="measure", value_name="value").with_columns(
        pl.col("measure").replace({"share": "customers", "revenue_share": "revenue"}))
    bars = alt.Chart(_data(long)).mark_bar().encode(
        x=alt.X("tier_label:N", sort=alt.EncodingSortField("rank", order="ascending"), title=None,
                axis=alt.Axis(labelAngle=-40)),
        xOffset=alt.XOffset("measure:N"),
        y=alt.Y("value:Q", title="share", axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", title="share of"),
        tooltip=["scheme:N", "tier_label:N", "measure:N", alt.Tooltip("value:Q", format=".1%")],
    ).properties(width=alt.Step(16), height=150)
    return bars.facet(facet=alt.Facet("scheme:N", title=None), columns=columns).resolve_scale(x="independent").properties(
        title=title or "Tier distribution: share of customers and of revenue by tier")


def cross_heatmap(cross: pl.DataFrame, a: str | None = None, b: str | None = None, *,
                  value: str = "share") -> alt.LayerChart:
    """Heatmap of tier of scheme ``a`` x tier of scheme ``b`` (first pair of the table by default).

    ``cross`` is ``compare(...).cross``; ``value`` colours the cells (``share``, ``row_share``,
    ``customers``), and each cell prints its customer count.

    >>> c = pl.DataFrame({"scheme_a": "a", "scheme_b": "b", "tier_a": ["none", "x"], "rank_a": [0, 1],
    ...                   "tier_b": ["y", "y"], "rank_b": [1, 1], "customers": [3, 1],
    ...                   "share": [0.75, 0.25], "row_share": [1.0, 1.0]})
    >>> cross_heatmap(c).to_dict()["layer"][0]["mark"]["type"]
    'rect'
    """
    a = a or cross["scheme_a"][0]
    b = b or cross.filter(scheme_a=a)["scheme_b"][0]
    df = cross.filter((pl.col("scheme_a") == a) & (pl.col("scheme_b") == b))
    df = _labels(_labels(df, "tier_a", "tier_label_a"), "tier_b", "tier_label_b").rename(
        {"tier_label_a": "label_a", "tier_label_b": "label_b"})
    base = alt.Chart(_data(df)).encode(
        x=alt.X("label_b:N", sort=alt.EncodingSortField("rank_b"), title=f"tier under {b}",
                axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("label_a:N", sort=alt.EncodingSortField("rank_a", order="descending"), title=f"tier under {a}"),
    )
    fmt = "d" if value == "customers" else ".1%"
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues"),
                                                   legend=alt.Legend(format=fmt)),
                                   tooltip=["label_a:N", "label_b:N", "customers:Q",
                                            alt.Tooltip("share:Q", format=".1%")])
    text = base.mark_text(fontSize=10).encode(text=alt.Text("customers:Q", format=","))
    return (rect + text).properties(title=f"Customers by tier: {a} (rows) x {b} (columns)", width=320, height=220)


def movers_heatmap(movers: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Baseline tier x reform tier: cells coloured by direction, labelled with customer counts.

    ``movers`` is ``simulate(...).movers``.

    >>> m = pl.DataFrame({"tier_base": ["none", "gold"], "rank_base": [0, 2], "tier_reform": ["none", "silver"],
    ...                   "rank_reform": [0, 1], "customers": [5, 1], "revenue": [0.0, 10.0], "move": ["same", "down"]})
    >>> movers_heatmap(m).to_dict()["layer"][1]["mark"]["type"]
    'text'
    """
    df = movers.with_columns(shown=pl.when(pl.col("customers") > 0).then(_thousands(pl.col("customers")))
                             .otherwise(pl.lit("")))
    x, y = ("label_reform", "label_base") if "label_base" in df.columns else ("tier_reform", "tier_base")
    base = alt.Chart(_data(df)).encode(
        x=alt.X(f"{x}:N", sort=alt.EncodingSortField("rank_reform"), title="tier under the reform",
                axis=alt.Axis(labelAngle=-40)),
        y=alt.Y(f"{y}:N", sort=alt.EncodingSortField("rank_base", order="descending"), title="tier under the baseline"),
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color("move:N", scale=MOVE_COLORS, title="move"),
        opacity=alt.condition("datum.customers > 0", alt.value(1.0), alt.value(0.25)),
        tooltip=["tier_base:N", "tier_reform:N", "customers:Q", alt.Tooltip("revenue:Q", format=",.0f")],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text("shown:N"))
    return (rect + text).properties(title=title or "Movers: baseline tier (rows) x reform tier (columns)",
                                    width=300, height=220)


def sweep_curves(sweep: pl.DataFrame, *, baseline: float | None = None, path: str = "threshold",
                 scheme=None) -> alt.VConcatChart:
    """Threshold curves from :func:`tierlib.reforms.sweep`: shares by tier, then cost and near counts.

    ``baseline`` draws a rule at the current value; ``scheme`` (the swept Scheme, or its
    ``ladder_frame()``) adds the tiers' Chinese labels.

    >>> s = pl.DataFrame({"value": [1, 2], "customers": 10, "member_share": [0.5, 0.4], "share_gold": [0.3, 0.2],
    ...                   "near": [1, 2], "yearly_cost": [10.0, 8.0]})
    >>> len(sweep_curves(s, baseline=1).to_dict()["vconcat"])
    2
    """
    shares = [c for c in sweep.columns if c.startswith("share_")] + (
        ["tier_or_above_share"] if "tier_or_above_share" in sweep.columns else [])
    labels = _tier_names(scheme)
    names = {c: labels.get(c.removeprefix("share_"), c.removeprefix("share_")) for c in shares}
    names["tier_or_above_share"] = "swept tier or above"
    long = sweep.unpivot(index="value", on=shares, variable_name="series", value_name="share").with_columns(
        pl.col("series").replace_strict(names))
    x = alt.X("value:Q", title=path)
    top = alt.Chart(_data(long)).mark_line(point=True).encode(
        x=x, y=alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of the base"),
        color=alt.Color("series:N", title="tier", sort=[names[c] for c in shares]),
        tooltip=["value:Q", "series:N", alt.Tooltip("share:Q", format=".2%")],
    ).properties(width=420, height=200, title="Share of the base by tier")
    lower_cols = [c for c in ("yearly_cost", "near", "near_tier") if c in sweep.columns]
    within = (f"within {sweep['near_margin'][0]:.0%}" if "near_margin" in sweep.columns
              else "near")  # the sweep's own margin, never a hard-coded one
    low = sweep.unpivot(index="value", on=lower_cols, variable_name="series", value_name="amount").with_columns(
        pl.col("amount").cast(pl.Float64),
        pl.col("series").replace({"yearly_cost": "yearly benefit cost (yuan; unit costs assumed)",
                                  "near": f"customers {within} of any threshold",
                                  "near_tier": f"customers {within} of the swept tier's threshold"}))
    bottom = alt.Chart(_data(low)).mark_line(point=True, color="#555").encode(
        x=x, y=alt.Y("amount:Q", title=None),
        tooltip=["value:Q", "series:N", alt.Tooltip("amount:Q", format=",.0f")],
    ).properties(width=420, height=110).facet(
        row=alt.Row("series:N", title=None, header=alt.Header(labelOrient="top", labelAnchor="start"))
    ).resolve_scale(y="independent")
    if baseline is not None:
        rule = alt.Chart(_data(pl.DataFrame({"value": [baseline]}))).mark_rule(strokeDash=[4, 3]).encode(x="value:Q")
        top = top + rule
    return alt.vconcat(top, bottom).resolve_scale(color="independent").properties(
        title=alt.TitleParams(f"Sweep of {path}", subtitle=["benefit cost: " + COST_NOTE]))


def tier_flows(stability: pl.DataFrame) -> alt.FacetChart:
    """Monthly upgrade and downgrade rates, and the share of tiers held up by a holding rule.

    ``stability`` is ``compare(...).stability``.

    >>> s = pl.DataFrame({"scheme": "a", "month": [dt.date(2024, 2, 1)], "upgrade_rate": [0.01],
    ...                   "downgrade_rate": [0.02], "held_share": [0.1]})
    >>> tier_flows(s).to_dict()["facet"]["row"]["field"]
    'measure'
    """
    long = stability.unpivot(index=["scheme", "month"], on=["upgrade_rate", "downgrade_rate", "held_share"],
                             variable_name="measure", value_name="rate").with_columns(
        pl.col("measure").replace({"upgrade_rate": "upgraded this month", "downgrade_rate": "downgraded this month",
                                   "held_share": "held above the score's tier (validity, cycle, ladder, plan)"}))
    return alt.Chart(_data(long)).mark_line().encode(
        x=alt.X("month:T", title=None), y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title="share of customers"),
        color=alt.Color("scheme:N"), tooltip=["scheme:N", "month:T", alt.Tooltip("rate:Q", format=".2%")],
    ).properties(width=520, height=120).facet(
        row=alt.Row("measure:N", title=None, header=alt.Header(labelOrient="top", labelAnchor="start"))
    ).resolve_scale(y="independent").properties(title="Tier moves over time")


def tier_shares_over_time(shares: pl.DataFrame, scheme: str | None = None) -> alt.Chart:
    """Stacked shares of each tier of one scheme, month by month.

    ``shares`` is :func:`tierlib.compare.tier_shares` (``month, tier, rank, tier_label,
    customers, share``); a ledger is aggregated here, its tiers shown by id.

    >>> l = pl.DataFrame({"customer_id": [1, 2], "month": dt.date(2024, 1, 1), "scheme": "unicom_vip",
    ...                   "tier": ["none", "gold"], "rank": [0, 2]})
    >>> tier_shares_over_time(l, "unicom_vip").to_dict()["mark"]["type"]
    'area'
    """
    f = shares.filter(pl.col("scheme") == scheme) if scheme is not None and "scheme" in shares.columns else shares
    scheme = scheme or (f["scheme"][0] if "scheme" in f.columns and f.height else "")
    if "share" not in f.columns:  # a ledger: count its rows
        f = f.group_by("month", "tier", "rank").agg(customers=pl.len()).with_columns(pl.col("tier").cast(pl.String))
        f = f.with_columns(share=pl.col("customers") / pl.col("customers").sum().over("month"))
    f = _labels(f).sort("month", "rank")
    return alt.Chart(_data(f)).mark_area().encode(
        x=alt.X("month:T", title=None), y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%")),
        color=alt.Color("tier_label:N", sort=alt.EncodingSortField("rank"), title="tier"),
        order=alt.Order("rank:Q"), tooltip=["month:T", "tier_label:N", alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=520, height=200, title=f"{scheme}: tier shares by month")


def cost_bars(cost: pl.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Yearly benefit cost per scheme, stacked by tier (``compare(...).cost``); unit costs assumed.

    >>> c = pl.DataFrame({"scheme": "unicom_vip", "tier": ["gold", "silver"], "rank": [2, 1],
    ...                   "entitlement": "x", "yearly_cost": [98.0, 8.0]})
    >>> cost_bars(c).to_dict()["title"]["subtitle"][0].startswith("unit costs assumed")
    True
    """
    keys = ["scheme", "tier", "rank"] + (["tier_label"] if "tier_label" in cost.columns else [])
    by_tier = _labels(cost.group_by(keys).agg(pl.col("yearly_cost").sum()))
    return alt.Chart(_data(by_tier)).mark_bar().encode(
        y=alt.Y("scheme:N", title=None), x=alt.X("yearly_cost:Q", title="yuan a year", axis=alt.Axis(format="~s")),
        color=alt.Color("rank:O", title="tier rank (1 = lowest)", scale=alt.Scale(scheme="viridis")),
        order=alt.Order("rank:Q"),
        tooltip=["scheme:N", "tier_label:N", alt.Tooltip("yearly_cost:Q", format=",.0f")],
    ).properties(width=460, height=30 * max(1, by_tier["scheme"].n_unique()),
                 title=alt.TitleParams(title or "Yearly benefit cost by tier", subtitle=[COST_NOTE]))
