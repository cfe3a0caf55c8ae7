"""A reform month by month from the date it starts (issue 12 item 5).

A reform that starts at a date bites gradually: a tier held by validity drops only when its
validity ends, so customers move down over the following months, not at once. :func:`unfold`
applies the reform from ``start`` (every plain value becomes ``{from: start, value: v}``), rates
the panel's own months under the baseline and the reform, and shows for each month from
``start`` to the horizon: members by tier, the benefit cost of the month and the churn cost of
the customers first downgraded that month, against the baseline.

Nothing is projected: a month the panel does not hold is not shown (the result says how many of
the horizon's months the panel covers), and a panel that ends before ``start`` is an error naming
both months. Spend is never extrapolated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from tierlib.benefits import Catalogue, catalogues_for
from tierlib.churn.fit import ChurnFit
from tierlib.months import as_month, from_index, month_index
from tierlib.params import Scheme
from tierlib.schemefiles import load_scheme
from tierlib.progress import Progress, report
from tierlib.rating import rate
from tierlib.reforms.rated import Frame
from tierlib.reforms.reform import ReformLike, apply_reform, load_reform, starting
from tierlib.reforms.side_by_side import EffectArg, _churn_inputs
from tierlib.revenue import Revenue

__all__ = ["Unfolding", "unfold"]

ASSUMPTIONS = (
    "The benefit cost of a month is the yearly cost of that month's members (not frozen), with "
    "points costed on the month's paid x 12, divided by 12 (unit costs assumed).",
    "A customer's extra churn is counted in the month the reform first puts them below their "
    "baseline tier: p x (hazard ratio - 1), capped at 1, leaving within the effect window.",
    "Revenue lost with an extra leaver is a year of their revenue at that month (mean monthly billed "
    "in network over the 12 months to it x 12, tierlib.revenue.YEARLY_REVENUE).",
    "Months after the panel's last month are not shown: spend is not projected forward.",
)


@dataclass(frozen=True)
class Unfolding:
    """The result of :func:`unfold`.

    ``months``: one row per month from ``start`` the panel holds (``reform`` names it):
    ``customers, members_base, members_reform, downgraded`` (below their baseline tier that
    month), ``upgraded``, ``newly_downgraded``, ``cost_base, cost_reform, cost_change`` (yuan of
    benefit cost in the month), ``extra_leavers[_lo, _hi]``, ``revenue_lost[_lo, _hi]`` (of the
    newly downgraded) and ``cum_*`` running sums. ``tiers``: members by month and tier under both.
    ``notes``: what the panel does not cover, and warnings on the drop effect.
    """

    reform: str
    baseline: Scheme
    scheme: Scheme
    start: dt.date
    horizon: int
    months: pl.DataFrame
    tiers: pl.DataFrame
    notes: tuple[str, ...]
    assumptions: tuple[str, ...] = ASSUMPTIONS

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables by sheet name (for :func:`tierlib.excel.write_workbook`)."""
        return {"by month": self.months, "tiers by month": self.tiers,
                "notes": pl.DataFrame({"reform": self.reform, "note": list(self.notes + self.assumptions)})}

    def __repr__(self) -> str:
        last = self.months.row(-1, named=True)
        out = [f"Reform '{self.reform}' on {self.baseline.key} from {self.start:%Y-%m}, "
               f"{self.months.height} of {self.horizon} months shown: by {last['month']:%Y-%m} "
               f"{last['downgraded']} customers below their baseline tier; benefit cost change to date "
               f"{last['cum_cost_change']:+,.0f} yuan (unit costs assumed)"]
        return "\n".join(out + [f"  note: {n}" for n in self.notes])


def _months(lf: pl.LazyFrame) -> list[dt.date]:
    return lf.select(pl.col("month").unique().sort()).collect().to_series().to_list()


def unfold(panel: Frame, baseline: str | Scheme, reform: ReformLike, *, start: dt.date | str,
           horizon: int = 12, name: str | None = None, drop_effect: EffectArg | None = None,
           churn: ChurnFit | float | None = None, window: int = 3, n_boot: int = 200, seed: int | None = 0,
           catalogue: Catalogue | None = None, revenue_months: int = 12,
           progress: Progress | None = None) -> Unfolding:
    """Follow a reform month by month from ``start`` to ``start + horizon - 1`` on the panel's months.

    Parameters
    ----------
    panel : the customer panel.
    baseline : a scheme id or Scheme.
    reform : a reform (mapping, YAML file, :class:`Reform`); it takes effect from ``start``.
    start : the reform's first month (``YYYY-MM``, a date ...).
    horizon : months followed, ``start`` included (default 12).
    name : the reform's name in the result (default: its own).
    drop_effect, churn, window, n_boot, seed : the churn cost, as in
        :func:`tierlib.reforms.compare_reforms`; ``drop_effect=None`` (default): no churn columns.
    catalogue, revenue_months : as in :func:`tierlib.reforms.simulate`.
    progress : a :data:`tierlib.progress.Progress` callback.

    Examples
    --------
    >>> ms = [dt.date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 19)]
    >>> p = pl.DataFrame({"customer_id": "a", "month": ms, "join_month": ms[0], "billed": 320.0})
    >>> u = unfold(p, "unicom_vip", {"thresholds.mobile.gold": 350}, start="2024-06", horizon=12)
    >>> u.months.filter(pl.col("downgraded") > 0)["month"].min()   # gold held to 2025-01, then re-rated
    datetime.date(2025, 2, 1)
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon: {horizon!r} is not a whole number of months >= 1")
    d0 = as_month(start, name="start")
    base = load_scheme(baseline)
    r = load_reform(reform)
    label = name or r.name
    new = apply_reform(base, starting(r, d0), name=label)
    lf = panel.lazy()
    months = _months(lf)
    if not months:
        raise ValueError("the panel has no rows")
    first, last = months[0], months[-1]
    if last < d0:
        raise ValueError(f"the panel ends {last:%Y-%m}, before the reform date {d0:%Y-%m}: no month of the "
                         f"panel shows the reform, and tierlib does not project spend forward; give a panel "
                         f"that reaches {d0:%Y-%m}")
    end = from_index(month_index(d0) + horizon - 1)
    shown = min(end, last)
    notes = []
    if d0 < first:
        raise ValueError(f"the reform date {d0:%Y-%m} is before the panel's first month {first:%Y-%m}")
    if shown < end:
        n = month_index(shown) - month_index(d0) + 1
        notes.append(f"the panel ends {last:%Y-%m}: it shows {n} of the {horizon} months from {d0:%Y-%m} "
                     f"to {end:%Y-%m}; the later months are not projected (spend is not extrapolated)")
    steps = 3 + (drop_effect is not None) * 2
    report(progress, 0, steps, f"rating {first:%Y-%m}..{shown:%Y-%m} under {base.key} and '{label}'")
    cut = lf.filter(pl.col("month") <= shown).collect()
    a, b = rate(cut, base), rate(cut, new)
    rev = Revenue(revenue_months, annualised=True)  # a year of revenue, against a yearly cost
    paid = pl.col("paid") if "paid" in cut.columns else pl.col("billed")
    money = cut.sort("customer_id", "month").select("customer_id", "month", rev.expr(),
                                                    yearly_paid=(paid * 12).cast(pl.Float64))
    pair = (a.filter(pl.col("month") >= d0)
            .select("customer_id", "month", tier_base=pl.col("tier").cast(pl.String), rank_base="rank",
                    status_base=pl.col("status").cast(pl.String))
            .join(b.select("customer_id", "month", tier_reform=pl.col("tier").cast(pl.String),
                           rank_reform="rank", status_reform=pl.col("status").cast(pl.String)),
                  on=["customer_id", "month"])
            .join(money, on=["customer_id", "month"], how="left")
            .sort("customer_id", "month"))
    down = pl.col("rank_reform") < pl.col("rank_base")
    pair = pair.with_columns(down=down, up=pl.col("rank_reform") > pl.col("rank_base")).with_columns(
        # the month of each customer's first downgrade only: one who leaves the downgraded state
        # and comes back is not counted (nor churns) twice
        newly=pl.col("down") & (pl.col("down").cast(pl.Int32).cum_sum().over("customer_id") == 1))
    report(progress, 1, steps, "benefit cost by month")
    cat = catalogues_for({"s": base}, {"s": catalogue} if catalogue else None)["s"]
    tiers, cost = _tiers_and_cost(pair, base, new, cat)
    by_month = (pair.group_by("month").agg(
        customers=pl.len(), members_base=(pl.col("rank_base") > 0).sum(),
        members_reform=(pl.col("rank_reform") > 0).sum(), downgraded=pl.col("down").sum(),
        upgraded=pl.col("up").sum(), newly_downgraded=pl.col("newly").sum())
        .join(cost, on="month", how="left").sort("month"))
    if drop_effect is not None:
        p, how, hr, source, warns = _churn_inputs(cut, base, shown, drop_effect, churn, window, n_boot, seed,
                                                  lambda w: report(progress, 2, steps, w))
        notes += warns + [f"drop effect: {source}", f"churn probability: {how}"]
        by_month = by_month.join(_churn(pair, p, hr, base), on="month", how="left")
    by_month = by_month.with_columns(pl.col("cost_change").cum_sum().alias("cum_cost_change"),
                                     *[pl.col(c).cum_sum().alias(f"cum_{c}") for c in
                                       ("extra_leavers", "revenue_lost") if c in by_month.columns])
    report(progress, steps, steps, "done")
    by_month = by_month.select(pl.lit(label).alias("reform"), pl.all())
    return Unfolding(reform=label, baseline=base, scheme=new, start=d0, horizon=horizon, months=by_month,
                     tiers=tiers.select(pl.lit(label).alias("reform"), pl.all()), notes=tuple(notes))


def _tiers_and_cost(pair: pl.DataFrame, base: Scheme, new: Scheme, cat: Catalogue) -> tuple[pl.DataFrame, pl.DataFrame]:
    parts, costs = [], []
    for side, s in (("base", base), ("reform", new)):
        m = (pair.filter((pl.col(f"rank_{side}") > 0))
             .group_by("month", tier=f"tier_{side}")
             .agg(members=pl.len().cast(pl.Int64),
                  active=(pl.col(f"status_{side}") == "active").sum().cast(pl.Int64),
                  paid=pl.col("yearly_paid").filter(pl.col(f"status_{side}") == "active").sum()))
        parts.append(m.select("month", "tier", pl.col("members").alias(f"members_{side}")))
        rows = []
        for (month,), g in m.group_by("month"):  # at most `horizon` months: small tables
            c = (cat.costs(g.select("tier", members="active", paid="paid"), s)["yearly_cost"].sum() / 12
                 if cat.entitlements else 0.0)
            rows.append({"month": month, f"cost_{side}": float(c)})
        costs.append(pl.DataFrame(rows, schema={"month": pl.Date, f"cost_{side}": pl.Float64}))
    ladder = pl.DataFrame({"tier": list(base.tiers), "rank": list(range(1, len(base.ladder)))},
                          schema={"tier": pl.String, "rank": pl.Int8})
    grid = pair.select("month").unique().join(ladder, how="cross")
    tiers = (grid.join(parts[0], on=["month", "tier"], how="left").join(parts[1], on=["month", "tier"], how="left")
             .with_columns(pl.col("members_base", "members_reform").fill_null(0))
             .with_columns(change=pl.col("members_reform") - pl.col("members_base")).sort("month", "rank"))
    cost = (pair.select("month").unique().join(costs[0], on="month", how="left").join(costs[1], on="month", how="left")
            .with_columns(pl.col("cost_base", "cost_reform").fill_null(0.0))
            .with_columns(cost_change=pl.col("cost_reform") - pl.col("cost_base")))
    return tiers, cost


def _churn(pair: pl.DataFrame, p, hr, base: Scheme) -> pl.DataFrame:
    cols = ("extra_leavers", "extra_leavers_lo", "extra_leavers_hi", "revenue_lost", "revenue_lost_lo",
            "revenue_lost_hi")
    if p is None or hr is None:
        return pair.select("month").unique().with_columns(pl.lit(None, pl.Float64).alias(c) for c in cols)
    new = pair.filter(pl.col("newly"))
    if isinstance(p, ChurnFit):
        scored = p.scored.filter(pl.col("scheme").cast(pl.String) == base.key).select("customer_id", "month", "p")
        new = new.join(scored, on=["customer_id", "month"], how="left")
    elif isinstance(p, pl.DataFrame):
        new = new.join(p.select("customer_id", "p"), on="customer_id", how="left")
    else:
        new = new.with_columns(p=pl.lit(float(p)))
    extra = {n: (pl.col("p") * h).clip(upper_bound=1.0) - pl.col("p")
             for n, h in zip(("extra_leavers", "extra_leavers_lo", "extra_leavers_hi"), hr)}
    got = (new.with_columns(**extra)
           .group_by("month").agg(*[pl.col(n).sum() for n in extra],
                                  *[(pl.col(n) * pl.col("revenue").fill_null(0.0)).sum()
                                    .alias(n.replace("extra_leavers", "revenue_lost")) for n in extra]))
    return (pair.select("month").unique().join(got, on="month", how="left")
            .with_columns(pl.col(c).fill_null(0.0) for c in cols))
