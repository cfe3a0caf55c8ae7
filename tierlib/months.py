"""The one month parser and month index of the package.

A month is the 1st of a month as a :class:`datetime.date`. Every function that takes the month
an analysis describes calls it ``as_of`` and parses it with :func:`as_month`; every month index
(``year * 12 + month - 1``, so January is 0 mod 12) comes from :func:`month_index` or
:func:`index_expr`.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

__all__ = ["as_month", "month_index", "index_expr", "date_expr", "month_of_index"]

_ISO = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})$")


def _bad(name: str, x: object, why: str = "") -> ValueError:
    return ValueError(f"{name}: {x!r} is not a month (YYYY-MM, YYYY-MM-DD on the 1st, YYYYMM, "
                      f"or a date){': ' + why if why else ''}")


def as_month(x: object, *, name: str = "as_of") -> dt.date:
    """Parse a month: 'YYYY-MM', 'YYYY-MM-DD' (the 1st), 'YYYYMM' (str or int), date, datetime.

    >>> as_month("2025-03"), as_month(202503), as_month("2025-03-01")
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 1), datetime.date(2025, 3, 1))
    >>> as_month("2025-03-15")
    Traceback (most recent call last):
    ...
    ValueError: as_of: '2025-03-15' is not a month (YYYY-MM, YYYY-MM-DD on the 1st, YYYYMM, or a date): not the 1st of a month
    """
    if isinstance(x, dt.datetime):
        if (x.day, x.hour, x.minute, x.second, x.microsecond) != (1, 0, 0, 0, 0):
            raise _bad(name, x, "not midnight of the 1st of a month")
        return x.date()
    if isinstance(x, dt.date):
        if x.day != 1:
            raise _bad(name, x, "not the 1st of a month")
        return x
    if isinstance(x, bool) or not isinstance(x, (str, int)):
        raise _bad(name, x)
    text = str(x).strip() if isinstance(x, str) else str(x)
    m = _ISO.match(text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3] or 1)
    elif (m := _COMPACT.match(text)):
        y, mo, d = int(m[1]), int(m[2]), 1
    else:
        raise _bad(name, x)
    try:
        out = dt.date(y, mo, d)
    except ValueError as e:
        raise _bad(name, x, str(e)) from None
    if d != 1:
        raise _bad(name, x, "not the 1st of a month")
    return out


def month_index(d: dt.date) -> int:
    """``year * 12 + month - 1``.

    >>> month_index(dt.date(2024, 1, 1)) % 12, month_index(dt.date(2024, 2, 1)) - month_index(dt.date(2024, 1, 1))
    (0, 1)
    """
    return d.year * 12 + d.month - 1


def month_of_index(t: int) -> dt.date:
    """The 1st of month index ``t``.

    >>> month_of_index(month_index(dt.date(2025, 7, 1)))
    datetime.date(2025, 7, 1)
    """
    return dt.date(t // 12, t % 12 + 1, 1)


def index_expr(e: pl.Expr) -> pl.Expr:
    """Int32 month index of a Date expression.

    >>> pl.select(index_expr(pl.lit(dt.date(2024, 3, 1)))).item() == month_index(dt.date(2024, 3, 1))
    True
    """
    return e.dt.year().cast(pl.Int32) * 12 + e.dt.month().cast(pl.Int32) - 1


def date_expr(t: pl.Expr) -> pl.Expr:
    """The 1st of month index ``t`` as a Date; null outside years 0 .. 9999.

    Dates are built once per distinct month in the column's range and gathered: building a
    date on every row costs ten times more. Out-of-range indexes (sentinels) become null.

    >>> pl.select(date_expr(pl.lit(month_index(dt.date(2024, 3, 1))))).item()
    datetime.date(2024, 3, 1)
    """
    ok = pl.when(t.is_between(0, 12 * 10_000 - 1)).then(t.cast(pl.Int32))
    lo = ok.min().fill_null(0)
    months = pl.int_range(lo, ok.max().fill_null(-1) + 1, dtype=pl.Int32)
    table = pl.date(months // 12, months % 12 + 1, 1)
    return table.gather((ok - lo).cast(pl.UInt32))
