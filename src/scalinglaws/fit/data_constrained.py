"""Fit the data-constrained law of Muennighoff et al. 2023 ("Scaling Data-Constrained Language
Models", eq. 5) to runs that say how many unique tokens each saw (a ``U`` column):

    L(N, D, U) = E + A / N'^alpha + B / D'^beta
    D' = U + U·R_D*·(1 − exp(−R_D / R_D*)),   R_D = max(D / U − 1, 0)
    N' = U_N + U_N·R_N*·(1 − exp(−R_N / R_N*)), R_N = max(N / U_N − 1, 0),
    U_N = min(N, N_opt(U)),  N_opt(U) = G·(G·U)^(β/α)  (the base law's optimum, C = 6ND)

``DataConstrainedFit().fit(runs)`` estimates it in two stages, as the paper does
(:class:`~scalinglaws.laws.data_constrained.DataConstrainedLaw` holds the result):

1. **the base law** E + A/N^α + B/D^β, with α = β tied as the paper ties them (``tie_exponents``),
   fitted to the *single-epoch* runs (D ≤ U, so D' = D) by Approach 3's machinery: the summed
   Huber loss (δ = 1e-3) of log L − log L̂ in the log-sum-exp parameterisation, minimised by the
   batched L-BFGS from Hoffmann et al. 2022's grid (with α = β: 900 starts; untied: 4,500), the
   best end points polished by scipy (:mod:`scalinglaws.fit.objectives`,
   :mod:`scalinglaws.fit.optim`); or, with ``base=`` a law, a preset or a saved fit, the base
   constants are *held* at those;
2. **the decay constants** R_D* and R_N*, with the base constants held, fitted to *every* run by
   the same objective (rows with neither repeated data nor excess parameters add a constant),
   in log R* (so both stay positive), from a 4 x 4 grid R* ∈ {1, 4, 16, 64}.

Bootstrap (``n_bootstrap``): whole runs resampled (:mod:`scalinglaws.fit.bootstrap`); each
replicate re-fits stage 1 on its single-epoch rows and stage 2 on all its rows, each from the
optimum, all replicates as one batch; percentile intervals for every fitted constant and the
base law's allocation exponents a, b and G.

The paper's own numbers (huggingface/datablations, ``utils/parametric_fit.ipynb``): the base
constants A = 520.82, B = 1487.72, E = 1.8691, α = β = 0.3526596 come from Chinchilla's C4
IsoFLOP points (Hoffmann et al. 2022, Appendix; 54 digitised points), *not* from the
datablations runs; R_D* = 15.387756 and R_N* = 5.309743 were then fitted with those held, on
the 182 runs of ``dataset:datablations``, by the Huber loss above (starts R* ∈ {0, 6.7, 13.3,
20}).  ``base="muennighoff2023"`` (or the ChinchillaLaw of those constants) reproduces that
stage; the default fits the base law on the data's own single-epoch runs instead.

With that base held, the objective over (R_D*, R_N*) is a long flat valley (the Huber loss
with δ = 1e-3 is nearly δ·Σ|r| at the datablations residuals, so it has kinks and several
local minima): on a 300 x 300 log grid its minima are (15.4, 5.32) at 0.0158262 -- the
published pair --, (46, 2.36) at 0.0158075, (96, 1.69) at 0.0158048 (the lowest) and
(156, 1.45).  The default 16 starts find the lowest, R_D* = 95.4, R_N* = 1.71;
``decay_starts=[20 / 3]`` (the paper's first finite start) lands on R_D* = 15.372, R_N* = 5.315,
within 0.1 % of the published 15.388 and 5.310.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import DataError, FitError, ScalingLawsError, UnknownNameError
from scalinglaws.fit import diagnostics as diag
from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP, bootstrap_weight_blocks, summarize
from scalinglaws.fit.objectives import BatchObjective, ChinchillaForm, Loss
from scalinglaws.fit.optim import minimize_batch, polish_best
from scalinglaws.fit.parametric import (
    BOOTSTRAP_FTOL,
    HOFFMANN_GRID,
    POLISH_CANDIDATES,
    REACHED_RTOL,
    _distinct_best,
)
from scalinglaws.fit.result import Fit, Replicates
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.data_constrained import DataConstrainedLaw
from scalinglaws.progress import step
from scalinglaws.validate import real_number, whole_number

APPROACH = "data-constrained"
BASE_NAMES = ("E", "A", "B", "alpha", "beta")
DECAY_NAMES = ("R_D_star", "R_N_star")
#: Starts of stage 2 along each of R_D* and R_N* (16 starts in all, in log R*).
DECAY_STARTS: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
#: Published constants (huggingface/datablations, utils/parametric_fit.ipynb): the base law
#: fitted to Chinchilla's C4 IsoFLOP points, then R_D*, R_N* on the 182 datablations runs.
PUBLISHED = {
    "E": math.exp(0.6254804),
    "A": math.exp(6.255414),
    "B": math.exp(7.3049974),
    "alpha": 0.3526596,
    "beta": 0.3526596,
    "R_D_star": 15.387756,
    "R_N_star": 5.309743,
}
_BLOCK_ELEMENTS = 16000  # problems x points evaluated at once (temporaries stay in cache)


# ============================================================================ formulas
def n_opt(U: Any, A: Any, B: Any, alpha: Any, beta: Any) -> np.ndarray:
    """N_opt(U) = G·(G·U)^(β/α), G = (αA/(βB))^(1/(α+β)): the model size for which U tokens
    are compute-optimal under E + A/N^α + B/D^β with C = 6ND (Hoffmann et al. 2022, App. D.2;
    Muennighoff et al. 2023, eq. 5).  Broadcasts over arrays of constants."""
    u, a_, b_, al, be = (np.asarray(v, dtype=float) for v in (U, A, B, alpha, beta))
    with np.errstate(all="ignore"):
        log_g = (np.log(al * a_) - np.log(be * b_)) / (al + be)
        return np.exp(log_g + (be / al) * (log_g + np.log(u)))


def repetitions(N: Any, D: Any, U: Any, base: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """(U_N, R_N, R_D) of Muennighoff et al. 2023, eq. 5: U_N = min(N, N_opt(U)),
    R_N = max(N/U_N − 1, 0) excess parameters, R_D = max(D/U − 1, 0) repeated epochs, for the
    base constants ``base`` (E, A, B, alpha, beta; scalars, or arrays of shape (S, 1) giving
    (S, P) results)."""
    n, d, u = (np.asarray(v, dtype=float) for v in (N, D, U))
    u_n = np.minimum(n, n_opt(u, base["A"], base["B"], base["alpha"], base["beta"]))
    r_n = np.maximum(n / u_n - 1.0, 0.0)
    r_d = np.maximum(d / u - 1.0, 0.0)
    return u_n, r_n, r_d


def single_epoch(D: Any, U: Any, max_epochs: float = 1.0) -> np.ndarray:
    """True where a run saw its unique data at most ``max_epochs`` times (D ≤ max_epochs·U,
    to a relative 1e-9): the runs the base law is fitted to (D' = D there when max_epochs is 1)."""
    d, u = np.asarray(D, dtype=float), np.asarray(U, dtype=float)
    return d <= max_epochs * u * (1.0 + 1e-9)


# ============================================================================ objectives
class _TiedObjective:
    """Approach 3's objective (:class:`BatchObjective` of the Chinchilla form) with α = β:
    θ = (a′, b′, e, α) maps to (a′, b′, e, α, α), and the gradient of α is the sum of both."""

    def __init__(self, inner: BatchObjective) -> None:
        self.inner = inner

    def __call__(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        value, grad = self.inner(np.column_stack([theta, theta[:, 3]]), rows)
        out = grad[:, :4].copy()
        out[:, 3] += grad[:, 4]
        return value, out


class _DecayObjective:
    """Stage 2: F(θ) = Σ_i w_i·ρ(log L_i − log L̂_i) over θ = (log R_D*, log R_N*) with the
    base constants held (Muennighoff et al. 2023, eq. 5), batched like :class:`BatchObjective`.

    ``base`` maps E, A, B, alpha, beta to arrays (S, 1) or (1, 1); ``u_n``, ``r_n`` are (S, P)
    or (1, P); ``weights`` None or (S, P).  With R = R_D, x = R/R*, D' = U·(1 + R*·(1 − e^−x))
    and ∂D'/∂log R* = U·R*·(1 − e^−x − x·e^−x); likewise N'."""

    def __init__(
        self,
        D: np.ndarray,
        U: np.ndarray,
        L: np.ndarray,
        loss: Loss,
        base: dict[str, np.ndarray],
        u_n: np.ndarray,
        r_n: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> None:
        self.U = np.asarray(U, dtype=float)[None, :]
        self.r_d = np.maximum(np.asarray(D, dtype=float) / self.U[0] - 1.0, 0.0)[None, :]
        self.L = np.asarray(L, dtype=float)[None, :]
        self.logL = np.log(self.L)
        self.loss = loss
        self.base = {k: np.asarray(v, dtype=float).reshape(-1, 1) for k, v in base.items()}
        self.u_n, self.r_n = np.atleast_2d(u_n), np.atleast_2d(r_n)
        self.weights = None if weights is None else np.atleast_2d(weights).astype(float)

    def __call__(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta, rows = np.atleast_2d(theta), np.asarray(rows)
        block = max(1, _BLOCK_ELEMENTS // self.L.size)
        value, grad = np.empty(len(theta)), np.empty(theta.shape)
        for s in range(0, len(theta), block):
            sl = slice(s, s + block)
            value[sl], grad[sl] = self._evaluate(theta[sl], rows[sl])
        return value, grad

    def _take(self, a: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return a if a.shape[0] == 1 else a[rows]

    def _evaluate(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = {n: self._take(v, rows) for n, v in self.base.items()}
        with np.errstate(all="ignore"):
            d_eff, d_grad = _effective(self.U, self.r_d, np.exp(theta[:, 0:1]))
            n_eff, n_grad = _effective(
                self._take(self.u_n, rows), self._take(self.r_n, rows), np.exp(theta[:, 1:2])
            )
            t_n = k["A"] * n_eff ** -k["alpha"]
            t_d = k["B"] * d_eff ** -k["beta"]
            pred = k["E"] + t_n + t_d
            df_d = -k["beta"] * t_d / d_eff * d_grad / pred
            df_n = -k["alpha"] * t_n / n_eff * n_grad / pred
            if self.loss.log_space:
                rho, c = self.loss.evaluate(self.logL - np.log(pred))
                c = -c
            else:
                rho, c = self.loss.evaluate(self.L - pred)
                c = -c * pred
            if self.weights is not None:
                w = self._take(self.weights, rows)
                rho, c = rho * w, c * w
            value = rho.sum(1)
            grad = np.column_stack([(c * df_d).sum(1), (c * df_n).sum(1)])
        bad = ~np.isfinite(value) | ~np.all(np.isfinite(grad), axis=1)
        value[bad], grad[bad] = np.inf, 0.0
        return value, grad


def _effective(unique: np.ndarray, r: np.ndarray, r_star: np.ndarray) -> tuple[np.ndarray, ...]:
    """(U·(1 + R*·(1 − e^−x)), ∂/∂log R* of it) with x = R/R* (Muennighoff et al. 2023, eq. 5)."""
    x = r / r_star
    g = -np.expm1(-x)
    return unique * (1.0 + r_star * g), unique * r_star * (g - x * np.exp(-x))


# ============================================================================ the estimator
@dataclass(frozen=True)
class _Stage:
    """The outcome of one stage: θ at the optimum, objective, convergence, starts that reached
    the best, starts in all."""

    theta: np.ndarray
    value: float
    converged: bool
    message: str
    reached: int
    starts: int


class DataConstrainedFit:
    """Fit L(N, D, U) of Muennighoff et al. 2023 (eq. 5) in the paper's two stages (module
    docstring): the base Chinchilla law on the single-epoch runs, then R_D* and R_N*.

    Parameters
    ----------
    base: ``"fit"`` (default: fit E, A, B, α, β on the runs with D ≤ ``base_max_epochs``·U), or
        constants to hold: a :class:`ChinchillaLaw`, a :class:`DataConstrainedLaw` (its base),
        a preset name (e.g. ``"muennighoff2023"``, the paper's own procedure), or the path of a
        saved fit (``.json``).
    tie_exponents: fit the base law with α = β, as the paper does (default True).
    base_max_epochs: the runs of stage 1 are those with D ≤ this·U (default 1: single-epoch).
    objective, delta, tau: the loss of the log residuals (:class:`~scalinglaws.fit.objectives.Loss`;
        default Huber, δ = 1e-3, Hoffmann et al. 2022 and the paper).
    n_bootstrap, seed, level: whole runs resampled, seeded; percentile intervals at ``level``.
    decay_starts: the starts of stage 2: None (default: R* in {1, 4, 16, 64} on each axis,
        16 starts), numbers (their Cartesian product on both axes) or (R_D*, R_N*) pairs.
    max_iter: iteration limit of each L-BFGS run.
    """

    def __init__(
        self,
        base: Any = "fit",
        tie_exponents: bool = True,
        base_max_epochs: float = 1.0,
        objective: str = "huber",
        delta: float = 1e-3,
        tau: float = 0.25,
        n_bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int = 0,
        level: float = 0.95,
        decay_starts: Any = None,
        max_iter: int = 1000,
    ) -> None:
        from scalinglaws.validate import check_common

        self.base_law, self.base_words = resolve_base(base)
        self.tie_exponents = bool(tie_exponents)
        self.base_max_epochs = real_number(
            base_max_epochs, "base_max_epochs", 1.0, None, hint="1 for single-epoch runs"
        )
        self.loss = Loss(objective, delta, tau)
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)
        self.decay_starts = decay_grid(decay_starts)
        self.max_iter = whole_number(max_iter, "max_iter", 1)

    def __repr__(self) -> str:
        return (
            f"DataConstrainedFit(base={self.base_words!r}, tie_exponents={self.tie_exponents}, "
            f"n_bootstrap={self.n_bootstrap}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ fit
    def fit(self, runs: Any) -> Fit:
        """Fit the law to ``runs`` (anything :func:`scalinglaws.runs.as_runs` accepts, with a
        ``U`` column) and return a :class:`~scalinglaws.fit.result.Fit` whose ``law`` is a
        :class:`DataConstrainedLaw` (see the module docstring for the procedure)."""
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        U = require_unique_tokens(runs)
        N, D, L = runs.N, runs.D, runs.L
        single = single_epoch(D, U, self.base_max_epochs)
        stage1 = None
        if self.base_law is None:
            stage1 = self._fit_base(runs, single)
            base = self._base_constants(stage1.theta[None, :], runs, single)
            base = {k: float(v[0]) for k, v in base.items()}
        else:
            base = {k: float(getattr(self.base_law, k)) for k in BASE_NAMES}
        step("data-constrained: base law done; now R_D*, R_N*")
        u_n, r_n, r_d = repetitions(N, D, U, base)
        check_identifiable(runs.source, r_d, r_n, base, U)
        stage2 = self._fit_decay(D, U, L, base, u_n, r_n)
        decay = dict(zip(DECAY_NAMES, np.exp(stage2.theta).tolist(), strict=True))
        fit = self._result(runs, U, single, base, decay, stage1, stage2)
        if self.n_bootstrap:
            step(f"data-constrained: {self.n_bootstrap} bootstrap replicates")
            fit = self._bootstrap(fit, runs, U, single, stage1, stage2)
        return fit

    # ------------------------------------------------------------------ stage 1
    def _base_problem(
        self, runs: Any, single: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[Any, float, float]:
        """The stage-1 objective on the single-epoch rows (centred log N, log D), and the
        centres m_N, m_D."""
        n, d, loss_ = runs.N[single], runs.D[single], runs.L[single]
        m_n, m_d = float(np.log(n).mean()), float(np.log(d).mean())
        form = ChinchillaForm(np.log(n) - m_n, np.log(d) - m_d)
        inner = BatchObjective(form, self.loss, loss_, weights)
        return (_TiedObjective(inner) if self.tie_exponents else inner), m_n, m_d

    def _base_starts(self, m_n: float, m_d: float) -> np.ndarray:
        """Hoffmann et al. 2022's grid (App. D.2) in centred coordinates; with α = β its
        6 x 6 x 5 x 5 = 900 points, else the 4,500."""
        g = HOFFMANN_GRID
        if self.tie_exponents:
            X = np.array(list(itertools.product(g["a"], g["b"], g["e"], g["alpha"])))
            return np.column_stack([X[:, 0] - X[:, 3] * m_n, X[:, 1] - X[:, 3] * m_d, X[:, 2:]])
        X = np.array(list(itertools.product(g["a"], g["b"], g["e"], g["alpha"], g["beta"])))
        return np.column_stack([X[:, 0] - X[:, 3] * m_n, X[:, 1] - X[:, 4] * m_d, X[:, 2:]])

    def _base_constants(
        self, theta: np.ndarray, runs: Any, single: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Centred coordinates (S, 4 or 5) -> E, A, B, alpha, beta arrays of length S."""
        n, d = runs.N[single], runs.D[single]
        m_n, m_d = float(np.log(n).mean()), float(np.log(d).mean())
        alpha = theta[:, 3]
        beta = theta[:, 3] if self.tie_exponents else theta[:, 4]
        with np.errstate(over="ignore"):
            return {
                "E": np.exp(theta[:, 2]),
                "A": np.exp(theta[:, 0] + alpha * m_n),
                "B": np.exp(theta[:, 1] + beta * m_d),
                "alpha": alpha.copy(),
                "beta": beta.copy(),
            }

    def _fit_base(self, runs: Any, single: np.ndarray) -> _Stage:
        """Stage 1: the base law on the single-epoch rows, from Hoffmann's grid."""
        check_base_rows(runs, single, 4 if self.tie_exponents else 5, self.base_max_epochs)
        obj, m_n, m_d = self._base_problem(runs, single)
        return _search(obj, self._base_starts(m_n, m_d), self.max_iter, runs.source)

    # ------------------------------------------------------------------ stage 2
    def _fit_decay(
        self,
        D: np.ndarray,
        U: np.ndarray,
        L: np.ndarray,
        base: dict[str, float],
        u_n: np.ndarray,
        r_n: np.ndarray,
    ) -> _Stage:
        """Stage 2: log R_D*, log R_N* on every row with the base held, from a 4 x 4 grid."""
        obj = _DecayObjective(D, U, L, self.loss, base, u_n, r_n)
        # two parameters: every start is run to the tight tolerance (a flat valley of
        # R_D* against R_N* otherwise stops starts short of its floor)
        starts = np.log(self.decay_starts)
        return _search(obj, starts, self.max_iter, "the runs", ftol=BOOTSTRAP_FTOL)

    # ------------------------------------------------------------------ result
    def _result(
        self,
        runs: Any,
        U: np.ndarray,
        single: np.ndarray,
        base: dict[str, float],
        decay: dict[str, float],
        stage1: _Stage | None,
        stage2: _Stage,
    ) -> Fit:
        """The :class:`Fit` of the point estimate: law, derived exponents, method, data,
        residuals and diagnostics."""
        law = DataConstrainedLaw(**base, **decay)
        residuals = np.log(runs.L) - np.log(np.asarray(law(N=runs.N, D=runs.D, U=U)))
        derived = _derived({k: np.array([v]) for k, v in base.items()})
        converged = stage2.converged and (stage1 is None or stage1.converged)
        message = ("" if stage1 is None else f"base law: {stage1.message}; ") + (
            f"R_D*, R_N*: {stage2.message}"
        )
        _, r_n, r_d = repetitions(runs.N, runs.D, U, base)
        k = FlopsConvention.constant(float(runs.flops_per_param_token))
        return Fit(
            law=law,
            params={**base, **decay},
            approach=APPROACH,
            level=self.level,
            derived={n: float(v[0]) for n, v in derived.items()},
            method=self._method(stage1, stage2),
            data={
                **runs.describe(),
                "single-epoch rows (stage 1)": int(single.sum()),
                "rows with repeated data (R_D > 0)": int((r_d > 0).sum()),
                "rows with excess parameters (R_N > 0)": int((r_n > 0).sum()),
                "filters": list(runs.filters),
            },
            converged=converged,
            message=message,
            residuals=residuals,
            convention=k,
            diagnostics=self._diagnostics(runs, U, base, decay, residuals, stage1, stage2),
            extra={"data_range": runs.ranges()},
        )

    def _method(self, stage1: _Stage | None, stage2: _Stage) -> dict[str, Any]:
        """How the fit was estimated, in words, for ``Fit.method``."""
        tie = "alpha = beta (tied, as the paper)" if self.tie_exponents else "alpha, beta free"
        out: dict[str, Any] = {"law": DataConstrainedLaw.formula}
        if stage1 is None:
            out["base law"] = f"held at {self.base_words}"
        else:
            out["base law"] = (
                f"E + A/N^alpha + B/D^beta fitted to the runs with D <= "
                f"{self.base_max_epochs:g}·U, {tie}, by Approach 3's objective and optimiser "
                f"from Hoffmann et al. 2022's grid ({stage1.starts} starts, "
                f"{stage1.reached} at the best)"
            )
            out["base objective value"] = stage1.value
        pairs = "; ".join(f"({a:.4g}, {b:.4g})" for a, b in self.decay_starts[:4])
        more = f"; ... ({len(self.decay_starts)} in all)" if len(self.decay_starts) > 4 else ""
        out["decay constants"] = (
            "R_D*, R_N* fitted to every run with the base held, in log R*, from the starts "
            f"(R_D*, R_N*) = {pairs}{more}; {stage2.reached} of {stage2.starts} reached the best"
        )
        out["decay objective value"] = stage2.value
        out["objective"] = self.loss.describe()
        out["optimiser"] = (
            "batched L-BFGS over all starts, analytic gradient; the best distinct end points "
            "re-run to ftol 1e-14, the best polished by scipy L-BFGS-B"
        )
        return out

    def _diagnostics(
        self,
        runs: Any,
        U: np.ndarray,
        base: dict[str, float],
        decay: dict[str, float],
        residuals: np.ndarray,
        stage1: _Stage | None,
        stage2: _Stage,
    ) -> list[Any]:
        out = []
        for stage in (stage1, stage2):
            if stage is not None:
                out += diag.not_converged(stage.converged, stage.message)
                out += diag.few_starts(stage.reached, stage.starts, REACHED_RTOL)
        out += diag.intermediate_checkpoints(len(runs), int(runs.df["is_final"].sum()))
        out += diag.diverged({**base, **decay})
        if stage1 is not None:
            out += diag.floor_above_data(base["E"], float(runs.L.min()))
        out += diag.residual_trend(residuals, runs.N, "N")
        out += diag.residual_trend(residuals, runs.D / U, "D/U")
        return out

    # ------------------------------------------------------------------ bootstrap
    def _bootstrap(
        self,
        fit: Fit,
        runs: Any,
        U: np.ndarray,
        single: np.ndarray,
        stage1: _Stage | None,
        stage2: _Stage,
    ) -> Fit:
        """``fit`` with the bootstrap: per replicate (whole runs resampled) stage 1 re-fitted
        on its single-epoch rows and stage 2 on all its rows, each from the optimum."""
        n_boot = self.n_bootstrap
        samples = {k: np.full(n_boot, np.nan) for k in (*BASE_NAMES, *DECAY_NAMES)}
        ok = np.zeros(n_boot, dtype=bool)
        blocks = bootstrap_weight_blocks(runs.run_ids, len(runs), n_boot, self.seed)
        for block, W in blocks:
            sl = slice(block.start, block.stop)
            base, good = self._replicate_base(runs, single, stage1, W.astype(float))
            u_n, r_n, _ = repetitions(runs.N, runs.D, U, {k: v[:, None] for k, v in base.items()})
            obj = _DecayObjective(runs.D, U, runs.L, self.loss, base, u_n, r_n, W)
            X0 = np.repeat(stage2.theta[None, :], len(block), axis=0)
            res = minimize_batch(obj, X0, ftol=BOOTSTRAP_FTOL, max_iter=self.max_iter)
            ok[sl] = good & res.converged & np.isfinite(res.fun)
            for k, v in base.items():
                samples[k][sl] = v
            samples["R_D_star"][sl], samples["R_N_star"][sl] = np.exp(res.x).T
        for v in samples.values():
            v[~ok] = np.nan
        if stage1 is None:  # the base was held: no replicates of it
            samples = {k: samples[k] for k in DECAY_NAMES}
            table = dict(samples)
        else:
            table = {**samples, **_derived(samples)}
        stderr, intervals = summarize(table, self.level)
        failed = int((~ok).sum())
        method = (
            f"{n_boot} replicates (whole runs resampled, seed {self.seed}); each re-fitted "
            + ("(base law on its single-epoch rows, then " if stage1 is not None else "(")
            + f"R_D*, R_N*) from the optimum to relative ftol {BOOTSTRAP_FTOL:g}"
            + (f"; {failed} did not converge" if failed else "")
        )
        found = diag.bootstrap_failures(failed, n_boot)
        return fit.with_bootstrap(stderr, intervals, Replicates(table, method=method), found)

    def _replicate_base(
        self, runs: Any, single: np.ndarray, stage1: _Stage | None, W: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The base constants of each replicate of a block (weights ``W``): re-fitted on its
        single-epoch rows from the optimum, or the held constants; and which replicates
        converged."""
        m = len(W)
        if stage1 is None:
            law = self.base_law
            return {k: np.full(m, float(getattr(law, k))) for k in BASE_NAMES}, np.ones(m, bool)
        obj, _, _ = self._base_problem(runs, single, W[:, single])
        X0 = np.repeat(stage1.theta[None, :], m, axis=0)
        res = minimize_batch(obj, X0, ftol=BOOTSTRAP_FTOL, max_iter=self.max_iter)
        good = res.converged & np.isfinite(res.fun)
        return self._base_constants(res.x, runs, single), good


# ============================================================================ helpers
def _search(obj: Any, X0: np.ndarray, max_iter: int, source: str, ftol: float = 1e-9) -> _Stage:
    """Every start by the batched L-BFGS (relative ``ftol``), the best distinct end points
    re-run to ftol 1e-14, the best polished by scipy (as :class:`Approach3` does)."""
    res = minimize_batch(obj, X0, ftol=ftol, max_iter=max_iter)
    if not np.isfinite(res.fun).any():
        raise FitError(
            f"the objective is not finite at any of the {len(X0)} starts on {source}; check "
            "the losses (all must be > 0)"
        )
    starts = res.x[_distinct_best(res, POLISH_CANDIDATES)]
    theta, best, ok, message = polish_best(obj, starts, max_iter=20 * max_iter, ftol=BOOTSTRAP_FTOL)
    reached = int(np.sum(res.fun <= best + max(REACHED_RTOL * abs(best), 1e-12 * obj_size(obj))))
    return _Stage(theta, best, ok, message, reached, len(X0))


def obj_size(obj: Any) -> int:
    """The number of points an objective sums over (for the absolute floor of 'reached')."""
    inner = getattr(obj, "inner", obj)
    return int(np.size(inner.L))


def _derived(constants: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """a, b, G of the base law (Hoffmann et al. 2022, App. D.2) for arrays of its constants."""
    from scalinglaws.allocation import allocation_exponents

    return allocation_exponents(ChinchillaLaw, {k: constants[k] for k in BASE_NAMES})


def resolve_base(base: Any) -> tuple[Law | None, str]:
    """(the base law to hold, or None to fit it; its description) from ``base``: ``"fit"``, a
    :class:`ChinchillaLaw`, a :class:`DataConstrainedLaw`, a :class:`Fit`, a preset name or
    the path of a saved fit."""
    if base is None or (isinstance(base, str) and base.strip().lower() == "fit"):
        return None, "fit"
    if isinstance(base, Fit):
        return _as_base(base.law, "the given fit's law")
    if isinstance(base, (ChinchillaLaw, DataConstrainedLaw)):
        return _as_base(base, f"the given {base.name} law")
    if isinstance(base, (str, Path)) and str(base).lower().endswith(".json"):
        return _as_base(Fit.from_json(base).law, f"the law of fit file {base}")
    if isinstance(base, str):
        from scalinglaws.presets import get_preset

        try:
            preset = get_preset(base)
        except ScalingLawsError as exc:
            raise UnknownNameError(
                f"base must be 'fit', a preset name, a .json fit file or a law; {exc}",
                argument="base",
            ) from None
        laws = [preset.law, *dict(preset.laws).values()]
        law = next((x for x in laws if isinstance(x, DataConstrainedLaw)), None)
        law = law or next((x for x in laws if isinstance(x, ChinchillaLaw)), None)
        return _as_base(law, f"preset {preset.name}")
    raise DataError(
        "base must be 'fit', a preset name, a .json fit file, a ChinchillaLaw or a "
        f"DataConstrainedLaw, got {type(base).__name__}",
        argument="base",
    )


def _as_base(law: Any, where: str) -> tuple[Law, str]:
    """The Chinchilla base of ``law`` and words for it, or DataError when it has none."""
    if isinstance(law, DataConstrainedLaw):
        law = law.base()
    if not isinstance(law, ChinchillaLaw):
        raise DataError(
            f"base: {where} has no Chinchilla law E + A/N^alpha + B/D^beta to hold",
            argument="base",
        )
    words = ", ".join(f"{k} = {getattr(law, k):.6g}" for k in BASE_NAMES)
    return law, f"{where} ({words})"


def decay_grid(starts: Any = None) -> np.ndarray:
    """The stage-2 starts as (R_D*, R_N*) pairs, shape (k, 2): :data:`DECAY_STARTS` on both
    axes when ``starts`` is None, the Cartesian square of a sequence of numbers, or the pairs
    given; every value a finite number > 0 (else :class:`DataError` naming decay_starts)."""
    values = DECAY_STARTS if starts is None else starts
    try:
        X = np.array(values, dtype=float)
    except (TypeError, ValueError):
        X = np.array([])
    if X.ndim == 0:
        X = X.reshape(1)
    if X.ndim == 1 and X.size:
        X = np.array(list(itertools.product(X, X)))
    if X.ndim != 2 or X.shape[1:] != (2,) or not X.size or not np.all(np.isfinite(X) & (X > 0)):
        raise DataError(
            "decay_starts must be numbers > 0 (used on both R_D* and R_N*) or (R_D*, R_N*) "
            f"pairs, e.g. [1, 4, 16, 64]; got {starts!r}",
            argument="decay_starts",
        )
    return X


def require_unique_tokens(runs: Any) -> np.ndarray:
    """The runs' unique tokens U, or :class:`DataError` (one sentence) when there is no U
    column."""
    U = runs.U
    if U is None:
        raise DataError(
            f"the data-constrained fit needs each run's unique tokens U, and {runs.source} has "
            'no U column; map it with columns="U=<column>" (a column named unique_tokens is '
            "recognised)",
            argument="columns",
        )
    return U


def check_base_rows(runs: Any, single: np.ndarray, n_params: int, max_epochs: float) -> None:
    """:class:`FitError` unless the single-epoch rows can identify the base law: more rows
    than its ``n_params`` parameters, at least 3 distinct N and 3 distinct D."""
    from scalinglaws.runs import require_identifiable

    n = int(single.sum())
    what = "single-epoch runs (D <= U)" if max_epochs == 1 else f"runs with D <= {max_epochs:g}·U"
    hint = (
        "; or hold the base constants of a preset or a saved fit, e.g. base='muennighoff2023' "
        "(the paper's own procedure)"
    )
    if n <= n_params:
        raise FitError(
            f"the base law is fitted on the {what}, and {runs.source} has {n} of its "
            f"{len(runs)} rows; at least {n_params + 1} are needed (over 3 or more model sizes "
            f"and token counts){hint}"
        )
    try:
        require_identifiable(runs.subset(single, f"kept the {n} {what}"), ("N", "D"))
    except FitError as exc:
        raise FitError(f"the base law is fitted on the {n} {what}, and {exc}{hint}") from None


def check_identifiable(
    source: str, r_d: np.ndarray, r_n: np.ndarray, base: dict[str, float], U: np.ndarray
) -> None:
    """:class:`FitError` unless some rows repeat data (R_D > 0, for R_D*) and some have excess
    parameters (R_N > 0: N > N_opt(U), for R_N*)."""
    if not np.any(r_d > 0):
        raise FitError(
            f"R_D* cannot be identified: none of the {r_d.size} rows of {source} repeats its "
            "data (every D <= U); runs trained for more than one epoch (D > U) are needed"
        )
    if not np.any(r_n > 0):
        largest = float(np.max(n_opt(U, base["A"], base["B"], base["alpha"], base["beta"])))
        raise FitError(
            f"R_N* cannot be identified: no run of {source} has more parameters than N_opt(U) "
            f"of the base law (up to {largest:.3g} for its largest U); runs with N > N_opt(U) "
            "are needed"
        )


__all__ = [
    "APPROACH",
    "PUBLISHED",
    "DataConstrainedFit",
    "decay_grid",
    "n_opt",
    "repetitions",
    "resolve_base",
    "single_epoch",
]
