"""WSD (warmup-stable-decay) and constant learning-rate schedules in the sweep engine: lr_at's
values by hand, config and plan validation, plan files, a tiny real run, the CLI flags, and the
committed demo sweep's run ids (which hash TrainConfig.to_dict) unchanged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from scalinglaws.cli import main
from scalinglaws.errors import PlanError
from scalinglaws.sweep.plan import HParams, Plan, load_plan, plan_from_dict, write_plan
from scalinglaws.sweep.train import TrainConfig, TrainResult, lr_at

ROOT = Path(__file__).resolve().parents[1]
DEMO_PLAN = ROOT / "examples" / "sweeps" / "demo.toml"
DEMO_SWEEP = ROOT / "examples" / "data" / "demo-sweep"

BASE = dict(n_layer=1, d_model=32, n_head=2, n_ctx=16, batch_size=8, lr=1e-3)


def wsd(**overrides) -> TrainConfig:
    # D = 10,000 tokens, warmup 1,000; decay over the last 20%: from S = 8,000 to D
    values = {**BASE, "tokens": 10_000, "warmup_tokens": 1_000, "schedule": "wsd"}
    values.update(overrides)
    return TrainConfig(**values)


# -- lr_at --------------------------------------------------------------------------------------


def test_wsd_linear_values_by_hand():
    cfg = wsd(decay_shape="linear")
    assert cfg.decay_start == 8_000
    assert lr_at(500, cfg) == pytest.approx(5e-4, rel=1e-12)  # linear warmup, as for cosine
    assert lr_at(1_000, cfg) == 1e-3  # peak at warmup end
    assert lr_at(4_000, cfg) == 1e-3  # stable phase
    assert lr_at(8_000, cfg) == 1e-3  # decay start
    # halfway through the decay: 0.1 + 0.9 * 0.5 = 0.55
    assert lr_at(9_000, cfg) == pytest.approx(5.5e-4, rel=1e-12)
    assert lr_at(9_500, cfg) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.25), rel=1e-12)
    assert lr_at(10_000, cfg) == pytest.approx(1e-4, rel=1e-12)  # min_lr_ratio * lr at D
    assert lr_at(12_345, cfg) == pytest.approx(1e-4, rel=1e-12)  # clamped after D


def test_wsd_one_minus_sqrt_values_by_hand():
    cfg = wsd(decay_shape="1-sqrt", decay_fraction=0.5, min_lr_ratio=0.0)
    assert cfg.decay_start == 5_000
    assert lr_at(1_000, cfg) == 1e-3 and lr_at(5_000, cfg) == 1e-3
    # a quarter into the decay: 1 - sqrt(1/4) = 0.5; 9/16: 1 - 3/4 = 0.25 (Hägele et al. 2024)
    assert lr_at(6_250, cfg) == pytest.approx(5e-4, rel=1e-12)
    assert lr_at(5_000 + 5_000 * 9 / 16, cfg) == pytest.approx(2.5e-4, rel=1e-12)
    assert lr_at(10_000, cfg) == 0.0
    # with a floor: r + (1 - r)(1 - sqrt(q)) at q = 1/4 and r = 0.2 -> 0.6
    floor = wsd(decay_shape="1-sqrt", decay_fraction=0.5, min_lr_ratio=0.2)
    assert lr_at(6_250, floor) == pytest.approx(6e-4, rel=1e-12)
    assert lr_at(10_000, floor) == pytest.approx(2e-4, rel=1e-12)


def test_one_minus_sqrt_sits_below_linear_inside_the_decay():
    lin, sq = wsd(decay_shape="linear"), wsd(decay_shape="1-sqrt")
    for t in (8_100, 8_500, 9_000, 9_900):
        assert lr_at(t, sq) < lr_at(t, lin)
    assert lr_at(10_000, sq) == pytest.approx(lr_at(10_000, lin), rel=1e-12)


def test_constant_schedule_never_decays():
    cfg = wsd(schedule="constant")
    assert lr_at(500, cfg) == pytest.approx(5e-4, rel=1e-12)
    assert lr_at(1_000, cfg) == lr_at(9_999, cfg) == lr_at(10_000, cfg) == 1e-3


def test_cosine_default_is_unchanged():
    cos = TrainConfig(**BASE, tokens=6400, warmup_tokens=640)
    assert cos.schedule == "cosine"
    assert lr_at(3520, cos) == pytest.approx(5.5e-4, rel=1e-12)  # the cosine midpoint
    # decay settings do nothing to a cosine schedule
    other = TrainConfig(**BASE, tokens=6400, warmup_tokens=640, decay_fraction=0.5)
    assert lr_at(3520, other) == lr_at(3520, cos)


# -- to_dict / from_dict, and the run ids that hash it ----------------------------------------


def test_default_schedule_fields_stay_out_of_the_dict():
    cos = TrainConfig(**BASE, tokens=6400, warmup_tokens=640)
    d = cos.to_dict()
    assert not {"schedule", "decay_fraction", "decay_shape"} & set(d)
    assert TrainConfig.from_dict(d) == cos
    w = wsd(decay_shape="1-sqrt")
    d = w.to_dict()
    assert d["schedule"] == "wsd" and d["decay_shape"] == "1-sqrt"
    assert "decay_fraction" not in d  # 0.2 is the default
    assert TrainConfig.from_dict(json.loads(json.dumps(d))) == w
    d = wsd(decay_fraction=0.3).to_dict()
    assert d["decay_fraction"] == 0.3 and "decay_shape" not in d


def test_result_round_trip_keeps_the_schedule():
    cfg = wsd(decay_shape="1-sqrt", decay_fraction=0.25)
    result = TrainResult(
        config=cfg,
        final_train_loss=1.0,
        final_val_loss=1.1,
        curve=[],
        n_params_total=1,
        n_params_nonembedding=1,
        epochs=0.1,
        tokens_per_second=1.0,
        wall_seconds=1.0,
    )
    back = TrainResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.config == cfg and back.config.decay_fraction == 0.25


def test_demo_plan_run_ids_and_files_are_unchanged():
    plan = load_plan(DEMO_PLAN)
    planned = json.loads((DEMO_SWEEP / "planned.json").read_text())
    assert [r.run_id for r in plan.runs] == [r["run_id"] for r in planned["runs"]]
    stored = {p.stem for p in (DEMO_SWEEP / "runs").glob("*.json")}
    assert {r.run_id for r in plan.runs} == stored
    for run in plan.runs:
        record = json.loads((DEMO_SWEEP / "runs" / f"{run.run_id}.json").read_text())
        # the record's config was written before the schedule fields existed
        assert set(record["config"]) == set(run.config.to_dict())
        assert run.config.schedule == "cosine"
    # the plan file the demo sweep keeps is written again byte for byte
    assert plan.to_toml() == (DEMO_SWEEP / "plan.toml").read_text()


def test_wsd_plan_changes_the_run_ids():
    cos = Plan(budgets=(1e13,), sizes_per_budget=3)
    w = Plan(budgets=(1e13,), sizes_per_budget=3, hparams=HParams(schedule="wsd"))
    assert len(cos.runs) == len(w.runs) == 3
    assert not {r.run_id for r in cos.runs} & {r.run_id for r in w.runs}
    assert [r.D for r in cos.runs] == [r.D for r in w.runs]


# -- plans ----------------------------------------------------------------------------------------


def test_wsd_plan_round_trips_through_toml(tmp_path):
    hp = HParams(schedule="wsd", decay_fraction=0.25, decay_shape="1-sqrt", min_lr_ratio=0.0)
    plan = Plan(budgets=(1e13, 3e13), sizes_per_budget=3, hparams=hp, name="wsd")
    path = write_plan(plan, tmp_path / "plan.toml")
    text = path.read_text()
    assert 'schedule = "wsd"' in text and 'decay_shape = "1-sqrt"' in text
    assert "decay_fraction = 0.25" in text
    back = load_plan(path)
    assert back.hparams == hp
    assert [r.run_id for r in back.runs] == [r.run_id for r in plan.runs]
    for r in back.runs:
        c = r.config
        assert (c.schedule, c.decay_fraction, c.decay_shape) == ("wsd", 0.25, "1-sqrt")
        assert c.warmup_tokens <= c.decay_start
        assert lr_at(c.tokens, c) == 0.0
        assert lr_at(c.decay_start, c) == c.lr


def test_cosine_plan_file_has_no_schedule_keys(tmp_path):
    text = write_plan(Plan(budgets=(1e13,), sizes_per_budget=3), tmp_path / "p.toml").read_text()
    assert "schedule" not in text and "decay_" not in text


def test_wsd_warmup_is_capped_at_the_decay_start():
    hp = HParams(
        schedule="wsd", decay_fraction=0.9, warmup_tokens_per_param=100, max_warmup_fraction=0.5
    )
    # min(100 * 1000, 0.5 * 12800) = 6400, capped at (1 - 0.9) * 12800 = 1280 -> 10 steps of 128
    assert hp.warmup_tokens(1000, 12800, 128) == 1280
    assert (
        HParams(warmup_tokens_per_param=100, max_warmup_fraction=0.5).warmup_tokens(
            1000, 12800, 128
        )
        == 6400
    )


@pytest.mark.parametrize(
    "hparams, words",
    [
        ({"schedule": "wds"}, ["[hparams] schedule", "'cosine', 'wsd', 'constant'", "'wsd'?"]),
        ({"schedule": 3}, ["[hparams] schedule", "'cosine', 'wsd', 'constant'", "got 3."]),
        ({"decay_shape": "sqrt"}, ["[hparams] decay_shape", "'linear', '1-sqrt'"]),
        ({"decay_fraction": 0.0}, ["[hparams] decay_fraction", "in (0, 1]"]),
        ({"decay_fraction": 1.5}, ["[hparams] decay_fraction", "in (0, 1]"]),
        ({"decay_fraction": "x"}, ["[hparams] decay_fraction", "finite number"]),
    ],
)
def test_bad_schedule_settings_are_one_sentence(hparams, words):
    data = {"sweep": {"kind": "isoflop", "budgets": [1e13]}, "hparams": hparams}
    with pytest.raises(PlanError) as err:
        plan_from_dict(data, source="plan file p.toml")
    text = str(err.value)
    assert text.startswith("plan file p.toml, [hparams]") and text.count("\n") == 0
    for w in words:
        assert w in text


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"schedule": "cos"}, ["TrainConfig schedule", "'cosine', 'wsd', 'constant'"]),
        ({"decay_shape": "cubic"}, ["TrainConfig decay_shape", "'linear', '1-sqrt'"]),
        ({"decay_fraction": 0}, ["TrainConfig decay_fraction", "in (0, 1]"]),
        ({"decay_fraction": 0.95}, ["warmup_tokens=1000", "decay start", "500"]),
    ],
)
def test_bad_train_configs_are_one_sentence(overrides, words):
    with pytest.raises(PlanError) as err:
        wsd(**overrides)
    for w in words:
        assert w in str(err.value)


def test_schedule_names_are_normalised():
    cfg = wsd(schedule=" WSD ", decay_shape="1-SQRT")
    assert (cfg.schedule, cfg.decay_shape) == ("wsd", "1-sqrt")
    assert HParams(schedule="Constant").schedule == "constant"


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_plan_schedule_flags(tmp_path, capsys):
    out = tmp_path / "plan.toml"
    argv = ["sweep", "plan", "--budgets", "1e13", "--sizes-per-budget", "3", "--schedule", "wsd"]
    argv += ["--decay-fraction", "0.2", "--decay-shape", "1-sqrt", "-o", str(out)]
    code = main(argv)
    text, err = capsys.readouterr()
    assert code == 0, err
    words = " ".join(text.split())  # the caption wraps to the terminal width
    assert "WSD: constant, then a 1-sqrt decay over the last 0.2 x D to 0.1 x lr at D" in words
    plan = load_plan(out)
    assert plan.hparams.schedule == "wsd" and plan.hparams.decay_shape == "1-sqrt"
    assert all(r.config.schedule == "wsd" for r in plan.runs)
    code = main(["sweep", "plan", "--budgets", "1e13", "--schedule", "wsdd"])
    err = capsys.readouterr()[1]
    assert code == 2 and err.count("\n") == 1 and "--schedule" in err and "'wsd'" in err
    code = main(["sweep", "plan", "--budgets", "1e13", "--decay-fraction", "2"])
    err = capsys.readouterr()[1]
    assert code == 2 and "--decay-fraction" in err and "in (0, 1]" in err


# -- a tiny real run ------------------------------------------------------------------------------


@pytest.mark.train
@pytest.mark.parametrize("shape", ["linear", "1-sqrt"])
def test_tiny_wsd_run_records_the_lr_of_every_logged_step(shape):
    pytest.importorskip("torch")
    from scalinglaws.sweep.train import train

    tps = 8 * 16
    cfg = TrainConfig(
        **{**BASE, "lr": 3e-3},
        tokens=20 * tps,
        warmup_tokens=2 * tps,
        eval_tokens=512,
        corpus="synthetic:markov",
        schedule="wsd",
        decay_fraction=0.25,
        decay_shape=shape,
    )
    result = train(cfg)
    curve = result.curve
    assert [r["step"] for r in curve] == list(range(1, 21))
    assert all(r["lr"] == lr_at(r["tokens"], cfg) for r in curve)
    # warmup 2 steps, stable through step 15 (15 * 128 = 0.75 D), then 5 steps of decay
    assert [r["lr"] for r in curve[1:15]] == [3e-3] * 14
    assert curve[15]["lr"] < 3e-3 and curve[-1]["lr"] == pytest.approx(3e-4, rel=1e-12)
    lrs = [r["lr"] for r in curve[14:]]
    assert lrs == sorted(lrs, reverse=True)
    assert curve[-1]["val_loss"] < curve[0]["val_loss"] - 1.0
    assert math.isfinite(result.final_train_loss)
    assert result.config.to_dict()["schedule"] == "wsd"
