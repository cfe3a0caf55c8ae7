"""China Unicom 星级客户升级规则 (RULES.md §3.4): cumulative and monthly payments, no drop."""

from __future__ import annotations

import polars as pl

from tierlib.engine import first_of, prev, wsum
from tierlib.params import Scheme


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    names = lf.collect_schema().names()
    before = first_of(pl.col("paid_before")).fill_null(0.0) if "paid_before" in names else pl.lit(0.0)
    truncated = pl.col("_tj") < pl.col("_t0")
    # a left-truncated panel cannot know C unless paid_before is given; M is unknown in its first row
    complete = ~truncated
    if "paid_before" in names:
        complete = complete | (first_of(pl.col("paid_before")).is_not_null() & (pl.col("_i") > 0))
    lf = lf.with_columns(
        ok_account_type=pl.col("account_type").cast(pl.String).is_in(s.value("eligible_account_types")),
        c_cumulative_paid=wsum("paid", None) + before,
        c_monthly_paid=prev(pl.col("paid")).fill_null(0.0),
        window_complete=complete,
        *[s.expr(f"thresholds.{t}.cumulative").cast(pl.Float64).alias(f"_thr{k}") for k, t in enumerate(s.tiers, 1)],
        *[s.expr(f"thresholds.{t}.monthly").cast(pl.Float64).alias(f"_mthr{k}") for k, t in enumerate(s.tiers, 1)],
    ).with_columns(eligible=pl.col("ok_account_type"), score=pl.col("c_cumulative_paid"))
    assessed = pl.lit(0, dtype=pl.Int8)
    for k in range(1, len(s.tiers) + 1):
        met = (pl.col("score") >= pl.col(f"_thr{k}")) & (pl.col("c_monthly_paid") >= pl.col(f"_mthr{k}"))
        assessed = pl.when(met).then(pl.lit(k, dtype=pl.Int8)).otherwise(assessed)
    return lf.with_columns(_assessed=assessed)
