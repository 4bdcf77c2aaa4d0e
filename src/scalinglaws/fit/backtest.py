"""An honest extrapolation test: fit on the small-compute runs, predict the large ones.

A scaling law is only as good as its extrapolation.  :func:`backtest` splits the runs at a
compute cut (by default the 75th percentile of the runs' final C), fits the estimator on the
runs at or below it, and predicts the held-out runs above it -- the question a team asks of
a law before it spends the large budget (the protocol of Hoffmann et al. 2022 §4 and
Besiroglu et al. 2024, who check that extrapolations to larger compute hold up).

Two kinds of prediction:

* laws of (N, D) (Approach 3, Kaplan's L(N, D)): each held-out run's final loss is predicted
  by ``fit.law(N=..., D=...)`` at its own N and D;
* laws of C only (Approaches 1 and 2, a power law in C): the law gives the *best* loss
  reachable at a budget, so it is compared with the held-out frontier -- the minimum final
  loss among the held-out runs of each budget bin.

Prediction intervals come from the bootstrap: each replicate's law (rebuilt from
``fit.replicates``) predicts every held-out point; parameter uncertainty alone
under-covers (it ignores the scatter of single runs around the law), so every replicate's
log-prediction is combined with every in-sample log-residual (``fit.residuals``,
log L − log L̂) and the equal-tailed percentiles of that predictive distribution are taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError, FitError
from scalinglaws.files import jsonable
from scalinglaws.fit.result import Fit, _fmt
from scalinglaws.laws.base import Law
from scalinglaws.runs import Runs, as_runs

INTERVAL_METHOD = (
    "bootstrap replicate predictions (whole runs resampled) convolved with the in-sample "
    "log-residuals, equal-tailed percentiles"
)
_MAX_DRAWS = 200_000  # replicate x residual draws per held-out point
# Above this many draws over all held-out points (2,000 points of 200,000), every point gets
# the same random sample of max(_MIN_DRAWS, _TOTAL_DRAWS / points) (replicate, residual)
# pairs instead (a million-row table's backtest holds out 250,000 runs).
_TOTAL_DRAWS = 400_000_000
_MIN_DRAWS = 4_000


@dataclass
class BacktestResult:
    """The outcome of :func:`backtest`.

    ``table`` has one row per held-out run (laws of N, D) or per held-out budget bin (laws
    of C) with the columns ``run_id, N, D, C, L, L_pred, rel_error`` (|L_pred − L| / L) and,
    when the estimator was bootstrapped, ``low, high, inside``.
    """

    fit: Fit
    cut: float
    cut_quantile: float | None
    kind: str  # "runs" or "frontier"
    table: pd.DataFrame
    level: float
    interval_method: str
    n_train_runs: int
    n_train_rows: int
    n_test_runs: int
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ headline numbers
    @property
    def mean_abs_rel_error(self) -> float:
        """Mean over held-out points of |L_pred − L| / L."""
        return float(self.table["rel_error"].mean())

    @property
    def max_abs_rel_error(self) -> float:
        """Largest |L_pred − L| / L over held-out points."""
        return float(self.table["rel_error"].max())

    @property
    def coverage(self) -> float | None:
        """Fraction of held-out losses inside their prediction interval (None without
        bootstrap)."""
        if "inside" not in self.table.columns:
            return None
        return float(self.table["inside"].mean())

    # ------------------------------------------------------------------ output
    def summary(self) -> str:
        """A plain-text report: the split, the headline errors and coverage, then the table."""
        pct = f"{100 * self.level:g}%"
        how = (
            f"{100 * self.cut_quantile:g}th percentile of the runs' final C"
            if self.cut_quantile is not None
            else "given"
        )
        law = self.fit.law
        lines = [
            f"Backtest — approach {self.fit.approach}: {law.formula or law.name}",
            f"cut: C <= {self.cut:.4g} FLOPs ({how}); fitted on {self.n_train_runs} runs "
            f"({self.n_train_rows} rows), held out {self.n_test_runs} runs above the cut",
        ]
        if self.kind == "runs":
            lines.append(
                "prediction: the law at each held-out run's (N, D), against its final loss"
            )
        else:
            lines.append(
                f"prediction: the law at C against the held-out frontier (minimum final loss "
                f"in each of {len(self.table)} budget bins above the cut)"
            )
        lines.append(f"intervals: {pct}, {self.interval_method}")
        worst = int(self.table["rel_error"].to_numpy().argmax())
        lines.append(
            f"mean |relative error| {100 * self.mean_abs_rel_error:.2f}%, max "
            f"{100 * self.max_abs_rel_error:.2f}% (run {self.table['run_id'].iloc[worst]})"
        )
        if self.coverage is not None:
            inside = int(self.table["inside"].sum())
            lines.append(
                f"coverage: {inside}/{len(self.table)} = {100 * self.coverage:.0f}% of held-out "
                f"losses inside their {pct} interval (nominal {pct})"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        header = ["run", "N", "D", "C", "L", "L_pred", "rel.err"]
        if "low" in self.table.columns:
            header += [f"{pct} interval", "inside"]
        rows = [header]
        for r in self.table.itertuples(index=False):
            row = [
                str(r.run_id),
                _fmt(r.N),
                _fmt(r.D),
                _fmt(r.C),
                f"{r.L:.4f}",
                f"{r.L_pred:.4f}",
                f"{100 * r.rel_error:.2f}%",
            ]
            if "low" in self.table.columns:
                row += [f"[{r.low:.4f}, {r.high:.4f}]", "yes" if r.inside else "NO"]
            rows.append(row)
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines.append("")
        for row in rows:
            lines.append(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (NaN becomes null through ``jsonable``)."""
        return jsonable(
            {
                "schema": "scalinglaws.backtest/1",
                "approach": self.fit.approach,
                "law": self.fit.law.to_dict(),
                "cut": self.cut,
                "cut_quantile": self.cut_quantile,
                "kind": self.kind,
                "level": self.level,
                "interval_method": self.interval_method,
                "n_train_runs": self.n_train_runs,
                "n_train_rows": self.n_train_rows,
                "n_test_runs": self.n_test_runs,
                "mean_abs_rel_error": self.mean_abs_rel_error,
                "max_abs_rel_error": self.max_abs_rel_error,
                "coverage": self.coverage,
                "notes": self.notes,
                "held_out": self.table.to_dict(orient="records"),
                "fit": self.fit.to_dict(),
            }
        )


def backtest(
    estimator: Any,
    runs: Any,
    cut_quantile: float = 0.75,
    cut: float | str | None = None,
    level: float = 0.8,
    bin_tolerance: float = 0.05,
    seed: int = 0,
) -> BacktestResult:
    """Fit ``estimator`` on the runs whose final C is at or below the cut and predict the rest.

    The cut is ``cut`` FLOPs when given, else the ``cut_quantile`` quantile of the runs'
    final C (each run counted once; the rows of a learning curve stay with their run).  The
    relative error of a held-out point is |L̂ − L| / L.  Laws of (N, D) predict each held-out
    run's final loss at its (N, D); laws of C are compared with the held-out frontier, the
    minimum final loss per budget bin (runs whose final C lie within a factor
    ``1 + bin_tolerance`` of their neighbours share a bin).  Intervals at ``level`` need a
    bootstrapped estimator (``n_bootstrap > 0``); see the module docstring for the method.
    ``seed`` only matters when the replicate × residual draws are subsampled (above 200,000).
    """
    if not callable(getattr(estimator, "fit", None)):
        raise DataError(
            "backtest needs an estimator such as Approach3() (an object with a .fit(runs) "
            f"method), got {type(estimator).__name__}"
        )
    runs = as_runs(runs)
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1 (e.g. 0.8), got {level!r}")
    if not math.isfinite(bin_tolerance) or bin_tolerance < 0:
        raise DataError(f"bin_tolerance must be a number >= 0, got {bin_tolerance!r}")
    cut_value, quantile, train_mask, n_train_runs, n_test_runs = _split_at_cut(
        runs, cut_quantile, cut
    )
    train = runs.subset(train_mask, f"backtest: kept runs with final C <= {cut_value:.4g} FLOPs")
    test = runs.subset(~train_mask, f"backtest: held out runs with final C > {cut_value:.4g}")
    fit = estimator.fit(train)
    law = fit.law
    variables = tuple(law.variables)
    notes: list[str] = []

    if "C" in variables:
        kind = "frontier"
        targets = frontier_points(test, bin_tolerance)
        in_sample = frontier_points(train, bin_tolerance)
        notes.append(
            "the held-out frontier is the lowest of the runs in each budget bin: with noisy "
            "runs it sits below the true optimum, and with sparse sizes above it"
        )
    elif set(variables) <= {"N", "D"}:
        kind = "runs"
        targets = _final_rows(test)
        in_sample = train.df
        if test.has_curves:
            notes.append("held-out runs are scored on their final checkpoint")
    else:
        raise FitError(
            f"cannot backtest a law of {', '.join(variables)}; backtest needs a law of N and D "
            "or of C"
        )

    def predict(one: Law, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(one(**{v: frame[v].to_numpy(dtype=float) for v in variables}), float)

    table = targets[["run_id", "N", "D", "C", "L"]].reset_index(drop=True).copy()
    table["L_pred"] = predict(law, table)
    table["rel_error"] = np.abs(table["L_pred"] - table["L"]) / table["L"]

    method = _add_intervals(fit, kind, in_sample, predict, table, level, seed, notes)
    return BacktestResult(
        fit=fit,
        cut=cut_value,
        cut_quantile=quantile,
        kind=kind,
        table=table,
        level=level,
        interval_method=method,
        n_train_runs=n_train_runs,
        n_train_rows=len(train),
        n_test_runs=n_test_runs,
        notes=notes,
    )


def _split_at_cut(
    runs: Runs, cut_quantile: float, cut: float | str | None
) -> tuple[float, float | None, np.ndarray, int, int]:
    """The compute cut (``cut`` FLOPs, else the ``cut_quantile`` quantile of the runs' final
    C) and the rows at or below it: (cut, quantile or None, training-row mask, training runs,
    held-out runs).  Raises :class:`DataError` when either side is empty."""
    final_c = runs.df.groupby("run_id", sort=False)["C"].max()
    run_c = runs.df["run_id"].map(final_c).to_numpy(dtype=float)
    if cut is None:
        if not 0 < cut_quantile < 1:
            raise DataError(
                f"cut_quantile must be between 0 and 1 (e.g. 0.75), got {cut_quantile!r}"
            )
        cut_value = float(np.quantile(final_c.to_numpy(dtype=float), cut_quantile))
        quantile: float | None = float(cut_quantile)
    else:
        from scalinglaws.units import parse_quantity

        cut_value = parse_quantity(cut, what="cut (FLOPs)")
        quantile = None
    train_mask = run_c <= cut_value * (1 + 1e-12)
    n_train_runs = int(final_c[final_c <= cut_value * (1 + 1e-12)].size)
    n_test_runs = int(final_c.size - n_train_runs)
    if n_train_runs == 0 or n_test_runs == 0:
        side = "at or below" if n_train_runs == 0 else "above"
        raise DataError(
            f"no run of {runs.source} has its final C {side} the cut {cut_value:.4g} FLOPs "
            f"(final C ranges {final_c.min():.4g} to {final_c.max():.4g}); choose a cut inside "
            "that range"
        )
    return cut_value, quantile, train_mask, n_train_runs, n_test_runs


def _add_intervals(
    fit: Fit,
    kind: str,
    in_sample: pd.DataFrame,
    predict: Any,
    table: pd.DataFrame,
    level: float,
    seed: int,
    notes: list[str],
) -> str:
    """Add the prediction intervals of the held-out points to ``table`` (columns low, high,
    inside) from the fit's replicates combined with its in-sample residuals; returns how
    they were made (or why there are none)."""
    replicates = _replicate_laws(fit)
    if not replicates:
        return "none — the estimator was not bootstrapped (set n_bootstrap > 0 for intervals)"
    residuals, origin = _residuals(fit, kind, in_sample, predict)
    preds = np.array([_safe_predict(predict, r, table) for r in replicates])
    preds = preds[np.all(np.isfinite(preds) & (preds > 0), axis=1)]
    if len(preds) < 2:
        raise FitError(
            "the bootstrap replicates gave no usable predictions for the held-out runs; "
            "check the fit's diagnostics"
        )
    low, high = _intervals(np.log(preds, out=preds), residuals, level, seed)
    table["low"] = np.exp(low)
    table["high"] = np.exp(high)
    table["inside"] = (table["L"] >= table["low"]) & (table["L"] <= table["high"])
    method = (
        f"{INTERVAL_METHOD} ({len(preds)} replicates x {residuals.size} residuals{origin}, "
        "scaled by sqrt(n/(n-p)))"
    )
    k = sampled_draws(len(preds), residuals.size, len(table))
    if k is not None:
        method += (
            f"; with {len(table):,} held-out runs, each interval from the same {k:,} random "
            "(replicate, residual) pairs"
        )
    if len(preds) < len(replicates):
        notes.append(
            f"{len(replicates) - len(preds)} bootstrap replicates gave no finite prediction "
            "and were left out"
        )
    return method


def frontier_points(runs: Runs, bin_tolerance: float = 0.05) -> pd.DataFrame:
    """The compute frontier: for each budget bin, the run with the lowest final loss.

    Runs are taken at their final checkpoint and sorted by C; a new bin starts where C
    jumps by more than a factor ``1 + bin_tolerance`` over the previous run.  Returns the
    best run's row (``run_id, N, D, C, L``) per bin, in increasing C.
    """
    final = _final_rows(runs).sort_values("C", kind="stable").reset_index(drop=True)
    log_c = np.log(final["C"].to_numpy(dtype=float))
    new_bin = np.concatenate([[True], np.diff(log_c) > math.log1p(bin_tolerance)])
    final["bin"] = np.cumsum(new_bin)
    best = final.loc[final.groupby("bin")["L"].idxmin()]
    return best.drop(columns="bin").reset_index(drop=True)


# ============================================================================ internals
def _final_rows(runs: Runs) -> pd.DataFrame:
    """Each run's last row present (largest step, else largest D)."""
    by = "step" if "step" in runs.df.columns else "D"
    idx = runs.df.groupby("run_id", sort=False)[by].idxmax()
    return runs.df.loc[idx.to_numpy()].reset_index(drop=True)


def _replicate_laws(fit: Fit) -> list[Law]:
    return fit.replicate_laws()


def _safe_predict(predict: Any, law: Law, table: pd.DataFrame) -> np.ndarray:
    try:
        with np.errstate(all="ignore"):
            return predict(law, table)
    except (ArithmeticError, ValueError):
        return np.full(len(table), np.nan)


def _residuals(
    fit: Fit, kind: str, in_sample: pd.DataFrame, predict: Any
) -> tuple[np.ndarray, str]:
    """In-sample log-residuals log L − log L̂, defined as the held-out targets are, and a few
    words on where they came from.

    For a law of (N, D): the fit's own (``fit.residuals``) where it stored them, else
    recomputed on the training rows.  For a law of C: always recomputed at the training
    frontier (the lowest loss per budget bin), because the held-out target is such a minimum
    -- the lowest of several noisy runs sits below the optimum, and residuals defined the same
    way carry that offset into the interval.
    """
    stored = fit.residuals
    if kind == "runs" and stored is not None and np.size(stored):
        r = np.asarray(stored, dtype=float).reshape(-1)
        origin = " stored by the fit"
    else:
        with np.errstate(all="ignore"):
            r = np.log(in_sample["L"].to_numpy(dtype=float)) - np.log(predict(fit.law, in_sample))
        origin = (
            " recomputed on the training rows"
            if kind == "runs"
            else " at the training frontier (lowest loss per budget bin)"
        )
    r = r[np.isfinite(r)]
    if r.size == 0:
        return np.zeros(1), " (none finite: parameter uncertainty only)"
    # In-sample residuals are smaller than out-of-sample errors by about sqrt((n - p) / n);
    # undo it (Davison & Hinkley 1997, §6.2.3: modified residuals for resampling).
    p = len(fit.params)
    return (r * math.sqrt(r.size / (r.size - p)) if r.size > p else r), origin


def _intervals(
    log_preds: np.ndarray, residuals: np.ndarray, level: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles of log L̂_r + e_j over replicates r and residuals j, per held-out point."""
    tail = 100 * (1 - level) / 2
    n_rep, n_points = log_preds.shape
    if sampled_draws(n_rep, residuals.size, n_points) is not None:
        return _sampled_intervals(log_preds, residuals, tail, seed)
    if n_rep * residuals.size > _MAX_DRAWS:
        rng = np.random.default_rng(seed)
        residuals = rng.choice(residuals, size=max(1, _MAX_DRAWS // n_rep), replace=False)
    low = np.empty(log_preds.shape[1])
    high = np.empty(log_preds.shape[1])
    for j in range(log_preds.shape[1]):
        draws = (log_preds[:, j][:, None] + residuals[None, :]).ravel()
        low[j], high[j] = np.percentile(draws, [tail, 100 - tail])
    return low, high


def sampled_draws(n_rep: int, n_residuals: int, n_points: int) -> int | None:
    """The draws per held-out point when the intervals are sampled (too many points for
    every (replicate, residual) pair), else None."""
    if min(n_rep * n_residuals, _MAX_DRAWS) * n_points <= _TOTAL_DRAWS:
        return None
    return max(_MIN_DRAWS, _TOTAL_DRAWS // n_points)


def _sampled_intervals(
    log_preds: np.ndarray, residuals: np.ndarray, tail: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_intervals` for many held-out points: the same K = max(:data:`_MIN_DRAWS`,
    :data:`_TOTAL_DRAWS` / points) random (replicate, residual) pairs for every point, so the
    work stays bounded; the percentiles are taken for blocks of points at once."""
    n_rep, n_points = log_preds.shape
    k = max(_MIN_DRAWS, _TOTAL_DRAWS // n_points)
    rng = np.random.default_rng(seed)
    reps = rng.integers(0, n_rep, k)
    noise = residuals[rng.integers(0, residuals.size, k)]
    low = np.empty(n_points)
    high = np.empty(n_points)
    block = max(1, 4_000_000 // k)
    for start in range(0, n_points, block):
        sl = slice(start, start + block)
        draws = log_preds[reps, sl].T + noise[None, :]
        low[sl], high[sl] = np.percentile(draws, [tail, 100 - tail], axis=1)
    return low, high
