"""Hypothesis strategies: random *valid* panels (RULES.md §1) that hit the schemes' edges.

Several customers, contiguous months between 2023-09 and 2026-06 (so every panel can span
a January, a February and 2025-02), joins in the panel or long before it (left-truncated),
spend drawn mostly from values that land on thresholds, suspensions, arrears runs, brands,
lines, segments, account types (switching mid-history), plan fees 0/88/288/388/588, and
sometimes the optional scheme columns ``legacy_club_tier``/``legacy_club_until``
(telecom_star) and ``paid_before`` (unicom_ladder). Optional columns are sometimes left out
so that the defaults of RULES.md §1 are exercised too. Rows may come in any order.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import strategies as st

from tests.golden import DTYPES, add_months

FIRST_MONTH = dt.date(2023, 9, 1)

#: spend values that land on (or next to) the thresholds of every scheme, once or summed
EDGE_SPEND = [0.0, 10.0, 20.0, 20.01, 30.0, 50.0, 50.01, 60.0, 80.0, 80.01, 100.0, 120.0,
              120.01, 150.0, 200.0, 200.01, 250.0, 300.0, 400.0, 400.01, 450.0, 500.0, 590.0,
              600.0, 1000.0, 1200.0, 2000.0, 3800.0]
spend = st.one_of(
    st.sampled_from(EDGE_SPEND),
    st.integers(0, 700).map(float),
    st.integers(0, 40000).map(lambda c: c / 100),  # yuan with cents
)

BRANDS = ["", "ehome", "tianyi", "gotone", "mzone", "easyown", "other"]
LINES = ["mobile", "mobile", "fixed", "broadband"]
ACCOUNT_TYPES = ["standard"] * 6 + ["prepaid", "public_free", "test", "data_card",
                                    "family_member", "staff_plan", "payphone", "secondary_card"]
PLAN_FEES = [0.0, 0.0, 88.0, 288.0, 388.0, 588.0]
RANKS = [None, None, None, "section", "division", "bureau"]
ORG_REVENUES = [None, 0.0, 49999.99, 50000.0, 100000.0, 299999.99, 300000.0]

OPTIONAL = ["paid", "plan_fee", "brand", "line", "segment", "account_type", "suspensions",
            "in_arrears", "n_mobile", "n_fixed", "n_broadband", "n_itv", "org_revenue",
            "official_rank", "churned", "province", "legacy_club", "paid_before"]


@st.composite
def customer_rows(draw, cid: object) -> list[dict]:
    start = add_months(FIRST_MONTH, draw(st.integers(0, 14)))
    n = draw(st.integers(1, 30))
    back = draw(st.sampled_from([0, 0, 0, 1, 5, 11, 12, 13, 24, 35, 36, 59, 60, 119, 120, 140]))
    join = add_months(start, -back)
    brand = draw(st.sampled_from(BRANDS))
    line = draw(st.sampled_from(LINES))
    segment = draw(st.sampled_from(["personal"] * 4 + ["enterprise"]))
    account = draw(st.sampled_from(ACCOUNT_TYPES))
    # eligibility may change mid-history: from month `switch` on, another account type
    switch = draw(st.one_of(st.none(), st.integers(0, n - 1)))
    account2 = draw(st.sampled_from(ACCOUNT_TYPES))
    n_mobile = draw(st.sampled_from([0, 1, 1, 2, 10, 11]))
    n_fixed = draw(st.sampled_from([0, 0, 1, 5, 6]))
    n_broadband = draw(st.sampled_from([0, 0, 1, 5, 6]))
    n_itv = draw(st.sampled_from([0, 0, 1, 5, 6]))
    org_revenue = draw(st.sampled_from(ORG_REVENUES))
    rank = draw(st.sampled_from(RANKS))
    paid_mode = draw(st.sampled_from(["same", "same", "less", "random"]))
    arrears_start = draw(st.integers(0, n))
    arrears_len = draw(st.sampled_from([0, 0, 1, 3, 4, 6]))
    legacy = draw(st.sampled_from([None, None, "silver", "gold", "diamond"]))
    legacy_until = add_months(start, draw(st.integers(-3, 14)))
    paid_before = draw(st.sampled_from([None, 0.0, 500.0, 3000.0, 20000.0]))
    rows = []
    for k in range(n):
        billed = draw(spend)
        paid = {"same": billed, "less": billed / 2,
                "random": draw(spend)}[paid_mode]
        rows.append({
            "customer_id": cid,
            "month": add_months(start, k),
            "join_month": join,
            "billed": billed,
            "paid": paid,
            "plan_fee": draw(st.sampled_from(PLAN_FEES)),
            "brand": brand,
            "line": line,
            "segment": segment,
            "account_type": account2 if switch is not None and k >= switch else account,
            "suspensions": draw(st.sampled_from([0, 0, 0, 0, 0, 1, 2])),
            "in_arrears": arrears_start <= k < arrears_start + arrears_len,
            "n_mobile": n_mobile,
            "n_fixed": n_fixed,
            "n_broadband": n_broadband,
            "n_itv": n_itv,
            "org_revenue": org_revenue,
            "official_rank": rank,
            "churned": k == n - 1 and draw(st.booleans()),
            "province": None,
            "legacy_club_tier": legacy,
            "legacy_club_until": legacy_until if legacy else None,
            "paid_before": paid_before,
        })
    return rows


@st.composite
def row_orders(draw, rows: list[dict]) -> list[dict]:
    """The rows sorted, shuffled, reversed, or with one adjacent pair swapped (one descent)."""
    how = draw(st.sampled_from(["sorted", "sorted", "shuffled", "reversed", "one swap"]))
    if how == "shuffled":
        return draw(st.permutations(rows))
    if how == "reversed":
        return rows[::-1]
    if how == "one swap" and len(rows) >= 2:
        k = draw(st.integers(0, len(rows) - 2))
        return rows[:k] + [rows[k + 1], rows[k]] + rows[k + 2:]
    return rows


@st.composite
def panels(draw, *, max_customers: int = 4) -> pl.DataFrame:
    """A valid panel; optional columns present or not, rows possibly shuffled."""
    n = draw(st.integers(1, max_customers))
    int_ids = draw(st.booleans())
    ids = [100 + k if int_ids else f"c{k}" for k in range(n)]
    rows = [r for cid in ids for r in draw(customer_rows(cid))]
    present = {c for c in OPTIONAL if draw(st.booleans())}
    rows = draw(row_orders(rows))
    columns = ["customer_id", "month", "join_month", "billed"] + [
        c for c in DTYPES if c in present
        or (c in ("legacy_club_tier", "legacy_club_until") and "legacy_club" in present)
    ]
    schema = {c: DTYPES[c] for c in columns}
    schema["customer_id"] = pl.Int64 if int_ids else pl.String
    return pl.DataFrame({c: [r[c] for r in rows] for c in columns}, schema=schema)
