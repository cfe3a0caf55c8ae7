"""Reforms: change a scheme's parameters and see who moves, what it costs, where the lines fall.

A reform is a mapping of parameter paths to new values, plain or dated::

    {"thresholds.mobile.gold": 350, "validity_months": 6,
     "thresholds.mobile.diamond": {"from": "2026-01-01", "value": 500}}

or a YAML file holding the same (optionally under ``changes:`` with a ``name`` and a
``description``; nested mappings are read as dotted paths). Applying it returns a new scheme
(:meth:`tierlib.params.Scheme.with_values`): the baseline is never edited, and a path that does
not exist or a value of the wrong type is a :class:`~tierlib.params.SchemeError` naming the path.

:func:`simulate` rates a panel under the baseline and the reform; :func:`sweep` rates it once
per value of one parameter; :func:`threshold_for_share` finds the threshold that puts a target
share of the base at or above a tier. Each rates only the months up to ``as_of`` and only the
customers in network at ``as_of`` (a month's tier depends on earlier months only, and customers
do not depend on each other).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import polars as pl
import yaml

from tierlib.benefits import Catalogue, catalogues_for
from tierlib.domains import ladder_bounds
from tierlib.months import as_month
from tierlib.revenue import Revenue
from tierlib.ledger import customer_money
from tierlib.panel import validate
from tierlib.params import Param, Scheme, SchemeError, load_scheme
from tierlib import engine
from tierlib.rating import _rate_validated

__all__ = ["Reform", "load_reform", "apply_reform", "reform_warnings", "prepare_panel", "rate_at",
           "Simulation", "simulate", "sweep", "threshold_for_share", "ThresholdSearch"]

Frame = pl.DataFrame | pl.LazyFrame
SchemeLike = str | Scheme
BIG = 1e15  # a threshold no score reaches


@dataclass(frozen=True)
class Reform:
    """Parameter changes with a name: ``changes`` maps dotted paths to values."""

    changes: Mapping[str, Any]
    name: str = "reform"
    description: str = ""


def _flat(node: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in node.items():
        path = f"{prefix}{k}"
        if isinstance(v, Mapping) and "value" not in v:
            out.update(_flat(v, path + "."))
        else:
            if isinstance(v, Mapping) and "from" not in v:
                raise SchemeError(f"reform '{path}': a dated value needs 'from' and 'value'")
            out[path] = v
    return out


def load_reform(reform: Reform | Mapping | str | Path) -> Reform:
    """A :class:`Reform` from a mapping or a YAML file (``name``, ``description``, ``changes``).

    >>> load_reform({"thresholds": {"mobile": {"gold": 350}}, "validity_months": 6}).changes
    {'thresholds.mobile.gold': 350, 'validity_months': 6}
    """
    if isinstance(reform, Reform):
        return reform
    name, description = "reform", ""
    if isinstance(reform, (str, Path)):
        path = Path(reform)
        if not path.exists():
            raise SchemeError(f"reform file not found: {path}")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise SchemeError(f"{path}: not valid YAML: {e}") from None
        name = path.stem
    else:
        doc = reform
    if not isinstance(doc, Mapping):
        raise SchemeError(f"a reform is a mapping of parameter paths to values, got {type(doc).__name__}")
    if isinstance(doc.get("changes"), Mapping):
        name, description = str(doc.get("name", name)), str(doc.get("description", ""))
        doc = doc["changes"]
    return Reform(_flat(doc), name, description)


def apply_reform(scheme: SchemeLike, reform: Reform | Mapping | str | Path, *, name: str | None = None) -> Scheme:
    """The scheme with the reform's changes; the baseline is untouched.

    The result's ledger key is ``name``, else the reform's own name (a YAML ``name:`` or the
    file's stem), else derived from the baseline and the changes, so a baseline and its reform
    never share a key in one ledger.

    >>> base = load_scheme("unicom_vip")
    >>> new = apply_reform(base, {"thresholds.mobile.gold": 350})
    >>> new.value("thresholds.mobile.gold"), base.value("thresholds.mobile.gold")
    (350, 300)
    >>> new.key, apply_reform(base, {"thresholds.mobile.gold": 350}, name="gold 350").key
    ('unicom_vip[thresholds.mobile.gold=350]', 'gold 350')
    >>> apply_reform(base, {"thresholds.mobile.gould": 350})
    Traceback (most recent call last):
    ...
    tierlib.params.SchemeError: scheme unicom_vip: no parameter 'thresholds.mobile.gould'
    """
    r = load_reform(reform)
    given = name or (r.name if r.name != Reform.name else None)
    return load_scheme(scheme).with_values(r.changes, name=given, reference=f"reform: {r.name}")


def _dates(*params: Param) -> list[dt.date]:
    return sorted({v.start for p in params for v in p.history if v.start is not None} | {dt.date.min})


def _same(old: Param, new: Param) -> bool:
    def at(p: Param, d: dt.date) -> Any:
        try:
            return p.at(d)
        except SchemeError:
            return None  # before the parameter's first dated value
    return all(at(old, d) == at(new, d) for d in _dates(old, new))


def reform_warnings(baseline: SchemeLike, reform: Reform | Mapping | str | Path) -> list[str]:
    """Warnings about a reform: it changes nothing, or some of its values equal the baseline's.

    >>> reform_warnings("unicom_vip", {"thresholds.mobile.gold": 300})
    ["reform 'reform' changes nothing: every value equals the baseline (thresholds.mobile.gold = 300)"]
    """
    base, r = load_scheme(baseline), load_reform(reform)
    if not r.changes:
        return [f"reform '{r.name}' changes nothing: it has no changes"]
    new = apply_reform(base, r)
    same = [p for p in r.changes if _same(base.p(p), new.p(p))]
    if len(same) == len(r.changes):
        listed = ", ".join(f"{p} = {base.p(p).history[-1].value!r}" for p in same)
        return [f"reform '{r.name}' changes nothing: every value equals the baseline ({listed})"]
    return [f"{p}: the reform's value equals the baseline ({base.p(p).history[-1].value!r})" for p in same]


# --- rating at as_of -------------------------------------------------------------------------

_date = as_month  # the one month parser (tierlib.months)


def prepare_panel(panel: Frame, as_of: dt.date | str | None = None) -> tuple[pl.DataFrame, dt.date]:
    """The validated panel cut to what a rating at ``as_of`` needs, and ``as_of`` itself.

    Keeps the months up to ``as_of`` (later months cannot change it) of the customers in network
    at ``as_of`` (the others are not in the base), with the engine's base columns computed once
    for every scheme variant rated on it. ``as_of`` defaults to the panel's last month.

    >>> p = pl.DataFrame({"customer_id": [1, 1, 2], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1),
    ...                   dt.date(2024, 1, 1)], "join_month": dt.date(2024, 1, 1), "billed": 1.0})
    >>> prepare_panel(p)[0].height
    2
    """
    lf = panel.lazy()
    d = lf.select(pl.col("month").max()).collect().item() if as_of is None else _date(as_of)
    at = lf.filter(pl.col("month") == d).select("customer_id")
    cut = lf.filter(pl.col("month") <= d).join(at, on="customer_id", how="semi")
    out = engine.base(validate(cut)).collect()
    if out.height == 0:
        raise ValueError(f"no customer is in network at as_of {d}")
    return out, d


def rate_at(prepared: pl.DataFrame, scheme: Scheme, as_of: dt.date, *, near: float = 0.10) -> pl.LazyFrame:
    """Rate a :func:`prepare_panel` frame and keep the rows at ``as_of`` (lazy: collect many at once).

    Columns: ``customer_id, tier, rank, status, eligible, score, near`` and ``_thr1..K`` (the
    thresholds that apply to each customer). ``near`` is true when an eligible customer's score is
    within ``near`` (10 %) of any of them.

    >>> p = pl.DataFrame({"customer_id": 1, "month": [dt.date(2024, m, 1) for m in range(1, 4)],
    ...                   "join_month": dt.date(2024, 1, 1), "billed": 290.0})
    >>> prepared, d = prepare_panel(p)
    >>> rate_at(prepared, load_scheme("unicom_vip"), d).select("tier", "near").collect().row(0)
    ('silver', True)
    """
    K = len(scheme.tiers)
    lf = _rate_validated(prepared.lazy(), scheme, based=True, keep_internals=True).filter(pl.col("month") == as_of)
    thr = [pl.col(f"_thr{k}") for k in range(1, K + 1)]
    close = [((pl.col("score") - t).abs() <= near * t) & (t > 0) for t in thr]
    return lf.select(
        "customer_id", pl.col("tier").cast(pl.String), "rank", pl.col("status").cast(pl.String),
        "eligible", "score", *thr,
        near=(pl.col("eligible") & pl.any_horizontal(close).fill_null(False)),
    )


def _members(at: pl.DataFrame, money: pl.DataFrame) -> pl.DataFrame:
    """Members holding benefits (not frozen) by tier, with their yearly paid."""
    return (at.filter((pl.col("rank") > 0) & (pl.col("status") == "active"))
            .join(money, on="customer_id", how="left")
            .group_by("tier").agg(members=pl.len().cast(pl.Int64), paid=pl.col("yearly_paid").fill_null(0.0).sum()))


def _cost(at: pl.DataFrame, money: pl.DataFrame, s: Scheme, cat: Catalogue) -> float:
    if not cat.entitlements:
        return 0.0
    return float(cat.costs(_members(at, money), s)["yearly_cost"].sum())


# --- simulate -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate`.

    ``summary`` (one row): customers, members before/after, moves up/down with revenue, benefit
    cost before/after (unit costs assumed), customers near a threshold before/after.
    ``movers``: baseline tier x reform tier (every cell) with customers and revenue.
    ``distribution``: customers and shares by tier before and after. ``cost``: yearly benefit
    cost by tier before and after. ``warnings``: e.g. a reform that changes nothing.
    """

    baseline: Scheme
    reform: Scheme
    as_of: dt.date
    summary: pl.DataFrame
    movers: pl.DataFrame
    distribution: pl.DataFrame
    cost: pl.DataFrame
    warnings: tuple[str, ...] = field(default=())
    near: float = 0.10  # a score within this fraction of a threshold counts as near it
    revenue: Revenue = field(default=Revenue())  # the definition behind up_revenue / down_revenue

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def __repr__(self) -> str:
        r = self.summary.row(0, named=True)
        lines = [f"Simulation of {self.baseline.key} at {self.as_of}: " + ("; ".join(self.reform.changes) or "no change"),
                 f"  customers {r['customers']}; members {r['members_base']} -> {r['members_reform']}",
                 f"  moved up {r['up']} (revenue {r['up_revenue']:,.0f}), moved down {r['down']} "
                 f"(revenue {r['down_revenue']:,.0f})",
                 f"  yearly benefit cost {r['cost_base']:,.0f} -> {r['cost_reform']:,.0f} "
                 f"(change {r['cost_change']:+,.0f}; unit costs assumed)",
                 f"  within {self.near:.0%} of a threshold: {r['near_base']} -> {r['near_reform']}",
                 f"  {self.revenue}"]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def simulate(panel: Frame, baseline: SchemeLike, reform: Reform | Mapping | str | Path | Scheme, *,
             as_of: dt.date | str | None = None, near: float = 0.10, catalogue: Catalogue | None = None,
             revenue_months: int = 12) -> Simulation:
    """Rate the panel under a baseline scheme and a reform of it, and compare them at ``as_of``.

    Parameters
    ----------
    panel : the customer panel (DataFrame or LazyFrame).
    baseline : a scheme id or Scheme.
    reform : a reform (mapping, YAML path, :class:`Reform`) or an already reformed Scheme.
    as_of : the month compared (default: the panel's last month).
    near : relative distance to a threshold counted as "near" (0.10 = within 10 %).
    catalogue : benefits catalogue (default: the scheme's ``tierlib/benefits/<id>.yaml``).
    revenue_months : months of ``billed`` to ``as_of`` counted as a mover's revenue.

    A stricter threshold moves customers down, but under a validity policy it can also move a
    few up at ``as_of``: their upgrade comes later, so its validity ends later. ``movers`` shows
    them rather than hiding them.

    Examples
    --------
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": months[0], "billed": 320.0})
    >>> sim = simulate(p, "unicom_vip", {"thresholds.mobile.gold": 350})
    >>> sim.summary.select("up", "down").row(0)
    (0, 1)
    >>> sim.movers.filter(pl.col("customers") > 0).select("tier_base", "tier_reform").row(0)
    ('gold', 'silver')
    """
    base = load_scheme(baseline)
    if isinstance(reform, Scheme):
        new, warns = reform, ([] if reform.changes else ["the reform scheme has no changes"])
    else:
        new, warns = apply_reform(base, reform), reform_warnings(base, reform)
    valid, d = prepare_panel(panel, as_of)
    a, b = pl.collect_all([rate_at(valid, base, d, near=near), rate_at(valid, new, d, near=near)])
    money = customer_money(valid, d, revenue_months=revenue_months)
    cat = catalogues_for({"s": base}, {"s": catalogue} if catalogue else None)["s"]
    if not cat.entitlements:
        warns.append(f"{base.id}: no benefits catalogued, cost 0")
    pair = (a.select("customer_id", tier_base="tier", rank_base="rank")
            .join(b.select("customer_id", tier_reform="tier", rank_reform="rank"), on="customer_id")
            .join(money, on="customer_id", how="left"))
    movers = _movers(pair, base)
    up, down = pair.filter(pl.col("rank_reform") > pl.col("rank_base")), pair.filter(pl.col("rank_reform") < pl.col("rank_base"))
    cost_tiers = _cost_by_tier(a, b, money, base, new, cat)
    summary = pl.DataFrame([{
        "customers": pair.height,
        "members_base": int((a["rank"] > 0).sum()), "members_reform": int((b["rank"] > 0).sum()),
        "up": up.height, "up_revenue": float(up["revenue"].sum()),
        "down": down.height, "down_revenue": float(down["revenue"].sum()),
        "cost_base": float(cost_tiers["cost_base"].sum()), "cost_reform": float(cost_tiers["cost_reform"].sum()),
        "near_base": int(a["near"].sum()), "near_reform": int(b["near"].sum()),
    }]).with_columns(cost_change=pl.col("cost_reform") - pl.col("cost_base"))
    dist = movers.group_by("tier_base", "rank_base").agg(pl.col("customers").sum()).rename(
        {"tier_base": "tier", "rank_base": "rank", "customers": "customers_base"}).join(
        movers.group_by("tier_reform").agg(pl.col("customers").sum()).rename(
            {"tier_reform": "tier", "customers": "customers_reform"}), on="tier").sort("rank")
    dist = dist.with_columns(share_base=pl.col("customers_base") / pair.height,
                             share_reform=pl.col("customers_reform") / pair.height)
    return Simulation(base, new, d, summary, movers, dist, cost_tiers, tuple(warns), near=near,
                      revenue=Revenue(revenue_months))


def _movers(pair: pl.DataFrame, s: Scheme) -> pl.DataFrame:
    lad = pl.DataFrame({"tier": list(s.ladder), "rank": list(range(len(s.ladder)))},
                       schema={"tier": pl.String, "rank": pl.Int8})
    cells = lad.rename({"tier": "tier_base", "rank": "rank_base"}).join(
        lad.rename({"tier": "tier_reform", "rank": "rank_reform"}), how="cross")
    counts = pair.group_by("tier_base", "tier_reform").agg(
        customers=pl.len().cast(pl.Int64), revenue=pl.col("revenue").fill_null(0.0).sum())
    out = cells.join(counts, on=["tier_base", "tier_reform"], how="left", maintain_order="left")
    label = {t: f"{t} {s.labels.get(t, '')}".strip() for t in s.ladder}
    return out.with_columns(
        pl.col("customers").fill_null(0), pl.col("revenue").fill_null(0.0),
        label_base=pl.col("tier_base").replace_strict(label), label_reform=pl.col("tier_reform").replace_strict(label),
        move=pl.when(pl.col("rank_reform") > pl.col("rank_base")).then(pl.lit("up"))
        .when(pl.col("rank_reform") < pl.col("rank_base")).then(pl.lit("down")).otherwise(pl.lit("same")),
    )


def _cost_by_tier(a: pl.DataFrame, b: pl.DataFrame, money: pl.DataFrame, base: Scheme, new: Scheme,
                  cat: Catalogue) -> pl.DataFrame:
    tiers = pl.DataFrame({"tier": list(base.tiers), "rank": list(range(1, len(base.ladder)))},
                         schema={"tier": pl.String, "rank": pl.Int8})
    for at, s, col in ((a, base, "cost_base"), (b, new, "cost_reform")):
        c = (cat.costs(_members(at, money), s).group_by("tier").agg(pl.col("yearly_cost").sum().alias(col))
             if cat.entitlements else pl.DataFrame(schema={"tier": pl.String, col: pl.Float64}))
        tiers = tiers.join(c, on="tier", how="left", maintain_order="left")
    return tiers.with_columns(pl.col("cost_base", "cost_reform").fill_null(0.0)).with_columns(
        cost_change=pl.col("cost_reform") - pl.col("cost_base"))


# --- sweep and threshold search -------------------------------------------------------------

def _path_tier(s: Scheme, path: str) -> str | None:
    last = path.split(".")[-1]
    return last if last in s.tiers else None


def _sweep_rows(valid: pl.DataFrame, s: Scheme, path: str, values: Sequence[Any], d: dt.date, near: float,
                cat: Catalogue, money: pl.DataFrame | None) -> list[dict]:
    variants = [s.with_values({path: v}, reference="sweep") for v in values]
    frames = pl.collect_all([rate_at(valid, v, d, near=near) for v in variants])
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
    valid, d = prepare_panel(panel, as_of)
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
    valid, d = prepare_panel(panel, as_of)
    cache: dict[float, float] = {}

    def f(v: float) -> float:
        if v not in cache:
            if len(cache) >= max_ratings:
                raise RuntimeError(f"threshold search did not converge in {max_ratings} ratings")
            at = rate_at(valid, s.with_values({path: v}, reference="threshold search"), d).collect()
            cache[v] = float((at["rank"] >= k).sum() / at.height)
        return cache[v]

    grid = lambda x: math.floor(x / step) * step  # noqa: E731
    base = rate_at(valid, s, d).collect()
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
