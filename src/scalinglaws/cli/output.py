"""Shared output for the command line: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import math
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
