"""Windows over the completed months before m: compiled sums over row offsets.

Rows arrive sorted by customer and month with contiguous months, so "k months before" is "k
rows before" and a customer's first row is where ``_i`` (its row count) is 0. The sums are
compiled loops (numba, ``nogil``) in the reference's order (oldest first) and rounded to the fen
in the loop. Used by :mod:`tierlib.engine` (re-exported there) and the compiled scheme rules.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

from tierlib.panel import MAX_MONEY

__all__ = ["MONEY_DECIMALS", "wsum", "wsum_range", "wmean", "wcount", "window_complete", "shared_window"]

MONEY_DECIMALS = 2  # window sums in fen (0.01 yuan) [assumed: the carriers bill in fen]

# --- windows over the completed months before m (rows are contiguous months) ---------------

_FEN = 10.0 ** MONEY_DECIMALS


#: the longest window, and the largest value, summed by prefix sums in whole fen (:func:`_in_fen`)
_FEN_WINDOW = 120
_FEN_MAX = MAX_MONEY


@numba.njit(cache=True, nogil=True)
def _in_fen(x):  # pragma: no cover
    """Prefix sums of x in whole fen (int64), or an empty array when some value is not one.

    When every value is a whole number of fen (within 1e-4 fen, as a bill in yuan read from
    a file is) between 0 and MAX_MONEY (1e9 yuan), the loop's float sum of a window of at most
    :data:`_FEN_WINDOW` values is within 0.1 fen of the exact sum, so its rounding to fen is
    exactly the sum of the values in fen: a difference of two prefix sums gives the very same
    number in one subtraction instead of a pass over the window. (Above 1e9 the loop's own
    rounding error passes half a fen; a negative value could make the loop's sum -0.0.)
    """
    n = x.shape[0]
    c = np.empty(n + 1, np.int64)
    c[0] = 0
    for r in range(n):
        f = x[r] * _FEN
        k = np.rint(f)
        if not (0.0 <= x[r] <= _FEN_MAX) or abs(f - k) > 1e-4:
            return np.empty(0, np.int64)
        c[r + 1] = c[r] + np.int64(k)
    return c


@numba.njit(cache=True, nogil=True, inline="always")  # inlined: a call per row costs 3x
def _rows_sum(x, c, a, b):  # pragma: no cover
    """Rows a .. b of x summed to the fen: a difference of the prefix sums c (:func:`_in_fen`),
    or, when c is empty, the loop oldest first rounded as numpy's round(x, 2) (rint(x * 100) / 100)."""
    if c.shape[0]:
        return (c[b + 1] - c[a]) / _FEN if b >= a else 0.0
    acc = 0.0
    for j in range(a, b + 1):
        acc += x[j]
    return np.rint(acc * _FEN) / _FEN


@numba.njit(cache=True, nogil=True)
def _wsum_kernel(x, i, lo, hi, out):  # pragma: no cover
    # rows r-lo .. r-hi of the customer (cut at its first row r - i[r]), summed oldest first:
    # the obvious loop's order, so a row's sum never depends on other customers' rows;
    # rounded to fen as numpy's round(x, MONEY_DECIMALS) does (rint(x * 100) / 100)
    n = x.shape[0]
    longest = 0
    for r in range(n):
        longest = max(longest, lo[r] - max(hi[r], 1) + 1)
    c = _in_fen(x) if longest <= _FEN_WINDOW else np.empty(0, np.int64)
    for r in range(n):
        a, b = r - min(lo[r], i[r]), r - max(hi[r], 1)
        out[r] = _rows_sum(x, c, a, b)
    return out


@numba.njit(cache=True, nogil=True)
def _wsum_fixed_kernel(x, i, lo, hi, out):  # pragma: no cover
    # the same with the same offsets on every row
    c = _in_fen(x) if lo - max(hi, 1) + 1 <= _FEN_WINDOW else np.empty(0, np.int64)
    for r in range(x.shape[0]):
        a, b = r - min(lo, i[r]), r - max(hi, 1)
        out[r] = _rows_sum(x, c, a, b)
    return out


@numba.njit(cache=True, nogil=True)
def _before_kernel(x, i, out):  # pragma: no cover
    # sum over all the customer's rows before r, accumulated oldest first
    acc = 0.0
    for r in range(x.shape[0]):
        if i[r] == 0:
            acc = 0.0
        out[r] = np.rint(acc * _FEN) / _FEN
        acc += x[r]
    return out


def _window_batch(s: pl.Series, lo: int | None = None, hi: int | None = None) -> pl.Series:
    # money is counted in fen: a mean of exactly 50.00 yuan must not become 50.00000000000001
    # by binary rounding and cross an inclusive band edge (docs/CONTRACT.md); the kernels round
    f = s.struct
    x = f.field("x")
    if x.null_count():
        x = x.fill_null(0)
    xs = _readonly(x.cast(pl.Float64).to_numpy())
    i = _readonly(f.field("_i").to_numpy())
    out = np.empty(len(xs), np.float64)
    if lo is None and "lo" not in f.fields:
        _before_kernel(xs, i, out)
    elif lo is None:
        _wsum_kernel(xs, i, _readonly(f.field("lo").to_numpy()), _readonly(f.field("hi").to_numpy()), out)
    else:
        _wsum_fixed_kernel(xs, i, lo, hi, out)
    return pl.Series(out)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous view: one compiled signature whether polars lent or copied it."""
    a = np.ascontiguousarray(a).view()
    a.flags.writeable = False
    return a


def wsum_range(col: str | pl.Expr, lo: int | pl.Expr, hi: int | pl.Expr) -> pl.Expr:
    """Sum of ``col`` over the customer's rows ``lo`` .. ``hi`` months before m (lo >= hi >= 1).

    Rows are contiguous months, so "k months before" is "k rows before"; the window is cut at
    the customer's first row. Nulls count as 0; an empty window sums to 0. Float64.
    """
    c = pl.col(col) if isinstance(col, str) else col
    fields = [c.alias("x"), pl.col("_i").cast(pl.Int32)]
    if isinstance(lo, int) and isinstance(hi, int):  # the same window on every row
        return pl.struct(fields).map_batches(lambda b: _window_batch(b, lo, hi), return_dtype=pl.Float64)
    bounds = [(pl.lit(v) if isinstance(v, int) else v).cast(pl.Int32).alias(name)
              for name, v in (("lo", lo), ("hi", hi))]
    return pl.struct(*fields, *bounds).map_batches(_window_batch, return_dtype=pl.Float64)


def wsum(col: str | pl.Expr, n: int | None) -> pl.Expr:
    """Sum of ``col`` over the last ``n`` completed months (all months before m when n is None)."""
    c = pl.col(col) if isinstance(col, str) else col
    if n is None:
        before = pl.struct(c.alias("x"), pl.col("_i").cast(pl.Int32)).map_batches(
            _window_batch, return_dtype=pl.Float64)
        return pl.when(c.is_not_null()).then(before)  # null where col is null, as cum_sum() - col
    return wsum_range(c, n, 1)


def wcount(n: int) -> pl.Expr:
    """Number of completed months in the window (fewer than n for young customers)."""
    return pl.col("_i").clip(upper_bound=n)


def wmean(col: str, n: int, total: pl.Expr | None = None) -> pl.Expr:
    """Mean over the months the customer has in the window; null when there are none.
    ``total``: the window's sum when already at hand (:func:`shared_window`)."""
    k = wcount(n)
    return pl.when(k > 0).then((wsum(col, n) if total is None else total) / k)


def shared_window(col: str, n: int) -> str:
    """The working column holding ``wsum(col, n)`` when it is computed once for several schemes."""
    return f"_w:{col}:{n}"


def window_complete(n: int) -> pl.Expr:
    """The window [m-n, m-1], bounded below by the join month, lies inside the panel."""
    return pl.max_horizontal(pl.col("_t") - n, pl.col("_tj")) >= pl.col("_t0")
