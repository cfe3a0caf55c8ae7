"""Simulate one reform: rate a panel under a baseline and a reform of it, compare at ``as_of``.

:func:`simulate` returns a :class:`Simulation`: who moves up and down (with their revenue), the
tier distributions, the yearly benefit cost (unit costs assumed) and who sits near a threshold,
and one row per customer (``customers``) behind the churn cost of the reform
(:func:`tierlib.churn.reform_churn_cost`) and the side-by-side comparison
(:func:`tierlib.reforms.compare_reforms`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tierlib.benefits import Catalogue, catalogues_for
from tierlib.ledger import customer_money
from tierlib.params import Scheme
from tierlib.schemefiles import load_scheme
from tierlib.reforms.rated import Frame, _members, _prepare_panel, _rate_at
from tierlib.reforms.reform import ReformLike, apply_reform, reform_warnings
from tierlib.revenue import Revenue

__all__ = ["Simulation", "simulate", "simulation_of"]

SchemeLike = str | Scheme

# --- simulate -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate`.

    ``summary`` (one row): customers, members before/after, moves up/down with revenue, benefit
    cost before/after (unit costs assumed), customers near a threshold before/after.
    ``movers``: baseline tier x reform tier (every cell) with customers and revenue.
    ``distribution``: customers and shares by tier before and after. ``cost``: yearly benefit
    cost by tier before and after. ``warnings``: e.g. a reform that changes nothing.
    ``customers``: one row per customer in network at ``as_of``: ``customer_id, tier_base,
    rank_base, tier_reform, rank_reform, revenue`` (behind the reform's churn cost).
    ``name`` is the reform's name (its ledger key).
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
    customers: pl.DataFrame | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The reform's name: the reformed scheme's ledger key."""
        return self.reform.key

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def __repr__(self) -> str:
        r = self.summary.row(0, named=True)
        lines = [f"Simulation of '{self.name}' on {self.baseline.key} at {self.as_of}: "
                 + ("; ".join(self.reform.changes) or "no change"),
                 f"  customers {r['customers']}; members {r['members_base']} -> {r['members_reform']}",
                 f"  moved up {r['up']} (revenue {r['up_revenue']:,.0f}), moved down {r['down']} "
                 f"(revenue {r['down_revenue']:,.0f})",
                 f"  yearly benefit cost {r['cost_base']:,.0f} -> {r['cost_reform']:,.0f} "
                 f"(change {r['cost_change']:+,.0f}; unit costs assumed)",
                 f"  within {self.near:.0%} of a threshold: {r['near_base']} -> {r['near_reform']}",
                 f"  {self.revenue}"]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def simulate(panel: Frame, baseline: SchemeLike, reform: ReformLike | Scheme, *,
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
    valid, d = _prepare_panel(panel, as_of, scheme=base)
    a, b = pl.collect_all([_rate_at(valid, base, d, near=near), _rate_at(valid, new, d, near=near)])
    money = customer_money(valid, d, revenue_months=revenue_months)
    cat = catalogues_for({"s": base}, {"s": catalogue} if catalogue else None)["s"]
    return simulation_of(base, new, a, b, d, money=money, catalogue=cat, warnings=warns, near=near,
                         revenue=Revenue(revenue_months))


def simulation_of(base: Scheme, new: Scheme, a: pl.DataFrame, b: pl.DataFrame, d: dt.date, *,
                  money: pl.DataFrame, catalogue: Catalogue, warnings: list[str], near: float,
                  revenue: Revenue) -> Simulation:
    """A :class:`Simulation` from the :func:`~tierlib.reforms.rated._rate_at` frames of both schemes.

    The building block of :func:`simulate` and of the side-by-side comparison, which rates the
    baseline once for every reform.
    """
    warns = list(warnings)
    if not catalogue.entitlements:
        warns.append(f"{base.id}: no benefits catalogued, cost 0")
    pair = (a.select("customer_id", tier_base="tier", rank_base="rank")
            .join(b.select("customer_id", tier_reform="tier", rank_reform="rank"), on="customer_id")
            .join(money.select("customer_id", "revenue"), on="customer_id", how="left"))
    movers = _movers(pair, base)
    up, down = pair.filter(pl.col("rank_reform") > pl.col("rank_base")), pair.filter(pl.col("rank_reform") < pl.col("rank_base"))
    cost_tiers = _cost_by_tier(a, b, money, base, new, catalogue)
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
                      revenue=revenue, customers=pair)


def _movers(pair: pl.DataFrame, s: Scheme) -> pl.DataFrame:
    lad = pl.DataFrame({"tier": list(s.ladder), "rank": list(range(len(s.ladder)))},
                       schema={"tier": pl.String, "rank": pl.Int8})
    cells = lad.rename({"tier": "tier_base", "rank": "rank_base"}).join(
        lad.rename({"tier": "tier_reform", "rank": "rank_reform"}), how="cross")
    counts = pair.group_by("tier_base", "tier_reform").agg(
        customers=pl.len().cast(pl.Int64), revenue=pl.col("revenue").fill_null(0.0).sum())
    out = cells.join(counts, on=["tier_base", "tier_reform"], how="left", maintain_order="left")
    label = {t: s.tier_label(t) for t in s.ladder}
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
