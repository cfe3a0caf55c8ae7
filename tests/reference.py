"""Slow, obvious, row-by-row reference implementation of the six tier schemes.

Used only by the tests. It is written from ``../shared/RULES.md`` and ``docs/CONTRACT.md``
alone, with every number typed in here from RULES.md (never read from the engine's YAML
files): it is meant to disagree with the engine whenever one of them misreads the spec.

It loops over customers and months in plain Python (dicts and lists). Tier-ish output
columns are plain strings; the comparison helpers cast the engine's Categoricals.

>>> import datetime as dt
>>> panel = pl.DataFrame({
...     "customer_id": ["a"] * 8,
...     "month": [dt.date(2024, k, 1) for k in range(1, 9)],
...     "join_month": [dt.date(2024, 1, 1)] * 8,
...     "billed": [150.0] * 8,
... })
>>> reference_rate(panel, "unicom_vip")["tier"].to_list()
['none', 'silver', 'silver', 'silver', 'silver', 'silver', 'silver', 'silver']
"""

from __future__ import annotations

import datetime as dt

import polars as pl

# --------------------------------------------------------------------------------------
# RULES.md §1: panel defaults
# --------------------------------------------------------------------------------------

#: optional column -> (dtype, default); ``paid`` defaults to ``billed`` (handled apart)
OPTIONAL_COLUMNS: dict[str, tuple[pl.DataType, object]] = {
    "plan_fee": (pl.Float64, 0.0),
    "brand": (pl.String, ""),
    "line": (pl.String, "mobile"),
    "segment": (pl.String, "personal"),
    "account_type": (pl.String, "standard"),
    "suspensions": (pl.Int64, 0),
    "in_arrears": (pl.Boolean, False),
    "n_mobile": (pl.Int64, 1),
    "n_fixed": (pl.Int64, 0),
    "n_broadband": (pl.Int64, 0),
    "n_itv": (pl.Int64, 0),
    "org_revenue": (pl.Float64, None),
    "official_rank": (pl.String, None),
    "churned": (pl.Boolean, False),
    "province": (pl.String, None),
}


def fill_defaults(panel: pl.DataFrame) -> pl.DataFrame:
    """Add every optional column of RULES.md §1 that is absent, with its default."""
    out = panel
    if "paid" not in out.columns:
        out = out.with_columns(pl.col("billed").cast(pl.Float64).alias("paid"))
    for name, (dtype, default) in OPTIONAL_COLUMNS.items():
        if name not in out.columns:
            out = out.with_columns(pl.lit(default, dtype=dtype).alias(name))
    return out


# --------------------------------------------------------------------------------------
# Month arithmetic (CONTRACT.md "Month index and tenure")
# --------------------------------------------------------------------------------------


def t_of(d: dt.date) -> int:
    """Month index: year * 12 + month - 1."""
    return d.year * 12 + d.month - 1


def date_of(t: int) -> dt.date:
    return dt.date(t // 12, t % 12 + 1, 1)


def window(hist: list[dict], i: int, n: int) -> list[dict]:
    """The customer's rows with month in [m-n, m-1] (RULES.md §1 'last N months')."""
    m = t_of(hist[i]["month"])
    return [r for r in hist[:i] if m - n <= t_of(r["month"]) <= m - 1]


def money(x: float) -> float:
    """A money sum counted in fen (CONTRACT.md): x * 100 rounded half to even, then / 100."""
    return round(x * 100) / 100


def window_complete(hist: list[dict], i: int, n: int) -> bool:
    m = t_of(hist[i]["month"])
    return max(m - n, t_of(hist[i]["join_month"])) >= t_of(hist[0]["month"])


def tenure(row: dict) -> int:
    return t_of(row["month"]) - t_of(row["join_month"])


def rank_by(score: float | None, thresholds: dict[str, float], ladder: list[str]) -> int:
    """Highest rank whose threshold the score meets (inclusive lower bounds)."""
    if score is None:
        return 0
    best = 0
    for r, name in enumerate(ladder):
        if r > 0 and score >= thresholds[name]:
            best = r
    return best


# --------------------------------------------------------------------------------------
# RULES.md §2: the holding scan (CONTRACT.md "Holding policies")
# --------------------------------------------------------------------------------------


def hold(
    ts: list[int],
    eligible: list[bool],
    assessed: list[int],
    end,
    *,
    cancel: list[bool] | None = None,
    held: int = 0,
    until: int | None = None,
) -> tuple[list[int], list[int | None]]:
    """Return (tier rank, validity end month index) per row."""
    tiers: list[int] = []
    untils: list[int | None] = []
    for k, t in enumerate(ts):
        if not eligible[k] or (cancel is not None and cancel[k]):
            tier, held, until = 0, 0, None
        elif held > 0 and until is not None and t <= until:
            if assessed[k] > held:  # an upgrade starts a new validity (seed 000, seed 001)
                held, until = assessed[k], end(t)
            tier = held
        else:  # no tier, or the validity is over: re-rated
            held = assessed[k]
            tier = held
            until = end(t) if held > 0 else None
        tiers.append(tier)
        untils.append(until if tier > 0 else None)
    return tiers, untils


# --------------------------------------------------------------------------------------
# RULES.md §3: the schemes. Each rater returns one dict per row of one customer's history.
# --------------------------------------------------------------------------------------

STAR7 = ["none", "star1", "star2", "star3", "star4", "star5", "star6", "star7"]
STAR5 = ["none", "star1", "star2", "star3", "star4", "star5"]
SGD = ["none", "silver", "gold", "diamond"]
LADDER6 = ["none", "regular", "silver", "gold", "platinum", "diamond"]
GOTONE = ["none", "vip", "silver", "gold", "platinum", "diamond"]

LADDERS = {
    "telecom_star": STAR7,
    "telecom_club": SGD,
    "unicom_vip": SGD,
    "unicom_ladder": LADDER6,
    "mobile_gotone": GOTONE,
    "mobile_credit": STAR5,
}

# 3.1 telecom_star
STAR_THR = {"star1": 600, "star2": 1000, "star3": 1500, "star4": 2300,
            "star5": 4000, "star6": 6000, "star7": 8000}
LEGACY_CLUB_TO_STAR = {"silver": 4, "gold": 5, "diamond": 6}  # [assumed]


def rate_telecom_star(hist: list[dict], variant: str) -> list[dict]:
    rows = []
    for i, r in enumerate(hist):
        eligible = (r["segment"] == "personal" and r["n_mobile"] <= 10 and r["n_fixed"] <= 5
                    and r["n_broadband"] <= 5 and r["n_itv"] <= 5)
        w = window(hist, i, 12)
        score = (money(sum(x["billed"] for x in w))
                 + (10 * tenure(r) if r["n_mobile"] > 0 else 0)
                 - 10 * sum(x["suspensions"] for x in w))
        a = rank_by(score, STAR_THR, STAR7) if eligible and tenure(r) > 0 else 0
        rows.append(dict(eligible=eligible, score=float(score), a=a, thr=STAR_THR,
                         window_complete=window_complete(hist, i, 12)))
    first = hist[0]
    held = LEGACY_CLUB_TO_STAR.get(first.get("legacy_club_tier") or "", 0)
    legacy_until = first.get("legacy_club_until")
    until = t_of(legacy_until) if held and legacy_until is not None else None
    tiers, untils = hold([t_of(r["month"]) for r in hist], [x["eligible"] for x in rows],
                         [x["a"] for x in rows], lambda t: t + 11, held=held, until=until)
    for x, tier, u in zip(rows, tiers, untils):
        x.update(tier=tier, valid_until=u)
    return rows


# 3.2 telecom_club
CLUB_BRAND_THR = {
    "ehome": {"silver": 1080, "gold": 2160, "diamond": 3360},
    "tianyi": {"silver": 1032, "gold": 2160, "diamond": 3360},
}
CLUB_OTHER_THR = {"silver": 1200, "gold": 2400, "diamond": 3600}
CLUB_HIGH_THR = {"silver": 3600, "gold": 6000, "diamond": 9600}
CLUB_ORG_THR = {"silver": 50000, "gold": 100000, "diamond": 300000}
CLUB_OFFICIAL = {"section": 1, "division": 2, "bureau": 3}


def rate_telecom_club(hist: list[dict], variant: str) -> list[dict]:
    rows = []
    for i, r in enumerate(hist):
        if r["segment"] == "enterprise":
            score = r["org_revenue"] if r["org_revenue"] is not None else 0.0
            thr = CLUB_ORG_THR
            a = max(rank_by(score, thr, SGD), CLUB_OFFICIAL.get(r["official_rank"] or "", 0))
        else:
            score = money(sum(x["billed"] for x in window(hist, i, 12)))
            thr = CLUB_HIGH_THR if variant == "high" else CLUB_BRAND_THR.get(r["brand"], CLUB_OTHER_THR)
            a = rank_by(score, thr, SGD)
        if tenure(r) == 0:
            a = 0
        streak = 0
        for x in reversed(hist[:i]):
            if not x["in_arrears"]:
                break
            streak += 1
        # CONTRACT.md gives telecom_club no window length. Read here (as the engine does): the
        # personal score E is a 12-month window; the enterprise score (org_revenue, rank) has no
        # window, so its window is always complete. Reported as a contract gap.
        complete = True if r["segment"] == "enterprise" else window_complete(hist, i, 12)
        rows.append(dict(eligible=True, score=float(score), a=a, thr=thr, streak=streak,
                         window_complete=complete))
    # until_rerating, rerating_month = 1: a tier got in year Y holds through December of Y
    tiers, untils = hold([t_of(r["month"]) for r in hist], [True] * len(hist),
                         [x["a"] for x in rows], lambda t: (t // 12) * 12 + 11,
                         cancel=[x["streak"] > 3 for x in rows])
    for r, x, tier, u in zip(hist, rows, tiers, untils):
        x.update(tier=tier, valid_until=u)
        if tier > 0 and x["streak"] >= 1:
            x["status"] = "frozen"
        if tier == 0 and r["plan_fee"] >= 80:
            x["flag"] = "provisional"
    return rows


# 3.3 unicom_vip
VIP_MOBILE_THR = {"silver": 150, "gold": 300, "diamond": 450}
VIP_FIXED_THR = {"silver": 100, "gold": 150, "diamond": 300}


def rate_unicom_vip(hist: list[dict], variant: str) -> list[dict]:
    rows = []
    for i, r in enumerate(hist):
        eligible = r["account_type"] == "standard"
        w = window(hist, i, 6)
        score = money(sum(x["billed"] for x in w)) / len(w) if w else None
        thr = VIP_MOBILE_THR if r["line"] == "mobile" else VIP_FIXED_THR
        a = rank_by(score, thr, SGD) if eligible and tenure(r) > 0 else 0
        rows.append(dict(eligible=eligible, score=score, a=a, thr=thr,
                         window_complete=window_complete(hist, i, 6)))
    tiers, untils = hold([t_of(r["month"]) for r in hist], [x["eligible"] for x in rows],
                         [x["a"] for x in rows], lambda t: t + 11)
    for x, tier, u in zip(rows, tiers, untils):
        x.update(tier=tier, valid_until=u)
    return rows


# 3.4 unicom_ladder: tier -> (C >=, M >=)
LADDER_REQ = {"regular": (0, 0), "silver": (1000, 50), "gold": (3000, 500),
              "platinum": (10000, 1000), "diamond": (20000, 2000)}


def rate_unicom_ladder(hist: list[dict], variant: str) -> list[dict]:
    # `paid_before` is "given" for a customer when the column exists and its first row holds a
    # value; a null there means the balance is unknown (CONTRACT.md leaves this open; the
    # engine reads it the same way).
    has_before = hist[0].get("paid_before") is not None
    before = hist[0]["paid_before"] if has_before else 0.0
    truncated = t_of(hist[0]["join_month"]) < t_of(hist[0]["month"])
    rows = []
    for i, r in enumerate(hist):
        m = t_of(r["month"])
        eligible = r["account_type"] == "standard"
        c = before + money(sum(x["paid"] for x in hist[:i]))
        prev = [x["paid"] for x in hist[:i] if t_of(x["month"]) == m - 1]
        mm = prev[0] if prev else 0.0
        a = 0
        if eligible and tenure(r) > 0:
            for k, name in enumerate(LADDER6):
                if k > 0 and c >= LADDER_REQ[name][0] and mm >= LADDER_REQ[name][1]:
                    a = k
        rows.append(dict(eligible=eligible, score=float(c), a=a,
                         thr={k: v[0] for k, v in LADDER_REQ.items()},
                         window_complete=(not truncated) or (has_before and i > 0)))
    never = 10**9  # the ladder never expires while the customer stays eligible
    tiers, _ = hold([t_of(r["month"]) for r in hist], [x["eligible"] for x in rows],
                    [x["a"] for x in rows], lambda t: never)
    for x, tier in zip(rows, tiers):
        x.update(tier=tier, valid_until=None)
    return rows


# 3.5 mobile_gotone
GOTONE_THR = {"vip": 500, "silver": 1000, "gold": 2000, "platinum": 3000, "diamond": 4000}


def gotone_plan_level(month: dt.date, plan_fee: float) -> int:
    """Plan level table dated by the month (RULES.md §3.5)."""
    if month < dt.date(2013, 1, 1):
        return 0
    if month < dt.date(2025, 2, 1):
        table = [(388, "gold"), (288, "silver")]  # 全球通资费套餐, from 2013 [seed 002]
    else:
        table = [(388, "diamond"), (288, "platinum")]  # 全球通尊享计划, from 2025-02 [public]
    for fee, name in table:
        if plan_fee >= fee:
            return GOTONE.index(name)
    return 0


def gotone_tenure_points(months: int) -> int:
    if months >= 120:
        return 300
    if months >= 36:
        return 200
    if months >= 12:
        return 100
    return 0


def rate_mobile_gotone(hist: list[dict], variant: str) -> list[dict]:
    rows = []
    for r in hist:
        month = r["month"]
        eligible = r["account_type"] not in ("data_card", "secondary_card")
        feb = dt.date(month.year if month.month >= 2 else month.year - 1, 2, 1)
        year = feb.year - 1
        ten_feb = t_of(feb) - t_of(r["join_month"])
        score = (money(sum(x["billed"] for x in hist if x["month"].year == year))
                 + gotone_tenure_points(ten_feb))
        a = rank_by(score, GOTONE_THR, GOTONE) if eligible and ten_feb >= 12 and tenure(r) > 0 else 0
        # Ineligible accounts "do not take part at all" (RULES.md §3.5): no plan level either.
        tier = max(a, gotone_plan_level(month, r["plan_fee"])) if eligible else 0
        rows.append(dict(
            eligible=eligible, score=float(score), a=a, thr=GOTONE_THR, tier=tier,
            valid_until=(t_of(dt.date(feb.year + 1, 1, 1)) if tier == a and a > 0 else None),
            window_complete=max(t_of(dt.date(year, 1, 1)), t_of(r["join_month"]))
            >= t_of(hist[0]["month"]),
        ))
    return rows


# 3.6 mobile_credit
CREDIT_BRAND = {"gotone": 50, "mzone": 30, "easyown": 20}
CREDIT_THR = {"star1": 100, "star2": 200, "star3": 300, "star4": 400, "star5": 500}


def credit_tenure_points(months: int) -> int:
    y = months / 12
    if y < 1:
        return 0
    if y < 2:
        return 50
    if y < 3:
        return 150
    if y < 4:
        return 200
    if y < 5:
        return 250
    return 300


def credit_spend_points(a: float | None) -> int:
    # upper bounds inclusive ("含"): a <= 20 -> 0, 20 < a <= 50 -> 20, ...
    if a is None or a <= 20:
        return 0
    if a <= 50:
        return 20
    if a <= 80:
        return 50
    if a <= 120:
        return 100
    if a <= 200:
        return 150
    if a <= 400:
        return 200
    return 250


def rate_mobile_credit(hist: list[dict], variant: str) -> list[dict]:
    rows = []
    for i, r in enumerate(hist):
        w = window(hist, i, 12)
        a = money(sum(x["billed"] for x in w)) / len(w) if w else None
        score = (CREDIT_BRAND.get(r["brand"], 0) + credit_tenure_points(tenure(r))
                 + credit_spend_points(a) - 100 * sum(x["suspensions"] for x in w))
        rank = rank_by(score, CREDIT_THR, STAR5) if tenure(r) > 0 else 0
        rows.append(dict(eligible=True, score=float(score), a=rank, thr=CREDIT_THR, tier=rank,
                         valid_until=None, window_complete=window_complete(hist, i, 12)))
    return rows


RATERS = {
    "telecom_star": rate_telecom_star,
    "telecom_club": rate_telecom_club,
    "unicom_vip": rate_unicom_vip,
    "unicom_ladder": rate_unicom_ladder,
    "mobile_gotone": rate_mobile_gotone,
    "mobile_credit": rate_mobile_credit,
}
VARIANTS = {"telecom_club": {"high"}}

LEDGER_COLUMNS = ["customer_id", "month", "scheme", "eligible", "score", "assessed", "tier",
                  "rank", "valid_until", "status", "next_tier", "to_next", "to_keep",
                  "window_complete", "flag"]


def reference_rate(panel: pl.DataFrame, scheme: str) -> pl.DataFrame:
    """Rate a panel (all customers) with one scheme, row by row.

    ``scheme`` is a scheme id, optionally with a variant: ``"telecom_club:high"``.
    Rows come back in the panel's order.
    """
    scheme_id, _, variant = scheme.partition(":")
    if scheme_id not in RATERS:
        raise KeyError(scheme_id)
    if variant and variant not in VARIANTS.get(scheme_id, set()):
        raise KeyError(scheme)
    ladder = LADDERS[scheme_id]
    panel = fill_defaults(panel)
    records = panel.to_dicts()

    by_customer: dict[object, list[int]] = {}
    for idx, rec in enumerate(records):
        by_customer.setdefault(rec["customer_id"], []).append(idx)

    out: list[dict | None] = [None] * len(records)
    for idxs in by_customer.values():
        idxs = sorted(idxs, key=lambda k: records[k]["month"])
        hist = [records[k] for k in idxs]
        for k, rec, x in zip(idxs, hist, RATERS[scheme_id](hist, variant)):
            tier, score, thr = x["tier"], x["score"], x["thr"]
            nxt = ladder[tier + 1] if x["eligible"] and tier + 1 < len(ladder) else None
            out[k] = {
                "customer_id": rec["customer_id"],
                "month": rec["month"],
                "scheme": scheme,
                "eligible": x["eligible"],
                "score": score,
                "assessed": ladder[x["a"]],
                "tier": ladder[tier],
                "rank": tier,
                "valid_until": date_of(x["valid_until"]) if x["valid_until"] is not None else None,
                "status": "none" if tier == 0 else x.get("status", "active"),
                "next_tier": nxt,
                "to_next": (max(0.0, thr[nxt] - score)
                            if nxt is not None and score is not None else None),
                "to_keep": score - thr[ladder[tier]] if tier > 0 and score is not None else None,
                "window_complete": x["window_complete"],
                "flag": x.get("flag"),
            }

    schema = {
        "customer_id": panel.schema["customer_id"],
        "month": pl.Date,
        "scheme": pl.String,
        "eligible": pl.Boolean,
        "score": pl.Float64,
        "assessed": pl.String,
        "tier": pl.String,
        "rank": pl.Int8,
        "valid_until": pl.Date,
        "status": pl.String,
        "next_tier": pl.String,
        "to_next": pl.Float64,
        "to_keep": pl.Float64,
        "window_complete": pl.Boolean,
        "flag": pl.String,
    }
    return pl.DataFrame({c: [row[c] for row in out] for c in LEDGER_COLUMNS}, schema=schema)
