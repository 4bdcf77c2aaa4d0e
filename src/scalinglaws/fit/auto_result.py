"""The result of the automatic fit (:class:`AutoFitResult`), its evidence record and
settings, and the combination of the evidence into weights and intervals
(:mod:`scalinglaws.fit.auto` describes the procedure)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.allocation import Allocation
from scalinglaws.errors import DataError, DomainError, FitError, QuantityError, UnknownNameError
from scalinglaws.fit.candidates import (
    SHAPE_KEY,
    optimum,
)
from scalinglaws.fit.nested import NestedBacktest
from scalinglaws.fit.questions import Prediction
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
from scalinglaws.laws.ensemble import AutoEnsembleLaw

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


#: How an automatic fit's intervals are made, in words (printed under its predictions).
PREDICTION_WORDS = (
    "bootstrap replicates combined with the nested backtest's out-of-sample errors, widened "
    "with the distance beyond the data"
)
ALLOCATION_WORDS = (
    "the candidates' bootstrap optima, and for L* the nested backtest's out-of-sample error, "
    "widened with the distance beyond the data"
)


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
@dataclass(frozen=True)
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
    def with_settings(self, diagnose: bool = True, **settings: Any) -> AutoFitResult:
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
        out = fit._combined(diagnose)
        return dataclasses.replace(out, diagnostics=kept + out.diagnostics)

    def _combined(self, diagnose: bool = True) -> AutoFitResult:
        """Weights, law, interval model, scores, method words and the combination's
        diagnostics from the evidence record and its settings (module docstring, 3-4)."""
        from scalinglaws.fit.auto_diagnostics import (
            _bootstrap_diagnostics,
            _failure_diagnostics,
            _standard_diagnostics,
            _thin_diagnostics,
            _why,
        )

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
            },
            residuals=residuals,
        )
        out = dataclasses.replace(out, method=out._method_words())
        if not diagnose:
            return out
        diagnostics = _why(out)
        diagnostics += _failure_diagnostics(scores)
        diagnostics += _standard_diagnostics(members, rec["L_min"])
        diagnostics += _thin_diagnostics(out)
        diagnostics += _bootstrap_diagnostics(out)
        diagnostics += out.request_diagnostics([10.0 * float(rec["C_range"][1])], probe=True)
        return dataclasses.replace(out, diagnostics=diagnostics)

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
            L=out(np.exp(point)),
            low=out(np.exp(low)),
            high=out(np.exp(high)),
            level=level,
            method=PREDICTION_WORDS,
            distance=out(dist),
            factor=out(c / law.C_max),
            sd=out(sd),
        )

    # ------------------------------------------------------------------ Fit's questions
    def predict(self, level: float | None = None, **variables: Any) -> Any:
        """The weighted law at ``N=..., D=...``; with ``level``, the
        :class:`~scalinglaws.fit.questions.Prediction` of :meth:`predict_interval`
        (calibrated for extrapolation)."""
        if level is None:
            return self.law(**variables)
        if set(variables) != {"N", "D"}:
            raise DomainError(
                "the automatic fit predicts the loss of (N, D); give N and D (or use "
                "allocate(C) for the loss at the compute-optimal allocation)"
            )
        return self.predict_interval(variables["N"], variables["D"], level)

    def allocate(
        self, C: Any, level: float | None = None, flops_per_token: Any = None
    ) -> Allocation:
        """Compute-optimal N*, D*, L* at budget(s) ``C`` with the intervals of
        :meth:`optimum` (L* calibrated for extrapolation), under the runs' own C = k·N·D:
        ``flops_per_token`` may only repeat that k."""
        from scalinglaws.convention import FlopsConvention
        from scalinglaws.laws.base import positive, scalar_or_array

        law = self.law
        assert isinstance(law, AutoEnsembleLaw)
        if flops_per_token is not None:
            conv = FlopsConvention.of(flops_per_token)
            if not (conv.linear and math.isclose(conv.k, law.k, rel_tol=1e-9)):
                raise DomainError(
                    f"the automatic fit allocates under its runs' own C = {law.k:.4g}·N·D, "
                    f"which its weights and intervals were measured with; flops_per_token "
                    f"({conv.description}) cannot change it"
                )
        c = positive("C", C, "training FLOPs")
        lev = self.level if level is None else _check_level(level)
        opts = [self.optimum(float(x), lev) for x in c.reshape(-1)]

        def col(key: str) -> Any:
            return scalar_or_array(np.array([o[key] for o in opts]).reshape(c.shape))

        N, D = col("N_opt"), col("D_opt")
        return Allocation(
            N=N,
            D=D,
            L=col("L_opt"),
            tokens_per_param=scalar_or_array(np.asarray(D) / np.asarray(N)),
            C=scalar_or_array(c),
            method="numeric",
            level=lev,
            intervals={x: (col(f"{x}_opt_low"), col(f"{x}_opt_high")) for x in ("N", "D", "L")},
            interval_method=ALLOCATION_WORDS,
        )

    def budget_diagnostics(self, C: Any) -> list[Diagnostic]:
        """:meth:`request_diagnostics` at the budget(s) ``C``."""
        from scalinglaws.laws.base import positive

        return self.request_diagnostics([float(x) for x in np.atleast_1d(positive("C", C))])

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

    def summary(self, budgets: Any = ()) -> str:
        """The :class:`Fit` summary (with N*, D*, L* at ``budgets``) followed by the
        candidates' table."""
        lines = [
            super().summary(budgets),
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
