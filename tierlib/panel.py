"""The panel contract of RULES.md §1: column types, defaults and row rules.

A panel has one row per customer per month in network. :func:`validate` checks every rule,
fills the documented defaults of the optional columns and returns the panel sorted by
``(customer_id, month)``. Nothing is dropped, clipped or coerced: a value that breaks a rule
raises :class:`PanelError` naming the column, the rule and up to five customers.
:func:`tierlib.panelcheck.check_all` lists every broken rule at once, from the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tierlib.months import per_day

__all__ = ["PanelError", "validate", "of_carrier", "COLUMNS", "LINES", "SEGMENTS", "ACCOUNT_TYPES",
           "RANKS", "MAX_MONEY", "MAX_COUNT"]

LINES = ("mobile", "fixed", "broadband")
SEGMENTS = ("personal", "enterprise")
ACCOUNT_TYPES = (
    "standard", "prepaid", "public_free", "test", "data_card",
    "family_member", "staff_plan", "payphone", "secondary_card",
)
RANKS = ("bureau", "division", "section")
CLUB_TIERS = ("silver", "gold", "diamond")

_INT = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
_FLOAT = (pl.Float32, pl.Float64)
_TEXT = (pl.String, pl.Categorical, pl.Enum)


@dataclass(frozen=True)
class Column:
    """One panel column: its kind, its default when absent, and its allowed values."""

    kind: str  # id | date | money | count | text | bool
    default: object = None  # None: required (or null when ``nullable``)
    nullable: bool = False
    values: tuple[str, ...] | None = None
    required: bool = False


COLUMNS: dict[str, Column] = {
    "customer_id": Column("id", required=True),
    "month": Column("date", required=True),
    "join_month": Column("date", required=True),
    "billed": Column("money", required=True),
    "paid": Column("money", default="billed"),
    "plan_fee": Column("money", default=0.0),
    "brand": Column("text", default=""),
    "line": Column("text", default="mobile", values=LINES),
    "segment": Column("text", default="personal", values=SEGMENTS),
    "account_type": Column("text", default="standard", values=ACCOUNT_TYPES),
    "suspensions": Column("count", default=0),
    "in_arrears": Column("bool", default=False),
    "n_mobile": Column("count", default=1),
    "n_fixed": Column("count", default=0),
    "n_broadband": Column("count", default=0),
    "n_itv": Column("count", default=0),
    "org_revenue": Column("money", nullable=True),
    "official_rank": Column("text", nullable=True, values=RANKS),
    "churned": Column("bool", default=False),
    "province": Column("text", nullable=True),
    # tierlib extensions (docs/CONTRACT.md), never filled when absent
    "paid_before": Column("money", nullable=True),
    "legacy_club_tier": Column("text", nullable=True, values=CLUB_TIERS),
    "legacy_club_until": Column("date", nullable=True),
    "provincial_grant": Column("bool", nullable=True),
}
#: the largest money amount one customer-month may hold (yuan, any money column): a plausible
#: ceiling, far above any bill or organisation's monthly revenue [assumed]; above it a value is a
#: unit or export error (fen read as yuan, an overflow), never a score
MAX_MONEY = 1e9
#: counts are whole numbers the engine holds in 32 bits
MAX_COUNT = 2**31 - 1
_LEGACY = ("legacy_club_until is missing where legacy_club_tier is given (the migrated star lasts "
           "until the club card's validity ends, so both are needed)")
_AFTER_CHURN = "rows after churned = true (a customer who leaves and rejoins needs a new customer_id)"
_EXTENSIONS = ("paid_before", "legacy_club_tier", "legacy_club_until", "provincial_grant")


class PanelError(ValueError):
    """A panel breaks the data contract of RULES.md §1.

    Attributes name the ``column``, the ``rule`` broken and up to five ``customers``.
    """

    def __init__(self, column: str, rule: str, customers: list | None = None, n_rows: int = 0):
        self.column, self.rule, self.customers, self.n_rows = column, rule, customers or [], n_rows
        msg = f"column '{column}': {rule}"
        if n_rows:
            msg += f" ({n_rows} row{'s' if n_rows != 1 else ''})"
        if self.customers:
            msg += "; customer_id " + ", ".join(str(c) for c in self.customers[:5])
            if n_rows > 5 and len(self.customers) >= 5:
                msg += ", ..."
        super().__init__(msg)


def _type_problems(schema: pl.Schema) -> list[tuple[str, str]]:
    """(column, rule) for every required column missing and every column of the wrong type."""
    out = []
    for name, col in COLUMNS.items():
        if col.required and name not in schema:
            out.append((name, "required column is missing"))
        if name not in schema:
            continue
        dtype = schema[name]
        ok = {
            "id": isinstance(dtype, _TEXT + _INT),
            "date": dtype == pl.Date,
            "money": isinstance(dtype, _INT + _FLOAT),
            "count": isinstance(dtype, _INT),
            "text": isinstance(dtype, _TEXT) or (col.nullable and dtype == pl.Null),
            "bool": dtype == pl.Boolean or (col.nullable and dtype == pl.Null),
        }[col.kind]
        if col.nullable and dtype == pl.Null:
            ok = True
        if not ok:
            want = {"id": "string or integer", "date": "Date (1st of month)", "money": "number (yuan)",
                    "count": "integer", "text": "string", "bool": "boolean"}[col.kind]
            out.append((name, f"wrong type {dtype}, expected {want}"))
    return out


def _check_types(schema: pl.Schema) -> None:
    for name, rule in _type_problems(schema)[:1]:
        raise PanelError(name, rule)


def _rules(schema: pl.Schema) -> list[tuple[str, str, pl.Expr]]:
    """(column, rule, expression true on an offending row) for every row rule."""
    cid, month = pl.col("customer_id"), pl.col("month")
    rules: list[tuple[str, str, pl.Expr]] = []
    for name, col in COLUMNS.items():
        if name not in schema:
            continue
        c = pl.col(name)
        if not col.nullable:
            rules.append((name, "null value", c.is_null()))
        if col.kind == "money":
            rules.append((name, "negative money (must be >= 0)", c < 0))
            if isinstance(schema[name], _FLOAT):
                rules.append((name, "not a finite number", c.is_nan() | c.is_infinite()))
            rules.append((name, f"money above {MAX_MONEY:,.0f} yuan (the plausible maximum of one "
                                "customer-month, docs/CONTRACT.md)", c > MAX_MONEY))
        elif col.kind == "count" and isinstance(schema[name], _INT):
            rules.append((name, "negative count (must be >= 0)", c < 0))
            rules.append((name, f"count above {MAX_COUNT:,} (beyond 32 bits)", c > MAX_COUNT))
        elif col.kind == "date":
            rules.append((name, "date not on the 1st of a month", c.dt.day() != 1))
        if col.values is not None and schema[name] != pl.Null:
            allowed = ", ".join(col.values)
            rules.append((name, f"unknown value (allowed: {allowed})",
                          c.is_not_null() & ~c.cast(pl.String).is_in(list(col.values))))
    if not {"customer_id", "month", "join_month"} <= set(schema):
        return rules  # (check_all on a panel missing one: the rules across rows cannot be read)
    t = month.dt.year().cast(pl.Int32) * 12 + month.dt.month().cast(pl.Int32)
    rules += [
        ("join_month", "join_month differs between rows of one customer",
         pl.col("join_month").n_unique().over(cid) > 1),
        ("month", "row before join_month", month < pl.col("join_month")),
        ("month", "duplicate (customer_id, month)", pl.len().over(cid, month) > 1),
        ("month", "gap in months (a customer's months must be contiguous)",
         (t - t.shift(1)).over(cid, order_by=month) > 1),
    ]
    if "legacy_club_tier" in schema:
        until = pl.col("legacy_club_until").is_null() if "legacy_club_until" in schema else pl.lit(True)
        rules.append(("legacy_club_until", _LEGACY, pl.col("legacy_club_tier").is_not_null() & until))
    if "churned" in schema:
        rules.append(("churned", _AFTER_CHURN, pl.col("churned").fill_null(False) & (month < month.max().over(cid))))
    return rules


def _broken(lf: pl.LazyFrame, schema: pl.Schema) -> list[tuple[str, str, int, int, list]]:
    """(column, rule, rows, customers, up to five example customers) of every broken row rule,
    in :func:`_rules` order, from one ``select`` over the panel."""
    rules = _rules(schema)
    if not rules:
        return []
    has_id = "customer_id" in schema
    cid = pl.col("customer_id") if has_id else pl.lit(None, dtype=pl.String)
    # each rule's flag once (one pass), then counts and examples only of the broken rules
    flags = lf.select(cid.alias("_cid"), *[e.fill_null(False).alias(f"_r{i}") for i, (_, _, e) in enumerate(rules)]
                      ).collect()
    counts = flags.select(pl.all().exclude("_cid").sum()).row(0)
    broken = [i for i, n in enumerate(counts) if n]
    if not broken:
        return []
    c = pl.col("_cid")
    ex = flags.select(*[c.filter(pl.col(f"_r{i}")).n_unique().alias(f"u{i}") for i in broken],
                      *[c.filter(pl.col(f"_r{i}")).unique(maintain_order=True).head(5).implode().alias(f"c{i}")
                        for i in broken]).row(0, named=True)
    return [(rules[i][0], rules[i][1], counts[i], ex[f"u{i}"] if has_id else 0, ex[f"c{i}"] if has_id else [])
            for i in broken]


def _check_rows(lf: pl.LazyFrame, schema: pl.Schema) -> None:
    """Raise a :class:`PanelError` on the first broken row rule (in :func:`_rules` order)."""
    for column, rule, n, _, bad in _broken(lf, schema)[:1]:
        raise PanelError(column, rule, bad, n)


def _unsorted() -> pl.Expr:
    """True on a row that does not follow its predecessor in (customer_id, month) order."""
    cid, month = pl.col("customer_id"), pl.col("month")
    ahead = (cid > cid.shift(1)) | ((cid == cid.shift(1)) & (month > month.shift(1)))
    return (~ahead).fill_null(False)  # the first row follows nothing


def _screens(schema: pl.Schema) -> list[pl.Expr]:
    """Cheap aggregate tests, true when some row rule *may* be broken (never a false negative).

    The rules of :func:`_rules` row by row cost a pass each and three groupings by customer;
    on a panel sorted by (customer_id, month) the per-customer rules are comparisons with the
    previous row, and most column rules are a min or a null count. A positive screen sends
    the panel through :func:`_check_rows`, which names the rule and the customers.
    """
    out: list[pl.Expr] = []
    for name, col in COLUMNS.items():
        if name not in schema:
            continue
        c, dtype = pl.col(name), schema[name]
        if not col.nullable:
            out.append(c.null_count() > 0)
        if col.kind == "money" and isinstance(dtype, _FLOAT):
            # a NaN or an infinity makes the sum non-finite (a sum of values in 0 .. MAX_MONEY
            # cannot overflow): one vectorised sum instead of a test of every value
            out += [c.min() < 0, ~c.sum().is_finite(), c.max() > MAX_MONEY]
        elif col.kind in ("money", "count") and isinstance(dtype, _INT):
            out += [c.min() < 0, c.max() > (MAX_MONEY if col.kind == "money" else MAX_COUNT)]
        elif col.kind == "date":
            out.append(per_day(c, lambda x: x.dt.day() != 1).any())
        if col.values is not None and dtype != pl.Null:
            if isinstance(dtype, pl.Enum) and set(dtype.categories) <= set(col.values):
                continue  # an Enum cannot hold any other value
            text = c if dtype == pl.String else c.cast(pl.String)
            out.append((c.is_not_null() & ~text.is_in(list(col.values))).any())
    cid, month, join = pl.col("customer_id"), pl.col("month"), pl.col("join_month")
    # consecutive 1sts of months are 28 to 31 days apart; a duplicate is 0 days, a gap >= 59
    # (a month not on the 1st fires its own screen above): no calendar arithmetic per row
    days = month.cast(pl.Int32) - month.shift(1).cast(pl.Int32)
    same = cid == cid.shift(1)
    out += [
        (month < join).any(),
        (same & join.ne_missing(join.shift(1))).any(),  # join_month differs within a customer
        (same & ((days < 28) | (days > 31))).any(),  # duplicate month or gap
    ]
    if "legacy_club_tier" in schema:
        until = pl.col("legacy_club_until").is_null() if "legacy_club_until" in schema else pl.lit(True)
        out.append((pl.col("legacy_club_tier").is_not_null() & until).any())
    if "churned" in schema:  # a churned customer's row must be its last
        out.append((pl.col("churned") & (cid == cid.shift(-1))).any())
    return out


def _screen(lf: pl.LazyFrame, schema: pl.Schema) -> tuple[bool, bool]:
    """(sorted, suspect): whether lf is sorted, and whether a screen fired (if sorted)."""
    exprs = _screens(schema)
    row = lf.select(_unsorted().any().alias("_unsorted"),
                    pl.any_horizontal([e.fill_null(True) for e in exprs]).alias("_suspect")).collect().row(0)
    return not row[0], bool(row[1])


def _defaults(schema: pl.Schema) -> list[pl.Expr]:
    exprs = []
    for name, col in COLUMNS.items():
        if name in schema or col.required or name in _EXTENSIONS:
            continue
        if col.default == "billed":
            exprs.append(pl.col("billed").alias(name))
        elif col.nullable:
            dtype = {"money": pl.Float64, "text": pl.String, "date": pl.Date, "bool": pl.Boolean}[col.kind]
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        else:
            exprs.append(pl.lit(col.default).alias(name))
    return exprs


def free_text(schema: pl.Schema) -> list[pl.Expr]:
    """Casts to String of the free-text columns (``brand``, ``province``) held as categories."""
    return [pl.col(name).cast(pl.String) for name, col in COLUMNS.items()
            if col.kind == "text" and col.values is None and isinstance(schema.get(name), (pl.Categorical, pl.Enum))]


def _casts(schema: pl.Schema, text: bool = True) -> list[pl.Expr]:
    """Lossless casts to the engine's working types (ints to float money, text to enums).

    ``text=False`` leaves free-text columns held as categories uncast (:func:`free_text`)."""
    exprs = []
    for name, col in COLUMNS.items():
        if name == "customer_id" or name not in schema:
            continue
        if not text and col.kind == "text" and col.values is None and isinstance(schema[name], (pl.Categorical, pl.Enum)):
            continue
        c = pl.col(name)
        if isinstance(schema[name], pl.Enum) and col.values is not None and schema[name].categories.to_list() == list(col.values):
            continue  # already the engine's Enum
        if col.kind == "money":
            exprs.append(c.cast(pl.Float64))
        elif col.kind == "count":
            exprs.append(c.cast(pl.Int32))
        elif col.kind == "text" and col.values is not None:
            exprs.append(c.cast(pl.String).cast(pl.Enum(list(col.values))))
        elif col.kind == "text":
            exprs.append(c.cast(pl.String))
        elif col.kind == "bool" and schema[name] == pl.Null:
            exprs.append(c.cast(pl.Boolean))
        elif col.kind == "date" and schema[name] == pl.Null:
            exprs.append(c.cast(pl.Date))
    return exprs


def validate(panel: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Check a panel against RULES.md §1, fill defaults, sort by customer and month.

    Returns the same kind of frame it was given. Extra columns pass through untouched.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> p = pl.DataFrame({"customer_id": ["c1"], "month": [dt.date(2024, 1, 1)],
    ...                   "join_month": [dt.date(2024, 1, 1)], "billed": [88.0]})
    >>> validate(p).select("paid", "line", "n_mobile").row(0)
    (88.0, 'mobile', 1)
    >>> validate(p.with_columns(billed=pl.lit(-1.0)))
    Traceback (most recent call last):
    ...
    tierlib.panel.PanelError: column 'billed': negative money (must be >= 0) (1 row); customer_id c1
    """
    return _validate(panel)


def _validate(panel: pl.DataFrame | pl.LazyFrame, text: bool = True) -> pl.DataFrame | pl.LazyFrame:
    """:func:`validate`; ``text=False`` (``rate``, which casts where a scheme reads them) leaves the
    free-text columns held as categories uncast: a String per row costs as much as the checks."""
    if not isinstance(panel, (pl.DataFrame, pl.LazyFrame)):
        raise TypeError(f"panel must be a polars DataFrame or LazyFrame, got {type(panel).__name__}")
    lazy = isinstance(panel, pl.LazyFrame)
    lf = panel.lazy()
    schema = lf.collect_schema()
    _check_types(schema)
    is_sorted, suspect = _screen(lf, schema)
    if not is_sorted and not lazy:  # sort once here: the screens need customers' rows in order
        lf = lf.sort("customer_id", "month").collect().lazy()
        suspect = _screen(lf, schema)[1]
    if suspect or not is_sorted and lazy:
        _check_rows(panel.lazy(), schema)
    out = lf.with_columns(_defaults(schema))
    out = out.with_columns(_casts(out.collect_schema(), text))
    if not is_sorted and lazy:
        out = out.sort("customer_id", "month")
    return out if lazy else out.collect()


def of_carrier(frame: pl.DataFrame | pl.LazyFrame, carrier: str) -> pl.DataFrame | pl.LazyFrame:
    """The rows of one carrier's customers: ``carrier == carrier``; all rows without that column.

    The one place the own-carrier filter is written (``rate(..., own_carrier=True)``).

    >>> import datetime as dt
    >>> p = pl.DataFrame({"customer_id": [1, 2], "carrier": ["telecom", "unicom"]})
    >>> of_carrier(p, "unicom")["customer_id"].to_list(), of_carrier(p.drop("carrier"), "x").height
    ([2], 2)
    """
    names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    if "carrier" not in names:
        return frame
    return frame.filter(pl.col("carrier").cast(pl.String) == carrier)
