"""Extrapolation that holds on studies it has never seen: candidate laws weighted by the
error each makes at the distance asked, shrunk toward the standard recipe when the evidence
is thin, with intervals that widen with that distance.

The point of a scaling law is a prediction at a budget nobody has trained yet.  A single
fitted form can fail there (on Porian et al. 2024's IsoFLOP data the standard Approach 3 fit
misses the top-compute runs by 8-25% in half of the set-ups: E collapses to 0), but a
procedure that trusts a short backtest to replace it fails too, on studies whose standard
fit was fine.  :class:`AutoFit`:

1. **Candidates** (:mod:`scalinglaws.fit.candidates`): the Chinchilla form unconstrained (the
   standard recipe) and constrained (α, β ≥ 0, 0.5·L_min ≤ E ≤ 0.9·L_min), Kaplan's L(N, D),
   the Approach 2 IsoFLOP frontier and L(C) = E + A·C^−α on the compute frontier (their
   floors bounded like the constrained fit's E), each fitted by its stand-alone estimator's
   own search.
2. **A nested, multi-cut backtest** (:mod:`scalinglaws.fit.nested`): inside the runs given,
   cut at several compute quantiles (0.3 to 0.9); at each cut every candidate is fitted
   below and predicts every run above, so each candidate's out-of-sample error is known as
   a function of how far it extrapolated, d = ln(C/C_max)/ln(C_max/C_min) spans of the log
   C it was fitted on (the unit in which a small fit and a large one err alike).  The
   runs a user holds out are never used.
3. **Weights at the distance asked** (:mod:`scalinglaws.fit.weighting`): MSE_k(d) = a_k +
   b_k·d² per candidate; at a request d, weights ∝ 1/MSE_k(d) (Bates & Granger 1969) over the
   candidates within ``trim`` times the best MSE (Timmermann 2006), shrunk
   toward the default -- the standard recipe, or the constrained fit when the standard one
   is degenerate -- by λ = n/(n + n0), n the backtest's budget checks (``shrinkage`` = n0).
   The prediction is the weighted geometric mean (:class:`~scalinglaws.fit.candidates.
   AutoEnsembleLaw`).
4. **Intervals**: bootstrap replicates (whole runs resampled, every candidate refitted)
   widened by a normal error of variance s² + b·d²: s the runs' scatter about the law, b the
   growth of the weighted prediction's own nested-backtest errors, shrunk toward the prior
   ``growth_prior`` by the same λ.
5. **Diagnostics in plain words** when the data cannot support an extrapolation: the
   weights and why, too few budgets, a frontier without curvature, a thin backtest,
   candidates that disagree, the standard fit's failure modes, and how far a request lies
   beyond the data and beyond what the backtest checked.

The defaults (n0 = 4, the standard recipe as default, trim 4, b0 = 3e-4) are what
``benchmarks/extrapolation.py``'s selection rule picks on all of its 12 studies (4 real, 8
synthetic); the benchmark also scores every study with the setting the rule picks *without*
it (leave-one-study-out), so that no study is scored with defaults it chose.

:func:`auto_backtest` runs the whole procedure, choice included, on a user's data split at a
compute cut, and compares it with the standard recipe on the same held-out runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError, FitError, QuantityError, UnknownNameError
from scalinglaws.fit.backtest import BacktestResult
from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP, bootstrap_weights
from scalinglaws.fit.candidates import (
    CANDIDATE_KEYS,
    DEFAULT_CANDIDATES,
    SHAPE_KEY,
    AutoEnsembleLaw,
    Candidate,
    FitData,
    make_candidates,
    optimum,
)
from scalinglaws.fit.nested import DEFAULT_CUT_QUANTILES, NestedBacktest, check_quantiles
from scalinglaws.fit.result import Diagnostic, Fit, _fmt
from scalinglaws.fit.weighting import (
    IntervalModel,
    combined_errors,
    common_rows,
    fit_growth,
    interval_model,
    shrinkage,
    weights_at,
)
from scalinglaws.laws.base import Law, law_from_dict
from scalinglaws.laws.chinchilla import ChinchillaLaw

#: The defaults of the procedure, chosen by benchmarks/extrapolation.py (see the module
#: docstring): the shrinkage n0, the prior growth b0 of the squared log error per squared
#: span, the trim factor and the default the weights shrink toward.
DEFAULT_SHRINKAGE = 4.0
DEFAULT_GROWTH_PRIOR = 3e-4
DEFAULT_TRIM = 4.0
DEFAULTS: tuple[str, ...] = ("standard", "equal")
STANDARD_KEY = "chinchilla"
RECORD_VERSION = 2
INTERVAL_METHOD = (
    "bootstrap replicates (whole runs resampled, every candidate refitted) widened by a "
    "normal error of variance s^2 + b*d^2 at d = ln(C/C_max)/ln(C_max/C_min) spans beyond "
    "the data (s the runs' "
    "scatter about the law, b the growth of the weighted prediction's nested-backtest errors "
    "shrunk toward the prior b0); equal-tailed percentiles"
)
_DISAGREE_MIN_WEIGHT = 0.1  # candidates lighter than this are not checked for disagreement
_CURVATURE_T = 2.0  # t-statistic of the frontier's log-log curvature below which it is "flat"
_Z = None  # standard normal quantiles for the predictive draws, built on first use


# ============================================================================ records
@dataclass
class CandidateScore:
    """How one candidate did in the nested backtest.

    ``a``, ``b``: its error growth MSE(d) = a + b·d²; ``rms_1`` the root of MSE at one
    span beyond the data (C_max times C_max/C_min); ``bias`` the mean log error
    (log L − log L̂: positive when the candidate predicts too low) and ``n_test`` the rows
    it was scored on (those every scored candidate predicted); ``weight`` its weight at the
    edge of the data and ``weight_far`` at ten times the largest budget.
    """

    key: str
    title: str
    status: str  # "ok", "not scored", "failed"
    reason: str = ""
    n_test: int = 0
    a: float = math.nan
    b: float = math.nan
    rms_1: float = math.nan
    bias: float = math.nan
    weight: float = 0.0
    weight_far: float = 0.0


@dataclass
class Prediction:
    """Point predictions with prediction intervals at ``level`` (arrays, or floats for scalar
    input): ``L`` the loss, ``low``/``high`` the interval, ``distance`` the e-folds of C
    beyond the largest run of the data (0 inside it), ``factor`` = C / C_max, and ``sd`` the
    out-of-sample log error's standard deviation added at that distance."""

    L: Any
    low: Any
    high: Any
    level: float
    distance: Any
    factor: Any
    sd: Any


# ============================================================================ the estimator
class AutoFit:
    """Fit several candidate laws, weight them by the error each makes at the distance asked
    (measured by a nested multi-cut backtest, shrunk toward the standard recipe when the
    evidence is thin) and predict with intervals that widen with that distance (see the
    module docstring).

    Parameters
    ----------
    candidates: names of the candidate models (:data:`~scalinglaws.fit.candidates.CANDIDATE_KEYS`;
        a list or a comma-separated string).  Default: all five.
    cut_quantiles: the quantiles of the runs' C at which the nested backtest cuts.
    shrinkage: n0 of λ = n / (n + n0), n the nested backtest's budget checks: how many checks
        it takes for the backtest's weights to count as much as the default's.
    default: the weights the backtest's are shrunk toward: ``"standard"`` (the standard
        recipe, or the constrained Chinchilla fit when the standard fit is degenerate),
        ``"equal"``, or one candidate's name.
    growth_prior: b0, the prior growth of the squared log error per squared span beyond the
        data (a span: as far again as the data's own range of log C), toward which the
        measured growth is shrunk (3e-4: 1.7% per span).
    trim: the backtest's weights go to the candidates whose MSE at the distance asked is
        within this factor of the best (inf: all).
    e_bounds: the bounds on the floors E of the constrained candidates, as fractions of the
        lowest observed loss.
    bin_tolerance: runs within a factor (1 + tolerance) of a budget's centre share an IsoFLOP
        budget (Approach 2 candidate, the backtest's budget checks, the diagnostics).
    delta: Huber threshold on log L of every fit (1e-3, Hoffmann et al. 2022).
    n_bootstrap: bootstrap replicates for the intervals (0: the out-of-sample error alone);
        seed: their seed; level: interval level.
    budgets: FLOP budgets at which N*, D* and L* are reported with intervals (and the
        candidates' agreement is checked).
    n_jobs: processes for the nested backtest's cuts (None: all cores).
    """

    def __init__(
        self,
        candidates: Sequence[str] | str = DEFAULT_CANDIDATES,
        cut_quantiles: Sequence[float] | str = DEFAULT_CUT_QUANTILES,
        shrinkage: float = DEFAULT_SHRINKAGE,
        default: str = "standard",
        growth_prior: float = DEFAULT_GROWTH_PRIOR,
        trim: float = DEFAULT_TRIM,
        e_bounds: tuple[float, float] = (0.5, 0.9),
        bin_tolerance: float = 0.2,
        delta: float = 1e-3,
        n_bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int = 0,
        level: float = 0.95,
        budgets: Sequence[float] | str | None = (),
        n_jobs: int | None = None,
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
        self.e_bounds, self.bin_tolerance = (lo, hi), tol
        self.candidates = make_candidates(candidates, self.delta, self.e_bounds, tol)
        self.keys = tuple(self.candidates)
        self._shape = make_candidates([SHAPE_KEY], self.delta, self.e_bounds, tol)[SHAPE_KEY]
        self.cut_quantiles = check_quantiles(cut_quantiles)
        self.settings = check_settings(
            {
                "shrinkage": shrinkage,
                "default": default,
                "growth_prior": growth_prior,
                "trim": trim,
            },
            self.keys,
        )
        self.n_bootstrap, self.seed, self.level, self.budgets = check_common(
            n_bootstrap, seed, level, budgets
        )
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1
        ):
            raise QuantityError(f"n_jobs must be a whole number >= 1 or None, got {n_jobs!r}")
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"AutoFit(candidates={list(self.keys)}, shrinkage={s['shrinkage']:g}, "
            f"default={s['default']!r}, growth_prior={s['growth_prior']:g}, "
            f"n_bootstrap={self.n_bootstrap}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ fit
    def fit(self, runs: Any) -> AutoFitResult:
        """Fit every candidate, run the nested backtest and the bootstrap, and return an
        :class:`AutoFitResult` (a :class:`~scalinglaws.fit.result.Fit` whose law is the
        :class:`~scalinglaws.fit.candidates.AutoEnsembleLaw`)."""
        from scalinglaws.fit.nested import nested_backtest
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        data = FitData.from_runs(runs)
        if len(data) < 8:
            raise FitError(
                f"the automatic fit needs at least 8 runs (to fit 5-parameter laws and still "
                f"hold some out), {runs.source} has {len(data)}"
            )
        members, failures = self.fit_members(data)
        if not members:
            raise FitError(
                f"no candidate model could be fitted to {runs.source}: "
                + "; ".join(f"{k}: {r}" for k, r in failures.items())
            )
        nested = nested_backtest(
            data, self.fit_members, self.keys, self.cut_quantiles, self.bin_tolerance, self.n_jobs
        )
        replicates = self._bootstrap(data, members)
        l_min = float(data.L.min())
        record = {
            "version": RECORD_VERSION,
            "keys": list(self.keys),
            "titles": {k: self.candidates[k].title for k in self.keys},
            "failures": dict(failures),
            "nested": nested.to_dict(),
            "replicates": {
                k: [None if r is None else r.params for r in reps] for k, reps in replicates.items()
            },
            "bootstrap": {"replicates": self.n_bootstrap, "seed": self.seed},
            "runs": {"N": data.N.tolist(), "D": data.D.tolist(), "L": data.L.tolist()},
            "C_range": [float(data.C.min()), float(data.C.max())],
            "L_min": l_min,
            "k": data.k,
            "cut_quantiles": list(self.cut_quantiles),
            "bin_tolerance": self.bin_tolerance,
            "settings": dict(self.settings),
        }
        fit = AutoFitResult(
            law=members[next(iter(members))],  # replaced by the combination below
            params={},
            approach="auto",
            level=self.level,
            data=runs.describe(),
            converged=True,
            message="",
        )
        fit.extra["auto"] = record
        fit.extra["candidates"] = {k: m.to_dict() for k, m in members.items()}
        fit.extra["data_range"] = runs.ranges()
        fit = fit._combined(self.budgets)
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
        diagnostics += fit.diagnostics
        diagnostics += _budget_diagnostics(data, self.bin_tolerance)
        diagnostics += _curvature_diagnostics(data)
        fit.diagnostics = diagnostics
        return fit

    # ------------------------------------------------------------------ steps
    def fit_members(self, data: FitData) -> tuple[dict[str, Law], dict[str, str]]:
        """Point fits of every candidate on ``data``; the constrained Chinchilla fit first
        (the frontier candidates take their valley from it).  Returns (laws, failure
        reasons).  The nested backtest calls this on each cut's runs."""
        laws: dict[str, Law] = {}
        failures: dict[str, str] = {}
        shape: ChinchillaLaw | None = None
        shape_reason = ""
        try:
            fitted = self._shape.fit(data)
            assert isinstance(fitted, ChinchillaLaw)
            shape = fitted
        except FitError as exc:
            shape_reason = str(exc)
        for key in self.keys:
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

    def _bootstrap(self, data: FitData, members: dict[str, Law]) -> dict[str, list[Law | None]]:
        """Refit every fitted candidate to the same ``n_bootstrap`` resamplings of whole
        runs (seeded); returns the replicate laws per candidate, None where a refit failed
        (:meth:`AutoFitResult.replicate_laws` decides which replicates are usable)."""
        if not self.n_bootstrap:
            return {}
        W = bootstrap_weights(data.run_id, len(data), self.n_bootstrap, self.seed)
        out: dict[str, list[Law | None]] = {}
        shapes: list[ChinchillaLaw | None] = []
        if any(self.candidates[k].needs_shape for k in members) or SHAPE_KEY in members:
            shape_point = members.get(SHAPE_KEY) or self._shape.fit(data)
            shapes = self._shape.refit(data, W, shape_point)  # type: ignore[assignment]
            if SHAPE_KEY in members:
                out[SHAPE_KEY] = list(shapes)
        for key, law in members.items():
            if key == SHAPE_KEY:
                continue
            cand: Candidate = self.candidates[key]
            out[key] = cand.refit(data, W, law, shapes)
        return out


def check_settings(settings: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """The combination's settings, checked: ``shrinkage`` (n0 > 0), ``default``
    ("standard", "equal" or a candidate in ``keys``), ``growth_prior`` (b0 >= 0) and
    ``trim`` (>= 1, or inf)."""
    try:
        n0 = float(settings["shrinkage"])
    except (TypeError, ValueError):
        n0 = math.nan
    if not (math.isfinite(n0) and n0 > 0):
        raise QuantityError(
            f"shrinkage must be a number > 0 (budget checks, e.g. 4), got {settings['shrinkage']!r}"
        )
    try:
        b0 = float(settings["growth_prior"])
    except (TypeError, ValueError):
        b0 = math.nan
    if not (math.isfinite(b0) and b0 >= 0):
        raise QuantityError(
            "growth_prior must be a number >= 0 (squared log error per squared span, e.g. "
            f"3e-4), got {settings['growth_prior']!r}"
        )
    default = str(settings["default"]).strip().lower()
    valid = (*DEFAULTS, *keys)
    if default not in valid:
        from scalinglaws.errors import did_you_mean

        raise UnknownNameError(
            f"unknown default '{settings['default']}'" + did_you_mean(default, valid)
        )
    trim = settings.get("trim", DEFAULT_TRIM)
    try:
        t = math.inf if trim is None else float(trim)
    except (TypeError, ValueError):
        t = math.nan
    if not t >= 1:
        raise QuantityError(
            f"trim must be a number >= 1 (a factor on the best MSE, e.g. 4) or inf, got {trim!r}"
        )
    return {"shrinkage": n0, "default": default, "growth_prior": b0, "trim": t}


# ============================================================================ the result
@dataclass
class AutoFitResult(Fit):
    """The :class:`~scalinglaws.fit.result.Fit` of :class:`AutoFit`.  It owns its evidence
    -- the candidates, the nested backtest, the bootstrap replicates -- in
    ``extra["auto"]``, so a fit read back from JSON (:meth:`from_fit`) answers every
    question a fresh one does: :meth:`predict_interval`, :meth:`optimum`,
    :meth:`with_settings` (the same evidence combined under other settings)."""

    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_fit(cls, fit: Fit) -> AutoFitResult:
        """Wrap a :class:`Fit` written by :class:`AutoFit` (e.g. read back from JSON)."""
        if fit.approach != "auto":
            raise DataError(
                f"this fit is from approach {fit.approach!r}, not from the automatic fit "
                "(approach 'auto')"
            )
        rec = fit.extra.get("auto")
        if (
            not isinstance(rec, dict)
            or rec.get("version") != RECORD_VERSION
            or not isinstance(fit.extra.get("candidates"), dict)
        ):
            raise DataError(
                "this fit says approach 'auto' but lacks the evidence record (extra['auto'], "
                f"version {RECORD_VERSION}) that this version of AutoFit writes; fit again with "
                "'scalinglaws fit RUNS --approach auto'"
            )
        kwargs = {f: getattr(fit, f) for f in Fit.__dataclass_fields__}
        return cls(**kwargs)

    # ------------------------------------------------------------------ evidence
    @property
    def _auto(self) -> dict[str, Any]:
        return self.extra["auto"]

    @property
    def nested(self) -> NestedBacktest:
        """The nested backtest's record."""
        if "nested" not in self._cache:
            self._cache["nested"] = NestedBacktest.from_dict(self._auto["nested"])
        return self._cache["nested"]

    @property
    def members(self) -> dict[str, Law]:
        """Every fitted candidate (key -> law)."""
        if "members" not in self._cache:
            self._cache["members"] = {
                k: law_from_dict(d) for k, d in self.extra["candidates"].items()
            }
        return self._cache["members"]

    @property
    def interval_model(self) -> IntervalModel:
        """The out-of-sample error model of the weighted prediction."""
        return IntervalModel(**self._auto["interval"])

    def replicate_laws(self) -> list[Law]:
        """The weighted law of every usable bootstrap replicate: the same weighting, the
        replicate's members.  A replicate is usable when every candidate that can carry
        weight -- one the default weights, or one the nested backtest scored -- refitted;
        a candidate that never carries weight keeps its point estimate there."""
        if "replicates" in self._cache:
            return self._cache["replicates"]
        law = self.law
        assert isinstance(law, AutoEnsembleLaw)
        reps = self._auto.get("replicates") or {}
        weighted = [
            p > 0 or lab in law.growth for lab, p in zip(law.labels, law.prior, strict=True)
        ]
        out: list[Law] = []
        n = min((len(reps.get(lab) or []) for lab in law.labels), default=0)
        for i in range(n):
            rows = [reps[lab][i] for lab in law.labels]
            if any(r is None and w for r, w in zip(rows, weighted, strict=True)):
                continue
            try:
                members = [
                    m
                    if r is None
                    else type(m)(**{**_fields(m), **{k: float(v) for k, v in r.items()}})
                    for m, r in zip(law.members, rows, strict=True)
                ]
            except (ValueError, ArithmeticError, TypeError):
                continue
            out.append(law.with_members(members))
        self._cache["replicates"] = out
        return out

    # ------------------------------------------------------------------ combination
    def with_settings(
        self, budgets: Sequence[float] = (), diagnose: bool = True, **settings: Any
    ) -> AutoFitResult:
        """The same evidence combined under other settings (``shrinkage``, ``default``,
        ``growth_prior``; the others keep their values): a new result, nothing refitted.
        The extrapolation benchmark chooses the defaults this way, leaving each study out
        (``diagnose=False`` skips the diagnostics there)."""
        rec = dict(self._auto)
        rec["settings"] = check_settings({**rec["settings"], **settings}, rec["keys"])
        fit = AutoFitResult(
            law=self.law,
            params={},
            approach="auto",
            level=self.level,
            data=dict(self.data),
            converged=True,
            message="",
            extra={**self.extra, "auto": rec},
        )
        kept = [d for d in self.diagnostics if d.code in _EVIDENCE_CODES]
        out = fit._combined(budgets, diagnose)
        out.diagnostics = kept + out.diagnostics
        return out

    def _combined(self, budgets: Sequence[float], diagnose: bool = True) -> AutoFitResult:
        """Weights, law, interval model, scores, method words and the combination's
        diagnostics from the evidence record and its settings (module docstring, 3-4)."""
        rec = self._auto
        st = rec["settings"]
        members = self.members
        labels = [k for k in rec["keys"] if k in members]
        degenerate = _degenerate(members.get(STANDARD_KEY), rec["L_min"])
        prior = _prior(st["default"], labels, degenerate)
        nested = self.nested
        scored, rows = common_rows({k: nested.errors[k] for k in labels if k in nested.errors})
        d_rows = nested.relative[rows]
        runs = {k: np.asarray(v, dtype=float) for k, v in rec["runs"].items()}
        floor = {k: _in_sample_mse(members[k], runs) for k in scored}
        growth = {
            k: g for k in scored if (g := fit_growth(nested.errors[k][rows], d_rows, floor[k]))
        }
        n_checks = int(np.unique(nested.group[rows]).size)
        lam = shrinkage(n_checks, st["shrinkage"])
        law = AutoEnsembleLaw(
            members=tuple(members[k] for k in labels),
            labels=tuple(labels),
            prior=tuple(prior),
            mse_a=tuple(growth[k].a if k in growth else math.nan for k in labels),
            mse_b=tuple(growth[k].b if k in growth else math.nan for k in labels),
            lam=lam,
            C_max=rec["C_range"][1],
            span=_span(rec["C_range"]),
            trim=st["trim"],
            k=rec["k"],
        )
        with np.errstate(all="ignore"):
            residuals = np.log(runs["L"]) - np.log(np.asarray(law(N=runs["N"], D=runs["D"])))
        scatter = float(np.sqrt(np.mean(residuals[np.isfinite(residuals)] ** 2)))
        W_rows = weights_at(d_rows, labels, growth, prior, lam, st["trim"])
        combined = combined_errors(
            {k: nested.errors[k][rows] for k in labels if k in nested.errors}, W_rows, labels
        )
        model = interval_model(combined, d_rows, scatter, lam, st["growth_prior"])
        scores = _scores(rec, labels, scored, rows, growth, law, nested)
        out = AutoFitResult(
            law=law,
            params=dict(law.params),
            approach="auto",
            level=self.level,
            data=dict(self.data),
            converged=True,
            message="",
            extra={
                **self.extra,
                "auto": {
                    **rec,
                    "prior": dict(zip(labels, prior, strict=True)),
                    "lam": lam,
                    "n_checks": n_checks,
                    "degenerate": degenerate,
                    "scores": {k: _score_dict(s) for k, s in scores.items()},
                    "interval": model.__dict__.copy(),
                    "combined_errors": [None if not np.isfinite(x) else float(x) for x in combined],
                },
                "residuals": residuals.tolist(),
            },
        )
        out.method = out._method_words()
        for c in budgets:
            opt = out.optimum(c)
            for name in ("N_opt", "D_opt", "L_opt"):
                key = f"{name}@{c:.3g}"
                out.derived[key] = float(opt[name])
                if np.isfinite(opt[name + "_low"]):
                    out.intervals[key] = (float(opt[name + "_low"]), float(opt[name + "_high"]))
        if not diagnose:
            return out
        diagnostics = _why(out)
        diagnostics += _failure_diagnostics(scores)
        diagnostics += _standard_diagnostics(members, rec["L_min"])
        diagnostics += _thin_diagnostics(out)
        diagnostics += _bootstrap_diagnostics(out)
        probes = list(budgets) or [10.0 * float(rec["C_range"][1])]
        diagnostics += out.request_diagnostics(probes, probe=not budgets)
        out.diagnostics = diagnostics
        return out

    def _method_words(self) -> dict[str, Any]:
        rec = self._auto
        st = rec["settings"]
        nested = self.nested
        cuts = nested.cuts
        model = self.interval_model
        words: dict[str, Any] = {
            "law": self.law.formula,
            "candidates": ", ".join(f"{k} ({rec['titles'].get(k, k)})" for k in rec["keys"]),
            "nested backtest": (
                f"{len(cuts)} cuts at the {', '.join(f'{c.quantile:g}' for c in cuts)} "
                f"quantiles of the runs' C; at each, every candidate fitted below and scored "
                f"on every run above: {len(nested)} predictions, {rec['n_checks']} budget "
                f"checks, up to {math.exp(nested.reach) if cuts else float('nan'):.3g}x beyond "
                "the runs fitted"
                if cuts
                else "no cut had 8 runs below it and one above: nothing scored"
            ),
            "weights": (
                f"w(d) = lam * (1/MSE_k(d) normalised) + (1 - lam) * default, MSE_k(d) = a_k + "
                f"b_k d^2 (d = ln(C/C_max)/ln(C_max/C_min), spans beyond the data), over the "
                f"candidates within {st['trim']:g}x the best MSE; lam = n/(n + n0) = "
                f"{rec['lam']:.3f} with n = {rec['n_checks']} budget checks, n0 = "
                f"{st['shrinkage']:g}; default: {_default_words(st['default'], rec)}"
            ),
            "prediction": "weighted geometric mean of the candidates fitted to all the runs",
            "out-of-sample error": (
                f"sd(d) = sqrt(s^2 + b d^2) in log L added to the bootstrap spread: scatter s = "
                f"{100 * model.scatter:.2f}%, growth b = {model.b:.3g} = lam * "
                f"{model.b_backtest:.3g} measured + (1 - lam) * {model.b_prior:g} prior"
            ),
        }
        for key, sc in rec["scores"].items():
            if sc["status"] == "ok":
                words[f"candidate {key}"] = (
                    f"weight {sc['weight']:.3f} at the data, {sc['weight_far']:.3f} at 10x; "
                    f"nested-backtest RMS log error {100 * sc['rms_1']:.2f}% one span "
                    f"beyond, bias {100 * sc['bias']:+.2f}% over {sc['n_test']} predictions"
                )
            else:
                words[f"candidate {key}"] = (
                    f"weight {sc['weight']:.3f}; " if sc["weight"] > 0 else ""
                ) + f"{sc['status']}: {sc['reason']}"
        b = rec["bootstrap"]
        if b["replicates"]:
            failed = b["replicates"] - len(self.replicate_laws())
            words["bootstrap"] = f"{b['replicates']} replicates (whole runs resampled, seed " + (
                f"{b['seed']}), {failed} unusable" if failed else f"{b['seed']})"
            )
        words["intervals"] = INTERVAL_METHOD
        return words

    # ------------------------------------------------------------------ intervals
    def _draws(
        self, log_point: np.ndarray, log_reps: np.ndarray, sd: np.ndarray, level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Percentiles of log L̂_r + sd·z over replicates r and standard normal quantiles z."""
        z = _normal_quantiles()
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
            draws = (c[:, None] + sd[j] * z[None, :]).ravel()
            low[j], high[j] = np.percentile(draws, [tail, 100 - tail])
        return low, high

    def predict_interval(self, N: Any, D: Any, level: float | None = None) -> Prediction:
        """The loss at (N, D) with a prediction interval at ``level`` (default: the fit's),
        and how far beyond the data the request lies.

        L̂ is the weighted geometric mean of the candidates at C = k·N·D; the interval is
        the percentile interval of log L̂_r + sd(d)·z over bootstrap replicates r and standard
        normal z, sd(d) the weighted prediction's out-of-sample error at d = ln(C/C_max)+
        e-folds beyond the data, in spans d/ln(C_max/C_min)
        (:class:`~scalinglaws.fit.weighting.IntervalModel`).
        """
        level = self.level if level is None else _check_level(level)
        n, d = np.broadcast_arrays(np.asarray(N, dtype=float), np.asarray(D, dtype=float))
        shape = n.shape
        n, d = n.ravel(), d.ravel()
        law = self.law
        assert isinstance(law, AutoEnsembleLaw)
        point = np.log(np.asarray(law(N=n, D=d), dtype=float)).reshape(-1)
        reps = self.replicate_laws()
        with np.errstate(all="ignore"):
            log_reps = (
                np.array([np.log(np.asarray(r(N=n, D=d), float)).reshape(-1) for r in reps])
                if reps
                else np.empty((0, n.size))
            )
        c = law.k * n * d
        dist = law.distance(c)
        sd = self.interval_model.sd(law.spans(c))
        low, high = self._draws(point, log_reps, sd, level)

        def out(x: np.ndarray) -> Any:
            x = np.asarray(x).reshape(shape)
            return float(x) if x.ndim == 0 else x

        return Prediction(
            out(np.exp(point)),
            out(np.exp(low)),
            out(np.exp(high)),
            level,
            out(dist),
            out(c / law.C_max),
            out(sd),
        )

    def optimum(self, C: float, level: float | None = None) -> dict[str, float]:
        """The compute-optimal N*, D*, L* of the weighted law at budget ``C`` (FLOPs), each
        with an interval at ``level``.

        L*: the replicates' optima L*_r widened by the out-of-sample error at the budget's
        distance, as :meth:`predict_interval`.  N* and D*: no backtest measures their
        out-of-sample error, so their interval is the percentile interval of the candidates'
        replicate optima, pooled with each candidate's weight at C -- parameter and model
        uncertainty together.
        """
        from scalinglaws.units import parse_quantity

        c = parse_quantity(C, what="budget C")
        level = self.level if level is None else _check_level(level)
        law = self.law
        assert isinstance(law, AutoEnsembleLaw)
        k = law.k
        n, d, L = optimum(law, c, k)
        reps = self.replicate_laws()
        l_reps = []
        for r in reps:
            try:
                l_reps.append(math.log(optimum(r, c, k)[2]))
            except (FitError, ArithmeticError, ValueError):
                continue
        dist = float(law.distance(c))
        sd = self.interval_model.sd(law.spans(np.array([c])))
        low, high = self._draws(
            np.array([math.log(L)]),
            np.array(l_reps)[:, None] if l_reps else np.empty((0, 1)),
            sd,
            level,
        )
        weights = law.weights(np.array(c))
        pooled_n, pooled_w = [], []
        for j, (m, w) in enumerate(zip(law.members, weights, strict=True)):
            if w <= 0:
                continue
            values = []
            for r in reps:
                try:
                    values.append(optimum(r.members[j], c, k)[0])  # type: ignore[attr-defined]
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
            "distance": dist,
            "sd": float(sd[0]),
            "level": level,
        }

    def member_optima(self, C: float, level: float | None = None) -> pd.DataFrame:
        """Each candidate's N*, L* at budget C with its own bootstrap interval (parameter
        uncertainty only) and its weight at C -- the data behind ``CANDIDATES_DISAGREE``."""
        level = self.level if level is None else _check_level(level)
        law = self.law
        assert isinstance(law, AutoEnsembleLaw)
        k = law.k
        reps = self.replicate_laws()
        weights = law.weights(np.array(float(C)))
        rows = []
        tail = 100 * (1 - level) / 2
        for j, (lab, m, w) in enumerate(zip(law.labels, law.members, weights, strict=True)):
            try:
                n, _, L = optimum(m, float(C), k)
            except (FitError, ArithmeticError, ValueError):
                continue
            values = []
            for r in reps:
                try:
                    values.append(optimum(r.members[j], float(C), k)[2])  # type: ignore[attr-defined]
                except (FitError, ArithmeticError, ValueError):
                    continue
            lo, hi = np.percentile(values, [tail, 100 - tail]) if len(values) >= 2 else (L, L)
            rows.append(
                {
                    "candidate": lab,
                    "weight": float(w),
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
        each lies beyond the data, in multiples of the largest budget and of the farthest
        distance the nested backtest checked, and whether the weighted candidates' optimal
        losses there disagree by more than their intervals.  ``probe=True`` says the budget
        was not asked for (the default check at 10× the largest budget)."""
        out: list[Diagnostic] = []
        c_min, c_max = self._auto["C_range"]
        reach = self.nested.reach
        checked = math.exp(reach) if math.isfinite(reach) else None
        for c in budgets:
            c = float(c)
            if not probe and (c > c_max * (1 + 1e-9) or c < c_min * (1 - 1e-9)):
                out.append(self._distance_diagnostic(c, checked))
            if not self.replicate_laws():
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

    def _distance_diagnostic(self, c: float, checked: float | None) -> Diagnostic:
        c_min, c_max = self._auto["C_range"]
        above = c > c_max
        factor = c / c_max if above else c_min / c
        words = (
            f"budget {c:.3g} FLOPs is {factor:.3g}x "
            + ("above the largest" if above else "below the smallest")
            + f" budget of the data ({c_max if above else c_min:.3g})"
        )
        beyond = False
        if above and checked is not None:
            beyond = factor > checked * (1 + 1e-9)
            words += f"; the nested backtest checked extrapolation up to {checked:.3g}x, " + (
                "so the error there is the backtest's growth extrapolated (a + b*d^2), not measured"
                if beyond
                else "so this distance was measured"
            )
        elif above:
            beyond = True
            words += (
                "; the nested backtest checked no extrapolation, so the error there is the prior's"
            )
        law = self.law
        assert isinstance(law, AutoEnsembleLaw)
        sd = float(self.interval_model.sd(law.spans(c)))
        return Diagnostic(
            "EXTRAPOLATION",
            "warning" if factor > 100 or beyond else "info",
            words,
            {
                "budget": c,
                "factor": float(factor),
                "range": [c_min, c_max],
                "backtest_reach": checked,
                "beyond_checked": beyond,
                "sd": sd,
            },
        )

    def candidates_table(self) -> pd.DataFrame:
        """One row per candidate: weights, status, nested-backtest errors and its constants."""
        rows = []
        fitted = self.extra.get("candidates", {})
        for key in self._auto["keys"]:
            s = self._auto["scores"][key]
            const = {k: v for k, v in fitted.get(key, {}).items() if k != "law"}
            rows.append(
                {
                    "candidate": key,
                    "title": self._auto["titles"].get(key, key),
                    "weight": s["weight"],
                    "weight_far": s["weight_far"],
                    "prior": self._auto["prior"].get(key, 0.0),
                    "status": s["status"],
                    "backtest_rms_1": s["rms_1"],
                    "backtest_growth": s["b"],
                    "backtest_bias": s["bias"],
                    "n_test": s["n_test"],
                    "reason": s["reason"],
                    "constants": const,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """The :class:`Fit` summary followed by the candidates' table."""
        lines = [
            super().summary(),
            "",
            "candidates (nested backtest; weights at the data and at 10x its largest budget)",
        ]
        lines.append(
            f"  {'candidate':<24}{'default':>8}{'weight':>8}{'at 10x':>8}{'RMS@1':>8}"
            f"{'bias':>8}  constants"
        )
        for r in self.candidates_table().itertuples(index=False):
            const = ", ".join(
                f"{k}={_fmt(v)}" for k, v in r.constants.items() if isinstance(v, (int, float))
            )
            head = f"  {r.candidate:<24}{r.prior:>8.2f}{r.weight:>8.3f}{r.weight_far:>8.3f}"
            if r.status == "ok":
                lines.append(
                    f"{head}{100 * r.backtest_rms_1:>7.2f}%{100 * r.backtest_bias:>+7.2f}%  {const}"
                )
            else:
                lines.append(f"{head}{'-':>8}{'-':>8}  {r.status}: {r.reason}")
        return "\n".join(lines)


_EVIDENCE_CODES = {"FINAL_CHECKPOINTS", "FEW_BUDGETS", "NO_CURVATURE"}


def _normal_quantiles(m: int = 200) -> np.ndarray:
    from scipy.stats import norm

    global _Z
    if _Z is None:
        _Z = norm.ppf((np.arange(m) + 0.5) / m)
    return _Z


def _in_sample_mse(law: Law, runs: dict[str, np.ndarray]) -> float:
    """Mean squared log residual of ``law`` on the runs it was fitted to."""
    with np.errstate(all="ignore"):
        r = np.log(runs["L"]) - np.log(np.asarray(law(N=runs["N"], D=runs["D"]), dtype=float))
    r = r[np.isfinite(r)]
    return float(np.mean(r**2)) if r.size else 0.0


def _span(c_range: Sequence[float]) -> float:
    """ln(C_max / C_min), the data's span of log C (1 e-fold when all runs share one C)."""
    lo, hi = float(c_range[0]), float(c_range[1])
    return math.log(hi / lo) if hi > lo * (1 + 1e-9) else 1.0


def _degenerate(law: Law | None, l_min: float) -> list[str]:
    """The standard fit's failure modes (Besiroglu et al. 2024; Porian et al. 2024) in
    words: E collapsed below 1% of the lowest loss, E at 98% of it or above, an exponent
    that is not positive.  Empty when it is healthy (or absent: then it is not used)."""
    if not isinstance(law, ChinchillaLaw):
        return []
    problems = []
    if law.E < 0.01 * l_min:
        problems.append(f"E collapsed to {law.E:.3g} (no floor)")
    elif law.E > 0.98 * l_min:
        problems.append(
            f"E = {law.E:.4g} saturates at the lowest loss {l_min:.4g} (the law claims the "
            "best run is at the floor)"
        )
    for name in ("alpha", "beta"):
        if getattr(law, name) <= 0:
            problems.append(f"{name} = {getattr(law, name):.3g} is not positive")
    return problems


def _prior(default: str, labels: list[str], degenerate: list[str]) -> list[float]:
    """The default weights: ``standard`` puts all on the standard recipe, or on the
    constrained fit when the standard one is degenerate or missing (equal when neither
    fitted); ``equal``; or all on one named candidate (equal when it did not fit)."""
    target = default
    if default == "standard":
        if STANDARD_KEY in labels and not degenerate:
            target = STANDARD_KEY
        elif SHAPE_KEY in labels:
            target = SHAPE_KEY
        elif STANDARD_KEY in labels:
            target = STANDARD_KEY
        else:
            target = "equal"
    if target == "equal" or target not in labels:
        return [1.0 / len(labels)] * len(labels)
    return [1.0 if k == target else 0.0 for k in labels]


def _default_words(default: str, rec: dict[str, Any]) -> str:
    prior = rec.get("prior", {})
    lead = [k for k, w in prior.items() if w == 1.0]
    if default == "standard":
        if lead == [STANDARD_KEY]:
            return "the standard recipe (unconstrained Chinchilla fit)"
        if lead == [SHAPE_KEY]:
            return "the constrained Chinchilla fit (the standard fit is degenerate or missing)"
        return "equal weights (neither Chinchilla fit is available)"
    if default == "equal":
        return "equal weights"
    return f"candidate {default}" if lead == [default] else "equal weights (it did not fit)"


def _scores(
    rec: dict[str, Any],
    labels: list[str],
    scored: list[str],
    rows: np.ndarray,
    growth: dict[str, Any],
    law: AutoEnsembleLaw,
    nested: NestedBacktest,
) -> dict[str, CandidateScore]:
    w_edge = law.weights(np.array(law.C_max))
    w_far = law.weights(np.array(10.0 * law.C_max))
    out: dict[str, CandidateScore] = {}
    for key in rec["keys"]:
        sc = CandidateScore(key, rec["titles"].get(key, key), "ok")
        if key in labels:
            j = labels.index(key)
            sc.weight, sc.weight_far = float(w_edge[j]), float(w_far[j])
        if key not in labels:
            sc.status, sc.reason = "failed", rec["failures"].get(key, "it could not be fitted")
        elif key not in growth:
            sc.status = "not scored"
            fails = {c.failures[key] for c in nested.cuts if key in c.failures}
            sc.reason = (
                "it predicted fewer than half of the nested backtest's runs"
                + (f" ({'; '.join(sorted(fails))})" if fails else "")
                if len(nested)
                else "the nested backtest had no cut"
            )
        else:
            g = growth[key]
            e = nested.errors[key][rows]
            sc.n_test, sc.a, sc.b = int(e.size), g.a, g.b
            sc.rms_1 = float(g.rms(1.0))
            sc.bias = float(np.mean(e))
        out[key] = sc
    return out


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
        out["schema"] = "scalinglaws.auto-backtest/2"
        out["standard_mean_abs_rel_error"] = self.standard_mean_abs_rel_error
        out["ratio"] = self.ratio
        return out

    def rescored(self, fit: AutoFitResult) -> AutoBacktestResult:
        """The same held-out runs predicted by another combination of the same evidence
        (:meth:`AutoFitResult.with_settings`), scored again."""
        table = _score_table(fit, self.table[["run_id", "N", "D", "C", "L"]], self.level)
        for col in ("L_standard", "rel_error_standard"):
            if col in self.table.columns:
                table[col] = self.table[col].to_numpy()
        return dataclasses.replace(self, fit=fit, table=table)


def _score_table(fit: AutoFitResult, held: pd.DataFrame, level: float) -> pd.DataFrame:
    pred = fit.predict_interval(held["N"].to_numpy(), held["D"].to_numpy(), level)
    table = held.copy().reset_index(drop=True)
    table["L_pred"] = np.atleast_1d(pred.L)
    table["rel_error"] = np.abs(table["L_pred"] - table["L"]) / table["L"]
    table["low"] = np.atleast_1d(pred.low)
    table["high"] = np.atleast_1d(pred.high)
    table["inside"] = (table["L"] >= table["low"]) & (table["L"] <= table["high"])
    table["distance"] = np.atleast_1d(pred.distance)
    return table


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
    table = _score_table(
        fit,
        pd.DataFrame({"run_id": held.run_id, "N": held.N, "D": held.D, "C": held.C, "L": held.L}),
        level,
    )
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
        "a": s.a,
        "b": s.b,
        "rms_1": s.rms_1,
        "bias": s.bias,
        "weight": s.weight,
        "weight_far": s.weight_far,
    }


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
def _why(fit: AutoFitResult) -> list[Diagnostic]:
    """AUTO_WEIGHTS: the default, how far the backtest moved the weights and why."""
    rec = fit._auto
    scores = rec["scores"]
    st = rec["settings"]
    ok = {k: s for k, s in scores.items() if s["status"] == "ok"}
    lead = max(scores, key=lambda k: scores[k]["weight"])
    far = max(scores, key=lambda k: scores[k]["weight_far"])
    msg = (
        f"the weights start from the default ({_default_words(st['default'], rec)}) and move "
        f"toward the nested backtest's ranking by lam = {rec['lam']:.2f} (n = {rec['n_checks']} "
        f"budget checks against n0 = {st['shrinkage']:g}): '{lead}' leads with "
        f"{scores[lead]['weight']:.2f} at the data"
    )
    if far != lead:
        msg += f", '{far}' with {scores[far]['weight_far']:.2f} at 10x its largest budget"
    if ok:
        ranked = sorted(ok, key=lambda k: ok[k]["rms_1"])
        msg += (
            "; RMS log error one span beyond the runs fitted (as far again as their range "
            "of log C): "
            + "; ".join(f"{k} {100 * ok[k]['rms_1']:.2f}%" for k in ranked)
            + " (weights proportional to 1/MSE at the distance asked; Bates & Granger 1969)"
        )
    return [
        Diagnostic(
            "AUTO_WEIGHTS",
            "info",
            msg,
            {
                "lam": rec["lam"],
                "n_checks": rec["n_checks"],
                "weights": {k: s["weight"] for k, s in scores.items()},
                "weights_far": {k: s["weight_far"] for k, s in scores.items()},
                "rms_1": {k: s["rms_1"] for k, s in ok.items()},
            },
        )
    ]


def _bootstrap_diagnostics(fit: AutoFitResult) -> list[Diagnostic]:
    """BOOTSTRAP_FAILURES: replicates in which a candidate that can carry weight could not be
    refitted are left out of the intervals."""
    n = int(fit._auto["bootstrap"]["replicates"])
    failed = n - len(fit.replicate_laws()) if n else 0
    if not failed:
        return []
    return [
        Diagnostic(
            "BOOTSTRAP_FAILURES",
            "warning" if failed > 0.05 * n else "info",
            f"{failed} of {n} bootstrap replicates could not refit every candidate that carries "
            "weight and were left out of the intervals",
            {"failed": failed, "replicates": n},
        )
    ]


def _thin_diagnostics(fit: AutoFitResult) -> list[Diagnostic]:
    rec = fit._auto
    nested = fit.nested
    n0 = rec["settings"]["shrinkage"]
    if not len(nested):
        return [
            Diagnostic(
                "NO_BACKTEST",
                "warning",
                "the nested backtest could not score any candidate (fewer than 8 runs below "
                "every cut, or none above), so the weights are the default's and the intervals' "
                "growth with distance is the prior's, not a measurement",
                {"cuts": len(nested.cuts)},
            )
        ]
    if rec["n_checks"] < n0:
        return [
            Diagnostic(
                "THIN_BACKTEST",
                "warning",
                f"the nested backtest made only {rec['n_checks']} budget checks ({len(nested)} "
                f"predictions, {len(nested.cuts)} cuts), fewer than the shrinkage n0 = {n0:g}: "
                f"the weights stay mostly the default's (lam = {rec['lam']:.2f}) and the "
                "intervals' growth mostly the prior's; more budgets above the smallest would "
                "firm them up",
                {"n_checks": rec["n_checks"], "lam": rec["lam"]},
            )
        ]
    return []


def _failure_diagnostics(scores: dict[str, CandidateScore]) -> list[Diagnostic]:
    out = []
    for s in scores.values():
        if s.status == "failed":
            out.append(
                Diagnostic(
                    "CANDIDATE_FAILED",
                    "info",
                    f"candidate '{s.key}' could not be fitted and has no weight: {s.reason}",
                    {"candidate": s.key, "reason": s.reason},
                )
            )
    return out


def _standard_diagnostics(members: dict[str, Law], l_min: float) -> list[Diagnostic]:
    """What the unconstrained fit did that the constrained one rules out, and whether the
    constraints bound."""
    out = []
    u = members.get(STANDARD_KEY)
    problems = _degenerate(u, l_min)
    if problems and isinstance(u, ChinchillaLaw):
        out.append(
            Diagnostic(
                "STANDARD_DEGENERATE",
                "warning",
                "the standard Chinchilla fit is degenerate on these runs: "
                + "; ".join(problems)
                + "; its extrapolation is not to be trusted on its own, and the default "
                "weights go to the constrained fit instead",
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


def _budget_diagnostics(data: FitData, tol: float) -> list[Diagnostic]:
    n_b = _n_budgets(data.C, tol)
    if n_b - 1 >= 3:
        return []
    return [
        Diagnostic(
            "FEW_BUDGETS",
            "warning",
            f"the runs span only {n_b} compute budget(s) ({n_b - 1} above the smallest; "
            f"C from {data.C.min():.3g} to {data.C.max():.3g}): a law fitted to them "
            "describes the data but says little about larger budgets; add budgets above "
            "the smallest",
            {"budgets": n_b},
        )
    ]


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
    "DEFAULTS",
    "DEFAULT_GROWTH_PRIOR",
    "DEFAULT_SHRINKAGE",
    "AutoBacktestResult",
    "AutoFit",
    "AutoFitResult",
    "CandidateScore",
    "Prediction",
    "auto_backtest",
    "check_settings",
    "frontier_curvature",
]
