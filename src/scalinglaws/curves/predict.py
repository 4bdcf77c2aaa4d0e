"""Predict a run's loss curve: the rest of an unfinished run from its first part and its full
schedule, and its final loss under other schedules, with bootstrap intervals.

Intervals: a moving-block bootstrap over the fitted curve points (blocks of consecutive
points, ``block`` long -- by default a tenth of the points -- drawn with replacement until
the replicate has as many points as the fit; Künsch 1989), each replicate refitted from the
fit's optimum.  The interval covers the uncertainty of the fitted parameters given *this*
curve's noise and its serial correlation; it does not cover seed-to-seed variation (a
different seed is a different curve: measure that spread over seeds, as
:func:`scalinglaws.curves.backtest.seed_spread` does) nor a law that is wrong for the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.curves.fit import Curve, CurveFit, fit_curves, refit
from scalinglaws.curves.laws import schedule_terms
from scalinglaws.curves.schedules import Schedule, parse_schedule
from scalinglaws.errors import QuantityError


@dataclass(frozen=True)
class CurvePrediction:
    """What :func:`predict_run` returns: the ``fit`` on the first ``at_fraction`` of the run,
    the ``final_step``, ``predicted_final`` loss with its ``interval`` at ``level``,
    ``observed_final`` (the run's last logged loss, when the run reached ``final_step``) and
    ``relative_error`` = predicted / observed − 1; ``curve`` holds steps, predicted and
    observed losses; ``under`` maps a schedule's text to its predicted final loss and
    interval."""

    fit: CurveFit
    at_fraction: float
    final_step: int
    predicted_final: float
    interval: tuple[float, float] | None
    level: float
    observed_final: float | None
    curve: dict[str, list[float]]
    under: dict[str, dict[str, Any]] = field(default_factory=dict)
    n_bootstrap: int = 0

    @property
    def relative_error(self) -> float | None:
        if self.observed_final is None:
            return None
        return self.predicted_final / self.observed_final - 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.fit.law,
            "run_id": self.fit.run_id,
            "at_fraction": self.at_fraction,
            "fit_until_step": int(self.fit.steps.max()),
            "final_step": self.final_step,
            "predicted_final": self.predicted_final,
            "interval": None if self.interval is None else list(self.interval),
            "level": self.level,
            "n_bootstrap": self.n_bootstrap,
            "interval_method": "moving-block bootstrap over the fitted curve points",
            "observed_final": self.observed_final,
            "relative_error": self.relative_error,
            "under": self.under,
            "fit": {
                k: v
                for k, v in self.fit.to_dict().items()
                if k not in ("steps", "loss", "residuals")
            },
            "curve": self.curve,
        }


def check_fraction(at_fraction: float) -> float:
    f = float(at_fraction)
    if not (0 < f < 1):
        raise QuantityError(
            f"at_fraction must be between 0 and 1 (exclusive), got {at_fraction!r}",
            argument="at_fraction",
        )
    return f


def truncate(curve: Curve, at_fraction: float, final_step: int | None = None) -> Curve:
    """The curve's points up to ``at_fraction`` of its final step (its schedule kept whole)."""
    T = int(np.max(curve.steps)) if final_step is None else int(final_step)
    keep = curve.steps <= at_fraction * T
    x = None if curve.x is None else np.asarray(curve.x)[keep]
    return Curve(curve.steps[keep], curve.loss[keep], curve.lr, curve.warmup, x)


def block_indices(n: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a moving-block bootstrap replicate of n points, blocks of ``block``."""
    block = max(1, min(int(block), n))
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=n_blocks)
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


def _alternative_lr(
    text: str | Schedule, curve: Curve, T: int, peak: float
) -> tuple[Schedule, np.ndarray, int]:
    s = parse_schedule(text, peak=peak, warmup=curve.warmup)
    return s, s.lr(T), s.warmup_steps(T)


def predict_run(
    curve: Curve,
    at_fraction: float,
    law: str = "multi-power",
    under: list[str | Schedule] = (),
    n_bootstrap: int = 30,
    level: float = 0.9,
    block: int | None = None,
    seed: int = 0,
    run_id: str | None = None,
    schedule: str | None = None,
) -> CurvePrediction:
    """Fit ``law`` on the points of ``curve`` up to ``at_fraction`` of its last step, predict
    every step after (under the curve's own full schedule) and the final loss under each
    schedule of ``under`` (text like ``"wsd:decay=0.2"``; peak and warmup default to the
    run's), with ``level`` intervals from ``n_bootstrap`` moving-block bootstrap replicates
    (see the module docstring; 0 for none)."""
    f = check_fraction(at_fraction)
    T = int(np.max(curve.steps)) if curve.lr is None else int(len(curve.lr))
    part = truncate(curve, f, T)
    fit = fit_curves([part], law=law, run_id=run_id, schedule=schedule)
    lr = None if fit.law == "power" else curve.lr
    final_x = None
    if curve.x is not None:
        final_x = np.array([float(np.asarray(curve.x)[np.argmax(curve.steps)])])
    final_terms = schedule_terms(np.array([T]), lr, curve.warmup, final_x)
    pred_final = float(fit.model.loss(final_terms)[0])
    after = np.asarray(curve.steps, dtype=np.int64)
    after_x = None if curve.x is None else np.asarray(curve.x, float)
    pred_curve = fit.model.loss(schedule_terms(after, lr, curve.warmup, after_x))
    peak = float(np.max(curve.lr)) if curve.lr is not None else 1.0
    alts = []
    if under and fit.law == "power":
        raise QuantityError("under needs a schedule law (multi-power or momentum), not power")
    for text in under:
        s, alr, aw = _alternative_lr(text, curve, T, peak)
        alts.append(
            (
                str(text) if isinstance(text, str) else s.text(),
                s,
                schedule_terms(np.array([T]), alr, aw),
            )
        )
    under_out = {
        label: {
            "schedule": s.text(),
            "predicted_final": float(fit.model.loss(t)[0]),
            "interval": None,
        }
        for label, s, t in alts
    }
    interval = None
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        fit_terms = schedule_terms(
            fit.steps.astype(np.int64),
            lr,
            curve.warmup,
            None if part.x is None else np.asarray(part.x)[part.steps > curve.warmup],
        )
        n = fit.steps.size
        b = block or max(2, n // 10)
        finals, alt_finals = [], [[] for _ in alts]
        for _ in range(int(n_bootstrap)):
            idx = block_indices(n, b, rng)
            try:
                theta = refit(fit, fit_terms.take(idx), fit.loss[idx])
            except Exception:  # noqa: BLE001 - a replicate that fails is skipped
                continue
            model = type(fit.model)(*theta)
            finals.append(float(model.loss(final_terms)[0]))
            for j, (_, _, t) in enumerate(alts):
                alt_finals[j].append(float(model.loss(t)[0]))
        q = [(1 - level) / 2, (1 + level) / 2]
        if finals:
            interval = tuple(float(v) for v in np.quantile(finals, q))
            for (label, _, _), vals in zip(alts, alt_finals, strict=True):
                under_out[label]["interval"] = [float(v) for v in np.quantile(vals, q)]
    reached = int(np.max(curve.steps)) == T
    observed = float(curve.loss[np.argmax(curve.steps)]) if reached else None
    return CurvePrediction(
        fit=fit,
        at_fraction=f,
        final_step=T,
        predicted_final=pred_final,
        interval=interval,
        level=float(level),
        observed_final=observed,
        curve={
            "step": after.astype(float).tolist(),
            "predicted": pred_curve.tolist(),
            "observed": curve.loss.tolist(),
        },
        under=under_out,
        n_bootstrap=int(n_bootstrap),
    )
