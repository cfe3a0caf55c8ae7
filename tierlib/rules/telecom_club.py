"""China Telecom 天翼客户俱乐部 VIP (RULES.md §3.2): brand tables, yearly re-rating, arrears."""

from __future__ import annotations

import polars as pl

from tierlib.engine import by_key, prev, tier_from, window_complete, wsum
from tierlib.params import Scheme

BRANDS = ("ehome", "tianyi", "default")


def _arrears_streak() -> pl.Expr:
    """Consecutive months in arrears ending at m-1 (row minus the customer's last clear row).

    Rows are sorted by customer and month, so the last clear row is found with a forward fill
    over all rows, floored at the row before the customer's first (no grouping by customer).
    """
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    last_clear = pl.max_horizontal(pl.when(~pl.col("in_arrears")).then(row).forward_fill(),
                                   row - pl.col("_i") - 1)
    return prev(row - last_clear).fill_null(0).cast(pl.Int32)


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    n = s.value("window_months")
    K = len(s.tiers)
    ent = pl.col("segment") == "enterprise"
    high = pl.lit(s.value("regional.all_high")) | pl.col("province").is_in(
        s.value("regional.high_provinces")).fill_null(False)
    personal_thr = [pl.when(high).then(s.expr(f"high.{t}").cast(pl.Float64))
                    .otherwise(by_key(s, "thresholds", pl.col("brand"), t, BRANDS)) for t in s.tiers]
    rank_tier = pl.col("official_rank").cast(pl.String).replace_strict(
        {r: s.rank(s.value(f"enterprise.official_rank.{r}")) for r in ("bureau", "division", "section")},
        default=0, return_dtype=pl.Int8).fill_null(0)
    lf = lf.with_columns(
        c_spend=pl.when(~ent).then(wsum("billed", n)).otherwise(0.0),
        c_org_revenue=pl.when(ent).then(pl.col("org_revenue").fill_null(0.0)).otherwise(0.0),
        window_complete=pl.when(ent).then(True).otherwise(window_complete(n)),
        _win_from=pl.col("_t") - n,
        _streak=_arrears_streak(),
        *[pl.when(ent).then(s.expr(f"enterprise.org_revenue.{t}").cast(pl.Float64)).otherwise(thr).alias(f"_thr{k}")
          for k, (t, thr) in enumerate(zip(s.tiers, personal_thr), 1)],
    ).with_columns(
        eligible=pl.lit(True),
        score=pl.col("c_spend") + pl.col("c_org_revenue"),
        _rank_tier=pl.when(ent).then(rank_tier).otherwise(0),
    )
    limit = s.value("cancel_after_arrears_months")
    return lf.with_columns(
        _assessed=pl.max_horizontal(tier_from(pl.col("score"), K), pl.col("_rank_tier")).cast(pl.Int8),
        _cancel=pl.col("_streak") > limit,
        _frozen=pl.col("_streak") >= 1,
        _provisional=pl.col("plan_fee") >= s.value("provisional_plan_fee"),
    )
