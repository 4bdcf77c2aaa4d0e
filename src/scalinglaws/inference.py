"""Inference-aware allocation: the model that is cheapest to train *and serve* (Sardana et al.
2024, "Beyond Chinchilla-Optimal: Accounting for Inference in Language Model Scaling Laws",
arXiv 2401.00448).

A model of N parameters trained on D_tr tokens and then run on D_inf tokens of inference
(prompts and generations) costs

    cost(N, D_tr) = c_tr·f(N)·D_tr + c_inf·g(N)·D_inf

where f(N) is the training FLOPs per token (6N by default: Kaplan et al. 2020, Hoffmann et al.
2022), g(N) the inference (forward) FLOPs per token (2N by default), and c_tr, c_inf the cost
of one training and one inference FLOP (1 and 1 by default, so the cost is in FLOPs;
``inference_cost_per_flop=2.0`` says an inference FLOP costs twice a training one, e.g.
because serving runs at half the utilisation).  Sardana et al. minimise it subject to
L(N, D_tr) = ℓ: when D_inf is large the optimum is a smaller model trained on more tokens than
Chinchilla's.  With D_inf = 0 it is the compute-optimal model at loss ℓ
(:func:`scalinglaws.allocation.compute_for_loss`).

``law`` is anything :mod:`scalinglaws.allocation` accepts with a loss law of (N, D): a preset
name, a :class:`~scalinglaws.presets.Preset`, a :class:`~scalinglaws.laws.Law` of (N, D)
(:class:`~scalinglaws.laws.ChinchillaLaw`, a user's fitted law, Gadre et al.'s
:class:`~scalinglaws.laws.OvertrainingLaw`), or a :class:`~scalinglaws.fit.result.Fit` of one.
A preset is answered by its loss law, never by a published power-law rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.allocation import (
    _chinchilla,
    _nd_law,
    _plain,
    _resolve,
    allocate,
    compute_for_loss,
    optimum_on_budget,
)
from scalinglaws.convention import FlopsConvention, FlopsLike
from scalinglaws.errors import DomainError
from scalinglaws.laws.base import ArrayLike, Law, positive, scalar_or_array
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.kaplan import KaplanNDLaw

_GRID_POINTS = 601  # log N from 0 to log(1e30) for the numeric minimiser: steps of 0.115
_LOG_N_MAX = math.log(1e30)
_GOLDEN_STEPS = 120
_BISECTIONS = 200


def _positive(name: str, value: Any, what: str = "") -> np.ndarray:
    """:func:`scalinglaws.laws.base.positive` with the error naming ``name`` as its argument."""
    try:
        return positive(name, value, what)
    except DomainError as exc:
        raise DomainError(str(exc), argument=name) from None


# ============================================================================ records
@dataclass(frozen=True)
class CostedModel:
    """One model with its training and inference bill (floats, or arrays for array input).

    N: parameters; D: training tokens; L: loss at (N, D) in nats per token; tokens_per_param:
    D/N; train_flops: f(N)·D; inference_flops: g(N)·D_inf; total_cost:
    c_tr·train_flops + c_inf·inference_flops (in FLOPs when both costs per FLOP are 1).
    """

    N: Any
    D: Any
    L: Any
    tokens_per_param: Any
    train_flops: Any
    inference_flops: Any
    total_cost: Any

    def to_dict(self) -> dict[str, Any]:
        """Plain floats or lists, for JSON."""
        return {k: _plain(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class InferenceOptimum:
    """The cheapest model to train and serve at loss ``loss`` (:func:`inference_optimal`).

    ``optimum``: the inference-aware model; ``compute_optimal``: the Chinchilla-optimal
    model at the same loss (the least training compute), billed for the same
    ``inference_tokens``; ``saving`` = compute_optimal.total_cost − optimum.total_cost (≥ 0)
    and ``saving_fraction`` = saving / compute_optimal.total_cost.  ``costs`` describes the
    FLOP accounting and the prices; ``method`` how the optimum was found.  ``N``, ``D_train``,
    ``tokens_per_param``, ``train_flops``, ``inference_flops`` and ``total_cost`` are the
    optimum's.
    """

    loss: Any
    inference_tokens: Any
    optimum: CostedModel
    compute_optimal: CostedModel
    saving: Any
    saving_fraction: Any
    costs: dict[str, Any] = field(default_factory=dict)
    method: str = ""

    N = property(lambda self: self.optimum.N)
    D_train = property(lambda self: self.optimum.D)
    tokens_per_param = property(lambda self: self.optimum.tokens_per_param)
    train_flops = property(lambda self: self.optimum.train_flops)
    inference_flops = property(lambda self: self.optimum.inference_flops)
    total_cost = property(lambda self: self.optimum.total_cost)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for JSON."""
        return {
            "loss": _plain(self.loss),
            "inference_tokens": _plain(self.inference_tokens),
            "optimum": self.optimum.to_dict(),
            "compute_optimal": self.compute_optimal.to_dict(),
            "saving": _plain(self.saving),
            "saving_fraction": _plain(self.saving_fraction),
            "costs": dict(self.costs),
            "method": self.method,
        }


@dataclass(frozen=True)
class InferenceAwareAllocation:
    """A training budget re-spent with inference in view (:func:`inference_aware_allocation`).

    ``compute_optimal``: the compute-optimal model at ``C_train`` (loss L0, total cost K0 with
    its inference).  ``equal_cost``: the model of least loss whose total cost (training +
    inference) is K0; ``loss_reduction`` = L0 − equal_cost.L (≥ 0).  ``equal_loss``: the model
    of least total cost at loss L0 (:func:`inference_optimal`); ``saving`` = K0 −
    equal_loss.total_cost (≥ 0), ``saving_fraction`` = saving / K0.
    """

    C_train: Any
    inference_tokens: Any
    compute_optimal: CostedModel
    equal_cost: CostedModel
    equal_loss: CostedModel
    loss_reduction: Any
    saving: Any
    saving_fraction: Any
    costs: dict[str, Any] = field(default_factory=dict)
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for JSON."""
        return {
            "C_train": _plain(self.C_train),
            "inference_tokens": _plain(self.inference_tokens),
            "compute_optimal": self.compute_optimal.to_dict(),
            "equal_cost": self.equal_cost.to_dict(),
            "equal_loss": self.equal_loss.to_dict(),
            "loss_reduction": _plain(self.loss_reduction),
            "saving": _plain(self.saving),
            "saving_fraction": _plain(self.saving_fraction),
            "costs": dict(self.costs),
            "method": self.method,
        }


# ============================================================================ the cost model
@dataclass(frozen=True)
class _Costs:
    """cost = c_tr·f(N)·D_tr + c_inf·g(N)·D_inf."""

    train: FlopsConvention
    infer: FlopsConvention
    c_tr: float
    c_inf: float

    @property
    def linear(self) -> bool:
        return self.train.linear and self.infer.linear

    def bill(self, N: Any, D: Any, L: Any, d_inf: Any) -> CostedModel:
        n, d = np.asarray(N, dtype=float), np.asarray(D, dtype=float)
        tr = self.train.compute(n, d)
        inf = self.infer.compute(n, d_inf)
        out = (n, d, np.asarray(L, dtype=float), d / n, tr, inf, self.c_tr * tr + self.c_inf * inf)
        return CostedModel(*(scalar_or_array(np.asarray(v)) for v in out))

    def describe(self) -> dict[str, Any]:
        return {
            "train_flops_per_token": self.train.description,
            "inference_flops_per_token": self.infer.description.replace("C = ", "C_inf = ").replace(
                "·D", "·D_inf"
            ),
            "train_cost_per_flop": self.c_tr,
            "inference_cost_per_flop": self.c_inf,
        }


def forward_flops_per_token(arch: Any, convention: str = "chinchilla") -> float:
    """Inference (forward) FLOPs per token of an architecture: a third of its training FLOPs
    per token under ``convention`` (:func:`scalinglaws.flops.flops_per_token`), since every
    convention there counts the backward pass as twice the forward (Kaplan et al. 2020,
    Table 1; Hoffmann et al. 2022, App. F).  ``"chinchilla"`` counts attention over the full
    context, the embeddings and the logits; ``"6N"`` gives 2N (N non-embedding)."""
    from scalinglaws.flops import flops_per_token

    return flops_per_token(arch, convention) / 3.0


def _inference_convention(value: Any) -> FlopsConvention:
    """g(N) from a number k (g = k·N), a callable g(N), a FlopsConvention, or an
    Architecture (g = k·N with k = its forward FLOPs per token / its total parameters)."""
    from scalinglaws.flops import Architecture

    if isinstance(value, Architecture):
        k = forward_flops_per_token(value) / float(value.params().total)
        return FlopsConvention(
            k=k,
            description=f"C = {k:.4g}·N·D (the architecture's forward FLOPs per token, "
            "Hoffmann et al. 2022 App. F, per total parameter)",
        )
    return FlopsConvention.of(value, "inference_flops_per_token")


def _costs(
    train_flops_per_token: FlopsLike,
    inference_flops_per_token: Any,
    train_cost_per_flop: float,
    inference_cost_per_flop: float,
) -> _Costs:
    train = FlopsConvention.of(train_flops_per_token, "train_flops_per_token")
    infer = _inference_convention(inference_flops_per_token)
    c_tr = _price("train_cost_per_flop", train_cost_per_flop)
    c_inf = _price("inference_cost_per_flop", inference_cost_per_flop)
    return _Costs(train, infer, c_tr, c_inf)


# ============================================================================ input checks
def _price(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DomainError(
            f"{name} must be a finite number greater than 0 (the cost of one FLOP), got {value!r}",
            argument=name,
        )
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise DomainError(
            f"{name} must be a finite number greater than 0 (the cost of one FLOP), got "
            f"{float(value)!r}",
            argument=name,
        )
    return float(value)


def _demand(value: Any) -> np.ndarray:
    """Inference tokens: finite and >= 0 (0 means no inference: the compute-optimal model)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DomainError(
            f"inference_tokens must be a number of tokens >= 0 (or an array of them), got "
            f"{value!r}",
            argument="inference_tokens",
        ) from None
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        first = float(arr.flat[int(np.flatnonzero(bad)[0])])
        raise DomainError(
            f"inference_tokens must be a finite number of tokens >= 0 (the tokens the model "
            f"will serve), got {first!r}",
            argument="inference_tokens",
        )
    return arr


def _law(law: Any, what: str) -> Law:
    """The (N, D) loss law of ``law`` (a preset's law, never its published rule)."""
    try:
        return _nd_law(_resolve(law), what)
    except DomainError as exc:
        raise DomainError(str(exc), argument="law") from None


def _check_loss(law: Law, loss: Any) -> np.ndarray:
    """Target losses: finite, > 0 and above the law's floor E where it has one."""
    ell = _positive("loss", loss, "target loss in nats per token")
    floor = _floor(law)
    if floor is not None and np.any(ell <= floor):
        bad = float(ell.flat[int(np.argmax(ell.reshape(-1) <= floor))])
        raise DomainError(
            f"loss = {bad:g} is unreachable: the law's floor is E = {floor:g}; a loss above it "
            "is reachable",
            argument="loss",
        )
    return ell


def _floor(law: Law) -> float | None:
    """E for the Chinchilla-type laws, 0 for Kaplan's L(N, D), None when unknown."""
    if isinstance(law, KaplanNDLaw):
        return 0.0
    E = getattr(law, "E", None)
    return float(E) if isinstance(E, (int, float)) else None


# ============================================================================ D for a loss
def tokens_for_loss(law: Any, N: ArrayLike, L: ArrayLike) -> float | np.ndarray:
    """D with L(N, D) = L: the training tokens an N-parameter model needs to reach loss L (NaN
    where it never does, however long it trains).

    Chinchilla form: D = (B / (L − E − A·N^(−α)))^(1/β); Kaplan L(N, D):
    D = D_c / (L^(1/α_D) − (N_c/N)^(α_N/α_D)); any other law: bisection on log D (L falls
    with D) between 1 and 1e60 tokens."""
    nd = _law(law, "tokens_for_loss")
    n = _positive("N", N, "parameters")
    ell = _positive("L", L, "target loss in nats per token")
    n, ell = np.broadcast_arrays(n, ell)
    return scalar_or_array(_tokens(nd, n, ell))


def _tokens(law: Law, n: np.ndarray, ell: np.ndarray) -> np.ndarray:
    chin = _chinchilla(law)
    with np.errstate(all="ignore"):
        if chin is not None:
            gap = ell - chin.E - chin.A * n ** (-chin.alpha)
            return np.where(
                gap > 0, (chin.B / np.where(gap > 0, gap, 1.0)) ** (1 / chin.beta), np.nan
            )
        if isinstance(law, KaplanNDLaw):
            gap = ell ** (1 / law.alpha_D) - (law.N_c / n) ** (law.alpha_N / law.alpha_D)
            return np.where(gap > 0, law.D_c / np.where(gap > 0, gap, 1.0), np.nan)
    return _bisect_tokens(law, n, ell)


def _bisect_tokens(law: Law, n: np.ndarray, ell: np.ndarray) -> np.ndarray:
    n, ell = np.broadcast_arrays(n, ell)
    flat_n, flat_l = n.reshape(-1), ell.reshape(-1)
    lo = np.zeros(flat_n.shape)
    hi = np.full(flat_n.shape, math.log(1e60))

    def below(logd: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(law(N=flat_n, D=np.exp(logd)), dtype=float) <= flat_l

    reachable = below(hi)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        ok = below(mid)
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return np.where(reachable, np.exp(hi), np.nan).reshape(n.shape)


# ============================================================================ the minimisers
def _cheapest(
    law: Law, ell: np.ndarray, d_inf: np.ndarray, costs: _Costs
) -> tuple[np.ndarray, np.ndarray, str]:
    """argmin over N of c_tr·f(N)·D(N) + c_inf·g(N)·D_inf with L(N, D(N)) = ℓ: (N, D, how)."""
    chin = _chinchilla(law)
    if chin is not None and costs.linear:
        N, D = _cheapest_chinchilla(chin, ell, d_inf, costs)
        return N, D, "closed-form stationarity condition, solved by bisection"
    N, D = _cheapest_numeric(law, ell, d_inf, costs)
    return N, D, "numeric (grid over log N, then golden-section search)"


def _cheapest_chinchilla(
    law: ChinchillaLaw, ell: np.ndarray, d_inf: np.ndarray, costs: _Costs
) -> tuple[np.ndarray, np.ndarray]:
    """Chinchilla form, C_tr = k_tr·N·D, C_inf = k_inf·N·D_inf [derived].

    Write x = A·N^(−α), y = B·D^(−β), x + y = g = ℓ − E.  On the iso-loss curve
    dD/dN = −(α·x)/(β·y)·D/N, so d cost/dN = p·D·(1 − αx/(βy)) + q with p = c_tr·k_tr and
    q = c_inf·k_inf·D_inf.  The optimum solves p·D(y)·(α(g − y)/(β·y) − 1) = q, whose left
    side rises as y falls from y0 = α·g/(α+β) (the compute-optimal point, αx = βy, where it
    is 0) towards 0: one root, found by bisection on log y.  Then N = (A/x)^(1/α),
    D = (B/y)^(1/β)."""
    al, be = law.alpha, law.beta
    p = costs.c_tr * costs.train.k  # type: ignore[operator]
    q = costs.c_inf * costs.infer.k * d_inf  # type: ignore[operator]
    g = ell - law.E
    y0 = al * g / (al + be)
    lo = np.log(y0) - 700.0
    hi = np.log(y0)
    with np.errstate(all="ignore"):
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            y = np.exp(mid)
            d = (law.B / y) ** (1.0 / be)
            rising = p * d * (al * (g - y) / (be * y) - 1.0) > q  # past the root: larger y
            lo = np.where(rising, mid, lo)
            hi = np.where(rising, hi, mid)
        y = np.where(q > 0, np.exp(0.5 * (lo + hi)), y0)
        N = (law.A / (g - y)) ** (1.0 / al)
        D = (law.B / y) ** (1.0 / be)
    return N, D


def _cheapest_numeric(
    law: Law, ell: np.ndarray, d_inf: np.ndarray, costs: _Costs
) -> tuple[np.ndarray, np.ndarray]:
    """Any law or FLOP accounting: a grid of 601 log N in [0, log 1e30] brackets the least
    cost, golden-section search narrows it (D(N) from :func:`tokens_for_loss`)."""
    shape = ell.shape
    ell_c = ell.reshape(-1, 1)
    dinf_c = d_inf.reshape(-1, 1)

    def cost(logn: np.ndarray) -> np.ndarray:
        n = np.exp(logn)
        d = _tokens(law, n, np.broadcast_to(ell_c, n.shape))
        with np.errstate(all="ignore"):
            c = costs.c_tr * costs.train.compute(n, d) + costs.c_inf * costs.infer.compute(
                n, dinf_c
            )
        return np.where(np.isfinite(c) & (d >= 1.0), c, np.inf)

    grid = np.broadcast_to(
        np.linspace(0.0, _LOG_N_MAX, _GRID_POINTS), (ell_c.shape[0], _GRID_POINTS)
    )
    values = cost(grid)
    best = np.argmin(values, axis=1)
    rows = np.arange(len(best))
    if np.any(~np.isfinite(values[rows, best])):
        i = int(np.flatnonzero(~np.isfinite(values[rows, best]))[0])
        raise DomainError(
            f"loss = {float(ell_c[i, 0]):g} is not reached by any model of 1 to 1e30 parameters "
            "under this law; choose a larger loss",
            argument="loss",
        )
    if np.any(best == _GRID_POINTS - 1):
        raise DomainError(
            "the total cost keeps falling up to 1e30 parameters, so there is no cheapest model; "
            "check the law and the FLOP accounting",
            argument="law",
        )
    a = grid[rows, np.maximum(best - 1, 0)]
    b = grid[rows, best + 1]
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = cost(x1[:, None])[:, 0], cost(x2[:, None])[:, 0]
    for _ in range(_GOLDEN_STEPS):
        left = f1 <= f2  # the minimum lies in [a, x2]: drop (x2, b]; else drop [a, x1)
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        x1, x2 = np.where(left, b - ratio * (b - a), x2), np.where(left, x1, a + ratio * (b - a))
        new = cost(np.where(left, x1, x2)[:, None])[:, 0]
        f1, f2 = np.where(left, new, f2), np.where(left, f1, new)
    logn = 0.5 * (a + b)
    n = np.exp(logn)
    d = _tokens(law, n, ell_c[:, 0])
    return n.reshape(shape), d.reshape(shape)


# ============================================================================ public answers
def inference_optimal(
    law: Any,
    loss: ArrayLike,
    inference_tokens: ArrayLike,
    train_flops_per_token: FlopsLike = 6.0,
    inference_flops_per_token: Any = 2.0,
    train_cost_per_flop: float = 1.0,
    inference_cost_per_flop: float = 1.0,
) -> InferenceOptimum:
    """The cheapest model to train and serve at loss ℓ (Sardana et al. 2024, §3):

        minimise  c_tr·f(N)·D_tr + c_inf·g(N)·D_inf   subject to  L(N, D_tr) = ℓ,

    with f(N) = ``train_flops_per_token`` (6 for 6N; a number k, a callable f(N) or a
    :class:`~scalinglaws.convention.FlopsConvention`), g(N) = ``inference_flops_per_token``
    (2 for 2N; a number, a callable g(N), a FlopsConvention, or a
    :class:`~scalinglaws.flops.Architecture` whose forward FLOPs per token per total
    parameter is used, :func:`forward_flops_per_token`), c_tr and c_inf the cost of one
    training and one inference FLOP, and D_inf = ``inference_tokens`` (>= 0).

    Chinchilla form with constant k's: the stationarity condition p·D·(αx/(βy) − 1) = q
    (x = A·N^(−α), y = B·D^(−β); see :func:`_cheapest_chinchilla`), solved by bisection;
    otherwise numerically.  With D_inf = 0 the answer is the compute-optimal model at ℓ
    (:func:`scalinglaws.allocation.compute_for_loss`).  Also returns that compute-optimal
    model billed for the same D_inf, and the saving.  Vectorised: ``loss`` and
    ``inference_tokens`` broadcast.  Check vector (Sardana et al.; Chinchilla α = 0.336,
    β = 0.283, A = 406.4, B = 410.7, E = 1.69): ℓ = 1.947, D_inf = 2e12 gives
    N = 2.418e10, D_tr = 2.657e12.
    """
    nd = _law(law, "inference_optimal")
    costs = _costs(
        train_flops_per_token,
        inference_flops_per_token,
        train_cost_per_flop,
        inference_cost_per_flop,
    )
    ell, d_inf = np.broadcast_arrays(_check_loss(nd, loss), _demand(inference_tokens))
    N, D, method = _cheapest(nd, ell, d_inf, costs)
    optimum = costs.bill(N, D, ell, d_inf)
    ref = compute_for_loss(_chinchilla(nd) or nd, ell, costs.train)
    reference = costs.bill(ref.N, ref.D, ell, d_inf)
    saving = np.asarray(reference.total_cost) - np.asarray(optimum.total_cost)
    return InferenceOptimum(
        loss=scalar_or_array(ell),
        inference_tokens=scalar_or_array(d_inf),
        optimum=optimum,
        compute_optimal=reference,
        saving=scalar_or_array(saving),
        saving_fraction=scalar_or_array(saving / np.asarray(reference.total_cost)),
        costs=costs.describe(),
        method=method,
    )


def inference_aware_allocation(
    law: Any,
    C_train: ArrayLike,
    inference_tokens: ArrayLike,
    train_flops_per_token: FlopsLike = 6.0,
    inference_flops_per_token: Any = 2.0,
    train_cost_per_flop: float = 1.0,
    inference_cost_per_flop: float = 1.0,
) -> InferenceAwareAllocation:
    """A training budget C re-spent with D_inf inference tokens in view (Sardana et al. 2024).

    Start from the compute-optimal model at C (:func:`scalinglaws.allocation.allocate`): N0,
    D0, loss L0 = L(N0, D0), and its total cost K0 = c_tr·C + c_inf·g(N0)·D_inf.  Then

    (a) ``equal_cost``: the least loss for the same total cost,
        minimise L(N, D) subject to c_tr·f(N)·D + c_inf·g(N)·D_inf = K0
        (D = (K0 − c_inf·g(N)·D_inf)/(c_tr·f(N)); a smaller model than N0 trained on more
        tokens, cheaper to serve: it spends the inference saved on training);
    (b) ``equal_loss``: the least total cost for the same loss,
        :func:`inference_optimal` at ℓ = L0 (a smaller model, more training compute than C,
        less total cost than K0).

    With D_inf = 0 both are the compute-optimal model.  Arguments as in
    :func:`inference_optimal`; ``C_train`` and ``inference_tokens`` broadcast.
    """
    nd = _law(law, "inference_aware_allocation")
    engine = _chinchilla(nd) or nd
    costs = _costs(
        train_flops_per_token,
        inference_flops_per_token,
        train_cost_per_flop,
        inference_cost_per_flop,
    )
    c, d_inf = np.broadcast_arrays(
        _positive("C_train", C_train, "training FLOPs"), _demand(inference_tokens)
    )
    base = allocate(engine, c, costs.train)
    reference = costs.bill(base.N, base.D, base.L, d_inf)
    K0 = np.asarray(reference.total_cost, dtype=float)
    N_a, D_a = _least_loss_at_cost(engine, K0, d_inf, costs)
    equal_cost = costs.bill(N_a, D_a, np.asarray(engine(N=N_a, D=D_a)), d_inf)
    ell = np.asarray(base.L, dtype=float)
    N_b, D_b, method = _cheapest(nd, ell, d_inf, costs)
    equal_loss = costs.bill(N_b, D_b, ell, d_inf)
    saving = K0 - np.asarray(equal_loss.total_cost)
    return InferenceAwareAllocation(
        C_train=scalar_or_array(c),
        inference_tokens=scalar_or_array(d_inf),
        compute_optimal=reference,
        equal_cost=equal_cost,
        equal_loss=equal_loss,
        loss_reduction=scalar_or_array(ell - np.asarray(equal_cost.L)),
        saving=scalar_or_array(saving),
        saving_fraction=scalar_or_array(saving / K0),
        costs=costs.describe(),
        method=f"equal cost: numeric along the cost budget; equal loss: {method}",
    )


def _least_loss_at_cost(
    law: Law, K0: np.ndarray, d_inf: np.ndarray, costs: _Costs
) -> tuple[np.ndarray, np.ndarray]:
    """argmin over N of L(N, D) with c_tr·f(N)·D + c_inf·g(N)·D_inf = K0, through the
    allocation engine's minimiser (:func:`scalinglaws.allocation.optimum_on_budget`): on the
    budget K0/c_tr of C = f(N)·D, the tokens left after paying inference are
    D = K0/(c_tr·f(N)) − (c_inf/c_tr)·D_inf·g(N)/f(N)."""
    shape = K0.shape
    extra = (costs.c_inf / costs.c_tr) * d_inf.reshape(-1, 1)

    def tokens_left(n: np.ndarray, d: np.ndarray) -> np.ndarray:
        return d - extra * costs.infer.flops_per_token(n) / costs.train.flops_per_token(n)

    def loss(n: np.ndarray, d: np.ndarray) -> np.ndarray:
        left = tokens_left(n, d)
        out = np.full(n.shape, np.inf)
        ok = left >= 1.0
        if np.any(ok):
            out[ok] = np.asarray(law(N=n[ok], D=left[ok]), dtype=float)
        return out

    budget = (K0 / costs.c_tr).reshape(-1)
    N = optimum_on_budget(loss, budget, costs.train)
    D = tokens_left(N[:, None], costs.train.tokens(budget[:, None], N[:, None]))[:, 0]
    return N.reshape(shape), D.reshape(shape)
