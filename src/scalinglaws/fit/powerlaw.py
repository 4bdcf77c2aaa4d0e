"""One-variable power laws: the loss against N, D or C, and N* or D* against C.

Two fits live here, both reused by Approaches 1 and 2 (:mod:`scalinglaws.fit.envelope`,
:mod:`scalinglaws.fit.isoflop`):

* :func:`fit_power` -- y = k·x^e by least squares on log y = log k + e·log x.  This is how
  Hoffmann et al. 2022 (§3.1, §3.2) fit N_opt ∝ C^a and D_opt ∝ C^b, and Llama 3 (§3.2.1)
  fits the compute-optimal tokens N*(C) = A·C^α.
* :func:`fit_loss_power` -- L(x) = E + A·x^(−α) (or the pure power law with E = 0, Kaplan
  et al. 2020 eqs. 1.1-1.3 written as (x_c/x)^α = A·x^(−α)), fitted on log L with the Huber
  loss (δ = 1e-3, as Hoffmann et al. 2022 fit Approach 3) or squared error, by BFGS from
  the best points of a grid of starts.

:class:`PowerLawFit` is the estimator: ``PowerLawFit(variable="C").fit(runs)`` returns a
:class:`~scalinglaws.fit.result.Fit` whose law is a :class:`~scalinglaws.laws.PowerLaw`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalinglaws.errors import FitError, QuantityError, UnknownNameError, did_you_mean
from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP, bootstrap_summary, bootstrap_weights
from scalinglaws.fit.diagnostics import extrapolation_range, log_residuals
from scalinglaws.fit.objectives import Loss
from scalinglaws.fit.optim import minimize_from_starts
from scalinglaws.fit.result import Diagnostic, Fit
from scalinglaws.laws.power import PowerLaw
from scalinglaws.validate import check_common

OBJECTIVES: tuple[str, ...] = ("huber", "log-mse")
VARIABLES: tuple[str, ...] = ("N", "D", "C")
_DESCRIPTION = {"N": "parameters", "D": "training tokens", "C": "training FLOPs"}

# Starts for the offset fit: exponents and floors E as fractions of the smallest loss.
_ALPHA_GRID = np.geomspace(0.01, 3.0, 18)
_FLOOR_GRID = np.array([1e-3, 0.1, 0.3, 0.5, 0.65, 0.8, 0.9, 0.95, 0.98, 0.995])
_N_REFINE = 4  # best grid points refined by BFGS


# ============================================================================ log-log fit
def fit_power(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
) -> tuple[float, float]:
    """Fit y = k·x^e and return ``(k, e)``.

    Ordinary (or ``weights``-weighted) least squares on log y = log k + e·log x, the fit
    Hoffmann et al. 2022 use for N_opt ∝ C^a and D_opt ∝ C^b (§3.1-3.2, Table 2) and Llama 3
    (2024, §3.2.1) for N*(C) = A·C^α.  Needs at least two distinct positive x; raises
    :class:`FitError` otherwise.
    """
    lx, ly, w = _log_pairs(x, y, weights)
    keep = w > 0
    if np.unique(lx[keep]).size < 2:
        raise FitError(
            "a power law y = k·x^e needs at least two distinct x values with positive weight, "
            f"got {np.unique(lx[keep]).size}"
        )
    lx, ly, w = lx[keep], ly[keep], w[keep]
    mx = np.average(lx, weights=w)
    my = np.average(ly, weights=w)
    slope = float(np.sum(w * (lx - mx) * (ly - my)) / np.sum(w * (lx - mx) ** 2))
    return float(math.exp(my - slope * mx)), slope


def fit_allocation_rule(C: np.ndarray, N: np.ndarray, D: np.ndarray) -> dict[str, float]:
    """The first half of the second stage of Hoffmann et al. 2022's Approaches 1 and 2
    (§3.1-3.2): N* = k_N·C^a and D* = k_D·C^b by :func:`fit_power` on the per-budget optima;
    returns ``{"a", "b", "k_N", "k_D"}``.  The loss frontier L*(C) is the other half
    (:func:`fit_loss_power`)."""
    k_N, a = fit_power(C, N)
    k_D, b = fit_power(C, D)
    return {"a": a, "b": b, "k_N": k_N, "k_D": k_D}


def _log_pairs(x: Any, y: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise FitError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    for name, arr in (("x", xa), ("y", ya)):
        bad = ~np.isfinite(arr) | (arr <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FitError(
                f"a power-law fit needs finite positive {name} values, got {arr[i]!r} at index {i}"
            )
    w = np.ones_like(xa) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != xa.shape or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise FitError("weights must be finite, >= 0 and one per point")
    return np.log(xa), np.log(ya), w


# ============================================================================ L = E + A x^-alpha
@dataclass(frozen=True)
class LossPowerFit:
    """The result of :func:`fit_loss_power`: L(x) = E + A·x^(−alpha) in the units of x."""

    E: float
    A: float
    alpha: float
    objective: float
    converged: bool
    message: str
    offset: bool

    def law(self, variable: str) -> PowerLaw:
        """The fitted :class:`PowerLaw` of ``variable``."""
        return PowerLaw(E=self.E, A=self.A, alpha=self.alpha, variable=variable)


def fit_loss_power(
    x: Sequence[float] | np.ndarray,
    L: Sequence[float] | np.ndarray,
    offset: bool = True,
    objective: str = "huber",
    delta: float = 1e-3,
    weights: Sequence[float] | np.ndarray | None = None,
    start: LossPowerFit | None = None,
    floor_bounds: tuple[float, float] | None = None,
) -> LossPowerFit:
    """Fit L(x) = E + A·x^(−α) (``offset=True``) or L(x) = A·x^(−α) (``offset=False``).

    The residual is r = log L − log L̂ with log L̂ = LSE(log A − α·log x, log E) (the
    parametrisation of Hoffmann et al. 2022 eq. 2's fit), minimised as Σ w·Huber_δ(r)
    (``objective="huber"``, δ = 1e-3 as in Hoffmann et al.) or Σ w·r²/2 (``"log-mse"``).
    x is centred on its geometric mean for conditioning; the result is reported in the
    units of x.  BFGS is started from the best points of a grid of (α, E/min L), the
    best optimum is polished by Nelder-Mead.  Without offset and with ``"log-mse"`` the fit is the
    closed-form log-log regression.  ``start`` (an earlier fit, e.g. the point estimate
    inside a bootstrap) is tried first and replaces most of the grid.  ``offset=True`` needs
    at least 4 distinct x (more points than its 3 parameters), ``offset=False`` at least 2;
    raises :class:`FitError` otherwise.  ``floor_bounds`` = (E_lo, E_hi) keeps the floor
    inside those values (as the automatic fit's constrained Chinchilla candidate keeps its E):
    when the free optimum lies outside, E is pinned at the bound it crosses and (A, α)
    refitted (:func:`_pin_floor`).
    """
    check_objective(objective)
    delta = _check_delta(delta)
    lx, ly, w = _log_pairs(x, L, weights)
    keep = w > 0
    lx, ly, w = lx[keep], ly[keep], w[keep]
    n_distinct = np.unique(lx).size
    need = 4 if offset else 2
    if n_distinct < need:
        form = "E + A·x^-alpha (3 parameters)" if offset else "A·x^-alpha"
        raise FitError(
            f"a loss power law {form} needs at least {need} distinct x values, got {n_distinct}"
        )
    ref = float(np.average(lx, weights=w))
    z = lx - ref

    def obj(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return _objective(theta, z, ly, w, offset, objective, delta)

    if not offset:
        a0, s0 = _wls(z, ly, w)
        theta0 = np.array([a0, -s0])
        if objective == "log-mse":
            best_theta, best_f, ok, msg = theta0, obj(theta0)[0], True, "closed-form log-log fit"
        else:
            best_theta, best_f, ok, msg = _minimize(obj, [theta0])
    else:
        starts = _offset_starts(z, ly, w, objective, delta, 1 if start is not None else _N_REFINE)
        if start is not None and start.offset and start.E > 0 and start.A > 0:
            a0 = math.log(start.A) - start.alpha * ref
            starts.insert(0, np.array([a0, start.alpha, math.log(start.E)]))
        best_theta, best_f, ok, msg = _minimize(obj, starts)
        if floor_bounds is not None:
            e_lo, e_hi = (math.log(float(b)) for b in floor_bounds)
            if not e_lo <= best_theta[2] <= e_hi:
                e_pin = e_lo if best_theta[2] < e_lo else e_hi
                best_theta, best_f, ok, msg = _pin_floor(obj, best_theta, starts, e_pin)
    a, alpha = float(best_theta[0]), float(best_theta[1])
    log_a = a + alpha * ref
    if not log_a < 709.0 or (offset and not best_theta[2] < 709.0):
        raise FitError(
            f"the power-law fit ran off (log A = {log_a:.4g}, alpha = {alpha:.3g}): the losses "
            "show no power-law decrease in x"
        )
    E = float(math.exp(best_theta[2])) if offset else 0.0
    A = float(math.exp(log_a))
    return LossPowerFit(
        E=E, A=A, alpha=alpha, objective=best_f, converged=ok, message=msg, offset=offset
    )


def _pin_floor(
    obj: Any, theta: np.ndarray, starts: list[np.ndarray], e_pin: float
) -> tuple[np.ndarray, float, bool, str]:
    """Refit (log A, α) with log E held at ``e_pin`` (the floor's bound), from the free
    optimum ``theta`` and the grid's ``starts``; returns what :func:`_minimize` returns, in
    the three coordinates."""

    def pinned(t: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = obj(np.array([t[0], t[1], e_pin]))
        return f, g[:2]

    t, f, ok, msg = _minimize(pinned, [theta[:2], *(s[:2] for s in starts)])
    return np.array([t[0], t[1], e_pin]), f, ok, msg + f"; floor held at its bound {e_pin:.4g}"


def check_objective(objective: str) -> str:
    """Return ``objective`` if it is one of :data:`OBJECTIVES`, else raise
    :class:`UnknownNameError`."""
    if objective not in OBJECTIVES:
        raise UnknownNameError(
            f"unknown objective {objective!r} for a power-law fit"
            + did_you_mean(str(objective), OBJECTIVES)
        )
    return objective


def _check_delta(delta: Any) -> float:
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise QuantityError(
            f"the Huber delta must be a number > 0 (e.g. 1e-3), got {delta!r}"
        ) from None
    if not math.isfinite(d) or d <= 0:
        raise QuantityError(f"the Huber delta must be a number > 0 (e.g. 1e-3), got {delta!r}")
    return d


def _wls(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares y = c + s·z; returns (c, s)."""
    mz, my = np.average(z, weights=w), np.average(y, weights=w)
    s = float(np.sum(w * (z - mz) * (y - my)) / np.sum(w * (z - mz) ** 2))
    return float(my - s * mz), s


def _predict(theta: np.ndarray, z: np.ndarray, offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """log L̂ and p = ∂ log L̂ / ∂ a (the power term's share of L̂)."""
    s1 = theta[0] - theta[1] * z
    if not offset:
        return s1, np.ones_like(z)
    yhat = np.logaddexp(s1, theta[2])
    return yhat, np.exp(s1 - yhat)


def _objective(
    theta: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    offset: bool,
    objective: str,
    delta: float,
) -> tuple[float, np.ndarray]:
    yhat, p = _predict(theta, z, offset)
    rho, psi = _rho(y - yhat, objective, delta)
    f = float(np.sum(w * rho))
    gw = -w * psi  # d f / d yhat
    grad = [np.sum(gw * p), np.sum(gw * (-p * z))]
    if offset:
        grad.append(np.sum(gw * (1 - p)))
    return f, np.array(grad, dtype=float)


def _rho(r: np.ndarray, objective: str, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """(ρ(r), ρ'(r)) of the package's robust losses (:class:`~scalinglaws.fit.objectives.Loss`);
    the Huber loss divided by δ so that its gradient is O(1) in the linear zone (the same
    minimiser)."""
    rho, psi = Loss(objective, delta).evaluate(r)
    if objective == "huber":
        return rho / delta, psi / delta
    return rho, psi


def _offset_starts(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    objective: str,
    delta: float,
    n_best: int,
) -> list[np.ndarray]:
    """The best few of a grid of (alpha, E) starts, with log A from a log-log fit of L − E
    (the whole grid is evaluated at once)."""
    lmin = float(np.exp(y.min()))
    frac, alpha = np.meshgrid(_FLOOR_GRID, _ALPHA_GRID, indexing="ij")
    frac, alpha = frac.ravel(), alpha.ravel()
    e = np.log(frac * lmin)
    excess = np.log(np.exp(y)[None, :] - (frac * lmin)[:, None])
    a = (excess + alpha[:, None] * z[None, :]) @ w / w.sum()
    yhat = np.logaddexp(a[:, None] - alpha[:, None] * z[None, :], e[:, None])
    rho, _ = _rho(y[None, :] - yhat, objective, delta)
    f = rho @ w
    order = np.argsort(f, kind="stable")[:n_best]
    return [np.array([a[i], alpha[i], e[i]]) for i in order]


def _minimize(obj: Any, starts: list[np.ndarray]) -> tuple[np.ndarray, float, bool, str]:
    """The package's one small-problem optimiser
    (:func:`scalinglaws.fit.optim.minimize_from_starts`), its failure restated for a
    power law."""
    try:
        return minimize_from_starts(obj, starts)
    except FitError:
        raise FitError(
            "the power-law fit found no finite optimum; check the data for outliers"
        ) from None


# ============================================================================ frontier
def frontier_mask(x: Sequence[float] | np.ndarray, L: Sequence[float] | np.ndarray) -> np.ndarray:
    """True for the points on the lower-left Pareto frontier of (x, L): no other point has
    x at most as large and a lower loss.  Kaplan et al. 2020 (Fig. 1, §6) fit L(C) to this
    compute-efficient frontier of their learning curves."""
    xa = np.asarray(x, dtype=float)
    la = np.asarray(L, dtype=float)
    order = np.lexsort((la, xa))  # by x, then by loss
    keep = np.zeros(xa.size, dtype=bool)
    best = math.inf
    for i in order:
        if la[i] < best:
            keep[i] = True
            best = la[i]
    return keep


# ============================================================================ shared checks
# ============================================================================ the estimator
class PowerLawFit:
    """Fit a one-variable power law L(x) = E + A·x^(−α) (or (x_c/x)^α without offset).

    ``variable`` is ``"N"``, ``"D"`` or ``"C"``: Kaplan et al. 2020's L(N), L(D) (eqs. 1.1,
    1.2, with ``offset=False``) and L(C) (eq. 1.3), or the offset form used for the loss at
    the compute-optimal frontier (Hoffmann et al. 2022; Llama 3 §3.2.1).

    ``frontier=True`` first keeps only the points on the lower Pareto frontier of (x, L) --
    what Kaplan et al. fit L(C) to -- recomputed inside every bootstrap replicate; with
    ``frontier=False`` every row given is fitted (give converged runs for L(N) or L(D)).
    ``objective`` is ``"huber"`` (δ = ``delta``, on log L) or ``"log-mse"``.  Bootstrap
    replicates resample whole runs with ``seed``.
    """

    def __init__(
        self,
        variable: str = "C",
        offset: bool = True,
        objective: str = "huber",
        delta: float = 1e-3,
        frontier: bool = False,
        n_bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int = 0,
        level: float = 0.95,
    ) -> None:
        if variable not in VARIABLES:
            raise UnknownNameError(
                f"unknown variable {variable!r} for a power-law fit; use N (parameters), "
                "D (tokens) or C (FLOPs)"
            )
        self.variable = variable
        self.offset = bool(offset)
        self.objective = check_objective(objective)
        self.delta = _check_delta(delta)
        self.frontier = bool(frontier)
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)

    def fit(self, runs: Any) -> Fit:
        """Fit the power law to ``runs`` (anything :func:`scalinglaws.runs.as_runs` takes)."""
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        var = self.variable
        x_all = runs.df[var].to_numpy(dtype=float)
        L_all = runs.L
        used = frontier_mask(x_all, L_all) if self.frontier else np.ones(len(runs), dtype=bool)
        x, L = x_all[used], L_all[used]
        res = self._fit_one(x, L, None)
        law = res.law(var)
        params = {"E": law.E, "A": law.A, "alpha": law.alpha}
        fit = Fit(
            law=law,
            params=params,
            approach="power",
            level=self.level,
            derived=self._derived(law),
            method={
                "law": f"L({var}) = " + ("E + A·" if self.offset else "A·") + f"{var}^-alpha",
                "objective": self.objective
                + (
                    f" (delta {self.delta:g}) on log L"
                    if self.objective == "huber"
                    else " on log L"
                ),
                "points": (
                    f"Pareto frontier of (L, {var}): {int(used.sum())} of {len(runs)} rows"
                    if self.frontier
                    else f"all {len(runs)} rows"
                ),
            },
            data=runs.describe(),
            converged=res.converged,
            message=res.message,
            diagnostics=self._diagnostics(runs, used, law, x),
            residuals=log_residuals(L, law(**{var: x})),
            extra={
                "data_range": runs.ranges(),
                "rows": np.flatnonzero(used).tolist(),
                **(extrapolation_range(x, "fitted C") if var == "C" else {}),
            },
        )
        if self.n_bootstrap:
            fit = self._bootstrap(fit, runs, x_all, L_all, res)
        return fit

    # ------------------------------------------------------------------ internals
    def _fit_one(
        self,
        x: np.ndarray,
        L: np.ndarray,
        w: np.ndarray | None,
        start: LossPowerFit | None = None,
    ) -> LossPowerFit:
        return fit_loss_power(x, L, self.offset, self.objective, self.delta, w, start)

    def _derived(self, law: PowerLaw) -> dict[str, float]:
        out: dict[str, float] = {}
        if not self.offset and law.alpha > 0:
            # Kaplan's form (x_c / x)^alpha: x_c = A^(1/alpha), in the units of x
            out[f"{self.variable}_c"] = float(law.A ** (1.0 / law.alpha))
        return out

    def _diagnostics(
        self, runs: Any, used: np.ndarray, law: PowerLaw, x: np.ndarray
    ) -> list[Diagnostic]:
        var = self.variable
        out: list[Diagnostic] = []
        if not self.frontier:
            dominated = int((~frontier_mask(x, runs.L[used])).sum())
            if dominated:
                out.append(
                    Diagnostic(
                        code="NOT_A_FRONTIER",
                        severity="info",
                        message=(
                            f"{dominated} of {len(x)} rows have a higher loss than a row with "
                            f"no more {_DESCRIPTION[var]}; the law runs through all of them -- "
                            "use frontier=True to fit only the lower envelope"
                        ),
                        data={"dominated": dominated},
                    )
                )
        if not 0 < law.alpha < 1:
            out.append(
                Diagnostic(
                    code="EXPONENT_IMPLAUSIBLE",
                    severity="warning",
                    message=(
                        f"the fitted exponent alpha = {law.alpha:.3g} is outside (0, 1), where "
                        "published loss exponents lie (0.05 to 0.37)"
                    ),
                    data={"name": "alpha", "value": float(law.alpha)},
                )
            )
        if self.offset and law.E < 1e-3 * float(np.min(runs.L[used])):
            out.append(
                Diagnostic(
                    code="OFFSET_AT_ZERO",
                    severity="info",
                    message=(
                        f"the offset E went to {law.E:.3g}: the data show no floor; the pure "
                        "power law (offset=False) describes them as well"
                    ),
                )
            )
        return out

    def _bootstrap(
        self, fit: Fit, runs: Any, x_all: np.ndarray, L_all: np.ndarray, start: LossPowerFit
    ) -> Fit:
        weights = bootstrap_weights(runs.run_ids, len(runs), self.n_bootstrap, self.seed)
        samples: dict[str, list[float]] = {k: [] for k in (*fit.params, *fit.derived)}
        for w in weights:
            present = w > 0
            if self.frontier:
                mask = np.zeros_like(present)
                idx = np.flatnonzero(present)
                mask[idx[frontier_mask(x_all[idx], L_all[idx])]] = True
            else:
                mask = present
            try:
                res = self._fit_one(x_all[mask], L_all[mask], w[mask].astype(float), start)
            except FitError:
                for v in samples.values():
                    v.append(math.nan)
                continue
            law = res.law(self.variable)
            values = {"E": law.E, "A": law.A, "alpha": law.alpha, **self._derived(law)}
            for k, v in samples.items():
                v.append(values.get(k, math.nan))
        return bootstrap_summary(fit, samples, ("E", "A", "alpha"), self.level)
