"""CPU "MFU": training FLOP/s of the GPT against a measured single-thread matmul peak.

Peak: the best FLOP/s of a float32 square matrix product (2 n^3 FLOPs, n in 256..2048) on one
torch thread of this machine — what the CPU can actually do, not a datasheet number.
Achieved: tokens per second of the training step (sample windows, forward, backward, gradient
clipping, fused AdamW — the loop of ``scalinglaws.sweep.train``, without evaluation) times the
training FLOPs per token, under two conventions from ``scalinglaws.flops``:

* ``6N`` — 6 x non-embedding parameters (Kaplan et al. 2020), which ignores attention over the
  context and the logits;
* ``chinchilla`` — 3 x the forward count of Hoffmann et al. 2022, Appendix F (embeddings, QKV,
  attention scores and values, output, MLP, logits).

MFU = achieved / peak (Chowdhery et al. 2022 §4.1, with the measured peak standing in for the
accelerator's).  Four sizes, n_ctx 128, batch 16 sequences, one thread, Shakespeare bytes.
Usage: ``python benchmarks/cpu_mfu.py``; exits 0 with a message when torch is missing.
"""

from __future__ import annotations

import sys
import time

SIZES = [(2, 64, 2), (4, 128, 4), (6, 192, 6), (8, 256, 8)]  # (n_layer, d_model, n_head)
N_CTX, BATCH = 128, 16
SECONDS_PER_SIZE = 8.0


def matmul_peak() -> tuple[float, int]:
    """Best FLOP/s of an n x n float32 matmul on one thread, and the n that achieved it."""
    import torch

    best, best_n = 0.0, 0
    for n in (256, 512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        out = torch.empty(n, n)
        torch.mm(a, b, out=out)  # warm up
        reps = max(2, int(2e9 / (2 * n**3)))
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=out)
            times.append((time.perf_counter() - t0) / reps)
        flops = 2 * n**3 / min(times)
        if flops > best:
            best, best_n = flops, n
    return best, best_n


def train_tokens_per_second(n_layer: int, d_model: int, n_head: int, data) -> float:  # noqa: ANN001
    """Steady-state tokens/s of the training step (two warm-up steps excluded)."""
    import torch

    from scalinglaws.sweep.model import GPT, GPTConfig, param_groups

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    windows = data.unfold(0, N_CTX + 1, 1)
    model = GPT(GPTConfig(n_layer=n_layer, d_model=d_model, n_head=n_head, n_ctx=N_CTX))
    opt = torch.optim.AdamW(param_groups(model, 0.1), lr=1e-3, betas=(0.9, 0.95), fused=True)

    def step() -> None:
        batch = windows[torch.randint(len(windows), (BATCH,), generator=gen)].long()
        _, loss = model(batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    step()
    steps, start = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - start < SECONDS_PER_SIZE:
        step()
        steps += 1
    return steps * BATCH * N_CTX / (time.perf_counter() - start)


def main() -> int:
    try:
        import torch
    except ImportError:
        print(
            "cpu_mfu: torch is not installed; install the [train] extra "
            "(pip install -e '.[train]') to run this benchmark."
        )
        return 0
    import numpy as np

    from scalinglaws.errors import ScalingLawsError
    from scalinglaws.flops import flops_per_token
    from scalinglaws.sweep.corpus import load_corpus
    from scalinglaws.sweep.model import GPTConfig

    torch.set_num_threads(1)
    try:
        data = torch.from_numpy(np.array(load_corpus("shakespeare").train))
    except ScalingLawsError as exc:
        print(f"cpu_mfu: {exc}")
        return 0
    peak, n = matmul_peak()
    print(
        f"torch {torch.__version__}, 1 thread; measured matmul peak {peak / 1e9:.1f} GFLOP/s "
        f"(float32, {n} x {n})"
    )
    print(f"training step, n_ctx {N_CTX}, batch {BATCH}; FLOPs per token by 6N and chinchilla")
    header = (
        f"{'n_layer':>7} {'d_model':>7} {'N non-emb':>10} {'N total':>9} {'tokens/s':>9} "
        f"{'GFLOP/s 6N':>10} {'MFU 6N':>7} {'GFLOP/s chin':>12} {'MFU chin':>8}"
    )
    print(header)
    for n_layer, d_model, n_head in SIZES:
        arch = GPTConfig(n_layer, d_model, n_head, N_CTX).architecture()
        params = arch.params()
        tok_s = train_tokens_per_second(n_layer, d_model, n_head, data)
        f6 = flops_per_token(arch, "6N") * tok_s
        fc = flops_per_token(arch, "chinchilla") * tok_s
        print(
            f"{n_layer:>7} {d_model:>7} {params.non_embedding:>10,} {params.total:>9,} "
            f"{tok_s:>9.0f} {f6 / 1e9:>10.2f} {f6 / peak:>7.3f} {fc / 1e9:>12.2f} "
            f"{fc / peak:>8.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
