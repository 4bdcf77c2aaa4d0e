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
from typing import Any

from scalinglaws.errors import FitError, QuantityError
from scalinglaws.fit.auto_backtest import AutoBacktestResult, auto_backtest
from scalinglaws.fit.auto_diagnostics import (
    _budget_diagnostics,
    _curvature_diagnostics,
    frontier_curvature,
)
from scalinglaws.fit.auto_result import (
    ALLOCATION_WORDS,
    DEFAULT_GROWTH_PRIOR,
    DEFAULT_SHRINKAGE,
    DEFAULT_TRIM,
    DEFAULTS,
    PREDICTION_WORDS,
    RECORD_VERSION,
    AutoFitResult,
    CandidateScore,
    check_settings,
)
from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP, bootstrap_weight_blocks
from scalinglaws.fit.candidates import (
    CANDIDATE_KEYS,
    DEFAULT_CANDIDATES,
    SHAPE_KEY,
    Candidate,
    FitData,
    make_candidates,
)
from scalinglaws.fit.nested import DEFAULT_CUT_QUANTILES, check_quantiles
from scalinglaws.fit.questions import Prediction
from scalinglaws.fit.result import Diagnostic
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.progress import step
from scalinglaws.validate import whole_number


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
        n_jobs: int | None = None,
    ) -> None:
        from scalinglaws.fit.powerlaw import _check_delta
        from scalinglaws.validate import check_common

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
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)
        self.n_jobs = whole_number(n_jobs, "n_jobs", 1, none=True)

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
        step(
            f"automatic fit: {len(members)} of {len(self.keys)} candidates fitted to "
            f"{len(data):,} runs; now the nested backtest"
        )
        nested = nested_backtest(
            data, self.fit_members, self.keys, self.cut_quantiles, self.bin_tolerance, self.n_jobs
        )
        if self.n_bootstrap:
            step(
                f"automatic fit: nested backtest done; now {self.n_bootstrap} bootstrap replicates"
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
            extra={
                "auto": record,
                "candidates": {k: m.to_dict() for k, m in members.items()},
                "data_range": runs.ranges(),
            },
        )
        fit = fit._combined()
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
        return dataclasses.replace(fit, diagnostics=diagnostics)

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
        needs_shape = SHAPE_KEY in members or any(self.candidates[k].needs_shape for k in members)
        shape_point = (members.get(SHAPE_KEY) or self._shape.fit(data)) if needs_shape else None
        order = sorted(members, key=lambda k: k != SHAPE_KEY)  # the shape's replicates first
        out: dict[str, list[Law | None]] = {k: [] for k in order}
        n_boot = self.n_bootstrap
        blocks = bootstrap_weight_blocks(data.run_id, len(data), n_boot, self.seed)
        for block, W in blocks:  # bounded memory on large tables (one block up to 83,886 runs)
            shapes: list[ChinchillaLaw | None] = []
            if shape_point is not None:
                shapes = self._shape.refit(data, W, shape_point)  # type: ignore[assignment]
            for key, law in members.items():
                if key == SHAPE_KEY:
                    out[key] += shapes
                else:
                    cand: Candidate = self.candidates[key]
                    out[key] += cand.refit(data, W, law, shapes)
            if block.stop < n_boot:
                step(f"bootstrap: {block.stop} of {n_boot} replicates refitted")
        return out


__all__ = [
    "ALLOCATION_WORDS",
    "CANDIDATE_KEYS",
    "PREDICTION_WORDS",
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
