"""Trainer overhead: tokens per second of a full sweep run against a bare PyTorch loop.

Both sides train the same GPT (n_layer 4, d_model 128, 4 heads, n_ctx 128, ~0.84M parameters)
on the same Shakespeare training split with the same batch (16 x 128 tokens), the same seeded
window sampling, learning-rate schedule, gradient clipping and fused AdamW, in this one process
with one torch thread.  The bare loop does only that; ``train()`` adds everything a sweep
needs: config and corpus checks, the curve, periodic evaluation on held-out windows and a final
evaluation on both splits.  Evaluation time is **included**: ``train()``'s tokens/s is tokens
trained / wall time of its loop *and* its evaluations.  It is kept cheap the way a sweep would
keep it: 10 evaluations of 4,096 validation tokens in a run of 200 steps x 2,048 tokens, plus
the final evaluation of both splits.  The loop-only ratio (evaluation time subtracted) is
printed as well.  The bare loop is timed from its first step to its last.

Median of ``REPEATS`` repetitions, alternating which side runs first.
Usage: ``python benchmarks/train_overhead.py``.  Target: ratio >= 0.95.  Exits 0 with a
message when torch is not installed.
"""

from __future__ import annotations

import statistics
import sys
import time

N_LAYER, D_MODEL, N_HEAD, N_CTX, BATCH = 4, 128, 4, 128, 16
STEPS = 200
TOKENS = STEPS * BATCH * N_CTX  # 409,600 tokens per run
EVALS = 10
EVAL_TOKENS = 4096
REPEATS = 3


def bare_loop(config, corpus) -> float:  # noqa: ANN001 (torch may be missing at import)
    """Tokens per second of a plain loop: sample, forward, backward, clip, AdamW step."""
    import numpy as np
    import torch

    from scalinglaws.sweep.model import GPT, param_groups
    from scalinglaws.sweep.train import lr_at

    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    windows = torch.from_numpy(np.array(corpus.train)).unfold(0, config.n_ctx + 1, 1)
    model = GPT(config.model_config())
    opt = torch.optim.AdamW(
        param_groups(model, config.weight_decay),
        lr=config.lr,
        betas=(config.beta1, config.beta2),
        eps=1e-8,
        fused=True,
    )
    tps = config.tokens_per_step
    start = time.perf_counter()
    for step in range(1, config.n_steps + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(step * tps, config)
        batch = windows[torch.randint(len(windows), (config.batch_size,), generator=gen)].long()
        _, loss = model(batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
    return config.n_steps * tps / (time.perf_counter() - start)


def main() -> int:
    try:
        import torch
    except ImportError:
        print(
            "train_overhead: torch is not installed; install the [train] extra "
            "(pip install -e '.[train]') to run this benchmark."
        )
        return 0
    from scalinglaws.errors import ScalingLawsError
    from scalinglaws.sweep.corpus import load_corpus
    from scalinglaws.sweep.train import TrainConfig, train

    config = TrainConfig(
        n_layer=N_LAYER,
        d_model=D_MODEL,
        n_head=N_HEAD,
        n_ctx=N_CTX,
        tokens=TOKENS,
        batch_size=BATCH,
        lr=3e-3,
        warmup_tokens=TOKENS // 20,
        eval_every_tokens=TOKENS // EVALS,
        eval_tokens=EVAL_TOKENS,
    )
    try:
        corpus = load_corpus(config.corpus)
    except ScalingLawsError as exc:
        print(f"train_overhead: {exc}")
        return 0
    print(
        f"torch {torch.__version__}, 1 thread; model n_layer={N_LAYER} d_model={D_MODEL} "
        f"n_ctx={N_CTX}, batch {BATCH}; {TOKENS:,} tokens per run, {EVALS} evaluations of "
        f"{EVAL_TOKENS} tokens + a final one on each split (included)"
    )
    bare, full, loop_only = [], [], []
    for rep in range(REPEATS):
        if rep % 2:  # alternate which side runs first, so neither always gets a cold start
            result = train(config)
            bare.append(bare_loop(config, corpus))
        else:
            bare.append(bare_loop(config, corpus))
            result = train(config)
        full.append(result.tokens_per_second)
        loop_only.append(result.extra["tokens_trained"] / result.extra["train_seconds"])
        print(
            f"  rep {rep + 1}: bare {bare[-1]:8.0f} tok/s   train() {full[-1]:8.0f} tok/s "
            f"(eval {result.extra['eval_seconds']:.2f} s of {result.wall_seconds:.1f} s)",
            flush=True,
        )
    b, f, lo = statistics.median(bare), statistics.median(full), statistics.median(loop_only)
    print(f"bare loop          : {b:8.0f} tokens/s (median of {REPEATS})")
    print(f"train(), with eval : {f:8.0f} tokens/s   ratio {f / b:.3f}  (target >= 0.95)")
    print(f"train(), loop only : {lo:8.0f} tokens/s   ratio {lo / b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
