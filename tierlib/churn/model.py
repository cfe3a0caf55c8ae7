"""A calibrated churn classifier following the scikit-learn estimator contract."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from tierlib.churn.calibration import Calibrator

__all__ = ["ChurnModel"]


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Binary churn classifier, fit on earlier rows and calibrated on a later slice.

    The base model (histogram gradient boosting, or a logistic regression) learns from the
    rows before the calibration slice; an isotonic (or sigmoid) map fit on the calibration
    slice turns its scores into probabilities. "Earlier" and "later" come from the ``time``
    passed to :meth:`fit` (month indices); without it, from the row order. Rows of the
    ``gap`` time units just before the calibration slice train nothing, so that no training
    outcome window reaches into the calibration period.

    Parameters
    ----------
    base : {"hgb", "logistic"}
        The base model.
    method : {"isotonic", "sigmoid"}
        Calibration map.
    calibration_size : float or int
        With ``time``: the latest distinct time values kept for calibration, as a share in
        (0, 1) or a count (int >= 1). Without ``time``: the share of rows (stratified, random).
    gap : int
        Time units left out between the training rows and the calibration slice.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    C : float
        Inverse regularisation of the logistic base model.
    max_train_rows : int or None
        Train the base model on at most this many rows, drawn at random (speed). The
        calibration slice is never subsampled, so the probabilities stay calibrated.
    adjust : tuple of int
        Columns of X that also enter the calibration, as a logistic adjustment on top of the
        calibration map (see :class:`~tierlib.churn.calibration.Calibrator`).
    random_state : int, RandomState or None
        Seeds the base model.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    n_features_in_ : int
    base_estimator_ : the fitted base model
    calibrator_ : :class:`~tierlib.churn.calibration.Calibrator`, raw score -> probability
    n_iter_ : int, iterations of the base model
    train_rows_, calibration_rows_ : int, rows used by each step
    calibration_start_ : the first time value of the calibration slice

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = rng.random(2000) < 1 / (1 + np.exp(-(X[:, 0] - 2)))
    >>> m = ChurnModel(max_iter=50, random_state=0).fit(X, y)
    >>> p = m.predict_proba(X)[:, 1]
    >>> bool(abs(p.mean() - y.mean()) < 0.02), m.classes_.tolist()
    (True, [False, True])
    """

    def __init__(self, *, base: str = "hgb", method: str = "isotonic", calibration_size: float = 0.3,
                 gap: int = 0, max_iter: int = 200, learning_rate: float = 0.05,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 100,
                 l2_regularization: float = 1.0, C: float = 1.0, max_train_rows: int | None = None,
                 adjust: tuple = (), random_state=None):
        # scikit-learn's contract: every argument stored unchanged under its own name
        for name, value in list(locals().items()):
            if name != "self":
                setattr(self, name, value)

    def _make_base(self):
        if self.base == "hgb":
            return HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization, early_stopping=False,
                random_state=self.random_state)
        if self.base == "logistic":
            return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                 StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        raise ValueError(f"base must be 'hgb' or 'logistic', got {self.base!r}")

    def _split(self, y: np.ndarray, time) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks (train, calibration)."""
        n = y.shape[0]
        if time is None:  # no time: a stratified random share (e.g. generic sklearn use)
            idx = np.arange(n)
            _, cal_idx = train_test_split(idx, test_size=self.calibration_size, stratify=y,
                                          random_state=check_random_state(self.random_state))
            cal = np.zeros(n, dtype=bool)
            cal[cal_idx] = True
            self.calibration_start_ = None
            return ~cal, cal
        time = np.asarray(time)
        if time.shape != (n,):
            raise ValueError(f"time must have one value per row ({n}), got shape {time.shape}")
        values = np.unique(time)
        if values.size < 2:
            raise ValueError("fit needs at least two distinct time values to split train / calibration")
        size = self.calibration_size
        n_cal = size if isinstance(size, (int, np.integer)) else int(round(size * values.size))
        n_cal = min(values.size - 1, max(1, n_cal))
        start = values[values.size - n_cal]
        self.calibration_start_ = start
        return time < start - self.gap, time >= start

    def fit(self, X, y, *, time=None, counts=None):
        """Fit the base model on the earlier rows, the calibration map on the later ones.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features); NaN allowed.
        y : array-like of shape (n_samples,), two classes.
        time : array-like of shape (n_samples,), optional
            The rows' time (e.g. month index): calibration on the latest ``calibration_size``
            of its distinct values. Without it, a stratified random share of the rows.
        counts : array-like of shape (n_samples,), optional
            Resampling counts >= 0 of the rows (a customer bootstrap), used as weights by both
            steps; rows of count 0 are absent. (Not named ``sample_weight``: the time split
            is not invariant to repeated rows, as scikit-learn's weight checks require.)

        Returns
        -------
        self
        """
        if self.method not in ("isotonic", "sigmoid"):
            raise ValueError(f"method must be 'isotonic' or 'sigmoid', got {self.method!r}")
        size = self.calibration_size
        if not (0 < size < 1 or (isinstance(size, (int, np.integer)) and size >= 1)):
            raise ValueError(f"calibration_size must be a share in (0, 1) or a count >= 1, got {size}")
        if time is None and size >= 1:
            raise ValueError("a calibration_size count needs time; give a share in (0, 1)")
        if self.gap < 0:
            raise ValueError(f"gap must be >= 0, got {self.gap}")
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        if any(not 0 <= int(j) < X.shape[1] for j in self.adjust):
            raise ValueError(f"adjust {self.adjust} names columns outside X's {X.shape[1]}")
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {y_type}.")
        self.classes_, y01 = np.unique(y, return_inverse=True)
        w = np.ones(y01.size) if counts is None else np.asarray(counts, dtype=float)
        if w.shape != y01.shape or not (np.isfinite(w) & (w >= 0)).all():
            raise ValueError(f"counts must be {y01.size} finite values >= 0")
        train, cal = self._split(y01, time)
        train, cal = train & (w > 0), cal & (w > 0)
        if self.max_train_rows is not None and train.sum() > self.max_train_rows:
            rng = check_random_state(self.random_state)
            drop = rng.choice(np.flatnonzero(train), train.sum() - self.max_train_rows, replace=False)
            train[drop] = False
        for name, mask in (("training", train), ("calibration", cal)):
            if np.unique(y01[mask]).size < 2:
                raise ValueError(f"the {name} rows hold only one class; give more data or "
                                 "change calibration_size / gap")
        Xt = X[train]
        empty = np.isnan(Xt).all(axis=0)
        if empty.any():  # an all-missing column breaks HistGradientBoosting's binning (sklearn 1.9)
            Xt = np.where(empty, 0.0, Xt)
        base = self._make_base()
        key = "sample_weight" if self.base == "hgb" else "logisticregression__sample_weight"
        weighted = counts is not None
        self.base_estimator_ = base.fit(Xt, y01[train], **({key: w[train]} if weighted else {}))
        self.calibrator_ = Calibrator(self.method).fit(
            self.base_estimator_.predict_proba(X[cal])[:, 1], y01[cal], X[cal][:, list(self.adjust)],
            sample_weight=w[cal] if weighted else None)
        self.train_rows_, self.calibration_rows_ = int(train.sum()), int(cal.sum())
        n_iter = getattr(self.base_estimator_, "n_iter_", None)
        if n_iter is None:  # the logistic pipeline
            n_iter = self.base_estimator_[-1].n_iter_[0]
        self.n_iter_ = int(n_iter)
        return self

    def predict_raw(self, X):
        """The base model's uncalibrated probability of the positive class."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return self.base_estimator_.predict_proba(X)[:, 1]

    def predict_proba(self, X):
        """Calibrated probabilities, shape (n_samples, 2), columns in ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        p = self.calibrator_.predict(self.base_estimator_.predict_proba(X)[:, 1], X[:, list(self.adjust)])
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """The class with the higher calibrated probability."""
        check_is_fitted(self)
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags
