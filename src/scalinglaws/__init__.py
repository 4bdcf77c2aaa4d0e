"""scalinglaws: the scaling laws of language models.

Published laws and constants, compute-optimal allocation, fitting laws to your own runs with
honest intervals, and running the IsoFLOP sweeps that produce the runs.
"""

from scalinglaws import progress
from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import (
    DataError,
    DomainError,
    FitError,
    PlanError,
    QuantityError,
    ScalingLawsError,
    ScalingLawsWarning,
    UnknownNameError,
)
from scalinglaws.fit.result import Diagnostic, Fit, Replicates
from scalinglaws.laws import ChinchillaLaw, Law, PowerLaw, law_from_dict

__version__ = "0.1.0"

# The rest of the public API, imported on first use so `import scalinglaws` stays light.
_LAZY = {
    "allocate": "scalinglaws.allocation",
    "Allocation": "scalinglaws.allocation",
    "allocate_for_params": "scalinglaws.allocation",
    "compute_for_loss": "scalinglaws.allocation",
    "efficient_frontier": "scalinglaws.allocation",
    "isoloss_contours": "scalinglaws.allocation",
    # Kaplan et al. 2020's rules of thumb: overfitting, critical batch, S_min / E_min, early stop
    "overfitting_penalty": "scalinglaws.allocation",
    "min_tokens_no_overfit": "scalinglaws.allocation",
    "overfitting_rule": "scalinglaws.allocation",
    "critical_batch_size": "scalinglaws.allocation",
    "min_steps": "scalinglaws.allocation",
    "min_examples": "scalinglaws.allocation",
    "min_compute": "scalinglaws.allocation",
    "min_steps_for_loss": "scalinglaws.allocation",
    "min_examples_for_loss": "scalinglaws.allocation",
    "early_stopping_steps": "scalinglaws.allocation",
    "get_preset": "scalinglaws.presets",
    "list_presets": "scalinglaws.presets",
    "load_runs": "scalinglaws.runs",
    "Runs": "scalinglaws.runs",
    "Approach1": "scalinglaws.fit.envelope",
    "Approach2": "scalinglaws.fit.isoflop",
    "Approach3": "scalinglaws.fit.parametric",
    "PowerLawFit": "scalinglaws.fit.powerlaw",
    "AutoFit": "scalinglaws.fit.auto",
    "auto_backtest": "scalinglaws.fit.auto",
    "backtest": "scalinglaws.fit.backtest",
    "build_report": "scalinglaws.report",
    "Prediction": "scalinglaws.fit.questions",
    "estimator_class": "scalinglaws.fit",
}


# Subpackages reached as attributes (``sl.datasets.load(...)``), also imported on first use.
_SUBMODULES = ("datasets",)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None and name not in _SUBMODULES:
        raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")
    import importlib

    if module is None:
        return importlib.import_module(f"scalinglaws.{name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBMODULES])


__all__ = [  # noqa: RUF022 - the eager names, then the lazy ones
    *_LAZY,
    "ChinchillaLaw",
    "DataError",
    "Diagnostic",
    "DomainError",
    "Fit",
    "FitError",
    "FlopsConvention",
    "Law",
    "PlanError",
    "PowerLaw",
    "progress",
    "QuantityError",
    "Replicates",
    "ScalingLawsError",
    "ScalingLawsWarning",
    "UnknownNameError",
    "law_from_dict",
]
