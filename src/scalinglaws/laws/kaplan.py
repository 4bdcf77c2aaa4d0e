"""Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", arXiv 2001.08361).

The pure power laws of §1.2 and Tables 2-3, each a frozen dataclass whose constants carry the
paper's names and units.  ``N`` is **non-embedding** parameters (Kaplan's convention), ``D``
tokens, ``S`` optimisation steps, ``C`` training FLOPs (the C-laws store their constant in
PF-days, as the paper prints it, and take ``C`` in FLOPs), ``L`` loss in nats per token.

Unlike the Chinchilla form there is no irreducible term: every Kaplan law tends to 0 as its
variables grow, so any positive target loss is reachable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from scalinglaws.errors import DomainError
from scalinglaws.laws.base import ArrayLike, Law, positive, register, scalar_or_array
from scalinglaws.units import PF_DAY


class _KaplanLaw(Law):
    """Shared validation: every numeric constant of a Kaplan law is finite and > 0."""

    n_counts: ClassVar[str] = "non-embedding"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, (bool, np.bool_)):
                    raise DomainError(
                        f"law '{self.name}' field {f.name} must be True or False, got {value!r}"
                    )
                continue
            positive(f.name, value, f"constant of law '{self.name}'")
            object.__setattr__(self, f.name, float(value))


@register
@dataclass(frozen=True)
class KaplanNLaw(_KaplanLaw):
    """L(N) = (N_c / N)^alpha_N   (Kaplan et al. 2020, eq. 1.1).

    Loss of models trained to convergence on enough data; ``N`` non-embedding parameters.
    Published: N_c = 8.8e13, alpha_N = 0.076.
    """

    N_c: float
    alpha_N: float

    name: ClassVar[str] = "kaplan-N"
    variables: ClassVar[tuple[str, ...]] = ("N",)
    formula: ClassVar[str] = "L(N) = (N_c/N)^alpha_N"

    def __call__(self, N: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N})
        n = positive("N", N, "non-embedding parameters")
        return scalar_or_array((self.N_c / n) ** self.alpha_N)

    def inverse(self, L: ArrayLike) -> float | np.ndarray:
        """N(L) = N_c · L^(-1/alpha_N): the parameters that reach loss ``L``."""
        loss = positive("L", L, "loss in nats per token")
        return scalar_or_array(self.N_c * loss ** (-1.0 / self.alpha_N))


@register
@dataclass(frozen=True)
class KaplanDLaw(_KaplanLaw):
    """L(D) = (D_c / D)^alpha_D   (Kaplan et al. 2020, eq. 1.2).

    Loss of large models trained with early stopping on ``D`` tokens.
    Published: D_c = 5.4e13 tokens, alpha_D = 0.095.
    """

    D_c: float
    alpha_D: float

    name: ClassVar[str] = "kaplan-D"
    n_counts: ClassVar[str] = "n/a"
    variables: ClassVar[tuple[str, ...]] = ("D",)
    formula: ClassVar[str] = "L(D) = (D_c/D)^alpha_D"

    def __call__(self, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"D": D})
        d = positive("D", D, "training tokens")
        return scalar_or_array((self.D_c / d) ** self.alpha_D)

    def inverse(self, L: ArrayLike) -> float | np.ndarray:
        """D(L) = D_c · L^(-1/alpha_D): the tokens that reach loss ``L``."""
        loss = positive("L", L, "loss in nats per token")
        return scalar_or_array(self.D_c * loss ** (-1.0 / self.alpha_D))


@register
@dataclass(frozen=True)
class KaplanCLaw(_KaplanLaw):
    """L(C) = (C_c / C)^alpha_C   (Kaplan et al. 2020, eq. 1.3 and §3.2.1).

    ``C_c`` is in PF-days as the paper prints it (1 PF-day = 8.64e19 FLOPs); call the law with
    ``C`` in FLOPs.  ``minimal=True`` is the compute-efficient law L(C_min) with C_min the
    compute at batch size B << B_crit (published C_c^min = 3.1e8 PF-days,
    alpha_C^min = 0.050); ``minimal=False`` is the naive fixed-batch fit L(C) (published
    C_c = 1.6e7 PF-days, alpha_C = 0.057).
    """

    C_c: float
    alpha_C: float
    minimal: bool

    name: ClassVar[str] = "kaplan-C"
    n_counts: ClassVar[str] = "n/a"
    variables: ClassVar[tuple[str, ...]] = ("C",)

    @property
    def formula(self) -> str:  # type: ignore[override]
        if self.minimal:
            return "L(C_min) = (C_c^min/C_min)^alpha_C^min, C_c in PF-days"
        return "L(C) = (C_c/C)^alpha_C, C_c in PF-days"

    def __call__(self, C: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"C": C})
        c = positive("C", C, "training FLOPs")
        return scalar_or_array((self.C_c * PF_DAY / c) ** self.alpha_C)

    def inverse(self, L: ArrayLike) -> float | np.ndarray:
        """C(L) = C_c · L^(-1/alpha_C) in FLOPs: the compute that reaches loss ``L``."""
        loss = positive("L", L, "loss in nats per token")
        return scalar_or_array(self.C_c * PF_DAY * loss ** (-1.0 / self.alpha_C))


@register
@dataclass(frozen=True)
class KaplanNDLaw(_KaplanLaw):
    """L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D   (Kaplan et al. 2020,
    eq. 1.5; constants of Table 2: N_c = 6.4e13, D_c = 1.8e13, alpha_N = 0.076,
    alpha_D = 0.103).

    As D -> inf it tends to (N_c/N)^alpha_N (:meth:`limit_N`), as N -> inf to
    (D_c/D)^alpha_D (:meth:`limit_D`).  The paper fits Table 2 separately from L(N) and L(D),
    so those limits use Table 2's constants, not eq. 1.1's N_c = 8.8e13.
    """

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float

    name: ClassVar[str] = "kaplan-ND"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")
    formula: ClassVar[str] = "L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D"

    def __call__(self, N: ArrayLike = None, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D})
        n = positive("N", N, "non-embedding parameters")
        d = positive("D", D, "training tokens")
        inner = (self.N_c / n) ** (self.alpha_N / self.alpha_D) + self.D_c / d
        return scalar_or_array(inner**self.alpha_D)

    def limit_N(self) -> KaplanNLaw:
        """L(N, D -> inf) = (N_c/N)^alpha_N, as a :class:`KaplanNLaw` with this law's N_c."""
        return KaplanNLaw(N_c=self.N_c, alpha_N=self.alpha_N)

    def limit_D(self) -> KaplanDLaw:
        """L(N -> inf, D) = (D_c/D)^alpha_D, as a :class:`KaplanDLaw` with this law's D_c."""
        return KaplanDLaw(D_c=self.D_c, alpha_D=self.alpha_D)

    @property
    def a(self) -> float:
        """Exponent of N_opt ∝ C^a under C = k·N·D: a = alpha_D / (alpha_N + alpha_D) [derived:
        minimising (N_c/N)^p + k·D_c·N/C over N, p = alpha_N/alpha_D, gives N^(1+p) ∝ C]."""
        return self.alpha_D / (self.alpha_N + self.alpha_D)

    @property
    def b(self) -> float:
        """Exponent of D_opt ∝ C^b under C = k·N·D: b = 1 - a = alpha_N / (alpha_N + alpha_D)."""
        return self.alpha_N / (self.alpha_N + self.alpha_D)


@register
@dataclass(frozen=True)
class KaplanNSLaw(_KaplanLaw):
    """L(N, S) = (N_c / N)^alpha_N + (S_c / S_min)^alpha_S   (Kaplan et al. 2020, eq. 1.6;
    Table 3: alpha_N = 0.077, N_c = 6.5e13, S_c = 2.1e3 steps, alpha_S = 0.76).

    ``S`` is S_min, the minimum number of optimisation steps (training at B >> B_crit); convert
    steps taken at batch B with :func:`scalinglaws.allocation.min_steps`.
    """

    N_c: float
    alpha_N: float
    S_c: float
    alpha_S: float

    name: ClassVar[str] = "kaplan-NS"
    variables: ClassVar[tuple[str, ...]] = ("N", "S")
    formula: ClassVar[str] = "L(N, S) = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S"

    def __call__(self, N: ArrayLike = None, S: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "S": S})
        n = positive("N", N, "non-embedding parameters")
        s = positive("S", S, "minimum optimisation steps S_min")
        return scalar_or_array((self.N_c / n) ** self.alpha_N + (self.S_c / s) ** self.alpha_S)

    def limit_N(self) -> KaplanNLaw:
        """L(N, S -> inf) = (N_c/N)^alpha_N, as a :class:`KaplanNLaw` with Table 3's N_c."""
        return KaplanNLaw(N_c=self.N_c, alpha_N=self.alpha_N)
