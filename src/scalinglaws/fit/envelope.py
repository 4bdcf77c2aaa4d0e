"""Approach 1 of Hoffmann et al. 2022 (§3.1): the envelope of training curves.

Each run's loss curve is interpolated in log C (C = FLOPs spent so far).  At every one of
``n_grid`` log-spaced FLOP values (Hoffmann et al. used 1500) the run with the lowest loss is
found: that *envelope* gives, for each C, the most efficient model size N*(C), its tokens
D*(C) and the loss L*(C).  Then, by least squares in log-log and a loss power law:

    N*(C) = k_N · C^a,   D*(C) = k_D · C^b   (Hoffmann Table 2: a = 0.50, b = 0.50)
    L*(C) = E + A · C^(−alpha)               (the Fit's law: a PowerLaw of C)

Caveat on schedules.  Hoffmann et al. trained every model size at four horizons, each with a
cosine schedule decayed by 10× over *its own* length, so the envelope is mostly made of runs
near their end.  An intermediate checkpoint of a long cosine run has not decayed its learning
rate and overstates the loss it would have reached with a schedule matched to that compute
(Hoffmann et al. §3.1 and Fig. A1): an envelope made of such checkpoints favours small models
early and biases a.  The fit reports how much of its envelope comes from checkpoints well
before their run's end (``INTERMEDIATE_ENVELOPE``).

Where the smallest or largest model size is on the envelope, N* is censored (a smaller or
larger model might have done better); those FLOP values are left out of the fits by default
(``exclude_edge_sizes``), the analogue of Approach 2's edge minima.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scalinglaws.errors import DataError, FitError, QuantityError
from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP, bootstrap_summary, bootstrap_weights
from scalinglaws.fit.diagnostics import (
    exponent_diagnostics,
    extrapolation_range,
    log_residuals,
    loss_floor_diagnostics,
)
from scalinglaws.fit.powerlaw import (
    LossPowerFit,
    _check_delta,
    check_objective,
    fit_allocation_rule,
    fit_loss_power,
)
from scalinglaws.fit.result import Diagnostic, Fit
from scalinglaws.validate import check_common, whole_number

_LATE = 0.9  # a checkpoint at >= 90% of its run's final compute counts as "near the end"


# ============================================================================ the envelope
class Curves:
    """Each run's curve as arrays, ready to be interpolated on a FLOP grid.

    ``N[r]`` is run r's size, ``lnC[r]``, ``L[r]``, ``lnD[r]`` its checkpoints in increasing
    C (the loss optionally smoothed by a running median of ``smooth`` checkpoints).
    """

    def __init__(self, runs: Any, smooth: int = 1) -> None:
        df = runs.df
        order_col = "step" if "step" in df.columns else "C"
        self.run_ids: list[str] = []
        self.N: list[float] = []
        self.lnC: list[np.ndarray] = []
        self.L: list[np.ndarray] = []
        self.lnD: list[np.ndarray] = []
        self.single: list[str] = []
        for run_id, g in df.groupby("run_id", sort=True):
            g = g.sort_values([order_col, "C"], kind="stable")
            sizes = np.unique(g["N"].to_numpy(dtype=float))
            if sizes.size > 1:
                raise DataError(
                    f"run '{run_id}' of {runs.source} has {sizes.size} different N values "
                    f"({sizes[0]:.4g} ... {sizes[-1]:.4g}); every checkpoint of a run must have "
                    "the same parameter count -- map a run id column (columns='run_id=...')"
                )
            if len(g) < 2:
                self.single.append(str(run_id))
                continue
            c = g["C"].to_numpy(dtype=float)
            if np.any(np.diff(c) <= 0):
                raise DataError(
                    f"run '{run_id}' of {runs.source} has FLOPs C that do not increase from "
                    "one checkpoint to the next; C must be the compute spent so far"
                )
            loss = g["L"].to_numpy(dtype=float)
            if smooth > 1:
                loss = _running_median(loss, smooth)
            self.run_ids.append(str(run_id))
            self.N.append(float(sizes[0]))
            self.lnC.append(np.log(c))
            self.L.append(loss)
            self.lnD.append(np.log(g["D"].to_numpy(dtype=float)))

    def __len__(self) -> int:
        return len(self.run_ids)

    def on_grid(self, ln_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loss, ln D and progress (C / the run's final C) of every run at every grid
        point, linear in ln C between checkpoints; NaN outside a run's span."""
        shape = (len(self), ln_grid.size)
        loss, ln_d, progress = (
            np.full(shape, np.nan),
            np.full(shape, np.nan),
            np.full(shape, np.nan),
        )
        for r in range(len(self)):
            lnc = self.lnC[r]
            inside = (ln_grid >= lnc[0]) & (ln_grid <= lnc[-1])
            g = ln_grid[inside]
            loss[r, inside] = np.interp(g, lnc, self.L[r])
            ln_d[r, inside] = np.interp(g, lnc, self.lnD[r])
            progress[r, inside] = np.exp(g - lnc[-1])
        return loss, ln_d, progress


def _running_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running median (shrinking at the ends)."""
    half = window // 2
    return np.array([np.median(x[max(0, i - half) : i + half + 1]) for i in range(x.size)])


def lower_envelope(loss: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Index of the run with the lowest loss at each grid point (−1 where no run covers it),
    among the runs where ``present`` is true."""
    m = loss if present is None else np.where(present[:, None], loss, np.nan)
    covered = np.any(np.isfinite(m), axis=0)
    best = np.full(m.shape[1], -1, dtype=np.int64)
    if covered.any():
        best[covered] = np.nanargmin(m[:, covered], axis=0)
    return best


# ============================================================================ the estimator
class Approach1:
    """The envelope of training curves (Hoffmann et al. 2022, Approach 1).

    Parameters
    ----------
    n_grid: number of log-spaced FLOP values at which the envelope is taken (Hoffmann: 1500).
    c_range: (low, high) FLOPs of the grid; default the span of all checkpoints.
    smooth: running-median window (checkpoints) applied to each curve before interpolation
        (Hoffmann et al. smooth their curves; 1 = no smoothing).
    exclude_edge_sizes: leave out of the fits the FLOP values where the smallest or largest
        model is on the envelope (N* is censored there).
    loss_offset, objective, delta: the L*(C) fit (E + A·C^-alpha by Huber on log L).
    n_bootstrap, seed, level: bootstrap replicates resampling whole runs (curves, never
        single checkpoints) with ``seed``; interval level.
    """

    def __init__(
        self,
        n_grid: int = 1500,
        c_range: Sequence[float] | None = None,
        smooth: int = 1,
        exclude_edge_sizes: bool = True,
        loss_offset: bool = True,
        objective: str = "huber",
        delta: float = 1e-3,
        n_bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int = 0,
        level: float = 0.95,
    ) -> None:
        self.n_grid = whole_number(
            n_grid, "n_grid", 10, hint="FLOP values; Hoffmann et al. used 1500"
        )
        if c_range is not None:
            from scalinglaws.units import parse_quantity

            if isinstance(c_range, (str, bytes)) or len(c_range) != 2:
                raise QuantityError(f"c_range must be two FLOP values (low, high), got {c_range!r}")
            lo, hi = (parse_quantity(c, what="c_range") for c in c_range)
            if not lo < hi:
                raise QuantityError(
                    f"c_range must be (low, high) with low < high, got ({lo:.3g}, {hi:.3g})"
                )
            c_range = (lo, hi)
        self.c_range = c_range
        self.smooth = whole_number(smooth, "smooth", 1, hint="checkpoints; 1 = none")
        self.exclude_edge_sizes = bool(exclude_edge_sizes)
        self.loss_offset = bool(loss_offset)
        self.objective = check_objective(objective)
        self.delta = _check_delta(delta)
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)

    # ------------------------------------------------------------------ fit
    def fit(self, runs: Any) -> Fit:
        """Fit the envelope of the training curves in ``runs`` (anything
        :func:`scalinglaws.runs.as_runs` takes); see the class docstring."""
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        if not runs.has_curves:
            raise FitError(
                f"Approach 1 needs training curves (several checkpoints per run), but every run "
                f"of {runs.source} has a single row; give intermediate checkpoints with a run id "
                "or step column, or use Approach 2 for final losses"
            )
        curves = Curves(runs, self.smooth)
        if len(curves) < 2:
            raise FitError(
                f"Approach 1 needs at least two runs with curves, {runs.source} has {len(curves)}"
            )
        lo = min(c[0] for c in curves.lnC)
        hi = max(c[-1] for c in curves.lnC)
        if self.c_range is not None:
            lo_r, hi_r = math.log(self.c_range[0]), math.log(self.c_range[1])
            if lo_r >= hi or hi_r <= lo:
                raise FitError(
                    f"c_range ({self.c_range[0]:.3g}, {self.c_range[1]:.3g}) FLOPs does not "
                    f"overlap the curves of {runs.source} ({math.exp(lo):.3g} to "
                    f"{math.exp(hi):.3g} FLOPs)"
                )
            lo, hi = max(lo, lo_r), min(hi, hi_r)
        ln_grid = np.linspace(lo, hi, self.n_grid)
        loss, ln_d, progress = curves.on_grid(ln_grid)
        sizes = np.asarray(curves.N)
        present = np.ones(len(curves), dtype=bool)

        env = self._envelope(loss, ln_d, sizes, present)
        if env is None:
            raise FitError(self._too_few_message(loss, sizes, runs.source))
        best, used, edge, N_env, D_env, L_env = env
        C_grid = np.exp(ln_grid)
        derived = fit_allocation_rule(C_grid[used], N_env[used], D_env[used])
        res = self._loss_law(C_grid[used], L_env[used], None)
        law = res.law("C")
        diagnostics = self._diagnostics(curves, best, used, edge, progress, derived)
        ids = np.asarray(curves.run_ids, dtype=object)
        diagnostics += loss_floor_diagnostics(law.E, L_env[used], self.loss_offset)
        fit = Fit(
            law=law,
            params={"E": law.E, "A": law.A, "alpha": law.alpha},
            approach="1",
            level=self.level,
            derived=derived,
            diagnostics=diagnostics,
            method={
                "envelope": f"lowest loss across {len(curves)} runs at {self.n_grid} log-spaced "
                f"FLOP values ({C_grid[0]:.3g} to {C_grid[-1]:.3g}), curves linear in ln C"
                + (f", running median of {self.smooth}" if self.smooth > 1 else ""),
                "fitted points": f"{int(used.sum())} of {self.n_grid} grid points"
                + (
                    " (smallest and largest model sizes on the envelope left out)"
                    if self.exclude_edge_sizes
                    else ""
                ),
                "exponents": "least squares on log N* = log k_N + a·log C (and D*)",
                "loss": ("E + A·C^-alpha" if self.loss_offset else "A·C^-alpha")
                + f" fitted to the envelope by {self.objective} on log L",
            },
            data=runs.describe(),
            converged=res.converged,
            message=res.message,
            residuals=log_residuals(L_env[used], law(C=C_grid[used])),
            extra={
                "data_range": runs.ranges(),
                "envelope": {
                    "C": C_grid.tolist(),
                    "N": N_env.tolist(),
                    "D": D_env.tolist(),
                    "L": L_env.tolist(),
                    "run_id": [ids[b] if b >= 0 else None for b in best],
                    "used": used.tolist(),
                },
                **extrapolation_range(C_grid[used], "FLOP value of the envelope"),
            },
        )
        if self.n_bootstrap:
            fit = self._bootstrap(fit, curves, loss, ln_d, sizes, C_grid, res)
        return fit

    # ------------------------------------------------------------------ internals
    def _envelope(
        self, loss: np.ndarray, ln_d: np.ndarray, sizes: np.ndarray, present: np.ndarray
    ) -> tuple[np.ndarray, ...] | None:
        """(best run, used mask, edge mask, N*, D*, L*) on the grid, or None when fewer
        than two model sizes remain on the fitted part of the envelope.  ``edge`` marks the
        grid points where the smallest or largest model present is on the envelope."""
        best = lower_envelope(loss, present)
        covered = best >= 0
        cols = np.flatnonzero(covered)
        N_env = np.full(best.size, np.nan)
        D_env = np.full(best.size, np.nan)
        L_env = np.full(best.size, np.nan)
        N_env[cols] = sizes[best[cols]]
        D_env[cols] = np.exp(ln_d[best[cols], cols])
        L_env[cols] = loss[best[cols], cols]
        here = sizes[present]
        edge = covered & ((N_env <= here.min()) | (N_env >= here.max()))
        used = covered & ~edge if self.exclude_edge_sizes else covered
        if np.unique(N_env[used]).size < 2:
            return None
        return best, used, edge, N_env, D_env, L_env

    def _too_few_message(self, loss: np.ndarray, sizes: np.ndarray, source: str) -> str:
        on_env = np.unique(sizes[lower_envelope(loss)[lower_envelope(loss) >= 0]])
        shown = ", ".join(f"{n:.3g}" for n in on_env)
        if self.exclude_edge_sizes:
            return (
                f"too few model sizes on the envelope of {source} to fit N* ∝ C^a: sizes "
                f"{shown} are on it, and without the smallest and largest model "
                f"({sizes.min():.3g}, {sizes.max():.3g}, whose N* is censored) fewer than 2 "
                "remain; add model sizes or set exclude_edge_sizes=False (biased)"
            )
        return (
            f"too few model sizes on the envelope of {source} to fit N* ∝ C^a: only {shown}; "
            "at least 2 are needed"
        )

    def _loss_law(self, C: np.ndarray, L: np.ndarray, start: LossPowerFit | None) -> Any:
        """L*(C) = E + A·C^-alpha fitted to the envelope's losses (raises FitError)."""
        return fit_loss_power(C, L, self.loss_offset, self.objective, self.delta, start=start)

    def _diagnostics(
        self,
        curves: Curves,
        best: np.ndarray,
        used: np.ndarray,
        edge: np.ndarray,
        progress: np.ndarray,
        derived: dict[str, float],
    ) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        if curves.single:
            out.append(
                Diagnostic(
                    "SINGLE_POINT_RUNS",
                    "warning",
                    f"{len(curves.single)} runs have a single checkpoint and cannot be "
                    f"interpolated; they were left out (e.g. '{curves.single[0]}')",
                    {"runs": curves.single},
                )
            )
        covered = best >= 0
        if edge.any():
            out.append(
                Diagnostic(
                    "EDGE_MINIMUM",
                    "info" if self.exclude_edge_sizes else "warning",
                    f"the smallest or largest model size is on the envelope at "
                    f"{int(edge.sum())} of {int(covered.sum())} FLOP values, where N* is "
                    "censored; "
                    + (
                        "they were left out of the fits"
                        if self.exclude_edge_sizes
                        else "they were kept (exclude_edge_sizes=False) and bias a"
                    ),
                    {"grid_points": int(edge.sum())},
                )
            )
        cols = np.flatnonzero(used)
        prog = progress[best[cols], cols]
        early = float(np.mean(prog < _LATE))
        if early > 0.5:
            out.append(
                Diagnostic(
                    "INTERMEDIATE_ENVELOPE",
                    "warning",
                    f"{100 * early:.0f}% of the fitted envelope comes from checkpoints before "
                    f"{100 * _LATE:.0f}% of their run's compute; with a cosine (or any decaying) "
                    "schedule those losses overstate what a run of that length would reach -- "
                    "Hoffmann et al. trained each size at several horizons, each schedule "
                    "matched to its length",
                    {"fraction": early},
                )
            )
        out += exponent_diagnostics({"a": derived["a"], "b": derived["b"]})
        return out

    def _bootstrap(
        self,
        fit: Fit,
        curves: Curves,
        loss: np.ndarray,
        ln_d: np.ndarray,
        sizes: np.ndarray,
        C_grid: np.ndarray,
        start: LossPowerFit,
    ) -> Fit:
        # one "point" per run: a replicate draws whole curves with replacement; a curve
        # drawn twice changes nothing in a minimum, so a replicate is the set drawn
        weights = bootstrap_weights(None, len(curves), self.n_bootstrap, self.seed)
        samples: dict[str, list[float]] = {k: [] for k in (*fit.params, *fit.derived)}
        for w in weights:
            values: dict[str, float] = {}
            env = self._envelope(loss, ln_d, sizes, w > 0)
            if env is not None:
                _, used, _, N_env, D_env, L_env = env
                values = fit_allocation_rule(C_grid[used], N_env[used], D_env[used])
                try:
                    law = self._loss_law(C_grid[used], L_env[used], start).law("C")
                    values.update(E=law.E, A=law.A, alpha=law.alpha)
                except FitError:  # the replicate keeps its N* and D* rules
                    pass
            for k, v in samples.items():
                v.append(values.get(k, math.nan))
        return bootstrap_summary(fit, samples, ("E", "A", "alpha"), self.level)
