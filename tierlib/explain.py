"""Why does a customer hold this tier this month? Score components, window, thresholds, holding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from tierlib.engine import LEDGER
from tierlib.months import as_month
from tierlib.panel import validate
from tierlib.params import Scheme
from tierlib.schemefiles import load_scheme

__all__ = ["explain", "Explanation"]


@dataclass(frozen=True)
class Explanation:
    """The reasons behind one ledger row. ``str()`` gives the analyst's text."""

    customer_id: object
    as_of: dt.date
    scheme: str
    row: dict
    eligible: bool
    failed_conditions: list[str]
    components: list[tuple[str, float, str]]
    window: str
    thresholds: list[tuple[str, float, str]]
    holding: str
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("customer_id", "as_of", "scheme", "eligible", "failed_conditions",
                                               "components", "window", "thresholds", "holding")} | {"ledger": self.row}

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def _repr_markdown_(self) -> str:
        return "\n".join(["```", *self.lines, "```"])


def _ym(t: int) -> str:
    return f"{t // 12:04d}-{t % 12 + 1:02d}"


def _source(s: Scheme, tier: str, value: float, month: dt.date) -> str:
    """Provenance of the threshold parameter that produced ``value`` for ``tier``."""
    for path, p in s.params.items():
        parts = path.split(".")
        if tier in parts and parts[0] in ("thresholds", "high", "enterprise"):
            v = p.value_at(month) if p.history[0].start is None or p.history[0].start <= month else None
            if v is not None and isinstance(v.value, (int, float)) and float(v.value) == value:
                return f"{path} [{v.source.upper() if v.assumed else v.source}]"
    return ""


def _holding(r: dict, s: Scheme) -> str:
    tier, assessed = r["rank"], r["_assessed"]
    if not r["eligible"]:
        return "not eligible: no tier (ineligibility ends a tier at once)"
    if r.get("_cancel"):
        return "cancelled: more than the allowed months of consecutive arrears"
    if tier == 0:
        return "no tier: the score meets no threshold" + (" (join month: no completed month)" if r["tenure"] == 0 else "")
    if "_floor" in r and r["_floor"] and r["_floor"] >= tier and r["_floor"] > r["_held"]:
        return f"plan level: the month's plan fee ({r['plan_fee']:g} yuan) gives {s.ladder[r['_floor']]}"
    since = _ym(r["_since"]) if r.get("_since", -1) >= 0 else "?"
    until = str(r["valid_until"])[:7] if r["valid_until"] else "no end date"
    if tier > assessed:
        why = {"validity": f"validity: held since {since}, valid until {until}; it cannot drop within validity",
               "until_rerating": f"held until the yearly re-rating (valid until {until}); downgrades only then",
               "ladder": "upgrade ladder: a tier never drops while the customer stays in network"}
        return why.get(s.holding, f"held (valid until {until})")
    if s.holding == "none":
        return "earned by the score this month" + (f" (yearly level, valid until {until})" if r["valid_until"] else "")
    return f"earned by the score; tier since {since}, valid until {until}"


def explain(panel: pl.DataFrame | pl.LazyFrame, scheme: str | Scheme, *, customer_id: object,
            as_of: dt.date | str) -> Explanation:
    """Explain one customer's tier in one month under one scheme.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> p = pl.DataFrame({"customer_id": "c1", "month": [dt.date(2024, m, 1) for m in range(1, 8)],
    ...                   "join_month": dt.date(2023, 6, 1), "billed": 320.0})
    >>> e = explain(p, "unicom_vip", customer_id="c1", as_of="2024-07")
    >>> e.row["tier"], e.components[0][1], e.lines[1]
    ('gold', 320.0, 'tier gold 金卡, status active, assessed gold')
    """
    from tierlib.rating import _rate_validated

    s = load_scheme(scheme)
    m = as_month(as_of)
    lf = panel.lazy().filter(pl.col("customer_id") == customer_id)
    one = validate(lf).collect()
    if one.is_empty():
        raise ValueError(f"customer_id {customer_id!r} is not in the panel")
    full = _rate_validated(one.lazy(), s, keep_internals=True).collect()
    hit = full.filter(pl.col("month") == m)
    if hit.is_empty():
        span = f"{full['month'].min()} .. {full['month'].max()}"
        raise ValueError(f"customer_id {customer_id!r} has no row in month {m} (in network {span})")
    r = {k: (str(v) if isinstance(v, str) or k in ("tier", "assessed", "next_tier", "status", "scheme") and v is not None else v)
         for k, v in hit.row(0, named=True).items()}
    failed = [k[3:] for k in r if k.startswith("ok_") and r[k] is False]
    comps = [(k[2:], float(r[k] or 0.0), s.components.get(k[2:], "")) for k in r if k.startswith("c_")]
    K = len(s.tiers)
    thr = [(t, r[f"_thr{k}"], _source(s, t, r[f"_thr{k}"], m)) for k, t in enumerate(s.tiers, 1)
           if r.get(f"_thr{k}") is not None]
    t = r["_t"]
    if "_win_from" in r and r["_win_from"] is not None:
        lo, hi = max(r["_win_from"], r["_tj"]), r.get("_win_to", t - 1)
        window = f"{_ym(lo)} .. {_ym(hi)}" if hi >= lo else "no completed month yet"
        if not r["window_complete"]:
            window += f" (INCOMPLETE: the panel starts {_ym(r['_t0'])}, the customer joined {_ym(r['_tj'])})"
    else:
        window = "all completed months since joining" + ("" if r["window_complete"] else " (INCOMPLETE: left-truncated)")
    holding = _holding(r, s)
    lines = [f"{s.key} | customer {customer_id} | {m:%Y-%m}",
             f"tier {s.tier_label(r['tier'])}, status {r['status']}, assessed {r['assessed']}"
             + (f", flag {r['flag']}" if r.get("flag") else ""),
             f"eligible: {'yes' if r['eligible'] else 'NO: fails ' + ', '.join(failed)}",
             "score none (no completed month)" if r["score"] is None else f"score {r['score']:,.2f} = " + " + ".join(f"{name} {v:,.2f}" for name, v, _ in comps)]
    lines += [f"  {name}: {v:,.2f}  ({d})" for name, v, d in comps]
    lines.append(f"window: {window}")
    for k, (tier, v, src) in enumerate(thr, 1):
        strict = tier in s.strict_tiers  # an exclusive bound, e.g. 准星级 "0(不含)"
        met = "met" if r["score"] is not None and (r["score"] > v if strict else r["score"] >= v) else "not met"
        mark = "  <- assessed" if k == r["_assessed"] else ""
        lines.append(f"  {tier:>9} {'> ' if strict else '>='} {v:,.0f}: {met}{mark}  {src}")
    if r["next_tier"] and r["to_next"] is not None:
        lines.append(f"next tier {r['next_tier']}: {r['to_next']:,.2f} more score needed")
    elif r["rank"] == K:
        lines.append("top tier")
    if r["to_keep"] is not None:
        lines.append(f"to keep {r['tier']}: score is {r['to_keep']:,.2f} above its floor"
                     if r["to_keep"] >= 0 else f"score is {-r['to_keep']:,.2f} BELOW the floor of {r['tier']}")
    lines.append(f"why this tier: {holding}")
    return Explanation(customer_id, m, s.key, {k: r[k] for k in LEDGER}, bool(r["eligible"]), failed, comps,
                       window, thr, holding, lines)
