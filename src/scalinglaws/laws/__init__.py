"""The published functional forms, each a frozen dataclass evaluated with numpy."""

from scalinglaws.laws.base import Law, law_from_dict, registered_laws
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.data_constrained import DataConstrainedLaw
from scalinglaws.laws.ensemble import AutoEnsembleLaw, EnsembleLaw, FrontierShapeLaw
from scalinglaws.laws.kaplan import KaplanCLaw, KaplanDLaw, KaplanNDLaw, KaplanNLaw, KaplanNSLaw
from scalinglaws.laws.overtraining import OvertrainingLaw
from scalinglaws.laws.power import PowerLaw

__all__ = [
    "AutoEnsembleLaw",
    "ChinchillaLaw",
    "DataConstrainedLaw",
    "EnsembleLaw",
    "FrontierShapeLaw",
    "KaplanCLaw",
    "KaplanDLaw",
    "KaplanNDLaw",
    "KaplanNLaw",
    "KaplanNSLaw",
    "Law",
    "OvertrainingLaw",
    "PowerLaw",
    "law_from_dict",
    "registered_laws",
]
