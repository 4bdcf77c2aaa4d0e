"""Commands 'datasets list', 'datasets show' and 'datasets export': the published data sets
shipped with the package (:mod:`scalinglaws.datasets`), their sources and licences.

A thin layer: every runs argument also takes ``dataset:NAME`` (``scalinglaws fit
dataset:chinchilla_fig4 --drop-highest 5``); these commands say what the names are.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from scalinglaws.cli.output import emit_json, print_table


def register(group: click.Group) -> None:
    """Add the 'datasets' group and its commands to the top-level group."""
    datasets = group.group("datasets")(datasets_group)
    for name, callback, params in (
        ("list", list_command, [_json_flag("a table")]),
        ("show", show_command, [click.Argument(["name"]), _json_flag("text")]),
        ("export", export_command, _export_params()),
    ):
        datasets.add_command(
            click.Command(name, callback=callback, params=params, help=callback.__doc__)
        )


def datasets_group() -> None:
    """Published scaling-law data shipped with the package: list, show, export (runs
    arguments take them as dataset:NAME)."""


def _json_flag(what: str) -> click.Option:
    return click.Option(["--json", "as_json"], is_flag=True, help=f"Print JSON instead of {what}.")


def _record(name: str) -> dict:
    from scalinglaws import datasets

    ds = datasets.info(name)
    return {**asdict(ds), "path": str(ds.path), "runs_source": datasets.PREFIX + ds.name}


def list_command(as_json: bool) -> None:
    """The shipped data sets: name, rows, title and licence."""
    from scalinglaws import datasets

    if as_json:
        emit_json([_record(name) for name in datasets.names()])
        return
    rows = [[ds.name, ds.rows, ds.title, ds.licence] for ds in map(datasets.info, datasets.names())]
    print_table(
        rows,
        ["name", "rows", "title", "licence"],
        title="Shipped data sets",
        caption="As runs: dataset:NAME (fit dataset:chinchilla_fig4); source and licence: "
        "datasets show NAME.",
    )


def show_command(name: str, as_json: bool) -> None:
    """One data set: citation, source, licence, columns, its load_runs mapping, sha256."""
    from scalinglaws import datasets

    ds = datasets.info(name)
    if as_json:
        emit_json(_record(name))
        return
    click.echo(f"{ds.name}: {ds.title}")
    click.echo(f"citation: {ds.citation}")
    click.echo(f"source: {ds.source}")
    click.echo(f"licence: {ds.licence} (attribution and licence texts in {ds.path.parent})")
    click.echo(f"rows: {ds.rows:,}")
    click.echo(f"runs mapping: {ds.runs_columns or '— (not one runs table as shipped)'}")
    if ds.runs_note:
        click.echo(f"note: {ds.runs_note}")
    click.echo(f"sha256: {ds.sha256} (of the decompressed CSV)")
    click.echo(f"file: {ds.path}")
    print_table([[col, meaning] for col, meaning in ds.columns.items()], ["column", "meaning"])


def _export_params() -> list[click.Parameter]:
    return [
        click.Argument(["name"]),
        click.Option(["-o", "--out"], required=True, help="The CSV file to write."),
        click.Option(["--force"], is_flag=True, help="Replace the file if it exists."),
        click.Option(
            ["--json", "as_json"],
            is_flag=True,
            help='Print {"dataset": NAME, "file": ..., "rows": ...} instead of a line.',
        ),
    ]


def export_command(name: str, out: str, force: bool, as_json: bool) -> None:
    """Write data set NAME as a plain CSV file, byte for byte as published."""
    from scalinglaws import datasets
    from scalinglaws.errors import OutputError, check_writable
    from scalinglaws.files import atomic_write_text

    raw = datasets.read_bytes(name)  # an unknown name fails before the output is looked at
    check_writable(out, "output")
    if Path(out).expanduser().exists() and not force:
        raise OutputError(f"{out} exists; give --force to replace it, or another -o file")
    atomic_write_text(Path(out).expanduser(), raw.decode("utf-8"))
    rows = datasets.info(name).rows
    if as_json:
        emit_json({"dataset": name, "file": out, "rows": rows})
        return
    click.echo(f"wrote {out}: data set {name}, {rows:,} rows")
