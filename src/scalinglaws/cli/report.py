"""``scalinglaws report`` and ``scalinglaws plot``: the HTML report and single figures.

A thin layer over :func:`scalinglaws.report.build_report` and
:func:`scalinglaws.report.make_figure`; every check of the input happens there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scalinglaws.cli import options as shared
from scalinglaws.errors import DataError


def _source_options(bootstrap_default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options shared by `report` and `plot` for reading runs and fitting them;
    ``bootstrap_default`` says how many replicates the command draws without --bootstrap."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return shared.with_options(
            fn,
            [
                click.option(
                    "--budgets",
                    default=None,
                    help="FLOP budgets, comma-separated (e.g. 1e22,5.76e23); default: the three "
                    "powers of ten above the data's largest C.",
                ),
                shared.bootstrap_option(default=None, default_text=bootstrap_default),
                shared.seed_option(),
                shared.level_option("0.95"),
                shared.columns_option(),
                shared.drop_highest_option(),
                shared.flops_per_token_option(),
                click.option(
                    "--presets",
                    default=None,
                    help="Published presets to compare, comma-separated (default: all; see "
                    "'scalinglaws presets').",
                ),
                shared.bin_tolerance_option(
                    "Approach 2", "default 0.05, or 0.25 around a sweep folder's planned budgets"
                ),
                shared.min_sizes_option("default 5"),
                *shared.profile_options(),
            ],
        )

    return decorate


def _approach2(
    bin_tolerance: str | None,
    min_sizes: int | None,
    profile: str | None = None,
    degree: int | None = None,
    window: str | None = None,
) -> dict[str, Any]:
    """The report's Approach 2 options, as given on the command line."""
    out: dict[str, Any] = {
        k: v
        for k, v in shared.parse_profile_options(profile, degree, window).items()
        if v is not None
    }
    tolerance = shared.parse_bin_tolerance(bin_tolerance)
    if tolerance is not None:
        out["bin_tolerance"] = tolerance
    if min_sizes is not None:
        out["min_sizes"] = min_sizes
    return out


_LAW_KINDS = (
    "isoloss",
    "loss-compute",
    "curves",
    "epochs",
    "data-isoloss",
    "inference-cost",
    "overtraining",
)


def _budgets(text: str | None) -> list[float] | None:
    """--budgets parsed here, so that a bad value names the flag."""
    from scalinglaws.units import parse_quantities

    if text is None:
        return None
    if not text.strip():
        raise DataError("--budgets is empty; give FLOP budgets such as 1e22,5.76e23 or drop it")
    return parse_quantities(text, what="--budgets")


def _seed(seed: int) -> int:
    if seed < 0:
        raise DataError(f"--seed must be a whole number >= 0, got {seed}")
    return seed


def _presets(text: str | None) -> list[str] | None:
    return None if text is None else [p.strip() for p in text.split(",") if p.strip()]


def _source_arguments(
    budgets: str | None,
    n_bootstrap: int | None,
    seed: int,
    level: str,
    columns: str | None,
    drop_highest: int,
    flops_per_token: str,
    presets: str | None,
    bin_tolerance: str | None,
    min_sizes: int | None,
    profile: str | None,
    degree: int | None,
    window: str | None,
) -> dict[str, Any]:
    """The options of :func:`_source_options`, parsed (each error naming its flag), as the
    arguments :func:`scalinglaws.report.build_report` and
    :func:`scalinglaws.report.make_figure` share."""
    return {
        "budgets": _budgets(budgets),
        "n_bootstrap": n_bootstrap,
        "seed": _seed(seed),
        "level": shared.parse_level(level),
        "columns": columns,
        "drop_highest": drop_highest,
        "flops_per_param_token": shared.parse_flops_per_token(flops_per_token),
        "presets": _presets(presets),
        "approach2": _approach2(bin_tolerance, min_sizes, profile, degree, window),
    }


@click.command("report")
@click.argument("source", type=click.Path(dir_okay=True))
@click.option("-o", "--out", "out_dir", required=True, help="Folder to write the report to.")
@_source_options("default 200")
@click.option("--accelerator", default=None, help="Accelerator for training time (e.g. h100).")
@click.option("--devices", default="1", show_default=True, help="Number of accelerators.")
@click.option("--mfu", default="0.4", show_default=True, help="Model FLOPs utilisation.")
@click.option("--peak", default=None, help="Peak FLOP/s per device (overrides the accelerator).")
@click.option("--no-backtest", is_flag=True, help="Skip the extrapolation backtest.")
@click.option(
    "--formats",
    default="png,svg",
    show_default=True,
    help="Figure files to write, comma-separated (png is required; svg, pdf optional).",
)
@click.option("--title", default=None, help="Title of the report.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the report's numbers (report.json) on stdout; the other lines go to stderr.",
)
def report_command(
    source: str,
    out_dir: str,
    accelerator: str | None,
    devices: str,
    mfu: str,
    peak: str | None,
    no_backtest: bool,
    formats: str,
    title: str | None,
    as_json: bool,
    **source_options: Any,
) -> None:
    """Write a self-contained HTML report for SOURCE: a runs file (CSV, Parquet, JSON Lines),
    a saved fit (fit.json from 'scalinglaws fit -o fit.json') or a sweep folder (runs.csv and
    curves.csv).

    Example: scalinglaws report runs.csv -o out/ --budgets 1e22,1e24 --bootstrap 200
    --accelerator h100 --devices 8 --mfu 0.4
    """
    from scalinglaws.cli.output import emit_json, shown_progress
    from scalinglaws.report import build_report

    arguments = _source_arguments(**source_options)
    if arguments["n_bootstrap"] is None:
        arguments["n_bootstrap"] = 200
    with shown_progress():
        result = build_report(
            source,
            out_dir,
            **arguments,
            accelerator=accelerator,
            devices=devices,
            mfu=mfu,
            peak=peak,
            backtest=not no_backtest,
            formats=[f.strip() for f in formats.split(",") if f.strip()],
            title=title,
        )
    _print_report(result, to_stderr=as_json)
    if as_json:
        emit_json(result.numbers)  # report.json's content


def _print_report(result: Any, to_stderr: bool = False) -> None:
    """What the report found, in lines: approaches not fitted, the allocations at the
    budgets, warnings (to stderr) and where it was written -- all on stderr when stdout
    carries the JSON (``to_stderr``)."""
    from scalinglaws.report import format_value

    nb = result.numbers
    for approach, reason in nb["not_fitted"].items():
        click.echo(f"approach {approach}: not fitted ({reason})", err=to_stderr)
    if nb["allocation"]:
        click.echo(f"compute convention: {nb['settings']['compute_convention']}", err=to_stderr)
    for row in nb["allocation"]:
        click.echo(
            f"approach {row['approach']} at {format_value(row['C'], 'flops')} FLOPs: "
            f"N* = {format_value(row['N'], 'count')}, D* = {format_value(row['D'], 'count')} "
            f"({format_value(row['tokens_per_param'])} tokens per parameter), "
            f"L* = {format_value(row['L'])}",
            err=to_stderr,
        )
    for text in result.warnings:
        click.echo(f"warning: {text}", err=True)
    click.echo(
        f"wrote {result.html} ({len(result.figures)} figures, report.json) in "
        f"{result.seconds:.1f} s",
        err=to_stderr,
    )


@click.command("plot")
@click.argument("kind", metavar="KIND")
@click.argument("source", required=False, type=click.Path(dir_okay=True))
@click.option("-o", "--out", "out_path", required=True, help="File to write (.png, .svg, .pdf).")
@_source_options("default 200 for bootstrap, 100 for frontier and backtest, 0 otherwise")
@click.option(
    "--law",
    default=None,
    help="Draw a preset's law instead of a fit (isoloss, loss-compute, curves, epochs, "
    "data-isoloss, inference-cost, overtraining), e.g. besiroglu2024.",
)
@click.option(
    "--unique-tokens",
    "unique_tokens",
    default=None,
    help="Unique tokens U (epochs: one or more, comma-separated, default 1B,10B,100B or the "
    "runs' U quartiles; data-isoloss: one, default 25B or the runs' largest U).",
)
@click.option(
    "--params",
    default=None,
    help="Model size(s) (epochs: fixed sizes instead of N_opt(D); overtraining: a fixed N "
    "instead of a fixed budget).",
)
@click.option(
    "--compute",
    default=None,
    help="FLOP budget (data-isoloss: default 1e22 or the first budget; overtraining: default "
    "Llama 3 8B's 7.2e23).",
)
@click.option("--loss", default=None, help="Target loss (inference-cost; required there).")
@click.option(
    "--inference-tokens",
    "inference_tokens",
    default=None,
    help="Inference demands D_inf, comma-separated (inference-cost; default 0,200B,2T,20T).",
)
@click.option(
    "--cosine",
    default=None,
    metavar="RUNS",
    help="Cosine runs (a runs file, dataset or sweep folder) drawn against the WSD branches "
    "(cooldown only).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"figure": KIND, "files": [...]} on stdout instead of the "wrote" line.',
)
def plot_command(
    kind: str,
    source: str | None,
    out_path: str,
    law: str | None,
    unique_tokens: str | None,
    params: str | None,
    compute: str | None,
    loss: str | None,
    inference_tokens: str | None,
    cosine: str | None,
    as_json: bool,
    **source_options: Any,
) -> None:
    """Draw one figure of KIND from SOURCE (a runs file, a sweep folder or a saved fit).

    KIND is one of: isoflop, frontier, isoloss, loss-compute, curves, residuals, predicted,
    bootstrap, backtest, presets, and beyond compute-optimal: epochs and data-isoloss (repeated
    data, Muennighoff et al. 2023; from runs with a U column or --law muennighoff2023),
    inference-cost (Sardana et al. 2024; --loss) and overtraining.  'presets' needs no SOURCE,
    nor does 'isoloss --law NAME'; the last four default to a preset without SOURCE.
    'cooldown' draws a cooldown sweep folder's WSD branches against the cosine runs of
    --cosine RUNS (Hägele et al. 2024).

    Example: scalinglaws plot cooldown sweeps/cool --cosine cosine_runs.csv -o cooldown.png

    Example: scalinglaws plot frontier runs.csv -o frontier.png --budgets 1e22

    Example: scalinglaws plot inference-cost -o cost.png --loss 2.0 --inference-tokens 0,2T,20T
    """
    from scalinglaws.cli.output import emit_json, reported_warnings, shown_progress
    from scalinglaws.plots import save
    from scalinglaws.report import make_figure

    kind_key = kind.strip().lower()
    _check_kind(kind, kind_key)
    if cosine is not None and kind_key != "cooldown":
        raise DataError(f"--cosine applies to the cooldown figure, not to '{kind}'")
    if kind_key == "cooldown":
        if source is None:
            raise DataError(
                "plot cooldown needs SWEEP_FOLDER, the folder of a cooldown sweep: "
                "scalinglaws plot cooldown SWEEP_FOLDER [--cosine RUNS] -o FILE"
            )
        from scalinglaws.plots.schedules import plot_cooldown

        target, fmt = _figure_file(out_path)
        with reported_warnings():
            fig = plot_cooldown(source, cosine=_cosine_runs(cosine))
        (written,) = save(fig, target.with_suffix(""), formats=(fmt,))
        if as_json:
            emit_json({"figure": kind_key, "files": [str(written)]})
        else:
            click.echo(f"wrote {written}")
        return
    if kind_key == "presets" and source is not None:
        raise DataError(
            f"the 'presets' figure draws the published presets and takes no SOURCE, got "
            f"{source!r}; use 'scalinglaws report {source} -o DIR' to compare your fit with them"
        )
    if law is not None and kind_key not in _LAW_KINDS:
        raise DataError(f"--law applies to the {', '.join(_LAW_KINDS)} figures, not to '{kind}'")
    target, fmt = _figure_file(out_path)
    with reported_warnings(), shown_progress():  # 'warning: [code] ...' lines
        fig = make_figure(
            kind,
            source,
            **_source_arguments(**source_options),
            law=law,
            unique_tokens=unique_tokens,
            params=params,
            compute=compute,
            loss=loss,
            inference_tokens=inference_tokens,
        )
    (written,) = save(fig, target.with_suffix(""), formats=(fmt,))
    if as_json:
        emit_json({"figure": kind_key, "files": [str(written)]})
    else:
        click.echo(f"wrote {written}")


def _check_kind(kind: str, kind_key: str) -> None:
    """An unknown KIND, with the figures of the report and 'cooldown' as suggestions."""
    from scalinglaws import plots
    from scalinglaws.errors import UnknownNameError, did_you_mean

    kinds = [*plots.KINDS, "cooldown"]
    if kind_key not in kinds:
        raise UnknownNameError(f"unknown figure kind '{kind}'" + did_you_mean(kind_key, kinds))


def _cosine_runs(cosine: str | None) -> Any:
    """--cosine: the runs read now (a bad source fails with its own sentence)."""
    if cosine is None:
        return None
    from scalinglaws.runs import load_runs

    return load_runs(cosine)


def _figure_file(out_path: str) -> tuple[Path, str]:
    """-o of `plot`: a writable file whose extension names a figure format."""
    from scalinglaws.errors import check_writable
    from scalinglaws.plots import FORMATS

    target = Path(out_path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    if fmt not in FORMATS:
        raise DataError(
            f"-o {out_path} has the extension .{fmt}; use .png, .svg or .pdf for a figure"
        )
    if target.is_dir():
        raise DataError(f"-o {out_path} is a folder; give a file name such as frontier.png")
    check_writable(out_path, "-o")
    return target, fmt


def register(group: click.Group) -> None:
    """Add `report` and `plot` to the top-level group."""
    group.add_command(report_command)
    group.add_command(plot_command)
