"""The ledger and the money behind it: the one place analyses get ledgers, ladders and revenue.

A *ledger* is the long output of ``tierlib.rate(panel, [...])`` (one row per customer, month and
scheme). This module turns one or several ledgers into one frame (:func:`ledger_frame`), gives
each scheme's ladder with its ``tier_label`` (:func:`ladders`, built by ``Scheme.ladder_frame``),
the ledger rows at a month with each customer's money (:func:`snapshot`, :func:`customer_money`)
and THE revenue definition (:func:`customer_revenue`, described in words by :data:`REVENUE`).

Revenue: a customer's revenue at ``as_of`` is the ``billed`` yuan summed over the 12 months up to
and including ``as_of`` (fewer for a customer in network for less): a year of revenue, what an
analyst reads as "revenue" in a revenue share and in revenue at risk. The definition itself
lives in :mod:`tierlib.revenue`; this module is where analyses take it from.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping, Sequence

import polars as pl

from tierlib.months import as_month
from tierlib.params import Scheme, SchemeError
from tierlib.schemefiles import load_scheme
from tierlib.revenue import REVENUE, Revenue

__all__ = ["ledger_frame", "ladders", "snapshot", "customer_money", "customer_revenue", "REVENUE", "Revenue",
           "Frame", "Ledgers", "SchemesArg"]

Frame = pl.DataFrame | pl.LazyFrame
Ledgers = Frame | Sequence[Frame] | Mapping[str, Frame]
SchemesArg = Mapping[str, Scheme] | Iterable[Scheme] | None


def customer_revenue(panel: Frame, as_of: dt.date | str, *, months: int = 12) -> pl.DataFrame:
    """``customer_id, revenue``: each customer's ``billed`` over the ``months`` months up to ``as_of``.

    The package's one revenue definition (:data:`REVENUE` says it in words); ``as_of`` is any
    month form :func:`tierlib.months.as_month` accepts (``"2024-03"``, ``"2024-03-01"``, a date).

    >>> p = pl.DataFrame({"customer_id": [1, 1, 1, 2], "month": [dt.date(2024, m, 1) for m in (1, 2, 3, 3)],
    ...                   "billed": [10.0, 20.0, 40.0, 5.0]})
    >>> customer_revenue(p, "2024-03").sort("customer_id").rows()
    [(1, 70.0), (2, 5.0)]
    >>> customer_revenue(p, "2024-03", months=2).sort("customer_id").rows()
    [(1, 60.0), (2, 5.0)]
    """
    return Revenue(months).at(panel, as_of)


def ledger_frame(ledgers: Ledgers) -> pl.DataFrame:
    """One long ledger with ``scheme`` and tier columns as strings.

    A mapping ``{name: ledger}`` renames each ledger's scheme to ``name`` (e.g. a baseline and a
    reform of the same scheme); a list is concatenated as is.

    >>> a = pl.DataFrame({"customer_id": [1], "scheme": ["x"], "tier": ["none"]})
    >>> ledger_frame({"base": a, "reform": a})["scheme"].to_list()
    ['base', 'reform']
    """
    if isinstance(ledgers, Mapping):
        parts = [_collect(f).with_columns(scheme=pl.lit(k)) for k, f in ledgers.items()]
    elif isinstance(ledgers, (pl.DataFrame, pl.LazyFrame)):
        parts = [_collect(ledgers)]
    else:
        parts = [_collect(f) for f in ledgers]
    # categoricals stay (casting millions of rows costs); tables cast after filtering
    parts = [f.with_columns(pl.col("scheme").cast(pl.Categorical)) for f in parts]
    return pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]


def _collect(f: Frame) -> pl.DataFrame:
    return f.collect() if isinstance(f, pl.LazyFrame) else f


def _strings(f: pl.DataFrame) -> pl.DataFrame:
    cats = [c for c in ("scheme", "tier", "assessed", "status", "next_tier") if c in f.columns]
    return f.with_columns(pl.col(cats).cast(pl.String))


def _schemes_of(ledger: pl.DataFrame) -> list[str]:
    return ledger["scheme"].unique(maintain_order=True).cast(pl.String).to_list()


def _as_of(ledger: pl.DataFrame, as_of: dt.date | str | None) -> dt.date:
    months = ledger["month"]
    if as_of is None:
        return months.max()
    d = as_month(as_of)
    if not (months == d).any():
        raise ValueError(f"as_of {d} is not a month of the ledger ({months.min()} .. {months.max()})")
    return d


def _scheme_map(keys: list[str], schemes: SchemesArg) -> dict[str, Scheme | None]:
    given = dict(schemes) if isinstance(schemes, Mapping) else {s.key: s for s in (schemes or [])}
    out: dict[str, Scheme | None] = {}
    for k in keys:
        if k in given:
            out[k] = given[k]
        else:
            try:
                out[k] = load_scheme(k)
            except SchemeError:
                out[k] = None  # a renamed ledger (e.g. "reform"): the ladder is read from the ledger
    return out


def ladders(ledger: pl.DataFrame, schemes: SchemesArg = None) -> pl.DataFrame:
    """Every scheme's ladder: ``scheme, tier, rank, label, tier_label, top`` (``none`` included).

    ``tier_label`` shows id and Chinese label (``star5 五星``). Schemes are found by the ledger's
    scheme names, or given (a mapping name -> Scheme, or Scheme objects keyed by ``Scheme.key``).

    >>> l = pl.DataFrame({"scheme": ["unicom_vip"], "tier": ["gold"], "rank": [2]})
    >>> ladders(l).select("tier_label", "top").rows()
    [('none 非会员', False), ('silver 银卡', False), ('gold 金卡', False), ('diamond 钻石卡', True)]
    """
    parts = []
    for key, s in _scheme_map(_schemes_of(ledger), schemes).items():
        if s is not None:  # the label is built once, by Scheme.tier_label
            parts.append(s.ladder_frame().with_columns(scheme=pl.lit(key)))
            continue
        # a renamed ledger whose scheme cannot be loaded: the ladder is read from the ledger
        seen = ledger.filter(pl.col("scheme") == key).select("tier", "rank").unique().sort("rank")
        ladder = seen["tier"].cast(pl.String).to_list()
        parts.append(pl.DataFrame({"scheme": [key] * len(ladder), "tier": ladder, "rank": list(range(len(ladder))),
                                   "label": [""] * len(ladder), "tier_label": ladder,
                                   "top": [0 < r == len(ladder) - 1 for r in range(len(ladder))]}))
    schema = {"scheme": pl.String, "tier": pl.String, "rank": pl.Int8, "label": pl.String,
              "tier_label": pl.String, "top": pl.Boolean}
    return pl.concat([p.cast(schema).select(list(schema)) for p in parts]) if parts else pl.DataFrame(schema=schema)


def snapshot(ledger: Ledgers, panel: Frame | None = None, *, as_of: dt.date | str | None = None,
             revenue_months: int = 12) -> pl.DataFrame:
    """The ledger rows at ``as_of`` with each customer's revenue and yearly paid from the panel.

    ``revenue`` = ``billed`` summed over the ``revenue_months`` months to ``as_of`` (inclusive);
    ``yearly_paid`` = mean monthly ``paid`` (``billed`` when absent) over the same months x 12.
    Both are null without a panel.

    >>> import datetime as dt
    >>> m = [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    >>> p = pl.DataFrame({"customer_id": [1, 1], "month": m, "billed": [10.0, 30.0]})
    >>> l = p.select("customer_id", "month", scheme=pl.lit("x"), tier=pl.lit("none"), rank=0)
    >>> snapshot(l, p).select("month", "revenue", "yearly_paid").row(0)
    (datetime.date(2024, 2, 1), 40.0, 240.0)
    """
    ledger = ledger_frame(ledger)
    d = _as_of(ledger, as_of)
    snap = _strings(ledger.filter(pl.col("month") == d))
    if panel is None:
        return snap.with_columns(revenue=pl.lit(None, pl.Float64), yearly_paid=pl.lit(None, pl.Float64))
    money = customer_money(panel, d, revenue_months=revenue_months)
    money = money.with_columns(pl.col("customer_id").cast(snap.schema["customer_id"]))
    return snap.join(money, on="customer_id", how="left", maintain_order="left")


def customer_money(panel: Frame, as_of: dt.date, *, revenue_months: int = 12,
                   revenue: Revenue | None = None) -> pl.DataFrame:
    """Per customer: ``revenue`` (billed over the months to ``as_of``; ``revenue``, when given,
    is the definition, e.g. a year for everyone) and ``yearly_paid``.

    ``yearly_paid`` is the mean monthly ``paid`` (``billed`` when absent) over those months x 12.

    >>> import datetime as dt
    >>> p = pl.DataFrame({"customer_id": [1, 1], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
    ...                   "billed": [10.0, 30.0]})
    >>> customer_money(p, dt.date(2024, 2, 1), revenue_months=1).rows()
    [(1, 30.0, 360.0)]
    """
    revenue = revenue or Revenue(revenue_months)
    lf = panel.lazy()
    paid = pl.col("paid") if "paid" in lf.collect_schema().names() else pl.col("billed")
    start = pl.lit(as_of).dt.offset_by(f"-{revenue.months - 1}mo")
    yearly_paid = (lf.filter((pl.col("month") <= as_of) & (pl.col("month") >= start))
                   .group_by("customer_id", maintain_order=True)
                   .agg(yearly_paid=(paid.mean() * 12).cast(pl.Float64)).collect())
    # revenue: the package's one definition (tierlib.revenue)
    return revenue.at(lf, as_of).join(yearly_paid, on="customer_id", how="left", maintain_order="left")
