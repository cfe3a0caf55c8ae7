"""Reforms side by side with their net value (issue 12 item 4).

:func:`compare_reforms` rates one panel under a baseline and several named reforms and returns
one row per reform: movers up and down, members by tier, the yearly benefit cost saved (unit
costs assumed), the churn cost (extra expected leavers among the customers it downgrades x
their revenue, :func:`tierlib.churn.reform_churn_cost`) and

    **net value = benefit cost saved - revenue lost with the extra leavers**

with an interval from the drop effect's interval. A stacked reform (``a + b``) also gets an
additive breakdown: each step's marginal contribution, in the order given, summing exactly to
the stacked total (the scheme after step *i* minus the scheme after step *i - 1*).

The drop effect is estimated on the panel (``drop_effect="estimate"``, a regression
discontinuity at the re-rating floor, :func:`tierlib.churn.drop_effect`) or set by the analyst
(one hazard ratio, or ``(low, central, high)``). Each downgraded customer's baseline probability
of leaving within the effect window is a churn model's (``churn=`` a ChurnFit), a table or
number the analyst gives, or by default the members' observed churn rate
(:func:`tierlib.churn.member_churn_rate`, assumed). Where either cannot be trusted or
computed, the row's ``warnings`` say so in words and the churn figures stay empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

import polars as pl

from tierlib.benefits import Catalogue, catalogues_for
from tierlib.card import assumptions as assumed_numbers
from tierlib.churn.effect import ASSUMPTIONS as EFFECT_ASSUMPTIONS
from tierlib.churn.effect import DropEffect, drop_effect as estimate_drop_effect
from tierlib.churn.fit import ChurnFit
from tierlib.churn.reform import ASSUMPTIONS as COST_ASSUMPTIONS
from tierlib.churn.reform import member_churn_rate, reform_churn_cost
from tierlib.ledger import customer_money
from tierlib.params import Scheme, SchemeError
from tierlib.schemefiles import load_scheme
from tierlib.progress import Progress, report
from tierlib.rating import rate
from tierlib.reforms.rated import Frame, _prepare_panel, _rate_at
from tierlib.reforms.reform import ReformLike, cumulative, load_reform, reform_warnings
from tierlib.reforms.simulation import Simulation, simulation_of
from tierlib.revenue import Revenue
from tierlib.terms import check_lang, said, say, text

__all__ = ["ReformComparison", "compare_reforms", "EffectArg"]

EffectArg = DropEffect | float | tuple[float, float, float] | str
#: the churn figures that a stacked reform's steps add up to
ADDITIVE = ("cost_saved", "members_change", "downgraded", "extra_leavers", "extra_leavers_lo",
            "extra_leavers_hi", "revenue_lost", "revenue_lost_lo", "revenue_lost_hi", "net_value",
            "net_value_lo", "net_value_hi")


@dataclass(frozen=True)
class ReformComparison:
    """The result of :func:`compare_reforms`.

    ``table``: one row per named reform (columns described in :func:`compare_reforms`).
    ``breakdown``: one row per reform and step, each step's marginal contribution (a single
    reform is its own one step). ``assumptions``: what the figures rest on, per reform.
    ``simulations``: the :class:`~tierlib.reforms.Simulation` of each named reform.
    ``effect``: the hazard ratio ``(central, low, high)`` used (None when unavailable) and
    ``effect_source`` how it was obtained; ``notes``: warnings shared by every reform;
    ``lang``: the language of the table's words.
    """

    as_of: dt.date
    baseline: Scheme
    table: pl.DataFrame
    breakdown: pl.DataFrame
    assumptions: pl.DataFrame
    simulations: Mapping[str, Simulation] = field(repr=False)
    effect: tuple[float, float, float] | None
    effect_source: str
    probability: str
    notes: tuple[str, ...] = ()
    lang: str = "en"

    def tables(self) -> dict[str, pl.DataFrame]:
        """The three tables by sheet name, for :func:`tierlib.excel.write_workbook`."""
        return {"reforms": self.table, "breakdown": self.breakdown, "assumptions": self.assumptions}

    def __repr__(self) -> str:
        lines = [f"Reforms of {self.baseline.key} side by side at {self.as_of:%Y-%m} "
                 f"(yuan a year; unit costs assumed; drop effect {self.effect_source})"]
        for r in self.table.iter_rows(named=True):
            net = ("net value unknown" if r["net_value"] is None else
                   f"net value {r['net_value']:+,.0f} ({r['net_value_lo']:+,.0f} .. {r['net_value_hi']:+,.0f})")
            lines.append(f"  {r['reform']}: {r['up']} up, {r['down']} down; benefit cost saved "
                         f"{r['cost_saved']:+,.0f}; {net}")
            shared = {said(n, self.lang) for n in self.notes}  # the table's words are in its language
            lines += [f"    warning: {w}" for w in r["warnings"].split("\n") if w and w not in shared]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _named(reforms: Mapping[str, ReformLike]) -> dict[str, Any]:
    if not isinstance(reforms, Mapping) or not reforms:
        raise TypeError("reforms: give a mapping {name: reform}, e.g. {'gold 350': {'thresholds.mobile.gold': 350}}")
    out = {}
    for name, r in reforms.items():
        if not isinstance(name, str) or not name.strip():
            raise SchemeError(f"reforms: a reform's name must be a non-empty string, not {name!r}")
        r = load_reform(r)
        out[name] = r.named(name) if not r.steps else r
    return out


def _effect(effect: EffectArg) -> tuple[tuple[float, float, float], str]:
    if isinstance(effect, (int, float)) and not isinstance(effect, bool):
        if not 0 < float(effect) < float("inf"):
            raise ValueError(f"drop_effect: a hazard ratio is a positive number, not {effect!r}")
        return (float(effect),) * 3, say("source.effect_one_value")
    if isinstance(effect, (tuple, list)) and len(effect) == 3:
        lo, mid, hi = (float(x) for x in effect)
        if not 0 < lo <= mid <= hi < float("inf"):
            raise ValueError(f"drop_effect: give positive (low, central, high) in that order, got {tuple(effect)}")
        return (mid, lo, hi), say("source.effect_three_values")
    raise ValueError(f"drop_effect: 'estimate', a hazard ratio or (low, central, high), not {effect!r}")


def _churn_inputs(panel: Frame, base: Scheme, d: dt.date, drop_effect: EffectArg, churn, window: int,
                  n_boot: int, seed: int | None, step) -> tuple[Any, str, tuple | None, str, list[str]]:
    """(p, how p was obtained, hazard ratios, how they were obtained, warnings)."""
    warns: list[str] = []
    estimate = isinstance(drop_effect, str)
    if estimate and drop_effect != "estimate":
        raise ValueError(f"drop_effect: 'estimate', a hazard ratio or (low, central, high), not {drop_effect!r}")
    ledger = None
    if estimate or churn is None:
        step(say("progress.rating_panel", month=f"{d:%Y-%m}", scheme=base.key))
        cut = panel.lazy().filter(pl.col("month") <= d).collect()
        ledger = rate(cut, base)
    if churn is None:
        try:
            r = member_churn_rate(cut, ledger, as_of=d, window=window)
        except ValueError as e:
            r = None
            warns.append(say("warn.no_churn_cost", reason=str(e)))
        p = None if r is None else r.rate
        how = say("source.p_none") if r is None else r.sentence()
        if r is not None and r.rate is None:
            warns.append(say("warn.no_churn_cost", reason=r.sentence()))
    elif isinstance(churn, ChurnFit):
        if churn.k != window:
            raise ValueError(f"the churn model predicts leaving within k={churn.k} months; window={window}: "
                             "fit both on one window")
        p, how = churn, say("source.p_model", k=churn.k)
        warns += [say("warn.churn_model", reason=w) for w in churn.warnings]
    elif isinstance(churn, pl.DataFrame):
        p, how = churn, say("source.p_table")
    else:
        p, how = float(churn), say("source.p_fixed", p=f"{float(churn):.2%}")
    if estimate:
        step(say("progress.estimating_effect", n=n_boot))
        try:
            eff = estimate_drop_effect(cut, ledger, window=window, n_boot=n_boot, random_state=seed)
        except ValueError as e:
            warns.append(say("warn.no_effect_estimate", reason=str(e)))
            return p, how, None, say("source.not_available"), warns
        hr = (eff.hazard_ratio, *eff.ci)
        source = say("source.effect_estimated", hr=f"{hr[0]:.2f}", level=f"{eff.level:.0%}", lo=f"{hr[1]:.2f}",
                     hi=f"{hr[2]:.2f}", window=eff.window)
        return (p, how, *_usable(hr, source, warns + [say("warn.drop_untrusted", reason=w) for w in eff.warnings]))
    if isinstance(drop_effect, DropEffect):
        warns += [say("warn.drop_untrusted", reason=w) for w in drop_effect.warnings]
        hr = (drop_effect.hazard_ratio, *drop_effect.ci)
        return (p, how, *_usable(hr, say("source.effect_given"), warns))
    hr, source = _effect(drop_effect)
    return p, how, hr, source, warns


def _usable(hr: tuple, source: str, warns: list[str]) -> tuple[tuple | None, str, list[str]]:
    """An estimated drop effect that is not a number (too few leavers near the floor) gives no
    churn cost, said in words, rather than a nan that a later check refuses."""
    if not all(x == x for x in hr):  # nan
        return None, source, warns + [say("warn.effect_not_a_number")]
    return hr, source, warns


def _metrics(sim: Simulation, p, hr: tuple | None) -> dict[str, Any]:
    s = sim.summary.row(0, named=True)
    dist = sim.distribution.filter(pl.col("rank") > 0)
    row: dict[str, Any] = {"up": s["up"], "down": s["down"], "members_base": s["members_base"],
                           "members_reform": s["members_reform"],
                           "members_change": s["members_reform"] - s["members_base"]}
    for t, nb, nr in dist.select("tier", "customers_base", "customers_reform").iter_rows():
        row[f"members_{t}"] = nr
        row[f"members_{t}_change"] = nr - nb
    row.update(cost_base=s["cost_base"], cost_reform=s["cost_reform"], cost_saved=-s["cost_change"])
    names = ("downgraded", "extra_leavers", "extra_leavers_lo", "extra_leavers_hi", "revenue_lost",
             "revenue_lost_lo", "revenue_lost_hi", "net_value", "net_value_lo", "net_value_hi")
    if p is None or hr is None:
        row.update(dict.fromkeys(names))
        row["downgraded"] = s["down"]
        return row
    c = reform_churn_cost(sim, churn=p, effect=hr).summary.row(0, named=True)
    row.update(downgraded=c["downgraded"], extra_leavers=c["extra_churners"], extra_leavers_lo=c["extra_lo"],
               extra_leavers_hi=c["extra_hi"], revenue_lost=c["revenue_lost"], revenue_lost_lo=c["revenue_lost_lo"],
               revenue_lost_hi=c["revenue_lost_hi"])
    # the interval: the lowest net value goes with the most revenue lost, and back
    lost = sorted((c["revenue_lost_lo"], c["revenue_lost"], c["revenue_lost_hi"]))
    row.update(net_value=row["cost_saved"] - c["revenue_lost"], net_value_lo=row["cost_saved"] - lost[2],
               net_value_hi=row["cost_saved"] - lost[0])
    if c["no_probability"]:
        row["_missing_p"] = c["no_probability"]
    return row


def compare_reforms(panel: Frame, baseline: str | Scheme, reforms: Mapping[str, ReformLike], *,
                    as_of: dt.date | str | None = None, drop_effect: EffectArg = "estimate",
                    churn: ChurnFit | pl.DataFrame | float | None = None, window: int = 3,
                    n_boot: int = 200, seed: int | None = 0, near: float = 0.10,
                    catalogue: Catalogue | None = None, revenue_months: int = 12,
                    progress: Progress | None = None, lang: str = "en") -> ReformComparison:
    """Several named reforms of one scheme side by side at ``as_of``, with their net value.

    Parameters
    ----------
    panel : the customer panel (with ``churned`` for the drop effect and the churn rate).
    baseline : a scheme id or Scheme.
    reforms : ``{name: reform}``; a reform is a mapping, a YAML path, a :class:`Reform` or a
        stack ``a + b`` (applied in that order). The name is the row's ``reform``.
    as_of : the month compared (default: the panel's last month).
    drop_effect : ``"estimate"`` (on the panel up to ``as_of``), a DropEffect, one hazard ratio,
        or ``(low, central, high)`` set by the analyst.
    churn : the baseline probability of leaving within ``window`` months: a ChurnFit, a table
        ``customer_id, p``, one number; default the members' observed rate (assumed).
    window : months of the drop effect's churn window (and of ``p``).
    n_boot, seed : bootstrap replicates and seed of an estimated drop effect.
    near, catalogue : as in :func:`tierlib.reforms.simulate`.
    revenue_months : the span of a leaver's lost revenue: mean monthly ``billed`` over the months
        of the span in network, x ``revenue_months`` (a whole year by default, for every customer:
        :data:`tierlib.revenue.YEARLY_REVENUE`), as the benefit cost it is set against is yearly.
    progress : a :data:`tierlib.progress.Progress` callback (e.g. ``print_progress``).
    lang : the language of the table's words (``warnings``, ``drop_effect_source``,
        ``probability``): ``en`` or ``zh``; ``notes`` and the progress lines are said in English,
        and in a report's language with :func:`tierlib.terms.said`.

    Returns
    -------
    ReformComparison
        ``table`` columns: ``reform, changes, as_of, customers, up, down, members_base,
        members_reform, members_change, members_<tier>, members_<tier>_change`` (every tier),
        ``cost_base, cost_reform, cost_saved`` (yuan a year, unit costs assumed),
        ``downgraded, extra_leavers[_lo, _hi], revenue_lost[_lo, _hi], net_value[_lo, _hi]``
        (yuan), ``drop_effect[_lo, _hi], drop_effect_source, probability, warnings`` (words,
        one per line; empty when none).

    Examples
    --------
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.concat([pl.DataFrame({"customer_id": c, "month": months, "join_month": months[0], "billed": b})
    ...                for c, b in (("a", 320.0), ("b", 180.0))])
    >>> cmp = compare_reforms(p, "unicom_vip", {"gold 350": {"thresholds.mobile.gold": 350}},
    ...                       drop_effect=(1.5, 2.0, 3.0), churn=0.1)
    >>> r = cmp.table.row(0, named=True)
    >>> r["reform"], r["down"], r["cost_saved"], r["revenue_lost"], r["net_value"]
    ('gold 350', 1, 90.0, 384.0, -294.0)
    """
    for name, v in (("window", window), ("n_boot", n_boot), ("revenue_months", revenue_months)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"compare_reforms: {name} = {v!r}: a whole number >= 1")
    check_lang(lang)
    base = load_scheme(baseline)
    named = _named(reforms)
    plans = {name: cumulative(base, r) for name, r in named.items()}
    plans = {name: s[:-1] + [s[-1].renamed(name)] for name, s in plans.items()}
    n_steps = 3 + (isinstance(drop_effect, str) or churn is None) + isinstance(drop_effect, str)
    done = [0]

    def step(what: str) -> None:
        report(progress, done[0], n_steps, what)
        done[0] += 1

    step(say("progress.validating"))
    valid, d = _prepare_panel(panel, as_of, scheme=base)
    # a leaver's lost revenue is set against a yearly benefit cost: a whole span of revenue for
    # every customer (late joiners and short panels included), not the months the panel shows
    revenue = Revenue(revenue_months, annualised=True)
    money = customer_money(valid, d, revenue=revenue)
    cat = catalogues_for({"s": base}, {"s": catalogue} if catalogue else None)["s"]
    variants = [s for ss in plans.values() for s in ss]
    step(say("progress.rating_variants", n=len(variants) + 1, month=f"{d:%Y-%m}"))
    frames = pl.collect_all([_rate_at(valid, base, d, near=near)] + [_rate_at(valid, s, d, near=near) for s in variants])
    a, rated = frames[0], iter(frames[1:])
    p, how, hr, source, shared = _churn_inputs(panel, base, d, drop_effect, churn, window, n_boot, seed, step)
    step(say("progress.net_value"))
    rows, breakdown, sims, assumed = [], [], {}, []
    for name, schemes in plans.items():
        prev = None
        for i, s in enumerate(schemes, 1):
            warns = reform_warnings(base, named[name]) + _later(named[name], d) if i == len(schemes) else []
            sim = simulation_of(base, s, a, next(rated), d, money=money, catalogue=cat, warnings=warns,
                                near=near, revenue=revenue)
            m = _metrics(sim, p, hr)
            breakdown.append(_marginal(name, i, named[name].parts[i - 1].name, s.key, m, prev))
            prev = m
        sims[name] = sim
        row_warns = list(sim.warnings) + shared
        missing = m.pop("_missing_p", 0)
        if missing:
            row_warns.append(say("warn.missing_p", n=missing))
        rows.append({"reform": name, "changes": "; ".join(s.changes[len(base.changes):]), "as_of": d,
                     "customers": sim.summary["customers"].item(), **m,
                     "drop_effect": None if hr is None else hr[0], "drop_effect_lo": None if hr is None else hr[1],
                     "drop_effect_hi": None if hr is None else hr[2], "drop_effect_source": said(source, lang),
                     "probability": said(how, lang), "warnings": "\n".join(said(w, lang) for w in row_warns)})
        assumed += _assumptions(name, s, named[name], source, how, lang)
    shared_rows = _shared_assumptions(list(plans), base, cat, revenue, lang)
    report(progress, n_steps, n_steps, say("progress.done"))
    table = pl.DataFrame(rows, infer_schema_length=None)
    return ReformComparison(as_of=d, baseline=base, table=table,
                            breakdown=pl.DataFrame(breakdown, infer_schema_length=None),
                            assumptions=pl.DataFrame(assumed + shared_rows, orient="row",
                                                     schema=["reform", "topic", "value", "source", "note"]),
                            simulations=sims, effect=hr, effect_source=source, probability=how,
                            notes=tuple(shared), lang=lang)


def _later(r, d: dt.date) -> list[str]:
    """Words for changes dated after ``as_of``: they cannot show at ``as_of``."""
    out = []
    for part in r.parts:
        for path, v in part.changes.items():
            if isinstance(v, Mapping) and "from" in v and str(v["from"])[:10] > f"{d:%Y-%m-%d}":
                out.append(say("warn.later_change", path=path, start=str(v["from"])[:7], as_of=f"{d:%Y-%m}"))
    return out


def _marginal(name: str, i: int, part: str, applied: str, m: dict, prev: dict | None) -> dict[str, Any]:
    out: dict[str, Any] = {"reform": name, "step": i, "step_reform": part, "applied": applied}
    keys = [k for k in m if k in ADDITIVE or (k.startswith("members_") and k.endswith("_change"))]
    for k in keys:
        v, before = m[k], (0 if prev is None else prev[k])
        out[k] = None if v is None or before is None else v - before
    return out


def _assumptions(name: str, s: Scheme, r, source: str, how: str, lang: str) -> list[tuple]:
    def t(key: str, **kw) -> str:
        return text(key, lang, **kw)

    out = [(name, t("row.change"), c, t("row.reform"), t("row.step", name=part.name)) for part in r.parts
           for c in [f"{p} = {v!r}" for p, v in part.changes.items()]]
    kind = getattr(source, "key", "")  # the sentence's term says how the effect was obtained
    out.append((name, t("row.drop_effect"), said(source, lang),
                t("row.estimated") if kind in ("source.effect_estimated", "source.effect_given") else
                t("row.set_by_analyst") if kind.startswith("source.effect_") else t("row.missing"),
                t("row.drop_effect_note")))
    kind = getattr(how, "key", "")
    out.append((name, t("row.churn_p"), said(how, lang), t("row.assumed") if kind == "source.member_rate" else
                t("row.missing") if kind in ("source.member_rate_none", "source.p_none") else t("row.given"),
                t("row.churn_p_note")))
    return out


def _shared_assumptions(names: list[str], base: Scheme, cat: Catalogue, revenue: Revenue, lang: str) -> list[tuple]:
    def t(key: str, **kw) -> str:
        return text(key, lang, **kw)

    who = t("row.every_reform", names=", ".join(names))
    out = [(who, t("row.net_value"), t("row.net_value_def"), t("row.definition"), t("row.net_value_note")),
           (who, t("row.revenue"), revenue.text(lang), t("row.definition"), "tierlib.revenue")]
    out += [(who, t("row.churn_cost"), said(a, lang), t("row.assumed"), "tierlib.churn.reform") for a in COST_ASSUMPTIONS]
    out += [(who, t("row.drop_effect_estimated"), said(a, lang), t("row.assumed"), "tierlib.churn.effect")
            for a in EFFECT_ASSUMPTIONS]
    nums = assumed_numbers([base], {base.key: cat})
    out += [(who, f"{f} {p}", v, t("row.assumed"), ref) for _, f, p, v, ref in nums.iter_rows()]
    return out
