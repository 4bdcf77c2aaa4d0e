"""Laws made of other laws, for the automatic fit (:mod:`scalinglaws.fit.auto`).

* :class:`FrontierShapeLaw`: a law of C for the compute-optimal loss L*(C), extended to any
  (N, D) by the valley of a Chinchilla "shape" law:
  L̂(N, D) = L*(C) · L_s(N·N_s*(C)/N*(C), ·) / L_s*(C), C = k·N·D.
* :class:`EnsembleLaw`: a weighted geometric mean of laws of (N, D),
  log L = Σ_k w_k · log L_k(N, D).
* :class:`AutoEnsembleLaw`: the same with weights that depend on how far beyond the data's
  compute a request lies (the automatic fit's combination).

Each registers under its ``name`` so that a saved fit loads it (:func:`law_from_dict`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from scalinglaws.errors import DomainError, UnknownNameError
from scalinglaws.laws.base import ArrayLike, Law, law_from_dict, positive, register, scalar_or_array
from scalinglaws.laws.chinchilla import ChinchillaLaw


@register
@dataclass(frozen=True)
class FrontierShapeLaw(Law):
    """A frontier law of C made into a law of (N, D) by the valley of a Chinchilla law.

    With C = k·N·D, the frontier L*(C) = E_f + A_f·C^(−alpha_f) and the optimum's size
    N*(C) = k_N·C^a_N, a run's loss is the frontier times the shape law's relative penalty
    for being a factor N/N*(C) away from the optimum at its budget::

        L(N, D) = L*(C) · L_s(N', C/(k N')) / L_s(N_s*, C/(k N_s*)),  N' = N · N_s*/N*(C)

    where L_s = E + A/N^alpha + B/D^beta is the shape law and N_s* = G·(C/k)^a its own
    optimum (Hoffmann et al. 2022, eq. 2 and Appendix D.2).  At N = N*(C) the law equals
    L*(C); the valley's width and asymmetry are the shape law's.
    """

    E_f: float
    A_f: float
    alpha_f: float
    k_N: float
    a_N: float
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    k: float = 6.0

    name: ClassVar[str] = "frontier-shape"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")
    formula: ClassVar[str] = (
        "L(N, D) = L*(C)·L_s(N·N_s*/N*, ·)/L_s*(C), L*(C) = E_f + A_f C^-alpha_f, "
        "N*(C) = k_N C^a_N, C = kND"
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = float(getattr(self, f.name))
            if not math.isfinite(value):
                raise DomainError(f"law 'frontier-shape' constant {f.name} must be finite")
            object.__setattr__(self, f.name, value)
        for name in ("A_f", "k_N", "A", "B", "alpha", "beta", "k"):
            positive(name, getattr(self, name), "constant of law 'frontier-shape'")
        if self.E_f < 0 or self.E < 0:
            raise DomainError("law 'frontier-shape' needs E_f >= 0 and E >= 0")

    @property
    def shape(self) -> ChinchillaLaw:
        """The Chinchilla law whose valley shapes the off-optimum penalty."""
        return ChinchillaLaw(E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta)

    def frontier(self, C: ArrayLike) -> float | np.ndarray:
        """L*(C) = E_f + A_f·C^(−alpha_f): the loss at the compute-optimal allocation."""
        c = positive("C", C, "training FLOPs")
        return scalar_or_array(self.E_f + self.A_f * c ** (-self.alpha_f))

    def n_opt(self, C: ArrayLike) -> float | np.ndarray:
        """N*(C) = k_N·C^a_N."""
        c = positive("C", C, "training FLOPs")
        return scalar_or_array(self.k_N * c**self.a_N)

    def __call__(self, N: ArrayLike = None, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D})
        n = positive("N", N, "parameters")
        d = positive("D", D, "training tokens")
        c = self.k * n * d
        s = self.shape
        n_s = s.G * (c / self.k) ** s.a
        n_prime = n * n_s / (self.k_N * c**self.a_N)
        penalty = _chinchilla_log(s, n_prime, c / (self.k * n_prime)) - _chinchilla_log(
            s, n_s, c / (self.k * n_s)
        )
        return scalar_or_array((self.E_f + self.A_f * c ** (-self.alpha_f)) * np.exp(penalty))


@register
@dataclass(frozen=True)
class EnsembleLaw(Law):
    """A weighted geometric mean of laws of (N, D): log L = Σ_k w_k · log L_k(N, D), Σ w = 1.

    The combination of forecasts by weights inversely proportional to each forecaster's
    out-of-sample mean squared error (Bates & Granger 1969), made on the log scale where the
    laws' errors are relative.  ``members`` are laws of N and D, ``weights`` their weights.
    """

    members: tuple[Law, ...]
    weights: tuple[float, ...]
    labels: tuple[str, ...] = ()

    name: ClassVar[str] = "ensemble"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")
    formula: ClassVar[str] = "log L(N, D) = sum_k w_k log L_k(N, D)"

    def __post_init__(self) -> None:
        members = tuple(m if isinstance(m, Law) else law_from_dict(m) for m in self.members)
        weights = tuple(float(w) for w in self.weights)
        if not members or len(members) != len(weights):
            raise DomainError(
                f"an ensemble law needs one weight per member, got {len(members)} members and "
                f"{len(weights)} weights"
            )
        if any(not math.isfinite(w) or w < 0 for w in weights) or not sum(weights) > 0:
            raise DomainError(f"ensemble weights must be >= 0 with a positive sum, got {weights}")
        _check_members(members)
        total = sum(weights)
        labels = tuple(self.labels) or tuple(m.name for m in members)
        if len(labels) != len(members):
            raise DomainError("an ensemble law needs one label per member")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "weights", tuple(w / total for w in weights))
        object.__setattr__(self, "labels", labels)

    def __call__(self, N: ArrayLike = None, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D})
        n = positive("N", N, "parameters")
        d = positive("D", D, "training tokens")
        log_l = sum(
            w * np.log(np.asarray(m(N=n, D=d), dtype=float))
            for w, m in zip(self.weights, self.members, strict=True)
            if w > 0
        )
        return scalar_or_array(np.exp(log_l))

    @property
    def params(self) -> dict[str, float]:
        """The weights, as ``w[label]``."""
        return {f"w[{lab}]": w for lab, w in zip(self.labels, self.weights, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """``{"law": "ensemble", "members": [law dicts], "weights": [...], "labels": [...]}``."""
        return {
            "law": self.name,
            "members": [m.to_dict() for m in self.members],
            "weights": list(self.weights),
            "labels": list(self.labels),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnsembleLaw:
        """Rebuild from :meth:`to_dict` (members through :func:`law_from_dict`)."""
        data = dict(data)
        data.pop("law", None)
        unknown = sorted(set(data) - {"members", "weights", "labels"})
        if unknown:
            raise UnknownNameError(
                f"unknown field(s) {unknown} for law 'ensemble'; valid: members, weights, labels"
            )
        return cls(
            members=tuple(law_from_dict(m) for m in data.get("members", [])),
            weights=tuple(data.get("weights", [])),
            labels=tuple(data.get("labels", [])),
        )


@register
@dataclass(frozen=True)
class AutoEnsembleLaw(Law):
    """The automatic fit's law: a weighted geometric mean of candidate laws whose weights
    depend on how far beyond the data a request lies.

        log L(N, D) = Σ_k w_k(C) · log L_k(N, D),   C = k·N·D,
        w_k(C) = λ·(1/MSE_k(d)) / Σ_j (1/MSE_j(d)) + (1 − λ)·prior_k,
        MSE_k(d) = a_k + b_k·d²,   d = max(0, ln(C / C_max)) / span,

    the candidates' out-of-sample errors at distance d (in spans of the data's log C,
    span = ln(C_max / C_min)) measured by the nested backtest
    (:mod:`scalinglaws.fit.weighting`), the sum over the candidates whose MSE is within
    ``trim`` times the smallest, shrunk toward the ``prior`` weights by λ.  A candidate with
    ``mse_a`` NaN was not scored and weighs only through the prior.  Along a budget C is
    fixed, so the weights are too: the optimum is that of a fixed mixture.
    """

    members: tuple[Law, ...]
    labels: tuple[str, ...]
    prior: tuple[float, ...]
    mse_a: tuple[float, ...]
    mse_b: tuple[float, ...]
    lam: float
    C_max: float
    span: float
    trim: float = math.inf
    k: float = 6.0

    name: ClassVar[str] = "auto-ensemble"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")
    formula: ClassVar[str] = (
        "log L(N, D) = sum_k w_k(d) log L_k(N, D), d = ln(C/C_max)+ / ln(C_max/C_min)"
    )

    def __post_init__(self) -> None:
        members = tuple(m if isinstance(m, Law) else law_from_dict(m) for m in self.members)
        K = len(members)
        fields = {
            "labels": tuple(str(x) for x in self.labels),
            "prior": tuple(float(x) for x in self.prior),
            "mse_a": tuple(math.nan if x is None else float(x) for x in self.mse_a),
            "mse_b": tuple(math.nan if x is None else float(x) for x in self.mse_b),
        }
        if not K or any(len(v) != K for v in fields.values()):
            raise DomainError(
                "an auto-ensemble law needs one label, prior weight, mse_a and mse_b per member"
            )
        prior = fields["prior"]
        if any(not math.isfinite(w) or w < 0 for w in prior) or not sum(prior) > 0:
            raise DomainError(
                f"auto-ensemble prior weights must be >= 0 with a positive sum, got {prior}"
            )
        _check_members(members)
        lam, c_max, k = float(self.lam), float(self.C_max), float(self.k)
        span, trim = float(self.span), float(self.trim)
        if not (
            0 <= lam <= 1 and 0 < c_max < math.inf and k > 0 and 0 < span < math.inf and trim >= 1
        ):
            raise DomainError(
                f"auto-ensemble needs 0 <= lam <= 1, C_max > 0, span > 0, trim >= 1 and k > 0, "
                f"got lam={self.lam}, C_max={self.C_max}, span={self.span}, trim={self.trim}, "
                f"k={self.k}"
            )
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "trim", trim)
        object.__setattr__(self, "members", members)
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "prior", tuple(w / sum(prior) for w in prior))
        object.__setattr__(self, "lam", lam)
        object.__setattr__(self, "C_max", c_max)
        object.__setattr__(self, "k", k)

    @property
    def growth(self) -> dict[str, Any]:
        """label -> :class:`~scalinglaws.fit.weighting.ErrorGrowth` of the scored members."""
        from scalinglaws.fit.weighting import ErrorGrowth

        return {
            lab: ErrorGrowth(a, b, 0)
            for lab, a, b in zip(self.labels, self.mse_a, self.mse_b, strict=True)
            if math.isfinite(a) and math.isfinite(b)
        }

    def distance(self, C: ArrayLike) -> np.ndarray:
        """max(0, ln(C / C_max)): e-folds of compute beyond the data."""
        c = np.asarray(C, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.maximum(np.log(c / self.C_max), 0.0)

    def spans(self, C: ArrayLike) -> np.ndarray:
        """d = max(0, ln(C / C_max)) / span: the distance beyond the data in spans of its
        log C, the unit of the error models."""
        return self.distance(C) / self.span

    def weights(self, C: ArrayLike) -> np.ndarray:
        """w_k(C), shape C.shape + (K,)."""
        from scalinglaws.fit.weighting import weights_at

        c = np.asarray(C, dtype=float)
        w = weights_at(
            self.spans(c).ravel(), self.labels, self.growth, self.prior, self.lam, self.trim
        )
        return w.reshape(c.shape + (len(self.members),))

    def __call__(self, N: ArrayLike = None, D: ArrayLike = None) -> float | np.ndarray:
        self._check_kwargs({"N": N, "D": D})
        n = positive("N", N, "parameters")
        d = positive("D", D, "training tokens")
        n, d = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(d, dtype=float))
        W = self.weights(self.k * n * d)
        log_l = np.zeros(n.shape)
        for j, m in enumerate(self.members):
            w = W[..., j]
            if not np.any(w > 0):
                continue
            with np.errstate(all="ignore"):
                log_m = np.log(np.asarray(m(N=n, D=d), dtype=float))
            log_l = log_l + np.where(w > 0, w * log_m, 0.0)
        return scalar_or_array(np.exp(log_l))

    @property
    def params(self) -> dict[str, float]:
        """The weights at the edge of the data (d = 0), as ``w[label]``."""
        w = self.weights(np.array(self.C_max))
        return {f"w[{lab}]": float(x) for lab, x in zip(self.labels, w, strict=True)}

    def with_members(self, members: Sequence[Law]) -> AutoEnsembleLaw:
        """The same weighting with other members (a bootstrap replicate's)."""
        return dataclasses.replace(self, members=tuple(members))

    def to_dict(self) -> dict[str, Any]:
        """Members as law dicts, the weighting's constants as lists (NaN as None)."""
        return {
            "law": self.name,
            "members": [m.to_dict() for m in self.members],
            "labels": list(self.labels),
            "prior": list(self.prior),
            "mse_a": [None if not math.isfinite(x) else x for x in self.mse_a],
            "mse_b": [None if not math.isfinite(x) else x for x in self.mse_b],
            "lam": self.lam,
            "C_max": self.C_max,
            "span": self.span,
            "trim": self.trim if math.isfinite(self.trim) else None,
            "k": self.k,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoEnsembleLaw:
        """Rebuild from :meth:`to_dict`."""
        data = dict(data)
        data.pop("law", None)
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise UnknownNameError(
                f"unknown field(s) {unknown} for law 'auto-ensemble'; valid: {sorted(valid)}"
            )
        data["members"] = tuple(law_from_dict(m) for m in data.get("members", []))
        if data.get("trim") is None:
            data["trim"] = math.inf
        return cls(**data)


def _check_members(members: Sequence[Law]) -> None:
    """An ensemble's members must all be laws of (N, D)."""
    for m in members:
        if tuple(m.variables) != ("N", "D"):
            raise DomainError(
                f"ensemble members must be laws of N and D, got '{m.name}' of "
                f"{', '.join(m.variables)}"
            )


def _chinchilla_log(law: ChinchillaLaw, N: np.ndarray, D: np.ndarray) -> np.ndarray:
    return np.log(law.E + law.A * N ** (-law.alpha) + law.B * D ** (-law.beta))
