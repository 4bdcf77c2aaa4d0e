"""Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"), eq. (5): the Chinchilla
form in *effective* data and parameters, for training that repeats a limited set of unique tokens.

    L(N, D, U) = E + A / N'^alpha + B / D'^beta
    D' = U_D + U_D·R_D*·(1 − exp(−R_D / R_D*)),   R_D = max(D / U_D − 1, 0),   U_D = min(U, D)
    N' = U_N + U_N·R_N*·(1 − exp(−R_N / R_N*)),   R_N = max(N / U_N − 1, 0),
    U_N = min(N, N_opt(U_D))

``U`` is the number of unique tokens available, ``D`` the tokens trained (``D / U`` epochs);
training on D < U tokens sees U_D = D unique tokens (the authors' repository,
huggingface/datablations, clips ``U = min(U, D)`` before evaluating the law the same way).
``N_opt(U_D)`` is the model size for which ``U_D`` tokens are compute-optimal under the base
law's own allocation with C = 6ND (Hoffmann et al. 2022, App. D.2): with a = β/(α+β),
b = α/(α+β) and G = (αA/(βB))^(1/(α+β)), D_opt = G⁻¹·(C/6)^b, so N_opt(D) = G·(G·D)^(a/b)
(the repository's ``D_to_N``).  With U ≥ D (one epoch or less) and N ≤ N_opt(D) the law is
exactly Chinchilla's; a model larger than N_opt(U_D) has *excess parameters* whose value decays
even on one epoch, as in the paper.  The worth of a repeated token after R repetitions is
dD'/dD = exp(−R/R_D*) of a fresh one, so R_D* is the number of repetitions after which a
further repeated token is worth 1/e of a fresh token, and no amount of repetition makes the
data worth more than U_D·(1 + R_D*) fresh tokens (R_N* likewise for excess parameters).
"""

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
from scalinglaws.laws.chinchilla import ChinchillaLaw


def effective_count(unique: ArrayLike, total: ArrayLike, r_star: float) -> np.ndarray:
    """U + U·R*·(1 − exp(−R/R*)) with R = max(total/U − 1, 0) (Muennighoff et al. 2023, eq. 5):
    the worth, in fresh units, of ``total`` units drawn from ``unique`` distinct ones."""
    u = np.asarray(unique, dtype=float)
    repeats = np.maximum(np.asarray(total, dtype=float) / u - 1.0, 0.0)
    return u + u * r_star * (-np.expm1(-repeats / r_star))


@register
@dataclass(frozen=True)
class DataConstrainedLaw(Law):
    """L(N, D, U) = E + A/N'^alpha + B/D'^beta with effective data D' and parameters N'
    (Muennighoff et al. 2023, eq. 5; see the module docstring for D', N' and N_opt).

    ``N`` parameters, ``D`` training tokens, ``U`` unique tokens; loss in nats per token.
    ``R_D_star`` and ``R_N_star`` are the decay constants of repeated data and of parameters in
    excess of ``N_opt(U)``.  With ``U >= D`` and ``N <= N_opt(D)`` it equals
    :class:`ChinchillaLaw` (:meth:`base`).  N counts what the fit's N counts (total parameters,
    embeddings included, for the published constants).
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    R_D_star: float
    R_N_star: float

    name: ClassVar[str] = "data-constrained"
    variables: ClassVar[tuple[str, ...]] = ("N", "D", "U")
    formula: ClassVar[str] = (
        "L(N, D, U) = E + A/N'^alpha + B/D'^beta, D' = U + U·R_D*·(1 - exp(-(D/U - 1)/R_D*)), "
        "N' likewise with U_N = min(N, N_opt(U))"
    )

    def __post_init__(self) -> None:
        check_constants(self)

    def base(self) -> ChinchillaLaw:
        """The Chinchilla law with the same E, A, B, alpha, beta (the law of unrepeated data)."""
        return ChinchillaLaw(E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta)

    def n_opt(self, D: ArrayLike) -> float | np.ndarray:
        """N_opt(D) = G·(G·D)^(a/b): the size for which D tokens are compute-optimal under the
        base law with C = 6ND (Hoffmann et al. 2022, App. D.2)."""
        d = positive("D", D, "tokens")
        base = self.base()
        return scalar_or_array(base.G * (base.G * d) ** (base.a / base.b))

    def effective_data(self, D: ArrayLike, U: ArrayLike) -> float | np.ndarray:
        """D' = U_D + U_D·R_D*·(1 − exp(−R_D/R_D*)), R_D = max(D/U_D − 1, 0), U_D = min(U, D)
        (Muennighoff et al. 2023, eq. 5): D' = D for one epoch or less, D' < D beyond."""
        d = positive("D", D, "training tokens")
        u = positive("U", U, "unique tokens")
        return scalar_or_array(effective_count(np.minimum(u, d), d, self.R_D_star))

    def effective_params(self, N: ArrayLike, U: ArrayLike) -> float | np.ndarray:
        """N' = U_N + U_N·R_N*·(1 − exp(−R_N/R_N*)), U_N = min(N, N_opt(U)),
        R_N = max(N/U_N − 1, 0) (Muennighoff et al. 2023, eq. 5).  ``U`` is the number of
        unique tokens trained on, U_D = min(U, D) (the law's call passes it so)."""
        n = positive("N", N, "parameters")
        u = positive("U", U, "unique tokens")
        u_n = np.minimum(n, np.asarray(self.n_opt(u), dtype=float))
        return scalar_or_array(effective_count(u_n, n, self.R_N_star))

    def __call__(
        self, N: ArrayLike = None, D: ArrayLike = None, U: ArrayLike = None
    ) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D, "U": U})
        u_d = np.minimum(positive("U", U, "unique tokens"), positive("D", D, "training tokens"))
        n_eff = np.asarray(self.effective_params(N, u_d), dtype=float)
        d_eff = np.asarray(self.effective_data(D, U), dtype=float)
        return scalar_or_array(self.E + self.A / n_eff**self.alpha + self.B / d_eff**self.beta)
