"""How the automatic fit turns its nested backtest into weights and intervals at a distance.

Three small models, each stated so that a user can check it against the numbers the fit
reports (:mod:`scalinglaws.fit.auto`):

1. **Error growth.**  A candidate's squared out-of-sample log error at distance d is modelled
   as

       MSE(d) = a + b·d²,   a, b ≥ 0   (non-negative least squares of e² on 1 and d²),

   the in-sample scatter of single runs (a, at least the candidate's own in-sample mean
   squared error) plus an extrapolation error linear in d (b).  The distance is measured in
   spans of the data fitted: d = ln(C / C_max) / ln(C_max / C_min), C_min and C_max the
   smallest and largest C of the runs the law was fitted to.  An error δ in an exponent
   gives a log error δ·ln(C/C_max), and a law fitted over a span w of log C gets its
   exponents wrong by ∝ 1/w (the lever arm of a regression), so the error is a function of
   d in spans, and the nested backtest's small fits and the fit to all the runs share one
   scale.  Beyond the largest distance the backtest checked, the same line is extrapolated
   -- the stated model.
2. **Weights that do not trust a thin backtest.**  At a request d the backtest's weights are
   inversely proportional to each candidate's MSE(d) (Bates & Granger 1969), over the
   candidates whose MSE(d) is within a factor ``trim`` of the best (trimming, Timmermann
   2006 "Forecast combinations" §7: a candidate several times worse would pull the
   combination toward its bias), and they are
   shrunk toward a default in proportion to the evidence n (budget checks of the nested
   backtest):  w = λ·w_backtest + (1 − λ)·w_default,  λ = n / (n + n0).  One budget check
   leaves the default nearly untouched; many make the backtest's weights count.
3. **The combination's error.**  The weighted prediction's own nested errors give
   MSE_c(d) = a_c + b_c·d² the same way; its growth b_c is shrunk toward a prior growth b0
   with the same λ (b = λ·b_c + (1 − λ)·b0).  The interval at d is the bootstrap
   replicates' spread -- the uncertainty of the law fitted to all the runs -- widened by a
   normal error of variance s² + b·d²: s² the runs' scatter about the law (a new run scatters
   as the old ones did) and b·d² the extrapolation error the law's form adds at distance d.
   The intercept a_c is not added: it is mostly the parameter uncertainty of the smaller
   fits of the nested backtest, which the bootstrap measures for the full fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_MSE_FLOOR = 1e-10  # (log error)^2 floor: a perfect backtest does not get infinite weight
_SCORED_SHARE = 0.5  # a candidate is scored when it predicted at least this share of rows


@dataclass(frozen=True)
class ErrorGrowth:
    """MSE(d) = a + b·d² of log errors at distance d beyond the fitted runs, in spans of
    their log C (d < 0 is taken as 0: inside the data), fitted on ``n`` out-of-sample
    errors."""

    a: float
    b: float
    n: int

    def mse(self, d: float | np.ndarray) -> np.ndarray:
        """a + b·max(d, 0)²."""
        dd = np.maximum(np.asarray(d, dtype=float), 0.0)
        return self.a + self.b * dd**2

    def rms(self, d: float | np.ndarray) -> np.ndarray:
        """The root of :meth:`mse`: the typical relative error at distance d."""
        return np.sqrt(self.mse(d))


def fit_growth(errors: np.ndarray, distance: np.ndarray, floor: float = 0.0) -> ErrorGrowth | None:
    """:class:`ErrorGrowth` by non-negative least squares of e² on (1, d²) over the finite
    errors; None with fewer than 2.  With one distinct distance, b = 0 and a = mean e².
    ``a`` is at least ``floor`` (a candidate's in-sample mean squared error: it cannot
    predict new runs better than it describes the ones it was fitted to)."""
    from scipy.optimize import nnls

    e = np.asarray(errors, dtype=float)
    d = np.maximum(np.asarray(distance, dtype=float), 0.0)
    ok = np.isfinite(e) & np.isfinite(d)
    if ok.sum() < 2:
        return None
    e, d = e[ok], d[ok]
    if np.ptp(d) < 1e-9:
        return ErrorGrowth(max(float(np.mean(e**2)), floor), 0.0, int(e.size))
    (a, b), _ = nnls(np.column_stack([np.ones_like(d), d**2]), e**2)
    return ErrorGrowth(max(float(a), floor), float(b), int(e.size))


def common_rows(errors: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """The candidates scored by the backtest -- finite predictions on at least half of its
    rows -- and the rows where all of them predicted, so that they are compared on the same
    runs at the same distances."""
    if not errors:
        return [], np.zeros(0, dtype=bool)
    n = len(next(iter(errors.values())))
    scored = [k for k, e in errors.items() if n and np.mean(np.isfinite(e)) >= _SCORED_SHARE]
    rows = np.ones(n, dtype=bool)
    for k in scored:
        rows &= np.isfinite(errors[k])
    if not rows.any():
        return [], rows
    return scored, rows


def shrinkage(n_checks: int, n0: float) -> float:
    """λ = n / (n + n0): the share of the backtest's weights against the default's."""
    return float(n_checks) / (float(n_checks) + float(n0)) if n_checks > 0 else 0.0


def weights_at(
    d: np.ndarray,
    labels: Sequence[str],
    growth: Mapping[str, ErrorGrowth],
    prior: Sequence[float],
    lam: float,
    trim: float = math.inf,
) -> np.ndarray:
    """The weights (len(d), K) at distances ``d``: λ·(1/MSE_k(d), normalised over the
    candidates in ``growth`` whose MSE_k(d) is at most ``trim`` times the smallest) +
    (1 − λ)·``prior``.  Without any scored candidate, the prior."""
    dd = np.atleast_1d(np.asarray(d, dtype=float))
    w0 = np.asarray(prior, dtype=float)
    w0 = w0 / w0.sum()
    out = np.repeat(w0[None, :], dd.size, axis=0)
    scored = [i for i, k in enumerate(labels) if k in growth]
    if not scored or lam <= 0:
        return out
    mse = np.full((dd.size, len(labels)), np.inf)
    for i in scored:
        mse[:, i] = np.maximum(growth[labels[i]].mse(dd), _MSE_FLOOR)
    keep = mse <= trim * mse.min(axis=1, keepdims=True)
    inv = np.where(keep, 1.0 / mse, 0.0)
    backtest = inv / inv.sum(axis=1, keepdims=True)
    return lam * backtest + (1.0 - lam) * out


def combined_errors(
    errors: Mapping[str, np.ndarray], weights: np.ndarray, labels: Sequence[str]
) -> np.ndarray:
    """Σ_k w_k·e_k per row (log L − log L̂ of the weighted prediction), the weights
    renormalised over the candidates that predicted that row; NaN where none did."""
    E = np.column_stack([errors.get(k, np.full(len(weights), np.nan)) for k in labels])
    W = np.where(np.isfinite(E), weights, 0.0)
    total = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.nansum(W * np.nan_to_num(E), axis=1) / total
    return np.where(total > 0, out, np.nan)


@dataclass(frozen=True)
class IntervalModel:
    """The error added to the bootstrap spread at d spans beyond the data, variance
    s² + b·d² with s the runs' scatter about the law and b = λ·b_c + (1 − λ)·b0; ``a`` (the
    nested errors' intercept) is reported, not added (module docstring, item 3)."""

    a: float
    b: float
    b_backtest: float
    b_prior: float
    scatter: float
    lam: float
    n: int

    def sd(self, d: float | np.ndarray) -> np.ndarray:
        """The standard deviation of the log error added at d spans beyond the data."""
        dd = np.maximum(np.asarray(d, dtype=float), 0.0)
        return np.sqrt(self.scatter**2 + self.b * dd**2)


def interval_model(
    combined: np.ndarray,
    distance: np.ndarray,
    scatter: float,
    lam: float,
    b_prior: float,
) -> IntervalModel:
    """Fit :class:`IntervalModel` to the combination's nested errors (``combined``, at
    ``distance``); with fewer than two errors, a = s² and b = b0."""
    g = fit_growth(combined, distance)
    if g is None:
        return IntervalModel(scatter**2, b_prior, math.nan, b_prior, scatter, 0.0, 0)
    b = lam * g.b + (1.0 - lam) * b_prior
    return IntervalModel(g.a, b, g.b, b_prior, scatter, lam, g.n)


__all__ = [
    "ErrorGrowth",
    "IntervalModel",
    "combined_errors",
    "common_rows",
    "fit_growth",
    "interval_model",
    "shrinkage",
    "weights_at",
]
