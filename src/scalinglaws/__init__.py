"""scalinglaws: the scaling laws of language models.

Published laws and constants, compute-optimal allocation, fitting laws to your own runs with
honest intervals, and running the IsoFLOP sweeps that produce the runs.
"""

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

__all__ = [
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
