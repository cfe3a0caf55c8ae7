"""Small polars helpers shared by the churn modules (month index, per-customer keys)."""

from __future__ import annotations


import polars as pl

from tierlib.months import from_index, index_expr

#: Rows of one customer under one scheme: ledgers may hold several schemes.
KEY = ["scheme", "customer_id"]


def t_of(col: str | pl.Expr) -> pl.Expr:
    """Month index ``year * 12 + month - 1`` (tierlib.months), so differences are months."""
    return index_expr(pl.col(col) if isinstance(col, str) else col)


month_of = from_index  # the 1st of the month of a month index (tierlib.months)


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


def with_warnings(text: str, warnings, lang: str = "en") -> str:
    """A result's summary sentence followed by each of its warnings (`` WARNING: ...``, ``警告：``).

    >>> with_warnings("3 customers", ["few events"])
    '3 customers WARNING: few events.'
    >>> with_warnings("3 位客户", ["few events"], "zh")
    '3 位客户 **警告：** few events。'
    >>> from tierlib.terms import say
    >>> with_warnings("3 位客户", [say("warn.no_model_interval")], "zh")
    '3 位客户 **警告：** 没有模型区间：fit_churn 的重拟合次数（n_refit）少于 2。'
    """
    from tierlib.terms import said, term

    mark, stop = term("say.warning", lang), term("say.stop", lang)
    return text + "".join(f" {mark} {said(w, lang)}{stop}" for w in warnings)
