"""Issue 12: local workers die with their driver (``kill -9`` of ``sweep run`` leaves no
orphan training on), the run summary accounts for every planned run, and ``sweep plan
--center fit:PATH`` reads PATH from the working directory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scalinglaws import ChinchillaLaw, Fit
from scalinglaws.cli import main
from scalinglaws.sweep.plan import load_plan, write_plan
from scalinglaws.sweep.runner import SweepSummary, run_sweep, sweep_status
from scalinglaws.sweep.store import SweepStore, hostname, process_alive
from stub_trainer import PACE_ENV
from stub_trainer import TRAINER as STUB
from test_runner import tiny_plan

LINUX = sys.platform.startswith("linux")
HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def _wait_for(condition, seconds: float, step: float = 0.05) -> bool:
    """Poll ``condition()`` until it is true or ``seconds`` have passed; its last value."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def _start_driver(plan_file: Path, out: Path, pace: str) -> subprocess.Popen:
    """``run_sweep`` in a process of its own (as ``scalinglaws sweep run`` is), with the stub
    trainer at ``pace`` seconds per 1,000 tokens."""
    driver = (
        "import sys; from scalinglaws.sweep.runner import run_sweep; "
        f"run_sweep(sys.argv[1], sys.argv[2], workers=2, progress=False, trainer={STUB!r})"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), PACE_ENV: pace}
    return subprocess.Popen(
        [sys.executable, "-c", driver, str(plan_file), str(out)],
        start_new_session=True,  # its own process group: the cleanup below can reach orphans
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


# ============================================================== workers die with their driver
@pytest.mark.skipif(not LINUX, reason="the parent-death signal is Linux's")
def test_kill_9_of_the_driver_kills_its_workers_and_resume_finishes(tmp_path, monkeypatch):
    plan = tiny_plan()
    plan_file = write_plan(plan, tmp_path / "plan.toml")
    out = tmp_path / "sweep"
    st = SweepStore(out)
    proc = _start_driver(plan_file, out, pace="20")  # 640 tokens: 13 s, so runs are mid-way
    try:
        if not _wait_for(lambda: proc.poll() is not None or st.markers(), 60):
            pytest.fail("no worker started within 60 s")
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be killed: {proc.stderr.read()}")
        os.kill(proc.pid, signal.SIGKILL)  # the driver only, not its process group
        proc.wait(10)
        markers = st.markers()
        assert markers, "the killed worker's started marker must remain"
        # every worker dies with its driver: the parent-death signal, not this test, kills it
        workers = {rid: (m["pid"], m.get("pid_start")) for rid, m in markers.items()}
        gone = _wait_for(lambda: not any(process_alive(*w) for w in workers.values()), 10)
        assert gone, f"workers outlived their driver: {workers}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):  # orphans, should a check above fail
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()

    states = {s.run_id: s.state for s in sweep_status(out).runs}
    for rid in workers:
        assert states[rid] == "interrupted"
    assert not st.records().keys() & workers.keys()

    monkeypatch.setenv(PACE_ENV, "0.05")
    summary = run_sweep(load_plan(plan_file), out, workers=2, progress=False, trainer=STUB)
    assert not summary.failed and not summary.interrupted and not summary.elsewhere
    assert sum(summary.counts().values()) == summary.planned == len(plan.runs)
    assert summary.already_done + summary.succeeded == len(plan.runs)
    records = st.records()
    assert sorted(records) == sorted(r.run_id for r in plan.runs)
    assert all(records[rid]["attempt"] == 2 for rid in workers)  # ran again from the start
    assert [s.state for s in sweep_status(out).runs] == ["done"] * len(plan.runs)


@pytest.mark.skipif(not LINUX, reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("same_parent", [True, False])
def test_a_worker_whose_driver_died_before_it_started_exits_at_once(same_parent):
    """The race where the driver dies before the worker sets its parent-death signal: the
    worker sees that its parent is not the driver any more and kills itself."""
    expected = os.getpid() if same_parent else 1 << 22  # a pid that is not its parent
    code = (
        "from scalinglaws.sweep.executors import die_with_parent; "
        f"die_with_parent({expected}); print('alive')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    if same_parent:
        assert done.returncode == 0 and done.stdout.strip() == "alive", done.stderr
    else:
        assert done.returncode == -signal.SIGKILL and done.stdout == ""


# ============================================================== the summary adds up
def test_summary_counts_add_up_with_a_run_finished_by_an_earlier_drivers_worker(tmp_path):
    plan = tiny_plan()
    out = tmp_path / "sweep"
    run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    st = SweepStore(out)
    adopted_id, rerun_id = plan.runs[0].run_id, plan.runs[1].run_id
    saved = st.read_record(adopted_id)
    st.record_path(adopted_id).unlink()
    st.record_path(rerun_id).unlink()
    # a live worker of an earlier driver holds one run; it finishes while this driver waits
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    marker = st.start(adopted_id, attempt=1)
    marker.update(pid=sleeper.pid, pid_start=None)
    st.heartbeat(marker)
    saved.update(pid=sleeper.pid, host=hostname())

    def finish_elsewhere() -> None:
        time.sleep(1.0)
        st.write_record(saved)
        st.finish(adopted_id)
        sleeper.kill()

    thread = threading.Thread(target=finish_elsewhere)
    thread.start()
    try:
        summary = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    finally:
        thread.join()
        sleeper.wait()
    assert summary.already_done == 2 and summary.ran == 1 and summary.succeeded == 1
    assert summary.adopted == [(adopted_id, f"ok by pid {sleeper.pid} on {hostname()}")]
    assert summary.elsewhere == [] and summary.pending == []
    counts = summary.counts()
    assert sum(counts.values()) == summary.planned == 4
    assert counts["adopted"] == 1
    assert summary.to_dict()["counts"] == counts


def _summary(tmp_path: Path, **kw) -> SweepSummary:
    base = {
        "folder": tmp_path / "s",
        "planned": 6,
        "already_done": 1,
        "kept_failed": 0,
        "ran": 2,
        "succeeded": 1,
        "failed": [("r2", "RuntimeError: boom")],
        "wall_seconds": 3.0,
        "executor": "local",
        "runs_csv": tmp_path / "s" / "runs.csv",
        "curves_csv": tmp_path / "s" / "curves.csv",
        "adopted": [("r3", "ok by pid 11 on nodeA")],
        "elsewhere": [("r4", "pid 4242 on nodeB")],
        "pending": ["r5"],
    }
    return SweepSummary(**{**base, **kw})


def test_summary_counts_every_planned_run_and_the_cli_names_the_other_worker(
    tmp_path, monkeypatch, capsys
):
    summary = _summary(tmp_path, planned=7, interrupted=[("r6", "killed")], ran=3)
    counts = summary.counts()
    assert sum(counts.values()) == summary.planned
    assert counts == {
        "done_before": 1,
        "failed_before": 0,
        "succeeded": 1,
        "failed": 1,
        "interrupted": 1,
        "adopted": 1,
        "elsewhere": 1,
        "pending": 1,
    }
    data = summary.to_dict()
    assert data["elsewhere"] == [{"run_id": "r4", "worker": "pid 4242 on nodeB"}]
    assert data["pending"] == ["r5"] and data["counts"] == counts

    plan_file = write_plan(tiny_plan(), tmp_path / "plan.toml")
    clean = _summary(tmp_path, failed=[], ran=1)
    monkeypatch.setattr("scalinglaws.sweep.runner.run_sweep", lambda *a, **k: clean)
    code = main(["sweep", "run", str(plan_file)])
    text, err = capsys.readouterr()
    first = text.splitlines()[0]
    assert "6 planned, 1 already done, ran 1 (1 ok, 0 failed)" in first
    assert "1 finished by an earlier driver's worker, 1 still running elsewhere, 1 pending" in first
    held = [line for line in text.splitlines() if line.startswith("left to another")]
    assert held == ["left to another driver's live worker(s): r4 (pid 4242 on nodeB)"]
    assert code == 1 and "the sweep is incomplete" in err and "live worker" in err


# ============================================================== --center fit:PATH
TINY = ["--n-ctx", "16", "--batch-size", "4", "--min-steps", "2", "--corpus", "synthetic:markov"]


def _fit_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json(path)
    return path


def test_center_fit_on_the_command_line_is_relative_to_the_working_directory(
    tmp_path, monkeypatch, capsys
):
    fit = _fit_file(tmp_path / "fits" / "fit.json")
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "p.toml").write_text("[sweep]\nbudgets = [1e13]\n")
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "plan", "plans/p.toml", "--center", "fit:fits/fit.json", *TINY]
    code = main([*args, "-o", "elsewhere/out.toml", "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(text)["plan"]["sweep"]["center"] == f"fit:{fit}"
    # the written plan names the fit absolutely, so it loads from any folder
    monkeypatch.chdir(plans)
    assert load_plan(tmp_path / "elsewhere" / "out.toml").center == f"fit:{fit}"
    # the plan file's folder is not where a command-line path is looked for
    monkeypatch.chdir(tmp_path)
    _fit_file(plans / "fits" / "only-here.json")
    code = main(["sweep", "plan", "plans/p.toml", "--center", "fit:fits/only-here.json", *TINY])
    err = capsys.readouterr()[1]
    assert code != 0 and str(tmp_path / "fits" / "only-here.json") in err


def test_center_fit_inside_a_plan_file_is_relative_to_that_file(tmp_path, monkeypatch, capsys):
    plans = tmp_path / "plans"
    fit = _fit_file(plans / "fit.json")
    (plans / "p.toml").write_text('[sweep]\nbudgets = [1e13]\ncenter = "fit:fit.json"\n')
    monkeypatch.chdir(tmp_path)  # not the plan's folder
    code = main(["sweep", "plan", "plans/p.toml", *TINY, "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(text)["plan"]["sweep"]["center"] == "fit:fit.json"
    assert load_plan(plans / "p.toml").runs  # resolved against plans/
    assert fit.is_file() and not (tmp_path / "fit.json").exists()


def test_center_option_help_names_both_bases(capsys):
    code = main(["sweep", "plan", "--help"])
    text = " ".join(capsys.readouterr()[0].split())
    assert code == 0
    assert "relative to the working directory" in text and "plan file" in text
