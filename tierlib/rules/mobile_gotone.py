"""China Mobile 全球通 levels (RULES.md §3.5): yearly February rating + plan level."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from tierlib.engine import t_to_date, thresholds, tier_from, wsum_range
from tierlib.params import Param, Scheme


def _plan_level(s: Scheme) -> pl.Expr:
    """Rank of the plan level in force at m: the highest plan fee bracket the plan reaches."""
    out = pl.lit(0, dtype=pl.Int8)
    fees = sorted((p.split(".")[1] for p in s.params if p.startswith("plan_levels.")), key=float)
    ranks = {t: s.rank(t) for t in s.tiers}
    for fee in fees:
        # the dated tier names mapped to ranks once, not row by row
        p = s.p(f"plan_levels.{fee}")
        ranked = Param(p.path, tuple(replace(v, value=ranks.get(str(v.value), 0)) for v in p.history))
        level = ranked.expr().cast(pl.Int8)
        out = pl.when(pl.col("plan_fee") >= float(fee)).then(level.fill_null(0)).otherwise(out)
    return out


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    r = s.value("rating_month") - 1
    moy = pl.col("_t") % 12
    feb = pl.col("_t") - moy + r - pl.when(moy >= r).then(0).otherwise(12)  # latest February <= m
    lf = lf.with_columns(_feb=feb).with_columns(_cycle_year=pl.col("_feb") // 12)
    # spend of calendar year Y = cycle year - 1: the customer's rows t - 12Y .. t - (12Y + 11)
    # months (= rows) back, all before the February that opens the cycle
    jan_y = (pl.col("_cycle_year") - 1) * 12
    lf = lf.with_columns(_spend_year=wsum_range("billed", pl.col("_t") - jan_y, pl.col("_t") - jan_y - 11))
    ten_feb = pl.col("_feb") - pl.col("_tj")
    tp = pl.lit(0.0)
    for months, pts in zip(s.value("tenure_points.months"), s.value("tenure_points.points")):
        tp = pl.when(ten_feb >= months).then(pl.lit(float(pts))).otherwise(tp)
    jan_prev = (pl.col("_cycle_year") - 1) * 12
    K = len(s.tiers)
    lf = lf.with_columns(
        ok_account_type=~pl.col("account_type").cast(pl.String).is_in(s.value("excluded_account_types")),
        c_spend=pl.col("_spend_year").fill_null(0.0),
        c_tenure=tp,
        window_complete=pl.max_horizontal(jan_prev, pl.col("_tj")) >= pl.col("_t0"),
        _win_from=jan_prev, _win_to=jan_prev + 11,
        _floor=_plan_level(s),
        *thresholds(s),
    ).with_columns(eligible=pl.col("ok_account_type"), score=pl.col("c_spend") + pl.col("c_tenure"))
    assessed = pl.when(ten_feb >= s.value("min_tenure_months")).then(tier_from(pl.col("score"), K)).otherwise(0)
    lf = lf.with_columns(_assessed=assessed.cast(pl.Int8))
    # the yearly level is valid to the January closing its cycle; a plan level has no end date
    yearly_holds = pl.col("eligible") & (pl.col("_assessed") > 0) & (pl.col("_assessed") >= pl.col("_floor"))
    return lf.with_columns(valid_until=pl.when(yearly_holds).then(t_to_date(pl.col("_feb") + 11)))

