"""The automatic fit's diagnostics: why the weights are what they are, thin or failed
evidence, a degenerate standard fit, too few budgets and a frontier without curvature
(:mod:`scalinglaws.fit.auto`)."""

from __future__ import annotations

import math

import numpy as np

from scalinglaws.fit.auto_result import (
    STANDARD_KEY,
    AutoFitResult,
    CandidateScore,
    _default_words,
    _degenerate,
    _n_budgets,
)
from scalinglaws.fit.candidates import (
    SHAPE_KEY,
    FitData,
)
from scalinglaws.fit.result import Diagnostic
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw

_DISAGREE_MIN_WEIGHT = 0.1  # candidates lighter than this are not checked for disagreement
_CURVATURE_T = 2.0  # t-statistic of the frontier's log-log curvature below which it is "flat"


# ============================================================================ diagnostics
def _why(fit: AutoFitResult) -> list[Diagnostic]:
    """AUTO_WEIGHTS: the default, how far the backtest moved the weights and why."""
    rec = fit._auto
    scores = rec["scores"]
    st = rec["settings"]
    ok = {k: s for k, s in scores.items() if s["status"] == "ok"}
    lead = max(scores, key=lambda k: scores[k]["weight"])
    far = max(scores, key=lambda k: scores[k]["weight_far"])
    msg = (
        f"the weights start from the default ({_default_words(st['default'], rec)}) and move "
        f"toward the nested backtest's ranking by lam = {rec['lam']:.2f} (n = {rec['n_checks']} "
        f"budget checks against n0 = {st['shrinkage']:g}): '{lead}' leads with "
        f"{scores[lead]['weight']:.2f} at the data"
    )
    if far != lead:
        msg += f", '{far}' with {scores[far]['weight_far']:.2f} at 10x its largest budget"
    if ok:
        ranked = sorted(ok, key=lambda k: ok[k]["rms_1"])
        msg += (
            "; RMS log error one span beyond the runs fitted (as far again as their range "
            "of log C): "
            + "; ".join(f"{k} {100 * ok[k]['rms_1']:.2f}%" for k in ranked)
            + " (weights proportional to 1/MSE at the distance asked; Bates & Granger 1969)"
        )
    return [
        Diagnostic(
            "AUTO_WEIGHTS",
            "info",
            msg,
            {
                "lam": rec["lam"],
                "n_checks": rec["n_checks"],
                "weights": {k: s["weight"] for k, s in scores.items()},
                "weights_far": {k: s["weight_far"] for k, s in scores.items()},
                "rms_1": {k: s["rms_1"] for k, s in ok.items()},
            },
        )
    ]


def _bootstrap_diagnostics(fit: AutoFitResult) -> list[Diagnostic]:
    """BOOTSTRAP_FAILURES: replicates in which a candidate that can carry weight could not be
    refitted are left out of the intervals."""
    n = int(fit._auto["bootstrap"]["replicates"])
    failed = n - len(fit.replicate_laws()) if n else 0
    if not failed:
        return []
    return [
        Diagnostic(
            "BOOTSTRAP_FAILURES",
            "warning" if failed > 0.05 * n else "info",
            f"{failed} of {n} bootstrap replicates could not refit every candidate that carries "
            "weight and were left out of the intervals",
            {"failed": failed, "replicates": n},
        )
    ]


def _thin_diagnostics(fit: AutoFitResult) -> list[Diagnostic]:
    rec = fit._auto
    nested = fit.nested
    n0 = rec["settings"]["shrinkage"]
    if not len(nested):
        return [
            Diagnostic(
                "NO_BACKTEST",
                "warning",
                "the nested backtest could not score any candidate (fewer than 8 runs below "
                "every cut, or none above), so the weights are the default's and the intervals' "
                "growth with distance is the prior's, not a measurement",
                {"cuts": len(nested.cuts)},
            )
        ]
    if rec["n_checks"] < n0:
        return [
            Diagnostic(
                "THIN_BACKTEST",
                "warning",
                f"the nested backtest made only {rec['n_checks']} budget checks ({len(nested)} "
                f"predictions, {len(nested.cuts)} cuts), fewer than the shrinkage n0 = {n0:g}: "
                f"the weights stay mostly the default's (lam = {rec['lam']:.2f}) and the "
                "intervals' growth mostly the prior's; more budgets above the smallest would "
                "firm them up",
                {"n_checks": rec["n_checks"], "lam": rec["lam"]},
            )
        ]
    return []


def _failure_diagnostics(scores: dict[str, CandidateScore]) -> list[Diagnostic]:
    out = []
    for s in scores.values():
        if s.status == "failed":
            out.append(
                Diagnostic(
                    "CANDIDATE_FAILED",
                    "info",
                    f"candidate '{s.key}' could not be fitted and has no weight: {s.reason}",
                    {"candidate": s.key, "reason": s.reason},
                )
            )
    return out


def _standard_diagnostics(members: dict[str, Law], l_min: float) -> list[Diagnostic]:
    """What the unconstrained fit did that the constrained one rules out, and whether the
    constraints bound."""
    out = []
    u = members.get(STANDARD_KEY)
    problems = _degenerate(u, l_min)
    if problems and isinstance(u, ChinchillaLaw):
        out.append(
            Diagnostic(
                "STANDARD_DEGENERATE",
                "warning",
                "the standard Chinchilla fit is degenerate on these runs: "
                + "; ".join(problems)
                + "; its extrapolation is not to be trusted on its own, and the default "
                "weights go to the constrained fit instead",
                {"E": u.E, "alpha": u.alpha, "beta": u.beta, "L_min": l_min},
            )
        )
    c = members.get(SHAPE_KEY)
    if isinstance(c, ChinchillaLaw) and isinstance(u, ChinchillaLaw) and c != u:
        active = []
        if c.alpha <= 1e-9 or c.beta <= 1e-9:
            active.append("an exponent at 0")
        ratio = c.E / l_min
        if ratio <= 0.5 + 1e-6:
            active.append(f"E at its lower bound ({ratio:.2f} of the lowest loss)")
        elif ratio >= 0.9 - 1e-6:
            active.append(f"E at its upper bound ({ratio:.2f} of the lowest loss)")
        out.append(
            Diagnostic(
                "CONSTRAINT_ACTIVE",
                "info",
                "the constrained Chinchilla fit differs from the unconstrained one"
                + (": " + ", ".join(active) if active else ""),
                {"E": c.E, "alpha": c.alpha, "beta": c.beta, "L_min": l_min},
            )
        )
    return out


def _budget_diagnostics(data: FitData, tol: float) -> list[Diagnostic]:
    n_b = _n_budgets(data.C, tol)
    if n_b - 1 >= 3:
        return []
    return [
        Diagnostic(
            "FEW_BUDGETS",
            "warning",
            f"the runs span only {n_b} compute budget(s) ({n_b - 1} above the smallest; "
            f"C from {data.C.min():.3g} to {data.C.max():.3g}): a law fitted to them "
            "describes the data but says little about larger budgets; add budgets above "
            "the smallest",
            {"budgets": n_b},
        )
    ]


def frontier_curvature(data: FitData) -> tuple[float, int]:
    """The t-statistic of the curvature of the compute frontier in log-log, and the number of
    frontier points.

    The frontier is the runs no run with less compute beats (Kaplan et al. 2020 §6); on it,
    log L = c0 + c1·log C + c2·(log C)² is fitted by least squares.  A law with a floor E > 0
    makes the frontier convex (c2 > 0); t = c2 / se(c2).  NaN with fewer than 5 points.
    """
    from scalinglaws.fit.powerlaw import frontier_mask

    on = frontier_mask(data.C, data.L)
    x = np.log(data.C[on])
    y = np.log(data.L[on])
    n = x.size
    if n < 5 or np.unique(x).size < 4:
        return math.nan, int(n)
    z = (x - x.mean()) / x.std()
    X = np.column_stack([np.ones(n), z, z**2])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    sigma2 = float(resid @ resid) / max(n - 3, 1)
    cov = sigma2 * np.linalg.inv(X.T @ X)
    se = math.sqrt(max(cov[2, 2], 1e-300))
    return float(coef[2] / se), int(n)


def _curvature_diagnostics(data: FitData) -> list[Diagnostic]:
    t, n = frontier_curvature(data)
    if not math.isfinite(t):
        return [
            Diagnostic(
                "NO_CURVATURE",
                "warning",
                f"the compute frontier has only {n} points, too few to see whether the loss "
                "flattens: the floor E is an assumption of each model, not a measurement",
                {"t": None, "points": n},
            )
        ]
    if t < _CURVATURE_T:
        return [
            Diagnostic(
                "NO_CURVATURE",
                "warning",
                f"the compute frontier ({n} runs from C = {data.C.min():.3g} to "
                f"{data.C.max():.3g}) is straight in log-log (curvature t = {t:.2g} < "
                f"{_CURVATURE_T:g}): the data cannot tell the floor E from 0, so how fast the "
                "loss flattens beyond them is each model's assumption, not a measurement",
                {"t": t, "points": n},
            )
        ]
    return []
