"""Reliability audit (issue 11) of the sweep folder: tables never emptied by missing records,
disk-full and killed workers leave runs interrupted (not failed), and damaged sweep state is
reported, moved aside and re-run instead of crashing ``sweep status`` / ``sweep tables``."""

from __future__ import annotations

import errno
import functools
import json
import os

import pytest

import scalinglaws.sweep.runner as runner_mod
import scalinglaws.sweep.store as store_mod
from scalinglaws.cli import main
from scalinglaws.errors import output_error
from scalinglaws.sweep.runner import run_sweep, sweep_status
from scalinglaws.sweep.store import SweepStore
from stub_trainer import TRAINER as STUB
from test_runner import tiny_plan


def _sweep(tmp_path, **kw):
    out = tmp_path / "sweep"
    plan = tiny_plan(**kw)
    summary = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    assert summary.succeeded == len(plan.runs)
    return plan, out


def _cli(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ============================================================== 1. tables are never emptied
@pytest.mark.parametrize("damage", ["missing", "file"])
def test_tables_refuse_when_the_runs_folder_is_gone(tmp_path, capsys, damage):
    plan, out = _sweep(tmp_path, sizes=(792,), tokens=(640, 1280))
    before = (out / "runs.csv").read_text(), (out / "curves.csv").read_text()
    (out / "runs").rename(tmp_path / "runs-away")
    if damage == "file":
        (out / "runs").write_text("not a folder")
    code, text, err = _cli(["sweep", "tables", out], capsys)
    assert code != 0 and "wrote" not in text
    assert err.startswith("error: ") and err.count("\n") == 1
    assert str(out / "runs") in err and ("is missing" in err or "is a file" in err)
    assert ((out / "runs.csv").read_text(), (out / "curves.csv").read_text()) == before


def test_tables_refuse_to_empty_a_table_and_name_the_missing_records(tmp_path, capsys):
    plan, out = _sweep(tmp_path, sizes=(792,), tokens=(640, 1280))
    before = (out / "runs.csv").read_text()
    st = SweepStore(out)
    ids = [r.run_id for r in plan.runs]
    st.record_path(ids[0]).unlink()
    st.record_path(ids[1]).write_bytes(b"\x00\xff\xfe binary")
    code, text, err = _cli(["sweep", "tables", out], capsys)
    assert code != 0 and "wrote" not in text
    assert "refusing to replace" in err and ids[0] in err and ids[1] in err
    assert (out / "runs.csv").read_text() == before
    # a table that keeps some runs is rewritten (deleting a record to re-run it is allowed)
    assert st.record_path(ids[1]).with_suffix(".json.corrupt").exists()  # moved aside
    plan2, out2 = _sweep(tmp_path / "sweep2", sizes=(792,), tokens=(640, 1280))
    SweepStore(out2).record_path(ids[0]).unlink()
    code, text, err = _cli(["sweep", "tables", out2], capsys)
    assert code == 0 and "wrote" in text
    assert len((out2 / "runs.csv").read_text().splitlines()) == 2


# ============================================================== 2. disk full, killed worker
ENOSPC_TRAINER = """
import errno
import scalinglaws.sweep.store as store_mod
from scalinglaws.errors import output_error
from stub_trainer import train as working_train

real = store_mod.atomic_write_json

def full(path, obj, *args, **kwargs):
    if path.parent.name == "runs":
        raise output_error(path, OSError(errno.ENOSPC, "No space left on device"))
    return real(path, obj, *args, **kwargs)

def train(config, progress=None):
    if config.tokens == 1280:
        store_mod.atomic_write_json = full  # the disk fills up while this run trains
    return working_train(config, progress)
"""

KILLED_TRAINER = """
import os, signal
from stub_trainer import train as working_train

def train(config, progress=None):
    if config.tokens == 1280:
        os.kill(os.getpid(), signal.SIGKILL)
    return working_train(config, progress)
"""


def _disk_full_in_driver(monkeypatch):
    real = store_mod.atomic_write_json

    def full(path, obj, *args, **kwargs):
        if path.parent.name == "runs":
            raise output_error(path, OSError(errno.ENOSPC, "No space left on device"))
        return real(path, obj, *args, **kwargs)

    monkeypatch.setattr(store_mod, "atomic_write_json", full)


@pytest.mark.parametrize("trainer_text", [ENOSPC_TRAINER, KILLED_TRAINER], ids=["enospc", "kill"])
def test_disk_full_or_killed_worker_leaves_the_run_interrupted(
    tmp_path, monkeypatch, capsys, trainer_text
):
    (tmp_path / "bad_trainer.py").write_text(trainer_text)
    monkeypatch.syspath_prepend(str(tmp_path))
    enospc = trainer_text is ENOSPC_TRAINER
    plan = tiny_plan(sizes=(792,), tokens=(640, 1280))
    out = tmp_path / "sweep"
    victim = next(r.run_id for r in plan.runs if r.D == 1280)
    with monkeypatch.context() as m:
        if enospc:
            _disk_full_in_driver(m)  # the driver cannot write the record either
        summary = run_sweep(plan, out, workers=2, progress=False, trainer="bad_trainer:train")
    assert not summary.failed and summary.succeeded == 1
    assert [rid for rid, _ in summary.interrupted] == [victim]
    why = summary.interrupted[0][1]
    assert str(SweepStore(out).record_path(victim)) in why  # names the record
    assert ("No space left on device" in why) if enospc else ("SIGKILL" in why)
    assert SweepStore(out).read_record(victim) is None  # not recorded as failed
    states = {s.run_id: s.state for s in sweep_status(out).runs}
    assert states[victim] == "interrupted"

    # the CLI says so and exits non-zero while the run is unfinished
    with monkeypatch.context() as m:
        if enospc:
            _disk_full_in_driver(m)
        m.setattr(
            runner_mod,
            "run_sweep",
            functools.partial(run_sweep, trainer="bad_trainer:train", workers=1),
        )
        from scalinglaws.sweep.plan import write_plan

        plan_file = write_plan(plan, tmp_path / "p.toml")
        code, text, err = _cli(["sweep", "run", plan_file, "--out", out], capsys)
    assert code == 1 and f"interrupted: {victim}" in text and "interrupted" in err

    # a plain resume (disk freed, worker not killed) trains it again and completes the sweep
    again = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    assert again.ran == 1 and again.succeeded == 1 and not again.interrupted
    assert {s.state for s in sweep_status(out).runs} == {"done"}
    assert SweepStore(out).records()[victim]["attempt"] >= 2


def test_sweep_run_exits_non_zero_while_failed_runs_remain(tmp_path, monkeypatch, capsys):
    plan, out = _sweep(tmp_path, sizes=(792,), tokens=(640,))
    st = SweepStore(out)
    rid = plan.runs[0].run_id
    rec = st.read_record(rid)
    st.write_record({**rec, "status": "failed", "error": {"type": "X", "message": "boom"}})
    monkeypatch.setattr(runner_mod, "run_sweep", functools.partial(run_sweep, trainer=STUB))
    from scalinglaws.sweep.plan import write_plan

    plan_file = write_plan(plan, tmp_path / "p.toml")
    code, text, err = _cli(["sweep", "run", plan_file, "--out", out, "--no-progress"], capsys)
    assert code == 1 and "--retry-failed" in err


# ============================================================== 3. damaged sweep state
def test_damaged_records_markers_and_lock_are_reported_quarantined_and_rerun(tmp_path, capsys):
    plan, out = _sweep(tmp_path)
    st = SweepStore(out)
    a, b, c, d = (r.run_id for r in plan.runs)
    st.record_path(a).write_bytes(b"\x89PNG\x00\xff binary garbage")
    rec = json.loads(st.record_path(b).read_text())
    del rec["result"]["curve"][0]["step"]
    st.record_path(b).write_text(json.dumps(rec))
    st.record_path(c).unlink()
    marker = st.start(c, attempt=1)
    st.marker_path(c).write_text(json.dumps({**marker, "pid": "abc"}))
    marker = st.start(d, attempt=1)
    st.marker_path(d).write_text(json.dumps({**marker, "heartbeat_at": "soon", "host": "x"}))
    st.lock_path.write_bytes(b"\xff\xfe garbage")

    code, text, err = _cli(["sweep", "status", out], capsys)
    assert code == 0, err
    for path in (st.record_path(a), st.record_path(b), st.marker_path(c), st.marker_path(d)):
        assert str(path) in err
        assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    assert "no numeric 'step'" in err and "'abc'" in err and "'soon'" in err
    assert str(st.lock_path) in err
    states = {s.run_id: s.state for s in sweep_status(out).runs}
    assert states == {a: "pending", b: "pending", c: "pending", d: "done"}

    code, text, err = _cli(["sweep", "tables", out], capsys)
    assert code == 0 and "wrote" in text
    ids = [line.split(",")[0] for line in (out / "runs.csv").read_text().splitlines()[1:]]
    assert ids == [d]

    again = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    assert again.ran == 3 and again.succeeded == 3 and again.already_done == 1
    assert {s.state for s in sweep_status(out).runs} == {"done"}


@pytest.mark.parametrize(
    "content", [b'{"pid": null, "host": "h"}', b"garbage", b'{"pid": "abc"}', b"[1, 2]"]
)
def test_a_damaged_lock_file_does_not_crash(tmp_path, content):
    plan, out = _sweep(tmp_path, sizes=(792,), tokens=(640,))
    st = SweepStore(out)
    st.lock_path.write_bytes(content)
    status = sweep_status(out)
    assert status.driver is None
    assert any(str(st.lock_path) in p for p in status.problems)
    with st.lock():  # a new driver takes it over and rewrites it
        assert st.driver()["pid"] == os.getpid()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("executor", "options", "words"),
    [
        pytest.param("ray", {}, "the Ray worker was killed or lost (WorkerCrashedError",
                     marks=pytest.mark.ray, id="ray"),
        pytest.param("slurm", {"slurm_cluster": "local", "time_min": 5},
                     "did not complete (UncompletedJobError", marks=pytest.mark.slurm,
                     id="slurm"),
    ],
)  # fmt: skip
def test_a_killed_cluster_worker_leaves_the_run_interrupted(
    tmp_path, monkeypatch, executor, options, words
):
    """kill -9 of the Ray worker (WorkerCrashedError) or the Slurm job (submitit's local
    cluster: UncompletedJobError, no timeout) training a run: not the run's fault."""
    (tmp_path / "bad_trainer.py").write_text(KILLED_TRAINER)
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    paths = [str(tmp_path), tests_dir, os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    monkeypatch.syspath_prepend(str(tmp_path))
    plan = tiny_plan(sizes=(792,), tokens=(640, 1280))
    out = tmp_path / "sweep"
    victim = next(r.run_id for r in plan.runs if r.D == 1280)
    summary = run_sweep(
        plan, out, executor=executor, workers=2, progress=False, trainer="bad_trainer:train",
        **options,
    )  # fmt: skip
    assert not summary.failed and summary.succeeded == 1
    assert [rid for rid, _ in summary.interrupted] == [victim]
    assert words in summary.interrupted[0][1]
    assert SweepStore(out).read_record(victim) is None
    assert {s.run_id: s.state for s in sweep_status(out).runs}[victim] == "interrupted"
