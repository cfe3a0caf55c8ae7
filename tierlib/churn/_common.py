"""Small polars helpers shared by the churn modules (month index, per-customer keys)."""

from __future__ import annotations

import datetime as dt

import polars as pl

#: Rows of one customer under one scheme: ledgers may hold several schemes.
KEY = ["scheme", "customer_id"]


def t_of(col: str | pl.Expr) -> pl.Expr:
    """Month index ``year * 12 + month - 1`` (docs/CONTRACT.md), so differences are months."""
    d = pl.col(col) if isinstance(col, str) else col
    return d.dt.year().cast(pl.Int32) * 12 + d.dt.month().cast(pl.Int32) - 1


def month_of(t: int) -> dt.date:
    """The 1st of the month of a month index."""
    return dt.date(int(t) // 12, int(t) % 12 + 1, 1)


def lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def like(out: pl.LazyFrame, frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Return ``out`` as the same kind of frame as the input ``frame``."""
    return out if isinstance(frame, pl.LazyFrame) else out.collect()


def need(frame: pl.DataFrame | pl.LazyFrame, cols: list[str], what: str) -> None:
    """Raise a ValueError naming the missing columns of ``what``."""
    have = set(frame.collect_schema().names())
    missing = [c for c in cols if c not in have]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}")


def as_month(x, *, name: str = "as_of") -> dt.date:
    """Interim month parser until ``tierlib.months.as_month`` (core-foundation) is merged."""
    if isinstance(x, dt.datetime):
        x = x.date()
    if isinstance(x, dt.date):
        d = x
    else:
        try:
            d = dt.date.fromisoformat(x if len(str(x)) > 7 else f"{x}-01")
        except (TypeError, ValueError):
            raise ValueError(f"{name}: cannot read {x!r} as a month") from None
    if d.day != 1:
        raise ValueError(f"{name}: {x!r} is not the 1st of a month")
    return d
