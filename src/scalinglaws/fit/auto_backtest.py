"""The automatic fit backtested as a whole: the procedure, choice of candidates included,
run on the runs below a compute cut and scored on the runs above it against the standard
recipe (:func:`auto_backtest`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError, FitError
from scalinglaws.fit.auto_result import INTERVAL_METHOD, AutoFitResult, _check_level
from scalinglaws.fit.backtest import BacktestResult
from scalinglaws.fit.candidates import (
    FitData,
)
from scalinglaws.fit.result import Fit


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
    from scalinglaws.fit.auto import AutoFit
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
