"""Train one small GPT to a token budget and record its curve — the unit of work of a sweep.

The loop, in nanoGPT's spirit (every hyperparameter is a field of :class:`TrainConfig`):

    for step in 1..S, S = ceil(tokens / (batch_size * n_ctx)):
        x, y   = batch_size random windows of the training split (seeded generator)
        loss   = mean cross-entropy of next-byte prediction, nats per token
        lr     = lr_at(step * batch_size * n_ctx)     warmup, then the schedule (cosine, wsd,
                                                      constant) down to min_lr_ratio * lr at D
        AdamW step after clipping the global gradient norm to grad_clip
        every eval_every_tokens (and at the end): loss on fixed validation windows

Choices a reader should know about:

* One process per core, **one torch thread** (``torch.set_num_threads(1)``); float32 on CPU.
* Seeds: ``seed`` derives two independent streams (model initialisation / dropout, and batch
  sampling), so the same config gives a bit-identical curve.
* Schedule (:func:`lr_at`) is a function of tokens seen *after* the step: linear warmup reaching
  ``lr`` at ``warmup_tokens``, then a half cosine reaching ``min_lr_ratio * lr`` at exactly
  ``tokens`` (the budget; Hoffmann et al. 2022 §3.1 and Porian et al. 2024 match the cosine
  length to the run).  The run stops at the first step boundary at or past ``tokens``.
  ``schedule = "wsd"`` (warmup-stable-decay; Hägele et al. 2024) holds ``lr`` until the last
  ``decay_fraction`` of the budget and decays it there (``decay_shape`` linear or 1-sqrt) to
  ``min_lr_ratio * lr`` at exactly ``tokens``; ``schedule = "constant"`` never decays.  The
  schedule fields at their defaults are left out of :meth:`TrainConfig.to_dict`, so a cosine
  config's dict (and a plan's run ids, which hash it) is what it was before they existed.
* AdamW (Loshchilov & Hutter 2019) with decoupled decay on the blocks' weight matrices only
  (:func:`scalinglaws.sweep.model.param_groups`), eps 1e-8, PyTorch's fused CPU kernel.
* Evaluation: ``ceil(eval_tokens / n_ctx)`` windows at evenly spaced, fixed offsets of the
  validation split (the same for every seed and every run with this n_ctx), about 20 times per
  run by default.  ``final_train_loss`` is measured the same way on fixed training windows at
  the end, so it is directly comparable with ``final_val_loss``.
* Curve rows (at most ~500 per run): ``train_loss`` is the mean batch loss over the steps since
  the previous row; ``val_loss`` is NaN except at evaluations; ``flops`` = tokens x
  ``flops_per_token`` (when the config leaves it 0: 6 x the model's non-embedding parameters,
  Kaplan et al. 2020's C = 6ND, recorded as ``extra["flops_convention"]``).
* Repeated data: ``epochs`` = tokens / training bytes; more than 4 epochs warns
  ``SL-T-REPEATED-DATA`` (Muennighoff et al. 2023: beyond ~4 epochs repeated tokens are worth
  much less than fresh ones).  A non-finite loss stops the run and warns ``SL-T-DIVERGED``.
* Checkpoints (cooldown plans, :func:`train`'s ``save_at`` / ``resume_from``): model and
  optimiser state dicts, both random states, the step and the curve so far, written with
  ``torch.save`` to files the sweep itself names and read back with
  ``torch.load(..., weights_only=True)`` — tensors and plain containers, never pickled objects.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

import numpy as np

from scalinglaws.errors import DataError, PlanError, did_you_mean, warn
from scalinglaws.sweep.corpus import Corpus, load_corpus

#: Above this many passes over the training split a run warns SL-T-REPEATED-DATA.
MAX_EPOCHS_WITHOUT_WARNING = 4.0
#: Default number of evaluations per run (when eval_every_tokens is 0).
DEFAULT_EVALS_PER_RUN = 20
#: At most about this many curve rows per run.
MAX_CURVE_ROWS = 500
#: Learning-rate schedules (see :func:`lr_at`).
SCHEDULES: tuple[str, ...] = ("cosine", "wsd", "constant")
#: Shapes of the WSD decay (Hägele et al. 2024 §3: linear and 1-sqrt cooldowns).
DECAY_SHAPES: tuple[str, ...] = ("linear", "1-sqrt")
#: Default schedule settings; a config at these values writes none of them in ``to_dict``.
SCHEDULE_DEFAULTS: dict[str, Any] = {
    "schedule": "cosine",
    "decay_fraction": 0.2,
    "decay_shape": "linear",
}

_INT_FIELDS = (
    "n_layer",
    "d_model",
    "n_head",
    "n_ctx",
    "tokens",
    "batch_size",
    "warmup_tokens",
    "eval_every_tokens",
    "eval_tokens",
    "vocab_size",
    "seed",
)
_FLOAT_FIELDS = (
    "lr",
    "min_lr_ratio",
    "weight_decay",
    "grad_clip",
    "beta1",
    "beta2",
    "flops_per_token",
    "dropout",
    "decay_fraction",
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run (see the module docstring for the loop).

    Sizes are integers; ``tokens`` is the training-token budget D, ``batch_size`` counts
    sequences of ``n_ctx`` tokens per optimiser step.  A bad value raises :class:`PlanError`
    naming the field and the valid range.
    """

    n_layer: int
    d_model: int
    n_head: int
    n_ctx: int
    tokens: int
    batch_size: int
    lr: float
    warmup_tokens: int
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.95
    eval_every_tokens: int = 0
    eval_tokens: int = 65536
    vocab_size: int = 256
    corpus: str = "shakespeare"
    seed: int = 0
    flops_per_token: float = 0.0
    dropout: float = 0.0
    schedule: str = "cosine"
    decay_fraction: float = 0.2
    decay_shape: str = "linear"

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            object.__setattr__(self, name, _as_int(getattr(self, name), name))
        for name in _FLOAT_FIELDS:
            object.__setattr__(self, name, _as_float(getattr(self, name), name))
        for name in ("n_layer", "d_model", "n_head", "n_ctx", "tokens", "batch_size"):
            _require(getattr(self, name) >= 1, name, getattr(self, name), "an integer >= 1")
        _require(self.eval_tokens >= 1, "eval_tokens", self.eval_tokens, "an integer >= 1")
        _require(self.vocab_size >= 2, "vocab_size", self.vocab_size, "an integer >= 2")
        for name in ("warmup_tokens", "eval_every_tokens", "seed"):
            _require(getattr(self, name) >= 0, name, getattr(self, name), "an integer >= 0")
        if self.d_model % self.n_head:
            raise PlanError(
                f"TrainConfig n_head={self.n_head} does not divide d_model={self.d_model}; "
                "choose n_head so that d_model / n_head is a whole number."
            )
        if self.tokens < self.tokens_per_step:
            raise PlanError(
                f"TrainConfig tokens={self.tokens} is less than one optimiser step of "
                f"batch_size x n_ctx = {self.tokens_per_step} tokens; raise tokens or lower "
                "batch_size."
            )
        if self.warmup_tokens >= self.tokens:
            raise PlanError(
                f"TrainConfig warmup_tokens={self.warmup_tokens} must be less than "
                f"tokens={self.tokens} (the cosine decay needs room after the warmup)."
            )
        for name, valid in (("schedule", SCHEDULES), ("decay_shape", DECAY_SHAPES)):
            value = getattr(self, name)
            if not isinstance(value, str) or value.strip().lower() not in valid:
                raise PlanError(
                    f"TrainConfig {name} must be one of {', '.join(map(repr, valid))}, "
                    f"got {value!r}."
                )
            object.__setattr__(self, name, value.strip().lower())
        _require(0 < self.decay_fraction <= 1, "decay_fraction", self.decay_fraction, "in (0, 1]")
        if self.schedule == "wsd" and self.warmup_tokens > self.decay_start:
            raise PlanError(
                f"TrainConfig warmup_tokens={self.warmup_tokens} must end by the WSD decay "
                f"start (1 - decay_fraction) x tokens = {self.decay_start:g}; shorten the "
                "warmup or lower decay_fraction."
            )
        _require(self.lr > 0, "lr", self.lr, "a positive number")
        _require(0 <= self.min_lr_ratio <= 1, "min_lr_ratio", self.min_lr_ratio, "in [0, 1]")
        _require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")
        _require(self.grad_clip >= 0, "grad_clip", self.grad_clip, "a number >= 0 (0 = off)")
        for name in ("beta1", "beta2"):
            _require(0 <= getattr(self, name) < 1, name, getattr(self, name), "in [0, 1)")
        _require(self.flops_per_token >= 0, "flops_per_token", self.flops_per_token, ">= 0")
        _require(0 <= self.dropout < 1, "dropout", self.dropout, "in [0, 1)")
        if not isinstance(self.corpus, str) or not self.corpus.strip():
            raise PlanError(
                f"TrainConfig corpus must be 'shakespeare', 'synthetic:<kind>' or a path, "
                f"got {self.corpus!r}."
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build a config from a mapping (a plan file, a store record); unknown keys raise
        :class:`PlanError` with the closest valid name, and so do missing required fields (the
        fields without a default), all of them named."""
        names = [f.name for f in fields(cls)]
        for key in data:
            if key not in names:
                raise PlanError(f"unknown TrainConfig field {key!r}{did_you_mean(str(key), names)}")
        required = [
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        ]
        missing = [n for n in required if n not in data]
        if missing:
            raise PlanError(f"TrainConfig is missing required field(s): {', '.join(missing)}.")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (JSON-ready); the schedule fields
        (``schedule``, ``decay_fraction``, ``decay_shape``) only where they differ from their
        defaults (:data:`SCHEDULE_DEFAULTS`), so a cosine config's dict and the run ids hashed
        from it are those of configs written before these fields existed."""
        out = asdict(self)
        for name, default in SCHEDULE_DEFAULTS.items():
            if out[name] == default:
                del out[name]
        return out

    @property
    def decay_start(self) -> float:
        """Tokens at which a WSD schedule starts to decay: (1 - decay_fraction) x tokens."""
        return self.tokens - self.decay_fraction * self.tokens

    @property
    def tokens_per_step(self) -> int:
        """Tokens per optimiser step: batch_size x n_ctx."""
        return self.batch_size * self.n_ctx

    @property
    def n_steps(self) -> int:
        """Optimiser steps: ceil(tokens / tokens_per_step)."""
        return -(-self.tokens // self.tokens_per_step)

    @property
    def eval_interval(self) -> int:
        """Tokens between evaluations: eval_every_tokens, or tokens / 20 (at least one step)."""
        every = self.eval_every_tokens or self.tokens // DEFAULT_EVALS_PER_RUN
        return max(every, self.tokens_per_step)

    def model_config(self) -> Any:
        """The :class:`scalinglaws.sweep.model.GPTConfig` of this run's model."""
        from scalinglaws.sweep.model import GPTConfig

        return GPTConfig(
            n_layer=self.n_layer,
            d_model=self.d_model,
            n_head=self.n_head,
            n_ctx=self.n_ctx,
            vocab_size=self.vocab_size,
            dropout=self.dropout,
        )


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise PlanError(f"TrainConfig {name} must be a whole number, got {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise PlanError(f"TrainConfig {name} must be a whole number, got {value!r}.")


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PlanError(f"TrainConfig {name} must be a number, got {value!r}.")
    if not math.isfinite(float(value)):
        raise PlanError(f"TrainConfig {name} must be a finite number, got {value!r}.")
    return float(value)


def _require(ok: bool, name: str, value: Any, valid: str) -> None:
    if not ok:
        raise PlanError(f"TrainConfig {name} must be {valid}, got {value!r}.")


def lr_at(tokens_seen: float, config: TrainConfig) -> float:
    """Learning rate of the step that ends at ``tokens_seen`` tokens.

    With r = min_lr_ratio, W = warmup_tokens, D = tokens:

    Warmup (t < W):  lr x t / W (every schedule).
    ``cosine`` (W <= t): lr x [r + (1 - r) x (1 + cos(pi x p)) / 2], p = (t - W) / (D - W),
    clamped to p <= 1: so lr at t = W and r x lr at t = D (the cosine schedule of Loshchilov &
    Hutter 2017 without restarts, decayed to 10% over the run's own budget as in Hoffmann et
    al. 2022).
    ``wsd`` (warmup-stable-decay, Hägele et al. 2024): lr for W <= t <= S, S = (1 - f) x D with
    f = decay_fraction; then, with q = (t - S) / (D - S) clamped to q <= 1,
        linear:  lr x [r + (1 - r) x (1 - q)]
        1-sqrt:  lr x [r + (1 - r) x (1 - sqrt(q))]
    so lr at t = S and r x lr at t = D.
    ``constant``: lr for all t >= W (no decay).
    """
    peak, W, D, r = config.lr, config.warmup_tokens, config.tokens, config.min_lr_ratio
    if tokens_seen < W:
        return peak * tokens_seen / W
    if config.schedule == "constant":
        return peak
    if config.schedule == "wsd":
        S = config.decay_start
        if tokens_seen <= S:
            return peak
        q = min(1.0, (tokens_seen - S) / (D - S))
        left = 1.0 - q if config.decay_shape == "linear" else 1.0 - math.sqrt(q)
        return peak * (r + (1.0 - r) * left)
    progress = min(1.0, (tokens_seen - W) / (D - W))
    return peak * (r + (1.0 - r) * 0.5 * (1.0 + math.cos(math.pi * progress)))


@dataclass
class TrainResult:
    """The outcome of one run: final losses (nats per token), the curve and throughput.

    ``curve`` rows: ``tokens``, ``flops``, ``step``, ``train_loss``, ``val_loss`` (NaN between
    evaluations), ``lr``.  ``wall_seconds`` is the time of the training loop and all its
    evaluations (not corpus loading or model construction); ``tokens_per_second`` = tokens
    trained / ``wall_seconds``.  ``epochs`` = tokens trained / training bytes.  ``extra`` holds
    ``tokens_trained``, ``n_steps``, the corpus name and digest, evaluation settings,
    ``train_seconds`` / ``eval_seconds``, ``flops_convention``, ``diverged``, ``torch_version``,
    ``resumed_from_step`` (0 unless resumed from a checkpoint) and ``flops_spent`` (the FLOPs
    of the steps trained after it; ``tokens_per_second`` counts those steps' tokens only).
    """

    config: TrainConfig
    final_train_loss: float
    final_val_loss: float
    curve: list[dict]
    n_params_total: int
    n_params_nonembedding: int
    epochs: float
    tokens_per_second: float
    wall_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (NaN kept as float NaN), config included as a dict."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["config"] = self.config.to_dict()
        out["curve"] = [dict(row) for row in self.curve]
        out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        """Rebuild a result written by :meth:`to_dict`."""
        values = dict(data)
        values["config"] = TrainConfig.from_dict(values["config"])
        return cls(**values)


def eval_windows(data: np.ndarray, n_ctx: int, n_tokens: int) -> np.ndarray:
    """Start offsets of ceil(n_tokens / n_ctx) windows of n_ctx + 1 bytes, evenly spaced over
    ``data`` (fixed: they depend on neither the seed nor the model)."""
    n_windows = max(1, -(-n_tokens // n_ctx))
    last = len(data) - (n_ctx + 1)
    return np.unique(np.linspace(0, last, n_windows).round().astype(np.int64))


def _check_corpus(corpus: Corpus, config: TrainConfig) -> None:
    for split, data in (("training", corpus.train), ("validation", corpus.val)):
        if len(data) < config.n_ctx + 1:
            raise DataError(
                f"corpus '{corpus.name}' has {len(data)} {split} bytes, fewer than "
                f"n_ctx + 1 = {config.n_ctx + 1}; give more text or a shorter n_ctx."
            )
    top = int(max(corpus.train.max(), corpus.val.max()))
    if top >= config.vocab_size:
        raise DataError(
            f"corpus '{corpus.name}' contains byte value {top} but vocab_size is "
            f"{config.vocab_size}; use vocab_size=256 for byte-level text."
        )


def train(
    config: TrainConfig,
    progress: Callable[[dict], None] | None = None,
    save_at: dict[int, str] | None = None,
    resume_from: str | None = None,
) -> TrainResult:
    """Train a GPT from scratch on ``config.corpus`` for ``config.tokens`` tokens.

    Returns the :class:`TrainResult` with the curve; ``progress`` (if given) is called at every
    curve row with ``tokens``, ``tokens_per_second``, ``train_loss`` (and ``step``, ``n_steps``,
    ``lr``, ``val_loss``).  Raises :class:`PlanError` for a bad config and :class:`DataError`
    for a missing or unusable corpus.

    Checkpoints (cooldown plans): ``save_at`` maps optimiser steps to files; after each such
    step the model, the optimiser state, both random streams, the step and the curve so far
    are written there (:func:`save_checkpoint`, atomically).  ``resume_from`` continues from
    such a file after its step instead of from step 0 — the same trajectory as training from
    scratch whenever ``config``'s learning rate equals the checkpointed run's at every step up
    to it (a WSD branch of a constant-LR trunk, resumed at or before its decay start).  The
    result then records ``extra["resumed_from_step"]`` and counts ``extra["flops_spent"]``
    (the FLOPs of the steps trained in this call) separately from the run's total.
    """
    import torch

    from scalinglaws.sweep.model import GPT, param_groups

    if not isinstance(config, TrainConfig):
        raise PlanError(f"train() needs a TrainConfig, got {type(config).__name__}.")
    torch.set_num_threads(1)
    corpus = load_corpus(config.corpus)
    _check_corpus(corpus, config)

    # -- seeds: one stream for the weights (and dropout), one for the batches -------------------
    init_seed, data_seed = np.random.SeedSequence(config.seed).generate_state(2, dtype=np.uint64)
    torch.manual_seed(int(init_seed) >> 1)
    batch_gen = torch.Generator().manual_seed(int(data_seed) >> 1)

    # -- data: uint8 tensors; training windows are strided views, sampled at random -------------
    train_data = torch.from_numpy(np.array(corpus.train))
    windows = train_data.unfold(0, config.n_ctx + 1, 1)  # (len - n_ctx, n_ctx + 1), no copy
    val_batches = _fixed_batches(corpus.val, config)
    train_eval_batches = _fixed_batches(corpus.train, config)

    # -- model and optimiser --------------------------------------------------------------------
    model = GPT(config.model_config())
    counts = model.param_counts()
    optimizer = torch.optim.AdamW(
        param_groups(model, config.weight_decay),
        lr=config.lr,
        betas=(config.beta1, config.beta2),
        eps=1e-8,
        fused=True,
    )
    flops_per_token = config.flops_per_token or 6.0 * counts["non_embedding"]
    first_step, curve = 1, []
    if resume_from is not None:
        state = load_checkpoint(resume_from)
        if state["step"] >= config.n_steps:
            raise PlanError(
                f"checkpoint {resume_from} is at step {state['step']}, not before this run's "
                f"last step {config.n_steps}; resume a run from an earlier checkpoint."
            )
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise PlanError(
                f"checkpoint {resume_from} does not fit this run's model ({exc}); it belongs "
                "to another configuration."
            ) from None
        torch.set_rng_state(state["torch_rng"])
        batch_gen.set_state(state["batch_rng"])
        first_step, curve = int(state["step"]) + 1, list(state["curve"])

    n_steps, tps = config.n_steps, config.tokens_per_step
    tokens_trained = n_steps * tps
    epochs = tokens_trained / len(corpus.train)
    if epochs > MAX_EPOCHS_WITHOUT_WARNING:
        warn(
            "SL-T-REPEATED-DATA",
            f"this run makes {epochs:.1f} passes over the {len(corpus.train)} training bytes of "
            f"corpus '{corpus.name}'; beyond ~{MAX_EPOCHS_WITHOUT_WARNING:g} epochs repeated "
            "tokens are worth much less than fresh ones (Muennighoff et al. 2023).",
        )
    log_every = max(1, -(-n_steps // MAX_CURVE_ROWS))
    every = config.eval_interval

    # -- the loop -------------------------------------------------------------------------------
    loss_sum, loss_steps = torch.zeros(()), 0
    eval_seconds, diverged = 0.0, False
    start = time.perf_counter()
    model.train()
    for step in range(first_step, n_steps + 1):
        tokens_seen = step * tps
        lr = lr_at(tokens_seen, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = windows[torch.randint(len(windows), (config.batch_size,), generator=batch_gen)]
        batch = batch.long()
        _, loss = model(batch[:, :-1], batch[:, 1:])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        loss_sum += loss.detach()
        loss_steps += 1

        is_last = step == n_steps
        is_eval = is_last or tokens_seen // every > (tokens_seen - tps) // every
        if not (is_eval or step % log_every == 0):
            if save_at and step in save_at:
                save_checkpoint(save_at[step], step, model, optimizer, batch_gen, curve)
            continue
        train_loss = float(loss_sum) / loss_steps
        loss_sum, loss_steps = torch.zeros(()), 0
        diverged = not math.isfinite(train_loss)
        val_loss = math.nan
        if is_eval or diverged:
            t0 = time.perf_counter()
            val_loss = _evaluate(model, val_batches)
            eval_seconds += time.perf_counter() - t0
        row = {
            "tokens": tokens_seen,
            "flops": tokens_seen * flops_per_token,
            "step": step,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "lr": lr,
        }
        curve.append(row)
        if save_at and step in save_at:
            save_checkpoint(save_at[step], step, model, optimizer, batch_gen, curve)
        if progress is not None:
            elapsed = time.perf_counter() - start
            progress({**row, "n_steps": n_steps, "tokens_per_second": tokens_seen / elapsed})
        if diverged:
            tokens_trained = tokens_seen
            warn(
                "SL-T-DIVERGED",
                f"the training loss became {train_loss} at step {step} (lr {lr:.3g}); the run "
                "stopped early — lower lr or raise warmup_tokens.",
            )
            break

    trained_here = tokens_trained - (first_step - 1) * tps
    t0 = time.perf_counter()
    final_train = math.nan if diverged else _evaluate(model, train_eval_batches)
    eval_seconds += time.perf_counter() - t0
    wall = time.perf_counter() - start
    return TrainResult(
        config=config,
        final_train_loss=final_train,
        final_val_loss=curve[-1]["val_loss"],
        curve=curve,
        n_params_total=counts["total"],
        n_params_nonembedding=counts["non_embedding"],
        epochs=tokens_trained / len(corpus.train),
        tokens_per_second=trained_here / wall,
        wall_seconds=wall,
        extra={
            "tokens_trained": tokens_trained,
            "n_steps": n_steps,
            "corpus": corpus.name,
            "corpus_digest": corpus.digest,
            "train_bytes": len(corpus.train),
            "val_bytes": len(corpus.val),
            "eval_windows": sum(len(b) for b in val_batches),
            "eval_interval_tokens": every,
            "train_seconds": wall - eval_seconds,
            "eval_seconds": eval_seconds,
            "flops_per_token": flops_per_token,
            "flops_convention": "config" if config.flops_per_token else "6N (non-embedding)",
            "diverged": diverged,
            "torch_version": torch.__version__,
            "resumed_from_step": first_step - 1,
            "flops_spent": trained_here * flops_per_token,
        },
    )


def save_checkpoint(
    path: str, step: int, model: Any, optimizer: Any, batch_gen: Any, curve: list[dict]
) -> None:
    """Write a training checkpoint to ``path`` atomically (a temporary file, then a rename):
    the model's and the optimiser's state dicts, the torch and batch random states, the step
    and the curve rows so far — tensors, numbers and strings only, so that
    :func:`load_checkpoint` reads it with ``torch.load(..., weights_only=True)``."""
    import os
    from pathlib import Path

    import torch

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": "scalinglaws-checkpoint-1",
        "step": int(step),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "batch_rng": batch_gen.get_state(),
        "curve": [
            {k: int(v) if k in ("step", "tokens") else float(v) for k, v in r.items()}
            for r in curve
        ],
    }
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, out)


def load_checkpoint(path: str) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``: tensors and
    plain containers only, never arbitrary pickled objects); a missing, damaged or foreign
    file raises :class:`DataError`."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"checkpoint {path} does not exist; run its trunk first.") from None
    except Exception as exc:  # a damaged file or one with objects weights_only refuses
        raise DataError(f"checkpoint {path} cannot be read ({type(exc).__name__}).") from None
    if not isinstance(state, dict) or state.get("format") != "scalinglaws-checkpoint-1":
        raise DataError(f"{path} is not a scalinglaws training checkpoint.")
    return state


def _fixed_batches(data: np.ndarray, config: TrainConfig) -> list[Any]:
    """The fixed evaluation windows of ``data`` as int64 tensors, in chunks of ~8k tokens."""
    import torch

    starts = eval_windows(data, config.n_ctx, config.eval_tokens)
    rows = np.stack([data[s : s + config.n_ctx + 1] for s in starts]).astype(np.int64)
    chunk = max(1, 8192 // config.n_ctx)
    return [torch.from_numpy(rows[i : i + chunk]) for i in range(0, len(rows), chunk)]


def _evaluate(model: Any, batches: list[Any]) -> float:
    """Mean next-token cross-entropy (nats per token) over fixed windows, in eval mode."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for batch in batches:
            _, loss = model(batch[:, :-1], batch[:, 1:])
            n = batch[:, 1:].numel()
            total += float(loss) * n
            count += n
    model.train()
    return total / count
