"""Churn features and the k-month target, built from a panel and its ledger in polars.

The *as-of* month m is the moment of the rating run at the start of m (RULES.md §1): the
analyst sees the ledger row of m and the panel's completed months < m. Every feature uses
exactly that; the target is "the customer leaves in months m .. m+k-1" (``churned`` on one of
those rows), so a row whose window reaches past the data is *not observed* and never trains.
"""

from __future__ import annotations

import polars as pl

from tierlib.churn._common import KEY, lazy, like, need, t_of
from tierlib.churn.neardrop import drop_columns
from tierlib.panel import ACCOUNT_TYPES, SEGMENTS
from tierlib.revenue import REVENUE

__all__ = ["FEATURES", "churn_features"]

#: Model inputs, in order (NaN where undefined; gradient boosting handles it natively).
FEATURES = [
    "spend_1", "spend_3", "spend_12", "trend", "tenure", "rank", "gap", "months_to_expiry",
    "held_by_validity", "to_next_rel", "arrears_1", "arrears_6", "suspensions_12",
    "dropped_now", "months_since_drop", "account_type_code", "enterprise", "window_complete",
    "month_of_year", "drop_months_ahead",
]


def _lag_mean(col: str, start: int, n: int) -> pl.Expr:
    """Mean of ``col`` over months m-start-n+1 .. m-start (those the customer has)."""
    return pl.col(col).shift(start).rolling_mean(n, min_samples=1).over(KEY)


def _months_since_drop() -> pl.Expr:
    """Months since the latest drop in ``rank`` up to and including m (null: none seen)."""
    return pl.col("_t") - pl.when(pl.col("dropped_now")).then(pl.col("_t")).forward_fill().over(KEY)


def churn_features(panel: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame | pl.LazyFrame, *,
                   k: int = 3, horizon: int = 3, margin: float = 0.10) -> pl.DataFrame | pl.LazyFrame:
    """One row per ledger row: the features in :data:`FEATURES`, revenue and the target.

    Parameters
    ----------
    panel : DataFrame or LazyFrame
        The panel that was rated (validated: contiguous months per customer), with ``churned``.
    ledger : DataFrame or LazyFrame
        ``tierlib.rate(panel, scheme)``; several schemes are handled one by one.
    k : int
        Target window: leaves within months m .. m+k-1.
    horizon, margin : int, float
        Passed to :func:`tierlib.churn.near_drop` for the ``expiring`` / ``near_floor`` flags.

    Returns
    -------
    ``customer_id, month, scheme, tier, rank, score, floor, to_keep, gap, valid_until,
    months_to_expiry, expiring, near_floor`` + :data:`FEATURES` + ``revenue`` (the package's
    definition, :data:`tierlib.revenue.REVENUE`: billed over the 12 months up to the row's month),
    ``rerated`` (the ledger's flag: this month re-rates a tier whose holding ended), ``y``
    (leaves within k months), ``observed`` (the k-month window lies inside the data: ends by the
    panel's last month, or by the customer's last row for a customer who vanishes without
    ``churned``), ``t`` (month index). Same kind of frame as ``panel``.

    Examples
    --------
    >>> import polars as pl, datetime as dt, tierlib
    >>> months = [dt.date(2024, m, 1) for m in range(1, 7)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": dt.date(2024, 1, 1),
    ...                   "billed": 200.0, "churned": [False] * 5 + [True]})
    >>> f = churn_features(p, tierlib.rate(p, "unicom_vip"), k=3)
    >>> f.select("month", "spend_3", "tenure", "y", "observed").tail(4).rows()[:2]
    [(datetime.date(2024, 3, 1), 200.0, 2, False, True), (datetime.date(2024, 4, 1), 200.0, 3, True, True)]
    """
    if k < 1:
        raise ValueError(f"k must be >= 1 month, got {k}")
    need(panel, ["customer_id", "month", "join_month", "billed"], "panel")
    need(ledger, ["customer_id", "month", "scheme", "score", "tier", "rank", "floor", "valid_until",
                  "rerated", "to_keep", "to_next", "window_complete"], "ledger")
    pan = lazy(panel)
    names = pan.collect_schema().names()
    defaults = {"churned": False, "in_arrears": False, "suspensions": 0, "plan_fee": 0.0,
                "account_type": "standard", "segment": "personal"}
    pan = pan.with_columns(pl.lit(v).alias(c) for c, v in defaults.items() if c not in names)
    pan = pan.select("customer_id", "month", "join_month", "billed", "plan_fee", "churned",
                     "in_arrears", "suspensions", pl.col("account_type").cast(pl.String),
                     pl.col("segment").cast(pl.String))
    last_panel = pan.select(t_of(pl.col("month").max()).alias("_M"))
    led = lazy(ledger)
    led = led.select("customer_id", "month", "scheme", "score", "tier", "rank", "floor", "valid_until",
                     "to_keep", "to_next", "window_complete", "rerated")
    lf = (led.join(pan, on=["customer_id", "month"], how="left")
          .join(last_panel, how="cross")
          .sort(*KEY, "month")
          .with_columns(_t=t_of("month"), _tj=t_of("join_month"),
                        _arr=pl.col("in_arrears").cast(pl.Float64),
                        _sus=pl.col("suspensions").cast(pl.Float64))
          .with_columns(drop_columns(horizon=horizon, margin=margin))
          .with_columns(dropped_now=(pl.col("rank") < pl.col("rank").shift(1).over(KEY)).fill_null(False))
          .with_columns(months_since_drop=_months_since_drop()))
    churn_t = pl.when(pl.col("churned")).then(pl.col("_t")).max().over(KEY)
    # a customer who leaves is watched to the panel's end; one who vanishes only to his last row
    seen_to = pl.when(churn_t.is_not_null()).then(pl.col("_M")).otherwise(pl.col("_t").max().over(KEY))
    spend_3, prior_3 = _lag_mean("billed", 1, 3), _lag_mean("billed", 4, 3)
    lf = lf.with_columns(
        spend_1=pl.col("billed").shift(1).over(KEY),
        spend_3=spend_3,
        spend_12=_lag_mean("billed", 1, 12),
        trend=pl.when(pl.col("billed").shift(6).is_not_null().over(KEY))
        .then(((spend_3 + 1) / (prior_3 + 1)).log()),
        tenure=pl.col("_t") - pl.col("_tj"),
        held_by_validity=((pl.col("to_keep") < 0) & pl.col("valid_until").is_not_null()).fill_null(False),
        to_next_rel=pl.when(pl.col("score").abs() > 0).then(pl.col("to_next") / pl.col("score").abs()),
        arrears_1=pl.col("_arr").shift(1).over(KEY),
        arrears_6=pl.col("_arr").shift(1).rolling_sum(6, min_samples=1).over(KEY),
        suspensions_12=pl.col("_sus").shift(1).rolling_sum(12, min_samples=1).over(KEY),
        account_type_code=pl.col("account_type").replace_strict(
            {a: i for i, a in enumerate(ACCOUNT_TYPES)}, default=None, return_dtype=pl.Int8),
        enterprise=pl.col("segment") == SEGMENTS[1],
        month_of_year=pl.col("month").dt.month(),
        # months of the target window after the re-rating that drops a tier held only by validity
        drop_months_ahead=pl.when((pl.col("to_keep") < 0) & pl.col("months_to_expiry").is_not_null())
        .then((k - 1 - pl.col("months_to_expiry")).clip(0, k)).otherwise(0),
        revenue=REVENUE.expr(by=KEY),  # the package's one definition (tierlib.revenue)
        y=(churn_t - pl.col("_t")).is_between(0, k - 1).fill_null(False),
        observed=pl.col("_t") + k - 1 <= seen_to,
        t=pl.col("_t"),
    )
    out = lf.select("customer_id", "month", "scheme", "tier", "rank", "score", "floor", "to_keep",
                    "gap", "valid_until", "months_to_expiry", "expiring", "near_floor",
                    *[c for c in FEATURES if c not in ("rank", "gap", "months_to_expiry")],
                    "revenue", "rerated", "y", "observed", "t")
    return like(out, panel)


def feature_matrix(features: pl.DataFrame):
    """The :data:`FEATURES` columns as a float numpy matrix (null -> NaN)."""
    return features.select(pl.col(c).cast(pl.Float64) for c in FEATURES).to_numpy()
