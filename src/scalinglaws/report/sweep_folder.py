"""Reading a sweep folder written by :mod:`scalinglaws.sweep.runner`.

A sweep folder holds ``runs.csv`` (one row per run, with the plan's ``budget``), optionally
``curves.csv`` (one row per evaluation) and ``plan.toml`` (the plan: its ``[family]`` shape rule
and ``[sweep]`` convention give the sweep's FLOPs per token f(N), so that its budgets split as
C = f(N)·D).  :func:`load_sweep` reads all three into a :class:`SweepData`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from scalinglaws.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from scalinglaws.runs import Runs
    from scalinglaws.sweep.family import FamilyFlops

#: Largest relative difference between f(N)·D and a sweep run's recorded C before the report
#: warns ``SL-SWEEP-FLOPS-MISMATCH`` (plan.toml then describes other models than runs.csv).
SWEEP_FLOPS_TOLERANCE = 0.1

T = TypeVar("T")


@dataclass
class SweepData:
    """What a sweep folder holds: the final runs, the curves (or None), the plan's IsoFLOP
    budgets, the sweep's f(N) (None without plan.toml) and how well f(N)·D reproduces the
    recorded C of the runs (``{"max": ..., "median": ...}`` relative differences)."""

    runs: Runs
    curves: Runs | None
    budgets: list[float]
    flops: FamilyFlops | None = None
    flops_check: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)

    def table_for(self, approach: str) -> Runs:
        """The runs an approach is fitted to, as the report fits them: the training curves
        for Approach 1 (:class:`DataError` when the folder has no ``curves.csv``), else the
        final runs of ``runs.csv``."""
        if str(approach) != "1":
            return self.runs
        if self.curves is None:
            raise DataError(
                f"Approach 1 needs training curves, and the sweep folder of {self.runs.source} "
                "has no curves.csv; use approach 2 or 3, or re-run the sweep to record curves"
            )
        return self.curves

    def estimator_options(self, approach: str, given: dict[str, Any] | None = None) -> dict:
        """The estimator options through which ``approach`` honours the sweep, as the report's
        :class:`~scalinglaws.report.analysis.Analysis` sets them, leaving out those in
        ``given`` (the caller's own, not None): Approach 3 splits budgets by the sweep's
        FLOPs per token, ``flops_per_token`` = f(N) (C = f(N)·D, when ``plan.toml`` gives it),
        and Approach 2 bins runs by the plan's ``isoflop_budgets`` within
        :data:`~scalinglaws.report.analysis.SWEEP_BIN_TOLERANCE`.  Other approaches take
        neither: see :meth:`convention_note`."""
        from scalinglaws.report.analysis import SWEEP_BIN_TOLERANCE

        given = {k: v for k, v in (given or {}).items() if v is not None}
        out: dict[str, Any] = {}
        if str(approach) == "3" and self.flops is not None:
            out["flops_per_token"] = self.flops
        if str(approach) == "2" and self.budgets and "isoflop_budgets" not in given:
            out["isoflop_budgets"] = list(self.budgets)
            if "bin_tolerance" not in given:
                out["bin_tolerance"] = SWEEP_BIN_TOLERANCE
        return {k: v for k, v in out.items() if k not in given}

    def convention_note(self, approach: str) -> str | None:
        """A sentence on how ``approach`` splits a budget when it cannot take the sweep's
        f(N) (None when it does, or when the sweep has no plan.toml)."""
        if self.flops is None or str(approach) == "3":
            return None
        return (
            f"approach {approach} takes no FLOPs convention: its D* comes from its own fitted "
            f"rule, not from C = f(N)·D under the sweep's {self.flops.convention} convention "
            "as in the report (Approach 3 uses that f(N))"
        )


def _load_quietly(mismatch_seen: bool, load: Callable[[], T]) -> tuple[T, bool]:
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


def load_sweep(folder: Path, columns: Any, k: float) -> SweepData:
    """The runs, curves, budgets and FLOPs convention of a sweep folder written by
    :mod:`scalinglaws.sweep.runner`: ``runs.csv`` holds one row per run (with the plan's
    ``budget``), ``curves.csv`` (optional) one row per evaluation, ``plan.toml`` the plan (its
    ``[family]`` shape rule and ``[sweep]`` convention give f(N), see :func:`sweep_flops`).
    Curve rows without a loss are dropped; ``columns`` maps both tables (its L only runs.csv:
    curves use their validation loss).  ``SL-RUNS-FLOPS-MISMATCH`` is warned once (for
    runs.csv), not again for curves.csv, and not at all when the plan's f(N)·D reproduces the
    recorded C (the report states that convention instead)."""
    import pandas as pd

    from scalinglaws.runs import load_runs

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
    out = SweepData(runs, None, budgets)
    sweep_flops(folder, raw, out)
    # C differs from k·N·D because it follows the sweep's own convention: when the plan's f(N)
    # reproduces it, SL-RUNS-FLOPS-MISMATCH (which suggests another k) would mislead.
    explained = bool(
        out.flops is not None
        and out.flops_check
        and out.flops_check["max"] <= SWEEP_FLOPS_TOLERANCE
    )
    seen = _reemit(caught, explained)
    curves_file = folder / "curves.csv"
    if curves_file.is_file():
        out.curves = _load_curves(curves_file, columns, k, seen)
    return out


def _load_curves(curves_file: Path, columns: Any, k: float, mismatch_seen: bool) -> Runs:
    """The checkpoints of ``curves.csv`` with a loss, under ``columns`` (but its own loss
    column); ``SL-RUNS-FLOPS-MISMATCH`` is not warned again when ``mismatch_seen``."""
    import pandas as pd

    from scalinglaws.runs import AUTO_NAMES, _parse_columns, load_runs

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
        mismatch_seen,
        lambda: load_runs(table, columns={**mapping, "L": str(loss_col)}, flops_per_param_token=k),
    )
    curves.source = str(curves_file)
    return curves


def sweep_flops(folder: Path, raw: pd.DataFrame, out: SweepData) -> None:
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
    from scalinglaws.errors import warn

    plan_file = folder / "plan.toml"
    if not plan_file.is_file():
        out.notes.append(
            f"the sweep folder has no plan.toml, so its FLOPs convention is unknown: budgets "
            f"split as C = {out.runs.flops_per_param_token:g}·N·D"
        )
        return
    flops = _plan_flops(folder, plan_file)
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


def _plan_flops(folder: Path, plan_file: Path) -> FamilyFlops:
    """The f(N) of the ``[family]`` and ``[sweep] convention`` of ``plan_file``; a plan that
    cannot be read raises :class:`DataError`."""
    from dataclasses import fields

    from scalinglaws.errors import PlanError, UnknownNameError, did_you_mean
    from scalinglaws.sweep.family import FamilyFlops, ModelFamily
    from scalinglaws.sweep.plan import Plan, read_plan_data

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
        return FamilyFlops(ModelFamily(**family_table), sweep_table.get("convention", default))
    except (PlanError, UnknownNameError) as exc:
        raise DataError(f"{plan_file}: {exc}") from None
