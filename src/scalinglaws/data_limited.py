"""Allocation when unique data binds: Muennighoff et al. 2023, "Scaling Data-Constrained Language
Models" (arXiv 2305.16264).

With U unique tokens, training on D > U tokens repeats them D/U times (epochs), and the loss
follows the data-constrained law (:class:`~scalinglaws.laws.DataConstrainedLaw`, eq. 5)

    L(N, D, U) = E + A/N'^α + B/D'^β,
    D' = U_D + U_D·R_D*·(1 − exp(−R_D/R_D*)),  R_D = max(D/U_D − 1, 0),  U_D = min(U, D),
    N' = U_N + U_N·R_N*·(1 − exp(−R_N/R_N*)),  R_N = max(N/U_N − 1, 0),  U_N = min(N, N_opt(U_D)).

Three questions, each vectorised like :mod:`scalinglaws.allocation` (arrays in, arrays out):

* :func:`data_limited_allocation` — for a budget C and U unique tokens, argmin over N of
  L(N, C/(k·N), U) along C = k·N·D.  There is no closed form (the authors search a grid); we
  search numerically with :func:`scalinglaws.allocation.optimum_on_budget`.  When U does not
  bind (U ≥ D* of the unlimited optimum) the answer is exactly the base Chinchilla law's closed
  form: the law never lies below Chinchilla's (D' ≤ D, N' ≤ N) and equals it there.
* :func:`epochs_worth` — what repeating costs: the effective data D'/D and the loss against the
  same number of fresh tokens (the paper: "up to ~4 epochs cost almost nothing").
* :func:`repetition_stops_paying` — the epoch after which a further repeated token is worth less
  than a stated fraction of a fresh one: 1 + R_D*·ln(1/fraction) (1 + R_D* ≈ 16.4 epochs at
  fraction 1/e, the scale of eq. 5).

``law`` is a preset with a data-constrained law (``"muennighoff2023"``), a
:class:`~scalinglaws.presets.Preset`, a :class:`~scalinglaws.laws.DataConstrainedLaw`, or a
fit whose law is one.  N counts what the law's N counts (total parameters for the published
constants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalinglaws.allocation import allocate, optimum_on_budget
from scalinglaws.convention import FlopsConvention, FlopsLike
from scalinglaws.errors import DomainError, UnknownNameError
from scalinglaws.laws.base import ArrayLike, Law, positive, scalar_or_array
from scalinglaws.laws.data_constrained import DataConstrainedLaw, effective_count
from scalinglaws.presets import PRESETS, Preset, get_preset

#: The unique-token limit does not bind where U >= D_free and the data-constrained loss at the
#: unlimited optimum is within this relative slack of the unlimited loss (it is exactly equal
#: for C = k·N·D, since N_free = N_opt(D_free); a convention f(N) may leave excess parameters).
_UNBOUND_RTOL = 1e-12

#: The golden-section polish of the numeric optimum: half-width in log N and iterations
#: (0.618^70 x 2e-3 < 1e-17, far below what the loss's flatness lets double precision resolve).
_POLISH_WIDTH = 1e-3
_POLISH_STEPS = 70


# ============================================================================ records
@dataclass(frozen=True)
class DataLimitedAllocation:
    """The budget question under a unique-data limit (floats for scalar input, arrays else).

    N: parameters; D: training tokens (repeats included); L: loss L(N, D, U) in nats per
    token; C: training FLOPs; U: unique tokens available; epochs: D/U; tokens_per_param: D/N;
    N_free, D_free, L_free: the unlimited optimum of the base Chinchilla law at the same C;
    loss_cost: L − L_free ≥ 0, what the data limit costs; binding: whether the limit changes
    the answer (U < D_free); method: "closed form" where it binds nowhere, else "numeric".
    """

    N: float | np.ndarray
    D: float | np.ndarray
    L: float | np.ndarray
    C: float | np.ndarray
    U: float | np.ndarray
    epochs: float | np.ndarray
    tokens_per_param: float | np.ndarray
    N_free: float | np.ndarray
    D_free: float | np.ndarray
    L_free: float | np.ndarray
    loss_cost: float | np.ndarray
    binding: bool | np.ndarray
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain floats, booleans or lists, for JSON."""
        out: dict[str, Any] = {key: _plain(getattr(self, key)) for key in _NUMBERS}
        out["binding"] = _plain(self.binding)
        out["method"] = self.method
        return out


_NUMBERS = (
    "N",
    "D",
    "L",
    "C",
    "U",
    "epochs",
    "tokens_per_param",
    "N_free",
    "D_free",
    "L_free",
    "loss_cost",
)


@dataclass(frozen=True)
class EpochsWorth:
    """What ``epochs`` passes over U unique tokens are worth (floats or arrays).

    U: unique tokens; epochs: D/U; D: tokens trained; D_effective: D' of eq. 5;
    data_fraction: D'/D, the worth of the tokens trained in fresh tokens; marginal: exp(−R/R_D*),
    the worth of the last repeated token relative to a fresh one; N: the model size compared;
    L: L(N, D, U); L_fresh: the loss of the same N on D fresh tokens, L(N, D, U = D);
    loss_gap: L − L_fresh ≥ 0; relative_gap: loss_gap / L_fresh.
    """

    U: float | np.ndarray
    epochs: float | np.ndarray
    D: float | np.ndarray
    D_effective: float | np.ndarray
    data_fraction: float | np.ndarray
    marginal: float | np.ndarray
    N: float | np.ndarray
    L: float | np.ndarray
    L_fresh: float | np.ndarray
    loss_gap: float | np.ndarray
    relative_gap: float | np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain floats or lists, for JSON."""
        return {key: _plain(value) for key, value in vars(self).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return bool(value) if isinstance(value, (bool, np.bool_)) else float(value)


# ============================================================================ inputs
def data_constrained_presets() -> list[str]:
    """The names of the presets that publish a data-constrained law L(N, D, U)."""
    return [name for name, p in PRESETS.items() if _preset_law(p) is not None]


def _preset_law(preset: Preset) -> DataConstrainedLaw | None:
    laws = [preset.law] if preset.law is not None else []
    return next(
        (x for x in [*laws, *preset.laws.values()] if isinstance(x, DataConstrainedLaw)), None
    )


def data_constrained_law(law: Any) -> DataConstrainedLaw:
    """The :class:`~scalinglaws.laws.DataConstrainedLaw` behind ``law``: itself, a preset's
    (by name or :class:`~scalinglaws.presets.Preset`) or a fit's.  Raises
    :class:`DomainError` naming the presets that have one when ``law`` has none."""
    if isinstance(law, DataConstrainedLaw):
        return law
    if isinstance(law, (str, Preset)):
        preset = get_preset(law)
        found = _preset_law(preset)
        if found is not None:
            return found
        what = f"preset '{preset.name}'"
    elif isinstance(law, Law):
        what = f"law '{law.name}'"
    elif isinstance(getattr(law, "law", None), DataConstrainedLaw):  # a fit
        return law.law
    elif isinstance(getattr(law, "law", None), Law):
        what = f"the fit's law '{law.law.name}'"
    else:
        raise UnknownNameError(
            f"cannot answer a unique-data question with a {type(law).__name__}; pass a preset "
            f"name such as {_presets_words()}, a Preset, a DataConstrainedLaw or a fit of one",
            argument="law",
        )
    raise DomainError(
        f"{what} has no data-constrained form L(N, D, U), so it cannot account for repeated "
        f"data; use {_presets_words()} or a DataConstrainedLaw",
        argument="law",
    )


def _presets_words() -> str:
    names = data_constrained_presets()
    return " or ".join(f"'{n}'" for n in names) if names else "a DataConstrainedLaw"


def _positive(name: str, value: Any, what: str) -> np.ndarray:
    """``value`` as a float array of finite numbers > 0, or a DomainError naming ``name``."""
    try:
        return positive(name, value, what)
    except DomainError as exc:
        raise DomainError(str(exc), argument=name) from None


# ============================================================================ the law, unchecked
def _loss(law: DataConstrainedLaw, N: np.ndarray, D: np.ndarray, U: np.ndarray) -> np.ndarray:
    """L(N, D, U) of eq. 5 on arrays that broadcast, without input checks (for the search)."""
    base = law.base()
    with np.errstate(all="ignore"):
        u_d = np.minimum(U, D)
        n_opt = base.G * (base.G * u_d) ** (base.a / base.b)
        u_n = np.minimum(N, n_opt)
        n_eff = effective_count(u_n, N, law.R_N_star)
        d_eff = effective_count(u_d, D, law.R_D_star)
        return law.E + law.A * n_eff**-law.alpha + law.B * d_eff**-law.beta


# ============================================================================ allocation
def data_limited_allocation(
    law: Any, C: ArrayLike, unique_tokens: ArrayLike, flops_per_token: FlopsLike = 6.0
) -> DataLimitedAllocation:
    """N*, D*, L* for budget(s) ``C`` (FLOPs) with ``unique_tokens`` U available:
    argmin over N of L(N, D, U) subject to C = k·N·D (or C = f(N)·D), with L the data-constrained
    law of Muennighoff et al. 2023, eq. 5 (module docstring).  C and U broadcast.

    There is no closed form (the authors search a grid); the minimum over log N is bracketed on
    a grid and refined by bisection on the slope (:func:`scalinglaws.allocation.optimum_on_budget`),
    then polished by a golden-section search on the loss itself, which stays accurate where the
    optimum nears the kink N = N_opt(U) (as U nears D_free): N* to ~1e-9 relative, ~1e-7 next
    to the kink, where the loss is flat to within double precision.
    Where U does not bind (the unlimited optimum D_free ≤ U, up to rounding)
    the answer is the base law's closed form N* = G·(C/k)^a, D* = G⁻¹·(C/k)^b (Hoffmann et al.
    2022, App. D.2) exactly: L(N, D, U) ≥ L_Chinchilla(N, D) everywhere, with equality there.
    With the published constants, C = 1e22 and U = 25e9 give N* ≈ 7.02e9, D* ≈ 237.3e9
    (9.49 epochs).  ``law``: see :func:`data_constrained_law`.
    """
    dc = data_constrained_law(law)
    c = _positive("C", C, "training FLOPs")
    u = _positive("unique_tokens", unique_tokens, "unique training tokens")
    f = FlopsConvention.of(flops_per_token)
    c, u = (np.array(x, dtype=float) for x in np.broadcast_arrays(c, u))
    free = allocate(dc.base(), C=c, flops_per_token=f)
    n_free, d_free, l_free = (np.asarray(v, dtype=float) for v in (free.N, free.D, free.L))
    at_free = _loss(dc, n_free, d_free, u)
    binding = (u < d_free * (1.0 - _UNBOUND_RTOL)) | (at_free > l_free * (1.0 + _UNBOUND_RTOL))
    n = n_free.copy()
    if np.any(binding):
        u_bound = u[binding].reshape(-1, 1)
        rough = optimum_on_budget(lambda nn, dd: _loss(dc, nn, dd, u_bound), c[binding], f)
        n[binding] = _polish(dc, c[binding], u[binding], f, rough)
    d = np.where(binding, f.tokens(c, n), d_free)
    loss = np.where(binding, _loss(dc, n, d, u), l_free)
    return DataLimitedAllocation(
        N=scalar_or_array(n),
        D=scalar_or_array(d),
        L=scalar_or_array(loss),
        C=scalar_or_array(c),
        U=scalar_or_array(u),
        epochs=scalar_or_array(d / u),
        tokens_per_param=scalar_or_array(d / n),
        N_free=scalar_or_array(n_free),
        D_free=scalar_or_array(d_free),
        L_free=scalar_or_array(l_free),
        loss_cost=scalar_or_array(loss - l_free),
        binding=bool(binding) if binding.ndim == 0 else binding,
        method="numeric" if np.any(binding) else "closed form",
    )


def _polish(
    law: DataConstrainedLaw, c: np.ndarray, u: np.ndarray, f: FlopsConvention, n: np.ndarray
) -> np.ndarray:
    """Golden-section search on the loss itself within ±_POLISH_WIDTH of log N around ``n``.

    The slope bisection of :func:`optimum_on_budget` uses a central difference 1e-4 wide in
    log N, which is biased by up to ~1e-5 where the optimum sits near the kink N = N_opt(U)
    (the second derivative jumps there); comparing loss values instead is not."""
    lo, hi = np.log(n) - _POLISH_WIDTH, np.log(n) + _POLISH_WIDTH
    ratio = (math.sqrt(5.0) - 1.0) / 2.0

    def loss(logn: np.ndarray) -> np.ndarray:
        nn = np.exp(logn)
        return _loss(law, nn, f.tokens(c, nn), u)

    x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    f1, f2 = loss(x1), loss(x2)
    for _ in range(_POLISH_STEPS):
        left = f1 <= f2  # the minimum lies in [lo, x2]
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        f1, f2 = loss(x1), loss(x2)
    best = np.exp(0.5 * (lo + hi))
    # never worse than the bisection's answer (a flat loss can fool the comparisons)
    return np.where(loss(np.log(best)) <= loss(np.log(n)), best, n)


# ============================================================================ repetition
def epochs_worth(
    law: Any, unique_tokens: ArrayLike, epochs: ArrayLike, N: ArrayLike = None
) -> EpochsWorth:
    """What ``epochs`` passes over ``unique_tokens`` U are worth, against the same number of
    fresh tokens (Muennighoff et al. 2023, eq. 5; their finding: up to ~4 epochs cost almost
    nothing).

    D = epochs·U tokens are worth D' = U_D + U_D·R_D*·(1 − exp(−R_D/R_D*)) fresh ones
    (``data_fraction`` = D'/D; the last repeated token is worth ``marginal`` = exp(−R_D/R_D*)
    of a fresh one, R_D = epochs − 1).  The loss L(N, D, U) is compared with L(N, D, U = D),
    the same model on D fresh tokens, at ``N`` parameters, by default N_opt(D) = G·(G·D)^(a/b),
    the size for which D tokens are compute-optimal without repetition (so the comparison is at
    the budget C = 6·N·D where D fresh tokens would be optimal).  Arrays broadcast.
    """
    dc = data_constrained_law(law)
    u = _positive("unique_tokens", unique_tokens, "unique training tokens")
    e = _positive("epochs", epochs, "passes over the unique tokens")
    d = u * e
    n = np.asarray(dc.n_opt(d), dtype=float) if N is None else _positive("N", N, "parameters")
    u, e, d, n = (np.array(x, dtype=float) for x in np.broadcast_arrays(u, e, d, n))
    d_eff = effective_count(np.minimum(u, d), d, dc.R_D_star)
    loss, fresh = _loss(dc, n, d, u), _loss(dc, n, d, d)
    return EpochsWorth(
        U=scalar_or_array(u),
        epochs=scalar_or_array(e),
        D=scalar_or_array(d),
        D_effective=scalar_or_array(d_eff),
        data_fraction=scalar_or_array(d_eff / d),
        marginal=scalar_or_array(np.exp(-np.maximum(e - 1.0, 0.0) / dc.R_D_star)),
        N=scalar_or_array(n),
        L=scalar_or_array(loss),
        L_fresh=scalar_or_array(fresh),
        loss_gap=scalar_or_array(loss - fresh),
        relative_gap=scalar_or_array((loss - fresh) / fresh),
    )


def repetition_stops_paying(law: Any, fraction: ArrayLike = math.exp(-1.0)) -> float | np.ndarray:
    """The number of epochs after which a further repeated token is worth less than
    ``fraction`` of a fresh one: 1 + R_D*·ln(1/fraction).

    From Muennighoff et al. 2023, eq. 5: the worth of the next token after R repetitions is
    dD'/dD = exp(−R/R_D*), which falls to ``fraction`` at R = R_D*·ln(1/fraction), i.e. at
    epoch 1 + R.  The default fraction 1/e is the scale of the paper's own decay constant:
    1 + R_D* ≈ 16.4 epochs with R_D* = 15.39 (where the paper sees returns diminish sharply);
    fraction 1/2 (a half-life) gives ≈ 11.7 epochs.  Past it the data's total worth is already
    close to its ceiling U·(1 + R_D*) fresh tokens.  This criterion counts data only; the loss
    a given budget loses to repetition is :func:`data_limited_allocation`'s ``loss_cost``.
    """
    dc = data_constrained_law(law)
    frac = _positive("fraction", fraction, "worth of a repeated token relative to a fresh one")
    if np.any(frac >= 1.0):
        bad = float(frac.flat[int(np.argmax(frac.reshape(-1) >= 1.0))])
        raise DomainError(
            f"fraction must lie strictly between 0 and 1 (the worth of a repeated token "
            f"relative to a fresh one), got {bad!r}",
            argument="fraction",
        )
    return scalar_or_array(1.0 + dc.R_D_star * np.log(1.0 / frac))
