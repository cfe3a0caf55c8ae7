"""Numerical pieces of the drop-effect estimate: local Poisson fits, bootstrap, naive rates."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from tierlib.churn._common import KEY, lazy

__all__ = ["local_rate", "bootstrap_weights", "naive_rates"]


def local_rate(x, events, exposure, w, *, slope: bool = False, iters: int = 50):
    """Weighted Poisson fit ``log(rate) = a + b x`` with exposure offset (Newton steps).

    Returns ``a`` (the log rate at x = 0), or ``(a, b)`` with ``slope=True``; ``-inf`` when
    the side has no event.

    >>> x = np.array([-1.0, 0.0, 1.0]); e = np.array([1.0, 2.0, 4.0])
    >>> a, b = local_rate(x, e, np.ones(3), np.ones(3), slope=True)
    >>> round(float(np.exp(a)), 3), round(float(np.exp(b)), 3)
    (2.0, 2.0)
    """
    x, events, exposure, w = (np.asarray(v, dtype=float) for v in (x, events, exposure, w))
    sw_e, sw_x = (w * events).sum(), (w * exposure).sum()
    if sw_e <= 0 or sw_x <= 0:
        return (-np.inf, 0.0) if slope else -np.inf
    a, b = np.log(sw_e / sw_x), 0.0
    for _ in range(iters):
        mu = w * exposure * np.exp(a + b * x)
        r = w * events - mu
        g = np.array([r.sum(), (r * x).sum()])
        h = np.array([[mu.sum(), (mu * x).sum()], [(mu * x).sum(), (mu * x * x).sum()]])
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:  # all x equal: no slope to fit
            step = np.array([g[0] / h[0, 0], 0.0])
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-10:
            break
    return (a, b) if slope else a


def bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``n_boot`` vectors of resampling counts over ``n`` units (the same ones each time the
    returned iterable is traversed).

    >>> w = list(bootstrap_weights(5, 2, np.random.default_rng(0)))
    >>> len(w), [int(v.sum()) for v in w]
    (2, [5, 5])
    """
    seeds = rng.integers(0, 2**63, size=n_boot)

    class _Weights:
        def __iter__(self):
            for s in seeds:
                yield np.bincount(np.random.default_rng(s).integers(0, n, n), minlength=n).astype(float)

        def __len__(self):
            return n_boot

    return _Weights()


def naive_rates(panel, ledger, *, window: int, n_boot: int, level: float,
                rng: np.random.Generator) -> tuple[float, tuple[float, float]]:
    """Churn per customer-month in the ``window`` months from any tier drop vs all other months.

    A before/after comparison that ignores why tiers drop (falling spend, arrears), so it mixes
    the drop's effect with the churn risk of the customers who drop.
    """
    pan = lazy(panel)
    churn = pl.col("churned") if "churned" in pan.collect_schema().names() else pl.lit(False)
    lf = (lazy(ledger).select("customer_id", "month", "scheme", "rank")
          .join(pan.select("customer_id", "month", churn.alias("churned")), on=["customer_id", "month"],
                how="left")
          .sort(*KEY, "month")
          .with_columns(_i=pl.int_range(pl.len()).over(KEY),
                        _drop=(pl.col("rank") < pl.col("rank").shift(1).over(KEY)).fill_null(False))
          .with_columns(_since=pl.col("_i") - pl.when(pl.col("_drop")).then(pl.col("_i"))
                        .forward_fill().over(KEY))
          .with_columns(post=pl.col("_since").is_between(0, window - 1).fill_null(False),
                        ev=pl.col("churned").fill_null(False).cast(pl.Float64)))
    per = (lf.group_by("customer_id").agg(  # bootstrap clusters: customers
        ev_post=(pl.col("ev") * pl.col("post")).sum(), n_post=pl.col("post").sum().cast(pl.Float64),
        ev_other=(pl.col("ev") * ~pl.col("post")).sum(), n_other=(~pl.col("post")).sum().cast(pl.Float64))
        .collect())
    A = per.select("ev_post", "n_post", "ev_other", "n_other").to_numpy()

    def ratio(wt):
        s = wt @ A
        return (s[0] / s[1]) / (s[2] / s[3]) if s[1] > 0 and s[2] > 0 and s[3] > 0 else np.nan

    est = ratio(np.ones(A.shape[0]))
    boots = np.array([ratio(w) for w in bootstrap_weights(A.shape[0], n_boot, rng)])
    boots = boots[np.isfinite(boots) & (boots > 0)]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha]) if boots.size else (np.nan, np.nan)
    return float(est), (float(lo), float(hi))
