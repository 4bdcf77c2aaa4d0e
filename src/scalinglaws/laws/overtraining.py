"""Gadre et al. 2024 ("Language models scale reliably with over-training and on downstream
tasks", arXiv 2403.08540), eq. (4): the loss as a function of compute C and the token
multiplier M = D/N,

    L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η),      C = 6·N·D,  M = D/N.

Derivation [their reparameterisation, re-derived here].  Start from the Chinchilla form
L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022, eq. 2) and tie the exponents, α = β.
From C = 6ND and M = D/N,

    N = (C / (6M))^(1/2),      D = (C·M / 6)^(1/2),

so  A·N^(−α) = A·6^(α/2)·M^(α/2)·C^(−α/2)  and  B·D^(−α) = B·6^(α/2)·M^(−α/2)·C^(−α/2).
With η = α/2, a = A·6^η and b = B·6^η this is exactly L(C, M) above.  Conversely
A = a·6^(−η), B = b·6^(−η), α = β = 2η (:meth:`OvertrainingLaw.to_chinchilla`).

At fixed C the loss is smallest at M* = (b/a)^(1/(2η)) (minimise a·M^η + b·M^(−η)), where
L*(C) = E + 2·(a·b)^(1/2)·C^(−η): the compute-optimal frontier is a pure power law in C with
exponent η, and over-training by a factor M/M* multiplies the reducible loss at that C by
cosh(η·ln(M/M*)) [derived] -- the same penalty at every budget, which is the paper's point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

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
from scalinglaws.laws.chinchilla import ChinchillaLaw

#: FLOPs per parameter per token of the law's C = 6·N·D (Gadre et al. 2024, as Hoffmann et al.).
K_FLOPS = 6.0


def chinchilla_constants(constants: Mapping[str, Any]) -> dict[str, Any]:
    """Gadre et al.'s constants (E, a, b, eta) as the Chinchilla twin's (E, A, B, alpha,
    beta): A = a·6^(−η), B = b·6^(−η), α = β = 2η.  Floats or arrays (e.g. one row per
    bootstrap replicate); the arithmetic is the same either way."""
    eta = constants["eta"]
    scale = K_FLOPS ** (-eta)
    return {
        "E": constants["E"],
        "A": constants["a"] * scale,
        "B": constants["b"] * scale,
        "alpha": 2 * eta,
        "beta": 2 * eta,
    }


@register
@dataclass(frozen=True)
class OvertrainingLaw(Law):
    """L(N, D) = E + (a·M^η + b·M^(−η))·C^(−η) with C = 6·N·D and M = D/N (Gadre et al. 2024,
    eq. 4): the Chinchilla form with α = β = 2η, written in compute and token multiplier.

    Called with ``N`` (parameters) and ``D`` (training tokens) like every (N, D) law, so the
    allocation engine and ``predict`` take it; :meth:`loss_at` takes (C, M) instead.  ``eta``
    is the paper's η (half the Chinchilla exponent); ``a``, ``b`` as in the paper.  N counts
    what the data it was fitted to count.
    """

    E: float
    a: float
    b: float
    eta: float

    name: ClassVar[str] = "overtraining"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")
    formula: ClassVar[str] = "L = E + (a·M^eta + b·M^-eta)·C^-eta, C = 6ND, M = D/N"

    def __post_init__(self) -> None:
        check_constants(self)

    def __call__(self, N: ArrayLike = None, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D})
        n = positive("N", N, "parameters")
        d = positive("D", D, "training tokens")
        return self._value(K_FLOPS * n * d, d / n)

    def loss_at(self, C: ArrayLike, M: ArrayLike) -> float | np.ndarray:
        """L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η): C training FLOPs (6ND), M = D/N."""
        c = positive("C", C, "training FLOPs")
        m = positive("M", M, "tokens per parameter")
        return self._value(c, m)

    def _value(self, c: np.ndarray, m: np.ndarray) -> float | np.ndarray:
        with np.errstate(over="ignore"):
            reducible = (self.a * m**self.eta + self.b * m ** (-self.eta)) * c ** (-self.eta)
        return scalar_or_array(self.E + reducible)

    # ------------------------------------------------------------------ the (C, M) view
    @staticmethod
    def params_tokens(C: ArrayLike, M: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(N, D) from (C, M): N = (C/(6M))^(1/2), D = (C·M/6)^(1/2)."""
        c = positive("C", C, "training FLOPs")
        m = positive("M", M, "tokens per parameter")
        return np.sqrt(c / (K_FLOPS * m)), np.sqrt(c * m / K_FLOPS)

    @property
    def optimal_multiplier(self) -> float:
        """M* = (b/a)^(1/(2η)): the compute-optimal tokens per parameter, the same at every C."""
        return (self.b / self.a) ** (1.0 / (2.0 * self.eta))

    def frontier(self, C: ArrayLike) -> float | np.ndarray:
        """L*(C) = E + 2·(a·b)^(1/2)·C^(−η): the loss at M* (the compute-optimal frontier)."""
        c = positive("C", C, "training FLOPs")
        return scalar_or_array(self.E + 2.0 * math.sqrt(self.a * self.b) * c ** (-self.eta))

    # ------------------------------------------------------------------ the Chinchilla view
    def to_chinchilla(self) -> ChinchillaLaw:
        """The same law as Chinchilla's: A = a·6^(−η), B = b·6^(−η), α = β = 2η."""
        return ChinchillaLaw(**chinchilla_constants(self.params))

    @classmethod
    def from_chinchilla(cls, law: ChinchillaLaw, rtol: float = 1e-9) -> OvertrainingLaw:
        """a = A·6^η, b = B·6^η, η = α/2 from a Chinchilla law with α = β (within ``rtol``);
        raises :class:`DomainError` when α ≠ β, since the (C, M) form needs one exponent."""
        if not isinstance(law, ChinchillaLaw):
            raise DomainError(
                f"from_chinchilla needs a ChinchillaLaw, got {type(law).__name__}",
                argument="law",
            )
        if not math.isclose(law.alpha, law.beta, rel_tol=rtol):
            raise DomainError(
                f"the over-training form needs alpha = beta, and this law has alpha = "
                f"{law.alpha:g}, beta = {law.beta:g}; fit it with fit_overtraining_law instead",
                argument="law",
            )
        eta = 0.5 * law.alpha
        scale = K_FLOPS**eta
        return cls(E=law.E, a=law.A * scale, b=law.B * scale, eta=eta)
