"""Compare tier schemes on one sample: distributions, cross tables, equivalence, stability, cost.

Every function takes a *ledger* (the long output of ``tierlib.rate(panel, [...])``, one row per
customer, month and scheme) and, where money is involved, the panel it was rated from (revenue is
the panel's ``billed``; points cost its ``paid``). Tables describe the customers in network at
``as_of`` (default: the ledger's last month). Ineligible customers count in the base, in ``none``.

:func:`compare` runs them all and returns a :class:`Comparison` of small polars DataFrames.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import polars as pl

from tierlib.benefits import Catalogue, catalogues_for
from tierlib.revenue import Revenue

__all__ = ["Comparison", "compare", "tier_distribution",
           "cross_table", "rank_correlation", "equivalence", "stability", "tier_shares", "benefit_cost"]

from tierlib.ledger import (Frame, Ledgers, SchemesArg, _as_of, _scheme_map, _schemes_of, _strings,  # noqa: F401
                            customer_money, ladders, ledger_frame, snapshot)
from tierlib.moves import stability, tier_shares  # noqa: E402  (tables over time, re-exported)


def tier_distribution(ledger: Ledgers, panel: Frame | None = None, *, as_of: dt.date | str | None = None,
                      schemes: SchemesArg = None, revenue_months: int = 12) -> pl.DataFrame:
    """Customers and revenue by scheme and tier at ``as_of`` (every tier, zero-filled).

    Columns: ``scheme, tier, rank, tier_label, top, customers, share, cum_share`` (share at or
    above the tier), ``revenue, revenue_share``.

    >>> import datetime as dt
    >>> l = pl.DataFrame({"customer_id": [1, 2, 3, 4], "month": dt.date(2024, 1, 1),
    ...                   "scheme": "unicom_vip", "tier": ["none", "silver", "silver", "diamond"],
    ...                   "rank": [0, 1, 1, 3]})
    >>> tier_distribution(l).select("tier", "customers", "share", "cum_share").rows()
    [('none', 1, 0.25, 1.0), ('silver', 2, 0.5, 0.75), ('gold', 0, 0.0, 0.25), ('diamond', 1, 0.25, 0.25)]
    """
    ledger = ledger_frame(ledger)
    snap = snapshot(ledger, panel, as_of=as_of, revenue_months=revenue_months)
    return _distribution(ledger, snap, schemes, with_revenue=panel is not None)


def _distribution(ledger: pl.DataFrame, snap: pl.DataFrame, schemes: SchemesArg, *,
                  with_revenue: bool) -> pl.DataFrame:
    """:func:`tier_distribution` of a snapshot already taken (``compare`` takes it once)."""
    counts = snap.group_by("scheme", "tier").agg(customers=pl.len().cast(pl.Int64),
                                                 revenue=pl.col("revenue").sum())
    out = (ladders(ledger, schemes).with_row_index("_o").join(counts, on=["scheme", "tier"], how="left")
           .sort("_o").with_columns(pl.col("customers").fill_null(0), pl.col("revenue").fill_null(0.0)))
    if not with_revenue:
        out = out.with_columns(revenue=pl.lit(None, pl.Float64))
    total = pl.col("customers").sum().over("scheme")
    return out.with_columns(
        share=pl.col("customers") / total,
        cum_share=pl.col("customers").cum_sum(reverse=True).over("scheme") / total,
        revenue_share=pl.col("revenue") / pl.col("revenue").sum().over("scheme"),
    ).select("scheme", "tier", "rank", "tier_label", "top", "customers", "share", "cum_share",
             "revenue", "revenue_share")


def _pair(ledger: pl.DataFrame, a: str, b: str, d: dt.date) -> pl.DataFrame:
    cols = ["customer_id", "tier", "rank", "score"]
    x = _strings(ledger.filter((pl.col("month") == d) & (pl.col("scheme") == a)).select([c for c in cols if c in ledger.columns]))
    y = _strings(ledger.filter((pl.col("month") == d) & (pl.col("scheme") == b)).select([c for c in cols if c in ledger.columns]))
    return x.join(y, on="customer_id", how="inner", suffix="_b").rename(
        {c: f"{c}_a" for c in cols[1:] if c in x.columns})


def cross_table(ledger: Ledgers, a: str, b: str, *, as_of: dt.date | str | None = None,
                schemes: SchemesArg = None) -> pl.DataFrame:
    """Customers by tier of scheme ``a`` x tier of scheme ``b`` at ``as_of`` (all cells).

    Columns: ``scheme_a, scheme_b, tier_a, rank_a, tier_label_a, tier_b, rank_b, tier_label_b,
    customers, share`` (of the base), ``row_share`` (of the customers in ``tier_a``).

    >>> import datetime as dt
    >>> l = pl.DataFrame({"customer_id": [1, 2, 1, 2], "month": dt.date(2024, 1, 1),
    ...                   "scheme": ["a", "a", "b", "b"], "tier": ["none", "x", "y", "y"],
    ...                   "rank": [0, 1, 1, 1]})
    >>> cross_table(l, "a", "b").filter(pl.col("customers") > 0).select("tier_a", "tier_b", "customers").rows()
    [('none', 'y', 1), ('x', 'y', 1)]
    """
    ledger = ledger_frame(ledger)
    d = _as_of(ledger, as_of)
    lad = ladders(ledger, schemes)
    la = lad.filter(scheme=a).select(tier_a="tier", rank_a="rank", tier_label_a="tier_label")
    lb = lad.filter(scheme=b).select(tier_b="tier", rank_b="rank", tier_label_b="tier_label")
    counts = _pair(ledger, a, b, d).group_by("tier_a", "tier_b").agg(customers=pl.len().cast(pl.Int64))
    out = la.join(lb, how="cross").join(counts, on=["tier_a", "tier_b"], how="left", maintain_order="left")
    out = out.with_columns(pl.col("customers").fill_null(0))
    return out.select(
        scheme_a=pl.lit(a), scheme_b=pl.lit(b),
        *["tier_a", "rank_a", "tier_label_a", "tier_b", "rank_b", "tier_label_b", "customers"],
        share=pl.col("customers") / pl.col("customers").sum(),
        row_share=(pl.col("customers") / pl.col("customers").sum().over("tier_a")).fill_nan(None),
    ).sort("rank_a", "rank_b")


def rank_correlation(ledger: Ledgers, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Spearman rank correlation of every pair of schemes at ``as_of``, on score and on tier rank.

    >>> import datetime as dt
    >>> l = pl.DataFrame({"customer_id": [1, 2, 3] * 2, "month": dt.date(2024, 1, 1),
    ...                   "scheme": ["a"] * 3 + ["b"] * 3, "tier": "t", "rank": [0, 1, 1, 0, 0, 1],
    ...                   "score": [1.0, 2.0, 3.0, 30.0, 20.0, 10.0]})
    >>> rank_correlation(l).select("customers", "spearman_score").row(0)
    (3, -1.0)
    """
    ledger = ledger_frame(ledger)
    d = _as_of(ledger, as_of)
    rows = []
    for a, b in itertools.combinations(_schemes_of(ledger), 2):
        p = _pair(ledger, a, b, d)
        r = p.select(pl.corr("score_a", "score_b", method="spearman").alias("s"),
                     pl.corr("rank_a", "rank_b", method="spearman").alias("r")).row(0)
        rows.append((a, b, p.height, r[0], r[1]))
    return pl.DataFrame(rows, schema={"scheme_a": pl.String, "scheme_b": pl.String, "customers": pl.Int64,
                                      "spearman_score": pl.Float64, "spearman_rank": pl.Float64},
                        orient="row")


def equivalence(ledger: Ledgers, a: str, b: str, *, as_of: dt.date | str | None = None,
                schemes: SchemesArg = None) -> pl.DataFrame:
    """Which tier of ``b`` holds the same share of the base as each tier of ``a`` (from the top).

    Quantile matching on cumulative shares: for each tier *t* of ``a``, ``share_a`` is the share
    of customers at *t* or above; the equivalent ``tier_b`` is the highest tier of ``b`` whose
    share at or above it is at least ``share_a`` (``none`` when even all of ``b``'s members are
    fewer). ``score_b`` is the ``b`` score of the customer at that position: the threshold a
    pure score rule on ``b``'s score would need to hold the same share.

    >>> import datetime as dt
    >>> l = pl.DataFrame({"customer_id": [1, 2, 3, 4] * 2, "month": dt.date(2024, 1, 1),
    ...                   "scheme": ["a"] * 4 + ["b"] * 4, "tier": "t",
    ...                   "rank": [0, 1, 1, 2, 0, 0, 1, 2], "score": [0.0] * 4 + [1.0, 2.0, 3.0, 4.0]})
    >>> equivalence(l, "a", "b").select("rank_a", "share_a", "rank_b", "share_b", "score_b").rows()
    [(1, 0.75, 0, 1.0, 2.0), (2, 0.25, 2, 0.25, 4.0)]
    """
    ledger = ledger_frame(ledger)
    d = _as_of(ledger, as_of)
    p = _pair(ledger, a, b, d)
    n = p.height
    lad = ladders(ledger, schemes)
    la, lb = lad.filter(scheme=a), lad.filter(scheme=b)
    ra, rb = p["rank_a"].to_numpy(), p["rank_b"].to_numpy()
    scores = p["score_b"].sort(descending=True, nulls_last=True) if "score_b" in p.columns else None
    at_b = {int(r): int((rb >= r).sum()) for r in lb["rank"]}
    rows = []
    for t, r in la.filter(pl.col("rank") > 0).select("tier", "rank").iter_rows():
        k = int((ra >= r).sum())
        u = max((x for x, c in at_b.items() if c >= k), default=None) if k > 0 else None
        tier_b = lb.filter(pl.col("rank") == u)["tier"].item() if u is not None else None
        score = scores[k - 1] if scores is not None and k > 0 else None
        rows.append((a, b, t, r, k / n if n else None, tier_b, u,
                     at_b[u] / n if u is not None and n else None, score))
    return pl.DataFrame(rows, schema={"scheme_a": pl.String, "scheme_b": pl.String, "tier_a": pl.String,
                                      "rank_a": pl.Int8, "share_a": pl.Float64, "tier_b": pl.String,
                                      "rank_b": pl.Int8, "share_b": pl.Float64, "score_b": pl.Float64},
                        orient="row")


def benefit_cost(ledger: Ledgers, panel: Frame | None = None, *, as_of: dt.date | str | None = None,
                 schemes: SchemesArg = None, catalogues: Mapping[str, Catalogue] | None = None) -> pl.DataFrame:
    """Yearly benefit cost by scheme, tier and entitlement for the members at ``as_of``.

    Members of a frozen card hold no benefits (seed 003) and cost nothing. Points cost needs the
    panel (``paid``); without it that part is 0. Unit costs are assumptions: see each
    catalogue's card (:mod:`tierlib.benefits`). Columns: ``scheme, tier, rank, tier_label,
    entitlement, label, kind, members, yearly_cost, assumed``.

    >>> import datetime as dt
    >>> l = pl.DataFrame({"customer_id": [1, 2], "month": dt.date(2024, 1, 1), "scheme": "unicom_vip",
    ...                   "tier": ["gold", "silver"], "rank": [2, 1], "status": "active"})
    >>> benefit_cost(l).group_by("tier").agg(pl.col("yearly_cost").sum()).sort("tier").rows()
    [('gold', 98.0), ('silver', 8.0)]
    """
    ledger = ledger_frame(ledger)
    return _cost(ledger, snapshot(ledger, panel, as_of=as_of), schemes, catalogues)


def _cost(ledger: pl.DataFrame, snap: pl.DataFrame, schemes: SchemesArg,
          catalogues: Mapping[str, Catalogue] | None) -> pl.DataFrame:
    """:func:`benefit_cost` of a snapshot already taken (``compare`` takes it once)."""
    active = pl.col("status") == "active" if "status" in snap.columns else pl.col("rank") > 0
    members = (snap.filter(active & (pl.col("rank") > 0)).group_by("scheme", "tier")
               .agg(members=pl.len().cast(pl.Int64), paid=pl.col("yearly_paid").fill_null(0.0).sum()))
    smap = {k: v for k, v in _scheme_map(_schemes_of(ledger), schemes).items()
            if v is not None}
    parts = []
    for key, cat in catalogues_for(smap, catalogues).items():
        m = members.filter(scheme=key)
        if m.height and cat.entitlements:
            parts.append(cat.costs(m, smap[key]).with_columns(scheme=pl.lit(key)))
    schema = {"scheme": pl.String, "tier": pl.String, "rank": pl.Int8, "tier_label": pl.String,
              "entitlement": pl.String, "label": pl.String, "kind": pl.String, "members": pl.Int64,
              "yearly_cost": pl.Float64, "assumed": pl.Boolean}
    if not parts:
        return pl.DataFrame(schema=schema)
    labels = ladders(ledger, schemes).select("scheme", "tier", "tier_label")
    out = pl.concat(parts, how="vertical_relaxed").join(labels, on=["scheme", "tier"], how="left",
                                                        maintain_order="left")
    return out.select(list(schema)).cast(schema)


TABLES = ("summary", "distribution", "cross", "correlation", "equivalence", "stability", "cost")


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: small DataFrames, one per view, and notes to read first.

    Index it like a dict (``result["cross"]``) or by attribute. ``notes`` say where numbers
    rest on assumptions (benefit unit costs) or on incomplete data.
    """

    as_of: dt.date
    schemes: tuple[str, ...]
    summary: pl.DataFrame
    distribution: pl.DataFrame
    cross: pl.DataFrame
    correlation: pl.DataFrame
    equivalence: pl.DataFrame
    stability: pl.DataFrame
    cost: pl.DataFrame
    notes: tuple[str, ...] = field(default=())
    revenue: Revenue = field(default=Revenue())  # the revenue definition behind every revenue figure

    def __getitem__(self, name: str) -> pl.DataFrame:
        if name not in TABLES:
            raise KeyError(f"no table '{name}' (tables: {', '.join(TABLES)})")
        return getattr(self, name)

    def keys(self) -> tuple[str, ...]:
        return TABLES

    def __repr__(self) -> str:
        cols = ["scheme", "customers", "member_share", "top_tier", "top_share", "member_revenue_share",
                "yearly_cost"]
        with pl.Config(tbl_rows=20, tbl_cols=len(cols), tbl_hide_dataframe_shape=True,
                       tbl_hide_column_data_types=True, float_precision=3, tbl_width_chars=120):
            table = str(self.summary.select(cols))
        sizes = ", ".join(f"{t} ({self[t].height} rows)" for t in TABLES[1:])
        out = [f"Comparison of {len(self.schemes)} scheme(s) at {self.as_of}", table, f"tables: {sizes}"]
        out += ["notes:"] + [f"- {n}" for n in self.notes] if self.notes else []
        return "\n".join(out)


def compare(ledgers: Ledgers, panel: Frame | None = None, *, as_of: dt.date | str | None = None,
            schemes: SchemesArg = None, catalogues: Mapping[str, Catalogue] | None = None,
            pairs: Sequence[tuple[str, str]] | None = None, revenue_months: int = 12, lang: str = "en") -> Comparison:
    """Compare the schemes of a ledger on one sample at ``as_of``.

    Parameters
    ----------
    ledgers : the output of ``tierlib.rate(panel, [...])`` (or a list / a ``{name: ledger}``
        mapping of ledgers of the same customers).
    panel : the panel that was rated; gives revenue (``billed``) and points cost (``paid``).
    as_of : the month described (default: the ledger's last month).
    schemes : Scheme objects for ledgers whose scheme name is not a registered id (reforms).
    catalogues : benefits catalogues by scheme name or id (default: ``tierlib/benefits/<id>.yaml``).
    pairs : the scheme pairs for cross tables (default: every pair); equivalence runs both ways.
    revenue_months : months of revenue to ``as_of`` (inclusive) counted as a customer's revenue.
    lang : the language of the ``notes`` (``en`` or ``zh``, a report's language).

    Returns
    -------
    Comparison
        ``summary`` (one row per scheme), ``distribution``, ``cross``, ``correlation``,
        ``equivalence``, ``stability``, ``cost`` and ``notes``.

    Examples
    --------
    >>> import datetime as dt, tierlib
    >>> p = pl.DataFrame({"customer_id": [1, 1, 2, 2], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)] * 2,
    ...                   "join_month": dt.date(2023, 1, 1), "billed": [400.0, 400.0, 50.0, 50.0]})
    >>> c = compare(tierlib.rate(p, ["unicom_vip", "mobile_credit"]), p)
    >>> c.summary.select("scheme", "member_share", "top_tier").rows()
    [('unicom_vip', 0.5, 'diamond'), ('mobile_credit', 0.5, 'star5')]
    """
    ledger = ledger_frame(ledgers)
    d = _as_of(ledger, as_of)
    names = _schemes_of(ledger)
    schemes = _scheme_map(names, schemes)  # load each scheme file once
    snap = snapshot(ledger, panel, as_of=d, revenue_months=revenue_months)
    dist = _distribution(ledger, snap, schemes, with_revenue=True)
    if panel is None:
        dist = dist.with_columns(revenue=pl.lit(None, pl.Float64), revenue_share=pl.lit(None, pl.Float64))
    cost = _cost(ledger, snap, schemes, catalogues)
    at = _strings(ledger.filter(pl.col("month") == d))
    pairs = [tuple(x) for x in pairs] if pairs is not None else list(itertools.combinations(names, 2))
    unknown = sorted({x for pair in pairs for x in pair} - set(names))
    if unknown:
        raise ValueError(f"pairs name scheme(s) not in the ledger: {', '.join(unknown)} (ledger: {', '.join(names)})")
    cross = [cross_table(at, a, b, schemes=schemes) for a, b in pairs]
    equiv = [equivalence(at, x, y, schemes=schemes) for a, b in pairs for x, y in ((a, b), (b, a))]
    return Comparison(
        as_of=d, schemes=tuple(names), summary=_summary(dist, cost, snap, names),
        distribution=dist, cross=_concat(cross), correlation=rank_correlation(at),
        equivalence=_concat(equiv), stability=stability(ledger, as_of=d, schemes=schemes), cost=cost,
        notes=tuple(_notes(ledger, snap, panel, schemes, catalogues, Revenue(revenue_months), lang)),
        revenue=Revenue(revenue_months),
    )


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def _summary(dist: pl.DataFrame, cost: pl.DataFrame, snap: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    members = pl.col("rank") > 0
    s = dist.group_by("scheme", maintain_order=True).agg(
        customers=pl.col("customers").sum(),
        member_share=pl.col("share").filter(members).sum(),
        top_tier=pl.col("tier").filter(pl.col("top")).first(),
        top_share=pl.col("share").filter(pl.col("top")).sum(),
        member_revenue_share=pl.col("revenue_share").filter(members).sum()
        if dist["revenue_share"].null_count() < dist.height else pl.lit(None, pl.Float64),
    )
    c = cost.group_by("scheme").agg(yearly_cost=pl.col("yearly_cost").sum())
    inc = (snap.group_by("scheme").agg(incomplete_share=(~pl.col("window_complete")).mean())
           if "window_complete" in snap.columns else pl.DataFrame({"scheme": names}))
    s = s.join(c, on="scheme", how="left", maintain_order="left").join(inc, on="scheme", how="left", maintain_order="left")
    return s.with_columns(pl.col("yearly_cost").fill_null(0.0),
                          cost_per_customer=pl.col("yearly_cost").fill_null(0.0) / pl.col("customers"))


def _notes(ledger: pl.DataFrame, snap: pl.DataFrame, panel: Frame | None, schemes: SchemesArg,
           catalogues: Mapping[str, Catalogue] | None, revenue: Revenue, lang: str = "en") -> list[str]:
    from tierlib.terms import term

    notes = [term("say.note_costs_assumed", lang)]
    smap = _scheme_map(_schemes_of(ledger), schemes)
    for key, s in smap.items():
        if s is None:
            notes.append(term("say.note_unregistered", lang).format(scheme=key))
    for key, cat in catalogues_for({k: v for k, v in smap.items() if v is not None}, catalogues).items():
        if not cat.entitlements:
            notes.append(term("say.note_no_benefits", lang).format(scheme=key, description=cat.description))
    if panel is None:
        notes.append(term("say.note_no_panel", lang))
    else:
        definition = revenue.text(lang)
        notes.append(term("say.note_revenue", lang).format(definition=definition[0].upper() + definition[1:]))
    if "window_complete" in snap.columns:
        inc = snap.group_by("scheme", maintain_order=True).agg((~pl.col("window_complete")).mean().alias("x"))
        for key, x in inc.filter(pl.col("x") > 0).iter_rows():
            notes.append(term("say.note_truncated", lang).format(scheme=key, share=f"{x:.1%}"))
    return notes
