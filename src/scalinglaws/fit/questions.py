"""Questions a fit answers at any budget, fresh or loaded from JSON: the compute-optimal
allocation with intervals (:func:`allocate_fit`), the loss with an interval
(:func:`predict_with_interval`), parameter intervals at any level (:func:`conf_int`) and
findings about a request (:func:`budget_diagnostics`).  :class:`~scalinglaws.fit.result.Fit`'s
methods of the same names call these.  :func:`allocation_answers` and
:func:`prediction_answers` answer lists of requests to a fit or a preset as rows with their
intervals and how far beyond the fit's data each lies (:func:`beyond_data`) -- what
``scalinglaws allocate`` and ``scalinglaws predict`` print.

Intervals come from the fit's bootstrap replicates (:class:`~scalinglaws.fit.result.Replicates`):
each replicate's law (or, for Approaches 1 and 2, its rule N* = k_N·C^a, D* = k_D·C^b and loss
frontier L*(C)) answers the question, and the interval is the equal-tailed percentile
interval of the answers -- parameter uncertainty only.  An automatic fit
(:class:`~scalinglaws.fit.auto.AutoFitResult`) answers with its own intervals, calibrated for
extrapolation by its nested backtest.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import DataError, DomainError, QuantityError, UnknownNameError
from scalinglaws.laws.base import Law, positive, scalar_or_array

if TYPE_CHECKING:
    from scalinglaws.allocation import Allocation
    from scalinglaws.fit.result import Diagnostic, Fit

#: The quantities of a fitted allocation rule (Approaches 1 and 2).
RULE = ("k_N", "a", "k_D", "b")

PARAMETER_ONLY = (
    "parameter uncertainty only; 'scalinglaws fit --approach auto' gives intervals "
    "calibrated for extrapolation"
)


@dataclass(frozen=True)
class Prediction:
    """Predicted losses with an interval at ``level`` (arrays, or floats for scalar input).

    ``L`` the point prediction, ``low``/``high`` the interval, ``method`` how the interval
    was made, in words.  An automatic fit also fills ``distance`` (spans of C beyond the
    largest run of the data, 0 inside), ``factor`` = C / C_max and ``sd`` (the out-of-sample
    log error's standard deviation added at that distance)."""

    L: Any
    low: Any
    high: Any
    level: float
    method: str = ""
    distance: Any = None
    factor: Any = None
    sd: Any = None


def check_level(level: Any, argument: str = "level") -> float:
    """A level strictly between 0 and 1."""
    ok = isinstance(level, (int, float, np.integer, np.floating)) and not isinstance(level, bool)
    if not ok or not 0 < float(level) < 1:
        raise QuantityError(
            f"{argument} must be a number between 0 and 1 (e.g. 0.95), got {level!r}"
        )
    return float(level)


def percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval at ``level`` over axis 0 of ``draws`` (one row per
    replicate), NaN draws ignored; NaN where fewer than 2 draws are finite."""
    d = np.asarray(draws, dtype=float)
    tail = 50 * (1 - level)
    finite = np.sum(np.isfinite(d), axis=0)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(d, [tail, 100 - tail], axis=0)
    low = np.where(finite >= 2, low, np.nan)
    high = np.where(finite >= 2, high, np.nan)
    return low, high


# ============================================================================ conf_int
def replicate_table(fit: Fit) -> dict[str, np.ndarray]:
    """Every quantity of the fit with one value per replicate: the stored replicates, and
    for a Chinchilla or Kaplan law the allocation exponents a, b (and G) they imply."""
    from scalinglaws.allocation import allocation_exponents
    from scalinglaws.laws.chinchilla import ChinchillaLaw
    from scalinglaws.laws.kaplan import KaplanNDLaw

    if fit.replicates is None or not len(fit.replicates):
        return {}
    table = dict(fit.replicates.values)
    law = fit.law
    if isinstance(law, (ChinchillaLaw, KaplanNDLaw)) and all(n in table for n in law.params):
        for name, v in allocation_exponents(type(law), table).items():
            table.setdefault(name, np.asarray(v, dtype=float))
    return table


def conf_int(fit: Fit, level: float) -> dict[str, tuple[float, float]]:
    """Percentile intervals at ``level`` of the fit's parameters and derived quantities from
    its replicates (the method of :func:`scalinglaws.fit.bootstrap.summarize`)."""
    from scalinglaws.fit.bootstrap import summarize

    lev = check_level(level)
    table = replicate_table(fit)
    names = [n for n in (*fit.params, *fit.derived) if n in table]
    return summarize({n: table[n] for n in names}, lev)[1]


# ============================================================================ allocate
def allocate_fit(fit: Fit, C: Any, level: float | None, flops_per_token: Any) -> Allocation:
    """N*, D*, L* at budgets ``C`` from ``fit`` with percentile intervals of its replicates'
    allocations (see the module docstring); no intervals without replicates."""
    from scalinglaws.allocation import allocate

    c = positive("C", C, "training FLOPs")
    lev = fit.level if level is None else check_level(level)
    conv = fit.convention if flops_per_token is None else FlopsConvention.of(flops_per_token)
    variables = tuple(sorted(fit.law.variables))
    if variables == ("D", "N"):
        point = allocate(fit.law, C=c, flops_per_token=conv)
        draws = _law_draws(fit, c, conv)
        method = "allocations"
    elif _rule(fit) is not None:
        point = allocate(fit, C=c, flops_per_token=conv)
        draws = _rule_draws(fit, c)
        method = "allocations (their N* = k_N·C^a, D* = k_D·C^b and loss frontier L*(C))"
    else:
        raise DomainError(
            f"the fit's law '{fit.law.name}' takes ({', '.join(fit.law.variables)}), so it "
            "cannot allocate a budget; use a fit of an (N, D) law such as approach 3's "
            "Chinchilla or Kaplan L(N, D), or an Approach 1 or 2 fit"
        )
    if draws is None:
        return point
    intervals, stderr = {}, {}
    for key, values in draws.items():
        low, high = percentile_interval(values, lev)
        intervals[key] = (_shaped(low, c), _shaped(high, c))
        stderr[key] = _shaped(_std(values), c)
    n = int(np.sum(np.all(np.isfinite(draws["N"]), axis=1)))
    return dataclasses.replace(
        point,
        level=lev,
        intervals=intervals,
        stderr=stderr,
        interval_method=f"the {n} bootstrap replicates' {method} ({PARAMETER_ONLY})",
    )


def _std(draws: np.ndarray) -> np.ndarray:
    """Sample standard deviation (ddof=1) over axis 0, NaN draws ignored (as
    :func:`scalinglaws.fit.bootstrap.summarize`)."""
    d = np.asarray(draws, dtype=float)
    out = np.full(d.shape[1:], np.nan)
    for j in np.ndindex(*d.shape[1:]):
        v = d[(slice(None), *j)]
        v = v[np.isfinite(v)]
        if v.size >= 2:
            out[j] = np.std(v, ddof=1)
    return out


def _shaped(values: np.ndarray, like: np.ndarray) -> Any:
    return scalar_or_array(np.asarray(values, dtype=float).reshape(np.shape(like)))


def _rule(fit: Fit) -> dict[str, float] | None:
    table = {**fit.derived, **fit.params}
    if all(n in table for n in RULE):
        return {n: float(table[n]) for n in RULE}
    return None


def _law_draws(fit: Fit, c: np.ndarray, conv: FlopsConvention) -> dict[str, np.ndarray] | None:
    """Each usable replicate law's (N*, D*, L*) at the budgets: rows = replicates."""
    from scalinglaws.allocation import allocate, optimal_allocation
    from scalinglaws.laws.chinchilla import ChinchillaLaw
    from scalinglaws.laws.kaplan import KaplanNDLaw

    flat = c.reshape(-1)
    stored = fit.replicates
    if (
        isinstance(fit.law, (ChinchillaLaw, KaplanNDLaw))
        and stored is not None
        and len(stored)
        and all(n in stored for n in fit.law.params)
    ):  # every replicate at once; a failed one (NaN constants) gives NaN
        cols = {n: stored[n] for n in fit.law.params}
        N, D, L = optimal_allocation(type(fit.law), cols, flat, conv)
        return {"N": N, "D": D, "L": L}
    reps = fit.replicate_laws()
    if not reps:
        return None
    rows: dict[str, list[np.ndarray]] = {"N": [], "D": [], "L": []}
    for rep in reps:
        try:
            with np.errstate(all="ignore"):
                a = allocate(rep, C=flat, flops_per_token=conv)
        except (DomainError, ValueError, ArithmeticError):
            continue
        for key in rows:
            rows[key].append(np.asarray(getattr(a, key), dtype=float).reshape(-1))
    if not rows["N"]:
        return None
    return {key: np.array(v) for key, v in rows.items()}


def _rule_draws(fit: Fit, c: np.ndarray) -> dict[str, np.ndarray] | None:
    """Each replicate's rule N* = k_N·C^a, D* = k_D·C^b and loss frontier L*(C)."""
    from scalinglaws.allocation import rule_allocation

    reps = fit.replicates
    if reps is None or not len(reps) or not all(n in reps for n in RULE):
        return None
    flat = c.reshape(-1)
    N, D = rule_allocation(*(reps[n] for n in RULE), flat)
    L = np.full(N.shape, np.nan)
    names = [f.name for f in dataclasses.fields(fit.law)]  # type: ignore[arg-type]
    constants = [n for n in names if n in reps and n != "variable"]
    if constants and tuple(fit.law.variables) == ("C",):
        base = {f.name: getattr(fit.law, f.name) for f in dataclasses.fields(fit.law)}  # type: ignore[arg-type]
        for i in range(len(reps)):
            values = {n: float(reps[n][i]) for n in constants}
            if not all(math.isfinite(v) for v in values.values()):
                continue
            try:
                law = type(fit.law)(**{**base, **values})
                with np.errstate(all="ignore"):
                    L[i] = np.asarray(law(C=flat), dtype=float)
            except (ValueError, ArithmeticError, DomainError):
                continue
    return {"N": N, "D": D, "L": L}


def allocation_rows(
    fit: Fit, budgets: Any
) -> list[tuple[str, float, float | None, tuple[float, float] | None]]:
    """(label, estimate, std err, interval) of N*, D*, L* at each budget, as
    :meth:`Fit.allocate` answers them, for tables: labelled ``"N_opt@5.76e+23"`` (a label
    for a reader, never a key)."""
    c = np.atleast_1d(np.asarray(budgets, dtype=float))
    if not c.size:
        return []
    alloc = fit.allocate(c)
    rows = []
    for i, budget in enumerate(c):
        for x in ("N", "D", "L"):
            value = float(np.atleast_1d(getattr(alloc, x))[i])
            se = alloc.stderr.get(x)
            se = (
                None
                if se is None or not np.isfinite(np.atleast_1d(se)[i])
                else float(np.atleast_1d(se)[i])
            )
            interval = None
            if x in alloc.intervals:
                lo, hi = (float(np.atleast_1d(v)[i]) for v in alloc.intervals[x])
                if np.isfinite(lo) and np.isfinite(hi):
                    interval = (lo, hi)
            rows.append((f"{x}_opt@{budget:.3g}", value, se, interval))
    return rows


# ============================================================================ predict
def predict_with_interval(fit: Fit, variables: dict[str, Any], level: float) -> Prediction:
    """The fitted law at ``variables`` with the percentile interval of the replicate laws'
    predictions at ``level``; raises when the fit has no replicates."""
    from scalinglaws.errors import FitError

    lev = check_level(level)
    point = np.asarray(fit.law(**variables), dtype=float)
    reps = fit.replicate_laws()
    if not reps:
        raise FitError(
            "this fit has no bootstrap replicates, so it has no interval to give; fit with "
            "n_bootstrap > 0 (or the automatic fit), or call predict without level"
        )
    with np.errstate(all="ignore"):
        draws = np.array([np.asarray(r(**variables), dtype=float) for r in reps])
    low, high = percentile_interval(draws, lev)
    return Prediction(
        L=scalar_or_array(point),
        low=scalar_or_array(np.asarray(low).reshape(point.shape)),
        high=scalar_or_array(np.asarray(high).reshape(point.shape)),
        level=lev,
        method=f"the {len(reps)} bootstrap replicates' predictions (parameter uncertainty "
        "only, not out-of-sample error; 'scalinglaws fit --approach auto' gives intervals "
        "calibrated for extrapolation)",
    )


# ============================================================================ diagnostics
def budget_diagnostics(fit: Fit, C: Any) -> list[Diagnostic]:
    """``EXTRAPOLATION`` for each budget outside the range of C of the fit's data, and for a
    law of (N, D) ``OPTIMUM_OUTSIDE_DATA`` for each budget inside it whose optimum the runs
    do not bracket."""
    from scalinglaws.fit import diagnostics as diag

    budgets = [float(x) for x in np.atleast_1d(positive("C", C, "training FLOPs"))]
    fitted = (fit.extra or {}).get("extrapolation")
    if fitted:  # a power law of C: the distance from the C it was fitted over
        return diag.extrapolation_distance(
            budgets, fitted["range"], fitted["what"], fitted["consequence"]
        )
    rng = (fit.extra or {}).get("data_range") or {}
    c_range = rng.get("C")
    if not c_range:
        return []
    out: list[Diagnostic] = []
    lo, hi = float(c_range[0]), float(c_range[1])
    inside = [b for b in budgets if lo <= b <= hi]
    law = fit.law
    if inside and isinstance(law, Law) and tuple(sorted(law.variables)) == ("D", "N"):
        if "N" in rng and "D" in rng:
            from scalinglaws.allocation import allocate

            try:
                a = allocate(law, C=np.array(inside), flops_per_token=fit.convention)
                n_opt = np.atleast_1d(np.asarray(a.N, dtype=float))
                d_opt = np.atleast_1d(np.asarray(a.D, dtype=float))
            except (DomainError, ValueError, ArithmeticError):
                n_opt = d_opt = np.array([])
            if n_opt.size and np.all(np.isfinite(n_opt)) and np.all(np.isfinite(d_opt)):
                out += diag.optimum_outside_data(
                    inside,
                    n_opt,
                    d_opt,
                    (float(rng["N"][0]), float(rng["N"][1])),
                    (float(rng["D"][0]), float(rng["D"][1])),
                )
    out += diag.extrapolation_distance(budgets, [lo, hi])
    return out


# ============================================================================ answers
@dataclass(frozen=True)
class Answers:
    """What a saved fit or a preset answers to a list of requests, one row per request --
    what ``scalinglaws allocate`` and ``scalinglaws predict`` print.

    ``rows``: one dict of floats per request, in this order: the request's quantities
    (``columns``), then the answer (an allocation's ``tokens_per_param`` and ``L``; a
    prediction's ``L``), its interval where the fit gives one (``L_low``, ``L_high``; an
    allocation also ``N_low`` ... ``D_high``) and ``beyond_data`` (C over the largest C of the
    fit's runs) where the fit recorded its data's range.  NaN where no value exists (the loss
    of a preset that publishes no loss law).
    ``method``: how the answer was computed: the allocation's method ("closed form",
    "numeric", "power-law rule"), or for a prediction the law's formula.
    ``allocation``: for a prediction from budgets alone, the method of the compute-optimal
    allocation that placed N and D; None otherwise.
    ``level`` and ``interval``: the intervals' level and how they were made, in words (None
    without intervals).  ``beyond_data``: how the rows' ``beyond_data`` was measured and how
    far the fit checked its extrapolation, in words (None without it).
    """

    rows: list[dict[str, float]]
    columns: tuple[str, ...]
    method: str
    allocation: str | None = None
    level: float | None = None
    interval: str | None = None
    beyond_data: str | None = None


@dataclass(frozen=True)
class BeyondData:
    """How far beyond a fit's data each request lies: ``factor`` = C / C_max per request
    (at most 1 inside the data's range) and ``words`` saying how it was measured."""

    factor: np.ndarray
    words: str


class MissingVariables(DataError):
    """A prediction request without the variables the fitted law takes: ``law_name`` is the
    law's name, ``variables`` the ones it takes (e.g. ``("N", "D")``)."""

    def __init__(self, law_name: str, variables: tuple[str, ...]) -> None:
        takes = ", ".join(variables)
        super().__init__(
            f"the fitted law '{law_name}' takes ({takes}); give {' and '.join(variables)}"
        )
        self.law_name = law_name
        self.variables = variables


def beyond_data(source: Any, C: Any, N: Any = None, D: Any = None) -> BeyondData | None:
    """How far beyond a saved fit's data requests at budgets ``C`` lie, with a sentence on
    how far the fit checked its extrapolation (an automatic fit: its nested backtest's
    reach).  Requests given as (``N``, ``D``) to an automatic fit are placed by the fit's own
    C = k·N·D, as its weights and intervals are, instead of ``C``.  None for a preset, no
    ``C``, or a fit that did not record its data's range."""
    from scalinglaws.fit.result import Fit

    if C is None or not isinstance(source, Fit):
        return None
    own_k = None
    if source.approach == "auto" and N is not None and D is not None:
        own_k = float(getattr(source.law, "k", 6.0))
        C = own_k * np.asarray(N) * np.asarray(D)
    factor = source.beyond_data(C)
    if factor is None:
        return None
    factor = np.atleast_1d(np.asarray(factor, dtype=float))
    c_max = float(source.extra["data_range"]["C"][1])
    words = f"C over the largest C of the fit's runs ({c_max:.3g} FLOPs)"
    if own_k is not None:
        words += f", C = {own_k:.4g}·N·D as in those runs"
    if source.approach == "auto":
        words += _reach_words(source, float(np.max(factor)))
    elif float(np.max(factor)) > 1:
        words += "; nothing in this fit measured its error that far out (fit --approach auto does)"
    return BeyondData(factor=factor, words=words)


def _reach_words(fit: Fit, farthest: float) -> str:
    """How far an automatic fit's nested backtest checked extrapolation, against the
    farthest request (``farthest`` times the data's largest C)."""
    from scalinglaws.fit.auto import AutoFitResult

    auto = fit if isinstance(fit, AutoFitResult) else AutoFitResult.from_fit(fit)
    reach = auto.nested.reach
    if not math.isfinite(reach):
        return "; its nested backtest checked no extrapolation"
    checked = math.exp(reach)
    words = f"; its nested backtest checked extrapolation up to {checked:.3g}x"
    if farthest > checked:
        words += (
            ", so the intervals of the rows beyond that extend its measured error "
            "growth (a + b*d^2) rather than measure it"
        )
    return words


def _fit_of(source: Any) -> Fit | None:
    """``source`` when it is a fit (it answers with intervals), None for a preset or law."""
    from scalinglaws.fit.result import Fit

    return source if isinstance(source, Fit) else None


def _source(source: Any) -> Any:
    """A preset name becomes its :class:`~scalinglaws.presets.Preset`."""
    if isinstance(source, str):
        from scalinglaws.presets import get_preset

        return get_preset(source)
    return source


def _fit_allocation(fit: Fit, C: np.ndarray, k: float, level: float | None) -> Allocation | None:
    """:meth:`Fit.allocate` at budgets ``C`` when it gives intervals (an automatic fit: its
    own optimum under its runs' own k, whatever ``k``), else None."""
    if fit.approach == "auto":
        a = fit.allocate(C, level)
    else:
        try:
            a = fit.allocate(C, level, flops_per_token=k)
        except DomainError:
            return None
    return a if a.intervals else None


def _with_beyond(rows: list[dict[str, float]], beyond: BeyondData | None) -> list[dict[str, float]]:
    if beyond is not None:
        for r, f in zip(rows, beyond.factor, strict=True):
            r["beyond_data"] = float(f)
    return rows


# ------------------------------------------------------------------ allocation
def allocation_answers(
    source: Any,
    *,
    C: Any = None,
    N: Any = None,
    L: Any = None,
    flops_per_token: float = 6.0,
    level: float | None = None,
) -> Answers:
    """The compute-optimal allocation asked one of three ways -- at budgets ``C``, as the
    budgets at which model sizes ``N`` are optimal, or as the least compute reaching losses
    ``L`` -- from a preset (or its name) or a fit, under C = ``flops_per_token``·N·D.

    At budgets, a fit adds the intervals of :meth:`Fit.allocate` at ``level`` (default: the
    fit's own; an automatic fit answers with its own optimum and intervals, under its runs'
    own k), and every row says how far beyond the fit's data it lies (:func:`beyond_data`)."""
    from scalinglaws.allocation import allocate, allocate_for_params, compute_for_loss

    asked = {"C": C, "N": N, "L": L}
    given = [x for x, v in asked.items() if v is not None]
    if len(given) != 1:
        raise DataError(
            "give exactly one of C (budgets), N (model sizes) or L (target losses), got "
            + (", ".join(given) if given else "none")
        )
    if level is not None:
        if C is None:
            raise DataError(
                "level goes with C (intervals of N*, D*, L* at budgets)", argument="level"
            )
        level = check_level(level)
    src = _source(source)
    values = np.atleast_1d(np.asarray(asked[given[0]], dtype=float))
    band = None
    if C is not None:
        result = allocate(src, C=values, flops_per_token=flops_per_token)
        fit = _fit_of(src)
        if fit is not None:
            band = _fit_allocation(fit, values, flops_per_token, level)
    elif N is not None:
        result = allocate_for_params(src, N=values, flops_per_token=flops_per_token)
    else:
        result = compute_for_loss(src, L=values, flops_per_token=flops_per_token)
    keys = ("C", "N", "D", "tokens_per_param", "L")
    rows = [{key: _at(getattr(result, key), i) for key in keys} for i in range(len(values))]
    if band is not None:
        _add_allocation_band(rows, band, own=src.approach == "auto")
    beyond = beyond_data(src, np.array([r["C"] for r in rows]))
    return Answers(
        rows=_with_beyond(rows, beyond),
        columns=("C", "N", "D"),
        method=result.method,
        level=None if band is None else band.level,
        interval=None if band is None else band.interval_method,
        beyond_data=None if beyond is None else beyond.words,
    )


def _add_allocation_band(rows: list[dict[str, float]], band: Allocation, own: bool) -> None:
    """The intervals of N*, D*, L* into ``rows``; with ``own`` (an automatic fit) the fit's
    own optimum replaces the point allocation."""
    for i, r in enumerate(rows):
        if own:
            r.update(N=_at(band.N, i), D=_at(band.D, i))
            r.update(L=_at(band.L, i), tokens_per_param=r["D"] / r["N"])
        for x in ("N", "D", "L"):
            low, high = band.intervals[x]
            r[f"{x}_low"], r[f"{x}_high"] = _at(low, i), _at(high, i)


def _at(values: Any, i: int) -> float:
    return float(np.atleast_1d(values)[i])


# ------------------------------------------------------------------ prediction
def prediction_answers(
    source: Any,
    *,
    N: Any = None,
    D: Any = None,
    C: Any = None,
    S: Any = None,
    flops_per_token: float = 6.0,
    level: float | None = None,
) -> Answers:
    """The loss predicted by a preset (or its name) or a fit for requests given as (``N``,
    ``D``), two of ``N``, ``D``, ``C`` (the third from C = ``flops_per_token``·N·D), ``C``
    alone (the loss at the compute-optimal allocation), or a one-variable law's variable
    (Kaplan's ``N``, ``N`` with ``S``, ...); lists broadcast against each other.

    A fit adds the interval it supports at ``level`` (default: the fit's own): its bootstrap
    replicates' predictions, an automatic fit's interval calibrated for extrapolation (at C
    alone, its own optimum and interval), none without either; and every row says how far
    beyond the fit's data it lies (:func:`beyond_data`)."""
    src = _source(source)
    if level is not None:
        level = check_level(level)
    v, given = _request({"N": N, "D": D, "C": C, "S": S}, float(flops_per_token))
    variables = tuple(x for x in ("N", "D", "S") if x in v) or ("C",)
    law = _law_for(src, variables)
    allocation = None
    if law is not None:
        L = np.asarray(law(**{x: v[x] for x in law.variables}), dtype=float)
        method = law.formula
    else:
        a = _loss_at_optimum(src, v["C"], flops_per_token)
        v["N"], v["D"], L = np.asarray(a.N), np.asarray(a.D), np.asarray(a.L)
        method, allocation = "loss at the compute-optimal allocation", a.method
    fit = _fit_of(src)
    band = None if fit is None else _prediction_band(fit, v, law, flops_per_token, level)
    if band is not None and band.get("N") is not None:  # auto: its own optimum
        v["N"], v["D"], L = band["N"], band["D"], band["L"]
    cols = tuple(x for x in ("C", "N", "D", "S") if x in v)
    rows = [{x: float(v[x][i]) for x in cols} | {"L": float(L[i])} for i in range(len(L))]
    if band is not None:
        for i, r in enumerate(rows):
            r["L_low"], r["L_high"] = float(band["low"][i]), float(band["high"][i])
    placed = v.get("N") if "C" not in given else None  # requests placed by (N, D)
    beyond = beyond_data(src, v.get("C"), placed, v.get("D"))
    return Answers(
        rows=_with_beyond(rows, beyond),
        columns=cols,
        method=method,
        allocation=allocation,
        level=None if band is None else band["level"],
        interval=None if band is None else band["words"],
        beyond_data=None if beyond is None else beyond.words,
    )


def _request(asked: dict[str, Any], k: float) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """The requests as equally long arrays, the third of N, D, C from C = k·N·D when two are
    given; and the names given."""
    given = tuple(x for x, value in asked.items() if value is not None)
    if not given:
        raise DataError("give N and D, two of N, D and C, C alone, or N with S")
    if "S" in given and ("C" in given or "D" in given):
        raise DataError("S goes with N only (Kaplan's L(N, S))")
    if {"N", "D", "C"} <= set(given):
        raise DataError("give two of N, D and C, not all three")
    arrays = {x: np.atleast_1d(np.asarray(asked[x], dtype=float)) for x in given}
    try:
        shaped = np.broadcast_arrays(*arrays.values())
    except ValueError:
        listing = ", ".join(f"{x} has {len(a)}" for x, a in arrays.items())
        raise QuantityError(
            f"the value lists must have the same length or length 1 ({listing})"
        ) from None
    v = {x: np.asarray(a, dtype=float).reshape(-1) for x, a in zip(arrays, shaped, strict=True)}
    if "C" in v and "N" in v:
        v["D"] = v["C"] / (k * v["N"])
    elif "C" in v and "D" in v:
        v["N"] = v["C"] / (k * v["D"])
    elif "N" in v and "D" in v:
        v["C"] = k * v["N"] * v["D"]
    return v, given


def _law_for(source: Any, variables: tuple[str, ...]) -> Law | None:
    """The source's law of exactly ``variables``; None for budgets alone without a law of C
    (the loss at the compute-optimal allocation answers).  A fit whose law takes other
    variables raises :class:`MissingVariables`."""
    fit = _fit_of(source)
    if fit is None:
        try:
            return source.law_for(variables)
        except UnknownNameError:
            if variables != ("C",):
                raise
            return None
    law = fit.law
    if tuple(sorted(law.variables)) == tuple(sorted(variables)):
        return law
    if variables == ("C",):
        return None
    raise MissingVariables(law.name, tuple(law.variables))


def _loss_at_optimum(source: Any, C: np.ndarray, flops_per_token: float) -> Allocation:
    """The compute-optimal allocation at budgets ``C``, refused when it has no loss."""
    from scalinglaws.allocation import allocate

    a = allocate(source, C=C, flops_per_token=flops_per_token)
    if not np.all(np.isfinite(a.L)):
        name = "this fit" if _fit_of(source) is not None else getattr(source, "name", "this law")
        raise DomainError(
            f"{name} publishes no loss law, so it cannot predict a loss; use a preset with "
            "one such as 'hoffmann2022' or 'kaplan2020'"
        )
    return a


def _prediction_band(
    fit: Fit,
    v: dict[str, np.ndarray],
    law: Law | None,
    k: float,
    level: float | None,
) -> dict[str, Any] | None:
    """Intervals of the predicted losses, as the fit computes them: for budgets alone the
    loss at its compute-optimal allocation (:meth:`Fit.allocate`; an automatic fit's own
    N*, D*, L* with its calibrated prediction interval), otherwise :meth:`Fit.predict` at
    ``level``.  None when the fit has no intervals to give."""
    if law is None:
        a = _fit_allocation(fit, v["C"], k, level)
        if a is None:
            return None
        low, high = (np.atleast_1d(x) for x in a.intervals["L"])
        out = {"low": low, "high": high, "level": a.level, "words": a.interval_method}
        if fit.approach == "auto":  # its own optimum; L*'s interval is a prediction interval
            from scalinglaws.fit.auto import PREDICTION_WORDS

            out["words"] = PREDICTION_WORDS
            out |= {x: np.atleast_1d(getattr(a, x)) for x in ("N", "D", "L")}
        return out
    if fit.approach == "auto" and set(law.variables) != {"N", "D"}:
        return None
    if fit.approach != "auto" and not fit.replicate_laws():
        return None  # no bootstrap: nothing to make an interval from
    pred = fit.predict(
        level=fit.level if level is None else level, **{x: v[x] for x in law.variables}
    )
    return {
        "low": np.atleast_1d(pred.low),
        "high": np.atleast_1d(pred.high),
        "level": pred.level,
        "words": pred.method,
    }
