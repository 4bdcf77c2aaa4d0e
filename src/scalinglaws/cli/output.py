"""Shared output for the command line: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def console() -> Console:
    return Console(soft_wrap=False, width=max(100, Console().width))


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON (NaN/inf as null) to stdout."""
    from scalinglaws.files import jsonable

    click.echo(json.dumps(jsonable(obj), indent=2))


def print_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Print a rich table; cells are formatted with :func:`cell`."""
    table = Table(title=title, caption=caption, caption_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    console().print(table)


def cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        av = abs(v)
        if av != 0 and (av >= 1e6 or av < 1e-3):
            return f"{v:.3e}"
        return f"{v:,.4g}" if av >= 1000 else f"{v:.4g}"
    return str(v)


@contextmanager
def reported_warnings() -> Iterator[None]:
    """Print our coded warnings as 'warning: [code] message' lines on stderr (other warnings
    as Python shows them), in the flags of the command that runs (see
    :func:`scalinglaws.cli.options.in_flag_words`)."""
    import warnings

    from scalinglaws.cli.options import flag_table, in_flag_words
    from scalinglaws.errors import ScalingLawsWarning

    ctx = click.get_current_context(silent=True)
    flags = flag_table(ctx.command) if ctx is not None else {}

    seen: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScalingLawsWarning)
            try:
                yield
            finally:
                seen = list(caught)
    finally:
        # shown only after catch_warnings has put the real showwarning back: inside it, showing
        # a warning records it again, and a loop over the records would never end
        for w in seen:
            if isinstance(w.message, ScalingLawsWarning):
                text = in_flag_words(w.message.text, flags, getattr(w.message, "argument", None))
                click.echo(f"warning: [{w.message.code}] {text}", err=True)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


#: From this many rows on, the commands that fit say so and show their progress on stderr
#: even when stderr is not a terminal (a fit of this size takes a minute or more).
LARGE_TABLE_ROWS = 50_000
#: On a terminal, progress is shown once the command has run this long.
TERMINAL_PROGRESS_SECONDS = 5.0


class _StderrProgress:
    """The command line's progress reporter (:mod:`scalinglaws.progress`): '[  12 s] step'
    lines on stderr, shown on a terminal once the command has run
    :data:`TERMINAL_PROGRESS_SECONDS`, and always once the table read has at least
    :data:`LARGE_TABLE_ROWS` rows (announced by a 'note:' line)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.terminal = sys.stderr.isatty()
        self.large = False

    def sized(self, rows: int) -> None:
        if rows >= LARGE_TABLE_ROWS and not self.large:
            self.large = True
            click.echo(
                f"note: {rows:,} rows; fitting a table this large takes a minute or more, so the "
                "steps are shown as they finish",
                err=True,
            )

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.start
        if self.large or (self.terminal and elapsed >= TERMINAL_PROGRESS_SECONDS):
            click.echo(f"[{elapsed:5.0f} s] {message}", err=True)


@contextmanager
def shown_progress() -> Iterator[None]:
    """Show the progress of the library's long steps on stderr (see :class:`_StderrProgress`)."""
    from scalinglaws.progress import reporting

    with reporting(_StderrProgress()):
        yield
