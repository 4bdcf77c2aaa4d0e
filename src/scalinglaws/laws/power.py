"""A one-variable power law with an offset, for frontier fits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from scalinglaws.errors import DomainError
from scalinglaws.laws.base import (
    ArrayLike,
    Law,
    check_constants,
    positive,
    register,
    scalar_or_array,
)

_VARIABLES = ("N", "D", "C", "S")


@register
@dataclass(frozen=True)
class PowerLaw(Law):
    """L(x) = E + A * x^(-alpha), with x one of N, D, C (FLOPs) or S (steps).

    With ``E = 0`` this is the pure power law of Kaplan et al. 2020 written as
    (x_c / x)^alpha = A x^-alpha with A = x_c^alpha.  Used for frontier fits (loss at the
    compute-optimal point against C, Hoffmann et al. 2022 Approach 2; Llama 3 §3.2.1).
    """

    E: float
    A: float
    alpha: float
    variable: str = "C"

    name: ClassVar[str] = "power"
    formula: ClassVar[str] = "L(x) = E + A x^(-alpha)"

    def __post_init__(self) -> None:
        check_constants(self)
        if self.variable not in _VARIABLES:
            raise DomainError(
                f"PowerLaw variable must be one of {', '.join(_VARIABLES)}, got {self.variable!r}"
            )

    @property
    def variables(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.variable,)

    def __call__(self, **kwargs: ArrayLike) -> float | np.ndarray:
        self._check_kwargs(kwargs)
        x = positive(self.variable, kwargs[self.variable])
        return scalar_or_array(self.E + self.A * x ** (-self.alpha))
