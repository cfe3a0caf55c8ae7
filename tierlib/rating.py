"""``rate``: panel -> ledger, for one scheme or several (long format)."""

from __future__ import annotations

from typing import Iterable, Iterator

import datetime as dt
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import polars as pl

from tierlib import engine
from tierlib.panel import _validate, free_text, of_carrier, validate
from tierlib.params import Param, Scheme
from tierlib.schemefiles import load_scheme
from tierlib.windows import shared_window

__all__ = ["rate"]

SchemeLike = str | Path | Scheme  # an id, a scheme file, or a Scheme


def _resolve_schemes(scheme: SchemeLike | Iterable[SchemeLike]) -> list[Scheme]:
    """Scheme ids, ``"all"``, Scheme objects or a list of them -> list of Scheme.

    Ledger keys are unique: the same scheme twice (``["all", "unicom_vip"]``, a province copy
    with the same id, a reform not renamed) is a :class:`SchemeError` naming the key, since its
    rows would be counted twice under one ``scheme`` label.
    """
    from tierlib.params import SchemeError
    from tierlib.schemefiles import schemes

    given = [scheme] if isinstance(scheme, (str, Path, Scheme)) else list(scheme)
    items: list[SchemeLike] = []
    for x in given:
        items += schemes() if isinstance(x, str) and x == "all" else [x]
    if not items:
        raise ValueError("no scheme given")
    out = [load_scheme(s) for s in items]
    seen: set[str] = set()
    for s in out:
        if s.key in seen:
            raise SchemeError(f"scheme '{s.key}' is given twice: ledger keys must be unique "
                              f"(rename a copy with Scheme.renamed(name) or with_values(..., name=))")
        seen.add(s.key)
    return out


def _rate_validated(lf: pl.LazyFrame, s: Scheme, *, based: bool = False, keep_internals: bool = False,
                    columns: list[str] | None = None, months: tuple[dt.date, dt.date] | None = None
                    ) -> pl.LazyFrame:
    """Rate a panel that already passed :func:`validate` (lazy in, lazy out).

    ``based=True``: ``lf`` is :func:`engine.base`'s output (the same for every scheme, so it may
    be shared). Said by the caller, never guessed from column names: a panel may carry an
    extra column named ``_i`` or ``_tj``. ``columns``: the ledger columns to build (default
    all, :data:`tierlib.engine.LEDGER`); ``months``: the frame's first and last month, when known.
    """
    frame = lf if based else engine.base(lf, s.columns)
    # a rule module reads brand and province as strings (docs/CONTRACT.md); a compiled scheme
    # file compares them as they are held, Enum or Categorical, with no string per row
    text = free_text(frame.collect_schema()) if s.rule is None else []
    frame = frame.with_columns(text) if text else frame  # only where the module reads them (projection pushdown)
    return engine.finish(_prepare(frame, s, months), s, keep_internals=keep_internals, columns=columns)


def declared_columns(schemes: Iterable[Scheme]) -> tuple[str, ...]:
    """The extra panel columns any of the schemes reads (kept by :func:`engine.base`)."""
    return tuple(dict.fromkeys(c for s in schemes for c in s.columns))


def shared_windows(schemes: Iterable[Scheme]) -> list[pl.Expr]:
    """The window sums two or more of the schemes read (``rate(panel, "all")``: the 12-month
    billed sum of three schemes), each computed once on the based frame as
    :func:`tierlib.windows.shared_window`; each scheme's plan reads the column."""
    from collections import Counter

    from tierlib.vocab.compile import fixed_windows

    uses = Counter(w for s in schemes if s.rule is not None for w in fixed_windows(s))
    return [engine.wsum(col, n).alias(shared_window(col, n)) for (col, n), k in sorted(uses.items()) if k > 1]


def _change_months(s: Scheme) -> list[dt.date]:
    """The months (1st) from which some parameter of ``s`` takes a new value, inside 0001 .. 9999."""
    out = set()
    for p in s.params.values():
        for v in p.history:
            if v.start is not None:
                d = v.start if v.start.day == 1 else (v.start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                out.add(d)
    return sorted(out)


def _frozen(s: Scheme, before: dt.date | None, at: dt.date | None) -> Scheme:
    """``s`` with each parameter fixed at its value in force in the period [at, before).

    A parameter with no value yet in that period stays as it is (dated): reading it bare is an
    error, its per-row expression is null there.
    """
    params = {}
    for path, p in s.params.items():
        live = [v for v in p.history if v.start is None or (at is not None and v.start <= at)
                or (at is None and before is not None and v.start < before)]
        params[path] = Param(path, (replace(live[-1], start=None),)) if live else p
    return replace(s, params=MappingProxyType(params))


def _prepare(based: pl.LazyFrame, s: Scheme, months: tuple[dt.date, dt.date] | None = None) -> pl.LazyFrame:
    """The rule module's columns, every parameter read at the month of each row.

    Rule code reads a parameter as one value (``s.value``) or per row (``s.expr``). So that a
    dated value is never read at another month (a reform from 2030 must not change 2024), the
    months are cut into periods in which no parameter changes; each period's rows get the
    columns the rule computes with the parameters in force in that period (windows still reach
    back into earlier months, as the rule says). One period, the usual case, costs nothing.

    Each period's columns are computed over the whole frame (a rule only adds columns, so the
    rows stay aligned) and a row takes the columns of its month's period: no filter, no concat,
    no sort. ``months`` (first, last month of the frame, when the caller knows them) skips the
    periods that hold no row.
    """
    bounds: list[dt.date | None] = [None, *_change_months(s), None]
    periods = [(lo, hi) for lo, hi in zip(bounds, bounds[1:])
               if months is None or ((lo is None or lo <= months[1]) and (hi is None or hi > months[0]))]
    if len(bounds) == 2 or not periods:
        return s.module.prepare(based, s)
    if len(periods) == 1:
        lo, hi = periods[0]
        return s.module.prepare(based, _frozen(s, hi, lo))
    names = set(based.collect_schema().names())
    parts = [s.module.prepare(based, _frozen(s, hi, lo)) for lo, hi in periods]
    added = [c for c in parts[0].collect_schema().names() if c not in names]
    last = len(parts) - 1
    cols = []
    for c in added:
        e = pl.col(f"{c}__period{last}")
        for k in range(last - 1, -1, -1):  # a row before period k's end takes period k's value
            e = pl.when(pl.col("month") < periods[k][1]).then(pl.col(f"{c}__period{k}")).otherwise(e)
        cols.append(e.alias(c))
    frames = [p.select(pl.col(added).name.suffix(f"__period{k}")) for k, p in enumerate(parts)]
    return pl.concat([based, *frames], how="horizontal").with_columns(cols).drop(
        [f"{c}__period{k}" for k in range(len(parts)) for c in added])


#: panel rows rated at a time (whole customers, over all the threads): bounds the memory of a
#: scheme's intermediate columns (~200 bytes a row) whatever the size of the panel
CHUNK_ROWS = 2_000_000
#: slices rated at once, each in its own thread: the compiled kernels release the GIL, so the
#: sequential scans of two slices run on two cores (at most this many slices' working columns
#: are held at a time)
CHUNK_WORKERS = max(1, min(2, os.cpu_count() or 1))
#: below this many rows a slice is not worth a thread of its own
MIN_SLICE_ROWS = 250_000


def _chunks(based: pl.DataFrame, rows: int) -> list[pl.DataFrame]:
    """Zero-copy slices of about ``rows`` rows, each starting at a customer's first row.

    Each cut is the first customer's first row (``_i == 0``) at or after the previous cut plus
    ``rows``, looked for in a short stretch of rows after that point, not in all the rows.
    """
    if based.height <= rows:
        return [based]
    i = based.get_column("_i")
    cuts = [0]
    while cuts[-1] + rows < based.height:
        p, span = cuts[-1] + rows, 256
        while True:  # a customer's rows are months: a start is usually within a few hundred rows
            hit = i.slice(p, span).eq(0).arg_true().head(1)
            if len(hit) or p + span >= based.height:
                break
            span *= 16
        if not len(hit):
            break
        cuts.append(p + int(hit[0]))
    cuts.append(based.height)
    return [based.slice(a, b - a) for a, b in zip(cuts, cuts[1:])]


def _iter_ledgers(valid: pl.DataFrame, schemes: list[Scheme], columns: list[str] | None = None
                  ) -> Iterator[pl.DataFrame]:
    """Ledgers of a validated eager panel, one scheme at a time, on one shared based frame.

    A customer's ledger depends on that customer's rows only, so each scheme is rated on
    slices of whole customers (:data:`CHUNK_ROWS`) and the slices' ledgers are concatenated.
    ``columns``: the ledger columns to build (a compact ledger; default all).
    """
    based = engine.base(valid.lazy(), declared_columns(schemes)).collect()
    shared = shared_windows(schemes)
    based = based.with_columns(shared) if shared else based  # on the collected frame: a third of the time
    # whole customers per slice, CHUNK_ROWS rows in flight at a time over all the workers (the
    # memory bound of one slice before the slices were rated in threads); a smaller panel is
    # still shared among the workers
    rows = max(MIN_SLICE_ROWS, min(CHUNK_ROWS // CHUNK_WORKERS, math.ceil(based.height / CHUNK_WORKERS)))
    parts = _chunks(based, rows)
    months = (based["month"].min(), based["month"].max()) if based.height else None
    workers = min(len(parts), CHUNK_WORKERS)
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    try:
        for s in schemes:
            def one(p: pl.DataFrame, s: Scheme = s) -> pl.DataFrame:
                return _rate_validated(p.lazy(), s, based=True, columns=columns, months=months).collect()
            frames = list(pool.map(one, parts)) if pool else [one(p) for p in parts]
            yield frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical", rechunk=False)
    finally:
        if pool:
            pool.shutdown()


def ledger_columns(columns: Iterable[str] | None, n_schemes: int) -> list[str] | None:
    """The ledger columns asked for (None: all of docs/CONTRACT.md), checked.

    An unknown column, a column twice, or several schemes without ``scheme`` (their rows could
    not be told apart) is a ValueError naming it.
    """
    if columns is None:
        return None
    cols = [columns] if isinstance(columns, str) else list(columns)
    unknown = [c for c in cols if c not in engine.LEDGER]
    if unknown or not cols:
        raise ValueError(f"ledger columns: unknown {', '.join(map(repr, unknown)) or '(none given)'} "
                         f"(the ledger has: {', '.join(engine.LEDGER)})")
    twice = sorted({c for c in cols if cols.count(c) > 1})
    if twice:
        raise ValueError(f"ledger columns: {', '.join(map(repr, twice))} given twice")
    if n_schemes > 1 and "scheme" not in cols:
        raise ValueError(f"ledger columns: {n_schemes} schemes are rated, so 'scheme' must be among the "
                         f"columns (their rows could not be told apart)")
    return cols


def rate(panel: pl.DataFrame | pl.LazyFrame, scheme: SchemeLike | Iterable[SchemeLike], *,
         own_carrier: bool = False, columns: Iterable[str] | None = None) -> pl.DataFrame | pl.LazyFrame:
    """Rate every customer-month of a panel under one or several schemes.

    Parameters
    ----------
    panel : DataFrame or LazyFrame following RULES.md §1 (validated first; see ``validate``).
    scheme : a scheme id (``"unicom_vip"``, ``"telecom_club:high"``), ``"all"``, a Scheme
        (e.g. a reform), or a list of these; each ledger key (``Scheme.key``) at most once.
    own_carrier : rate each scheme only on the customers whose panel ``carrier`` equals the
        scheme's carrier (:func:`tierlib.panel.of_carrier`; every customer when the panel has no
        ``carrier`` column). A panel none of whose customers belongs to any of the schemes'
        carriers is a ValueError naming the carriers (an eager panel).
    columns : a compact ledger: only these ledger columns, in this order (default: all of
        docs/CONTRACT.md). Nothing else is built, so a whole-base run of many schemes holds a
        fraction of the memory. With several schemes ``scheme`` must be among them.

    Returns
    -------
    The ledger (docs/CONTRACT.md), one row per panel row and scheme, sorted by customer and
    month within each scheme; the same kind of frame as ``panel``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months,
    ...                   "join_month": dt.date(2024, 1, 1), "billed": 150.0})
    >>> rate(p, "unicom_vip").select("month", "tier", "valid_until").tail(2)
    shape: (2, 3)
    ┌────────────┬────────┬─────────────┐
    │ month      ┆ tier   ┆ valid_until │
    │ ---        ┆ ---    ┆ ---         │
    │ date       ┆ cat    ┆ date        │
    ╞════════════╪════════╪═════════════╡
    │ 2024-07-01 ┆ silver ┆ 2025-01-01  │
    │ 2024-08-01 ┆ silver ┆ 2025-01-01  │
    └────────────┴────────┴─────────────┘
    """
    schemes = _resolve_schemes(scheme)
    cols = ledger_columns(columns, len(schemes))
    if isinstance(panel, pl.LazyFrame):
        valid = validate(panel)
        if own_carrier:  # the filter reads the panel's `carrier`, which does not enter the engine
            frames = [_rate_validated(of_carrier(valid, s.carrier), s, columns=cols) for s in schemes]
        else:
            based = engine.base(valid, declared_columns(schemes)).with_columns(shared_windows(schemes))
            frames = [_rate_validated(based, s, based=True, columns=cols) for s in schemes]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    valid = _validate(panel, text=False)  # brand, province left as held (cast only for a rule module)
    if own_carrier:
        frames = [next(_iter_ledgers(of_carrier(valid, s.carrier), [s], cols)) for s in schemes]
        if valid.height and not any(f.height for f in frames):  # an empty ledger is no answer
            raise ValueError(f"own_carrier: no customer of the schemes' carriers "
                             f"({', '.join(sorted({s.carrier for s in schemes}))}) in the panel; its column "
                             f"'carrier' holds {', '.join(map(str, valid['carrier'].unique().sort().to_list()))}")
    else:
        frames = list(_iter_ledgers(valid, schemes, cols))
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
