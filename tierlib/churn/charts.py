"""Altair charts of the churn analyses, each built from a small aggregated table.

Every chart takes ``lang`` (``en`` or ``zh``) for its words (:mod:`tierlib.terms`, ``charts.yaml``),
carries its alt text (``description``) and a tooltip on every mark, as in :mod:`tierlib.plots`.
No chart embeds customer rows: :func:`risk_bands` aggregates the scored ledger to a grid of
(gap to floor x months to expiry) cells first; the others take the result objects' tables
(tens of rows whatever the panel size).
"""

from __future__ import annotations

import datetime as dt
import math

import altair as alt
import polars as pl

from tierlib.churn.effect import DropEffect
from tierlib.churn.fit import ChurnFit
from tierlib.churn.risk import ExpectedChurn, _as_of
from tierlib.plots import _data as _values  # the one chart guard: aggregated tables only
from tierlib.plots import _described, _t
from tierlib.terms import check_lang

__all__ = ["risk_band_table", "risk_bands", "calibration_chart", "expected_by_tier", "discontinuity"]


def risk_band_table(fit: ChurnFit, *, as_of=None, months: int = 1, gap_step: float = 0.1,
                    gap_max: float = 0.5, expiry_max: int = 12) -> pl.DataFrame:
    """Tier holders by scheme, gap band and months to expiry, over the ``months`` months to ``as_of``.

    Columns: ``scheme, gap_band`` (band start; gaps beyond +-``gap_max`` fall in the end bands),
    ``expiry`` (months to expiry as text; ``later`` when ``expiry_max`` or more, or when the
    tier has no end date), ``customers`` (customer-months), ``probability`` (mean P(leave
    within k months)).
    """
    m = _as_of(fit, as_of)
    t_end = m.year * 12 + m.month - 1
    lo = -gap_max
    rows = fit.scored.filter(pl.col("t").is_between(t_end - months + 1, t_end) & (pl.col("rank") > 0)
                             & pl.col("gap").is_not_null())
    band = ((pl.col("gap").clip(lo, gap_max - 1e-9) - lo) / gap_step).floor()
    mte = pl.col("months_to_expiry")
    later = mte.is_null() | (mte >= expiry_max)
    return (rows.with_columns(scheme=pl.col("scheme").cast(pl.String),
                              gap_band=(lo + band * gap_step).round(6),
                              expiry=pl.when(later).then(pl.lit("later")).otherwise(mte.cast(pl.String)),
                              expiry_order=pl.when(later).then(expiry_max).otherwise(mte))
            .group_by("scheme", "gap_band", "expiry", "expiry_order")
            .agg(customers=pl.len(), probability=pl.col("p").mean())
            .sort("scheme", "gap_band", "expiry_order"))


def risk_bands(fit: ChurnFit, *, as_of=None, months: int = 1, min_customers: int = 10,
               lang: str = "en") -> alt.FacetChart:
    """Heatmaps by scheme: mean P(leave within k months) by gap to floor x months to expiry.

    Pools the ``months`` months up to ``as_of``. Cells with fewer than ``min_customers``
    customer-months are grey (their mean is noise).
    """
    check_lang(lang)
    later = _t("chart_later", lang)
    t = risk_band_table(fit, as_of=as_of, months=months).with_columns(
        pl.col("expiry").replace({"later": later}))
    m = _as_of(fit, as_of)
    t_end = m.year * 12 + m.month - 1
    first = dt.date((t_end - months + 1) // 12, (t_end - months + 1) % 12 + 1, 1)
    span = f"{m:%Y-%m}" if months == 1 else f"{first:%Y-%m}..{m:%Y-%m}"
    order = [str(i) for i in range(12)] + [later]
    expiry, gap = _t("chart_months_to_expiry", lang), _t("chart_gap_band", lang)
    p_leave = _t("chart_p_leave", lang, k=fit.k)
    base = alt.Chart().encode(
        x=alt.X("expiry:N", sort=order, title=expiry, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("gap_band:O", sort="descending", title=gap, axis=alt.Axis(format="+.0%")),
        tooltip=[alt.Tooltip("scheme:N", title=_t("scheme", lang)),
                 alt.Tooltip("gap_band:Q", format="+.0%", title=gap), alt.Tooltip("expiry:N", title=expiry),
                 alt.Tooltip("customers:Q", format=",", title=_t("chart_customer_months", lang)),
                 alt.Tooltip("probability:Q", format=".1%", title=p_leave)])
    heat = base.mark_rect().encode(
        color=alt.condition(f"datum.customers >= {min_customers}",
                            alt.Color("probability:Q", title=p_leave, scale=alt.Scale(scheme="orangered")),
                            alt.value("#e5e5e5")))
    text = base.mark_text(fontSize=11).encode(text="customers:Q")
    title = _t("chart_risk_title", lang, span=span, n=min_customers)
    chart = alt.layer(heat, text, data=_values(t)).properties(width=420, height=220).facet(
        row=alt.Row("scheme:N", title=None)).properties(title=title)
    return _described(chart, title, "chart_risk_alt", lang)


def calibration_chart(fit: ChurnFit, *, lang: str = "en") -> alt.LayerChart:
    """Predicted vs observed churn rate on the held-out months (bins of equal count, 95 % CI)."""
    check_lang(lang)
    t = fit.calibration
    top = float(max(t["hi"].max(), t["mean_p"].max())) * 1.05
    predicted, observed = _t("chart_predicted", lang), _t("chart_observed", lang)
    tips = [alt.Tooltip("n:Q", format=",", title=_t("chart_bin_size", lang)),
            alt.Tooltip("mean_p:Q", format=".2%", title=predicted),
            alt.Tooltip("rate:Q", format=".2%", title=observed)]
    diag = alt.Chart(_values(pl.DataFrame({"v": [0.0, top]}))).mark_line(
        color="#999", strokeDash=[4, 4]).encode(x="v:Q", y="v:Q", tooltip=[alt.Tooltip("v:Q", format=".2%")])
    base = alt.Chart(_values(t)).encode(x=alt.X("mean_p:Q", title=predicted,
                                                 axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, top])),
                                         tooltip=tips)
    bars = base.mark_rule(color="#457b9d").encode(y="lo:Q", y2="hi:Q")
    pts = base.mark_point(filled=True, size=60, color="#1d3557").encode(
        y=alt.Y("rate:Q", title=observed, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, top])))
    lo, hi = fit.periods["test"]
    title = _t("chart_calibration_title", lang, lo=f"{lo:%Y-%m}", hi=f"{hi:%Y-%m}", ece=f"{fit.metrics['ece']:.4f}")
    chart = (diag + bars + pts).properties(title=title, width=320, height=320)
    return _described(chart, title, "chart_calibration_alt", lang)


def expected_by_tier(ec: ExpectedChurn, *, lang: str = "en") -> alt.LayerChart:
    """Expected churners among near-drop customers by scheme and tier, with the model interval."""
    check_lang(lang)
    t = ec.table.filter(pl.col("scheme") != "all").sort("scheme", "rank", nulls_last=True)
    tier = pl.col("tier_label") if "tier_label" in t.columns else pl.col("tier")  # the table's own label
    t = t.with_columns(label=pl.col("scheme") + " · " + tier, tier_shown=tier)
    expected = _t("chart_expected_leave", lang, k=ec.k)
    base = alt.Chart(_values(t)).encode(
        y=alt.Y("label:N", sort=t["label"].to_list(), title=None),
        tooltip=[alt.Tooltip("scheme:N", title=_t("scheme", lang)),
                 alt.Tooltip("tier_shown:N", title=_t("tier", lang)),
                 alt.Tooltip("customers:Q", format=",", title=_t("customers", lang)),
                 alt.Tooltip("expected:Q", format=".1f", title=expected),
                 alt.Tooltip("revenue_at_risk:Q", format=",.0f", title=_t("chart_revenue_at_risk", lang))])
    bars = base.mark_bar(color="#e76f51").encode(x=alt.X("expected:Q", title=expected))
    err = base.mark_rule(color="#333").encode(x="model_lo:Q", x2="model_hi:Q")
    title = _t("chart_expected_title", lang, month=f"{ec.as_of:%Y-%m}", level=f"{ec.level:.0%}")
    return _described((bars + err).properties(title=title, width=380), title, "chart_expected_alt", lang)


def discontinuity(effect: DropEffect, *, lang: str = "en") -> alt.LayerChart:
    """Churn per customer-month after re-rating vs score relative to the floor, with local fits."""
    check_lang(lang)
    sides = {"below: drops": _t("chart_below_drops", lang), "above: keeps": _t("chart_above_keeps", lang)}
    b = effect.bins.filter(pl.col("exposure") > 0).with_columns(pl.col("side").replace(sides))
    curve = effect.curve.with_columns(pl.col("side").replace(sides))
    colors = alt.Scale(domain=list(sides.values()), range=["#e76f51", "#2a9d8f"])
    score, rate = _t("chart_score_vs_floor", lang), _t("chart_churn_rate", lang, w=effect.window)
    side = alt.Color("side:N", scale=colors, title=_t("chart_side", lang))
    pts = alt.Chart(_values(b)).mark_circle().encode(
        x=alt.X("x:Q", title=score, axis=alt.Axis(format="+%")),
        y=alt.Y("rate:Q", title=rate, axis=alt.Axis(format="%")),
        size=alt.Size("exposure:Q", title=_t("chart_customer_months", lang)), color=side,
        tooltip=[alt.Tooltip("side:N", title=_t("chart_side", lang)),
                 alt.Tooltip("x:Q", format="+.1%", title=score),
                 alt.Tooltip("n:Q", format=",", title=_t("customers", lang)),
                 alt.Tooltip("events:Q", format=",", title=_t("chart_leavers", lang)),
                 alt.Tooltip("rate:Q", format=".2%", title=rate)])
    lines = alt.Chart(_values(curve)).mark_line(strokeWidth=3).encode(
        x="x:Q", y="rate:Q", color=side,
        tooltip=[alt.Tooltip("side:N", title=_t("chart_side", lang)), alt.Tooltip("x:Q", format="+.1%", title=score),
                 alt.Tooltip("rate:Q", format=".2%", title=rate)])
    rule = alt.Chart(_values(pl.DataFrame({"x": [0.0]}))).mark_rule(strokeDash=[4, 4]).encode(
        x="x:Q", tooltip=[alt.Tooltip("x:Q", format="+.0%", title=score)])
    lo, hi = effect.ci
    if math.isfinite(effect.hazard_ratio):
        title = _t("chart_discontinuity_title", lang, hr=f"{effect.hazard_ratio:.2f}", level=f"{effect.level:.0%}",
                   lo=f"{lo:.2f}", hi=f"{hi:.2f}", bw=f"{effect.bandwidth:.0%}")
    else:  # too few leavers (DropEffect says why): no "xnan" in a title
        title = _t("chart_discontinuity_title_none", lang, bw=f"{effect.bandwidth:.0%}")
    chart = (pts + lines + rule).properties(title=title, width=420, height=280)
    return _described(chart, title, "chart_discontinuity_alt", lang)
