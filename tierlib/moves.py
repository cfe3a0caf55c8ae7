"""Tables over time from a ledger: tier moves month by month, and each tier's share by month.

Part of :mod:`tierlib.compare` (which re-exports both); they read the ledger's own columns
(``rank``, ``assessed_rank``, docs/CONTRACT.md) and labels from :func:`tierlib.ledger.ladders`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from tierlib.ledger import Ledgers, SchemesArg, _as_of, _strings, ladders, ledger_frame

__all__ = ["stability", "tier_shares"]


def stability(ledger: Ledgers, *, as_of: dt.date | str | None = None, schemes: SchemesArg = None) -> pl.DataFrame:
    """Monthly tier moves per scheme up to ``as_of``, and tiers held up by a holding rule.

    For each month *m* after a customer's first ledger month: ``upgrade_rate`` and
    ``downgrade_rate`` are the shares of customers whose rank rose / fell from *m-1* to *m*.
    ``held_share`` is the share of customers in network at *m* whose tier is above the tier
    their score earns (the ledger's ``assessed_rank < rank``): held by validity, the re-rating
    cycle, the ladder (no drop) or a plan level. ``held_of_members`` is the same among members
    (rank > 0). ``schemes`` is accepted for symmetry with the other tables and not needed.

    >>> import datetime as dt
    >>> m = [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    >>> l = pl.DataFrame({"customer_id": [1, 1], "month": m, "scheme": "unicom_vip",
    ...                   "tier": ["silver", "silver"], "rank": [1, 1], "assessed_rank": [1, 0]})
    >>> stability(l).select("month", "customers", "upgrade_rate", "held_share").rows()
    [(datetime.date(2024, 2, 1), 1, 0.0, 1.0)]
    """
    ledger = ledger_frame(ledger)
    missing = [c for c in ("customer_id", "month", "rank", "assessed_rank") if c not in ledger.columns]
    if missing:
        raise ValueError(f"stability: the ledger lacks column(s) {', '.join(missing)} (docs/CONTRACT.md)")
    d = _as_of(ledger, as_of)
    # rate() returns each scheme's rows sorted by customer and month: compare with the row above
    # (a window over scheme and customer costs 25x more); sort only when the input is not sorted
    s_same = pl.col("scheme") == pl.col("scheme").shift(1)
    cid, prev_cid = pl.col("customer_id"), pl.col("customer_id").shift(1)
    unsorted = s_same & ((cid < prev_cid) | ((cid == prev_cid) & (pl.col("month") <= pl.col("month").shift(1))))
    check = ledger.select(bad=unsorted.any(), runs=(~s_same).fill_null(True).sum(), n=pl.col("scheme").n_unique())
    if check["bad"].item() or check["runs"].item() != check["n"].item():
        ledger = ledger.sort("scheme", "customer_id", "month")
    same = s_same & (cid == prev_cid)
    prev = pl.when(same).then(pl.col("rank").shift(1))
    held = pl.col("assessed_rank") < pl.col("rank")  # the ledger's rank of `assessed`
    out = (ledger.lazy().with_columns(prev=prev, held=held)
           .filter(pl.col("prev").is_not_null() & (pl.col("month") <= d))
           .group_by("scheme", "month")
           .agg(customers=pl.len().cast(pl.Int64),
                upgrades=(pl.col("rank") > pl.col("prev")).sum().cast(pl.Int64),
                downgrades=(pl.col("rank") < pl.col("prev")).sum().cast(pl.Int64),
                members=(pl.col("rank") > 0).sum().cast(pl.Int64),
                held=pl.col("held").sum().cast(pl.Int64))
           .with_columns(upgrade_rate=pl.col("upgrades") / pl.col("customers"),
                         downgrade_rate=pl.col("downgrades") / pl.col("customers"),
                         held_share=pl.col("held") / pl.col("customers"),
                         held_of_members=(pl.col("held") / pl.col("members")).fill_nan(None))
           .collect())
    return _strings(out).sort("scheme", "month")


def tier_shares(ledger: Ledgers, scheme: str, *, schemes: SchemesArg = None) -> pl.DataFrame:
    """Each tier's share of the customers of one scheme, month by month (every tier, zero-filled).

    Columns: ``scheme, month, tier, rank, tier_label, customers, share``; the chart is
    :func:`tierlib.plots.tier_shares_over_time`.

    >>> l = pl.DataFrame({"customer_id": [1, 2], "month": dt.date(2024, 1, 1), "scheme": "unicom_vip",
    ...                   "tier": ["none", "gold"], "rank": [0, 2]})
    >>> tier_shares(l, "unicom_vip").select("tier_label", "share").rows()
    [('none 非会员', 0.5), ('silver 银卡', 0.0), ('gold 金卡', 0.5), ('diamond 钻石卡', 0.0)]
    """
    led = ledger_frame(ledger)
    led = led.filter(pl.col("scheme").cast(pl.String) == scheme)
    if led.height == 0:
        raise ValueError(f"tier_shares: no ledger rows of scheme '{scheme}'")
    lad = ladders(led, schemes).select("scheme", "tier", "rank", "tier_label")
    counts = _strings(led.group_by("month", "tier").agg(customers=pl.len().cast(pl.Int64)))
    months = led.select(pl.col("month").unique().sort())
    out = (months.join(lad, how="cross").join(counts, on=["month", "tier"], how="left", maintain_order="left")
           .with_columns(pl.col("customers").fill_null(0)))
    return out.with_columns(share=pl.col("customers") / pl.col("customers").sum().over("month")).select(
        "scheme", "month", "tier", "rank", "tier_label", "customers", "share").sort("month", "rank")
