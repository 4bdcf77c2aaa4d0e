"""Sweep plans: which models to train on how many tokens, with which hyperparameters.

Three kinds of plan, each a list of concrete runs (:class:`PlannedRun`):

* ``"isoflop"`` — Hoffmann et al. 2022 §3.2 (Approach 2): for each budget C, ``sizes_per_budget``
  target sizes spaced evenly in log N over a factor ``spread``, centred (geometric mean) on a
  predicted optimum N*(C); each model trains on D = C / f(model) tokens, where f is the training
  FLOPs per token of that model under the plan's ``convention`` (``scalinglaws.flops``) — at
  small scale the attention and logit FLOPs that C ≈ 6N ignores are a large share, so the
  convention is recorded with every run.  The centre is one of
    - a number r: r tokens per parameter (default 20, Hoffmann et al. 2022's rule of thumb):
      N* solves C = k(N*)·r·N*², k(N) = f(family(N)) / N (fixed-point iteration);
    - a preset name (``"hoffmann2022"``, ...): its compute-optimal N*(C);
    - ``"fit:<path>"``: the N*(C) of a prior fit saved with ``Fit.to_json``; a relative path
      is relative to the plan file's folder (``base_dir``), while ``sweep plan --center
      fit:PATH`` on the command line makes PATH absolute against the working directory.
* ``"grid"`` — every (N, D) of ``sizes`` x ``tokens`` (for Approach 3's parametric fit).
* ``"fixed-tokens"`` — ``sizes`` at one large D (Kaplan et al. 2020's L(N) with D ≫ N).
* ``"cooldown"`` — the (N, D) points of ``sizes`` x ``tokens`` for the price of one run per
  size (Hägele et al. 2024): per size and seed one constant-LR **trunk** (role "trunk") and,
  per D, a WSD **branch** (role "branch") whose config is the from-scratch WSD run to D
  (decay over the last ``decay_fraction``·D, ``decay_shape``) and which resumes from the
  trunk's checkpoint after step k = ⌊(D − decay_fraction·D) / tokens_per_step⌋ — the trunk
  and the branch have the same learning rate at every step up to k, so the branch equals the
  from-scratch run.  The trunk trains to the largest k·tokens_per_step (the decay start of
  the largest D) with a checkpoint at every branch's k; all of a size's runs share one warmup
  (that of the smallest D).  A branch's ``C`` is f·D like any run's (its law-fitting
  compute); :attr:`PlannedRun.flops_spent` is what it costs, f·(D − k·tokens_per_step), and
  the trunk's f·D is counted once (:attr:`Plan.flops_spent`).

Hyperparameters per size (:class:`HParams`), a stated rule rather than one learning rate for
all (which under-trains large models at small budgets and hides the IsoFLOP minimum; Porian et
al. 2024 move Kaplan's exponent 0.83 → 0.50 mostly by fixing warmup, cosine length and
per-size learning rates):

    lr(N)     = lr · (N / lr_ref_params)^(−lr_exponent)          N non-embedding
    warmup    = min(warmup_tokens_per_param · N, max_warmup_fraction · D), whole steps
    schedule  = linear warmup, then (``schedule``) cosine to min_lr_ratio·lr (10%) at exactly D
                (each run's own budget; the default), or "wsd": constant lr, then a decay over
                the last decay_fraction·D (decay_shape "linear" or "1-sqrt"; Hägele et al.
                2024) to min_lr_ratio·lr at exactly D — a WSD warmup is also capped at the
                decay start (1 − decay_fraction)·D — or "constant": no decay
    batch     = batch_size sequences of n_ctx tokens; D is rounded to whole steps and
                C = f · D exactly (so a run's C differs from its nominal budget by < half a step)

The default lr_exponent 1/3 is lr ∝ 1/d_model at a fixed aspect ratio (N ∝ d_model³) — the
μP scaling of Adam's learning rate for hidden matrices (Yang et al. 2022).

A plan is a TOML file (YAML and JSON also read) with the tables ``[sweep]``, ``[family]``
(:class:`~scalinglaws.sweep.family.ModelFamily`), ``[hparams]`` and ``[estimate]``; unknown
keys, impossible sizes, budgets too small for the family's smallest model and runs shorter
than one batch raise :class:`~scalinglaws.errors.PlanError` with one sentence.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.errors import PlanError, ScalingLawsError, did_you_mean
from scalinglaws.flops import Architecture, check_convention, flops_per_token
from scalinglaws.sweep.family import ModelFamily, describe
from scalinglaws.sweep.train import DECAY_SHAPES, SCHEDULE_DEFAULTS, SCHEDULES, TrainConfig

KINDS: tuple[str, ...] = ("isoflop", "grid", "fixed-tokens", "cooldown")
#: Training FLOP/s one worker achieves on this project's reference machine (one core of a
#: 2-core AMD EPYC VM, float32, ~0.1–1M-parameter models, FLOPs counted by the "chinchilla"
#: convention); only used for the time estimates of a plan.
DEFAULT_FLOPS_PER_SECOND = 1e10
#: Seconds of fixed cost per run (process start, importing torch, loading the corpus).
RUN_OVERHEAD_SECONDS = 3.0
#: Most model sizes per IsoFLOP budget (Hoffmann et al. 2022 use 9; more only repeat models).
MAX_SIZES_PER_BUDGET = 100
#: Tokens per parameter of the default IsoFLOP centre (Hoffmann et al. 2022).
DEFAULT_TOKENS_PER_PARAM = 20.0


# ============================================================================ hyperparameters
@dataclass(frozen=True)
class HParams:
    """The per-size hyperparameter rule (see the module docstring for the formulas).

    ``lr`` is the peak learning rate of a model with ``lr_ref_params`` non-embedding
    parameters; ``evals_per_run`` evaluations of ``eval_tokens`` held-out tokens per run;
    a run needs at least ``min_steps`` optimiser steps.
    """

    lr: float = 3e-3
    lr_ref_params: float = 1e5
    lr_exponent: float = 1.0 / 3.0
    batch_size: int = 16
    warmup_tokens_per_param: float = 1.0
    max_warmup_fraction: float = 0.1
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.95
    dropout: float = 0.0
    eval_tokens: int = 16384
    evals_per_run: int = 20
    min_steps: int = 10
    schedule: str = "cosine"
    decay_fraction: float = 0.2
    decay_shape: str = "linear"

    def __post_init__(self) -> None:
        ints = ("batch_size", "eval_tokens", "evals_per_run", "min_steps")
        for name, valid in (("schedule", SCHEDULES), ("decay_shape", DECAY_SHAPES)):
            value = getattr(self, name)
            text = value.strip().lower() if isinstance(value, str) else None
            if text not in valid:
                hint = did_you_mean(str(value), valid) if text else ""
                hint = hint if hint.startswith("; did you mean") else "."
                raise PlanError(
                    f"[hparams] {name} must be one of {', '.join(map(repr, valid))}, got "
                    f"{value!r}{hint}"
                )
            object.__setattr__(self, name, text)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("schedule", "decay_shape"):
                continue
            if f.name in ints:
                object.__setattr__(self, f.name, _whole(value, f"[hparams] {f.name}", minimum=1))
            else:
                object.__setattr__(self, f.name, _number(value, f"[hparams] {f.name}"))
        _check(self.lr > 0, "[hparams] lr", self.lr, "a positive number such as 3e-3")
        _check(self.lr_ref_params > 0, "[hparams] lr_ref_params", self.lr_ref_params, "> 0")
        warm, frac = self.warmup_tokens_per_param, self.max_warmup_fraction
        _check(warm >= 0, "[hparams] warmup_tokens_per_param", warm, ">= 0")
        _check(0 <= frac < 1, "[hparams] max_warmup_fraction", frac, "in [0, 1)")
        _check(
            0 <= self.min_lr_ratio <= 1, "[hparams] min_lr_ratio", self.min_lr_ratio, "in [0, 1]"
        )
        _check(self.weight_decay >= 0, "[hparams] weight_decay", self.weight_decay, ">= 0")
        _check(self.grad_clip >= 0, "[hparams] grad_clip", self.grad_clip, ">= 0 (0 = off)")
        for name in ("beta1", "beta2"):
            _check(
                0 <= getattr(self, name) < 1, f"[hparams] {name}", getattr(self, name), "in [0, 1)"
            )
        _check(0 <= self.dropout < 1, "[hparams] dropout", self.dropout, "in [0, 1)")
        _check(
            0 < self.decay_fraction <= 1,
            "[hparams] decay_fraction",
            self.decay_fraction,
            "in (0, 1], the share of each run's tokens spent decaying, e.g. 0.2",
        )

    def learning_rate(self, N: float) -> float:
        """Peak learning rate of a model with N non-embedding parameters:
        lr(N) = lr · (N / lr_ref_params)^(−lr_exponent)."""
        return self.lr * (float(N) / self.lr_ref_params) ** (-self.lr_exponent)

    def warmup_tokens(self, N: float, D: int, tokens_per_step: int) -> int:
        """Warmup length: min(warmup_tokens_per_param·N, max_warmup_fraction·D), and for a
        WSD schedule at most the decay start (1 − decay_fraction)·D, rounded down to whole
        optimiser steps."""
        raw = min(self.warmup_tokens_per_param * float(N), self.max_warmup_fraction * D)
        if self.schedule == "wsd":
            raw = min(raw, D - self.decay_fraction * D)
        return int(raw // tokens_per_step) * tokens_per_step

    def to_dict(self) -> dict[str, Any]:
        """The rule's settings (the ``[hparams]`` table of a plan); the schedule settings only
        where they differ from the defaults (cosine), so a cosine plan's file reads as before."""
        out = asdict(self)
        for name, default in SCHEDULE_DEFAULTS.items():
            if out[name] == default:
                del out[name]
        return out


# ============================================================================ one run
@dataclass(frozen=True)
class PlannedRun:
    """One concrete training run of a plan.

    ``N`` is the non-embedding parameter count of the model built (``N_total`` with
    embeddings), ``target_N`` the size the plan asked for; ``D`` training tokens (whole
    optimiser steps); ``C = flops_per_token · D`` under ``convention``; ``budget`` the nominal
    IsoFLOP budget (None for grid and fixed-tokens plans); ``est_seconds`` the estimated time
    on one worker.
    """

    run_id: str
    budget: float | None
    target_N: float
    N: int
    N_total: int
    D: int
    C: float
    flops_per_token: float
    convention: str
    est_seconds: float
    config: TrainConfig
    #: "run" (trained from scratch), or in a cooldown plan "trunk" / "branch".
    role: str = "run"
    #: A branch: its trunk's run id, and the trunk step it resumes after.
    trunk_id: str | None = None
    resume_step: int = 0
    #: A trunk: the steps after which it writes a checkpoint (one per branch).
    save_steps: tuple[int, ...] = ()

    @property
    def flops_spent(self) -> float:
        """FLOPs this run costs: C, or for a branch only its own steps after the trunk's
        checkpoint, flops_per_token · (D − resume_step · tokens_per_step)."""
        return self.flops_per_token * (self.D - self.resume_step * self.config.tokens_per_step)

    @property
    def tokens_per_param(self) -> float:
        """D / N (N non-embedding)."""
        return self.D / self.N

    @property
    def steps(self) -> int:
        """Optimiser steps: D / (batch_size · n_ctx)."""
        return self.config.n_steps

    @property
    def shape(self) -> str:
        """``n_layer x d_model hHeads``."""
        c = self.config
        return f"{c.n_layer}x{c.d_model} h{c.n_head}"

    def to_row(self) -> dict[str, Any]:
        """A flat record for tables and JSON."""
        c = self.config
        return {
            "run_id": self.run_id,
            "budget": self.budget,
            "target_N": self.target_N,
            "N": self.N,
            "N_total": self.N_total,
            "D": self.D,
            "C": self.C,
            "tokens_per_param": self.tokens_per_param,
            "n_layer": c.n_layer,
            "d_model": c.d_model,
            "n_head": c.n_head,
            "n_ctx": c.n_ctx,
            "batch_size": c.batch_size,
            "steps": self.steps,
            "lr": c.lr,
            "warmup_tokens": c.warmup_tokens,
            "seed": c.seed,
            "flops_per_token": self.flops_per_token,
            "convention": self.convention,
            "est_seconds": self.est_seconds,
            **(
                {
                    "role": self.role,
                    "trunk_id": self.trunk_id,
                    "resume_step": self.resume_step,
                    "save_steps": list(self.save_steps),
                    "flops_spent": self.flops_spent,
                }
                if self.role != "run"
                else {}
            ),
        }


# ============================================================================ the plan
@dataclass(frozen=True)
class Plan:
    """A sweep plan (see the module docstring).  Validated on construction; :attr:`runs`
    resolves it into concrete runs (and raises :class:`PlanError` for impossible ones).

    ``center`` (isoflop): tokens per parameter (a number), a preset name, or
    ``"fit:<path>"``.  ``sizes`` are target non-embedding parameter counts; ``tokens`` the
    training tokens of grid / fixed-tokens plans.  ``flops_per_second`` is what one worker
    achieves (for time estimates only).  ``base_dir`` resolves relative paths (the corpus, a
    fit) — the plan file's folder.
    """

    kind: str = "isoflop"
    budgets: tuple[float, ...] = ()
    sizes_per_budget: int = 5
    spread: float = 16.0
    center: float | str = DEFAULT_TOKENS_PER_PARAM
    sizes: tuple[float, ...] = ()
    tokens: tuple[float, ...] = ()
    convention: str = "chinchilla"
    corpus: str = "shakespeare"
    seeds: tuple[int, ...] = (0,)
    name: str = "sweep"
    family: ModelFamily = field(default_factory=ModelFamily)
    hparams: HParams = field(default_factory=HParams)
    flops_per_second: float = DEFAULT_FLOPS_PER_SECOND
    base_dir: str = field(default=".", compare=False)
    source: str = field(default="the plan", compare=False)

    def __post_init__(self) -> None:
        try:
            self._validate()
        except PlanError as exc:
            text = str(exc)
            if text.startswith(self.source):
                raise
            raise PlanError(f"{self.source}, {text}") from None

    def _validate(self) -> None:
        kind = str(self.kind).strip().lower()
        if kind not in KINDS:
            raise PlanError(
                f"{self.source}: unknown plan kind {self.kind!r}{did_you_mean(kind, KINDS)}"
            )
        object.__setattr__(self, "kind", kind)
        if kind == "cooldown":
            if self.hparams.schedule == "constant":
                raise PlanError(
                    f"{self.source}: a cooldown plan's branches decay (WSD), so [hparams] "
                    "schedule must be 'wsd' (or left out), got 'constant'."
                )
            if self.hparams.schedule == "cosine":  # the default: a cooldown plan is WSD
                object.__setattr__(self, "hparams", replace(self.hparams, schedule="wsd"))
        try:
            object.__setattr__(self, "convention", check_convention(self.convention))
        except ScalingLawsError as exc:
            raise PlanError(f"{self.source}, [sweep] convention: {exc}") from None
        budgets = tuple(_quantity(b, f"[sweep] budgets[{i}]") for i, b in enumerate(self.budgets))
        sizes = tuple(_quantity(s, f"[sweep] sizes[{i}]") for i, s in enumerate(self.sizes))
        tokens = tuple(_quantity(t, f"[sweep] tokens[{i}]") for i, t in enumerate(self.tokens))
        object.__setattr__(self, "budgets", budgets)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "tokens", tokens)
        seeds = self.seeds if isinstance(self.seeds, (list, tuple)) else (self.seeds,)
        seeds = tuple(_whole(s, f"[sweep] seeds[{i}]", minimum=0) for i, s in enumerate(seeds))
        if not seeds or len(set(seeds)) != len(seeds):
            raise PlanError(
                f"{self.source}, [sweep] seeds must be distinct whole numbers, got {list(seeds)}."
            )
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(
            self, "sizes_per_budget", _whole(self.sizes_per_budget, "[sweep] sizes_per_budget", 1)
        )
        object.__setattr__(self, "spread", _number(self.spread, "[sweep] spread"))
        object.__setattr__(
            self, "flops_per_second", _number(self.flops_per_second, "[estimate] flops_per_second")
        )
        _check(
            self.flops_per_second > 0, "[estimate] flops_per_second", self.flops_per_second, "> 0"
        )
        if not isinstance(self.corpus, str) or not self.corpus.strip():
            raise PlanError(
                f"{self.source}, [sweep] corpus must be 'shakespeare', 'synthetic:<kind>' or a "
                f"path, got {self.corpus!r}."
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise PlanError(f"{self.source}, [sweep] name must be a non-empty string.")
        control = next((c for c in self.name if _is_control(c)), None)
        if control is not None:
            raise PlanError(
                f"{self.source}, [sweep] name {self.name!r} holds the control character "
                f"{control!r}; a name is one line of printable text (it heads the plan file "
                "and names its folder)."
            )
        if any(sep in self.name for sep in ("/", "\\")) or self.name.strip() in (".", ".."):
            raise PlanError(
                f"{self.source}, [sweep] name {self.name!r} is not a single folder name (no '/' "
                "or '\\', not '.' or '..'): a plan given without a folder runs in "
                "./<name>, which must not lead elsewhere; e.g. name = 'chinchilla-small'."
            )
        self._check_kind()
        self._check_corpus()
        if isinstance(self.center, str):
            self._check_center_text(self.center)
        else:
            center = _number(self.center, "[sweep] center (tokens per parameter)")
            _check(center > 0, "[sweep] center (tokens per parameter)", center, "> 0")
            object.__setattr__(self, "center", center)

    # ------------------------------------------------------------------ validation
    def _check_kind(self) -> None:
        src = self.source
        if self.kind == "isoflop":
            if not self.budgets:
                raise PlanError(
                    f"{src}: an isoflop plan needs [sweep] budgets, "
                    "e.g. budgets = [1e12, 3e12, 1e13]."
                )
            for key in ("sizes", "tokens"):
                if getattr(self, key):
                    raise PlanError(
                        f"{src}: [sweep] {key} is not used by an isoflop plan (sizes come from "
                        "budgets, sizes_per_budget, spread and center); remove it or set "
                        "kind = 'grid'."
                    )
            if self.sizes_per_budget < 3:
                raise PlanError(
                    f"{src}, [sweep] sizes_per_budget must be at least 3 (a parabola per budget "
                    f"needs three sizes), got {self.sizes_per_budget}."
                )
            if self.sizes_per_budget > MAX_SIZES_PER_BUDGET:
                raise PlanError(
                    f"{src}, [sweep] sizes_per_budget must be at most {MAX_SIZES_PER_BUDGET} "
                    f"(more sizes only repeat models), got {self.sizes_per_budget}."
                )
            _check(
                self.spread > 1,
                "[sweep] spread (largest / smallest size)",
                self.spread,
                "> 1, e.g. 16",
            )
            if len(set(self.budgets)) != len(self.budgets):
                raise PlanError(
                    f"{src}, [sweep] budgets has a repeated value: {list(self.budgets)}."
                )
        else:
            if self.budgets:
                raise PlanError(
                    f"{src}: [sweep] budgets is only used by an isoflop plan; a {self.kind} plan "
                    "takes sizes and tokens."
                )
            if not self.sizes:
                raise PlanError(
                    f"{src}: a {self.kind} plan needs [sweep] sizes, e.g. sizes = ['50k', '200k']."
                )
            if not self.tokens:
                raise PlanError(
                    f"{src}: a {self.kind} plan needs [sweep] tokens, e.g. tokens = ['2M']."
                )
            if self.kind == "fixed-tokens" and len(self.tokens) != 1:
                raise PlanError(
                    f"{src}: a fixed-tokens plan trains every size on one D, but [sweep] tokens "
                    f"has {len(self.tokens)} values; give one, or set kind = 'grid'."
                )

    def _check_corpus(self) -> None:
        text = self.corpus.strip()
        if text.lower() == "shakespeare":
            return
        if text.lower().startswith("synthetic:"):
            from scalinglaws.sweep.corpus import parse_synthetic

            try:
                parse_synthetic(text)
            except ScalingLawsError as exc:
                raise PlanError(f"{self.source}, [sweep] corpus: {exc}") from None
            return
        path = self.corpus_path()
        if not Path(path).exists():
            raise PlanError(
                f"{self.source}, [sweep] corpus path '{text}' does not exist (looked for {path}); "
                "give 'shakespeare', 'synthetic:markov' or an existing text file or folder."
            )
        from scalinglaws.sweep.corpus import corpus_files

        try:  # an empty or binary corpus fails every run: say so now, not once per run
            corpus_files(path, check=True)
        except ScalingLawsError as exc:
            raise PlanError(f"{self.source}, [sweep] corpus: {exc}") from None

    def _check_center_text(self, text: str) -> None:
        if text.startswith("fit:"):
            path = self._resolve(text[4:].strip())
            if not Path(path).is_file():
                raise PlanError(f"{self.source}, [sweep] center: fit file {path} does not exist.")
            return
        from scalinglaws.presets import list_presets

        if text not in list_presets():
            raise PlanError(
                f"{self.source}, [sweep] center {text!r} is neither a number of tokens per "
                f"parameter, a preset nor 'fit:<path>'{did_you_mean(text, list_presets())}"
            )

    def _resolve(self, path: str) -> str:
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else Path(self.base_dir) / p)

    def corpus_path(self) -> str:
        """The corpus as the trainer gets it: names unchanged, relative paths resolved against
        :attr:`base_dir`."""
        text = self.corpus.strip()
        if text.lower() == "shakespeare" or text.lower().startswith("synthetic:"):
            return text
        return self._resolve(text)

    # ------------------------------------------------------------------ resolution
    def flops_of(self, arch: Architecture) -> float:
        """Training FLOPs per token of ``arch`` under the plan's convention."""
        return flops_per_token(arch, self.convention)

    def flops_ratio(self, N: Any) -> np.ndarray:
        """k(N) = f(family(N)) / N_non-embedding, the FLOPs per parameter per token of the
        family's model nearest N (N clamped to the family's range); works on arrays."""
        n = np.atleast_1d(np.asarray(N, dtype=float))
        lo = self.family.smallest().params().non_embedding
        flat = np.clip(n, lo, 1e13).ravel()
        out = np.empty_like(flat)
        cache = self._ratio_cache
        for i, x in enumerate(flat):
            key = float(f"{x:.3g}")
            if key not in cache:
                arch = self.family.nearest(key)
                cache[key] = self.flops_of(arch) / arch.params().non_embedding
            out[i] = cache[key]
        return out.reshape(n.shape)

    @cached_property
    def _ratio_cache(self) -> dict[float, float]:
        return {}

    def optimum(self, C: float) -> float:
        """The predicted compute-optimal non-embedding N*(C) at the centre of a budget."""
        if isinstance(self.center, str):
            from scalinglaws.allocation import allocate

            def f(N: Any) -> np.ndarray:
                return self.flops_ratio(N) * np.asarray(N, dtype=float)

            try:
                if self.center.startswith("fit:"):
                    from scalinglaws.fit.result import Fit

                    target: Any = Fit.from_json(self._resolve(self.center[4:].strip()))
                else:
                    target = self.center
                n_opt = float(np.asarray(allocate(target, C=C, flops_per_token=f).N).ravel()[0])
            except ScalingLawsError as exc:
                raise PlanError(f"{self.source}, [sweep] center {self.center!r}: {exc}") from None
            return n_opt
        r = float(self.center)
        n = math.sqrt(C / (6.0 * r))
        for _ in range(30):  # N <- sqrt(C / (k(N) r)); k varies slowly with N
            new = math.sqrt(C / (float(self.flops_ratio(n)[0]) * r))
            if abs(math.log(new / n)) < 1e-6:
                break
            n = math.sqrt(n * new)  # damped: k(N) is a step function of the discrete family
        return n

    def center_text(self) -> str:
        """The centre rule in words."""
        if isinstance(self.center, str):
            if self.center.startswith("fit:"):
                return f"the compute-optimal N of the fit {self.center[4:].strip()}"
            return f"the compute-optimal N of preset '{self.center}'"
        return f"{self.center:g} tokens per parameter"

    def targets(self) -> list[tuple[float | None, float, float | None]]:
        """(budget, target N, tokens or None) for every run before seeds; sizes of a budget
        are N*·spread^t, t evenly spaced in [−1/2, 1/2]."""
        out: list[tuple[float | None, float, float | None]] = []
        if self.kind == "isoflop":
            m = self.sizes_per_budget
            for C in self.budgets:
                centre = self.optimum(C)
                for t in np.linspace(-0.5, 0.5, m):
                    out.append((C, centre * self.spread ** float(t), None))
        else:
            for D in self.tokens:
                for N in self.sizes:
                    out.append((None, N, D))
        return out

    @cached_property
    def runs(self) -> list[PlannedRun]:
        """The concrete runs, in plan order (budget, then size, then seed)."""
        tps = self.hparams.batch_size * self.family.n_ctx
        small = self.family.smallest()
        for C in self.budgets:
            need = self.flops_of(small) * tps * self.hparams.min_steps
            n_small = small.params().non_embedding
            if C < need:
                raise PlanError(
                    f"{self.source}: budget {_short(C)} FLOPs is too small for the family's "
                    f"smallest model ({describe(small)}, {n_small:,} parameters), which needs "
                    f"{_short(need)} FLOPs for min_steps={self.hparams.min_steps} steps "
                    f"of {tps:,} tokens; raise the budget or lower batch_size."
                )
        runs: list[PlannedRun] = []
        seen: dict[tuple[Any, ...], float] = {}
        for budget, target, tokens in self.targets():
            try:
                arch = self.family.architecture_for(target)
            except PlanError as exc:
                where = f"budget {_short(budget)}" if budget is not None else f"D = {_qty(tokens)}"
                raise PlanError(f"{self.source}, {where}: {exc}") from None
            key = (budget, tokens, arch.n_layer, arch.d_model)
            if key in seen:
                where = f"budget {_short(budget)}" if budget is not None else f"D = {_qty(tokens)}"
                raise PlanError(
                    f"{self.source}, {where}: target sizes {_qty(seen[key])} and "
                    f"{_qty(target)} both give the model {describe(arch)} "
                    f"({arch.params().non_embedding:,} parameters); widen spread, use fewer "
                    "sizes_per_budget, or lower head_dim."
                )
            seen[key] = target
            for seed in self.seeds:
                runs.append(self._run(budget, target, tokens, arch, seed, tps))
        if self.kind == "cooldown":
            return self._cooldown(runs, tps)
        return runs

    def _cooldown(self, runs: list[PlannedRun], tps: int) -> list[PlannedRun]:
        """Trunks and branches from the grid runs of a cooldown plan (module docstring):
        one warmup per (size, seed), a trunk per (size, seed) to the last decay start."""
        groups: dict[tuple[int, int, int], list[PlannedRun]] = {}
        for r in runs:
            groups.setdefault((r.config.n_layer, r.config.d_model, r.config.seed), []).append(r)
        trunks: list[PlannedRun] = []
        branches: list[PlannedRun] = []
        for group in groups.values():
            warmup = min(self.hparams.warmup_tokens(r.N, r.D, tps) for r in group)
            group = [self._rebuild(r, replace(r.config, warmup_tokens=warmup)) for r in group]
            steps = [int(r.config.decay_start // tps) for r in group]
            if min(steps) < 1 or min(steps) * tps <= warmup:
                r = group[steps.index(min(steps))]
                raise PlanError(
                    f"{self.source}, D = {_qty(r.D)}: the model {r.shape} decays over "
                    f"decay_fraction = {self.hparams.decay_fraction:g} of its "
                    f"{r.steps} steps and warms up for {warmup // tps}, leaving no "
                    "constant-lr steps to share with a trunk; lower decay_fraction or "
                    "warmup, or raise the tokens."
                )
            first = group[0]
            top = max(steps)
            evals = min(self.hparams.evals_per_run, top)
            trunk_config = replace(
                first.config,
                tokens=top * tps,
                schedule="constant",
                decay_fraction=0.2,
                decay_shape="linear",
                eval_every_tokens=(top // evals) * tps,
            )
            trunk = self._rebuild(first, trunk_config, label="trunk", budget=None)
            trunk = replace(trunk, role="trunk", save_steps=tuple(sorted(set(steps))))
            trunks.append(trunk)
            for r, k in zip(group, steps, strict=True):
                share = 1.0 - k * tps / r.D
                est = RUN_OVERHEAD_SECONDS + (r.est_seconds - RUN_OVERHEAD_SECONDS) * share
                branches.append(
                    replace(r, role="branch", trunk_id=trunk.run_id, resume_step=k, est_seconds=est)
                )
        return trunks + branches

    def _rebuild(
        self,
        run: PlannedRun,
        config: TrainConfig,
        label: str | None = None,
        budget: float | None = None,
    ) -> PlannedRun:
        """``run`` with another config (its D, C, id and time estimate follow the config)."""
        D = config.tokens
        ident = {**config.to_dict(), "corpus": self.corpus.strip(), "convention": self.convention}
        if label is not None:
            ident["role"] = label
        digest = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:6]
        arch = f"{config.n_layer}x{config.d_model}"
        name = label or run.run_id.split("-", 1)[0]  # "D2e5", as the grid run's id
        scale = D / run.D
        return replace(
            run,
            run_id=f"{name}-{arch}-s{config.seed}-{digest}",
            budget=budget if label is not None else run.budget,
            D=D,
            C=run.flops_per_token * D,
            est_seconds=RUN_OVERHEAD_SECONDS + (run.est_seconds - RUN_OVERHEAD_SECONDS) * scale,
            config=config,
        )

    @property
    def flops_spent(self) -> float:
        """Training FLOPs the plan costs: Σ C over its runs, except that a cooldown plan's
        branches count only their steps after the trunk's checkpoint (the trunk once)."""
        return float(sum(r.flops_spent for r in self.runs))

    def _run(
        self,
        budget: float | None,
        target: float,
        tokens: float | None,
        arch: Architecture,
        seed: int,
        tps: int,
    ) -> PlannedRun:
        f = self.flops_of(arch)
        p = arch.params()
        exact = budget / f if budget is not None else float(tokens)  # type: ignore[operator]
        where = f"budget {_short(budget)}" if budget is not None else f"D = {_qty(exact)}"
        if exact < tps:
            raise PlanError(
                f"{self.source}, {where}: the model {describe(arch)} ({p.non_embedding:,} "
                f"parameters) would train on {exact:,.0f} tokens, less than one batch of "
                f"{tps:,} (batch_size {self.hparams.batch_size} x n_ctx {self.family.n_ctx}); "
                "raise the budget or lower batch_size."
            )
        steps = max(1, round(exact / tps))
        if steps < self.hparams.min_steps:
            raise PlanError(
                f"{self.source}, {where}: the model {describe(arch)} ({p.non_embedding:,} "
                f"parameters) gets only {steps} optimiser steps, fewer than min_steps = "
                f"{self.hparams.min_steps}; raise the budget, lower batch_size or min_steps."
            )
        D = steps * tps
        hp = self.hparams
        evals = min(hp.evals_per_run, steps)
        config = TrainConfig(
            n_layer=arch.n_layer,
            d_model=arch.d_model,
            n_head=arch.n_heads,
            n_ctx=arch.n_ctx,
            tokens=D,
            batch_size=hp.batch_size,
            lr=hp.learning_rate(p.non_embedding),
            warmup_tokens=hp.warmup_tokens(p.non_embedding, D, tps),
            min_lr_ratio=hp.min_lr_ratio,
            weight_decay=hp.weight_decay,
            grad_clip=hp.grad_clip,
            beta1=hp.beta1,
            beta2=hp.beta2,
            eval_every_tokens=(steps // evals) * tps,
            eval_tokens=hp.eval_tokens,
            vocab_size=arch.vocab_size,
            corpus=self.corpus_path(),
            seed=seed,
            flops_per_token=f,
            dropout=hp.dropout,
            schedule=hp.schedule,
            decay_fraction=hp.decay_fraction,
            decay_shape=hp.decay_shape,
        )
        f_work = flops_per_token(arch, "chinchilla")  # the work a CPU does, for the estimate
        work = f_work * D + (evals + 1) * hp.eval_tokens * f_work / 3.0
        ident = {**config.to_dict(), "corpus": self.corpus.strip(), "convention": self.convention}
        digest = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:6]
        label = f"C{_short(budget)}" if budget is not None else f"D{_short(exact)}"
        return PlannedRun(
            run_id=f"{label}-{arch.n_layer}x{arch.d_model}-s{seed}-{digest}",
            budget=budget,
            target_N=target,
            N=p.non_embedding,
            N_total=p.total,
            D=D,
            C=f * D,
            flops_per_token=f,
            convention=self.convention,
            est_seconds=RUN_OVERHEAD_SECONDS + work / self.flops_per_second,
            config=config,
        )

    # ------------------------------------------------------------------ summaries
    def estimate_seconds(self, workers: int = 1) -> float:
        """Estimated wall time on ``workers`` workers: longest-first list scheduling of the
        runs' estimates (what the runner does)."""
        loads = [0.0] * max(1, int(workers))
        for t in sorted((r.est_seconds for r in self.runs), reverse=True):
            loads[loads.index(min(loads))] += t
        return max(loads)

    def to_dict(self) -> dict[str, Any]:
        """The plan as the tables of a plan file (only the keys its kind uses)."""
        sweep: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "isoflop":
            sweep.update(
                budgets=list(self.budgets),
                sizes_per_budget=self.sizes_per_budget,
                spread=self.spread,
                center=self.center,
            )
        else:
            sweep.update(sizes=list(self.sizes), tokens=list(self.tokens))
        sweep.update(convention=self.convention, corpus=self.corpus, seeds=list(self.seeds))
        return {
            "sweep": sweep,
            "family": self.family.to_dict(),
            "hparams": self.hparams.to_dict(),
            "estimate": {"flops_per_second": self.flops_per_second},
        }

    def to_toml(self) -> str:
        """The plan file text: the settings, then the resolved runs as comments."""
        lines = [
            f"# scalinglaws sweep plan '{self.name}' ({self.kind}).  Edit and re-run:",
            "#   scalinglaws sweep plan <this file>      (check it and print its runs)",
            "#   scalinglaws sweep run <this file>       (train; finished runs are skipped)",
        ]
        notes = {
            "budgets": "training FLOPs per budget, under `convention`",
            "spread": "largest / smallest target size in a budget",
            "center": "tokens per parameter, a preset name, or 'fit:<path>'",
            "sizes": "target non-embedding parameters",
            "tokens": "training tokens",
            "convention": "FLOPs per token: 6N, 6N-total, kaplan, chinchilla, palm, deepseek",
            "corpus": "'shakespeare', 'synthetic:markov[:k=v,...]', or a text file or folder",
            "aspect_ratio": "target d_model / n_layer (kept within a factor 2)",
            "min_layers": "fewest layers of any model (the smallest are narrower instead)",
            "lr": "peak lr at lr_ref_params: lr(N) = lr * (N / lr_ref_params)^-lr_exponent",
            "batch_size": "sequences of n_ctx tokens per optimiser step",
            "warmup_tokens_per_param": "warmup = min(this * N, max_warmup_fraction * D)",
            "min_lr_ratio": "cosine decay to this fraction of lr at exactly D",
            "schedule": "'cosine' (default), 'wsd' (warmup-stable-decay) or 'constant'",
            "decay_fraction": "wsd: share of each run's tokens spent decaying",
            "decay_shape": "wsd: 'linear' or '1-sqrt' (Hägele et al. 2024)",
            "flops_per_second": "training FLOP/s of one worker (for time estimates)",
        }
        for table, values in self.to_dict().items():
            lines += ["", f"[{table}]"]
            for key, value in values.items():
                text = f"{key} = {_toml_value(value)}"
                if key in notes:
                    text = f"{text:<40} # {notes[key]}"
                lines.append(text)
        lines += ["", "# Resolved runs (generated; edit the settings above, not these lines):"]
        lines.append(
            "#   run_id                        N (non-emb)   N total          D         C"
            "   D/N      lr   steps"
        )
        for r in self.runs:
            lines.append(
                f"#   {r.run_id:<28} {r.N:>12,} {r.N_total:>10,} {r.D:>10,} {r.C:>9.3g}"
                f" {r.tokens_per_param:>5.1f} {r.config.lr:>7.2g} {r.steps:>7,}"
            )
        return "\n".join(lines) + "\n"

    def with_changes(self, **changes: Any) -> Plan:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)


# ============================================================================ files
_TABLES: dict[str, tuple[str, ...]] = {
    "sweep": (
        "name",
        "kind",
        "budgets",
        "sizes_per_budget",
        "spread",
        "center",
        "sizes",
        "tokens",
        "convention",
        "corpus",
        "seeds",
    ),
    "family": tuple(f.name for f in fields(ModelFamily)),
    "hparams": tuple(f.name for f in fields(HParams)),
    "estimate": ("flops_per_second",),
}


def plan_from_dict(data: dict[str, Any], source: str = "the plan", base_dir: str = ".") -> Plan:
    """Build a :class:`Plan` from the tables of a plan file; unknown tables or keys raise
    :class:`PlanError` with the closest valid name."""
    if not isinstance(data, dict):
        raise PlanError(f"{source} must hold tables such as [sweep], got {type(data).__name__}.")
    tables = list(_TABLES)
    for table, body in data.items():
        if table not in _TABLES:
            raise PlanError(f"{source}: unknown table [{table}]{did_you_mean(str(table), tables)}")
        if not isinstance(body, dict):
            raise PlanError(f"{source}: [{table}] must be a table of key = value lines.")
        for key in body:
            if key not in _TABLES[table]:
                raise PlanError(
                    f"{source}, [{table}]: unknown key {key!r}"
                    f"{did_you_mean(str(key), list(_TABLES[table]))}"
                )
    if "sweep" not in data:
        raise PlanError(
            f"{source} has no [sweep] table; it needs at least kind and budgets "
            "(or sizes and tokens)."
        )
    sweep = dict(data["sweep"])
    for key in ("budgets", "sizes", "tokens", "seeds"):
        if key in sweep and not isinstance(sweep[key], (list, tuple)):
            sweep[key] = [sweep[key]]
    try:
        family = ModelFamily(**data.get("family", {}))
        hparams = HParams(**data.get("hparams", {}))
    except PlanError as exc:
        raise PlanError(f"{source}, {exc}") from None
    return Plan(
        **sweep,
        family=family,
        hparams=hparams,
        flops_per_second=data.get("estimate", {}).get("flops_per_second", DEFAULT_FLOPS_PER_SECOND),
        base_dir=base_dir,
        source=source,
    )


def read_plan_data(path: str | Path) -> dict[str, Any]:
    """The raw tables of a plan file (.toml with tomllib; .yaml/.yml with yaml.safe_load;
    .json), before validation."""
    p = Path(path)
    if p.is_dir():
        raise PlanError(
            f"plan file {path} is a folder; give the plan's .toml file (a sweep folder keeps "
            f"its plan as {p / 'plan.toml'})"
        )
    if not p.is_file():
        raise PlanError(
            f"plan file {path} does not exist; write one with write_plan(plan, path) or the "
            "'sweep plan' command."
        )
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise PlanError(f"plan file {path} has extension '{p.suffix}'; use .toml, .yaml or .json.")
    try:
        text = p.read_text(encoding="utf-8")
        if suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # tomllib, yaml, json and decoding each raise their own type
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlanError(f"plan file {path} is not valid {suffix[1:].upper()} ({first}).") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PlanError(f"plan file {path} must hold tables such as [sweep].")
    return data


def load_plan(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> Plan:
    """Read a plan file (see :func:`read_plan_data`), apply ``overrides`` (table -> key ->
    value, e.g. from command-line flags) and resolve its runs, so that every problem is
    reported now, before any training."""
    data = read_plan_data(path)
    sweep_over = (overrides or {}).get("sweep", {})
    if "kind" in sweep_over and isinstance(data.get("sweep"), dict):
        # switching kind drops the file's keys that belong to the other kind
        own = ("budgets", "sizes_per_budget", "spread", "center")
        other = ("sizes", "tokens")
        drop = other if str(sweep_over["kind"]).lower() == "isoflop" else own
        data["sweep"] = {k: v for k, v in data["sweep"].items() if k not in drop}
    for table, values in (overrides or {}).items():
        current = data.get(table, {})
        data[table] = {**(current if isinstance(current, dict) else {}), **values}
    base = str(Path(path).resolve().parent)
    plan = plan_from_dict(data, source=f"plan file {path}", base_dir=base)
    plan.runs  # noqa: B018  -- resolve now: report impossible runs before training
    return plan


def write_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` as a TOML plan file (atomically) and return its path."""
    from scalinglaws.sweep.store import atomic_write_text

    out = Path(path)
    if out.is_dir():
        raise PlanError(
            f"plan output {path} is a folder; give a file name such as {out / 'plan.toml'}"
        )
    if out.suffix.lower() != ".toml":
        raise PlanError(
            f"plan output {path} has extension '{out.suffix or '(none)'}'; a plan is written as "
            "TOML, so name it e.g. plan.toml"
        )
    atomic_write_text(out, plan.to_toml())
    return out


# ============================================================================ helpers
def _is_control(ch: str) -> bool:
    """A character that breaks a line or is invisible control: tab, newline, NUL, DEL, C1
    controls, and the Unicode line and paragraph separators."""
    import unicodedata

    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e6:
            return f"{value:.1f}"
        return repr(value) if 1e-4 <= abs(value) < 1e6 else f"{value:.6g}".replace("e+", "e")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")  # pragma: no cover


def _short(x: float) -> str:
    """3e12 -> '3e12', 1.5e6 -> '1.5e6' (file-name safe)."""
    from scalinglaws.units import format_flops

    return format_flops(x)


def _qty(x: float) -> str:
    from scalinglaws.units import format_quantity

    return format_quantity(x)


def _quantity(value: Any, where: str) -> float:
    from scalinglaws.units import parse_quantity

    try:
        return parse_quantity(value, where)
    except ScalingLawsError as exc:
        raise PlanError(str(exc)) from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise PlanError(f"{where} must be a finite number, got {value!r}.")
    return float(value)


def _whole(value: Any, where: str, minimum: int = 0) -> int:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and float(value).is_integer()
        and value >= minimum
    )
    if not ok:
        raise PlanError(f"{where} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def _check(ok: bool, where: str, value: Any, valid: str) -> None:
    if not ok:
        raise PlanError(f"{where} must be {valid}, got {value!r}.")


__all__ = [
    "DEFAULT_FLOPS_PER_SECOND",
    "DEFAULT_TOKENS_PER_PARAM",
    "HParams",
    "KINDS",
    "Plan",
    "PlannedRun",
    "load_plan",
    "plan_from_dict",
    "read_plan_data",
    "write_plan",
]
