"""Fit the churn model on a panel + ledger with a time-based split, and score every row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.base import clone
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from tierlib.churn._common import month_of, with_warnings
from tierlib.terms import say
from tierlib.churn.features import FEATURES, churn_features, feature_matrix
from tierlib.churn.model import ChurnModel
from tierlib.churn.rd import bootstrap_weights

__all__ = ["ChurnFit", "fit_churn", "calibration_table", "expected_calibration_error"]

SCORED = ["customer_id", "month", "scheme", "tier", "rank", "score", "floor", "to_keep", "gap",
          "valid_until", "months_to_expiry", "expiring", "near_floor", "revenue", "rerated", "y",
          "observed", "t", "period", "p", "p_raw", "p_eval"]


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

    Two models are fitted with the same settings. The *evaluation* model trains and calibrates
    on the months before the held-out ``test`` months and is judged on them (``metrics``).
    The *scoring* model (``model``), whose probabilities ``p`` every result uses, is the same
    procedure moved forward to the latest observed months (``refit=True``): its calibration
    slice is the latest ``calibration_months`` observed as-of months, so it is trained on the
    months nearest the as-of month, re-ratings included. The held-out metrics judge the
    procedure, one period earlier.

    Attributes
    ----------
    model : ChurnModel, the scoring model
    evaluation_model : ChurnModel, the model judged on the test months
    refits : the scoring model refit on ``n_refit`` customer-bootstrap samples (base model and
        calibration), behind the model interval of :func:`tierlib.churn.expected_churn`
    adjust : the features that also enter the calibration (a logistic adjustment)
    k, horizon, margin : the target window and the near-drop settings used
    periods : dict period -> (first month, last month) for the evaluation model's ``train``,
        ``calibration``, ``test``; ``scoring_periods`` the scoring model's ``train`` and
        ``calibration``
    metrics : held-out (test period) ROC-AUC, PR-AUC, Brier score, ECE, churn rate, mean p of
        the evaluation model; ``metrics_near_drop`` the same among near-drop rows
    calibration : calibration table on the test period (see :func:`calibration_table`)
    rerating : re-ratings by scheme and as-of month (``t``, ``rows``, ``rerated``)
    warnings : reasons not to take the figures at face value (empty when none)
    scored : one row per ledger row: near-drop columns, the features, ``revenue``, ``y``,
        ``observed``, ``period`` (of the evaluation split: train / calibration / test / gap /
        unobserved), ``p`` (scoring model: calibrated probability of leaving within k months),
        ``p_raw`` (its base model), ``p_eval`` (the evaluation model's ``p``)
    """

    model: ChurnModel
    evaluation_model: ChurnModel
    adjust: tuple[str, ...]
    k: int
    horizon: int
    margin: float
    periods: dict
    scoring_periods: dict
    metrics: dict
    metrics_near_drop: dict
    calibration: pl.DataFrame
    rerating: pl.DataFrame = field(repr=False)
    warnings: tuple[str, ...] = ()
    refits: list = field(default_factory=list, repr=False)
    scored: pl.DataFrame = field(default=None, repr=False)

    def summary(self, lang: str = "en") -> str:
        """Plain-text figures of the held-out period, then any warning; in ``lang`` (``en``, ``zh``)."""
        from tierlib.terms import term

        m, nd = self.metrics, self.metrics_near_drop
        lo, hi = self.periods["test"]
        text = term("say.fit_summary", lang).format(
            lo=f"{lo:%Y-%m}", hi=f"{hi:%Y-%m}", n=m["n"], k=self.k, churn=f"{m['churn_rate']:.2%}",
            predicted=f"{m['mean_p']:.2%}", roc=f"{m['roc_auc']:.3f}", pr=f"{m['pr_auc']:.3f}",
            brier=f"{m['brier']:.4f}", ece=f"{m['ece']:.4f}", nd_n=nd["n"], nd_churn=f"{nd['churn_rate']:.2%}",
            nd_predicted=f"{nd['mean_p']:.2%}", nd_ece=f"{nd['ece']:.4f}")
        return with_warnings(text, self.warnings, lang)


def _span(t: np.ndarray) -> tuple[dt.date, dt.date]:
    return month_of(t.min()), month_of(t.max())


def _no_rerating(rerating: pl.DataFrame, schemes: list[str], t_lo: int, t_hi: int, k: int,
                 what: str) -> list[str]:
    """Warnings for schemes with no re-rating in the outcome windows of as-of months t_lo..t_hi."""
    n = (rerating.filter(pl.col("t").is_between(t_lo, t_hi + k - 1)).group_by("scheme")
         .agg(pl.col("rerated").sum()))
    got = dict(zip(n["scheme"], n["rerated"]))
    return [say("warn.no_rerating_in_training", what=say(f"word.{what}"), first=f"{month_of(t_lo):%Y-%m}",
                last=f"{month_of(t_hi):%Y-%m}", scheme=s, k=k)
            for s in schemes if not got.get(s, 0)]


def fit_churn(panel: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame | pl.LazyFrame, *, k: int = 3,
              horizon: int = 3, margin: float = 0.10, test_months: int = 6,
              calibration_months: int = 6, model: ChurnModel | None = None,
              adjust: tuple[str, ...] = ("drop_months_ahead",), bins: int = 10, refit: bool = True,
              n_refit: int = 20, random_state: int | None = 0) -> ChurnFit:
    """Fit a calibrated churn model with a time-based split and score every ledger row.

    Only rows whose k-month outcome window is fully observed train or evaluate. Among them, the
    latest ``test_months`` as-of months are held out; the ``calibration_months`` before them
    calibrate; earlier months train. Between two periods ``k - 1`` months are left out, so no
    outcome window of an earlier period reaches into a later one. That evaluation model is
    judged on the held-out months; the scoring model is fitted the same way on the months up to
    the latest observed one (see :class:`ChurnFit`).

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
    refit : bool
        Score with a model fitted on the latest observed months (True), or with the evaluation
        model itself (False).
    n_refit : int
        Customer-bootstrap refits of the scoring model (base model and calibration), for the
        model interval of :func:`tierlib.churn.expected_churn` (0: none, no interval).

    Returns
    -------
    ChurnFit

    Examples
    --------
    ``churn_demo`` (a test-session fixture) holds a 4,000-customer all-telecom panel drawn by
    ``make_panel(4000, 30, seed=3, carrier_shares={"telecom": 1.0})``, its ``telecom_star``
    ledger and ``fit = fit_churn(panel, ledger, model=ChurnModel(max_iter=30), n_refit=5)``:

    >>> fit = churn_demo.fit
    >>> sorted(fit.periods), sorted(fit.metrics)[:3], len(fit.refits)
    (['calibration', 'test', 'train'], ['brier', 'churn_rate', 'ece'], 5)
    """
    from tierlib.snapshot import require_history  # a snapshot panel says what it cannot support
    require_history(panel, "fit_churn")
    if n_refit < 0:
        raise ValueError(f"n_refit must be >= 0, got {n_refit}")
    feats = churn_features(panel, ledger, k=k, horizon=horizon, margin=margin)
    if isinstance(feats, pl.LazyFrame):
        feats = feats.collect()
    obs_t = np.unique(feats.filter(pl.col("observed"))["t"].to_numpy())
    need = test_months + calibration_months + 2 * (k - 1) + 1
    if obs_t.size < need:
        raise ValueError(f"the panel has {obs_t.size} as-of months with a fully observed {k}-month "
                         f"window; the split needs at least {need} (test {test_months}, calibration "
                         f"{calibration_months}, gaps {k - 1}, one training month)")
    unknown = [a for a in adjust if a not in FEATURES]
    if unknown:
        raise ValueError(f"adjust: {unknown} are not features ({', '.join(FEATURES)})")
    proto = (model if model is not None else ChurnModel(random_state=random_state)).set_params(
        calibration_size=calibration_months, gap=k - 1, adjust=tuple(FEATURES.index(a) for a in adjust))
    test_t0 = obs_t[-test_months]
    observed = feats.filter(pl.col("observed"))

    def fit_on(rows: pl.DataFrame, m: ChurnModel, w=None) -> ChurnModel:
        return m.fit(feature_matrix(rows), rows["y"].to_numpy(), time=rows["t"].to_numpy(), counts=w)

    eval_rows = observed.filter(pl.col("t") <= test_t0 - k)
    m_eval = fit_on(eval_rows, clone(proto))
    score_rows = observed if refit else eval_rows
    m_score = fit_on(score_rows, clone(proto)) if refit else m_eval
    refits = []
    if n_refit:
        cust = score_rows.select(pl.col("customer_id").rank("dense") - 1).to_series().to_numpy()
        rng = np.random.default_rng(random_state)
        for i, w in enumerate(bootstrap_weights(int(cust.max()) + 1, n_refit, rng)):
            m = clone(proto).set_params(random_state=None if random_state is None else random_state + 1 + i)
            refits.append(fit_on(score_rows, m, w[cust]))
    cal_t0 = int(m_eval.calibration_start_)
    t = pl.col("t")
    period = (pl.when(~pl.col("observed")).then(pl.lit("unobserved"))
              .when(t >= test_t0).then(pl.lit("test"))
              .when((t >= cal_t0) & (t <= test_t0 - k)).then(pl.lit("calibration"))
              .when(t < cal_t0 - (k - 1)).then(pl.lit("train"))
              .otherwise(pl.lit("gap")))
    X = feature_matrix(feats)
    Z = feats.select(adjust).to_numpy().astype(float) if adjust else None
    raw = m_score.predict_raw(X)
    p_eval = m_eval.calibrator_.predict(m_eval.predict_raw(X), Z) if refit else None
    p = m_score.calibrator_.predict(raw, Z)
    scored = feats.with_columns(period=period, p=pl.Series(p), p_raw=pl.Series(raw),
                                p_eval=pl.Series(p if p_eval is None else p_eval))
    scored = scored.select(*SCORED, *[c for c in scored.columns if c not in SCORED])
    test = scored.filter(pl.col("period") == "test")
    nd = test.filter(pl.col("expiring") | pl.col("near_floor"))
    y, pe = test["y"].to_numpy().astype(int), test["p_eval"].to_numpy()
    periods = {name: (month_of(g["t"].min()), month_of(g["t"].max()))
               for (name,), g in scored.filter(pl.col("period").is_in(["train", "calibration", "test"]))
               .group_by("period")}
    st = score_rows["t"].to_numpy()
    s_cal = int(m_score.calibration_start_)
    scoring_periods = {"train": _span(st[st < s_cal - (k - 1)]), "calibration": _span(st[st >= s_cal])}
    rerating = (scored.group_by(pl.col("scheme").cast(pl.String), "t")
                .agg(rows=pl.len(), rerated=pl.col("rerated").sum()).sort("scheme", "t"))
    schemes = sorted(rerating["scheme"].unique().to_list())
    e_train = eval_rows["t"].to_numpy()
    warnings = _no_rerating(rerating, schemes, int(e_train.min()), cal_t0 - k, k, "evaluation")
    if refit:
        warnings += _no_rerating(rerating, schemes, int(st.min()), s_cal - k, k, "scoring")
    return ChurnFit(model=m_score, evaluation_model=m_eval, adjust=tuple(adjust), k=k, horizon=horizon,
                    margin=margin, periods=periods, scoring_periods=scoring_periods,
                    metrics=_metrics(pe, y, bins=bins),
                    metrics_near_drop=_metrics(nd["p_eval"].to_numpy(), nd["y"].to_numpy().astype(int), bins=bins),
                    calibration=calibration_table(pe, y, bins=bins), rerating=rerating,
                    warnings=tuple(warnings), refits=refits, scored=scored)
