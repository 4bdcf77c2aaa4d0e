"""Estimators: Chinchilla's three approaches, Kaplan's forms, Muennighoff et al. 2023's
data-constrained law, bootstrap, backtest.

:data:`ESTIMATORS` is the one registry of estimators by approach name; each module is
imported on first use (:func:`estimator_class`), so importing the package stays light.
"""

from __future__ import annotations

import importlib

from scalinglaws.errors import UnknownNameError, did_you_mean
from scalinglaws.fit.result import Diagnostic, Fit

#: Approach name -> (module, class) of its estimator.
ESTIMATORS: dict[str, tuple[str, str]] = {
    "1": ("scalinglaws.fit.envelope", "Approach1"),
    "2": ("scalinglaws.fit.isoflop", "Approach2"),
    "3": ("scalinglaws.fit.parametric", "Approach3"),
    "power": ("scalinglaws.fit.powerlaw", "PowerLawFit"),
    "auto": ("scalinglaws.fit.auto", "AutoFit"),
    "data-constrained": ("scalinglaws.fit.data_constrained", "DataConstrainedFit"),
    "overtraining": ("scalinglaws.overtraining", "OvertrainingFit"),
}


def approach_key(approach: object) -> str:
    """The canonical approach name ("1", "2", "3", "power", "auto", "data-constrained",
    "overtraining"), or
    :class:`UnknownNameError` naming the argument ``approach``."""
    key = str(approach).strip().lower()
    if key not in ESTIMATORS:
        raise UnknownNameError(
            f"unknown approach '{approach}'" + did_you_mean(key, list(ESTIMATORS)),
            argument="approach",
        )
    return key


def estimator_class(approach: object) -> type:
    """The estimator class of ``approach`` (e.g. ``estimator_class("3")`` is Approach3)."""
    module, name = ESTIMATORS[approach_key(approach)]
    return getattr(importlib.import_module(module), name)


__all__ = ["ESTIMATORS", "Diagnostic", "Fit", "approach_key", "estimator_class"]
