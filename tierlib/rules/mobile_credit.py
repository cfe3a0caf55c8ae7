"""China Mobile 客户信用等级 (RULES.md §3.6): brand + tenure + spend - suspensions."""

from __future__ import annotations

import polars as pl

from tierlib.engine import thresholds, window_complete, wmean, wsum
from tierlib.params import Scheme


def _steps(x: pl.Expr, bounds: list, points: list, *, upper_inclusive: bool) -> pl.Expr:
    """Points of the band x falls in: bands (.., b1], (b1, b2], ... or [b1, b2), ..."""
    out = pl.lit(float(points[0]))
    for b, p in zip(bounds, points[1:]):
        past = x > b if upper_inclusive else x >= b
        out = pl.when(past).then(pl.lit(float(p))).otherwise(out)
    return out


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    n, ns = s.value("window_months"), s.value("suspension_window_months")
    brands = ("gotone", "mzone", "easyown")
    brand = pl.lit(float(s.value("brand_points.default")))
    for b in brands:
        brand = pl.when(pl.col("brand") == b).then(pl.lit(float(s.value(f"brand_points.{b}")))).otherwise(brand)
    years = pl.col("tenure") / 12
    # the mean as a column: the band chain below reads it once per band
    lf = lf.with_columns(_spend_mean=wmean("billed", n).fill_null(0.0))
    return lf.with_columns(
        c_brand=brand,
        c_tenure=_steps(years, s.value("tenure_points.years"), [0] + s.value("tenure_points.points"),
                        upper_inclusive=False),
        # an empty window (no completed month) earns the lowest band
        c_spend=_steps(pl.col("_spend_mean"), s.value("spend_points.upper_bounds"),
                       s.value("spend_points.points"), upper_inclusive=True),
        c_suspensions=(wsum("suspensions", ns) * s.value("points_per_suspension")).cast(pl.Float64),
        window_complete=window_complete(max(n, ns)),
        _win_from=pl.col("_t") - n,
        eligible=pl.lit(True),
        *thresholds(s),
    ).with_columns(score=pl.col("c_brand") + pl.col("c_tenure") + pl.col("c_spend") + pl.col("c_suspensions"))
