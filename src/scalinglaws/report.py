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
"""

from __future__ import annotations

import base64
import html
import json
import math
import platform
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.errors import (
    DataError,
    FitError,
    QuantityError,
    ScalingLawsError,
    check_writable,
    output_error,
)
from scalinglaws.fit.result import Fit, _jsonable

SCHEMA = "scalinglaws.report/1"
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("fits", "Fits"),
    ("allocation", "Compute-optimal allocation"),
    ("figures", "Figures"),
    ("diagnostics", "Diagnostics and warnings"),
    ("backtest", "Backtest"),
    ("presets", "Published presets"),
    ("method", "Method"),
)
APPROACH_NAMES = {
    "3": "Approach 3: parametric fit of L(N, D) = E + A/N^α + B/D^β",
    "2": "Approach 2: IsoFLOP profiles",
    "1": "Approach 1: envelope of the training curves",
}
#: The report's Approach 2 defaults: a parabola through fewer than 5 sizes is not checked by
#: the data (3 sizes determine it exactly), so sparser budgets are left out (and listed).
APPROACH2_DEFAULTS: dict[str, Any] = {"min_sizes": 5}
_BAND_POINTS = 12
#: Runs of a sweep folder join the nearest of the plan's budgets within this relative
#: difference of C (sweep budgets are spaced by factors of 2 or more).
SWEEP_BIN_TOLERANCE = 0.25
#: When Approach 3 falls back on training curves, checkpoints before this fraction of their
#: run's tokens are left out.
CURVE_MIN_FRACTION = 0.1  # budgets at which Approaches 1 and 2 get intervals for the frontier band


# ============================================================================ result
@dataclass
class ReportResult:
    """What :func:`build_report` wrote and the numbers it showed.

    ``html`` and ``json`` are the report's paths, ``figures`` maps a figure's name to its
    files, ``fits`` maps an approach ("1", "2", "3") to its saved fit, ``numbers`` is the
    content of ``report.json``, ``seconds`` the time the report took.
    """

    out_dir: Path
    html: Path
    json: Path
    figures: dict[str, list[Path]]
    fits: dict[str, Path]
    numbers: dict[str, Any]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        """Every file written."""
        out = [self.html, self.json, *self.fits.values()]
        for files in self.figures.values():
            out += files
        return out


# ============================================================================ formatting
def format_value(value: Any, kind: str = "float") -> str:
    """How the report prints a number: ``"count"`` as 70B / 1.4T, ``"flops"`` as 5.76e23,
    ``"percent"`` as 12.3%, ``"float"`` to 4 significant digits, ``"int"`` with thousands
    separators; None and NaN as an em dash."""
    from scalinglaws.units import format_flops, format_quantity

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "—"
    if kind == "count":
        return format_quantity(x)
    if kind == "flops":
        return format_flops(x)
    if kind == "percent":
        return f"{100 * x:.1f}%"
    if kind == "int":
        return f"{int(round(x)):,}"
    ax = abs(x)
    if 1e3 <= ax < 1e6:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _kind_of(name: str) -> str:
    """The printing kind of a quantity by its name."""
    base = name.split("@", 1)[0]
    if base in ("N_opt", "D_opt", "N", "D", "G", "k_N", "k_D", "N_c", "D_c"):
        return "count"
    if base in ("C", "C_c", "cut") or base.startswith("C_"):
        return "flops"
    return "float"


# ============================================================================ inputs
def _source_kind(source: Any) -> str:
    """ "runs", "fit" or "sweep" for a source, or :class:`DataError` when it does not exist."""
    from scalinglaws.runs import Runs

    if isinstance(source, Fit):
        return "fit"
    if isinstance(source, Runs) or not isinstance(source, (str, Path)):
        return "runs"
    path = Path(source)
    if path.is_dir():
        return "sweep"
    if not path.exists():
        raise DataError(
            f"report source {path} does not exist; give a runs file (CSV, Parquet, JSON Lines), "
            "a saved fit (.json) or a sweep folder holding runs.csv"
        )
    if path.suffix.lower() == ".json":
        head = path.read_text(errors="replace")[:4096].lstrip()
        if head.startswith("{") and '"schema"' in head and "scalinglaws.fit/" in head:
            return "fit"
    return "runs"


#: Largest relative difference between f(N)·D and a sweep run's recorded C before the report
#: warns ``SL-SWEEP-FLOPS-MISMATCH`` (plan.toml then describes other models than runs.csv).
SWEEP_FLOPS_TOLERANCE = 0.1


@dataclass
class _SweepData:
    """What a sweep folder holds: the final runs, the curves (or None), the plan's IsoFLOP
    budgets, the sweep's f(N) (None without plan.toml) and how well f(N)·D reproduces the
    recorded C of the runs (``{"max": ..., "median": ...}`` relative differences)."""

    runs: Any
    curves: Any
    budgets: list[float]
    flops: Any = None
    flops_check: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)


def _load_quietly(mismatch_seen: bool, load: Any) -> tuple[Any, bool]:
    """Run ``load()`` and re-emit its warnings, except ``SL-RUNS-FLOPS-MISMATCH`` when it was
    already emitted for this sweep (runs.csv and curves.csv record the same runs' C, so the
    second warning says nothing new); returns (result, whether the mismatch was emitted)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = load()
    return result, _reemit(caught, mismatch_seen)


def _reemit(caught: Sequence[warnings.WarningMessage], skip_mismatch: bool) -> bool:
    """Re-emit ``caught`` warnings, leaving out ``SL-RUNS-FLOPS-MISMATCH`` when
    ``skip_mismatch``; returns whether the mismatch is now said (or was to be skipped)."""
    for w in caught:
        is_mismatch = getattr(w.message, "code", None) == "SL-RUNS-FLOPS-MISMATCH"
        if is_mismatch and skip_mismatch:
            continue
        skip_mismatch = skip_mismatch or is_mismatch
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return skip_mismatch


def _load_sweep(folder: Path, columns: Any, k: float) -> _SweepData:
    """The runs, curves, budgets and FLOPs convention of a sweep folder written by
    :mod:`scalinglaws.sweep.runner`: ``runs.csv`` holds one row per run (with the plan's
    ``budget``), ``curves.csv`` (optional) one row per evaluation, ``plan.toml`` the plan (its
    ``[family]`` shape rule and ``[sweep]`` convention give f(N), see :func:`_sweep_flops`).
    Curve rows without a loss are dropped; ``columns`` maps both tables (its L only runs.csv:
    curves use their validation loss).  ``SL-RUNS-FLOPS-MISMATCH`` is warned once (for
    runs.csv), not again for curves.csv, and not at all when the plan's f(N)·D reproduces the
    recorded C (the report states that convention instead)."""
    import pandas as pd

    from scalinglaws.runs import AUTO_NAMES, _parse_columns, load_runs

    runs_file = folder / "runs.csv"
    if not runs_file.is_file():
        present = sorted(p.name for p in folder.iterdir())[:8]
        raise DataError(
            f"sweep folder {folder} has no runs.csv (it holds: {', '.join(present) or 'nothing'}); "
            "give the folder the sweep runner wrote, or a runs file"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = load_runs(runs_file, columns=columns, flops_per_param_token=k)
    budgets: list[float] = []
    raw = pd.read_csv(runs_file)
    if "budget" in raw.columns:
        values = pd.to_numeric(raw["budget"], errors="coerce").to_numpy(dtype=float)
        if values.size and np.all(np.isfinite(values) & (values > 0)):
            budgets = sorted(set(values.tolist()))
    out = _SweepData(runs, None, budgets)
    _sweep_flops(folder, raw, out)
    # C differs from k·N·D because it follows the sweep's own convention: when the plan's f(N)
    # reproduces it, SL-RUNS-FLOPS-MISMATCH (which suggests another k) would mislead.
    explained = bool(
        out.flops is not None
        and out.flops_check
        and out.flops_check["max"] <= SWEEP_FLOPS_TOLERANCE
    )
    seen = _reemit(caught, explained)
    curves_file = folder / "curves.csv"
    if not curves_file.is_file():
        return out
    try:
        table = pd.read_csv(curves_file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{curves_file} is not a readable CSV table ({exc})") from None
    names = {str(c).strip().lower().replace(" ", "_").replace("-", "_"): c for c in table.columns}
    loss_col = next((names[n] for n in AUTO_NAMES["L"] if n in names), None)
    if loss_col is None:
        raise DataError(
            f"{curves_file} has no loss column (looked for {', '.join(AUTO_NAMES['L'][:6])})"
        )
    table = table[table[loss_col].notna()].reset_index(drop=True)
    mapping = {key: col for key, col in _parse_columns(columns).items() if key != "L"}
    curves, _ = _load_quietly(
        seen,
        lambda: load_runs(table, columns={**mapping, "L": str(loss_col)}, flops_per_param_token=k),
    )
    curves.source = str(curves_file)
    out.curves = curves
    return out


def _sweep_flops(folder: Path, raw: Any, out: _SweepData) -> None:
    """Set ``out.flops`` to the sweep's FLOPs per token f(N) and ``out.flops_check`` to how
    well f(N)·D reproduces the recorded C.

    f is :class:`scalinglaws.sweep.family.FamilyFlops` of the ``[family]`` table of the
    folder's ``plan.toml`` under its ``[sweep] convention`` (the plan's default "chinchilla"
    when it names none): the family's shape rule N -> architecture, then
    :func:`scalinglaws.flops.flops_per_token`, smoothed by a monotone interpolation in log-log
    through the family's shapes.  N is non-embedding, as the ``N`` column of ``runs.csv``.
    Without ``plan.toml`` the budgets split as C = k·N·D (said in ``out.notes``).  A plan that
    cannot be read, or a convention that disagrees with the ``convention`` column of
    ``runs.csv``, raises :class:`DataError`; f(N)·D more than
    :data:`SWEEP_FLOPS_TOLERANCE` away from a run's recorded C warns
    ``SL-SWEEP-FLOPS-MISMATCH``.
    """
    from dataclasses import fields

    from scalinglaws.errors import PlanError, UnknownNameError, did_you_mean, warn
    from scalinglaws.sweep.family import FamilyFlops, ModelFamily
    from scalinglaws.sweep.plan import Plan, read_plan_data

    plan_file = folder / "plan.toml"
    if not plan_file.is_file():
        out.notes.append(
            f"the sweep folder has no plan.toml, so its FLOPs convention is unknown: budgets "
            f"split as C = {out.runs.flops_per_param_token:g}·N·D"
        )
        return
    try:
        data = read_plan_data(plan_file)
    except PlanError as exc:
        raise DataError(f"sweep folder {folder}: {exc}") from None
    family_table, sweep_table = data.get("family", {}), data.get("sweep", {})
    if not isinstance(family_table, dict) or not isinstance(sweep_table, dict):
        raise DataError(f"{plan_file}: [family] and [sweep] must be tables of key = value lines")
    names = [f.name for f in fields(ModelFamily)]
    for key in family_table:
        if key not in names:
            raise DataError(
                f"{plan_file}, [family]: unknown key {key!r}" + did_you_mean(str(key), names)
            )
    default = next(f.default for f in fields(Plan) if f.name == "convention")
    try:
        family = ModelFamily(**family_table)
        flops = FamilyFlops(family, sweep_table.get("convention", default))
    except (PlanError, UnknownNameError) as exc:
        raise DataError(f"{plan_file}: {exc}") from None
    if "convention" in raw.columns:
        recorded = sorted({str(v).strip() for v in raw["convention"].dropna()})
        other = [v for v in recorded if v.lower() != flops.convention.lower()]
        if other:
            raise DataError(
                f"{folder / 'runs.csv'} records runs under the {other[0]!r} FLOPs convention but "
                f"{plan_file} says {flops.convention!r}; restore the plan these runs were "
                "trained with"
            )
    runs = out.runs
    ratio = np.asarray(flops(runs.N), dtype=float) * runs.D / runs.C
    dev = np.abs(ratio - 1.0)
    out.flops = flops
    out.flops_check = {"max": float(dev.max()), "median": float(np.median(dev))}
    if dev.max() > SWEEP_FLOPS_TOLERANCE:
        worst = int(np.argmax(dev))
        warn(
            "SL-SWEEP-FLOPS-MISMATCH",
            f"{int((dev > SWEEP_FLOPS_TOLERANCE).sum())} of {len(dev)} runs of {runs.source} "
            f"have a recorded C more than {SWEEP_FLOPS_TOLERANCE:.0%} away from f(N)·D under "
            f"the family and {flops.convention} convention of {plan_file} (worst: f(N)·D/C = "
            f"{ratio[worst]:.3g}, {runs.where(worst)}); the allocation uses f(N)·D, so check "
            "that plan.toml is the plan these runs were trained with",
            stacklevel=3,
        )


def _parse_budgets(budgets: Any) -> list[float]:
    from scalinglaws.units import parse_quantities, parse_quantity

    if budgets is None:
        return []
    if isinstance(budgets, str):
        return parse_quantities(budgets, "budgets")
    if isinstance(budgets, (int, float)):
        return [parse_quantity(budgets, "budgets")]
    return [parse_quantity(b, "budgets") for b in budgets]


def default_budgets(C_max: float) -> list[float]:
    """The three powers of ten above the largest compute in the data: the budgets a team
    plans next (10x to 1000x what it has run)."""
    e = math.floor(math.log10(C_max)) + 1
    return [float(f"1e{e + i}") for i in range(3)]


# ============================================================================ the report
def build_report(
    source: Any,
    out_dir: str | Path,
    budgets: Sequence[float] | str | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
    accelerator: str | None = None,
    devices: int = 1,
    mfu: float = 0.4,
    peak: float | str | None = None,
    columns: Any = None,
    drop_highest: int = 0,
    flops_per_param_token: float = 6.0,
    presets: Sequence[str] | None = None,
    backtest: bool = True,
    backtest_quantile: float = 0.75,
    backtest_level: float = 0.8,
    approach2: dict[str, Any] | None = None,
    approach1: dict[str, Any] | None = None,
    formats: Sequence[str] = ("png", "svg"),
    title: str | None = None,
) -> ReportResult:
    """Fit, allocate, check and draw; write one self-contained HTML report to ``out_dir``.

    ``source``: a runs file or table, a saved fit (``Fit.to_json``), or a sweep folder.
    ``budgets``: FLOP budgets for the compute-optimal table (default: the three powers of ten
    above the data's largest C).  ``n_bootstrap`` replicates (whole runs resampled, ``seed``)
    give intervals at ``level``.  ``accelerator`` (see ``scalinglaws.hardware``), ``devices``,
    ``mfu`` and ``peak`` turn budgets into wall-clock time, t = C / (devices·peak·MFU).
    ``columns``, ``drop_highest`` and ``flops_per_param_token`` are passed to
    :func:`scalinglaws.runs.load_runs`; ``flops_per_param_token`` (k) also splits each budget
    as C = k·N·D, except for a sweep folder holding its ``plan.toml``, whose budgets split as
    C = f(N)·D under the sweep's own convention (the family's shape rule and the plan's
    ``convention``, see :func:`_sweep_flops`) in every approach.  ``presets`` (default: all)
    are compared with the fits.  ``backtest`` fits Approach 3 below the ``backtest_quantile``
    of the runs' compute and predicts the rest with ``backtest_level`` intervals.
    ``approach2`` / ``approach1`` are extra options of those estimators (e.g.
    ``{"bin_tolerance": 0.2}``).

    Raises a :class:`~scalinglaws.errors.ScalingLawsError` for every missing or bad input.
    """
    t0 = time.perf_counter()
    from scalinglaws.fit.powerlaw import check_common

    n_bootstrap, seed, level, _ = check_common(n_bootstrap, seed, level, ())
    requested = _parse_budgets(budgets)
    _check_formats(formats)
    hardware = _hardware(accelerator, peak, mfu, devices)
    preset_names = _check_presets(presets)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"output folder {out} exists and is not a folder; choose another -o")
    check_writable(out, "the report folder", folder=True)  # now, not after the fits
    kind = _source_kind(source)
    _check_options("approach2", approach2, "scalinglaws.fit.isoflop", "Approach2")
    _check_options("approach1", approach1, "scalinglaws.fit.envelope", "Approach1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis = _Analysis(
            source=source,
            kind=kind,
            requested=requested,
            n_bootstrap=n_bootstrap,
            seed=seed,
            level=level,
            columns=columns,
            drop_highest=drop_highest,
            k=flops_per_param_token,
            approach1=approach1 or {},
            approach2={**APPROACH2_DEFAULTS, **(approach2 or {})},
        )
        analysis.run(backtest, backtest_quantile, backtest_level)
    warning_texts = _warning_texts(caught)
    figures_dir = out / "figures"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc, "the report folder") from None
    fig_files, captions, fig_png = _draw_figures(analysis, preset_names, figures_dir, formats)
    analysis.strip_band_budgets()
    fit_files: dict[str, Path] = {}
    for approach, fit in analysis.fits.items():
        path = out / f"fit_approach{approach}.json"
        fit.to_json(path)
        fit_files[approach] = path
    numbers = _numbers(
        analysis, hardware, preset_names, warning_texts, fig_files, captions, out, title
    )
    numbers["settings"]["seconds"] = time.perf_counter() - t0
    numbers = _jsonable(numbers)
    json_path = out / "report.json"
    from scalinglaws.fit.result import _atomic_write

    _atomic_write(json_path, json.dumps(numbers, indent=2))
    html_path = out / "report.html"
    _atomic_write(html_path, _html(numbers, fig_png))
    return ReportResult(
        out_dir=out,
        html=html_path,
        json=json_path,
        figures=fig_files,
        fits=fit_files,
        numbers=numbers,
        seconds=time.perf_counter() - t0,
        warnings=warning_texts,
    )


_COMMON_OPTIONS = ("n_bootstrap", "seed", "level", "budgets")


def _check_options(name: str, options: Any, module: str, cls: str) -> None:
    """Refuse options the estimator does not take (or that the report sets itself)."""
    import importlib
    import inspect

    from scalinglaws.errors import UnknownNameError, did_you_mean

    if not options:
        return
    if not isinstance(options, dict):
        raise DataError(f"{name} must be a dict of {cls} options, got {type(options).__name__}")
    accepted = [
        p
        for p in inspect.signature(getattr(importlib.import_module(module), cls)).parameters
        if p not in _COMMON_OPTIONS
    ]
    for key in options:
        if key not in accepted:
            raise UnknownNameError(
                f"{name} option '{key}' is not an option of {cls}" + did_you_mean(key, accepted)
            )


def _check_formats(formats: Sequence[str]) -> None:
    from scalinglaws.plots import FORMATS

    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    if "png" not in formats:
        raise QuantityError(
            "the report's formats must include png (the HTML embeds the PNG figures), got "
            + ", ".join(formats)
        )
    for f in formats:
        if f not in FORMATS:
            raise QuantityError(f"unknown figure format '{f}'; valid formats are {FORMATS}")


def _check_presets(presets: Sequence[str] | None) -> list[str]:
    from scalinglaws.presets import get_preset, list_presets

    if presets is None:
        return list_presets()
    if isinstance(presets, str):
        presets = [p.strip() for p in presets.split(",") if p.strip()]
    return [get_preset(p).name for p in presets]


def _hardware(accelerator: Any, peak: Any, mfu: Any, devices: Any) -> dict[str, Any] | None:
    """Validate the hardware once (with a 1 FLOP probe); None without an accelerator or peak."""
    from scalinglaws.hardware import estimate_budget
    from scalinglaws.units import parse_count, parse_fraction

    if accelerator is None and peak is None:
        parse_count(devices, "--devices")  # checked even when unused: never a silent guess
        parse_fraction(mfu, "--mfu")
        return None

    probe = estimate_budget(1.0, accelerator, peak=peak, mfu=mfu, devices=devices)
    return {
        "accelerator": probe.accelerator,
        "peak_flops": probe.peak_flops,
        "mfu": probe.mfu,
        "devices": probe.devices,
        "effective_flops_per_second": probe.effective_flops_per_second,
    }


def _warning_texts(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    seen: list[str] = []
    for w in caught:
        text = str(w.message)
        if text not in seen:
            seen.append(text)
    return seen


# ============================================================================ the analysis
class _Analysis:
    """Loads the source, fits what applies, backtests; holds the results for the figures."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)
        self.runs: Any = None  # the table Approaches 2 and 3 are fitted to (final losses)
        self.curves: Any = None  # checkpoints, for Approach 1 and the curve figures
        self.fits: dict[str, Fit] = {}
        self.skipped: dict[str, str] = {}
        self.notes: list[str] = []
        self.backtest: Any = None
        self.backtest_error: str | None = None
        self.budgets: list[float] = []
        self.band: list[float] = []
        self.a3_rows: Any = None
        self.sweep_budgets: list[float] = []  # the plan's IsoFLOP budgets (sweep folders)
        self.flops: Any = None  # the sweep's f(N) (FamilyFlops), None: C = k·N·D
        self.flops_check: dict[str, float] | None = None

    @property
    def per_token(self) -> Any:
        """How every approach splits a budget: the sweep's f(N) (C = f(N)·D), else k."""
        return self.flops if self.flops is not None else self.k

    @property
    def convention(self) -> str:
        """The compute convention of the allocation, in words (for a saved fit: the one it
        records, when it records one)."""
        from scalinglaws.fit.parametric import convention_text

        if self.kind == "fit":
            fit = next(iter(self.fits.values()), None)
            recorded = fit.method.get("compute convention") if fit is not None else None
            if isinstance(recorded, str) and recorded:
                return recorded
        return convention_text(self.per_token)

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        from scalinglaws.runs import Runs, load_runs

        if self.kind == "fit":
            fit = self.source if isinstance(self.source, Fit) else Fit.from_json(self.source)
            self.fits[str(fit.approach)] = fit
            self.source_text = (
                "a Fit object" if isinstance(self.source, Fit) else str(Path(self.source))
            )
            return
        if self.kind == "sweep":
            folder = Path(self.source)
            sweep = _load_sweep(folder, self.columns, self.k)
            runs, curves, self.sweep_budgets = sweep.runs, sweep.curves, sweep.budgets
            self.flops, self.flops_check = sweep.flops, sweep.flops_check
            self.notes += sweep.notes
            if self.flops is not None:
                self.notes.append(
                    "every approach splits its budgets by the sweep's own FLOPs per token, "
                    f"C = f(N)·D ({self.flops.convention} convention on the family's shapes; "
                    "see Data), so SL-RUNS-FLOPS-MISMATCH only says that this C is not 6·N·D; "
                    "Approaches 1 and 2 take N* from their fitted rule N* = k_N·C^a and "
                    "D* = C/f(N*) (their fit files keep the separately fitted D* = k_D·C^b)"
                )
            if self.drop_highest:
                runs = load_runs(runs, drop_highest=self.drop_highest)
            self.source_text = str(folder)
        else:
            loaded = load_runs(
                self.source,
                columns=self.columns,
                flops_per_param_token=self.k,
                drop_highest=self.drop_highest,
            )
            self.source_text = (
                loaded.source
                if not isinstance(self.source, Runs)
                else f"{self.source.source} (Runs)"
            )
            curves = loaded if loaded.has_curves else None
            runs = loaded.final() if loaded.has_curves else loaded
        if len(runs) == 0:
            raise DataError(f"{self.source_text} holds no runs after filtering")
        self.runs, self.curves = runs, curves

    # ------------------------------------------------------------------ fitting
    def run(
        self,
        backtest: bool,
        quantile: float,
        bt_level: float,
        wanted: Sequence[str] = ("3", "2", "1"),
    ) -> None:
        self.load()
        if self.kind == "fit":
            fit = next(iter(self.fits.values()))
            self.budgets = self.requested or _fit_budgets(fit)
            if not self.budgets:
                from scalinglaws.plots import _data_c_range

                rng = _data_c_range([fit], None)
                if rng is None:
                    raise DataError(
                        "a figure or report from a saved fit needs budgets (--budgets 1e22,1e24, "
                        "or budgets='1e22,1e24'): the fit was made without any and records no "
                        "compute range to choose them from"
                    )
                self.budgets = default_budgets(rng[1])
            return
        c_max = float(self.runs.C.max())
        if self.curves is not None:
            c_max = max(c_max, float(self.curves.C.max()))
        c_min = float(self.runs.C.min())
        self.budgets = self.requested or default_budgets(c_max)
        top = max([c_max, *self.budgets])
        self.band = [
            float(c) for c in np.geomspace(c_min, top, _BAND_POINTS) if c not in self.budgets
        ]
        if "3" in wanted:
            self._approach3()
        if "2" in wanted:
            self._approach2()
        if "1" in wanted:
            self._approach1()
        if backtest and "3" in self.fits:
            self._backtest(quantile, bt_level)
        elif backtest:
            self.backtest_error = "Approach 3 could not be fitted, so there is nothing to backtest"
        else:
            self.backtest_error = "the backtest was switched off"

    def _common(self, budgets: Sequence[float]) -> dict[str, Any]:
        return {
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "level": self.level,
            "budgets": list(budgets),
        }

    def _approach3(self) -> None:
        from scalinglaws.fit.parametric import Approach3

        est = Approach3(**self._common(self.budgets), flops_per_token=self.flops)
        rows = self.runs
        try:
            self.fits["3"] = est.fit(rows)
        except FitError as exc:
            if self.curves is None:
                self.skipped["3"] = str(exc)
                return
            # final losses cannot identify the law; the checkpoints can, past the first tenth
            # of each run (warm-up and the initial plateau follow no scaling law)
            from scalinglaws.runs import apply_filters

            try:
                rows = apply_filters(self.curves, min_fraction=CURVE_MIN_FRACTION)
                self.fits["3"] = est.fit(rows)
            except FitError as exc2:
                self.skipped["3"] = str(exc2)
                return
            self.notes.append(
                "Approach 3 was fitted to the training curves (checkpoints from "
                f"{CURVE_MIN_FRACTION:g} of each run's tokens on), because the final losses "
                f"alone cannot identify the law ({exc}); checkpoints before the end of a "
                "learning-rate schedule sit above the loss a run of that length would reach, "
                "so this law is biased towards more tokens"
            )
        self.a3_rows = rows

    def _approach2(self) -> None:
        from scalinglaws.fit.isoflop import Approach2

        options = dict(self.approach2)
        if self.sweep_budgets and "isoflop_budgets" not in options:
            # the plan's budgets are known: bin by them, not by clustering C
            options["isoflop_budgets"] = self.sweep_budgets
            options.setdefault("bin_tolerance", SWEEP_BIN_TOLERANCE)
        est = Approach2(**options, **self._common([*self.budgets, *self.band]))
        try:
            self.fits["2"] = est.fit(self.runs)
        except FitError as exc:
            self.skipped["2"] = f"the runs have no usable IsoFLOP budgets: {exc}"

    def _approach1(self) -> None:
        from scalinglaws.fit.envelope import Approach1

        if self.curves is None:
            self.skipped["1"] = (
                "the runs have one row each, final losses only, and Approach 1 needs training "
                "curves, several checkpoints per run"
            )
            return
        est = Approach1(**self.approach1, **self._common([*self.budgets, *self.band]))
        try:
            self.fits["1"] = est.fit(self.curves)
        except FitError as exc:
            self.skipped["1"] = str(exc)

    def _backtest(self, quantile: float, bt_level: float) -> None:
        from scalinglaws.fit.backtest import backtest
        from scalinglaws.fit.parametric import Approach3

        est = Approach3(
            n_bootstrap=self.n_bootstrap,
            seed=self.seed,
            level=self.level,
            flops_per_token=self.flops,
        )
        try:
            self.backtest = backtest(
                est, self.a3_rows, cut_quantile=quantile, level=bt_level, seed=self.seed
            )
        except ScalingLawsError as exc:
            self.backtest_error = str(exc)

    def strip_band_budgets(self) -> None:
        """Remove the extra budgets asked of Approaches 1 and 2 for the frontier band from
        their derived values, intervals and EXTRAPOLATION diagnostics (they were not asked
        for by the user; the figure has used them)."""
        from scalinglaws.fit.powerlaw import budget_key

        keys = {budget_key(n, c) for c in self.band for n in ("N_opt", "D_opt", "L_opt")}
        keep = {budget_key(n, c) for c in self.budgets for n in ("N_opt", "D_opt", "L_opt")}
        keys -= keep
        band = set(self.band) - set(self.budgets)
        for fit in self.fits.values():
            for table in (fit.derived, fit.stderr, fit.intervals):
                for key in keys & set(table):
                    del table[key]
            fit.diagnostics = [
                d
                for d in fit.diagnostics
                if not (d.code == "EXTRAPOLATION" and d.data.get("budget") in band)
            ]


def _fit_budgets(fit: Fit) -> list[float]:
    out = []
    for key in fit.derived:
        if key.startswith("N_opt@"):
            out.append(float(key.split("@", 1)[1]))
    return sorted(out)


# ============================================================================ figures
def _draw_figures(
    an: _Analysis, preset_names: list[str], folder: Path, formats: Sequence[str]
) -> tuple[dict[str, list[Path]], dict[str, str], dict[str, bytes]]:
    from scalinglaws import plots

    files: dict[str, list[Path]] = {}
    captions: dict[str, str] = {}
    pngs: dict[str, bytes] = {}
    k = an.k  # published presets keep their own C = k·N·D
    f = an.per_token  # the data's convention: the sweep's f(N), else k

    def draw(name: str, caption: str, make: Any) -> None:
        try:
            fig = make()
        except ScalingLawsError as exc:
            an.notes.append(f"figure '{name}' was not drawn: {exc}")
            return
        paths = plots.save(fig, folder / name, formats=formats)
        files[name] = paths
        captions[name] = caption
        pngs[name] = next(p for p in paths if p.suffix == ".png").read_bytes()

    fits = [an.fits[a] for a in ("3", "2", "1") if a in an.fits]
    a3 = an.fits.get("3")
    data = an.runs
    if fits:
        draw(
            "frontier",
            "Compute-optimal parameters N*(C) and tokens D*(C) of every approach, with the "
            f"data's optima, {100 * an.level:g}% bootstrap bands, and the requested budgets "
            "(stars, with intervals); the shaded region lies beyond the data's compute.",
            lambda: plots.plot_frontier(fits, budgets=an.budgets, runs=data, flops_per_token=f),
        )
    if "2" in an.fits:
        draw(
            "isoflop",
            "IsoFLOP profiles (Approach 2): final loss against model size at each budget, the "
            "parabola fitted to each profile, and its minimum (hollow: at the edge of the sizes "
            "sampled, so censored).",
            lambda: plots.plot_isoflop(an.fits["2"], data),
        )
    if a3 is not None and tuple(sorted(a3.law.variables)) == ("D", "N"):
        draw(
            "isoloss",
            "IsoLoss contours of the Approach 3 law over compute and model size, its efficient "
            "frontier (dashed), the runs coloured by loss, and published models.",
            lambda: plots.plot_isoloss(a3, data, flops_per_token=f),
        )
    if data is not None:
        frontier = an.fits.get("2") or an.fits.get("1")
        draw(
            "loss_compute",
            "Loss against compute by model size (Kaplan et al. 2020, Figure 1 style): the "
            f"runs, the Approach 3 law along {an.convention} for each size, its compute-efficient "
            "frontier L*(C), and the loss frontier of Approach "
            + (str(frontier.approach) if frontier else "3")
            + ".",
            lambda: plots.plot_loss_vs_compute(
                an.curves if an.curves is not None else data,
                law=a3 if a3 is not None else None,
                frontier=frontier,
                flops_per_token=f,
            ),
        )
    if an.curves is not None:
        draw(
            "curves",
            "Training curves, with the Approach 3 law L(N, D) drawn along each run's tokens "
            "(fitted to final losses: checkpoints of a long schedule before its end sit above "
            "it).",
            lambda: plots.plot_training_curves(an.curves, law=a3),
        )
    if a3 is not None and an.a3_rows is not None:
        draw(
            "residuals",
            "Approach 3's log-residuals against N, D and C with their binned median: a trend "
            "means the functional form misses the data.",
            lambda: plots.plot_residuals(a3, an.a3_rows),
        )
        draw(
            "predicted",
            "Approach 3's predicted against observed loss.",
            lambda: plots.plot_predicted_vs_observed(a3, an.a3_rows),
        )
    if a3 is not None and a3.extra.get("bootstrap_params"):
        draw(
            "bootstrap",
            "Bootstrap distributions of Approach 3's exponents (whole runs resampled), with "
            "Hoffmann et al.'s and Besiroglu et al.'s values.",
            lambda: plots.plot_bootstrap(a3),
        )
    if an.backtest is not None:
        draw(
            "backtest",
            "Backtest: Approach 3 fitted to the runs at or below the cut predicts the held-out "
            f"runs above it ({100 * an.backtest.level:g}% prediction intervals).",
            lambda: plots.plot_backtest(an.backtest, an.a3_rows),
        )
    c_lo = min([*an.budgets, float(data.C.min()) if data is not None else math.inf]) / 10
    c_hi = max([*an.budgets, 1e25]) * 10
    draw(
        "presets",
        "Compute-optimal model size and tokens per parameter under every published preset and "
        "your fits (Kaplan et al. count non-embedding parameters); dotted lines mark the "
        "requested budgets.",
        lambda: plots.plot_presets(
            preset_names,
            C_range=(c_lo, c_hi),
            fits=fits,
            budgets=an.budgets,
            flops_per_token=k,
            # your fits: over the data and up to 3x beyond the largest budget, no farther
            fit_range=(c_lo * 10, max([*an.budgets, c_lo * 100]) * 3),
        ),
    )
    return files, captions, pngs


# ============================================================================ numbers
def _interval(fit: Fit, key: str) -> list[float] | None:
    ci = fit.intervals.get(key)
    return [float(ci[0]), float(ci[1])] if ci else None


def _fit_numbers(fit: Fit, budgets: list[float], file: str | None) -> dict[str, Any]:
    from scalinglaws.fit.powerlaw import budget_key

    budget_keys = {budget_key(n, c) for c in budgets for n in ("N_opt", "D_opt", "L_opt")}
    derived = {k: v for k, v in fit.derived.items() if "@" not in k or k in budget_keys}
    names = [*fit.params, *derived]
    return {
        "approach": str(fit.approach),
        "title": APPROACH_NAMES.get(str(fit.approach), f"approach {fit.approach}"),
        "law": fit.law.to_dict(),
        "formula": fit.law.formula,
        "params": dict(fit.params),
        "derived": derived,
        "stderr": {k: fit.stderr[k] for k in names if k in fit.stderr},
        "intervals": {k: _interval(fit, k) for k in names if k in fit.intervals},
        "level": fit.level,
        "converged": fit.converged,
        "message": fit.message,
        "method": {k: v for k, v in fit.method.items()},
        "data": {k: v for k, v in fit.data.items()},
        "diagnostics": [
            {"code": d.code, "severity": d.severity, "message": d.message} for d in fit.diagnostics
        ],
        "file": file,
    }


def _replicate_allocations(fit: Fit, budgets: list[float], k: Any) -> dict[str, list]:
    """Intervals of N*, D*, L* at budgets from a (N, D) law's bootstrap replicates (for a
    saved fit asked about budgets it was not fitted with)."""
    from scalinglaws.allocate import allocate
    from scalinglaws.plots import _replicate_laws

    laws = _replicate_laws(fit)
    if len(laws) < 2 or tuple(sorted(fit.law.variables)) != ("D", "N"):
        return {}
    tail = 100 * (1 - fit.level) / 2
    cols: dict[str, list[np.ndarray]] = {"N": [], "D": [], "L": []}
    for law in laws:
        try:
            a = allocate(law, C=np.asarray(budgets), flops_per_token=k)
        except ScalingLawsError:
            continue
        for key in cols:
            cols[key].append(np.atleast_1d(np.asarray(getattr(a, key), dtype=float)))
    out: dict[str, list] = {}
    for key, rows in cols.items():
        if len(rows) >= 2:
            lo, hi = np.nanpercentile(np.array(rows), [tail, 100 - tail], axis=0)
            out[key] = [[float(a), float(b)] for a, b in zip(lo, hi, strict=True)]
    return out


def _allocation_rows(an: _Analysis, hardware: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per approach and budget: N*, D*, L* with intervals, all under the analysis's
    compute convention (:attr:`_Analysis.convention`).  With a sweep's f(N), Approach 3's
    derived values already satisfy C = f(N*)·D*; Approaches 1 and 2 (rules N* = k_N·C^a,
    D* = k_D·C^b fitted separately) keep N* and take D* = C/f(N*), whose interval is the
    image of N*'s (f is increasing, so D*'s percentiles are C/f of N*'s, swapped)."""
    from scalinglaws.allocate import allocate
    from scalinglaws.fit.parametric import convention_text
    from scalinglaws.fit.powerlaw import budget_key
    from scalinglaws.units import PF_DAY

    rows = []
    for approach in ("3", "2", "1", "power"):
        fit = an.fits.get(approach)
        if fit is None:
            continue
        reps = None
        by_rule = an.flops is not None and tuple(sorted(fit.law.variables)) != ("D", "N")
        for c in an.budgets:
            keys = {n: budget_key(f"{n}_opt", c) for n in ("N", "D", "L")}
            values: dict[str, float] = {}
            if all(keys[n] in fit.derived for n in ("N", "D")):
                values = {n: float(fit.derived.get(keys[n], math.nan)) for n in ("N", "D", "L")}
            else:
                try:
                    a = allocate(fit, C=c, flops_per_token=an.per_token)
                except ScalingLawsError as exc:
                    an.notes.append(f"approach {approach} cannot allocate {c:.3g} FLOPs: {exc}")
                    continue
                values = {n: float(getattr(a, n)) for n in ("N", "D", "L")}
                fallback = convention_text(an.per_token)
                if an.convention != fallback:
                    an.notes.append(
                        f"approach {approach} at {c:.3g} FLOPs: the saved fit was made under "
                        f"'{an.convention}', which a saved fit cannot rebuild, so this budget "
                        f"splits as {fallback}"
                    )
            if by_rule:
                values["D"] = _tokens_of(an.flops, c, values["N"])
            row: dict[str, Any] = {
                "approach": approach,
                "C": c,
                "N": values["N"],
                "D": values["D"],
                "L": values["L"],
                "tokens_per_param": values["D"] / values["N"],
                "pf_days": c / PF_DAY,
                "compute_convention": an.convention,
            }
            for n in ("N", "D", "L"):
                row[f"{n}_interval"] = _interval(fit, keys[n])
            if row["N_interval"] is None and fit.extra.get("bootstrap_params"):
                if reps is None:
                    reps = _replicate_allocations(fit, an.budgets, an.per_token)
                i = an.budgets.index(c)
                for n in ("N", "D", "L"):
                    if n in reps:
                        row[f"{n}_interval"] = reps[n][i]
            if by_rule:
                ci = row["N_interval"]
                row["D_interval"] = (
                    sorted(_tokens_of(an.flops, c, x) for x in ci) if ci is not None else None
                )
            if hardware is not None:
                seconds = c / hardware["effective_flops_per_second"]
                row["days"] = seconds / 86_400.0
                row["device_hours"] = hardware["devices"] * seconds / 3_600.0
            rows.append(row)
    return rows


def _tokens_of(f: Any, C: float, N: float) -> float:
    """D = C/f(N) for a usable N (a positive finite number), else NaN."""
    if not (math.isfinite(N) and N > 0):
        return math.nan
    return C / float(f(N))


def _preset_rows(names: list[str], budgets: list[float], k: float) -> list[dict[str, Any]]:
    from scalinglaws.allocate import allocate
    from scalinglaws.plots import preset_label
    from scalinglaws.presets import get_preset

    rows = []
    for name in names:
        p = get_preset(name)
        a = allocate(p, C=np.asarray(budgets, dtype=float), flops_per_token=k)
        for i, c in enumerate(budgets):
            n = float(np.atleast_1d(a.N)[i])
            d = float(np.atleast_1d(a.D)[i])
            rows.append(
                {
                    "preset": p.name,
                    "label": preset_label(p),
                    "citation": str(p.citation),
                    "n_counts": p.n_counts,
                    "C": c,
                    "N": n,
                    "D": d,
                    "L": float(np.atleast_1d(a.L)[i]),
                    "tokens_per_param": d / n,
                }
            )
    return rows


def _data_numbers(an: _Analysis) -> dict[str, Any]:
    if an.runs is None:
        fit = next(iter(an.fits.values()))
        return {"from_fit": True, "recorded": dict(fit.data)}
    r = an.runs

    def rng(x: np.ndarray) -> list[float]:
        return [float(np.min(x)), float(np.max(x))]

    out: dict[str, Any] = {
        "from_fit": False,
        "source": an.source_text,
        "rows": len(r),
        "runs": int(r.n_runs),
        "model_sizes": int(np.unique(r.N).size),
        "columns": r.mapping_text(),
        "flops_per_param_token": r.flops_per_param_token,
        "compute_convention": an.convention,
        "filters": list(r.filters),
        "N_range": rng(r.N),
        "D_range": rng(r.D),
        "C_range": rng(r.C),
        "L_range": rng(r.L),
        "tokens_per_param_range": rng(r.D / r.N),
        "has_curves": an.curves is not None,
    }
    if an.flops_check is not None:
        out["flops_check"] = dict(an.flops_check)
    if an.curves is not None:
        out["checkpoints"] = len(an.curves)
        out["curve_runs"] = int(an.curves.n_runs)
    if "2" in an.fits:
        profiles = an.fits["2"].extra.get("profiles") or []
        out["isoflop_budgets"] = len(profiles)
    return out


def _backtest_numbers(an: _Analysis) -> dict[str, Any]:
    bt = an.backtest
    if bt is None:
        return {"done": False, "reason": an.backtest_error}
    table = bt.table
    held = []
    for _, row in table.iterrows():
        item = {
            "run_id": str(row["run_id"]),
            "N": float(row["N"]),
            "D": float(row["D"]),
            "C": float(row["C"]),
            "L": float(row["L"]),
            "L_pred": float(row["L_pred"]),
            "rel_error": float(row["rel_error"]),
        }
        if "low" in table.columns:
            item.update(low=float(row["low"]), high=float(row["high"]), inside=bool(row["inside"]))
        held.append(item)
    return {
        "done": True,
        "cut": bt.cut,
        "cut_quantile": bt.cut_quantile,
        "level": bt.level,
        "kind": bt.kind,
        "n_train_runs": bt.n_train_runs,
        "n_test_runs": bt.n_test_runs,
        "mean_abs_rel_error": bt.mean_abs_rel_error,
        "max_abs_rel_error": bt.max_abs_rel_error,
        "coverage": bt.coverage,
        "interval_method": bt.interval_method,
        "notes": list(bt.notes),
        "fit_params": dict(bt.fit.params),
        "held_out": held,
    }


def _numbers(
    an: _Analysis,
    hardware: dict[str, Any] | None,
    preset_names: list[str],
    warning_texts: list[str],
    fig_files: dict[str, list[Path]],
    captions: dict[str, str],
    out: Path,
    title: str | None,
) -> dict[str, Any]:
    from scalinglaws import __version__

    fits = {a: _fit_numbers(f, an.budgets, f"fit_approach{a}.json") for a, f in an.fits.items()}
    diagnostics = [{"approach": a, **d} for a, f in fits.items() for d in f["diagnostics"]]
    return {
        "schema": SCHEMA,
        "title": title or f"Scaling-law report: {Path(str(an.source_text)).name}",
        "source": {"kind": an.kind, "text": an.source_text},
        "settings": {
            "budgets": list(an.budgets),
            "n_bootstrap": an.n_bootstrap,
            "seed": an.seed,
            "level": an.level,
            "flops_per_param_token": an.k,
            "compute_convention": an.convention,
            "sweep_flops": an.flops.to_dict() if an.flops is not None else None,
            "drop_highest": an.drop_highest,
            "hardware": hardware,
            "package_version": __version__,
            "python": platform.python_version(),
        },
        "data": _data_numbers(an),
        "fits": fits,
        "not_fitted": dict(an.skipped),
        "allocation": _allocation_rows(an, hardware),
        "diagnostics": diagnostics,
        "warnings": list(warning_texts),
        "notes": list(an.notes),
        "backtest": _backtest_numbers(an),
        "presets": _preset_rows(preset_names, an.budgets, an.k),
        "figures": {
            name: {
                "caption": captions[name],
                "files": [str(p.relative_to(out)) for p in paths],
            }
            for name, paths in fig_files.items()
        },
    }


# ============================================================================ HTML
_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d2430;
background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:0 24px 48px}
header{background:#0b3d66;color:#fff;padding:20px 24px}
header h1{margin:0 0 4px;font-size:24px} header p{margin:2px 0;opacity:.9}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:8px 24px;z-index:2}
nav a{margin-right:14px;color:#0b3d66;text-decoration:none;font-size:14px}
h2{border-bottom:2px solid #0b3d66;padding-bottom:4px;margin-top:36px}
h3{margin-top:24px}
table{border-collapse:collapse;margin:10px 0;font-size:13.5px;background:#fff}
th,td{border:1px solid #d8dde3;padding:4px 9px;text-align:right;vertical-align:top}
th{background:#eef2f6} td:first-child,th:first-child{text-align:left}
td.text{text-align:left}
.headline{font-size:16px;background:#fff;border-left:4px solid #0b3d66;padding:10px 14px}
figure{margin:18px 0;background:#fff;border:1px solid #e2e6ea;padding:10px}
figure img{max-width:100%;height:auto} figcaption{font-size:13.5px;color:#444}
.sev-warning{color:#a35400;font-weight:600} .sev-error{color:#b00020;font-weight:600}
.sev-info{color:#44617b}
.note{color:#555;font-size:13.5px} code{background:#eef2f6;padding:0 3px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13.5px}
dt{font-weight:600;color:#333} dd{margin:0}
"""


def _ptr(*parts: Any) -> str:
    """A JSON Pointer (RFC 6901) to a value of report.json."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _num(value: Any, kind: str, *path: Any, tag: str = "td") -> str:
    """A cell showing a number, tagged with its JSON Pointer and exact value."""
    text = html.escape(format_value(value, kind))
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"<{tag}>{text}</{tag}>"
    return (
        f'<{tag} data-key="{html.escape(_ptr(*path))}" data-value="{html.escape(repr(value))}" '
        f'data-format="{kind}">{text}</{tag}>'
    )


def _interval_cell(ci: Any, kind: str, *path: Any) -> str:
    if not ci:
        return "<td>—</td>"
    lo = _num(ci[0], kind, *path, 0, tag="span")
    hi = _num(ci[1], kind, *path, 1, tag="span")
    return f"<td>[{lo}, {hi}]</td>"


def _text(value: Any) -> str:
    return html.escape(str(value))


def _html(numbers: dict[str, Any], pngs: dict[str, bytes]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(numbers['title'])}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_text(numbers['title'])}</h1>",
        f"<p>Source: {_text(numbers['source']['text'])} ({_text(numbers['source']['kind'])})</p>",
        f"<p>scalinglaws {_text(numbers['settings']['package_version'])}; "
        f"{numbers['settings']['n_bootstrap']} bootstrap replicates, seed "
        f"{numbers['settings']['seed']}</p></header>",
        "<nav>" + "".join(f'<a href="#{sid}">{name}</a>' for sid, name in SECTIONS) + "</nav>",
        "<main>",
        _summary_html(numbers),
        _data_html(numbers),
        _fits_html(numbers),
        _allocation_html(numbers),
        _figures_html(numbers, pngs),
        _diagnostics_html(numbers),
        _backtest_html(numbers),
        _presets_html(numbers),
        _method_html(numbers),
        "</main>",
        '<script type="application/json" id="report-data">'
        + json.dumps(numbers).replace("</", "<\\/")
        + "</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _section(sid: str, body: str) -> str:
    name = dict(SECTIONS)[sid]
    return f'<section id="{sid}"><h2>{name}</h2>\n{body}\n</section>'


def _summary_html(nb: dict[str, Any]) -> str:
    rows = nb["allocation"]
    items = []
    for i, row in enumerate(rows):
        a = row["approach"]
        ci = row.get("N_interval")
        lvl = nb["fits"].get(a, {}).get("level", 0.95)
        interval = (
            " ["
            + _num(ci[0], "count", "allocation", i, "N_interval", 0, tag="span")
            + "–"
            + _num(ci[1], "count", "allocation", i, "N_interval", 1, tag="span")
            + f", {100 * lvl:g}%]"
            if ci
            else ""
        )
        items.append(
            "<li>"
            + f"Approach {_text(a)} at "
            + _num(row["C"], "flops", "allocation", i, "C", tag="span")
            + " FLOPs: train "
            + _num(row["N"], "count", "allocation", i, "N", tag="span")
            + f" parameters{interval} on "
            + _num(row["D"], "count", "allocation", i, "D", tag="span")
            + " tokens ("
            + _num(
                row["tokens_per_param"], "float", "allocation", i, "tokens_per_param", tag="span"
            )
            + " tokens per parameter), expected loss "
            + _num(row["L"], "float", "allocation", i, "L", tag="span")
            + " nats per token."
            + "</li>"
        )
    body = '<div class="headline"><ul>' + "".join(items) + "</ul></div>"
    if not rows:
        body = '<p class="headline">No approach could be fitted; see Fits.</p>'
    a3 = nb["fits"].get("3")
    if a3 and "a" in a3["derived"]:
        body += (
            "<p>Approach 3 puts parameters and data in the ratio N* ∝ C<sup>a</sup> with a = "
            + _num(a3["derived"]["a"], "float", "fits", "3", "derived", "a", tag="span")
            + " (Hoffmann et al. 2022 print 0.46 for their Approach 3 and 0.49–0.50 for "
            "Approaches 1 and 2; Kaplan et al. 2020 0.73).</p>"
        )
    worst = [d for d in nb["diagnostics"] if d["severity"] in ("warning", "error")]
    if worst:
        body += (
            f'<p class="sev-warning">{len(worst)} warning(s) about the fits: see '
            '<a href="#diagnostics">Diagnostics</a>.</p>'
        )
    return _section("summary", body)


def _data_html(nb: dict[str, Any]) -> str:
    from scalinglaws.flops import CONVENTION_SOURCES

    d = nb["data"]
    if d.get("from_fit"):
        rec = d.get("recorded", {})
        body = "<p>This report was made from a saved fit; the runs are not available. The fit " \
            "records its data as:</p><dl>" + "".join(
                f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in rec.items()
            ) + "</dl>"  # fmt: skip
        return _section("data", body)
    rows = [
        ("rows fitted (final losses)", _num(d["rows"], "int", "data", "rows")),
        ("runs", _num(d["runs"], "int", "data", "runs")),
        ("distinct model sizes", _num(d["model_sizes"], "int", "data", "model_sizes")),
    ]
    if d.get("has_curves"):
        rows.append(("checkpoints (curves)", _num(d["checkpoints"], "int", "data", "checkpoints")))
    if "isoflop_budgets" in d:
        rows.append(
            ("IsoFLOP budgets found", _num(d["isoflop_budgets"], "int", "data", "isoflop_budgets"))
        )
    for key, label, kind in (
        ("N_range", "parameters N", "count"),
        ("D_range", "tokens D", "count"),
        ("C_range", "compute C (FLOPs)", "flops"),
        ("L_range", "loss L (nats per token)", "float"),
        ("tokens_per_param_range", "tokens per parameter D/N", "float"),
    ):
        lo = _num(d[key][0], kind, "data", key, 0, tag="span")
        hi = _num(d[key][1], kind, "data", key, 1, tag="span")
        rows.append((label, f"<td>{lo} to {hi}</td>"))
    table = "<table>" + "".join(f"<tr><th>{_text(a)}</th>{b}</tr>" for a, b in rows) + "</table>"
    filters = d["filters"] or ["none"]
    convention = f"Compute convention: {_text(d['compute_convention'])}."
    sweep = nb["settings"].get("sweep_flops")
    if sweep:
        check = d.get("flops_check") or {}
        convention = (
            f"Compute convention: {_text(d['compute_convention'])}: C = f(N)·D with f(N) the "
            f"training FLOPs per token of the family's model of N non-embedding parameters "
            f"under the {_text(sweep['convention'])} convention "
            f"({_text(CONVENTION_SOURCES.get(sweep['convention'], 'scalinglaws.flops'))}), "
            f"smoothed by a {_text(sweep['interpolation'])}; every approach splits its budgets "
            "this way. f(N)·D reproduces the runs' recorded C to a relative difference of at "
            "most "
            + _num(check.get("max"), "float", "data", "flops_check", "max", tag="span")
            + " (median "
            + _num(check.get("median"), "float", "data", "flops_check", "median", tag="span")
            + ")."
        )
    body = (
        f"<p>Source: <code>{_text(d['source'])}</code>. Columns: {_text(d['columns'])}. "
        f"{convention}</p>"
        + table
        + "<p>Filters applied:</p><ul>"
        + "".join(f"<li>{_text(f)}</li>" for f in filters)
        + "</ul>"
    )
    return _section("data", body)


def _param_rows(fnb: dict[str, Any], a: str, table: str) -> str:
    out = []
    for name, value in fnb[table].items():
        kind = _kind_of(name)
        se = fnb["stderr"].get(name)
        ci = fnb["intervals"].get(name)
        out.append(
            f"<tr><td>{_text(name)}</td>"
            + _num(value, kind, "fits", a, table, name)
            + (_num(se, kind, "fits", a, "stderr", name) if se is not None else "<td>—</td>")
            + _interval_cell(ci, kind, "fits", a, "intervals", name)
            + "</tr>"
        )
    return "".join(out)


def _fits_html(nb: dict[str, Any]) -> str:
    parts = []
    for a in ("3", "2", "1", "power"):
        f = nb["fits"].get(a)
        if f is None:
            continue
        pct = f"{100 * f['level']:g}%"
        head = f"<tr><th>quantity</th><th>estimate</th><th>std err</th><th>{pct} interval</th></tr>"
        conv = "converged" if f["converged"] else "DID NOT CONVERGE"
        method = "".join(
            f"<dt>{_text(k)}</dt>"
            + (
                _num(v, "float", "fits", a, "method", k, tag="dd")
                if isinstance(v, (int, float)) and not isinstance(v, bool)
                else f"<dd>{_text(v)}</dd>"
            )
            for k, v in f["method"].items()
        )
        parts.append(
            f"<h3>{_text(f['title'])}</h3>"
            f"<p>Law: <code>{_text(f['formula'])}</code>; {conv}"
            + (f" ({_text(f['message'])})" if f["message"] else "")
            + f". Saved as <code>{_text(f['file'])}</code>.</p>"
            + "<table>"
            + head
            + _param_rows(f, a, "params")
            + _param_rows(f, a, "derived")
            + "</table>"
            + f"<details><summary>How it was estimated</summary><dl>{method}</dl></details>"
        )
    for a, reason in nb["not_fitted"].items():
        parts.append(
            f"<h3>{_text(APPROACH_NAMES.get(a, a))}</h3><p class='note'>Not fitted: "
            f"{_text(reason.rstrip('.'))}.</p>"
        )
    return _section("fits", "".join(parts) or "<p>No fit.</p>")


def _allocation_html(nb: dict[str, Any]) -> str:
    hw = nb["settings"]["hardware"]
    cols = [
        "approach",
        "budget C (FLOPs)",
        "PF-days",
        "N* (parameters)",
        "interval",
        "D* (tokens)",
        "interval",
        "tokens / parameter",
        "L* (nats)",
        "interval",
    ]
    if hw:
        cols += ["days", "device-hours"]
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
    body = []
    for i, r in enumerate(nb["allocation"]):
        p = ("allocation", i)
        cells = [
            f"<td>{_text(r['approach'])}</td>",
            _num(r["C"], "flops", *p, "C"),
            _num(r["pf_days"], "float", *p, "pf_days"),
            _num(r["N"], "count", *p, "N"),
            _interval_cell(r["N_interval"], "count", *p, "N_interval"),
            _num(r["D"], "count", *p, "D"),
            _interval_cell(r["D_interval"], "count", *p, "D_interval"),
            _num(r["tokens_per_param"], "float", *p, "tokens_per_param"),
            _num(r["L"], "float", *p, "L"),
            _interval_cell(r["L_interval"], "float", *p, "L_interval"),
        ]
        if hw:
            cells += [_num(r["days"], "float", *p, "days"), _num(r["device_hours"], "float", *p,
                                                                  "device_hours")]  # fmt: skip
        body.append("<tr>" + "".join(cells) + "</tr>")
    if hw:
        hw_text = (
            f"<p>Time on {_text(hw['accelerator'] or 'the stated accelerator')}: "
            + _num(hw["devices"], "int", "settings", "hardware", "devices", tag="span")
            + " device(s) at "
            + _num(hw["peak_flops"], "flops", "settings", "hardware", "peak_flops", tag="span")
            + " FLOP/s peak and MFU "
            + _num(hw["mfu"], "float", "settings", "hardware", "mfu", tag="span")
            + ": t = C / (devices · peak · MFU).</p>"
        )
    else:
        hw_text = (
            "<p class='note'>Give an accelerator (e.g. <code>--accelerator h100 --devices 8 "
            "--mfu 0.4</code>) to see the training time of each budget.</p>"
        )
    convention = nb["settings"].get("compute_convention")
    body_text = (
        "<p>The compute-optimal model size N*, tokens D* and loss L* at each requested budget, "
        "with bootstrap intervals; 1 PF-day = 8.64e19 FLOPs. "
        + (f"Compute convention of every row: {_text(convention)}." if convention else "")
        + (
            " Approaches 1 and 2 give N* by their fitted rule and D* = C/f(N*)."
            if nb["settings"].get("sweep_flops")
            else ""
        )
        + "</p>"
        + f"<table>{head}{''.join(body)}</table>"
        + hw_text
    )
    return _section("allocation", body_text)


def _figures_html(nb: dict[str, Any], pngs: dict[str, bytes]) -> str:
    parts = []
    for name, info in nb["figures"].items():
        data = base64.b64encode(pngs[name]).decode("ascii")
        svg = next((f for f in info["files"] if f.endswith(".svg")), None)
        link = f' (<a href="{html.escape(svg)}">SVG</a>)' if svg else ""
        parts.append(
            f'<figure id="figure-{html.escape(name)}"><img alt="{html.escape(name)}" '
            f'src="data:image/png;base64,{data}"><figcaption><b>{_text(name)}</b>: '
            f"{_text(info['caption'])}{link}</figcaption></figure>"
        )
    return _section("figures", "".join(parts))


def _diagnostics_html(nb: dict[str, Any]) -> str:
    items = [
        f"<li><span class='sev-{_text(d['severity'])}'>{_text(d['severity'])}</span> "
        f"(approach {_text(d['approach'])}, <code>{_text(d['code'])}</code>): "
        f"{_text(d['message'])}</li>"
        for d in nb["diagnostics"]
    ]
    body = "<h3>Findings about the fits</h3>" + (
        "<ul>" + "".join(items) + "</ul>" if items else "<p>None.</p>"
    )
    body += "<h3>Warnings raised while loading and fitting</h3>" + (
        "<ul>" + "".join(f"<li>{_text(w)}</li>" for w in nb["warnings"]) + "</ul>"
        if nb["warnings"]
        else "<p>None.</p>"
    )
    if nb["notes"]:
        body += "<h3>Notes</h3><ul>" + "".join(f"<li>{_text(n)}</li>" for n in nb["notes"])
        body += "</ul>"
    return _section("diagnostics", body)


def _backtest_html(nb: dict[str, Any]) -> str:
    bt = nb["backtest"]
    if not bt.get("done"):
        reason = str(bt.get("reason") or "").rstrip(".")
        return _section("backtest", f"<p class='note'>Not run: {_text(reason)}.</p>")
    p = ("backtest",)
    cov = (
        ", and "
        + _num(bt["coverage"], "percent", *p, "coverage", tag="span")
        + f" of the held-out losses fall inside their {100 * bt['level']:g}% prediction "
        "intervals"
        if bt["coverage"] is not None
        else " (no intervals: the fit was not bootstrapped)"
    )
    text = (
        "<p>Approach 3 was fitted to the "
        + _num(bt["n_train_runs"], "int", *p, "n_train_runs", tag="span")
        + " runs whose compute is at or below "
        + _num(bt["cut"], "flops", *p, "cut", tag="span")
        + " FLOPs and predicted the "
        + _num(bt["n_test_runs"], "int", *p, "n_test_runs", tag="span")
        + " runs above it: mean absolute relative error "
        + _num(bt["mean_abs_rel_error"], "percent", *p, "mean_abs_rel_error", tag="span")
        + " (largest "
        + _num(bt["max_abs_rel_error"], "percent", *p, "max_abs_rel_error", tag="span")
        + ")"
        + cov
        + ".</p>"
    )
    has_ci = any("low" in h for h in bt["held_out"])
    cols = ["run", "N", "D", "C (FLOPs)", "L", "predicted L̂", "|L̂ − L| / L"]
    cols += ["low", "high", "inside"] if has_ci else []
    rows = []
    for i, h in enumerate(bt["held_out"]):
        q = ("backtest", "held_out", i)
        cells = [
            f"<td>{_text(h['run_id'])}</td>",
            _num(h["N"], "count", *q, "N"),
            _num(h["D"], "count", *q, "D"),
            _num(h["C"], "flops", *q, "C"),
            _num(h["L"], "float", *q, "L"),
            _num(h["L_pred"], "float", *q, "L_pred"),
            _num(h["rel_error"], "percent", *q, "rel_error"),
        ]
        if has_ci:
            cells += [
                _num(h["low"], "float", *q, "low"),
                _num(h["high"], "float", *q, "high"),
                f"<td>{'yes' if h['inside'] else 'no'}</td>",
            ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = (
        "<details><summary>Held-out runs</summary><table><tr>"
        + "".join(f"<th>{c}</th>" for c in cols)
        + "</tr>"
        + "".join(rows)
        + "</table></details>"
    )
    notes = "".join(f"<li>{_text(n)}</li>" for n in bt["notes"])
    method = f"<p class='note'>Intervals: {_text(bt['interval_method'])}.</p>"
    return _section("backtest", text + table + method + (f"<ul>{notes}</ul>" if notes else ""))


def _presets_html(nb: dict[str, Any]) -> str:
    s_k = nb["settings"]["flops_per_param_token"]
    cols = ["preset", "N counts", "budget C", "N*", "D*", "tokens / parameter", "L*"]
    rows = []
    for i, r in enumerate(nb["presets"]):
        q = ("presets", i)
        rows.append(
            "<tr>"
            + f"<td title='{_text(r['citation'])}'>{_text(r['label'])}</td>"
            + f"<td>{_text(r['n_counts'])}</td>"
            + _num(r["C"], "flops", *q, "C")
            + _num(r["N"], "count", *q, "N")
            + _num(r["D"], "count", *q, "D")
            + _num(r["tokens_per_param"], "float", *q, "tokens_per_param")
            + _num(r["L"], "float", *q, "L")
            + "</tr>"
        )
    mine = []
    for i, r in enumerate(nb["allocation"]):
        q = ("allocation", i)
        mine.append(
            "<tr>"
            + f"<td><b>your fit, approach {_text(r['approach'])}</b></td><td>as your N column</td>"
            + _num(r["C"], "flops", *q, "C")
            + _num(r["N"], "count", *q, "N")
            + _num(r["D"], "count", *q, "D")
            + _num(r["tokens_per_param"], "float", *q, "tokens_per_param")
            + _num(r["L"], "float", *q, "L")
            + "</tr>"
        )
    body = (
        "<p>The same budgets under every published preset. Kaplan et al. 2020 count "
        "non-embedding parameters, the others all parameters; presets without a published "
        "loss law show no L*. The loss of a preset is on its paper's data and tokenizer, so "
        "compare allocations, not losses."
        + (
            f" The presets split a budget as C = {_text(format_value(s_k))}·N·D, your fits as "
            f"{_text(nb['settings']['compute_convention'])}."
            if nb["settings"].get("sweep_flops")
            else ""
        )
        + "</p><table><tr>"
        + "".join(f"<th>{c}</th>" for c in cols)
        + "</tr>"
        + "".join(mine)
        + "".join(rows)
        + "</table>"
    )
    return _section("presets", body)


def _method_html(nb: dict[str, Any]) -> str:
    s = nb["settings"]
    items = [
        ("budgets (FLOPs)", ", ".join(format_value(b, "flops") for b in s["budgets"])),
        ("bootstrap", f"{s['n_bootstrap']} replicates resampling whole runs, seed {s['seed']}"),
        ("interval level", f"{100 * s['level']:g}%"),
        (
            "compute convention",
            s.get("compute_convention") or f"C = {format_value(s['flops_per_param_token'])}·N·D",
        ),
        ("scalinglaws", s["package_version"]),
        ("Python", s["python"]),
        ("time taken", f"{s['seconds']:.1f} s"),
    ]
    body = (
        "<dl>"
        + "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in items)
        + "</dl><p class='note'>Approach 3 fits the Chinchilla form by the Huber loss (δ = 1e-3) "
        "on log L from Hoffmann et al.'s grid of starts (Hoffmann et al. 2022 §3.3; Besiroglu "
        "et al. 2024). Approach 2 fits a parabola in log N to each IsoFLOP profile and power "
        "laws through the minima (§3.2); Approach 1 takes the lower envelope of the training "
        "curves (§3.1). Every number of this page is in <code>report.json</code>; each fit in "
        "full in its <code>fit_approach*.json</code>.</p>"
    )
    return _section("method", body)


# ============================================================================ one figure
#: Approaches each figure kind needs (from a runs source), and its default bootstrap size.
_KIND_NEEDS: dict[str, tuple[tuple[str, ...], int]] = {
    "isoflop": (("2",), 0),
    "frontier": (("3", "2", "1"), 100),
    "isoloss": (("3",), 0),
    "loss-compute": (("3", "2", "1"), 0),
    "curves": (("3",), 0),
    "residuals": (("3",), 0),
    "predicted": (("3",), 0),
    "bootstrap": (("3",), 200),
    "backtest": (("3",), 100),
    "presets": (("3",), 0),
}


def make_figure(
    kind: str,
    source: Any = None,
    budgets: Sequence[float] | str | None = None,
    n_bootstrap: int | None = None,
    seed: int = 0,
    level: float = 0.95,
    columns: Any = None,
    drop_highest: int = 0,
    flops_per_param_token: float = 6.0,
    presets: Sequence[str] | None = None,
    law: str | None = None,
    approach2: dict[str, Any] | None = None,
) -> Any:
    """One figure of :data:`scalinglaws.plots.KINDS` from a runs file or table, a sweep folder
    or a saved fit (``scalinglaws plot KIND SOURCE``); returns the matplotlib Figure.

    The approaches a figure needs are fitted to the runs (Approach 3 for most; Approach 2 for
    ``isoflop``; all that apply for ``frontier``); ``n_bootstrap`` defaults to 200 for
    ``bootstrap``, 100 for ``frontier`` and ``backtest``, 0 otherwise.  ``law`` names a preset
    whose law is drawn instead of a fit (``isoloss``, ``loss-compute``, ``curves``), so
    ``make_figure("isoloss", law="besiroglu2024")`` needs no data.  ``presets`` and
    ``budgets`` select the presets and the budgets marked (``presets``, ``frontier``).
    """
    from scalinglaws import plots
    from scalinglaws.errors import UnknownNameError, did_you_mean

    key = str(kind).strip().lower()
    if key not in plots.KINDS:
        raise UnknownNameError(
            f"unknown figure kind '{kind}'" + did_you_mean(key, list(plots.KINDS))
        )
    wanted, default_boot = _KIND_NEEDS[key]
    from scalinglaws.fit.powerlaw import check_common

    n_boot, seed, level, _ = check_common(
        default_boot if n_bootstrap is None else n_bootstrap, seed, level, ()
    )
    requested = _parse_budgets(budgets)
    preset_names = _check_presets(presets)
    if law is not None:
        from scalinglaws.presets import get_preset

        law = get_preset(law).name
    if source is None:
        if key == "presets":
            return plots.plot_presets(preset_names, budgets=requested)
        if key == "isoloss" and law is not None:
            return plots.plot_isoloss(law, flops_per_token=flops_per_param_token)
        raise DataError(
            f"the '{key}' figure needs a SOURCE (a runs file, a sweep folder or a saved fit)"
            + ("; or give --law PRESET to draw a preset's contours" if key == "isoloss" else "")
        )
    an = _Analysis(
        source=source,
        kind=_source_kind(source),
        requested=requested,
        n_bootstrap=n_boot,
        seed=seed,
        level=level,
        columns=columns,
        drop_highest=drop_highest,
        k=flops_per_param_token,
        approach1={},
        approach2={**APPROACH2_DEFAULTS, **(approach2 or {})},
    )
    if law is not None and key in ("isoloss", "loss-compute", "curves"):
        wanted = tuple(a for a in wanted if a != "3")
    an.run(key == "backtest", 0.75, 0.8, wanted)
    return _one_figure(key, an, preset_names, law)


def _one_figure(key: str, an: _Analysis, preset_names: list[str], law: str | None) -> Any:
    from scalinglaws import plots

    fits = [an.fits[a] for a in ("3", "2", "1") if a in an.fits]
    a3 = an.fits.get("3")
    data = an.runs
    k = an.k  # published presets keep their own C = k·N·D
    f = an.per_token  # the data's convention: the sweep's f(N), else k

    def need(thing: Any, what: str) -> Any:
        if thing is None:
            reason = ""
            if what.startswith("Approach"):
                reason = an.skipped.get(what[-1], "")
            raise DataError(
                f"the '{key}' figure needs {what}"
                + (f", which is not available: {reason}" if reason else "")
            )
        return thing

    if key == "isoflop":
        return plots.plot_isoflop(need(an.fits.get("2"), "Approach 2"), data)
    if key == "frontier":
        if not fits:
            need(None, "a fit")
        return plots.plot_frontier(fits, budgets=an.budgets, runs=data, flops_per_token=f)
    if key == "isoloss":
        return plots.plot_isoloss(
            law or need(a3, "Approach 3"), data, flops_per_token=k if law else f
        )
    if key == "loss-compute":
        need(data, "runs (not a saved fit)")
        frontier = an.fits.get("2") or an.fits.get("1")
        curves = an.curves if an.curves is not None else data
        return plots.plot_loss_vs_compute(
            curves, law=law or a3, frontier=frontier, flops_per_token=k if law else f
        )
    if key == "curves":
        curves = need(an.curves, "runs with training curves (several checkpoints per run)")
        return plots.plot_training_curves(curves, law=law or a3)
    if key == "residuals":
        return plots.plot_residuals(need(a3, "Approach 3"), need(an.a3_rows, "runs"))
    if key == "predicted":
        return plots.plot_predicted_vs_observed(need(a3, "Approach 3"), need(an.a3_rows, "runs"))
    if key == "bootstrap":
        return plots.plot_bootstrap(need(a3, "Approach 3"))
    if key == "backtest":
        return plots.plot_backtest(
            need(an.backtest, f"a backtest ({an.backtest_error})"), an.a3_rows
        )
    return plots.plot_presets(preset_names, fits=fits, budgets=an.budgets, flops_per_token=k)
