"""Sweeps and threshold search: rate a panel once per value of one parameter.

:func:`sweep` gives one row per value (threshold curves); :func:`threshold_for_share` finds the
threshold that puts a target share of the base at or above a tier, over real ratings.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Sequence

import polars as pl

from tierlib.benefits import Catalogue, catalogues_for
from tierlib.domains import ladder_bounds
from tierlib.ledger import customer_money
from tierlib.params import Scheme
from tierlib.schemefiles import load_scheme
from tierlib.reforms.rated import Frame, _cost, _prepare_panel, _rate_at

__all__ = ["sweep", "threshold_for_share", "ThresholdSearch"]

SchemeLike = str | Scheme
BIG = 1e15  # a threshold no score reaches

def _path_tier(s: Scheme, path: str) -> str | None:
    last = path.split(".")[-1]
    return last if last in s.tiers else None


def _sweep_rows(valid: pl.DataFrame, s: Scheme, path: str, values: Sequence[Any], d: dt.date, near: float,
                cat: Catalogue, money: pl.DataFrame | None) -> list[dict]:
    variants = [s.with_values({path: v}, reference="sweep") for v in values]
    frames = pl.collect_all([_rate_at(valid, v, d, near=near) for v in variants])
    tier = _path_tier(s, path)
    k = s.rank(tier) if tier else None
    rows = []
    for value, variant, at in zip(values, variants, frames):
        n = at.height
        row: dict[str, Any] = {"value": value, "customers": n, "member_share": float((at["rank"] > 0).mean())}
        for r, t in enumerate(s.tiers, 1):
            row[f"share_{t}"] = float((at["rank"] == r).sum() / n)
        if k is not None:
            row["tier_or_above_share"] = float((at["rank"] >= k).sum() / n)
            t_k = at[f"_thr{k}"]
            row["near_tier"] = int((at["eligible"] & ((at["score"] - t_k).abs() <= near * t_k)).fill_null(False).sum())
        row["near"] = int(at["near"].sum())
        row["near_margin"] = near  # what "near" meant: charts and tables print it from here
        if money is not None:
            row["yearly_cost"] = _cost(at, money, variant, cat)
        rows.append(row)
    return rows


def sweep(panel: Frame, scheme: SchemeLike, path: str, values: Sequence[Any], *,
          as_of: dt.date | str | None = None, near: float = 0.10, catalogue: Catalogue | None = None,
          revenue_months: int = 12) -> pl.DataFrame:
    """Rate the panel once per value of one parameter: one row per value, for threshold curves.

    Parameters
    ----------
    panel : the customer panel (DataFrame or LazyFrame).
    scheme : a scheme id or Scheme (e.g. an already reformed one).
    path : the parameter swept, e.g. ``"thresholds.star5"``.
    values : its values; each is rated once (all ratings share one prepared panel).
    as_of : the month described (default: the panel's last month).
    near : relative distance to a threshold counted as "near".
    catalogue : benefits catalogue (default: ``tierlib/benefits/<id>.yaml``).
    revenue_months : months of ``paid`` to ``as_of`` behind the points cost.

    Returns
    -------
    DataFrame
        ``value, customers, member_share, share_<tier>`` for every tier; ``tier_or_above_share``
        and ``near_tier`` (customers within ``near`` of that tier's threshold) when the path ends
        in a tier; ``near`` (within ``near`` of any threshold); ``yearly_cost`` (benefit cost,
        unit costs assumed).

    Examples
    --------

    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": [1] * 8 + [2] * 8, "month": months * 2, "join_month": months[0],
    ...                   "billed": [320.0] * 8 + [200.0] * 8})
    >>> sweep(p, "unicom_vip", "thresholds.mobile.gold", [150, 250, 350])["tier_or_above_share"].to_list()
    [1.0, 0.5, 0.0]
    """
    s = load_scheme(scheme)
    s.p(path)  # an unknown path fails before any rating
    valid, d = _prepare_panel(panel, as_of, scheme=s)
    cat = catalogues_for({"s": s}, {"s": catalogue} if catalogue else None)["s"]
    money = customer_money(valid, d, revenue_months=revenue_months)
    return pl.DataFrame(_sweep_rows(valid, s, path, list(values), d, near, cat, money))


@dataclass(frozen=True)
class ThresholdSearch:
    """The result of :func:`threshold_for_share`.

    ``value`` is the highest threshold (on the ``step`` grid) that keeps at least ``target`` of
    the base at or above ``tier``; ``share`` the share it gives; ``next_share`` the share one
    ``step`` higher (below the target); ``ratings`` how many ratings the search took.
    """

    path: str
    tier: str
    target: float
    value: float
    share: float
    next_share: float
    ratings: int
    method: str

    def __repr__(self) -> str:
        return (f"<ThresholdSearch {self.path} = {self.value:g}: {self.share:.2%} of the base at or above "
                f"{self.tier} (target {self.target:.2%}; one step higher: {self.next_share:.2%}); "
                f"{self.ratings} ratings, {self.method}>")


def threshold_for_share(panel: Frame, scheme: SchemeLike, path: str, share: float, *,
                        tier: str | None = None, as_of: dt.date | str | None = None, step: float = 1.0,
                        max_ratings: int = 60) -> ThresholdSearch:
    """The threshold of ``path`` that puts ``share`` of the base at or above a tier at ``as_of``.

    Parameters
    ----------
    panel : the customer panel.
    scheme : a scheme id or Scheme.
    path : a threshold parameter, e.g. ``"thresholds.mobile.gold"``.
    share : the target share of the customers in network at ``as_of`` (0 < share <= 1).
    tier : the tier counted (default: the tier the path ends in).
    as_of : the month described (default: the panel's last month).
    step : resolution of the answer, in the score's unit.
    max_ratings : stop with an error after this many ratings.

    Returns
    -------
    ThresholdSearch

    Notes
    -----
    Returns the highest threshold on a grid of ``step`` whose rating keeps at least ``share`` of
    the customers at or above ``tier`` (default: the tier the path ends in). The first guess is
    the direct quantile of the scores at ``as_of`` (exact for a scheme without holding rules);
    otherwise the search brackets and bisects over real ratings, so validity and re-rating cycles
    are honoured. Bisection assumes the share falls as the threshold rises. That holds without
    holding rules; with validity a stricter threshold can delay an upgrade and so extend its
    validity past ``as_of``, so a few customers can move the other way. The answer is always
    a checked crossing: ``share`` at ``value`` is at least the target, ``next_share`` at
    ``value + step`` is below it.

    Examples
    --------
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": [1] * 8 + [2] * 8, "month": months * 2, "join_month": months[0],
    ...                   "billed": [320.0] * 8 + [200.0] * 8})
    >>> r = threshold_for_share(p, "unicom_vip", "thresholds.mobile.gold", 0.5)
    >>> r.value, r.share, r.next_share
    (320.0, 0.5, 0.0)
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    s = load_scheme(scheme)
    s.p(path)
    tier = tier or _path_tier(s, path)
    if tier is None:
        raise ValueError(f"'{path}' does not end in a tier of {s.key}: give tier=")
    k = s.rank(tier)
    valid, d = _prepare_panel(panel, as_of, scheme=s)
    cache: dict[float, float] = {}

    def f(v: float) -> float:
        if v not in cache:
            if len(cache) >= max_ratings:
                raise RuntimeError(f"threshold search did not converge in {max_ratings} ratings")
            at = _rate_at(valid, s.with_values({path: v}, reference="threshold search"), d).collect()
            cache[v] = float((at["rank"] >= k).sum() / at.height)
        return cache[v]

    grid = lambda x: math.floor(x / step) * step  # noqa: E731
    base = _rate_at(valid, s, d).collect()
    scores = base.filter(pl.col("eligible"))["score"].drop_nulls().sort(descending=True)
    n_needed = math.ceil(share * base.height - 1e-9)
    guess = grid(max(scores[n_needed - 1], 0.0)) if 0 < n_needed <= scores.len() else 0.0
    if f(guess) >= share and f(guess + step) < share:
        return ThresholdSearch(path, tier, share, guess, f(guess), f(guess + step), len(cache), "direct quantile")
    # the search stays between the neighbouring tiers' thresholds: beyond them the ladder is
    # out of order, a reform tierlib refuses (tierlib.domains)
    floor, ceiling = ladder_bounds(s, path, d)
    top = min(BIG, ceiling)
    guess = min(max(guess, floor), top)
    lo, hi = (guess, None) if f(guess) >= share else (None, guess)
    if hi is None and f(top) >= share:
        where = f"up to {top:,g}, the next tier's threshold" if top < BIG else "at any value"
        raise ValueError(f"the share at or above {tier} stays >= {share:.2%} with {path} {where} "
                         f"({f(top):.2%}): other parameters (higher tiers, other lines or brands) or "
                         f"holding rules put that many customers there; reform them too")
    width = max(step, grid(abs(guess) * 0.05))
    while lo is None:
        lo = max(float(floor), hi - width)
        if f(lo) < share:
            if lo == floor:
                why = "" if floor == 0 else f" (the tier below's threshold: the ladder cannot go lower)"
                raise ValueError(f"even a threshold of {floor:g}{why} puts only {f(lo):.2%} of the base "
                                 f"at or above {tier}")
            hi, lo, width = lo, None, width * 2
    while hi is None:
        hi = min(lo + width, top)
        if f(hi) >= share:
            lo, hi, width = hi, None, width * 2
    while hi - lo > step * (1 + 1e-9):
        mid = lo + grid((hi - lo) / 2) if grid((hi - lo) / 2) > 0 else lo + step
        if f(mid) >= share:
            lo = mid
        else:
            hi = mid
    return ThresholdSearch(path, tier, share, lo, f(lo), f(lo + step), len(cache), "bisection")
