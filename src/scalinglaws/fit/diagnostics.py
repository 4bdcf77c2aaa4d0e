"""Checks of a fitted scaling law, each returning :class:`~scalinglaws.fit.result.Diagnostic`
records with a stable ``code`` that scripts can test for (``"E_COLLAPSED" in
fit.diagnostic_codes()``).  The functions are generic (numbers in, diagnostics out) so every
estimator can use them.

Every code, with its severity, meaning and what to do about it, is registered in
:data:`scalinglaws.fit.codes.CODES` (:func:`scalinglaws.fit.codes.describe`) and tabled in
``docs/diagnostics.md``; each function below names the codes it emits and its thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scalinglaws.fit.result import Diagnostic

E_COLLAPSE_FRACTION = 0.05
TERM_VANISHED_FRACTION = 1e-3
FEW_STARTS_FRACTION = 0.01
FEW_STARTS_MIN = 3
CONDITION_LIMIT = 1e4
EXPONENT_LIMIT = 3.0
TREND_P_VALUE = 1e-3
TREND_MIN_CHANGE = 0.005
EXTRAPOLATION_WARN_FACTOR = 100.0
BOOTSTRAP_FAILURE_WARN = 0.05


def collapsed_terms(
    terms: Mapping[str, np.ndarray], prediction: np.ndarray, L_min: float
) -> list[Diagnostic]:
    """``E_COLLAPSED`` / ``TERM_VANISHED`` for the additive terms of a law.

    ``terms`` maps a term's name (``"E"``, ``"A/N^alpha"``, ``"B/D^beta"``) to its value at
    every data point (a scalar for E); ``prediction`` is L̂ at the points and ``L_min`` the
    smallest observed loss.  E is collapsed when E < 5% of ``L_min``; another term has
    vanished when it is below 0.1% of L̂ at every point.
    """
    out = []
    pred = np.asarray(prediction, dtype=float)
    for name, value in terms.items():
        v = np.broadcast_to(np.asarray(value, dtype=float), pred.shape)
        if name == "E":
            E = float(v.flat[0]) if v.size else math.nan
            if E < E_COLLAPSE_FRACTION * L_min:
                out.append(
                    Diagnostic(
                        "E_COLLAPSED",
                        "warning",
                        f"the irreducible loss E collapsed to {E:.3g} (below "
                        f"{100 * E_COLLAPSE_FRACTION:g}% of the smallest observed loss "
                        f"{L_min:.4g}): the data show no floor, so the law's extrapolation to "
                        "larger budgets is unreliable; add larger runs or fix E",
                        {"E": E, "L_min": float(L_min)},
                    )
                )
            continue
        share = float(np.max(v / pred)) if pred.size else math.nan
        if share < TERM_VANISHED_FRACTION:
            out.append(
                Diagnostic(
                    "TERM_VANISHED",
                    "warning",
                    f"the term {name} is at most {100 * share:.2g}% of the predicted loss at "
                    "every run, so its constants are not identified by these data",
                    {"term": name, "max_share": share},
                )
            )
    return out


def floor_above_data(E: float, L_min: float) -> list[Diagnostic]:
    """``E_ABOVE_DATA`` when the fitted floor E exceeds the lowest observed loss ``L_min``."""
    if not (math.isfinite(E) and E > L_min):
        return []
    return [
        Diagnostic(
            "E_ABOVE_DATA",
            "warning",
            f"the irreducible loss E = {E:.4g} lies above the lowest observed loss "
            f"{L_min:.4g} ({100 * (E / L_min - 1):.1f}% higher): the law says those runs beat "
            "the floor, and it predicts no larger run below E; the curvature it fitted is "
            "local, not a floor (fit --approach auto bounds E below the lowest loss)",
            {"E": E, "L_min": L_min},
        )
    ]


def at_bound(
    values: Mapping[str, float],
    bounds: Mapping[str, tuple[float, float]],
    atol: float = 1e-3,
    rtol: float = 1e-3,
) -> list[Diagnostic]:
    """``AT_BOUND`` for each parameter within ``atol + rtol·|bound|`` of (or beyond) a bound
    of its valid range ``bounds[name] = (low, high)`` (use ±inf for an open side)."""
    out = []
    for name, (low, high) in bounds.items():
        if name not in values:
            continue
        v = float(values[name])
        for side, edge in (("lower", low), ("upper", high)):
            if not math.isfinite(edge):
                continue
            near = abs(v - edge) <= atol + rtol * abs(edge)
            beyond = v < edge if side == "lower" else v > edge
            if near or beyond:
                out.append(
                    Diagnostic(
                        "AT_BOUND",
                        "warning",
                        f"{name} = {v:.4g} is at the {side} bound {edge:g} of its valid range "
                        f"[{low:g}, {high:g}]: the fit is pinned there, not at an interior "
                        "optimum",
                        {"name": name, "value": v, "bound": float(edge), "side": side},
                    )
                )
    return out


def diverged(
    values: Mapping[str, float], limits: Mapping[str, float] | None = None
) -> list[Diagnostic]:
    """``DIVERGED`` for each parameter that is not finite (an error: it overflowed) or whose
    magnitude exceeds ``limits[name]`` (a warning; by default 3 for every exponent
    ``alpha*``/``beta*``, far above published loss exponents of 0.05 to 0.8)."""
    out = []
    for name, v in values.items():
        v = float(v)
        limit = (limits or {}).get(name)
        if limit is None and limits is None and name.startswith(("alpha", "beta")):
            limit = EXPONENT_LIMIT
        if not math.isfinite(v):
            out.append(
                Diagnostic(
                    "DIVERGED",
                    "error",
                    f"{name} is not finite ({v}): the optimiser ran it off to infinity, so the "
                    "data do not identify this term (is the range of N or D too narrow?) and "
                    "the law cannot be evaluated",
                    {"name": name, "value": v},
                )
            )
        elif limit is not None and abs(v) > limit:
            out.append(
                Diagnostic(
                    "DIVERGED",
                    "warning",
                    f"{name} = {v:.4g} ran off beyond {limit:g}: the data do not identify this "
                    "term (is the range of N or D too narrow?)",
                    {"name": name, "value": v, "limit": float(limit)},
                )
            )
    return out


def implausible_exponents(exponents: Mapping[str, float]) -> list[Diagnostic]:
    """``EXPONENT_IMPLAUSIBLE`` for each allocation exponent (N* ∝ C^a, D* ∝ C^b) outside
    (0, 1): both must grow with C, and neither faster than C (Hoffmann et al. 2022 find
    a ≈ b ≈ 0.5, Kaplan et al. 2020 a = 0.73)."""
    out = []
    for name, value in exponents.items():
        if not 0 < value < 1:
            out.append(
                Diagnostic(
                    "EXPONENT_IMPLAUSIBLE",
                    "warning",
                    f"exponent {name} = {value:.3g} is outside (0, 1), where every published "
                    "compute-optimal exponent lies",
                    {"name": name, "value": float(value)},
                )
            )
    return out


def few_starts(n_reached: int, n_starts: int, rtol: float) -> list[Diagnostic]:
    """``FEW_STARTS`` when fewer than max(3, 1% of ``n_starts``) starts reached the best
    objective (within relative ``rtol``); information only when fewer than 10 were tried."""
    if n_starts < 10:
        return [
            Diagnostic(
                "FEW_STARTS",
                "info",
                f"only {n_starts} start(s) were tried ({n_reached} reached the best objective): "
                "a multi-start grid would show whether the optimum is global",
                {"reached": int(n_reached), "starts": int(n_starts), "rtol": rtol},
            )
        ]
    need = max(FEW_STARTS_MIN, math.ceil(FEW_STARTS_FRACTION * n_starts))
    if n_reached >= need:
        return []
    return [
        Diagnostic(
            "FEW_STARTS",
            "warning",
            f"only {n_reached} of {n_starts} starts reached the best objective (within "
            f"relative {rtol:g}); fewer than {need}, so the optimum may not be global: try "
            "a finer or wider grid of starts",
            {"reached": int(n_reached), "starts": int(n_starts), "rtol": rtol},
        )
    ]


def not_converged(converged: bool, message: str) -> list[Diagnostic]:
    """``NOT_CONVERGED`` when the optimiser did not report convergence."""
    if converged:
        return []
    return [
        Diagnostic(
            "NOT_CONVERGED",
            "warning",
            f"the optimiser did not converge ({message}); the estimates may not be at the optimum",
            {"message": message},
        )
    ]


def condition_number(matrix: np.ndarray) -> float:
    """Condition number (largest / smallest eigenvalue) of a symmetric positive
    semi-definite matrix scaled to unit diagonal, so that it measures how strongly the
    parameters trade off, not their units; inf when singular."""
    M = np.asarray(matrix, dtype=float)
    d = np.sqrt(np.abs(np.diag(M)))
    if np.any(d == 0) or not np.all(np.isfinite(M)):
        return math.inf
    scaled = M / np.outer(d, d)
    eig = np.linalg.eigvalsh(0.5 * (scaled + scaled.T))
    if eig[0] <= 0:
        return math.inf
    return float(eig[-1] / eig[0])


def ill_conditioned(
    matrix: np.ndarray, names: Sequence[str], limit: float = CONDITION_LIMIT
) -> list[Diagnostic]:
    """``ILL_CONDITIONED`` when :func:`condition_number` of ``matrix`` (a Gauss-Newton
    matrix JᵀJ or a Hessian over the parameters ``names``) exceeds ``limit``; the message
    names the parameter combination that is least determined (the smallest eigenvector)."""
    kappa = condition_number(matrix)
    if kappa <= limit:
        return []
    M = np.asarray(matrix, dtype=float)
    d = np.sqrt(np.abs(np.diag(M)))
    combo = ""
    if np.all(d > 0) and np.all(np.isfinite(M)):
        _, vecs = np.linalg.eigh(M / np.outer(d, d))
        v = vecs[:, 0]
        top = np.argsort(-np.abs(v))[:2]
        combo = f"; the least determined direction mixes {names[top[0]]} and {names[top[1]]}"
    return [
        Diagnostic(
            "ILL_CONDITIONED",
            "warning",
            f"the fit is ill-conditioned (condition number {kappa:.3g} > {limit:.0e}): the "
            f"parameters trade off against each other{combo}",
            {"condition_number": kappa},
        )
    ]


def residual_trend(
    residuals: np.ndarray,
    x: np.ndarray,
    name: str,
    p_value: float = TREND_P_VALUE,
    min_change: float = TREND_MIN_CHANGE,
) -> list[Diagnostic]:
    """``RESIDUAL_TREND`` when the residuals r = log L − log L̂ trend with log ``x``.

    Flags a trend that is both significant (Spearman rank correlation, two-sided p <
    ``p_value`` by the t approximation t = ρ·√((n − 2)/(1 − ρ²)), robust to the outliers a
    Huber fit leaves) and large (the least-squares line of r on log10 x changes by more than
    ``min_change`` -- 0.5% in L -- across the data's range).  ``data`` holds the rank
    correlation, its p-value and the slope per decade of x.
    """
    from scipy.special import stdtr

    r = np.asarray(residuals, dtype=float)
    lx = np.log10(np.asarray(x, dtype=float))
    ok = np.isfinite(r) & np.isfinite(lx)
    r, lx = r[ok], lx[ok]
    n = r.size
    if n < 4 or np.ptp(lx) == 0 or np.ptp(r) == 0:
        return []
    rho = float(np.corrcoef(_ranks(lx), _ranks(r))[0, 1])
    if not math.isfinite(rho):
        return []
    t = rho * math.sqrt((n - 2) / max(1e-300, 1.0 - rho * rho))
    p = float(2.0 * stdtr(n - 2, -abs(t)))
    slope = float(np.polyfit(lx, r, 1)[0])
    change = abs(slope) * float(np.ptp(lx))
    if not (p < p_value and change > min_change):
        return []
    direction = "over" if slope < 0 else "under"
    return [
        Diagnostic(
            "RESIDUAL_TREND",
            "warning",
            f"the residuals trend with {name} (Spearman {rho:.2f}, p = {p:.1g}; "
            f"{100 * slope:+.2g}% in L per decade of {name}): the law {direction}-predicts "
            f"the loss at large {name}, so its extrapolation in {name} is biased",
            {
                "variable": name,
                "spearman": rho,
                "p_value": p,
                "slope_per_decade": slope,
            },
        )
    ]


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (as scipy.stats.rankdata)."""
    sorter = np.argsort(x, kind="mergesort")
    inv = np.empty(x.size, dtype=np.intp)
    inv[sorter] = np.arange(x.size)
    xs = x[sorter]
    obs = np.r_[True, xs[1:] != xs[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.flatnonzero(obs), x.size]
    return 0.5 * (count[dense] + count[dense - 1] + 1)


def optimum_outside_data(
    budgets: Sequence[float],
    N_opt: Sequence[float],
    D_opt: Sequence[float],
    N_range: tuple[float, float],
    D_range: tuple[float, float],
    span: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> list[Diagnostic]:
    """``OPTIMUM_OUTSIDE_DATA`` when the compute-optimal allocation is not bracketed by
    the runs.

    One warning per requested budget (``budgets``, inside the data's range of C) whose N*
    or D* lies outside the range of N or D the runs sampled; and, with ``span`` =
    (C, N*, D*) on a grid over the data's range of C, one warning when the optimum lies
    outside the sampled ranges at *every* budget of that range (the data never contain a
    compute-optimal run, so the allocation rests on the law's shape alone).  At the
    extremes of a grid of runs the optimum often leaves the sampled range; that alone is
    not flagged.
    """

    def outside(n: float, d: float) -> list[str]:
        out = []
        if not N_range[0] <= n <= N_range[1]:
            out.append(f"N* = {n:.3g} outside the runs' N [{N_range[0]:.3g}, {N_range[1]:.3g}]")
        if not D_range[0] <= d <= D_range[1]:
            out.append(f"D* = {d:.3g} outside the runs' D [{D_range[0]:.3g}, {D_range[1]:.3g}]")
        return out

    found = []
    if span is not None:
        C, Ns, Ds = (np.asarray(v, dtype=float) for v in span)
        if C.size and all(outside(float(n), float(d)) for n, d in zip(Ns, Ds, strict=True)):
            found.append(
                Diagnostic(
                    "OPTIMUM_OUTSIDE_DATA",
                    "warning",
                    f"at every budget from {C.min():.3g} to {C.max():.3g} FLOPs (the data's "
                    "range) the compute-optimal N* or D* lies outside the N and D the runs "
                    f"sampled (e.g. at {C.max():.3g}: N* = {Ns[-1]:.3g}, D* = {Ds[-1]:.3g}): the "
                    "data never bracket the optimum, so the allocation rests on the law's "
                    "shape alone",
                    {
                        "C_range": [float(C.min()), float(C.max())],
                        "N_range": list(N_range),
                        "D_range": list(D_range),
                    },
                )
            )
    for c, n, d in zip(budgets, N_opt, D_opt, strict=True):
        problems = outside(float(n), float(d))
        if problems:
            found.append(
                Diagnostic(
                    "OPTIMUM_OUTSIDE_DATA",
                    "warning",
                    f"at the budget C = {c:.3g} FLOPs, inside the data's range, the "
                    "compute-optimal "
                    + " and ".join(problems)
                    + ": the runs do not bracket the optimum there, so the allocation is "
                    "extrapolated",
                    {
                        "C": float(c),
                        "N_opt": float(n),
                        "D_opt": float(d),
                        "N_range": list(N_range),
                        "D_range": list(D_range),
                    },
                )
            )
    return found


def extrapolation_distance(
    budgets: Sequence[float],
    C_data: Sequence[float] | np.ndarray,
    what: str = "C in the data",
    consequence: str = "N*, D* and L* there are extrapolated",
) -> list[Diagnostic]:
    """``EXTRAPOLATION`` for each requested budget outside [min C, max C] of ``C_data`` (the
    data's C, or the C a power law was fitted over, named by ``what``): ``data["factor"]`` =
    budget / max C above the range (min C / budget below it); a warning beyond 100×,
    information otherwise."""
    c = np.asarray(C_data, dtype=float)
    c = c[np.isfinite(c)]
    if c.size == 0:
        return []
    lo, hi = float(c.min()), float(c.max())
    out = []
    for b in budgets:
        b = float(b)
        if b > hi * (1 + 1e-9):
            factor, where, edge = b / hi, "above the largest", hi
        elif b < lo * (1 - 1e-9):
            factor, where, edge = lo / b, "below the smallest", lo
        else:
            continue
        out.append(
            Diagnostic(
                "EXTRAPOLATION",
                "warning" if factor > EXTRAPOLATION_WARN_FACTOR else "info",
                f"budget {b:.3g} FLOPs is {factor:.3g}× {where} {what} ({edge:.3g}); "
                + consequence,
                {"budget": b, "factor": float(factor), "range": [lo, hi]},
            )
        )
    return out


def bootstrap_failures(failed: int, n: int) -> list[Diagnostic]:
    """``BOOTSTRAP_FAILURES`` when ``failed`` of ``n`` replicates did not converge (a
    warning above 5%)."""
    if not failed:
        return []
    return [
        Diagnostic(
            "BOOTSTRAP_FAILURES",
            "warning" if failed > BOOTSTRAP_FAILURE_WARN * n else "info",
            f"{failed} of {n} bootstrap replicates did not converge and were left out of the "
            "intervals",
            {"failed": int(failed), "replicates": int(n)},
        )
    ]


def intermediate_checkpoints(n_rows: int, n_final: int) -> list[Diagnostic]:
    """``INTERMEDIATE_CHECKPOINTS`` when ``n_rows`` fitted rows include more than the
    ``n_final`` final checkpoints of their runs."""
    extra = int(n_rows) - int(n_final)
    if extra <= 0:
        return []
    return [
        Diagnostic(
            "INTERMEDIATE_CHECKPOINTS",
            "info",
            f"{extra} of the {n_rows} rows are intermediate checkpoints: under a decaying "
            "learning-rate schedule their losses are above what runs of that length would "
            "reach, so they bias the law; keep final checkpoints (final_only=True) unless "
            "every checkpoint ends its own schedule",
            {"rows": int(n_rows), "final": int(n_final)},
        )
    ]


def exponent_diagnostics(exponents: dict[str, float]) -> list[Diagnostic]:
    """``EXPONENT_IMPLAUSIBLE`` for each allocation exponent (a, b) outside (0, 1): N* and D*
    must both grow with C, and neither faster than C itself (Hoffmann et al. 2022 find
    a ≈ b ≈ 0.5; Kaplan et al. 2020 a = 0.73)."""
    out = []
    for name, value in exponents.items():
        if not (0 < value < 1):
            out.append(
                Diagnostic(
                    code="EXPONENT_IMPLAUSIBLE",
                    severity="warning",
                    message=(
                        f"exponent {name} = {value:.3g} is outside (0, 1), where every published "
                        "compute-optimal exponent lies; check the budgets' minima and the data"
                    ),
                    data={"name": name, "value": float(value)},
                )
            )
    return out


def loss_floor_diagnostics(E: float, L: np.ndarray, offset: bool) -> list[Diagnostic]:
    """``E_COLLAPSED`` when the frontier loss law L*(C) = E + A·C^−α was fitted with an offset
    and E went below 5% of the smallest optimal loss ``L`` (the threshold of
    :func:`scalinglaws.fit.diagnostics.collapsed_terms`): the optimal losses show no floor, so
    L* at larger budgets falls without limit and is not to be trusted; N* and D*, fitted
    separately, are unaffected."""
    from scalinglaws.fit.diagnostics import E_COLLAPSE_FRACTION

    L_min = float(np.min(L)) if np.size(L) else math.nan
    if not offset or not E < E_COLLAPSE_FRACTION * L_min:
        return []
    return [
        Diagnostic(
            code="E_COLLAPSED",
            severity="warning",
            message=(
                f"the offset E of L*(C) = E + A·C^-alpha collapsed to {E:.3g} (below "
                f"{100 * E_COLLAPSE_FRACTION:g}% of the lowest optimal loss {L_min:.4g}): the "
                "optimal losses show no floor, so L* at larger budgets is unreliable; N* and D* "
                "are fitted separately and unaffected"
            ),
            data={"E": float(E), "L_min": L_min},
        )
    ]


def extrapolation_range(C: Any, what: str) -> dict[str, Any]:
    """``{"extrapolation": ...}`` for a fit's ``extra``: the range of C a power law of C was
    fitted over, so that :meth:`~scalinglaws.fit.result.Fit.budget_diagnostics` measures a
    request's distance from it (``what`` names it: "fitted C", "IsoFLOP budget", ...)."""
    c = np.asarray(C, dtype=float)
    c = c[np.isfinite(c)]
    if not c.size:
        return {}
    return {
        "extrapolation": {
            "range": [float(c.min()), float(c.max())],
            "what": what,
            "consequence": "the values there extrapolate the power laws",
        }
    }


def log_residuals(L: Any, predicted: Any) -> np.ndarray:
    """log L - log L̂ (NaN where either is not positive)."""
    with np.errstate(all="ignore"):
        return np.log(np.asarray(L, dtype=float)) - np.log(np.asarray(predicted, dtype=float))
