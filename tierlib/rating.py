"""``rate``: panel -> ledger, for one scheme or several (long format)."""

from __future__ import annotations

from typing import Iterable, Iterator

import polars as pl

from tierlib import engine
from tierlib.panel import validate
from tierlib.params import Scheme, load_scheme

__all__ = ["rate", "resolve", "rate_validated", "rate_based", "rate_many"]

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
    return rate_based(engine.base(lf), s, keep_internals=keep_internals)


def rate_based(based: pl.LazyFrame, s: Scheme, *, keep_internals: bool = False) -> pl.LazyFrame:
    """Rate a validated panel that already carries :func:`engine.base`'s columns.

    The validated, based frame is the same for every scheme: computing it once and rating
    several schemes on it is the internal path of ``rate(panel, [many])``.
    """
    return engine.finish(s.module.prepare(based, s), s, keep_internals=keep_internals)


def rate_many(valid: pl.DataFrame, schemes: list[Scheme]) -> Iterator[pl.DataFrame]:
    """Ledgers of a validated eager panel, one scheme at a time, on one shared based frame."""
    based = engine.base(valid.lazy())
    if len(schemes) > 1:
        based = based.collect().lazy()
    for s in schemes:
        yield rate_based(based, s).collect()


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
    schemes = resolve(scheme)
    if isinstance(panel, pl.LazyFrame):
        based = engine.base(validate(panel))
        frames = [rate_based(based, s) for s in schemes]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    frames = list(rate_many(validate(panel), schemes))
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
