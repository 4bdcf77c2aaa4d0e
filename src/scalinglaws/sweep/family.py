"""A model family: the shape rule that turns a target parameter count into a concrete GPT.

The rule (stated once, used by every plan), for a target of N non-embedding parameters:

    n_layer = max(m, round((N / (12·r²))^(1/3)))       r = aspect_ratio (d_model / n_layer),
                                                         m = min_layers (default 1)
    d_model = the multiple of head_dim (>= head_dim) whose N(n_layer, d_model) is nearest N
              in log, with N(n_layer, d) = 12·n_layer·d² + (2·n_layer + 1)·d
    n_head  = d_model / head_dim                         fixed head dimension (default 16)

n_layer is the depth at which a model of N parameters would have the aspect ratio exactly
(default r = 32; Kaplan et al. 2020 §3.1 and Figure 5 find the loss within a few percent over
a wide range of aspect ratios at fixed N), so depth never decreases as N grows; the width then
hits N as closely as multiples of head_dim allow.  ``min_layers`` keeps the smallest models
multi-layer (below the size where the aspect ratio would give that depth they are narrower).
N(n_layer, d) is the **non-embedding** parameter count of the model that is actually
trained: Kaplan et al. 2020 Table 1's 12·n_layer·d_model² from the weight matrices, plus the
LayerNorm gains of ``sweep.model.GPT``.
A target the family cannot build within a factor 1.5 (e.g. between the one-layer widths of a
coarse head_dim) is an error, not a silent guess.

Context ``n_ctx`` and vocabulary (256 bytes) are the same for every size; embeddings are tied
and positions learned, as in ``sweep.model.GPT``; the MLP is 4·d_model wide.  Targets and
reported sizes are non-embedding N (Kaplan et al. 2020 §3.1 find cleaner laws without
embeddings); the total (embedding + non-embedding) is reported next to it.

:class:`FamilyFlops` (``family.flops_function(convention)``) is the family's training FLOPs per
token as a smooth function f(N) of non-embedding N, so that a budget C splits as C = f(N)·D
under the sweep's own convention (used by the report for every approach's allocation).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from scalinglaws.errors import PlanError, QuantityError
from scalinglaws.flops import Architecture, check_convention, flops_per_token

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
    min_layers: int = 1

    def __post_init__(self) -> None:
        defaults = {"n_ctx": 128, "head_dim": 16, "vocab_size": 256, "min_layers": 1}
        for name, default in defaults.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PlanError(
                    f"family {name} must be a whole number >= 1, got {value!r}; "
                    f"e.g. {name} = {default}."
                )
        if self.min_layers > MAX_LAYERS:
            raise PlanError(
                f"family min_layers must be at most {MAX_LAYERS}, got {self.min_layers}."
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
        """The smallest model of the family: ``min_layers`` layers of width ``head_dim`` (one
        head)."""
        return self.build(self.min_layers, self.head_dim)

    def build(self, n_layer: int, d_model: int) -> Architecture:
        """The architecture with this depth and width (``d_model`` a multiple of head_dim)."""
        if d_model % self.head_dim:
            raise PlanError(
                f"d_model={d_model} is not a multiple of the family's head_dim={self.head_dim}."
            )
        return architecture(n_layer, d_model, d_model // self.head_dim, self.n_ctx, self.vocab_size)

    def depth_for(self, N: float) -> int:
        """n_layer = max(min_layers, round((N / (12·r²))^(1/3))): the depth at which N
        parameters have the aspect ratio r exactly (capped at MAX_LAYERS)."""
        ideal = (float(N) / (12.0 * self.aspect_ratio**2)) ** (1.0 / 3.0)
        return int(min(MAX_LAYERS, max(self.min_layers, round(ideal))))

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
            n_small = non_embedding_params(self.min_layers, self.head_dim)
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

    def flops_function(self, convention: str = "chinchilla") -> FamilyFlops:
        """The smooth FLOPs-per-token function f(N) of this family under ``convention``
        (:class:`FamilyFlops`)."""
        return FamilyFlops(self, convention)


# ============================================================================ f(N) of a family
#: Target sizes per decade at which the shape rule is sampled for the knots of FamilyFlops
#: (every shape is a knot while consecutive widths differ by more than ~1.8% in N).
KNOTS_PER_DECADE = 128
#: Largest non-embedding N sampled for the knots; above it f is extended linearly in log-log.
KNOTS_MAX_N = 1e15


def _pool_adjacent_violators(y: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest ``y`` in least squares (isotonic regression by
    pooling adjacent violators, equal weights)."""
    values: list[float] = []
    counts: list[int] = []
    for v in y.tolist():
        values.append(v)
        counts.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            n = counts[-2] + counts[-1]
            values[-2] = (values[-2] * counts[-2] + values[-1] * counts[-1]) / n
            counts[-2] = n
            values.pop()
            counts.pop()
    return np.repeat(values, counts)


@dataclass(frozen=True)
class FamilyFlops:
    """Training FLOPs per token f(N) of the family's model of N non-embedding parameters,
    under a FLOP convention of :mod:`scalinglaws.flops`, made smooth for minimisers.

    The shape rule gives discrete shapes, so f(family.nearest(N)) is a step function of N,
    which trips numeric minimisers (the allocation argmin_N L(N, C/f(N)) of
    :func:`scalinglaws.allocation.allocate`).  This f is instead the **monotone cubic
    interpolation** (PCHIP, Fritsch & Carlson 1980; ``scipy.interpolate.PchipInterpolator``)
    of log f against log N through the family's *canonical* shapes — the shapes the rule
    returns for their own parameter count, ``nearest(N(shape)) == shape``, with
    f = :func:`scalinglaws.flops.flops_per_token` (e.g. ``"chinchilla"``, Hoffmann et al. 2022
    App. F) — sampled at :data:`KNOTS_PER_DECADE` target sizes per decade from the smallest
    model to :data:`KNOTS_MAX_N`.  So:

    * f(N) is exact (to rounding) at every canonical shape, which includes every model a
      sweep of small models trains except the few just below a change of depth (there the
      next depth's shapes are a few percent cheaper per token);
    * f is continuous with a continuous derivative, and non-decreasing: if the knots ever
      decrease, log f is first replaced by its isotonic regression (pool adjacent violators);
    * outside the knots log f is extended linearly with the slope of the two end knots.

    ``C = f(N)·D`` is then the sweep's own convention for every N, not only the trained ones;
    N counts non-embedding parameters (the ``N`` column of a sweep's ``runs.csv``).

    Where the depth changes, a model one layer deeper is narrower at equal N and so cheaper per
    token when embeddings and logits weigh much (small models), and f rises slowly across the
    change: for the demo family (n_ctx 64, head_dim 4, vocabulary 256, "chinchilla") its
    log-log slope falls from ~0.75 to ~0.4 between one and two layers (N ≈ 38k–47k).  Along a
    budget, L(N, C/f(N)) can then have two minima, and the compute-optimal N*(C) jumps across
    that stretch: a property of the family's FLOP accounting, which this f keeps, not of the
    interpolation.
    """

    family: ModelFamily
    convention: str = "chinchilla"
    _log_n: np.ndarray = field(init=False, repr=False, compare=False)
    _log_f: np.ndarray = field(init=False, repr=False, compare=False)
    _anchors: np.ndarray = field(init=False, repr=False, compare=False)
    _coefs: np.ndarray = field(init=False, repr=False, compare=False)
    _pooled: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from scipy.interpolate import PchipInterpolator

        if not isinstance(self.family, ModelFamily):
            raise QuantityError(
                f"FamilyFlops needs a ModelFamily, got {type(self.family).__name__}; build one "
                "with ModelFamily(n_ctx=..., head_dim=..., aspect_ratio=..., vocab_size=...)."
            )
        object.__setattr__(self, "convention", check_convention(self.convention))
        smallest = self.family.smallest().params().non_embedding
        decades = math.log10(KNOTS_MAX_N / smallest)
        targets = np.geomspace(smallest, KNOTS_MAX_N, int(math.ceil(decades * KNOTS_PER_DECADE)))
        knots: dict[int, float] = {}
        for target in targets:
            arch = self.family.nearest(float(target))
            n = arch.params().non_embedding
            if n in knots or self.family.nearest(n) != arch:
                continue
            knots[n] = flops_per_token(arch, self.convention)
        n_sorted = np.array(sorted(knots), dtype=float)
        log_f = np.log([knots[int(n)] for n in n_sorted])
        pooled = _pool_adjacent_violators(log_f)
        log_n = np.log(n_sorted)
        pchip = PchipInterpolator(log_n, pooled)
        # one cubic per interval (Horner in x - anchor), plus a linear piece on each side
        slope_lo = (pooled[1] - pooled[0]) / (log_n[1] - log_n[0])
        slope_hi = (pooled[-1] - pooled[-2]) / (log_n[-1] - log_n[-2])
        left = np.array([[0.0], [0.0], [slope_lo], [pooled[0]]])
        right = np.array([[0.0], [0.0], [slope_hi], [pooled[-1]]])
        coefs = np.hstack([left, np.asarray(pchip.c, dtype=float), right])
        anchors = np.concatenate([[log_n[0]], log_n, [log_n[-1]]])
        object.__setattr__(self, "_log_n", log_n)
        object.__setattr__(self, "_log_f", pooled)
        object.__setattr__(self, "_anchors", anchors)
        object.__setattr__(self, "_coefs", coefs)
        object.__setattr__(self, "_pooled", int(np.sum(np.abs(pooled - log_f) > 1e-12)))

    def __call__(self, N: Any) -> Any:
        """f(N) in FLOPs per token for N non-embedding parameters (arrays in, arrays out;
        a float for a scalar)."""
        n = np.asarray(N, dtype=float)
        ok = (n > 0) & (n < np.inf)
        if not ok.all():
            raise QuantityError(
                "FLOPs per token f(N) needs finite parameter counts N greater than 0, got "
                f"{float(np.ravel(n)[~np.ravel(ok)][0])!r}."
            )
        x = np.log(n)
        piece = np.searchsorted(self._log_n, x, side="right")
        dx = x - self._anchors[piece]
        c = self._coefs[:, piece]
        out = np.exp(((c[0] * dx + c[1]) * dx + c[2]) * dx + c[3])
        return float(out) if out.ndim == 0 else out

    @property
    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        """(N, f) at the knots: the canonical shapes' non-embedding N and FLOPs per token
        (after the isotonic repair, if any was needed)."""
        return np.exp(self._log_n), np.exp(self._log_f)

    @property
    def description(self) -> str:
        """The convention in words, for a Fit's ``method`` and a report."""
        return f"C under the sweep's {self.convention} convention (family shape rule)"

    def to_dict(self) -> dict[str, Any]:
        """What defines f, as plain values (for JSON)."""
        return {
            "description": self.description,
            "formula": "C = f(N)·D, N non-embedding parameters",
            "convention": self.convention,
            "family": self.family.to_dict(),
            "interpolation": "monotone cubic (PCHIP) of log f against log N through the "
            "family's canonical shapes; linear in log-log outside them",
            "knots": int(self._log_n.size),
            "knots_adjusted": self._pooled,
        }


__all__ = [
    "KNOTS_MAX_N",
    "KNOTS_PER_DECADE",
    "FamilyFlops",
    "MAX_LAYERS",
    "MAX_SIZE_ERROR",
    "ModelFamily",
    "architecture",
    "describe",
    "non_embedding_params",
]
