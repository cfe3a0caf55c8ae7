"""Every rule of RULES.md §1 a panel breaks, in one table: the warehouse importer's report.

:func:`tierlib.panel.validate` stops at the first broken rule; :func:`check_all` reads the same
rules (:mod:`tierlib.panel`'s types, row rules and screens) and lists all of them.
"""

from __future__ import annotations

import polars as pl

from tierlib.panel import _broken, _screen, _type_problems

__all__ = ["check_all"]


def check_all(panel: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Every rule of RULES.md §1 a panel breaks, as one table (empty when the panel is valid).

    :func:`validate` stops at the first broken rule; this reports all of them in one run: a
    missing required column and a column of the wrong type (``rows`` is then every row), then
    every row rule on the columns that can be read, all computed in one pass over the panel.

    Returns
    -------
    DataFrame with ``column``, ``rule``, ``rows`` (rows breaking it), ``customers`` (distinct
    customers among them) and ``examples`` (up to five of their ids, comma-separated, in panel
    order).

    Examples
    --------
    >>> import datetime as dt
    >>> p = pl.DataFrame({"customer_id": ["a", "a", "b"], "month": [dt.date(2024, 1, 1), dt.date(2024, 1, 1),
    ...                   dt.date(2024, 1, 15)], "join_month": [dt.date(2024, 1, 1)] * 3, "billed": [1.0, -2.0, -3.0]})
    >>> check_all(p).select("column", "rows", "examples").rows()
    [('month', 1, 'b'), ('billed', 2, 'a, b'), ('month', 2, 'a')]
    >>> check_all(p.filter(pl.col("billed") > 0)).height
    0
    """
    if not isinstance(panel, (pl.DataFrame, pl.LazyFrame)):
        raise TypeError(f"panel must be a polars DataFrame or LazyFrame, got {type(panel).__name__}")
    lf = panel.lazy()
    schema = lf.collect_schema()
    typed = _type_problems(schema)
    out = []
    if typed:
        height, n_cust = lf.select(pl.len(), pl.col("customer_id").n_unique() if "customer_id" in schema
                                   else pl.lit(0)).collect().row(0)
        out = [(c, r, height, n_cust, []) for c, r in typed]
        schema = pl.Schema({k: v for k, v in schema.items() if k not in {c for c, _ in typed}})
    if typed or _screen(lf, schema) != (True, False):  # a sorted panel no screen flags breaks no rule
        out += _broken(lf, schema)
    return pl.DataFrame([(c, r, n, u, ", ".join(map(str, ex)) + (", ..." if u > len(ex) else ""))
                         for c, r, n, u, ex in out],
                        schema={"column": pl.String, "rule": pl.String, "rows": pl.Int64,
                                "customers": pl.Int64, "examples": pl.String}, orient="row")
