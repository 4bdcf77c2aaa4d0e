"""Over-training, priced: what a model trained past its compute-optimal tokens per parameter
costs, and the over-training law of Gadre et al. 2024 fitted and compared with the free form.

The price of over-training [derived from Hoffmann et al. 2022, App. D.2].  A model of N
parameters on D tokens costs C = f(N)·D training FLOPs (6ND by default) and reaches
L = L(N, D).  The compute-optimal recipe reaches that same loss with the least compute
C_eq = :func:`~scalinglaws.allocation.compute_for_loss` (L) -- for an over-trained model, on a
larger model N_eq and fewer tokens.  So

    price       = C / C_eq          (1 at the compute-optimal ratio, > 1 on either side)
    extra FLOPs = C − C_eq
    size ratio  = N_eq / N          (> 1 when over-trained: the smaller model you get)

and at the same C the compute-optimal model's loss L*(C) = L(N*, D*) is below L by the
``loss_gap``.  Under the Chinchilla form the price depends only on how far D/N is from the
optimum's D*/N* at that budget [derived]: with N = N*·e^(−t), D = D*·e^t (same C),

    L − E = (L*(C) − E)·r(t),   r(t) = (β·e^(αt) + α·e^(−βt))/(α + β),
    price = r(t)^((α+β)/(αβ)),

since αA/N*^α = βB/D*^β at the optimum and L* − E ∝ C^(−αβ/(α+β)).

``law`` is anything :mod:`scalinglaws.allocation` accepts with an (N, D) loss law; a Fit with
bootstrap replicates gives intervals (each replicate's law answers, as
:mod:`scalinglaws.fit.questions` does for allocations; parameter uncertainty only).

Gadre et al. 2024's law (:class:`~scalinglaws.laws.OvertrainingLaw`) is fitted by
:func:`fit_overtraining_law` and compared with the free-exponent Chinchilla form on the same
runs by :func:`compare_overtraining_fit`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.allocation import (
    _chinchilla,
    _record_dict,
    allocate,
    allocation_exponents,
    compute_for_loss,
    law_values,
    optimal_allocation,
)
from scalinglaws.convention import FlopsConvention, FlopsLike
from scalinglaws.errors import DataError, DomainError, FitError, ScalingLawsError
from scalinglaws.fit.objectives import BatchObjective, ChinchillaForm, Loss
from scalinglaws.fit.optim import minimize_batch, polish_best
from scalinglaws.fit.result import Fit, Replicates
from scalinglaws.inference import _law, _positive
from scalinglaws.laws.base import ArrayLike, Law, scalar_or_array
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.overtraining import K_FLOPS, OvertrainingLaw, chinchilla_constants

#: The quantities of :class:`OvertrainingPrice` that get intervals from a fit's replicates.
PRICED = ("L", "L_opt", "loss_gap", "C_equal", "N_equal", "price", "extra_flops", "size_ratio")


# ============================================================================ the record
@dataclass(frozen=True)
class OvertrainingPrice:
    """The price of training N parameters on D tokens (:func:`overtraining_cost`); floats,
    or arrays for array input.

    C, N, D, tokens_per_param, L: the model asked about (C = f(N)·D, L = L(N, D)).
    N_opt, D_opt, L_opt: the compute-optimal model at the same C; loss_gap = L − L_opt.
    C_equal, N_equal, D_equal: the compute-optimal model that reaches L with the least compute.
    price = C / C_equal; extra_flops = C − C_equal; size_ratio = N_equal / N.
    From a fit with replicates: ``intervals`` maps the names in :data:`PRICED` to (low, high)
    at ``level``; ``interval_method`` says how they were made.
    """

    C: Any
    N: Any
    D: Any
    tokens_per_param: Any
    L: Any
    N_opt: Any
    D_opt: Any
    L_opt: Any
    loss_gap: Any
    C_equal: Any
    N_equal: Any
    D_equal: Any
    price: Any
    extra_flops: Any
    size_ratio: Any
    method: str = ""
    level: float | None = None
    intervals: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    interval_method: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain floats or lists, for JSON."""
        meta = ("method", "level", "intervals", "interval_method")
        return _record_dict(self, [f.name for f in dataclasses.fields(self) if f.name not in meta])


# ============================================================================ inputs
def _model(
    C: Any, tokens_per_param: Any, N: Any, D: Any, f: FlopsConvention
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C, N, D) from either (C, D/N) or (N, D), broadcast."""
    by_budget = C is not None or tokens_per_param is not None
    by_size = N is not None or D is not None
    if by_budget == by_size or (by_budget and (C is None or tokens_per_param is None)):
        raise DomainError(
            "give either C and tokens_per_param (a budget and its D/N) or N and D (a model "
            "and its training tokens), not a mix",
            argument="C" if by_budget else "N",
        )
    if by_size and (N is None or D is None):
        raise DomainError("give both N and D", argument="D" if D is None else "N")
    if by_size:
        n, d = np.broadcast_arrays(
            _positive("N", N, "parameters"), _positive("D", D, "training tokens")
        )
        return f.compute(n, d), n, d
    c, r = np.broadcast_arrays(
        _positive("C", C, "training FLOPs"), _positive("tokens_per_param", tokens_per_param)
    )
    if f.linear:
        n = np.sqrt(c / (f.k * r))  # type: ignore[operator]
    else:  # f(N)·r·N = C rises with N: bisection on log N
        lo, hi = np.zeros(c.shape), np.log(c)
        for _ in range(128):
            mid = 0.5 * (lo + hi)
            big = f.compute(np.exp(mid), r * np.exp(mid)) > c
            hi, lo = np.where(big, mid, hi), np.where(big, lo, mid)
        n = np.exp(0.5 * (lo + hi))
    return c, n, r * n


# ============================================================================ the price
def overtraining_cost(
    law: Any,
    C: ArrayLike = None,
    tokens_per_param: ArrayLike = None,
    N: ArrayLike = None,
    D: ArrayLike = None,
    flops_per_token: FlopsLike = 6.0,
    level: float | None = None,
) -> OvertrainingPrice:
    """The price of over-training (or under-training): give a budget ``C`` with
    ``tokens_per_param`` = D/N, or a model ``N`` with its tokens ``D``.

    Returns the loss there, L = L(N, D); the compute-optimal model at the same C
    (:func:`~scalinglaws.allocation.allocate`) and its loss L*(C); and the least compute
    that reaches L, C_eq (:func:`~scalinglaws.allocation.compute_for_loss`, Hoffmann et al.
    2022, App. D.2), with price = C/C_eq (>= 1), extra FLOPs C − C_eq and the size ratio
    N_eq/N.  ``flops_per_token``: C = k·N·D (6) or a FlopsConvention / callable f(N).

    ``level`` (e.g. 0.95) with a Fit that has bootstrap replicates: percentile intervals of
    every quantity in :data:`PRICED` over the replicates' laws (:func:`price_draws`);
    default: the fit's level when it has replicates, none otherwise.

    Example: Llama 3 8B, 8e9 parameters on 15e12 tokens (~1,875 per parameter), under
    ``"hoffmann2022"``: ``overtraining_cost("hoffmann2022", N=8e9, D=15e12)``.
    """
    f = FlopsConvention.of(flops_per_token)
    nd = _law(law, "overtraining_cost")
    c, n, d = _model(C, tokens_per_param, N, D, f)
    point = _price_point(_chinchilla(nd) or nd, c, n, d, f)
    return _with_intervals(point, law, nd, n, d, f, level)


def _price_point(
    law: Law, c: np.ndarray, n: np.ndarray, d: np.ndarray, f: FlopsConvention
) -> OvertrainingPrice:
    loss = np.asarray(law(N=n, D=d), dtype=float)
    opt = allocate(law, c, f)
    eq = compute_for_loss(law, loss, f)
    c_eq = np.asarray(eq.C, dtype=float)
    n_eq = np.asarray(eq.N, dtype=float)
    s = scalar_or_array
    return OvertrainingPrice(
        C=s(c),
        N=s(n),
        D=s(d),
        tokens_per_param=s(d / n),
        L=s(loss),
        N_opt=opt.N,
        D_opt=opt.D,
        L_opt=opt.L,
        loss_gap=s(loss - np.asarray(opt.L)),
        C_equal=s(c_eq),
        N_equal=s(n_eq),
        D_equal=eq.D,
        price=s(c / c_eq),
        extra_flops=s(c - c_eq),
        size_ratio=s(n_eq / n),
        method=f"compute-optimal model at C and at equal loss: {opt.method}",
    )


# ============================================================================ intervals
def price_draws(
    law_type: type[Law], constants: dict[str, Any], N: ArrayLike, D: ArrayLike, k: float = 6.0
) -> dict[str, np.ndarray]:
    """Every quantity of :data:`PRICED` for each row of a law's constants (shape (R,), e.g.
    bootstrap replicates) at each model (N, D) (shape (P,)): arrays of shape (R, P), NaN where
    a row has no optimum.  C = k·N·D.  Closed forms for the Chinchilla form (and Gadre et al.'s,
    converted: A = a·6^(−η), B = b·6^(−η), α = β = 2η): L*(C) from
    :func:`~scalinglaws.allocation.optimal_allocation`, and
    C_eq = k·((L − E)/K)^(−(α+β)/(αβ)) with K = A·G^(−α) + B·G^β [derived from App. D.2].
    Other law types: use :func:`overtraining_cost` on each replicate's law."""
    cols = {name: np.asarray(v, dtype=float).reshape(-1, 1) for name, v in constants.items()}
    if law_type is OvertrainingLaw:
        cols = chinchilla_constants(cols)
    elif law_type is not ChinchillaLaw:
        raise DomainError(
            f"price_draws knows the Chinchilla and over-training laws, not {law_type.__name__}",
            argument="law_type",
        )
    n = np.asarray(N, dtype=float).reshape(1, -1)
    d = np.asarray(D, dtype=float).reshape(1, -1)
    c = k * n * d
    with np.errstate(all="ignore"):
        loss = law_values(ChinchillaLaw, cols, n, d)
        _, _, l_opt = optimal_allocation(ChinchillaLaw, cols, c.reshape(-1), k)
        ex = allocation_exponents(ChinchillaLaw, cols)
        al, be = cols["alpha"], cols["beta"]
        K = cols["A"] * ex["G"] ** (-al) + cols["B"] * ex["G"] ** be
        gap = loss - cols["E"]
        c_eq = np.where(gap > 0, k * (gap / K) ** (-(al + be) / (al * be)), np.nan)
        n_eq = ex["G"] * (c_eq / k) ** ex["a"]
    return {
        "L": loss,
        "L_opt": l_opt,
        "loss_gap": loss - l_opt,
        "C_equal": c_eq,
        "N_equal": n_eq,
        "price": c / c_eq,
        "extra_flops": c - c_eq,
        "size_ratio": n_eq / n,
    }


def _with_intervals(
    point: OvertrainingPrice,
    source: Any,
    nd: Law,
    n: np.ndarray,
    d: np.ndarray,
    f: FlopsConvention,
    level: float | None,
) -> OvertrainingPrice:
    """``point`` with percentile intervals over a Fit's replicates (none without them)."""
    from scalinglaws.fit.questions import PARAMETER_ONLY, check_level, percentile_interval

    reps = getattr(source, "replicates", None)
    if reps is None or not len(reps):
        if level is not None:
            raise FitError(
                "intervals need a fit with bootstrap replicates; fit with n_bootstrap > 0, or "
                "call overtraining_cost without level",
                argument="level",
            )
        return point
    lev = float(getattr(source, "level", 0.95)) if level is None else check_level(level)
    draws = _draws(source, nd, n, d, f)
    if draws is None:
        return point
    intervals = {}
    for key in PRICED:
        low, high = percentile_interval(draws[key], lev)
        intervals[key] = (_shaped(low, n), _shaped(high, n))
    used = int(np.sum(np.all(np.isfinite(draws["price"]), axis=1)))
    return dataclasses.replace(
        point,
        level=lev,
        intervals=intervals,
        interval_method=f"the {used} bootstrap replicates' laws ({PARAMETER_ONLY})",
    )


def _shaped(values: np.ndarray, like: np.ndarray) -> Any:
    return scalar_or_array(np.asarray(values, dtype=float).reshape(np.shape(like)))


def _draws(
    fit: Any, nd: Law, n: np.ndarray, d: np.ndarray, f: FlopsConvention
) -> dict[str, np.ndarray] | None:
    """Each replicate's answers, rows = replicates: all at once for the Chinchilla and
    over-training forms under C = k·N·D, else one replicate law at a time."""
    reps = fit.replicates
    names = list(nd.params)
    if (
        isinstance(nd, (ChinchillaLaw, OvertrainingLaw))
        and f.linear
        and all(x in reps for x in names)
    ):
        consts = {x: reps[x] for x in names}
        return price_draws(type(nd), consts, n.reshape(-1), d.reshape(-1), float(f.k))  # type: ignore[arg-type]
    rows: dict[str, list[np.ndarray]] = {key: [] for key in PRICED}
    for rep in fit.replicate_laws():
        try:
            with np.errstate(all="ignore"):
                p = _price_point(_chinchilla(rep) or rep, f.compute(n, d), n, d, f)
        except (DomainError, ValueError, ArithmeticError):
            continue
        for key in PRICED:
            rows[key].append(np.asarray(getattr(p, key), dtype=float).reshape(-1))
    if not rows["price"]:
        return None
    return {key: np.array(v) for key, v in rows.items()}


# ============================================================================ fitting Gadre's law
class _TiedChinchillaForm(ChinchillaForm):
    """log L̂ = LSE(a′ − α·x_N, b′ − α·x_D, e): the Chinchilla form with β = α (Gadre et al.
    2024's assumption), in the optimiser's centred coordinates (a′, b′, e, α)."""

    names = ("a'", "b'", "e", "alpha")

    def log_predict(self, theta: np.ndarray, stable: bool = False) -> tuple[np.ndarray, Any]:
        full = np.column_stack([theta, theta[:, 3]])
        f, vjp5 = super().log_predict(full, stable=stable)

        def vjp(c: np.ndarray) -> np.ndarray:
            g = vjp5(c)
            return np.column_stack([g[:, :3], g[:, 3] + g[:, 4]])

        return f, vjp


#: Hoffmann et al. 2022's grid (App. D.2) with one exponent: 6 x 6 x 5 x 5 = 900 starts.
TIED_GRID = np.array(
    [
        (a, b, e, al)
        for a in (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
        for b in (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
        for e in (-1.0, -0.5, 0.0, 0.5, 1.0)
        for al in (0.0, 0.5, 1.0, 1.5, 2.0)
    ]
)


def _tied_problem(
    N: np.ndarray, D: np.ndarray, L: np.ndarray, delta: float
) -> tuple[BatchObjective, float, float]:
    mN, mD = float(np.log(N).mean()), float(np.log(D).mean())
    form = _TiedChinchillaForm(np.log(N) - mN, np.log(D) - mD)
    return BatchObjective(form, Loss("huber", delta), L), mN, mD


def _tied_law(theta: np.ndarray, mN: float, mD: float) -> OvertrainingLaw:
    """Centred (a′, b′, e, α) -> Gadre's constants: A = e^(a′ + α·m_N), B = e^(b′ + α·m_D),
    E = e^e, then a = A·6^η, b = B·6^η, η = α/2."""
    a1, b1, e, al = (float(v) for v in theta)
    chin = ChinchillaLaw(
        E=math.exp(e), A=math.exp(a1 + al * mN), B=math.exp(b1 + al * mD), alpha=al, beta=al
    )
    return OvertrainingLaw.from_chinchilla(chin)


def _tied_constants(x: np.ndarray, mN: float, mD: float) -> dict[str, np.ndarray]:
    """Rows of centred (a′, b′, e, α) -> arrays of E, a, b, eta."""
    with np.errstate(all="ignore"):
        eta = x[:, 3] / 2
        scale = K_FLOPS**eta
        return {
            "E": np.exp(x[:, 2]),
            "a": np.exp(x[:, 0] + x[:, 3] * mN) * scale,
            "b": np.exp(x[:, 1] + x[:, 3] * mD) * scale,
            "eta": eta,
        }


def _check_table(N: Any, D: Any, L: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = _positive("N", N, "parameters").reshape(-1)
    d = _positive("D", D, "training tokens").reshape(-1)
    loss = _positive("L", L, "losses in nats per token").reshape(-1)
    if not n.size == d.size == loss.size:
        raise DataError(
            f"N, D and L must have one value per run, got {n.size}, {d.size} and {loss.size}"
        )
    if n.size < 5:
        raise DataError(
            f"the over-training law has 4 constants; fit it to at least 5 runs, got {n.size}"
        )
    return n, d, loss


def fit_overtraining_law(
    N: ArrayLike,
    D: ArrayLike,
    L: ArrayLike,
    run_ids: Any = None,
    delta: float = 1e-3,
    n_bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
) -> Fit:
    """Fit Gadre et al. 2024's L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η) (C = 6ND, M = D/N)
    to runs, the way the project fits Approach 3 (Hoffmann et al. 2022, §3.3 and App. D.2):
    the summed Huber loss (``delta`` 1e-3) of log L − log L̂ with the law written as
    log L̂ = LSE(a′ − α·x_N, b′ − α·x_D, e) -- the Chinchilla form with β = α, which is the
    same law (see :mod:`scalinglaws.laws.overtraining`) -- minimised by the batched L-BFGS of
    :mod:`scalinglaws.fit.optim` from Hoffmann's grid with one exponent (900 starts), the
    best end points then polished by scipy's L-BFGS-B.

    ``n_bootstrap`` > 0 resamples whole runs (``run_ids``; default every row its own run) and
    re-fits each replicate from the optimum (seeded by ``seed``): the Fit then has intervals
    at ``level`` and replicates, so :func:`overtraining_cost`, ``Fit.predict`` and
    ``Fit.allocate`` give intervals too.  Returns a :class:`~scalinglaws.fit.result.Fit`
    (approach ``"3"``) whose law is an :class:`~scalinglaws.laws.OvertrainingLaw`.
    """
    from scalinglaws.fit.objectives import huber
    from scalinglaws.validate import check_common

    n, d, loss = _check_table(N, D, L)
    n_bootstrap, seed, level = check_common(n_bootstrap, seed, level)
    obj, mN, mD = _tied_problem(n, d, loss, float(Loss("huber", delta).delta))
    X0 = TIED_GRID.copy()
    X0[:, 0] -= X0[:, 3] * mN
    X0[:, 1] -= X0[:, 3] * mD
    res = minimize_batch(obj, X0, ftol=1e-9, max_iter=1000)
    if not np.isfinite(res.fun).any():
        raise FitError("the objective is not finite at any start; check the losses (all > 0)")
    best = np.argsort(np.where(np.isfinite(res.fun), res.fun, np.inf))[:3]
    theta, _, converged, message = polish_best(obj, res.x[best], max_iter=20000)
    try:
        law = _tied_law(theta, mN, mD)
    except ScalingLawsError as exc:
        raise FitError(f"the best fit is outside the law's domain ({exc})") from None
    residuals = obj.residuals(theta)
    objective = float(huber(residuals, obj.loss.delta).sum())
    fit = Fit(
        law=law,
        params=dict(law.params),
        approach="3",
        level=level,
        derived={"alpha": 2 * law.eta, "M_opt": law.optimal_multiplier},
        method={
            "law": law.formula,
            "objective": obj.loss.describe(),
            "objective value": objective,
            "parameterisation": "log L_hat = LSE(a' - alpha log N, b' - alpha log D, e); "
            "eta = alpha/2, a = A·6^eta, b = B·6^eta",
            "starts": len(X0),
            "optimiser": "batched L-BFGS over all starts, the best 3 re-run to ftol 1e-14, "
            "the best polished by scipy L-BFGS-B",
        },
        data={"runs": int(n.size)},
        converged=converged,
        message=message,
        residuals=np.asarray(residuals, dtype=float),
        extra={
            "data_range": {
                "N": [float(n.min()), float(n.max())],
                "D": [float(d.min()), float(d.max())],
                "C": [float((6 * n * d).min()), float((6 * n * d).max())],
            }
        },
    )
    if n_bootstrap:
        fit = _bootstrap(fit, obj, theta, mN, mD, run_ids, n_bootstrap, seed, level)
    return fit


def _bootstrap(
    fit: Fit,
    obj: BatchObjective,
    theta: np.ndarray,
    mN: float,
    mD: float,
    run_ids: Any,
    n_boot: int,
    seed: int,
    level: float,
) -> Fit:
    """Whole runs resampled (integer weights), every replicate re-fitted from the optimum."""
    from scalinglaws.fit.bootstrap import bootstrap_weights, summarize

    P = obj.L.size
    groups = None if run_ids is None else np.asarray(run_ids).reshape(-1)
    if groups is not None and groups.size != P:
        raise DataError(f"run_ids must have one id per run ({P}), got {groups.size}")
    W = bootstrap_weights(groups, P, n_boot, seed).astype(float)
    weighted = BatchObjective(obj.form, obj.loss, obj.L, W)
    res = minimize_batch(
        weighted, np.repeat(theta[None, :], n_boot, axis=0), ftol=1e-14, max_iter=1000
    )
    ok = res.converged & np.isfinite(res.fun)
    consts = _tied_constants(res.x, mN, mD)
    for v in consts.values():
        v[~ok] = np.nan
    samples = {
        **consts,
        "alpha": 2 * consts["eta"],
        "M_opt": (consts["b"] / consts["a"]) ** (1 / (2 * consts["eta"])),
    }
    stderr, intervals = summarize(samples, level)
    failed = int((~ok).sum())
    replicates = Replicates(
        consts,
        method=f"{n_boot} replicates (whole runs resampled, seed {seed}), each re-fitted from "
        "the optimum to relative ftol 1e-14" + (f"; {failed} did not converge" if failed else ""),
    )
    return fit.with_bootstrap(stderr, intervals, replicates)


# ============================================================================ comparison
@dataclass(frozen=True)
class FittedForm:
    """One law of :func:`compare_overtraining_fit`: its constants, how well it fits the runs
    it was fitted to, how well it predicts the held-out runs, and its compute-optimal answer
    at ``predict_C``.

    objective: summed Huber loss (δ = ``delta``) of log L − log L̂ on the fitted runs;
    rmse_log: root mean square of those log residuals; aic: n·ln(RSS/n) + 2k on the log
    residuals (Gaussian AIC up to a constant; lower is better, k = number of constants);
    heldout_rmse_log / heldout_runs: the same RMSE on the runs with C > ``C_split`` (NaN and
    0 without a split); N_star, D_star, L_star: the compute-optimal model at ``predict_C``."""

    name: str
    params: dict[str, float]
    n_params: int
    objective: float
    rmse_log: float
    aic: float
    heldout_rmse_log: float
    heldout_runs: int
    N_star: float
    D_star: float
    L_star: float
    law: Law

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for JSON (the law as its own dict)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "law"}
        out["law"] = self.law.to_dict()
        return out


@dataclass(frozen=True)
class OvertrainingComparison:
    """:func:`compare_overtraining_fit`'s answer: ``forms`` (Gadre et al.'s tied-exponent law
    first, then the free-exponent Chinchilla form), the runs fitted and held out, and the
    budget ``predict_C`` the predictions are made at."""

    forms: tuple[FittedForm, ...]
    fitted_runs: int
    heldout_runs: int
    C_split: float | None
    predict_C: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "forms": [f.to_dict() for f in self.forms],
            "fitted_runs": self.fitted_runs,
            "heldout_runs": self.heldout_runs,
            "C_split": self.C_split,
            "predict_C": self.predict_C,
        }

    def table(self) -> str:
        """A plain-text table, one row per law."""
        head = (
            f"{'law':<14}{'k':>3}{'Huber obj':>12}{'RMSE log':>10}{'AIC':>10}"
            f"{'held-out RMSE':>15}{'N*':>11}{'D*':>11}{'L*':>8}"
        )
        lines = [head]
        for f in self.forms:
            lines.append(
                f"{f.name:<14}{f.n_params:>3}{f.objective:>12.5g}{f.rmse_log:>10.4g}{f.aic:>10.1f}"
                f"{f.heldout_rmse_log:>15.4g}{f.N_star:>11.3g}{f.D_star:>11.3g}{f.L_star:>8.4f}"
            )
        lines.append(
            f"fitted on {self.fitted_runs} runs"
            + (
                f" with C <= {self.C_split:.3g}, held out {self.heldout_runs}"
                if self.C_split
                else ""
            )
            + f"; N*, D*, L* at C = {self.predict_C:.3g} FLOPs"
        )
        return "\n".join(lines)


def compare_overtraining_fit(
    runs: Any,
    C_split: float | None = None,
    predict_C: float | None = None,
    delta: float = 1e-3,
) -> OvertrainingComparison:
    """Fit Gadre et al. 2024's over-training law (:func:`fit_overtraining_law`, one exponent,
    4 constants) and the free-exponent Chinchilla form (Hoffmann et al. 2022 Approach 3,
    :class:`~scalinglaws.fit.parametric.Approach3`, 5 constants) to the same runs with the
    same objective, and compare them.

    ``runs``: anything :func:`scalinglaws.runs.as_runs` accepts (e.g.
    ``scalinglaws.datasets.load_runs("chinchilla_fig4", drop_highest=5)``).  ``C_split``: fit
    on the runs with C = 6ND <= C_split and score both laws on the rest (held-out RMSE of
    log L); None fits every run.  ``predict_C``: the budget at which each law's
    compute-optimal N*, D*, L* are reported (default 10x the largest fitted C).
    """
    from scalinglaws.fit.parametric import Approach3
    from scalinglaws.runs import as_runs

    table = as_runs(runs)
    C = K_FLOPS * table.N * table.D
    if C_split is None:
        fitted, held = table, None
    else:
        split = float(_positive("C_split", C_split, "training FLOPs"))
        below = C <= split
        if below.sum() < 6 or below.all():
            raise DataError(
                f"C_split = {split:.3g} leaves {int(below.sum())} runs to fit and "
                f"{int((~below).sum())} to hold out; choose a budget with at least 6 runs below "
                "it and one above",
                argument="C_split",
            )
        fitted, held = table.subset(below, f"C <= {split:.3g}"), table.subset(~below, "held out")
    top = float((K_FLOPS * fitted.N * fitted.D).max())
    target = 10 * top if predict_C is None else float(_positive("predict_C", predict_C, "FLOPs"))
    gadre = fit_overtraining_law(fitted.N, fitted.D, fitted.L, delta=delta).law
    free = (
        Approach3(law="chinchilla", delta=delta, n_bootstrap=0, flops_per_token=K_FLOPS)
        .fit(fitted)
        .law
    )
    forms = tuple(
        _score(name, law, fitted, held, target, delta)
        for name, law in (("gadre2024", gadre), ("chinchilla", free))
    )
    return OvertrainingComparison(
        forms=forms,
        fitted_runs=len(fitted.L),
        heldout_runs=0 if held is None else len(held.L),
        C_split=None if C_split is None else float(C_split),
        predict_C=target,
    )


def _score(name: str, law: Law, fitted: Any, held: Any, C: float, delta: float) -> FittedForm:
    from scalinglaws.fit.objectives import huber

    r = np.log(fitted.L) - np.log(np.asarray(law(N=fitted.N, D=fitted.D), dtype=float))
    n, k = r.size, len(law.params)
    rss = float(np.sum(r**2))
    if held is not None:
        rh = np.log(held.L) - np.log(np.asarray(law(N=held.N, D=held.D), dtype=float))
        held_rmse, held_n = float(np.sqrt(np.mean(rh**2))), int(rh.size)
    else:
        held_rmse, held_n = math.nan, 0
    star = allocate(law, C, K_FLOPS)
    return FittedForm(
        name=name,
        params=dict(law.params),
        n_params=k,
        objective=float(huber(r, delta).sum()),
        rmse_log=math.sqrt(rss / n),
        aic=n * math.log(rss / n) + 2 * k,
        heldout_rmse_log=held_rmse,
        heldout_runs=held_n,
        N_star=float(star.N),
        D_star=float(star.D),
        L_star=float(star.L),
        law=law,
    )


class OvertrainingFit:
    """The estimator behind ``scalinglaws fit --approach overtraining``: Gadre et al. 2024's
    L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η) (C = 6ND, M = D/N) fitted to a runs table by
    :func:`fit_overtraining_law` (Huber on log L, Approach 3's optimiser, bootstrap over runs).

    Compare it with the free-exponent form on the same runs with ``--approach 3`` (or
    :func:`compare_overtraining_fit`): it is the Chinchilla form with α = β, one parameter fewer.
    """

    def __init__(
        self,
        delta: float = 1e-3,
        n_bootstrap: int = 100,
        seed: int = 0,
        level: float = 0.95,
    ) -> None:
        from scalinglaws.validate import check_common

        self.delta = float(Loss("huber", delta).delta)
        self.n_bootstrap, self.seed, self.level = check_common(n_bootstrap, seed, level)

    def __repr__(self) -> str:
        return (
            f"OvertrainingFit(delta={self.delta:g}, n_bootstrap={self.n_bootstrap}, "
            f"seed={self.seed}, level={self.level:g})"
        )

    def fit(self, runs: Any) -> Fit:
        """Fit the law to ``runs`` (anything :func:`scalinglaws.runs.as_runs` accepts)."""
        from scalinglaws.runs import as_runs, require_identifiable

        runs = as_runs(runs)
        require_identifiable(runs, ("N", "D"), n_params=4)
        fit = fit_overtraining_law(
            runs.N,
            runs.D,
            runs.L,
            run_ids=runs.run_ids,
            delta=self.delta,
            n_bootstrap=self.n_bootstrap,
            seed=self.seed,
            level=self.level,
        )
        return dataclasses.replace(fit, approach="overtraining")
