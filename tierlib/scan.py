"""The holding scan of RULES.md §2, compiled: a prepared frame -> the ledger columns that depend on it.

:func:`finish_frame` is what :func:`tierlib.engine.finish` runs on each batch: it hands the
prepared columns to one compiled pass (:func:`_finish_kernel`) and builds, from its outputs,
only the ledger columns asked for (a compact ledger builds nothing else, and the kernel does
not even write the outputs no asked-for column reads).

Speed: a column that holds one value on every row (a threshold, ``upgrade_resets``, an
eligibility that is always true) is handed to the kernel as one value, not as a column
materialized row by row (:func:`_arr`).
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

from tierlib.months import index_expr
from tierlib.params import Scheme
from tierlib.windows import _readonly

STATUSES = ("none", "frozen", "active")
FOREVER = np.iinfo(np.int32).max
_NO_T = np.iinfo(np.int32).min  # "no month" in the scan's int32 month columns

#: the kernel's outputs, in the order it returns them, and the ledger columns that read each
#: (``rank`` is always written: the scan reads the previous row's)
OUTPUTS = ("assessed", "held", "until", "since", "rerated", "rank", "floor", "to_next", "to_keep",
           "until_t", "status", "next_rank")
_READS = {"assessed": ("assessed", "assessed_rank"), "rerated": ("rerated",), "floor": ("floor",),
          "to_next": ("to_next",), "to_keep": ("to_keep",), "status": ("status",), "next_rank": ("next_tier",)}


@numba.njit(cache=True, nogil=True)
def _at(x, r):  # pragma: no cover
    """Row r of a column, or the column's one value (a length-1 array stands for a constant)."""
    return x[r] if x.shape[0] > 1 else x[0]


@numba.njit(cache=True, nogil=True)
def _finish_kernel(i, t, score, thr, eligible, tenure, given, cap, live, end, init_rank, init_until, resets,
                   floor_in, vu_in, frozen, policy, has_given, has_cap, has_init, has_floor, has_vu,
                   want):  # pragma: no cover
    """One pass over the rows of a prepared frame: assessed tier, holding scan (RULES.md §2),
    tier in effect, its floor and the gaps to the next tier and to keep the tier.

    Float outputs hold NaN where the ledger holds null (a null score or threshold is NaN here,
    and a comparison with NaN is false as with null); int outputs hold -1 / ``_NO_T`` there.
    ``thr``, ``eligible``, ``cap``, ``resets`` and ``frozen`` may be length-1 arrays (one value
    for every row, :func:`_at`). ``want[j]``: output j of :data:`OUTPUTS` is written (else it is
    returned empty).
    """
    n = t.shape[0]
    K = len(thr)
    sizes = [n if w else 0 for w in want]
    assessed = np.empty(sizes[0], np.int8)
    held_o = np.empty(sizes[1], np.int8)
    until_o = np.empty(sizes[2], np.int32)
    since_o = np.empty(sizes[3], np.int32)
    rerated = np.empty(sizes[4], np.bool_)
    rank = np.empty(n, np.int8)
    floor = np.empty(sizes[6], np.float64)
    to_next = np.empty(sizes[7], np.float64)
    to_keep = np.empty(sizes[8], np.float64)
    until_t = np.empty(sizes[9], np.int32)
    status = np.empty(sizes[10], np.int8)
    next_rank = np.empty(sizes[11], np.int8)
    w_assessed, w_internal, w_rerated, w_floor, w_next, w_keep, w_until, w_status, w_nrank = (
        want[0], want[1], want[4], want[6], want[7], want[8], want[9], want[10], want[11])
    held, held_until, held_since = 0, -1, -1
    for r in range(n):
        el = _at(eligible, r)
        sc = score[r]
        if has_given:
            a = given[r]
        else:
            a = 0
            for k in range(K, 0, -1):  # the highest rank whose (inclusive) threshold the score meets
                if sc >= _at(thr[k - 1], r):
                    a = k
                    break
            if has_cap and a > _at(cap, r):  # e.g. the top star only with a provincial grant
                a = _at(cap, r)
        if not (el and tenure[r] > 0):
            a = 0
        if w_assessed:
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
                    if _at(resets, r):
                        held_until = end[r]
            else:
                held = a
                if a > 0:
                    held_until, held_since = end[r], t[r]
                else:
                    held_until, held_since = -1, -1
        if w_internal:
            held_o[r] = held
            until_o[r] = held_until
            since_o[r] = held_since
        rk = held
        if has_floor:  # e.g. GoTone's plan level: applies on top of the held tier
            rk = max(held, floor_in[r]) if el else 0
        rank[r] = rk
        if has_vu:  # the rule set the validity: re-rated the month after the one it ended
            if w_rerated:
                rerated[r] = (i[r] > 0 and rank[r - 1] > 0 and vu_in[r - 1] == t[r - 1] and el)
            if w_until:
                until_t[r] = _NO_T
        else:
            if w_rerated:
                rerated[r] = rr
            if w_until:
                ok = held_until >= 0 and held_until < FOREVER and rk > 0 and rk == held
                until_t[r] = held_until if ok else _NO_T
        if w_floor:
            floor[r] = _at(thr[rk - 1], r) if 0 < rk <= K else np.nan
        if w_keep:
            to_keep[r] = sc - _at(thr[rk - 1], r) if 0 < rk <= K else np.nan
        if w_next or w_nrank:
            if el and rk < K:
                d = _at(thr[rk], r) - sc
                if w_nrank:
                    next_rank[r] = rk + 1
                if w_next:
                    to_next[r] = d if (d != d or d > 0.0) else 0.0
            else:
                if w_nrank:
                    next_rank[r] = -1
                if w_next:
                    to_next[r] = np.nan
        if w_status:
            status[r] = 0 if rk == 0 else (1 if _at(frozen, r) else 2)
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
    """A column as a read-only numpy array of ``dtype``, nulls filled with ``fill``."""
    s = df.get_column(name)
    if s.null_count():
        s = s.fill_null(fill)
    return _readonly(s.cast(dtype).to_numpy())


def _constants(df: pl.DataFrame, names: list[str]) -> set[str]:
    """The columns among ``names`` that hold one value on every row, no null and no NaN (and,
    for floats, not zeros, which may mix 0.0 and -0.0).

    Series methods only, no query: this runs inside the engine's batch function, where a
    nested query could take an interrupt (Ctrl-C) meant for the run and lose it.
    """
    if not df.height:
        return set()
    out = set()
    for c in names:
        x = df.get_column(c)
        if x.null_count():
            continue
        lo, hi = x.min(), x.max()
        if lo != hi or (x.dtype.is_float() and (lo == 0 or x.is_nan().any())):
            continue
        out.add(c)
    return out


def _arr(df: pl.DataFrame, name: str, dtype, fill, constant: set[str]) -> np.ndarray:
    """:func:`_np`, or its one value as a length-1 array when the column is constant."""
    if name in constant:
        return _readonly(df.get_column(name).slice(0, 1).cast(dtype).to_numpy())
    return _np(df, name, dtype, fill)


def _validity(df: pl.DataFrame) -> np.ndarray:
    """The validity the rule set: ``_vu_t``, a month index (none outside years 0 .. 9999, as a
    date would be), or a rule module's ``valid_until`` date."""
    if "_vu_t" in df.columns:
        t = _np(df, "_vu_t", pl.Int32, _NO_T)
        return _readonly(np.where((t >= 0) & (t < 12 * 10_000), t, _NO_T).astype(np.int32))
    return _readonly(df.select(index_expr(pl.col("valid_until")).fill_null(_NO_T)).to_series().to_numpy())


def _wanted(columns: list[str], keep_internals: bool, flags: dict) -> tuple[bool, ...]:
    """Which of the kernel's :data:`OUTPUTS` the asked-for ledger columns read."""
    if keep_internals:
        return (True,) * len(OUTPUTS)
    asked = set(columns)
    # the scan's validity is the ledger's unless the rule set its own (flags["vu"])
    return tuple(o == "rank" or any(c in asked for c in _READS.get(o, ()))
                 or (o == "until_t" and "valid_until" in asked and not flags["vu"]) for o in OUTPUTS)


def finish_frame(df: pl.DataFrame, s: Scheme, policy: int, flags: dict, keep_internals: bool,
                 columns: list[str]) -> pl.DataFrame:
    """The ledger columns ``columns`` of one prepared batch (all of it with ``keep_internals``)."""
    import pyarrow as pa

    K = len(s.tiers)
    n = df.height
    empty_i8, empty_i32, empty_b = (_readonly(np.zeros(0, d)) for d in (np.int8, np.int32, np.bool_))
    thr_names = [f"_thr{k}" for k in range(1, K + 1)]
    maybe = thr_names + ["eligible"] + [c for c, on in (("_cap", flags["cap"]), ("_frozen", flags["frozen"]),
                                                          ("_resets", policy)) if on]
    const = _constants(df, maybe)
    thr = tuple(_arr(df, c, pl.Float64, float("nan"), const) for c in thr_names)
    if policy:
        live, end, resets = (_np(df, "_live", pl.Boolean, False), _np(df, "_end", pl.Int32, 0),
                             _arr(df, "_resets", pl.Boolean, False, const))
    else:
        live, end, resets = empty_b, empty_i32, empty_b
    t = _np(df, "_t", pl.Int32, 0)
    want = _wanted(columns, keep_internals, flags)
    vu = _validity(df) if flags["vu"] else empty_i32
    out = _finish_kernel(
        _np(df, "_i", pl.Int32, 0), t, _np(df, "score", pl.Float64, float("nan")), thr,
        _arr(df, "eligible", pl.Boolean, False, const), _np(df, "tenure", pl.Int32, 0),
        _np(df, "_assessed", pl.Int8, 0) if flags["given"] else empty_i8,
        _arr(df, "_cap", pl.Int8, 0, const) if flags["cap"] else empty_i8, live, end,
        _np(df, "_init_rank", pl.Int8, 0) if flags["init"] else empty_i8,
        _np(df, "_init_until", pl.Int32, -1) if flags["init"] else empty_i32, resets,
        _np(df, "_floor", pl.Int8, 0) if flags["floor"] else empty_i8,
        vu,
        (_arr(df, "_frozen", pl.Boolean, False, const) if flags["frozen"] else _readonly(np.zeros(1, np.bool_))),
        policy, flags["given"], flags["cap"], flags["init"], flags["floor"], flags["vu"], want)
    assessed, held, until, since, rerated, rank, floor, to_next, to_keep, until_t, status, next_rank = out
    if flags["vu"] and "_vu_t" in df.columns:
        until_t = vu  # the rule's validity, a month index
    ladder = tuple(s.ladder)
    make = {
        "scheme": lambda: pl.Series([s.key], dtype=pl.Categorical).new_from_index(0, n),
        "assessed": lambda: _codes_to_labels(assessed, ladder),
        "assessed_rank": lambda: pl.Series(assessed),
        "tier": lambda: _codes_to_labels(rank, ladder),
        "rank": lambda: pl.Series(rank),
        "floor": lambda: _floats(floor),
        "valid_until": lambda: (df.get_column("valid_until") if flags["vu"] and "_vu_t" not in df.columns
                                else _arrow(_days(until_t), until_t != _NO_T, pa.date32())),
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
