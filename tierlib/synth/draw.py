"""Drawing customers and their monthly spend, plans and arrears (steps 1 and 2 of :mod:`tierlib.synth`).

Vectorised numpy over customers; one step per month for the spend path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import polars as pl

from tierlib.months import as_month, month_index
from tierlib.panel import ACCOUNT_TYPES, LINES, RANKS
from tierlib.synth.knobs import CARRIERS, PROVINCES, Knobs


def _enum(values) -> pl.Enum:
    return pl.Enum(list(values))


def _brands(k: Knobs) -> list[str]:
    return list(dict.fromkeys(b for c in CARRIERS for b in k.brand_shares[c]))


def _month_t(d: str | int | dt.date) -> int:
    return month_index(as_month(d, name="start"))


def _t_dates(t: np.ndarray) -> np.ndarray:
    """Month indices -> numpy datetime64[D] on the 1st."""
    return (np.asarray(t, dtype="int64") - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")


def _pick(rng: np.random.Generator, shares: Mapping[str, float], size: int) -> np.ndarray:
    """Index into ``list(shares)`` drawn with the given (normalised) shares."""
    p = np.array(list(shares.values()), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


# --- 1. customers ---------------------------------------------------------------------------

def _customers(rng: np.random.Generator, n: int, months: int, t0: int, k: Knobs) -> dict:
    brands = _brands(k)
    carrier = _pick(rng, {c: k.carrier_shares.get(c, 0.0) for c in CARRIERS}, n)
    brand = np.zeros(n, dtype=np.int64)
    for ci, c in enumerate(CARRIERS):
        m = carrier == ci
        names = list(k.brand_shares[c])
        brand[m] = np.array([brands.index(b) for b in names])[_pick(rng, k.brand_shares[c], m.sum())]
    # line: fixed / broadband shares by brand (ehome is a home bundle) or else by carrier
    ehome = brand == brands.index("ehome") if "ehome" in brands else np.zeros(n, dtype=bool)
    share = lambda d: np.where(ehome, d.get("ehome", 0.0),  # noqa: E731
                               np.array([d.get(x, 0.0) for x in CARRIERS])[carrier])
    p_fixed, p_bb = share(k.fixed_line_share), share(k.broadband_line_share)
    u = rng.random(n)
    line = np.where(u < p_fixed, 1, np.where(u < p_fixed + p_bb, 2, 0))
    acct = _pick(rng, {a: k.account_type_shares.get(a, 0.0) for a in ACCOUNT_TYPES}, n)
    line = np.where(acct == ACCOUNT_TYPES.index("payphone"), 1, line)  # payphones are fixed lines
    line = np.where(acct == ACCOUNT_TYPES.index("data_card"), 0, line)
    standard = acct == 0
    enterprise = standard & (rng.random(n) < k.enterprise_share)
    org_revenue = np.where(enterprise, np.round(k.org_revenue_median * np.exp(
        k.org_revenue_sigma * rng.standard_normal(n)), -2), np.nan)
    rank_p = {r: k.official_rank_shares.get(r, 0.0) for r in RANKS}
    rank_p["_none"] = max(0.0, 1.0 - sum(rank_p.values()))
    rank = np.where(enterprise, _pick(rng, {r: rank_p.get(r, 0.0) for r in (*RANKS, "_none")}, n), 3)
    # products held under the customer's ID
    n_mobile = np.where(line == 0, 1, rng.integers(0, 2, n)) + rng.geometric(1 - k.extra_mobile_p, n) - 1
    n_mobile = np.where(rng.random(n) < k.fleet_share, rng.integers(11, 21, n), n_mobile)
    n_mobile = np.where(acct == ACCOUNT_TYPES.index("payphone"), 0, n_mobile)
    n_fixed = np.where(line == 1, 1, (rng.random(n) < np.where(ehome, k.ehome_fixed_p, k.fixed_addon_p)).astype(int))
    n_bb = np.where(line == 2, 1, (rng.random(n) < k.broadband_addon_p).astype(int))
    n_bb = np.where(np.isin(acct, [ACCOUNT_TYPES.index(a) for a in ("payphone", "data_card")]), 0, n_bb)
    n_itv = ((n_bb > 0) & (rng.random(n) < k.itv_p)).astype(int)
    province = _pick(rng, PROVINCES, n)
    # join month: new joins uniform over the panel, long-standing ones before start
    t_min = _month_t(k.earliest_join)
    new = rng.random(n) < k.new_join_share
    stock_tenure = 1 + np.floor(rng.exponential(k.mean_tenure_months, n))
    old_guard = rng.random(n) < k.old_guard_share
    old_t = rng.integers(t_min, max(t_min + 1, min(2012 * 12, t0)), n)
    join_t = np.where(old_guard, old_t, t0 - stock_tenure)
    join_t = np.maximum(join_t, t_min)
    join_t = np.where(new, t0 + rng.integers(0, months, n), join_t).astype(np.int64)
    return dict(carrier=carrier, brand=brand, line=line, account_type=acct, segment=enterprise.astype(int),
                org_revenue=org_revenue, official_rank=rank, n_mobile=n_mobile, n_fixed=n_fixed,
                n_broadband=n_bb, n_itv=n_itv, province=province, join_t=join_t)


# --- 2. spend, plans, arrears ---------------------------------------------------------------

def _spend(rng: np.random.Generator, c: dict, months: int, t0: int, k: Knobs) -> dict:
    n = len(c["carrier"])
    brands = _brands(k)
    log_level = (np.log(np.array([k.brand_median[b] for b in brands]))[c["brand"]]
                 + np.log(np.array([k.line_factor[x] for x in LINES]))[c["line"]]
                 + np.log(np.array([k.account_factor[a] for a in ACCOUNT_TYPES]))[c["account_type"]]
                 + np.log(k.enterprise_factor) * c["segment"]
                 + k.lines_elasticity * np.log(np.maximum(c["n_mobile"], 1))
                 + k.spend_sigma * rng.standard_normal(n))
    tail = rng.random(n) < k.high_value_share
    log_level += tail * (k.high_value_log_mu + k.high_value_log_sd * rng.standard_normal(n))
    first_k = np.clip(c["join_t"] - t0, 0, None)
    drift = k.drift_sd * rng.standard_normal(n)
    decliner = rng.random(n) < k.decliner_share
    decline = np.where(decliner, rng.uniform(*k.decline_rate, n), 0.0)
    onset = first_k + np.floor(rng.random(n) * (months - first_k)).astype(np.int64)
    a, b = k.arrears_beta
    p_arrears = rng.beta(a, b, n) * np.where(decliner, k.decliner_arrears_factor, 1.0)
    acct = c["account_type"]
    postpaid = ~np.isin(acct, [ACCOUNT_TYPES.index(x) for x in ("prepaid", "test", "public_free")])
    prepaid = acct == ACCOUNT_TYPES.index("prepaid")
    has_plan = ~np.isin(acct, [ACCOUNT_TYPES.index(x) for x in k.no_plan_accounts])
    catalogue = np.asarray(k.plan_catalogue, dtype=float)
    season = np.asarray(k.season, dtype=float)

    def desired(level):
        i = np.searchsorted(catalogue, k.plan_ratio * level, side="right") - 1
        return np.where(has_plan, catalogue[np.clip(i, 0, None)], 0.0)

    out = {x: np.zeros((n, months)) for x in ("billed", "paid", "plan_fee")}
    out["in_arrears"] = np.zeros((n, months), dtype=bool)
    out["suspensions"] = np.zeros((n, months), dtype=np.int64)
    u = k.ar_sd / np.sqrt(1 - k.ar_rho**2) * rng.standard_normal(n)  # stationary start
    plan = np.zeros(n)
    arrears = np.zeros(n, dtype=bool)
    debt = np.zeros(n)
    for m in range(months):  # one vectorised step per month (customers in columns)
        live = m >= first_k
        start = m == first_k
        u = k.ar_rho * u + k.ar_sd * rng.standard_normal(n)
        age = np.maximum(m - first_k, 0)
        level = np.exp(log_level + drift * age - decline * np.maximum(m - onset, 0) + u)
        want = desired(level)
        review = start | (rng.random(n) < k.plan_review_p)
        plan = np.where(review, want, plan)
        usage = level * season[(t0 + m) % 12] * np.exp(k.noise_sd * rng.standard_normal(n))
        billed = np.round(np.maximum(plan, usage), 2)
        enter = rng.random(n) < p_arrears
        stay = rng.random(n) < k.arrears_stay_p
        arrears = postpaid & live & ~start & np.where(arrears, stay, enter)
        v = rng.random(n)
        susp = np.where(arrears, (v < k.suspension_p[0] + k.suspension_p[1]).astype(int)
                        + (v < k.suspension_p[1]), 0)
        susp = np.where(prepaid & live & (v < k.prepaid_suspension_p), 1, susp)
        short = np.round(billed * rng.uniform(*k.arrears_shortfall, n), 2)
        paid = np.where(arrears, billed - short, billed + debt)
        debt = np.where(arrears, debt + short, 0.0)
        for name, val in (("billed", billed), ("paid", paid), ("plan_fee", plan),
                          ("in_arrears", arrears), ("suspensions", susp)):
            out[name][:, m] = np.where(live, val, 0)
    out["paid"] = np.round(out["paid"], 2)
    # yuan paid before the panel (left-truncated customers): months before start x level
    months_before = np.clip(t0 - c["join_t"], 0, None)
    out["paid_before"] = np.round(months_before * np.exp(log_level) * rng.uniform(*k.paid_before_factor, n), 2)
    out["decliner"] = decliner
    return out
