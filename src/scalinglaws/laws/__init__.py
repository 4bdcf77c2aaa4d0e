"""The published functional forms, each a frozen dataclass evaluated with numpy."""

from scalinglaws.laws.base import Law, law_from_dict, registered_laws
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.power import PowerLaw

__all__ = ["ChinchillaLaw", "Law", "PowerLaw", "law_from_dict", "registered_laws"]
