"""Progress of long computations: the library says which step it has reached, and whoever
called it decides whether and where to show it.

A fit of a few hundred runs takes seconds and says nothing.  On a table of a million rows the
automatic fit's nested backtest and bootstrap take minutes, and a silent terminal for that long
looks like a hang.  The fitting code calls :func:`step` at each step (a cut of the nested
backtest fitted, a block of bootstrap replicates refitted), and the loader calls :func:`sized`
with the number of rows read; nothing is shown unless a reporter is installed with
:func:`reporting` -- the command line installs one that prints to stderr on a terminal, or
whenever the table is large.

Example::

    from scalinglaws.progress import reporting
    with reporting(print):
        fit = AutoFit().fit(big_table)   # prints "nested backtest: cut 1 of 7 fitted", ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Reporter = Callable[[str], None]

_REPORTER: ContextVar[Reporter | None] = ContextVar("scalinglaws_progress", default=None)


def step(message: str) -> None:
    """Tell the installed reporter (if any) that ``message`` -- one line, e.g. "bootstrap:
    40 of 100 replicates refitted" -- has happened."""
    reporter = _REPORTER.get()
    if reporter is not None:
        reporter(message)


def sized(rows: int) -> None:
    """Tell the installed reporter (if it has a ``sized`` method) how many rows the work
    ahead runs on, so that it can decide whether the work is long enough to show."""
    reporter = _REPORTER.get()
    hook = getattr(reporter, "sized", None)
    if hook is not None:
        hook(rows)


def active() -> bool:
    """Whether a reporter is installed (so that a caller can skip composing messages)."""
    return _REPORTER.get() is not None


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send the :func:`step` messages of the code run inside to ``reporter`` (None: to
    nobody)."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


__all__ = ["Reporter", "active", "reporting", "sized", "step"]
