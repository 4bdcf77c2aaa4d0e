"""Compute-optimal allocation: N*, D*, L* for a budget, the inverse questions, frontiers,
IsoLoss contours, and Kaplan et al.'s rules of thumb (overfitting, critical batch, early stop).

Conventions.  ``C`` is training FLOPs.  ``flops_per_token`` is a
:class:`~scalinglaws.convention.FlopsConvention` (or a number k for C = k·N·D, k = 6 being
Kaplan's and Hoffmann's 6ND, or a callable f(N) for C = f(N)·D).  N counts what the law's N
counts (non-embedding for Kaplan, total for Hoffmann and its replications).

This module is the one allocation engine: :func:`optimal_allocation` answers the budget
question for arrays of a law's constants (one row per bootstrap replicate) at arrays of
budgets, in closed form where there is one and by :func:`optimum_on_budget` otherwise; the
estimators, fit results, figures and the command line all call it.

``law`` may be a :class:`~scalinglaws.laws.Law` of (N, D), a preset name (``"hoffmann2022"``),
a :class:`~scalinglaws.presets.Preset`, or a :class:`~scalinglaws.fit.result.Fit` whose law is
of (N, D).  How each is answered:

* Chinchilla form with constant k: closed form (Hoffmann et al. 2022, App. D.2)
  G = (αA/(βB))^(1/(α+β)), N* = G·(C/k)^(β/(α+β)), D* = G^-1·(C/k)^(α/(α+β)).
  Gadre et al. 2024's over-training law is that form with α = β (A = a·6^(−η), B = b·6^(−η),
  α = β = 2η): the same closed form, through its Chinchilla twin.
* Kaplan L(N, D) with constant k: closed form [derived] N*^(1+p) = p·N_c^p·C/(k·D_c),
  p = α_N/α_D, and L* = (1+p)^α_D·(N_c/N*)^α_N.
* Any other (N, D) law or a callable f: numeric minimisation of L(N, C/f(N)) over log N
  (a grid to bracket the minimum, then bisection on the sign of the slope: ~1e-9 relative).
* A Fit of Approach 1 or 2 (its law a power law of C, with N* = k_N·C^a and D* = k_D·C^b among
  its derived values): that rule, with L* from the fitted loss frontier.
* Presets with a published power-law rule (Kaplan's N* = 1.3e9·C^0.73 in PF-days; Llama 3's
  D* = A·C^α; Hoffmann's Approach 1 through Table 3): the rule, with the missing one of N, D from
  C = k·N·D.  L* comes from the paper's loss law along the rule when it publishes one
  (Kaplan's L(C_min)), and is NaN when it does not (Llama 3, Approach 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.convention import FlopsConvention, FlopsLike
from scalinglaws.errors import DomainError, UnknownNameError, did_you_mean
from scalinglaws.laws.base import ArrayLike, Law, positive, scalar_or_array
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.ensemble import FrontierShapeLaw
from scalinglaws.laws.kaplan import KaplanNDLaw
from scalinglaws.laws.overtraining import OvertrainingLaw, chinchilla_constants
from scalinglaws.presets import PowerAllocation, Preset, get_preset

FlopsPerToken = FlopsLike  # the name older code imported

METHODS = ("auto", "closed", "numeric")

# Search range of the numeric minimiser, in log N: N from 1 up to the model that sees one token.
_GRID_POINTS = 241
_BISECTIONS = 64
_SLOPE_STEP = 1e-4  # half-width of the central difference of L in log N
_LOG_C_MAX = math.log(1e45)  # budgets searched by the inverse questions, in FLOPs


@dataclass(frozen=True)
class Allocation:
    """The answer to the budget question (arrays in, arrays out; floats for scalar input).

    N: parameters; D: training tokens; L: loss at (N, D) in nats per token (NaN when the source
    publishes no loss law); tokens_per_param: D / N; C: training FLOPs; method: how it was
    computed ("closed form", "numeric", "power-law rule").  From a fit
    (:meth:`scalinglaws.Fit.allocate`): ``intervals`` maps "N", "D", "L" to (low, high) at
    ``level``, ``interval_method`` says how they were made, and ``stderr`` holds the
    bootstrap standard errors where a bootstrap made them.
    """

    N: float | np.ndarray
    D: float | np.ndarray
    L: float | np.ndarray
    tokens_per_param: float | np.ndarray
    C: float | np.ndarray
    method: str = ""
    level: float | None = None
    intervals: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    interval_method: str = ""
    stderr: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain floats or lists, for JSON."""
        return _record_dict(self, ("N", "D", "L", "tokens_per_param", "C"))


def _plain(v: Any) -> Any:
    """An array as a list, a number as a float, None as None (for JSON)."""
    return v.tolist() if isinstance(v, np.ndarray) else (None if v is None else float(v))


def _record_dict(record: Any, keys: Sequence[str]) -> dict[str, Any]:
    """The ``keys`` of an answer record (:class:`Allocation`, an over-training price) as
    plain values, then its ``method`` and, when it has intervals, its ``level``,
    ``intervals`` (name -> [low, high]) and ``interval_method``."""
    out: dict[str, Any] = {key: _plain(getattr(record, key)) for key in keys}
    out["method"] = record.method
    if record.intervals:
        out["level"] = record.level
        out["intervals"] = {k: [_plain(lo), _plain(hi)] for k, (lo, hi) in record.intervals.items()}
        out["interval_method"] = record.interval_method
    return out


def _record(N: Any, D: Any, L: Any, C: Any, method: str) -> Allocation:
    N, D, L, C = (np.asarray(v, dtype=float) for v in (N, D, L, C))
    return Allocation(
        N=scalar_or_array(N),
        D=scalar_or_array(D),
        L=scalar_or_array(L),
        tokens_per_param=scalar_or_array(D / N),
        C=scalar_or_array(C),
        method=method,
    )


# ============================================================================ inputs
@dataclass(frozen=True)
class _Target:
    law: Law | None
    rule: PowerAllocation | None
    label: str


def _resolve(law: Any) -> _Target:
    """Accept a Law, a preset name, a Preset or a Fit; return the (N, D) law and/or rule."""
    if isinstance(law, (str, Preset)):
        preset = get_preset(law)
        return _Target(preset.law, preset.rule, f"preset '{preset.name}'")
    if isinstance(law, Law):
        return _Target(law, None, f"law '{law.name}'")
    fitted = getattr(law, "law", None)
    if isinstance(fitted, Law):  # a Fit
        if tuple(fitted.variables) == ("N", "D"):
            return _Target(fitted, None, f"fitted law '{fitted.name}'")
        # Approaches 1 and 2 store N* = k_N·C^a and D* = k_D·C^b among their derived values.
        table = {**(getattr(law, "derived", {}) or {}), **(getattr(law, "params", {}) or {})}
        if {"k_N", "a", "k_D", "b"} <= set(table):
            loss = fitted if tuple(fitted.variables) == ("C",) else None
            rule = PowerAllocation(
                k_N=table["k_N"], a=table["a"], k_D=table["k_D"], b=table["b"], loss=loss
            )
            return _Target(None, rule, f"fitted allocation rule (approach {law.approach})")
        raise DomainError(
            f"the fit's law '{fitted.name}' takes ({', '.join(fitted.variables)}), so it "
            "cannot allocate a budget; use a fit of an (N, D) law such as approach 3's "
            "Chinchilla or Kaplan L(N, D)"
        )
    raise UnknownNameError(
        f"cannot allocate with a {type(law).__name__}; pass a law of (N, D), a preset name "
        "such as 'hoffmann2022', a Preset or a Fit"
    )


def _use_rule(target: _Target, method: str) -> bool:
    """A published rule answers when there is one; ``method`` only chooses how a law is
    minimised, so asking for a method with a rule is refused rather than silently ignored."""
    if target.rule is None:
        return False
    if method != "auto":
        raise DomainError(
            f"{target.label} allocates by its published power-law rule, so method='{method}' "
            "does not apply; pass the preset's law (get_preset(name).law) to minimise it instead"
        )
    return True


def _nd_law(target: _Target, what: str) -> Law:
    law = target.law
    if law is None or tuple(law.variables) != ("N", "D"):
        raise DomainError(
            f"{what} needs a loss law of (N, D), and {target.label} has none; use a preset "
            "with an (N, D) law such as 'hoffmann2022', 'besiroglu2024' or 'kaplan2020'"
        )
    if isinstance(law, ChinchillaLaw):
        bad = [(k, v) for k, v in law.params.items() if k != "E" and not v > 0]
        if bad:
            name, value = bad[0]
            raise DomainError(
                f"{what} cannot use {target.label}: its constant {name} = {value:g}, and a "
                "compute-optimal allocation needs A, B, alpha and beta > 0 (otherwise the loss "
                "has no minimum along C = k·N·D)"
            )
    return law


def _check_flops(flops_per_token: Any) -> FlopsConvention:
    return FlopsConvention.of(flops_per_token)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise UnknownNameError(f"unknown method '{method}'" + did_you_mean(str(method), METHODS))
    return method


# ============================================================================ allocate
def allocate(
    law: Any, C: ArrayLike, flops_per_token: FlopsLike = 6.0, method: str = "auto"
) -> Allocation:
    """Compute-optimal N*, D*, L* for training budget(s) ``C`` (FLOPs): argmin_N L(N, D)
    subject to C = k·N·D (or C = f(N)·D).

    Closed form for the Chinchilla law (Hoffmann et al. 2022, App. D.2):
    N* = G·(C/k)^(β/(α+β)), D* = G^-1·(C/k)^(α/(α+β)), G = (αA/(βB))^(1/(α+β)), and for
    Gadre et al. 2024's over-training law through its Chinchilla twin (α = β = 2η); for Kaplan
    et al. 2020's L(N, D): N*^(1+p) = p·N_c^p·C/(k·D_c), p = α_N/α_D [derived]; numeric for any
    other (N, D) law or a callable ``flops_per_token``; the published rule for power-law presets
    (see the module docstring).  ``method`` forces "closed" or "numeric" (for checking one
    against the other).
    """
    _check_method(method)
    c = positive("C", C, "training FLOPs")
    f = _check_flops(flops_per_token)
    target = _resolve(law)
    if _use_rule(target, method):
        return _rule_allocation(target.rule, c, f)
    nd = _nd_law(target, "allocate")
    closed = _closed_form(nd, c, f) if method != "numeric" else None
    if closed is not None:
        return closed
    if method == "closed":
        raise DomainError(
            f"no closed form for {target.label}"
            + (" with a callable flops_per_token" if not f.linear else "")
            + "; use method='numeric' or 'auto'"
        )
    N = _numeric_optimum(nd, c, f)
    D = f.tokens(c, N)
    return _record(N, D, nd(N=N, D=D), c, "numeric")


def _closed_form(law: Law, c: np.ndarray, f: FlopsConvention) -> Allocation | None:
    if (
        isinstance(law, FrontierShapeLaw) and f.linear and math.isclose(f.k, law.k, rel_tol=1e-12)  # type: ignore[arg-type]
    ):  # N* = k_N·C^a_N by construction, L* its frontier
        N = np.asarray(law.n_opt(c), dtype=float)
        return _record(N, c / (f.k * N), law.frontier(c), c, "closed form")  # type: ignore[operator]
    law = _chinchilla(law) or law  # Gadre et al.'s form: its Chinchilla twin
    if not f.linear or not isinstance(law, (ChinchillaLaw, KaplanNDLaw)):
        return None
    cols = {name: np.array([v]) for name, v in law.params.items()}
    N, D, L = optimal_allocation(type(law), cols, c.reshape(-1), f)
    shape = np.shape(c)
    return _record(N.reshape(shape), D.reshape(shape), L.reshape(shape), c, "closed form")


# ============================================================================ the engine
def law_values(
    law_type: type[Law], constants: Mapping[str, Any], N: np.ndarray, D: np.ndarray
) -> np.ndarray:
    """L(N, D) of a Chinchilla or Kaplan law whose constants are arrays broadcasting against
    ``N`` and ``D`` (one row of constants per row of points), without the law's input checks:
    Chinchilla E + A·N^-α + B·D^-β (Gadre et al.'s over-training law as its twin); Kaplan
    ((N_c/N)^(α_N/α_D) + D_c/D)^α_D."""
    k = {name: np.asarray(v, dtype=float) for name, v in constants.items()}
    law_type, k = _twin(law_type, k)
    with np.errstate(all="ignore"):
        if law_type is ChinchillaLaw:
            return k["E"] + k["A"] * N ** -k["alpha"] + k["B"] * D ** -k["beta"]
        if law_type is KaplanNDLaw:
            ratio = k["alpha_N"] / k["alpha_D"]
            return ((k["N_c"] / N) ** ratio + k["D_c"] / D) ** k["alpha_D"]
    raise DomainError(f"law_values knows the Chinchilla and Kaplan L(N, D) laws, not {law_type}")


def allocation_exponents(law_type: type[Law], constants: Mapping[str, Any]) -> dict[str, Any]:
    """a and b of N* ∝ C^a, D* ∝ C^b (and G for Chinchilla), for arrays of constants; NaN
    where an exponent is not > 0.

    Chinchilla (Hoffmann et al. 2022, App. D.2): a = β/(α+β), b = α/(α+β),
    G = (αA/(βB))^(1/(α+β)).  Kaplan et al. 2020 eq. 1.5 [derived]: a = α_D/(α_N+α_D),
    b = α_N/(α_N+α_D).  Gadre et al.'s over-training law: those of its Chinchilla twin."""
    k = {name: np.asarray(v, dtype=float) for name, v in constants.items()}
    law_type, k = _twin(law_type, k)
    with np.errstate(all="ignore"):
        if law_type is ChinchillaLaw:
            al, be = k["alpha"], k["beta"]
            s = np.where((al > 0) & (be > 0), al + be, np.nan)
            logG = (np.log(al / be) + np.log(k["A"]) - np.log(k["B"])) / s
            return {"a": be / s, "b": al / s, "G": np.exp(logG)}
        if law_type is KaplanNDLaw:
            aN, aD = k["alpha_N"], k["alpha_D"]
            s = np.where((aN > 0) & (aD > 0), aN + aD, np.nan)
            return {"a": aD / s, "b": aN / s}
    raise DomainError(f"no allocation exponents for {law_type}")


def _chinchilla(law: Law) -> ChinchillaLaw | None:
    """The law as a ChinchillaLaw when it is one (Gadre et al.'s form converts exactly)."""
    if isinstance(law, ChinchillaLaw):
        return law
    to_chinchilla = getattr(law, "to_chinchilla", None)
    return to_chinchilla() if callable(to_chinchilla) else None


def _twin(law_type: type[Law], constants: dict[str, Any]) -> tuple[type[Law], dict[str, Any]]:
    """Gadre et al.'s over-training law as its Chinchilla twin (the same law, α = β = 2η:
    :func:`~scalinglaws.laws.overtraining.chinchilla_constants`); any other law unchanged."""
    if law_type is OvertrainingLaw:
        return ChinchillaLaw, chinchilla_constants(constants)
    return law_type, constants


def optimal_allocation(
    law_type: type[Law],
    constants: Mapping[str, Any],
    C: ArrayLike,
    flops_per_token: FlopsLike = 6.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute-optimal (N*, D*, L*) for every row of constants (shape (R,), e.g. bootstrap
    replicates) at every budget of ``C`` (shape (B,)): arrays of shape (R, B), NaN where a
    row has no interior optimum.

    With C = k·N·D, closed forms: Chinchilla (Hoffmann et al. 2022, App. D.2)
    N* = G·(C/k)^a, D* = G⁻¹·(C/k)^b; Kaplan L(N, D) (eq. 1.5) [derived]
    N*^(1+p) = p·N_c^p·C/(k·D_c), p = α_N/α_D, D* = C/(k·N*); Gadre et al. 2024's
    over-training law (E, a, b, eta) as its Chinchilla twin, A = a·6^(−η), B = b·6^(−η),
    α = β = 2η.  Under a general f(N), N* = argmin_N L(N, C/f(N)) for all rows and budgets
    at once (:func:`optimum_on_budget`).  L* = L(N*, D*)."""
    f = _check_flops(flops_per_token)
    cols = {name: np.asarray(v, dtype=float).reshape(-1, 1) for name, v in constants.items()}
    law_type, cols = _twin(law_type, cols)
    c = np.asarray(C, dtype=float).reshape(1, -1)
    R = next(iter(cols.values())).shape[0]
    expo = allocation_exponents(law_type, cols)
    usable = np.all([np.isfinite(v[:, 0]) for v in cols.values()], axis=0)
    usable &= np.isfinite(expo["a"][:, 0])
    with np.errstate(all="ignore"):
        if f.linear and law_type is ChinchillaLaw:
            logc = np.log(c / f.k)
            logG = np.log(expo["G"])
            N = np.exp(logG + expo["a"] * logc)
            D = np.exp(-logG + expo["b"] * logc)
        elif f.linear and law_type is KaplanNDLaw:
            p = cols["alpha_N"] / cols["alpha_D"]
            logN = np.log(p) + p * np.log(cols["N_c"]) + np.log(c / f.k) - np.log(cols["D_c"])
            N = np.exp(logN / (1 + p))
            D = c / (f.k * N)
        else:
            rows_c = np.broadcast_to(c, (R, c.shape[1]))
            N = np.full(rows_c.shape, np.nan)
            if usable.any():
                sub = {name: np.repeat(v[usable], c.shape[1], axis=0) for name, v in cols.items()}
                flat = optimum_on_budget(
                    lambda n, d: law_values(law_type, sub, n, d),
                    rows_c[usable].reshape(-1),
                    f,
                    strict=False,
                )
                N[usable] = flat.reshape(-1, c.shape[1])
            D = np.where(np.isfinite(N), f.tokens(rows_c, np.where(np.isfinite(N), N, 1.0)), np.nan)
        N = np.where(usable[:, None], N, np.nan)
        D = np.where(usable[:, None], D, np.nan)
        L = law_values(law_type, cols, N, D)
    return N, D, L


def rule_allocation(
    k_N: Any, a: Any, k_D: Any, b: Any, C: ArrayLike, C_unit: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """N* = k_N·(C/C_unit)^a and D* = k_D·(C/C_unit)^b for arrays of the four constants
    (shape (R,), e.g. bootstrap replicates of Approaches 1 and 2) at budgets ``C`` (shape
    (B,)): arrays of shape (R, B)."""
    x = np.asarray(C, dtype=float).reshape(1, -1) / C_unit
    col = [np.asarray(v, dtype=float).reshape(-1, 1) for v in (k_N, a, k_D, b)]
    with np.errstate(all="ignore"):
        return col[0] * x ** col[1], col[2] * x ** col[3]


def _rule_allocation(rule: PowerAllocation, c: np.ndarray, f: FlopsConvention) -> Allocation:
    x = c / rule.C_unit
    if rule.k_N is not None and rule.k_D is not None:
        n, d = rule_allocation(rule.k_N, rule.a, rule.k_D, rule.b, c.reshape(-1), rule.C_unit)
        N, D = n.reshape(np.shape(c)), d.reshape(np.shape(c))
    elif rule.k_N is not None:
        N = rule.k_N * x**rule.a
        D = f.tokens(c, N)
    else:
        D = rule.k_D * x**rule.b
        N = f.params(c, D)
    L = rule.loss(C=c) if rule.loss is not None else np.full(np.shape(c), np.nan)
    return _record(N, D, L, c, "power-law rule")


def _numeric_optimum(law: Law, c: np.ndarray, f: FlopsConvention) -> np.ndarray:
    """argmin over N of L(N, C/f(N)), vectorised over the budgets ``c`` (see
    :func:`optimum_on_budget`)."""

    def loss(n: np.ndarray, d: np.ndarray) -> np.ndarray:
        out = np.full(n.shape, np.inf)
        ok = d >= 1.0  # at least one token
        if np.any(ok):
            out[ok] = np.asarray(law(N=n[ok], D=d[ok]), dtype=float)
        return out

    return optimum_on_budget(loss, c, f)


def optimum_on_budget(
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray],
    C: ArrayLike,
    flops_per_token: FlopsLike = 6.0,
    strict: bool = True,
) -> np.ndarray:
    """argmin over N of ``loss(N, C/f(N))`` for each budget, vectorised: N* on C = f(N)·D
    (or C = k·N·D).

    ``loss(n, d)`` gets arrays of shape (budgets, points) -- row r on budget ``C[r]`` -- and
    returns the loss there (inf or NaN where undefined), so a row may carry its own law (e.g.
    one bootstrap replicate per row).  A log-spaced grid of 241 N in [1, C] brackets the
    minimum; bisection on the sign of the central-difference slope in log N then narrows the
    bracket to ~1e-10 in log N.  Points with D < 1 token count as infinite.  ``strict``: a
    budget whose loss is nowhere finite or falls to the edge of the search raises
    :class:`DomainError`; otherwise its N* is NaN.
    """
    c = np.asarray(C, dtype=float)
    f = _check_flops(flops_per_token)
    shape = c.shape
    cf = c.reshape(-1, 1)
    grid = np.linspace(0.0, 1.0, _GRID_POINTS)[None, :] * np.log(cf)  # log N in [0, log C]

    def values_at(logn: np.ndarray) -> np.ndarray:  # logn has shape (budgets, points)
        n = np.exp(logn)
        d = f.tokens(np.broadcast_to(cf, n.shape), n)
        with np.errstate(all="ignore"):
            out = np.asarray(loss(n, d), dtype=float)
        out = np.where(d >= 1.0, out, np.inf)
        return np.where(np.isfinite(out), out, np.inf)

    values = values_at(grid)
    best = np.argmin(values, axis=1)
    rows = np.arange(len(best))
    bad = ~np.isfinite(values[rows, best])
    if strict and np.any(bad):
        raise DomainError("the law is not finite anywhere along C = k·N·D for some budget")
    edge = (
        (best == 0)
        | (best == _GRID_POINTS - 1)
        | ~np.isfinite(values[rows, np.clip(best + 1, 0, _GRID_POINTS - 1)])
    ) & ~bad
    if strict and np.any(edge):
        i = int(np.flatnonzero(edge)[0])
        raise DomainError(
            f"the loss keeps falling to the edge of the search (N from 1 to one token's worth) "
            f"at C = {float(cf[i, 0]):.4g} FLOPs, so there is no compute-optimal model size"
        )
    failed = bad | edge
    best = np.clip(best, 1, _GRID_POINTS - 2)
    lo = grid[rows, best - 1]
    hi = grid[rows, best + 1]
    h = _SLOPE_STEP
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        slope = values_at((mid + h)[:, None])[:, 0] - values_at((mid - h)[:, None])[:, 0]
        rising = slope > 0
        hi = np.where(rising, mid, hi)
        lo = np.where(rising, lo, mid)
        if np.all(hi - lo < 1e-12):
            break
    return np.where(failed, np.nan, np.exp(0.5 * (lo + hi))).reshape(shape)


# ============================================================================ inverse questions
def allocate_for_params(
    law: Any, N: ArrayLike, flops_per_token: FlopsLike = 6.0, method: str = "auto"
) -> Allocation:
    """The budget C for which N parameters are compute-optimal, with its tokens and loss
    (Hoffmann et al. 2022, Table 3's direction: parameters -> FLOPs -> tokens).

    Closed forms: Chinchilla C = k·(N/G)^((α+β)/β); Kaplan L(N, D) C = k·D_c·N^(1+p)/(p·N_c^p);
    a rule N* = k_N·(C/u)^a gives C = u·(N/k_N)^(1/a), a rule D* = k_D·(C/u)^b gives
    C^(1-b) = k·N·k_D·u^(-b).  Otherwise bisection on log C, since N*(C) increases with C.
    """
    _check_method(method)
    n = positive("N", N, "parameters")
    f = _check_flops(flops_per_token)
    target = _resolve(law)
    if _use_rule(target, method):
        rule = target.rule
        if rule.k_N is not None:
            c = rule.C_unit * (n / rule.k_N) ** (1.0 / rule.a)
        elif f.linear:
            c = (f.k * n * rule.k_D * rule.C_unit ** (-rule.b)) ** (1.0 / (1.0 - rule.b))
        else:
            c = _bisect_budget(lambda cc: _rule_allocation(rule, cc, f).N, n)
        return _rule_allocation(rule, c, f)
    nd = _nd_law(target, "allocate_for_params")
    if method != "numeric" and f.linear:
        if isinstance(nd, ChinchillaLaw):
            return allocate(nd, f.k * (n / nd.G) ** (1.0 / nd.a), f, method)
        if isinstance(nd, KaplanNDLaw):
            p = nd.alpha_N / nd.alpha_D
            return allocate(nd, f.k * nd.D_c * n ** (1.0 + p) / (p * nd.N_c**p), f, method)
    if method == "closed":
        raise DomainError(f"no closed form for {target.label}; use method='numeric' or 'auto'")
    c = _bisect_budget(lambda cc: _numeric_optimum(nd, cc, f), n)
    return allocate(nd, c, f, method="numeric")


def _bisect_budget(optimal_n: Callable[[np.ndarray], Any], n: np.ndarray) -> np.ndarray:
    """Solve optimal_n(C) = n for C by bisection on log C in [log n, 1e45 FLOPs]."""
    flat = n.reshape(-1)
    lo = np.log(flat) + math.log(2.0)  # at least 2 FLOPs per parameter
    hi = np.full_like(lo, _LOG_C_MAX)
    top = np.asarray(optimal_n(np.exp(hi)), dtype=float).reshape(-1)
    if np.any(top < flat):
        raise DomainError(
            f"N = {float(flat[np.argmax(top < flat)]):.4g} is not compute-optimal for any "
            "budget below 1e45 FLOPs"
        )
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        big = np.asarray(optimal_n(np.exp(mid)), dtype=float).reshape(-1) > flat
        hi = np.where(big, mid, hi)
        lo = np.where(big, lo, mid)
    return np.exp(0.5 * (lo + hi)).reshape(n.shape)


def compute_for_loss(
    law: Any, L: ArrayLike, flops_per_token: FlopsLike = 6.0, method: str = "auto"
) -> Allocation:
    """The least compute that reaches loss ``L`` (with its compute-optimal N and D).

    Chinchilla (closed form [derived from App. D.2]): along the optimum
    L*(C) = E + K·(C/k)^(-αβ/(α+β)), K = A·G^-α + B·G^β, so C = k·((L - E)/K)^(-(α+β)/(αβ));
    unreachable when L <= E.  Kaplan L(N, D): N* = N_c·(L/(1+p)^α_D)^(-1/α_N), then its budget.
    Kaplan's rule preset: C_min = C_c·L^(-1/α_C) from L(C_min).  Otherwise bisection on log C.
    """
    _check_method(method)
    loss = positive("L", L, "target loss in nats per token")
    f = _check_flops(flops_per_token)
    target = _resolve(law)
    if _use_rule(target, method):
        if target.rule.loss is None:
            raise DomainError(
                f"{target.label} publishes no loss law, so it cannot say what compute reaches "
                "a loss; use a preset with a loss law such as 'hoffmann2022' or 'kaplan2020'"
            )
        c = target.rule.loss.inverse(loss)  # type: ignore[attr-defined]
        return _rule_allocation(target.rule, np.asarray(c, dtype=float), f)
    nd = _nd_law(target, "compute_for_loss")
    E = getattr(nd, "E", None)
    if isinstance(E, (int, float)) and np.any(loss <= E):
        bad = float(loss.flat[int(np.argmax(loss.reshape(-1) <= E))])
        raise DomainError(
            f"target loss L = {bad:g} is unreachable: {target.label} never goes below its "
            f"irreducible loss E = {E:g}; choose L > {E:g}"
        )
    if method != "numeric" and f.linear:
        if isinstance(nd, ChinchillaLaw):
            K = nd.A * nd.G ** (-nd.alpha) + nd.B * nd.G**nd.beta
            gamma = nd.alpha * nd.beta / (nd.alpha + nd.beta)
            return allocate(nd, f.k * ((loss - nd.E) / K) ** (-1.0 / gamma), f, method)
        if isinstance(nd, KaplanNDLaw):
            p = nd.alpha_N / nd.alpha_D
            n = nd.N_c * (loss / (1.0 + p) ** nd.alpha_D) ** (-1.0 / nd.alpha_N)
            return allocate_for_params(nd, n, f, method)
    if method == "closed":
        raise DomainError(f"no closed form for {target.label}; use method='numeric' or 'auto'")
    return _numeric_compute_for_loss(nd, loss, f, target.label)


def _numeric_compute_for_loss(
    law: Law, loss: np.ndarray, f: FlopsConvention, label: str
) -> Allocation:
    flat = loss.reshape(-1)

    def best_loss(log_c: np.ndarray) -> np.ndarray:
        c = np.exp(log_c)
        n = _numeric_optimum(law, c, f)
        return np.asarray(law(N=n, D=f.tokens(c, n)), dtype=float)

    lo = np.full_like(flat, math.log(1e3))
    hi = np.full_like(flat, _LOG_C_MAX)
    floor = best_loss(hi)
    if np.any(floor > flat):
        i = int(np.argmax(floor > flat))
        raise DomainError(
            f"target loss L = {float(flat[i]):g} is not reached by {label} below 1e45 FLOPs "
            f"(it reaches {float(floor[i]):.4g} there); choose a larger L"
        )
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        reached = best_loss(mid) <= flat
        hi = np.where(reached, mid, hi)
        lo = np.where(reached, lo, mid)
    c = np.exp(0.5 * (lo + hi)).reshape(loss.shape)
    return allocate(law, c, f, method="numeric")


# ============================================================================ arrays for figures
def efficient_frontier(
    law: Any,
    C_range: tuple[float, float],
    num: int = 50,
    flops_per_token: FlopsLike = 6.0,
) -> Allocation:
    """The compute-efficient frontier: :func:`allocate` at ``num`` budgets log-spaced over
    ``C_range = (C_lo, C_hi)`` FLOPs (Kaplan et al. 2020 Fig. 14; Hoffmann et al. 2022 Fig. 1)."""
    lo, hi = _range(C_range, "C_range", "training FLOPs")
    if not isinstance(num, (int, np.integer)) or isinstance(num, bool) or num < 2:
        raise DomainError(f"num must be an integer of at least 2 budgets, got {num!r}")
    return allocate(law, np.geomspace(lo, hi, int(num)), flops_per_token)


def _range(r: Any, name: str, what: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in r)
    except (TypeError, ValueError):
        raise DomainError(f"{name} must be a pair (low, high) of {what}, got {r!r}") from None
    positive(name, [lo, hi], what)
    if not lo < hi:
        raise DomainError(f"{name} must have low < high, got ({lo:g}, {hi:g})")
    return lo, hi


@dataclass(frozen=True)
class IsoLoss:
    """IsoLoss contours: for each level L[i], the tokens D[i, j] that model size N[j] needs to
    reach it (NaN where it cannot, or would need under one token); C[i, j] = f(N[j])·D[i, j].
    ``optimum`` is the compute-optimal point of each contour (:func:`compute_for_loss`; NaN
    where the level is unreachable)."""

    levels: np.ndarray
    N: np.ndarray
    D: np.ndarray
    C: np.ndarray
    optimum: Allocation


def isoloss_contours(
    law: Any,
    levels: ArrayLike,
    N_range: tuple[float, float],
    num: int = 200,
    flops_per_token: FlopsLike = 6.0,
) -> IsoLoss:
    """IsoLoss contours of an (N, D) law over ``num`` model sizes log-spaced in ``N_range``
    (Kaplan et al. 2020 Fig. 11 style; Hoffmann et al. 2022 Fig. 4).

    For each level ℓ solve L(N, D) = ℓ for D.  Chinchilla: D = (B/(ℓ - E - A·N^-α))^(1/β);
    Kaplan L(N, D): D = D_c / (ℓ^(1/α_D) - (N_c/N)^(α_N/α_D)); otherwise bisection on log D
    (L falls with D).
    """
    target = _resolve(law)
    nd = _nd_law(target, "isoloss_contours")
    lv = positive("levels", np.atleast_1d(np.asarray(levels, dtype=float)), "loss levels")
    if lv.ndim != 1:
        raise DomainError("levels must be a number or a one-dimensional list of losses")
    lo, hi = _range(N_range, "N_range", "parameters")
    if not isinstance(num, (int, np.integer)) or isinstance(num, bool) or num < 2:
        raise DomainError(f"num must be an integer of at least 2 model sizes, got {num!r}")
    f = _check_flops(flops_per_token)
    n = np.geomspace(lo, hi, int(num))
    ell = lv[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(nd, ChinchillaLaw):
            gap = ell - nd.E - nd.A * n[None, :] ** (-nd.alpha)
            d = np.where(gap > 0, (nd.B / gap) ** (1.0 / nd.beta), np.nan)
        elif isinstance(nd, KaplanNDLaw):
            gap = ell ** (1.0 / nd.alpha_D) - (nd.N_c / n[None, :]) ** (nd.alpha_N / nd.alpha_D)
            d = np.where(gap > 0, nd.D_c / gap, np.nan)
        else:
            d = _bisect_tokens(nd, ell, n)
    d = np.where(d >= 1.0, d, np.nan)
    c = f.compute(np.broadcast_to(n[None, :], d.shape), d)
    optimum = _contour_optima(nd, lv, f)
    return IsoLoss(levels=lv, N=n, D=d, C=c, optimum=optimum)


def _bisect_tokens(law: Law, ell: np.ndarray, n: np.ndarray) -> np.ndarray:
    shape = (ell.shape[0], n.shape[0])
    target = np.broadcast_to(ell, shape).reshape(-1)
    nn = np.broadcast_to(n[None, :], shape).reshape(-1)
    lo = np.zeros_like(target)  # D = 1
    hi = np.full_like(target, math.log(1e60))
    reachable = np.asarray(law(N=nn, D=np.exp(hi)), dtype=float) <= target
    for _ in range(_BISECTIONS * 2):
        mid = 0.5 * (lo + hi)
        below = np.asarray(law(N=nn, D=np.exp(mid)), dtype=float) <= target
        hi = np.where(below, mid, hi)
        lo = np.where(below, lo, mid)
    return np.where(reachable, np.exp(0.5 * (lo + hi)), np.nan).reshape(shape)


def _contour_optima(law: Law, levels: np.ndarray, f: FlopsConvention) -> Allocation:
    rows = []
    for level in levels:
        try:
            rows.append(compute_for_loss(law, float(level), f))
        except DomainError:
            rows.append(None)
    cols = {}
    for key in ("N", "D", "L", "C"):
        cols[key] = np.array([getattr(r, key) if r is not None else np.nan for r in rows])
    method = next((r.method for r in rows if r is not None), "")
    return _record(cols["N"], cols["D"], cols["L"], cols["C"], method)


# ============================================================================ Kaplan's rules
def _kaplan_constant(name: str) -> float:
    return float(get_preset("kaplan2020").constants[name])


def _overfit_law(law: Any) -> Law:
    target = _resolve(law)
    nd = _nd_law(target, "the overfitting rule")
    if not isinstance(nd, (KaplanNDLaw, ChinchillaLaw)):
        raise DomainError(
            f"the overfitting rule needs L(N, D -> inf), known for Kaplan's L(N, D) and the "
            f"Chinchilla form, not for law '{nd.name}'"
        )
    return nd


def _loss_infinite_data(law: Law, n: np.ndarray) -> np.ndarray:
    if isinstance(law, KaplanNDLaw):
        return np.asarray(law.limit_N()(N=n), dtype=float)
    assert isinstance(law, ChinchillaLaw)
    return law.E + law.A * n ** (-law.alpha)


def overfitting_penalty(law: Any, N: ArrayLike, D: ArrayLike) -> float | np.ndarray:
    """δL(N, D) = L(N, D) / L(N, ∞) - 1 (Kaplan et al. 2020, eq. 4.3): how much a finite
    dataset costs relative to infinite data.  For Kaplan's L(N, D) this is
    [1 + (N/N_c)^(α_N/α_D)·D_c/D]^α_D - 1; the Chinchilla form works too
    (L(N, ∞) = E + A/N^α)."""
    nd = _overfit_law(law)
    n = positive("N", N, "parameters")
    d = positive("D", D, "training tokens")
    return scalar_or_array(np.asarray(nd(N=n, D=d)) / _loss_infinite_data(nd, n) - 1.0)


def min_tokens_no_overfit(
    N: ArrayLike, delta: float = 0.02, law: Any = "kaplan2020"
) -> float | np.ndarray:
    """The fewest tokens that keep δL <= delta (Kaplan et al. 2020, eq. 4.4: D ≳ 5e3·N^0.74).

    Kaplan's L(N, D): D = D_c·(N/N_c)^(α_N/α_D) / ((1 + δ)^(1/α_D) - 1), which with Table 2's
    constants and δ = 0.02 is 5.5e3·N^0.738.  Chinchilla form: D = (B/(δ·(E + A/N^α)))^(1/β).
    """
    nd = _overfit_law(law)
    n = positive("N", N, "parameters")
    dl = float(positive("delta", delta, "tolerated relative loss penalty"))
    if isinstance(nd, KaplanNDLaw):
        c, e = overfitting_rule(dl, nd)
        return scalar_or_array(c * n**e)
    return scalar_or_array((nd.B / (dl * _loss_infinite_data(nd, n))) ** (1.0 / nd.beta))


def overfitting_rule(delta: float = 0.02, law: Any = "kaplan2020") -> tuple[float, float]:
    """(coefficient, exponent) of Kaplan's D ≳ coefficient·N^exponent for a Kaplan L(N, D):
    exponent = α_N/α_D, coefficient = D_c·N_c^(-α_N/α_D) / ((1 + δ)^(1/α_D) - 1)
    (Kaplan et al. 2020, §4.2: ≈ 5e3 and 0.74)."""
    nd = _overfit_law(law)
    if not isinstance(nd, KaplanNDLaw):
        raise DomainError("overfitting_rule is a power law in N only for Kaplan's L(N, D)")
    dl = float(positive("delta", delta, "tolerated relative loss penalty"))
    p = nd.alpha_N / nd.alpha_D
    return nd.D_c * nd.N_c ** (-p) / ((1.0 + dl) ** (1.0 / nd.alpha_D) - 1.0), p


def critical_batch_size(
    L: ArrayLike, B_star: float | None = None, alpha_B: float | None = None
) -> float | np.ndarray:
    """B_crit(L) = B* / L^(1/α_B) tokens, L in nats per token (Kaplan et al. 2020, eq. 5.3;
    B* = 2e8 tokens, α_B = 0.21 by default)."""
    bs = _kaplan_constant("B_star") if B_star is None else float(positive("B_star", B_star))
    ab = _kaplan_constant("alpha_B") if alpha_B is None else float(positive("alpha_B", alpha_B))
    loss = positive("L", L, "loss in nats per token")
    return scalar_or_array(bs / loss ** (1.0 / ab))


def min_steps(S: ArrayLike, B: ArrayLike, B_crit: ArrayLike) -> float | np.ndarray:
    """S_min = S / (1 + B_crit/B): the steps needed at a very large batch to match S steps at
    batch B (Kaplan et al. 2020, eq. 5.4)."""
    s, b, bc = (positive(n, v) for n, v in (("S", S), ("B", B), ("B_crit", B_crit)))
    return scalar_or_array(s / (1.0 + bc / b))


def min_examples(E: ArrayLike, B: ArrayLike, B_crit: ArrayLike) -> float | np.ndarray:
    """E_min = E / (1 + B/B_crit): the tokens needed at a very small batch to match E = B·S
    tokens at batch B (Kaplan et al. 2020, §5.1; (S/S_min - 1)(E/E_min - 1) = 1)."""
    e, b, bc = (positive(n, v) for n, v in (("E", E), ("B", B), ("B_crit", B_crit)))
    return scalar_or_array(e / (1.0 + b / bc))


def min_compute(C: ArrayLike, B: ArrayLike, B_crit: ArrayLike) -> float | np.ndarray:
    """C_min = C / (1 + B/B_crit): the compute at a very small batch that matches C at batch B
    (Kaplan et al. 2020, eq. 5.5)."""
    c, b, bc = (positive(n, v) for n, v in (("C", C), ("B", B), ("B_crit", B_crit)))
    return scalar_or_array(c / (1.0 + b / bc))


def early_stopping_steps(
    N: ArrayLike,
    D: ArrayLike,
    law: Any = "kaplan2020",
    S_c: float | None = None,
    alpha_S: float | None = None,
) -> float | np.ndarray:
    """S_stop(N, D) ≳ S_c / [L(N, D) - L(N, ∞)]^(1/α_S): a lower bound on the step at which
    early stopping should happen on D tokens (Kaplan et al. 2020, eq. 5.7; L(N, D) from
    Table 2, S_c = 2.1e3 and α_S = 0.76 from Table 3 by default)."""
    nd = _overfit_law(law)
    sc = _kaplan_constant("S_c") if S_c is None else float(positive("S_c", S_c))
    a_s = _kaplan_constant("alpha_S") if alpha_S is None else float(positive("alpha_S", alpha_S))
    n = positive("N", N, "parameters")
    d = positive("D", D, "training tokens")
    gap = np.asarray(nd(N=n, D=d), dtype=float) - _loss_infinite_data(nd, n)
    return scalar_or_array(sc / gap ** (1.0 / a_s))


def _kaplan_ns_law() -> Any:
    return get_preset("kaplan2020").laws["L(N, S)"]


def min_steps_for_loss(N: ArrayLike, L: ArrayLike) -> float | np.ndarray:
    """S_min(N, L) = S_c / (L - (N_c/N)^α_N)^(1/α_S): the fewest optimisation steps (at a
    batch B >> B_crit) in which a model of N non-embedding parameters reaches loss L, from
    inverting Kaplan et al. 2020's L(N, S_min) = (N_c/N)^α_N + (S_c/S_min)^α_S (eq. 1.6,
    Table 3: N_c = 6.5e13, α_N = 0.077, S_c = 2.1e3, α_S = 0.76).  Steps S taken at batch B
    relate to it by S_min = S/(1 + B_crit/B) (eq. 5.4, :func:`min_steps`).

    Raises :class:`DomainError` where L is not above (N_c/N)^α_N, the loss the model
    approaches with unlimited steps."""
    from scalinglaws.units import format_quantity

    law = _kaplan_ns_law()
    n = positive("N", N, "non-embedding parameters")
    loss = positive("L", L, "loss in nats per token")
    n, loss = np.broadcast_arrays(n, loss)
    floor = (law.N_c / n) ** law.alpha_N
    if np.any(loss <= floor):
        i = int(np.argmax(np.ravel(loss <= floor)))
        raise DomainError(
            f"L = {np.ravel(loss)[i]:g} is unreachable for N = {format_quantity(np.ravel(n)[i])}: "
            f"Kaplan's L(N, S) never goes below (N_c/N)^alpha_N = {np.ravel(floor)[i]:.4g} "
            "however many steps; choose a larger L or N",
            argument="L",
        )
    return scalar_or_array(law.S_c / (loss - floor) ** (1.0 / law.alpha_S))


def min_examples_for_loss(N: ArrayLike, L: ArrayLike) -> float | np.ndarray:
    """E_min(N, L) = B_crit(L)·S_min(N, L) tokens: the fewest training tokens (at a batch
    B << B_crit) in which N non-embedding parameters reach loss L (Kaplan et al. 2020: §5.1
    defines B_crit = E_min/S_min; with eq. 5.4's S_min = S/(1 + B_crit/B) and
    E_min = E/(1 + B/B_crit) it follows [derived]).  The compute is C_min = 6·N·E_min
    (eq. 5.5).  See :func:`min_steps_for_loss` and :func:`critical_batch_size`."""
    return scalar_or_array(
        np.asarray(critical_batch_size(L), dtype=float)
        * np.asarray(min_steps_for_loss(N, L), dtype=float)
    )
