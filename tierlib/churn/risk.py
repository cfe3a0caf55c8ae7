"""Expected churn and revenue at risk among near-drop customers, and the retention list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm

from tierlib.churn.fit import ChurnFit
from tierlib.churn.calibration import Calibrator
from tierlib.churn.rd import bootstrap_weights

__all__ = ["ExpectedChurn", "expected_churn", "retention_list", "near_drop_scored"]


def _month(fit: ChurnFit, month: dt.date | str | None) -> dt.date:
    if month is None:
        return fit.scored["month"].max()
    return dt.date.fromisoformat(month) if isinstance(month, str) else month


def near_drop_scored(fit: ChurnFit, month: dt.date | str | None = None) -> pl.DataFrame:
    """The scored near-drop rows of one month (default: the latest ledger month)."""
    m = _month(fit, month)
    out = fit.scored.filter((pl.col("month") == m) & (pl.col("expiring") | pl.col("near_floor")))
    return out.with_columns(reason=pl.when(pl.col("expiring")).then(pl.lit("expiring"))
                            .otherwise(pl.lit("near_floor")))


@dataclass
class ExpectedChurn:
    """Expected churners and revenue at risk among near-drop customers in one month.

    ``table`` has one row per group (and an ``all`` row): ``customers``, ``expected`` (sum
    of calibrated probabilities of leaving within ``k`` months), ``model_lo``/``model_hi``
    (bootstrap interval of that sum: the calibration map refit on customers resampled from the
    calibration slice), ``count_lo``/``count_hi`` (interval for the number who will actually
    leave: normal, variance = Poisson-binomial sum p(1-p) + bootstrap variance),
    ``revenue`` (their monthly revenue, yuan), ``revenue_at_risk`` (sum of p x monthly revenue)
    with ``revenue_lo``/``revenue_hi`` (bootstrap). Not included: uncertainty of the base
    model's ranking, and any change between the calibration period and ``month``.
    """

    month: dt.date
    k: int
    level: float
    by: tuple[str, ...]
    table: pl.DataFrame
    method: str = ("sum of calibrated probabilities; model interval: the calibration (map and "
                   "adjustment) refit on a customer bootstrap of the calibration slice; count "
                   "interval: normal with Poisson-binomial variance plus the bootstrap variance")

    def total(self) -> dict:
        return self.table.filter(pl.col(self.by[0]) == "all").row(0, named=True)

    def summary(self) -> str:
        t = self.total()
        return (f"{self.month:%Y-%m}: {t['customers']} customers close to a tier drop; expected to "
                f"leave within {self.k} months: {t['expected']:.1f} ({self.level:.0%} model interval "
                f"{t['model_lo']:.1f}-{t['model_hi']:.1f}; the realised count should fall in "
                f"{t['count_lo']:.0f}-{t['count_hi']:.0f}); monthly revenue at risk "
                f"{t['revenue_at_risk']:,.0f} yuan of {t['revenue']:,.0f}")


def _boot_calibrators(fit: ChurnFit, n_boot: int, rng: np.random.Generator):
    """Calibration maps refit on customer-resampled calibration slices."""
    cal = fit.scored.filter(pl.col("period") == "calibration")
    raw, y = cal["p_raw"].to_numpy(), cal["y"].to_numpy().astype(float)
    Z = cal.select(fit.adjust).to_numpy().astype(float) if fit.adjust else None
    cust = cal.select(pl.col("customer_id").rank("dense") - 1).to_series().to_numpy()
    n = int(cust.max()) + 1
    for w in bootstrap_weights(n, n_boot, rng):
        yield Calibrator(fit.model.method).fit(raw, y, Z, sample_weight=w[cust])


def expected_churn(fit: ChurnFit, *, month: dt.date | str | None = None,
                   by: tuple[str, ...] | list[str] = ("scheme", "tier"), n_boot: int = 200,
                   level: float = 0.90, random_state: int | None = 0) -> ExpectedChurn:
    """Expected churners and monthly revenue at risk among near-drop customers, with intervals.

    Parameters
    ----------
    fit : ChurnFit from :func:`tierlib.churn.fit_churn`.
    month : the as-of month (default: the latest ledger month).
    by : grouping columns of the near-drop rows (e.g. ``("scheme", "tier")``, ``("reason",)``).
    n_boot : bootstrap replicates of the calibration map.
    level : interval level.

    Returns
    -------
    ExpectedChurn

    Examples
    --------
    >>> from tierlib.synth import make_panel
    >>> from tierlib.churn import fit_churn, ChurnModel
    >>> import tierlib
    >>> panel, _ = make_panel(4000, 30, seed=3, carrier_shares={"telecom": 1.0})
    >>> fit = fit_churn(panel, tierlib.rate(panel, "telecom_star"), model=ChurnModel(max_iter=30))
    >>> ec = expected_churn(fit, n_boot=20)
    >>> t = ec.total(); bool(t["model_lo"] <= t["expected"] <= t["model_hi"])
    True
    """
    by = tuple(by)
    m = _month(fit, month)
    nd = near_drop_scored(fit, m).with_columns(pl.col(c).cast(pl.String) for c in by)
    rng = np.random.default_rng(random_state)
    raw = nd["p_raw"].to_numpy()
    Znd = nd.select(fit.adjust).to_numpy().astype(float) if fit.adjust else None
    rev = nd["revenue"].fill_null(0.0).to_numpy()
    groups = nd.select(pl.concat_str([pl.col(c).fill_null("") for c in by], separator="\x1f")).to_series()
    keys, gi = np.unique(groups.to_numpy(), return_inverse=True) if nd.height else (np.array([]), np.array([], int))
    G = keys.size
    boot_n, boot_r = [], []
    for cal in _boot_calibrators(fit, n_boot, rng):
        pb = cal.predict(raw, Znd) if raw.size else raw
        boot_n.append(np.append(np.bincount(gi, pb, minlength=G), pb.sum()))
        boot_r.append(np.append(np.bincount(gi, pb * rev, minlength=G), (pb * rev).sum()))
    bn, br = np.array(boot_n).reshape(n_boot, G + 1), np.array(boot_r).reshape(n_boot, G + 1)
    p = nd["p"].to_numpy()
    exp_n = np.append(np.bincount(gi, p, minlength=G), p.sum())
    var_pb = np.append(np.bincount(gi, p * (1 - p), minlength=G), (p * (1 - p)).sum())
    exp_r = np.append(np.bincount(gi, p * rev, minlength=G), (p * rev).sum())
    a = (1 - level) / 2
    z = norm.ppf(1 - a)
    sd = np.sqrt(var_pb + bn.var(axis=0))
    cols = {c: [k.split("\x1f")[i] for k in keys] + ["all"] for i, c in enumerate(by)}
    table = pl.DataFrame({
        **cols,
        "customers": np.append(np.bincount(gi, minlength=G), nd.height),
        "expected": exp_n, "model_lo": np.quantile(bn, a, axis=0), "model_hi": np.quantile(bn, 1 - a, axis=0),
        "count_lo": np.clip(exp_n - z * sd, 0, None), "count_hi": exp_n + z * sd,
        "revenue": np.append(np.bincount(gi, rev, minlength=G), rev.sum()),
        "revenue_at_risk": exp_r, "revenue_lo": np.quantile(br, a, axis=0),
        "revenue_hi": np.quantile(br, 1 - a, axis=0),
    })
    return ExpectedChurn(month=m, k=fit.k, level=level, by=by, table=table)


def retention_list(fit: ChurnFit, *, month: dt.date | str | None = None) -> pl.DataFrame:
    """Near-drop customers ranked by expected monthly revenue loss, ready for ``write_csv``.

    Columns: ``priority, customer_id, scheme, tier, reason, months_to_expiry, gap,
    probability`` (of leaving within k months), ``monthly_revenue`` (yuan, mean billed over
    the last 3 months), ``expected_revenue_loss`` (probability x monthly revenue, yuan a month).

    Examples
    --------
    >>> from tierlib.synth import make_panel
    >>> from tierlib.churn import fit_churn, ChurnModel
    >>> import tierlib
    >>> panel, _ = make_panel(4000, 30, seed=3, carrier_shares={"telecom": 1.0})
    >>> fit = fit_churn(panel, tierlib.rate(panel, "telecom_star"), model=ChurnModel(max_iter=30))
    >>> rl = retention_list(fit)
    >>> rl.columns[:4], bool(rl["expected_revenue_loss"].is_sorted(descending=True))
    (['priority', 'customer_id', 'scheme', 'tier'], True)
    """
    nd = near_drop_scored(fit, month)
    return (nd.select("customer_id", pl.col("scheme").cast(pl.String), pl.col("tier").cast(pl.String),
                      "reason", "months_to_expiry", "gap", probability=pl.col("p"),
                      monthly_revenue=pl.col("revenue"),
                      expected_revenue_loss=pl.col("p") * pl.col("revenue").fill_null(0.0))
            .sort("expected_revenue_loss", "customer_id", descending=[True, False])
            .with_row_index("priority", offset=1))
