"""China Unicom VIP 会员 (RULES.md §3.3): 6-month mean spend, thresholds by line."""

from __future__ import annotations

import polars as pl

from tierlib.engine import by_key, wmean, window_complete
from tierlib.params import Scheme


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    n = s.value("window_months")
    # fixed and broadband share the fixed-line row of the seed's table
    line = pl.when(pl.col("line") == "mobile").then(pl.lit("mobile")).otherwise(pl.lit("fixed"))
    return lf.with_columns(
        ok_account_type=pl.col("account_type").cast(pl.String).is_in(s.value("eligible_account_types")),
        c_spend=wmean("billed", n),  # null: no completed month to average
        window_complete=window_complete(n),
        _win_from=pl.col("_t") - n,
        *[by_key(s, "thresholds", line, t, ("mobile", "fixed")).alias(f"_thr{k}")
          for k, t in enumerate(s.tiers, 1)],
    ).with_columns(eligible=pl.col("ok_account_type"), score=pl.col("c_spend"))
