"""The month: one parser and one month index for the whole package.

A panel row describes a calendar month (its 1st, RULES.md §1), and so does every analysis: the
month it describes is called ``as_of`` in every function, command-line flag (``--as-of``) and
notebook parameter. :func:`as_month` reads it from what an analyst types; :func:`month_index`
and :func:`index_expr` number months (``year * 12 + month - 1``, so January is 0 mod 12).
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

__all__ = ["as_month", "maybe_month", "month_index", "from_index", "month_of_index", "index_expr", "date_expr", "per_day"]

_FORMS = "YYYY-MM, YYYY-MM-01, YYYYMM, or a date on the 1st"
_YM = re.compile(r"(\d{4})-(\d{2})")
_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})")


def _fail(name: str, x: object, why: str = "") -> ValueError:
    return ValueError(f"{name}: {x!r} is not a month ({why or 'give ' + _FORMS})")


def as_month(x: object, *, name: str = "as_of") -> dt.date:
    """The 1st of the month ``x`` names.

    Accepts ``"2025-03"``, ``"2025-03-01"``, ``"202503"`` or ``202503``, a date on the 1st, and a
    datetime at midnight on the 1st. Anything else, including a date inside a month (which
    month-end convention did it follow?), is a ``ValueError`` naming ``name`` and the value.

    >>> as_month("2025-03"), as_month(202503), as_month("2025-03-01")
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 1), datetime.date(2025, 3, 1))
    >>> as_month("2025-03-15")
    Traceback (most recent call last):
    ...
    ValueError: as_of: '2025-03-15' is not a month (a date inside a month; give YYYY-MM or the 1st)
    >>> as_month("03/2025", name="--as-of")
    Traceback (most recent call last):
    ...
    ValueError: --as-of: '03/2025' is not a month (give YYYY-MM, YYYY-MM-01, YYYYMM, or a date on the 1st)
    """
    if isinstance(x, dt.datetime):
        if x.time() != dt.time(0):
            raise _fail(name, x, "a time of day; give the month")
        x = x.date()
    if isinstance(x, dt.date):
        if x.day != 1:
            raise _fail(name, x, "a date inside a month; give YYYY-MM or the 1st")
        return x
    if isinstance(x, bool) or not isinstance(x, (str, int)):
        raise _fail(name, x)
    text = str(x).strip()
    for pattern in (_YMD, _YM, _COMPACT):
        m = pattern.fullmatch(text)
        if m is None:
            continue
        year, month = int(m.group(1)), int(m.group(2))
        day = int(m.group(3)) if pattern is _YMD else 1
        try:
            d = dt.date(year, month, day)
        except ValueError:
            raise _fail(name, x, "no such date") from None
        if day != 1:
            raise _fail(name, x, "a date inside a month; give YYYY-MM or the 1st")
        return d
    raise _fail(name, x)


def maybe_month(x: object, *, name: str = "as_of") -> dt.date | None:
    """:func:`as_month`, with None passed through (an optional ``as_of``).

    >>> maybe_month(None) is None, maybe_month("2024-12")
    (True, datetime.date(2024, 12, 1))
    """
    return None if x is None else as_month(x, name=name)


def month_index(d: dt.date) -> int:
    """``year * 12 + month - 1``.

    >>> month_index(dt.date(2025, 1, 1)) % 12, from_index(month_index(dt.date(2025, 3, 1)))
    (0, datetime.date(2025, 3, 1))
    """
    return d.year * 12 + d.month - 1


def from_index(t: int) -> dt.date:
    """The 1st of month index ``t``."""
    return dt.date(int(t) // 12, int(t) % 12 + 1, 1)


month_of_index = from_index  # the same function under the name the engine's first users took


def per_day(d: pl.Expr, f) -> pl.Expr:
    """``f`` of a Date expression, computed once per day of the column's range and gathered.

    A panel's dates are a few hundred distinct days: calendar arithmetic (``dt.year``,
    ``dt.month``, ``dt.day``) on every row costs several times the gather.
    """
    days = d.cast(pl.Int32)
    lo = days.min().fill_null(0)
    table = f(pl.int_range(lo, days.max().fill_null(-1) + 1, dtype=pl.Int32).cast(pl.Date))
    return table.gather((days - lo).cast(pl.UInt32))


def index_expr(d: pl.Expr) -> pl.Expr:
    """Month index of a Date expression (Int32)."""
    return per_day(d, lambda x: x.dt.year().cast(pl.Int32) * 12 + x.dt.month().cast(pl.Int32) - 1)


def date_expr(t: pl.Expr) -> pl.Expr:
    """The 1st of month index ``t`` as a Date; null outside years 0 .. 9999.

    Dates are built once per distinct month in the column's range and gathered: building a
    date on every row costs ten times more. Out-of-range indexes (the holding scan's
    sentinels) become null instead of widening the table.
    """
    ok = pl.when(t.is_between(0, 12 * 10_000 - 1)).then(t.cast(pl.Int32))
    lo = ok.min().fill_null(0)
    months = pl.int_range(lo, ok.max().fill_null(-1) + 1, dtype=pl.Int32)
    table = pl.date(months // 12, months % 12 + 1, 1)
    return table.gather((ok - lo).cast(pl.UInt32))
