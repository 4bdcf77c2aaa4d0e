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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from scalinglaws.errors import DomainError, FitError, UnknownNameError, did_you_mean
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.ensemble import (  # noqa: F401 - the ensembles are re-exported here
    AutoEnsembleLaw,
    EnsembleLaw,
    FrontierShapeLaw,
)
from scalinglaws.laws.kaplan import KaplanNDLaw


# ============================================================================ optimum
def optimum(law: Law, C: float, k: float = 6.0) -> tuple[float, float, float]:
    """The compute-optimal (N*, D*, L*) of a law of (N, D) at budget C with C = k·N·D, by the
    allocation engine (:func:`scalinglaws.allocation.allocate`: closed forms for Chinchilla,
    Kaplan's L(N, D) and :class:`FrontierShapeLaw`, numeric for an ensemble); raises
    :class:`FitError` where the law has no finite optimum."""
    from scalinglaws.allocation import allocate

    c = float(C)
    try:
        with np.errstate(all="ignore"):
            a = allocate(law, C=c, flops_per_token=k)
    except DomainError as exc:
        raise FitError(
            f"law '{law.name}' has no compute-optimal size at C = {c:.3g}: {exc}"
        ) from None
    n = float(a.N)
    if not (math.isfinite(n) and n > 0):
        raise FitError(f"law '{law.name}' has no finite compute-optimal size at C = {c:.3g}")
    return n, float(a.D), float(a.L)


def optimal_sizes(law: Law, C: np.ndarray, k: float = 6.0) -> np.ndarray:
    """N*(C) of a law of (N, D) for an array of budgets, with C = k·N·D (see :func:`optimum`)."""
    from scalinglaws.allocation import allocate

    c = np.asarray(C, dtype=float).ravel()
    try:
        with np.errstate(all="ignore"):
            return np.atleast_1d(np.asarray(allocate(law, C=c, flops_per_token=k).N, dtype=float))
    except DomainError as exc:
        raise FitError(f"law '{law.name}' has no compute-optimal size: {exc}") from None


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

    def _objective(
        self, data: FitData, weights: np.ndarray | None = None, rows: np.ndarray | None = None
    ) -> Any:
        """The batched objective on ``data`` (only its rows ``rows``, if given, in the whole
        table's centred coordinates)."""
        from scalinglaws.fit.objectives import BatchObjective, ChinchillaForm, KaplanForm

        mN, mD = self._centre(data)
        N, D, L = (
            (data.N, data.D, data.L) if rows is None else (data.N[rows], data.D[rows], data.L[rows])
        )
        form_cls = ChinchillaForm if self.form_name == "chinchilla" else KaplanForm
        form = form_cls(np.log(N) - mN, np.log(D) - mD)
        return BatchObjective(form, self.loss, L, weights)

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
            theta = self._bounded_search(data, grid, theta, bounds)
        return self._law_or_fail(theta, data)

    def _bounded_search(
        self, data: FitData, grid: np.ndarray, theta: np.ndarray, bounds: list
    ) -> np.ndarray:
        """The optimum within ``bounds`` when the unconstrained one, ``theta``, lies outside.

        The coordinates that ``theta`` violates are pinned at the bound they cross and every
        start of the grid (clipped into the bounds) is optimised over the others by the same
        batched L-BFGS -- on the stratified subsample of the unconstrained search when the
        table has more than :data:`~scalinglaws.fit.parametric.SEARCH_ROWS` rows; the best
        distinct end points and the clipped ``theta`` are then polished by L-BFGS-B within
        all the bounds, on every row, free to leave the pinned bound."""
        from scalinglaws.fit.optim import minimize_batch
        from scalinglaws.fit.parametric import SEARCH_ROWS, _distinct_best, stratified_subsample

        sub = None
        if len(data) > SEARCH_ROWS:
            sub = stratified_subsample(data.N, data.D, SEARCH_ROWS, self.engine.seed)
        obj = self._objective(data)
        searched = obj if sub is None else self._objective(data, rows=sub)

        lo, hi = _bound_arrays(bounds)
        at = np.clip(theta, lo, hi)
        free = (theta >= lo) & (theta <= hi)
        starts = np.clip(grid, lo, hi)
        starts[:, ~free] = at[~free]
        row0 = np.zeros(len(starts), dtype=int)

        def pinned(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            full = np.repeat(at[None, :], len(x), axis=0)
            full[:, free] = x
            v, g = searched(full, row0[rows])
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
