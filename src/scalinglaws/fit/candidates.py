"""The candidate models of the automatic fit (:mod:`scalinglaws.fit.auto`).

Each candidate turns a table of final runs into a law of (N, D) that predicts any run's final
loss, and can be re-fitted to bootstrap replicates (whole runs resampled) from its point
estimate.  The five candidates of :data:`DEFAULT_CANDIDATES`:

``chinchilla``
    L = E + A/N^α + B/D^β (Hoffmann et al. 2022, eq. 2) fitted as Hoffmann et al. §3.3 do:
    Huber loss (δ = 1e-3) of log L − log L̂, summed, over Hoffmann's grid of 4,500 starts,
    by :class:`~scalinglaws.fit.parametric.Approach3`'s own search
    (:meth:`~scalinglaws.fit.parametric.Approach3.search`: every start by the batched
    L-BFGS of :mod:`scalinglaws.fit.optim`, the best distinct end points polished), so it
    reaches the optimum Approach 3 reaches -- also where the losses are below 1 and the best
    points of the grid all sit on the plateau of E.  This is the standard recipe, with its
    known failure modes: E collapsing to 0, E saturating at the lowest loss, an exponent
    going negative (Besiroglu et al. 2024; Porian et al. 2024).
``chinchilla-constrained``
    The same form and objective with the failure modes ruled out by bounds: α, β ≥ 0 and
    E_lo·L_min ≤ E ≤ E_hi·L_min (default 0.5 and 0.9 of the lowest observed loss): the floor
    may neither vanish nor claim that the best run is already within 10% of it.  When the
    unconstrained optimum satisfies the bounds it is the constrained optimum; otherwise the
    coordinates it violates are pinned at their bound, every start of the grid is optimised
    over the others, and the best end points are polished by L-BFGS-B within the bounds.
``kaplan``
    L = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Kaplan et al. 2020, eq. 1.5), same objective, from
    Approach 3's grid for this law.
``approach2``
    Hoffmann et al.'s Approach 2 frontier: per-budget IsoFLOP minima (a parabola in ln N,
    :func:`~scalinglaws.fit.isoflop.profile_minimum`), N*(C) = k_N·C^a by log-log least
    squares and L*(C) = E + A·C^−α by Huber on log L (:func:`fit_loss_power`), its floor
    bounded like the constrained fit's E.  It predicts an off-optimum run by the valley of
    the constrained Chinchilla fit (see :class:`FrontierShapeLaw`).
``frontier``
    L*(C) = E + A·C^−α fitted to the compute frontier (the runs no cheaper run beats; Kaplan
    et al. 2020 §6, Fig. 1), its floor bounded the same way, with the optimum's location and
    the valley's shape from the constrained Chinchilla fit.

A law of C alone predicts the *compute-optimal* loss, not a given run's.  The frontier
candidates therefore predict a run at (N, D), C = k·N·D, as the frontier level times the
shape law's relative penalty for the run's distance from the optimum:
L̂(N, D) = L*(C) · L_s(N·N_s*(C)/N*(C), ·) / L_s*(C) (:class:`FrontierShapeLaw`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from scalinglaws.errors import DomainError, FitError, UnknownNameError, did_you_mean
from scalinglaws.laws.base import ArrayLike, Law, law_from_dict, positive, register, scalar_or_array
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.kaplan import KaplanNDLaw

# ============================================================================ laws


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


# ============================================================================ optimum
def optimum(law: Law, C: float, k: float = 6.0) -> tuple[float, float, float]:
    """The compute-optimal (N*, D*, L*) of a law of (N, D) at budget C with C = k·N·D.

    Closed forms: Chinchilla N* = G·(C/k)^a (Hoffmann et al. 2022, Appendix D.2); Kaplan's
    L(N, D) N* = (p·N_c^p·C/(k·D_c))^(1/(p+1)), p = α_N/α_D (setting dL/dN = 0 along
    D = C/(kN)); :class:`FrontierShapeLaw` N* = k_N·C^a_N.  Any other law (an ensemble) is
    minimised numerically over ln N (a grid over ±7 e-folds around its members' optima,
    refined by a bounded scalar search).
    """
    c = float(C)
    if isinstance(law, ChinchillaLaw):
        if not (law.alpha > 0 and law.beta > 0 and law.A > 0 and law.B > 0):
            raise FitError(
                f"a Chinchilla law has a compute-optimal size only with alpha, beta, A, B > 0, "
                f"got {law.params}"
            )
        n = law.G * (c / k) ** law.a
    elif isinstance(law, KaplanNDLaw):
        p = law.alpha_N / law.alpha_D
        n = (p * law.N_c**p * c / (k * law.D_c)) ** (1.0 / (p + 1.0))
    elif isinstance(law, FrontierShapeLaw):
        n = float(law.n_opt(c))
        return n, c / (law.k * n), float(law.frontier(c))
    elif isinstance(law, (EnsembleLaw, AutoEnsembleLaw)):
        n = _numeric_optimum(law, c, k)
    else:
        raise FitError(f"no optimum is defined for law '{law.name}' of {law.variables}")
    if not (math.isfinite(n) and n > 0):
        raise FitError(f"law '{law.name}' has no finite compute-optimal size at C = {c:.3g}")
    d = c / (k * n)
    return n, d, float(law(N=n, D=d))


def _numeric_optimum(law: EnsembleLaw | AutoEnsembleLaw, c: float, k: float) -> float:
    return float(optimal_sizes(law, np.array([c]), k)[0])


def optimal_sizes(law: Law, C: np.ndarray, k: float = 6.0) -> np.ndarray:
    """N*(C) of a law of (N, D) for an array of budgets, with C = k·N·D.

    Closed form where :func:`optimum` has one; for an :class:`EnsembleLaw` the weighted
    log-loss is minimised over ln N on a grid spanning its members' optima ± 7 e-folds (161
    points for all budgets at once), refined by a parabola through the best grid point and
    its neighbours.
    """
    c = np.asarray(C, dtype=float).ravel()
    if not isinstance(law, (EnsembleLaw, AutoEnsembleLaw)):
        return np.array([optimum(law, float(x), k)[0] for x in c])
    weights = law.weights if isinstance(law, EnsembleLaw) else law.weights(c).max(axis=0)
    centres = []
    for m, w in zip(law.members, weights, strict=True):
        if w > 0:
            try:
                centres.append(np.log(optimal_sizes(m, c, k)))
            except (FitError, ArithmeticError, ValueError):
                continue
    if not centres:
        raise FitError("no member of the ensemble has a finite compute-optimal size")
    cen = np.array(centres)
    lo = np.clip(cen.min(axis=0) - 7.0, np.log(c / k) / 2 - 40, None)
    hi = np.clip(cen.max(axis=0) + 7.0, None, np.log(c / k) / 2 + 40)
    for _ in range(2):  # a coarse pass, then a fine one around its best point
        best, h = _grid_minimum(law, c, k, lo, hi)
        lo, hi = best - 2 * h, best + 2 * h
    return np.exp(best)


def _grid_minimum(
    law: Law, c: np.ndarray, k: float, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum over u = ln N in [lo, hi] of log law(N, C/(kN)), per budget, on a grid of 161
    points refined by a parabola; returns (u*, grid step)."""
    t = np.linspace(0.0, 1.0, 161)
    u = lo[:, None] + (hi - lo)[:, None] * t[None, :]
    n = np.exp(u)
    with np.errstate(all="ignore"):
        f = np.log(np.asarray(law(N=n, D=c[:, None] / (k * n)), dtype=float))
    f = np.where(np.isfinite(f), f, np.inf)
    i = np.argmin(f, axis=1)
    if np.any(~np.isfinite(f[np.arange(c.size), i])):
        raise FitError("the ensemble law is not finite anywhere along a budget")
    j = np.clip(i, 1, t.size - 2)
    rows = np.arange(c.size)
    f0, f1, f2 = f[rows, j - 1], f[rows, j], f[rows, j + 1]
    h = (hi - lo) / (t.size - 1)
    denom = f0 - 2 * f1 + f2
    with np.errstate(all="ignore"):
        step = np.where(np.isfinite(denom) & (denom > 0), 0.5 * h * (f0 - f2) / denom, 0.0)
    best = u[rows, j] + np.clip(step, -h, h)
    best = np.where((i == 0) | (i == t.size - 1), u[rows, i], best)
    return best, h


# ============================================================================ the data
@dataclass(frozen=True)
class FitData:
    """The final rows of a :class:`~scalinglaws.runs.Runs`, as arrays: one row per run.

    ``k`` is the effective FLOPs per parameter-token, the median of C/(N·D) (6 when C was
    derived as 6ND), used to move between a budget C and a size N along D = C/(kN).
    """

    N: np.ndarray
    D: np.ndarray
    C: np.ndarray
    L: np.ndarray
    run_id: np.ndarray
    k: float

    @classmethod
    def from_runs(cls, runs: Any) -> FitData:
        """Each run's last checkpoint (largest step, else largest D) from ``runs``."""
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        df = runs.df
        by = "step" if "step" in df.columns else "D"
        idx = df.groupby("run_id", sort=False)[by].idxmax().to_numpy()
        final = df.loc[idx]
        N, D, C = (final[c].to_numpy(dtype=float) for c in ("N", "D", "C"))
        return cls(
            N=N,
            D=D,
            C=C,
            L=final["L"].to_numpy(dtype=float),
            run_id=final["run_id"].to_numpy(),
            k=float(np.median(C / (N * D))),
        )

    def __len__(self) -> int:
        return int(self.L.size)

    def subset(self, mask: np.ndarray) -> FitData:
        """The rows where ``mask`` is true."""
        m = np.asarray(mask, dtype=bool)
        return FitData(self.N[m], self.D[m], self.C[m], self.L[m], self.run_id[m], self.k)


# ============================================================================ candidates
class Candidate:
    """One candidate model: ``fit(data, shape)`` gives its law at the point estimate and
    ``refit(data, weights, start, shapes)`` one law (or None where the fit failed) per row of
    ``weights`` (bootstrap counts per run).  ``shape`` is the constrained Chinchilla law that
    the frontier candidates use for the valley (ignored by the others)."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    needs_shape: ClassVar[bool] = False

    def fit(self, data: FitData, shape: ChinchillaLaw | None = None) -> Law:
        """The law at the point estimate (raises :class:`FitError` when it cannot be fitted)."""
        raise NotImplementedError

    def refit(
        self,
        data: FitData,
        weights: np.ndarray,
        start: Law,
        shapes: Sequence[ChinchillaLaw | None] = (),
    ) -> list[Law | None]:
        """One law per row of ``weights`` (None where the refit failed), started at ``start``."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- parametric
_N_POLISHED = 3  # distinct best end points of the bounded search polished by L-BFGS-B
# The unconstrained optimum of the last few data sets (form, delta, data) -> θ: the
# unconstrained and constrained Chinchilla candidates start from the same search.
_FREE_OPTIMA: dict[tuple, np.ndarray] = {}


def _bound_arrays(bounds: list) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])
    return lo, hi


def _inside(theta: np.ndarray, bounds: list) -> bool:
    lo, hi = _bound_arrays(bounds)
    return bool(np.all(theta >= lo) and np.all(theta <= hi))


class _Parametric(Candidate):
    """Shared machinery of the laws fitted by a robust loss of log residuals
    (:mod:`scalinglaws.fit.objectives`): the search of
    :class:`~scalinglaws.fit.parametric.Approach3` itself (:meth:`Approach3.search`: every
    start of its grid by the batched L-BFGS of :mod:`scalinglaws.fit.optim`, the best end
    points polished), so that a candidate reaches the optimum the stand-alone estimator
    reaches."""

    form_name: ClassVar[str] = ""

    def __init__(self, delta: float = 1e-3) -> None:
        from scalinglaws.fit.objectives import Loss
        from scalinglaws.fit.parametric import Approach3

        self.loss = Loss("huber", delta)
        # one process: the automatic fit runs many candidate fits, in parallel where it can
        self.engine = Approach3(law=self.form_name, delta=delta, n_jobs=1)

    # coordinates ------------------------------------------------------------
    def _centre(self, data: FitData) -> tuple[float, float]:
        return float(np.mean(np.log(data.N))), float(np.mean(np.log(data.D)))

    def _objective(self, data: FitData, weights: np.ndarray | None = None) -> Any:
        from scalinglaws.fit.objectives import BatchObjective, ChinchillaForm, KaplanForm

        mN, mD = self._centre(data)
        form_cls = ChinchillaForm if self.form_name == "chinchilla" else KaplanForm
        form = form_cls(np.log(data.N) - mN, np.log(data.D) - mD)
        return BatchObjective(form, self.loss, data.L, weights)

    def _grid(self, data: FitData) -> np.ndarray:
        """The stand-alone estimator's grid of starts, in the centred coordinates."""
        mN, mD = self._centre(data)
        return self.engine.starts_internal(mN, mD)

    def _to_law(self, theta: np.ndarray, data: FitData) -> Law:
        raise NotImplementedError

    def _from_law(self, law: Law, data: FitData) -> np.ndarray:
        raise NotImplementedError

    def _bounds(self, data: FitData) -> list[tuple[float | None, float | None]] | None:
        return None

    # fitting ----------------------------------------------------------------
    def _check(self, data: FitData) -> None:
        n_par = 5 if self.form_name == "chinchilla" else 4
        if len(data) <= n_par:
            raise FitError(
                f"the {self.title} needs more runs than its {n_par} parameters, got {len(data)}"
            )

    def fit(self, data: FitData, shape: ChinchillaLaw | None = None) -> Law:
        """Approach 3's search from its whole grid (:meth:`Approach3.search`); when the
        optimum lies outside the bounds (if any), the bounded search of
        :meth:`_bounded_search`."""
        from scalinglaws.fit.parametric import _Problem

        self._check(data)
        grid = self._grid(data)
        key = (
            self.form_name,
            self.loss.delta,
            data.N.tobytes(),
            data.D.tobytes(),
            data.L.tobytes(),
        )
        theta = _FREE_OPTIMA.get(key)
        if theta is None:  # the constrained candidate shares the unconstrained search
            problem = _Problem.build(self.form_name, data.N, data.D, data.L, self.loss)
            _, theta, _, _, _ = self.engine.search(problem, grid, f"the {self.title}'s data")
            _FREE_OPTIMA[key] = theta
            while len(_FREE_OPTIMA) > 16:
                _FREE_OPTIMA.pop(next(iter(_FREE_OPTIMA)))
        bounds = self._bounds(data)
        if bounds is not None and not _inside(theta, bounds):
            theta = self._bounded_search(self._objective(data), grid, theta, bounds)
        return self._law_or_fail(theta, data)

    def _bounded_search(
        self, obj: Any, grid: np.ndarray, theta: np.ndarray, bounds: list
    ) -> np.ndarray:
        """The optimum within ``bounds`` when the unconstrained one, ``theta``, lies outside.

        The coordinates that ``theta`` violates are pinned at the bound they cross and every
        start of the grid (clipped into the bounds) is optimised over the others by the same
        batched L-BFGS; the best distinct end points and the clipped ``theta`` are then
        polished by L-BFGS-B within all the bounds, free to leave the pinned bound."""
        from scalinglaws.fit.optim import minimize_batch
        from scalinglaws.fit.parametric import _distinct_best

        lo, hi = _bound_arrays(bounds)
        at = np.clip(theta, lo, hi)
        free = (theta >= lo) & (theta <= hi)
        starts = np.clip(grid, lo, hi)
        starts[:, ~free] = at[~free]
        row0 = np.zeros(len(starts), dtype=int)

        def pinned(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            full = np.repeat(at[None, :], len(x), axis=0)
            full[:, free] = x
            v, g = obj(full, row0[rows])
            return v, g[:, free]

        res = minimize_batch(
            pinned, starts[:, free], ftol=self.engine.tol, max_iter=self.engine.max_iter
        )
        ends = starts.copy()
        ends[:, free] = res.x
        best = _distinct_best(res, _N_POLISHED)
        return self._bounded(obj, np.vstack([at[None, :], ends[best]]), bounds)

    def _law_or_fail(self, theta: np.ndarray, data: FitData) -> Law:
        try:
            return self._to_law(theta, data)
        except (DomainError, ArithmeticError, ValueError) as exc:
            raise FitError(f"the {self.title} gave an invalid law ({exc})") from None

    def _bounded(self, obj: Any, starts: np.ndarray, bounds: list, row: int = 0) -> np.ndarray:
        from scipy.optimize import minimize

        rows = np.array([row])
        best_x, best_f = None, math.inf
        for x0 in starts:
            f0 = float(obj(x0[None, :], rows)[0][0])
            scale = abs(f0) if math.isfinite(f0) and f0 != 0 else 1.0

            def fun(x: np.ndarray, scale: float = scale) -> tuple[float, np.ndarray]:
                v, g = obj(x[None, :], rows)
                if not np.isfinite(v[0]):
                    return 1e300, np.zeros_like(x)
                return float(v[0]) / scale, g[0] / scale

            res = minimize(
                fun,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"ftol": 1e-12, "gtol": 1e-9, "maxiter": 2000},
            )
            f = float(res.fun) * scale
            if math.isfinite(f) and f < best_f:
                best_x, best_f = np.asarray(res.x, dtype=float), f
        if best_x is None:
            raise FitError(f"the {self.title} found no finite optimum")
        return best_x

    def refit(
        self,
        data: FitData,
        weights: np.ndarray,
        start: Law,
        shapes: Sequence[ChinchillaLaw | None] = (),
    ) -> list[Law | None]:
        """All replicates as one batch from the point estimate (bounded ones by L-BFGS-B)."""
        from scalinglaws.fit.optim import minimize_batch

        obj = self._objective(data, np.asarray(weights, dtype=float))
        theta0 = self._from_law(start, data)
        n_rep = len(weights)
        bounds = self._bounds(data)
        out: list[Law | None] = []
        if bounds is None:
            res = minimize_batch(obj, np.repeat(theta0[None, :], n_rep, axis=0))
            for r in range(n_rep):
                ok = bool(res.converged[r]) and np.isfinite(res.fun[r])
                out.append(self._safe_law(res.x[r], data) if ok else None)
            return out
        # every replicate unconstrained first; the infeasible ones again within the bounds
        res = minimize_batch(obj, np.repeat(theta0[None, :], n_rep, axis=0))
        lo, hi = _bound_arrays(bounds)
        for r in range(n_rep):
            x = res.x[r]
            if not (bool(res.converged[r]) and np.isfinite(res.fun[r]) and _inside(x, bounds)):
                try:
                    starts = np.vstack([np.clip(x, lo, hi), np.clip(theta0, lo, hi)])
                    x = self._bounded(obj, starts, bounds, row=r)
                except FitError:
                    out.append(None)
                    continue
            out.append(self._safe_law(x, data))
        return out

    def _safe_law(self, theta: np.ndarray, data: FitData) -> Law | None:
        try:
            return self._to_law(theta, data)
        except (DomainError, ArithmeticError, ValueError):
            return None


class ChinchillaCandidate(_Parametric):
    """L = E + A/N^α + B/D^β by Huber (δ) on log L from Hoffmann's grid; ``e_bounds`` (two
    fractions of the lowest observed loss) and exponents ≥ 0 make it the constrained
    candidate."""

    form_name = "chinchilla"

    def __init__(self, delta: float = 1e-3, e_bounds: tuple[float, float] | None = None) -> None:
        super().__init__(delta)
        if e_bounds is not None:
            lo, hi = (float(x) for x in e_bounds)
            if not (0 < lo < hi <= 1):
                raise DomainError(
                    f"e_bounds must be two fractions of the lowest loss with 0 < low < high <= 1"
                    f" (e.g. (0.5, 0.9)), got {e_bounds!r}"
                )
            e_bounds = (lo, hi)
        self.e_bounds = e_bounds

    @property
    def key(self) -> str:  # type: ignore[override]
        """``chinchilla`` or ``chinchilla-constrained``."""
        return "chinchilla" if self.e_bounds is None else "chinchilla-constrained"

    @property
    def title(self) -> str:  # type: ignore[override]
        """The candidate in words."""
        if self.e_bounds is None:
            return "Chinchilla form (unconstrained)"
        lo, hi = self.e_bounds
        return f"Chinchilla form (alpha, beta >= 0, {lo:g} <= E/L_min <= {hi:g})"

    def _bounds(self, data: FitData) -> list[tuple[float | None, float | None]] | None:
        if self.e_bounds is None:
            return None
        l_min = float(np.min(data.L))
        lo, hi = self.e_bounds
        return [
            (None, None),
            (None, None),
            (math.log(lo * l_min), math.log(hi * l_min)),
            (0.0, None),
            (0.0, None),
        ]

    def _to_law(self, theta: np.ndarray, data: FitData) -> ChinchillaLaw:
        mN, mD = self._centre(data)
        a, b, e, alpha, beta = (float(x) for x in theta)
        law = ChinchillaLaw(
            E=math.exp(e),
            A=math.exp(a + alpha * mN),
            B=math.exp(b + beta * mD),
            alpha=alpha,
            beta=beta,
        )
        if not all(math.isfinite(v) for v in law.params.values()):
            raise FitError(f"the {self.title} overflowed: {law.params}")
        return law

    def _from_law(self, law: Law, data: FitData) -> np.ndarray:
        assert isinstance(law, ChinchillaLaw)
        mN, mD = self._centre(data)
        return np.array(
            [
                math.log(law.A) - law.alpha * mN,
                math.log(law.B) - law.beta * mD,
                math.log(law.E) if law.E > 0 else -50.0,
                law.alpha,
                law.beta,
            ]
        )


class KaplanCandidate(_Parametric):
    """L = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D by Huber (δ) on log L from a grid of starts."""

    form_name = "kaplan"
    key = "kaplan"  # type: ignore[assignment]
    title = "Kaplan L(N, D)"  # type: ignore[assignment]

    def _to_law(self, theta: np.ndarray, data: FitData) -> KaplanNDLaw:
        mN, mD = self._centre(data)
        n, d, aN, aD = (float(x) for x in theta)
        return KaplanNDLaw(N_c=math.exp(n + mN), D_c=math.exp(d + mD), alpha_N=aN, alpha_D=aD)

    def _from_law(self, law: Law, data: FitData) -> np.ndarray:
        assert isinstance(law, KaplanNDLaw)
        mN, mD = self._centre(data)
        return np.array([math.log(law.N_c) - mN, math.log(law.D_c) - mD, law.alpha_N, law.alpha_D])


# ----------------------------------------------------------------------------- frontiers
class _FrontierCandidate(Candidate):
    """A law of C on frontier points, made a law of (N, D) by the shape law's valley; its
    floor E_f is bounded like the constrained Chinchilla candidate's E, to ``e_bounds``
    (fractions of the lowest observed loss), so that it may neither vanish nor climb to the
    best run's loss."""

    needs_shape = True

    def __init__(self, delta: float = 1e-3, e_bounds: tuple[float, float] = (0.5, 0.9)) -> None:
        self.delta = float(delta)
        self.e_bounds = (float(e_bounds[0]), float(e_bounds[1]))

    def _floor_bounds(self, data: FitData) -> tuple[float, float]:
        l_min = float(np.min(data.L))
        return self.e_bounds[0] * l_min, self.e_bounds[1] * l_min

    def _points(
        self, data: FitData, w: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """The frontier points (C, L*, weight) the level L*(C) is fitted to, and the
        location (k_N, a_N) of N*(C) = k_N·C^a_N; k_N = a_N = nan when the shape law gives
        the location.  Raises :class:`FitError` with fewer than 4 distinct C."""
        raise NotImplementedError

    def _assemble(self, level: Any, k_N: float, a_N: float, shape: ChinchillaLaw, k: float) -> Law:
        if not (shape.alpha > 0 and shape.beta > 0):
            raise FitError(
                f"the {self.title} needs a valley with both exponents > 0, but the shape law "
                f"has alpha = {shape.alpha:.3g}, beta = {shape.beta:.3g}"
            )
        if not math.isfinite(k_N):  # the shape law's own optimum: N_s* = G (C/k)^a
            k_N, a_N = shape.G * k ** (-shape.a), shape.a
        try:
            return FrontierShapeLaw(
                E_f=level.E,
                A_f=level.A,
                alpha_f=level.alpha,
                k_N=k_N,
                a_N=a_N,
                E=shape.E,
                A=shape.A,
                B=shape.B,
                alpha=shape.alpha,
                beta=shape.beta,
                k=k,
            )
        except DomainError as exc:
            raise FitError(f"the {self.title} gave an invalid law ({exc})") from None

    def fit(self, data: FitData, shape: ChinchillaLaw | None = None) -> Law:
        """L*(C) = E + A·C^−α by Huber (δ) on log L, :func:`fit_loss_power` (grid of starts,
        BFGS, Nelder-Mead polish)."""
        from scalinglaws.fit.powerlaw import fit_loss_power

        if shape is None:
            raise FitError(f"the {self.title} needs a shape law (the constrained Chinchilla fit)")
        C, L, w, k_N, a_N = self._points(data, None)
        level = fit_loss_power(
            C, L, True, "huber", self.delta, w, floor_bounds=self._floor_bounds(data)
        )
        return self._assemble(level, k_N, a_N, shape, data.k)

    def refit(
        self,
        data: FitData,
        weights: np.ndarray,
        start: Law,
        shapes: Sequence[ChinchillaLaw | None] = (),
    ) -> list[Law | None]:
        """Every replicate's frontier points, then all the replicates' L*(C) fits as one
        batch (:func:`_power_refits`) from the point estimate."""
        assert isinstance(start, FrontierShapeLaw)
        rows: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, float, float]] = []
        for r, w in enumerate(np.asarray(weights, dtype=float)):
            if r >= len(shapes) or shapes[r] is None:
                continue
            try:
                rows.append((r, *self._points(data, w)))
            except (FitError, ArithmeticError, ValueError):
                continue
        out: list[Law | None] = [None] * len(weights)
        if not rows:
            return out
        levels = _power_refits(
            [x[1] for x in rows],
            [x[2] for x in rows],
            [x[3] for x in rows],
            (start.E_f, start.A_f, start.alpha_f),
            self.delta,
            self._floor_bounds(data),
        )
        for (r, _, _, _, k_N, a_N), level in zip(rows, levels, strict=True):
            if level is None:
                continue
            try:
                out[r] = self._assemble(level, k_N, a_N, shapes[r], data.k)  # type: ignore[arg-type]
            except FitError:
                continue
        return out


@dataclass(frozen=True)
class _Level:
    E: float
    A: float
    alpha: float


def _power_refits(
    C: Sequence[np.ndarray],
    L: Sequence[np.ndarray],
    W: Sequence[np.ndarray],
    start: tuple[float, float, float],
    delta: float,
    floor_bounds: tuple[float, float] | None = None,
) -> list[_Level | None]:
    """Refit L(C) = E + A·C^−α to several point sets at once, from one start.

    The objective is :func:`~scalinglaws.fit.powerlaw.fit_loss_power`'s: Σ w·Huber_δ(r)/δ of
    r = log L − LSE(a − α z, e), z = ln C − ref, minimised for all sets together by the
    batched L-BFGS of :func:`~scalinglaws.fit.optim.minimize_batch` (the sets are padded to
    one length with zero weights).  With ``floor_bounds`` = (E_lo, E_hi), the sets whose
    free optimum has E outside are refitted, again as one batch, with E pinned at the bound
    it crosses (as :func:`~scalinglaws.fit.powerlaw.fit_loss_power` does).  Returns one level
    (or None where the refit failed) per set.
    """
    from scalinglaws.fit.optim import minimize_batch

    n = max(len(c) for c in C)
    B = len(C)
    Z = np.zeros((B, n))
    Y = np.zeros((B, n))
    Wt = np.zeros((B, n))
    ref = float(np.mean(np.concatenate([np.log(c) for c in C])))
    for i, (c, loss, w) in enumerate(zip(C, L, W, strict=True)):
        Z[i, : len(c)] = np.log(c) - ref
        Y[i, : len(c)] = np.log(loss)
        Wt[i, : len(c)] = w
    E0, A0, alpha0 = start
    l_min = float(min(np.min(x) for x in L))
    e0 = math.log(max(E0, 1e-6 * l_min))
    x0 = np.tile([math.log(A0) - alpha0 * ref, alpha0, e0], (B, 1))

    def fun(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z, y, w = Z[rows], Y[rows], Wt[rows]
        a, alpha, e = x[:, 0:1], x[:, 1:2], x[:, 2:3]
        with np.errstate(all="ignore"):
            t = a - alpha * z
            yhat = np.logaddexp(t, e)
            p = np.exp(t - yhat)
            r = y - yhat
            ar = np.abs(r)
            rho = np.where(ar <= delta, 0.5 * r * r / delta, ar - 0.5 * delta)
            g = -w * np.clip(r, -delta, delta) / delta
            f = np.sum(w * rho, axis=1)
            grad = np.column_stack(
                [np.sum(g * p, axis=1), np.sum(-g * p * z, axis=1), np.sum(g * (1 - p), axis=1)]
            )
        bad = ~np.isfinite(f) | ~np.all(np.isfinite(grad), axis=1)
        return np.where(bad, np.inf, f), np.where(bad[:, None], 0.0, grad)

    res = minimize_batch(fun, x0)
    if floor_bounds is not None:
        e_lo, e_hi = (math.log(float(b)) for b in floor_bounds)
        outside = np.flatnonzero((res.x[:, 2] < e_lo) | (res.x[:, 2] > e_hi))
        if outside.size:
            e_pin = np.where(res.x[outside, 2] < e_lo, e_lo, e_hi)

            def pinned(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                f, g = fun(np.column_stack([x, e_pin[rows]]), outside[rows])
                return f, g[:, :2]

            sub = minimize_batch(pinned, res.x[outside, :2])
            res.x[outside] = np.column_stack([sub.x, e_pin])
            res.fun[outside] = sub.fun
            res.status[outside] = sub.status
    out: list[_Level | None] = []
    for i in range(B):
        if not (bool(res.converged[i]) and np.isfinite(res.fun[i])):
            out.append(None)
            continue
        a, alpha, e = (float(v) for v in res.x[i])
        A = math.exp(a + alpha * ref)
        out.append(_Level(E=math.exp(e), A=A, alpha=alpha) if math.isfinite(A) else None)
    return out


class Approach2Candidate(_FrontierCandidate):
    """Hoffmann et al.'s Approach 2 frontier: IsoFLOP minima → N*(C) and L*(C); valley from
    the shape law.  Runs join a budget within a factor (1 + ``bin_tolerance``) of its centre
    (:func:`~scalinglaws.fit.isoflop.assign_budgets`); a budget needs 3 distinct sizes."""

    key = "approach2"  # type: ignore[assignment]
    title = "Approach 2 IsoFLOP frontier"  # type: ignore[assignment]

    def __init__(
        self,
        delta: float = 1e-3,
        bin_tolerance: float = 0.2,
        e_bounds: tuple[float, float] = (0.5, 0.9),
    ) -> None:
        super().__init__(delta, e_bounds)
        self.bin_tolerance = float(bin_tolerance)

    def _points(
        self, data: FitData, w: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """Per budget (3+ sizes), the minimum of a parabola of L in ln N
        (:func:`~scalinglaws.fit.isoflop.profile_minimum`); N*(C) = k_N·C^a_N by log-log
        least squares (:func:`~scalinglaws.fit.powerlaw.fit_power`)."""
        from scalinglaws.fit.isoflop import assign_budgets, profile_minimum
        from scalinglaws.fit.powerlaw import fit_power

        labels, _ = assign_budgets(data.C, self.bin_tolerance)
        w = np.ones(len(data)) if w is None else w
        pts = []
        for b in np.unique(labels[labels >= 0]):
            idx = np.flatnonzero((labels == b) & (w > 0))
            if np.unique(data.N[idx]).size < 3:
                continue
            try:
                m = profile_minimum(data.N[idx], data.L[idx], 2, w[idx])
            except FitError:
                continue
            c_b = float(np.exp(np.average(np.log(data.C[idx]), weights=w[idx])))
            pts.append((c_b, m.N_opt, m.L_opt))
        if len(pts) < 4:
            raise FitError(
                f"the {self.title} needs at least 4 budgets with 3 or more model sizes each, "
                f"got {len(pts)} (runs within a factor {1 + self.bin_tolerance:g} share a budget)"
            )
        arr = np.array(pts)
        k_N, a_N = fit_power(arr[:, 0], arr[:, 1])
        return arr[:, 0], arr[:, 2], np.ones(len(arr)), k_N, a_N


class FrontierCandidate(_FrontierCandidate):
    """L*(C) = E + A·C^−α on the compute frontier (the runs that no run with less compute
    beats; :func:`~scalinglaws.fit.powerlaw.frontier_mask`); location and valley from the
    shape law."""

    key = "frontier"  # type: ignore[assignment]
    title = "L(C) on the compute frontier"  # type: ignore[assignment]

    def _points(
        self, data: FitData, w: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """The runs on the lower Pareto frontier of (C, L), weighted by their counts."""
        from scalinglaws.fit.powerlaw import frontier_mask

        present = np.ones(len(data), dtype=bool) if w is None else w > 0
        idx = np.flatnonzero(present)
        on = idx[frontier_mask(data.C[idx], data.L[idx])]
        if np.unique(data.C[on]).size < 4:
            raise FitError(
                f"the {self.title} needs at least 4 frontier runs at distinct budgets, got "
                f"{np.unique(data.C[on]).size}"
            )
        ww = np.ones(on.size) if w is None else w[on]
        return data.C[on], data.L[on], ww, math.nan, math.nan


# ============================================================================ registry
CANDIDATE_KEYS: tuple[str, ...] = (
    "chinchilla",
    "chinchilla-constrained",
    "kaplan",
    "approach2",
    "frontier",
)
DEFAULT_CANDIDATES = CANDIDATE_KEYS
SHAPE_KEY = "chinchilla-constrained"


def make_candidates(
    keys: Sequence[str] = DEFAULT_CANDIDATES,
    delta: float = 1e-3,
    e_bounds: tuple[float, float] = (0.5, 0.9),
    bin_tolerance: float = 0.2,
) -> dict[str, Candidate]:
    """The candidates named by ``keys`` (see the module docstring), configured.  The
    constrained Chinchilla candidate is always built: it shapes the frontier candidates'
    valleys."""
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        raise UnknownNameError(
            f"candidates must be names such as ['chinchilla', 'kaplan'] or 'chinchilla,kaplan', "
            f"got {keys!r}; valid names are: {', '.join(CANDIDATE_KEYS)}"
        )
    keys = list(dict.fromkeys(keys))
    if not keys:
        raise UnknownNameError(
            f"give at least one candidate model; valid names are: {', '.join(CANDIDATE_KEYS)}"
        )
    for key in keys:
        if key not in CANDIDATE_KEYS:
            raise UnknownNameError(
                f"unknown candidate model '{key}'" + did_you_mean(str(key), CANDIDATE_KEYS)
            )
    built: dict[str, Candidate] = {
        "chinchilla": ChinchillaCandidate(delta),
        "chinchilla-constrained": ChinchillaCandidate(delta, e_bounds),
        "kaplan": KaplanCandidate(delta),
        "approach2": Approach2Candidate(delta, bin_tolerance, e_bounds),
        "frontier": FrontierCandidate(delta, e_bounds),
    }
    return {k: built[k] for k in keys}
