"""Executors behind one interface: local processes, Ray (a local cluster on loopback) and
Slurm through submitit's local mode; plus their option checks."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import pytest

from scalinglaws.errors import PlanError
from scalinglaws.sweep.executors import (
    MAX_SOCKET_PATH,
    RAY_SOCKET_SUFFIX,
    LocalExecutor,
    WorkerError,
    make_executor,
    ray_temp_dir,
)


def wait(handle, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not handle.done():
        assert time.monotonic() < deadline, "the task did not finish in time"
        time.sleep(0.02)


# -- local ------------------------------------------------------------------------------------


def test_local_executor_runs_importable_functions_in_fresh_processes(tmp_path):
    with LocalExecutor(workers=2, log_dir=tmp_path / "logs") as ex:
        assert ex.workers == 2
        square_root = ex.submit(math.sqrt, 16.0, name="sqrt")
        pid = ex.submit(__import__("os").getpid)
        wait(square_root)
        assert square_root.result() == 4.0
        wait(pid)
        assert pid.result() != __import__("os").getpid()  # another process
    assert not (tmp_path / "logs").exists()  # empty logs are removed


def test_local_executor_reports_exceptions_exits_and_signals(tmp_path):
    import json
    import os

    with LocalExecutor(workers=3, log_dir=tmp_path / "logs") as ex:
        raised = ex.submit(json.loads, "{not json", name="raises")
        exited = ex.submit(os._exit, 3, name="exits")
        aborted = ex.submit(os.abort, name="aborts")
        for h in (raised, exited, aborted):
            wait(h)
        with pytest.raises(WorkerError, match=r"the worker raised JSONDecodeError: Expecting"):
            raised.result()
        with pytest.raises(WorkerError, match="exited with code 3 before reporting"):
            exited.result()
        with pytest.raises(WorkerError, match="was killed by SIGABRT"):
            aborted.result()


def test_local_executor_cancels(tmp_path):
    with LocalExecutor(workers=1) as ex:
        sleeper = ex.submit(time.sleep, 60)
        t0 = time.monotonic()
        sleeper.cancel()
        assert sleeper.done() and time.monotonic() - t0 < 10
        with pytest.raises(WorkerError, match="killed by SIGTERM"):
            sleeper.result()


def test_local_executor_refuses_functions_it_cannot_import():
    with LocalExecutor(workers=1) as ex:
        with pytest.raises(PlanError, match="importable top-level functions only"):
            ex.submit(lambda: 1)


def test_executor_options_are_checked():
    with pytest.raises(PlanError, match="unknown executor 'slurmm'; did you mean 'slurm'?"):
        make_executor("slurmm")
    with pytest.raises(PlanError, match="^partition, gpus only apply to executor='slurm'"):
        make_executor("local", partition="gpu", gpus=1)
    with pytest.raises(PlanError, match="^address only applies to executor='ray', not local"):
        make_executor("local", address="auto")
    with pytest.raises(PlanError, match="^workers must be a whole number >= 1"):
        make_executor("local", workers=0)


def test_errors_name_the_argument_and_the_cli_names_its_flag(capsys):
    """A Python caller is told about ``time_min``, not ``--time``; the CLI about ``--time``."""
    from scalinglaws.cli import main

    with pytest.raises(PlanError) as err:
        make_executor("slurm", time_min=-1)
    assert str(err.value) == "time_min must be a positive number of minutes, got -1"
    assert err.value.argument == "time_min"
    with pytest.raises(PlanError) as err:
        make_executor("local", partition="gpu", gpus=1)
    assert "--" not in str(err.value) and err.value.argument == "partition"
    assert main(["sweep", "run", "plan.toml", "--time", "-1"]) == 2
    err_text = capsys.readouterr().err
    assert err_text == "error: --time must be a positive number of minutes, got -1.0\n"
    assert main(["sweep", "run", "plan.toml", "--partition", "gpu", "--gpus", "1"]) == 2
    err_text = capsys.readouterr().err
    assert err_text == "error: --partition, --gpus only apply to --executor slurm, not local\n"


def test_ray_temp_dir_stays_under_the_socket_path_limit(tmp_path):
    short, note = ray_temp_dir(tmp_path / "s")
    if len(str((tmp_path / "s").resolve() / ".ray")) + RAY_SOCKET_SUFFIX <= MAX_SOCKET_PATH:
        assert short == str((tmp_path / "s").resolve() / ".ray") and note == ""
    else:  # pytest's own temporary folders can be long already
        assert len(short) + RAY_SOCKET_SUFFIX <= MAX_SOCKET_PATH and "107 bytes" in note
        Path(short).rmdir()
    deep = tmp_path / ("x" * 60) / "sweep"
    path, note = ray_temp_dir(deep)
    assert len(path) + RAY_SOCKET_SUFFIX <= MAX_SOCKET_PATH
    assert "107 bytes" in note and str(deep.resolve()) in note
    Path(path).rmdir()


# -- Slurm through submitit -------------------------------------------------------------------


@pytest.mark.slurm
def test_slurm_needs_a_cluster_or_local_mode(tmp_path):
    import submitit  # the [slurm] extra, which `make test` installs: without it this fails

    if submitit.AutoExecutor.which() == "slurm":  # pragma: no cover - on a real cluster
        pytest.skip("this machine has Slurm")
    with pytest.raises(PlanError, match="no Slurm cluster here.*slurm_cluster='local'"):
        make_executor("slurm", sweep_folder=tmp_path)
    with pytest.raises(PlanError, match="unknown submitit cluster 'lokal'"):
        make_executor("slurm", sweep_folder=tmp_path, slurm_cluster="lokal")


@pytest.mark.slurm
@pytest.mark.train
@pytest.mark.slow
def test_sweep_on_slurm_through_submitit_local(tmp_path):
    """The Slurm executor end to end, training for real (the [slurm] and [train] extras, which
    `make test` installs: without them this fails; deselect with -m "not slurm")."""
    from scalinglaws.runs import load_runs
    from scalinglaws.sweep.runner import run_sweep
    from test_runner import tiny_plan

    plan = tiny_plan(sizes=(792, 3120), tokens=(640,))
    out = tmp_path / "sweep"
    summary = run_sweep(
        plan, out, executor="slurm", slurm_cluster="local", workers=2, time_min=5, progress=False
    )
    assert summary.ran == 2 and summary.succeeded == 2, summary.failed
    assert (out / "slurm").is_dir()  # submitit's job files live in the sweep folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = load_runs(out / "runs.csv")
    assert sorted(runs.run_ids) == sorted(r.run_id for r in plan.runs)
    # resuming on another executor skips what is done
    again = run_sweep(plan, out, executor="local", progress=False)
    assert again.ran == 0 and again.already_done == 2


# -- Ray --------------------------------------------------------------------------------------


@pytest.mark.ray
@pytest.mark.train
@pytest.mark.slow
def test_sweep_on_a_local_ray_cluster(tmp_path):
    """The Ray executor end to end, training for real (the [ray] and [train] extras, which
    `make test` installs: without them this fails; deselect with -m "not ray")."""
    import ray

    from scalinglaws.sweep.runner import run_sweep
    from scalinglaws.sweep.store import SweepStore
    from test_runner import tiny_plan

    plan = tiny_plan()  # four runs on two CPUs: workers write their records concurrently
    out = tmp_path / "sweep"
    summary = run_sweep(plan, out, executor="ray", workers=2, progress=False)
    assert summary.ran == 4 and summary.succeeded == 4, summary.failed
    records = SweepStore(out).records()
    assert sorted(records) == sorted(r.run_id for r in plan.runs)
    assert all(r["executor"] == "ray" and r["status"] == "ok" for r in records.values())
    assert SweepStore(out).markers() == {}
    lines = (out / "runs.csv").read_text().splitlines()
    assert len(lines) == 5 and len({line.split(",")[0] for line in lines[1:]}) == 4
    assert not ray.is_initialized()  # the local cluster was shut down
