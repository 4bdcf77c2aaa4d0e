"""``build_report``: validate the options, analyse, draw, compute the numbers, render, write."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scalinglaws.errors import DataError, OutputError, check_regular, output_error
from scalinglaws.files import atomic_write_text, jsonable
from scalinglaws.report.analysis import Analysis
from scalinglaws.report.figures import draw_figures
from scalinglaws.report.html import render_html
from scalinglaws.report.numbers import report_numbers
from scalinglaws.report.settings import ReportSettings


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
    ``convention``, see :func:`scalinglaws.report.sweep_folder.sweep_flops`) in every
    approach.  ``presets`` (default: all) are compared with the fits.  ``backtest`` fits
    Approach 3 below the ``backtest_quantile`` of the runs' compute and predicts the rest with
    ``backtest_level`` intervals.  ``approach2`` / ``approach1`` are extra options of those
    estimators (e.g. ``{"bin_tolerance": 0.2}``).  ``formats``: the figure files written (png
    is required); ``title``: the page's title.

    Raises a :class:`~scalinglaws.errors.ScalingLawsError` for every missing or bad input.
    """
    t0 = time.perf_counter()
    options = dict(locals())  # every argument, by name, as given
    del options["t0"]
    settings = ReportSettings.from_options(**options)
    return write_report(source, settings, t0)


def write_report(source: Any, settings: ReportSettings, t0: float | None = None) -> ReportResult:
    """Analyse ``source`` under ``settings`` (whose ``out_dir`` is the report folder), draw
    every figure once, compute the numbers once, and write the fits, ``report.json`` and
    ``report.html``; ``t0`` is when the report began (``time.perf_counter()``)."""
    t0 = time.perf_counter() if t0 is None else t0
    if settings.out_dir is None:
        raise DataError("a report needs out_dir, the folder to write it to")
    out = settings.out_dir
    _check_not_foreign(out)  # now, not after the fits
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis = Analysis(source, settings)
        analysis.run()
    warning_texts = _warning_texts(caught)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc, "the report folder") from None
    figures = draw_figures(analysis, out / "figures")
    fit_files: dict[str, Path] = {}
    for approach, fit in analysis.fits.items():
        path = out / f"fit_approach{approach}.json"
        fit.to_json(path)
        fit_files[approach] = path
    numbers = report_numbers(analysis, figures, warning_texts, out)
    numbers["settings"]["seconds"] = time.perf_counter() - t0
    numbers = jsonable(numbers)
    json_path = out / "report.json"
    atomic_write_text(json_path, json.dumps(numbers, indent=2))
    html_path = out / "report.html"
    atomic_write_text(html_path, render_html(numbers, figures.pngs))
    return ReportResult(
        out_dir=out,
        html=html_path,
        json=json_path,
        figures=figures.files,
        fits=fit_files,
        numbers=numbers,
        seconds=time.perf_counter() - t0,
        warnings=warning_texts,
    )


#: The files of a report folder that a re-run replaces, and the text each holds when this
#: package wrote it (the schema of report.json, embedded in report.html; that of a fit).
_OWN_FILES = {
    "report.html": b'"schema": "scalinglaws.report/',
    "report.json": b'"schema": "scalinglaws.report/',
    "fit_approach1.json": b'"schema": "scalinglaws.fit/',
    "fit_approach2.json": b'"schema": "scalinglaws.fit/',
    "fit_approach3.json": b'"schema": "scalinglaws.fit/',
}
_MAX_OWN_BYTES = 512 * 2**20  # a report of ours is a few MB; a larger file is not one


def _check_not_foreign(out: Path) -> None:
    """Raise :class:`OutputError` when the report folder ``out`` holds a report.html,
    report.json or fit_approach*.json that this package did not write (it lacks our schema),
    so a report is never written over someone's page; a folder of an earlier report of ours
    is re-used.  A device or pipe under one of those names is refused too."""
    for name, marker in _OWN_FILES.items():
        path = out / name
        if not path.exists() and not path.is_symlink():
            continue
        check_regular(path, "the report file")
        if path.is_file() and path.stat().st_size <= _MAX_OWN_BYTES:
            try:
                if marker in path.read_bytes():
                    continue
            except OSError as exc:
                raise output_error(path, exc, "the report file") from None
        raise OutputError(
            f"the report folder {out} already holds a {name} that scalinglaws did not write; "
            "give a new or empty folder (or move that file away) so that it is not overwritten"
        )


def _warning_texts(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """The distinct texts of the ``caught`` warnings, in the order first met."""
    seen: list[str] = []
    for w in caught:
        text = str(w.message)
        if text not in seen:
            seen.append(text)
    return seen
