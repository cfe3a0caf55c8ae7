"""Shared machinery of every scheme: month index, windows, thresholds -> tier, the holding scan.

Data flows one way: a validated panel gets the month index (``_t``), the rule module of the
scheme adds its score, eligibility and per-row thresholds, then :func:`finish` turns them into
the ledger of docs/CONTRACT.md. The only sequential step, the holding (validity) policy of
RULES.md §2, is a compiled per-customer scan (:func:`_hold_kernel`).

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

__all__ = ["CID", "LEDGER", "base", "prev", "first_of", "wsum", "wsum_range", "wmean", "wcount", "window_complete", "by_key",
           "tier_from", "finish", "t_to_date", "date_to_t"]

CID = "customer_id"
LEDGER = ["customer_id", "month", "scheme", "eligible", "score", "assessed", "assessed_rank", "tier",
          "rank", "floor", "valid_until", "rerated", "status", "next_tier", "to_next", "to_keep",
          "window_complete", "flag"]
STATUSES = ("none", "frozen", "active")
FOREVER = np.iinfo(np.int32).max
MONEY_DECIMALS = 2  # window sums in fen (0.01 yuan) [assumed: the carriers bill in fen]
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


# --- windows over the completed months before m (rows are contiguous months) ---------------

@numba.njit(cache=True)
def _wsum_kernel(x, i, lo, hi, out):  # pragma: no cover
    # rows r-lo .. r-hi of the customer (cut at its first row r - i[r]), summed oldest first:
    # the obvious loop's order, so a row's sum never depends on other customers' rows
    for r in range(x.shape[0]):
        acc = 0.0
        for j in range(r - min(lo[r], i[r]), r - max(hi[r], 1) + 1):
            acc += x[j]
        out[r] = acc
    return out


@numba.njit(cache=True)
def _wsum_fixed_kernel(x, i, lo, hi, out):  # pragma: no cover
    # the same with the same offsets on every row
    for r in range(x.shape[0]):
        acc = 0.0
        for j in range(r - min(lo, i[r]), r - max(hi, 1) + 1):
            acc += x[j]
        out[r] = acc
    return out


@numba.njit(cache=True)
def _before_kernel(x, i, out):  # pragma: no cover
    # sum over all the customer's rows before r, accumulated oldest first
    acc = 0.0
    for r in range(x.shape[0]):
        if i[r] == 0:
            acc = 0.0
        out[r] = acc
        acc += x[r]
    return out


def _window_batch(s: pl.Series, lo: int | None = None, hi: int | None = None) -> pl.Series:
    f = s.struct
    x = f.field("x")
    if x.null_count():
        x = x.fill_null(0)
    xs = x.cast(pl.Float64).to_numpy()
    i = f.field("_i").to_numpy()
    out = np.empty(len(xs), np.float64)
    if lo is None and "lo" not in f.fields:
        _before_kernel(xs, i, out)
    elif lo is None:
        _wsum_kernel(xs, i, f.field("lo").to_numpy(), f.field("hi").to_numpy(), out)
    else:
        _wsum_fixed_kernel(xs, i, lo, hi, out)
    # money is counted in fen: a mean of exactly 50.00 yuan must not become 50.00000000000001
    # by binary rounding and cross an inclusive band edge (docs/CONTRACT.md)
    return pl.Series(np.round(out, MONEY_DECIMALS))


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


def wmean(col: str, n: int) -> pl.Expr:
    """Mean over the months the customer has in the window; null when there are none."""
    k = wcount(n)
    return pl.when(k > 0).then(wsum(col, n) / k)


def window_complete(n: int) -> pl.Expr:
    """The window [m-n, m-1], bounded below by the join month, lies inside the panel."""
    return pl.max_horizontal(pl.col("_t") - n, pl.col("_tj")) >= pl.col("_t0")


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


# --- the holding policy of RULES.md §2 --------------------------------------------------------

@numba.njit(cache=True)
def _hold_kernel(first, t, assessed, live, end, init_rank, init_until, resets):  # pragma: no cover
    n = t.shape[0]
    tier = np.zeros(n, np.int8)
    until = np.full(n, -1, np.int32)
    since = np.full(n, -1, np.int32)
    rerated = np.zeros(n, np.bool_)
    held, held_until, held_since = 0, -1, -1
    for i in range(n):
        if first[i]:
            held, held_until = init_rank[i], init_until[i]
            held_since = t[i] if held > 0 else -1
        a = assessed[i]
        # the holding of a tier ended at the previous month: this month re-rates it (it may drop)
        rerated[i] = live[i] and held > 0 and held_until >= 0 and t[i] == held_until + 1
        if not live[i]:
            held, held_until, held_since = 0, -1, -1
        elif held > 0 and t[i] <= held_until:
            if a > held:
                held, held_since = a, t[i]
                if resets[i]:
                    held_until = end[i]
        else:
            held = a
            if a > 0:
                held_until, held_since = end[i], t[i]
            else:
                held_until, held_since = -1, -1
        tier[i] = held
        until[i] = held_until
        since[i] = held_since
    return tier, until, since, rerated


def _hold_batch(s: pl.Series) -> pl.Series:
    f = s.struct
    tier, until, since, rerated = _hold_kernel(
        f.field("_i").to_numpy() == 0, f.field("_t").to_numpy(), f.field("_assessed").to_numpy(),
        f.field("_live").to_numpy(), f.field("_end").to_numpy(),
        f.field("_init_rank").to_numpy(), f.field("_init_until").to_numpy(), f.field("_resets").to_numpy())
    return pl.DataFrame({"_held": tier, "_until": until, "_since": since, "_rerated": rerated}).to_struct()


def hold(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    """Apply the scheme's holding policy: columns ``_held``, ``_until``, ``_since``."""
    if s.holding == "none":
        return lf.with_columns(_held=pl.col("_assessed"), _until=pl.lit(NO_UNTIL, pl.Int32),
                               _since=pl.lit(NO_UNTIL, pl.Int32), _rerated=pl.lit(False))
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
    names = lf.collect_schema().names()
    init_rank = pl.col("_init_rank") if "_init_rank" in names else pl.lit(0)
    init_until = pl.col("_init_until") if "_init_until" in names else pl.lit(NO_UNTIL)
    live = pl.col("eligible") & ~(pl.col("_cancel") if "_cancel" in names else pl.lit(False))
    inputs = pl.struct(
        pl.col("_i"), pl.col("_t").cast(pl.Int32), pl.col("_assessed").cast(pl.Int8),
        live.alias("_live"), end.cast(pl.Int32).alias("_end"),
        init_rank.fill_null(0).cast(pl.Int8).alias("_init_rank"),
        init_until.fill_null(NO_UNTIL).cast(pl.Int32).alias("_init_until"),
        resets.alias("_resets"),
    )
    dtype = pl.Struct({"_held": pl.Int8, "_until": pl.Int32, "_since": pl.Int32, "_rerated": pl.Boolean})
    out = inputs.map_batches(_hold_batch, return_dtype=dtype)
    return lf.with_columns(_h=out).unnest("_h")


# --- from scores to the ledger ----------------------------------------------------------------

def _pick(rank: pl.Expr, n_tiers: int) -> pl.Expr:
    """The threshold column of the given rank (null for rank 0 or beyond the top)."""
    out = pl.lit(None, dtype=pl.Float64)
    for k in range(1, n_tiers + 1):
        out = pl.when(rank == k).then(pl.col(f"_thr{k}")).otherwise(out)
    return out


def finish(lf: pl.LazyFrame, s: Scheme, *, keep_internals: bool = False) -> pl.LazyFrame:
    """Thresholds, holding and floors -> the ledger columns of docs/CONTRACT.md."""
    K = len(s.tiers)
    names = lf.collect_schema().names()
    if "_assessed" not in names:
        lf = lf.with_columns(_assessed=tier_from(pl.col("score"), K))
    lf = lf.with_columns(_assessed=pl.when(pl.col("eligible") & (pl.col("tenure") > 0))
                         .then(pl.col("_assessed")).otherwise(0).cast(pl.Int8))
    lf = hold(lf, s)
    rank = pl.col("_held")
    if "_floor" in names:  # e.g. GoTone's plan level: applies on top of the held tier
        rank = pl.when(pl.col("eligible")).then(pl.max_horizontal(rank, pl.col("_floor").fill_null(0)))
        rank = rank.otherwise(0)
    lf = lf.with_columns(rank=rank.cast(pl.Int8))
    until = pl.col("valid_until") if "valid_until" in names else pl.when(
        (pl.col("_until") >= 0) & (pl.col("_until") < FOREVER) & (pl.col("rank") > 0)
        & (pl.col("rank") == pl.col("_held"))).then(t_to_date(pl.col("_until")))
    frozen = pl.col("_frozen") if "_frozen" in names else pl.lit(False)
    has_next = pl.col("eligible") & (pl.col("rank") < K)
    ledger = lf.with_columns(
        scheme=pl.lit(s.key).cast(pl.Categorical),
        assessed=_label(pl.col("_assessed"), s),
        assessed_rank=pl.col("_assessed"),
        floor=pl.when(pl.col("rank") > 0).then(_pick(pl.col("rank"), K)),
        # a rule that sets the validity itself (GoTone's yearly level) re-rates the month after
        # the validity it set ends; otherwise the holding scan knows
        rerated=((prev(pl.col("rank")) > 0) & prev(date_to_t(pl.col("valid_until")) == pl.col("_t"))
                 & pl.col("eligible")).fill_null(False) if "valid_until" in names else pl.col("_rerated"),
        tier=_label(pl.col("rank"), s),
        valid_until=until,
        status=_categorical(STATUSES, pl.when(pl.col("rank") == 0).then(0).when(frozen).then(1).otherwise(2)),
        next_tier=pl.when(has_next).then(_label(pl.col("rank") + 1, s)),
        to_next=pl.when(has_next).then((_pick(pl.col("rank") + 1, K) - pl.col("score")).clip(lower_bound=0.0)),
        to_keep=pl.when(pl.col("rank") > 0).then(pl.col("score") - _pick(pl.col("rank"), K)),
        # telecom_club: a qualifying plan without a card is a provisional member, not a tier
        flag=pl.when(pl.col("_provisional") & (pl.col("rank") == 0)).then(pl.lit("provisional"))
        if "_provisional" in names else pl.lit(None, dtype=pl.String),
    )
    if keep_internals:
        return ledger
    return ledger.select(LEDGER)


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
