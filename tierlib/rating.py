"""``rate``: panel -> ledger, for one scheme or several (long format)."""

from __future__ import annotations

from typing import Iterable

import polars as pl

from tierlib import engine
from tierlib.panel import validate
from tierlib.params import Scheme, load_scheme

__all__ = ["rate", "resolve"]

SchemeLike = str | Scheme


def resolve(scheme: SchemeLike | Iterable[SchemeLike]) -> list[Scheme]:
    """Scheme ids, ``"all"``, Scheme objects or a list of them -> list of Scheme."""
    from tierlib.params import schemes

    given = [scheme] if isinstance(scheme, (str, Scheme)) else list(scheme)
    items: list[SchemeLike] = []
    for x in given:
        items += schemes() if isinstance(x, str) and x == "all" else [x]
    if not items:
        raise ValueError("no scheme given")
    return [load_scheme(s) for s in items]


def rate_validated(lf: pl.LazyFrame, s: Scheme, *, keep_internals: bool = False) -> pl.LazyFrame:
    """Rate a panel that already passed :func:`validate` (lazy in, lazy out)."""
    lf = s.module.prepare(engine.base(lf), s)
    return engine.finish(lf, s, keep_internals=keep_internals)


def rate(panel: pl.DataFrame | pl.LazyFrame, scheme: SchemeLike | Iterable[SchemeLike]
         ) -> pl.DataFrame | pl.LazyFrame:
    """Rate every customer-month of a panel under one or several schemes.

    Parameters
    ----------
    panel : DataFrame or LazyFrame following RULES.md §1 (validated first; see ``validate``).
    scheme : a scheme id (``"unicom_vip"``, ``"telecom_club:high"``), ``"all"``, a Scheme
        (e.g. a reform), or a list of these.

    Returns
    -------
    The ledger (docs/CONTRACT.md), one row per panel row and scheme, sorted by customer and
    month within each scheme; the same kind of frame as ``panel``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months,
    ...                   "join_month": dt.date(2024, 1, 1), "billed": 150.0})
    >>> rate(p, "unicom_vip").select("month", "tier", "valid_until").tail(2)
    shape: (2, 3)
    ┌────────────┬────────┬─────────────┐
    │ month      ┆ tier   ┆ valid_until │
    │ ---        ┆ ---    ┆ ---         │
    │ date       ┆ cat    ┆ date        │
    ╞════════════╪════════╪═════════════╡
    │ 2024-07-01 ┆ silver ┆ 2025-01-01  │
    │ 2024-08-01 ┆ silver ┆ 2025-01-01  │
    └────────────┴────────┴─────────────┘
    """
    lazy = isinstance(panel, pl.LazyFrame)
    schemes = resolve(scheme)
    valid = validate(panel.lazy() if not lazy else panel)
    frames = [rate_validated(valid, s) for s in schemes]
    out = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    return out if lazy else out.collect()
