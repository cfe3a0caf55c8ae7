"""How much a tier drop itself raises churn (issue #5, item 4).

Design: a sharp regression discontinuity at the re-rating threshold. At the first month after
a tier's validity ends (the *re-rating month* r), a customer keeps the tier h if the score
meets h's floor and drops below it otherwise. Customers just below and just above the floor
are alike in everything but the drop, so the jump in churn at the floor is the drop's effect.
Churn is counted as events per customer-month in network over months r .. r+window-1 and
fitted on each side by a local log-linear (Poisson) regression in the running variable
``x = (score - floor) / floor`` with triangular kernel weights; the hazard ratio is
``exp(intercept below - intercept above)``. Confidence intervals come from a bootstrap that
resamples customers (a customer can be re-rated several times).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import math
import numpy as np
import polars as pl

from tierlib.churn._common import KEY, lazy, need, t_of, with_warnings
from tierlib.churn.rd import bootstrap_weights, local_rate, naive_rates
from tierlib.terms import say

__all__ = ["DropEffect", "drop_effect", "rerating_events", "ASSUMPTIONS"]

#: assumed: fewest leavers on each side of the floor (within the bandwidth) for an estimate
#: worth reading. With fewer, the local fits at the floor rest on a handful of events: on a
#: 24-month panel of 60,000 customers (about 50 below, 90 above) the 95 % interval spans a
#: factor of 4-6 and single seeds land at 2-3 times the true ratio.
MIN_EVENTS = 100

ASSUMPTIONS = (
    say("assume.effect.continuity"),
    say("assume.effect.manipulation"),
    say("assume.effect.local"),
    say("assume.effect.bandwidth"),
    say("assume.effect.proportional"),
    say("assume.effect.independent"),
)


def rerating_events(panel: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame | pl.LazyFrame, *,
                    window: int = 3) -> pl.DataFrame:
    """One row per re-rating: the month after a tier's validity ended, with score and outcome.

    The re-rating months are the ledger's ``rerated`` rows (docs/CONTRACT.md). Columns:
    ``customer_id, scheme, month, held`` (rank before), ``rank`` (after), ``floor`` (of the held
    tier: the ledger's ``floor`` of the month before), ``score``, ``x`` (``(score -
    floor) / floor``), ``dropped``, ``events`` (1 if the customer leaves in months r ..
    r+window-1), ``exposure`` (months in network observed in that window).

    Examples
    --------
    >>> import datetime as dt, tierlib
    >>> months = [dt.date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 16)]
    >>> p = pl.DataFrame({"customer_id": "c1", "month": months, "join_month": months[0],
    ...                   "billed": [300.0] * 3 + [100.0] * 12})
    >>> ev = rerating_events(p, tierlib.rate(p, "unicom_vip"))
    >>> ev.select("month", "held", "rank", "floor", "dropped", "exposure").row(0)
    (datetime.date(2025, 2, 1), 2, 0, 300.0, True, 2.0)
    """
    need(ledger, ["customer_id", "month", "scheme", "score", "rank", "floor", "rerated"], "ledger")
    pan = lazy(panel)
    churn = pl.col("churned") if "churned" in pan.collect_schema().names() else pl.lit(False)
    pan = pan.select("customer_id", "month", churn.alias("churned"))
    M = pan.select(t_of(pl.col("month").max()).alias("_M"))
    lf = (lazy(ledger).select("customer_id", "month", "scheme", "score", "rank", "floor", "rerated")
          .join(pan, on=["customer_id", "month"], how="left").join(M, how="cross")
          .sort(*KEY, "month").with_columns(_t=t_of("month")))
    churn_t = pl.when(pl.col("churned")).then(pl.col("_t")).max().over(KEY)
    last_t = pl.col("_t").max().over(KEY)
    # the ledger says which month re-rates a tier whose holding ended (`rerated`); the tier held
    # until then and its floor are the month before's `rank` and `floor`
    prev = {c: pl.col(c).shift(1).over(KEY) for c in ("_t", "rank", "floor")}
    rerated = pl.col("rerated") & (prev["_t"] == pl.col("_t") - 1) & (prev["rank"] > 0)
    floor = prev["floor"]
    end = pl.col("_t") + window - 1
    seen_to = pl.min_horizontal(end, pl.when(churn_t.is_not_null()).then(churn_t).otherwise(last_t))
    return (lf.with_columns(_rerated=rerated.fill_null(False), held=prev["rank"], floor=floor,
                            _churn_t=churn_t, _seen=seen_to)
            .filter(pl.col("_rerated") & (pl.col("floor") > 0))
            .select("customer_id", "scheme", "month", "held", "rank", "floor", "score",
                    x=(pl.col("score") - pl.col("floor")) / pl.col("floor"),
                    dropped=pl.col("rank") < pl.col("held"),
                    events=pl.col("_churn_t").is_between(pl.col("_t"), end).fill_null(False).cast(pl.Int32),
                    exposure=(pl.col("_seen") - pl.col("_t") + 1).cast(pl.Float64))
            .filter(pl.col("exposure") > 0)
            .collect())


@dataclass
class DropEffect:
    """The effect of a tier drop on churn: the RD hazard ratio next to the naive comparison.

    ``hazard_ratio`` and ``ci`` are the regression-discontinuity estimate; ``naive_ratio`` /
    ``naive_ci`` compare the churn rate in the ``window`` months from any tier drop with every
    other month. ``assumptions`` lists what the RD estimate rests on.
    """

    hazard_ratio: float
    ci: tuple[float, float]
    level: float
    p_value: float
    naive_ratio: float
    naive_ci: tuple[float, float]
    bandwidth: float
    window: int
    n_below: int
    n_above: int
    events_below: int
    events_above: int
    first_stage: tuple[float, float]
    density_ratio: float
    sensitivity: pl.DataFrame
    bins: pl.DataFrame = field(repr=False)
    curve: pl.DataFrame = field(repr=False)
    min_events: int = MIN_EVENTS
    assumptions: tuple[str, ...] = ASSUMPTIONS
    method: str = ("sharp regression discontinuity at the tier floor on re-rating months; local "
                   "log-linear Poisson fits of churn per customer-month on each side, triangular "
                   "kernel; percentile bootstrap over customers")

    @property
    def warnings(self) -> tuple[str, ...]:
        """Reasons not to read the estimate at face value (empty when none)."""
        from tierlib.terms import say

        out = []
        if min(self.events_below, self.events_above) < self.min_events:
            out.append(say("warn.few_leavers", below=self.events_below, above=self.events_above,
                           min=self.min_events))
        if self.first_stage[0] - self.first_stage[1] < 0.5:
            out.append(say("warn.floor_decides_little", below=f"{self.first_stage[0]:.0%}",
                           above=f"{self.first_stage[1]:.0%}"))
        return tuple(out)

    def summary(self, lang: str = "en") -> str:
        """The estimate in one sentence, then any warning; in ``lang`` (``en``, ``zh``)."""
        from tierlib.terms import term

        lo, hi = self.ci
        nlo, nhi = self.naive_ci
        key = "say.effect_summary" if math.isfinite(self.hazard_ratio) else "say.effect_summary_none"  # no "xnan"
        text = term(key, lang).format(
            hr=f"{self.hazard_ratio:.2f}", window=self.window, level=f"{self.level:.0%}", lo=f"{lo:.2f}",
            hi=f"{hi:.2f}", p=f"{self.p_value:.3f}", bandwidth=f"{self.bandwidth:.0%}", n_below=self.n_below,
            events_below=self.events_below, n_above=self.n_above, events_above=self.events_above,
            naive=f"{self.naive_ratio:.2f}", naive_lo=f"{nlo:.2f}", naive_hi=f"{nhi:.2f}")
        return with_warnings(text, self.warnings, lang)


def _rd(x, ev, ex, dropped, w_cust, cust, bw):
    """Fuzzy-corrected log hazard ratio at x = 0 for one set of customer weights."""
    wrow = w_cust[cust]
    below, above = (x < 0) & (x >= -bw), (x >= 0) & (x <= bw)
    kern = np.clip(1 - np.abs(x) / bw, 0, None) * wrow
    a_b = local_rate(x[below], ev[below], ex[below], kern[below])
    a_a = local_rate(x[above], ev[above], ex[above], kern[above])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ratio = np.exp(a_b - a_a)
    d_b = np.average(dropped[below], weights=kern[below]) if kern[below].sum() > 0 else np.nan
    d_a = np.average(dropped[above], weights=kern[above]) if kern[above].sum() > 0 else np.nan
    # proportional effect: rate_below / rate_above = (1 + d_b (HR-1)) / (1 + d_a (HR-1))
    if not np.isfinite(ratio) or not d_b - ratio * d_a > 0:
        return np.nan, d_b, d_a
    hr = 1 + (ratio - 1) / (d_b - ratio * d_a)
    return np.log(hr) if hr > 0 else np.nan, d_b, d_a


def drop_effect(panel: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame | pl.LazyFrame, *,
                window: int = 3, bandwidth: float = 0.3, n_boot: int = 500, level: float = 0.95,
                n_bins: int = 20, min_events: int = MIN_EVENTS, random_state: int | None = 0) -> DropEffect:
    """Estimate how much a tier drop multiplies the churn hazard (RD at the re-rating floor).

    Parameters
    ----------
    panel, ledger : the rated panel (with ``churned``) and ``tierlib.rate(panel, scheme)``;
        several schemes are pooled (each customer's re-ratings under each scheme).
    window : int
        Months from the re-rating month in which churn counts (the drop's effect window).
    bandwidth : float
        Half-width of the RD window in ``x = (score - floor) / floor`` (0.3: +-30 % of the floor).
    n_boot : int
        Bootstrap replicates (customers resampled).
    level : float
        Confidence level of the intervals.
    n_bins : int
        Bins of ``x`` in ``bins`` (for the discontinuity chart, over +-2 bandwidths).
    min_events : int
        Fewest leavers on each side of the floor before ``warnings`` (and ``summary``) say the
        estimate cannot be trusted (default :data:`MIN_EVENTS`, assumed).

    Returns
    -------
    DropEffect

    Examples
    --------
    >>> from tierlib.synth import make_panel
    >>> import tierlib
    >>> panel, _ = make_panel(3000, 30, seed=2, carrier_shares={"unicom": 1.0})
    >>> eff = drop_effect(panel, tierlib.rate(panel, "unicom_vip"), n_boot=50)
    >>> eff.n_below > 0 and eff.n_above > 0 and len(eff.assumptions) > 3
    True
    """
    from tierlib.snapshot import require_history  # a snapshot panel says what it cannot support
    require_history(panel, "drop_effect")
    if window < 1 or bandwidth <= 0 or n_boot < 1 or not 0 < level < 1:
        raise ValueError("need window >= 1, bandwidth > 0, n_boot >= 1 and 0 < level < 1")
    ev_frame = rerating_events(panel, ledger, window=window)
    if ev_frame.height == 0:
        raise ValueError("no re-rating month found (no tier's validity ended inside the data)")
    # clusters are customers (across schemes, when a ledger rates them under several)
    cust = ev_frame.select(pl.col("customer_id").rank("dense") - 1).to_series().to_numpy()
    x = ev_frame["x"].to_numpy()
    ev, ex = ev_frame["events"].to_numpy().astype(float), ev_frame["exposure"].to_numpy()
    dropped = ev_frame["dropped"].to_numpy().astype(float)
    n_cust = int(cust.max()) + 1
    rng = np.random.default_rng(random_state)
    W = bootstrap_weights(n_cust, n_boot, rng)
    ones = np.ones(n_cust)
    alpha = (1 - level) / 2

    def estimate(bw):
        est, d_b, d_a = _rd(x, ev, ex, dropped, ones, cust, bw)
        boots = np.array([_rd(x, ev, ex, dropped, w, cust, bw)[0] for w in W])
        boots = boots[np.isfinite(boots)]
        lo, hi = np.quantile(boots, [alpha, 1 - alpha]) if boots.size else (np.nan, np.nan)
        p = float((np.sum(boots <= 0) + 1) / (boots.size + 1))
        return est, (float(np.exp(lo)), float(np.exp(hi))), p, (d_b, d_a)

    est, ci, p, fs = estimate(bandwidth)
    sens = []
    for f in (0.5, 1.0, 2.0):
        e, c, pp, _ = (est, ci, p, fs) if f == 1.0 else estimate(bandwidth * f)
        sens.append({"bandwidth": bandwidth * f, "hazard_ratio": float(np.exp(e)),
                     "lo": c[0], "hi": c[1], "p_value": pp})
    below, above = (x < 0) & (x >= -bandwidth), (x >= 0) & (x <= bandwidth)
    q = bandwidth / 4
    n_q_below, n_q_above = int(((x < 0) & (x >= -q)).sum()), int(((x >= 0) & (x < q)).sum())
    naive = naive_rates(panel, ledger, window=window, n_boot=n_boot, level=level, rng=rng)
    return DropEffect(
        hazard_ratio=float(np.exp(est)), ci=ci, level=level, p_value=p,
        naive_ratio=naive[0], naive_ci=naive[1], bandwidth=bandwidth, window=window,
        n_below=int(below.sum()), n_above=int(above.sum()),
        events_below=int(ev[below].sum()), events_above=int(ev[above].sum()),
        first_stage=(float(fs[0]), float(fs[1])),
        density_ratio=n_q_below / n_q_above if n_q_above else float("nan"),
        sensitivity=pl.DataFrame(sens), min_events=min_events,
        bins=_bins(ev_frame, 2 * bandwidth, n_bins),
        curve=_curve(x, ev, ex, bandwidth),
    )


def _bins(ev: pl.DataFrame, half: float, n_bins: int) -> pl.DataFrame:
    """Churn per customer-month in equal-width bins of x over [-half, half) (chart data)."""
    width = 2 * half / n_bins
    return (ev.filter(pl.col("x").is_between(-half, half, closed="left"))
            .with_columns(bin=((pl.col("x") + half) / width).floor().cast(pl.Int32))
            .group_by("bin").agg(n=pl.len(), events=pl.col("events").sum(),
                                 exposure=pl.col("exposure").sum(), dropped=pl.col("dropped").mean())
            .with_columns(x=-half + (pl.col("bin") + 0.5) * width,
                          rate=pl.col("events") / pl.col("exposure"),
                          side=pl.when(pl.col("bin") * width - half < 0).then(pl.lit("below: drops"))
                          .otherwise(pl.lit("above: keeps")))
            .sort("bin"))


def _curve(x, ev, ex, bw, n: int = 25) -> pl.DataFrame:
    """The two local fits evaluated on a grid of x (chart data)."""
    rows = []
    for side, mask, grid in (("below: drops", (x < 0) & (x >= -bw), np.linspace(-bw, 0, n)),
                             ("above: keeps", (x >= 0) & (x <= bw), np.linspace(0, bw, n))):
        kern = np.clip(1 - np.abs(x[mask]) / bw, 0, None)
        a, b = local_rate(x[mask], ev[mask], ex[mask], kern, slope=True)
        rows += [{"side": side, "x": float(g), "rate": float(np.exp(a + b * g))} for g in grid]
    return pl.DataFrame(rows)
