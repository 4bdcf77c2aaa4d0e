"""What the figures accept, resolved: runs, fits, laws and presets, and their labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from scalinglaws.errors import (
    DataError,
)
from scalinglaws.laws.base import Law
from scalinglaws.plots.style import APPROACH_LABELS


def _runs(runs: Any) -> Any:
    from scalinglaws.runs import as_runs

    return as_runs(runs)


def _fits(fits: Any) -> list[Any]:
    from scalinglaws.fit.result import Fit

    if isinstance(fits, Fit):
        return [fits]
    out = list(fits)
    for f in out:
        if not isinstance(f, Fit):
            raise DataError(f"expected a Fit (from an estimator's .fit), got {type(f).__name__}")
    return out


def _resolve_law(law: Any) -> Law:
    """A Law from a Law, a Fit, a preset name or a Preset."""
    from scalinglaws.presets import Preset, get_preset

    if isinstance(law, Law):
        return law
    if isinstance(law, (str, Preset)):
        preset = get_preset(law)
        if preset.law is None:
            raise DataError(
                f"preset '{preset.name}' publishes no (N, D) loss law to draw; use one such as "
                "'hoffmann2022' or 'besiroglu2024'"
            )
        return preset.law
    inner = getattr(law, "law", None)
    if isinstance(inner, Law):
        return inner
    raise DataError(f"expected a law, a Fit or a preset name, got {type(law).__name__}")


def _short_label(obj: Any) -> str:
    """A short name: "Approach 3" for a fit, the citation for a preset, the law's name."""
    from scalinglaws.presets import Preset, get_preset

    if isinstance(obj, str):
        obj = get_preset(obj)
    if isinstance(obj, Preset):
        return obj.citation.short
    approach = getattr(obj, "approach", None)
    if approach is not None:
        return f"Approach {approach}" if str(approach) in "123" else f"fit ({approach})"
    if isinstance(obj, Law):
        return f"law {obj.name}"
    return str(obj)


def _label_of(obj: Any) -> str:
    from scalinglaws.presets import Preset, get_preset

    if isinstance(obj, str):
        obj = get_preset(obj)
    if isinstance(obj, Preset):
        return obj.citation.short
    approach = getattr(obj, "approach", None)
    if approach is not None:
        return "your fit: " + APPROACH_LABELS.get(str(approach), f"approach {approach}")
    if isinstance(obj, Law):
        return f"law {obj.name}"
    return str(obj)


def _need_nd(law: Law, what: str) -> None:
    if tuple(sorted(law.variables)) != ("D", "N"):
        raise DataError(
            f"{what} needs a law of N and D (such as approach 3's Chinchilla fit), got law "
            f"'{law.name}' of {', '.join(law.variables)}"
        )


def _final_runs(runs: Any) -> Any:
    return runs.final() if runs.has_curves else runs


def _geomspace(lo: float, hi: float, num: int = 200) -> np.ndarray:
    return np.geomspace(lo, hi, num)


def _quiet_log(x: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.log(np.asarray(x, dtype=float))
