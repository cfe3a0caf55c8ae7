"""Altair charts of the churn analyses, each built from a small aggregated table.

No chart embeds customer rows: :func:`risk_bands` aggregates the scored ledger to a grid of
(gap to floor x months to expiry) cells first; the others take the result objects' tables
(tens of rows whatever the panel size).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from tierlib.churn.effect import DropEffect
from tierlib.churn.fit import ChurnFit
from tierlib.churn.risk import ExpectedChurn, _as_of
from tierlib.plots import _data as _values  # the one chart guard: aggregated tables only

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


def risk_bands(fit: ChurnFit, *, as_of=None, months: int = 1, min_customers: int = 10) -> alt.FacetChart:
    """Heatmaps by scheme: mean P(leave within k months) by gap to floor x months to expiry.

    Pools the ``months`` months up to ``as_of``. Cells with fewer than ``min_customers``
    customer-months are grey (their mean is noise).
    """
    t = risk_band_table(fit, as_of=as_of, months=months)
    m = _as_of(fit, as_of)
    t_end = m.year * 12 + m.month - 1
    first = dt.date((t_end - months + 1) // 12, (t_end - months + 1) % 12 + 1, 1)
    span = f"{m:%Y-%m}" if months == 1 else f"{first:%Y-%m}..{m:%Y-%m}"
    order = [str(i) for i in range(12)] + ["later"]
    base = alt.Chart().encode(
        x=alt.X("expiry:N", sort=order, title="months until the tier's validity ends"),
        y=alt.Y("gap_band:O", sort="descending", title="score vs floor (band start)",
                axis=alt.Axis(format="+.0%")))
    heat = base.mark_rect().encode(
        color=alt.condition(f"datum.customers >= {min_customers}",
                            alt.Color("probability:Q", title=f"P(leave ≤ {fit.k} months)",
                                      scale=alt.Scale(scheme="orangered")),
                            alt.value("#e5e5e5")),
        tooltip=["scheme:N", "gap_band:Q", "expiry:N", "customers:Q",
                 alt.Tooltip("probability:Q", format=".1%")])
    text = base.mark_text(fontSize=8).encode(text="customers:Q")
    return alt.layer(heat, text, data=_values(t)).properties(width=380, height=200).facet(
        row=alt.Row("scheme:N", title=None)).properties(
        title=f"Risk bands {span}: tier holders by gap to floor and time to expiry "
              f"(cell text: customer-months; grey: fewer than {min_customers})")


def calibration_chart(fit: ChurnFit) -> alt.LayerChart:
    """Predicted vs observed churn rate on the held-out months (bins of equal count, 95 % CI)."""
    t = fit.calibration
    top = float(max(t["hi"].max(), t["mean_p"].max())) * 1.05
    diag = alt.Chart(_values(pl.DataFrame({"v": [0.0, top]}))).mark_line(
        color="#999", strokeDash=[4, 4]).encode(x="v:Q", y="v:Q")
    base = alt.Chart(_values(t)).encode(x=alt.X("mean_p:Q", title="predicted probability (bin mean)",
                                                 axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, top])))
    bars = base.mark_rule(color="#457b9d").encode(y="lo:Q", y2="hi:Q")
    pts = base.mark_point(filled=True, size=60, color="#1d3557").encode(
        y=alt.Y("rate:Q", title="observed share who left", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, top])),
        tooltip=["n:Q", alt.Tooltip("mean_p:Q", format=".2%"), alt.Tooltip("rate:Q", format=".2%")])
    lo, hi = fit.periods["test"]
    return (diag + bars + pts).properties(
        title=f"Calibration on held-out months {lo:%Y-%m}..{hi:%Y-%m} (ECE {fit.metrics['ece']:.4f})",
        width=320, height=320)


def expected_by_tier(ec: ExpectedChurn) -> alt.LayerChart:
    """Expected churners among near-drop customers by scheme and tier, with the model interval."""
    t = ec.table.filter(pl.col("scheme") != "all").sort("scheme", "rank", nulls_last=True)
    tier = pl.col("tier_label") if "tier_label" in t.columns else pl.col("tier")  # the table's own label
    t = t.with_columns(label=pl.col("scheme") + " · " + tier)
    base = alt.Chart(_values(t)).encode(y=alt.Y("label:N", sort=t["label"].to_list(), title=None))
    bars = base.mark_bar(color="#e76f51").encode(
        x=alt.X("expected:Q", title=f"expected to leave within {ec.k} months"),
        tooltip=["customers:Q", alt.Tooltip("expected:Q", format=".1f"),
                 alt.Tooltip("revenue_at_risk:Q", format=",.0f", title="monthly revenue at risk (yuan)")])
    err = base.mark_rule(color="#333").encode(x="model_lo:Q", x2="model_hi:Q")
    return (bars + err).properties(
        title=f"Near-drop customers {ec.as_of:%Y-%m}: expected churners ({ec.level:.0%} model interval)",
        width=380)


def discontinuity(effect: DropEffect) -> alt.LayerChart:
    """Churn per customer-month after re-rating vs score relative to the floor, with local fits."""
    b = effect.bins.filter(pl.col("exposure") > 0)
    colors = alt.Scale(domain=["below: drops", "above: keeps"], range=["#e76f51", "#2a9d8f"])
    pts = alt.Chart(_values(b)).mark_circle().encode(
        x=alt.X("x:Q", title="score vs floor of the held tier at re-rating", axis=alt.Axis(format="+%")),
        y=alt.Y("rate:Q", title=f"churn per customer-month (first {effect.window} months)",
                axis=alt.Axis(format="%")),
        size=alt.Size("exposure:Q", title="customer-months"), color=alt.Color("side:N", scale=colors),
        tooltip=["n:Q", "events:Q", alt.Tooltip("rate:Q", format=".2%")])
    lines = alt.Chart(_values(effect.curve)).mark_line(strokeWidth=3).encode(
        x="x:Q", y="rate:Q", color=alt.Color("side:N", scale=colors))
    rule = alt.Chart(_values(pl.DataFrame({"x": [0.0]}))).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    lo, hi = effect.ci
    return (pts + lines + rule).properties(
        title=f"Tier drop at the floor: hazard x{effect.hazard_ratio:.2f} ({effect.level:.0%} CI "
              f"{lo:.2f}-{hi:.2f}); lines: local fits within ±{effect.bandwidth:.0%}",
        width=420, height=280)
