"""Commands of the 'sweep' group: plan an IsoFLOP sweep, run it, watch it, rebuild its tables.

A thin layer over :mod:`scalinglaws.sweep`: ``plan`` writes/checks a plan file and prints its
runs, ``run`` trains them resumably (local processes, Ray or Slurm), ``status`` reads a sweep
folder from another terminal, ``tables`` rebuilds ``runs.csv`` / ``curves.csv`` from the records.
"""

from __future__ import annotations

import math
import os
from typing import Any

import click

from scalinglaws.cli.output import emit_json
from scalinglaws.errors import PlanError
from scalinglaws.units import format_flops, format_quantity, parse_quantities, parse_quantity

# flag -> (table, key, parser); parsers name the flag in their errors
_PLAN_FLAGS: dict[str, tuple[str, str, str]] = {
    "--name": ("sweep", "name", "text"),
    "--kind": ("sweep", "kind", "text"),
    "--budgets": ("sweep", "budgets", "quantities"),
    "--sizes-per-budget": ("sweep", "sizes_per_budget", "int"),
    "--spread": ("sweep", "spread", "float"),
    "--center": ("sweep", "center", "center"),
    "--sizes": ("sweep", "sizes", "quantities"),
    "--tokens": ("sweep", "tokens", "quantities"),
    "--convention": ("sweep", "convention", "text"),
    "--corpus": ("sweep", "corpus", "corpus"),
    "--seeds": ("sweep", "seeds", "ints"),
    "--n-ctx": ("family", "n_ctx", "int"),
    "--head-dim": ("family", "head_dim", "int"),
    "--aspect-ratio": ("family", "aspect_ratio", "float"),
    "--min-layers": ("family", "min_layers", "int"),
    "--lr": ("hparams", "lr", "float"),
    "--lr-ref-params": ("hparams", "lr_ref_params", "quantity"),
    "--lr-exponent": ("hparams", "lr_exponent", "float"),
    "--batch-size": ("hparams", "batch_size", "int"),
    "--warmup-per-param": ("hparams", "warmup_tokens_per_param", "float"),
    "--max-warmup-fraction": ("hparams", "max_warmup_fraction", "float"),
    "--eval-tokens": ("hparams", "eval_tokens", "int"),
    "--evals-per-run": ("hparams", "evals_per_run", "int"),
    "--min-steps": ("hparams", "min_steps", "int"),
    "--schedule": ("hparams", "schedule", "text"),
    "--decay-fraction": ("hparams", "decay_fraction", "float"),
    "--decay-shape": ("hparams", "decay_shape", "text"),
    "--flops-per-second": ("estimate", "flops_per_second", "quantity"),
}

_HELP = {
    "--name": "Name of the sweep.",
    "--kind": "isoflop (default), grid (sizes x tokens), fixed-tokens (Kaplan L(N)) or "
    "cooldown (sizes x tokens from one constant-lr trunk per size and a WSD branch per D).",
    "--budgets": "IsoFLOP budgets in FLOPs, comma-separated, e.g. 1e13,3e13,1e14.",
    "--sizes-per-budget": "Model sizes per budget, log-spaced around the optimum (default 5).",
    "--spread": "Largest / smallest size within a budget (default 16).",
    "--center": "Centre of each budget: tokens per parameter (default 20), a preset name, or "
    "fit:FIT.json.  FIT.json given here is relative to the working directory; a "
    "center = 'fit:...' inside a plan file is relative to that file's folder.",
    "--sizes": "Target non-embedding sizes for grid / fixed-tokens plans, e.g. 50k,200k.",
    "--tokens": "Training tokens for grid / fixed-tokens plans, e.g. 2M,8M.",
    "--convention": "FLOPs per token: 6N, 6N-total, kaplan, chinchilla (default), palm, deepseek.",
    "--corpus": "shakespeare (default), synthetic:markov[:k=v,...], or a text file or folder "
    "(relative to the working directory; a corpus path inside a plan file is relative to that "
    "file's folder).",
    "--seeds": "Training seeds, comma-separated (each run is repeated per seed; default 0).",
    "--n-ctx": "Context length of every model (default 128).",
    "--head-dim": "Attention head dimension; d_model is a multiple of it (default 16).",
    "--aspect-ratio": "Target d_model / n_layer (default 32).",
    "--min-layers": "Fewest layers of any model (default 1); smaller models get narrower.",
    "--lr": "Peak learning rate at --lr-ref-params parameters (default 3e-3).",
    "--lr-ref-params": "Reference size of --lr (default 100k).",
    "--lr-exponent": "lr(N) = lr * (N / ref)^-exponent (default 1/3).",
    "--batch-size": "Sequences per optimiser step (default 16).",
    "--warmup-per-param": "Warmup tokens per parameter (default 1), capped by the fraction below.",
    "--max-warmup-fraction": "Warmup at most this fraction of a run's tokens (default 0.1).",
    "--eval-tokens": "Held-out tokens per evaluation (default 16384).",
    "--evals-per-run": "Evaluations per run (default 20).",
    "--min-steps": "Fewest optimiser steps a run may have (default 10).",
    "--schedule": "Learning-rate schedule: cosine (default, to each run's D), wsd "
    "(warmup-stable-decay) or constant.",
    "--decay-fraction": "WSD: share of each run's tokens spent decaying (default 0.2).",
    "--decay-shape": "WSD: shape of the decay, linear (default) or 1-sqrt (Hägele et al. 2024).",
    "--flops-per-second": "Training FLOP/s of one worker, for the time estimates.",
}


def _parse(flag: str, kind: str, text: str) -> Any:
    if kind == "text":
        return text
    if kind == "quantities":
        return parse_quantities(text, flag)
    if kind == "quantity":
        return parse_quantity(text, flag)
    if kind == "ints":
        return [_int(flag, t.strip()) for t in text.split(",")]
    if kind == "int":
        return _int(flag, text)
    if kind == "float":
        try:
            value = float(text)
        except ValueError:
            raise PlanError(f"{flag} must be a number, got {text!r}.") from None
        if not math.isfinite(value):
            raise PlanError(f"{flag} must be a finite number, got {text!r}.")
        return value
    if kind == "corpus":
        return text if _corpus_is_name(text) else _from_cwd(text)
    # center: a number of tokens per parameter, or a name / fit:path
    try:
        return float(text)
    except ValueError:
        pass
    if text.startswith("fit:"):
        return "fit:" + _from_cwd(text[4:].strip())
    return text


def _from_cwd(path: str) -> str:
    """A path given on the command line, made absolute against the working directory (a
    relative path left as is would be read relative to the plan file's folder)."""
    return os.path.abspath(os.path.expanduser(path)) if path else path


def _corpus_is_name(text: str) -> bool:
    """True for corpus names (shakespeare, synthetic:...), which are not paths."""
    low = text.strip().lower()
    return low == "shakespeare" or low.startswith("synthetic:")


def _in_flag_words(text: str) -> str:
    """A plan error about the flags, in their words: "[sweep] center" -> "--center"."""
    import re

    for prefix in ("the flags, ", "the flags: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for flag, (table, key, _) in _PLAN_FLAGS.items():
        for form in (f"[{table}] {key}", f"{table} {key}"):
            text = re.sub(re.escape(form) + r"(?!\w)", flag, text)
    return text[:1].upper() + text[1:] if text[:1] == "[" else text


def _int(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise PlanError(f"{flag} must be a whole number, got {text!r}.") from None


def _fmt_seconds(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _compact_table(
    rows: list[list[Any]],
    columns: list[str],
    title: str,
    caption: str,
    optional: dict[int, str] | None = None,
) -> None:
    """A borderless table (plans and statuses are wide): first and last columns left, others
    right, fitted to the terminal (see :func:`scalinglaws.cli.output.print_table`)."""
    from rich import box

    from scalinglaws.cli.output import print_table

    print_table(
        rows,
        columns,
        title,
        caption,
        optional=optional,
        left=(0, len(columns) - 1),
        box=box.SIMPLE_HEAD,
    )


def _cooldown_text(plan: Any) -> str:
    """For a cooldown plan: what its trunks and branches cost against from-scratch runs."""
    if plan.kind != "cooldown":
        return ""
    scratch = sum(r.C for r in plan.runs if r.role == "branch")
    n_trunks = sum(1 for r in plan.runs if r.role == "trunk")
    return (
        f"Cooldown: {n_trunks} constant-lr trunk(s) with a WSD branch per D; training FLOPs "
        f"{format_flops(plan.flops_spent)} (each trunk once), against "
        f"{format_flops(scratch)} for the branches trained from scratch.\n"
    )


def _schedule_text(hp: Any) -> str:
    """The plan's learning-rate schedule in words, for the plan table's caption."""
    if hp.schedule == "constant":
        return "then constant lr (no decay)"
    if hp.schedule == "wsd":
        return (
            f"WSD: constant, then a {hp.decay_shape} decay over the last "
            f"{hp.decay_fraction:g} x D to {hp.min_lr_ratio:g} x lr at D"
        )
    return f"cosine to {hp.min_lr_ratio:g} x lr at D"


def _plan_table(plan: Any, workers: int) -> None:
    rows = [
        [
            r.run_id,
            format_quantity(r.N),
            format_quantity(r.N_total),
            format_quantity(r.D),
            format_flops(r.C),
            f"{r.tokens_per_param:.1f}",
            f"{r.config.n_layer}x{r.config.d_model}",
            f"{r.config.lr:.1e}",
            _fmt_seconds(r.est_seconds),
        ]
        for r in plan.runs
    ]
    total = sum(r.est_seconds for r in plan.runs)
    wall = plan.estimate_seconds(workers)
    hp = plan.hparams
    caption = (
        f"N: non-embedding parameters (N tot. with embeddings); shape: n_layer x d_model, "
        f"heads of {plan.family.head_dim}, context {plan.family.n_ctx}; steps = D / "
        f"({hp.batch_size} x {plan.family.n_ctx}).\n"
        f"C = FLOPs per token x D under the '{plan.convention}' convention"
        + (f"; sizes centred on {plan.center_text()}" if plan.kind == "isoflop" else "")
        + f".\nlr(N) = {hp.lr:g} x (N / {hp.lr_ref_params:g})^-{hp.lr_exponent:.3g}; warmup = "
        f"min({hp.warmup_tokens_per_param:g} x N, {hp.max_warmup_fraction:g} x D) tokens; "
        f"{_schedule_text(hp)}.\n"
        + _cooldown_text(plan)
        + f"Estimated time: {_fmt_seconds(total)} of "
        f"work, about {_fmt_seconds(wall)} on {workers} worker(s) at "
        f"{plan.flops_per_second:.3g} FLOP/s each."
    )
    _compact_table(
        rows,
        ["run", "N", "N tot.", "D", "C", "D/N", "shape", "lr", "est. time"],
        title=f"Sweep plan '{plan.name}' ({plan.kind}, {len(plan.runs)} runs)",
        caption=caption,
        optional=dict.fromkeys((2, 4, 8), "'scalinglaws sweep plan PLAN --json'"),
    )


# ============================================================================ commands
def register(group: click.Group) -> None:
    """Add the 'sweep' group and its commands to the top-level group."""
    sweep = group.group("sweep")(sweep_group)
    for name, callback, params in (
        ("plan", plan_command, _plan_params()),
        ("run", run_command, _run_params()),
        ("status", status_command, _status_params()),
        ("tables", tables_command, _tables_params()),
    ):
        sweep.add_command(
            click.Command(name, callback=callback, params=params, help=callback.__doc__)
        )


def sweep_group() -> None:
    """Plan, run and monitor sweeps of small GPT models (IsoFLOP, grid, fixed tokens)."""


def _json_flag(what: str) -> click.Option:
    return click.Option(["--json", "as_json"], is_flag=True, help=f"Print {what}.")


# ------------------------------------------------------------------ plan
def _plan_params() -> list[click.Parameter]:
    """PLAN, one option per plan value (:data:`_PLAN_FLAGS`), -o, --workers and --json."""
    return [
        click.Argument(["plan_file"], required=False, metavar="[PLAN]"),
        *(
            click.Option([flag], default=None, metavar="VALUE", help=_HELP[flag])
            for flag in _PLAN_FLAGS
        ),
        click.Option(
            ["-o", "--output"], default=None, metavar="PLAN.toml", help="Write the plan here."
        ),
        click.Option(
            ["--workers"],
            default=None,
            type=int,
            help="Workers for the wall-time estimate (default: cores).",
        ),
        _json_flag("JSON instead of a table"),
    ]


def plan_command(
    plan_file: str | None,
    output: str | None,
    workers: int | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Write or check a sweep plan and print its runs.

    With PLAN, read that file (flags override its values); otherwise build the plan from
    the flags alone.  Example:

        scalinglaws sweep plan --budgets 1e13,3e13,1e14 --sizes-per-budget 5
        --convention chinchilla --corpus shakespeare -o plan.toml
    """
    from scalinglaws.sweep.plan import load_plan, plan_from_dict, write_plan

    overrides: dict[str, dict[str, Any]] = {}
    for flag, (table, key, kind) in _PLAN_FLAGS.items():
        value = flags[flag.lstrip("-").replace("-", "_")]
        if value is not None:
            overrides.setdefault(table, {})[key] = _parse(flag, kind, value)
    if plan_file is not None:
        plan = load_plan(plan_file, overrides)
    else:
        if "sweep" not in overrides:
            raise PlanError(
                "give a plan file or flags such as --budgets 1e13,3e13,1e14 "
                "(see 'scalinglaws sweep plan --help')."
            )
        try:
            plan = plan_from_dict(overrides, source="the flags", base_dir=os.getcwd())
            plan.runs  # noqa: B018 -- report impossible runs now
        except PlanError as exc:
            raise PlanError(_in_flag_words(str(exc))) from None
    if workers is not None and workers < 1:
        raise PlanError(f"--workers must be a whole number >= 1, got {workers}.")
    n_workers = workers or (os.cpu_count() or 1)
    if output is not None:
        write_plan(plan, output)
    if as_json:
        emit_json(
            {
                "plan": plan.to_dict(),
                "runs": [r.to_row() for r in plan.runs],
                "estimate_seconds": {
                    "work": sum(r.est_seconds for r in plan.runs),
                    "wall": plan.estimate_seconds(n_workers),
                    "workers": n_workers,
                },
                "written_to": output,
            }
        )
        return
    _plan_table(plan, n_workers)
    if output is not None:
        click.echo(
            f"wrote {output} ({len(plan.runs)} runs); train with: scalinglaws sweep run {output}"
        )


# ------------------------------------------------------------------ run
def _run_params() -> list[click.Parameter]:
    """PLAN, the sweep folder, the executor and its options, and the output switches."""
    return [
        click.Argument(["plan_file"], metavar="PLAN"),
        click.Option(
            ["--out"],
            default=None,
            metavar="FOLDER",
            help="Sweep folder (default: next to PLAN, named after it).",
        ),
        click.Option(
            ["--executor"],
            default="local",
            show_default=True,
            help="local (one process per core), ray, or slurm (submitit).",
        ),
        click.Option(
            ["--workers"],
            default=None,
            type=int,
            help="Runs in flight at once (default: cores; Ray: cluster CPUs; Slurm: no cap).",
        ),
        click.Option(["--retry-failed"], is_flag=True, help="Re-run runs recorded as failed."),
        click.Option(["--address"], default=None, help="Ray: join this cluster (e.g. auto)."),
        click.Option(["--partition"], default=None, help="Slurm partition."),
        click.Option(
            ["--time", "time_min"],
            default=None,
            type=float,
            help="Slurm time limit per run, minutes (default 60).",
        ),
        click.Option(["--gpus"], default=0, type=int, help="Slurm GPUs per job."),
        click.Option(["--mem-gb"], default=None, type=float, help="Slurm memory per job (GB)."),
        click.Option(
            ["--slurm-cluster"],
            default=None,
            help="submitit cluster: slurm (default), local (jobs as local processes) or debug.",
        ),
        click.Option(["--no-progress"], is_flag=True, help="No progress bar or per-run lines."),
        _json_flag("a JSON summary at the end"),
    ]


def run_command(
    plan_file: str,
    out: str | None,
    executor: str,
    workers: int | None,
    retry_failed: bool,
    address: str | None,
    partition: str | None,
    time_min: float | None,
    gpus: int,
    mem_gb: float | None,
    slurm_cluster: str | None,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Train the runs of PLAN that are not finished yet (resumable, safe to kill).

    Each finished run is one JSON record under FOLDER/runs; running it again skips
    finished runs and re-runs interrupted ones.  The tables FOLDER/runs.csv and
    FOLDER/curves.csv are what 'scalinglaws fit' reads.
    """
    from scalinglaws.sweep.runner import run_sweep

    if workers is not None and workers < 1:
        raise PlanError(f"--workers must be a whole number >= 1, got {workers}.")
    summary = run_sweep(
        plan_file,
        out=out,
        executor=executor,
        workers=workers,
        retry_failed=retry_failed,
        progress=not no_progress and not as_json,
        address=address,
        partition=partition,
        time_min=time_min,
        gpus=gpus,
        mem_gb=mem_gb,
        slurm_cluster=slurm_cluster,
    )
    incomplete = (
        summary.failed
        or summary.interrupted
        or summary.kept_failed
        or summary.elsewhere
        or summary.pending
        or _adopted_failed(summary)
    )
    if as_json:
        emit_json(summary.to_dict())
        if incomplete or summary.tables_error:  # a script must see an unfinished sweep
            raise click.exceptions.Exit(1)
        return
    click.echo(_summary_text(summary))
    for run_id, error in summary.failed:
        click.echo(f"  failed: {run_id}: {error}")
    for run_id, error in summary.interrupted:
        click.echo(f"  interrupted: {run_id}: {error}")
    for run_id, outcome in summary.adopted:
        click.echo(f"  finished by an earlier driver's worker: {run_id}: {outcome}")
    if summary.elsewhere:
        held = ", ".join(f"{rid} ({worker})" for rid, worker in summary.elsewhere)
        click.echo(f"left to another driver's live worker(s): {held}")
    click.echo(f"tables: {summary.runs_csv}  {summary.curves_csv}")
    for problem in summary.problems:
        click.echo(f"warning: {problem}", err=True)
    if summary.interrupted:
        first, why = summary.interrupted[0]
        click.echo(
            f"error: {len(summary.interrupted)} run(s) were interrupted and left no record "
            f"(first: {first}: {why}); they are not failed — fix the cause and run "
            f"'scalinglaws sweep run' again to train them.",
            err=True,
        )
        raise click.exceptions.Exit(1)
    if summary.failed:  # finished runs are kept; a script must still see the failure
        click.echo(
            f"error: {len(summary.failed)} of {summary.ran} run(s) failed (their errors are "
            f"above and in 'scalinglaws sweep status {summary.folder}'); the finished runs "
            "are kept, and 'sweep run --retry-failed' runs the failed ones again.",
            err=True,
        )
        raise click.exceptions.Exit(1)
    if summary.kept_failed:
        click.echo(
            f"error: the sweep is incomplete: {summary.kept_failed} planned run(s) failed "
            "earlier and were not retried; 'sweep run --retry-failed' runs them again.",
            err=True,
        )
        raise click.exceptions.Exit(1)
    if summary.elsewhere or summary.pending or _adopted_failed(summary):
        click.echo(f"error: the sweep is incomplete: {_unfinished_text(summary)}.", err=True)
        raise click.exceptions.Exit(1)
    if summary.tables_error:
        click.echo(f"error: {summary.tables_error}", err=True)
        raise click.exceptions.Exit(1)


def _adopted_failed(summary: Any) -> int:
    """How many runs an earlier driver's worker finished as failed."""
    return sum(1 for _, outcome in summary.adopted if outcome.startswith("failed"))


def _summary_text(summary: Any) -> str:
    """The first line of 'sweep run': what became of every planned run, and how long it
    took.  Its counts add up to the planned runs (categories that are 0 are left out, except
    the runs done before and the runs ran now)."""
    ran = (
        f"ran {summary.ran} ({summary.succeeded} ok, {len(summary.failed)} failed"
        + (f", {len(summary.interrupted)} interrupted" if summary.interrupted else "")
        + ")"
    )
    parts = [f"{summary.already_done} already done", ran]
    if summary.adopted:
        failed = _adopted_failed(summary)
        parts.append(
            f"{len(summary.adopted)} finished by an earlier driver's worker"
            + (f" ({failed} failed)" if failed else "")
        )
    if summary.elsewhere:
        parts.append(f"{len(summary.elsewhere)} still running elsewhere")
    if summary.pending:
        parts.append(f"{len(summary.pending)} pending")
    text = (
        f"sweep {summary.folder}: {summary.planned} planned, {', '.join(parts)} in "
        f"{_fmt_seconds(summary.wall_seconds)}"
    )
    if summary.kept_failed:
        text += f"; {summary.kept_failed} failed earlier (--retry-failed re-runs them)"
    return text


def _unfinished_text(summary: Any) -> str:
    """Why a sweep that ran without errors of its own is still unfinished."""
    parts = []
    if summary.elsewhere:
        parts.append(
            f"{len(summary.elsewhere)} run(s) are still being trained by a live worker of "
            "another driver (run 'scalinglaws sweep run' again when it ends)"
        )
    if summary.pending:
        parts.append(f"{len(summary.pending)} run(s) did not start (run 'sweep run' again)")
    failed = _adopted_failed(summary)
    if failed:
        parts.append(
            f"{failed} run(s) finished by an earlier driver's worker failed "
            "('sweep run --retry-failed' runs them again)"
        )
    return "; ".join(parts)


# ------------------------------------------------------------------ status
def _status_params() -> list[click.Parameter]:
    return [click.Argument(["folder"]), _json_flag("JSON instead of a table")]


def status_command(folder: str, as_json: bool) -> None:
    """Show every run of a sweep folder: done, failed, running, interrupted or pending.

    Safe while the sweep runs in another terminal: it only reads the records and the
    "started" markers (a run whose worker process is gone is "interrupted").
    """
    from scalinglaws.sweep.runner import sweep_status

    status = sweep_status(folder)
    for problem in status.problems:
        click.echo(f"warning: {problem}", err=True)
    if as_json:
        emit_json(status.to_dict())
        return
    rows = [
        [
            r.run_id,
            r.state,
            format_quantity(r.plan["N"]),
            format_quantity(r.plan["D"]),
            format_flops(r.plan["C"]),
            None if r.loss is None else f"{r.loss:.4f}",
            _status_note(r),
        ]
        for r in status.runs
    ]
    counts = status.counts()
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    driver = status.driver
    if driver and driver.get("alive"):
        summary += f"; driven by pid {driver.get('pid')} ({driver.get('executor', '?')})"
    elif counts["running"] == 0 and (counts["pending"] or counts["interrupted"]):
        summary += "; no sweep is running — resume with 'scalinglaws sweep run'"
    if status.orphans:
        summary += f"; {len(status.orphans)} record(s) of runs no longer in the plan"
    _compact_table(
        rows,
        ["run", "state", "N", "D", "C", "loss", "progress / error"],
        title=f"Sweep '{status.name}' in {status.folder}",
        caption=summary,
        optional=dict.fromkeys((4, 3), "'scalinglaws sweep status FOLDER --json'"),
    )


def _status_note(r: Any) -> str:
    """The last column of a status row: progress of a running run, error of a failed one."""
    if r.state == "running" and r.marker is not None:
        frac = r.fraction
        tps = r.marker.get("tokens_per_second")
        note = f"{frac:.0%}" if frac is not None else ""
        if tps:
            note += f", {float(tps):,.0f} tok/s"
        return note + f"; pid {r.marker.get('pid')} on {r.marker.get('host')}"
    if r.state == "failed":
        return (r.error or "")[:90]
    return ""


# ------------------------------------------------------------------ tables
def _tables_params() -> list[click.Parameter]:
    return [
        click.Argument(["folder"]),
        _json_flag('{"runs_csv": ..., "curves_csv": ..., "problems": [...]} instead of a line'),
    ]


def tables_command(folder: str, as_json: bool) -> None:
    """Rebuild FOLDER/runs.csv and FOLDER/curves.csv from the run records."""
    from scalinglaws.sweep.runner import write_tables

    problems: list[str] = []
    runs_path, curves_path = write_tables(folder, problems=problems)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if as_json:
        emit_json(
            {"runs_csv": str(runs_path), "curves_csv": str(curves_path), "problems": problems}
        )
        return
    click.echo(f"wrote {runs_path} and {curves_path}")
