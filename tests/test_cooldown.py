"""Cooldown plans (Hägele et al. 2024): one constant-LR trunk per model size with checkpoints,
and a WSD branch per token budget resumed from the trunk at its decay start.  The plan's
structure, branches equal to from-scratch WSD runs, FLOPs counted once, a missing checkpoint
re-running its trunk, and kill -9 of the driver mid-trunk then resume."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scalinglaws.cli import main
from scalinglaws.errors import PlanError
from scalinglaws.sweep.family import ModelFamily
from scalinglaws.sweep.plan import HParams, Plan, load_plan, write_plan
from scalinglaws.sweep.runner import checkpoint_path, run_sweep, sweep_status
from scalinglaws.sweep.store import SweepStore, process_alive
from scalinglaws.sweep.train import lr_at

CORPUS = "synthetic:markov:size=20k"
TPS = 4 * 16  # batch_size x n_ctx
LINUX = sys.platform.startswith("linux")


def cooldown_plan(tokens=(640, 1280, 2560), sizes=(792,), **hp) -> Plan:
    """One 1x8 model (792 parameters), branches at 10, 20 and 40 steps of 64 tokens."""
    hparams = dict(lr=1e-2, batch_size=4, eval_tokens=128, evals_per_run=2, min_steps=5)
    return Plan(
        kind="cooldown",
        sizes=sizes,
        tokens=tokens,
        corpus=CORPUS,
        name="cool",
        family=ModelFamily(n_ctx=16, head_dim=8),
        hparams=HParams(**{**hparams, **hp}),
    )


def _wait_for(condition, seconds: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


# -- the plan ----------------------------------------------------------------------------------


def test_cooldown_plan_has_one_trunk_per_size_and_a_branch_per_budget():
    plan = cooldown_plan(sizes=(792, 3120))
    trunks = [r for r in plan.runs if r.role == "trunk"]
    branches = [r for r in plan.runs if r.role == "branch"]
    assert len(trunks) == 2 and len(branches) == 6
    for trunk in trunks:
        mine = [b for b in branches if b.trunk_id == trunk.run_id]
        assert [b.D for b in mine] == [640, 1280, 2560]
        # decay over the last 20%: starts at 512, 1024, 2048 tokens -> steps 8, 16, 32
        assert [b.resume_step for b in mine] == [8, 16, 32]
        assert trunk.save_steps == (8, 16, 32) and trunk.D == 32 * TPS
        assert trunk.config.schedule == "constant"
        for b in mine:
            c = b.config
            assert (c.schedule, c.decay_fraction, c.decay_shape) == ("wsd", 0.2, "linear")
            assert c.warmup_tokens == trunk.config.warmup_tokens  # one warmup per size
            assert c.lr == trunk.config.lr and c.seed == trunk.config.seed
            # the branch is the trunk at every step up to its checkpoint, and decays after it
            for step in range(1, b.resume_step + 1):
                assert lr_at(step * TPS, c) == lr_at(step * TPS, trunk.config)
            assert lr_at((b.resume_step + 1) * TPS, c) < c.lr
            assert lr_at(b.D, c) == pytest.approx(0.1 * c.lr)
            assert b.C == b.flops_per_token * b.D  # the compute of the from-scratch run
            assert b.flops_spent == b.flops_per_token * (b.D - b.resume_step * TPS)
    # the plan's cost: each trunk once, each branch only after its checkpoint
    f = {t.run_id: t.flops_per_token for t in trunks}
    expected = sum(t.C for t in trunks) + sum(
        f[b.trunk_id] * (b.D - b.resume_step * TPS) for b in branches
    )
    assert plan.flops_spent == pytest.approx(expected, rel=1e-12)
    from_scratch = sum(b.C for b in branches)
    assert plan.flops_spent < from_scratch  # 1.31x cheaper here; more with more budgets
    assert len({r.run_id for r in plan.runs}) == 8


def test_cooldown_plan_round_trips_and_rejects_what_cannot_share_a_trunk(tmp_path, capsys):
    plan = cooldown_plan(decay_shape="1-sqrt")
    path = write_plan(plan, tmp_path / "cool.toml")
    back = load_plan(path)
    assert main(["sweep", "plan", str(path)]) == 0
    words = " ".join(capsys.readouterr()[0].split())
    assert "Cooldown: 1 constant-lr trunk(s) with a WSD branch per D" in words
    assert back.kind == "cooldown" and back.hparams.schedule == "wsd"
    assert [r.run_id for r in back.runs] == [r.run_id for r in plan.runs]
    assert [r.role for r in back.runs] == ["trunk", "branch", "branch", "branch"]
    with pytest.raises(PlanError, match="schedule must be 'wsd'"):
        cooldown_plan(schedule="constant")
    with pytest.raises(PlanError, match="no constant-lr steps to share"):
        cooldown_plan(decay_fraction=1.0).runs  # noqa: B018


# -- running it ------------------------------------------------------------------------------


@pytest.mark.train
def test_branches_resume_from_the_right_checkpoint_and_flops_count_once(tmp_path):
    from scalinglaws.sweep.train import train

    plan = cooldown_plan(tokens=(640, 2560))  # a trunk and two branches
    out = tmp_path / "sweep"
    summary = run_sweep(plan, out, workers=2, progress=False)
    assert summary.succeeded == 3 and not summary.failed and not summary.pending
    records = SweepStore(out).records()
    trunk = next(r for r in plan.runs if r.role == "trunk")
    assert records[trunk.run_id]["result"]["extra"]["tokens_trained"] == 32 * TPS
    for b in (r for r in plan.runs if r.role == "branch"):
        rec = records[b.run_id]
        cd = rec["cooldown"]
        assert cd["trunk_id"] == trunk.run_id
        assert cd["step"] == cd["resumed_from_step"] == b.resume_step
        assert cd["tokens"] == b.resume_step * TPS
        assert cd["checkpoint"] == f"checkpoints/{trunk.run_id}/step{b.resume_step}.pt"
        assert cd["flops_spent"] == b.flops_per_token * (b.D - b.resume_step * TPS)
        assert rec["result"]["extra"]["tokens_trained"] == b.D
        assert rec["result"]["curve"][-1]["step"] == b.steps
    # a branch is the from-scratch WSD run, bit for bit (same weights, batches, lr)
    last = plan.runs[-1]
    scratch = train(last.config)
    assert records[last.run_id]["result"]["final_val_loss"] == scratch.final_val_loss
    # the summary counts the trunk once and the branches from their checkpoints on
    assert summary.flops_spent == pytest.approx(plan.flops_spent, rel=1e-12)
    # the trunk is not a point of the law: runs.csv has the three branches at their own D
    import pandas as pd

    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["D"]) == [640, 2560]
    assert list(runs["C"]) == pytest.approx([b.C for b in plan.runs[1:]])
    planned = json.loads((out / "planned.json").read_text())
    assert [r["role"] for r in planned["runs"]] == ["trunk", "branch", "branch"]

    # a branch whose checkpoint is gone re-runs its (finished) trunk, then itself
    store = SweepStore(out)
    checkpoint_path(store, trunk.run_id, 8).unlink()
    store.record_path(plan.runs[1].run_id).unlink()
    again = run_sweep(plan, out, workers=2, progress=False)
    assert again.ran == 2 and again.succeeded == 2 and again.already_done == 1
    assert sum(again.counts().values()) == again.planned == 3
    rec = SweepStore(out).records()[plan.runs[1].run_id]
    assert rec["cooldown"]["step"] == 8 and rec["status"] == "ok"
    assert checkpoint_path(store, trunk.run_id, 8).is_file()


@pytest.mark.train
@pytest.mark.skipif(not LINUX, reason="the parent-death signal is Linux's")
def test_kill_9_of_the_driver_mid_trunk_then_resume_completes(tmp_path):
    # a trunk of 1,200 steps (a few seconds) with checkpoints at steps 80, 400 and 1,200
    plan = cooldown_plan(tokens=(100 * TPS, 500 * TPS, 1500 * TPS), evals_per_run=2)
    trunk = plan.runs[0]
    assert trunk.role == "trunk" and trunk.save_steps == (80, 400, 1200)
    plan_file = write_plan(plan, tmp_path / "cool.toml")
    out = tmp_path / "sweep"
    store = SweepStore(out)
    first = checkpoint_path(store, trunk.run_id, 80)
    driver = (
        "import sys; from scalinglaws.sweep.runner import run_sweep; "
        "run_sweep(sys.argv[1], sys.argv[2], workers=2, progress=False)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-c", driver, str(plan_file), str(out)],
        start_new_session=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not _wait_for(lambda: proc.poll() is not None or first.is_file(), 120):
            pytest.fail("the trunk wrote no checkpoint within 120 s")
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be killed: {proc.stderr.read()}")
        os.kill(proc.pid, signal.SIGKILL)  # mid-trunk: only its first checkpoint exists
        proc.wait(10)
        markers = store.markers()
        assert trunk.run_id in markers and trunk.run_id not in store.records()
        workers = [(m["pid"], m.get("pid_start")) for m in markers.values()]
        assert _wait_for(lambda: not any(process_alive(*w) for w in workers), 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    states = {s.run_id: s.state for s in sweep_status(out).runs}
    assert states[trunk.run_id] == "interrupted"
    killed_at = max(
        k for k in trunk.save_steps if checkpoint_path(store, trunk.run_id, k).is_file()
    )
    assert killed_at < 1200

    summary = run_sweep(load_plan(plan_file), out, workers=2, progress=False)
    assert not summary.failed and not summary.interrupted and not summary.pending
    assert sum(summary.counts().values()) == summary.planned == 4
    records = store.records()
    assert all(records[r.run_id]["status"] == "ok" for r in plan.runs)
    t = records[trunk.run_id]
    assert t["attempt"] == 2 and t["cooldown"]["resumed_from_step"] == killed_at
    assert t["result"]["extra"]["tokens_trained"] == 1200 * TPS
    for b in plan.runs[1:]:
        assert records[b.run_id]["cooldown"]["step"] == b.resume_step
    # the trunk counted once, in full, however many times it was started
    assert summary.flops_spent == pytest.approx(plan.flops_spent, rel=1e-12)
    assert len(Path(out / "runs.csv").read_text().splitlines()) == 1 + 3  # the branches
