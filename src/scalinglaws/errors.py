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
    read-only, or the target is a folder or not a regular file (a device, a named pipe).
    Also an :class:`OSError`, so code that tolerates failed writes (e.g. a sweep's heartbeat)
    keeps doing so."""

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
    nearest existing parent is not a folder this process may write to, or (for a file) it is a
    device, named pipe or socket (:func:`check_regular`).  A symbolic link is checked as the
    file it points to, which is what a write replaces.  Creates nothing."""
    import os
    from pathlib import Path

    target = Path(str(path)).expanduser()
    where = f"{what} {path}" if what else str(path)
    if folder and target.exists() and not target.is_dir():
        raise OutputError(f"{where} is a file, not a folder; give a folder name")
    if not folder and target.is_dir():
        raise OutputError(f"{where} is a folder; give a file name inside it")
    if not folder:
        check_regular(target, what)
        if target.is_symlink():  # the link is kept and its target written (see files.py)
            target = Path(os.path.realpath(target))
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


def _node_kind(mode: int) -> str:
    """What a file system node that is not a regular file or a folder is, in words."""
    import stat

    kinds = (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((kind for test, kind in kinds if test(mode)), "a special file")


def check_regular(path: object, what: str = "") -> None:
    """Raise :class:`OutputError` when ``path`` (a symbolic link followed to its target) exists
    and is neither a regular file nor a folder: a device, a named pipe or a socket is never
    replaced by a result (``-o /dev/null`` run as root would replace ``/dev/null``)."""
    import os
    import stat

    where = f"{what} {path}" if what else str(path)
    try:
        mode = os.stat(str(path)).st_mode
    except FileNotFoundError:
        return  # a new file (or a link to one): written as a regular file
    except OSError as exc:  # e.g. a loop of symbolic links
        raise output_error(path, exc, what) from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise OutputError(
            f"cannot write {where} (it is {_node_kind(mode)}, not a regular file); give the "
            "path of a regular file or of a new one"
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
