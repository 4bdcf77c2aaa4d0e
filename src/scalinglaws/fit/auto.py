"""Extrapolation you can trust: candidate laws weighted by a nested backtest, with calibrated
prediction intervals.

The point of a scaling law is a prediction at a budget nobody has trained yet, and that is
where a single fitted form is weakest: on Porian et al. 2024's IsoFLOP data the standard
Approach 3 fit misses the top-compute runs by 8-25% in half of the set-ups (E collapses to 0,
or saturates at the lowest loss).  :class:`AutoFit` does not trust one form:

1. **Candidates** (:mod:`scalinglaws.fit.candidates`): the Chinchilla form unconstrained (the
   standard recipe) and constrained (α, β ≥ 0, 0.5·L_min ≤ E ≤ 0.9·L_min), Kaplan's L(N, D),
   the Approach 2 IsoFLOP frontier and L(C) = E + A·C^−α on the compute frontier (the last
   two predict an off-optimum run through the constrained fit's valley).
2. **Nested, time-ordered backtest** inside the training data: every candidate is fitted on
   the runs whose C is at or below the ``inner_quantile`` (0.75) quantile of the runs' C and
   predicts the runs above it -- the same protocol a user applies to the whole procedure, so
   the runs a user holds out are never used to choose.
3. **Weights** inversely proportional to each candidate's out-of-sample mean squared log
   error (Bates & Granger 1969, "The combination of forecasts"); the prediction is the
   weighted geometric mean of the candidates refitted on all the runs
   (:class:`~scalinglaws.fit.candidates.EnsembleLaw`).
4. **Prediction intervals** combine parameter uncertainty -- bootstrap replicates resampling
   whole runs, every candidate refitted to the same replicate -- with the out-of-sample error
   of the combination measured by the nested backtest.  Those log errors grow with a run's
   distance from the compute-optimal size, u = |ln(N/N*(C))|, so they are standardised by a
   fitted spread σ(u) = a + b·u² (:meth:`AutoFitResult.error_model`) and mirrored to be
   symmetric; the predictive draws are log L̂_r + s·σ(u)·z_j over replicates r and
   standardised errors j, and the interval is their equal-tailed percentiles.  The nested
   backtest extrapolated over ``reach`` e-folds of C (from its cut to the largest budget); for
   a request d e-folds beyond the data, s = max(1, d / reach), the extrapolation part of the
   error (what exceeds the runs' in-sample scatter) is scaled by s: an error in an exponent
   gives a log error linear in log C, so extrapolation error is taken to grow linearly
   beyond the distance at which it was measured (:meth:`AutoFitResult.distance_scale`).
5. **Diagnostics in plain words** when the data cannot support an extrapolation: too few
   budgets above the smallest, a compute frontier without curvature, candidates disagreeing
   beyond their intervals, the standard fit's failure modes, and the distance of a request
   beyond the data in units of what the backtest checked.

:func:`auto_backtest` runs the whole procedure, choice included, on a user's data split at a
compute cut, and compares it with the standard recipe on the same held-out runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError, FitError, QuantityError, UnknownNameError
from scalinglaws.fit.backtest import BacktestResult
from scalinglaws.fit.bootstrap import bootstrap_weights
from scalinglaws.fit.candidates import (
    CANDIDATE_KEYS,
    DEFAULT_CANDIDATES,
    SHAPE_KEY,
    Candidate,
    EnsembleLaw,
    FitData,
    make_candidates,
    optimal_sizes,
    optimum,
)
from scalinglaws.fit.result import Diagnostic, Fit, _fmt
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw

WEIGHTINGS: tuple[str, ...] = ("inverse-mse", "best", "equal")
INTERVAL_METHOD = (
    "bootstrap replicates (whole runs resampled, every candidate refitted) combined with the "
    "nested backtest's out-of-sample log errors of the weighted prediction (mirrored, "
    "standardised by their spread a + b*u^2 in the distance u = |ln(N/N*)| from the optimum), "
    "its extrapolation part (beyond the in-sample scatter) scaled by max(1, d/reach) for a "
    "request d e-folds of C beyond the data; equal-tailed percentiles"
)
_MSE_FLOOR = 1e-10  # (log error)^2 floor: a perfect backtest does not get infinite weight
_DISAGREE_MIN_WEIGHT = 0.1  # candidates lighter than this are not checked for disagreement
_CURVATURE_T = 2.0  # t-statistic of the frontier's log-log curvature below which it is "flat"
_THIN_RUNS = 8  # a nested backtest scoring fewer held-out runs than this is called thin


# ============================================================================ records
@dataclass
class CandidateScore:
    """How one candidate did in the nested backtest.

    ``rmse`` is the root mean squared log error (≈ relative error) on the held-out runs of the
    nested backtest, ``mare`` their mean |L̂ − L|/L, ``bias`` the mean log error
    (log L − log L̂: positive when the candidate predicts too low), ``weight`` its weight.
    """

    key: str
    title: str
    status: str  # "ok", "not scored", "failed in the backtest", "failed", "not weighted"
    reason: str = ""
    n_test: int = 0
    rmse: float = math.nan
    mare: float = math.nan
    bias: float = math.nan
    weight: float = 0.0


@dataclass
class Prediction:
    """Point predictions with prediction intervals at ``level`` (arrays, or floats for scalar
    input): ``L`` the loss, ``low``/``high`` the interval, ``scale`` the factor the
    out-of-sample errors were scaled by for the distance beyond the data."""

    L: Any
    low: Any
    high: Any
    level: float
    scale: Any


# ============================================================================ the estimator
class AutoFit:
    """Fit several candidate laws, weight them by a nested backtest, predict with calibrated
    intervals (see the module docstring).

    Parameters
    ----------
    candidates: names of the candidate models (:data:`~scalinglaws.fit.candidates.CANDIDATE_KEYS`;
        a list or a comma-separated string).  Default: all five.
    inner_quantile: the nested backtest fits on the runs with C at or below this quantile of
        the runs' C and scores the predictions of the runs above it.
    weighting: ``"inverse-mse"`` (Bates & Granger 1969: w_k ∝ 1/MSE_k of the log errors),
        ``"best"`` (all weight on the lowest MSE) or ``"equal"``.
    e_bounds: the constrained Chinchilla candidate's bounds on E, as fractions of the lowest
        observed loss.
    bin_tolerance: runs within a factor (1 + tolerance) of a budget's centre share an IsoFLOP
        budget (Approach 2 candidate and the budget count of the diagnostics).
    delta: Huber threshold on log L of every fit (1e-3, Hoffmann et al. 2022).
    n_bootstrap: bootstrap replicates for the intervals (0: intervals from the backtest errors
        alone); seed: their seed; level: interval level.
    budgets: FLOP budgets at which N*, D* and L* are reported with intervals (and the
        candidates' agreement is checked).
    """

    def __init__(
        self,
        candidates: Sequence[str] | str = DEFAULT_CANDIDATES,
        inner_quantile: float = 0.75,
        weighting: str = "inverse-mse",
        e_bounds: tuple[float, float] = (0.5, 0.9),
        bin_tolerance: float = 0.2,
        delta: float = 1e-3,
        n_bootstrap: int = 100,
        seed: int = 0,
        level: float = 0.95,
        budgets: Sequence[float] | str | None = (),
    ) -> None:
        from scalinglaws.fit.powerlaw import _check_delta, check_common

        self.delta = _check_delta(delta)
        try:
            lo, hi = (float(x) for x in e_bounds)
        except (TypeError, ValueError):
            lo = hi = math.nan
        if not 0 < lo < hi <= 1:
            raise QuantityError(
                "e_bounds must be two fractions of the lowest loss with 0 < low < high <= 1 "
                f"(e.g. (0.5, 0.9)), got {e_bounds!r}"
            )
        try:
            tol = float(bin_tolerance)
        except (TypeError, ValueError):
            tol = math.nan
        if not 0 <= tol < 1:
            raise QuantityError(
                f"bin_tolerance must be a number >= 0 and below 1 (e.g. 0.2), got {bin_tolerance!r}"
            )
        e_bounds, bin_tolerance = (lo, hi), tol
        self.candidates = make_candidates(candidates, self.delta, e_bounds, bin_tolerance)
        self.keys = tuple(self.candidates)
        self._shape = (
            self.candidates[SHAPE_KEY]
            if SHAPE_KEY in self.candidates
            else make_candidates([SHAPE_KEY], self.delta, e_bounds, bin_tolerance)[SHAPE_KEY]
        )
        try:
            q = float(inner_quantile)
        except (TypeError, ValueError):
            q = math.nan
        if not 0.2 <= q <= 0.95:
            raise QuantityError(
                f"inner_quantile must be a number between 0.2 and 0.95 (e.g. 0.75), got "
                f"{inner_quantile!r}"
            )
        self.inner_quantile = q
        if weighting not in WEIGHTINGS:
            from scalinglaws.errors import did_you_mean

            raise UnknownNameError(
                f"unknown weighting '{weighting}'" + did_you_mean(str(weighting), WEIGHTINGS)
            )
        self.weighting = weighting
        self.e_bounds = e_bounds
        self.bin_tolerance = bin_tolerance
        self.n_bootstrap, self.seed, self.level, self.budgets = check_common(
            n_bootstrap, seed, level, budgets
        )

    def __repr__(self) -> str:
        return (
            f"AutoFit(candidates={list(self.keys)}, inner_quantile={self.inner_quantile:g}, "
            f"weighting={self.weighting!r}, n_bootstrap={self.n_bootstrap}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ fit
    def fit(self, runs: Any) -> AutoFitResult:
        """Fit every candidate, weight them by the nested backtest and return an
        :class:`AutoFitResult` (a :class:`~scalinglaws.fit.result.Fit` whose law is the
        weighted :class:`~scalinglaws.fit.candidates.EnsembleLaw`)."""
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        data = FitData.from_runs(runs)
        if len(data) < 8:
            raise FitError(
                f"the automatic fit needs at least 8 runs (to fit 5-parameter laws and still "
                f"hold some out), {runs.source} has {len(data)}"
            )
        diagnostics: list[Diagnostic] = []
        if runs.has_curves:
            diagnostics.append(
                Diagnostic(
                    "FINAL_CHECKPOINTS",
                    "info",
                    f"every candidate is fitted to each run's final checkpoint ({len(data)} of "
                    f"{len(runs)} rows); intermediate checkpoints are not at their run's budget",
                )
            )

        # 1. the nested backtest: fit on the runs up to the inner cut, score the rest
        scores, inner_errors, inner_info = self._nested(data)
        weights = self._weights(scores)

        # 2. every candidate on all the runs
        members, failures = self._fit_members(data, self.keys)
        for key, reason in failures.items():
            sc = scores[key]
            sc.status, sc.reason, sc.weight = "failed", reason, 0.0
            weights.pop(key, None)
        if not weights:
            if not members:
                raise FitError(
                    f"no candidate model could be fitted to {runs.source}: "
                    + "; ".join(f"{k}: {r}" for k, r in failures.items())
                )
            weights = {k: 1.0 for k in members}  # no backtest: equal weights
        total = sum(weights.values())
        weights = {k: w / total for k, w in weights.items() if w > 0}
        for key, sc in scores.items():
            sc.weight = weights.get(key, 0.0)
            if sc.status == "ok" and key not in weights:
                sc.status = "not weighted"
        used = [k for k in self.keys if k in weights]
        law = EnsembleLaw(
            members=tuple(members[k] for k in used),
            weights=tuple(weights[k] for k in used),
            labels=tuple(used),
        )
        # the combination's own out-of-sample errors in the nested backtest, and how far each
        # of those runs is from the compute-optimal size at its budget, u = |ln(N/N*(C))|
        errors = _combined_errors(inner_errors, weights) if inner_errors else np.array([])
        if len(errors):
            n_star = optimal_sizes(law, np.asarray(inner_info["C"]), data.k)
            inner_info["u"] = np.abs(np.log(np.asarray(inner_info["N"]) / n_star)).tolist()

        # 3. bootstrap: every candidate refitted to the same resampled runs
        replicates, n_failed = self._bootstrap(data, members, used)

        with np.errstate(all="ignore"):
            residuals = np.log(data.L) - np.log(np.asarray(law(N=data.N, D=data.D), float))
        auto = {
            "keys": list(self.keys),
            "titles": {
                k: self.candidates[k].title if k in self.candidates else k for k in self.keys
            },
            "weights": {k: float(weights.get(k, 0.0)) for k in self.keys},
            "scores": {k: _score_dict(s) for k, s in scores.items()},
            "inner": {**inner_info, "errors": errors.tolist()},
            "C_range": [float(data.C.min()), float(data.C.max())],
            "N_range": [float(data.N.min()), float(data.N.max())],
            "D_range": [float(data.D.min()), float(data.D.max())],
            "L_min": float(data.L.min()),
            "k": data.k,
            "replicates": {
                k: [None if r is None else r.params for r in replicates.get(k, [])] for k in used
            },
            "in_sample_residuals": residuals.tolist(),
            "interval_method": INTERVAL_METHOD,
        }
        fit = AutoFitResult(
            law=law,
            params=dict(law.params),
            approach="auto",
            level=self.level,
            method=self._method_words(scores, inner_info, len(errors)),
            data=runs.describe(),
            converged=True,
            message="",
        )
        fit.extra["auto"] = auto
        model = fit.error_model()
        auto["error_model"] = {k: v for k, v in model.items() if k != "z"}
        if model["source"] == "nested backtest":
            fit.method["out-of-sample error"] = (
                f"spread {100 * model['a']:.2f}% + {100 * model['b']:.3f}% x u^2 (u = "
                f"|ln(N/N*)|, at least {100 * model['floor']:.2f}%) from {len(errors)} runs of "
                "the nested backtest"
            )
        fit.extra["residuals"] = residuals.tolist()
        fit.extra["candidates"] = {k: m.to_dict() for k, m in members.items()}
        if self.n_bootstrap:
            fit.method["bootstrap"] = f"{self.n_bootstrap} replicates (whole runs resampled)" + (
                f", {n_failed} failed" if n_failed else ""
            )
        fit.method["intervals"] = INTERVAL_METHOD

        # 4. budgets: N*, D*, L* with intervals
        for c in self.budgets:
            opt = fit.optimum(c)
            for name in ("N_opt", "D_opt", "L_opt"):
                key = f"{name}@{c:.3g}"
                fit.derived[key] = float(opt[name])
                if np.isfinite(opt[name + "_low"]):
                    fit.intervals[key] = (float(opt[name + "_low"]), float(opt[name + "_high"]))

        # 5. diagnostics
        diagnostics += _why(scores, inner_info, self.weighting)
        diagnostics += _failure_diagnostics(scores)
        diagnostics += _standard_diagnostics(members, data)
        diagnostics += _budget_diagnostics(data, inner_info, self.bin_tolerance)
        diagnostics += _curvature_diagnostics(data)
        if n_failed:
            diagnostics.append(
                Diagnostic(
                    "BOOTSTRAP_FAILURES",
                    "warning" if n_failed > 0.05 * self.n_bootstrap else "info",
                    f"{n_failed} of {self.n_bootstrap} bootstrap replicates could not refit "
                    "every weighted candidate and were left out of the intervals",
                    {"failed": n_failed, "replicates": self.n_bootstrap},
                )
            )
        if not len(errors):
            diagnostics.append(
                Diagnostic(
                    "NO_BACKTEST",
                    "warning",
                    "the nested backtest could not score any candidate (too few runs or "
                    "budgets above its cut), so the candidates are weighted equally and the "
                    "intervals use in-sample residuals: they are calibrated for interpolation, "
                    "not for extrapolation",
                    inner_info,
                )
            )
        probes = list(self.budgets) or [10.0 * float(data.C.max())]
        diagnostics += fit.request_diagnostics(probes, probe=not self.budgets)
        fit.diagnostics = diagnostics
        return fit

    # ------------------------------------------------------------------ steps
    def _fit_members(
        self, data: FitData, keys: Sequence[str]
    ) -> tuple[dict[str, Law], dict[str, str]]:
        """Point fits of ``keys`` on ``data``; the shape law first (frontier candidates use
        it).  Returns (laws, failure reasons)."""
        laws: dict[str, Law] = {}
        failures: dict[str, str] = {}
        shape: ChinchillaLaw | None = None
        try:
            fitted = self._shape.fit(data)
            assert isinstance(fitted, ChinchillaLaw)
            shape = fitted
        except FitError as exc:
            shape_reason = str(exc)
        for key in keys:
            cand = self.candidates[key]
            if key == SHAPE_KEY:
                if shape is None:
                    failures[key] = shape_reason
                else:
                    laws[key] = shape
                continue
            if cand.needs_shape and shape is None:
                failures[key] = (
                    f"its valley comes from the constrained fit, which failed: {shape_reason}"
                )
                continue
            try:
                laws[key] = cand.fit(data, shape)
            except (FitError, ArithmeticError, ValueError) as exc:
                failures[key] = str(exc)
        return laws, failures

    def _nested(
        self, data: FitData
    ) -> tuple[dict[str, CandidateScore], dict[str, np.ndarray], dict[str, Any]]:
        """The nested backtest: candidates fitted on the runs with C ≤ the inner cut predict
        the runs above it.  Returns scores, per-candidate log errors, and what was done."""
        scores = {k: CandidateScore(k, self.candidates[k].title, "ok") for k in self.keys}
        cut = float(np.quantile(data.C, self.inner_quantile))
        if not np.any(data.C > cut * (1 + 1e-12)):  # few budgets: hold out at least the top one
            below = data.C[data.C < float(data.C.max()) * (1 - 1e-12)]
            cut = float(below.max()) if below.size else cut
        train = data.C <= cut * (1 + 1e-12)
        info: dict[str, Any] = {
            "quantile": self.inner_quantile,
            "cut": cut,
            "n_train": int(train.sum()),
            "n_test": int((~train).sum()),
            "C_test_max": float(data.C.max()),
            "reach": math.log(float(data.C.max()) / cut) if cut > 0 else math.nan,
            "n_test_budgets": _n_budgets(data.C[~train], self.bin_tolerance),
        }
        errors: dict[str, np.ndarray] = {}
        if info["n_test"] == 0 or info["n_train"] < 6:
            reason = (
                "no run lies above the nested backtest's cut"
                if info["n_test"] == 0
                else f"only {info['n_train']} runs lie at or below the nested backtest's cut"
            )
            for sc in scores.values():
                sc.status, sc.reason = "not scored", reason
            info["reach"] = math.nan
            return scores, errors, info
        inner, test = data.subset(train), data.subset(~train)
        info.update(N=test.N.tolist(), D=test.D.tolist(), C=test.C.tolist())
        laws, failures = self._fit_members(inner, self.keys)
        for key in self.keys:
            sc = scores[key]
            if key in failures:
                sc.status, sc.reason = "failed in the backtest", failures[key]
                continue
            try:
                with np.errstate(all="ignore"):
                    pred = np.asarray(laws[key](N=test.N, D=test.D), dtype=float)
            except (ArithmeticError, ValueError) as exc:
                sc.status, sc.reason = "failed in the backtest", str(exc)
                continue
            e = np.log(test.L) - np.log(pred)
            if not np.all(np.isfinite(e)):
                sc.status, sc.reason = "failed in the backtest", "non-finite predictions"
                continue
            errors[key] = e
            sc.n_test = int(e.size)
            sc.rmse = float(np.sqrt(np.mean(e**2)))
            sc.mare = float(np.mean(np.abs(pred - test.L) / test.L))
            sc.bias = float(np.mean(e))
        return scores, errors, info

    def _weights(self, scores: dict[str, CandidateScore]) -> dict[str, float]:
        ok = {k: s for k, s in scores.items() if s.status == "ok"}
        if not ok:
            return {}
        mse = {k: max(s.rmse**2, _MSE_FLOOR) for k, s in ok.items()}
        if self.weighting == "best":
            best = min(mse, key=lambda k: (mse[k], self.keys.index(k)))
            return {best: 1.0}
        if self.weighting == "equal":
            return {k: 1.0 for k in ok}
        return {k: 1.0 / v for k, v in mse.items()}

    def _bootstrap(
        self, data: FitData, members: dict[str, Law], used: list[str]
    ) -> tuple[dict[str, list[Law | None]], int]:
        """Refit every weighted candidate to the same ``n_bootstrap`` resamplings of whole
        runs (seeded); returns the replicate laws per candidate and how many replicates
        failed for at least one of them."""
        if not self.n_bootstrap:
            return {}, 0
        W = bootstrap_weights(data.run_id, len(data), self.n_bootstrap, self.seed)
        out: dict[str, list[Law | None]] = {}
        shape_point = members.get(SHAPE_KEY)
        shapes: list[ChinchillaLaw | None] = []
        need_shape = any(self.candidates[k].needs_shape for k in used)
        if need_shape or SHAPE_KEY in used:
            if shape_point is None:
                shape_point = self._shape.fit(data)
            shapes = self._shape.refit(data, W, shape_point)  # type: ignore[assignment]
            if SHAPE_KEY in used:
                out[SHAPE_KEY] = list(shapes)
        for key in used:
            if key == SHAPE_KEY:
                continue
            cand: Candidate = self.candidates[key]
            out[key] = cand.refit(data, W, members[key], shapes)
        ok = np.ones(self.n_bootstrap, dtype=bool)
        for reps in out.values():
            ok &= np.array([r is not None for r in reps])
        for key in out:  # a replicate counts only when every weighted candidate refitted
            out[key] = [r if ok[i] else None for i, r in enumerate(out[key])]
        return out, int((~ok).sum())

    def _method_words(
        self, scores: dict[str, CandidateScore], info: dict[str, Any], n_errors: int
    ) -> dict[str, Any]:
        words = {
            "candidates": ", ".join(f"{k} ({self.candidates[k].title})" for k in self.keys),
            "nested backtest": (
                f"fitted on the {info['n_train']} runs with C <= {info['cut']:.3g} FLOPs (the "
                f"{100 * self.inner_quantile:g}th percentile of the runs' C), scored on the "
                f"{info['n_test']} runs above (up to {info['C_test_max']:.3g}, "
                f"{math.exp(info['reach']) if math.isfinite(info['reach']) else float('nan'):.3g}"
                "x beyond the cut)"
            ),
            "weighting": {
                "inverse-mse": "w_k proportional to 1 / (mean squared log error in the nested "
                "backtest) (Bates & Granger 1969)",
                "best": "all weight on the lowest mean squared log error in the nested backtest",
                "equal": "equal weights",
            }[self.weighting],
            "prediction": "weighted geometric mean of the candidates refitted on all runs",
        }
        for key, sc in scores.items():
            if sc.status in ("ok", "not weighted"):
                words[f"candidate {key}"] = (
                    f"weight {sc.weight:.3f}; nested-backtest RMS log error "
                    f"{100 * sc.rmse:.2f}%, mean |rel. error| {100 * sc.mare:.2f}%, bias "
                    f"{100 * sc.bias:+.2f}% over {sc.n_test} runs"
                )
            else:
                words[f"candidate {key}"] = (
                    f"weight {sc.weight:.3f}; " if sc.weight > 0 else ""
                ) + f"{sc.status}: {sc.reason}"
        return words


# ============================================================================ the result
@dataclass
class AutoFitResult(Fit):
    """The :class:`~scalinglaws.fit.result.Fit` of :class:`AutoFit`, with prediction
    intervals for any request (:meth:`predict_interval`, :meth:`optimum`) and the candidates'
    scores (:meth:`candidates_table`).  A fit loaded with ``Fit.from_json`` is turned back
    into one by :meth:`from_fit`."""

    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_fit(cls, fit: Fit) -> AutoFitResult:
        """Wrap a :class:`Fit` written by :class:`AutoFit` (e.g. read back from JSON)."""
        if fit.approach != "auto":
            raise DataError(
                f"this fit is from approach {fit.approach!r}, not from the automatic fit "
                "(approach 'auto')"
            )
        if not isinstance(fit.extra.get("auto"), dict):
            raise DataError(
                "this fit says approach 'auto' but lacks the candidates' record (extra['auto']) "
                "that AutoFit writes; fit again with 'scalinglaws fit RUNS --approach auto'"
            )
        kwargs = {f: getattr(fit, f) for f in Fit.__dataclass_fields__}
        return cls(**kwargs)

    # ------------------------------------------------------------------ internals
    @property
    def _auto(self) -> dict[str, Any]:
        return self.extra["auto"]

    def _replicate_laws(self) -> list[EnsembleLaw]:
        """The ensemble law of every bootstrap replicate in which every weighted candidate
        refitted."""
        if "replicates" in self._cache:
            return self._cache["replicates"]
        law = self.law
        assert isinstance(law, EnsembleLaw)
        reps = self._auto.get("replicates") or {}
        out: list[EnsembleLaw] = []
        if reps and all(lab in reps for lab in law.labels):
            n = min(len(reps[lab]) for lab in law.labels)
            for i in range(n):
                rows = [reps[lab][i] for lab in law.labels]
                if any(r is None for r in rows):
                    continue
                try:
                    members = tuple(
                        type(m)(**{**_fields(m), **{k: float(v) for k, v in r.items()}})
                        for m, r in zip(law.members, rows, strict=True)
                    )
                except (ValueError, ArithmeticError, TypeError):
                    continue
                out.append(EnsembleLaw(members, law.weights, law.labels))
        self._cache["replicates"] = out
        return out

    def error_model(self) -> dict[str, Any]:
        """The out-of-sample error model behind the intervals.

        The nested backtest's log errors e_j of the weighted prediction grow with the run's
        distance from the compute-optimal size at its budget, u = |ln(N/N*(C))| (the valley's
        shape is what extrapolates worst).  Their spread is modelled as
        σ(u) = max(a + b·u², σ_min), (a, b) ≥ 0 by non-negative least squares of |e_j| on
        (1, u_j²), σ_min a quarter of the median |e_j|; the errors are standardised,
        z_j = e_j/σ(u_j), mirrored (±z_j), and a request at distance u draws f·σ(u)·z_j
        (f = :meth:`distance_scale`)
        (locally weighted residuals in the manner of Lei et al. 2018, "Distribution-free
        predictive inference for regression", §5.2).  Without a nested backtest the
        in-sample residuals stand in, with σ = 1.  Returns ``z`` (mirrored), ``a``, ``b``,
        ``floor``, ``rho`` (see :meth:`distance_scale`) and ``source``.
        """
        if "error_model" in self._cache:
            return self._cache["error_model"]
        inner = self._auto["inner"]
        e = np.asarray(inner.get("errors") or [], dtype=float)
        u = np.asarray(inner.get("u") or [], dtype=float)
        if e.size and u.size == e.size and np.all(np.isfinite(e)):
            from scipy.optimize import nnls

            if e.size >= 4:
                (a, b), _ = nnls(np.column_stack([np.ones_like(u), u**2]), np.abs(e))
            else:
                a, b = float(np.mean(np.abs(e))), 0.0
            floor = max(0.25 * float(np.median(np.abs(e))), 1e-6)
            z = e / np.maximum(a + b * u**2, floor)
            r = np.asarray(self._auto.get("in_sample_residuals") or [], dtype=float)
            r = r[np.isfinite(r)]
            rho = min(1.0, float(np.mean(r**2) / np.mean(e**2))) if r.size else 0.0
            model = {
                "z": np.concatenate([z, -z]),
                "a": float(a),
                "b": float(b),
                "floor": floor,
                "rho": rho,
                "source": "nested backtest",
            }
        else:
            r = np.asarray(self._auto.get("in_sample_residuals") or [], dtype=float)
            r = r[np.isfinite(r)]
            r = r if r.size else np.zeros(1)
            model = {
                "z": np.concatenate([r, -r]),
                "a": 1.0,
                "b": 0.0,
                "floor": 1.0,
                "rho": 0.0,
                "source": "in-sample residuals",
            }
        self._cache["error_model"] = model
        return model

    def _sigma(self, u: np.ndarray) -> np.ndarray:
        m = self.error_model()
        return np.maximum(m["a"] + m["b"] * np.asarray(u, dtype=float) ** 2, m["floor"])

    def distance_scale(self, C: Any) -> np.ndarray:
        """The factor f the backtest's out-of-sample errors are scaled by at budget C.

        s = max(1, ln(C / C_max) / reach) is the distance beyond the data (C_max its largest
        budget) in units of the e-folds of C over which the nested backtest extrapolated.
        Only the part of the out-of-sample error that is extrapolation error grows with s: a
        share ρ = min(1, RMS(in-sample residuals)² / RMS(backtest errors)²) of its variance is
        the runs' scatter about the law, already present in-sample, which does not.  Hence
        f = sqrt(ρ + (1 − ρ)·s²): an error in an exponent gives a log error linear in log C,
        the scatter of single runs stays what it is.
        """
        c = np.asarray(C, dtype=float)
        c_max = self._auto["C_range"][1]
        reach = self._auto["inner"].get("reach", math.nan)
        d = np.log(c / c_max)
        if not (isinstance(reach, (int, float)) and math.isfinite(reach) and reach > 0):
            reach = math.log(2.0)
        s = np.maximum(1.0, d / reach)
        rho = self.error_model()["rho"]
        return np.sqrt(rho + (1.0 - rho) * s**2)

    def _interval(
        self, log_point: np.ndarray, log_reps: np.ndarray, scale: np.ndarray, level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Percentiles of log L̂_r + scale_j·z over replicates r and standardised errors z;
        ``scale`` already holds s(C)·σ(u) per request."""
        z = self.error_model()["z"]
        tail = 100 * (1 - level) / 2
        centres = log_reps if log_reps.size else log_point[None, :]
        low = np.empty(log_point.shape)
        high = np.empty(log_point.shape)
        for j in range(log_point.size):
            c = centres[:, j]
            c = c[np.isfinite(c)]
            if c.size == 0:
                low[j] = high[j] = math.nan
                continue
            draws = (c[:, None] + scale[j] * z[None, :]).ravel()
            low[j], high[j] = np.percentile(draws, [tail, 100 - tail])
        return low, high

    # ------------------------------------------------------------------ public
    def predict_interval(self, N: Any, D: Any, level: float | None = None) -> Prediction:
        """The loss at (N, D) with a prediction interval at ``level`` (default: the fit's).

        L̂ is the weighted geometric mean of the candidates; the interval is the percentile
        interval of log L̂_r + f(C)·σ(u)·z_j over bootstrap replicates r and the nested
        backtest's standardised, mirrored out-of-sample log errors z_j, with σ(u) the errors'
        spread at the run's distance u = |ln(N/N*(C))| from the optimum (:meth:`error_model`)
        and f(C) the growth with distance beyond the data (:meth:`distance_scale`,
        C = k·N·D).
        """
        level = self.level if level is None else _check_level(level)
        n = np.asarray(N, dtype=float)
        d = np.asarray(D, dtype=float)
        n, d = np.broadcast_arrays(n, d)
        shape = n.shape
        n, d = n.ravel(), d.ravel()
        point = np.log(np.asarray(self.law(N=n, D=d), dtype=float)).reshape(-1)
        reps = self._replicate_laws()
        with np.errstate(all="ignore"):
            log_reps = (
                np.array([np.log(np.asarray(r(N=n, D=d), float)).reshape(-1) for r in reps])
                if reps
                else np.empty((0, n.size))
            )
        c = self._auto["k"] * n * d
        scale = self.distance_scale(c)
        u = np.abs(np.log(n / optimal_sizes(self.law, c, self._auto["k"])))
        low, high = self._interval(point, log_reps, scale * self._sigma(u), level)

        def out(x: np.ndarray) -> Any:
            x = x.reshape(shape)
            return float(x) if x.ndim == 0 else x

        return Prediction(
            out(np.exp(point)), out(np.exp(low)), out(np.exp(high)), level, out(scale)
        )

    def optimum(self, C: float, level: float | None = None) -> dict[str, float]:
        """The compute-optimal N*, D*, L* of the weighted law at budget ``C`` (FLOPs), each
        with an interval at ``level``.

        L*: replicate optima L*_r combined with the scaled out-of-sample errors, as
        :meth:`predict_interval`.  N* and D*: no backtest measures their out-of-sample error,
        so their interval is the percentile interval of the candidates' replicate optima,
        pooled with each candidate's weight -- parameter and model uncertainty together.
        """
        from scalinglaws.units import parse_quantity

        c = parse_quantity(C, what="budget C")
        level = self.level if level is None else _check_level(level)
        k = float(self._auto["k"])
        law = self.law
        assert isinstance(law, EnsembleLaw)
        n, d, L = optimum(law, c, k)
        reps = self._replicate_laws()
        l_reps = []
        for r in reps:
            try:
                l_reps.append(math.log(optimum(r, c, k)[2]))
            except (FitError, ArithmeticError, ValueError):
                continue
        scale = self.distance_scale(np.array([c]))
        low, high = self._interval(
            np.array([math.log(L)]),
            np.array(l_reps)[:, None] if l_reps else np.empty((0, 1)),
            scale * self._sigma(np.zeros(1)),
            level,
        )
        pooled_n, pooled_w = [], []
        for j, (m, w) in enumerate(zip(law.members, law.weights, strict=True)):
            values = []
            for r in reps:
                try:
                    values.append(optimum(r.members[j], c, k)[0])
                except (FitError, ArithmeticError, ValueError):
                    continue
            if not values:
                try:
                    values = [optimum(m, c, k)[0]]
                except (FitError, ArithmeticError, ValueError):
                    continue
            pooled_n += values
            pooled_w += [w / len(values)] * len(values)
        n_low, n_high = _weighted_interval(np.array(pooled_n), np.array(pooled_w), level)
        return {
            "C": c,
            "N_opt": n,
            "D_opt": d,
            "L_opt": L,
            "N_opt_low": n_low,
            "N_opt_high": n_high,
            "D_opt_low": c / (k * n_high) if math.isfinite(n_high) else math.nan,
            "D_opt_high": c / (k * n_low) if math.isfinite(n_low) else math.nan,
            "L_opt_low": float(np.exp(low[0])),
            "L_opt_high": float(np.exp(high[0])),
            "scale": float(scale[0]),
            "level": level,
        }

    def member_optima(self, C: float, level: float | None = None) -> pd.DataFrame:
        """Each weighted candidate's N*, L* at budget C with its own bootstrap interval
        (parameter uncertainty only) -- the data behind ``CANDIDATES_DISAGREE``."""
        level = self.level if level is None else _check_level(level)
        k = float(self._auto["k"])
        law = self.law
        assert isinstance(law, EnsembleLaw)
        reps = self._replicate_laws()
        rows = []
        tail = 100 * (1 - level) / 2
        for j, (lab, m, w) in enumerate(zip(law.labels, law.members, law.weights, strict=True)):
            try:
                n, _, L = optimum(m, float(C), k)
            except (FitError, ArithmeticError, ValueError):
                continue
            values = []
            for r in reps:
                try:
                    values.append(optimum(r.members[j], float(C), k)[2])
                except (FitError, ArithmeticError, ValueError):
                    continue
            lo, hi = np.percentile(values, [tail, 100 - tail]) if len(values) >= 2 else (L, L)
            rows.append(
                {
                    "candidate": lab,
                    "weight": w,
                    "N_opt": n,
                    "L_opt": L,
                    "L_low": float(lo),
                    "L_high": float(hi),
                }
            )
        return pd.DataFrame(rows)

    def request_diagnostics(
        self, budgets: Sequence[float], probe: bool = False
    ) -> list[Diagnostic]:
        """``EXTRAPOLATION`` and ``CANDIDATES_DISAGREE`` for requests at ``budgets``: how far
        each lies beyond the data, in multiples of the largest budget and of the distance the
        nested backtest checked, and whether the weighted candidates' optimal losses there
        disagree by more than their intervals.  ``probe=True`` says the budget was not asked
        for (the default check at 10× the largest budget)."""
        out: list[Diagnostic] = []
        c_min, c_max = self._auto["C_range"]
        reach = self._auto["inner"].get("reach", math.nan)
        checked = math.exp(reach) if isinstance(reach, float) and math.isfinite(reach) else None
        for c in budgets:
            c = float(c)
            if not probe and (c > c_max * (1 + 1e-9) or c < c_min * (1 - 1e-9)):
                above = c > c_max
                factor = c / c_max if above else c_min / c
                s = float(self.distance_scale(np.array([c]))[0])
                words = (
                    f"budget {c:.3g} FLOPs is {factor:.3g}x "
                    + ("above the largest" if above else "below the smallest")
                    + f" budget of the data ({c_max if above else c_min:.3g})"
                )
                if above and checked is not None:
                    words += (
                        f"; the nested backtest checked extrapolation over {checked:.3g}x, so "
                        + (
                            f"the out-of-sample error was scaled by {s:.3g} (its extrapolation "
                            "part linearly in log C)"
                            if s > 1
                            else "this request lies within that distance"
                        )
                    )
                out.append(
                    Diagnostic(
                        "EXTRAPOLATION",
                        "warning" if factor > 100 or s > 3 else "info",
                        words,
                        {
                            "budget": c,
                            "factor": float(factor),
                            "range": [c_min, c_max],
                            "backtest_reach": checked,
                            "error_scale": s,
                        },
                    )
                )
            if not self._replicate_laws():
                continue  # without bootstrap intervals there is nothing to disagree beyond
            table = self.member_optima(c)
            heavy = table[table["weight"] >= _DISAGREE_MIN_WEIGHT]
            if len(heavy) >= 2:
                lo_row = heavy.loc[heavy["L_high"].idxmin()]
                hi_row = heavy.loc[heavy["L_low"].idxmax()]
                if hi_row["L_low"] > lo_row["L_high"]:
                    where = (
                        f"at {c:.3g} FLOPs (10x the largest budget; no budget was requested)"
                        if probe
                        else f"at {c:.3g} FLOPs"
                    )
                    out.append(
                        Diagnostic(
                            "CANDIDATES_DISAGREE",
                            "info" if probe else "warning",
                            f"{where} the candidates' compute-optimal losses disagree beyond "
                            f"their {100 * self.level:g}% bootstrap intervals: "
                            f"{hi_row['candidate']} {hi_row['L_opt']:.4g} "
                            f"[{hi_row['L_low']:.4g}, {hi_row['L_high']:.4g}] vs "
                            f"{lo_row['candidate']} {lo_row['L_opt']:.4g} "
                            f"[{lo_row['L_low']:.4g}, {lo_row['L_high']:.4g}]; the data cannot "
                            "tell these forms apart there, and the weighted prediction's "
                            "interval carries that only through the backtest's error",
                            {"C": c, "probe": probe, "candidates": table.to_dict(orient="records")},
                        )
                    )
        return out

    def candidates_table(self) -> pd.DataFrame:
        """One row per candidate: weight, status, nested-backtest errors and its constants."""
        rows = []
        fitted = self.extra.get("candidates", {})
        for key in self._auto["keys"]:
            s = self._auto["scores"][key]
            const = {k: v for k, v in fitted.get(key, {}).items() if k != "law"}
            rows.append(
                {
                    "candidate": key,
                    "title": self._auto["titles"].get(key, key),
                    "weight": self._auto["weights"].get(key, 0.0),
                    "status": s["status"],
                    "backtest_rmse": s["rmse"],
                    "backtest_mare": s["mare"],
                    "backtest_bias": s["bias"],
                    "n_test": s["n_test"],
                    "reason": s["reason"],
                    "constants": const,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """The :class:`Fit` summary followed by the candidates' table."""
        lines = [super().summary(), "", "candidates (nested backtest, weights)"]
        header = f"  {'candidate':<24}{'weight':>8}{'RMS err':>10}{'bias':>9}  constants"
        lines.append(header)
        for r in self.candidates_table().itertuples(index=False):
            const = ", ".join(
                f"{k}={_fmt(v)}" for k, v in r.constants.items() if isinstance(v, (int, float))
            )
            if r.status in ("ok", "not weighted"):
                lines.append(
                    f"  {r.candidate:<24}{r.weight:>8.3f}{100 * r.backtest_rmse:>9.2f}%"
                    f"{100 * r.backtest_bias:>+8.2f}%  {const}"
                )
            else:
                lines.append(
                    f"  {r.candidate:<24}{r.weight:>8.3f}{'-':>10}{'-':>9}  {r.status}: {r.reason}"
                )
        return "\n".join(lines)


# ============================================================================ backtest
@dataclass
class AutoBacktestResult(BacktestResult):
    """:func:`auto_backtest`'s result: a :class:`~scalinglaws.fit.backtest.BacktestResult`
    whose ``fit`` is the automatic fit, with the standard recipe's error on the same held-out
    runs (columns ``L_standard``, ``rel_error_standard``) when it was compared."""

    standard: Fit | None = None

    @property
    def standard_mean_abs_rel_error(self) -> float | None:
        """The standard recipe's mean |L̂ − L|/L on the same held-out runs."""
        if "rel_error_standard" not in self.table.columns:
            return None
        return float(self.table["rel_error_standard"].mean())

    @property
    def ratio(self) -> float | None:
        """auto's mean |relative error| divided by the standard recipe's."""
        std = self.standard_mean_abs_rel_error
        return None if not std else self.mean_abs_rel_error / std

    def summary(self) -> str:
        """The backtest report, the comparison with the standard recipe, then the fit."""
        lines = [super().summary(), ""]
        std = self.standard_mean_abs_rel_error
        if std is not None:
            lines.append(
                f"standard recipe (Approach 3, Chinchilla form, Huber 1e-3, Hoffmann's grid) on "
                f"the same held-out runs: mean |relative error| {100 * std:.2f}%; auto / "
                f"standard = {self.ratio:.2f}"
            )
        fit = self.fit
        if isinstance(fit, AutoFitResult):
            lines += ["", "the automatic fit on the runs below the cut:", fit.summary()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record: the backtest's, with the standard recipe's error and the ratio."""
        out = super().to_dict()
        out["schema"] = "scalinglaws.auto-backtest/1"
        out["standard_mean_abs_rel_error"] = self.standard_mean_abs_rel_error
        out["ratio"] = self.ratio
        return out


def auto_backtest(
    runs: Any,
    cut_quantile: float = 0.75,
    level: float = 0.8,
    cut: float | str | None = None,
    compare_standard: bool = True,
    **options: Any,
) -> AutoBacktestResult:
    """Run the whole automatic procedure -- nested backtest, weights, intervals -- on the
    runs whose final C is at or below the cut, and predict every held-out run above it.

    The cut is ``cut`` FLOPs, or the ``cut_quantile`` quantile of the runs' final C (each
    run once, as :func:`scalinglaws.fit.backtest.backtest`).  Each held-out run's final loss
    is predicted at its own (N, D) with an interval at ``level``; the relative error is
    |L̂ − L|/L.  With ``compare_standard`` the standard recipe (Approach 3: Chinchilla form,
    Huber δ = 1e-3 on log L, Hoffmann's grid) is fitted to the same runs and scored on the
    same held-out runs.  ``options`` go to :class:`AutoFit`.  The held-out runs are never
    seen by the fit: the nested backtest that chooses the weights runs inside the training
    runs only.
    """
    from scalinglaws.runs import as_runs

    runs = as_runs(runs)
    level = _check_level(level)
    final_c = runs.df.groupby("run_id", sort=False)["C"].max()
    if cut is None:
        try:
            q = float(cut_quantile)
        except (TypeError, ValueError):
            q = math.nan
        if not 0 < q < 1:
            raise DataError(
                f"cut_quantile must be between 0 and 1 (e.g. 0.75), got {cut_quantile!r}"
            )
        cut_value = float(np.quantile(final_c.to_numpy(dtype=float), q))
        quantile: float | None = q
    else:
        from scalinglaws.units import parse_quantity

        cut_value = parse_quantity(cut, what="cut (FLOPs)")
        quantile = None
    is_train = final_c <= cut_value * (1 + 1e-12)
    n_train, n_test = int(is_train.sum()), int((~is_train).sum())
    if n_train == 0 or n_test == 0:
        side = "at or below" if n_train == 0 else "above"
        raise DataError(
            f"no run of {runs.source} has its final C {side} the cut {cut_value:.4g} FLOPs "
            f"(final C ranges {final_c.min():.4g} to {final_c.max():.4g}); choose a cut inside "
            "that range"
        )
    train_mask = runs.df["run_id"].map(is_train).to_numpy(dtype=bool)
    train = runs.subset(train_mask, f"auto backtest: kept runs with final C <= {cut_value:.4g}")
    test = runs.subset(~train_mask, f"auto backtest: held out runs with final C > {cut_value:.4g}")
    fit = AutoFit(level=level, **options).fit(train)
    held = FitData.from_runs(test)
    pred = fit.predict_interval(held.N, held.D, level)
    table = pd.DataFrame(
        {
            "run_id": held.run_id,
            "N": held.N,
            "D": held.D,
            "C": held.C,
            "L": held.L,
            "L_pred": np.atleast_1d(pred.L),
        }
    )
    table["rel_error"] = np.abs(table["L_pred"] - table["L"]) / table["L"]
    table["low"] = np.atleast_1d(pred.low)
    table["high"] = np.atleast_1d(pred.high)
    table["inside"] = (table["L"] >= table["low"]) & (table["L"] <= table["high"])
    table["error_scale"] = np.atleast_1d(pred.scale)
    table = table.sort_values(["C", "N"], kind="stable").reset_index(drop=True)
    standard = None
    notes = [
        "every held-out run is predicted at its own (N, D); the frontier candidates reach an "
        "off-optimum run through the constrained Chinchilla fit's valley",
        "the weights were chosen by a nested backtest inside the runs below the cut only",
    ]
    if test.has_curves:
        notes.append("held-out runs are scored on their final checkpoint")
    if compare_standard:
        from scalinglaws.fit.parametric import Approach3

        try:
            standard = Approach3(law="chinchilla", delta=float(options.get("delta", 1e-3))).fit(
                train
            )
            table["L_standard"] = np.asarray(
                standard.law(N=table["N"].to_numpy(), D=table["D"].to_numpy()), dtype=float
            )
            table["rel_error_standard"] = np.abs(table["L_standard"] - table["L"]) / table["L"]
        except FitError as exc:
            notes.append(f"the standard recipe could not be fitted: {exc}")
    return AutoBacktestResult(
        fit=fit,
        cut=cut_value,
        cut_quantile=quantile,
        kind="runs",
        table=table,
        level=level,
        interval_method=INTERVAL_METHOD,
        n_train_runs=n_train,
        n_train_rows=len(train),
        n_test_runs=n_test,
        notes=notes,
        standard=standard,
    )


# ============================================================================ helpers
def _fields(law: Law) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(law, f.name) for f in dataclasses.fields(law)}  # type: ignore[arg-type]


def _check_level(level: Any) -> float:
    try:
        lev = float(level)
    except (TypeError, ValueError):
        lev = math.nan
    if not 0 < lev < 1:
        raise QuantityError(f"level must be between 0 and 1 (e.g. 0.8), got {level!r}")
    return lev


def _score_dict(s: CandidateScore) -> dict[str, Any]:
    return {
        "status": s.status,
        "reason": s.reason,
        "n_test": s.n_test,
        "rmse": s.rmse,
        "mare": s.mare,
        "bias": s.bias,
        "weight": s.weight,
    }


def _combined_errors(errors: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """log L − Σ_k w_k log L̂_k on the nested backtest's held-out runs, over the weighted
    candidates that were scored there (weights renormalised over them)."""
    keys = [k for k in weights if k in errors]
    if not keys:
        return np.array([])
    total = sum(weights[k] for k in keys)
    # e_k = log L − log L̂_k, so the weighted prediction's error is Σ w_k e_k
    return sum(weights[k] / total * errors[k] for k in keys)  # type: ignore[return-value]


def _weighted_interval(
    values: np.ndarray, weights: np.ndarray, level: float
) -> tuple[float, float]:
    ok = np.isfinite(values) & (values > 0)
    if ok.sum() < 2:
        return math.nan, math.nan
    v, w = np.log(values[ok]), weights[ok]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    tail = (1 - level) / 2
    return float(np.exp(np.interp(tail, cdf, v))), float(np.exp(np.interp(1 - tail, cdf, v)))


def _n_budgets(C: np.ndarray, tolerance: float) -> int:
    from scalinglaws.fit.isoflop import assign_budgets

    if len(C) == 0:
        return 0
    _, centres = assign_budgets(C, tolerance)
    return int(len(centres))


# ============================================================================ diagnostics
def _why(
    scores: dict[str, CandidateScore], info: dict[str, Any], weighting: str
) -> list[Diagnostic]:
    ranked = sorted((s for s in scores.values() if s.weight > 0), key=lambda s: -s.weight)
    if not ranked:
        return []
    lead = ranked[0]
    scored = [s for s in scores.values() if s.status in ("ok", "not weighted")]
    if scored:
        rank_words = "; ".join(
            f"{s.key} {100 * s.rmse:.2f}%" for s in sorted(scored, key=lambda s: s.rmse)
        )
        msg = (
            f"'{lead.key}' leads with weight {lead.weight:.2f}: fitted on the "
            f"{info['n_train']} runs with C <= {info['cut']:.3g} FLOPs, it predicted the "
            f"{info['n_test']} runs above (up to {info['C_test_max']:.3g}) with the smallest "
            f"RMS log error among the weighted candidates ({rank_words})"
        )
        if weighting == "inverse-mse":
            msg += "; weights are proportional to 1/MSE (Bates & Granger 1969)"
    else:
        msg = (
            f"no candidate could be scored by the nested backtest; '{lead.key}' and the "
            "others that fitted share equal weights"
        )
    return [
        Diagnostic(
            "AUTO_WEIGHTS",
            "info",
            msg,
            {"weights": {s.key: s.weight for s in ranked}, "rmse": {s.key: s.rmse for s in scored}},
        )
    ]


def _failure_diagnostics(scores: dict[str, CandidateScore]) -> list[Diagnostic]:
    out = []
    for s in scores.values():
        if s.status.startswith("failed"):
            out.append(
                Diagnostic(
                    "CANDIDATE_FAILED",
                    "info",
                    f"candidate '{s.key}' {s.status} and has no weight: {s.reason}",
                    {"candidate": s.key, "reason": s.reason},
                )
            )
    return out


def _standard_diagnostics(members: dict[str, Law], data: FitData) -> list[Diagnostic]:
    """What the unconstrained fit did that the constrained one rules out, and whether the
    constraints bound."""
    out = []
    l_min = float(np.min(data.L))
    u = members.get("chinchilla")
    if isinstance(u, ChinchillaLaw):
        problems = []
        if u.E < 0.01 * l_min:
            problems.append(f"E collapsed to {u.E:.3g} (no floor)")
        elif u.E > 0.98 * l_min:
            problems.append(
                f"E = {u.E:.4g} saturates at the lowest loss {l_min:.4g} (the law claims the "
                "best run is at the floor)"
            )
        for name in ("alpha", "beta"):
            if getattr(u, name) <= 0:
                problems.append(f"{name} = {getattr(u, name):.3g} is not positive")
        if problems:
            out.append(
                Diagnostic(
                    "STANDARD_DEGENERATE",
                    "warning",
                    "the standard Chinchilla fit is degenerate on these runs: "
                    + "; ".join(problems)
                    + "; its extrapolation is not to be trusted on its own",
                    {"E": u.E, "alpha": u.alpha, "beta": u.beta, "L_min": l_min},
                )
            )
    c = members.get(SHAPE_KEY)
    if isinstance(c, ChinchillaLaw) and isinstance(u, ChinchillaLaw) and c != u:
        active = []
        if c.alpha <= 1e-9 or c.beta <= 1e-9:
            active.append("an exponent at 0")
        ratio = c.E / l_min
        if ratio <= 0.5 + 1e-6:
            active.append(f"E at its lower bound ({ratio:.2f} of the lowest loss)")
        elif ratio >= 0.9 - 1e-6:
            active.append(f"E at its upper bound ({ratio:.2f} of the lowest loss)")
        out.append(
            Diagnostic(
                "CONSTRAINT_ACTIVE",
                "info",
                "the constrained Chinchilla fit differs from the unconstrained one"
                + (": " + ", ".join(active) if active else ""),
                {"E": c.E, "alpha": c.alpha, "beta": c.beta, "L_min": l_min},
            )
        )
    return out


def _budget_diagnostics(data: FitData, info: dict[str, Any], tol: float) -> list[Diagnostic]:
    out = []
    n_b = _n_budgets(data.C, tol)
    if n_b - 1 < 3:
        out.append(
            Diagnostic(
                "FEW_BUDGETS",
                "warning",
                f"the runs span only {n_b} compute budget(s) ({n_b - 1} above the smallest; "
                f"C from {data.C.min():.3g} to {data.C.max():.3g}): a law fitted to them "
                "describes the data but says little about larger budgets; add budgets above "
                "the smallest",
                {"budgets": n_b},
            )
        )
    n_tb = info.get("n_test_budgets", 0)
    n_test = info.get("n_test", 0)
    if n_test and (n_tb < 2 or n_test < _THIN_RUNS):
        out.append(
            Diagnostic(
                "THIN_BACKTEST",
                "warning",
                f"the nested backtest could only hold out {n_test} runs at {n_tb} budget(s) "
                f"above its cut {info['cut']:.3g} FLOPs: the weights and the intervals' "
                "out-of-sample error rest on "
                + ("one budget" if n_tb < 2 else "few runs")
                + ", so they are noisy; more budgets above the smallest would firm them up",
                {"n_test": n_test, "budgets": n_tb},
            )
        )
    return out


def frontier_curvature(data: FitData) -> tuple[float, int]:
    """The t-statistic of the curvature of the compute frontier in log-log, and the number of
    frontier points.

    The frontier is the runs no run with less compute beats (Kaplan et al. 2020 §6); on it,
    log L = c0 + c1·log C + c2·(log C)² is fitted by least squares.  A law with a floor E > 0
    makes the frontier convex (c2 > 0); t = c2 / se(c2).  NaN with fewer than 5 points.
    """
    from scalinglaws.fit.powerlaw import frontier_mask

    on = frontier_mask(data.C, data.L)
    x = np.log(data.C[on])
    y = np.log(data.L[on])
    n = x.size
    if n < 5 or np.unique(x).size < 4:
        return math.nan, int(n)
    z = (x - x.mean()) / x.std()
    X = np.column_stack([np.ones(n), z, z**2])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    sigma2 = float(resid @ resid) / max(n - 3, 1)
    cov = sigma2 * np.linalg.inv(X.T @ X)
    se = math.sqrt(max(cov[2, 2], 1e-300))
    return float(coef[2] / se), int(n)


def _curvature_diagnostics(data: FitData) -> list[Diagnostic]:
    t, n = frontier_curvature(data)
    if not math.isfinite(t):
        return [
            Diagnostic(
                "NO_CURVATURE",
                "warning",
                f"the compute frontier has only {n} points, too few to see whether the loss "
                "flattens: the floor E is an assumption of each model, not a measurement",
                {"t": None, "points": n},
            )
        ]
    if t < _CURVATURE_T:
        return [
            Diagnostic(
                "NO_CURVATURE",
                "warning",
                f"the compute frontier ({n} runs from C = {data.C.min():.3g} to "
                f"{data.C.max():.3g}) is straight in log-log (curvature t = {t:.2g} < "
                f"{_CURVATURE_T:g}): the data cannot tell the floor E from 0, so how fast the "
                "loss flattens beyond them is each model's assumption, not a measurement",
                {"t": t, "points": n},
            )
        ]
    return []


__all__ = [
    "CANDIDATE_KEYS",
    "AutoBacktestResult",
    "AutoFit",
    "AutoFitResult",
    "CandidateScore",
    "Prediction",
    "WEIGHTINGS",
    "auto_backtest",
    "frontier_curvature",
]
