"""Shared machinery of every scheme: month index, windows, thresholds -> tier, the holding scan.

Data flows one way: a validated panel gets the month index (``_t``), the rule module of the
scheme adds its score, eligibility and per-row thresholds, then :func:`finish` turns them into
the ledger of docs/CONTRACT.md. The only sequential step, the holding (validity) policy of
RULES.md §2, is a compiled per-customer scan (:func:`_finish_kernel`, which also builds the
ledger columns that depend on it).

Speed (benchmarks/RESULTS.md): rows arrive sorted by customer and month with contiguous
months, so nothing groups by ``customer_id`` (a hash of every row, slow on string ids): a
customer's first row is where the id changes, ``_i`` counts its rows, and windows are
compiled loops over row offsets (:func:`wsum_range`), summed oldest first like the reference.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

from tierlib.months import date_expr, index_expr
from tierlib.panel import COLUMNS
from tierlib.params import Scheme
from tierlib.windows import (MONEY_DECIMALS, _readonly, _window_batch, wcount, window_complete,  # noqa: F401
                             wmean, wsum, wsum_range)  # the rules' vocabulary, re-exported

__all__ = ["CID", "LEDGER", "base", "prev", "first_of", "wsum", "wsum_range", "wmean", "wcount", "window_complete", "by_key",
           "tier_from", "finish", "t_to_date", "date_to_t"]

CID = "customer_id"
LEDGER = ["customer_id", "month", "scheme", "eligible", "score", "assessed", "assessed_rank", "tier",
          "rank", "floor", "valid_until", "rerated", "status", "next_tier", "to_next", "to_keep",
          "window_complete", "flag"]
STATUSES = ("none", "frozen", "active")
FOREVER = np.iinfo(np.int32).max
NO_UNTIL = -1


#: the package's one month index (tierlib.months), kept under the engine's old names
date_to_t = index_expr
t_to_date = date_expr


def base(lf: pl.LazyFrame, keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Add month index ``_t``, join index ``_tj``, first panel month ``_t0``, ``tenure``, ``_i``.

    ``lf`` must be sorted by customer and month with contiguous months, as :func:`validate`
    returns it. A customer's first row is then where ``customer_id`` changes, and its row
    number within the customer is ``_i = _t - _t0``: no grouping (``.over``) on customer ids.

    Only the contract's columns (RULES.md §1, :data:`tierlib.panel.COLUMNS`) enter the engine:
    an extra panel column can never stand in for one of the engine's working columns
    (``valid_until``, ``_floor``, ``tenure`` ...) and change a result. Extra columns do not reach
    the ledger; join them back on ``customer_id, month``. ``keep``: the extra columns the rated
    schemes declare they read (``Scheme.columns``, a scheme file's ``rule.columns``).
    """
    names = lf.collect_schema().names()
    lf = lf.select([c for c in COLUMNS if c in names] + [c for c in keep if c in names and c not in COLUMNS])
    cid = pl.col(CID)
    first = (cid != cid.shift(1)).fill_null(True)
    return lf.with_columns(_t=date_to_t(pl.col("month")), _tj=date_to_t(pl.col("join_month"))).with_columns(
        _t0=pl.when(first).then(pl.col("_t")).forward_fill(),
        tenure=pl.col("_t") - pl.col("_tj"),
    ).with_columns(_i=pl.col("_t") - pl.col("_t0"))


def prev(e: pl.Expr) -> pl.Expr:
    """``e`` at the customer's previous row, null at its first row (``e.shift(1).over(customer)``)."""
    return pl.when(pl.col("_i") > 0).then(e.shift(1))


def first_of(e: pl.Expr) -> pl.Expr:
    """``e`` at the customer's first row, on every row of the customer (``e.first().over(customer)``)."""
    idx = pl.get_index_type()
    return e.gather(pl.int_range(pl.len(), dtype=idx) - pl.col("_i").cast(idx))


def by_key(s: Scheme, prefix: str, key: pl.Expr, tier: str, keys: tuple[str, ...]) -> pl.Expr:
    """Per-row parameter ``prefix.<key>.<tier>``, falling back to ``prefix.default.<tier>``."""
    out = s.expr(f"{prefix}.default.{tier}") if s.has(f"{prefix}.default.{tier}") else pl.lit(None)
    for k in keys:
        if k != "default":
            out = pl.when(key == k).then(s.expr(f"{prefix}.{k}.{tier}")).otherwise(out)
    return out.cast(pl.Float64)


def thresholds(s: Scheme, prefix: str = "thresholds") -> list[pl.Expr]:
    """Per-row threshold columns ``_thr1 .. _thrK`` from undated-key ``prefix.<tier>`` params."""
    return [s.expr(f"{prefix}.{t}").cast(pl.Float64).alias(f"_thr{k}") for k, t in enumerate(s.tiers, 1)]


def tier_from(score: pl.Expr, n_tiers: int, prefix: str = "_thr") -> pl.Expr:
    """Highest rank whose threshold the score meets (thresholds are inclusive lower bounds)."""
    out = pl.lit(0, dtype=pl.Int8)
    for k in range(1, n_tiers + 1):
        out = pl.when(score >= pl.col(f"{prefix}{k}")).then(pl.lit(k, dtype=pl.Int8)).otherwise(out)
    return out


# --- the holding policy of RULES.md §2, and from scores to the ledger ---------------------------

#: holding policies the compiled scan knows (``none``: the tier is the assessed tier)
_POLICIES = {"none": 0, "validity": 1, "until_rerating": 1, "ladder": 1}
_NO_T = np.iinfo(np.int32).min  # "no month" in the scan's int32 month columns


@numba.njit(cache=True, nogil=True)
def _finish_kernel(i, t, score, thr, eligible, tenure, given, cap, live, end, init_rank, init_until, resets,
                   floor_in, vu_in, frozen, policy, has_given, has_cap, has_init, has_floor, has_vu):  # pragma: no cover
    """One pass over the rows of a prepared frame: assessed tier, holding scan (RULES.md §2),
    tier in effect, its floor and the gaps to the next tier and to keep the tier.

    Float outputs hold NaN where the ledger holds null (a null score or threshold is NaN here,
    and a comparison with NaN is false as with null); int outputs hold -1 / ``_NO_T`` there.
    """
    n = t.shape[0]
    K = len(thr)
    assessed = np.empty(n, np.int8)
    held_o = np.empty(n, np.int8)
    until_o = np.empty(n, np.int32)
    since_o = np.empty(n, np.int32)
    rerated = np.empty(n, np.bool_)
    rank = np.empty(n, np.int8)
    floor = np.empty(n, np.float64)
    to_next = np.empty(n, np.float64)
    to_keep = np.empty(n, np.float64)
    until_t = np.empty(n, np.int32)
    status = np.empty(n, np.int8)
    next_rank = np.empty(n, np.int8)
    held, held_until, held_since = 0, -1, -1
    for r in range(n):
        el = eligible[r]
        sc = score[r]
        if has_given:
            a = given[r]
        else:
            a = 0
            for k in range(K, 0, -1):  # the highest rank whose (inclusive) threshold the score meets
                if sc >= thr[k - 1][r]:
                    a = k
                    break
            if has_cap and a > cap[r]:  # e.g. the top star only with a provincial grant
                a = cap[r]
        if not (el and tenure[r] > 0):
            a = 0
        assessed[r] = a
        if policy == 0:
            held, held_until, held_since = a, -1, -1
            rr = False
        else:
            if i[r] == 0:
                if has_init:
                    held, held_until = init_rank[r], init_until[r]
                else:
                    held, held_until = 0, -1
                held_since = t[r] if held > 0 else -1
            lv = live[r]
            # the holding of a tier ended at the previous month: this month re-rates it (it may drop)
            rr = lv and held > 0 and held_until >= 0 and t[r] == held_until + 1
            if not lv:
                held, held_until, held_since = 0, -1, -1
            elif held > 0 and t[r] <= held_until:
                if a > held:
                    held, held_since = a, t[r]
                    if resets[r]:
                        held_until = end[r]
            else:
                held = a
                if a > 0:
                    held_until, held_since = end[r], t[r]
                else:
                    held_until, held_since = -1, -1
        held_o[r] = held
        until_o[r] = held_until
        since_o[r] = held_since
        rk = held
        if has_floor:  # e.g. GoTone's plan level: applies on top of the held tier
            rk = max(held, floor_in[r]) if el else 0
        rank[r] = rk
        if has_vu:  # the rule set the validity: re-rated the month after the one it ended
            rerated[r] = (i[r] > 0 and rank[r - 1] > 0 and vu_in[r - 1] == t[r - 1] and el)
            until_t[r] = _NO_T
        else:
            rerated[r] = rr
            ok = held_until >= 0 and held_until < FOREVER and rk > 0 and rk == held
            until_t[r] = held_until if ok else _NO_T
        floor[r] = thr[rk - 1][r] if 0 < rk <= K else np.nan
        to_keep[r] = sc - thr[rk - 1][r] if 0 < rk <= K else np.nan
        if el and rk < K:
            next_rank[r] = rk + 1
            d = thr[rk][r] - sc
            to_next[r] = d if (d != d or d > 0.0) else 0.0
        else:
            next_rank[r] = -1
            to_next[r] = np.nan
        status[r] = 0 if rk == 0 else (1 if frozen[r] else 2)
    return assessed, held_o, until_o, since_o, rerated, rank, floor, to_next, to_keep, until_t, status, next_rank


@numba.njit(cache=True, nogil=True)
def _days(t):  # pragma: no cover
    """Days since 1970-01-01 of the 1st of month index t (proleptic Gregorian), per element."""
    out = np.empty(t.shape[0], np.int32)
    for r in range(t.shape[0]):
        y, m = t[r] // 12, t[r] % 12 + 1
        y -= m <= 2
        era = (y if y >= 0 else y - 399) // 400
        yoe = y - era * 400
        mp = m + 9 if m <= 2 else m - 3
        doy = (153 * mp + 2) // 5
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        out[r] = era * 146097 + doe - 719468
    return out


def _arrow(values: np.ndarray, valid: np.ndarray | None, kind) -> pl.Series:
    """A polars Series over ``values`` with nulls where ``valid`` is false (no copy of values)."""
    import pyarrow as pa

    bits = None if valid is None or valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pl.Series(pa.Array.from_buffers(kind, len(values), [bits, pa.py_buffer(np.ascontiguousarray(values))]))


def _floats(x: np.ndarray) -> pl.Series:
    import pyarrow as pa

    return _arrow(x, ~np.isnan(x), pa.float64())


def _codes_to_labels(codes: np.ndarray, labels: tuple[str, ...]) -> pl.Series:
    """``labels[code]`` as a Categorical, null where code is -1 (a gather from the labels)."""
    import pyarrow as pa

    idx = _arrow(np.maximum(codes, 0).astype(np.uint32), codes >= 0, pa.uint32())
    return pl.Series(labels, dtype=pl.Categorical).gather(idx)


def _np(df: pl.DataFrame, name: str, dtype, fill) -> np.ndarray:
    s = df.get_column(name)
    if s.null_count():
        s = s.fill_null(fill)
    return _readonly(s.cast(dtype).to_numpy())


def _finish_frame(df: pl.DataFrame, s: Scheme, policy: int, flags: dict, keep_internals: bool,
                  columns: list[str]) -> pl.DataFrame:
    import pyarrow as pa

    K = len(s.tiers)
    n = df.height
    empty_i8, empty_i32, empty_b = (_readonly(np.zeros(0, d)) for d in (np.int8, np.int32, np.bool_))
    thr = tuple(_np(df, f"_thr{k}", pl.Float64, float("nan")) for k in range(1, K + 1))
    if policy:
        live, end, resets = (_np(df, "_live", pl.Boolean, False), _np(df, "_end", pl.Int32, 0),
                             _np(df, "_resets", pl.Boolean, False))
    else:
        live, end, resets = empty_b, empty_i32, empty_b
    t = _np(df, "_t", pl.Int32, 0)
    out = _finish_kernel(
        _np(df, "_i", pl.Int32, 0), t, _np(df, "score", pl.Float64, float("nan")), thr,
        _np(df, "eligible", pl.Boolean, False), _np(df, "tenure", pl.Int32, 0),
        _np(df, "_assessed", pl.Int8, 0) if flags["given"] else empty_i8,
        _np(df, "_cap", pl.Int8, 0) if flags["cap"] else empty_i8, live, end,
        _np(df, "_init_rank", pl.Int8, 0) if flags["init"] else empty_i8,
        _np(df, "_init_until", pl.Int32, NO_UNTIL) if flags["init"] else empty_i32, resets,
        _np(df, "_floor", pl.Int8, 0) if flags["floor"] else empty_i8,
        (_readonly(df.select(date_to_t(pl.col("valid_until")).fill_null(_NO_T)).to_series().to_numpy())
         if flags["vu"] else empty_i32),
        _np(df, "_frozen", pl.Boolean, False) if flags["frozen"] else _readonly(np.zeros(n, np.bool_)),
        policy, flags["given"], flags["cap"], flags["init"], flags["floor"], flags["vu"])
    assessed, held, until, since, rerated, rank, floor, to_next, to_keep, until_t, status, next_rank = out
    ladder = tuple(s.ladder)
    if flags["vu"]:
        valid_until = df.get_column("valid_until")
    else:
        valid_until = _arrow(_days(until_t), until_t != _NO_T, pa.date32())
    make = {
        "scheme": lambda: pl.Series([s.key], dtype=pl.Categorical).gather(np.zeros(n, np.uint32)),
        "assessed": lambda: _codes_to_labels(assessed, ladder),
        "assessed_rank": lambda: pl.Series(assessed),
        "tier": lambda: _codes_to_labels(rank, ladder),
        "rank": lambda: pl.Series(rank),
        "floor": lambda: _floats(floor),
        "valid_until": lambda: valid_until,
        "rerated": lambda: pl.Series(rerated),
        "status": lambda: _codes_to_labels(status, STATUSES),
        "next_tier": lambda: _codes_to_labels(next_rank, ladder),
        "to_next": lambda: _floats(to_next),
        "to_keep": lambda: _floats(to_keep),
        "flag": lambda: (df.select(pl.when(pl.col("_provisional") & (pl.lit(pl.Series(rank)) == 0))
                                   .then(pl.lit("provisional"))).to_series()
                         if flags["provisional"] else pl.repeat(None, n, dtype=pl.String, eager=True)),
    }
    if keep_internals:
        new = {"_assessed": pl.Series(assessed), "_held": pl.Series(held), "_until": pl.Series(until),
               "_since": pl.Series(since), "_rerated": pl.Series(rerated)}
        new.update({c: f() for c, f in make.items()})
        return df.with_columns(*(v.alias(c) for c, v in new.items()))
    return pl.DataFrame([make[c]().alias(c) if c in make else df.get_column(c) for c in columns])


def _policy_inputs(s: Scheme) -> tuple[pl.Expr, pl.Expr] | None:
    """(end of a tier granted at m, whether an upgrade restarts the validity) of the scheme's policy."""
    if s.holding == "none":
        return None
    if s.holding == "validity":
        # read at each row's month: a dated validity applies to tiers granted from its date on
        end = pl.col("_t") + s.expr("validity_months").cast(pl.Int32) - 1
        resets = s.expr("upgrade_resets").cast(pl.Boolean)  # per row: an upgrade in month m follows m's rule
    elif s.holding == "until_rerating":
        r = s.expr("rerating_month").cast(pl.Int32) - 1  # month-of-year index of the re-rating
        moy = pl.col("_t") % 12
        end = pl.col("_t") - moy + r + pl.when(moy >= r).then(12).otherwise(0) - 1
        resets = pl.lit(True)
    elif s.holding == "ladder":
        # an upgrade ladder never drops while the customer stays eligible; with never_drops
        # off, each month's tier is valid for that month only, i.e. it is re-rated monthly
        end = pl.when(s.expr("never_drops")).then(pl.lit(FOREVER)).otherwise(pl.col("_t"))
        resets = pl.lit(True)
    else:
        raise ValueError(f"scheme {s.key}: unknown holding policy '{s.holding}'")
    return end, resets


def finish(lf: pl.LazyFrame, s: Scheme, *, keep_internals: bool = False,
           columns: list[str] | None = None) -> pl.LazyFrame:
    """Thresholds, holding and floors -> the ledger columns of docs/CONTRACT.md.

    One compiled pass (:func:`_finish_kernel`) computes every column that depends on the
    holding scan; ``columns`` (default :data:`LEDGER`) picks the ledger columns to build, in
    that order (a compact ledger builds nothing else).
    """
    columns = list(LEDGER if columns is None else columns)  # checked by rating.ledger_columns
    schema = lf.collect_schema()
    names = schema.names()
    flags = {"given": "_assessed" in names, "cap": "_cap" in names, "init": "_init_rank" in names or "_init_until" in names,
             "floor": "_floor" in names, "vu": "valid_until" in names, "frozen": "_frozen" in names,
             "provisional": "_provisional" in names}
    extra = []
    if flags["init"]:
        extra += [(pl.col("_init_rank") if "_init_rank" in names else pl.lit(0)).alias("_init_rank"),
                  (pl.col("_init_until") if "_init_until" in names else pl.lit(NO_UNTIL)).alias("_init_until")]
    policy = _policy_inputs(s)
    if policy is not None:
        live = pl.col("eligible") & ~(pl.col("_cancel") if "_cancel" in names else pl.lit(False))
        extra += [live.alias("_live"), policy[0].cast(pl.Int32).alias("_end"), policy[1].alias("_resets")]
    if extra:
        lf = lf.with_columns(extra)
    inputs = ["_i", "_t", "score", "eligible", "tenure", *(f"_thr{k}" for k in range(1, len(s.tiers) + 1))]
    inputs += [c for c, on in (("_assessed", flags["given"]), ("_cap", flags["cap"]), ("_floor", flags["floor"]),
                               ("valid_until", flags["vu"]), ("_frozen", flags["frozen"]),
                               ("_provisional", flags["provisional"])) if on]
    inputs += ["_init_rank", "_init_until"] if flags["init"] else []
    inputs += ["_live", "_end", "_resets"] if policy is not None else []
    passed = [c for c in ("customer_id", "month", "eligible", "score", "window_complete") if c in columns]
    if not keep_internals:
        lf = lf.select(list(dict.fromkeys(passed + inputs)))
    cat = pl.Categorical
    out_types = {"scheme": cat, "assessed": cat, "assessed_rank": pl.Int8, "tier": cat, "rank": pl.Int8,
                 "floor": pl.Float64, "valid_until": pl.Date, "rerated": pl.Boolean, "status": cat,
                 "next_tier": cat, "to_next": pl.Float64, "to_keep": pl.Float64, "flag": pl.String}
    if keep_internals:
        out_schema = dict(lf.collect_schema())
        out_schema.update({"_assessed": pl.Int8, "_held": pl.Int8, "_until": pl.Int32, "_since": pl.Int32,
                           "_rerated": pl.Boolean, **out_types})
    else:
        out_schema = {c: out_types[c] if c in out_types else schema[c] for c in columns}
    code = _POLICIES[s.holding] if policy is not None else 0
    return lf.map_batches(lambda df: _finish_frame(df, s, code, flags, keep_internals, columns),
                          schema=out_schema, streamable=False)


def _categorical(labels: tuple[str, ...], code: pl.Expr) -> pl.Expr:
    """``labels[code]`` as a Categorical, null where code is null or out of range.

    A gather from the short list of labels: no per-row string is built (a when-chain of
    string literals cast to Categorical costs a pass per label and a string per row).
    """
    table = pl.lit(pl.Series(labels, dtype=pl.Categorical))
    top = len(labels) - 1
    return pl.when(code.is_between(0, top)).then(table.gather(code.clip(0, top)))


def _label(rank: pl.Expr, s: Scheme) -> pl.Expr:
    """Rank -> tier id as a Categorical (ledgers of several schemes concatenate)."""
    return _categorical(tuple(s.ladder), rank)
