"""The churn cost of a threshold reform (issue #5, item 5): extra churners among the downgraded.

A reform that raises a threshold saves benefit cost, but every customer it moves down suffers
a tier drop, and a drop multiplies the churn hazard (:func:`tierlib.churn.drop_effect`). The
extra expected churners are ``sum(min(p * HR, 1) - p)`` over the downgraded customers, where
``p`` is a customer's baseline probability of leaving within the effect window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from tierlib.churn._common import t_of
from tierlib.churn.effect import DropEffect
from tierlib.churn.fit import ChurnFit

__all__ = ["ReformChurnCost", "reform_churn_cost"]

ASSUMPTIONS = (
    "A downgrade caused by the reform raises churn like a tier drop at re-rating does "
    "(the drop effect was measured at the re-rating floor).",
    "The baseline probability p is the chance of leaving within the effect window under the "
    "baseline rules (the churn model's k months; keep k equal to the effect window).",
    "Revenue lost per extra churner = monthly revenue (mean billed over the last 3 months) "
    "x `revenue_months`.",
    "The interval carries the drop effect's confidence interval only, not the uncertainty of p.",
)


@dataclass
class ReformChurnCost:
    """Extra churners a reform causes among the customers it downgrades.

    ``summary`` (one row): ``downgraded``, ``baseline_churners`` (sum of p among them),
    ``extra_churners`` with ``extra_lo``/``extra_hi`` (from the drop effect's interval),
    ``revenue_lost`` (yuan over ``revenue_months``) with ``revenue_lost_lo``/``_hi``, and,
    for a simulation, its benefit ``cost_change`` (yearly, unit costs assumed) next to it.
    ``by_move``: the same by baseline tier -> reform tier. ``customers``: one row per
    downgraded customer.
    """

    month: dt.date
    hazard_ratio: tuple[float, float, float]
    revenue_months: int
    summary: pl.DataFrame
    by_move: pl.DataFrame
    customers: pl.DataFrame = field(repr=False)
    assumptions: tuple[str, ...] = ASSUMPTIONS


def _pairs_from_simulation(sim, panel) -> tuple[pl.DataFrame, dt.date, str]:
    from tierlib.reforms import prepare_panel, rate_at

    if panel is None:
        raise ValueError("a Simulation carries no per-customer tiers: pass panel= (the simulated panel)")
    valid, d = prepare_panel(panel, sim.as_of)
    a, b = pl.collect_all([rate_at(valid, sim.baseline, d), rate_at(valid, sim.reform, d)])
    pair = (a.select("customer_id", tier_base="tier", rank_base="rank")
            .join(b.select("customer_id", tier_reform="tier", rank_reform="rank"), on="customer_id"))
    return pair, d, sim.baseline.key


def _pairs_from_ledgers(base, new, month) -> tuple[pl.DataFrame, dt.date, str]:
    base, new = (x.collect() if isinstance(x, pl.LazyFrame) else x for x in (base, new))
    d = base["month"].max() if month is None else (
        dt.date.fromisoformat(month) if isinstance(month, str) else month)
    a, b = base.filter(pl.col("month") == d), new.filter(pl.col("month") == d)
    keys = a["scheme"].cast(pl.String).unique().to_list()
    if len(keys) != 1 or b["scheme"].cast(pl.String).n_unique() != 1:
        raise ValueError("pass the baseline and reform ledgers of one scheme each")
    pair = (a.select("customer_id", tier_base=pl.col("tier").cast(pl.String), rank_base="rank")
            .join(b.select("customer_id", tier_reform=pl.col("tier").cast(pl.String), rank_reform="rank"),
                  on="customer_id"))
    return pair, d, keys[0]


def _effect(effect) -> tuple[float, float, float]:
    if isinstance(effect, DropEffect):
        return effect.hazard_ratio, *effect.ci
    if isinstance(effect, (int, float)):
        return float(effect), float(effect), float(effect)
    hr, lo, hi = effect
    return float(hr), float(lo), float(hi)


def _probabilities(churn, scheme: str, d: dt.date, panel, ids: pl.DataFrame) -> pl.DataFrame:
    """customer_id, p, revenue for the given customers (revenue null when unknown)."""
    if isinstance(churn, ChurnFit):
        scored = churn.scored.filter((pl.col("month") == d) & (pl.col("scheme").cast(pl.String) == scheme))
        return ids.join(scored.select("customer_id", "p", "revenue"), on="customer_id", how="left")
    if isinstance(churn, pl.DataFrame):
        cols = ["customer_id", "p"] + (["revenue"] if "revenue" in churn.columns else [])
        out = ids.join(churn.select(cols), on="customer_id", how="left")
    else:
        out = ids.with_columns(p=pl.lit(float(churn)))
    return out if "revenue" in out.columns else out.with_columns(revenue=_revenue(panel, d, out))


def _revenue(panel, d: dt.date, ids: pl.DataFrame) -> pl.Series | pl.Expr:
    """Mean billed over the 3 months before ``d`` (null without a panel)."""
    if panel is None:
        return pl.lit(None, dtype=pl.Float64)
    t = t_of(pl.lit(d))
    rev = (panel.lazy().filter(t_of("month").is_between(t - 3, t - 1)).group_by("customer_id")
           .agg(revenue=pl.col("billed").mean()).collect())
    return ids.join(rev, on="customer_id", how="left")["revenue"]


def reform_churn_cost(baseline, reform=None, *, churn, effect, panel=None,
                      month: dt.date | str | None = None, revenue_months: int = 12) -> ReformChurnCost:
    """Extra expected churners (and revenue) among the customers a reform downgrades.

    Parameters
    ----------
    baseline : a :class:`tierlib.reforms.Simulation` (then ``panel`` is needed, and its benefit
        cost change is reported alongside), or the baseline ledger of one scheme.
    reform : the reform ledger (with a baseline ledger).
    churn : baseline probability of leaving within the effect window: a ChurnFit (its ``p`` at
        ``month``), a DataFrame ``customer_id, p[, revenue]``, or one number for everybody.
    effect : DropEffect, a hazard ratio, or ``(hr, lo, hi)``.
    panel : the panel (for a Simulation, and for revenue when ``churn`` carries none).
    month : month compared (default: the simulation's ``as_of`` / the ledgers' last month).
    revenue_months : months of revenue lost per extra churner.

    Examples
    --------
    >>> import datetime as dt, tierlib
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": months[0], "billed": 320.0})
    >>> base = tierlib.rate(p, "unicom_vip")
    >>> new = tierlib.rate(p, tierlib.load_scheme("unicom_vip").with_values({"thresholds.mobile.gold": 350}))
    >>> cost = reform_churn_cost(base, new, churn=0.1, effect=(2.5, 1.5, 4.0), panel=p)
    >>> r = cost.summary.row(0, named=True)
    >>> r["downgraded"], round(r["extra_churners"], 3), round(r["extra_lo"], 3), round(r["revenue_lost"])
    (1, 0.15, 0.05, 576)
    """
    from tierlib.reforms import Simulation

    sim = baseline if isinstance(baseline, Simulation) else None
    if sim is not None:
        pair, d, scheme = _pairs_from_simulation(sim, panel)
    else:
        if reform is None:
            raise ValueError("pass a Simulation, or the baseline and the reform ledgers")
        pair, d, scheme = _pairs_from_ledgers(baseline, reform, month)
    hr = _effect(effect)
    down = pair.filter(pl.col("rank_reform") < pl.col("rank_base"))
    down = down.join(_probabilities(churn, scheme, d, panel, down.select("customer_id")),
                     on="customer_id", how="left")
    extra = {name: (pl.col("p") * h).clip(upper_bound=1.0) - pl.col("p")
             for name, h in zip(("extra", "extra_lo", "extra_hi"), hr)}
    cust = down.with_columns(**extra).with_columns(
        (pl.col(c) * pl.col("revenue").fill_null(0.0) * revenue_months).alias(f"revenue_{c}")
        for c in extra)
    agg = [pl.len().alias("downgraded"), pl.col("p").sum().alias("baseline_churners"),
           pl.col("extra").sum().alias("extra_churners"), pl.col("extra_lo").sum(),
           pl.col("extra_hi").sum(), pl.col("revenue_extra").sum().alias("revenue_lost"),
           pl.col("revenue_extra_lo").sum().alias("revenue_lost_lo"),
           pl.col("revenue_extra_hi").sum().alias("revenue_lost_hi"),
           pl.col("p").is_null().sum().alias("no_probability")]
    summary = cust.select(agg)
    if sim is not None:
        summary = summary.with_columns(sim.summary.select("cost_base", "cost_reform", "cost_change"))
    by_move = cust.group_by("tier_base", "tier_reform").agg(agg).sort("tier_base", "tier_reform")
    return ReformChurnCost(month=d, hazard_ratio=hr, revenue_months=revenue_months,
                           summary=summary, by_move=by_move, customers=cust)
