"""Golden cases: readable YAML files in ``tests/cases/<scheme>.yaml`` -> panels and checks.

A case file::

    scheme: unicom_vip
    cases:
      - name: mobile silver exactly at 150
        why: join month none; from 2024-02 the mean of the months available is 150 -> silver
        customer: {join_month: 2024-01-01, line: mobile}  # static columns, every row
        start: 2024-01-01        # first panel month (default: join_month)
        months: 8                # optional when a list series gives the length
        billed: [150, 150, 150, 150, 150, 150, 150, 150]
        monthly: {account_type: {2024-08-01: prepaid}}    # more per-month columns
        expect:
          tier: {2024-01-01: none, 2024-02-01..2024-07-01: silver, 2024-08-01: none}

A *series* (``billed`` and every ``monthly`` column) is a scalar (every month), a list (one
value per month) or a map ``month -> value`` whose keys may be ranges ``"a..b"``
(inclusive) and which may hold a ``default`` for the months it does not name (else they get
the column's RULES.md §1 default; ``paid`` then copies the month's ``billed``).
An *expectation* per ledger column has the same three shapes; a map is sparse: only the
months it names are checked. ``variant: high`` on a case rates ``<scheme>:high``.

>>> c = {"customer": {"join_month": dt.date(2024, 1, 1)}, "billed": [1.0, 2.0]}
>>> case_panel(c)["month"].to_list()
[datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)]
>>> expand({"2024-01-01..2024-03-01": "x"}, months_of(dt.date(2024, 1, 1), 4))
{datetime.date(2024, 1, 1): 'x', datetime.date(2024, 2, 1): 'x', datetime.date(2024, 3, 1): 'x'}
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import yaml

CASES_DIR = Path(__file__).parent / "cases"

#: panel dtypes of RULES.md §1 (+ the scheme-specific optional columns of CONTRACT.md)
DTYPES: dict[str, pl.DataType] = {
    "customer_id": pl.String,
    "month": pl.Date,
    "join_month": pl.Date,
    "billed": pl.Float64,
    "paid": pl.Float64,
    "plan_fee": pl.Float64,
    "brand": pl.String,
    "line": pl.String,
    "segment": pl.String,
    "account_type": pl.String,
    "suspensions": pl.Int64,
    "in_arrears": pl.Boolean,
    "n_mobile": pl.Int64,
    "n_fixed": pl.Int64,
    "n_broadband": pl.Int64,
    "n_itv": pl.Int64,
    "org_revenue": pl.Float64,
    "official_rank": pl.String,
    "churned": pl.Boolean,
    "province": pl.String,
    "legacy_club_tier": pl.String,
    "legacy_club_until": pl.Date,
    "paid_before": pl.Float64,
    "provincial_grant": pl.Boolean,
}


def to_date(x: object) -> dt.date:
    if isinstance(x, dt.date):
        return x
    return dt.date.fromisoformat(str(x))


def add_months(d: dt.date, k: int) -> dt.date:
    t = d.year * 12 + d.month - 1 + k
    return dt.date(t // 12, t % 12 + 1, 1)


def months_of(start: dt.date, n: int) -> list[dt.date]:
    return [add_months(start, k) for k in range(n)]


def expand(spec: dict, months: list[dt.date]) -> dict[dt.date, object]:
    """A sparse ``month -> value`` map (keys may be ``"a..b"`` ranges) over ``months``."""
    out: dict[dt.date, object] = {}
    for key, value in spec.items():
        if key == "default":
            continue
        if isinstance(key, str) and ".." in key:
            lo, hi = (to_date(s.strip()) for s in key.split(".."))
        else:
            lo = hi = to_date(key)
        named = [m for m in months if lo <= m <= hi]
        if not named:
            raise ValueError(f"expectation key {key!r} names no panel month")
        for m in named:
            out[m] = value
    return out


#: RULES.md §1 defaults, for the months a sparse series does not name
SECTION1_DEFAULTS = {"plan_fee": 0.0, "brand": "", "line": "mobile", "segment": "personal",
                     "account_type": "standard", "suspensions": 0, "in_arrears": False,
                     "n_mobile": 1, "n_fixed": 0, "n_broadband": 0, "n_itv": 0,
                     "churned": False}


def series(spec: object, months: list[dt.date], *, what: str) -> list[object]:
    if isinstance(spec, list):
        if len(spec) != len(months):
            raise ValueError(f"{what}: {len(spec)} values for {len(months)} months")
        return list(spec)
    if isinstance(spec, dict):
        sparse = expand(spec, months)
        fallback = spec.get("default", SECTION1_DEFAULTS.get(what))
        return [sparse.get(m, fallback) for m in months]
    return [spec] * len(months)


def case_months(case: dict) -> list[dt.date]:
    customer = case.get("customer", {})
    start = to_date(case.get("start", customer.get("join_month")))
    n = case.get("months")
    if n is None:
        lists = [v for v in [case.get("billed"), *case.get("monthly", {}).values()]
                 if isinstance(v, list)]
        if not lists:
            raise ValueError(f"case {case.get('name')!r}: give `months` or a list series")
        n = len(lists[0])
    return months_of(start, n)


def case_panel(case: dict) -> pl.DataFrame:
    """The panel of one golden case (one customer, only the columns the case names)."""
    customer = dict(case.get("customer", {}))
    customer.setdefault("customer_id", "c1")
    months = case_months(case)
    cols: dict[str, list] = {"month": months}
    for name, value in customer.items():
        cols[name] = [value] * len(months)
    cols["billed"] = series(case["billed"], months, what="billed")
    for name, spec in case.get("monthly", {}).items():
        cols[name] = series(spec, months, what=name)
        if name == "paid":  # RULES.md §1: paid defaults to billed
            cols[name] = [b if p is None else p for p, b in zip(cols[name], cols["billed"])]
    for name in ("join_month", "legacy_club_until"):
        if name in cols:
            cols[name] = [to_date(v) if v is not None else None for v in cols[name]]
    for name in ("billed", "paid", "plan_fee", "org_revenue", "paid_before"):
        if name in cols:
            cols[name] = [float(v) if v is not None else None for v in cols[name]]
    schema = {name: DTYPES.get(name) for name in cols}
    schema = {k: v for k, v in schema.items() if v is not None}
    return pl.DataFrame(cols, schema_overrides=schema)


def case_scheme(scheme: str, case: dict) -> str:
    return f"{scheme}:{case['variant']}" if case.get("variant") else scheme


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _same(got: object, want: object) -> bool:
    got = _plain(got)
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(want, bool) and got == want
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(got, dt.date) or isinstance(want, dt.date):
        return isinstance(got, dt.date) and to_date(want) == got
    return str(got) == str(want)


def plain_values(s: pl.Series) -> list:
    """Python values of a ledger column, Categorical/Enum tiers as plain strings."""
    if s.dtype == pl.Categorical or isinstance(s.dtype, pl.Enum):
        s = s.cast(pl.String)
    return s.to_list()


def check_case(ledger: pl.DataFrame, case: dict) -> list[str]:
    """Mismatches between a ledger and a case's expectations (empty list: all good)."""
    months = case_months(case)
    cid = case.get("customer", {}).get("customer_id", "c1")
    mine = ledger.filter(pl.col("customer_id") == cid).sort("month")
    got_months = mine["month"].to_list()
    if got_months != months:
        return [f"ledger months {got_months} != panel months {months}"]
    problems = []
    for column, spec in case["expect"].items():
        if column not in mine.columns:
            problems.append(f"ledger has no column {column!r}")
            continue
        got = dict(zip(months, plain_values(mine[column])))
        if isinstance(spec, dict):
            wanted = expand(spec, months)
        else:
            wanted = dict(zip(months, series(spec, months, what=column)))
        for m, want in wanted.items():
            if not _same(got[m], want):
                problems.append(f"{column} at {m}: expected {want!r}, got {got[m]!r}")
    return problems


def load_case_files() -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(CASES_DIR.glob("*.yaml"))}


def all_cases() -> list[tuple[str, str, dict]]:
    """(file stem, scheme with variant, case) for every golden case."""
    out = []
    for stem, doc in load_case_files().items():
        for case in doc["cases"]:
            out.append((stem, case_scheme(doc["scheme"], case), case))
    return out
