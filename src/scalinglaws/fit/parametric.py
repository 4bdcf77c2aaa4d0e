"""Approach 3 of Hoffmann et al. 2022: fit a parametric law L(N, D) to every run at once.

``Approach3(law="chinchilla").fit(runs)`` fits L = E + A/N^α + B/D^β (Hoffmann et al. 2022,
eq. 2) the way §3.3 and Appendix D.2 describe and Besiroglu et al. 2024 replicate: the Huber
loss (δ = 1e-3) of the log residuals, summed over runs, in the log-sum-exp parameterisation
log L̂ = LSE(a − α log N, b − β log D, e) (A = e^a, B = e^b, E = e^e), minimised by L-BFGS
from Hoffmann's grid of 4,500 starts (α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1},
a, b ∈ {0, 5, …, 25}).  ``law="kaplan"`` fits Kaplan et al. 2020's eq. 1.5,
L = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D, the same way (log N_c, log D_c from a grid).

How it is computed (see :mod:`scalinglaws.fit.objectives` and :mod:`scalinglaws.fit.optim`):

1. every start is optimised *together* by a batched L-BFGS with analytic gradients (relative
   stopping test ``tol`` = 1e-9 on the objective);
2. the best three distinct end points are re-run to a relative objective change of 1e-14,
   and the best of them is polished by scipy's L-BFGS-B with the analytic gradient at tight
   tolerances (ftol 1e-15, gtol 1e-12 on the objective scaled to 1);
   On a table of more than :data:`SEARCH_ROWS` (4,000) rows, step 1 runs on a stratified
   subsample of that many rows (8 x 8 quantile strata of log N and log D, seeded) and step 2
   on every row, so the optimum is the whole table's while the search costs the same at any
   size (1M rows in ~12 s on 2 cores; ``benchmarks/large_tables.py``); ``Fit.method``
   says so under ``"search subsample"``;
3. a start *reached the best objective* when its end value is within relative
   :data:`REACHED_RTOL` (1e-5) of the polished optimum; the count is reported;
4. with ``n_bootstrap`` replicates, whole runs are resampled
   (:func:`scalinglaws.fit.bootstrap.bootstrap_weights`: integer weights per point) and every
   replicate is re-fitted from the optimum, all replicates as one batch, to a relative
   objective change of 1e-14 (loose tolerances stop re-fits near their start and give
   falsely narrow intervals); percentile intervals cover the parameters and the derived
   quantities a = β/(α+β), b = α/(α+β), G = (αA/(βB))^(1/(α+β)) and, at each budget C,
   N* = G·(C/k)^a, D* = G⁻¹·(C/k)^b, L* = L(N*, D*) (Appendix D.2; k = 6 for C = 6ND).
   With ``flops_per_token`` a function f(N) (e.g. a sweep's own convention,
   :class:`scalinglaws.sweep.family.FamilyFlops`), N* = argmin_N L(N, C/f(N)) numerically and
   D* = C/f(N*) instead, so that C = f(N*)·D* at every budget.

On the 240 points of Besiroglu et al. 2024 (Chinchilla's Figure 4, 5 highest losses dropped,
D = C/6N) this reaches their Huber optimum: objective 1.01827e-3 (the sum of
``scipy.special.huber(1e-3, r)``), E = 1.8172, A = 477.8, B = 2143, α = 0.3473, β = 0.3672.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalinglaws.allocation import optimal_allocation
from scalinglaws.convention import FlopsConvention, FlopsLike
from scalinglaws.errors import (
    DataError,
    FitError,
    QuantityError,
    ScalingLawsError,
    UnknownNameError,
    did_you_mean,
)
from scalinglaws.fit import diagnostics as diag
from scalinglaws.fit.bootstrap import (
    DEFAULT_BOOTSTRAP,
    bootstrap_weight_blocks,
    default_jobs,
    parallel_map,
    summarize,
)
from scalinglaws.fit.objectives import FORMS, BatchObjective, Loss
from scalinglaws.fit.optim import BatchResult, minimize_batch, polish_best
from scalinglaws.fit.result import Diagnostic, Fit, Replicates
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.kaplan import KaplanNDLaw
from scalinglaws.progress import step
from scalinglaws.validate import real_number, whole_number

LAWS: tuple[str, ...] = ("chinchilla", "kaplan")
_LAW_ALIASES = {
    "chinchilla": "chinchilla",
    "hoffmann": "chinchilla",
    "kaplan": "kaplan",
    "kaplan-nd": "kaplan",
}

REACHED_RTOL = 1e-5  # a start "reached the best" within this relative objective tolerance
# (plus an absolute 1e-12 per point, for data that a law fits exactly)
BOOTSTRAP_FTOL = 1e-14  # relative objective change that ends a bootstrap re-fit
POLISH_CANDIDATES = 3  # distinct best end points polished by scipy
_PARALLEL_MIN_ELEMENTS = 500_000  # problems x points below which one process is faster
#: Tables of more rows than this run the multi-start search on a stratified subsample of this
#: many rows (:func:`stratified_subsample`); the best distinct end points are then polished on
#: every row, so the optimum is the whole table's.  Smaller tables are searched whole.
SEARCH_ROWS = 4000
_STRATA = 8  # quantile strata per axis (log N, log D) of the subsample

#: Hoffmann et al. 2022's initialisation grid (Appendix D.2; Besiroglu et al. 2024):
#: 6 x 6 x 5 x 5 x 5 = 4,500 starts in the log-sum-exp coordinates.
HOFFMANN_GRID: dict[str, tuple[float, ...]] = {
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
}

#: Our grid for Kaplan's L(N, D): N_c, D_c from 1e8 to 1e18 (every 100x), exponents from
#: 0.03 to 0.5 (Kaplan et al. 2020 Table 2: N_c = 6.4e13, D_c = 1.8e13, 0.076, 0.103).
KAPLAN_GRID: dict[str, tuple[float, ...]] = {
    "log_N_c": tuple(math.log(10.0**p) for p in (8, 10, 12, 14, 16, 18)),
    "log_D_c": tuple(math.log(10.0**p) for p in (8, 10, 12, 14, 16, 18)),
    "alpha_N": (0.03, 0.06, 0.12, 0.25, 0.5),
    "alpha_D": (0.03, 0.06, 0.12, 0.25, 0.5),
}


# ============================================================================ the two laws
@dataclass(frozen=True)
class _LawSpec:
    """How one law is fitted: its start coordinates, its paper's constants, conversions."""

    name: str
    law_cls: type[Law]
    start_names: tuple[str, ...]  # coordinates of a start (log-sum-exp parameterisation)
    logged: dict[str, str]  # paper constant -> start coordinate holding its log
    default_grid: dict[str, tuple[float, ...]]
    grid_words: str
    parameterisation: str

    @property
    def paper_names(self) -> tuple[str, ...]:
        back = {v: k for k, v in self.logged.items()}
        return tuple(back.get(n, n) for n in self.start_names)

    def to_internal(self, X: np.ndarray, mN: float, mD: float) -> np.ndarray:
        """Start coordinates -> the optimiser's centred coordinates."""
        Y = np.array(X, dtype=float, copy=True)
        if self.name == "chinchilla":
            Y[:, 0] -= X[:, 3] * mN
            Y[:, 1] -= X[:, 4] * mD
        else:
            Y[:, 0] -= mN
            Y[:, 1] -= mD
        return Y

    def to_start(self, Y: np.ndarray, mN: float, mD: float) -> np.ndarray:
        """The optimiser's centred coordinates -> start coordinates."""
        X = np.array(Y, dtype=float, copy=True)
        if self.name == "chinchilla":
            X[:, 0] += Y[:, 3] * mN
            X[:, 1] += Y[:, 4] * mD
        else:
            X[:, 0] += mN
            X[:, 1] += mD
        return X

    def constants(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Start coordinates (S, k) -> the paper's constants, arrays of length S."""
        out = {}
        back = {v: k for k, v in self.logged.items()}
        for j, name in enumerate(self.start_names):
            with np.errstate(over="ignore"):
                out[back.get(name, name)] = np.exp(X[:, j]) if name in back else X[:, j].copy()
        return {k: out[k] for k in self.paper_names}


_SPECS = {
    "chinchilla": _LawSpec(
        name="chinchilla",
        law_cls=ChinchillaLaw,
        start_names=("a", "b", "e", "alpha", "beta"),
        logged={"A": "a", "B": "b", "E": "e"},
        default_grid=HOFFMANN_GRID,
        grid_words="Hoffmann et al. 2022 grid: alpha, beta in {0, 0.5, ..., 2}, "
        "e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}",
        parameterisation="log L_hat = LSE(a - alpha log N, b - beta log D, e); "
        "A = exp(a), B = exp(b), E = exp(e)",
    ),
    "kaplan": _LawSpec(
        name="kaplan",
        law_cls=KaplanNDLaw,
        start_names=("log_N_c", "log_D_c", "alpha_N", "alpha_D"),
        logged={"N_c": "log_N_c", "D_c": "log_D_c"},
        default_grid=KAPLAN_GRID,
        grid_words="grid: N_c, D_c in {1e8, 1e10, ..., 1e18}, alpha_N, alpha_D in "
        "{0.03, 0.06, 0.12, 0.25, 0.5}",
        parameterisation="log L_hat = alpha_D LSE((alpha_N/alpha_D)(log N_c - log N), "
        "log D_c - log D)",
    ),
}


def check_law(law: str) -> str:
    """The canonical law name for Approach 3 (``"chinchilla"`` or ``"kaplan"``)."""
    key = str(law).strip().lower()
    if key not in _LAW_ALIASES:
        raise UnknownNameError(
            f"unknown law '{law}' for Approach 3" + did_you_mean(key, list(LAWS))
        )
    return _LAW_ALIASES[key]


def starting_grid(law: str, init: Any = None) -> np.ndarray:
    """The starts of the multi-start search, shape (S, k), in the law's start coordinates
    (``a, b, e, alpha, beta`` for Chinchilla; ``log_N_c, log_D_c, alpha_N, alpha_D`` for
    Kaplan).

    ``init`` is None or ``"grid"`` (the law's default: :data:`HOFFMANN_GRID`, 4,500 starts,
    or :data:`KAPLAN_GRID`), ``"hoffmann"`` (Chinchilla only), a dict of name -> value(s)
    whose Cartesian product is taken (names in start coordinates, or the paper's constants
    ``E, A, B`` / ``N_c, D_c`` given in their own units), or an array of starts (S, k) in
    start coordinates (one start: shape (k,)).
    """
    spec = _SPECS[check_law(law)]
    k = len(spec.start_names)
    if init is None or (isinstance(init, str) and init.strip().lower() in ("grid", "default")):
        init = spec.default_grid
    if isinstance(init, str):
        if init.strip().lower() == "hoffmann" and spec.name == "chinchilla":
            init = HOFFMANN_GRID
        else:
            valid = "'grid'" + (" or 'hoffmann'" if spec.name == "chinchilla" else "")
            raise UnknownNameError(
                f"unknown init '{init}' for law '{spec.name}'; use {valid}, a dict of "
                f"{', '.join(spec.start_names)} values, or an array of starts"
            )
    if isinstance(init, Mapping):
        return _grid_from_dict(spec, init)
    try:
        X = np.array(init, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"init must be 'grid', a dict or an array of starts with {k} columns "
            f"({', '.join(spec.start_names)}), got {type(init).__name__}"
        ) from None
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != k or X.shape[0] == 0:
        raise DataError(
            f"an array of starts for law '{spec.name}' must have shape (starts, {k}) with "
            f"columns {', '.join(spec.start_names)}, got shape {np.shape(init)}"
        )
    if not np.all(np.isfinite(X)):
        row = int(np.flatnonzero(~np.all(np.isfinite(X), axis=1))[0])
        raise DataError(f"start {row} of init is not finite: {X[row].tolist()}")
    return X


def _grid_from_dict(spec: _LawSpec, init: Mapping[str, Any]) -> np.ndarray:
    columns: dict[str, np.ndarray] = {}
    allowed = list(spec.start_names) + list(spec.logged)
    for name, values in init.items():
        if name not in allowed:
            raise UnknownNameError(
                f"unknown start coordinate '{name}' in init for law '{spec.name}'"
                + did_you_mean(str(name), allowed)
            )
        try:
            arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
        except (TypeError, ValueError):
            raise DataError(f"init['{name}'] must be numbers, got {values!r}") from None
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            raise DataError(f"init['{name}'] must hold at least one finite number, got {values!r}")
        coord = spec.logged.get(name, name)
        if name in spec.logged:
            if np.any(arr <= 0):
                raise DataError(
                    f"init['{name}'] values must be greater than 0 ({name} = exp({coord})), "
                    f"got {values!r}"
                )
            arr = np.log(arr)
        if coord in columns:
            raise DataError(f"init gives both '{coord}' and its exponential; give one of them")
        columns[coord] = arr
    missing = [n for n in spec.start_names if n not in columns]
    if missing:
        raise DataError(
            f"init for law '{spec.name}' is missing {', '.join(missing)}; a grid needs values "
            f"for each of {', '.join(spec.start_names)}"
        )
    product = itertools.product(*(columns[n] for n in spec.start_names))
    return np.array(list(product), dtype=float)


# ============================================================================ derived values
def derived_quantities(
    spec_name: str, constants: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The allocation exponents a, b (and G for Chinchilla) implied by arrays of a law's
    constants (:func:`scalinglaws.allocation.allocation_exponents`: Hoffmann et al. 2022,
    App. D.2; Kaplan et al. 2020 eq. 1.5 [derived]); NaN where an exponent is ≤ 0."""
    from scalinglaws.allocation import allocation_exponents

    return allocation_exponents(_SPECS[check_law(spec_name)].law_cls, constants)


# ============================================================================ the estimator
class Approach3:
    """Fit a parametric L(N, D) to every run at once (Hoffmann et al. 2022, Approach 3).

    Parameters
    ----------
    law: ``"chinchilla"`` (E + A/N^α + B/D^β) or ``"kaplan"`` (Kaplan et al. 2020, eq. 1.5).
    objective: ``"huber"`` (default, on log L), ``"log-mse"``, ``"mse"`` (on L, in nats) or
        ``"asymmetric"`` (Huber weighted 2τ above the law, 2(1 − τ) below); see
        :mod:`scalinglaws.fit.objectives`.  Always summed over runs, never averaged.
    delta: Huber threshold on log L (1e-3, Hoffmann et al.).
    tau: asymmetry of ``"asymmetric"`` (0.25: runs above the law weigh a third of those
        below; 0.5 is the Huber loss).
    init: the starts (:func:`starting_grid`): default Hoffmann's 4,500-point grid.
    n_bootstrap, seed, level: bootstrap replicates (whole runs resampled; 0 = none), their
        seed, and the interval level.
    flops_per_token: how a budget C splits into N and D: None (default) for C = k·N·D with k
        the runs' ``flops_per_param_token`` (6 by default), or a
        :class:`~scalinglaws.convention.FlopsConvention` (a number k, or a callable f(N) ->
        training FLOPs per token for C = f(N)·D such as a sweep's own
        :meth:`scalinglaws.sweep.family.ModelFamily.flops_function`).  It becomes the fit's
        ``convention``, which :meth:`Fit.allocate` and the diagnostics use, and is recorded
        in ``Fit.method["compute convention"]``.
    n_jobs: worker processes for the batches (default None: all cores this process may use
        when a batch holds at least 500k problem-points, one process below that).
    tol: relative objective change that stops a start in the multi-start search.
    max_iter: iteration limit of each start and each bootstrap re-fit.
    """

    def __init__(
        self,
        law: str = "chinchilla",
        objective: str = "huber",
        delta: float = 1e-3,
        tau: float = 0.25,
        init: Any = None,
        n_bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int = 0,
        level: float = 0.95,
        n_jobs: int | None = None,
        tol: float = 1e-9,
        max_iter: int = 1000,
        flops_per_token: FlopsLike | None = None,
    ) -> None:
        from scalinglaws.validate import check_common

        self.law = check_law(law)
        self.loss = Loss(objective, delta, tau)
        self.objective = self.loss.name
        self.delta = float(self.loss.delta)
        self.tau = float(self.loss.tau)
        self.init = init
        self.starts = starting_grid(self.law, init)
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)
        self.n_jobs = whole_number(n_jobs, "n_jobs", 1, none=True)
        self.tol = real_number(tol, "tol", 0, 1, low_open=True, high_open=True, hint="e.g. 1e-9")
        self.max_iter = whole_number(max_iter, "max_iter", 1)
        self.flops_per_token = _check_flops_per_token(flops_per_token)

    def __repr__(self) -> str:
        return (
            f"Approach3(law={self.law!r}, objective={self.objective!r}, delta={self.delta:g}, "
            f"starts={len(self.starts)}, n_bootstrap={self.n_bootstrap}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ fit
    def fit(self, runs: Any) -> Fit:
        """Fit the law to ``runs`` (anything :func:`scalinglaws.runs.as_runs` accepts) and
        return a :class:`~scalinglaws.fit.result.Fit` (see the module docstring)."""
        from scalinglaws.runs import as_runs, require_identifiable

        runs = as_runs(runs)
        spec = _SPECS[self.law]
        require_identifiable(runs, ("N", "D"), n_params=len(spec.start_names))
        problem = _Problem.build(spec.name, runs.N, runs.D, runs.L, self.loss)

        # 1. every start, one batch (on a subsample of a big table); 2. the best distinct end
        # points polished on the whole table
        X0 = spec.to_internal(self.starts, problem.mN, problem.mD)
        rows = self._search_rows(problem)
        res, theta, value, converged, message = self._search(problem, X0, runs.source, rows)
        step(
            f"Approach 3: {len(X0):,} starts searched"
            + ("" if rows is None else f" on {len(rows):,} of the {len(problem.L):,} rows")
            + ", the best polished"
            + (f"; now {self.n_bootstrap} bootstrap replicates" if self.n_bootstrap else "")
        )
        # 3. starts that reached the best (on a subsample: the best end point of the search,
        # as the starts' end values are the subsample's objective)
        best = value if rows is None else float(np.min(res.fun[np.isfinite(res.fun)]))
        # absolute floor for near-exact data: residuals of ~1e-6 per point
        floor = 1e-12 * (len(problem.L) if rows is None else len(rows))
        reached = int(np.sum(res.fun <= best + max(REACHED_RTOL * abs(best), floor)))

        X = spec.to_start(theta[None, :], problem.mN, problem.mD)
        constants = {k: float(v[0]) for k, v in spec.constants(X).items()}
        try:
            law = spec.law_cls(**constants)
        except ScalingLawsError as exc:  # Kaplan's law takes positive constants only
            raise FitError(
                f"the best fit of law '{spec.name}' to {runs.source} is outside the law's "
                f"domain ({exc}); the data do not follow this law"
            ) from None
        k = self._per_token(runs)
        convention = k.description
        derived = {
            name: float(np.asarray(v).reshape(-1)[0])
            for name, v in derived_quantities(
                spec.name, {n: np.array([c]) for n, c in constants.items()}
            ).items()
        }
        obj1 = BatchObjective(problem.form, self.loss, problem.L)
        residuals = obj1.residuals(theta)
        gauss_newton = obj1.gauss_newton(theta)
        kappa = diag.condition_number(gauss_newton)

        fit = Fit(
            law=law,
            params=dict(constants),
            approach="3",
            level=self.level,
            derived=derived,
            method={
                "law": law.formula,
                "objective": self.loss.describe(),
                "objective value": value,
                "parameterisation": spec.parameterisation,
                "starts": int(len(X0)),
                "init": (
                    spec.grid_words
                    if self.init is None or isinstance(self.init, str)
                    else f"user-supplied starts ({len(X0)})"
                ),
                "starts at best": reached,
                "starts at best means": f"end objective within relative {REACHED_RTOL:g} of "
                + ("the best" if rows is None else "the search's best, on its subsample"),
                **self._subsample_words(problem, rows),
                "optimiser": f"batched L-BFGS over all starts (relative ftol {self.tol:g}), "
                "analytic gradient; the best 3 distinct end points re-run to ftol 1e-14, the "
                "best polished by scipy L-BFGS-B (ftol 1e-15, gtol 1e-12, objective scaled to 1)",
                "condition number": kappa,
                "compute convention": convention,
                **({"FLOPs per token k": k.k} if k.linear else {}),
            },
            data={
                **runs.describe(),
                **({} if k.linear else {"flops convention": convention}),
                "filters": list(runs.filters),
            },
            converged=converged,
            message=message,
            residuals=np.asarray(residuals, dtype=float),
            convention=k,
            diagnostics=self._diagnostics(
                runs,
                spec,
                problem,
                law,
                constants,
                derived,
                residuals,
                reached,
                len(X0),
                converged,
                message,
                gauss_newton,
                k,
            ),
            extra={
                "data_range": runs.ranges(),
                "optima": self._optima(spec, problem, res, best),
            },
        )
        if self.n_bootstrap:
            fit = self._bootstrap(fit, spec, problem, runs, theta)
        return fit

    # ------------------------------------------------------------------ steps
    def starts_internal(self, mN: float, mD: float) -> np.ndarray:
        """The starts in the optimiser's coordinates, centred on mean log N = ``mN`` and
        mean log D = ``mD``."""
        return _SPECS[self.law].to_internal(self.starts, mN, mD)

    def search(
        self, problem: _Problem, X0: np.ndarray, source: str = "the runs"
    ) -> tuple[BatchResult, np.ndarray, float, bool, str]:
        """The multi-start search of :meth:`fit` on ``problem`` from the starts ``X0`` (the
        optimiser's centred coordinates): every start by the batched L-BFGS (relative ftol
        ``tol``), then the best distinct end points polished (:meth:`_polish`).  Returns
        (every start's result, θ, objective, converged, message).  The automatic fit's
        candidates call this, so that they reach the optimum this estimator reaches.  On a
        table of more than :data:`SEARCH_ROWS` rows the starts run on a stratified subsample
        (:func:`stratified_subsample`) and the polish on every row; the starts' end values
        are then the subsample's objective."""
        return self._search(problem, X0, source, self._search_rows(problem))

    def _search(
        self, problem: _Problem, X0: np.ndarray, source: str, rows: np.ndarray | None
    ) -> tuple[BatchResult, np.ndarray, float, bool, str]:
        """:meth:`search` with the starts run on the rows ``rows`` (None: every row)."""
        searched = problem if rows is None else problem.subset(rows)
        res = self._solve(searched, X0, None, self.tol)
        if not np.isfinite(res.fun).any():
            raise FitError(
                f"the objective is not finite at any of the {len(X0)} starts on "
                f"{source}; check the losses (all must be > 0) or give other starts"
            )
        theta, value, converged, message = self._polish(problem, res)
        return res, theta, value, converged, message

    def _search_rows(self, problem: _Problem) -> np.ndarray | None:
        """The rows the multi-start search runs on: None (every row) up to
        :data:`SEARCH_ROWS` rows, else a stratified subsample of that many (seeded)."""
        if len(problem.L) <= SEARCH_ROWS:
            return None
        return stratified_subsample(problem.N, problem.D, SEARCH_ROWS, self.seed)

    def _subsample_words(self, problem: _Problem, rows: np.ndarray | None) -> dict[str, Any]:
        """The subsampled search in the fit's ``method`` (nothing when every row was used)."""
        if rows is None:
            return {}
        return {
            "search subsample": f"the {len(self.starts):,} starts ran on a stratified "
            f"subsample of {len(rows):,} of the {len(problem.L):,} rows ({_STRATA} x {_STRATA} "
            f"quantile strata of log N and log D, seed {self.seed}; tables above "
            f"{SEARCH_ROWS:,} rows); the best {POLISH_CANDIDATES} distinct end points were "
            "re-run and polished on every row",
        }

    def _per_token(self, runs: Any) -> FlopsConvention:
        """The convention given, else C = k·N·D with the runs' own k."""
        if self.flops_per_token is None:
            return FlopsConvention.constant(float(runs.flops_per_param_token))
        return self.flops_per_token

    def _jobs(self, rows: int, points: int) -> int:
        """Processes for a batch: ``n_jobs`` when given, else all cores for batches of at
        least 500k problem-points (below that, starting processes costs more than it saves)."""
        if self.n_jobs is not None:
            return max(1, min(self.n_jobs, rows))
        if rows * points < _PARALLEL_MIN_ELEMENTS:
            return 1
        return max(1, min(default_jobs(), rows // 64))

    def _solve(
        self, problem: _Problem, X0: np.ndarray, weights: np.ndarray | None, ftol: float
    ) -> BatchResult:
        """All rows of X0 (each with its row of ``weights``, if given) in one batch, split
        over processes when large."""
        jobs = self._jobs(len(X0), len(problem.L))
        # interleaved chunks balance the work (neighbouring starts of a grid cost alike)
        chunks = [np.arange(j, len(X0), jobs) for j in range(jobs)]
        tasks = [
            (problem, X0[c], None if weights is None else weights[c], ftol, self.max_iter)
            for c in chunks
        ]
        results = parallel_map(_solve_task, tasks, n_jobs=jobs)
        if len(results) == 1:
            return results[0]
        S, k = X0.shape
        out = BatchResult(
            x=np.empty((S, k)),
            fun=np.empty(S),
            grad=np.empty((S, k)),
            n_iter=np.empty(S, dtype=np.int64),
            status=np.empty(S, dtype=np.int64),
            n_evaluations=sum(r.n_evaluations for r in results),
        )
        for c, r in zip(chunks, results, strict=True):
            out.x[c], out.fun[c], out.grad[c] = r.x, r.fun, r.grad
            out.n_iter[c], out.status[c] = r.n_iter, r.status
        return out

    def _polish(self, problem: _Problem, res: BatchResult) -> tuple[np.ndarray, float, bool, str]:
        """Tighten the best distinct end points (batched L-BFGS to relative ftol 1e-14), then
        finish the best with scipy's L-BFGS-B; returns (θ, objective, converged, message)."""
        obj = BatchObjective(problem.form, self.loss, problem.L)
        starts = res.x[_distinct_best(res, POLISH_CANDIDATES)]
        return polish_best(obj, starts, max_iter=20 * self.max_iter, ftol=BOOTSTRAP_FTOL)

    def _optima(
        self, spec: _LawSpec, problem: _Problem, res: BatchResult, best: float
    ) -> list[dict[str, Any]]:
        """The distinct objective levels the starts ended at (up to 10, best first): starts
        whose end objectives lie within relative 1e-3 of each other form one level, shown
        by its best end point (the paper's constants) and its number of starts."""
        fun = np.where(np.isfinite(res.fun), res.fun, np.inf)
        order = np.argsort(fun, kind="stable")
        out: list[dict[str, Any]] = []
        pos = 0
        while pos < order.size and np.isfinite(fun[order[pos]]) and len(out) < 10:
            i = order[pos]
            level = fun[i]
            end = int(np.searchsorted(fun[order], level + 1e-3 * abs(level), side="right"))
            X = spec.to_start(res.x[i][None, :], problem.mN, problem.mD)
            out.append(
                {
                    "objective": float(level),
                    "relative to best": float(level / best - 1) if best else math.nan,
                    "starts": end - pos,
                    **{k: float(v[0]) for k, v in spec.constants(X).items()},
                }
            )
            pos = max(end, pos + 1)
        return out

    def _diagnostics(
        self,
        runs: Any,
        spec: _LawSpec,
        problem: _Problem,
        law: Law,
        constants: dict[str, float],
        derived: dict[str, float],
        residuals: np.ndarray,
        reached: int,
        n_starts: int,
        converged: bool,
        message: str,
        gauss_newton: np.ndarray,
        k: FlopsConvention,
    ) -> list[Diagnostic]:
        N, D, L = problem.N, problem.D, problem.L
        out: list[Diagnostic] = []
        out += diag.not_converged(converged, message)
        out += diag.intermediate_checkpoints(len(runs), int(runs.df["is_final"].sum()))
        out += diag.few_starts(reached, n_starts, REACHED_RTOL)
        out += diag.diverged(constants)
        if spec.name == "chinchilla":
            with np.errstate(all="ignore"):
                terms = {
                    "E": np.asarray(constants["E"]),
                    "A/N^alpha": constants["A"] * N ** -constants["alpha"],
                    "B/D^beta": constants["B"] * D ** -constants["beta"],
                }
                pred = terms["E"] + terms["A/N^alpha"] + terms["B/D^beta"]
            out += diag.collapsed_terms(terms, pred, float(L.min()))
            out += diag.floor_above_data(constants["E"], float(L.min()))
            out += diag.at_bound(constants, {"alpha": (0.0, math.inf), "beta": (0.0, math.inf)})
        else:
            out += diag.at_bound(
                constants, {"alpha_N": (0.0, math.inf), "alpha_D": (0.0, math.inf)}
            )
        out += diag.implausible_exponents({n: derived[n] for n in ("a", "b") if n in derived})
        out += diag.ill_conditioned(gauss_newton, list(spec.start_names))
        out += diag.residual_trend(residuals, N, "N")
        out += diag.residual_trend(residuals, D, "D")
        C = k.compute(N, D)
        grid = np.geomspace(C.min(), C.max(), 25)
        consts = {n: np.array([v]) for n, v in constants.items()}
        n_opt, d_opt, _ = optimal_allocation(spec.law_cls, consts, grid, k)
        if np.all(np.isfinite(n_opt)) and np.all(np.isfinite(d_opt)):
            out += diag.optimum_outside_data(
                [],
                [],
                [],
                (float(N.min()), float(N.max())),
                (float(D.min()), float(D.max())),
                span=(grid, n_opt[0], d_opt[0]),
            )
        return out

    def _bootstrap(
        self,
        fit: Fit,
        spec: _LawSpec,
        problem: _Problem,
        runs: Any,
        theta: np.ndarray,
    ) -> Fit:
        """``fit`` with the bootstrap: every replicate (whole runs resampled) re-fitted from
        the optimum, in blocks of replicates that keep memory bounded
        (:func:`~scalinglaws.fit.bootstrap.bootstrap_weight_blocks`)."""
        n_boot = self.n_bootstrap
        x = np.empty((n_boot, len(theta)))
        ok = np.zeros(n_boot, dtype=bool)
        blocks = bootstrap_weight_blocks(runs.run_ids, len(problem.L), n_boot, self.seed)
        n_blocks = 0
        for block, W in blocks:  # bounded memory on large tables (one block up to 83,886 rows)
            n_blocks += 1
            X0 = np.repeat(theta[None, :], len(block), axis=0)
            res = self._solve(problem, X0, W.astype(float), BOOTSTRAP_FTOL)
            sl = slice(block.start, block.stop)
            x[sl], ok[sl] = res.x, res.converged & np.isfinite(res.fun)
            if block.stop < n_boot:
                step(f"bootstrap: {block.stop} of {n_boot} replicates refitted")
        X = spec.to_start(x, problem.mN, problem.mD)
        consts = spec.constants(X)
        for v in consts.values():
            v[~ok] = np.nan
        samples = {**consts, **derived_quantities(spec.name, consts)}
        stderr, intervals = summarize(samples, self.level)
        failed = int((~ok).sum())
        method = (
            f"{self.n_bootstrap} replicates (whole runs resampled, seed {self.seed}), each "
            f"re-fitted from the optimum to relative ftol {BOOTSTRAP_FTOL:g}, "
            + ("all in one batch" if n_blocks == 1 else f"in {n_blocks} batches (bounded memory)")
            + (f"; {failed} did not converge" if failed else "")
        )
        replicates = Replicates({n: consts[n] for n in spec.paper_names}, method=method)
        return fit.with_bootstrap(
            stderr, intervals, replicates, diag.bootstrap_failures(failed, self.n_bootstrap)
        )


# ============================================================================ internals
def _check_flops_per_token(value: Any) -> FlopsConvention | None:
    """None (the runs' own k), or a convention from a number k > 0 or a callable f(N)."""
    if value is None:
        return None
    try:
        return FlopsConvention.of(value)
    except ScalingLawsError:
        raise QuantityError(
            "flops_per_token must be None (the runs' k), a number k > 0 for C = k·N·D, a "
            "callable f(N) giving training FLOPs per token for C = f(N)·D, or a "
            f"FlopsConvention; got {value!r}",
            argument="flops_per_token",
        ) from None


@dataclass
class _Problem:
    """The data of one fit in the optimiser's centred log coordinates."""

    law: str
    N: np.ndarray
    D: np.ndarray
    L: np.ndarray
    mN: float
    mD: float
    loss: Loss

    @classmethod
    def build(cls, law: str, N: np.ndarray, D: np.ndarray, L: np.ndarray, loss: Loss) -> _Problem:
        N, D, L = (np.asarray(v, dtype=float) for v in (N, D, L))
        return cls(law, N, D, L, float(np.log(N).mean()), float(np.log(D).mean()), loss)

    @property
    def form(self) -> Any:
        return FORMS[self.law](np.log(self.N) - self.mN, np.log(self.D) - self.mD)

    def subset(self, rows: np.ndarray) -> _Problem:
        """The rows ``rows`` of this problem, in the same (whole table's) centred coordinates,
        so that an end point on the subset is a start on the whole table."""
        return _Problem(
            self.law, self.N[rows], self.D[rows], self.L[rows], self.mN, self.mD, self.loss
        )


def stratified_subsample(N: np.ndarray, D: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``size`` of the rows, stratified over log N and log D: the rows fall
    into 8 x 8 cells by their quantiles of N and of D, and every cell gives its share of the
    subsample (within one row), by systematic sampling in a seeded random order.  Every row
    when there are at most ``size``."""
    n = len(N)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)

    def stratum(v: np.ndarray) -> np.ndarray:
        ranks = np.empty(n, dtype=np.int64)
        ranks[np.argsort(v, kind="stable")] = np.arange(n)
        return ranks * _STRATA // n

    cell = stratum(np.asarray(N, dtype=float)) * _STRATA + stratum(np.asarray(D, dtype=float))
    perm = rng.permutation(n)
    order = perm[np.argsort(cell[perm], kind="stable")]  # by cell, random within a cell
    picks = ((np.arange(size) + rng.random()) * (n / size)).astype(np.int64)
    return np.sort(order[np.minimum(picks, n - 1)])


def _solve_task(task: tuple[_Problem, np.ndarray, np.ndarray | None, float, int]) -> BatchResult:
    """One chunk of a batch (top-level so that worker processes can run it)."""
    problem, X0, weights, ftol, max_iter = task
    obj = BatchObjective(problem.form, problem.loss, problem.L, weights)
    return minimize_batch(obj, X0, ftol=ftol, max_iter=max_iter)


def _distinct_best(res: BatchResult, n: int) -> list[int]:
    """Indices of up to ``n`` best end points that differ from each other."""
    order = np.argsort(np.where(np.isfinite(res.fun), res.fun, np.inf))
    chosen: list[int] = []
    for i in order:
        if not np.isfinite(res.fun[i]):
            break
        if all(np.max(np.abs(res.x[i] - res.x[j])) > 1e-3 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == n:
            break
    return chosen
