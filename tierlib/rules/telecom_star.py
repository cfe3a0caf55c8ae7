"""China Telecom 星级服务 (RULES.md §3.1): growth value over 12 months, validity policy."""

from __future__ import annotations

import polars as pl

from tierlib.engine import NO_UNTIL, date_to_t, first_of, thresholds, tier_from, window_complete, wsum
from tierlib.params import Scheme


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    n = s.value("window_months")
    e = "eligibility."
    names = lf.collect_schema().names()
    lf = lf.with_columns(
        ok_segment=pl.col("segment").cast(pl.String).is_in(s.value(e + "segments")),
        ok_products=(pl.col("n_mobile") <= s.value(e + "max_mobile"))
        & (pl.col("n_fixed") <= s.value(e + "max_fixed"))
        & (pl.col("n_broadband") <= s.value(e + "max_broadband"))
        & (pl.col("n_itv") <= s.value(e + "max_itv")),
        c_spend=wsum("billed", n) * s.value("points_per_yuan"),
        c_tenure=pl.when(pl.col("n_mobile") > 0)
        .then(pl.col("tenure") * s.value("points_per_tenure_month")).otherwise(0).cast(pl.Float64),
        c_suspensions=(wsum("suspensions", n) * s.value("points_per_suspension")).cast(pl.Float64),
        window_complete=window_complete(n),
        _win_from=pl.col("_t") - n,
        *thresholds(s),
    ).with_columns(
        eligible=pl.col("ok_segment") & pl.col("ok_products"),
        score=pl.col("c_spend") + pl.col("c_tenure") + pl.col("c_suspensions"),
    )
    assessed = tier_from(pl.col("score"), len(s.tiers))
    if s.value("top_star_grant.required"):
        cap = s.rank(s.value("top_star_grant.from_star")) - 1
        granted = pl.col("provincial_grant").fill_null(False) if "provincial_grant" in names else pl.lit(False)
        assessed = pl.when(granted).then(assessed).otherwise(pl.min_horizontal(assessed, cap))
    lf = lf.with_columns(_assessed=assessed)
    if "legacy_club_tier" in names:
        # unexpired club members keep a corresponding star until the card's validity ends [seed 000]
        star = pl.col("legacy_club_tier").cast(pl.String).replace_strict(
            {c: s.rank(s.value(f"migration.{c}")) for c in ("silver", "gold", "diamond")}, default=0)
        until = date_to_t(pl.col("legacy_club_until")) if "legacy_club_until" in names else pl.lit(NO_UNTIL)
        lf = lf.with_columns(_init_rank=first_of(star.fill_null(0)),
                             _init_until=first_of(until.fill_null(NO_UNTIL)))
    return lf
