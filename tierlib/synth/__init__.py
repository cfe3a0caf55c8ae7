"""Synthetic customer panels with a known churn mechanism (issue #3).

Real carrier data cannot ship, so :func:`make_panel` draws a panel of Chinese telecom
customers from documented parameters (:class:`Knobs`, listed with their meaning in
``data/README.md``) and keeps the ground truth of the churn hazard beside it.

The mechanism, in the order it is simulated:

1. **Customers** (static): carrier, brand, primary line, account type, segment (enterprise
   key persons with ``org_revenue`` / ``official_rank``), product counts, province, join
   month. Long-standing customers joined before the panel start and are left-truncated at
   ``start``; a share of customers joins during the panel (first row = join month).
2. **Spend** (one vectorised step per month): a persistent log level per customer (a lognormal
   cross-section with a high-value tail, an AR(1) deviation, a small drift, and for a share of
   "decliners" a steady fall from a random onset month), a calendar-month seasonal factor,
   ``plan_fee`` from a plan catalogue, re-chosen at random plan reviews, ``billed`` =
   max(plan fee, usage), arrears spells that cluster in time (a sticky two-state chain), arrears
   suspensions, and ``paid`` (short in arrears, the debt repaid when the spell ends).
3. **Tiers**: the whole un-truncated spend path is rated with :func:`tierlib.rate` under the
   customer's own carrier's main scheme (:data:`MAIN_SCHEME`). A *tier drop* is a month whose
   ``rank`` is below the previous month's; the drop month and the next ``drop_window - 1``
   months form the *post-drop window*.
4. **Churn**: a monthly hazard ``base_hazard x tenure x spend-trend x arrears x account x
   segment`` (the *base* hazard), times ``drop_effect`` inside a post-drop window. Churn is
   drawn month by month from the hazard; the customer's rows end at the churn month, whose row
   has ``churned = true``. Rating the full path and truncating afterwards is consistent because
   a month's tier depends on earlier months only.

Customers are generated in blocks of :data:`BLOCK` customers, each with its own random stream
derived from ``seed`` and the block number, so the result does not depend on how it is written
out (in memory or streamed to parquet) and memory stays bounded.

Layout: :mod:`tierlib.synth.knobs` (the parameters and value tables), :mod:`tierlib.synth.draw`
(customers and spend), this module (frames, rating, churn, writing); ``python -m tierlib.synth``
runs ``tierlib synth`` (:mod:`tierlib.synth.__main__`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from tierlib.panel import ACCOUNT_TYPES, LINES, RANKS, SEGMENTS
from tierlib.synth.draw import _brands, _customers, _enum, _month_t, _spend, _t_dates
from tierlib.synth.knobs import BLOCK, CARRIERS, MAIN_SCHEME, PROVINCES, SHARE_KNOBS, Knobs  # noqa: F401

__all__ = ["Knobs", "MAIN_SCHEME", "BLOCK", "make_panel", "iter_blocks", "write_panel"]

# --- 3. frames, rating, churn ---------------------------------------------------------------

def _static_frame(c: dict, s: dict, ids: np.ndarray, k: Knobs) -> pl.DataFrame:
    def enum(codes, values):
        labels = np.array([*values, ""])  # code -1 (none) -> null
        out = pl.Series(labels[codes])
        return pl.select(pl.when(out != "").then(out)).to_series().cast(_enum(values))
    return pl.DataFrame({
        "customer_id": ids,
        "join_month": _t_dates(c["join_t"]),
        "carrier": enum(c["carrier"], CARRIERS),
        "brand": enum(c["brand"], _brands(k)),
        "line": enum(c["line"], LINES),
        "segment": enum(c["segment"], SEGMENTS),
        "account_type": enum(c["account_type"], ACCOUNT_TYPES),
        "n_mobile": c["n_mobile"].astype(np.int32), "n_fixed": c["n_fixed"].astype(np.int32),
        "n_broadband": c["n_broadband"].astype(np.int32), "n_itv": c["n_itv"].astype(np.int32),
        "org_revenue": pl.Series(c["org_revenue"], nan_to_null=True),
        "official_rank": enum(np.where(c["official_rank"] < len(RANKS), c["official_rank"], -1), RANKS),
        "province": enum(c["province"], PROVINCES),
        "paid_before": s["paid_before"] if k.paid_before else np.full(len(ids), np.nan),
    }).with_columns(pl.col("customer_id").cast(pl.Int64))


PANEL_ORDER = ["customer_id", "month", "join_month", "billed", "paid", "plan_fee", "carrier",
               "brand", "line", "segment", "account_type", "suspensions", "in_arrears", "n_mobile",
               "n_fixed", "n_broadband", "n_itv", "org_revenue", "official_rank", "province",
               "paid_before", "churned"]


def _long_frame(static: pl.DataFrame, s: dict, rows: tuple[np.ndarray, np.ndarray], t0: int) -> pl.DataFrame:
    i, m = rows
    monthly = pl.DataFrame({
        "month": _t_dates(t0 + m),
        "billed": s["billed"][i, m], "paid": s["paid"][i, m], "plan_fee": s["plan_fee"][i, m],
        "suspensions": s["suspensions"][i, m].astype(np.int32), "in_arrears": s["in_arrears"][i, m],
    })
    return pl.concat([static[i], monthly], how="horizontal")


def _rank_matrix(frame: pl.DataFrame, static: pl.DataFrame, id0: int, shape: tuple[int, int],
                 t0: int) -> np.ndarray:
    """Rank of each row under its carrier's main scheme, as a (customers, months) matrix."""
    from tierlib.rating import rate

    ranks = np.zeros(shape, dtype=np.int16)
    # each main scheme rates its own carrier's customers (the one own-carrier filter, in rate)
    led = rate(frame, list(MAIN_SCHEME.values()), own_carrier=True).select(
        i=(pl.col("customer_id") - id0).cast(pl.Int64),
        m=(pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month() - 1 - t0),
        rank=pl.col("rank").cast(pl.Int16))
    ranks[led["i"].to_numpy(), led["m"].to_numpy()] = led["rank"].to_numpy()
    return ranks


def _hazard(c: dict, s: dict, ranks: np.ndarray, live: np.ndarray, t0: int, k: Knobs) -> dict:
    n, months = live.shape
    tenure = (t0 + np.arange(months))[None, :] - c["join_t"][:, None]
    f_tenure = k.hazard_long + (k.hazard_new - k.hazard_long) * np.exp(-np.clip(tenure, 0, None)
                                                                       / k.hazard_tenure_scale)
    # spend trend: mean billed of the last 3 months (this one included) over the 3 before
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(s["billed"], axis=1)], axis=1)
    last3 = np.zeros((n, months))
    prior3 = np.zeros((n, months))
    last3[:, 5:] = cs[:, 6:] - cs[:, 3:-3]
    prior3[:, 5:] = cs[:, 3:-3] - cs[:, :-6]
    first_k = np.clip(c["join_t"] - t0, 0, None)
    enough = (np.arange(months)[None, :] - 5 >= first_k[:, None]) & (prior3 > 0) & (last3 > 0)
    fall = np.where(enough, -np.log(np.where(enough, last3 / np.where(prior3 > 0, prior3, 1), 1)), 0.0)
    f_trend = np.exp(k.hazard_trend * np.clip(fall, 0, None))
    f_arrears = np.where(s["in_arrears"], k.hazard_arrears, 1.0) * np.where(
        s["suspensions"] > 0, k.hazard_suspension, 1.0)
    f_acct = np.array([k.hazard_account.get(a, 1.0) for a in ACCOUNT_TYPES])[c["account_type"]]
    f_seg = np.where(c["segment"] == 1, k.hazard_enterprise, 1.0)
    base = k.base_hazard * f_tenure * f_trend * f_arrears * (f_acct * f_seg)[:, None]
    # tier drops under the main scheme and the post-drop window (drop month included)
    drop = np.zeros((n, months), dtype=bool)
    drop[:, 1:] = live[:, 1:] & live[:, :-1] & (ranks[:, 1:] < ranks[:, :-1])
    post = np.zeros((n, months), dtype=bool)
    last = np.full(n, -10**6)
    for m in range(months):
        last = np.where(drop[:, m], m, last)
        post[:, m] = m - last < k.drop_window
    base = np.minimum(base, k.max_hazard)
    hazard = np.minimum(np.where(post, base * k.drop_effect, base), k.max_hazard)
    return dict(base=base, hazard=hazard, drop=drop, post=post)


def _block(block: int, n: int, id0: int, months: int, t0: int, seed: int, k: Knobs
           ) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    c = _customers(rng, n, months, t0, k)
    s = _spend(rng, c, months, t0, k)
    static = _static_frame(c, s, np.arange(id0, id0 + n), k)
    live = np.arange(months)[None, :] >= np.clip(c["join_t"] - t0, 0, None)[:, None]
    full = _long_frame(static, s, np.nonzero(live), t0)
    ranks = _rank_matrix(full, static, id0, live.shape, t0)
    h = _hazard(c, s, ranks, live, t0, k)
    event = live & (rng.random(live.shape) < h["hazard"])
    churn_m = np.where(event.any(axis=1), event.argmax(axis=1), months)
    keep = live & (np.arange(months)[None, :] <= churn_m[:, None])
    keep_flat = keep[np.nonzero(live)]
    i, m = np.nonzero(keep)
    churned = m == churn_m[i]
    panel = full.filter(pl.Series(keep_flat)).with_columns(churned=pl.Series(churned))
    panel = panel.select(PANEL_ORDER if k.paid_before else [x for x in PANEL_ORDER if x != "paid_before"])
    truth = pl.DataFrame({
        "customer_id": panel["customer_id"], "month": panel["month"], "carrier": panel["carrier"],
        "scheme": pl.Series(np.array([MAIN_SCHEME[x] for x in CARRIERS])[c["carrier"][i]],
                            dtype=pl.String).cast(_enum(MAIN_SCHEME.values())),
        "rank": ranks[i, m].astype(np.int8),
        "tier_drop": h["drop"][i, m], "post_drop": h["post"][i, m],
        # float32: 7 significant digits, ample for a hazard, and half the bytes of the sample
        "base_hazard": h["base"][i, m].astype(np.float32),
        "drop_effect": np.full(len(i), float(k.drop_effect), dtype=np.float32),
        "hazard": h["hazard"][i, m].astype(np.float32), "decliner": s["decliner"][i], "churned": churned,
    })
    return panel, truth


def iter_blocks(n_customers: int, months: int, *, start: str | dt.date = "2023-01-01", seed: int = 0,
                **knobs) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield ``(panel, truth)`` blocks of at most :data:`BLOCK` customers (see :func:`make_panel`)."""
    if n_customers < 1 or months < 1:
        raise ValueError("n_customers and months must be >= 1")
    k = Knobs.make(**knobs)
    t0 = _month_t(start)
    for b, id0 in enumerate(range(0, n_customers, BLOCK)):
        yield _block(b, min(BLOCK, n_customers - id0), id0 + 1, months, t0, seed, k)


def make_panel(n_customers: int, months: int, *, start: str | dt.date = "2023-01-01", seed: int = 0,
               **knobs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Draw a synthetic panel and its churn ground truth.

    Parameters
    ----------
    n_customers : int
        Customers drawn (rows end at churn, so the panel has fewer than
        ``n_customers * months`` rows).
    months : int
        Panel length in months, from ``start``.
    start : str or date
        First panel month (the 1st of a month).
    seed : int
        Same seed, same frames (and same parquet bytes).
    **knobs
        Any field of :class:`Knobs`, e.g. ``drop_effect=1.0`` for no drop effect.

    Returns
    -------
    panel : DataFrame
        One row per customer per month in network, RULES.md §1 columns plus ``carrier``;
        passes :func:`tierlib.validate`.
    truth : DataFrame
        One row per panel row: ``customer_id, month, carrier, scheme, rank, tier_drop,
        post_drop, base_hazard, drop_effect, hazard, decliner, churned``.

    Examples
    --------
    >>> panel, truth = make_panel(200, 12, seed=1)
    >>> panel.height == truth.height
    True
    >>> bool(truth.select((pl.col("hazard") >= pl.col("base_hazard")).all()).item())
    True
    """
    blocks = list(iter_blocks(n_customers, months, start=start, seed=seed, **knobs))
    return (pl.concat([p for p, _ in blocks], rechunk=True),
            pl.concat([t for _, t in blocks], rechunk=True))


def write_panel(out: str | Path, n_customers: int, months: int, *, start: str | dt.date = "2023-01-01",
                seed: int = 0, **knobs) -> tuple[Path, Path]:
    """Stream :func:`make_panel` block by block to ``out/panel.parquet`` and ``out/truth.parquet``.

    Memory stays near one block (:data:`BLOCK` customers) whatever ``n_customers`` is. ``out``
    must not exist or be an empty folder (never overwritten); it is built in a hidden sibling
    and published by one rename when complete, so an interrupted run leaves no panel.
    """
    import pyarrow.parquet as pq

    from tierlib.outputs import atomic_dir

    out = Path(out)
    with atomic_dir(out) as tmp:  # never over an existing output; nothing visible until complete
        paths = (tmp / "panel.parquet", tmp / "truth.parquet")
        writers: list = [None, None]
        try:
            for frames in iter_blocks(n_customers, months, start=start, seed=seed, **knobs):
                for j, frame in enumerate(frames):
                    table = frame.to_arrow()
                    if writers[j] is None:
                        writers[j] = pq.ParquetWriter(paths[j], table.schema, compression="zstd")
                    writers[j].write_table(table)
        finally:
            for w in writers:
                if w is not None:
                    w.close()
    return out / "panel.parquet", out / "truth.parquet"
