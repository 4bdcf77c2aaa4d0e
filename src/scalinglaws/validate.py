"""Declarative checks of the arguments estimators and planners take: one function per kind
of value, one wording.  Each names the argument at fault, says what would be valid and raises
:class:`~scalinglaws.errors.QuantityError` carrying ``argument`` (the command line turns the
name into its flag)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from scalinglaws.errors import QuantityError


def _fail(name: str, valid: str, value: Any, hint: str) -> QuantityError:
    return QuantityError(
        f"{name} must be {valid}" + (f" ({hint})" if hint else "") + f", got {value!r}",
        argument=name,
    )


def whole_number(
    value: Any,
    name: str,
    minimum: int | None = None,
    maximum: int | None = None,
    hint: str = "",
    none: bool = False,
) -> int | None:
    """``value`` as an int in [minimum, maximum] (None allowed when ``none``)."""
    if value is None and none:
        return None
    bounds = []
    if minimum is not None:
        bounds.append(f">= {minimum}")
    if maximum is not None:
        bounds.append(f"<= {maximum}")
    valid = "a whole number" + (" " + " and ".join(bounds) if bounds else "")
    valid += " or None" if none else ""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail(name, valid, value, hint)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(name, valid, value, hint)
    return int(value)


def real_number(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
    none: bool = False,
) -> float | None:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (each end
    closed unless ``*_open``); None allowed when ``none``."""
    if value is None and none:
        return None
    parts = []
    if low is not None and high is not None and low_open and high_open:
        parts.append(f"between {low:g} and {high:g}")
    else:
        if low is not None:
            parts.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            parts.append(f"{'<' if high_open else '<='} {high:g}")
    valid = "a number" + (" " + " and ".join(parts) if parts else "") + (" or None" if none else "")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _fail(name, valid, value, hint)
    x = float(value)
    if not math.isfinite(x):
        raise _fail(name, valid, value, hint)
    if low is not None and (x < low or (low_open and x == low)):
        raise _fail(name, valid, value, hint)
    if high is not None and (x > high or (high_open and x == high)):
        raise _fail(name, valid, value, hint)
    return x


#: Most bootstrap replicates an estimator draws: each replicate holds a resampling of every
#: run, so 1e9 replicates of 30 runs would allocate hundreds of GiB before any fit starts.
MAX_BOOTSTRAP = 100_000

#: Largest seed: NumPy's legacy seeds are 32-bit, and a larger one gains nothing.
MAX_SEED = 2**32 - 1


def check_common(n_bootstrap: Any, seed: Any, level: Any) -> tuple[int, int, float]:
    """Validate the options every estimator shares; returns them normalised.

    ``n_bootstrap`` is 0 (no bootstrap) or from 2 to :data:`MAX_BOOTSTRAP`, ``seed`` an
    integer from 0 to :data:`MAX_SEED`, ``level`` in (0, 1).
    """
    n = whole_number(n_bootstrap, "n_bootstrap", 0, hint="0 for no bootstrap, else at least 2")
    if n == 1:
        raise QuantityError(
            f"n_bootstrap must be 0 (no bootstrap) or at least 2 replicates, got {n_bootstrap}",
            argument="n_bootstrap",
        )
    if n is not None and n > MAX_BOOTSTRAP:
        raise QuantityError(
            f"n_bootstrap must be at most {MAX_BOOTSTRAP:,} replicates (each holds a resampling "
            f"of every run; a few hundred to a few thousand give stable intervals), got {n}",
            argument="n_bootstrap",
        )
    s = whole_number(seed, "seed", 0, MAX_SEED, hint="e.g. 0")
    lev = real_number(level, "level", 0, 1, low_open=True, high_open=True, hint="e.g. 0.95")
    return int(n), int(s), float(lev)


__all__ = ["MAX_BOOTSTRAP", "MAX_SEED", "check_common", "real_number", "whole_number"]
