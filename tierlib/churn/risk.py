"""Expected churn and revenue at risk among near-drop customers, and the retention list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm

from tierlib.ledger import ladders
from tierlib.months import as_month
from tierlib.churn._common import with_warnings
from tierlib.terms import say
from tierlib.revenue import REVENUE, Revenue
from tierlib.churn.features import feature_matrix
from tierlib.churn.fit import ChurnFit

__all__ = ["ExpectedChurn", "expected_churn", "retention_list", "near_drop_scored", "RERATING_RATIO"]

#: assumed: the as-of month's outcome window re-rates "a kind of month no check saw" when the
#: share of a scheme's tier holders whose holding ends in time to be re-rated inside the
#: window exceeds this multiple of the highest such share among the held-out and calibration
#: as-of months.
RERATING_RATIO = 2.0


def _as_of(fit: ChurnFit, as_of) -> dt.date:
    return fit.scored["month"].max() if as_of is None else as_month(as_of)


def near_drop_scored(fit: ChurnFit, as_of=None) -> pl.DataFrame:
    """The scored near-drop rows of one as-of month (default: the latest ledger month)."""
    m = _as_of(fit, as_of)
    out = fit.scored.filter((pl.col("month") == m) & (pl.col("expiring") | pl.col("near_floor")))
    return out.with_columns(reason=pl.when(pl.col("expiring")).then(pl.lit("expiring"))
                            .otherwise(pl.lit("near_floor")))


def unseen_rerating(fit: ChurnFit, as_of: dt.date, schemes: list[str] | None = None) -> list[str]:
    """Warnings for schemes whose as-of outcome window re-rates a far larger share of tier
    holders than any held-out or calibration window did (e.g. GoTone: every yearly level is
    re-rated in February, so a December window holds it and a May..October one does not).

    A holder is re-rated inside the k-month window from month m when the tier's holding ends
    by month m+k-2 (``months_to_expiry`` 0 .. k-2); see :data:`RERATING_RATIO`.
    """
    k = fit.k
    lo = min(fit.periods["test"][0], fit.scoring_periods["calibration"][0])
    hi = max(fit.periods["test"][1], fit.scoring_periods["calibration"][1])
    share = (fit.scored.filter(pl.col("rank") > 0)
             .group_by(pl.col("scheme").cast(pl.String), "month")
             .agg(share=pl.col("months_to_expiry").is_between(0, k - 2).fill_null(False).mean()))
    if schemes is not None:
        share = share.filter(pl.col("scheme").is_in(schemes))
    now = share.filter(pl.col("month") == as_of)
    held = (share.filter(pl.col("month").is_between(lo, hi)).group_by("scheme")
            .agg(held=pl.col("share").max()))
    out = []
    for s, q, h in now.join(held, on="scheme", how="left").sort("scheme").select(
            "scheme", "share", pl.col("held").fill_null(0.0)).iter_rows():
        if q > 0 and q > RERATING_RATIO * h:
            out.append(say("warn.unseen_rerating", scheme=s, share=f"{q:.0%}", as_of=f"{as_of:%Y-%m}", k=k,
                           held=f"{h:.0%}", first=f"{lo:%Y-%m}", last=f"{hi:%Y-%m}"))
    return out


@dataclass
class ExpectedChurn:
    """Expected churners and revenue at risk among near-drop customers in one month.

    ``table`` has one row per group (and an ``all`` row; ``tier_label`` when ``by`` has scheme
    and tier): ``rank`` (of the tier, when ``by``
    holds ``tier``), ``customers``, ``expected`` (sum
    of calibrated probabilities of leaving within ``k`` months), ``model_lo``/``model_hi``
    (the model interval of that sum, see ``method``), ``count_lo``/``count_hi`` (interval for
    the number who will actually leave: normal, variance = Poisson-binomial sum p(1-p) + the
    refits' variance), ``revenue`` (their revenue as ``revenue`` defines it, yuan),
    ``revenue_at_risk`` (sum of p x revenue) with ``revenue_lo``/``revenue_hi``. The model interval covers the
    sampling of customers through the whole fit (base model and calibration); it does not
    cover a change in behaviour between the calibration months and ``as_of`` (``warnings``
    says when the as-of window holds a kind of re-rating month the checks never saw).
    """

    as_of: dt.date
    k: int
    level: float
    by: tuple[str, ...]
    table: pl.DataFrame
    n_refit: int
    warnings: tuple[str, ...] = ()
    revenue: Revenue = REVENUE  # the definition behind every revenue column
    method: str = ("sum of calibrated probabilities; model interval: the whole model (base model "
                   "and calibration) refit on customer-bootstrap samples of its training and "
                   "calibration customers, normal on the log scale with the refits' standard "
                   "deviation; count interval: normal with Poisson-binomial variance plus the "
                   "refits' variance")

    def total(self) -> dict:
        return self.table.filter(pl.col(self.by[0]) == "all").row(0, named=True)

    def summary(self, lang: str = "en") -> str:
        """The totals in one sentence, then any warning; in ``lang`` (``en``, ``zh``)."""
        from tierlib.terms import term

        t = self.total()
        text = term("say.expected_summary", lang).format(
            as_of=f"{self.as_of:%Y-%m}", customers=t["customers"], k=self.k, expected=f"{t['expected']:.1f}",
            level=f"{self.level:.0%}", model_lo=f"{t['model_lo']:.1f}", model_hi=f"{t['model_hi']:.1f}",
            n_refit=self.n_refit, count_lo=f"{t['count_lo']:.0f}", count_hi=f"{t['count_hi']:.0f}",
            at_risk=f"{t['revenue_at_risk']:,.0f}", revenue=f"{t['revenue']:,.0f}", definition=self.revenue.text(lang))
        return with_warnings(text, self.warnings, lang)


def _log_interval(est: np.ndarray, boots: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """est x exp(-+ z sd(log boots)) per column (nan without refits; 0 where est is 0)."""
    if boots.shape[0] < 2:
        nan = np.full(est.shape, np.nan)
        return nan, nan
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.nan_to_num(np.log(np.where(boots > 0, boots, np.nan)).std(axis=0, ddof=1))
    return est * np.exp(-z * sd), est * np.exp(z * sd)


def expected_churn(fit: ChurnFit, *, as_of=None, by: tuple[str, ...] | list[str] = ("scheme", "tier"),
                   level: float = 0.90) -> ExpectedChurn:
    """Expected churners and monthly revenue at risk among near-drop customers, with intervals.

    Parameters
    ----------
    fit : ChurnFit from :func:`tierlib.churn.fit_churn` (its ``refits`` give the model interval).
    as_of : the as-of month, any form :func:`tierlib.months.as_month` reads (default: the
        latest ledger month).
    by : grouping columns of the near-drop rows (e.g. ``("scheme", "tier")``, ``("reason",)``).
    level : interval level.

    Returns
    -------
    ExpectedChurn

    Examples
    --------
    ``churn_demo.fit`` is the fit of the :func:`tierlib.churn.fit_churn` example.

    >>> ec = expected_churn(churn_demo.fit)
    >>> t = ec.total(); bool(t["model_lo"] <= t["expected"] <= t["model_hi"]), ec.n_refit
    (True, 5)
    """
    by = tuple(by)
    m = _as_of(fit, as_of)
    nd = near_drop_scored(fit, m).with_columns(pl.col(c).cast(pl.String) for c in by)
    X = feature_matrix(nd)
    Znd = nd.select(fit.adjust).to_numpy().astype(float) if fit.adjust else None
    rev = nd["revenue"].fill_null(0.0).to_numpy()
    groups = nd.select(pl.concat_str([pl.col(c).fill_null("") for c in by], separator="\x1f")).to_series()
    keys, gi = np.unique(groups.to_numpy(), return_inverse=True) if nd.height else (np.array([]), np.array([], int))
    G = keys.size

    def sums(p):
        return (np.append(np.bincount(gi, p, minlength=G), p.sum()),
                np.append(np.bincount(gi, p * rev, minlength=G), (p * rev).sum()))

    boot = [sums(r.calibrator_.predict(r.predict_raw(X), Znd) if nd.height else np.zeros(0))
            for r in fit.refits]
    bn = np.array([b[0] for b in boot]).reshape(len(boot), G + 1)
    br = np.array([b[1] for b in boot]).reshape(len(boot), G + 1)
    p = nd["p"].to_numpy()
    exp_n, exp_r = sums(p)
    var_pb = np.append(np.bincount(gi, p * (1 - p), minlength=G), (p * (1 - p)).sum())
    z = norm.ppf(1 - (1 - level) / 2)
    model_lo, model_hi = _log_interval(exp_n, bn, z)
    rev_lo, rev_hi = _log_interval(exp_r, br, z)
    sd = np.sqrt(var_pb + (bn.var(axis=0, ddof=1) if len(boot) > 1 else 0.0))
    cols = {c: [k.split("\x1f")[i] for k in keys] + ["all"] for i, c in enumerate(by)}
    table = pl.DataFrame({
        **cols,
        "customers": np.append(np.bincount(gi, minlength=G), nd.height),
        "expected": exp_n, "model_lo": model_lo, "model_hi": model_hi,
        "count_lo": np.clip(exp_n - z * sd, 0, None), "count_hi": exp_n + z * sd,
        "revenue": np.append(np.bincount(gi, rev, minlength=G), rev.sum()),
        "revenue_at_risk": exp_r, "revenue_lo": rev_lo, "revenue_hi": rev_hi,
    })
    if "tier" in by:  # the ladder position, so charts order tiers without reading the scheme files
        table = table.join(nd.group_by(by).agg(rank=pl.col("rank").min()), on=list(by), how="left")
    if "tier" in by and "scheme" in by:  # id and Chinese label, for the charts (tierlib.ledger.ladders)
        labels = ladders(nd.select("scheme", "tier", "rank")).select("scheme", "tier", "tier_label")
        table = table.join(labels, on=["scheme", "tier"], how="left", maintain_order="left").with_columns(
            pl.col("tier_label").fill_null(pl.col("tier")))
    warnings = list(fit.warnings)
    if len(fit.refits) < 2:
        warnings.append(say("warn.no_model_interval"))
    warnings += unseen_rerating(fit, m, sorted(nd["scheme"].cast(pl.String).unique().to_list()))
    return ExpectedChurn(as_of=m, k=fit.k, level=level, by=by, table=table, n_refit=len(fit.refits),
                         warnings=tuple(warnings))


def retention_list(fit: ChurnFit, *, as_of=None) -> pl.DataFrame:
    """Near-drop customers ranked by expected revenue loss, ready for ``write_csv``.

    Columns: ``priority, customer_id, scheme, tier, reason, months_to_expiry, gap,
    probability`` (of leaving within k months), ``revenue`` (yuan, as
    :data:`tierlib.revenue.REVENUE` defines it: billed over the 12 months up to ``as_of``),
    ``expected_revenue_loss`` (probability x revenue, yuan).

    Examples
    --------
    ``churn_demo.fit`` is the fit of the :func:`tierlib.churn.fit_churn` example.

    >>> rl = retention_list(churn_demo.fit)
    >>> rl.columns[:4], bool(rl["expected_revenue_loss"].is_sorted(descending=True))
    (['priority', 'customer_id', 'scheme', 'tier'], True)
    """
    nd = near_drop_scored(fit, as_of)
    return (nd.select("customer_id", pl.col("scheme").cast(pl.String), pl.col("tier").cast(pl.String),
                      "reason", "months_to_expiry", "gap", probability=pl.col("p"),
                      revenue=pl.col("revenue"),
                      expected_revenue_loss=pl.col("p") * pl.col("revenue").fill_null(0.0))
            .sort("expected_revenue_loss", "customer_id", descending=[True, False])
            .with_row_index("priority", offset=1))
