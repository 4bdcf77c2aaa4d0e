"""The numbers of a report (the content of ``report.json``), computed once from the analysis.

Every number the page shows is read from here: :func:`report_numbers` gathers the settings,
the data, each fit with its allocation at the budgets, the diagnostics, the backtest and the
published presets, and the figures' files and captions.
"""

from __future__ import annotations

import math
import platform
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fit.result import Fit, meaningful_stderr
from scalinglaws.report.analysis import Analysis
from scalinglaws.report.figures import Figures
from scalinglaws.report.settings import Hardware

SCHEMA = "scalinglaws.report/1"
APPROACH_NAMES = {
    "3": "Approach 3: parametric fit of L(N, D) = E + A/N^α + B/D^β",
    "2": "Approach 2: IsoFLOP profiles",
    "1": "Approach 1: envelope of the training curves",
}
#: The approaches of the allocation table, in its order.
_ALLOCATED = ("3", "2", "1", "power")


def report_numbers(
    an: Analysis, figures: Figures, warning_texts: list[str], out: Path
) -> dict[str, Any]:
    """Everything ``report.json`` holds (but ``settings.seconds``, which the caller adds):
    ``out`` is the report folder the figures' files are given relative to."""
    from scalinglaws import __version__

    s = an.settings
    fits = {a: fit_numbers(f, an.budgets, f"fit_approach{a}.json") for a, f in an.fits.items()}
    diagnostics = [{"approach": a, **d} for a, f in fits.items() for d in f["diagnostics"]]
    allocation, allocation_notes = allocation_rows(an, s.hardware)
    return {
        "schema": SCHEMA,
        "title": s.title or f"Scaling-law report: {Path(str(an.source_text)).name}",
        "source": {"kind": an.kind, "text": an.source_text},
        "settings": {
            "budgets": list(an.budgets),
            "n_bootstrap": s.n_bootstrap,
            "seed": s.seed,
            "level": s.level,
            "flops_per_param_token": an.k,
            "compute_convention": an.convention,
            "sweep_flops": an.flops.to_dict() if an.flops is not None else None,
            "drop_highest": s.drop_highest,
            "hardware": s.hardware.to_dict() if s.hardware is not None else None,
            "package_version": __version__,
            "python": platform.python_version(),
        },
        "data": data_numbers(an),
        "fits": fits,
        "not_fitted": dict(an.skipped),
        "allocation": allocation,
        "diagnostics": diagnostics,
        "warnings": list(warning_texts),
        "notes": [*an.notes, *figures.notes, *allocation_notes],
        "backtest": backtest_numbers(an),
        "presets": preset_rows(list(s.presets), an.budgets, an.k),
        "figures": {
            name: {
                "caption": figures.captions[name],
                "files": [str(p.relative_to(out)) for p in paths],
            }
            for name, paths in figures.files.items()
        },
    }


# ============================================================================ fits
def _interval(fit: Fit, key: str) -> list[float] | None:
    ci = fit.intervals.get(key)
    return [float(ci[0]), float(ci[1])] if ci else None


def fit_numbers(fit: Fit, budgets: list[float], file: str | None) -> dict[str, Any]:
    """The fit's numbers for the page and report.json; N*, D*, L* at the budgets (from
    :meth:`Fit.allocate`) join the derived values under reader's labels (``N_opt@1e+22``)."""
    from scalinglaws.fit.questions import allocation_rows as fit_allocation_rows

    derived = dict(fit.derived)
    intervals = {k: _interval(fit, k) for k in [*fit.params, *derived] if k in fit.intervals}
    stderr = {  # only where it describes the bootstrap distribution (not heavy-tailed)
        k: meaningful_stderr(fit.stderr[k], fit.intervals.get(k), fit.level)
        for k in [*fit.params, *derived]
        if k in fit.stderr
    }
    diagnostics = list(fit.diagnostics)
    try:
        for name, value, se, ci in fit_allocation_rows(fit, budgets):
            derived[name] = value
            if se is not None:
                stderr[name] = meaningful_stderr(se, ci, fit.level)
            if ci is not None:
                intervals[name] = [ci[0], ci[1]]
        diagnostics += fit.budget_diagnostics(budgets) if budgets else []
    except ScalingLawsError:  # a law that cannot allocate has no allocation rows
        pass
    return {
        "approach": str(fit.approach),
        "title": APPROACH_NAMES.get(str(fit.approach), f"approach {fit.approach}"),
        "law": fit.law.to_dict(),
        "formula": fit.law.formula,
        "params": dict(fit.params),
        "derived": derived,
        "stderr": stderr,
        "intervals": intervals,
        "level": fit.level,
        "converged": fit.converged,
        "message": fit.message,
        "method": {k: v for k, v in fit.method.items()},
        "data": {k: v for k, v in fit.data.items()},
        "diagnostics": [
            {"code": d.code, "severity": d.severity, "message": d.message} for d in diagnostics
        ],
        "file": file,
    }


# ============================================================================ allocation
def allocation_rows(
    an: Analysis, hardware: Hardware | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per approach and budget: N*, D*, L* with intervals, as :meth:`Fit.allocate`
    answers them under the fit's own compute convention; and notes on the approaches that
    cannot allocate.  With a sweep's f(N), Approach 3's allocation satisfies C = f(N*)·D*;
    Approaches 1 and 2 (rules N* = k_N·C^a, D* = k_D·C^b fitted separately) keep N* and take
    D* = C/f(N*), whose interval is the image of N*'s (f is increasing, so D*'s percentiles
    are C/f of N*'s, swapped)."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    c = np.asarray(an.budgets, dtype=float)
    for approach in _ALLOCATED:
        fit = an.fits.get(approach)
        if fit is None or not c.size:
            continue
        try:
            a = fit.allocate(c)
        except ScalingLawsError as exc:
            notes.append(f"approach {approach} cannot allocate the budgets: {exc}")
            continue
        recorded = fit.method.get("compute convention")
        if isinstance(recorded, str) and recorded and recorded != fit.convention.description:
            notes.append(
                f"approach {approach}: the saved fit was made under '{recorded}', which a "
                f"saved fit cannot rebuild, so its budgets split as {fit.convention}"
            )
        by_rule = an.flops is not None and tuple(sorted(fit.law.variables)) != ("D", "N")
        for i, budget in enumerate(an.budgets):
            rows.append(_allocation_row(an, approach, a, i, budget, by_rule, hardware))
    return rows, notes


def _allocation_row(
    an: Analysis,
    approach: str,
    a: Any,
    i: int,
    budget: float,
    by_rule: bool,
    hardware: Hardware | None,
) -> dict[str, Any]:
    """The row of budget ``i`` of the allocation ``a`` of ``approach`` (with D* = C/f(N*)
    when ``by_rule``, and the training time on ``hardware``)."""
    from scalinglaws.units import PF_DAY

    values = {n: float(np.atleast_1d(getattr(a, n))[i]) for n in ("N", "D", "L")}
    if by_rule:
        values["D"] = _tokens_of(an.flops, budget, values["N"])
    row: dict[str, Any] = {
        "approach": approach,
        "C": budget,
        "N": values["N"],
        "D": values["D"],
        "L": values["L"],
        "tokens_per_param": values["D"] / values["N"],
        "pf_days": budget / PF_DAY,
        "compute_convention": an.convention,
    }
    for n in ("N", "D", "L"):
        ci = a.intervals.get(n)
        lo_hi = None if ci is None else [float(np.atleast_1d(v)[i]) for v in ci]
        row[f"{n}_interval"] = (
            lo_hi if lo_hi is not None and all(map(math.isfinite, lo_hi)) else None
        )
    if by_rule:
        ci = row["N_interval"]
        row["D_interval"] = (
            sorted(_tokens_of(an.flops, budget, x) for x in ci) if ci is not None else None
        )
    if hardware is not None:
        seconds = budget / hardware.effective_flops_per_second
        row["days"] = seconds / 86_400.0
        row["device_hours"] = hardware.devices * seconds / 3_600.0
    return row


def _tokens_of(f: Any, C: float, N: float) -> float:
    """D = C/f(N) under the convention ``f`` for a usable N (a positive finite number), else
    NaN."""
    if not (math.isfinite(N) and N > 0):
        return math.nan
    return float(FlopsConvention.of(f).tokens(C, N))


def preset_rows(names: list[str], budgets: list[float], k: float) -> list[dict[str, Any]]:
    """N*, D*, L* of every published preset in ``names`` at the budgets (C = k·N·D)."""
    from scalinglaws.allocation import allocate
    from scalinglaws.plots import preset_label
    from scalinglaws.plots.presets import preset_loss_in_range
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
                    # a dash far below the compute the paper fitted its law on
                    "L": float(np.atleast_1d(a.L)[i]) if preset_loss_in_range(p, c) else None,
                    "tokens_per_param": d / n,
                }
            )
    return rows


# ============================================================================ data, backtest
def data_numbers(an: Analysis) -> dict[str, Any]:
    """The data the fits were made from: counts, ranges, columns, convention and filters (for
    a saved fit: what it records of its data)."""
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


#: The report lists at most this many held-out runs of the backtest (evenly spaced in C);
#: its errors and coverage are over every held-out run.
MAX_HELD_OUT_ROWS = 1_000


def backtest_numbers(an: Analysis) -> dict[str, Any]:
    """The backtest's cut, errors, coverage and held-out runs (or why it was not run)."""
    bt = an.backtest
    if bt is None:
        return {"done": False, "reason": an.backtest_error}
    table = bt.table
    shown = table
    if len(table) > MAX_HELD_OUT_ROWS:  # evenly spaced in C, the first and last included
        order = np.argsort(table["C"].to_numpy(), kind="stable")
        picks = np.linspace(0, len(order) - 1, MAX_HELD_OUT_ROWS).round().astype(np.int64)
        shown = table.iloc[np.sort(order[picks])]
    held = []
    for _, row in shown.iterrows():
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
        "held_out_shown": len(held),
    }
