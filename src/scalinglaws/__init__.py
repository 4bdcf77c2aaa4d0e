"""scalinglaws: the scaling laws of language models.

Published laws and constants, compute-optimal allocation, fitting laws to your own runs with
honest intervals, and running the IsoFLOP sweeps that produce the runs.
"""

# Imported eagerly: the submodule scalinglaws.allocate shares the function's name, and a lazy
# import would let the submodule (bound as the package attribute when any code imports it)
# hide the function.  Once bound here, later imports of the submodule leave it alone.
from scalinglaws.allocate import allocate
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
from scalinglaws.fit.result import Diagnostic, Fit
from scalinglaws.laws import ChinchillaLaw, Law, PowerLaw, law_from_dict

__version__ = "0.1.0"

# The rest of the public API, imported on first use so `import scalinglaws` stays light.
_LAZY = {
    "allocate_for_params": "scalinglaws.allocate",
    "compute_for_loss": "scalinglaws.allocate",
    "efficient_frontier": "scalinglaws.allocate",
    "isoloss_contours": "scalinglaws.allocate",
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
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [  # noqa: RUF022 - the eager names, then the lazy ones
    *_LAZY,
    "allocate",
    "ChinchillaLaw",
    "DataError",
    "Diagnostic",
    "DomainError",
    "Fit",
    "FitError",
    "Law",
    "PlanError",
    "PowerLaw",
    "QuantityError",
    "ScalingLawsError",
    "ScalingLawsWarning",
    "UnknownNameError",
    "law_from_dict",
]
