"""One exception type per domain, and warnings with stable codes.

Every error the package raises on bad input is a :class:`ScalingLawsError`; its message is
one sentence that says what was wrong, where, and what would be valid.  The command line
prints that sentence and exits with status 2 (never a traceback).

Warnings carry a stable ``code`` (for example ``"SL-E-COLLAPSED"``) so a script can test for
them: ``any(w.message.code == "SL-E-COLLAPSED" for w in caught)``.
"""

from __future__ import annotations


class ScalingLawsError(Exception):
    """Base class of every error raised by scalinglaws on bad input or a failed computation."""


class QuantityError(ScalingLawsError, ValueError):
    """A quantity could not be parsed or is out of its valid range (e.g. "70X", "-5")."""


class DomainError(ScalingLawsError, ValueError):
    """A law was evaluated outside its domain (non-positive N, D, C or S)."""


class UnknownNameError(ScalingLawsError, KeyError):
    """An unknown preset, law, convention, accelerator or approach name."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the sentence as is.
        return str(self.args[0]) if self.args else ""


class DataError(ScalingLawsError, ValueError):
    """A runs table (file or DataFrame) is malformed: missing columns, bad values, ..."""


class FitError(ScalingLawsError):
    """A fit could not be carried out (unidentifiable law, no finite objective, ...)."""


class PlanError(ScalingLawsError, ValueError):
    """A sweep plan is invalid (unknown keys, impossible sizes, budget too small, ...)."""


class ScalingLawsWarning(UserWarning):
    """A warning with a stable machine-readable ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.text = message


def warn(code: str, message: str, stacklevel: int = 2) -> None:
    """Emit a :class:`ScalingLawsWarning` with a stable ``code``."""
    import warnings

    warnings.warn(ScalingLawsWarning(code, message), stacklevel=stacklevel + 1)


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or a list of valid choices."""
    import difflib

    close = difflib.get_close_matches(name.lower(), [c.lower() for c in choices], n=1, cutoff=0.5)
    if close:
        match = next(c for c in choices if c.lower() == close[0])
        return f"; did you mean '{match}'?"
    return f"; valid names are: {', '.join(choices)}"
