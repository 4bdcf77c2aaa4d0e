"""A stand-in for :func:`scalinglaws.sweep.train.train` in the sweep runner's scheduling tests.

``run_sweep(..., trainer="stub_trainer:train")``: the workers import it from this folder (they
get the test process's ``sys.path``).  Same signature and result type as the real trainer, but
no torch and no training, so a run costs its worker's start-up and little more.  The result is
plausible: the real model's parameter counts (12·n_layer·d² + (2·n_layer + 1)·d and the
embeddings), evaluations where the real loop makes them, and a validation loss that falls
with tokens and with size.  The run sleeps in proportion to its tokens (progress reported on
the way), so that runs overlap in time as real ones do; the environment variable
``STUB_TRAIN_SECONDS_PER_KTOKEN`` sets that pace (workers inherit the environment).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from scalinglaws.sweep.family import non_embedding_params
from scalinglaws.sweep.train import TrainConfig, TrainResult, lr_at

TRAINER = "stub_trainer:train"
PACE_ENV = "STUB_TRAIN_SECONDS_PER_KTOKEN"
DEFAULT_PACE = 0.1


def loss(n_params: int, tokens: int) -> float:
    """A Chinchilla-like loss in nats per byte (below ln 256 = 5.55, the uniform model's)."""
    return 1.0 + 8.0 / n_params**0.3 + 30.0 / tokens**0.4


def train(config: TrainConfig, progress: Callable[[dict], None] | None = None) -> TrainResult:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"train() needs a TrainConfig, got {type(config).__name__}")
    pace = float(os.environ.get(PACE_ENV, DEFAULT_PACE)) / 1000.0  # seconds per token
    n_params = non_embedding_params(config.n_layer, config.d_model)
    embedding = (config.vocab_size + config.n_ctx) * config.d_model
    flops_per_token = config.flops_per_token or 6.0 * n_params
    n_steps, tps, every = config.n_steps, config.tokens_per_step, config.eval_interval
    start = time.perf_counter()
    curve: list[dict] = []
    for step in range(1, n_steps + 1):
        tokens = step * tps
        if not (step == n_steps or tokens // every > (tokens - tps) // every):
            continue  # the real loop evaluates (and writes a curve row) only here
        time.sleep(pace * (tokens - (curve[-1]["tokens"] if curve else 0)))
        val = loss(n_params, tokens)
        row = {
            "tokens": tokens,
            "flops": tokens * flops_per_token,
            "step": step,
            "train_loss": val + 0.05,
            "val_loss": val,
            "lr": lr_at(tokens, config),
        }
        curve.append(row)
        if progress is not None:
            elapsed = max(time.perf_counter() - start, 1e-9)
            progress({**row, "n_steps": n_steps, "tokens_per_second": tokens / elapsed})
    wall = max(time.perf_counter() - start, 1e-9)
    tokens_trained = n_steps * tps
    return TrainResult(
        config=config,
        final_train_loss=curve[-1]["val_loss"] - 0.02,
        final_val_loss=curve[-1]["val_loss"],
        curve=curve,
        n_params_total=n_params + embedding,
        n_params_nonembedding=n_params,
        epochs=0.5,
        tokens_per_second=tokens_trained / wall,
        wall_seconds=wall,
        extra={
            "tokens_trained": tokens_trained,
            "n_steps": n_steps,
            "corpus": config.corpus,
            "eval_interval_tokens": every,
            "train_seconds": wall,
            "eval_seconds": 0.0,
            "flops_per_token": flops_per_token,
            "flops_convention": "config" if config.flops_per_token else "6N (non-embedding)",
            "diverged": False,
            "stub": True,
        },
    )
