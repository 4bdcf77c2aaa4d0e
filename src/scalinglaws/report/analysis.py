"""The analysis behind a report: load the source, fit every approach that applies, backtest.

:class:`Analysis` holds the results (the runs, the fits, what could not be fitted and why, the
backtest, the budgets) for the numbers and the figures, which read them and compute nothing
of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import DataError, FitError, ScalingLawsError
from scalinglaws.fit.result import Fit
from scalinglaws.progress import step
from scalinglaws.report.settings import ReportSettings, default_budgets
from scalinglaws.report.sweep_folder import load_sweep

if TYPE_CHECKING:
    from scalinglaws.fit.backtest import BacktestResult
    from scalinglaws.runs import Runs
    from scalinglaws.sweep.family import FamilyFlops

#: Runs of a sweep folder join the nearest of the plan's budgets within this relative
#: difference of C (sweep budgets are spaced by factors of 2 or more).
SWEEP_BIN_TOLERANCE = 0.25
#: When Approach 3 falls back on training curves, checkpoints before this fraction of their
#: run's tokens are left out.
CURVE_MIN_FRACTION = 0.1
#: Every approach, in the order the report fits them.
ALL_APPROACHES = ("3", "2", "1")


@dataclass(eq=False)
class Analysis:
    """Loads ``source`` under ``settings``, fits what applies, backtests; holds the results.

    ``runs`` is the table Approaches 2 and 3 are fitted to (final losses; None for a saved
    fit), ``curves`` the checkpoints (Approach 1 and the curve figures), ``fits`` the fits by
    approach, ``skipped`` why an approach was not fitted, ``a3_rows`` the rows Approach 3 was
    fitted to, ``budgets`` the budgets of the allocation, ``sweep_budgets`` the plan's IsoFLOP
    budgets of a sweep folder, ``flops`` the sweep's f(N) (None: C = k·N·D) and
    ``flops_check`` how well f(N)·D reproduces the recorded C.  ``data_constrained`` is the
    fit of Muennighoff et al.'s law L(N, D, U) when the runs have a unique-tokens column U
    (or the saved fit is one), else None with ``data_constrained_error`` saying why.
    """

    source: Any
    settings: ReportSettings
    source_text: str = ""
    runs: Runs | None = None
    curves: Runs | None = None
    fits: dict[str, Fit] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    backtest: BacktestResult | None = None
    backtest_error: str | None = None
    budgets: list[float] = field(default_factory=list)
    a3_rows: Runs | None = None
    sweep_budgets: list[float] = field(default_factory=list)
    flops: FamilyFlops | None = None
    flops_check: dict[str, float] | None = None
    data_constrained: Fit | None = None
    data_constrained_error: str | None = None

    @property
    def kind(self) -> str:
        """What the source is: "runs", "fit" or "sweep"."""
        return self.settings.source_kind

    @property
    def k(self) -> float:
        """k of C = k·N·D: how the runs were read, and how published presets split budgets."""
        return self.settings.flops_per_param_token

    @property
    def per_token(self) -> FamilyFlops | float:
        """How every approach splits a budget: the sweep's f(N) (C = f(N)·D), else k."""
        return self.flops if self.flops is not None else self.k

    @property
    def convention(self) -> str:
        """The compute convention of the allocation, in words (for a saved fit: the one it
        records, when it records one)."""
        if self.kind == "fit":
            fit = next(iter(self.fits.values()), None)
            recorded = fit.method.get("compute convention") if fit is not None else None
            if isinstance(recorded, str) and recorded:
                return recorded
        return FlopsConvention.of(self.per_token).description

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Read the source: a saved fit, a sweep folder or a runs table."""
        if self.kind == "fit":
            fit = self.source if isinstance(self.source, Fit) else Fit.from_json(self.source)
            self.fits[str(fit.approach)] = fit
            if type(fit.law).__name__ == "DataConstrainedLaw":
                self.data_constrained = fit
            self.source_text = (
                "a Fit object" if isinstance(self.source, Fit) else str(Path(self.source))
            )
            return
        if self.kind == "sweep":
            runs, curves = self._load_sweep_folder()
        else:
            runs, curves = self._load_runs()
        if len(runs) == 0:
            raise DataError(f"{self.source_text} holds no runs after filtering")
        self.runs, self.curves = runs, curves

    def _load_sweep_folder(self) -> tuple[Runs, Runs | None]:
        from scalinglaws.runs import load_runs

        s = self.settings
        folder = Path(self.source)
        sweep = load_sweep(folder, s.columns, s.flops_per_param_token)
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
        if s.drop_highest:
            runs = load_runs(runs, drop_highest=s.drop_highest)
        self.source_text = str(folder)
        return runs, curves

    def _load_runs(self) -> tuple[Runs, Runs | None]:
        from scalinglaws.runs import Runs, load_runs

        s = self.settings
        loaded = load_runs(
            self.source,
            columns=s.columns,
            flops_per_param_token=s.flops_per_param_token,
            drop_highest=s.drop_highest,
        )
        self.source_text = (
            loaded.source if not isinstance(self.source, Runs) else f"{self.source.source} (Runs)"
        )
        if loaded.has_curves:
            return loaded.final(), loaded
        return loaded, None

    # ------------------------------------------------------------------ fitting
    def run(self, wanted: Sequence[str] = ALL_APPROACHES, data_constrained: bool = True) -> None:
        """Load the source, choose the budgets, fit the ``wanted`` approaches that apply and
        backtest Approach 3 (when the settings ask for it); with ``data_constrained``, fit
        Muennighoff et al.'s law too when the runs have a U column."""
        self.load()
        if self.kind == "fit":
            self.budgets = self._saved_fit_budgets()
            return
        assert self.runs is not None
        c_max = float(self.runs.C.max())
        if self.curves is not None:
            c_max = max(c_max, float(self.curves.C.max()))
        self.budgets = list(self.settings.budgets) or default_budgets(c_max)
        for approach, fit_it in (("3", self._approach3), ("2", self._approach2),
                                 ("1", self._approach1)):  # fmt: skip
            if approach in wanted:
                fit_it()
                step(f"report: Approach {approach} " + (
                    "fitted" if approach in self.fits else "not fitted"))  # fmt: skip
        if data_constrained and self.runs.U is not None:
            self._data_constrained()
        if self.settings.backtest and "3" in self.fits:
            self._backtest()
            step("report: backtest done")
        elif self.settings.backtest:
            self.backtest_error = "Approach 3 could not be fitted, so there is nothing to backtest"
        else:
            self.backtest_error = "the backtest was switched off"

    def _saved_fit_budgets(self) -> list[float]:
        """The requested budgets, else the three powers of ten above the fit's compute."""
        if self.settings.budgets:
            return list(self.settings.budgets)
        from scalinglaws.plots import _data_c_range

        fit = next(iter(self.fits.values()))
        rng = _data_c_range([fit], None)
        if rng is None:
            raise DataError(
                "a figure or report from a saved fit needs budgets (e.g. budgets='1e22,1e24'): "
                "the fit was made without any and records no compute range to choose them from"
            )
        return default_budgets(rng[1])

    def _common(self) -> dict[str, Any]:
        s = self.settings
        return {"n_bootstrap": s.n_bootstrap, "seed": s.seed, "level": s.level}

    def _approach3(self) -> None:
        from scalinglaws.fit.parametric import Approach3

        est = Approach3(**self._common(), flops_per_token=self.flops)
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

    def _data_constrained(self) -> None:
        """Muennighoff et al. 2023's L(N, D, U) fitted to runs with a U column, for the
        repeated-data figures (the point estimate only: the figures draw no intervals)."""
        from scalinglaws.fit.data_constrained import DataConstrainedFit

        try:
            self.data_constrained = DataConstrainedFit(n_bootstrap=0, seed=self.settings.seed).fit(
                self.runs
            )
        except ScalingLawsError as exc:
            self.data_constrained_error = str(exc)
            return
        step("report: data-constrained law fitted")

    def _approach2(self) -> None:
        from scalinglaws.fit.isoflop import Approach2

        options = dict(self.settings.approach2)
        if self.sweep_budgets and "isoflop_budgets" not in options:
            # the plan's budgets are known: bin by them, not by clustering C
            options["isoflop_budgets"] = self.sweep_budgets
            options.setdefault("bin_tolerance", SWEEP_BIN_TOLERANCE)
        est = Approach2(**options, **self._common())
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
        est = Approach1(**self.settings.approach1, **self._common())
        try:
            self.fits["1"] = est.fit(self.curves)
        except FitError as exc:
            self.skipped["1"] = str(exc)

    def _backtest(self) -> None:
        from scalinglaws.fit.backtest import backtest
        from scalinglaws.fit.parametric import Approach3

        s = self.settings
        est = Approach3(**self._common(), flops_per_token=self.flops)
        try:
            self.backtest = backtest(
                est,
                self.a3_rows,
                cut_quantile=s.backtest_quantile,
                level=s.backtest_level,
                seed=s.seed,
            )
        except ScalingLawsError as exc:
            self.backtest_error = str(exc)
