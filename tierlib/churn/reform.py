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

from tierlib.months import as_month, from_index, month_index
from tierlib.churn._common import lazy, t_of
from tierlib.revenue import REVENUE, Revenue
from tierlib.churn.effect import DropEffect
from tierlib.churn.fit import ChurnFit
from tierlib.terms import say
from tierlib.reforms import Simulation

__all__ = ["ReformChurnCost", "reform_churn_cost", "reform_churn_cost_ledgers", "MemberChurnRate",
           "member_churn_rate"]

ASSUMPTIONS = (
    say("assume.cost.like_rerating"),
    say("assume.cost.baseline_p"),
    say("assume.cost.revenue"),
    say("assume.cost.interval"),
)


@dataclass
class ReformChurnCost:
    """Extra churners a reform causes among the customers it downgrades.

    ``summary`` (one row): ``downgraded``, ``baseline_churners`` (sum of p among them),
    ``extra_churners`` with ``extra_lo``/``extra_hi`` (from the drop effect's interval),
    ``revenue_lost`` (yuan, as ``revenue`` defines a customer's revenue) with ``revenue_lost_lo``/``_hi``, and,
    for a simulation, its benefit ``cost_change`` (yearly, unit costs assumed) next to it.
    ``by_move``: the same by baseline tier -> reform tier. ``customers``: one row per
    downgraded customer.
    """

    as_of: dt.date
    hazard_ratio: tuple[float, float, float]
    revenue: Revenue
    summary: pl.DataFrame
    by_move: pl.DataFrame
    customers: pl.DataFrame = field(repr=False)
    assumptions: tuple[str, ...] = ASSUMPTIONS


def _at(ledger: pl.DataFrame, d: dt.date, what: str) -> pl.DataFrame:
    keys = ledger["scheme"].cast(pl.String).unique().to_list()
    if len(keys) != 1:
        raise ValueError(f"{what}: pass the ledger of one scheme, got {len(keys)} ({', '.join(keys)})")
    out = ledger.filter(pl.col("month") == d)
    if out.height == 0:
        raise ValueError(f"{what}: no ledger row at as_of {d:%Y-%m}")
    return out


def _pairs(base: pl.DataFrame, new: pl.DataFrame, d: dt.date) -> pl.DataFrame:
    a, b = _at(base, d, "baseline"), _at(new, d, "reform")
    return (a.select("customer_id", tier_base=pl.col("tier").cast(pl.String), rank_base="rank")
            .join(b.select("customer_id", tier_reform=pl.col("tier").cast(pl.String), rank_reform="rank"),
                  on="customer_id"))


def _effect(effect) -> tuple[float, float, float]:
    if isinstance(effect, DropEffect):
        return effect.hazard_ratio, *effect.ci
    if isinstance(effect, (int, float)) and not isinstance(effect, bool):
        hr = lo = hi = float(effect)
    else:
        hr, lo, hi = (float(x) for x in effect)
    if not (0 < lo <= hr <= hi < float("inf")):
        raise ValueError(f"effect: a positive hazard ratio, or (hazard ratio, low, high) with "
                         f"0 < low <= hazard ratio <= high, not {effect!r}")
    return hr, lo, hi


def _probabilities(churn, scheme: str, d: dt.date, panel, ids: pl.DataFrame, revenue: Revenue) -> pl.DataFrame:
    """customer_id, p, revenue for the given customers (revenue null when unknown).

    Revenue comes from the panel by ``revenue``'s definition; without a panel, from ``churn``
    (a ChurnFit's rows carry :data:`tierlib.revenue.REVENUE`).
    """
    known = "revenue" in ids.columns  # the revenue of the Simulation's own rows
    if isinstance(churn, ChurnFit):
        scored = churn.scored.filter((pl.col("month") == d) & (pl.col("scheme").cast(pl.String) == scheme))
        cols = ["customer_id", "p"] + ([] if known else ["revenue"])
        out = ids.join(scored.select(cols), on="customer_id", how="left")
    elif isinstance(churn, pl.DataFrame):
        cols = ["customer_id", "p"] + (["revenue"] if "revenue" in churn.columns and not known else [])
        out = ids.join(churn.select(cols), on="customer_id", how="left")
    else:
        out = ids.with_columns(p=pl.lit(float(churn)))
    if panel is not None:
        out = out.drop("revenue", strict=False).join(revenue.at(panel, d), on="customer_id", how="left")
    elif "revenue" not in out.columns:
        out = out.with_columns(revenue=pl.lit(None, dtype=pl.Float64))
    return out


def reform_churn_cost(sim: Simulation, panel: pl.DataFrame | pl.LazyFrame | None = None, *,
                      churn: ChurnFit | pl.DataFrame | float, effect: DropEffect | float | tuple,
                      ) -> ReformChurnCost:
    """Extra expected churners (and revenue) among the customers a simulated reform downgrades.

    Parameters
    ----------
    sim : the :class:`tierlib.reforms.Simulation` (its ``as_of`` is the month compared; its
        per-customer tiers, ``sim.customers``, say who is downgraded; its benefit cost change is
        reported alongside).
    panel : optional: take each downgraded customer's revenue from this panel (by
        ``sim.revenue``'s definition) instead of from ``sim.customers`` (the same figure when it
        is the simulated panel).
    churn, effect : as in :func:`reform_churn_cost_ledgers`.

    Examples
    --------
    >>> import datetime as dt, tierlib
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": months[0], "billed": 320.0})
    >>> sim = tierlib.simulate(p, "unicom_vip", {"thresholds.mobile.gold": 350})
    >>> cost = reform_churn_cost(sim, churn=0.1, effect=(2.5, 1.5, 4.0))
    >>> r = cost.summary.row(0, named=True)
    >>> r["downgraded"], round(r["extra_churners"], 3), r["revenue_lost"], r["cost_change"], cost.as_of
    (1, 0.15, 384.0, -90.0, datetime.date(2024, 8, 1))
    """
    if not isinstance(sim, Simulation):
        raise TypeError(f"sim must be a tierlib.reforms.Simulation, got {type(sim).__name__}; "
                        "for two ledgers use reform_churn_cost_ledgers")
    if sim.customers is None:
        raise ValueError("this Simulation carries no per-customer tiers (sim.customers); "
                         "run tierlib.simulate again")
    pair = sim.customers
    if panel is not None:
        pair = pair.drop("revenue").join(sim.revenue.at(panel, sim.as_of), on="customer_id", how="left")
    out = _cost(pair, sim.as_of, sim.baseline.key, churn=churn, effect=effect, panel=None,
                revenue=sim.revenue)
    out.summary = out.summary.with_columns(sim.summary.select("cost_base", "cost_reform", "cost_change"))
    return out


def reform_churn_cost_ledgers(baseline: pl.DataFrame | pl.LazyFrame, reform: pl.DataFrame | pl.LazyFrame,
                              *, churn: ChurnFit | pl.DataFrame | float,
                              effect: DropEffect | float | tuple, panel: pl.DataFrame | None = None,
                              as_of=None, revenue: Revenue = REVENUE) -> ReformChurnCost:
    """Extra expected churners (and revenue) among the customers a reform ledger downgrades.

    Parameters
    ----------
    baseline, reform : the ledgers of one scheme under the baseline and the reformed rules.
    churn : baseline probability of leaving within the effect window: a ChurnFit (its ``p`` at
        ``as_of``), a DataFrame ``customer_id, p[, revenue]``, or one number for everybody.
    effect : DropEffect, a hazard ratio, or ``(hr, lo, hi)``.
    panel : the panel: each downgraded customer's revenue at ``as_of`` (without it, the
        ``revenue`` column of ``churn``).
    as_of : month compared, any form :func:`tierlib.months.as_month` reads (default: the
        baseline ledger's last month).
    revenue : the revenue definition (default :data:`tierlib.revenue.REVENUE`, a year of billing).

    Examples
    --------
    >>> import datetime as dt, tierlib
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": months[0], "billed": 320.0})
    >>> base = tierlib.rate(p, "unicom_vip")
    >>> new = tierlib.rate(p, tierlib.load_scheme("unicom_vip").with_values({"thresholds.mobile.gold": 350}))
    >>> cost = reform_churn_cost_ledgers(base, new, churn=0.1, effect=(2.5, 1.5, 4.0), panel=p)
    >>> r = cost.summary.row(0, named=True)
    >>> r["downgraded"], round(r["extra_churners"], 3), round(r["extra_lo"], 3), round(r["revenue_lost"])
    (1, 0.15, 0.05, 384)
    """
    for name, x in (("baseline", baseline), ("reform", reform)):
        if not isinstance(x, (pl.DataFrame, pl.LazyFrame)):
            raise TypeError(f"{name} must be a ledger (polars frame), got {type(x).__name__}; "
                            "for a Simulation use reform_churn_cost")
    base, new = (x.collect() if isinstance(x, pl.LazyFrame) else x for x in (baseline, reform))
    d = base["month"].max() if as_of is None else as_month(as_of)
    return _cost(_pairs(base, new, d), d, base["scheme"].cast(pl.String)[0], churn=churn, effect=effect,
                 panel=panel, revenue=revenue)


def _cost(pair: pl.DataFrame, d: dt.date, scheme: str, *, churn, effect, panel,
          revenue: Revenue) -> ReformChurnCost:
    if isinstance(churn, ChurnFit) and isinstance(effect, DropEffect) and churn.k != effect.window:
        raise ValueError(f"the churn model predicts leaving within k={churn.k} months but the drop "
                         f"effect counts churn over window={effect.window}: fit both on one window")
    hr = _effect(effect)
    down = pair.filter(pl.col("rank_reform") < pl.col("rank_base"))
    ids = down.select("customer_id", *(["revenue"] if "revenue" in down.columns else []))
    down = down.drop("revenue", strict=False).join(_probabilities(churn, scheme, d, panel, ids, revenue),
                                                   on="customer_id", how="left")
    extra = {name: (pl.col("p") * h).clip(upper_bound=1.0) - pl.col("p")
             for name, h in zip(("extra", "extra_lo", "extra_hi"), hr)}
    cust = down.with_columns(**extra).with_columns(
        (pl.col(c) * pl.col("revenue").fill_null(0.0)).alias(f"revenue_{c}")
        for c in extra)
    agg = [pl.len().alias("downgraded"), pl.col("p").sum().alias("baseline_churners"),
           pl.col("extra").sum().alias("extra_churners"), pl.col("extra_lo").sum(),
           pl.col("extra_hi").sum(), pl.col("revenue_extra").sum().alias("revenue_lost"),
           pl.col("revenue_extra_lo").sum().alias("revenue_lost_lo"),
           pl.col("revenue_extra_hi").sum().alias("revenue_lost_hi"),
           pl.col("p").is_null().sum().alias("no_probability")]
    by_move = cust.group_by("tier_base", "tier_reform").agg(agg).sort("tier_base", "tier_reform")
    return ReformChurnCost(as_of=d, hazard_ratio=hr, revenue=revenue,
                           summary=cust.select(agg), by_move=by_move, customers=cust)


@dataclass(frozen=True)
class MemberChurnRate:
    """Members' observed churn within ``window`` months: a plain stand-in for ``p`` (assumed)."""

    rate: float | None
    rows: int
    leavers: int
    window: int
    first: dt.date | None
    last: dt.date | None

    def __str__(self) -> str:
        return str(self.sentence())

    def sentence(self):
        """What the rate is, as a :class:`tierlib.terms.Said` (English as a str; said in a report's language)."""
        if self.rate is None:
            return say("source.member_rate_none", window=self.window)
        return say("source.member_rate", rate=f"{self.rate:.2%}", first=f"{self.first:%Y-%m}", last=f"{self.last:%Y-%m}",
                   window=self.window, leavers=f"{self.leavers:,}", rows=f"{self.rows:,}")


def member_churn_rate(panel: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame | pl.LazyFrame, *,
                      as_of, window: int = 3, months: int = 12) -> MemberChurnRate:
    """The share of members (rank > 0) who left within ``window`` months, over the ``months``
    latest months whose window ends by ``as_of``.

    A plain, observed baseline probability for :func:`reform_churn_cost` when no churn model is
    fitted: every downgraded customer gets this ``p`` (assumed: members about to be downgraded
    may leave more often than members on average).

    Examples
    --------
    >>> import datetime as dt, tierlib
    >>> ms = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> a = pl.DataFrame({"customer_id": "a", "month": ms, "join_month": ms[0], "billed": 320.0})
    >>> b = pl.DataFrame({"customer_id": "b", "month": ms[:5], "join_month": ms[0], "billed": 320.0,
    ...                   "churned": [False] * 4 + [True]})
    >>> p = pl.concat([a.with_columns(churned=False), b])
    >>> r = member_churn_rate(p, tierlib.rate(p, "unicom_vip"), as_of="2024-08", window=3, months=4)
    >>> r.rows, r.leavers, r.first, r.last   # member-months 2024-03..06; b leaves in 2024-05
    (7, 3, datetime.date(2024, 3, 1), datetime.date(2024, 6, 1))
    """
    for name, v in (("window", window), ("months", months)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"member_churn_rate: {name} = {v!r}: a whole number of months >= 1")
    t = month_index(as_month(as_of))
    pan = lazy(panel)
    if "churned" not in pan.collect_schema().names():
        raise ValueError("the panel has no `churned` column: no observed churn rate; give churn= "
                         "(a probability, a table of p or a ChurnFit)")
    churn_t = (pan.filter(pl.col("churned")).group_by("customer_id")
               .agg(_c=t_of(pl.col("month")).min()))
    hi, lo = t - window + 1, t - window + 1 - months + 1
    rows = (lazy(ledger).filter(pl.col("rank") > 0).select("customer_id", _t=t_of("month"))
            .filter(pl.col("_t").is_between(lo, hi))
            .join(churn_t, on="customer_id", how="left")
            .select(y=pl.col("_c").is_between(pl.col("_t"), pl.col("_t") + window - 1).fill_null(False), t="_t")
            .collect())
    if rows.height == 0:
        return MemberChurnRate(None, 0, 0, window, None, None)
    return MemberChurnRate(float(rows["y"].mean()), rows.height, int(rows["y"].sum()), window,
                           from_index(int(rows["t"].min())), from_index(int(rows["t"].max())))
