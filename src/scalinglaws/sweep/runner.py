"""Run a sweep plan resumably, show its progress, report its status, and build its tables.

``run_sweep(plan, out)`` trains every run of the plan that has no record yet in the sweep
folder (layout: :mod:`scalinglaws.sweep.store`), on an executor
(:mod:`scalinglaws.sweep.executors`), at most ``workers`` runs at once, longest first:

* a run with an "ok" record is skipped; a "failed" one too unless ``retry_failed``;
* a run whose "started" marker belongs to a dead worker (``kill -9``, a crash, a lost node)
  was interrupted and runs again from the start; one whose worker still lives (an orphan of a
  killed driver, or a job on another node) is waited for, not duplicated;
* an exception in a run is recorded with its type, message and traceback and does not stop
  the other runs; a diverged run (non-finite loss) is recorded as failed;
* a run whose worker was killed by a signal, or whose record could not be written (disk
  full, read-only folder), is not failed but interrupted: it leaves no record and runs again
  on the next ``sweep run`` (which exits non-zero meanwhile);
* a damaged record or marker is reported, moved aside as ``<name>.corrupt`` and its run
  runs again;
* the tables ``runs.csv`` and ``curves.csv`` are rebuilt from the records as runs finish.

Cooldown plans (:mod:`scalinglaws.sweep.plan`): a trunk writes a checkpoint
(``checkpoints/<trunk id>/step<k>.pt``, :func:`scalinglaws.sweep.train.save_checkpoint`)
after each step a branch resumes from; a branch is started only once its checkpoint exists
(while its trunk may still be training), and one whose checkpoint is missing re-runs its
trunk (even a finished one).  A trunk interrupted by ``kill -9`` resumes from its latest
checkpoint.  A branch's record says where it started (``cooldown``: trunk id, step, tokens,
checkpoint, ``flops_spent``); trunks have records but no row in ``runs.csv``.  The sweep's
training FLOPs (:func:`flops_spent`, ``SweepSummary.flops_spent``) count each trunk once and
each branch only from its checkpoint on.

``runs.csv`` — one row per finished run, in plan order:
    run_id, budget, N (non-embedding parameters, the default of every fit), N_total (with
    embeddings), D (tokens trained), C (training FLOPs = flops_per_token·D under the plan's
    convention), loss (final validation loss, nats per byte-token), final_train_loss (on fixed
    training windows), tokens_per_param, step (optimiser steps), the shape, lr, warmup, seed,
    convention, flops_per_token, epochs, seconds, tokens_per_second.
``curves.csv`` — one row per evaluation: run_id, budget, step, tokens (D so far), flops (C so
    far), N, N_total, val_loss, train_loss_mean (mean training loss over the steps since the
    previous curve row), lr.

Both load directly with :func:`scalinglaws.runs.load_runs` (``scalinglaws fit runs.csv``): N is
non-embedding (Kaplan et al. 2020); pass ``columns={"N": "N_total"}`` to fit total parameters.
The loss is the only column named like a loss (the training losses have other names), so the
loader picks it without ambiguity.
Under a convention other than "6N", C is not 6·N·D, and ``load_runs`` says so
(``SL-RUNS-FLOPS-MISMATCH``) and uses C as recorded.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalinglaws.errors import DataError, PlanError, ScalingLawsWarning
from scalinglaws.sweep.executors import WorkerError, check_executor, make_executor
from scalinglaws.sweep.plan import Plan, PlannedRun, load_plan
from scalinglaws.sweep.store import (
    HEARTBEAT_SECONDS,
    SweepStore,
    atomic_write_json,
    atomic_write_text,
    hostname,
    now,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The trainer every run calls, as "module:function" (so workers can import it).
DEFAULT_TRAINER = "scalinglaws.sweep.train:train"
#: The plan's runs as resolved by the last ``sweep run`` (read by ``sweep status``).
PLANNED_FILE = "planned.json"
RUNS_FILE = "runs.csv"
CURVES_FILE = "curves.csv"
#: States of a run in :func:`sweep_status`.
STATES: tuple[str, ...] = ("done", "failed", "running", "interrupted", "pending")
#: Key of a worker's returned record when the worker could not write it (the reason).
UNSAVED = "unsaved"
#: Folder of a sweep that holds cooldown trunks' checkpoints.
CHECKPOINTS_DIR = "checkpoints"

RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "budget",
    "N",
    "N_total",
    "D",
    "C",
    "loss",
    "final_train_loss",
    "tokens_per_param",
    "step",
    "n_layer",
    "d_model",
    "n_head",
    "n_ctx",
    "batch_size",
    "lr",
    "warmup_tokens",
    "seed",
    "convention",
    "flops_per_token",
    "epochs",
    "seconds",
    "tokens_per_second",
)
CURVE_COLUMNS: tuple[str, ...] = (
    "run_id",
    "budget",
    "step",
    "tokens",
    "flops",
    "N",
    "N_total",
    "val_loss",
    "train_loss_mean",
    "lr",
)


# ============================================================================ the worker side
def resolve_trainer(trainer: str | Callable[..., Any]) -> Callable[..., Any]:
    """The training function named ``"module:function"`` (or a callable, returned as is)."""
    if callable(trainer):
        return trainer
    module, _, name = str(trainer).partition(":")
    if not module or not name:
        raise PlanError(f"trainer must be written 'module:function', got {trainer!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise PlanError(f"cannot import the trainer {trainer!r} ({exc})") from None


class _Heartbeat:
    """Refreshes a run's marker every few seconds with its latest progress (a daemon thread,
    so a stalled step still shows a live worker)."""

    def __init__(self, store: SweepStore, marker: dict[str, Any]) -> None:
        self.store, self.marker = store, marker
        self.latest: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)

    def update(self, info: dict[str, Any]) -> None:
        self.latest = {
            k: info[k] for k in ("tokens", "tokens_per_second", "train_loss", "step") if k in info
        }

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.store.heartbeat(self.marker, **self.latest)
            except OSError:  # the folder vanished or is read-only: the run itself goes on
                pass

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)


def execute_run(task: dict[str, Any], folder: str, trainer: str = DEFAULT_TRAINER) -> dict:
    """Train one planned run inside a worker and write its record; returns the record.

    Writes the run's "started" marker (pid, host; refreshed by a heartbeat), calls the
    trainer on ``task["config"]``, and writes the record atomically — status "ok", or
    "failed" with the exception's type, message and traceback (or "Diverged" when the loss
    became non-finite) — then removes the marker.  Only this run's files are touched.
    """
    from scalinglaws.sweep.train import TrainConfig

    store = SweepStore(folder)
    run_id = task["run_id"]
    plan_row = task["plan"]
    try:
        marker = store.start(
            run_id,
            attempt=task.get("attempt", 1),
            executor=task.get("executor", "?"),
            total_tokens=plan_row.get("D"),
            flops_per_token=plan_row.get("flops_per_token"),
        )
    except OSError as exc:  # disk full, read-only: nothing trained, the run is interrupted
        return {"run_id": run_id, "status": "interrupted", UNSAVED: str(exc)}
    record: dict[str, Any] = {
        "run_id": run_id,
        "status": "failed",
        "attempt": task.get("attempt", 1),
        "executor": task.get("executor", "?"),
        "host": marker["host"],
        "pid": marker["pid"],
        "started_at": marker["started_at"],
        "plan": plan_row,
        "config": task["config"],
        "result": None,
        "error": None,
        "warnings": [],
        "versions": _versions(),
    }
    with _Heartbeat(store, marker) as beat, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            config = TrainConfig.from_dict(task["config"])
            checkpoints: dict[str, Any] = {}
            if task.get("save_at"):
                checkpoints["save_at"] = {int(k): str(v) for k, v in task["save_at"]}
            if task.get("resume_from"):
                checkpoints["resume_from"] = str(task["resume_from"])
            result = resolve_trainer(trainer)(config, progress=beat.update, **checkpoints)
            out = result.to_dict()
            if task.get("cooldown"):
                extra = out.get("extra", {})
                record["cooldown"] = {
                    **task["cooldown"],
                    "resumed_from_step": extra.get("resumed_from_step", 0),
                    "flops_spent": extra.get("flops_spent"),
                }
            out.pop("config", None)
            record["result"] = out
            if out.get("extra", {}).get("diverged") or not math.isfinite(out["final_val_loss"]):
                record["error"] = {
                    "type": "Diverged",
                    "message": "the loss became non-finite during training; lower lr or "
                    "raise warmup (the curve up to that point is kept in 'result')",
                    "traceback": "",
                }
            else:
                record["status"] = "ok"
        except Exception as exc:
            record["error"] = {
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": traceback.format_exc(),
            }
    record["warnings"] = [
        {"code": getattr(w.message, "code", w.category.__name__), "message": str(w.message)}
        for w in caught
        if isinstance(w.message, (ScalingLawsWarning, UserWarning))
    ]
    record["finished_at"] = now()
    record["seconds"] = record["finished_at"] - record["started_at"]
    try:
        store.write_record(record)
    except OSError as exc:  # disk full, read-only: the driver tries; the marker stays
        return {**record, UNSAVED: str(exc)}
    with contextlib.suppress(OSError):
        store.finish(run_id)
    return record


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("scalinglaws", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# ============================================================================ tables
def build_tables(
    planned: list[dict[str, Any]], records: dict[str, dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``runs.csv`` and ``curves.csv`` (see the module docstring) from the records of the
    planned runs that finished "ok", in plan order."""
    import pandas as pd

    run_rows: list[dict[str, Any]] = []
    curve_rows: list[dict[str, Any]] = []
    for row in planned:
        rec = records.get(row["run_id"])
        if rec is None or rec.get("status") != "ok" or not rec.get("result"):
            continue
        if row.get("role") == "trunk":  # constant lr, not decayed: not a point of the law
            continue
        res, cfg = rec["result"], rec.get("config", {})
        extra = res.get("extra", {})
        N, N_total = res.get("n_params_nonembedding", row["N"]), res.get("n_params_total")
        D = extra.get("tokens_trained", row["D"])
        fpt = row["flops_per_token"]
        curve = res.get("curve", [])
        run_rows.append(
            {
                "run_id": row["run_id"],
                "budget": row.get("budget"),
                "N": N,
                "N_total": N_total if N_total is not None else row["N_total"],
                "D": D,
                "C": fpt * D,
                "loss": res["final_val_loss"],
                "final_train_loss": res.get("final_train_loss"),
                "tokens_per_param": D / N,
                "step": curve[-1]["step"] if curve else extra.get("n_steps"),
                "n_layer": cfg.get("n_layer"),
                "d_model": cfg.get("d_model"),
                "n_head": cfg.get("n_head"),
                "n_ctx": cfg.get("n_ctx"),
                "batch_size": cfg.get("batch_size"),
                "lr": cfg.get("lr"),
                "warmup_tokens": cfg.get("warmup_tokens"),
                "seed": cfg.get("seed"),
                "convention": row.get("convention"),
                "flops_per_token": fpt,
                "epochs": res.get("epochs"),
                "seconds": rec.get("seconds"),
                "tokens_per_second": res.get("tokens_per_second"),
            }
        )
        for point in curve:
            val = point.get("val_loss")
            if val is None or not math.isfinite(val):
                continue
            curve_rows.append(
                {
                    "run_id": row["run_id"],
                    "budget": row.get("budget"),
                    "step": point["step"],
                    "tokens": point["tokens"],
                    "flops": fpt * point["tokens"],
                    "N": N,
                    "N_total": run_rows[-1]["N_total"],
                    "val_loss": val,
                    "train_loss_mean": point.get("train_loss"),
                    "lr": point.get("lr"),
                }
            )
    runs = pd.DataFrame(run_rows, columns=list(RUN_COLUMNS))
    curves = pd.DataFrame(curve_rows, columns=list(CURVE_COLUMNS))
    return runs, curves


def write_tables(
    folder: str | Path,
    planned: list[dict[str, Any]] | None = None,
    records: dict[str, dict[str, Any]] | None = None,
    problems: list[str] | None = None,
) -> tuple[Path, Path]:
    """Rebuild ``runs.csv`` and ``curves.csv`` in a sweep folder (atomically) from its
    records; ``planned`` defaults to the folder's ``planned.json``.

    Damaged records are moved aside (``<name>.corrupt``) and left out; what was wrong is
    appended to ``problems``.  Raises :class:`DataError`, writing nothing, when the
    ``runs/`` folder is missing or when the tables would replace a ``runs.csv`` that lists
    runs with an empty one (their records are missing or unreadable)."""
    store = SweepStore(folder)
    planned = planned if planned is not None else read_planned(folder)["runs"]
    if records is None:
        if not store.runs_dir.is_dir():
            what = "is a file" if store.runs_dir.exists() else "is missing"
            raise DataError(
                f"the record folder {store.runs_dir} {what}, so every run record is missing; "
                f"{RUNS_FILE} and {CURVES_FILE} were left as they are (restore runs/ from a "
                "backup, or run the sweep again)"
            )
        records = store.records(quarantine=True)
        if problems is not None:
            problems.extend(store.problems)
    runs, curves = build_tables(planned, records)
    runs_path, curves_path = store.folder / RUNS_FILE, store.folder / CURVES_FILE
    if runs.empty:
        _refuse_to_empty(runs_path, records, store.problems)
    atomic_write_text(runs_path, runs.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(curves_path, curves.to_csv(index=False, float_format="%.10g"))
    return runs_path, curves_path


def _refuse_to_empty(
    runs_path: Path, records: dict[str, dict[str, Any]], problems: list[str]
) -> None:
    """Raise :class:`DataError` when ``runs_path`` lists runs: an empty table must not
    replace it (its runs' records are gone or unreadable, not the runs themselves)."""
    import csv

    try:
        with runs_path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    listed = [str(r.get("run_id")) for r in rows if r.get("run_id")]
    if not listed:
        return
    lost = [rid for rid in listed if (records.get(rid) or {}).get("status") != "ok"]
    shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
    damaged = f" ({len(problems)} damaged record(s) were moved aside as *.corrupt)"
    raise DataError(
        f"refusing to replace {runs_path}, which lists {len(listed)} run(s), with an empty "
        f"table: the records of {shown or 'its runs'} are missing or unreadable"
        + (damaged if problems else "")
        + "; restore them from a backup, or run those runs again with 'sweep run'"
    )


def read_planned(folder: str | Path) -> dict[str, Any]:
    """The resolved plan a ``sweep run`` left in the folder (``planned.json``)."""
    import json

    path = Path(folder) / PLANNED_FILE
    if not path.is_file():
        if not Path(folder).exists():
            raise DataError(f"sweep folder {folder} does not exist")
        if Path(folder).is_file():
            hint = (
                f"; the sweep of this plan file goes to {Path(folder).with_suffix('')} unless "
                "it was given another folder"
                if Path(folder).suffix.lower() in (".toml", ".yaml", ".yml", ".json")
                else ""
            )
            raise DataError(
                f"{folder} is a file, not a sweep folder; give the folder that "
                f"`scalinglaws sweep run` wrote{hint}"
            )
        raise DataError(
            f"{folder} is not a sweep folder ({PLANNED_FILE} is missing); give the folder a "
            "sweep run wrote, or run a sweep into this one first"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise DataError(f"{path} is not valid JSON ({why}); re-run `sweep run`") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list) or not all(
        isinstance(r, dict)
        and isinstance(r.get("run_id"), str)
        and all(isinstance(r.get(k), (int, float)) for k in ("N", "D", "C"))
        for r in runs
    ):
        raise DataError(
            f"{path} is not the list of planned runs that `sweep run` writes (it needs "
            '{"runs": [{"run_id": ..., "N": ..., "D": ..., "C": ...}, ...]}); run the sweep '
            f"into {folder} again to rewrite it"
        )
    return data


# ============================================================================ status
@dataclass
class RunStatus:
    """Where one planned run stands: ``state`` is one of :data:`STATES`."""

    run_id: str
    state: str
    plan: dict[str, Any]
    record: dict[str, Any] | None = None
    marker: dict[str, Any] | None = None

    @property
    def loss(self) -> float | None:
        """Final validation loss of a finished run."""
        if self.record and self.record.get("status") == "ok":
            loss = (self.record.get("result") or {}).get("final_val_loss")
            return float(loss) if isinstance(loss, (int, float)) else None
        return None

    @property
    def error(self) -> str | None:
        """``Type: message`` of a failed run."""
        if self.record and self.record.get("status") == "failed" and self.record.get("error"):
            err = self.record["error"]
            return f"{err.get('type')}: {err.get('message')}"
        return None

    @property
    def fraction(self) -> float | None:
        """Share of the run's tokens done (running runs, from the heartbeat)."""
        if self.marker and self.plan.get("D"):
            return min(1.0, float(self.marker.get("tokens", 0) or 0) / float(self.plan["D"]))
        return None


@dataclass
class SweepStatus:
    """The state of every planned run of a sweep folder, and of its driver."""

    folder: Path
    name: str
    runs: list[RunStatus]
    driver: dict[str, Any] | None
    orphans: list[str] = field(default_factory=list)
    #: One sentence per damaged record, marker or lock file found (and moved aside).
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Runs per state."""
        out = dict.fromkeys(STATES, 0)
        for r in self.runs:
            out[r.state] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``sweep status --json``)."""
        return {
            "folder": str(self.folder),
            "name": self.name,
            "counts": self.counts(),
            "driver": self.driver,
            "orphan_records": self.orphans,
            "problems": self.problems,
            "runs": [
                {
                    "run_id": r.run_id,
                    "state": r.state,
                    "N": r.plan.get("N"),
                    "D": r.plan.get("D"),
                    "C": r.plan.get("C"),
                    "loss": r.loss,
                    "error": r.error,
                    "fraction_done": r.fraction,
                    "pid": (r.marker or {}).get("pid"),
                    "host": (r.marker or {}).get("host"),
                }
                for r in self.runs
            ],
        }


def sweep_status(folder: str | Path) -> SweepStatus:
    """Read a sweep folder (safe while a sweep is running in another terminal).

    A run is "done" or "failed" by its record; "running" while its marker's worker lives
    (pid alive on this host, or a fresh heartbeat from another host); "interrupted" when its
    marker's worker is gone without a record; otherwise "pending".
    """
    store = SweepStore(folder)
    planned = read_planned(folder)
    records = store.records(quarantine=True)
    markers = store.markers(quarantine=True)
    runs: list[RunStatus] = []
    for row in planned["runs"]:
        rid = row["run_id"]
        rec, marker = records.get(rid), markers.get(rid)
        live = marker is not None and store.marker_alive(marker)
        if live:
            state = "running"
        elif rec is not None:
            state = "done" if rec.get("status") == "ok" else "failed"
        elif marker is not None:
            state = "interrupted"
        else:
            state = "pending"
        runs.append(RunStatus(rid, state, row, rec, marker if live or rec is None else None))
    planned_ids = {row["run_id"] for row in planned["runs"]}
    orphans = sorted(set(records) - planned_ids)
    driver = store.driver()
    return SweepStatus(
        Path(folder), planned.get("name", ""), runs, driver, orphans, list(store.problems)
    )


# ============================================================================ the driver
@dataclass
class SweepSummary:
    """What one ``run_sweep`` did, accounting for every planned run (:meth:`counts`): done
    before, failed before (kept), ran now (succeeded, failed or interrupted), finished
    meanwhile by a live worker of an earlier driver (adopted), still running in such a
    worker (elsewhere), or pending."""

    folder: Path
    planned: int
    already_done: int
    kept_failed: int
    ran: int
    succeeded: int
    failed: list[tuple[str, str]]
    wall_seconds: float
    executor: str
    runs_csv: Path
    curves_csv: Path
    note: str = ""
    #: Runs whose worker was killed or whose record could not be written (run id, why):
    #: not failed — they run again on resume.
    interrupted: list[tuple[str, str]] = field(default_factory=list)
    #: Damaged files met (and moved aside; their runs ran again).
    problems: list[str] = field(default_factory=list)
    #: Why runs.csv / curves.csv could not be written at the end (empty when they were).
    tables_error: str = ""
    #: Runs a live worker of an earlier driver was training, which this one waited for and
    #: that worker finished: (run id, "ok"/"failed" + " by pid P on HOST").
    adopted: list[tuple[str, str]] = field(default_factory=list)
    #: Runs still held by a live worker of another driver when this one ended:
    #: (run id, "pid P on HOST").
    elsewhere: list[tuple[str, str]] = field(default_factory=list)
    #: Runs neither finished nor started (by anyone) when this driver ended.
    pending: list[str] = field(default_factory=list)
    #: Training FLOPs of the sweep's finished runs, each cooldown trunk counted once
    #: (:func:`flops_spent`).
    flops_spent: float = 0.0

    def counts(self) -> dict[str, int]:
        """Planned runs by what became of them; the values add up to :attr:`planned`."""
        return {
            "done_before": self.already_done,
            "failed_before": self.kept_failed,
            "succeeded": self.succeeded,
            "failed": len(self.failed),
            "interrupted": len(self.interrupted),
            "adopted": len(self.adopted),
            "elsewhere": len(self.elsewhere),
            "pending": len(self.pending),
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``sweep run --json``)."""
        return {
            "folder": str(self.folder),
            "planned": self.planned,
            "already_done": self.already_done,
            "kept_failed": self.kept_failed,
            "ran": self.ran,
            "succeeded": self.succeeded,
            "failed": [{"run_id": r, "error": e} for r, e in self.failed],
            "wall_seconds": self.wall_seconds,
            "executor": self.executor,
            "runs_csv": str(self.runs_csv),
            "curves_csv": str(self.curves_csv),
            "note": self.note,
            "interrupted": [{"run_id": r, "error": e} for r, e in self.interrupted],
            "problems": self.problems,
            "tables_error": self.tables_error,
            "adopted": [{"run_id": r, "outcome": o} for r, o in self.adopted],
            "elsewhere": [{"run_id": r, "worker": w} for r, w in self.elsewhere],
            "pending": self.pending,
            "flops_spent": self.flops_spent,
            "counts": self.counts(),
        }


#: What a sweep folder may hold before its planned.json is written (see
#: :mod:`scalinglaws.sweep.store`); its tables come after planned.json, so a runs.csv without
#: one is somebody else's.
_OWN_ENTRIES = frozenset({"runs", "running", "plan.toml", "slurm", "logs", "checkpoints"})


def check_sweep_folder(folder: str | Path, plan: Plan) -> None:
    """Refuse to run ``plan`` into a folder that holds something else: the runs of a plan
    with another name (its runs.csv would silently lose them), or files that are not a
    sweep's (its runs.csv or plan.toml would be overwritten).  An empty or missing folder,
    or the folder of a plan with the same name (edited and re-run), is fine."""
    import json

    folder = Path(folder)
    if not folder.is_dir():
        return
    planned = folder / PLANNED_FILE
    if planned.is_file():
        try:
            previous = json.loads(planned.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            previous = None
        name = previous.get("name") if isinstance(previous, dict) else None
        if isinstance(name, str) and name != plan.name:
            n = sum(1 for p in (folder / "runs").glob("*.json") if not p.name.startswith("."))
            raise PlanError(
                f"sweep folder {folder} holds the sweep '{name}' ({n} finished run record(s)), "
                f"not '{plan.name}'; give this plan its own folder (out=FOLDER), or name it "
                f"'{name}' in [sweep] name to extend that sweep",
                argument="out",
            )
        return
    foreign = sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in _OWN_ENTRIES and not p.name.startswith(".")  # .lock, .ray, temp files
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise PlanError(
            f"sweep folder {folder} already holds files that are not a sweep's ({shown}); give "
            "a new or empty folder (out=FOLDER)",
            argument="out",
        )


def default_folder(plan: str | Path | Plan) -> Path:
    """Where a sweep's folder goes by default: next to the plan file, named after it
    (``sweeps/demo.toml`` -> ``sweeps/demo``); for a Plan object, ``./<plan.name>``."""
    if isinstance(plan, Plan):
        return Path.cwd() / plan.name
    return Path(plan).with_suffix("")


def _task(
    run: PlannedRun, attempt: int, executor: str, store: SweepStore | None = None
) -> dict[str, Any]:
    task = {
        "run_id": run.run_id,
        "plan": run.to_row(),
        "config": run.config.to_dict(),
        "attempt": attempt,
        "executor": executor,
    }
    if run.role == "trunk" and store is not None:
        paths = {k: checkpoint_path(store, run.run_id, k) for k in run.save_steps}
        task["save_at"] = [[k, str(path)] for k, path in paths.items()]
        done = [k for k, path in paths.items() if path.is_file()]
        # a trunk killed on its way resumes after its latest checkpoint (the same trajectory)
        if done and max(done) < run.steps:
            task["resume_from"] = str(paths[max(done)])
        task["cooldown"] = {"role": "trunk"}
    elif run.role == "branch" and store is not None:
        path = checkpoint_path(store, str(run.trunk_id), run.resume_step)
        task["resume_from"] = str(path)
        task["cooldown"] = {
            "role": "branch",
            "trunk_id": run.trunk_id,
            "step": run.resume_step,
            "tokens": run.resume_step * run.config.tokens_per_step,
            "checkpoint": str(path.relative_to(store.folder)),
        }
    return task


def checkpoint_path(store: SweepStore, trunk_id: str, step: int) -> Path:
    """Where a cooldown trunk keeps its checkpoint after ``step``."""
    return store.folder / CHECKPOINTS_DIR / trunk_id / f"step{int(step)}.pt"


def _ready(run: PlannedRun, store: SweepStore) -> bool:
    """A branch can start once its trunk's checkpoint exists; any other run at once."""
    if run.role != "branch":
        return True
    return checkpoint_path(store, str(run.trunk_id), run.resume_step).is_file()


def flops_spent(planned: list[dict[str, Any]], records: dict[str, dict[str, Any]]) -> float:
    """Training FLOPs of the finished ("ok") runs: flops_per_token x tokens trained, except
    that a cooldown branch counts only the steps after its trunk's checkpoint (its
    ``flops_spent``), so each trunk's FLOPs are counted once."""
    total = 0.0
    for row in planned:
        rec = records.get(row["run_id"])
        if rec is None or rec.get("status") != "ok" or not rec.get("result"):
            continue
        extra = rec["result"].get("extra", {})
        fpt = float(row["flops_per_token"])
        if row.get("role") == "branch":
            step = int((rec.get("cooldown") or {}).get("step", row.get("resume_step", 0)))
            tps = int(row["batch_size"]) * int(row["n_ctx"])
            total += fpt * (float(extra.get("tokens_trained", row["D"])) - step * tps)
        else:
            total += fpt * float(extra.get("tokens_trained", row["D"]))
    return total


def run_sweep(
    plan: Plan | str | Path,
    out: str | Path | None = None,
    executor: str = "local",
    workers: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    trainer: str = DEFAULT_TRAINER,
    poll_seconds: float = 0.2,
    console: Any = None,
    **executor_options: Any,
) -> SweepSummary:
    """Train every unfinished run of ``plan`` into the sweep folder ``out`` (see the module
    docstring for what is skipped, re-run and recorded).  ``executor`` is "local", "ray" or
    "slurm" (options such as ``address``, ``partition``, ``time_min``, ``gpus``,
    ``slurm_cluster`` go to :func:`~scalinglaws.sweep.executors.make_executor`);
    ``trainer`` is the "module:function" each worker calls with a ``TrainConfig``.
    """
    check_executor(executor, workers, **executor_options)
    source = plan
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    folder = Path(out) if out is not None else default_folder(source)
    store = SweepStore(folder)
    if folder.exists() and not folder.is_dir():
        raise PlanError(
            f"out={str(folder)!r} is a file; give a folder for the sweep", argument="out"
        )
    check_sweep_folder(folder, plan)
    start = time.perf_counter()
    with store.lock(executor=executor):
        atomic_write_text(
            store.plan_path,
            f"# The plan of this sweep as last run, from {plan.source}; relative paths in it are "
            f"relative to {plan.base_dir}.\n" + plan.to_toml(),
        )
        planned = [r.to_row() for r in plan.runs]
        atomic_write_json(
            folder / PLANNED_FILE,
            {"name": plan.name, "kind": plan.kind, "convention": plan.convention, "runs": planned},
        )
        records = store.records(quarantine=True)
        markers = store.markers(quarantine=True)
        todo: list[PlannedRun] = []
        waiting: dict[str, PlannedRun] = {}
        attempts: dict[str, int] = {}
        already, kept_failed = 0, 0
        for run in plan.runs:
            rec, marker = records.get(run.run_id), markers.get(run.run_id)
            if marker is not None and store.marker_alive(marker):
                waiting[run.run_id] = run  # a worker of an earlier driver is still on it
                continue
            if marker is not None:
                with contextlib.suppress(OSError):
                    store.finish(run.run_id)  # interrupted: its worker is gone
            if rec is not None and rec.get("status") == "ok":
                already += 1
                continue
            if rec is not None and not retry_failed:
                kept_failed += 1
                continue
            previous = max(
                int((rec or {}).get("attempt", 0)), int((marker or {}).get("attempt", 0))
            )
            attempts[run.run_id] = previous + 1
            todo.append(run)
        # a branch whose checkpoint is gone needs its trunk again, even a finished one
        by_id = {r.run_id: r for r in plan.runs}
        queued = {r.run_id for r in todo} | set(waiting)
        for run in list(todo):
            if run.role != "branch" or _ready(run, store) or run.trunk_id in queued:
                continue
            trunk = by_id[str(run.trunk_id)]
            rec = records.get(trunk.run_id)
            if rec is not None and rec.get("status") == "ok":
                already -= 1
            elif rec is not None and not retry_failed:
                continue  # a failed trunk is kept: its branches stay pending
            elif rec is not None:
                kept_failed -= 1
            attempts[trunk.run_id] = int((rec or {}).get("attempt", 0)) + 1
            todo.append(trunk)
            queued.add(trunk.run_id)
        todo.sort(key=lambda r: -r.est_seconds)  # longest first: shortest makespan
        driver = _Driver(
            store, plan, planned, records, todo, waiting, attempts, trainer, poll_seconds
        )
        ex = None
        try:
            if todo or waiting:
                ex = make_executor(executor, workers, sweep_folder=folder, **executor_options)
            with _ProgressView(plan, todo, waiting, progress, console) as view:
                for problem in store.problems:
                    view.log(f"warning: {problem}")
                if ex is not None and ex.note:
                    view.log(f"note: {ex.note}")
                if ex is not None:
                    view.log(
                        f"{len(todo)} run(s) to train on the {ex.describe()}; {already} already "
                        f"done, {kept_failed} failed kept"
                        + (" (not retried)" if kept_failed else "")
                    )
                if waiting:
                    view.log(
                        f"waiting for {len(waiting)} run(s) that live worker(s) of an earlier "
                        f"driver are training: {_held_text(store, waiting)}"
                    )
                driver.loop(ex, view)
        finally:
            if ex is not None:
                ex.shutdown(cancel=True)
            runs_csv, curves_csv = folder / RUNS_FILE, folder / CURVES_FILE
            tables_error = ""
            try:
                write_tables(folder, planned, driver.records)
            except (OSError, DataError) as exc:  # disk full, or it would empty runs.csv
                tables_error = str(exc)
    return SweepSummary(
        folder=folder,
        planned=len(plan.runs),
        already_done=already,
        kept_failed=kept_failed,
        ran=driver.ran,
        succeeded=driver.ran - len(driver.failures) - len(driver.interrupted),
        failed=driver.failures,
        wall_seconds=time.perf_counter() - start,
        executor=executor,
        runs_csv=runs_csv,
        curves_csv=curves_csv,
        note=ex.note if ex is not None else "",
        interrupted=driver.interrupted,
        problems=list(dict.fromkeys(store.problems)),
        tables_error=tables_error,
        adopted=driver.adopted,
        elsewhere=[(rid, _holder(store, rid)) for rid in driver.waiting],
        pending=[r.run_id for r in driver.todo] + list(driver.in_flight),
        flops_spent=flops_spent(planned, driver.records),
    )


def _holder(store: SweepStore, run_id: str) -> str:
    """The worker whose marker holds ``run_id``, as "pid P on HOST" ("an unknown worker"
    when the marker is gone)."""
    marker = store.markers().get(run_id) or {}
    if not marker:
        return "an unknown worker"
    return f"pid {marker.get('pid', '?')} on {marker.get('host', '?')}"


def _held_text(store: SweepStore, runs: dict[str, Any], most: int = 5) -> str:
    """The first ``most`` of ``runs`` with their workers: "RUN (pid P on HOST), ..."."""
    shown = [f"{rid} ({_holder(store, rid)})" for rid in list(runs)[:most]]
    more = f" and {len(runs) - most} more" if len(runs) > most else ""
    return ", ".join(shown) + more


class _Driver:
    """The scheduling loop of :func:`run_sweep`."""

    def __init__(
        self,
        store: SweepStore,
        plan: Plan,
        planned: list[dict[str, Any]],
        records: dict[str, dict[str, Any]],
        todo: list[PlannedRun],
        waiting: dict[str, PlannedRun],
        attempts: dict[str, int],
        trainer: str,
        poll_seconds: float,
    ) -> None:
        self.store, self.plan, self.planned, self.records = store, plan, planned, records
        self.todo, self.waiting, self.attempts = todo, waiting, attempts
        self.trainer, self.poll = trainer, poll_seconds
        self.in_flight: dict[str, tuple[PlannedRun, Any]] = {}
        self.ran = 0
        self.failures: list[tuple[str, str]] = []
        self.interrupted: list[tuple[str, str]] = []
        #: Waited-for runs finished by an earlier driver's worker: (run id, outcome).
        self.adopted: list[tuple[str, str]] = []
        self._tables_at = 0.0

    def loop(self, ex: Any, view: _ProgressView) -> None:
        if ex is None:
            return
        name = ex.name
        while self.todo or self.in_flight or self.waiting:
            while self.todo and len(self.in_flight) + len(self.waiting) < ex.workers:
                ready = [i for i, r in enumerate(self.todo) if _ready(r, self.store)]
                if not ready:  # branches waiting for their trunks' checkpoints
                    break
                run = self.todo.pop(ready[0])
                task = _task(run, self.attempts.get(run.run_id, 1), name, self.store)
                handle = ex.submit(
                    execute_run, task, str(self.store.folder), self.trainer, name=run.run_id
                )
                self.in_flight[run.run_id] = (run, handle)
            finished = False
            for rid, (run, handle) in list(self.in_flight.items()):
                if handle.done():
                    del self.in_flight[rid]
                    self._collect(run, handle, name, view)
                    finished = True
            for rid, run in list(self.waiting.items()):
                # marker first: a worker writes its record before removing its marker
                marker = self.store.markers(quarantine=True).get(rid)
                if marker is not None and self.store.marker_alive(marker):
                    continue
                del self.waiting[rid]
                rec = self.store.read_record(rid, quarantine=True) if marker is None else None
                if rec is not None:
                    self.records[rid] = rec
                    self.adopted.append((rid, _adopted_outcome(rec)))
                    view.finished(run, rec, adopted=True)
                else:  # its worker died too: run it here
                    with contextlib.suppress(OSError):
                        self.store.finish(rid)
                    self.attempts[rid] = int((marker or {}).get("attempt", 0)) + 1
                    self.todo.append(run)
            if finished and time.monotonic() - self._tables_at > 5.0:
                with contextlib.suppress(OSError, DataError):  # tried again at the end
                    write_tables(self.store.folder, self.planned, self.records)
                self._tables_at = time.monotonic()
            if not self.in_flight and not self.waiting and self.todo:
                if not any(_ready(r, self.store) for r in self.todo):
                    return  # branches whose trunk failed or was kept failed: pending
            view.update(self.in_flight, self.waiting, self.store)
            time.sleep(self.poll)

    def _collect(self, run: PlannedRun, handle: Any, executor: str, view: _ProgressView) -> None:
        self.ran += 1
        path = self.store.record_path(run.run_id)
        try:
            record = handle.result()
        except WorkerError as exc:
            if _killed_by_signal(handle, exc):  # not the run's fault: run it again on resume
                why = f"{exc}; no record was written to {path}"
                self._interrupt(run, why, view)
                return
            marker = self.store.markers().get(run.run_id, {})
            record = {
                "run_id": run.run_id,
                "status": "failed",
                "attempt": self.attempts.get(run.run_id, 1),
                "executor": executor,
                "host": marker.get("host", hostname()),
                "pid": marker.get("pid"),
                "started_at": marker.get("started_at"),
                "finished_at": now(),
                "plan": run.to_row(),
                "config": run.config.to_dict(),
                "result": None,
                "error": {"type": "WorkerError", "message": str(exc), "traceback": exc.detail},
                "warnings": [],
            }
        unsaved = record.pop(UNSAVED, None)
        if record.get("status") not in ("ok", "failed"):  # the worker could not even start
            self._interrupt(run, f"{unsaved}; the run did not start", view)
            return
        try:
            if unsaved is not None or self.store.read_record(run.run_id, quarantine=True) is None:
                self.store.write_record(record)  # the worker could not (no shared file system)
        except OSError as exc:  # disk full, read-only: its result is lost, not failed
            why = f"its {record['status']} record could not be written ({exc})"
            self._interrupt(run, why, view)
            return
        with contextlib.suppress(OSError):
            self.store.finish(run.run_id)
        self.records[run.run_id] = record
        if record.get("status") != "ok":
            err = record.get("error") or {}
            self.failures.append((run.run_id, f"{err.get('type')}: {err.get('message')}"))
        view.finished(run, record)

    def _interrupt(self, run: PlannedRun, why: str, view: _ProgressView) -> None:
        """A run that trained (or began to) but left no record: its marker (if any) stays,
        so it shows as interrupted and runs again on the next ``sweep run``."""
        self.interrupted.append((run.run_id, why))
        view.finished(
            run, {"status": "interrupted", "error": {"type": "Interrupted", "message": why}}
        )


def _adopted_outcome(record: dict[str, Any]) -> str:
    """What became of a run another driver's worker finished: "ok by pid P on HOST"."""
    where = f"pid {record.get('pid', '?')} on {record.get('host', '?')}"
    return f"{record.get('status', '?')} by {where}"


def _killed_by_signal(handle: Any, exc: WorkerError) -> bool:
    """True when a run's worker process was killed by a signal (kill -9, the out-of-memory
    killer, a shutdown) or lost with its node, rather than failing in the training code."""
    if exc.killed:  # Ray: the worker crashed or its node died; Slurm: no output, no timeout
        return True
    code = getattr(getattr(handle, "process", None), "returncode", None)
    if isinstance(code, int) and code < 0:
        return True
    text = str(exc)
    return not text.startswith("the worker raised") and "was killed by" in text


# ============================================================================ progress
class _ProgressView:
    """A rich progress bar (runs done / failed / running, tokens per second, ETA over the
    FLOPs still to train) plus one log line per finished run."""

    def __init__(
        self,
        plan: Plan,
        todo: list[PlannedRun],
        waiting: dict[str, PlannedRun],
        enabled: bool,
        console: Any,
    ) -> None:
        self.enabled = enabled
        self.total_runs = len(todo) + len(waiting)
        self.work = {r.run_id: r.flops_spent for r in [*todo, *waiting.values()]}
        self.done_runs, self.failed_runs = 0, 0
        self.done_work = 0.0
        self._progress: Any = None
        self._task: Any = None
        self._console = console
        self._last_read = 0.0
        self._live: dict[str, float] = {}
        self._tps = 0.0

    def __enter__(self) -> _ProgressView:
        if not self.enabled or not self.total_runs:
            return self
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = self._console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            TextColumn("{task.fields[runs]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "sweep", total=sum(self.work.values()), runs=self._runs_text(0), speed=""
        )
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()

    def log(self, text: str) -> None:
        if not self.enabled:
            return
        line = f"{time.strftime('%H:%M:%S')} {text}"
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr)

    def _runs_text(self, running: int) -> str:
        return (
            f"{self.done_runs}/{self.total_runs} done · {self.failed_runs} failed · "
            f"{running} running"
        )

    def finished(self, run: PlannedRun, record: dict[str, Any], adopted: bool = False) -> None:
        self.done_runs += 1
        self.done_work += self.work.get(run.run_id, 0.0)
        self._live.pop(run.run_id, None)
        idx = f"[{self.done_runs}/{self.total_runs}]"
        if record.get("status") == "ok":
            res = record["result"]
            text = (
                f"{idx} ok     {run.run_id}  N={run.N:,} D={run.D:,}  "
                f"loss {res['final_val_loss']:.4f}  ({res['wall_seconds']:.1f} s, "
                f"{res['tokens_per_second']:,.0f} tok/s)"
            )
        elif record.get("status") == "interrupted":
            self.failed_runs += 1
            err = record.get("error") or {}
            text = f"{idx} INTERRUPTED {run.run_id}  {err.get('message')} (runs again on resume)"
        else:
            self.failed_runs += 1
            err = record.get("error") or {}
            text = f"{idx} FAILED {run.run_id}  {err.get('type')}: {err.get('message')}"
        if adopted:
            where = f"pid {record.get('pid', '?')} on {record.get('host', '?')}"
            text += f"  (finished by {where}, a worker of an earlier sweep run)"
        self.log(text)

    def update(self, in_flight: dict[str, Any], waiting: dict[str, Any], store: SweepStore) -> None:
        if self._progress is None:
            return
        t = time.monotonic()
        if t - self._last_read > 1.0:
            self._last_read = t
            markers = store.markers()
            live, tps = {}, 0.0
            for rid in [*in_flight, *waiting]:
                m = markers.get(rid)
                if m is None:
                    continue
                live[rid] = float(m.get("tokens", 0) or 0) * float(m.get("flops_per_token", 0) or 0)
                tps += float(m.get("tokens_per_second", 0) or 0)
            self._live, self._tps = live, tps
        running = len(in_flight) + len(waiting)
        self._progress.update(
            self._task,
            completed=self.done_work + sum(self._live.values()),
            runs=self._runs_text(running),
            speed=f"{self._tps / 1000:,.1f}k tok/s" if self._tps else "",
        )


__all__ = [
    "CURVES_FILE",
    "DEFAULT_TRAINER",
    "PLANNED_FILE",
    "RUNS_FILE",
    "RunStatus",
    "STATES",
    "SweepStatus",
    "SweepSummary",
    "build_tables",
    "default_folder",
    "checkpoint_path",
    "execute_run",
    "flops_spent",
    "read_planned",
    "resolve_trainer",
    "run_sweep",
    "sweep_status",
    "write_tables",
]
