"""One self-contained HTML report of a scaling-law analysis, with its figures and numbers.

:func:`build_report` takes a runs table (CSV, Parquet, JSON Lines, a DataFrame or a
:class:`~scalinglaws.runs.Runs`), a saved fit (``Fit.to_json`` output) or a sweep folder
(``runs.csv`` and, optionally, ``curves.csv`` and ``plan.toml``) and writes to ``out_dir``:

* ``report.html`` -- one file that opens without a network: CSS inline, figures inline as
  base64 PNG, the numbers of the report embedded as JSON (``<script type="application/json"
  id="report-data">``);
* ``report.json`` -- every number the HTML shows (each HTML cell that shows a number carries
  ``data-key``, a JSON Pointer into this file, so the two can be checked against each other);
* ``figures/<name>.png`` and ``.svg``;
* ``fit_approach<k>.json`` -- each fit in full (``Fit.from_json`` reloads it).

The analysis: Approach 3 (Hoffmann et al. 2022 §3.3, the Chinchilla form) always; Approach 2
(IsoFLOP profiles, §3.2) when the runs have FLOP budgets with several model sizes; Approach 1
(envelope of training curves, §3.1) when they have curves; the compute-optimal N*, D*, L* at the
requested budgets with bootstrap intervals, PF-days and time on stated hardware (every approach
splitting a budget C into N and D by one convention: C = k·N·D, or for a sweep folder with its
plan.toml the sweep's own C = f(N)·D, :class:`scalinglaws.sweep.family.FamilyFlops`); diagnostics
and warnings in words; an extrapolation backtest (fit below the 75th percentile of compute,
predict above); and the comparison with every published preset.

The package, in the order a report is made:

* :mod:`~scalinglaws.report.settings` -- :class:`ReportSettings`, every option validated once;
* :mod:`~scalinglaws.report.sweep_folder` -- reading a sweep folder (runs, curves, plan.toml);
* :mod:`~scalinglaws.report.analysis` -- :class:`Analysis`: loading, fitting, backtesting;
* :mod:`~scalinglaws.report.figures` -- every figure drawn once; :func:`make_figure`;
* :mod:`~scalinglaws.report.numbers` -- the numbers of ``report.json``;
* :mod:`~scalinglaws.report.html` -- the page rendered from those numbers;
* :mod:`~scalinglaws.report.formatting` -- how a number is printed;
* :mod:`~scalinglaws.report.build` -- :func:`build_report`, which runs them in turn.
"""

from __future__ import annotations

from scalinglaws.report.analysis import CURVE_MIN_FRACTION, SWEEP_BIN_TOLERANCE, Analysis
from scalinglaws.report.build import ReportResult, build_report
from scalinglaws.report.figures import make_figure
from scalinglaws.report.formatting import format_value
from scalinglaws.report.html import SECTIONS
from scalinglaws.report.numbers import APPROACH_NAMES, SCHEMA
from scalinglaws.report.settings import (
    APPROACH2_DEFAULTS,
    Hardware,
    ReportSettings,
    default_budgets,
)
from scalinglaws.report.sweep_folder import SWEEP_FLOPS_TOLERANCE, SweepData, load_sweep

#: The former private name of :func:`load_sweep` (still imported by tests).
_load_sweep = load_sweep

__all__ = [
    "APPROACH2_DEFAULTS",
    "APPROACH_NAMES",
    "CURVE_MIN_FRACTION",
    "SCHEMA",
    "SECTIONS",
    "SWEEP_BIN_TOLERANCE",
    "SWEEP_FLOPS_TOLERANCE",
    "Analysis",
    "Hardware",
    "ReportResult",
    "ReportSettings",
    "SweepData",
    "build_report",
    "default_budgets",
    "format_value",
    "load_sweep",
    "make_figure",
]
