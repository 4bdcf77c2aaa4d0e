"""Sweep plans: FLOP arithmetic, log spacing and centring, the shape rule, the hyperparameter
rule, plan files, and every bad-plan message (no training here)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scalinglaws.allocation import allocate
from scalinglaws.cli import main
from scalinglaws.errors import PlanError
from scalinglaws.flops import Architecture, flops_per_token
from scalinglaws.presets import get_preset
from scalinglaws.sweep.family import ModelFamily, non_embedding_params
from scalinglaws.sweep.plan import HParams, Plan, load_plan, plan_from_dict, write_plan


def gpt_arch(cfg) -> Architecture:
    """The trained model's architecture, rebuilt independently of the family module."""
    return Architecture(
        n_layer=cfg.n_layer,
        d_model=cfg.d_model,
        n_heads=cfg.n_head,
        vocab_size=cfg.vocab_size,
        n_ctx=cfg.n_ctx,
        norm_gains=True,
    )


ISO = dict(budgets=(1e13, 3e13, 1e14), sizes_per_budget=5, convention="chinchilla")


# -- FLOP arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize("convention", ["chinchilla", "6N", "kaplan", "palm", "6N-total"])
def test_isoflop_flops_are_exactly_flops_per_token_times_tokens(convention):
    plan = Plan(**{**ISO, "convention": convention})
    assert len(plan.runs) == 15
    tps = plan.hparams.batch_size * plan.family.n_ctx
    for r in plan.runs:
        f = flops_per_token(gpt_arch(r.config), convention)
        assert r.flops_per_token == f
        assert r.C == f * r.D  # exactly, not approximately
        assert r.config.flops_per_token == f  # the trainer records C with the same count
        assert r.D % tps == 0 and r.D == r.config.tokens
        # D is C/f rounded to whole steps, so C is off its budget by at most half a step
        assert abs(r.C - r.budget) <= 0.5 * tps * f * (1 + 1e-12)
        assert r.convention == convention


def test_six_n_convention_is_6ND_and_centres_at_20_tokens_per_parameter():
    plan = Plan(**{**ISO, "convention": "6N"})
    for C in ISO["budgets"]:
        # with f = 6N the centre solves C = 6 N (20 N): N* = sqrt(C / 120)
        assert plan.optimum(C) == pytest.approx(math.sqrt(C / 120.0), rel=1e-9)
    for r in plan.runs:
        assert r.C == 6.0 * r.N * r.D


def test_sizes_are_log_spaced_and_centred_on_the_optimum():
    plan = Plan(**{**ISO, "spread": 16.0})
    targets = plan.targets()
    for C in ISO["budgets"]:
        t = np.array([n for (c, n, _) in targets if c == C])
        assert len(t) == 5
        steps = np.diff(np.log(t))
        np.testing.assert_allclose(steps, math.log(16.0) / 4, rtol=1e-12)  # evenly in log N
        assert t[-1] / t[0] == pytest.approx(16.0, rel=1e-12)
        centre = plan.optimum(C)
        assert math.exp(np.log(t).mean()) == pytest.approx(centre, rel=1e-12)  # centred
        # the centre has 20 tokens per parameter under the plan's own FLOP count
        k = float(plan.flops_ratio(centre)[0])
        assert k * 20.0 * centre**2 == pytest.approx(C, rel=0.05)
        built = [r for r in plan.runs if r.budget == C]
        assert [r.N for r in built] == sorted(r.N for r in built)
        for r, target in zip(built, t, strict=True):
            assert 1 / 1.5 <= r.N / target <= 1.5


def test_preset_centre_matches_the_chinchilla_closed_form():
    plan = Plan(**{**ISO, "convention": "6N", "center": "hoffmann2022"})
    law = get_preset("hoffmann2022").law
    for C in ISO["budgets"]:
        closed = law.G * (C / 6.0) ** law.a  # Hoffmann et al. 2022, App. D.2
        assert plan.optimum(C) == pytest.approx(closed, rel=1e-3)
        assert plan.optimum(C) == pytest.approx(float(allocate(law, C=C).N), rel=1e-3)


def test_run_ids_are_stable_content_addressed_and_unique():
    plan = Plan(**ISO)
    ids = [r.run_id for r in plan.runs]
    assert len(set(ids)) == len(ids)
    assert ids == [r.run_id for r in Plan(**ISO).runs]
    assert ids[0].startswith("C1e13-")
    bigger = Plan(**{**ISO, "budgets": (*ISO["budgets"], 3e14)})
    assert set(ids) < {r.run_id for r in bigger.runs}  # adding a budget keeps the old runs
    other_lr = Plan(**ISO, hparams=HParams(lr=1e-3))
    assert not set(ids) & {r.run_id for r in other_lr.runs}  # a new lr is a new run


def test_seeds_repeat_each_run():
    plan = Plan(**ISO, seeds=(0, 1))
    assert len(plan.runs) == 30
    assert {r.config.seed for r in plan.runs} == {0, 1}


# -- the shape rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("head_dim,aspect", [(16, 32.0), (8, 32.0), (4, 16.0), (64, 128.0)])
def test_shape_rule(head_dim, aspect):
    fam = ModelFamily(head_dim=head_dim, aspect_ratio=aspect)
    lo = non_embedding_params(1, head_dim)
    for target in np.geomspace(16 * lo, 2e9, 40):
        arch = fam.architecture_for(target)
        L, d = arch.n_layer, arch.d_model
        # the stated rule, recomputed by brute force over every multiple of head_dim
        assert L == max(1, round((target / (12 * aspect**2)) ** (1 / 3)))
        best = min(
            range(head_dim, 64 * head_dim * 64, head_dim),
            key=lambda w: abs(math.log((12 * L * w * w + (2 * L + 1) * w) / target)),
        )
        assert d == best
        assert d % head_dim == 0 and arch.n_heads * head_dim == d
        n = arch.params().non_embedding
        assert n == 12 * L * d * d + (2 * L + 1) * d  # Kaplan's 12 L d^2 + LayerNorm gains
        assert 1 / 1.5 <= n / target <= 1.5
        if L > 1:
            assert aspect / 2 <= d / L <= 2 * aspect
        assert arch.params().total == n + 256 * d + 128 * d  # tied token table + positions


def test_min_layers_keeps_small_models_multi_layer():
    fam = ModelFamily(head_dim=4, aspect_ratio=16.0, min_layers=2)
    for target in np.geomspace(non_embedding_params(2, 8), 2e6, 60):
        arch = fam.architecture_for(target)
        ideal = round((target / (12 * 16.0**2)) ** (1 / 3))
        assert arch.n_layer == max(2, ideal)
    # 6,000 parameters: one layer under min_layers=1 (1x20 or so), two narrower ones here
    assert ModelFamily(head_dim=4, aspect_ratio=16.0).architecture_for(6000).n_layer == 1
    arch = fam.architecture_for(6000)
    assert (arch.n_layer, arch.d_model) == (2, 16)  # 12*2*16^2 + 5*16 = 6,224
    assert fam.smallest().n_layer == 2
    with pytest.raises(PlanError, match="min_layers must be a whole number >= 1"):
        ModelFamily(min_layers=0)
    with pytest.raises(PlanError, match="min_layers must be at most 1024"):
        ModelFamily(min_layers=2000)


def test_shape_rule_depth_grows_with_size():
    fam = ModelFamily()
    depths = [fam.architecture_for(n).n_layer for n in np.geomspace(3e4, 3e8, 200)]
    assert depths == sorted(depths)
    # 1e6 parameters: (1e6 / (12 * 32^2))^(1/3) = 4.33 -> 4 layers; sqrt(1e6 / 48) = 144.3
    arch = fam.architecture_for(1e6)
    assert (arch.n_layer, arch.d_model, arch.n_heads) == (4, 144, 9)
    with pytest.raises(PlanError, match="cannot be built within a factor 1.5"):
        fam.architecture_for(6000)  # between 1x16 (3,120) and 1x32 (12,384)


def test_shape_rule_counts_match_the_trained_model():
    pytest.importorskip("torch")
    from scalinglaws.sweep.model import GPT

    fam = ModelFamily(n_ctx=32, head_dim=8)
    for target in (3e3, 2e4, 1.5e5):
        arch = fam.architecture_for(target)
        model = GPT(fam_config(arch))
        counts = model.param_counts()
        assert counts["non_embedding"] == arch.params().non_embedding
        assert counts["total"] == arch.params().total


def fam_config(arch):
    from scalinglaws.sweep.model import GPTConfig

    return GPTConfig(n_layer=arch.n_layer, d_model=arch.d_model, n_head=arch.n_heads, n_ctx=32)


# -- hyperparameters per size -----------------------------------------------------------------


def test_hyperparameter_rule():
    hp = HParams(lr=3e-3, lr_ref_params=1e5, lr_exponent=1 / 3, batch_size=16)
    assert hp.learning_rate(1e5) == pytest.approx(3e-3)
    assert hp.learning_rate(8e5) == pytest.approx(1.5e-3)  # 8x the size -> lr / 2
    plan = Plan(**ISO, hparams=hp)
    tps = 16 * 128
    for r in plan.runs:
        assert r.config.lr == pytest.approx(3e-3 * (r.N / 1e5) ** (-1 / 3), rel=1e-12)
        expect = min(r.N, 0.1 * r.D) // tps * tps
        assert r.config.warmup_tokens == expect
        assert r.config.min_lr_ratio == 0.1  # cosine to 10% at each run's own D
        assert r.config.eval_every_tokens == (r.steps // 20) * tps
    lrs = [r.config.lr for r in plan.runs if r.budget == 1e13]
    assert lrs == sorted(lrs, reverse=True)  # larger models, smaller lr


# -- other kinds ------------------------------------------------------------------------------


def test_grid_and_fixed_tokens_plans():
    grid = Plan(kind="grid", sizes=("50k", "200k"), tokens=("1M", "4M"), convention="6N")
    assert len(grid.runs) == 4
    assert {r.D for r in grid.runs} == {round(1e6 / 2048) * 2048, round(4e6 / 2048) * 2048}
    assert all(r.budget is None and r.C == 6 * r.N * r.D for r in grid.runs)
    assert grid.runs[0].run_id.startswith("D1e6-")
    fixed = Plan(kind="fixed-tokens", sizes=(3e4, 1e5, 3e5), tokens=(2e7,))
    assert len({r.D for r in fixed.runs}) == 1 and len(fixed.runs) == 3


# -- plan files -------------------------------------------------------------------------------


def test_toml_round_trip_and_other_formats(tmp_path):
    plan = Plan(**ISO, name="rt", seeds=(0, 3), family=ModelFamily(head_dim=8))
    path = write_plan(plan, tmp_path / "plan.toml")
    text = path.read_text()
    assert "[sweep]" in text and "# Resolved runs" in text
    again = load_plan(path)
    assert again == plan
    assert [r.run_id for r in again.runs] == [r.run_id for r in plan.runs]
    yaml = pytest.importorskip("yaml")
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan.to_dict()))
    (tmp_path / "plan.json").write_text(json.dumps(plan.to_dict()))
    for name in ("plan.yaml", "plan.json"):
        assert [r.run_id for r in load_plan(tmp_path / name).runs] == [r.run_id for r in plan.runs]


def test_overrides_and_relative_corpus_path(tmp_path):
    (tmp_path / "text.txt").write_text("To be, or not to be. " * 2000)
    plan = Plan(**ISO, corpus="text.txt", base_dir=str(tmp_path))
    path = write_plan(plan, tmp_path / "p.toml")
    loaded = load_plan(path, {"sweep": {"budgets": [2e13]}})
    assert loaded.budgets == (2e13,)
    assert loaded.runs[0].config.corpus == str(tmp_path / "text.txt")
    switched = load_plan(path, {"sweep": {"kind": "grid", "sizes": [1e5], "tokens": [1e6]}})
    assert switched.kind == "grid" and len(switched.runs) == 1


# -- bad plans: one clear sentence each -------------------------------------------------------


def bad(tmp_path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert "\n" not in message and "bad.toml" in message
    return message


def test_bad_plans_say_what_is_wrong(tmp_path):
    ok = "[sweep]\nbudgets = [1e13, 3e13]\n"
    assert "unknown key 'lr_exponant'; did you mean 'lr_exponent'?" in bad(
        tmp_path, ok + "[hparams]\nlr_exponant = 0.3\n"
    )
    assert "unknown table [hparam]; did you mean 'hparams'?" in bad(
        tmp_path, ok + "[hparam]\nlr = 1e-3\n"
    )
    assert "unknown key 'budget'; did you mean 'budgets'?" in bad(tmp_path, "[sweep]\nbudget = 1\n")
    assert "unknown plan kind 'isoflops'; did you mean 'isoflop'?" in bad(
        tmp_path, ok + "kind = 'isoflops'\n"
    )
    assert "did you mean 'chinchilla'?" in bad(tmp_path, ok + "convention = 'chinchila'\n")
    assert "sizes is not used by an isoflop plan" in bad(tmp_path, ok + "sizes = [1e5]\n")
    assert "is not valid TOML" in bad(tmp_path, "[sweep\nbudgets = 1\n")
    assert "budgets[1]" in bad(tmp_path, "[sweep]\nbudgets = [1e13, '70X']\n")
    assert "at least 3" in bad(tmp_path, ok + "sizes_per_budget = 2\n")
    assert "corpus path 'missing.txt' does not exist" in bad(
        tmp_path, ok + "corpus = 'missing.txt'\n"
    )
    assert "neither a number of tokens per parameter, a preset" in bad(
        tmp_path, ok + "center = 'hofman2022'\n"
    )


def test_impossible_sizes_and_budgets(tmp_path):
    # a budget too small for the family's smallest model (1 layer of width head_dim)
    msg = bad(tmp_path, "[sweep]\nbudgets = [1e13, 1e6]\n")
    assert "budget 1e6 FLOPs is too small for the family's smallest model" in msg
    # a size the family cannot build
    msg = bad(tmp_path, "[sweep]\nkind = 'grid'\nsizes = [100]\ntokens = [1e6]\n")
    assert "target size 100 parameters cannot be built" in msg
    # a model whose D is less than one batch
    msg = bad(tmp_path, "[sweep]\nkind = 'grid'\nsizes = [1e5]\ntokens = [1000]\n")
    assert "less than one batch of 2,048" in msg
    # too few steps
    msg = bad(tmp_path, "[sweep]\nkind = 'grid'\nsizes = [1e5]\ntokens = [4096]\n")
    assert "only 2 optimiser steps, fewer than min_steps = 10" in msg
    # two sizes of a budget map to the same model
    msg = bad(tmp_path, "[sweep]\nbudgets = [1e13]\nsizes_per_budget = 9\nspread = 2\n")
    assert "both give the model" in msg
    # at the top of a budget, the largest model gets too few steps of a large batch
    msg = bad(tmp_path, "[sweep]\nbudgets = [1e13]\n[hparams]\nbatch_size = 4096\n")
    assert "budget 1e13: the model 3x80 h5 (230,960 parameters) gets only 9 optimiser" in msg


def test_plan_errors_from_python_name_the_field():
    with pytest.raises(PlanError, match=r"\[hparams\] lr must be a positive number"):
        HParams(lr=-1)
    with pytest.raises(PlanError, match="fixed-tokens plan trains every size on one D"):
        Plan(kind="fixed-tokens", sizes=(1e5,), tokens=(1e6, 2e6))
    with pytest.raises(PlanError, match="needs .sweep. budgets"):
        plan_from_dict({"sweep": {"kind": "isoflop"}})


# -- the command line -------------------------------------------------------------------------


def test_cli_sweep_plan_writes_and_prints(tmp_path, capsys):
    out = tmp_path / "plan.toml"
    code = main(
        [
            "sweep",
            "plan",
            "--budgets",
            "1e13,3e13,1e14",
            "--sizes-per-budget",
            "5",
            "--convention",
            "chinchilla",
            "--corpus",
            "shakespeare",
            "-o",
            str(out),
        ]
    )
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "Sweep plan 'sweep' (isoflop, 15 runs)" in text
    assert "est. time" in text and "chinchilla" in text
    assert len(load_plan(out).runs) == 15
    code = main(["sweep", "plan", str(out), "--budgets", "1e13", "--json"])
    data = json.loads(capsys.readouterr()[0])
    assert code == 0 and len(data["runs"]) == 5
    assert data["runs"][0]["C"] == data["runs"][0]["flops_per_token"] * data["runs"][0]["D"]


def test_cli_sweep_plan_errors_are_one_line(tmp_path, capsys):
    code = main(["sweep", "plan", "--budgets", "1e13", "--sizes-per-budget", "two"])
    err = capsys.readouterr()[1]
    assert code == 2 and err.startswith("error: --sizes-per-budget must be a whole number")
    code = main(["sweep", "plan", "--budgets", "1e13", "--convention", "6n-totl"])
    err = capsys.readouterr()[1]
    assert code == 2 and "did you mean '6N-total'?" in err and err.count("\n") == 1
    code = main(["sweep", "plan", str(tmp_path / "none.toml")])
    assert code == 2 and "does not exist" in capsys.readouterr()[1]
