"""What Approach 3 minimises: a robust loss of the residuals of a law written in log space,
with analytic derivatives, evaluated for a whole batch of parameter vectors at once.

Two pieces, composed by :class:`BatchObjective`:

* **Losses** ρ(r) of the residual r (:data:`OBJECTIVES`), always *summed* over points
  (weighted by integer bootstrap counts when resampling).  Summing, not averaging, matters:
  with δ = 1e-3 the mean Huber loss is ~1e-6 and its gradient too small for L-BFGS's default
  tolerances, which then stop at the start (Besiroglu et al. 2024).

  ======================  ==============================  ===================================
  name                    residual                        ρ(r)
  ======================  ==============================  ===================================
  ``"huber"``             r = log L − log L̂               r²/2 if |r| ≤ δ else δ(|r| − δ/2)
  ``"log-mse"``           r = log L − log L̂               r²/2
  ``"mse"``               r = L − L̂  (nats)               r²/2
  ``"asymmetric"``        r = log L − log L̂               2τ·huber_δ(r) if r > 0 else
                                                          2(1 − τ)·huber_δ(r)
  ======================  ==============================  ===================================

  ``"huber"`` is Hoffmann et al. 2022's objective (§3.3, δ = 1e-3) in the convention of
  ``scipy.special.huber(δ, r)``: on the 240 points of Besiroglu et al. 2024 it gives their
  printed optimum 1.01827e-3 (the pseudo-Huber δ²(√(1 + (r/δ)²) − 1) gives 9.5e-4 there and
  the mean 4.2e-6, so neither is theirs).  ``"asymmetric"`` weighs runs *above* the law by 2τ
  and runs *below* it by 2(1 − τ): τ = 0.5 is the Huber loss, τ < 0.5 pulls the law towards
  the lower edge of the points (with δ → 0 it is quantile regression of log L at level τ),
  which discounts runs that are worse than the law for reasons the law does not model
  (untuned hyperparameters, unfinished schedules).

* **Forms** of the law in log space, with a vector-Jacobian product, in *centred*
  coordinates x_N = log N − m_N, x_D = log D − m_D (m the data's means; the optimum is the
  same, the conditioning far better):

  - Chinchilla (Hoffmann et al. 2022, eq. 2, fitted as in their §3.3):
    log L̂ = LSE(a′ − α x_N, b′ − β x_D, e), with a = a′ + α m_N, b = b′ + β m_D and
    A = exp(a), B = exp(b), E = exp(e);
  - Kaplan et al. 2020 eq. 1.5, L = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D:
    log L̂ = α_D · LSE((α_N/α_D)(n′ − x_N), d′ − x_D), with log N_c = n′ + m_N,
    log D_c = d′ + m_D.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scalinglaws.errors import QuantityError, UnknownNameError, did_you_mean

OBJECTIVES: tuple[str, ...] = ("huber", "log-mse", "mse", "asymmetric")
_BLOCK_ELEMENTS = 16000  # temporaries stay below glibc's 128 KiB mmap threshold
# Tables of more points than _BLOCK_ELEMENTS are evaluated in column chunks of at most this
# many (problems x points) elements: one row of a big table as one block makes temporaries of
# megabytes (out of cache) and matrix-vector products long enough for OpenBLAS to split over
# threads, which in forked workers on a busy machine was 5-30x slower (issue 11).
_COLUMN_ELEMENTS = 8192
_JACOBIAN_DIRECT = 4096  # above this many points the Jacobian is built from per-point terms


# ============================================================================ losses
def huber(r: np.ndarray, delta: float) -> np.ndarray:
    """Huber loss ρ(r) = r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond (Huber 1964; the convention of
    ``scipy.special.huber`` and of Hoffmann et al. 2022's Approach 3)."""
    c = np.clip(r, -delta, delta)
    return c * (r - 0.5 * c)  # = r²/2 inside, δ(|r| − δ/2) outside


def huber_derivative(r: np.ndarray, delta: float) -> np.ndarray:
    """dρ/dr of :func:`huber`: r clipped to [−δ, δ]."""
    return np.clip(r, -delta, delta)


def asymmetric_huber(r: np.ndarray, delta: float, tau: float) -> np.ndarray:
    """2τ·huber_δ(r) for r > 0 (observed loss above the law), 2(1 − τ)·huber_δ(r) otherwise;
    τ = 0.5 is :func:`huber`, δ → 0 gives δ times the pinball loss of quantile regression."""
    return np.where(r > 0, 2.0 * tau, 2.0 * (1.0 - tau)) * huber(r, delta)


def asymmetric_huber_derivative(r: np.ndarray, delta: float, tau: float) -> np.ndarray:
    """dρ/dr of :func:`asymmetric_huber`."""
    return np.where(r > 0, 2.0 * tau, 2.0 * (1.0 - tau)) * np.clip(r, -delta, delta)


def check_objective(name: str) -> str:
    """Return the canonical objective name or raise :class:`UnknownNameError`."""
    key = str(name).strip().lower()
    if key not in OBJECTIVES:
        raise UnknownNameError(
            f"unknown objective '{name}' for Approach 3" + did_you_mean(key, list(OBJECTIVES))
        )
    return key


@dataclass(frozen=True)
class Loss:
    """A robust loss of the residuals, configured once: ``name`` one of :data:`OBJECTIVES`,
    ``delta`` the Huber threshold (on log L) and ``tau`` the asymmetry of ``"asymmetric"``."""

    name: str = "huber"
    delta: float = 1e-3
    tau: float = 0.25

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", check_objective(self.name))
        for field, value in (("delta", self.delta), ("tau", self.tau)):
            try:
                ok = bool(np.isfinite(float(value)) and float(value) > 0)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise QuantityError(
                    f"{field} must be a finite number greater than 0, got {value!r}"
                )
        if not self.tau < 1:
            raise QuantityError(f"tau must be between 0 and 1 (0.5 is symmetric), got {self.tau}")

    @property
    def log_space(self) -> bool:
        """True when the residual is log L − log L̂, False for L − L̂ (``"mse"``)."""
        return self.name != "mse"

    def describe(self) -> str:
        """The objective in words, for a fit's ``method``."""
        if self.name == "huber":
            return f"sum of Huber losses (delta {self.delta:g}) of log L - log L_hat"
        if self.name == "asymmetric":
            return (
                f"sum of asymmetric Huber losses (delta {self.delta:g}, tau {self.tau:g}: runs "
                f"above the law weigh {2 * self.tau:g}, below {2 * (1 - self.tau):g}) of "
                "log L - log L_hat"
            )
        if self.name == "log-mse":
            return "sum of (log L - log L_hat)^2 / 2"
        return "sum of (L - L_hat)^2 / 2, in nats"

    def evaluate(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ρ(r), dρ/dr) elementwise, sharing the work."""
        if self.name in ("huber", "asymmetric"):
            c = np.clip(r, -self.delta, self.delta)
            rho = r - 0.5 * c
            rho *= c
            if self.name == "asymmetric":
                scale = np.where(r > 0, 2.0 * self.tau, 2.0 * (1.0 - self.tau))
                rho *= scale
                c *= scale
            return rho, c
        return 0.5 * r * r, r

    def rho(self, r: np.ndarray) -> np.ndarray:
        """ρ(r) elementwise."""
        if self.name == "huber":
            return huber(r, self.delta)
        if self.name == "asymmetric":
            return asymmetric_huber(r, self.delta, self.tau)
        return 0.5 * r * r

    def drho(self, r: np.ndarray) -> np.ndarray:
        """dρ/dr elementwise."""
        if self.name == "huber":
            return huber_derivative(r, self.delta)
        if self.name == "asymmetric":
            return asymmetric_huber_derivative(r, self.delta, self.tau)
        return r


# ============================================================================ forms
class Form:
    """A law written as log L̂ = f(θ; x_N, x_D) in centred log coordinates.

    ``names`` are the optimiser's coordinates θ; :meth:`log_predict` returns f for a batch
    θ of shape (S, k) at P points, shape (S, P), and a function ``vjp(c)`` returning
    Σ_i c[s, i] ∂f[s, i]/∂θ[s], shape (S, k).
    """

    names: tuple[str, ...] = ()

    def __init__(self, xN: np.ndarray, xD: np.ndarray) -> None:
        self.xN = np.asarray(xN, dtype=float)
        self.xD = np.asarray(xD, dtype=float)

    def log_predict(
        self, theta: np.ndarray, stable: bool = False
    ) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """f = log L̂ (S, P) and the VJP; ``stable=True`` guards every exponential against
        overflow (slower; used for the rows where the fast path is not finite).  The VJP may
        reuse (overwrite) its argument and the form's temporaries: call it once."""
        raise NotImplementedError

    def valid(self, theta: np.ndarray) -> np.ndarray:
        """Rows of θ where the form is defined (all of them unless a subclass says)."""
        return np.ones(theta.shape[0], dtype=bool)


class ChinchillaForm(Form):
    """log L̂ = LSE(a′ − α x_N, b′ − β x_D, e)  (Hoffmann et al. 2022, §3.3, centred)."""

    names = ("a'", "b'", "e", "alpha", "beta")

    def __init__(self, xN: np.ndarray, xD: np.ndarray) -> None:
        super().__init__(xN, xD)
        self._XN = np.stack([np.ones_like(self.xN), self.xN])  # rows [1, x_N]
        self._XD = np.stack([np.ones_like(self.xD), self.xD])

    def log_predict(
        self, theta: np.ndarray, stable: bool = False
    ) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        # u1 = a' − α x_N and u2 = b' − β x_D as (S, 2) @ (2, P) products.
        t1 = np.column_stack([theta[:, 0], -theta[:, 3]]) @ self._XN
        t2 = np.column_stack([theta[:, 1], -theta[:, 4]]) @ self._XD
        e = np.ascontiguousarray(theta[:, 2])
        if stable:  # shift by the row's largest exponent (a stable log-sum-exp)
            shift = np.maximum(np.maximum(t1.max(1), t2.max(1)), e)
            t1 -= shift[:, None]
            t2 -= shift[:, None]
            e = e - shift
        np.exp(t1, out=t1)
        np.exp(t2, out=t2)
        t3 = np.exp(e)
        total = t1 + t2
        total += t3[:, None]
        f = np.log(total)
        if stable:
            f += shift[:, None]
        xN, xD = self.xN, self.xD

        def vjp(c: np.ndarray) -> np.ndarray:
            ct = np.divide(c, total, out=c)  # softmax weights p_k = t_k / total
            out = np.empty((c.shape[0], 5))
            out[:, 2] = t3 * ct.sum(1)
            c1 = np.multiply(ct, t1, out=t1)
            c2 = np.multiply(ct, t2, out=t2)
            out[:, 0] = c1.sum(1)
            out[:, 1] = c2.sum(1)
            out[:, 3] = -(c1 @ xN)
            out[:, 4] = -(c2 @ xD)
            return out

        return f, vjp


class KaplanForm(Form):
    """log L̂ = α_D · LSE((α_N/α_D)(n′ − x_N), d′ − x_D)  (Kaplan et al. 2020, eq. 1.5)."""

    names = ("n'", "d'", "alpha_N", "alpha_D")

    def valid(self, theta: np.ndarray) -> np.ndarray:
        return np.abs(theta[:, 3]) > 1e-9

    def log_predict(
        self, theta: np.ndarray, stable: bool = True
    ) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        n, d, aN, aD = (theta[:, j : j + 1] for j in range(4))
        with np.errstate(divide="ignore", invalid="ignore"):
            p = aN / aD
        v = n - self.xN
        u1 = p * v
        u2 = d - self.xD
        m = np.maximum(u1, u2)
        q1 = np.exp(u1 - m)
        q2 = np.exp(u2 - m)
        total = q1 + q2
        lse = m + np.log(total)
        q1 /= total
        q2 /= total
        f = aD * lse

        def vjp(c: np.ndarray) -> np.ndarray:
            cq1 = c * q1
            return np.stack(
                [
                    (aN[:, 0] * cq1.sum(1)),
                    aD[:, 0] * (c * q2).sum(1),
                    (cq1 * v).sum(1),
                    (c * lse).sum(1) - (cq1 * u1).sum(1),
                ],
                axis=1,
            )

        return f, vjp


FORMS: dict[str, type[Form]] = {"chinchilla": ChinchillaForm, "kaplan": KaplanForm}


# ============================================================================ the objective
class BatchObjective:
    """F_s(θ_s) = Σ_i w[s, i]·ρ(r_s,i) for a batch of S parameter vectors, with gradients.

    ``form`` gives log L̂; ``loss`` gives ρ; ``L`` is the observed loss at the P points;
    ``weights`` is None (every point once), shape (P,) (shared) or (S_total, P) (one row per
    problem of the batch, e.g. bootstrap replicates: integer counts).  ``self(theta, rows)``
    evaluates the problems ``rows`` (indices into the batch) at ``theta`` (len(rows), k) and
    returns ``(F, dF/dθ)``; rows where the form is undefined get F = +inf.
    """

    def __init__(
        self,
        form: Form,
        loss: Loss,
        L: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> None:
        self.form = form
        self.loss = loss
        self.L = np.asarray(L, dtype=float)
        self.logL = np.log(self.L)
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        self.n_evaluations = 0

    def _weights(self, rows: np.ndarray) -> np.ndarray | None:
        if self.weights is None or self.weights.ndim == 1:
            return self.weights
        return self.weights[rows]

    def __call__(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        rows = np.asarray(rows)
        self.n_evaluations += theta.shape[0]
        # Blocks of < 16k elements keep every temporary under 128 KiB: in cache, and served by
        # malloc's heap rather than fresh mmap pages (each costing page faults); measured
        # 3-7x faster than one (S, P) pass for S in the thousands.
        if self.L.size > _BLOCK_ELEMENTS:
            return self._evaluate_columns(theta, rows)
        block = max(1, _BLOCK_ELEMENTS // max(1, self.L.size))
        if theta.shape[0] <= block:
            return self._evaluate(theta, rows)
        value = np.empty(theta.shape[0])
        grad = np.empty(theta.shape)
        for start in range(0, theta.shape[0], block):
            sl = slice(start, start + block)
            value[sl], grad[sl] = self._evaluate(theta[sl], rows[sl])
        return value, grad

    def _column_parts(self) -> list[tuple[slice, Form]]:
        """The points in chunks of _COLUMN_ELEMENTS, each with a form of its own (built once)."""
        parts = getattr(self, "_parts", None)
        if parts is None:
            P = self.L.size
            parts = [
                (sl, type(self.form)(self.form.xN[sl], self.form.xD[sl]))
                for sl in (
                    slice(a, min(P, a + _COLUMN_ELEMENTS)) for a in range(0, P, _COLUMN_ELEMENTS)
                )
            ]
            self._parts = parts
        return parts

    def _evaluate_columns(
        self, theta: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """A table of more than _BLOCK_ELEMENTS points: one problem at a time, its points
        in chunks of _COLUMN_ELEMENTS (value and gradient summed over the chunks)."""
        value = np.zeros(theta.shape[0])
        grad = np.zeros(theta.shape)
        parts = self._column_parts()
        for i in range(theta.shape[0]):
            th, row = theta[i : i + 1], rows[i : i + 1]
            w = self._weights(row)  # this problem's weights, taken once
            for sl, form in parts:
                v, g = self._evaluate(th, row, part=(sl, form, None if w is None else w[..., sl]))
                value[i] += v[0]
                grad[i] += g[0]
        bad = ~np.isfinite(value) | ~np.all(np.isfinite(grad), axis=1)
        if bad.any():
            value[bad] = np.inf
            grad[bad] = 0.0
        return value, grad

    def _evaluate(
        self,
        theta: np.ndarray,
        rows: np.ndarray,
        stable: bool = False,
        part: tuple[slice, Form, np.ndarray | None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """F and ∇F of the problems ``rows`` at ``theta``; ``part`` = (points, their form,
        their weights) restricts the sum to a chunk of the points (see _evaluate_columns)."""
        form, logL, L = self.form, self.logL, self.L
        if part is not None:
            form, logL, L = part[1], self.logL[part[0]], self.L[part[0]]
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            f, vjp = form.log_predict(theta, stable=stable)
            w = self._weights(rows) if part is None else part[2]
            if self.loss.log_space:
                r = np.subtract(logL, f, out=f)
                rho, c = self.loss.evaluate(r)
                np.negative(c, out=c)
            else:
                pred = np.exp(f)
                r = L - pred
                rho, c = self.loss.evaluate(r)
                c *= -pred
            if w is not None:
                rho *= w
                c *= w
            value = rho.sum(1)
            grad = vjp(c)
        bad = ~np.isfinite(value) | ~np.all(np.isfinite(grad), axis=1) | ~form.valid(theta)
        if bad.any():
            if not stable:  # recompute those rows with the overflow-safe form
                idx = np.flatnonzero(bad)
                value[idx], grad[idx] = self._evaluate(
                    theta[idx], rows[idx], stable=True, part=part
                )
                return value, grad
            value = np.where(bad, np.inf, value)
            grad = np.where(bad[:, None], 0.0, grad)
        return value, grad

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """log L − log L̂ at one parameter vector θ (shape (k,)), per point."""
        f, _ = self.form.log_predict(np.atleast_2d(theta))
        return self.logL - f[0]

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """∂ log L̂_i / ∂θ_j at one θ (shape (k,)): a (P, k) matrix, built through the VJP
        with unit vectors, in blocks of points."""
        theta = np.asarray(theta, dtype=float).reshape(1, -1)
        P = self.L.size
        blocks = []
        if P > _JACOBIAN_DIRECT:  # each block of points with a form of its own: O(P), not O(P²)
            width = 64
            eye = np.eye(width)
            for start in range(0, P, width):
                sl = slice(start, min(P, start + width))
                sub = type(self.form)(self.form.xN[sl], self.form.xD[sl])
                m = sub.xN.size
                _, vjp = sub.log_predict(np.repeat(theta, m, axis=0))
                blocks.append(vjp(eye[:m, :m].copy()))
            return np.concatenate(blocks, axis=0)
        for start in range(0, P, 256):
            stop = min(P, start + 256)
            eye = np.zeros((stop - start, P))
            eye[np.arange(stop - start), np.arange(start, stop)] = 1.0
            _, vjp = self.form.log_predict(np.repeat(theta, stop - start, axis=0))
            blocks.append(vjp(eye))
        return np.concatenate(blocks, axis=0)

    def gauss_newton(self, theta: np.ndarray) -> np.ndarray:
        """Jᵀ W J of log L̂ at θ (k × k): the Hessian of the weighted sum of squared log
        residuals / 2 without its residual term, used for the condition number."""
        J = self.jacobian(theta)
        P = J.shape[0]
        w = np.ones(P) if self.weights is None or self.weights.ndim != 1 else self.weights
        return J.T @ (J * w[:, None])
