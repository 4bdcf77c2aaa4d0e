"""`scalinglaws curve fit|predict|backtest`: loss curves under learning-rate schedules
(:mod:`scalinglaws.curves`)."""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from scalinglaws.errors import DataError, QuantityError

_LR_NAMES = ("lr", "learning_rate", "learning-rate")


def curve_group() -> None:
    """Loss curves under learning-rate schedules: fit the multi-power law (Luo et al. 2025),
    Tissue et al. 2024's momentum form or a power law in steps; predict unfinished runs and
    other schedules; backtest."""


def _split_columns(columns: str | None) -> tuple[str | None, str | None]:
    """(the mapping without its lr key, the lr column name)."""
    if columns is None or "=" not in columns:
        return columns, None
    keep, lr = [], None
    for part in columns.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "lr":
            lr = value.strip()
        elif part.strip():
            keep.append(part.strip())
    return (",".join(keep) or None), lr


def _curves(runs_source: str, columns: str | None, schedule: str | None, x: str) -> list:
    from scalinglaws.curves import curves_from_runs, parse_schedule
    from scalinglaws.datasets import dataset_name
    from scalinglaws.runs import load_runs
    from scalinglaws.runs_read import _read

    mapping, lr_col = _split_columns(columns)
    runs = load_runs(runs_source, columns=mapping)
    lr = None
    if schedule is not None:
        schedule = parse_schedule(schedule)  # a bad string fails here, before any fit
    else:
        table, _, _, rows = _read(runs_source)
        names = [str(c) for c in table.columns]
        if lr_col is None:
            lr_col = next((c for c in names if c.lower() in _LR_NAMES), None)
        elif lr_col not in names:
            raise DataError(
                f"--columns names the learning-rate column {lr_col!r}, which the table does not "
                f"have; its columns are {', '.join(names)}"
            )
        if lr_col is not None:
            by_row = dict(zip(list(rows), table[lr_col].to_numpy(), strict=True))
            try:
                lr = np.array([float(by_row[r]) for r in runs.df["row"]])
            except (TypeError, ValueError) as exc:
                raise DataError(f"the learning-rate column {lr_col!r} must be numbers") from exc
    return curves_from_runs(runs, lr=lr, schedule=schedule, x=x, dataset=dataset_name(runs_source))


def _common(fn: Any) -> Any:
    for option in reversed(
        [
            click.argument("runs_source", metavar="RUNS"),
            click.option(
                "--columns",
                default=None,
                help='Map your column names, as for `fit` ("L=loss,step=iter"), plus lr=NAME '
                "for a learning-rate column (a column named lr or learning_rate is used "
                "without it).",
            ),
            click.option(
                "--schedule",
                default=None,
                metavar="NAME:k=v,...",
                help="The runs' schedule when the table has no lr column: cosine, wsd or "
                "constant with keys peak, warmup, min, decay, shape, e.g. "
                "'cosine:warmup=100,min=0.1' (dataset:pythia_train_loss knows its own).",
            ),
            click.option(
                "--x",
                "x",
                type=click.Choice(["step", "tokens"]),
                default="step",
                show_default=True,
                help="The power law's variable.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _law_option(default: str | None, multiple: bool = False) -> Any:
    return click.option(
        "--law",
        "law",
        default=() if multiple else default,
        show_default=not multiple,
        multiple=multiple,
        type=click.Choice(["multi-power", "momentum", "power"]),
        help="The curve law" + (" (repeatable; default: all three)." if multiple else "."),
    )


def _json_options(fn: Any) -> Any:
    fn = click.option(
        "-o",
        "--output",
        "output",
        default=None,
        metavar="FILE",
        help="Write the result to FILE as JSON.",
    )(fn)
    fn = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print the result as JSON on stdout instead of the tables.",
    )(fn)
    return fn


def _finish(record: Any, as_json: bool, output: str | None) -> None:
    from scalinglaws.cli.output import emit_json
    from scalinglaws.files import jsonable

    if output is not None:
        import json
        from pathlib import Path

        Path(output).write_text(json.dumps(jsonable(record), indent=2) + "\n")
        click.echo(f"wrote {output}", err=as_json)
    if as_json:
        emit_json(record)


def _pick(curves: list, run: str | None) -> list:
    from scalinglaws.curves import find_run

    return curves if run is None else [find_run(curves, run)]


def _check_output(output: str | None) -> None:
    if output is not None:
        from scalinglaws.errors import check_writable

        if output == "-":
            raise QuantityError("-o takes a file; print the result on stdout with --json")
        check_writable(output, "-o")


def _plot_option(what: str) -> Any:
    return click.option(
        "--plot",
        "plot_path",
        default=None,
        metavar="FILE",
        help=f"Also draw {what} to FILE (.png, .svg or .pdf).",
    )


def _check_plot(plot_path: str | None) -> tuple[Any, str] | None:
    """--plot: a writable file whose extension names a figure format (checked before any
    fit)."""
    if plot_path is None:
        return None
    from pathlib import Path

    from scalinglaws.errors import check_writable
    from scalinglaws.plots import FORMATS

    target = Path(plot_path)
    if target.is_dir():
        raise QuantityError(f"--plot {plot_path} is a folder; give a file name such as fit.png")
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise QuantityError(
            f"--plot {plot_path} needs the extension .png, .svg or .pdf (the figure's format)"
        )
    check_writable(plot_path, "--plot")
    return target, fmt


def _write_plot(fig: Any, checked: tuple[Any, str] | None, as_json: bool) -> None:
    if checked is None:
        return
    from scalinglaws.plots import save

    target, fmt = checked
    (written,) = save(fig, target.with_suffix(""), formats=(fmt,))
    click.echo(f"wrote {written}", err=as_json)


@click.command("fit")
@_common
@click.option("--run", default=None, metavar="ID", help="Fit only this run (default: all).")
@_law_option("multi-power")
@_plot_option("the curves, the fitted laws and the schedules (Tissue et al. 2024)")
@_json_options
def fit_command(
    runs_source: str,
    columns: str | None,
    schedule: str | None,
    x: str,
    run: str | None,
    law: str,
    plot_path: str | None,
    as_json: bool,
    output: str | None,
) -> None:
    """Fit a curve law to each run's loss curve (Huber, delta 1e-3, on log loss)."""
    from scalinglaws.cli.output import print_table
    from scalinglaws.curves import fit_curves

    _check_output(output)
    plot_to = _check_plot(plot_path)
    chosen = _pick(_curves(runs_source, columns, schedule, x), run)
    fits = []
    for rc in chosen:
        if law != "power" and rc.curve.lr is None:
            raise DataError(
                f"run {rc.run_id} has no schedule: give --schedule NAME:k=v,... or an lr "
                "column (--columns lr=NAME), or use --law power"
            )
        fits.append(
            fit_curves([rc.curve], law=law, run_id=rc.run_id, schedule=rc.schedule, x_name=x)
        )
    record = [f.to_dict() for f in fits]
    if not as_json:
        names = list(fits[0].params) if fits else []
        rows = [
            [
                f.run_id,
                f.n_points,
                *(f.params[n] for n in names),
                float(np.sqrt(np.mean(f.residuals**2))),
                f.converged,
            ]
            for f in fits
        ]
        print_table(
            rows,
            ["run", "n", *names, "rms", "ok"],
            title=f"{law} law fits",
            caption="n: points after the warmup; rms: of log L - log L_hat; ok: converged. "
            + "schedule: "
            + (
                fits[0].schedule or "none"
                if len({f.schedule for f in fits}) == 1
                else "per run (see --json)"
            ),
        )
    if plot_to is not None:
        from scalinglaws.plots.schedules import plot_curve_fits

        _write_plot(plot_curve_fits(chosen, fits), plot_to, as_json)
    _finish(record, as_json, output)


@click.command("predict")
@_common
@click.option("--run", required=True, metavar="ID", help="The run to predict.")
@click.option(
    "--at-fraction",
    "at_fraction",
    required=True,
    type=float,
    help="Fit on the steps up to this fraction of the run's last step, in (0, 1).",
)
@_law_option("multi-power")
@click.option(
    "--under",
    multiple=True,
    metavar="NAME:k=v,...",
    help="Also predict the final loss under this schedule (repeatable), e.g. "
    "wsd:decay=0.2 or constant; peak and warmup default to the run's.",
)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    default=30,
    show_default=True,
    type=int,
    help="Moving-block bootstrap replicates over the fitted points (0: none).",
)
@click.option("--level", default=0.9, show_default=True, type=float, help="Interval level.")
@click.option(
    "--bootstrap-seed",
    "bootstrap_seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the bootstrap.",
)
@_plot_option("the run, the fitted window, the prediction and the schedules")
@_json_options
def predict_command(
    runs_source: str,
    columns: str | None,
    schedule: str | None,
    x: str,
    run: str,
    at_fraction: float,
    law: str,
    under: tuple[str, ...],
    n_bootstrap: int,
    level: float,
    bootstrap_seed: int,
    plot_path: str | None,
    as_json: bool,
    output: str | None,
) -> None:
    """Predict a run's final loss from its first part (and under other schedules)."""
    from scalinglaws.cli.output import print_table
    from scalinglaws.curves import parse_schedule, predict_run
    from scalinglaws.curves.predict import check_fraction

    _check_output(output)
    plot_to = _check_plot(plot_path)
    check_fraction(at_fraction)
    if not 0 < level < 1:
        raise QuantityError(f"--level must be between 0 and 1, got {level}")
    if n_bootstrap < 0:
        raise QuantityError(f"--bootstrap must be 0 or more, got {n_bootstrap}")
    for text in under:
        parse_schedule(text)
    (rc,) = _pick(_curves(runs_source, columns, schedule, x), run)
    if law != "power" and rc.curve.lr is None:
        raise DataError(
            f"run {rc.run_id} has no schedule: give --schedule NAME:k=v,... or an lr column "
            "(--columns lr=NAME), or use --law power"
        )
    p = predict_run(
        rc.curve,
        at_fraction,
        law=law,
        under=list(under),
        n_bootstrap=n_bootstrap,
        level=level,
        seed=bootstrap_seed,
        run_id=rc.run_id,
        schedule=rc.schedule,
    )
    record = p.to_dict()
    if not as_json:
        pct = f"{level:.0%}"
        rows = [
            [
                "as trained",
                p.predicted_final,
                p.interval[0] if p.interval else None,
                p.interval[1] if p.interval else None,
                p.observed_final,
                p.relative_error,
            ]
        ]
        for text, u in p.under.items():
            iv = u["interval"]
            rows.append(
                [
                    text,
                    u["predicted_final"],
                    iv[0] if iv else None,
                    iv[1] if iv else None,
                    None,
                    None,
                ]
            )
        print_table(
            rows,
            ["schedule", "final loss", f"{pct} low", f"{pct} high", "observed", "rel. error"],
            title=f"run {rc.run_id}: {law} law fitted on steps <= {int(p.fit.steps.max())} "
            f"({at_fraction:g} of {p.final_step}), {p.fit.n_points} points",
            caption=f"as trained: {rc.schedule}. Interval: moving-block bootstrap over the "
            f"fitted points, {n_bootstrap} replicates; it does not cover seed-to-seed "
            "variation.",
        )
    if plot_to is not None:
        from scalinglaws.plots.schedules import plot_curve_prediction

        _write_plot(plot_curve_prediction(rc, p), plot_to, as_json)
    _finish(record, as_json, output)


def _parse_fractions(text: str) -> tuple[float, ...]:
    from scalinglaws.curves.predict import check_fraction

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise QuantityError(
            f"--fractions must be numbers in (0, 1) separated by commas, got {text!r}"
        ) from None
    if not values:
        raise QuantityError("--fractions is empty; give e.g. 0.1,0.3,0.5")
    for v in values:
        if not 0 < v < 1:
            raise QuantityError(f"--fractions must lie between 0 and 1 (exclusive), got {v:g}")
    return tuple(check_fraction(v) for v in values)


@click.command("backtest")
@_common
@click.option(
    "--fractions",
    default="0.1,0.3,0.5",
    show_default=True,
    help="Fit on these fractions of each run's steps.",
)
@_law_option(None, multiple=True)
@_plot_option("predicted against observed final losses (Luo et al. 2025)")
@_json_options
def backtest_command(
    runs_source: str,
    columns: str | None,
    schedule: str | None,
    x: str,
    fractions: str,
    law: tuple[str, ...],
    plot_path: str | None,
    as_json: bool,
    output: str | None,
) -> None:
    """Fit on the first 10/30/50% of every run, predict its final loss, score the error."""
    from scalinglaws.cli.output import print_table
    from scalinglaws.curves import backtest_curves

    _check_output(output)
    plot_to = _check_plot(plot_path)
    fr = _parse_fractions(fractions)
    laws = tuple(law) or ("multi-power", "momentum", "power")
    curves = _curves(runs_source, columns, schedule, x)
    bt = backtest_curves(curves, laws=laws, fractions=fr)
    if not as_json:
        rows = [
            [
                s["law"],
                s["fraction"],
                s["n_runs"],
                s["mean_abs_relative_error"],
                s["max_abs_relative_error"],
                s["n_failed"],
            ]
            for s in bt.summary
        ]
        print_table(
            rows,
            ["law", "fit on", "runs", "mean |rel err|", "max |rel err|", "failed"],
            title="final-loss prediction from the start of each run",
            keys=(0, 1),
        )
    if plot_to is not None:
        from scalinglaws.curves import seed_spread
        from scalinglaws.plots.schedules import plot_curve_backtest

        seeded = all(c.seed is not None for c in curves)
        spread = seed_spread(curves) if seeded else None
        _write_plot(plot_curve_backtest(bt, spread), plot_to, as_json)
    _finish(bt.to_dict(), as_json, output)


def register(group: click.Group) -> None:
    """Add the 'curve' group and its commands to the top-level group."""
    curve = group.group("curve")(curve_group)
    for command in (fit_command, predict_command, backtest_command):
        curve.add_command(command)
