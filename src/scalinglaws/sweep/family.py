"""A model family: the shape rule that turns a target parameter count into a concrete GPT.

The rule (stated once, used by every plan), for a target of N non-embedding parameters:

    n_layer = max(1, round((N / (12·r²))^(1/3)))       r = aspect_ratio (d_model / n_layer)
    d_model = the multiple of head_dim (>= head_dim) whose N(n_layer, d_model) is nearest N
              in log, with N(n_layer, d) = 12·n_layer·d² + (2·n_layer + 1)·d
    n_head  = d_model / head_dim                         fixed head dimension (default 16)

n_layer is the depth at which a model of N parameters would have the aspect ratio exactly
(default r = 32; Kaplan et al. 2020 §3.1 and Figure 5 find the loss within a few percent over
a wide range of aspect ratios at fixed N), so depth never decreases as N grows; the width then
hits N as closely as multiples of head_dim allow.  N(n_layer, d) is the **non-embedding**
parameter count of the model that is actually trained: Kaplan et al. 2020 Table 1's
12·n_layer·d_model² from the weight matrices, plus the LayerNorm gains of ``sweep.model.GPT``.
A target the family cannot build within a factor 1.5 (e.g. between the one-layer widths of a
coarse head_dim) is an error, not a silent guess.

Context ``n_ctx`` and vocabulary (256 bytes) are the same for every size; embeddings are tied
and positions learned, as in ``sweep.model.GPT``; the MLP is 4·d_model wide.  Targets and
reported sizes are non-embedding N (Kaplan et al. 2020 §3.1 find cleaner laws without
embeddings); the total (embedding + non-embedding) is reported next to it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scalinglaws.errors import PlanError
from scalinglaws.flops import Architecture

#: Deepest model the family builds.
MAX_LAYERS = 1024
#: A target the family cannot reach within this factor is an error (not a silent guess).
MAX_SIZE_ERROR = 1.5


def architecture(
    n_layer: int, d_model: int, n_head: int, n_ctx: int, vocab_size: int = 256
) -> Architecture:
    """The :class:`~scalinglaws.flops.Architecture` of ``sweep.model.GPT`` with this shape.

    Tied embeddings, learned positions, d_ff = 4·d_model, no biases, LayerNorm gains counted as
    non-embedding parameters (the same as ``GPTConfig.architecture()``, without needing torch).
    """
    return Architecture(
        n_layer=n_layer,
        d_model=d_model,
        n_heads=n_head,
        vocab_size=vocab_size,
        n_ctx=n_ctx,
        tied_embeddings=True,
        learned_positions=True,
        biases=False,
        norm_gains=True,
    )


def non_embedding_params(n_layer: int, d_model: int) -> int:
    """Non-embedding parameters of the GPT's block stack:
    N = 12·n_layer·d_model² + (2·n_layer + 1)·d_model (Kaplan et al. 2020 Table 1's
    12·n_layer·d_model², plus the LayerNorm gains)."""
    return 12 * n_layer * d_model * d_model + (2 * n_layer + 1) * d_model


def describe(arch: Architecture) -> str:
    """A short shape label, e.g. ``"2x64 h4"`` (n_layer x d_model, heads)."""
    return f"{arch.n_layer}x{arch.d_model} h{arch.n_heads}"


@dataclass(frozen=True)
class ModelFamily:
    """GPT shapes of one family: fixed head dimension, context, vocabulary and aspect ratio.

    :meth:`architecture_for` applies the shape rule of the module docstring.
    """

    n_ctx: int = 128
    head_dim: int = 16
    aspect_ratio: float = 32.0
    vocab_size: int = 256

    def __post_init__(self) -> None:
        defaults = {"n_ctx": 128, "head_dim": 16, "vocab_size": 256}
        for name, default in defaults.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PlanError(
                    f"family {name} must be a whole number >= 1, got {value!r}; "
                    f"e.g. {name} = {default}."
                )
        if self.vocab_size < 2:
            raise PlanError(f"family vocab_size must be at least 2, got {self.vocab_size}.")
        ar = self.aspect_ratio
        if isinstance(ar, bool) or not isinstance(ar, (int, float)) or not 0 < ar < math.inf:
            raise PlanError(
                f"family aspect_ratio (d_model / n_layer) must be a positive number, got {ar!r}; "
                "e.g. aspect_ratio = 32."
            )
        object.__setattr__(self, "aspect_ratio", float(ar))

    def smallest(self) -> Architecture:
        """The smallest model of the family: one layer of width ``head_dim`` (one head)."""
        return self.build(1, self.head_dim)

    def build(self, n_layer: int, d_model: int) -> Architecture:
        """The architecture with this depth and width (``d_model`` a multiple of head_dim)."""
        if d_model % self.head_dim:
            raise PlanError(
                f"d_model={d_model} is not a multiple of the family's head_dim={self.head_dim}."
            )
        return architecture(n_layer, d_model, d_model // self.head_dim, self.n_ctx, self.vocab_size)

    def depth_for(self, N: float) -> int:
        """n_layer = max(1, round((N / (12·r²))^(1/3))): the depth at which N parameters have
        the aspect ratio r exactly (capped at MAX_LAYERS)."""
        ideal = (float(N) / (12.0 * self.aspect_ratio**2)) ** (1.0 / 3.0)
        return int(min(MAX_LAYERS, max(1, round(ideal))))

    def nearest(self, N: float) -> Architecture:
        """The shape the rule gives for N parameters, however far its N is from the target."""
        target = float(N)
        n_layer = self.depth_for(target)
        hd = self.head_dim
        ideal = math.sqrt(target / (12.0 * n_layer))
        widths = {
            max(hd, int(math.floor(ideal / hd)) * hd),
            max(hd, int(math.ceil(ideal / hd)) * hd),
        }
        d_model = min(
            sorted(widths),
            key=lambda d: abs(math.log(non_embedding_params(n_layer, d) / target)),
        )
        return self.build(n_layer, d_model)

    def architecture_for(self, N: float) -> Architecture:
        """The family's model for a target of N non-embedding parameters (the rule of the
        module docstring).  Raises :class:`PlanError` when its N is not within a factor 1.5."""
        target = float(N)
        if not (math.isfinite(target) and target > 0):
            raise PlanError(f"a model size must be a positive number of parameters, got {N!r}.")
        arch = self.nearest(target)
        got = arch.params().non_embedding
        if abs(math.log(got / target)) > math.log(MAX_SIZE_ERROR) + 1e-12:
            n_small = non_embedding_params(1, self.head_dim)
            raise PlanError(
                f"target size {target:.4g} parameters cannot be built within a factor "
                f"{MAX_SIZE_ERROR:g} by this family (nearest: {describe(arch)} with {got:,} "
                f"non-embedding parameters; the smallest model has {n_small:,}); choose another "
                "size or lower head_dim for finer widths."
            )
        return arch

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values (the ``[family]`` table of a plan)."""
        return asdict(self)


__all__ = [
    "MAX_LAYERS",
    "MAX_SIZE_ERROR",
    "ModelFamily",
    "architecture",
    "describe",
    "non_embedding_params",
]
