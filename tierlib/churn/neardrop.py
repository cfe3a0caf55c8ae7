"""Who is close to dropping a tier (issue #5, item 1), read from a ledger alone."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tierlib.churn._common import lazy, like, need, t_of
from tierlib.months import as_month

__all__ = ["near_drop", "drop_columns"]


def drop_columns(*, horizon: int = 3, margin: float = 0.10) -> list[pl.Expr]:
    """Expressions adding ``gap``, ``months_to_expiry``, ``expiring``, ``near_floor``.

    They read the ledger's ``floor`` (the score threshold of the tier in effect,
    docs/CONTRACT.md), ``to_keep``, ``rank``, ``month`` and ``valid_until``.

    - ``gap``: ``to_keep / floor``, the score's distance to the floor relative to the floor
      (negative: below the floor, held up only by validity); null without a tier or floor.
    - ``months_to_expiry``: months from ``month`` to ``valid_until`` (0: validity ends this
      month, the re-rating that can drop the tier runs next month); null without validity.
    - ``expiring``: the tier is held up only by validity (``to_keep < 0``, i.e. the score alone
      earns less) and the validity ends within ``horizon`` months (``months_to_expiry <
      horizon``), so the re-rating that drops it falls in months m+1 .. m+horizon.
    - ``near_floor``: the score meets the floor by at most ``margin`` of the floor
      (``0 <= gap <= margin``).

    >>> led = pl.DataFrame({"month": [dt.date(2024, 5, 1)], "valid_until": [dt.date(2024, 6, 1)],
    ...                     "rank": [2], "floor": [300.0], "to_keep": [-20.0]})
    >>> led.select(drop_columns()).row(0)
    (-0.06666666666666667, 1, True, False)
    """
    floor = pl.col("floor")
    tier_held = (pl.col("rank") > 0) & pl.col("to_keep").is_not_null()
    mte = t_of("valid_until") - t_of("month")
    return [
        pl.when(tier_held & (floor > 0)).then(pl.col("to_keep") / floor).alias("gap"),
        mte.alias("months_to_expiry"),
        (tier_held & (pl.col("to_keep") < 0) & mte.is_between(0, horizon - 1)).fill_null(False)
        .alias("expiring"),
        (tier_held & (floor > 0) & (pl.col("to_keep") >= 0) & (pl.col("to_keep") <= margin * floor))
        .fill_null(False).alias("near_floor"),
    ]


def near_drop(ledger: pl.DataFrame | pl.LazyFrame, *, horizon: int = 3, margin: float = 0.10,
              as_of=None) -> pl.DataFrame | pl.LazyFrame:
    """Customers close to dropping a tier, with months to expiry and the gap to the floor.

    A ledger row is *near drop* when it is ``expiring`` (tier held up only by validity, which
    ends within ``horizon`` months) or ``near_floor`` (score within ``margin`` of the tier's
    floor); see :func:`drop_columns` for the exact definitions. Schemes without validity
    (``mobile_credit``) can only be ``near_floor``; ``unicom_ladder`` never drops a tier, so
    its rows with a negative ``to_keep`` are never ``expiring``.

    Parameters
    ----------
    ledger : DataFrame or LazyFrame
        Output of :func:`tierlib.rate` (one or several schemes).
    horizon : int
        Months ahead in which the validity must end.
    margin : float
        Largest ``to_keep / floor`` still called near the floor (0.10 = 10 %).
    as_of : month, optional
        Keep only this ledger month, any form :func:`tierlib.months.as_month` reads
        (``"2024-12"``, ``"2024-12-01"``, ``202412``, a date; default: every month).

    Returns
    -------
    The near-drop rows: ``customer_id, month, scheme, tier, rank, score, floor, to_keep,
    gap, valid_until, months_to_expiry, expiring, near_floor, reason`` (``reason`` is
    ``expiring``, ``near_floor``), sorted by scheme, month and gap. Same kind of frame as
    ``ledger``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> import tierlib
    >>> months = [dt.date(2024, m, 1) for m in range(1, 13)] + [dt.date(2025, 1, 1)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": dt.date(2024, 1, 1),
    ...                   "billed": [300.0] * 3 + [100.0] * 10})
    >>> led = tierlib.rate(p, "unicom_vip")
    >>> nd = near_drop(led, as_of="2024-12")
    >>> nd.select("tier", "gap", "months_to_expiry", "reason").row(0)
    ('gold', -0.6666666666666666, 1, 'expiring')
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1 month, got {horizon}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    need(ledger, ["customer_id", "month", "scheme", "score", "tier", "rank", "floor", "valid_until",
                  "to_keep"], "ledger")
    lf = lazy(ledger)
    if as_of is not None:
        lf = lf.filter(pl.col("month") == as_month(as_of))
    out = (lf.with_columns(drop_columns(horizon=horizon, margin=margin))
           .filter(pl.col("expiring") | pl.col("near_floor"))
           .with_columns(reason=pl.when(pl.col("expiring")).then(pl.lit("expiring"))
                         .otherwise(pl.lit("near_floor")))
           .select("customer_id", "month", "scheme", "tier", "rank", "score", "floor", "to_keep",
                   "gap", "valid_until", "months_to_expiry", "expiring", "near_floor", "reason")
           .sort("scheme", "month", "gap", "customer_id"))
    return like(out, ledger)
