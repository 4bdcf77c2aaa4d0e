"""Hoffmann et al. 2022 ("Training Compute-Optimal Large Language Models"), eq. (2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from scalinglaws.laws.base import (
    ArrayLike,
    Law,
    check_constants,
    positive,
    register,
    scalar_or_array,
)


@register
@dataclass(frozen=True)
class ChinchillaLaw(Law):
    """L(N, D) = E + A / N^alpha + B / D^beta   (Hoffmann et al. 2022, eq. 2).

    ``N`` is parameters, ``D`` training tokens, ``L`` loss in nats per token.  Hoffmann et al.
    count *total* parameters (embeddings included); a fit to your own runs counts whatever
    your ``N`` column counts.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    name: ClassVar[str] = "chinchilla"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")
    formula: ClassVar[str] = "L(N, D) = E + A/N^alpha + B/D^beta"

    def __post_init__(self) -> None:
        check_constants(self)

    def __call__(self, N: ArrayLike = None, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D})
        n = positive("N", N, "parameters")
        d = positive("D", D, "training tokens")
        return scalar_or_array(self.E + self.A / n**self.alpha + self.B / d**self.beta)

    # Derived quantities of the compute-optimal allocation under C = 6ND (Hoffmann et al. 2022,
    # Appendix D.2): N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b.
    @property
    def a(self) -> float:
        """a = beta / (alpha + beta): exponent of N_opt ∝ C^a."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """b = alpha / (alpha + beta): exponent of D_opt ∝ C^b."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        """G = (alpha A / (beta B))^(1 / (alpha + beta))."""
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))
