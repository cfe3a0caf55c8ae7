"""Fit the churn model on a panel + ledger with a time-based split, and score every row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from tierlib.churn.features import FEATURES, churn_features, feature_matrix
from tierlib.churn.model import ChurnModel

__all__ = ["ChurnFit", "fit_churn", "calibration_table", "expected_calibration_error"]

SCORED = ["customer_id", "month", "scheme", "tier", "rank", "score", "floor", "to_keep", "gap",
          "valid_until", "months_to_expiry", "expiring", "near_floor", "revenue", "y", "observed",
          "t", "period", "p", "p_raw"]


def calibration_table(p: np.ndarray, y: np.ndarray, *, bins: int = 10) -> pl.DataFrame:
    """Equal-count bins of predicted probability: ``bin, n, mean_p, rate, lo, hi``.

    ``lo``/``hi`` are a 95 % Wilson interval of the observed rate, to read the chart with.

    >>> t = calibration_table(np.array([.1, .1, .9, .9]), np.array([0, 0, 1, 1]), bins=2)
    >>> t.select("n", "mean_p", "rate").rows()
    [(2, 0.1, 0.0), (2, 0.9, 1.0)]
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(p, kind="stable")
    b = np.empty(p.size, dtype=np.int64)
    b[order] = np.arange(p.size) * bins // max(p.size, 1)
    t = (pl.DataFrame({"bin": b, "p": p, "y": y}).group_by("bin")
         .agg(n=pl.len(), mean_p=pl.col("p").mean(), rate=pl.col("y").mean()).sort("bin"))
    z = 1.96
    n, r = pl.col("n"), pl.col("rate")
    centre = (r + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * (r * (1 - r) / n + z**2 / (4 * n**2)).sqrt() / (1 + z**2 / n)
    return t.with_columns(lo=centre - half, hi=centre + half)


def expected_calibration_error(p: np.ndarray, y: np.ndarray, *, bins: int = 10) -> float:
    """ECE: the count-weighted mean of |mean predicted - observed rate| over equal-count bins.

    >>> round(expected_calibration_error(np.array([.2, .2, .8, .8]), np.array([0, 1, 1, 1]), bins=2), 3)
    0.25
    """
    t = calibration_table(p, y, bins=bins)
    return float((t["n"] * (t["mean_p"] - t["rate"]).abs()).sum() / t["n"].sum())


def _metrics(p: np.ndarray, y: np.ndarray, *, bins: int) -> dict:
    two = np.unique(y).size == 2
    return {"n": int(y.size), "churn_rate": float(y.mean()) if y.size else float("nan"),
            "mean_p": float(p.mean()) if y.size else float("nan"),
            "roc_auc": float(roc_auc_score(y, p)) if two else float("nan"),
            "pr_auc": float(average_precision_score(y, p)) if two else float("nan"),
            "brier": float(brier_score_loss(y, p, labels=[0, 1])) if y.size else float("nan"),
            "ece": expected_calibration_error(p, y, bins=bins) if y.size else float("nan")}


@dataclass
class ChurnFit:
    """A fitted churn model, its time split, held-out metrics and every ledger row scored.

    Attributes
    ----------
    model : ChurnModel
    adjust : the features that also enter the calibration (a logistic adjustment)
    k, horizon, margin : the target window and the near-drop settings used
    periods : dict period -> (first month, last month) for ``train``, ``calibration``, ``test``
    metrics : held-out (test period) ROC-AUC, PR-AUC, Brier score, ECE, churn rate, mean p;
        ``metrics_near_drop`` the same among near-drop rows
    calibration : calibration table on the test period (see :func:`calibration_table`)
    scored : one row per ledger row: near-drop columns, ``revenue``, ``y``, ``observed``,
        ``period`` (train / calibration / test / gap / unobserved), ``p`` (calibrated
        probability of leaving within k months), ``p_raw`` (base model)
    """

    model: ChurnModel
    adjust: tuple[str, ...]
    k: int
    horizon: int
    margin: float
    periods: dict
    metrics: dict
    metrics_near_drop: dict
    calibration: pl.DataFrame
    scored: pl.DataFrame = field(repr=False)

    def summary(self) -> str:
        """Plain-text figures of the held-out period."""
        m, nd = self.metrics, self.metrics_near_drop
        lo, hi = self.periods["test"]
        return (f"held-out months {lo:%Y-%m}..{hi:%Y-%m}: {m['n']} customer-months, churn within "
                f"{self.k} months {m['churn_rate']:.2%} (predicted {m['mean_p']:.2%}); ROC-AUC "
                f"{m['roc_auc']:.3f}, PR-AUC {m['pr_auc']:.3f}, Brier {m['brier']:.4f}, ECE "
                f"{m['ece']:.4f}; near-drop rows: {nd['n']}, churn {nd['churn_rate']:.2%} "
                f"(predicted {nd['mean_p']:.2%}), ECE {nd['ece']:.4f}")


def _month(t: int) -> dt.date:
    return dt.date(int(t) // 12, int(t) % 12 + 1, 1)


def fit_churn(panel: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame | pl.LazyFrame, *, k: int = 3,
              horizon: int = 3, margin: float = 0.10, test_months: int = 6,
              calibration_months: int = 6, model: ChurnModel | None = None,
              adjust: tuple[str, ...] = ("drop_months_ahead",), bins: int = 10,
              random_state: int | None = 0) -> ChurnFit:
    """Fit a calibrated churn model with a time-based split and score every ledger row.

    Only rows whose k-month outcome window is fully observed train or evaluate. Among them, the
    latest ``test_months`` as-of months are held out; the ``calibration_months`` before them
    calibrate; earlier months train. Between two periods ``k - 1`` months are left out, so no
    outcome window of an earlier period reaches into a later one.

    Parameters
    ----------
    panel, ledger : the rated panel (with ``churned``) and ``tierlib.rate(panel, scheme)``.
    k : int
        Target: leaves within months m .. m+k-1.
    horizon, margin : near-drop settings (see :func:`tierlib.churn.near_drop`).
    test_months, calibration_months : int
        Lengths of the held-out and calibration periods, in as-of months.
    model : ChurnModel, optional
        An unfitted model to use (its ``calibration_size``, ``gap`` and ``adjust`` are set
        here); default ``ChurnModel(random_state=random_state)``.
    adjust : features (of :data:`FEATURES`) that also enter the calibration as a logistic
        adjustment. The default, ``drop_months_ahead``, lets the calibration months correct
        the risk of tiers about to expire: a panel's first year holds few expiries (its
        customers' tiers start with the panel), so the training months can teach the base
        model little about them.
    bins : int
        Bins of the calibration table and of the ECE.

    Returns
    -------
    ChurnFit

    Examples
    --------
    >>> from tierlib.synth import make_panel
    >>> import tierlib
    >>> panel, _ = make_panel(4000, 30, seed=3, carrier_shares={"telecom": 1.0})
    >>> fit = fit_churn(panel, tierlib.rate(panel, "telecom_star"), model=ChurnModel(max_iter=30))
    >>> sorted(fit.periods), sorted(fit.metrics)[:3]
    (['calibration', 'test', 'train'], ['brier', 'churn_rate', 'ece'])
    """
    feats = churn_features(panel, ledger, k=k, horizon=horizon, margin=margin)
    if isinstance(feats, pl.LazyFrame):
        feats = feats.collect()
    obs_t = np.unique(feats.filter(pl.col("observed"))["t"].to_numpy())
    need = test_months + calibration_months + 2 * (k - 1) + 1
    if obs_t.size < need:
        raise ValueError(f"the panel has {obs_t.size} as-of months with a fully observed {k}-month "
                         f"window; the split needs at least {need} (test {test_months}, calibration "
                         f"{calibration_months}, gaps {k - 1}, one training month)")
    test_t0 = obs_t[-test_months]
    fit_rows = feats.filter(pl.col("observed") & (pl.col("t") <= test_t0 - k))
    m = (model if model is not None else ChurnModel(random_state=random_state))
    unknown = [a for a in adjust if a not in FEATURES]
    if unknown:
        raise ValueError(f"adjust: {unknown} are not features ({', '.join(FEATURES)})")
    m = m.set_params(calibration_size=calibration_months, gap=k - 1,
                     adjust=tuple(FEATURES.index(a) for a in adjust))
    X = feature_matrix(fit_rows)
    m.fit(X, fit_rows["y"].to_numpy(), time=fit_rows["t"].to_numpy())
    cal_t0 = int(m.calibration_start_)
    t = pl.col("t")
    period = (pl.when(~pl.col("observed")).then(pl.lit("unobserved"))
              .when(t >= test_t0).then(pl.lit("test"))
              .when((t >= cal_t0) & (t <= test_t0 - k)).then(pl.lit("calibration"))
              .when(t < cal_t0 - (k - 1)).then(pl.lit("train"))
              .otherwise(pl.lit("gap")))
    raw = m.predict_raw(feature_matrix(feats))
    Z = feats.select(adjust).to_numpy().astype(float) if adjust else None
    scored = feats.with_columns(period=period, p=pl.Series(m.calibrator_.predict(raw, Z)),
                                p_raw=pl.Series(raw)).select(*SCORED, *[a for a in adjust if a not in SCORED])
    test = scored.filter(pl.col("period") == "test")
    nd = test.filter(pl.col("expiring") | pl.col("near_floor"))
    y, p = test["y"].to_numpy().astype(int), test["p"].to_numpy()
    periods = {name: (_month(g["t"].min()), _month(g["t"].max()))
               for (name,), g in scored.filter(pl.col("period").is_in(["train", "calibration", "test"]))
               .group_by("period")}
    return ChurnFit(model=m, adjust=tuple(adjust), k=k, horizon=horizon, margin=margin, periods=periods,
                    metrics=_metrics(p, y, bins=bins),
                    metrics_near_drop=_metrics(nd["p"].to_numpy(), nd["y"].to_numpy().astype(int), bins=bins),
                    calibration=calibration_table(p, y, bins=bins), scored=scored)
