"""``scalinglaws fit`` and ``scalinglaws backtest``: fit a law to a runs table or a sweep
folder, test its extrapolation.  A thin layer: loading is :func:`scalinglaws.runs.load_runs`
(a sweep folder: :func:`scalinglaws.report.sweep_folder.load_sweep`, the loader of the report
and the figures, whose FLOPs convention C = f(N)·D the estimator is given), the estimators live
in :mod:`scalinglaws.fit`, the backtest in :mod:`scalinglaws.fit.backtest`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scalinglaws.cli.options import (
    bin_tolerance_option,
    bootstrap_option,
    columns_option,
    drop_highest_option,
    flops_per_token_option,
    level_option,
    min_sizes_option,
    parse_bin_tolerance,
    parse_flops_per_token,
    parse_level,
    parse_number,
    parse_profile_options,
    profile_options,
    seed_option,
    with_options,
)
from scalinglaws.cli.output import echo_wrapped, reported_warnings, shown_progress
from scalinglaws.errors import (
    DataError,
    ScalingLawsError,
    UnknownNameError,
    did_you_mean,
)
from scalinglaws.fit import ESTIMATORS, estimator_class
from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP
from scalinglaws.fit.result import HEAVY_TAIL_WORDS, meaningful_stderr

#: The approaches the command line knows: the library's registry.
APPROACHES = ESTIMATORS


def build_estimator(approach: str, **options: Any) -> Any:
    """Construct the estimator for ``approach`` ("1", "2", "3", "power", "auto" or
    "data-constrained").

    ``options`` whose value is ``None`` are left to the estimator's defaults; an option the
    estimator does not take raises :class:`DataError` naming the flag and the approaches it
    applies to.  An error of the estimator's own checks that names an option (``"min_sizes
    must be ..."``) is re-raised naming the flag instead (``"--min-sizes must be ..."``).
    """
    key = approach_key(approach)
    cls = estimator_class(key)
    accepted = set(inspect.signature(cls).parameters)
    kwargs = {}
    for arg, value in options.items():
        if value is None:
            continue
        if arg not in accepted:
            flag = _flag(arg, value)
            takers = [a for a in APPROACHES if _accepts(a, arg)]
            raise DataError(
                f"{flag} does not apply to --approach {key}"
                + (f"; it applies to --approach {' or '.join(takers)}" if takers else "")
            )
        kwargs[arg] = value
    try:
        return cls(**kwargs)
    except ScalingLawsError as exc:
        text = str(exc)
        for arg, value in kwargs.items():
            if text.startswith(arg + " "):
                raise type(exc)(_flag(arg, value) + text[len(arg) :]) from None
        raise


#: Estimator arguments whose flag is not the argument's name.
_FLAG_NAMES = {"n_bootstrap": "--bootstrap"}


def _flag(arg: str, value: Any = None) -> str:
    """The command-line flag that sets the estimator argument ``arg`` to ``value``
    (``loss_offset=False`` comes from ``--no-loss-offset``)."""
    if arg in _FLAG_NAMES:
        return _FLAG_NAMES[arg]
    return ("--no-" if value is False else "--") + arg.replace("_", "-")


def approach_key(approach: str) -> str:
    """The canonical approach name ("1", "2", "3", "power", "auto", "data-constrained"), or
    :class:`UnknownNameError` naming --approach."""
    key = str(approach).strip().lower()
    if key not in ESTIMATORS:
        raise UnknownNameError(
            f"unknown approach '{approach}' for --approach" + did_you_mean(key, list(ESTIMATORS))
        )
    return key


def _accepts(approach: str, arg: str) -> bool:
    try:
        cls = estimator_class(approach)
    except (ImportError, AttributeError):
        return False
    return arg in inspect.signature(cls).parameters


# ============================================================================ shared options
def _load_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that reads a runs table shares."""
    return with_options(
        fn,
        [
            click.argument("runs_file", metavar="RUNS", type=click.Path(dir_okay=True)),
            columns_option(),
            drop_highest_option(),
            click.option(
                "--final-only", is_flag=True, help="Keep each run's final checkpoint only."
            ),
            click.option(
                "--min-fraction",
                default="0",
                show_default=True,
                help="Drop checkpoints before this fraction of their run's final tokens D.",
            ),
            flops_per_token_option(),
        ],
    )


def _fit_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Estimator options shared by `fit` and `backtest`.  Each is passed to the estimator
    under its own name (``--min-sizes`` as ``min_sizes``) only when given, so an approach's
    own default applies otherwise, and :func:`build_estimator` refuses it for an approach
    that does not take it."""
    return with_options(
        fn,
        [
            click.option(
                "--approach",
                default="3",
                show_default=True,
                help="3 (parametric L(N, D)), 2 (IsoFLOP profiles), 1 (envelope of curves), "
                "power (one-variable power law), auto (candidate laws weighted by a nested "
                "backtest, with intervals calibrated for extrapolation) or data-constrained "
                "(Muennighoff et al. 2023's L(N, D, U) of repeated data; needs a U column).",
            ),
            click.option(
                "--candidates",
                default=None,
                help="Approach auto: candidate models, comma-separated (default: all of "
                "chinchilla, chinchilla-constrained, kaplan, approach2, frontier).",
            ),
            click.option(
                "--law", default=None, help="Law fitted by approach 3 (default chinchilla)."
            ),
            click.option(
                "--objective",
                default=None,
                help="Objective on log L: huber (the default) or another the approach offers.",
            ),
            click.option("--delta", default=None, help="Huber delta (default 1e-3)."),
            # ---- Approach 2 (IsoFLOP profiles)
            *profile_options(),
            bin_tolerance_option(
                "Approaches 2 and auto", "default 0.05 for approach 2, 0.2 for auto"
            ),
            click.option(
                "--isoflop-budgets",
                default=None,
                help="Approach 2: the sweep's FLOP budgets, comma-separated (e.g. "
                "6e18,1e19,3e19); runs join the nearest within --bin-tolerance, and runs near "
                "none are left out with an OUTSIDE_BUDGETS warning (default: budgets found "
                "by clustering C).",
            ),
            min_sizes_option("default: degree + 1, or 3 with --profile akima"),
            click.option(
                "--drop-edge",
                is_flag=True,
                default=None,
                help="Approach 2: leave budgets whose minimum lies at the edge of the sampled "
                "sizes out of the power-law fits (default: keep them; they are always "
                "flagged EDGE_MINIMUM).",
            ),
            click.option(
                "--loss-offset/--no-loss-offset",
                default=None,
                help="Approaches 1 and 2: fit L*(C) = E + A·C^-alpha, or with --no-loss-offset "
                "the pure power law A·C^-alpha (default: with E, which approach 2 drops when "
                "fewer than 4 budgets are fitted).",
            ),
            # ---- approach power
            click.option(
                "--variable",
                default=None,
                help="Approach power: the variable, N, D or C (default C).",
            ),
            click.option(
                "--frontier",
                is_flag=True,
                default=None,
                help="Approach power: fit only the lower envelope of (x, L), as Kaplan et al. do.",
            ),
            # ---- approach data-constrained
            click.option(
                "--base",
                default=None,
                help="Approach data-constrained: 'fit' (default: the Chinchilla law, alpha = "
                "beta, fitted on the single-epoch runs D <= U), or constants to hold: a preset "
                "name (muennighoff2023: the paper's own procedure) or a fit file (.json).",
            ),
            click.option(
                "--decay-starts",
                default=None,
                help="Approach data-constrained: starting values of R_D* and R_N*, "
                "comma-separated, used on both (default 1,4,16,64).",
            ),
            bootstrap_option(default=None, default_text=f"default {DEFAULT_BOOTSTRAP}; 0 for none"),
            seed_option(),
        ],
    )


def _load(
    runs_file: str,
    columns: str | None,
    drop_highest: int,
    final_only: bool,
    min_fraction: str,
    flops_per_token: str,
    to_stderr: bool = False,
    approach: str = "3",
    given: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Load the runs and print what was read: rows, column mapping, convention, filters
    (to stderr when stdout is reserved for JSON).  Returns the runs and the estimator options
    a sweep folder adds for ``approach`` (beyond the options ``given``), e.g. its FLOPs
    convention ``flops_per_token`` = f(N) for Approach 3; none for a runs table."""
    from scalinglaws.runs import load_runs

    fraction = parse_number(min_fraction, "--min-fraction")
    if not 0 <= fraction < 1:
        raise DataError(
            f"--min-fraction must be in [0, 1) (a fraction of each run's final tokens), "
            f"got {min_fraction!r}"
        )
    k = parse_flops_per_token(flops_per_token)
    filters = {"drop_highest": drop_highest, "final_only": final_only, "min_fraction": fraction}
    extra: dict[str, Any] = {}
    notes: list[str] = []
    if Path(runs_file).is_dir():
        from scalinglaws.report.sweep_folder import load_sweep

        sweep = load_sweep(Path(runs_file), columns, k)
        runs = load_runs(sweep.table_for(approach), **filters)
        extra = sweep.estimator_options(approach, given)
        convention = (
            f"C = f(N)·D, the sweep's {sweep.flops.convention} convention on the family's "
            f"shapes of {Path(runs_file) / 'plan.toml'}"
            if sweep.flops is not None
            else f"C = {runs.flops_per_param_token:g}·N·D"
        )
        notes = [*sweep.notes, *filter(None, [sweep.convention_note(approach)])]
    else:
        runs = load_runs(runs_file, columns=columns, flops_per_param_token=k, **filters)
        convention = f"C = {runs.flops_per_param_token:g}·N·D"
    click.echo(f"runs: {len(runs)} rows, {runs.n_runs} runs from {runs.source}", err=to_stderr)
    click.echo(f"columns: {runs.mapping_text()}", err=to_stderr)
    click.echo(f"FLOPs convention: {convention}", err=to_stderr)
    for note in runs.filters:
        click.echo(f"filter: {note}", err=to_stderr)
    for note in notes:
        click.echo(f"note: {note}", err=to_stderr)
    return runs, extra


def _estimator(options: dict[str, Any], level: float, extra: dict[str, Any] | None = None) -> Any:
    """Build the estimator from the command's estimator flags (``approach``, ``law``, ...),
    plus the already parsed options ``extra`` (a sweep folder's); the flags given as text are
    parsed here, each error naming its flag."""
    from scalinglaws.units import parse_quantities, parse_quantity

    opts = dict(options)
    approach = opts.pop("approach")
    if opts.get("delta") is not None:
        opts["delta"] = parse_quantity(opts["delta"], what="--delta")
    opts["bin_tolerance"] = parse_bin_tolerance(opts.get("bin_tolerance"))
    if opts.get("isoflop_budgets") is not None:
        opts["isoflop_budgets"] = parse_quantities(
            opts["isoflop_budgets"], what="--isoflop-budgets"
        )
    if opts.get("decay_starts") is not None:
        opts["decay_starts"] = parse_quantities(opts["decay_starts"], what="--decay-starts")
    opts.update(parse_profile_options(opts.get("profile"), opts.get("degree"), opts.get("window")))
    opts.update(extra or {})
    return build_estimator(approach, **opts, level=level)


# ============================================================================ printing
def print_fit(fit: Any, budgets: list[float] | None = None) -> None:
    """The fit as tables a person can paste into a paper: estimates with standard errors
    and intervals, derived exponents and the allocations at ``budgets``, then diagnostics
    (the fit's, and those of the budgets asked)."""
    from scalinglaws.cli.output import print_table

    pct = f"{100 * fit.level:g}%"
    law = fit.law
    click.echo("")
    click.echo(f"Scaling-law fit — approach {fit.approach}: {law.formula or law.name}")
    click.echo(
        f"converged: {'yes' if fit.converged else 'NO'}"
        + (f" ({fit.message})" if fit.message else "")
    )
    auto = hasattr(fit, "candidates_table")
    for key, value in fit.method.items():
        if auto and key.startswith("candidate "):
            continue  # the candidates' table below
        shown = f"{value:.6g}" if isinstance(value, float) else value
        echo_wrapped(f"{key}: {shown}", "  ")
    from scalinglaws.fit.questions import allocation_rows

    extra = allocation_rows(fit, budgets or [])
    uncertain = bool(fit.stderr or fit.intervals) or any(r[3] is not None for r in extra)
    columns = ["", "estimate", "std err", f"{pct} interval"] if uncertain else ["", "estimate"]
    heavy = any(se is not None and meaningful_stderr(se, ci, fit.level) is None
                for _, _, se, ci in extra)  # fmt: skip
    extra_rows = [
        [
            name,
            value,
            meaningful_stderr(se, ci, fit.level),
            None if ci is None else f"[{_cell(ci[0])}, {_cell(ci[1])}]",
        ]
        for name, value, se, ci in extra
    ]
    if auto:  # its "parameters" are the candidates' weights: the candidates' table says more
        _print_candidates(fit)
    for title, table in (("parameters", fit.params), ("derived", fit.derived)):
        if auto and title == "parameters":
            continue
        rows = []
        for name, value in table.items():
            lo_hi = fit.intervals.get(name)
            interval = None if lo_hi is None else f"[{_cell(lo_hi[0])}, {_cell(lo_hi[1])}]"
            se = meaningful_stderr(fit.stderr.get(name), lo_hi, fit.level)
            heavy = heavy or (name in fit.stderr and se is None)
            rows.append([name, float(value), se, interval])
        if title == "derived":
            rows += extra_rows
        if not rows:
            continue
        print_table([r if uncertain else r[:2] for r in rows], columns, title=title)
    if heavy:
        click.echo(HEAVY_TAIL_WORDS)
    if not fit.stderr and not auto:
        click.echo("no standard errors: run with --bootstrap N (e.g. 200) for intervals")
    diagnostics = [*fit.diagnostics, *(fit.budget_diagnostics(budgets) if budgets else [])]
    if diagnostics:
        click.echo("diagnostics:")
        for d in diagnostics:
            echo_wrapped(f"  {d.severity:<8} {d.code:<22} {d.message}", " " * 34)


def _print_candidates(fit: Any) -> None:
    """The automatic fit's candidates as a table: the default's weight, the weights at the
    data and at 10x its largest budget, the nested backtest's RMS log error one span beyond
    and its bias, and the constants (or why the candidate failed)."""
    from scalinglaws.cli.output import print_table
    from scalinglaws.fit.result import _fmt

    rows = []
    for r in fit.candidates_table().itertuples(index=False):
        ok = r.status == "ok"
        constants = ", ".join(
            f"{k}={_fmt(v)}" for k, v in r.constants.items() if isinstance(v, (int, float))
        )
        rows.append([
            r.candidate,
            f"{r.prior:.2f}",
            f"{r.weight:.3f}",
            f"{r.weight_far:.3f}",
            f"{100 * r.backtest_rms_1:.2f}%" if ok else "—",
            f"{100 * r.backtest_bias:+.2f}%" if ok else "—",
            constants if ok else f"{r.status}: {r.reason}",
        ])  # fmt: skip
    print_table(
        rows,
        ["candidate", "default", "weight", "at 10x", "RMS@1", "bias", "constants"],
        title="candidates (nested backtest; weights at the data and at 10x its largest budget)",
        optional={6: "Fit.summary() and the same command with --json"},
        left=(0, 6),
    )


def _cell(x: float) -> str:
    from scalinglaws.cli.output import cell

    return cell(float(x))


def _check_output(output: str | None, runs_file: str) -> None:
    """Refuse, before any fitting, an -o path that cannot be written or that is the runs
    file itself (writing there would destroy the data)."""
    from scalinglaws.errors import check_writable

    if not output:
        return
    if output == "-":
        raise DataError("-o - is not a file; print the result on stdout with --json instead")
    if Path(output).resolve() == Path(runs_file).resolve():
        raise DataError(
            f"-o {output} is the runs file being read; writing the result there would "
            "destroy the runs, so give another file name such as fit.json"
        )
    check_writable(output, "-o")


def _write_json(text: str, path: str, to_stderr: bool = False) -> None:
    """Write ``text`` to ``path`` (atomically) and say so, on stderr when stdout carries
    the JSON."""
    from scalinglaws.files import atomic_write_text

    target = Path(path)
    if target.is_dir():
        raise DataError(f"-o {path} is a directory; give a file name such as fit.json")
    atomic_write_text(target, text)
    click.echo(f"wrote {path}", err=to_stderr)


# ============================================================================ commands
#: The options of :func:`_load_options`, passed to :func:`_load` (the rest of a command's
#: options, past its own, build the estimator).
_LOAD_ARGS = ("columns", "drop_highest", "final_only", "min_fraction", "flops_per_token")


class _Output:
    """Where `fit` and `backtest` put their result: the tables on stdout, or with ``--json``
    the JSON record there instead; and the record written to ``-o FILE`` (``path``) when
    given."""

    def __init__(self, path: str | None, as_json: bool) -> None:
        self.path = path
        self.as_json = as_json

    def show_and_write(self, show: Callable[[], None], text: Callable[[], str]) -> None:
        """Print the result (``show``), or its JSON with ``--json``; write the JSON to
        ``-o`` when given -- the same text on both."""
        if not self.as_json:
            show()
        record = text() if self.as_json or self.path else ""
        if self.path:
            _write_json(record, self.path, to_stderr=self.as_json)
        if self.as_json:
            click.echo(record)


def _on_runs(
    runs_file: str,
    options: dict[str, Any],
    level: float,
    output: _Output,
    work: Callable[[Any, Any], Any],
) -> tuple[Any, Any]:
    """The body `fit` and `backtest` share: refuse an -o that cannot be written, build the
    estimator from its flags in ``options`` at ``level``, load the runs with the loading
    flags in ``options`` (telling what was read on stderr when stdout carries the JSON), and
    return the runs and ``work(estimator, runs)`` -- the library's warnings printed as
    ``warning:`` lines throughout.  The flags are checked before the runs are read, so a
    refusal is the only output."""
    load = {key: options.pop(key) for key in _LOAD_ARGS}
    _check_output(output.path, runs_file)
    with reported_warnings(), shown_progress():
        estimator = _estimator(options, level)
        approach = approach_key(options["approach"])
        runs, extra = _load(
            runs_file, **load, to_stderr=output.as_json, approach=approach, given=options
        )
        if extra:  # a sweep folder's own convention and budgets, as the report uses them
            estimator = _estimator(options, level, extra)
        return runs, work(estimator, runs)


#: The one sentence for the old form ``--json FILE``; ``{what}`` is what the command writes.
_JSON_TAKES_NO_FILE = (
    "--json takes no file now: write the {what} with -o FILE (or --output FILE), print it "
    "with --json"
)


class _ResultCommand(click.Command):
    """A command whose ``--json`` is a flag; the old form ``--json FILE`` (refused by click
    as an unexpected extra argument, or ``--json=FILE`` as a value the flag does not take)
    is answered with one sentence naming ``-o``."""

    #: What the command writes, in :data:`_JSON_TAKES_NO_FILE`.
    what = "result"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does, restating a refusal of the old ``--json FILE``."""
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if _json_file_given(given, exc.format_message()):
                raise click.UsageError(_JSON_TAKES_NO_FILE.format(what=self.what), ctx) from None
            raise


class _FitCommand(_ResultCommand):
    what = "fit"


class _BacktestCommand(_ResultCommand):
    what = "backtest record"


def _json_file_given(args: list[str], message: str) -> bool:
    """Whether click's refusal ``message`` comes from the old form ``--json FILE``: a value
    attached (``--json=FILE``), or a word after ``--json`` that is left over as an extra
    argument."""
    if any(a.startswith("--json=") for a in args):
        return True
    if "extra argument" not in message:
        return False
    return any(
        a == "--json" and (nxt == "-" or not nxt.startswith("-"))
        for a, nxt in zip(args, args[1:], strict=False)
    )


def _output_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-o/--output FILE`` (write the result there) and ``--json`` (print it on stdout)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return with_options(
            fn,
            [
                click.option(
                    "-o",
                    "--output",
                    "output",
                    default=None,
                    metavar="FILE",
                    help=f"Write {what} to FILE as JSON.",
                ),
                click.option(
                    "--json",
                    "as_json",
                    is_flag=True,
                    help=f"Print {what} as JSON on stdout instead of the tables.",
                ),
            ],
        )

    return decorate


@click.command("fit", cls=_FitCommand)
@_load_options
@_fit_options
@level_option("0.95")
@click.option(
    "--budgets",
    default=None,
    help="FLOP budgets for N_opt, D_opt, L_opt, comma-separated (e.g. 1e22,5.76e23).",
)
@_output_options("the fit")
def fit_command(
    runs_file: str,
    level: str,
    budgets: str | None,
    output: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Fit a scaling law to the runs in RUNS (CSV, Parquet or JSON Lines).

    Example: scalinglaws fit runs.csv --approach 3 --bootstrap 200 --budgets 1e22,1e24 -o fit.json
    """
    from scalinglaws.units import parse_quantities

    approach_key(options["approach"])
    level_value = parse_level(level)
    if budgets is not None and not budgets.strip():
        raise DataError("--budgets is empty; give FLOP budgets such as 1e22,5.76e23 or drop it")
    budget_list = parse_quantities(budgets, what="--budgets") if budgets else None
    out = _Output(output, as_json)
    runs, fit = _on_runs(
        runs_file, options, level_value, out, lambda estimator, runs: estimator.fit(runs)
    )
    for key, value in runs.describe().items():
        fit.data.setdefault(key, value)

    def show() -> None:
        print_fit(fit, budget_list)

    out.show_and_write(show, fit.to_json)


@click.command("backtest", cls=_BacktestCommand)
@_load_options
@_fit_options
@click.option(
    "--cut-quantile",
    default="0.75",
    show_default=True,
    help="Fit on runs whose final C is at or below this quantile of the runs' final C.",
)
@click.option("--cut", default=None, help="Or a compute cut in FLOPs (e.g. 1e21); overrides.")
@level_option("0.8", kind="Prediction-interval")
@_output_options("the backtest record")
def backtest_command(
    runs_file: str,
    cut_quantile: str,
    cut: str | None,
    level: str,
    output: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Fit on the small-compute runs of RUNS and predict the large ones.

    Example: scalinglaws backtest runs.csv --cut-quantile 0.8 --approach 3 --bootstrap 200
    """
    import json

    from scalinglaws.files import jsonable
    from scalinglaws.units import parse_quantity

    auto = approach_key(options["approach"]) == "auto"
    level_value = parse_level(level)
    quantile = parse_number(cut_quantile, "--cut-quantile", 0.0, 1.0)
    cut_value = None if cut is None else parse_quantity(cut, what="--cut")

    def work(estimator: Any, runs: Any) -> Any:
        if auto:  # the whole procedure, choice of candidates included, on the runs below the cut
            from scalinglaws.fit.auto import auto_backtest

            return auto_backtest(
                runs,
                cut_quantile=quantile,
                cut=cut_value,
                level=level_value,
                candidates=list(estimator.keys),
                bin_tolerance=estimator.bin_tolerance,
                delta=estimator.delta,
                n_bootstrap=estimator.n_bootstrap,
                seed=estimator.seed,
            )
        from scalinglaws.fit.backtest import backtest

        return backtest(estimator, runs, cut_quantile=quantile, cut=cut_value, level=level_value)

    out = _Output(output, as_json)
    _, result = _on_runs(runs_file, options, level_value, out, work)
    out.show_and_write(
        lambda: click.echo(f"\n{result.summary()}"),
        lambda: json.dumps(jsonable(result.to_dict()), indent=2),
    )


def register(group: click.Group) -> None:
    """Add `fit` and `backtest` to the top-level group."""
    group.add_command(fit_command)
    group.add_command(backtest_command)
