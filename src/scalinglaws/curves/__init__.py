"""Loss curves under learning-rate schedules: schedules as arrays, the multi-power law (Luo
et al. 2025), Tissue et al. 2024's momentum form and a plain power law in steps, their robust
fits, predictions of unfinished runs and of other schedules, and a backtest over a table."""

from scalinglaws.curves.backtest import CurveBacktest, backtest_curves, seed_spread
from scalinglaws.curves.data import PYTHIA_SCHEDULES, RunCurve, curves_from_runs, find_run
from scalinglaws.curves.fit import Curve, CurveFit, fit_curve, fit_curves
from scalinglaws.curves.laws import (
    LAWS,
    MomentumLaw,
    MultiPowerLaw,
    StepPowerLaw,
    schedule_terms,
)
from scalinglaws.curves.predict import CurvePrediction, predict_run
from scalinglaws.curves.schedules import (
    SCHEDULE_FORM,
    Schedule,
    constant,
    cosine,
    parse_schedule,
    wsd,
)

__all__ = [
    "LAWS",
    "PYTHIA_SCHEDULES",
    "SCHEDULE_FORM",
    "Curve",
    "CurveBacktest",
    "CurveFit",
    "CurvePrediction",
    "MomentumLaw",
    "MultiPowerLaw",
    "RunCurve",
    "Schedule",
    "StepPowerLaw",
    "backtest_curves",
    "constant",
    "cosine",
    "curves_from_runs",
    "find_run",
    "fit_curve",
    "fit_curves",
    "parse_schedule",
    "predict_run",
    "schedule_terms",
    "seed_spread",
    "wsd",
]
