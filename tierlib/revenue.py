"""Revenue: one definition for every figure that shows it (issue 9, item 11).

A customer's **revenue at a month** is the ``billed`` yuan of the ``months`` months up to and
including that month (12 by default: a year of revenue), summed over the months the customer
was in network (fewer for a customer who joined later). The revenue share of a tier
(``compare``), the revenue of the customers a reform moves (``simulate``), revenue at risk and
the retention list (``expected_churn``, ``retention_list``) and the revenue lost by extra
churners (``reform_churn_cost``) all use it; each result carries the :class:`Revenue` it used
and prints its definition from there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from tierlib.months import as_month, index_expr, month_index

__all__ = ["Revenue", "REVENUE", "YEARLY_REVENUE"]


@dataclass(frozen=True)
class Revenue:
    """The revenue definition: ``billed`` summed over ``months`` months up to ``as_of``."""

    months: int = 12
    #: per month in network instead of summed: the mean monthly ``billed`` over the months of the
    #: window the customer was in network (in the panel), times ``months``. A customer with 6 months
    #: of a 12-month window (a late joiner, or a panel that starts 6 months before as_of) then
    #: counts a whole window of revenue, as a yearly benefit cost is set against it (net value).
    annualised: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.months, bool) or not isinstance(self.months, int) or self.months < 1:
            raise ValueError(f"revenue months: {self.months!r} is not a whole number of months >= 1")

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str = "en") -> str:
        """The definition in words, in ``lang`` (``en`` or ``zh``).

        >>> Revenue(12).text("zh")
        '收入 = 截至统计月份（as_of，含）的 12 个月的出账金额（元），在网时间较短的客户按较少月份计'
        """
        from tierlib.terms import term

        if self.months == 1:
            span = term("say.revenue_span_one", lang)
        else:
            span = term("say.revenue_span", lang).format(months=self.months)
        key = "say.revenue_annualised" if self.annualised else "say.revenue_summed"
        return term(key, lang).format(span=span, months=self.months)

    def expr(self, by: tuple[str, ...] | list[str] = ("customer_id",)) -> pl.Expr:
        """Per row of a frame sorted by ``by`` and month (contiguous months): the revenue at the row's month.

        ``by``: the keys of one customer's rows (``("scheme", "customer_id")`` in a ledger of several
        schemes).

        >>> p = pl.DataFrame({"customer_id": [1, 1, 1], "month": [dt.date(2024, m, 1) for m in (1, 2, 3)],
        ...                   "billed": [10.0, 20.0, 40.0]})
        >>> p.select(Revenue(2).expr()).to_series().to_list()
        [10.0, 30.0, 60.0]
        """
        roll = pl.col("billed").cast(pl.Float64)
        roll = (roll.rolling_mean(self.months, min_samples=1) * self.months if self.annualised
                else roll.rolling_sum(self.months, min_samples=1))
        return roll.over(list(by)).alias("revenue")

    def at(self, panel: pl.DataFrame | pl.LazyFrame, as_of: dt.date | str) -> pl.DataFrame:
        """``customer_id, revenue`` of the customers with a row in ``as_of``'s window.

        >>> p = pl.DataFrame({"customer_id": [1, 1, 2], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1),
        ...                   dt.date(2024, 2, 1)], "billed": [10.0, 30.0, 5.0]})
        >>> Revenue(12).at(p, "2024-02").sort("customer_id").rows()
        [(1, 40.0), (2, 5.0)]
        >>> Revenue(12, annualised=True).at(p, "2024-02").sort("customer_id").rows()
        [(1, 240.0), (2, 60.0)]
        """
        t = month_index(as_month(as_of))
        billed = pl.col("billed").cast(pl.Float64)
        return (panel.lazy().filter(index_expr(pl.col("month")).is_between(t - self.months + 1, t))
                .group_by("customer_id", maintain_order=True)
                .agg(revenue=billed.mean() * self.months if self.annualised else billed.sum()).collect())


#: the package's default: a year of billed revenue up to ``as_of``
REVENUE = Revenue()
#: a year's revenue for every customer (mean monthly billed x 12): what a leaver costs a year,
#: set against a yearly benefit cost in a reform's net value
YEARLY_REVENUE = Revenue(12, annualised=True)
