"""Shared machinery of every scheme: month index, windows, thresholds -> tier, the holding scan.

Data flows one way: a validated panel gets the month index (``_t``), the rule module of the
scheme adds its score, eligibility and per-row thresholds, then :func:`finish` turns them into
the ledger of docs/CONTRACT.md. The only sequential step, the holding (validity) policy of
RULES.md §2, is a compiled per-customer scan (:mod:`tierlib.scan`, which also builds the
ledger columns that depend on it).

Speed (benchmarks/RESULTS.md): rows arrive sorted by customer and month with contiguous
months, so nothing groups by ``customer_id`` (a hash of every row, slow on string ids): a
customer's first row is where the id changes, ``_i`` counts its rows, and windows are
compiled loops over row offsets (:func:`wsum_range`), summed oldest first like the reference.
"""

from __future__ import annotations

import polars as pl

from tierlib.months import date_expr, index_expr
from tierlib.panel import COLUMNS
from tierlib.params import Scheme
from tierlib.scan import FOREVER, STATUSES, finish_frame  # noqa: F401 (STATUSES: the ledger's status values)
from tierlib.windows import (MONEY_DECIMALS, _readonly, _window_batch, wcount, window_complete,  # noqa: F401
                             wmean, wsum, wsum_range)  # the rules' vocabulary, re-exported

__all__ = ["CID", "LEDGER", "base", "prev", "first_of", "wsum", "wsum_range", "wmean", "wcount", "window_complete", "by_key",
           "tier_from", "finish", "t_to_date", "date_to_t"]

CID = "customer_id"
LEDGER = ["customer_id", "month", "scheme", "eligible", "score", "assessed", "assessed_rank", "tier",
          "rank", "floor", "valid_until", "rerated", "status", "next_tier", "to_next", "to_keep",
          "window_complete", "flag"]
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

    One compiled pass (:func:`tierlib.scan._finish_kernel`) computes every column that depends on the
    holding scan; ``columns`` (default :data:`LEDGER`) picks the ledger columns to build, in
    that order (a compact ledger builds nothing else).
    """
    columns = list(LEDGER if columns is None else columns)  # checked by rating.ledger_columns
    schema = lf.collect_schema()
    names = schema.names()
    flags = {"given": "_assessed" in names, "cap": "_cap" in names, "init": "_init_rank" in names or "_init_until" in names,
             "floor": "_floor" in names, "vu": "valid_until" in names or "_vu_t" in names, "frozen": "_frozen" in names,
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
                               ("_vu_t" if "_vu_t" in names else "valid_until", flags["vu"]), ("_frozen", flags["frozen"]),
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
    return lf.map_batches(lambda df: finish_frame(df, s, code, flags, keep_internals, columns),
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
