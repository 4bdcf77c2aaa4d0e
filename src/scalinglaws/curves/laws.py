"""Loss-curve laws: the loss L(t) after t training steps as a function of the learning-rate
schedule η_1..η_t (``lr[i]`` is η_{i+1}, as :mod:`scalinglaws.curves.schedules` makes them).

* :class:`MultiPowerLaw` -- Luo et al. 2025, "A Multi-Power Law for Loss Curve Prediction
  Across Learning Rate Schedules":
  L(t) = L0 + A·(S1(t) + S_W)^(−α) − LD(t),
  LD(t) = B·Σ_{k=1..t} (η_{k−1} − η_k)·G(η_k^(−γ)·S_k(t)),  S_k(t) = Σ_{τ=k..t} η_τ,
  G(x) = 1 − (C·x + 1)^(−β).
  Steps count from the end of the warmup (W steps, area S_W = Σ_{τ≤W} η_τ, η_0 = η_W, the
  peak), so S1(t) + S_W is the whole area under the schedule up to step t.
* :class:`MomentumLaw` -- Tissue et al. 2024, "Scaling Law with Learning Rate Annealing":
  L(s) = L0 + A·S1^(−α) − C·S2, S1 = Σ_{i≤s} η_i (forward area), S2 = Σ_{i≤s} m_i the
  annealing area with momentum m_i = λ·m_{i−1} + (η_{i−1} − η_i), λ = 0.999 (the momentum
  is counted from the end of the warmup, like the multi-power law's drops).
* :class:`StepPowerLaw` -- L(t) = E + A·t^(−α) in steps or tokens, for a curve without a
  schedule (Kaplan et al. 2020's L(S) in its simplest form).

The multi-power sum is evaluated exactly on every step where the learning rate changes when
there are at most ``max_knots`` (512) of them before the last evaluated step; longer
schedules (Pythia's 143,000-step cosine) group consecutive drops into at most ``max_knots``
blocks that never straddle an evaluated step, each block's drops placed at its drop-weighted
median step.  On a 5,000-step cosine with Luo et al.'s 400M constants, 512 blocks change L̂
by at most 1.2e-4 relative against the exact sum (tests/test_curves.py checks 3e-4), below
the Huber threshold δ = 1e-3 of the fit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from scalinglaws.errors import QuantityError

LAWS: tuple[str, ...] = ("multi-power", "momentum", "power")
MAX_KNOTS = 512


# ============================================================================ schedule terms
@dataclass
class ScheduleTerms:
    """What the laws need of a schedule at evaluation steps ``t`` (P,): ``area`` (P,) the area
    under the schedule up to t (S1 + S_W); ``drop`` (K,) learning-rate drops, ``eta`` (K,) the
    learning rate after each drop and ``S`` (P, K) the area from the drop to t (0 where the
    drop comes after t, its term then vanishing by ``mask``); ``S2`` (P,) Tissue's annealing
    area; ``x`` (P,) the steps (or tokens) for the plain power law."""

    t: np.ndarray
    area: np.ndarray
    drop: np.ndarray
    eta: np.ndarray
    S: np.ndarray
    mask: np.ndarray
    S2: np.ndarray
    x: np.ndarray

    def take(self, idx: np.ndarray) -> ScheduleTerms:
        """The terms of the points ``idx`` (for bootstrap replicates)."""
        return ScheduleTerms(
            self.t[idx],
            self.area[idx],
            self.drop,
            self.eta,
            self.S[idx],
            self.mask[idx],
            self.S2[idx],
            self.x[idx],
        )


def schedule_terms(
    steps: np.ndarray,
    lr: np.ndarray | None,
    warmup: int = 0,
    x: np.ndarray | None = None,
    lam: float = 0.999,
    max_knots: int = MAX_KNOTS,
) -> ScheduleTerms:
    """Build :class:`ScheduleTerms` for the evaluation steps ``steps`` (1-based) of the
    schedule ``lr`` (``lr[i]`` the learning rate of step i + 1; at least max(steps) long)
    with ``warmup`` warmup steps; ``x`` is the plain power law's variable (default: steps).
    Without a schedule (``lr`` None) only ``x`` is usable."""
    t = np.asarray(steps, dtype=np.int64)
    P = t.size
    xs = t.astype(float) if x is None else np.asarray(x, dtype=float)
    if lr is None:
        z = np.zeros(P)
        return ScheduleTerms(
            t, z, np.zeros(0), np.zeros(0), np.zeros((P, 0)), np.zeros((P, 0), bool), z, xs
        )
    eta = np.asarray(lr, dtype=float)
    if P and t.max() > eta.size:
        raise QuantityError(
            f"the schedule has {eta.size} steps but the curve reaches step {int(t.max())}"
        )
    if P and t.min() < 1:
        raise QuantityError("steps must be at least 1")
    W = int(warmup)
    csum = np.concatenate([[0.0], np.cumsum(eta)])  # csum[t] = Σ_{τ≤t} η_τ
    area = csum[t]
    # drops d_k = η_{k-1} − η_k for post-warmup steps k = W+1..T (1-based), η_W the peak
    T = int(t.max()) if P else 0
    prev = eta[W - 1] if W >= 1 else eta[0]
    post = eta[W:T]
    d = np.diff(np.concatenate([[prev], post])) * -1.0
    k_all = np.arange(W + 1, T + 1)
    # Tissue's annealing momentum, m_k = λ m_{k-1} + d_k, and its running sum S2
    from scipy.signal import lfilter

    m = lfilter([1.0], [1.0, -float(lam)], d) if d.size else d
    S2_full = np.concatenate([[0.0] * (W + 1), np.cumsum(m)])  # S2_full[t], t = 0..T
    S2 = np.where(t > W, S2_full[np.minimum(t, T)], 0.0)
    nz = np.flatnonzero(d != 0)
    k, dk = k_all[nz], d[nz]
    if k.size > max_knots:
        rank = np.arange(k.size)
        chunk = rank * max_knots // k.size
        segment = np.searchsorted(np.sort(t), k, side="left")
        key = segment * (max_knots + 1) + chunk
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        drop = np.add.reduceat(dk, starts)
        # drop-weighted median step of each block
        ends = np.concatenate([starts[1:], [k.size]])
        rep = np.empty(starts.size, dtype=np.int64)
        cum = np.cumsum(np.abs(dk))
        for j, (a, b) in enumerate(zip(starts, ends, strict=True)):
            base = cum[a - 1] if a else 0.0
            half = base + 0.5 * (cum[b - 1] - base)
            rep[j] = k[a + min(int(np.searchsorted(cum[a:b], half)), b - a - 1)]
        k, dk = rep, drop
    S = csum[t][:, None] - csum[k - 1][None, :]
    mask = k[None, :] <= t[:, None]
    S = np.where(mask, S, 0.0)
    return ScheduleTerms(t, area, dk, eta[k - 1], S, mask, S2, xs)


def concat_terms(parts: list[ScheduleTerms]) -> ScheduleTerms:
    """Several curves' terms as one problem (the same law under several schedules): points
    stacked, drops side by side (each curve's S and mask zero on the others' drops)."""
    if len(parts) == 1:
        return parts[0]
    P = sum(p.t.size for p in parts)
    K = sum(p.drop.size for p in parts)
    S = np.zeros((P, K))
    mask = np.zeros((P, K), dtype=bool)
    i = j = 0
    for p in parts:
        S[i : i + p.t.size, j : j + p.drop.size] = p.S
        mask[i : i + p.t.size, j : j + p.drop.size] = p.mask
        i += p.t.size
        j += p.drop.size
    cat = np.concatenate
    return ScheduleTerms(
        cat([p.t for p in parts]),
        cat([p.area for p in parts]),
        cat([p.drop for p in parts]),
        cat([p.eta for p in parts]),
        S,
        mask,
        cat([p.S2 for p in parts]),
        cat([p.x for p in parts]),
    )


# ============================================================================ laws
@dataclass(frozen=True)
class MultiPowerLaw:
    """Luo et al. 2025's multi-power law (see the module docstring); parameters in the
    paper's names, the learning rate in the schedule's own units."""

    L0: float
    A: float
    alpha: float
    B: float
    C: float
    beta: float
    gamma: float

    names = ("L0", "A", "alpha", "B", "C", "beta", "gamma")

    @property
    def params(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    def loss_and_jacobian(self, terms: ScheduleTerms) -> tuple[np.ndarray, np.ndarray]:
        """L̂ at the terms' steps and ∂L̂/∂θ (P, 7) in the order of :attr:`names`."""
        L0, A, a, B, C, b, g = (float(v) for v in asdict(self).values())
        u = terms.area ** (-a)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = np.log(np.maximum(terms.eta, 1e-300))
            xk = np.exp(-g * lx)[None, :] * terms.S  # η_k^(−γ)·S_k(t)
            q = C * xk + 1.0
            qb = q ** (-b)
            G = np.where(terms.mask, 1.0 - qb, 0.0)
            dq = np.where(terms.mask, b * qb / q, 0.0)  # ∂G/∂(C x)
            lq = np.where(terms.mask, np.log(q), 0.0)
        d = terms.drop
        LD = B * (G @ d)
        L = L0 + A * u - LD
        J = np.empty((L.size, 7))
        J[:, 0] = 1.0
        J[:, 1] = u
        J[:, 2] = -A * u * np.log(terms.area)
        J[:, 3] = -(G @ d)
        J[:, 4] = -B * ((dq * xk) @ d)
        J[:, 5] = -B * ((np.where(terms.mask, qb * lq, 0.0)) @ d)
        J[:, 6] = -B * ((dq * C * xk * -lx[None, :]) @ d)
        return L, J

    def loss(self, terms: ScheduleTerms) -> np.ndarray:
        return self.loss_and_jacobian(terms)[0]


@dataclass(frozen=True)
class MomentumLaw:
    """Tissue et al. 2024's form L = L0 + A·S1^(−α) − C·S2 (see the module docstring)."""

    L0: float
    A: float
    alpha: float
    C: float

    names = ("L0", "A", "alpha", "C")

    @property
    def params(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    def loss_and_jacobian(self, terms: ScheduleTerms) -> tuple[np.ndarray, np.ndarray]:
        u = terms.area ** (-self.alpha)
        L = self.L0 + self.A * u - self.C * terms.S2
        J = np.column_stack([np.ones_like(u), u, -self.A * u * np.log(terms.area), -terms.S2])
        return L, J

    def loss(self, terms: ScheduleTerms) -> np.ndarray:
        return self.loss_and_jacobian(terms)[0]


@dataclass(frozen=True)
class StepPowerLaw:
    """L(t) = E + A·t^(−α), t in steps or tokens (no schedule)."""

    E: float
    A: float
    alpha: float

    names = ("E", "A", "alpha")

    @property
    def params(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    def loss_and_jacobian(self, terms: ScheduleTerms) -> tuple[np.ndarray, np.ndarray]:
        u = terms.x ** (-self.alpha)
        L = self.E + self.A * u
        J = np.column_stack([np.ones_like(u), u, -self.A * u * np.log(terms.x)])
        return L, J

    def loss(self, terms: ScheduleTerms) -> np.ndarray:
        return self.loss_and_jacobian(terms)[0]


LAW_CLASSES = {"multi-power": MultiPowerLaw, "momentum": MomentumLaw, "power": StepPowerLaw}


def check_law(name: str) -> str:
    """The canonical law name, or :class:`QuantityError` listing the valid ones."""
    key = str(name).strip().lower().replace("_", "-")
    if key == "multipower":
        key = "multi-power"
    if key not in LAWS:
        raise QuantityError(f"unknown curve law {name!r}; use one of {', '.join(LAWS)}")
    return key
