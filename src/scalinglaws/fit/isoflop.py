"""Approach 2 of Hoffmann et al. 2022 (§3.2): IsoFLOP profiles.

For each FLOP budget C a team trains several model sizes N, each on D = C/(k·N) tokens.  The
final loss against log N along one budget is a valley; a parabola (Hoffmann et al.) -- or a
polynomial of chosen degree -- fitted to it gives the compute-optimal N*(C) at its minimum,
D*(C) = C/(k·N*) and the loss there L*(C).  Across budgets:

    N*(C) = k_N · C^a,    D*(C) = k_D · C^b     (least squares in log-log; Hoffmann Table 2
                                                  prints a = 0.49, b = 0.51 for Approach 2)
    L*(C) = E + A · C^(−alpha)                  (the Fit's law: a PowerLaw of C)

Budgets: runs are grouped by C exactly, or -- when C is only approximately on a budget, as
in points read off a figure -- binned in log C: a bin collects the runs within a factor
(1 + ``bin_tolerance``) of its centre (centres found by mean shift on log C, densest first,
or given as ``isoflop_budgets``).  A minimum at the edge of a profile (the lowest run is the
smallest or largest model, or the polynomial's minimum lies outside the sampled sizes) is
flagged ``EDGE_MINIMUM``: it is censored, and biases a towards the sampled range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalinglaws.errors import FitError, QuantityError, UnknownNameError, did_you_mean
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

_EXACT = 1e-9  # relative difference below which two budgets are "the same" C


# ============================================================================ budgets
def assign_budgets(
    C: Sequence[float] | np.ndarray,
    tolerance: float = 0.05,
    centers: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Group FLOP values into budgets; returns ``(labels, centres)``.

    ``labels[i]`` is the index into ``centres`` of point i's budget, or −1 when it is within
    a factor (1 + ``tolerance``) of no centre.  With ``centers`` given, each point joins the
    nearest centre in log C within that factor.  Otherwise centres are found by mean shift
    in log C: the point with the most neighbours within ±log(1 + tolerance) seeds a bin, the
    bin's centre moves to the mean log C of its members until stable, its members leave, and
    the next densest point seeds the next bin.  ``tolerance=0`` groups identical C only.
    Centres are returned as the geometric mean C of their members (or as given).
    """
    lc = np.log(np.asarray(C, dtype=float))
    h = math.log1p(max(float(tolerance), _EXACT))
    labels = np.full(lc.size, -1, dtype=np.int64)
    if centers is not None:
        lcen = np.log(np.asarray(centers, dtype=float))
        dist = np.abs(lc[:, None] - lcen[None, :])
        nearest = np.argmin(dist, axis=1)
        ok = dist[np.arange(lc.size), nearest] <= h
        labels[ok] = nearest[ok]
        return labels, np.asarray(centers, dtype=float)
    remaining = np.argsort(lc, kind="stable")  # kept sorted by ln C
    out_centres: list[float] = []
    while remaining.size:
        sub = lc[remaining]
        counts = np.searchsorted(sub, sub + h, "right") - np.searchsorted(sub, sub - h, "left")
        centre = float(sub[int(np.argmax(counts))])  # densest; the smallest C on ties
        for _ in range(50):
            lo, hi = (
                np.searchsorted(sub, centre - h, "left"),
                np.searchsorted(sub, centre + h, "right"),
            )
            new = float(sub[lo:hi].mean())
            if abs(new - centre) < 1e-12:
                break
            centre = new
        lo, hi = np.searchsorted(sub, centre - h, "left"), np.searchsorted(sub, centre + h, "right")
        labels[remaining[lo:hi]] = len(out_centres)
        out_centres.append(float(np.exp(sub[lo:hi].mean())))
        remaining = np.concatenate([remaining[:lo], remaining[hi:]])
    order = np.argsort(out_centres)
    relabel = np.empty_like(order)
    relabel[order] = np.arange(order.size)
    labels = np.where(labels >= 0, relabel[np.maximum(labels, 0)], -1)
    return labels, np.asarray(out_centres)[order]


# ============================================================================ one profile
PROFILE_METHODS: tuple[str, ...] = ("poly", "akima")
_AKIMA_DENSITY = 25  # grid points per interval between sampled sizes (Porian et al. 2024)


@dataclass(frozen=True)
class ProfileMinimum:
    """The minimum of one IsoFLOP profile: N*, L* and whether it is interior."""

    N_opt: float
    L_opt: float
    interior: bool
    fitted_inside: bool
    lowest_at_edge: bool
    coef: tuple[float, ...]  # "poly": polynomial in ln(N / N_ref), highest degree first
    N_ref: float
    n_points: int


def profile_minimum(
    N: np.ndarray,
    L: np.ndarray,
    degree: int = 2,
    weights: np.ndarray | None = None,
    method: str = "poly",
    window: float | None = None,
) -> ProfileMinimum:
    """The compute-optimal size of one IsoFLOP profile (losses L of sizes N at one budget).

    ``method="poly"``: fit L = p(ln N), p a polynomial of ``degree``, by weighted least
    squares, and take its lowest local minimum inside [min N, max N] or else the lower
    endpoint (Hoffmann et al. 2022 §3.2 fit a parabola to each profile).
    ``method="akima"``: interpolate ln L against ln N with an Akima spline and take its
    minimum on a grid of 25 points per interval between sizes, refined by a bounded scalar
    search (Porian et al. 2024, ``analysis.interpolation``).  Repeated sizes are averaged
    (weighted).  ``window`` keeps only the sizes within that factor of the size with the
    lowest loss (a local fit of a wide profile, whose far sides a parabola cannot follow).

    The minimum is *interior* when it lies strictly inside the sizes used and the size with
    the lowest loss is neither the smallest nor the largest of them.
    """
    w = np.ones(len(N)) if weights is None else np.asarray(weights, dtype=float)
    keep = w > 0
    lnN, L, w = np.log(np.asarray(N, dtype=float)[keep]), np.asarray(L, float)[keep], w[keep]
    sizes, inv = np.unique(np.round(lnN, 12), return_inverse=True)
    mean_L = np.bincount(inv, weights=w * L) / np.bincount(inv, weights=w)
    if window is not None:
        centre = sizes[int(np.argmin(mean_L))]
        near = np.abs(sizes - centre) <= math.log(window) + 1e-12
        inside = near[inv]
        lnN, L, w = lnN[inside], L[inside], w[inside]
        sizes, inv = np.unique(np.round(lnN, 12), return_inverse=True)
        mean_L = np.bincount(inv, weights=w * L) / np.bincount(inv, weights=w)
    need = degree + 1 if method == "poly" else 3
    if sizes.size < need:
        raise FitError(
            f"an IsoFLOP profile fitted by {method!r} needs at least {need} distinct model "
            f"sizes, got {sizes.size}"
        )
    low_i = int(np.argmin(mean_L))
    lowest_at_edge = low_i in (0, sizes.size - 1)
    ref = float(np.average(lnN, weights=w))
    lo, hi = float(sizes[0]) - ref, float(sizes[-1]) - ref
    if method == "akima":
        u_opt, L_opt, inside = _akima_minimum(sizes - ref, mean_L)
        coef: tuple[float, ...] = ()
    else:
        poly = np.polyfit(lnN - ref, L, degree, w=np.sqrt(w))
        u_opt, L_opt, inside = _poly_minimum(poly, lo, hi)
        coef = tuple(float(c) for c in poly)
    return ProfileMinimum(
        N_opt=float(math.exp(ref + u_opt)),
        L_opt=float(L_opt),
        interior=bool(inside and not lowest_at_edge),
        fitted_inside=bool(inside),
        lowest_at_edge=bool(lowest_at_edge),
        coef=coef,
        N_ref=float(math.exp(ref)),
        n_points=int(sizes.size),
    )


def _poly_minimum(coef: np.ndarray, lo: float, hi: float) -> tuple[float, float, bool]:
    """(argmin, min, strictly inside) of a polynomial over [lo, hi]."""
    cands = [lo, hi]
    d1 = np.polyder(coef)
    d2 = np.polyder(d1)
    for root in np.roots(d1) if d1.size > 1 else []:
        if abs(root.imag) < 1e-9 and lo < root.real < hi and np.polyval(d2, root.real) > 0:
            cands.append(float(root.real))
    vals = np.polyval(coef, cands)
    best = int(np.argmin(vals))
    span = max(hi - lo, 1e-12)
    inside = best >= 2 and lo + 1e-6 * span < cands[best] < hi - 1e-6 * span
    return cands[best], float(vals[best]), bool(inside)


def _akima_minimum(u: np.ndarray, L: np.ndarray) -> tuple[float, float, bool]:
    """(argmin, min, strictly inside) of the Akima interpolant of ln L on the grid u."""
    from scipy.interpolate import Akima1DInterpolator
    from scipy.optimize import minimize_scalar

    spline = Akima1DInterpolator(u, np.log(L))
    grid = np.linspace(u[0], u[-1], (u.size - 1) * _AKIMA_DENSITY)
    vals = spline(grid)
    i = int(np.argmin(vals))
    if i in (0, grid.size - 1):
        return float(grid[i]), float(np.exp(vals[i])), False
    res = minimize_scalar(
        lambda t: float(spline(t)),
        bounds=(grid[i - 1], grid[i + 1]),
        method="bounded",
        options={"xatol": 1e-10},
    )
    t, v = (float(res.x), float(res.fun)) if res.fun <= vals[i] else (float(grid[i]), vals[i])
    return t, float(np.exp(v)), True


# ============================================================================ the estimator
class Approach2:
    """IsoFLOP profiles (Hoffmann et al. 2022, Approach 2): per-budget minima, then power laws.

    Parameters
    ----------
    profile: how each profile's minimum is found: ``"poly"`` (a polynomial of ``degree`` in
        ln N; 2 = Hoffmann's parabola) or ``"akima"`` (an Akima spline of ln L in ln N, the
        procedure of Porian et al. 2024).
    degree: degree of the polynomial for ``profile="poly"``.
    window: fit each profile only on the sizes within this factor of its lowest-loss size
        (e.g. 3).  A parabola over a wide, asymmetric valley misplaces the minimum; a local
        one does not.  None uses every size.
    bin_tolerance: runs within a factor (1 + tolerance) of a budget's centre share it (0 =
        identical C only).  The default 0.05 absorbs rounding of C; points read off a figure
        need more (about 0.2 for Chinchilla's Figure 4).
    isoflop_budgets: the budgets of the sweep, if known; runs join the nearest within the
        tolerance, and runs near none are left out (reported).
    min_sizes: fewest distinct model sizes a budget needs (default degree + 1, or 3 for
        Akima); sparser budgets are skipped with a ``TOO_FEW_POINTS`` diagnostic.
    drop_edge: leave budgets whose minimum is not interior out of the power-law fits (they
        are always flagged ``EDGE_MINIMUM``).
    loss_offset: fit L*(C) = E + A·C^-alpha (needs >= 4 budgets; with fewer, E = 0 is used
        and said so) or the pure power law A·C^-alpha.
    objective, delta: the L*(C) fit's objective on log L ("huber" with delta, or "log-mse").
    n_bootstrap, seed, level: bootstrap replicates resampling whole runs within each budget
        (the sweep's budgets are its design, so they are kept), seeded; interval level.
    """

    def __init__(
        self,
        profile: str = "poly",
        degree: int = 2,
        window: float | None = None,
        bin_tolerance: float = 0.05,
        isoflop_budgets: Sequence[float] | None = None,
        min_sizes: int | None = None,
        drop_edge: bool = False,
        loss_offset: bool = True,
        objective: str = "huber",
        delta: float = 1e-3,
        n_bootstrap: int = DEFAULT_BOOTSTRAP,
        seed: int = 0,
        level: float = 0.95,
    ) -> None:
        self.degree = whole_number(degree, "degree", 2, hint="2 = a parabola in log N")
        if self.degree > 6:
            raise QuantityError(
                f"degree must be at most 6 (a higher polynomial chases noise), got {degree}",
                argument="degree",
            )
        if profile not in PROFILE_METHODS:
            raise UnknownNameError(
                f"unknown IsoFLOP profile fit {profile!r}"
                + did_you_mean(str(profile), PROFILE_METHODS)
            )
        self.profile = profile
        if window is not None:
            try:
                window = float(window)
            except (TypeError, ValueError):
                raise QuantityError(
                    f"window must be a factor > 1 (e.g. 3) or None, got {window!r}"
                ) from None
            if not math.isfinite(window) or window <= 1:
                raise QuantityError(f"window must be a factor > 1 (e.g. 3) or None, got {window!r}")
        self.window = window
        self._need = self.degree + 1 if profile == "poly" else 3
        try:
            tol = float(bin_tolerance)
        except (TypeError, ValueError):
            raise QuantityError(
                f"bin_tolerance must be a number >= 0 (e.g. 0.05), got {bin_tolerance!r}"
            ) from None
        if not math.isfinite(tol) or tol < 0 or tol >= 1:
            raise QuantityError(
                f"bin_tolerance must be >= 0 and below 1 (a relative difference in C, e.g. "
                f"0.05), got {bin_tolerance!r}"
            )
        self.bin_tolerance = tol
        if isoflop_budgets is not None:
            from scalinglaws.units import parse_quantity

            isoflop_budgets = tuple(
                parse_quantity(c, what="isoflop_budgets") for c in isoflop_budgets
            )
            if not isoflop_budgets:
                raise QuantityError("isoflop_budgets must name at least one budget, got none")
        self.isoflop_budgets = isoflop_budgets
        if min_sizes is None:
            min_sizes = self._need
        if (
            isinstance(min_sizes, bool)
            or not isinstance(min_sizes, (int, np.integer))
            or min_sizes < self._need
        ):
            raise QuantityError(
                f"min_sizes must be a whole number >= {self._need} (the fewest sizes a "
                f"{self._profile_words()} needs), got {min_sizes!r}"
            )
        self.min_sizes = int(min_sizes)
        self.drop_edge = bool(drop_edge)
        self.loss_offset = bool(loss_offset)
        self.objective = check_objective(objective)
        self.delta = _check_delta(delta)
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)

    # ------------------------------------------------------------------ fit
    def fit(self, runs: Any) -> Fit:
        """Fit IsoFLOP profiles to ``runs`` (anything :func:`scalinglaws.runs.as_runs`
        takes); see the class docstring."""
        from scalinglaws.runs import as_runs

        runs = as_runs(runs)
        diagnostics: list[Diagnostic] = []
        if runs.has_curves:
            n_rows = len(runs)
            runs = runs.final()
            diagnostics.append(
                Diagnostic(
                    "FINAL_CHECKPOINTS",
                    "info",
                    f"IsoFLOP profiles use each run's final checkpoint: {len(runs)} of "
                    f"{n_rows} rows (intermediate checkpoints are not at the run's budget)",
                )
            )
        labels, profiles, fitted_bins, skipped = self._profiles(runs)
        diagnostics += self._binning_diagnostics(labels, skipped)
        diagnostics += self._edge_diagnostics(profiles)
        used = [p for p in profiles if p["used"]]
        if len(used) < 2:
            raise FitError(
                f"too few budgets to fit N* ∝ C^a: {len(used)} budget(s) of {runs.source} have "
                f"an IsoFLOP profile with at least {self.min_sizes} distinct model sizes"
                + (" and an interior minimum" if self.drop_edge else "")
                + f" (bin_tolerance {self.bin_tolerance:g}), and at least 2 are needed"
            )
        Cs = np.array([p["C"] for p in used])
        offset = self.loss_offset and len(used) >= 4
        derived = fit_allocation_rule(
            Cs, np.array([p["N_opt"] for p in used]), np.array([p["D_opt"] for p in used])
        )
        res = fit_loss_power(
            Cs, np.array([p["L_opt"] for p in used]), offset, self.objective, self.delta
        )
        law = res.law("C")
        if len(used) < 4:
            diagnostics.append(
                Diagnostic(
                    "TOO_FEW_BUDGETS",
                    "warning",
                    f"only {len(used)} budgets: the power laws pass through them with little "
                    "or no check; use at least 4 budgets"
                    + ("; L*(C) was fitted without an offset (E = 0)" if self.loss_offset else ""),
                    {"budgets": len(used)},
                )
            )
        diagnostics += exponent_diagnostics({"a": derived["a"], "b": derived["b"]})
        diagnostics += loss_floor_diagnostics(law.E, np.array([p["L_opt"] for p in used]), offset)
        fit = Fit(
            law=law,
            params={"E": law.E, "A": law.A, "alpha": law.alpha},
            approach="2",
            level=self.level,
            derived=derived,
            diagnostics=diagnostics,
            method={
                "profiles": self._profile_words()
                + " per budget, minimum over the sampled sizes"
                + (f" within a factor {self.window:g} of the lowest loss" if self.window else ""),
                "budgets": (
                    f"{len(used)} used of {len(profiles)} fitted"
                    + (f", {len(skipped)} skipped" if skipped else "")
                    + "; "
                    + (
                        "identical C"
                        if self.bin_tolerance == 0 and self.isoflop_budgets is None
                        else f"binned in log C: runs within a factor {1 + self.bin_tolerance:g} "
                        "of a budget's centre"
                        + (" (given centres)" if self.isoflop_budgets is not None else "")
                    )
                ),
                "exponents": "least squares on log N* = log k_N + a·log C (and D*)",
                "loss": ("E + A·C^-alpha" if offset else "A·C^-alpha")
                + f" fitted to L* by {self.objective} on log L",
            },
            data=runs.describe(),
            converged=res.converged,
            message=res.message,
            residuals=log_residuals([p["L_opt"] for p in used], law(C=Cs)),
            extra={
                "data_range": runs.ranges(),
                "profiles": profiles,
                "skipped_budgets": skipped,
                **extrapolation_range(Cs, "IsoFLOP budget"),
            },
        )
        if self.n_bootstrap:
            used_bins = [b for b, p in zip(fitted_bins, profiles, strict=True) if p["used"]]
            fit = self._bootstrap(fit, runs, labels, used_bins, offset, res)
        return fit

    def _profiles(
        self, runs: Any
    ) -> tuple[np.ndarray, list[dict[str, Any]], list[int], list[dict[str, Any]]]:
        """Bin the runs into budgets and fit each budget's IsoFLOP profile: returns the runs'
        budget labels, one record per fitted profile (its minimum N*, D*, L*, whether it is
        interior and used), the fitted bins, and the budgets skipped (too few sizes)."""
        N, D, C, L = runs.N, runs.D, runs.C, runs.L
        labels, centres = assign_budgets(C, self.bin_tolerance, self.isoflop_budgets)
        bins, skipped = [], []
        for b, centre in enumerate(centres):
            idx = np.flatnonzero(labels == b)
            n_sizes = np.unique(N[idx]).size
            if n_sizes < self.min_sizes:
                if idx.size:
                    skipped.append(
                        {"C": float(centre), "n_runs": int(idx.size), "n_sizes": int(n_sizes)}
                    )
                continue
            bins.append((b, idx))
        profiles, fitted_bins = [], []
        for b, idx in bins:
            try:
                m = self._minimum(N[idx], L[idx], None)
            except FitError:  # too few sizes left inside the window
                skipped.append(
                    {
                        "C": float(centres[b]),
                        "n_runs": int(idx.size),
                        "n_sizes": int(np.unique(N[idx]).size),
                        "note": f"fewer than {self._need} sizes within the window",
                    }
                )
                continue
            fitted_bins.append(b)
            k_eff = float(np.median(C[idx] / (N[idx] * D[idx])))
            c_b = float(math.exp(np.log(C[idx]).mean()))
            profiles.append(
                {
                    "C": c_b,
                    "C_low": float(C[idx].min()),
                    "C_high": float(C[idx].max()),
                    "n_runs": int(idx.size),
                    "n_sizes": int(np.unique(N[idx]).size),
                    "n_fitted": m.n_points,
                    "N_low": float(N[idx].min()),
                    "N_high": float(N[idx].max()),
                    "N_opt": m.N_opt,
                    "D_opt": c_b / (k_eff * m.N_opt),
                    "L_opt": m.L_opt,
                    "interior": m.interior,
                    "used": m.interior or not self.drop_edge,
                    "poly": list(m.coef),
                    "N_ref": m.N_ref,
                    "flops_per_param_token": k_eff,
                }
            )
        return labels, profiles, fitted_bins, skipped

    # ------------------------------------------------------------------ internals
    def _minimum(self, N: np.ndarray, L: np.ndarray, w: np.ndarray | None) -> ProfileMinimum:
        return profile_minimum(N, L, self.degree, w, self.profile, self.window)

    def _profile_words(self) -> str:
        if self.profile == "akima":
            return "Akima spline of ln L in ln N"
        return f"degree-{self.degree} polynomial of L in ln N"

    def _binning_diagnostics(self, labels: np.ndarray, skipped: list[dict]) -> list[Diagnostic]:
        out = []
        if skipped:
            runs_left = sum(s["n_runs"] for s in skipped)
            shown = ", ".join(f"{s['C']:.3g} ({s['n_sizes']})" for s in skipped[:6])
            out.append(
                Diagnostic(
                    "TOO_FEW_POINTS",
                    "warning",
                    f"skipped {len(skipped)} budget(s) with fewer than {self.min_sizes} distinct "
                    f"model sizes ({runs_left} runs): C (sizes) {shown}"
                    + (" ..." if len(skipped) > 6 else ""),
                    {"skipped": skipped},
                )
            )
        outside = int((labels < 0).sum())
        if outside:
            out.append(
                Diagnostic(
                    "OUTSIDE_BUDGETS",
                    "warning",
                    f"{outside} runs are not within a factor {1 + self.bin_tolerance:g} of any "
                    "given IsoFLOP budget and were left out",
                    {"runs": outside},
                )
            )
        return out

    def _edge_diagnostics(self, profiles: list[dict]) -> list[Diagnostic]:
        edges = [p for p in profiles if not p["interior"]]
        if not edges:
            return []
        shown = ", ".join(f"{p['C']:.3g}" for p in edges[:8]) + (" ..." if len(edges) > 8 else "")
        return [
            Diagnostic(
                "EDGE_MINIMUM",
                "warning",
                f"{len(edges)} of {len(profiles)} IsoFLOP profiles have their minimum at the "
                f"edge of the sampled model sizes (C = {shown}): N* there is censored and "
                "biases a towards the sampled range; "
                + (
                    "they were left out of the fits"
                    if self.drop_edge
                    else "extend those sweeps or set drop_edge=True"
                ),
                {"budgets": [p["C"] for p in edges]},
            )
        ]

    def _bootstrap(
        self,
        fit: Fit,
        runs: Any,
        labels: np.ndarray,
        used_bins: list[int],
        offset: bool,
        start: LossPowerFit,
    ) -> Fit:
        N, D, C, L = runs.N, runs.D, runs.C, runs.L
        ids = runs.run_ids
        seeds = np.random.SeedSequence(self.seed).generate_state(len(used_bins))
        strata = []
        for b, s in zip(used_bins, seeds, strict=True):
            idx = np.flatnonzero(labels == b)
            w = bootstrap_weights(ids[idx], idx.size, self.n_bootstrap, int(s))
            c_b = float(math.exp(np.log(C[idx]).mean()))
            k_eff = float(np.median(C[idx] / (N[idx] * D[idx])))
            strata.append((idx, w, c_b, k_eff))
        samples: dict[str, list[float]] = {k: [] for k in (*fit.params, *fit.derived)}
        for r in range(self.n_bootstrap):
            pts = []
            for idx, w, c_b, k_eff in strata:
                try:
                    m = self._minimum(N[idx], L[idx], w[r].astype(float))
                except FitError:  # the replicate drew too few sizes at this budget
                    continue
                pts.append((c_b, m.N_opt, c_b / (k_eff * m.N_opt), m.L_opt))
            values: dict[str, float] = {}
            if len(pts) >= 2:
                arr = np.array(pts)
                values = fit_allocation_rule(arr[:, 0], arr[:, 1], arr[:, 2])
                try:
                    res = fit_loss_power(
                        arr[:, 0], arr[:, 3], offset, self.objective, self.delta, start=start
                    )
                    law = res.law("C")
                    values.update(E=law.E, A=law.A, alpha=law.alpha)
                except FitError:  # the replicate keeps its N* and D* rules
                    pass
            for k, v in samples.items():
                v.append(values.get(k, math.nan))
        return bootstrap_summary(fit, samples, ("E", "A", "alpha"), self.level)
