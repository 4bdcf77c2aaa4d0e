"""The sweep folder: one atomic JSON record per run, "started" markers, and a driver lock.

Layout of a sweep folder::

    plan.toml            the plan as last run (written by ``sweep run``)
    runs/<run_id>.json   the record of a finished run (status "ok" or "failed") — final
    running/<run_id>.json  marker of a run in flight: worker pid, host, heartbeat, progress
    runs.csv, curves.csv the tables assembled from the records (``runner.write_tables``)
    .lock                held (flock) by the one ``sweep run`` driving this folder

Safety rules, so that ``kill -9`` at any instant loses at most the runs in flight:

* every file is written to a temporary name in the same folder, flushed, fsync'ed and renamed
  over its final name with ``os.replace`` (atomic on POSIX), then the folder is fsync'ed —
  a reader sees the old file or the new one, never a torn one;
* each run writes only its own record and its own marker, so concurrent workers (processes,
  Ray tasks, Slurm jobs on a shared file system) cannot corrupt or lose each other's results;
* a run is finished exactly when its record exists; the tables are rebuilt from the records,
  so they can never disagree with them or list a run twice.

A marker whose worker is gone (its pid no longer exists on this host, or — for another
host — its heartbeat is older than :data:`STALE_SECONDS`) means the run was interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scalinglaws.errors import DataError, ScalingLawsError, output_error
from scalinglaws.files import atomic_write_json, atomic_write_text, jsonable

#: Version of the record layout written by :meth:`SweepStore.write_record`.
RECORD_VERSION = 1
#: A marker from another host whose heartbeat is older than this (seconds) is interrupted.
STALE_SECONDS = 180.0
#: Seconds between heartbeats of a running worker.
HEARTBEAT_SECONDS = 2.0


class SweepBusyError(ScalingLawsError):
    """Another ``sweep run`` is already driving this sweep folder."""


# ============================================================================ processes
def process_start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux /proc), which
    tells a live process from a later one that reused its pid; None where unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of stat; fields[0] is field 3 (state)
    except (IndexError, ValueError):  # pragma: no cover
        return None


def process_alive(pid: int, start_ticks: int | None = None) -> bool:
    """True if ``pid`` is a live (not zombie) process on this host — and, when
    ``start_ticks`` is given, the same process that had that start time."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except (OverflowError, ValueError):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    if stat[stat.rfind(")") + 2 :].split()[:1] == ["Z"]:
        return False
    if start_ticks is not None:
        return process_start_ticks(int(pid)) == start_ticks
    return True


def hostname() -> str:
    """This machine's host name (recorded with every marker and record)."""
    return socket.gethostname()


def now() -> float:
    """Seconds since the epoch (records store wall-clock times)."""
    return time.time()


# ============================================================================ the store
class SweepStore:
    """The files of one sweep folder (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.runs_dir = self.folder / "runs"
        self.running_dir = self.folder / "running"
        self.plan_path = self.folder / "plan.toml"
        self.lock_path = self.folder / ".lock"
        #: One sentence per damaged file met while reading (a record, marker or lock file
        #: that is not what this module writes), in the order they were met.
        self.problems: list[str] = []

    def create(self) -> SweepStore:
        """Make the folder and its sub-folders."""
        for d in (self.folder, self.runs_dir, self.running_dir):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise output_error(d, exc, "the sweep folder") from None
        return self

    def exists(self) -> bool:
        """True when the folder looks like a sweep folder (has runs/ or plan.toml)."""
        return self.runs_dir.is_dir() or self.plan_path.is_file()

    # ------------------------------------------------------------------ records
    def record_path(self, run_id: str) -> Path:
        """Where the record of ``run_id`` lives."""
        return self.runs_dir / f"{_safe(run_id)}.json"

    def write_record(self, record: dict[str, Any]) -> Path:
        """Write a finished run's record atomically (replacing an older attempt's)."""
        for key in ("run_id", "status"):
            if key not in record:
                raise DataError(f"a run record needs '{key}', got keys {sorted(record)}")
        rec = {"version": RECORD_VERSION, **record}
        path = self.record_path(record["run_id"])
        atomic_write_json(path, rec)
        return path

    def read_record(self, run_id: str, quarantine: bool = False) -> dict[str, Any] | None:
        """The record of ``run_id``, or None if it has not finished.  With ``quarantine``, a
        damaged record is moved aside (see :meth:`records`) and counts as absent."""
        path = self.record_path(run_id)
        if not quarantine:
            return self._read(path, "record")
        return self._checked(path, "record", record_problem)

    def records(self, quarantine: bool = False) -> dict[str, dict[str, Any]]:
        """Every record in the folder, by run id (temporary files are ignored).

        A damaged record (not UTF-8 JSON, or not the layout :meth:`write_record` writes)
        raises :class:`DataError`; with ``quarantine`` it is renamed ``<name>.corrupt``
        instead, reported in :attr:`problems`, and left out — so its run runs again."""
        out: dict[str, dict[str, Any]] = {}
        if not self.runs_dir.is_dir():
            return out
        for path in sorted(self.runs_dir.glob("*.json")):
            if path.name.startswith("."):
                continue
            if quarantine:
                rec = self._checked(path, "record", record_problem)
            else:
                rec = self._read(path, "record")
            if rec is not None:
                out[str(rec.get("run_id", path.stem))] = rec
        return out

    def _checked(self, path: Path, what: str, problem: Any) -> dict[str, Any] | None:
        """The object in ``path`` if it is readable and ``problem(obj)`` finds nothing wrong;
        else None, with the file moved aside as ``<name>.corrupt`` and the reason reported."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            why = "not UTF-8 text"
        except json.JSONDecodeError as exc:
            why = f"not valid JSON: {exc.msg} at line {exc.lineno}"
        except OSError as exc:
            why = exc.strerror or str(exc)
        else:
            why = problem(data) if isinstance(data, dict) else "not a JSON object"
        if why:
            self._quarantine(path, what, why)
            return None
        return data

    def _quarantine(self, path: Path, what: str, why: str) -> None:
        """Rename a damaged file to ``<name>.corrupt`` (kept for inspection) and say so."""
        target = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, target)
            done = f"moved it to {target.name}"
        except FileNotFoundError:
            return  # another reader moved it first (and reported it)
        except OSError as exc:
            done = f"could not move it aside ({exc.strerror or exc}) and ignored it"
        self.problems.append(
            f"sweep {what} {path} is damaged ({why}); {done}, and its run will run again on resume"
        )

    def _read(self, path: Path, what: str) -> dict[str, Any] | None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"sweep {what} {path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                "it was edited by hand — fix or delete it (deleting a record re-runs the run)"
            ) from None
        if not isinstance(data, dict):
            raise DataError(f"sweep {what} {path} must hold a JSON object")
        return data

    # ------------------------------------------------------------------ markers
    def marker_path(self, run_id: str) -> Path:
        """Where the "started" marker of ``run_id`` lives."""
        return self.running_dir / f"{_safe(run_id)}.json"

    def start(self, run_id: str, **info: Any) -> dict[str, Any]:
        """Write the "started" marker of a run in this process (pid, host, times)."""
        pid = os.getpid()
        marker = {
            "run_id": run_id,
            "pid": pid,
            "pid_start": process_start_ticks(pid),
            "host": hostname(),
            "started_at": now(),
            "heartbeat_at": now(),
            **info,
        }
        atomic_write_json(self.marker_path(run_id), marker)
        return marker

    def heartbeat(self, marker: dict[str, Any], **progress: Any) -> None:
        """Refresh a marker's heartbeat (and progress numbers such as tokens done)."""
        marker.update(progress, heartbeat_at=now())
        atomic_write_json(self.marker_path(marker["run_id"]), marker, durable=False)

    def finish(self, run_id: str) -> None:
        """Remove the marker of a run (after its record is written)."""
        with contextlib.suppress(FileNotFoundError):
            self.marker_path(run_id).unlink()

    def markers(self, quarantine: bool = False) -> dict[str, dict[str, Any]]:
        """Every marker in the folder, by run id.  A marker is advisory: a damaged one
        (unreadable, or a pid, heartbeat or progress number that is not a number) counts as
        absent; with ``quarantine`` it is also renamed ``<name>.corrupt`` and reported in
        :attr:`problems`."""
        out: dict[str, dict[str, Any]] = {}
        if not self.running_dir.is_dir():
            return out
        for path in sorted(self.running_dir.glob("*.json")):
            if path.name.startswith("."):
                continue
            if quarantine:
                marker = self._checked(path, "marker", marker_problem)
            else:
                try:
                    marker = self._read(path, "marker")
                except (DataError, OSError, UnicodeDecodeError):
                    continue
                if marker is not None and marker_problem(marker):
                    continue
            if marker is not None:
                out[str(marker.get("run_id", path.stem))] = marker
        return out

    @staticmethod
    def marker_alive(marker: dict[str, Any], stale_seconds: float = STALE_SECONDS) -> bool:
        """True while the worker of a marker still runs: its pid is alive on this host, or
        (another host) its heartbeat is younger than ``stale_seconds``.  A marker whose
        numbers are not numbers is a dead one."""
        try:
            if marker.get("host") == hostname() and marker.get("pid") is not None:
                return process_alive(int(marker["pid"]), marker.get("pid_start"))
            return now() - float(marker.get("heartbeat_at", 0.0)) < stale_seconds
        except (TypeError, ValueError, OverflowError):
            return False

    # ------------------------------------------------------------------ the driver lock
    @contextlib.contextmanager
    def lock(self, **info: Any) -> Iterator[None]:
        """Hold the folder's driver lock (one ``sweep run`` at a time); the kernel releases
        it when the process dies, even by ``kill -9``.  Raises :class:`SweepBusyError`."""
        import fcntl

        self.create()
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self.driver() or {}
                raise SweepBusyError(
                    f"sweep folder {self.folder} is already being run by pid "
                    f"{holder.get('pid', '?')} on {holder.get('host', '?')}; wait for it, "
                    "stop it, or give another folder (out=FOLDER)",
                    argument="out",
                ) from None
            text = json.dumps({"pid": os.getpid(), "host": hostname(), "started_at": now(), **info})
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the flock

    def driver(self) -> dict[str, Any] | None:
        """Who holds (or last held) the driver lock: pid, host, start time, executor, and
        ``alive`` — whether that process still runs."""
        try:
            text = self.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._bad_lock("not UTF-8 text" if isinstance(exc, ValueError) else str(exc))
        try:
            info = json.loads(text or "{}")
        except json.JSONDecodeError as exc:
            return self._bad_lock(f"not valid JSON: {exc.msg}")
        if not isinstance(info, dict):
            return self._bad_lock("not a JSON object")
        if not info:
            return None
        pid = info.get("pid")
        if not _is_int(pid) or pid <= 0:
            return self._bad_lock(f"its pid is {pid!r}, not a process id")
        alive = info.get("host") == hostname() and process_alive(pid)
        return {**info, "alive": bool(alive)}

    def _bad_lock(self, why: str) -> None:
        """A lock file that a ``sweep run`` did not write: reported, not moved (a running
        driver may hold its flock); the next ``sweep run`` rewrites it."""
        self.problems.append(
            f"sweep lock file {self.lock_path} is damaged ({why}); it was ignored, and the "
            "next 'sweep run' rewrites it"
        )
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def record_problem(rec: dict[str, Any]) -> str:
    """What is wrong with a run record (empty when nothing): a record needs a text
    ``run_id``, ``status`` "ok" or "failed", and a ``result`` (when present) whose final loss
    is a number and whose curve is a list of points with numeric ``step`` and ``tokens``."""
    if not isinstance(rec.get("run_id"), str) or not rec["run_id"]:
        return f"its run_id is {rec.get('run_id')!r}, not a run id"
    if rec.get("status") not in ("ok", "failed"):
        return f"its status is {rec.get('status')!r}, not 'ok' or 'failed'"
    for key in ("attempt", "seconds", "started_at", "finished_at"):
        if rec.get(key) is not None and not _is_number(rec[key]):
            return f"its {key} is {rec[key]!r}, not a number"
    result = rec.get("result")
    if result is None:
        return ""
    if not isinstance(result, dict):
        return "its result is not a JSON object"
    if rec["status"] == "ok" and not _is_number(result.get("final_val_loss")):
        return f"its final_val_loss is {result.get('final_val_loss')!r}, not a number"
    for key in ("n_params_nonembedding", "n_params_total", "tokens_per_second", "epochs"):
        if result.get(key) is not None and not _is_number(result[key]):
            return f"its result's {key} is {result[key]!r}, not a number"
    extra = result.get("extra", {})
    if not isinstance(extra, dict):
        return "its result's extra is not a JSON object"
    if extra.get("tokens_trained") is not None and not _is_number(extra["tokens_trained"]):
        return f"its tokens_trained is {extra['tokens_trained']!r}, not a number"
    curve = result.get("curve", [])
    if not isinstance(curve, list):
        return "its curve is not a list"
    for i, point in enumerate(curve):
        if not isinstance(point, dict):
            return f"curve entry {i} is not a JSON object"
        for key in ("step", "tokens"):
            if not _is_number(point.get(key)):
                return f"curve entry {i} has no numeric '{key}'"
        for key in ("val_loss", "train_loss", "lr"):
            if point.get(key) is not None and not _is_number(point[key]):
                return f"curve entry {i} has a {key} of {point[key]!r}, not a number"
    return ""


def marker_problem(marker: dict[str, Any]) -> str:
    """What is wrong with a "started" marker (empty when nothing): its pid must be a
    positive whole number (or null), its times and progress numbers numbers."""
    pid = marker.get("pid")
    if pid is not None and (not _is_int(pid) or pid <= 0):
        return f"its pid is {pid!r}, not a process id"
    if marker.get("pid_start") is not None and not _is_int(marker["pid_start"]):
        return f"its pid_start is {marker['pid_start']!r}, not a whole number"
    if not _is_number(marker.get("heartbeat_at")):
        return f"its heartbeat_at is {marker.get('heartbeat_at')!r}, not a time"
    for key in ("started_at", "attempt", "tokens", "tokens_per_second", "flops_per_token"):
        if marker.get(key) is not None and not _is_number(marker[key]):
            return f"its {key} is {marker[key]!r}, not a number"
    return ""


def _safe(run_id: str) -> str:
    """Run ids are file names: refuse path separators and dots that would escape the folder."""
    text = str(run_id)
    if not text or "/" in text or "\\" in text or text.startswith(".") or "\x00" in text:
        raise DataError(f"run id {run_id!r} cannot be a file name; use letters, digits, - and _")
    return text


__all__ = [
    "HEARTBEAT_SECONDS",
    "RECORD_VERSION",
    "STALE_SECONDS",
    "SweepBusyError",
    "SweepStore",
    "atomic_write_json",
    "atomic_write_text",
    "hostname",
    "jsonable",
    "marker_problem",
    "process_alive",
    "process_start_ticks",
    "record_problem",
]
