"""Running sweeps: the tables, resuming, a failing run, a crashed worker, and kill -9 of the
whole sweep with nothing lost or duplicated.  Tiny models on a small synthetic corpus.

The scheduling tests run the stub trainer of ``stub_trainer.py`` (the real trainer's signature
and result, no torch): what they test is the runner's, and a worker then costs its start-up
only.  ``test_cli_run_and_status`` trains for real, end to end on the local executor (the Ray
and Slurm executors' real runs are in test_executors.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from scalinglaws.cli import main
from scalinglaws.runs import load_runs
from scalinglaws.sweep.family import ModelFamily
from scalinglaws.sweep.plan import HParams, Plan, load_plan, write_plan
from scalinglaws.sweep.runner import run_sweep, sweep_status
from scalinglaws.sweep.store import SweepStore, process_alive
from stub_trainer import PACE_ENV
from stub_trainer import TRAINER as STUB

CORPUS = "synthetic:markov:size=20k"


def tiny_plan(sizes=(792, 3120), tokens=(640, 1280), **kw) -> Plan:
    """Grid of 1-layer models (8 and 16 wide) for 10-20 steps of 4 x 16 tokens."""
    return Plan(
        kind="grid",
        sizes=sizes,
        tokens=tokens,
        corpus=CORPUS,
        name="tiny",
        family=ModelFamily(n_ctx=16, head_dim=8),
        hparams=HParams(lr=1e-2, batch_size=4, eval_tokens=128, evals_per_run=2, min_steps=5),
        **kw,
    )


def read_records(folder) -> dict[str, dict]:
    return SweepStore(folder).records()


def test_sweep_writes_tables_that_load_runs_reads(tmp_path):
    plan = tiny_plan()
    out = tmp_path / "sweep"
    summary = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    assert summary.ran == 4 and summary.succeeded == 4 and not summary.failed
    records = read_records(out)
    assert sorted(records) == sorted(r.run_id for r in plan.runs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # C follows the chinchilla convention, not 6ND
        runs = load_runs(out / "runs.csv")
    assert runs.column_map["N"] == "N" and runs.column_map["L"] == "loss"
    assert runs.column_map["C"] == "C" and runs.column_map["D"] == "D"
    assert len(runs) == 4 and not runs.has_curves
    by_id = {r.run_id: r for r in plan.runs}
    for rid, N, D, C, L in zip(runs.run_ids, runs.N, runs.D, runs.C, runs.L, strict=True):
        planned, rec = by_id[rid], records[rid]
        assert N == planned.N == rec["result"]["n_params_nonembedding"]
        assert D == planned.D and C == planned.flops_per_token * planned.D
        assert L == pytest.approx(rec["result"]["final_val_loss"], rel=1e-9)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves = load_runs(out / "curves.csv")
    assert curves.column_map["L"] == "val_loss" and curves.column_map["D"] == "tokens"
    assert curves.has_curves and curves.n_runs == 4
    final = curves.final()
    assert dict(zip(final.run_ids, final.L, strict=True)) == pytest.approx(
        dict(zip(runs.run_ids, runs.L, strict=True)), rel=1e-9
    )
    # C grows with D along each curve at the run's own FLOPs per token
    df = curves.df
    for rid, group in df.groupby("run_id"):
        assert list(group["C"]) == pytest.approx(list(by_id[rid].flops_per_token * group["D"]))

    # running it again trains nothing and rewrites nothing
    stamps = {rid: rec["finished_at"] for rid, rec in records.items()}
    again = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    assert again.ran == 0 and again.already_done == 4
    assert {rid: rec["finished_at"] for rid, rec in read_records(out).items()} == stamps
    assert [s.state for s in sweep_status(out).runs] == ["done"] * 4


FLAKY = """
import os, signal
from stub_trainer import train as working_train

def train(config, progress=None):
    if config.d_model == 16 and config.tokens == 1280:
        raise RuntimeError("simulated failure in this run")
    if config.d_model == 8 and config.tokens == 1280:
        os.kill(os.getpid(), signal.SIGKILL)  # the worker dies without a word
    return working_train(config, progress)
"""


def test_failed_runs_recorded_crashed_ones_interrupted_others_finish(tmp_path, monkeypatch):
    (tmp_path / "flaky_trainer.py").write_text(FLAKY)
    monkeypatch.syspath_prepend(str(tmp_path))
    plan = tiny_plan()
    out = tmp_path / "sweep"
    summary = run_sweep(plan, out, workers=2, progress=False, trainer="flaky_trainer:train")
    assert summary.ran == 4 and summary.succeeded == 2
    failed = dict(summary.failed)
    assert len(failed) == 1
    records = read_records(out)
    raised = next(
        r for r in records.values() if r["config"]["d_model"] == 16 and r["status"] != "ok"
    )
    assert raised["error"]["type"] == "RuntimeError"
    assert raised["error"]["message"] == "simulated failure in this run"
    assert "flaky_trainer.py" in raised["error"]["traceback"]
    # a worker killed by a signal trained nothing to keep: the run is interrupted, not failed,
    # leaves no record and runs again on resume
    interrupted = dict(summary.interrupted)
    assert len(interrupted) == 1
    (killed_id, why) = next(iter(interrupted.items()))
    assert "was killed by SIGKILL" in why
    assert killed_id not in records

    # the table holds the two good runs only; status lists the failure with its error
    assert len(load_runs(out / "runs.csv", flops_tolerance=100)) == 2
    states = {s.run_id: s for s in sweep_status(out).runs}
    assert sorted(s.state for s in states.values()) == ["done", "done", "failed", "interrupted"]
    assert "RuntimeError: simulated failure" in states[raised["run_id"]].error

    # without --retry-failed the failed run stays failed and the interrupted one runs again;
    # with it (and a working trainer) the failed one runs again too
    kept = run_sweep(plan, out, workers=2, progress=False, trainer=STUB)
    assert kept.ran == 1 and kept.kept_failed == 1 and kept.succeeded == 1
    retried = run_sweep(plan, out, workers=2, progress=False, retry_failed=True, trainer=STUB)
    assert retried.ran == 1 and retried.succeeded == 1
    records = read_records(out)
    assert all(r["status"] == "ok" for r in records.values())
    assert records[raised["run_id"]]["attempt"] == 2
    assert len(load_runs(out / "runs.csv", flops_tolerance=100)) == 4


def test_kill_9_of_the_whole_sweep_loses_only_runs_in_flight(tmp_path):
    plan = tiny_plan()
    plan_file = write_plan(plan, tmp_path / "plan.toml")
    out = tmp_path / "sweep"
    st = SweepStore(out)
    # the driver in a process of its own, as `scalinglaws sweep run` is (that command has no
    # trainer option, so this one calls run_sweep itself); the stub trains 1 s per 1,000
    # tokens, so finished runs and runs in flight coexist for a while as with real ones
    driver = (
        "import sys; from scalinglaws.sweep.runner import run_sweep; "
        f"run_sweep(sys.argv[1], sys.argv[2], workers=2, progress=False, trainer={STUB!r})"
    )
    cmd = [sys.executable, "-c", driver, str(plan_file), str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), PACE_ENV: "1"}
    proc = subprocess.Popen(
        cmd, start_new_session=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until some runs are done and some in flight
            if proc.poll() is not None:
                pytest.fail(f"the sweep ended before it could be killed: {proc.stderr.read()}")
            if len(st.records()) >= 1 and st.markers():
                break
            time.sleep(0.02)
        else:
            pytest.fail("the sweep never had finished and running runs at the same time")
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and every worker, at once
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc.stderr.close()

    # SIGKILL is delivered at once but a process takes a moment to exit: wait for the workers
    pids = [m["pid"] for m in st.markers().values()]
    deadline = time.monotonic() + 20
    while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)

    before = {rid: json.dumps(rec, sort_keys=True) for rid, rec in st.records().items()}
    assert 1 <= len(before) < 4
    states = {s.run_id: s.state for s in sweep_status(out).runs}
    assert "interrupted" in states.values()  # markers whose workers are dead
    assert all(states[rid] == "done" for rid in before)

    summary = run_sweep(load_plan(plan_file), out, workers=2, progress=False, trainer=STUB)
    assert summary.already_done == len(before)
    assert summary.ran == 4 - len(before) and not summary.failed
    after = st.records()
    assert sorted(after) == sorted(r.run_id for r in plan.runs)  # every run recorded once
    for rid, text in before.items():  # finished runs were not re-run or rewritten
        assert json.dumps(after[rid], sort_keys=True) == text
    ids = [line.split(",")[0] for line in (out / "runs.csv").read_text().splitlines()[1:]]
    assert sorted(ids) == sorted(r.run_id for r in plan.runs)  # no duplicates, none missing
    assert st.markers() == {}
    leftovers = [p.name for p in st.runs_dir.iterdir() if p.name.startswith(".")]
    assert all(name.endswith(".tmp") for name in leftovers)


@pytest.mark.train
@pytest.mark.slow
def test_cli_run_and_status(tmp_path, capsys):
    """The local executor end to end with the real trainer (the [train] extra)."""
    plan = tiny_plan(sizes=(792,), tokens=(640,))
    plan_file = write_plan(plan, tmp_path / "p.toml")
    out = tmp_path / "s"
    code = main(["sweep", "run", str(plan_file), "--out", str(out), "--json"])
    text, err = capsys.readouterr()
    assert code == 0, text + err  # a failed run: its error is in the JSON summary
    summary = json.loads(text)
    assert summary["ran"] == 1 and summary["succeeded"] == 1
    # the table holds the real model's result: its non-embedding parameters are the planned N
    (record,) = read_records(out).values()
    assert "torch_version" in record["result"]["extra"]  # the real trainer ran
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # C follows the chinchilla convention, not 6ND
        runs = load_runs(out / "runs.csv")
    assert runs.N[0] == plan.runs[0].N == record["result"]["n_params_nonembedding"]
    assert runs.L[0] == pytest.approx(record["result"]["final_val_loss"], rel=1e-9)
    code = main(["sweep", "status", str(out)])
    text = capsys.readouterr()[0]
    assert code == 0 and "done" in text and "1 done" in text
    code = main(["sweep", "status", str(out), "--json"])
    data = json.loads(capsys.readouterr()[0])
    assert data["counts"]["done"] == 1 and data["runs"][0]["loss"] > 0
    code = main(["sweep", "tables", str(out)])
    assert code == 0 and "runs.csv" in capsys.readouterr()[0]
    # errors are one sentence and exit 2
    code = main(["sweep", "status", str(tmp_path)])
    err = capsys.readouterr()[1]
    assert code == 2 and err.startswith("error: ") and "is not a sweep folder" in err
    code = main(["sweep", "run", str(plan_file), "--out", str(out), "--executor", "rey"])
    err = capsys.readouterr()[1]
    assert code == 2 and "did you mean 'ray'?" in err
    code = main(["sweep", "run", str(plan_file), "--partition", "gpu"])
    err = capsys.readouterr()[1]
    assert code == 2 and "--partition only applies to --executor slurm, not local" in err


def test_status_of_a_sweep_running_in_another_process(tmp_path):
    """A run's marker with a live pid shows as running, with its progress."""
    plan = tiny_plan(sizes=(792,), tokens=(640,))
    out = tmp_path / "s"
    run_sweep(plan, out, progress=False, trainer=STUB)
    st = SweepStore(out)
    rid = plan.runs[0].run_id
    st.record_path(rid).unlink()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        marker = st.start(rid, attempt=1)
        marker.update(pid=sleeper.pid, pid_start=None, tokens=320)
        st.heartbeat(marker)
        status = sweep_status(out).runs[0]
        assert status.state == "running" and status.fraction == pytest.approx(0.5)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sweep_status(out).runs[0].state == "interrupted"


def test_plan_text_is_readable(tmp_path):
    text = write_plan(tiny_plan(), tmp_path / "p.toml").read_text()
    assert textwrap.dedent(text).startswith("# scalinglaws sweep plan 'tiny' (grid)")
