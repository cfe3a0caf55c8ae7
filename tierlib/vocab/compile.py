"""The scheme vocabulary compiled to the engine's ``prepare(lf, s)`` contract (docs/CONTRACT.md).

A scheme file's ``rule:`` section (docs/SCHEMES.md, checked by ``tierlib/scheme_schema.yaml``)
says what a rule module used to say in Python: score components, eligibility, thresholds, the
conditions beside the score and what the holding scan starts from. :func:`prepare` turns it
into the same polars expressions and engine kernels (``wsum``, ``wmean``, ``wsum_range``,
``prev``, ``first_of``) the modules used, so the ledgers are the same. Every number is read
from the scheme's parameters, at the month of each row (:func:`tierlib.rating._prepare`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import polars as pl

from tierlib.engine import (NO_UNTIL, date_to_t, first_of, prev, tier_from,
                            window_complete, wmean, wsum, wsum_range)
from tierlib.panel import COLUMNS
from tierlib.params import Param, Scheme
from tierlib.vocab.columns import TEXT, declared
from tierlib.vocab.spec import template_paths
from tierlib.windows import shared_window

__all__ = ["prepare"]

def _num(s: Scheme, x: Any) -> Any:
    """A number or list written in the rule, or the value of the parameter it names."""
    return s.value(x) if isinstance(x, str) else x


def condition(c: Mapping, s: Scheme, names: pl.Schema) -> pl.Expr:
    """A true/false expression: a column against a set, a value or a bound; a flag; any/all/not."""
    if "all" in c:
        out = [condition(x, s, names) for x in c["all"]]
        return pl.all_horizontal(out) if len(out) > 1 else out[0]
    if "any" in c:
        parts = [condition(x, s, names) for x in c["any"]]
        acc = parts[0]
        for p in parts[1:]:
            acc = acc | p
        return acc
    if "not" in c:
        return ~condition(c["not"], s, names)
    if "param" in c:
        return s.expr(c["param"])
    col = pl.col(c["column"])
    if c["column"] not in names:  # an optional column the panel does not have
        return pl.lit(c.get("missing", False))
    if "in" in c:
        return _is_in(col, names[c["column"]], _num(s, c["in"])).fill_null(False)
    if "not_in" in c:
        return ~_is_in(col, names[c["column"]], _num(s, c["not_in"]))
    if "is" in c:
        return col == c["is"]
    if "at_most" in c:
        return col <= _num(s, c["at_most"])
    if "at_least" in c:
        return col >= _num(s, c["at_least"])
    if "above" in c:
        return col > _num(s, c["above"])
    return col.fill_null(False)  # a boolean column


def _is_in(col: pl.Expr, dtype: pl.DataType, values: list) -> pl.Expr:
    """``col`` among the text ``values``. A column held as categories (Enum, Categorical) is
    compared as it is, not cast to a string on every row (a value outside an Enum's categories
    is simply never met); other columns as their text."""
    if isinstance(dtype, TEXT):
        return col.is_in(list(values))
    return col.cast(pl.String).is_in(values)


def _steps(x: pl.Expr, bounds: list, points: list, *, upper_inclusive: bool) -> pl.Expr:
    """Points of the band x falls in: bands (.., b1], (b1, b2], ... or [b1, b2), ..."""
    out = pl.lit(float(points[0]))
    for b, p in zip(bounds, points[1:]):
        past = x > b if upper_inclusive else x >= b
        out = pl.when(past).then(pl.lit(float(p))).otherwise(out)
    return out


def _lookup(s: Scheme, column: str, prefix: str) -> pl.Expr:
    """``prefix.<value of column>`` per row; ``prefix.default`` for other values."""
    keys = [p[len(prefix) + 1:] for p in s.params if p.startswith(prefix + ".")]
    out = pl.lit(float(s.value(f"{prefix}.default")) if "default" in keys else 0.0)
    for k in keys:
        if k != "default":
            out = pl.when(pl.col(column) == k).then(pl.lit(float(s.value(f"{prefix}.{k}")))).otherwise(out)
    return out


def fixed_windows(s: Scheme) -> set[tuple[str, int]]:
    """The (panel column, months) of the scheme's sums and means over the last n completed
    months of a contract column (RULES.md §1), n an undated number: what several schemes rated
    together may share (:func:`tierlib.rating.shared_windows`)."""
    out = set()
    for c in (s.rule or {}).get("components", {}).values():  # declared columns are never contract ones
        col, w = c.get("sum", c.get("mean")), c.get("window")
        if not isinstance(col, str) or col not in COLUMNS or w in (None, "all", "cycle_year"):
            continue
        if isinstance(w, int) or not s.p(w).dated:
            out.add((col, int(_num(s, w))))
    return out


def _sum(col: str, n: int, names: pl.Schema) -> pl.Expr:
    """``wsum(col, n)``, read from the frame when the caller computed it once for several schemes."""
    shared = shared_window(col, n)
    return pl.col(shared) if shared in names else wsum(col, n)


def _quantity(c: Mapping, s: Scheme, names: pl.Schema) -> tuple[pl.Expr, pl.Expr | None]:
    """A component's raw quantity and the first month index of its window (None: no window)."""
    t = pl.col("_t")
    if "sum" in c or "mean" in c:
        col = c.get("sum", c.get("mean"))
        w = c["window"]
        if w == "all":
            if "mean" in c:
                raise ValueError("a mean over all months is not in the vocabulary")
            q = wsum(col, None)
            return q, None
        if w == "cycle_year":  # the calendar year before the cycle's start month
            jan = (pl.col("_cycle_year") - 1) * 12
            return wsum_range(col, t - jan, t - jan - 11), jan
        n = _num(s, w)
        total = _sum(col, n, names)
        return (wmean(col, n, total) if "mean" in c else total), t - n
    if "tenure" in c:
        at = c["tenure"]
        ten = pl.col("tenure") if at == "month" else pl.col("_cycle_start") - pl.col("_tj")
        return (ten / 12 if c.get("unit") == "years" else ten), None
    if "previous" in c:
        return prev(pl.col(c["previous"])), t - 1
    if "lookup" in c:
        return _lookup(s, c["lookup"], c["points"]), None
    return pl.col(c["column"]), None


def _eligibility(r: Mapping, s: Scheme, names: pl.Schema) -> dict[str, pl.Expr]:
    """``ok_<name>`` per named condition (a list under one name: all of it)."""
    out = {}
    for k, v in (r.get("eligible") or {}).items():
        conds = [condition(x, s, names) for x in (v if isinstance(v, list) else [v])]
        out[f"ok_{k}"] = conds[0] if len(conds) == 1 else pl.all_horizontal(conds)
    return out


def _component(c: Mapping, q: pl.Expr, s: Scheme, names: pl.Schema, *, filled: bool = False) -> pl.Expr:
    """The quantity with the component's modifiers, in the order docs/SCHEMES.md gives (Float64)."""
    if "empty" in c and not filled:
        q = q.fill_null(float(c["empty"]))
    if "times" in c:
        q = q * _num(s, c["times"])
    if "bands" in c:
        b = c["bands"]
        upper = "upper_bounds" in b
        bounds = _num(s, b["upper_bounds" if upper else "lower_bounds"])
        points = list(_num(s, b["points"]))
        if len(points) == len(bounds):  # nothing below the first bound
            points = [b.get("below", 0)] + points
        q = _steps(q, bounds, points, upper_inclusive=upper)
    if "clip" in c:
        lo, hi = c["clip"].get("lower"), c["clip"].get("upper")
        q = q.clip(lower_bound=None if lo is None else _num(s, lo), upper_bound=None if hi is None else _num(s, hi))
    if "when" in c:
        q = pl.when(condition(c["when"], s, names)).then(q).otherwise(pl.lit(0.0))
    return q.cast(pl.Float64)


def _threshold(spec: Any, s: Scheme, tier: str, names: pl.Schema) -> pl.Expr:
    """The per-row threshold of ``tier``: a path template, by a column's value, or cases."""
    if isinstance(spec, str):
        return s.expr(spec.format(tier=tier)).cast(pl.Float64)
    if isinstance(spec, list):  # cases, the first whose condition holds
        out = _threshold(spec[-1], s, tier, names)
        for case in reversed(spec[:-1]):
            out = pl.when(condition(case["when"], s, names)).then(_threshold(case, s, tier, names)).otherwise(out)
        return out
    path, by = spec["path"], spec.get("by")
    if by is None:
        return _threshold(path, s, tier, names)
    default = by["default"]
    out = s.expr(path.format(key=default, tier=tier))
    for key in template_paths(path, s.params, tier):
        if key != default:
            out = pl.when(pl.col(by["column"]) == key).then(s.expr(path.format(key=key, tier=tier))).otherwise(out)
    return out.cast(pl.Float64)


def _tier_map(s: Scheme, col: str, prefix: str, names: pl.Schema) -> pl.Expr:
    """A column's value -> the rank of the tier ``prefix.<value>`` names (0 for other values)."""
    keys = [p[len(prefix) + 1:] for p in s.params if p.startswith(prefix + ".")]
    ranks = {k: s.rank(s.value(f"{prefix}.{k}")) for k in keys}
    dtype = names[col]
    if isinstance(dtype, pl.Enum):  # one pass over the category codes, no string per row
        codes = {j: ranks[v] for j, v in enumerate(dtype.categories.to_list()) if v in ranks}
        return pl.col(col).to_physical().replace_strict(codes, default=0, return_dtype=pl.Int8)
    if not isinstance(dtype, TEXT):  # a number or a flag: its text, as the keys are written
        return pl.col(col).cast(pl.String).replace_strict(ranks, default=0)
    out = pl.lit(0, dtype=pl.Int8)
    for k, rank in ranks.items():  # the column compared as it is held (String, Categorical)
        out = pl.when(pl.col(col) == k).then(pl.lit(rank, dtype=pl.Int8)).otherwise(out)
    return pl.when(pl.col(col).is_not_null()).then(out)


def _plan_level(s: Scheme, spec: Mapping) -> pl.Expr:
    """Rank of the level in force at m: the highest bracket of a dated table the column reaches."""
    out = pl.lit(0, dtype=pl.Int8)
    prefix = spec["table"]
    fees = sorted((p[len(prefix) + 1:] for p in s.params if p.startswith(prefix + ".")), key=float)
    ranks = {t: s.rank(t) for t in s.tiers}
    for fee in fees:
        # the dated tier names mapped to ranks once, not row by row
        p = s.p(f"{prefix}.{fee}")
        ranked = Param(p.path, tuple(replace(v, value=ranks.get(str(v.value), 0)) for v in p.history))
        level = ranked.expr().cast(pl.Int8)
        out = pl.when(pl.col(spec["column"]) >= float(fee)).then(level.fill_null(0)).otherwise(out)
    return out


def _arrears_streak(col: str) -> pl.Expr:
    """Consecutive months with ``col`` true ending at m-1 (row minus the customer's last clear row).

    Rows are sorted by customer and month, so the last clear row is found with a forward fill
    over all rows, floored at the row before the customer's first (no grouping by customer).
    """
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    last_clear = pl.max_horizontal(pl.when(~pl.col(col)).then(row).forward_fill(), row - pl.col("_i") - 1)
    return prev(row - last_clear).fill_null(0).cast(pl.Int32)


def prepare(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    """The columns of docs/CONTRACT.md from the scheme's ``rule`` (see the module docstring)."""
    r = s.rule
    lf = declared(lf, s)
    names = lf.collect_schema()  # the columns and their types (text is compared as it is held)
    K = len(s.tiers)
    cycle = r.get("cycle")
    if cycle:  # a yearly cycle opening in a given month: the latest such month <= m
        start = _num(s, cycle["month"]) - 1
        moy = pl.col("_t") % 12
        lf = lf.with_columns(_cycle_start=pl.col("_t") - moy + start - pl.when(moy >= start).then(0).otherwise(12))
        lf = lf.with_columns(_cycle_year=pl.col("_cycle_start") // 12)
    comps = r["components"]
    raw, starts, banded = {}, [], {}
    for name, c in comps.items():
        q, lo = _quantity(c, s, names)
        if "opening" in c:  # a balance brought forward from before the panel (first row)
            q = q + (first_of(pl.col(c["opening"])).fill_null(0.0) if c["opening"] in names else pl.lit(0.0))
        raw[name] = q
        if "bands" in c:  # the band chain reads the quantity once per band: a column first
            banded[f"_q_{name}"] = q.fill_null(float(c["empty"])) if "empty" in c else q
        starts.append((name, c, lo))
    if banded:
        lf = lf.with_columns(**banded)
    cols = {}
    for name, c in comps.items():
        col = f"_q_{name}"
        cols[f"c_{name}"] = (_component(c, pl.col(col), s, names, filled=True) if col in banded
                             else _component(c, raw[name], s, names))
    ok = _eligibility(r, s, names)
    thr = r.get("thresholds", "thresholds.{tier}")
    cols |= {f"_thr{k}": _threshold(thr, s, t, names) for k, t in enumerate(s.tiers, 1)}
    for j, cond in enumerate(r.get("conditions") or []):
        cols |= {f"_cthr{j}_{k}": _threshold(cond["thresholds"], s, t, names) for k, t in enumerate(s.tiers, 1)}
    cols["window_complete"] = _complete(starts, s, names)
    # the score's window, for explain: the first component summed or averaged over months
    first = next((lo for _, c, lo in starts if lo is not None and "window" in c), None)
    if first is not None:
        cols["_win_from"] = first
        if any(c.get("window") == "cycle_year" for c in comps.values()):
            cols["_win_to"] = first + 11
    if "plan_levels" in r:
        cols["_floor"] = _plan_level(s, r["plan_levels"])
    if "arrears" in r:
        cols["_streak"] = _arrears_streak(r["arrears"]["column"])
    lf = lf.with_columns(**ok, **cols)
    eligible = pl.all_horizontal([pl.col(k) for k in ok]) if len(ok) > 1 else pl.col(next(iter(ok))) if ok else pl.lit(True)
    score = r.get("score", {"sum": list(comps)})
    op, parts = (("sum", [score]) if isinstance(score, str) else next(iter(score.items())))
    acc = pl.col(f"c_{parts[0]}")
    for p in parts[1:]:
        acc = acc + pl.col(f"c_{p}") if op == "sum" else acc * pl.col(f"c_{p}")
    more = {}
    if "tier_from_column" in r:
        tc = r["tier_from_column"]
        rank = _tier_map(s, tc["column"], tc["tiers"], names).cast(pl.Int8).fill_null(0) if tc["column"] in names \
            else pl.lit(0, dtype=pl.Int8)
        more["_rank_tier"] = pl.when(condition(tc["when"], s, names)).then(rank).otherwise(0) if "when" in tc else rank
    lf = lf.with_columns(eligible=eligible, score=acc, **more)
    return _assess(lf, s, r, names, K)


def _complete(starts: list, s: Scheme, names: pl.Schema) -> pl.Expr:
    """Every component's window lies in the panel (bounded below by the join month)."""
    truncated = pl.col("_tj") < pl.col("_t0")
    parts, fixed = [], []
    for name, c, lo in starts:
        if c.get("window") == "all":
            ok = ~truncated
            if "opening" in c and c["opening"] in names:  # the opening balance stands in for the months before
                ok = ok | (first_of(pl.col(c["opening"])).is_not_null() & (pl.col("_i") > 0))
        elif lo is None:
            continue
        elif isinstance(c.get("window"), (str, int)) and c["window"] != "cycle_year" and "when" not in c:
            fixed.append(_num(s, c["window"]))
            continue
        else:
            ok = pl.max_horizontal(lo, pl.col("_tj")) >= pl.col("_t0")
        if "when" in c:
            ok = pl.when(condition(c["when"], s, names)).then(ok).otherwise(True)
        parts.append(ok)
    if fixed:
        parts.insert(0, window_complete(max(fixed)))
    if not parts:
        return pl.lit(True)
    return pl.all_horizontal(parts) if len(parts) > 1 else parts[0]


def _assess(lf: pl.LazyFrame, s: Scheme, r: Mapping, names: pl.Schema, K: int) -> pl.LazyFrame:
    """``_assessed`` and what the holding scan and the ledger read beside it."""
    strict = set(s.strict_tiers)
    conds = r.get("conditions") or []
    # the plain assessment (the highest inclusive threshold met, perhaps capped by a grant) is
    # the holding scan's own: only the cap is a column, no per-tier pass over the rows here
    plain = not (strict or conds or r.get("cycle")) and "tier_from_column" not in r and "min_tenure" not in r
    if strict or conds:
        assessed = pl.lit(0, dtype=pl.Int8)
        for k, t in enumerate(s.tiers, 1):
            thr = pl.col(f"_thr{k}")
            met = pl.col("score") > thr if t in strict else pl.col("score") >= thr
            for j, cond in enumerate(conds):
                met = met & (pl.col(f"c_{cond['component']}") >= pl.col(f"_cthr{j}_{k}"))
            assessed = pl.when(met).then(pl.lit(k, dtype=pl.Int8)).otherwise(assessed)
    else:
        assessed = tier_from(pl.col("score"), K)
    if "tier_from_column" in r:
        assessed = pl.max_horizontal(assessed, pl.col("_rank_tier")).cast(pl.Int8)
    if "min_tenure" in r:
        mt = r["min_tenure"]
        ten = pl.col("_cycle_start") - pl.col("_tj") if mt.get("at") == "cycle" else pl.col("tenure")
        assessed = pl.when(ten >= _num(s, mt["months"])).then(assessed).otherwise(0).cast(pl.Int8)
    grant = r.get("grant")
    if grant and _num(s, grant["required"]):
        cap = s.rank(_num(s, grant["from_tier"])) - 1
        granted = pl.col(grant["column"]).fill_null(False) if grant["column"] in names else pl.lit(False)
        assessed = pl.when(granted).then(assessed).otherwise(pl.min_horizontal(assessed, cap))
        capped = pl.when(granted).then(pl.lit(K)).otherwise(pl.lit(cap)).cast(pl.Int8)
    else:
        capped = None
    if plain:
        out = {} if capped is None else {"_cap": capped}
    else:
        out = {"_assessed": assessed}
    if "arrears" in r:
        a = r["arrears"]
        out["_cancel"] = pl.col("_streak") > _num(s, a["cancel_after"])
        if a.get("freeze", False):
            out["_frozen"] = pl.col("_streak") >= 1
    if "provisional" in r:
        out["_provisional"] = condition(r["provisional"], s, names)
    lf = lf.with_columns(**out)
    init = r.get("initial")
    if init and init["column"] in names:
        # the state a customer brings from an older scheme, read from its first panel row
        star = _tier_map(s, init["column"], init["tiers"], names)
        until = date_to_t(pl.col(init["until"])) if init["until"] in names else pl.lit(NO_UNTIL)
        lf = lf.with_columns(_init_rank=first_of(star.fill_null(0)), _init_until=first_of(until.fill_null(NO_UNTIL)))
    if r.get("cycle"):
        # the yearly level is valid to the month closing its cycle; a plan level has no end date
        floor = pl.col("_floor") if "plan_levels" in r else pl.lit(0)
        holds = pl.col("eligible") & (pl.col("_assessed") > 0) & (pl.col("_assessed") >= floor)
        # as a month index (``_vu_t``): the ledger's date is built only when asked for
        lf = lf.with_columns(_vu_t=pl.when(holds).then(pl.col("_cycle_start") + 11).cast(pl.Int32))
    return lf
