"""Synthetic customer panels with a known churn mechanism (issue #3).

Real carrier data cannot ship, so :func:`make_panel` draws a panel of Chinese telecom
customers from documented parameters (:class:`Knobs`, listed with their meaning in
``data/README.md``) and keeps the ground truth of the churn hazard beside it.

The mechanism, in the order it is simulated:

1. **Customers** (static): carrier, brand, primary line, account type, segment (enterprise
   key persons with ``org_revenue`` / ``official_rank``), product counts, province, join
   month. Long-standing customers joined before the panel start and are left-truncated at
   ``start``; a share of customers joins during the panel (first row = join month).
2. **Spend** (one vectorised step per month): a persistent log level per customer (a lognormal
   cross-section with a high-value tail, an AR(1) deviation, a small drift, and for a share of
   "decliners" a steady fall from a random onset month), a calendar-month seasonal factor,
   ``plan_fee`` from a plan catalogue, re-chosen at random plan reviews, ``billed`` =
   max(plan fee, usage), arrears spells that cluster in time (a sticky two-state chain), arrears
   suspensions, and ``paid`` (short in arrears, the debt repaid when the spell ends).
3. **Tiers**: the whole un-truncated spend path is rated with :func:`tierlib.rate` under the
   customer's own carrier's main scheme (:data:`MAIN_SCHEME`). A *tier drop* is a month whose
   ``rank`` is below the previous month's; the drop month and the next ``drop_window - 1``
   months form the *post-drop window*.
4. **Churn**: a monthly hazard ``base_hazard x tenure x spend-trend x arrears x account x
   segment`` (the *base* hazard), times ``drop_effect`` inside a post-drop window. Churn is
   drawn month by month from the hazard; the customer's rows end at the churn month, whose row
   has ``churned = true``. Rating the full path and truncating afterwards is consistent because
   a month's tier depends on earlier months only.

Customers are generated in blocks of :data:`BLOCK` customers, each with its own random stream
derived from ``seed`` and the block number, so the result does not depend on how it is written
out (in memory or streamed to parquet) and memory stays bounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from tierlib.months import as_month, month_index
from tierlib.panel import ACCOUNT_TYPES, LINES, RANKS, SEGMENTS

__all__ = ["Knobs", "MAIN_SCHEME", "BLOCK", "make_panel", "iter_blocks", "write_panel"]

#: The carrier's main scheme, whose tier drops raise the churn hazard.
MAIN_SCHEME = {"telecom": "telecom_star", "unicom": "unicom_vip", "mobile": "mobile_gotone"}
#: Customers per generation block (part of the determinism contract: changing it changes data).
BLOCK = 100_000

CARRIERS = ("mobile", "telecom", "unicom")
# Provinces (pinyin ids) weighted by population in millions (2020 census, rounded).
PROVINCES = {
    "guangdong": 126, "shandong": 101, "henan": 99, "jiangsu": 85, "sichuan": 84, "hebei": 75,
    "hunan": 66, "zhejiang": 65, "anhui": 61, "hubei": 58, "guangxi": 50, "yunnan": 47,
    "jiangxi": 45, "liaoning": 43, "fujian": 42, "shaanxi": 40, "guizhou": 39, "shanxi": 35,
    "chongqing": 32, "heilongjiang": 31, "xinjiang": 26, "gansu": 25, "shanghai": 25,
    "inner_mongolia": 24, "jilin": 24, "beijing": 22, "tianjin": 14, "hainan": 10,
    "ningxia": 7, "qinghai": 6, "tibet": 4,
}


def _d(**kw):
    return field(default_factory=lambda: dict(kw))


@dataclass(frozen=True)
class Knobs:
    """Every parameter of the generator, with its default (money in yuan, rates per month).

    Pass any of them as keyword arguments to :func:`make_panel`. The defaults are set near
    public carrier figures (monthly churn 1-2 %, median mobile ARPU 50-90 yuan) and tuned so a
    few percent of customers reach the top tier of each carrier's main scheme.
    """

    # --- population -----------------------------------------------------------------------
    carrier_shares: dict = _d(mobile=0.60, telecom=0.22, unicom=0.18)
    brand_shares: dict = _d(mobile={"gotone": 0.12, "mzone": 0.28, "easyown": 0.60},
                            telecom={"tianyi": 0.75, "ehome": 0.25},
                            unicom={"wo": 0.80, "ruyitong": 0.20})
    # share of fixed / broadband primary lines (the rest is mobile); ehome is a home bundle
    fixed_line_share: dict = _d(mobile=0.0, telecom=0.0, unicom=0.04, ehome=0.30)
    broadband_line_share: dict = _d(mobile=0.03, telecom=0.0, unicom=0.08, ehome=0.70)
    account_type_shares: dict = _d(standard=0.885, prepaid=0.05, data_card=0.02,
                                   family_member=0.015, secondary_card=0.012, staff_plan=0.006,
                                   payphone=0.005, public_free=0.004, test=0.003)
    enterprise_share: float = 0.03          # key persons among standard accounts
    org_revenue_median: float = 40_000.0    # yuan a year, lognormal
    org_revenue_sigma: float = 1.2
    official_rank_shares: dict = _d(bureau=0.03, division=0.09, section=0.18)  # rest: none
    extra_mobile_p: float = 0.25            # P(one more mobile line), geometric
    fleet_share: float = 0.003              # customers with 11-20 mobile lines
    broadband_addon_p: float = 0.35         # mobile-line customers who also hold broadband
    fixed_addon_p: float = 0.05             # non-fixed-line customers who also hold a fixed line
    ehome_fixed_p: float = 0.6              # ... and ehome (home bundle) customers
    itv_p: float = 0.5                      # broadband holders with an ITV box
    # --- tenure ---------------------------------------------------------------------------
    new_join_share: float = 0.25            # customers whose join month is inside the panel
    mean_tenure_months: float = 60.0        # exponential tenure at start, long-standing customers
    old_guard_share: float = 0.15           # joined uniformly between earliest_join and 2012
    earliest_join: str = "2000-01-01"
    # --- spend ----------------------------------------------------------------------------
    brand_median: dict = _d(gotone=170.0, mzone=65.0, easyown=47.0, tianyi=75.0, ehome=120.0,
                            wo=70.0, ruyitong=40.0)
    line_factor: dict = _d(mobile=1.0, fixed=0.7, broadband=1.0)
    account_factor: dict = _d(standard=1.0, prepaid=0.6, data_card=0.5, family_member=0.5,
                              secondary_card=0.4, staff_plan=0.5, payphone=0.3,
                              public_free=1.0, test=0.2)
    enterprise_factor: float = 2.0
    lines_elasticity: float = 0.5           # spend ~ n_mobile ** elasticity
    spend_sigma: float = 0.65               # cross-section sd of the log level
    high_value_share: float = 0.04          # heavy tail: level x exp(N(mu, sd))
    high_value_log_mu: float = 1.8
    high_value_log_sd: float = 0.5
    ar_rho: float = 0.85                    # persistence of the monthly log deviation
    ar_sd: float = 0.08
    noise_sd: float = 0.06                  # transitory month noise (log)
    drift_sd: float = 0.003                 # per-customer log drift per month
    decliner_share: float = 0.20            # customers whose spend falls from an onset month
    decline_rate: tuple = (0.02, 0.06)      # uniform range, log points per month
    season: tuple = (1.03, 1.06, 0.99, 0.98, 0.99, 0.99, 1.01, 1.02, 0.99, 1.00, 0.97, 0.97)
    plan_catalogue: tuple = (8, 18, 38, 58, 88, 128, 158, 188, 238, 288, 388, 588)
    plan_ratio: float = 0.8                 # desired plan: largest fee <= ratio x level
    plan_review_p: float = 0.06             # monthly chance to move to the desired plan
    no_plan_accounts: tuple = ("prepaid", "payphone", "public_free", "test")
    paid_before: bool = True                # give left-truncated customers a paid_before column ...
    paid_before_factor: tuple = (0.7, 1.0)  # ... = months before start x level x U(a, b)
    # --- arrears --------------------------------------------------------------------------
    arrears_beta: tuple = (0.6, 30.0)       # per-customer P(falling into arrears), Beta(a, b)
    arrears_stay_p: float = 0.6             # P(still in arrears next month)
    decliner_arrears_factor: float = 2.0
    suspension_p: tuple = (0.5, 0.1)        # P(1 suspension), P(2) in an arrears month
    arrears_shortfall: tuple = (0.4, 1.0)   # share of the bill left unpaid in arrears, U(a, b)
    prepaid_suspension_p: float = 0.02      # balance run out (no arrears for prepaid)
    # --- churn ----------------------------------------------------------------------------
    base_hazard: float = 0.0125             # monthly hazard of a reference customer
    hazard_new: float = 2.0                 # tenure factor at the join month ...
    hazard_long: float = 0.8                # ... decaying to this for long tenure
    hazard_tenure_scale: float = 12.0       # months
    hazard_trend: float = 1.5               # exp(coef x fall): fall = -log(last 3 / prior 3 months)
    hazard_arrears: float = 2.5
    hazard_suspension: float = 1.5
    hazard_account: dict = _d(prepaid=1.8, data_card=1.5, secondary_card=1.5, test=0.5)
    hazard_enterprise: float = 0.6
    drop_effect: float = 2.5                # hazard multiplier after a tier drop ...
    drop_window: int = 3                    # ... for the drop month and the next months
    max_hazard: float = 0.9

    def __post_init__(self):
        _check_shares(self)
        bad = [name for name, ok in (
            ("base_hazard", 0 < self.base_hazard < 1), ("max_hazard", 0 < self.max_hazard <= 1),
            ("drop_effect", self.drop_effect >= 0),
            ("drop_window", isinstance(self.drop_window, int) and self.drop_window >= 1),
            ("ar_rho", 0 <= self.ar_rho < 1), ("new_join_share", 0 <= self.new_join_share <= 1),
            ("plan_catalogue", list(self.plan_catalogue) == sorted(self.plan_catalogue)),
            ("season", len(self.season) == 12),
        ) if not ok]
        if bad:
            raise ValueError(f"knob(s) out of range: {', '.join(f'{b}={getattr(self, b)!r}' for b in bad)}")

    @classmethod
    def make(cls, **kw) -> Knobs:
        """Knobs from keyword overrides. An unknown name is a TypeError.

        A *share* knob (:data:`SHARE_KNOBS`) given is the mix used, whole: names left out get
        share 0, and the shares must sum to 1 (``official_rank_shares``: at most 1, the rest
        has no rank), else a ValueError names the knob and the sum; nothing is renormalised.
        ``brand_shares`` replaces the mix of each carrier it names. Every other dict knob is
        merged into its default, so ``brand_median={"gotone": 200.0}`` changes one brand.
        """
        default = cls()
        for name, value in kw.items():
            current = getattr(default, name, None)
            if name == "brand_shares" and isinstance(value, Mapping):
                kw[name] = {**current, **{c: dict(v) for c, v in value.items()}}
            elif isinstance(current, dict) and isinstance(value, Mapping) and name not in SHARE_KNOBS:
                kw[name] = {**current, **value}
            elif isinstance(value, Mapping):
                kw[name] = dict(value)
            elif isinstance(value, list):
                kw[name] = tuple(value)
        return cls(**kw)


#: Share knobs: the dict given is the whole mix (see :meth:`Knobs.make`); name -> allowed keys.
SHARE_KNOBS = {"carrier_shares": CARRIERS, "account_type_shares": ACCOUNT_TYPES,
               "official_rank_shares": RANKS}


def _check_share(name: str, shares, allowed, *, at_most: bool = False) -> None:
    if not isinstance(shares, Mapping) or not shares:
        raise ValueError(f"knob {name}: expected a non-empty dict name -> share, got {shares!r}")
    unknown = [x for x in shares if x not in allowed]
    if unknown:
        raise ValueError(f"knob {name}: unknown name(s) {', '.join(map(repr, unknown))} "
                         f"(one of {', '.join(allowed)})")
    bad = {x: v for x, v in shares.items() if not (isinstance(v, (int, float)) and 0 <= v <= 1)}
    if bad:
        raise ValueError(f"knob {name}: shares must be numbers in [0, 1], got {bad}")
    total = float(sum(shares.values()))
    if (total > 1 + 1e-9) if at_most else abs(total - 1) > 1e-9:
        need = "at most 1 (the rest: no rank)" if at_most else "1"
        raise ValueError(f"knob {name}: shares {dict(shares)} sum to {total:g}, not {need}; "
                         "give the whole mix (names left out get share 0)")


def _check_shares(k: Knobs) -> None:
    for name, allowed in SHARE_KNOBS.items():
        _check_share(name, getattr(k, name), allowed, at_most=name == "official_rank_shares")
    for carrier in CARRIERS:
        if carrier not in k.brand_shares:
            raise ValueError(f"knob brand_shares: no brand mix for carrier {carrier!r}")
        _check_share(f"brand_shares[{carrier!r}]", k.brand_shares[carrier], tuple(k.brand_shares[carrier]))


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


# --- 3. frames, rating, churn ---------------------------------------------------------------

def _static_frame(c: dict, s: dict, ids: np.ndarray, k: Knobs) -> pl.DataFrame:
    def enum(codes, values):
        labels = np.array([*values, ""])  # code -1 (none) -> null
        out = pl.Series(labels[codes])
        return pl.select(pl.when(out != "").then(out)).to_series().cast(_enum(values))
    return pl.DataFrame({
        "customer_id": ids,
        "join_month": _t_dates(c["join_t"]),
        "carrier": enum(c["carrier"], CARRIERS),
        "brand": enum(c["brand"], _brands(k)),
        "line": enum(c["line"], LINES),
        "segment": enum(c["segment"], SEGMENTS),
        "account_type": enum(c["account_type"], ACCOUNT_TYPES),
        "n_mobile": c["n_mobile"].astype(np.int32), "n_fixed": c["n_fixed"].astype(np.int32),
        "n_broadband": c["n_broadband"].astype(np.int32), "n_itv": c["n_itv"].astype(np.int32),
        "org_revenue": pl.Series(c["org_revenue"], nan_to_null=True),
        "official_rank": enum(np.where(c["official_rank"] < len(RANKS), c["official_rank"], -1), RANKS),
        "province": enum(c["province"], PROVINCES),
        "paid_before": s["paid_before"] if k.paid_before else np.full(len(ids), np.nan),
    }).with_columns(pl.col("customer_id").cast(pl.Int64))


PANEL_ORDER = ["customer_id", "month", "join_month", "billed", "paid", "plan_fee", "carrier",
               "brand", "line", "segment", "account_type", "suspensions", "in_arrears", "n_mobile",
               "n_fixed", "n_broadband", "n_itv", "org_revenue", "official_rank", "province",
               "paid_before", "churned"]


def _long_frame(static: pl.DataFrame, s: dict, rows: tuple[np.ndarray, np.ndarray], t0: int) -> pl.DataFrame:
    i, m = rows
    monthly = pl.DataFrame({
        "month": _t_dates(t0 + m),
        "billed": s["billed"][i, m], "paid": s["paid"][i, m], "plan_fee": s["plan_fee"][i, m],
        "suspensions": s["suspensions"][i, m].astype(np.int32), "in_arrears": s["in_arrears"][i, m],
    })
    return pl.concat([static[i], monthly], how="horizontal")


def _rank_matrix(frame: pl.DataFrame, static: pl.DataFrame, id0: int, shape: tuple[int, int],
                 t0: int) -> np.ndarray:
    """Rank of each row under its carrier's main scheme, as a (customers, months) matrix."""
    import tierlib

    ranks = np.zeros(shape, dtype=np.int16)
    # each main scheme rates its own carrier's customers (the one own-carrier filter, in rate)
    led = tierlib.rate(frame, list(MAIN_SCHEME.values()), own_carrier=True).select(
        i=(pl.col("customer_id") - id0).cast(pl.Int64),
        m=(pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month() - 1 - t0),
        rank=pl.col("rank").cast(pl.Int16))
    ranks[led["i"].to_numpy(), led["m"].to_numpy()] = led["rank"].to_numpy()
    return ranks


def _hazard(c: dict, s: dict, ranks: np.ndarray, live: np.ndarray, t0: int, k: Knobs) -> dict:
    n, months = live.shape
    tenure = (t0 + np.arange(months))[None, :] - c["join_t"][:, None]
    f_tenure = k.hazard_long + (k.hazard_new - k.hazard_long) * np.exp(-np.clip(tenure, 0, None)
                                                                       / k.hazard_tenure_scale)
    # spend trend: mean billed of the last 3 months (this one included) over the 3 before
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(s["billed"], axis=1)], axis=1)
    last3 = np.zeros((n, months))
    prior3 = np.zeros((n, months))
    last3[:, 5:] = cs[:, 6:] - cs[:, 3:-3]
    prior3[:, 5:] = cs[:, 3:-3] - cs[:, :-6]
    first_k = np.clip(c["join_t"] - t0, 0, None)
    enough = (np.arange(months)[None, :] - 5 >= first_k[:, None]) & (prior3 > 0) & (last3 > 0)
    fall = np.where(enough, -np.log(np.where(enough, last3 / np.where(prior3 > 0, prior3, 1), 1)), 0.0)
    f_trend = np.exp(k.hazard_trend * np.clip(fall, 0, None))
    f_arrears = np.where(s["in_arrears"], k.hazard_arrears, 1.0) * np.where(
        s["suspensions"] > 0, k.hazard_suspension, 1.0)
    f_acct = np.array([k.hazard_account.get(a, 1.0) for a in ACCOUNT_TYPES])[c["account_type"]]
    f_seg = np.where(c["segment"] == 1, k.hazard_enterprise, 1.0)
    base = k.base_hazard * f_tenure * f_trend * f_arrears * (f_acct * f_seg)[:, None]
    # tier drops under the main scheme and the post-drop window (drop month included)
    drop = np.zeros((n, months), dtype=bool)
    drop[:, 1:] = live[:, 1:] & live[:, :-1] & (ranks[:, 1:] < ranks[:, :-1])
    post = np.zeros((n, months), dtype=bool)
    last = np.full(n, -10**6)
    for m in range(months):
        last = np.where(drop[:, m], m, last)
        post[:, m] = m - last < k.drop_window
    base = np.minimum(base, k.max_hazard)
    hazard = np.minimum(np.where(post, base * k.drop_effect, base), k.max_hazard)
    return dict(base=base, hazard=hazard, drop=drop, post=post)


def _block(block: int, n: int, id0: int, months: int, t0: int, seed: int, k: Knobs
           ) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    c = _customers(rng, n, months, t0, k)
    s = _spend(rng, c, months, t0, k)
    static = _static_frame(c, s, np.arange(id0, id0 + n), k)
    live = np.arange(months)[None, :] >= np.clip(c["join_t"] - t0, 0, None)[:, None]
    full = _long_frame(static, s, np.nonzero(live), t0)
    ranks = _rank_matrix(full, static, id0, live.shape, t0)
    h = _hazard(c, s, ranks, live, t0, k)
    event = live & (rng.random(live.shape) < h["hazard"])
    churn_m = np.where(event.any(axis=1), event.argmax(axis=1), months)
    keep = live & (np.arange(months)[None, :] <= churn_m[:, None])
    keep_flat = keep[np.nonzero(live)]
    i, m = np.nonzero(keep)
    churned = m == churn_m[i]
    panel = full.filter(pl.Series(keep_flat)).with_columns(churned=pl.Series(churned))
    panel = panel.select(PANEL_ORDER if k.paid_before else [x for x in PANEL_ORDER if x != "paid_before"])
    truth = pl.DataFrame({
        "customer_id": panel["customer_id"], "month": panel["month"], "carrier": panel["carrier"],
        "scheme": pl.Series(np.array([MAIN_SCHEME[x] for x in CARRIERS])[c["carrier"][i]],
                            dtype=pl.String).cast(_enum(MAIN_SCHEME.values())),
        "rank": ranks[i, m].astype(np.int8),
        "tier_drop": h["drop"][i, m], "post_drop": h["post"][i, m],
        # float32: 7 significant digits, ample for a hazard, and half the bytes of the sample
        "base_hazard": h["base"][i, m].astype(np.float32),
        "drop_effect": np.full(len(i), float(k.drop_effect), dtype=np.float32),
        "hazard": h["hazard"][i, m].astype(np.float32), "decliner": s["decliner"][i], "churned": churned,
    })
    return panel, truth


def iter_blocks(n_customers: int, months: int, *, start: str | dt.date = "2023-01-01", seed: int = 0,
                **knobs) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield ``(panel, truth)`` blocks of at most :data:`BLOCK` customers (see :func:`make_panel`)."""
    if n_customers < 1 or months < 1:
        raise ValueError("n_customers and months must be >= 1")
    k = Knobs.make(**knobs)
    t0 = _month_t(start)
    for b, id0 in enumerate(range(0, n_customers, BLOCK)):
        yield _block(b, min(BLOCK, n_customers - id0), id0 + 1, months, t0, seed, k)


def make_panel(n_customers: int, months: int, *, start: str | dt.date = "2023-01-01", seed: int = 0,
               **knobs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Draw a synthetic panel and its churn ground truth.

    Parameters
    ----------
    n_customers : int
        Customers drawn (rows end at churn, so the panel has fewer than
        ``n_customers * months`` rows).
    months : int
        Panel length in months, from ``start``.
    start : str or date
        First panel month (the 1st of a month).
    seed : int
        Same seed, same frames (and same parquet bytes).
    **knobs
        Any field of :class:`Knobs`, e.g. ``drop_effect=1.0`` for no drop effect.

    Returns
    -------
    panel : DataFrame
        One row per customer per month in network, RULES.md §1 columns plus ``carrier``;
        passes :func:`tierlib.validate`.
    truth : DataFrame
        One row per panel row: ``customer_id, month, carrier, scheme, rank, tier_drop,
        post_drop, base_hazard, drop_effect, hazard, decliner, churned``.

    Examples
    --------
    >>> panel, truth = make_panel(200, 12, seed=1)
    >>> panel.height == truth.height
    True
    >>> bool(truth.select((pl.col("hazard") >= pl.col("base_hazard")).all()).item())
    True
    """
    blocks = list(iter_blocks(n_customers, months, start=start, seed=seed, **knobs))
    return (pl.concat([p for p, _ in blocks], rechunk=True),
            pl.concat([t for _, t in blocks], rechunk=True))


def write_panel(out: str | Path, n_customers: int, months: int, *, start: str | dt.date = "2023-01-01",
                seed: int = 0, **knobs) -> tuple[Path, Path]:
    """Stream :func:`make_panel` block by block to ``out/panel.parquet`` and ``out/truth.parquet``.

    Memory stays near one block (:data:`BLOCK` customers) whatever ``n_customers`` is. ``out``
    must not exist or be an empty folder (never overwritten); it is built in a hidden sibling
    and published by one rename when complete, so an interrupted run leaves no panel.
    """
    import pyarrow.parquet as pq

    from tierlib.outputs import atomic_dir

    out = Path(out)
    with atomic_dir(out) as tmp:  # never over an existing output; nothing visible until complete
        paths = (tmp / "panel.parquet", tmp / "truth.parquet")
        writers: list = [None, None]
        try:
            for frames in iter_blocks(n_customers, months, start=start, seed=seed, **knobs):
                for j, frame in enumerate(frames):
                    table = frame.to_arrow()
                    if writers[j] is None:
                        writers[j] = pq.ParquetWriter(paths[j], table.schema, compression="zstd")
                    writers[j].write_table(table)
        finally:
            for w in writers:
                if w is not None:
                    w.close()
    return out / "panel.parquet", out / "truth.parquet"


def main(argv: list[str] | None = None) -> int:
    """``python -m tierlib.synth ...``: the same command as ``tierlib synth`` (parsed by the CLI)."""
    import sys

    from tierlib.cli import main as cli_main

    return cli_main(["synth", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
