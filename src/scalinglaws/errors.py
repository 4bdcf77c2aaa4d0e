"""One exception type per domain, and warnings with stable codes.

Every error the package raises on bad input is a :class:`ScalingLawsError`; its message is
one sentence that says what was wrong, where, and what would be valid.  The command line
prints that sentence and exits with status 2 (never a traceback).

Warnings carry a stable ``code`` (for example ``"SL-E-COLLAPSED"``) so a script can test for
them: ``any(w.message.code == "SL-E-COLLAPSED" for w in caught)``.
"""

from __future__ import annotations


class ScalingLawsError(Exception):
    """Base class of every error raised by scalinglaws on bad input or a failed computation.

    ``argument`` names the Python argument at fault (``"time_min"``), or is None when no one
    argument is; the message then speaks of it by that name (``time_min must be ...``), never
    by a command-line flag.  The command line restates such a message in its own flags.
    """

    def __init__(self, *args: object, argument: str | None = None) -> None:
        super().__init__(*args)
        self.argument = argument


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


class OutputError(ScalingLawsError, OSError):
    """A result cannot be written: the folder does not exist and cannot be made, is
    read-only, or the target is a folder.  Also an :class:`OSError`, so code that tolerates
    failed writes (e.g. a sweep's heartbeat) keeps doing so."""

    def __str__(self) -> str:  # OSError would format (errno, strerror); keep the sentence.
        return str(self.args[0]) if self.args else ""


def output_error(path: object, exc: OSError, what: str = "") -> OutputError:
    """The one-sentence :class:`OutputError` for an ``OSError`` met while writing ``path``:
    what could not be written, why (the system's reason), and what would be valid."""
    from pathlib import Path

    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        target = Path(str(path))
        blocker = next((p for p in (target, *target.parents) if p.is_file()), None)
        if blocker is not None:
            reason = f"{blocker} is a file, not a folder"
    where = f"{what} {path}" if what else str(path)
    return OutputError(f"cannot write {where} ({reason}); give a path in a folder you can write to")


def check_writable(path: object, what: str = "", folder: bool = False) -> None:
    """Raise :class:`OutputError` now, before any long computation, when ``path`` could not be
    written later: it is an existing folder (for a file) or file (for a ``folder``), or its
    nearest existing parent is not a folder this process may write to.  Creates nothing."""
    import os
    from pathlib import Path

    target = Path(str(path)).expanduser()
    where = f"{what} {path}" if what else str(path)
    if folder and target.exists() and not target.is_dir():
        raise OutputError(f"{where} is a file, not a folder; give a folder name")
    if not folder and target.is_dir():
        raise OutputError(f"{where} is a folder; give a file name inside it")
    if folder and target.is_dir():
        parent = target
    else:
        parent = target.parent if str(target.parent) else Path(".")
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {where} ({parent} is a file, not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {where} (the folder {parent} is read-only); give a path in a folder "
            "you can write to"
        )


class ScalingLawsWarning(UserWarning):
    """A warning with a stable machine-readable ``code``."""

    def __init__(self, code: str, message: str, argument: str | None = None) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.text = message
        #: The Python argument the warning is about, as in :class:`ScalingLawsError`.
        self.argument = argument


def warn(code: str, message: str, stacklevel: int = 2, argument: str | None = None) -> None:
    """Emit a :class:`ScalingLawsWarning` with a stable ``code`` (about ``argument``, if any)."""
    import warnings

    warnings.warn(ScalingLawsWarning(code, message, argument), stacklevel=stacklevel + 1)


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or a list of valid choices."""
    import difflib

    close = difflib.get_close_matches(name.lower(), [c.lower() for c in choices], n=1, cutoff=0.5)
    if close:
        match = next(c for c in choices if c.lower() == close[0])
        return f"; did you mean '{match}'?"
    return f"; valid names are: {', '.join(choices)}"
