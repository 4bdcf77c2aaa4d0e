"""Fit a loss-curve law to one training curve: Huber (δ = 1e-3) on log loss, from several
starts.

The objective is Σ_i ρ_δ(log L_i − log L̂_i) with ρ the project's Huber loss
(:func:`scalinglaws.fit.objectives.huber`, δ = 1e-3 as Luo et al. 2025 fit the multi-power
law).  It is minimised by ``scipy.optimize.least_squares(loss="huber", f_scale=δ)``, whose
robust cost ½δ²·ρ̃((r/δ)²) is exactly that sum, with the laws' analytic Jacobians and bounds
that keep every amplitude and exponent positive (the project's batched L-BFGS works on
unbounded coordinates and the N, D forms of :mod:`scalinglaws.fit.objectives`; a 7-parameter
law with bounds is least_squares' ground).

Starts: each law is linear in its amplitudes (L0, A, B; L0, A, C; E, A) once its exponents
are fixed, so a grid of exponents is scored by linear least squares on L and the best
``n_starts`` feasible ones (amplitudes ≥ 0, L0 below every observed loss) start the robust fit.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.curves.laws import (
    LAW_CLASSES,
    MomentumLaw,
    MultiPowerLaw,
    ScheduleTerms,
    StepPowerLaw,
    check_law,
    concat_terms,
    schedule_terms,
)
from scalinglaws.errors import DataError, FitError
from scalinglaws.fit.objectives import huber

DELTA = 1e-3
SCHEMA = "scalinglaws.curvefit/1"

_GRIDS = {
    "multi-power": {
        "alpha": (0.2, 0.4, 0.7),
        "C": (0.1, 1.0, 10.0),  # times 1/median(η^-γ·S): C·x of order 0.1-10
        "beta": (0.3, 0.6, 1.2),
        "gamma": (0.2, 0.5, 0.8),
    },
    "momentum": {"alpha": (0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5)},
    "power": {"alpha": (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5)},
}


@dataclass(frozen=True)
class CurveFit:
    """A fitted loss curve: ``law`` (multi-power, momentum or power), ``params`` in the
    papers' names, ``objective`` the summed Huber loss of log L at the optimum, ``converged``
    and ``message`` from the optimiser, and the evidence -- the fitted ``steps``, observed
    ``loss`` and ``residuals`` (log L − log L̂) -- plus the ``schedule`` text and ``warmup``
    the law was fitted with and ``x_name`` (step or tokens, for the power law)."""

    law: str
    params: dict[str, float]
    objective: float
    converged: bool
    message: str
    steps: np.ndarray
    loss: np.ndarray
    residuals: np.ndarray
    schedule: str | None = None
    warmup: int = 0
    x_name: str = "step"
    run_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> MultiPowerLaw | MomentumLaw | StepPowerLaw:
        """The law as a frozen dataclass (evaluate with ``.loss(terms)``)."""
        return LAW_CLASSES[self.law](**self.params)

    @property
    def n_points(self) -> int:
        return int(self.steps.size)

    def predict(
        self,
        steps: np.ndarray,
        lr: np.ndarray | None = None,
        warmup: int | None = None,
        x: np.ndarray | None = None,
    ) -> np.ndarray:
        """L̂ at ``steps`` under the schedule ``lr`` (the fitted one's warmup unless given);
        the power law uses ``x`` (default: steps)."""
        if self.law != "power" and lr is None:
            raise DataError(f"the {self.law} law predicts from a schedule: give lr")
        w = self.warmup if warmup is None else int(warmup)
        terms = schedule_terms(steps, None if self.law == "power" else lr, w, x)
        return self.model.loss(terms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "law": self.law,
            "run_id": self.run_id,
            "params": dict(self.params),
            "objective": self.objective,
            "converged": self.converged,
            "message": self.message,
            "n_points": self.n_points,
            "schedule": self.schedule,
            "warmup": self.warmup,
            "x_name": self.x_name,
            "rms_log_residual": float(np.sqrt(np.mean(self.residuals**2)))
            if self.residuals.size
            else None,
            "steps": self.steps.tolist(),
            "loss": self.loss.tolist(),
            "residuals": self.residuals.tolist(),
            "extra": self.extra,
        }

    def to_json(self, path: Any = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CurveFit:
        return cls(
            law=check_law(d["law"]),
            params={k: float(v) for k, v in d["params"].items()},
            objective=float(d["objective"]),
            converged=bool(d["converged"]),
            message=str(d["message"]),
            steps=np.asarray(d["steps"], dtype=float),
            loss=np.asarray(d["loss"], dtype=float),
            residuals=np.asarray(d["residuals"], dtype=float),
            schedule=d.get("schedule"),
            warmup=int(d.get("warmup", 0)),
            x_name=str(d.get("x_name", "step")),
            run_id=d.get("run_id"),
            extra=dict(d.get("extra", {})),
        )


def _bounds(law: str, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = float(np.min(L)) * (1 - 1e-9)
    if law == "multi-power":
        return (
            np.array([0.0, 0.0, 1e-3, 0.0, 1e-8, 1e-3, 0.0]),
            np.array([np.inf, np.inf, 5.0, np.inf, np.inf, 5.0, 2.0]),
        )
    if law == "momentum":
        return np.array([0.0, 0.0, 1e-3, -np.inf]), np.array([np.inf, np.inf, 5.0, np.inf])
    return np.array([0.0, 0.0, 1e-3]), np.array([top, np.inf, 5.0])


def _median_x(terms: ScheduleTerms, gamma: float) -> float:
    """The median of η_k^(−γ)·S_k(t) over the (drop, point) pairs where it is defined."""
    with np.errstate(all="ignore"):
        x = (np.maximum(terms.eta, 1e-300)[None, :] ** (-gamma) * terms.S)[terms.mask]
    x = x[x > 0]
    return float(np.median(x)) if x.size else 1.0


def _linear_starts(
    law: str, terms: ScheduleTerms, L: np.ndarray, n_starts: int
) -> list[np.ndarray]:
    """Exponent grid x linear least squares in the amplitudes; the best feasible starts."""
    from scipy.optimize import lsq_linear

    grid = _GRIDS[law]
    names = list(grid)
    scored: list[tuple[float, np.ndarray]] = []
    top = float(np.min(L))
    for combo in itertools.product(*(grid[n] for n in names)):
        g = dict(zip(names, combo, strict=True))
        if law == "multi-power":
            g["C"] = g["C"] / _median_x(terms, g["gamma"])
            unit = MultiPowerLaw(0.0, 1.0, g["alpha"], 1.0, g["C"], g["beta"], g["gamma"])
            _, J = unit.loss_and_jacobian(terms)
            X = np.column_stack([np.ones(L.size), J[:, 1], J[:, 3]])  # 1, u, −Σ d G
        elif law == "momentum":
            u = terms.area ** (-g["alpha"])
            X = np.column_stack([np.ones(L.size), u, -terms.S2])
        else:
            X = np.column_stack([np.ones(L.size), terms.x ** (-g["alpha"])])
        lin_hi = np.full(X.shape[1], np.inf)
        if law == "power":  # L0 of the schedule laws may lie above the annealed losses
            lin_hi[0] = 0.999 * top
        lin_lo = np.zeros(X.shape[1])
        if law == "momentum":
            lin_lo[2] = -np.inf
        if not np.all(np.isfinite(X)):
            continue
        try:
            coef = lsq_linear(X, L, bounds=(lin_lo, lin_hi)).x
        except (ValueError, np.linalg.LinAlgError):
            continue
        sse = float(np.sum((X @ coef - L) ** 2))
        # an amplitude at its bound 0 would start a log coordinate at -inf: start it where
        # its term moves the loss by 1% of the curve's range instead
        span = max(float(np.ptp(L)), 1e-3 * float(np.mean(L)))
        for j in range(1, X.shape[1]):
            size = float(np.max(np.abs(X[:, j]))) or 1.0
            if not (law == "momentum" and j == 2):
                coef[j] = max(coef[j], 0.01 * span / size)
        if law == "multi-power":
            theta = np.array([coef[0], coef[1], g["alpha"], coef[2], g["C"], g["beta"], g["gamma"]])
        elif law == "momentum":
            theta = np.array([coef[0], coef[1], g["alpha"], coef[2]])
        else:
            theta = np.array([coef[0], coef[1], g["alpha"]])
        scored.append((sse, theta))
    scored.sort(key=lambda s: s[0])
    return [theta for _, theta in scored[:n_starts]]


_LOG = {"multi-power": (1, 3, 4), "momentum": (1,), "power": (1,)}


def _solve(
    law: str,
    terms: ScheduleTerms,
    L: np.ndarray,
    starts: list[np.ndarray],
    short_nfev: int = 40,
    max_nfev: int = 400,
    b_max: float | None = None,
) -> tuple[np.ndarray, float, bool, str]:
    """Minimise the summed Huber loss from each start; amplitudes A, B, C are optimised as
    their logarithms (scales of 1e-1 to 1e3 side by side otherwise stall the trust region)."""
    from scipy.optimize import least_squares

    cls = LAW_CLASSES[law]
    logL = np.log(L)
    lo, hi = _bounds(law, L)
    idx = list(_LOG[law])
    lo = lo.copy()
    hi = hi.copy()
    lo[idx], hi[idx] = -60.0, 60.0
    if law == "multi-power" and b_max is not None and np.isfinite(b_max) and b_max > 0:
        hi[3] = math.log(b_max)
    cache: dict[str, Any] = {}

    def natural(z: np.ndarray) -> np.ndarray:
        theta = np.array(z, dtype=float)
        theta[idx] = np.exp(theta[idx])
        return theta

    def evaluate(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = z.tobytes()
        if cache.get("key") != key:
            theta = natural(z)
            Lhat, J = cls(*theta).loss_and_jacobian(terms)
            J = J.copy()
            J[:, idx] *= theta[idx]
            cache.update(key=key, value=(Lhat, J))
        return cache["value"]

    def resid(z: np.ndarray) -> np.ndarray:
        Lhat, _ = evaluate(z)
        with np.errstate(all="ignore"):
            r = logL - np.log(Lhat)
        return np.where(np.isfinite(r), r, 1e3)

    def jac(z: np.ndarray) -> np.ndarray:
        Lhat, J = evaluate(z)
        with np.errstate(all="ignore"):
            out = -J / Lhat[:, None]
        return np.where(np.isfinite(out), out, 0.0)

    def run(z0: np.ndarray, max_nfev: int) -> Any:
        try:
            return least_squares(
                resid,
                z0,
                jac=jac,
                bounds=(lo, hi),
                loss="huber",
                f_scale=DELTA,
                ftol=1e-12,
                xtol=1e-12,
                gtol=1e-12,
                max_nfev=max_nfev,
            )
        except (ValueError, np.linalg.LinAlgError):
            return None

    finite_lo, finite_hi = np.isfinite(lo), np.isfinite(hi)
    inner_lo, inner_hi = lo.copy(), hi.copy()
    inner_lo[finite_lo] += 1e-9 * (np.abs(lo[finite_lo]) + 1)
    inner_hi[finite_hi] -= 1e-9 * (np.abs(hi[finite_hi]) + 1)
    best = None
    with np.errstate(all="ignore"):
        # a short run from every start, then the best one run to convergence
        ends = []
        for x0 in starts:
            z0 = np.where(np.isfinite(x0), x0, 0.0).astype(float)
            z0[idx] = np.log(np.maximum(z0[idx], 1e-12))
            res = run(np.clip(z0, inner_lo, inner_hi), short_nfev if len(starts) > 1 else max_nfev)
            if res is not None and np.isfinite(res.cost):
                ends.append(res)
        if len(starts) > 1 and ends:
            first = min(ends, key=lambda r: r.cost)
            if first.status == 0:  # not finished within the short run
                final = run(first.x, max_nfev)
                ends = [final if final is not None else first]
            else:
                ends = [first]
        for res in ends:
            r = resid(res.x)
            value = float(np.sum(huber(r, DELTA)))
            if math.isfinite(value) and (best is None or value < best[1]):
                best = (natural(res.x), value, bool(res.status > 0), str(res.message))
    if best is None:
        raise FitError(f"the {law} law found no finite optimum from any start")
    return best


@dataclass(frozen=True)
class Curve:
    """One training curve: ``steps`` (1-based), ``loss``, the schedule ``lr`` (``lr[i]`` the
    learning rate of step i + 1, at least max(steps) long; None for the power law), its
    ``warmup`` steps, and ``x`` the power law's variable (tokens; default the steps)."""

    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray | None = None
    warmup: int = 0
    x: np.ndarray | None = None


def fit_curve(
    steps: np.ndarray,
    loss: np.ndarray,
    lr: np.ndarray | None = None,
    law: str = "multi-power",
    warmup: int = 0,
    x: np.ndarray | None = None,
    n_starts: int = 8,
    schedule: str | None = None,
    x_name: str = "step",
    run_id: str | None = None,
) -> CurveFit:
    """Fit ``law`` ("multi-power", "momentum", "power") to the curve ``loss`` at ``steps``
    (1-based), under the schedule ``lr`` (``lr[i]`` the learning rate of step i + 1, at least
    max(steps) long; needed by all but "power") with ``warmup`` warmup steps.  Points inside
    the warmup (step ≤ ``warmup``) are left out, as Luo et al. 2025 do.  The power law uses
    ``x`` (default ``steps``; tokens when given).  Returns a :class:`CurveFit`."""
    return fit_curves(
        [Curve(np.asarray(steps), np.asarray(loss), lr, int(warmup), x)],
        law=law,
        n_starts=n_starts,
        schedule=schedule,
        x_name=x_name,
        run_id=run_id,
    )


def fit_curves(
    curves: list[Curve],
    law: str = "multi-power",
    n_starts: int = 8,
    schedule: str | None = None,
    x_name: str = "step",
    run_id: str | None = None,
) -> CurveFit:
    """Fit one set of parameters of ``law`` to several :class:`Curve` s of the same model
    under different schedules (Luo et al. 2025 fit a constant and a cosine curve together);
    see :func:`fit_curve`.  The record's ``steps``/``loss``/``residuals`` are the curves'
    points after their warmups, concatenated."""
    law = check_law(law)
    parts, steps_all, loss_all = [], [], []
    for c in curves:
        steps = np.asarray(c.steps, dtype=float)
        loss = np.asarray(c.loss, dtype=float)
        if steps.shape != loss.shape or steps.ndim != 1:
            raise DataError("steps and loss must be 1-D arrays of the same length")
        if not (np.all(np.isfinite(loss)) and np.all(loss > 0)):
            raise DataError("every loss must be a finite number > 0")
        if law != "power" and c.lr is None:
            raise DataError(
                f"the {law} law needs the learning-rate schedule: give a schedule or an lr "
                "column (or use the power law)"
            )
        keep = steps > c.warmup
        xs = None if c.x is None else np.asarray(c.x, dtype=float)[keep]
        parts.append(
            schedule_terms(
                steps[keep].astype(np.int64), None if law == "power" else c.lr, c.warmup, xs
            )
        )
        steps_all.append(steps[keep])
        loss_all.append(loss[keep])
    terms = concat_terms(parts)
    steps_k, loss_k = np.concatenate(steps_all), np.concatenate(loss_all)
    n_par = len(LAW_CLASSES[law].names)
    if steps_k.size < n_par + 1:
        raise DataError(
            f"the {law} law has {n_par} parameters and needs at least {n_par + 1} points after "
            f"the warmup, got {steps_k.size}"
        )
    b_max = _b_max(law, curves, loss_k)
    starts = _linear_starts(law, terms, loss_k, n_starts)
    if b_max is not None:
        for st in starts:
            st[3] = min(st[3], 0.5 * b_max)
    theta, value, ok, message = _solve(law, terms, loss_k, starts, b_max=b_max)
    model = LAW_CLASSES[law](*theta)
    resid = np.log(loss_k) - np.log(model.loss(terms))
    extra = {} if b_max is None else {"B_max": b_max}
    return CurveFit(
        law=law,
        params=model.params,
        objective=value,
        converged=ok,
        message=f"best of {len(starts)} least_squares starts: {message}",
        steps=steps_k,
        loss=loss_k,
        residuals=resid,
        schedule=schedule,
        warmup=int(curves[0].warmup),
        x_name=x_name,
        run_id=run_id,
        extra=extra,
    )


def refit(fit: CurveFit, terms: ScheduleTerms, loss: np.ndarray) -> np.ndarray:
    """Parameters of ``fit.law`` refitted to ``loss`` at ``terms`` from ``fit``'s optimum
    (one start; for bootstrap replicates)."""
    start = np.array([fit.params[n] for n in LAW_CLASSES[fit.law].names])
    b_max = fit.extra.get("B_max")
    theta, *_ = _solve(fit.law, terms, loss, [start], b_max=b_max)
    return theta


def _b_max(law: str, curves: list[Curve], loss: np.ndarray) -> float | None:
    """The multi-power law's cap on B: the annealing bonus LD ≤ B·Σ_k (η_{k−1} − η_k) over the
    whole schedule may not exceed the lowest observed loss, so B ≤ min L / (η_peak − η_min)
    (without it a fit on a curve's first part can trade C → 0 against B → ∞ and extrapolate
    to a negative loss)."""
    if law != "multi-power":
        return None
    drops = [
        float(np.max(c.lr[c.warmup - 1 if c.warmup else 0 :]) - np.min(c.lr[c.warmup :]))
        for c in curves
        if c.lr is not None and c.lr.size > c.warmup
    ]
    drop = max(drops, default=0.0)
    return float(np.min(loss)) / drop if drop > 0 else None
