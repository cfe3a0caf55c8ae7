"""Calibration maps: raw score -> probability, with an optional logistic adjustment."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression

__all__ = ["Calibrator", "logistic_offset"]


def _logit(p, eps: float = 1e-4):
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(p / (1 - p))


def logistic_offset(A, y, offset, w=None, *, iters: int = 100, ridge: float = 1e-6) -> np.ndarray:
    """Coefficients of ``logit P(y) = offset + A @ beta`` by weighted maximum likelihood (Newton).

    >>> A = np.ones((4, 1)); y = np.array([0, 0, 0, 1.0])
    >>> round(float(expit(logistic_offset(A, y, np.zeros(4))[0])), 3)
    0.25
    """
    A, y, offset = np.asarray(A, float), np.asarray(y, float), np.asarray(offset, float)
    w = np.ones(y.size) if w is None else np.asarray(w, float)
    beta = np.zeros(A.shape[1])
    for _ in range(iters):
        p = expit(offset + A @ beta)
        g = A.T @ (w * (y - p))
        H = (A * (w * p * (1 - p))[:, None]).T @ A + ridge * np.eye(A.shape[1])
        step = np.linalg.solve(H, g)
        beta += step
        if np.abs(step).max() < 1e-9:
            break
    return beta


class Calibrator:
    """A monotone map raw score -> probability, fit on a calibration slice.

    ``isotonic`` (default) or ``sigmoid`` (Platt: logistic in the logit of the raw score). With
    covariates ``Z``, a logistic adjustment ``logit p = logit(map(raw)) + a + Z @ b`` is fit on
    the same slice: it corrects the base model where the calibration months hold information
    its training months lacked (e.g. tiers about to expire in a left-truncated panel).

    >>> raw = np.array([.1, .2, .3, .4]); y = np.array([0, 0, 1, 1])
    >>> Calibrator().fit(raw, y).predict(np.array([.15, .35])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, method: str = "isotonic"):
        if method not in ("isotonic", "sigmoid"):
            raise ValueError(f"method must be 'isotonic' or 'sigmoid', got {method!r}")
        self.method = method

    def _map(self, raw):
        if self.method == "isotonic":
            return self.iso_.predict(raw)
        return expit(self.ab_[0] + self.ab_[1] * _logit(raw, 1e-6))

    def fit(self, raw, y, Z=None, *, sample_weight=None) -> "Calibrator":
        raw, y = np.asarray(raw, float), np.asarray(y, float)
        if self.method == "isotonic":
            self.iso_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                raw, y, sample_weight=sample_weight)
        else:
            A = np.column_stack([np.ones(raw.size), _logit(raw, 1e-6)])
            self.ab_ = logistic_offset(A, y, np.zeros(raw.size), sample_weight)
        self.beta_ = None
        if Z is not None and np.asarray(Z).shape[1] > 0:
            A = np.column_stack([np.ones(raw.size), np.nan_to_num(np.asarray(Z, float))])
            self.beta_ = logistic_offset(A, y, _logit(self._map(raw)), sample_weight)
        return self

    def predict(self, raw, Z=None) -> np.ndarray:
        q = self._map(np.asarray(raw, float))
        if self.beta_ is None:
            return q
        A = np.column_stack([np.ones(q.size), np.nan_to_num(np.asarray(Z, float))])
        return expit(_logit(q) + A @ self.beta_)
