"""How a training budget splits into parameters and tokens: the FLOPs convention.

Every allocation, fit diagnostic and figure moves between a budget C (training FLOPs), a model
size N and a token count D.  A :class:`FlopsConvention` is the one object that does it:

* ``FlopsConvention.constant(k)``: C = k·N·D.  k = 6 is Kaplan et al. 2020's and Hoffmann
  et al. 2022's 6ND (2 FLOPs per parameter per token forward, 4 backward).
* ``FlopsConvention.per_token(f, description)``: C = f(N)·D with f(N) the training FLOPs per
  token of an N-parameter model, e.g. a sweep family's shape rule
  (:meth:`scalinglaws.sweep.family.ModelFamily.flops_function`), which counts attention and
  the logits as well as the 6N of the weights.

Functions take ``flops_per_token`` as a convention or, for convenience, a number k (or a
callable f(N)); :meth:`FlopsConvention.of` turns either into a convention at the boundary, so
nothing past it asks whether it holds a number or a function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from scalinglaws.errors import DomainError

#: A number k (C = k·N·D), a callable f(N) (C = f(N)·D) or a :class:`FlopsConvention`.
FlopsLike = Union["FlopsConvention", float, Callable[[np.ndarray], np.ndarray]]

_BISECTIONS = 128  # N from C and D under f(N): bisection steps on log N


@dataclass(frozen=True)
class FlopsConvention:
    """C = f(N)·D: training FLOPs of N parameters on D tokens.

    ``k`` is the constant of C = k·N·D (None when f depends on N); ``function`` the f(N) of
    a convention that is not linear in N (None for a constant); ``description`` the
    convention in words (``"C = 6·N·D"``, or the function's own description).
    """

    k: float | None = 6.0
    function: Callable[[np.ndarray], Any] | None = None
    description: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def constant(cls, k: float = 6.0, argument: str = "flops_per_token") -> FlopsConvention:
        """C = k·N·D; ``k`` a finite number > 0 (``argument`` names it in the error)."""
        if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)):
            raise DomainError(
                f"{argument} must be a number k (C = k·N·D), a callable f(N) giving training "
                f"FLOPs per token, or a FlopsConvention, got {k!r}"
            )
        value = float(k)
        if not (math.isfinite(value) and value > 0):
            raise DomainError(
                f"{argument} must be a finite number greater than 0 (C = k·N·D), got {value!r}"
            )
        return cls(k=value, function=None, description=f"C = {value:g}·N·D")

    @classmethod
    def per_token(
        cls, function: Callable[[np.ndarray], Any], description: str | None = None
    ) -> FlopsConvention:
        """C = f(N)·D with ``function`` = f; ``description`` defaults to the function's own
        ``description`` attribute, else ``"C = f(N)·D with f = <name>"``."""
        if not callable(function):
            raise DomainError(
                f"a per-token FLOPs convention needs a callable f(N), got {function!r}"
            )
        if description is None:
            own = getattr(function, "description", None)
            name = getattr(function, "__name__", type(function).__name__)
            description = own if isinstance(own, str) and own else f"C = f(N)·D with f = {name}"
        return cls(k=None, function=function, description=description)

    @classmethod
    def of(cls, value: Any, argument: str = "flops_per_token") -> FlopsConvention:
        """A convention from what a caller passed: a convention itself, a number k or a
        callable f(N)."""
        if isinstance(value, FlopsConvention):
            return value
        if callable(value):
            return cls.per_token(value)
        return cls.constant(value, argument)

    # ------------------------------------------------------------------ conversions
    @property
    def linear(self) -> bool:
        """True for C = k·N·D (closed forms apply), False for a general f(N)."""
        return self.function is None

    def flops_per_token(self, N: Any) -> np.ndarray:
        """f(N) = training FLOPs per token of an N-parameter model (k·N for a constant);
        raises :class:`DomainError` where f is not finite and positive."""
        n = np.asarray(N, dtype=float)
        if self.function is None:
            return self.k * n  # type: ignore[operator]
        f = np.asarray(self.function(n), dtype=float)
        if np.any(~np.isfinite(f) | (f <= 0)):
            raise DomainError(
                f"the FLOPs convention ({self.description}) must give finite FLOPs per token "
                "greater than 0 for every N asked"
            )
        return f

    def compute(self, N: Any, D: Any) -> np.ndarray:
        """C = f(N)·D."""
        return self.flops_per_token(N) * np.asarray(D, dtype=float)

    def tokens(self, C: Any, N: Any) -> np.ndarray:
        """D = C / f(N)."""
        return np.asarray(C, dtype=float) / self.flops_per_token(N)

    def params(self, C: Any, D: Any) -> np.ndarray:
        """N with f(N)·D = C: C/(k·D) for a constant, bisection on log N (N in [1, C])
        otherwise (f rises with N)."""
        c = np.asarray(C, dtype=float)
        d = np.asarray(D, dtype=float)
        if self.function is None:
            return c / (self.k * d)  # type: ignore[operator]
        c, d = np.broadcast_arrays(c, d)
        lo = np.zeros(c.shape)
        hi = np.log(c)
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            too_big = self.flops_per_token(np.exp(mid)) * d > c
            hi = np.where(too_big, mid, hi)
            lo = np.where(too_big, lo, mid)
        return np.exp(0.5 * (lo + hi))

    # ------------------------------------------------------------------ text and JSON
    def __str__(self) -> str:
        return self.description

    def to_dict(self) -> dict[str, Any]:
        """Plain values: ``{"k": 6.0, "description": ...}`` for a constant; for a function,
        its own ``to_dict()`` when it has one (a sweep family's shape rule), so that
        :meth:`from_dict` can rebuild it."""
        if self.function is None:
            return {"k": self.k, "description": self.description}
        own = getattr(self.function, "to_dict", None)
        spec = own() if callable(own) else {}
        return {"k": None, "description": self.description, "function": spec}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlopsConvention | None:
        """Inverse of :meth:`to_dict`; None for a function that cannot be rebuilt (only a
        sweep family's shape rule can)."""
        if d.get("k") is not None:
            return cls.constant(float(d["k"]))
        spec = d.get("function") or {}
        family = spec.get("family")
        if isinstance(family, dict) and spec.get("convention"):
            from scalinglaws.sweep.family import ModelFamily

            return cls.per_token(
                ModelFamily(**family).flops_function(str(spec["convention"])),
                d.get("description") or None,
            )
        return None


#: Kaplan et al. 2020's and Hoffmann et al. 2022's C = 6·N·D.
SIX_ND = FlopsConvention.constant(6.0)

__all__ = ["SIX_ND", "FlopsConvention", "FlopsLike"]
