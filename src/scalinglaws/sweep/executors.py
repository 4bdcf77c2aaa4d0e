"""Where the runs of a sweep execute: local processes, a Ray cluster, or Slurm via submitit.

Every executor has the same small interface, which is all the runner uses::

    with make_executor("local", workers=2) as ex:
        handle = ex.submit(fn, *args)     # start fn(*args) somewhere
        handle.done()                     # finished (or died)?
        handle.result()                   # fn's return value, or WorkerError
        handle.cancel()                   # stop it
    ex.workers                            # how many runs may be in flight at once

* ``local`` (default) — one fresh Python process per run, at most ``workers`` at once
  (default: one per core); functions are passed by import path and arguments as JSON, so
  nothing is pickled.  Each run sets ``torch.set_num_threads(1)`` (one process per core, one
  thread each).  A fresh process per run costs ~2 s of start-up (importing torch) but isolates
  runs completely: a crash or out-of-memory kill is attributed to its own run, and a run's
  memory is returned to the system when it ends.  On Linux a worker dies with its driver
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so ``kill -9`` of the driver leaves no orphan
  training on: its runs are interrupted and run again on resume.
* ``ray`` — joins a running cluster (``address``) or starts a local one on the loopback
  interface (every service of it listens on 127.0.0.1 only, no dashboard UI) whose private
  (0700) temporary folder lives in the sweep folder; Ray's AF_UNIX socket paths must stay
  under 107 bytes, so when that folder's path is too long a short folder under the system
  temp dir is used instead (and reported in :attr:`Executor.note`).  One CPU per task.  An
  ``address`` where nothing listens fails within seconds.
* ``slurm`` — one submitit job per run (partition, time limit, GPUs); ``cluster="local"`` runs
  the same jobs through submitit's local executor (what the tests use), ``"debug"`` in-process.

Workers write their own record and heartbeat into the sweep folder, so for Ray clusters and
Slurm that folder must be on a file system the workers share; each run's record is also
returned to the driver, which writes it if the worker could not.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from scalinglaws.errors import PlanError, ScalingLawsError, did_you_mean

EXECUTORS: tuple[str, ...] = ("local", "ray", "slurm")
#: Longest AF_UNIX socket path (Linux sun_path is 108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 107
#: What Ray appends to its temp dir for its longest socket path:
#: "/session_2025-01-01_00-00-00_123456_1234567/sockets/plasma_store".
RAY_SOCKET_SUFFIX = 64
#: Environment variable telling a local worker its driver's pid (it dies with that process).
PARENT_PID_ENV = "SCALINGLAWS_WORKER_PARENT_PID"
#: ``prctl`` option that sets the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


class WorkerError(ScalingLawsError):
    """A worker died or failed outside the training code (crash, kill, lost node, timeout).
    ``killed``: the worker was killed or lost (a signal, a crashed or lost node, preemption)
    rather than failing on its own, so the run is interrupted, not failed."""

    def __init__(self, message: str, detail: str = "", killed: bool = False) -> None:
        super().__init__(message)
        self.detail = detail
        self.killed = killed


#: Ray's exceptions for a task whose worker process or node died under it (max_retries=0),
#: as opposed to RayTaskError, which wraps an exception the task raised itself.
RAY_LOST_WORKER = frozenset(
    {
        "WorkerCrashedError",
        "NodeDiedError",
        "LocalRayletDiedError",
        "OwnerDiedError",
        "ObjectLostError",
        "ObjectFetchTimedOutError",
        "ReferenceCountingAssertionError",
        "OutOfMemoryError",
    }
)


class Handle(Protocol):
    """A run in flight."""

    def done(self) -> bool: ...

    def result(self) -> Any: ...

    def cancel(self) -> None: ...


class Executor:
    """Base class: ``submit``, ``shutdown`` and a context manager; see the module docstring."""

    name = "base"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        #: Something the user should know about this executor (e.g. where Ray's files are).
        self.note = ""

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "") -> Handle:
        """Start ``fn(*args)``; ``name`` labels it (a run id) in logs."""
        raise NotImplementedError  # pragma: no cover

    def shutdown(self, cancel: bool = False) -> None:
        """Release the executor's resources (cancelling runs still in flight if asked)."""

    def describe(self) -> str:
        """One line: the executor and its parallelism."""
        return f"{self.name} executor, {self.workers} worker(s)"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.shutdown(cancel=exc_type is not None)


# ============================================================================ local processes
def _reference(fn: Callable[..., Any]) -> str:
    """``"module:qualname"`` of a top-level function (what a fresh process can import)."""
    ref = f"{fn.__module__}:{fn.__qualname__}"
    if fn.__module__ == "__main__" or "<" in fn.__qualname__:
        raise PlanError(
            f"the local executor runs importable top-level functions only, got {ref}; move it "
            "into a module"
        )
    return ref


def _import(ref: str) -> Callable[..., Any]:
    module, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``).  True when set; False where unsupported (not Linux, no
    libc) — a no-op there.  The signal follows the parent *thread* that started this process,
    and the setting survives ``exec`` (so set it first thing in the child)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # another libc, or no prctl
        return False


def die_with_parent(expected_parent: int | None) -> None:
    """Make this worker die with the driver whose pid is ``expected_parent`` (None: do
    nothing).  Sets the parent-death signal, then closes the race where the driver died
    before that: if this process's parent is no longer ``expected_parent`` (it was re-parented
    to init or a sub-reaper), exit at once — nothing has started yet."""
    if expected_parent is None:
        return
    if set_parent_death_signal() and os.getppid() != expected_parent:
        os.kill(os.getpid(), signal.SIGKILL)  # as if the signal had come: nothing has run


def _expected_parent() -> int | None:
    """The driver pid the local executor passed in :data:`PARENT_PID_ENV` (removed from the
    environment, so the worker's own children do not inherit it); None when absent."""
    text = os.environ.pop(PARENT_PID_ENV, "")
    return int(text) if text.strip().isdigit() else None


def worker_main(argv: list[str]) -> int:
    """Entry point of a local worker process: ``python -m scalinglaws.sweep.executors
    MODULE:FUNCTION ARGS.json RESULT.json`` — call the function on the JSON arguments and
    write its JSON result (or the exception) atomically; exit status 0, or 1 on an exception.
    Started by a :class:`LocalExecutor`, it dies with that driver (:func:`die_with_parent`)."""
    die_with_parent(_expected_parent())
    from scalinglaws.sweep.store import atomic_write_json

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ref, args_path, result_path = argv
    args = json.loads(Path(args_path).read_text(encoding="utf-8"))
    try:
        value = _import(ref)(*args)
    except Exception as exc:  # reported to the driver; KeyboardInterrupt just ends the process
        atomic_write_json(
            result_path,
            {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()},
        )
        return 1
    atomic_write_json(result_path, {"value": value})
    return 0


class _ProcessHandle:
    def __init__(
        self, ref: str, args: tuple[Any, ...], scratch: Path, log: Path | None, env: dict
    ) -> None:
        fd, args_path = tempfile.mkstemp(prefix="args-", suffix=".json", dir=scratch)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(list(args), fh)
        self._args_path = Path(args_path)
        self._result_path = Path(args_path.replace("args-", "result-"))
        cmd = [sys.executable, "-m", "scalinglaws.sweep.executors", ref, args_path]
        cmd.append(str(self._result_path))
        out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        finally:
            if log is not None:
                out.close()  # type: ignore[union-attr]
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def done(self) -> bool:
        return self.process.poll() is not None

    def result(self) -> Any:
        code = self.process.wait()
        try:
            outcome = json.loads(self._result_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            outcome = None
        finally:
            for path in (self._args_path, self._result_path):
                with contextlib.suppress(OSError):
                    path.unlink()
        if outcome is not None and "value" in outcome:
            return outcome["value"]
        if outcome is not None:
            raise WorkerError(f"the worker raised {outcome['error']}", outcome.get("traceback", ""))
        if code < 0:
            try:
                why = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                why = f"was killed by signal {-code}"
        else:
            why = f"exited with code {code} before reporting"
        where = f"; see {self.log}" if self.log is not None else ""
        raise WorkerError(f"the worker process (pid {self.pid}) {why}{where}")

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class LocalExecutor(Executor):
    """Runs each task in a fresh Python process (``python -m scalinglaws.sweep.executors``),
    at most ``workers`` at once (the runner keeps the count; default one per core).

    The function must be an importable top-level function and its arguments and result
    JSON values: nothing is pickled, and the caller's script is never re-imported (so no
    ``if __name__ == "__main__"`` guard is needed).  The child gets this process's
    ``sys.path`` as PYTHONPATH.  With ``log_dir``, a task's output goes to
    ``<log_dir>/<name>.log`` (removed when empty).  On Linux every worker is killed
    (SIGKILL) when the thread that submitted it ends — in practice, when the driver dies,
    even by ``kill -9``; see :func:`die_with_parent`.
    """

    name = "local"

    def __init__(self, workers: int | None = None, log_dir: str | Path | None = None) -> None:
        super().__init__(workers or os.cpu_count() or 1)
        self._scratch = Path(tempfile.mkdtemp(prefix="scalinglaws-local-"))
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self._handles: list[_ProcessHandle] = []
        self._env = dict(os.environ)
        paths = [p for p in sys.path if p]
        self._env["PYTHONPATH"] = os.pathsep.join(paths)

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "") -> Handle:
        log = None
        if self._log_dir is not None and name:
            self._log_dir.mkdir(parents=True, exist_ok=True)
            log = self._log_dir / f"{name}.log"
        self._env[PARENT_PID_ENV] = str(os.getpid())  # the worker dies with this process
        handle = _ProcessHandle(_reference(fn), args, self._scratch, log, self._env)
        self._handles = [h for h in self._handles if not h.done()] + [handle]
        return handle

    def shutdown(self, cancel: bool = False) -> None:
        for h in self._handles:
            if cancel:
                h.cancel()
            else:
                h.process.wait()
        self._handles = []
        if self._log_dir is not None and self._log_dir.is_dir():
            for log in self._log_dir.glob("*.log"):
                with contextlib.suppress(OSError):
                    if log.stat().st_size == 0:
                        log.unlink()
            with contextlib.suppress(OSError):
                self._log_dir.rmdir()  # only when empty
        shutil.rmtree(self._scratch, ignore_errors=True)


# ============================================================================ Ray
def _ray_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


class _RayHandle:
    def __init__(self, ray: Any, ref: Any) -> None:
        self._ray, self.ref = ray, ref

    def done(self) -> bool:
        ready, _ = self._ray.wait([self.ref], timeout=0)
        return bool(ready)

    def result(self) -> Any:
        try:
            return self._ray.get(self.ref)
        except Exception as exc:  # RayTaskError, WorkerCrashedError, NodeDiedError, ...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            name = type(exc).__name__
            lost = name in RAY_LOST_WORKER
            raise WorkerError(
                ("the Ray worker was killed or lost" if lost else "the Ray task failed")
                + f" ({name}: {first})",
                str(exc),
                killed=lost,
            ) from None

    def cancel(self) -> None:
        with contextlib.suppress(Exception):
            self._ray.cancel(self.ref, force=True)


def ray_temp_dir(sweep_folder: str | Path) -> tuple[str, str]:
    """Ray's temporary folder for a local cluster: ``<sweep>/.ray`` when its socket paths fit
    in :data:`MAX_SOCKET_PATH` bytes, else a new short folder under the system temp dir.
    Returns (folder, note) — the note says why a short folder was used (empty otherwise)."""
    preferred = Path(sweep_folder).resolve() / ".ray"
    if len(str(preferred)) + RAY_SOCKET_SUFFIX <= MAX_SOCKET_PATH:
        preferred.mkdir(parents=True, exist_ok=True)
        return str(preferred), ""
    short = tempfile.mkdtemp(prefix="slray-", dir="/tmp" if Path("/tmp").is_dir() else None)
    note = (
        f"Ray's temporary files are in {short}, not {preferred}: that path is "
        f"{len(str(preferred))} bytes and Ray's socket paths must stay under "
        f"{MAX_SOCKET_PATH} bytes"
    )
    return short, note


#: Ray's switch for "this machine may be part of a cluster"; when it is off Ray takes the
#: loopback address as the node's address (its default on macOS and Windows).
RAY_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def _ray_on_loopback() -> Any:
    """While the local cluster starts, keep Ray on 127.0.0.1.

    ``ray.init(_node_ip_address="127.0.0.1")`` alone is not enough: on Linux Ray rewrites a
    loopback address to the machine's network address, and then its services (GCS, raylet,
    workers, agents, monitor) listen on every interface.  With :data:`RAY_CLUSTER_ENV` off Ray
    keeps 127.0.0.1 and every service binds to it.  Ray reads that variable when it is first
    imported, so the module constant is set too; the processes it starts inherit the variable.
    Both are restored afterwards.  ``tests/test_reliability_ray.py`` lists the sockets."""
    try:
        from ray._private import ray_constants  # private: checked by the socket test
    except ImportError:  # pragma: no cover - another Ray layout; the check after init guards
        ray_constants = None
    old_env = os.environ.get(RAY_CLUSTER_ENV)
    old_flag = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[RAY_CLUSTER_ENV] = "0"
    if ray_constants is not None:
        ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop(RAY_CLUSTER_ENV, None)
        else:
            os.environ[RAY_CLUSTER_ENV] = old_env
        if ray_constants is not None and old_flag is not None:
            ray_constants.ENABLE_RAY_CLUSTER = old_flag


def _probe_ray_address(address: str, timeout: float = 3.0) -> None:
    """Fail fast when nothing listens at a ``host:port`` (or ``ray://host:port``) address:
    ``ray.init`` would retry for minutes.  Other forms (``"auto"``, ...) are left to Ray."""
    import socket

    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PlanError(
            f"no Ray cluster answers at address={address!r} ({reason}): start one with "
            "`ray start --head`, or give no address for a local cluster",
            argument="address",
        ) from None


class RayExecutor(Executor):
    """Runs each task as a Ray task with one CPU.  ``address`` joins a cluster (e.g.
    ``"auto"`` or ``"ray://head:10001"``); without it a local cluster is started on
    127.0.0.1 with ``workers`` CPUs and shut down at the end."""

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        sweep_folder: str | Path = ".",
    ) -> None:
        try:
            import ray
        except ImportError:
            raise PlanError(
                "the ray executor needs Ray; install it with pip install 'scalinglaws[ray]'"
            ) from None
        self._ray = ray
        self._started = False
        self._scratch: str | None = None
        super().__init__(workers or 1)
        note = ""
        if ray.is_initialized():
            pass
        elif address:
            _probe_ray_address(address)
            try:
                ray.init(address=address, logging_level="WARNING", log_to_driver=False)
            except Exception as exc:
                raise PlanError(
                    f"cannot join the Ray cluster at address={address!r} ({exc}); start one "
                    "with `ray start --head`, or give no address for a local cluster",
                    argument="address",
                ) from None
            self._started = True
        else:
            temp, note = ray_temp_dir(sweep_folder)
            if note:
                self._scratch = temp
                note += " (removed when the sweep ends)"
            with _ray_on_loopback():
                ray.init(
                    num_cpus=workers or os.cpu_count() or 1,
                    _node_ip_address="127.0.0.1",
                    include_dashboard=False,
                    _temp_dir=temp,
                    logging_level="WARNING",
                    log_to_driver=False,
                    configure_logging=True,
                )
            self._started = True
            # Ray makes its temp folder world-writable (0777, no sticky bit): keep it private.
            # (It is 0777 for the seconds Ray takes to start; the sockets in it are reachable
            # only by whoever can traverse the folder.)
            os.chmod(temp, 0o700)
            node_ip = ray.util.get_node_ip_address()
            if node_ip != "127.0.0.1":
                self.shutdown()
                raise PlanError(
                    f"Ray started the local cluster on {node_ip}, not on 127.0.0.1, so its "
                    "services would be reachable from the network; start a cluster yourself "
                    "and pass its address instead"
                )
        self.note = note
        self.workers = max(1, int(workers or ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_call)
        self._handles: list[_RayHandle] = []

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "") -> Handle:
        options = {"name": name} if name else {}
        handle = _RayHandle(self._ray, self._remote.options(**options).remote(fn, args))
        self._handles.append(handle)
        return handle

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            for h in self._handles:
                h.cancel()
        self._handles = []
        if self._started:
            self._ray.shutdown()
            self._started = False
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


# ============================================================================ Slurm (submitit)
class _JobHandle:
    def __init__(self, job: Any) -> None:
        self.job = job

    def done(self) -> bool:
        try:
            return bool(self.job.done())
        except Exception:  # the scheduler could not be queried: try again at the next poll
            return False

    def result(self) -> Any:
        try:
            return self.job.result()
        except Exception as exc:  # FailedJobError, UncompletedJobError (timeout, preemption)
            text = str(exc).strip()
            last = text.splitlines()[-1] if text else type(exc).__name__
            # a job that left no output was killed, preempted or lost with its node -- unless
            # it ran out of its time limit, which would happen again on resume
            lost = type(exc).__name__ == "UncompletedJobError" and "TIMEOUT" not in text
            raise WorkerError(
                f"job {self.job.job_id} did not complete ({type(exc).__name__}: {last[:300]})",
                text,
                killed=lost,
            ) from None

    def cancel(self) -> None:
        with contextlib.suppress(Exception):
            self.job.cancel(check=False)


class SlurmExecutor(Executor):
    """One submitit job per run.  ``cluster`` None means a real Slurm cluster (``sbatch``
    must exist); ``"local"`` runs the jobs as local processes through submitit (for tests and
    laptops), ``"debug"`` in this process.  ``time_min`` is the job time limit in minutes;
    ``workers`` caps jobs in flight (default: no cap beyond the scheduler's)."""

    name = "slurm"

    def __init__(
        self,
        folder: str | Path,
        workers: int | None = None,
        partition: str | None = None,
        time_min: float = 60,
        gpus: int = 0,
        cpus_per_task: int = 1,
        mem_gb: float | None = None,
        cluster: str | None = None,
    ) -> None:
        try:
            import submitit
        except ImportError:
            raise PlanError(
                "the slurm executor needs submitit; install it with pip install "
                "'scalinglaws[slurm]'"
            ) from None
        if cluster not in (None, "slurm", "local", "debug"):
            raise PlanError(
                f"unknown submitit cluster {cluster!r}; use 'slurm' (the default), 'local' or "
                "'debug'"
            )
        if cluster in (None, "slurm") and submitit.AutoExecutor.which() != "slurm":
            raise PlanError(
                "no Slurm cluster here (sbatch was not found); run on a Slurm login node, or "
                "give slurm_cluster='local' to run the jobs through submitit on this machine",
                argument="slurm_cluster",
            )
        if not time_min or time_min <= 0:
            raise PlanError(
                f"time_min must be a positive number of minutes, got {time_min!r}",
                argument="time_min",
            )
        if workers is None:  # a real scheduler queues the jobs; a local one must not flood
            workers = 1_000_000 if cluster in (None, "slurm") else (os.cpu_count() or 1)
        super().__init__(workers)
        self.cluster = cluster or "slurm"
        self.folder = Path(folder)
        self._ex = submitit.AutoExecutor(folder=self.folder / "%j", cluster=self.cluster)
        params: dict[str, Any] = {
            "timeout_min": int(max(1, round(time_min))),
            "cpus_per_task": int(cpus_per_task),
            "name": "scalinglaws-sweep",
        }
        if gpus:
            params["gpus_per_node"] = int(gpus)
        if mem_gb:
            params["mem_gb"] = math.ceil(mem_gb)  # 0.5 GB must not become 0 (= all memory)
        if partition:
            params["slurm_partition"] = str(partition)
        self._ex.update_parameters(**params)
        self._handles: list[_JobHandle] = []

    def describe(self) -> str:
        cap = "no cap" if self.workers >= 1_000_000 else f"at most {self.workers} at once"
        return f"slurm executor (submitit, cluster '{self.cluster}'), {cap}"

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "") -> Handle:
        if name:
            self._ex.update_parameters(name=name)
        handle = _JobHandle(self._ex.submit(fn, *args))
        self._handles.append(handle)
        return handle

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            for h in self._handles:
                h.cancel()
        self._handles = []


# ============================================================================ factory
def check_executor(
    name: str,
    workers: int | None = None,
    *,
    address: str | None = None,
    partition: str | None = None,
    gpus: int = 0,
    mem_gb: float | None = None,
    slurm_cluster: str | None = None,
    time_min: float | None = None,
    **_: Any,
) -> str:
    """Validate an executor name and its options (before any work starts); returns the
    canonical name.  Options that do not apply to the executor raise :class:`PlanError`."""
    key = str(name).strip().lower()
    if key not in EXECUTORS:
        raise PlanError(f"unknown executor {name!r}{did_you_mean(key, EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise PlanError(f"workers must be a whole number >= 1, got {workers!r}", argument="workers")
    if time_min is not None and not (
        isinstance(time_min, (int, float)) and math.isfinite(time_min) and time_min > 0
    ):
        raise PlanError(
            f"time_min must be a positive number of minutes, got {time_min!r}",
            argument="time_min",
        )
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise PlanError(f"gpus must be a whole number >= 0, got {gpus!r}", argument="gpus")
    if mem_gb is not None and not (
        isinstance(mem_gb, (int, float)) and math.isfinite(mem_gb) and mem_gb > 0
    ):
        raise PlanError(
            f"mem_gb must be a positive number of gigabytes, got {mem_gb!r}", argument="mem_gb"
        )
    slurm_only = {
        "time_min": time_min,
        "partition": partition,
        "gpus": gpus or None,
        "mem_gb": mem_gb,
        "slurm_cluster": slurm_cluster,
    }
    if key != "slurm":
        used = [arg for arg, value in slurm_only.items() if value]
        if used:
            verb = "applies" if len(used) == 1 else "apply"
            raise PlanError(
                f"{', '.join(used)} only {verb} to executor='slurm', not {key}",
                argument=used[0],
            )
    if key != "ray" and address:
        raise PlanError(f"address only applies to executor='ray', not {key}", argument="address")
    return key


def make_executor(
    name: str = "local",
    workers: int | None = None,
    *,
    sweep_folder: str | Path = ".",
    address: str | None = None,
    partition: str | None = None,
    time_min: float | None = None,
    gpus: int = 0,
    mem_gb: float | None = None,
    slurm_cluster: str | None = None,
) -> Executor:
    """Build the named executor (``"local"``, ``"ray"`` or ``"slurm"``); see the module
    docstring.  Options that do not apply to the chosen executor raise :class:`PlanError`."""
    key = check_executor(
        name,
        workers,
        address=address,
        partition=partition,
        gpus=gpus,
        mem_gb=mem_gb,
        slurm_cluster=slurm_cluster,
        time_min=time_min,
    )
    if key == "local":
        return LocalExecutor(workers, log_dir=Path(sweep_folder) / "logs")
    if key == "ray":
        return RayExecutor(workers, address=address, sweep_folder=sweep_folder)
    return SlurmExecutor(
        Path(sweep_folder) / "slurm",
        workers=workers,
        partition=partition,
        time_min=60.0 if time_min is None else time_min,
        gpus=gpus,
        mem_gb=mem_gb,
        cluster=slurm_cluster,
    )


__all__ = [
    "EXECUTORS",
    "Executor",
    "Handle",
    "LocalExecutor",
    "RayExecutor",
    "SlurmExecutor",
    "WorkerError",
    "check_executor",
    "die_with_parent",
    "make_executor",
    "ray_temp_dir",
    "set_parent_death_signal",
    "worker_main",
]


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
