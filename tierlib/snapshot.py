"""Turn one-row-per-customer snapshots into panels (issue #3); re-exported by :mod:`tierlib.io`.

Many analysts only have an extract with one row per customer: an id, the tenure in months, the
monthly charge, maybe the total charges and a churn flag. :func:`from_snapshot` spreads each row
over the months the customer has been in network, so the schemes can be run on it. It is an
approximation (see the function's notes); a real monthly extract is always better.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from tierlib.months import as_month, month_index
from tierlib.panel import PanelError, validate

__all__ = ["from_snapshot", "SNAPSHOT_KEYS", "history_support", "require_history"]

#: Keys of ``columns`` with a meaning of their own; any other key must be a panel column
#: (RULES.md §1, e.g. ``brand``, ``line``, ``province``) and is copied to every month.
SNAPSHOT_KEYS = ("customer_id", "tenure", "monthly", "total", "churn")
_STATIC = ("plan_fee", "brand", "line", "segment", "account_type", "n_mobile", "n_fixed",
           "n_broadband", "n_itv", "org_revenue", "official_rank", "province", "paid_before")
_TRUE = ("yes", "y", "true", "t", "1", "1.0", "churned", "churn")
_FALSE = ("no", "n", "false", "f", "0", "0.0", "")


def _rows(mask: pl.Series, limit: int = 5) -> str:
    idx = mask.arg_true().head(limit).to_list()
    more = ", ..." if mask.sum() > limit else ""
    return "row" + ("s" if mask.sum() > 1 else "") + " " + ", ".join(map(str, idx)) + more + " (0-based)"


def _fail(df: pl.DataFrame, ids: pl.Series, source: str, key: str, rule: str, mask: pl.Series):
    bad = ids.filter(mask).head(5).to_list()
    raise PanelError(source, f"{rule} (snapshot field '{key}') at {_rows(mask)}", bad, int(mask.sum()))


def _number(df: pl.DataFrame, ids: pl.Series, source: str, key: str) -> pl.Series:
    """A numeric column; text is stripped and parsed; blanks become null (the caller decides)."""
    s = df[source]
    if s.dtype == pl.Boolean or not (s.dtype.is_numeric() or s.dtype in (pl.String, pl.Null)):
        raise PanelError(source, f"wrong type {s.dtype} (snapshot field '{key}'), expected numbers")
    if s.dtype == pl.String:
        text = s.str.strip_chars()
        text = pl.select(pl.when(text != "").then(text)).to_series()
        num = text.cast(pl.Float64, strict=False)
        bad = text.is_not_null() & num.is_null()
        if bad.any():
            _fail(df, ids, source, key, "text that is not a number", bad)
        s = num
    s = s.cast(pl.Float64)
    nan = s.is_nan().fill_null(False) | s.is_infinite().fill_null(False)
    if nan.any():
        _fail(df, ids, source, key, "not a finite number", nan)
    neg = (s < 0).fill_null(False)
    if neg.any():
        _fail(df, ids, source, key, "negative value (must be >= 0)", neg)
    return s


def _flag(df: pl.DataFrame, ids: pl.Series, source: str) -> pl.Series:
    s = df[source]
    if s.dtype == pl.Boolean:
        out = s
    else:
        text = s.cast(pl.String).str.strip_chars().str.to_lowercase()
        out = pl.select(pl.when(text.is_in(_TRUE)).then(True)
                        .when(text.is_in(_FALSE)).then(False)).to_series()
        bad = out.is_null() & text.is_not_null()
        if bad.any():
            seen = text.filter(bad).unique(maintain_order=True).head(5).to_list()
            _fail(df, ids, source, "churn", f"unrecognised churn flag {seen} (use yes/no, true/false, 1/0)", bad)
    if out.is_null().any():
        _fail(df, ids, source, "churn", "blank churn flag", out.is_null())
    return out


def _as_of_t(as_of: str | int | dt.date) -> int:
    # a snapshot is taken on a day: a date names the month it falls in (the last panel month)
    if isinstance(as_of, dt.date):
        as_of = dt.date(as_of.year, as_of.month, 1)
    return month_index(as_month(as_of))


def from_snapshot(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    columns: Mapping[str, str],
    as_of: str | dt.date,
    spend: str = "flat",
    currency_factor: float = 1.0,
    tenure: str = "billed_months",
    constants: Mapping[str, object] | None = None,
    max_months: int | None = None,
) -> pl.DataFrame:
    """Spread a one-row-per-customer snapshot over monthly panel rows, then validate.

    Parameters
    ----------
    df : DataFrame or LazyFrame
        The snapshot. Numeric fields may be text (read CSVs with ``infer_schema=False`` to keep
        every field as written); surrounding blanks are stripped.
    columns : mapping
        Panel meaning -> column of ``df``. ``tenure`` (months in network) is required;
        ``monthly`` (the monthly charge) is required for ``spend="flat"`` and ``total`` (total
        charges to date) for ``spend="total"``; ``customer_id`` (default: the row number,
        1-based) and ``churn`` (yes/no, true/false, 1/0) are optional. Any other key must be a
        static panel column (``brand``, ``line``, ``segment``, ``account_type``, ``province``,
        ``plan_fee``, ``n_mobile``, ...) and is copied to every month of the customer.
    as_of : str or date
        The snapshot month, which becomes every customer's last panel month ("2024-12" or any
        date in that month).
    spend : {"flat", "total"}
        ``flat``: every month is billed the monthly charge. ``total``: every month is billed
        ``total / months``, so the months sum to the total charges.
    currency_factor : float
        Multiplies every charge, e.g. 7.2 to read US dollars as yuan (money is yuan in tierlib).
    tenure : {"billed_months", "since_join"}
        How the source counts tenure. ``billed_months`` (IBM Telco, the default): tenure T is the
        number of months billed so far, so the customer gets T rows ending at ``as_of`` and
        ``tenure = 0`` (joined, not billed yet) gets one row, its join month. ``since_join``:
        tenure counts months since the join month (RULES.md: join month 0), so T + 1 rows.
    constants : mapping, optional
        Panel column -> value for every row, e.g. ``{"line": "mobile", "brand": "gotone"}``.
    max_months : int, optional
        Keep only the last ``max_months`` rows of each customer; the panel is then
        left-truncated (``join_month`` keeps the true join month).

    Returns
    -------
    DataFrame
        A panel validated by :func:`tierlib.validate`: one row per customer per month,
        ``churned`` true on the last row of customers flagged as churned.

    Raises
    ------
    PanelError
        Naming the source column, the rule and the offending rows and customers: a mapped
        column missing from ``df``, text that is not a number, a negative or non-integer value,
        a blank required value, an unknown churn flag, duplicate customer ids; then everything
        :func:`tierlib.validate` checks.

    Notes
    -----
    The approximation, which an analyst must keep in mind when reading tiers off the result:

    - spend is flat: no seasonality, trend, plan change or arrears; ``paid`` = ``billed``,
      ``suspensions`` 0, ``in_arrears`` false (the panel defaults);
    - a customer's attributes (brand, line, ...) are those of the snapshot for every month;
    - the customer is in network from the join month to ``as_of`` without gap; churners leave
      at the end of ``as_of`` (their last row has ``churned = true``);
    - documented rule for blanks: a blank ``total`` where ``tenure`` is 0 is read as 0 (the IBM
      file leaves TotalCharges blank for customers not billed yet); every other blank in a
      mapped numeric field is an error, never silently dropped or filled.

    Examples
    --------
    >>> snap = pl.DataFrame({"id": ["a", "b"], "Tenure ": ["2", "0"], "Monthly": ["50.5", "20"],
    ...                      "Total": ["101", " "], "Churn?": ["Yes", "No"]})
    >>> p = from_snapshot(snap, columns={"customer_id": "id", "tenure": "Tenure ", "monthly": "Monthly",
    ...                                  "total": "Total", "churn": "Churn?"}, as_of="2024-12")
    >>> p.select("customer_id", "month", "join_month", "billed", "churned").rows()
    [('a', datetime.date(2024, 11, 1), datetime.date(2024, 11, 1), 50.5, False), \
('a', datetime.date(2024, 12, 1), datetime.date(2024, 11, 1), 50.5, True), \
('b', datetime.date(2024, 12, 1), datetime.date(2024, 12, 1), 20.0, False)]
    """
    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"df must be a polars DataFrame or LazyFrame, got {type(df).__name__}")
    if spend not in ("flat", "total"):
        raise ValueError(f"spend must be 'flat' or 'total', got {spend!r}")
    if tenure not in ("billed_months", "since_join"):
        raise ValueError(f"tenure must be 'billed_months' or 'since_join', got {tenure!r}")
    if not currency_factor > 0:
        raise ValueError(f"currency_factor must be > 0, got {currency_factor!r}")
    if max_months is not None and max_months < 1:
        raise ValueError(f"max_months must be >= 1, got {max_months!r}")
    unknown = [k for k in columns if k not in SNAPSHOT_KEYS and k not in _STATIC]
    if unknown:
        raise ValueError(f"unknown keys in columns: {unknown}; use {list(SNAPSHOT_KEYS)} or a static "
                         f"panel column {list(_STATIC)}")
    need = ("tenure", "monthly" if spend == "flat" else "total")
    for k in need:
        if k not in columns:
            raise ValueError(f"columns must map {k!r} for spend={spend!r}")
    for key, source in columns.items():
        if source not in df.columns:
            raise PanelError(source, f"column not found in the snapshot (snapshot field '{key}'); "
                             f"its columns are {df.columns}")
    constants = dict(constants or {})
    bad_const = [k for k in constants if k not in _STATIC]
    if bad_const:
        raise ValueError(f"unknown constants {bad_const}; allowed: {list(_STATIC)}")

    n = df.height
    if "customer_id" in columns:
        ids = df[columns["customer_id"]]
        if ids.dtype == pl.String:
            ids = ids.str.strip_chars()
        if ids.is_null().any():
            _fail(df, ids.fill_null("<blank>"), columns["customer_id"], "customer_id",
                  "blank customer id", ids.is_null())
        dup = ids.is_duplicated()
        if dup.any():
            _fail(df, ids, columns["customer_id"], "customer_id", "duplicate customer id", dup)
    else:
        ids = pl.Series("customer_id", range(1, n + 1), dtype=pl.Int64)
    ids = ids.alias("customer_id")

    ten = _number(df, ids, columns["tenure"], "tenure")
    if ten.is_null().any():
        _fail(df, ids, columns["tenure"], "tenure", "blank tenure", ten.is_null())
    frac = ten != ten.floor()
    if frac.any():
        _fail(df, ids, columns["tenure"], "tenure", "tenure is not a whole number of months", frac)
    ten = ten.cast(pl.Int64)
    rows = (ten.clip(lower_bound=1) if tenure == "billed_months" else ten + 1).alias("_rows")

    if spend == "flat":
        src = columns["monthly"]
        money = _number(df, ids, src, "monthly")
        if money.is_null().any():
            _fail(df, ids, src, "monthly", "blank monthly charge", money.is_null())
        billed = money * currency_factor
    else:
        src = columns["total"]
        money = _number(df, ids, src, "total")
        # documented rule: a blank total for a customer not billed yet (tenure 0) is 0
        money = pl.select(pl.when(money.is_null() & (ten == 0)).then(0.0).otherwise(money)).to_series()
        if money.is_null().any():
            _fail(df, ids, src, "total", "blank total charges for a customer with tenure > 0",
                  money.is_null())
        billed = money * currency_factor / rows

    churn = _flag(df, ids, columns["churn"]) if "churn" in columns else pl.Series([False] * n)
    t_end = _as_of_t(as_of)
    base = pl.DataFrame([ids, rows, billed.alias("billed"), churn.alias("_churn")]).with_columns(
        _tj=t_end - pl.col("_rows") + 1)
    statics = [df[src].alias(key) for key, src in columns.items() if key in _STATIC]
    statics += [pl.Series(key, [value] * n) for key, value in constants.items() if key not in columns]
    if statics:
        base = base.hstack([s.str.strip_chars() if s.dtype == pl.String else s for s in statics])
    keep = pl.col("_rows") if max_months is None else pl.col("_rows").clip(upper_bound=max_months)
    panel = (
        base.with_columns(_j=pl.int_ranges(pl.col("_rows") - keep, pl.col("_rows")))
        .explode("_j")
        .with_columns(_t=pl.col("_tj") + pl.col("_j"))
        .with_columns(
            month=pl.date(pl.col("_t") // 12, pl.col("_t") % 12 + 1, 1),
            join_month=pl.date(pl.col("_tj") // 12, pl.col("_tj") % 12 + 1, 1),
            churned=pl.col("_churn") & (pl.col("_j") == pl.col("_rows") - 1),
        )
    )
    front = ["customer_id", "month", "join_month", "billed"]
    panel = panel.select(*front, *[c for c in panel.columns if c not in front and not c.startswith("_")])
    return validate(panel)


def history_support(panel: pl.DataFrame | pl.LazyFrame) -> str | None:
    """What the panel cannot support, in one line, when churn is not observed over time; else None.

    Fitting churn (:func:`tierlib.churn.fit_churn`) and estimating drop effects
    (:func:`tierlib.churn.drop_effect`) learn from customers who left in some month after a
    tier change, against those who stayed: they need churn observed in several months. A panel
    spread from a one-row-per-customer snapshot (:func:`from_snapshot`) has every leaver leave
    in its one snapshot month, so it supports rating and comparing schemes at that month, not
    churn. One pass over ``month`` and ``churned``.

    >>> import datetime as dt
    >>> snap = pl.DataFrame({"id": ["a", "b"], "tenure": ["14", "3"], "fee": ["99", "20"], "left": ["No", "Yes"]})
    >>> p = from_snapshot(snap, columns={"customer_id": "id", "tenure": "tenure", "monthly": "fee",
    ...                                  "churn": "left"}, as_of="2024-12")
    >>> print(history_support(p))  # doctest: +NORMALIZE_WHITESPACE
    every churn flag of this panel falls in one month (2024-12), as in a one-row-per-customer snapshot: it
    supports rating and comparing schemes at 2024-12, not churn fitting or drop effects, which need churn
    observed month by month after tier changes (a monthly panel with leavers in several months)
    >>> history_support(p.with_columns(churned=pl.lit(False))).split(":")[0]
    'no customer of this panel leaves (churned is never true)'
    """
    lf = panel.lazy()
    if "churned" not in lf.collect_schema():
        n_churn_months = 0
    else:
        left = pl.col("month").filter(pl.col("churned").fill_null(False))
        n_churn_months, first = lf.select(left.n_unique().alias("n"), left.min().alias("first")).collect().row(0)
    can = "it supports rating and comparing schemes"
    need = ("not churn fitting or drop effects, which need churn observed month by month after tier "
            "changes (a monthly panel with leavers in several months)")
    if n_churn_months == 0:
        return f"no customer of this panel leaves (churned is never true): {can}, {need}"
    if n_churn_months == 1:
        return (f"every churn flag of this panel falls in one month ({first:%Y-%m}), as in a "
                f"one-row-per-customer snapshot: {can} at {first:%Y-%m}, {need}")
    return None


def require_history(panel: pl.DataFrame | pl.LazyFrame, what: str) -> None:
    """Raise a ValueError saying :func:`history_support`'s line before ``what`` computes anything."""
    why = history_support(panel)
    if why is not None:
        raise ValueError(f"{what}: {why}")
