"""Backtest curve prediction over every run of a table: fit each law on the first 10/30/50%
of each run's steps, predict the run's final loss, and score |predicted / observed − 1|.
The observed final loss is the run's last logged loss (one noisy measurement: compare the
errors with :func:`seed_spread`, the seed-to-seed spread of final losses, the noise floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scalinglaws.curves.data import RunCurve
from scalinglaws.curves.predict import check_fraction, predict_run
from scalinglaws.errors import ScalingLawsError


@dataclass(frozen=True)
class CurveBacktest:
    """``rows``: one dict per (run, law, fraction) with ``predicted``, ``observed`` and
    ``relative_error`` (or ``error`` when the fit failed); ``summary``: per (law, fraction)
    the number of runs and the mean and max |relative error|."""

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "rows": self.rows}


def backtest_curves(
    curves: list[RunCurve],
    laws: tuple[str, ...] = ("multi-power", "momentum", "power"),
    fractions: tuple[float, ...] = (0.1, 0.3, 0.5),
) -> CurveBacktest:
    """Fit each of ``laws`` on the first ``fractions`` of each run's steps and predict its
    final loss (laws that need a schedule skip runs without one)."""
    fractions = tuple(check_fraction(f) for f in fractions)
    rows = []
    for rc in curves:
        for law in laws:
            if law != "power" and rc.curve.lr is None:
                continue
            for f in fractions:
                row: dict[str, Any] = {"run_id": rc.run_id, "law": law, "fraction": f}
                try:
                    p = predict_run(rc.curve, f, law=law, n_bootstrap=0, run_id=rc.run_id)
                except ScalingLawsError as exc:
                    row.update(error=str(exc))
                    rows.append(row)
                    continue
                row.update(
                    predicted=p.predicted_final,
                    observed=p.observed_final,
                    relative_error=p.relative_error,
                    n_points=p.fit.n_points,
                )
                rows.append(row)
    summary = []
    for law in laws:
        for f in fractions:
            errs = [
                abs(r["relative_error"])
                for r in rows
                if r["law"] == law and r["fraction"] == f and r.get("relative_error") is not None
            ]
            failed = sum(1 for r in rows if r["law"] == law and r["fraction"] == f and "error" in r)
            if not errs and not failed:
                continue
            summary.append(
                {
                    "law": law,
                    "fraction": f,
                    "n_runs": len(errs),
                    "n_failed": failed,
                    "mean_abs_relative_error": float(np.mean(errs)) if errs else None,
                    "max_abs_relative_error": float(np.max(errs)) if errs else None,
                }
            )
    return CurveBacktest(rows, summary)


def seed_spread(curves: list[RunCurve]) -> list[dict[str, Any]]:
    """Per model size N: the final losses over seeds, their mean, standard deviation and
    relative standard deviation (the noise floor a final-loss prediction is judged by)."""
    out = []
    for N in sorted({c.N for c in curves}):
        finals = np.array([c.final_loss for c in curves if c.N == N])
        out.append(
            {
                "N": N,
                "n_seeds": int(finals.size),
                "mean_final": float(finals.mean()),
                "sd_final": float(finals.std(ddof=1)) if finals.size > 1 else None,
                "relative_sd": float(finals.std(ddof=1) / finals.mean())
                if finals.size > 1
                else None,
            }
        )
    return out
