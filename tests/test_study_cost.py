"""benchmarks/study_cost.py: the two designs cover the same (N, D) points, their FLOPs are
counted as a hand count says (the cooldown design's trunks once), and the smoke configuration
runs end to end through the real runner and prints a finite FLOPs ratio."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "study_cost.py"
_SPEC = importlib.util.spec_from_file_location("study_cost_benchmark", _PATH)
study_cost = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = study_cost  # dataclasses look their module up there
_SPEC.loader.exec_module(study_cost)


def _designs():
    a = study_cost.isoflop_design(smoke=True)
    return a, study_cost.cooldown_design(a)


def _hand_count(a, b) -> tuple[float, float]:
    """FLOPs of A (Σ f·D) and of B (per size: a trunk to the decay start of its largest D,
    then each D's last 20%, from the last whole step before 0.8·D), from A's runs alone."""
    tps = a.hparams.batch_size * a.family.n_ctx
    flops_a = sum(r.flops_per_token * r.D for r in a.runs)
    sizes: dict[tuple[int, int], list] = {}
    for r in a.runs:
        sizes.setdefault((r.config.n_layer, r.config.d_model), []).append(r)
    flops_b = 0.0
    for runs in sizes.values():
        f = runs[0].flops_per_token
        starts = [int(0.8 * r.D // tps) * tps for r in runs]
        flops_b += f * max(starts) + sum(f * (r.D - s) for r, s in zip(runs, starts, strict=True))
    return flops_a, flops_b


def test_cooldown_design_covers_the_isoflop_points_with_one_trunk_per_size():
    a, b = _designs()
    points = {(r.config.n_layer, r.config.d_model, r.D) for r in a.runs}
    branches = [r for r in b.runs if r.role == "branch"]
    trunks = [r for r in b.runs if r.role == "trunk"]
    assert {(r.config.n_layer, r.config.d_model, r.D) for r in branches} == points
    assert len(branches) == len(a.runs) == 6
    assert len(trunks) == len({p[:2] for p in points}) == 4
    assert {r.budget for r in branches} == set(a.budgets)  # each branch keeps its budget
    assert all(r.config.schedule == "wsd" for r in branches)
    assert all(r.config.schedule == "cosine" for r in a.runs)
    flops_a, flops_b = _hand_count(a, b)
    assert a.flops_spent == pytest.approx(flops_a, rel=1e-12)
    assert b.flops_spent == pytest.approx(flops_b, rel=1e-12)
    # sizes trained at two budgets save; sizes trained once cost the same in both designs
    assert b.flops_spent < a.flops_spent
    assert sum(r.C for r in branches) == pytest.approx(a.flops_spent, rel=1e-12)


@pytest.mark.train
@pytest.mark.slow
def test_smoke_run_prints_the_table_and_a_finite_ratio(tmp_path, capsys):
    pytest.importorskip("torch")
    from scalinglaws.sweep.runner import run_sweep

    out = tmp_path / "sweeps"
    assert study_cost.main(["--smoke", "--out", str(out), "--bootstrap", "10"]) == 0
    text = capsys.readouterr().out
    a, b = _designs()
    ratio = re.search(r"FLOPs ratio cooldown / isoflop at the same \(N, D\) grid: (\S+)", text)
    assert ratio is not None, text
    value = float(ratio.group(1))
    assert math.isfinite(value) and value == pytest.approx(b.flops_spent / a.flops_spent, abs=6e-4)
    assert re.search(r"^verdict: ", text, re.M)
    assert re.search(r"^isoflop +6 ", text, re.M) and re.search(r"^cooldown +10 ", text, re.M)
    assert "6 points: mean" in text  # the WSD - cosine loss gap at every shared (N, D)
    # what the runner counted: the trunks once (re-running trains nothing)
    for plan, folder in ((a, "isoflop"), (b, "cooldown")):
        again = run_sweep(plan, out / folder, workers=1, progress=False)
        assert again.ran == 0 and again.already_done == len(plan.runs)
        assert again.flops_spent == pytest.approx(plan.flops_spent, rel=1e-12)


def test_demo_isoflop_design_reuses_the_committed_runs_and_is_measured(tmp_path):
    plan = study_cost.isoflop_design(smoke=False)
    o = study_cost.run_design("isoflop", plan, tmp_path / "a", 2, study_cost.DEMO_RUNS)
    assert o.reused == len(plan.runs) == 20 and o.trained_seconds == 0.0  # nothing trained
    assert o.flops == pytest.approx(plan.flops_spent, rel=1e-12)
    study_cost.measure(o, plan, n_boot=20)
    assert not o.notes
    for width in (o.n_width, o.l_width, o.n_width2, o.l_width2):
        assert 0 < width < 10
    assert 0 < o.bt_mean <= o.bt_max < 0.2  # approach 3 on the top budget's five runs
    # another plan (lr 0.02: other configs, other run ids) reuses none of the committed runs
    other = plan.with_changes(hparams=study_cost.replace(plan.hparams, lr=0.02))
    assert not study_cost.reuse_committed(other, tmp_path / "b", study_cost.DEMO_RUNS)


def test_verdict_needs_equal_precision_and_reports_the_ratio():
    def outcome(flops, n_width, l_width):
        o = study_cost.Outcome("x", flops, 0.0, flops, 0.0, 0, table=None)
        o.n_width, o.l_width = n_width, l_width
        return o

    a = outcome(100.0, 0.5, 0.1)
    ratio, equal, text = study_cost.verdict(a, outcome(40.0, 0.54, 0.1))
    assert ratio == 0.4 and equal and "PASS" in text  # within the 10% allowance
    ratio, equal, text = study_cost.verdict(a, outcome(60.0, 0.4, 0.09))
    assert ratio == 0.6 and equal and "FAIL" in text  # more precise, but too dear
    ratio, equal, text = study_cost.verdict(a, outcome(40.0, 0.6, 0.1))
    assert not equal and "not reached" in text  # cheap, but less precise
    _, equal, text = study_cost.verdict(a, outcome(40.0, math.nan, 0.1))
    assert not equal and "unknown" in text
