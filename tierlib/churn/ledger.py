"""Rate each scheme on its own carrier's customers (a panel may hold several carriers)."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

import tierlib
from tierlib.params import Scheme

__all__ = ["rate_own_carrier"]


def rate_own_carrier(panel: pl.DataFrame | pl.LazyFrame, schemes: str | Scheme | Iterable[str | Scheme]) -> pl.DataFrame:
    """The ledger of each scheme over the customers of the scheme's carrier, stacked.

    A China Telecom scheme rates nobody from China Unicom: when the panel has a ``carrier``
    column, each scheme sees only the rows whose ``carrier`` equals the scheme's; without it,
    every scheme rates every customer (a one-carrier panel). Returns a DataFrame.

    Examples
    --------
    >>> import datetime as dt
    >>> p = pl.DataFrame({"customer_id": [1, 2], "month": dt.date(2024, 1, 1),
    ...                   "join_month": dt.date(2024, 1, 1), "billed": 10.0,
    ...                   "carrier": ["telecom", "unicom"]})
    >>> led = rate_own_carrier(p, ["telecom_star", "unicom_vip"])
    >>> led.select("customer_id", pl.col("scheme").cast(pl.String)).rows()
    [(1, 'telecom_star'), (2, 'unicom_vip')]
    """
    led = tierlib.rate(panel.collect() if isinstance(panel, pl.LazyFrame) else panel, schemes, own_carrier=True)
    if not led.height:
        raise ValueError("no customer of the schemes' carriers in the panel")
    return led
