"""Rating at ``as_of`` for reforms: one prepared panel, many scheme variants rated on it.

Each analysis of :mod:`tierlib.reforms` rates only the months up to ``as_of`` and only the
customers in network at ``as_of`` (a month's tier depends on earlier months only, and customers
do not depend on each other), so the panel is validated and cut once (:func:`_prepare_panel`) and
every variant is rated on it (:func:`_rate_at`, lazy: collect many at once).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from tierlib import engine
from tierlib.benefits import Catalogue
from tierlib.months import as_month
from tierlib.panel import validate
from tierlib.params import Scheme  # noqa: F401  (doctests)
from tierlib.schemefiles import load_scheme
from tierlib.rating import _rate_validated

__all__ = ["Frame"]  # _prepare_panel and _rate_at: private to the reforms package

Frame = pl.DataFrame | pl.LazyFrame

_date = as_month  # the one month parser (tierlib.months)


def _prepare_panel(panel: Frame, as_of: dt.date | str | None = None, *,
                   scheme: Scheme | None = None) -> tuple[pl.DataFrame, dt.date]:
    """The validated panel cut to what a rating at ``as_of`` needs, and ``as_of`` itself.

    Keeps the months up to ``as_of`` (later months cannot change it) of the customers in network
    at ``as_of`` (the others are not in the base), with the engine's base columns computed once
    for every scheme variant rated on it (with the extra columns ``scheme`` declares, which its
    reforms share). ``as_of`` defaults to the panel's last month.

    >>> p = pl.DataFrame({"customer_id": [1, 1, 2], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1),
    ...                   dt.date(2024, 1, 1)], "join_month": dt.date(2024, 1, 1), "billed": 1.0})
    >>> _prepare_panel(p)[0].height
    2
    """
    lf = panel.lazy()
    d = lf.select(pl.col("month").max()).collect().item() if as_of is None else _date(as_of)
    at = lf.filter(pl.col("month") == d).select("customer_id")
    cut = lf.filter(pl.col("month") <= d).join(at, on="customer_id", how="semi")
    out = engine.base(validate(cut), scheme.columns if scheme is not None else ()).collect()
    if out.height == 0:
        raise ValueError(f"no customer is in network at as_of {d}")
    return out, d


def _rate_at(prepared: pl.DataFrame, scheme: Scheme, as_of: dt.date, *, near: float = 0.10) -> pl.LazyFrame:
    """Rate a :func:`_prepare_panel` frame and keep the rows at ``as_of`` (lazy: collect many at once).

    Columns: ``customer_id, tier, rank, status, eligible, score, near`` and ``_thr1..K`` (the
    thresholds that apply to each customer). ``near`` is true when an eligible customer's score is
    within ``near`` (10 %) of any of them.

    >>> p = pl.DataFrame({"customer_id": 1, "month": [dt.date(2024, m, 1) for m in range(1, 4)],
    ...                   "join_month": dt.date(2024, 1, 1), "billed": 290.0})
    >>> prepared, d = _prepare_panel(p)
    >>> _rate_at(prepared, load_scheme("unicom_vip"), d).select("tier", "near").collect().row(0)
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
