"""Shared output for the command line: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import math
import os
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.box import HEAVY_HEAD, Box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

#: The width tables are laid out in when stdout is not a terminal and ``COLUMNS`` is unset:
#: wide enough that piped output is never wrapped, folded or cut.
PIPE_WIDTH = 100_000


def console() -> Console:
    """The console tables print on, as wide as the terminal.

    Whether stdout is a terminal and how wide it is are decided as rich decides them, so the
    environment can force both: ``COLUMNS`` sets the width, ``TTY_COMPATIBLE=1`` (or
    ``FORCE_COLOR``) makes any stdout a terminal. Piped output without ``COLUMNS`` is laid
    out :data:`PIPE_WIDTH` wide: plain and complete."""
    probe = Console(soft_wrap=False)
    if probe.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit():
        return probe
    return Console(soft_wrap=False, width=PIPE_WIDTH)


def echo_wrapped(text: str, indent: str = "") -> None:
    """Echo ``text`` wrapped to the console's width, continuation lines after ``indent``
    (piped output without ``COLUMNS``: one line). Words, names included, are never split."""
    width = console().width
    if cell_len(text) <= width:
        click.echo(text)
        return
    wrapper = textwrap.TextWrapper(
        width=width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )
    click.echo("\n".join(wrapper.wrap(text)))


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON (NaN/inf as null) to stdout."""
    from scalinglaws.files import jsonable

    click.echo(json.dumps(jsonable(obj), indent=2))


def print_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    title: str | None = None,
    caption: str | None = None,
    *,
    keys: Sequence[int] = (0,),
    optional: Mapping[int, str] | None = None,
    left: Sequence[int] = (0,),
    box: Box = HEAVY_HEAD,
) -> None:
    """Print a rich table that fits the console (see :func:`console`); cells are formatted
    with :func:`cell`, the columns in ``left`` left-justified, the others right.

    The columns in ``keys`` (the first by default: the names a user types next) are shown
    whole, never wrapped or cut. When the table is wider than the console, the others wrap
    inside their cells, the widest first and none narrower than its longest word; a column
    in ``optional`` (column -> where it is shown too, e.g. ``"'scalinglaws presets show
    NAME'"``) is left out, in the mapping's order, while the table cannot fit otherwise, and
    a note after the table says where to find it."""
    out = console()
    texts = [[cell(v) for v in row] for row in rows]
    ranges = [
        _width_range([head, *(row[i] for row in texts)], i in keys)
        for i, head in enumerate(columns)
    ]
    shown = list(range(len(columns)))
    dropped = []
    for i in optional or {}:
        if _table_width([ranges[j][0] for j in shown]) <= out.width:
            break
        shown.remove(i)
        dropped.append(i)
    widths = _fitted_widths([ranges[i] for i in shown], out.width)
    table = Table(title=title, caption=caption, caption_justify="left", box=box)
    for n, i in enumerate(shown):
        justify = "left" if i in left else "right"
        if i in keys:
            table.add_column(columns[i], justify=justify, no_wrap=True, min_width=ranges[i][1])
        else:
            width = None if widths is None else widths[n]
            table.add_column(columns[i], justify=justify, overflow="fold", width=width)
    for row in texts:
        table.add_row(*(row[i] for i in shown))
    out.print(table, crop=False)  # a table too wide for a tiny terminal: wrapped, not cut
    if dropped and optional is not None:
        _dropped_note([columns[i] for i in dropped], [optional[i] for i in dropped])


def _width_range(texts: Sequence[str], key: bool) -> tuple[int, int]:
    """A column's narrowest width (its longest word; a key's longest line) and its natural
    width (its longest line), from its heading and cells."""
    widest = max(cell_len(line) for text in texts for line in text.splitlines() or [""])
    if key:
        return widest, widest
    return max((cell_len(word) for text in texts for word in text.split()), default=1), widest


def _table_width(widths: Sequence[int]) -> int:
    """The width of a table whose columns have these content widths: a cell is padded by a
    space on each side, and a rule (or a space) separates the columns and edges."""
    return sum(widths) + 3 * len(widths) + 1


def _fitted_widths(ranges: Sequence[tuple[int, int]], width: int) -> list[int] | None:
    """The content widths that fit the columns of these width ranges in ``width`` cells: the
    widest narrowed first, none below its narrowest. None when the natural widths fit, or when
    not even the narrowest do (then rich lays the table out, still never cutting a key)."""
    natural = _table_width([r[1] for r in ranges])
    if natural <= width or _table_width([r[0] for r in ranges]) > width:
        return None
    widths = [r[1] for r in ranges]
    for _ in range(natural - width):
        j = max(range(len(widths)), key=lambda k: (widths[k] > ranges[k][0], widths[k]))
        widths[j] -= 1
    return widths


def _dropped_note(names: Sequence[str], places: Sequence[str]) -> None:
    """The line that says which columns a narrow terminal left out, and where they are."""
    by_place: dict[str, list[str]] = {}
    for name, place in zip(names, places, strict=True):
        by_place.setdefault(place, []).append(name)
    where = "; ".join(f"{', '.join(cols)}: see {place}" for place, cols in by_place.items())
    echo_wrapped(f"(not shown at this width — {where})", indent=" ")


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
