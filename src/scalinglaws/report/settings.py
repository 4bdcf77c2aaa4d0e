"""The options of a report, validated once: :class:`ReportSettings` and its parsers.

:meth:`ReportSettings.from_options` checks every argument :func:`scalinglaws.report.build_report`
takes (in the order the report has always checked them, so that the first bad one is the one
named) and holds the normalised values; the analysis, the numbers, the figures and the page
then read them from here.  The messages name the Python arguments (``devices must be ...``);
the command line restates them in its flags (:mod:`scalinglaws.cli.options`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scalinglaws.errors import DataError, QuantityError, check_writable

#: The report's Approach 2 defaults: a parabola through fewer than 5 sizes is not checked by
#: the data (3 sizes determine it exactly), so sparser budgets are left out (and listed).
APPROACH2_DEFAULTS: dict[str, Any] = {"min_sizes": 5}
#: Options of the estimators that the report sets itself (refused in ``approach1/2``).
_COMMON_OPTIONS = ("n_bootstrap", "seed", "level", "budgets")


@dataclass(frozen=True)
class Hardware:
    """The accelerator that turns budgets into time: t = C / (devices · peak · MFU)."""

    accelerator: str | None
    peak_flops: float
    mfu: float
    devices: int
    effective_flops_per_second: float

    def to_dict(self) -> dict[str, Any]:
        """The hardware as report.json's ``settings.hardware``."""
        return asdict(self)


@dataclass(frozen=True)
class ReportSettings:
    """Every option of a report, validated and normalised.

    ``budgets`` are the requested FLOP budgets (empty: the three powers of ten above the
    data's largest C, see :func:`default_budgets`); ``n_bootstrap``, ``seed`` and ``level``
    the bootstrap of every fit; ``columns``, ``drop_highest`` and ``flops_per_param_token``
    (k of C = k·N·D) how the runs are read; ``presets`` the published presets compared;
    ``hardware`` the accelerator for training times (None: no times); ``backtest``,
    ``backtest_quantile`` and ``backtest_level`` the extrapolation backtest; ``approach1``
    and ``approach2`` extra estimator options (Approach 2's with :data:`APPROACH2_DEFAULTS`);
    ``formats`` the figure files written; ``title`` the page's title (None: from the source);
    ``out_dir`` the report folder (None when only figures are drawn); ``source_kind`` what
    the source is: "runs", "fit" or "sweep".
    """

    source_kind: str
    budgets: tuple[float, ...] = ()
    n_bootstrap: int = 200
    seed: int = 0
    level: float = 0.95
    columns: Any = None
    drop_highest: int = 0
    flops_per_param_token: float = 6.0
    presets: tuple[str, ...] = ()
    hardware: Hardware | None = None
    backtest: bool = True
    backtest_quantile: float = 0.75
    backtest_level: float = 0.8
    approach1: Mapping[str, Any] = field(default_factory=dict)
    approach2: Mapping[str, Any] = field(default_factory=lambda: dict(APPROACH2_DEFAULTS))
    formats: tuple[str, ...] = ("png", "svg")
    title: str | None = None
    out_dir: Path | None = None

    @classmethod
    def from_options(cls, source: Any, out_dir: str | Path, **options: Any) -> ReportSettings:
        """Validate the arguments of :func:`scalinglaws.report.build_report` (see there);
        raises a :class:`~scalinglaws.errors.ScalingLawsError` naming the first bad one.

        The report folder is checked for writing now, before any fit is made."""
        from scalinglaws.validate import check_common

        o = options  # the arguments of build_report, all given by it
        n_bootstrap, seed, level = check_common(o["n_bootstrap"], o["seed"], o["level"])
        requested = parse_budgets(o["budgets"])
        checked_formats = check_formats(o["formats"])
        hardware = check_hardware(o["accelerator"], o["peak"], o["mfu"], o["devices"])
        preset_names = check_presets(o["presets"])
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise DataError(
                f"out_dir {out} exists and is not a folder; give another folder",
                argument="out_dir",
            )
        check_writable(out, "the report folder", folder=True)  # now, not after the fits
        kind = source_kind(source)
        check_estimator_options("approach2", o["approach2"], "2")
        check_estimator_options("approach1", o["approach1"], "1")
        return cls(
            source_kind=kind,
            budgets=tuple(requested),
            n_bootstrap=n_bootstrap,
            seed=seed,
            level=level,
            columns=o["columns"],
            drop_highest=o["drop_highest"],
            flops_per_param_token=o["flops_per_param_token"],
            presets=tuple(preset_names),
            hardware=hardware,
            backtest=o["backtest"],
            backtest_quantile=o["backtest_quantile"],
            backtest_level=o["backtest_level"],
            approach1=dict(o["approach1"] or {}),
            approach2={**APPROACH2_DEFAULTS, **(o["approach2"] or {})},
            formats=tuple(checked_formats),
            title=o["title"],
            out_dir=out,
        )


# ============================================================================ parsers
def parse_budgets(budgets: Any) -> list[float]:
    """FLOP budgets given as text ("1e22,1e24"), one number or a sequence; [] for None."""
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


def check_formats(formats: Sequence[str] | str) -> list[str]:
    """The figure formats (a sequence or comma-separated text); png is required."""
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
    return list(formats)


def check_presets(presets: Sequence[str] | str | None) -> list[str]:
    """The canonical names of ``presets`` (a sequence or comma-separated text; None: all)."""
    from scalinglaws.presets import get_preset, list_presets

    if presets is None:
        return list_presets()
    if isinstance(presets, str):
        presets = [p.strip() for p in presets.split(",") if p.strip()]
    return [get_preset(p).name for p in presets]


def check_hardware(accelerator: Any, peak: Any, mfu: Any, devices: Any) -> Hardware | None:
    """Validate the hardware once (with a 1 FLOP probe); None without an accelerator or peak
    (``devices`` and ``mfu`` are checked then too: never a silent guess)."""
    from scalinglaws.hardware import estimate_budget
    from scalinglaws.units import parse_count, parse_fraction

    if accelerator is None and peak is None:
        parse_count(devices, "devices")
        parse_fraction(mfu, "mfu")
        return None
    probe = estimate_budget(1.0, accelerator, peak=peak, mfu=mfu, devices=devices)
    return Hardware(
        accelerator=probe.accelerator,
        peak_flops=probe.peak_flops,
        mfu=probe.mfu,
        devices=probe.devices,
        effective_flops_per_second=probe.effective_flops_per_second,
    )


def check_estimator_options(name: str, options: Any, approach: str) -> None:
    """Refuse options the estimator of ``approach`` does not take (or that the report sets
    itself)."""
    from scalinglaws.errors import UnknownNameError, did_you_mean
    from scalinglaws.fit import estimator_class

    if not options:
        return
    estimator = estimator_class(approach)
    cls = estimator.__name__
    if not isinstance(options, dict):
        raise DataError(f"{name} must be a dict of {cls} options, got {type(options).__name__}")
    accepted = [p for p in inspect.signature(estimator).parameters if p not in _COMMON_OPTIONS]
    for key in options:
        if key not in accepted:
            raise UnknownNameError(
                f"{name} option '{key}' is not an option of {cls}" + did_you_mean(key, accepted)
            )


def source_kind(source: Any) -> str:
    """ "runs", "fit" or "sweep" for a source, or :class:`DataError` when it does not exist."""
    from scalinglaws.fit.result import Fit
    from scalinglaws.runs import Runs

    if isinstance(source, Fit):
        return "fit"
    if isinstance(source, Runs) or not isinstance(source, (str, Path)):
        return "runs"
    if isinstance(source, str) and source.startswith("dataset:"):  # a shipped data set
        return "runs"
    path = Path(source)
    if path.is_dir():
        return "sweep"
    if not path.exists():
        raise DataError(
            f"report source {path} does not exist; give a runs file (CSV, Parquet, JSON Lines), "
            "a saved fit (.json), a sweep folder holding runs.csv or dataset:NAME (a shipped "
            "data set: scalinglaws datasets list)"
        )
    if path.suffix.lower() == ".json":
        if not path.is_file():  # a pipe or device: reading it could wait forever
            raise DataError(
                f"report source {path} is not a regular file; give a runs file, a saved fit "
                "(.json) or a sweep folder"
            )
        with path.open("rb") as fh:  # its first 4 KiB say whether it is a saved fit
            head = fh.read(4096).decode("utf-8", errors="replace").lstrip()
        if head.startswith("{") and '"schema"' in head and "scalinglaws.fit/" in head:
            return "fit"
    return "runs"
