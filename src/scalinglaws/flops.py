"""Parameter counts and training FLOPs per token of a decoder-only transformer.

Parameter convention (stated once, used everywhere):

* **non-embedding** N counts the weight matrices of every block — attention Q, K, V and output
  projections, and the MLP (two matrices, or three when gated) — plus, only when asked for, the
  bias vectors (``biases=True``) and the normalisation gains (``norm_gains=True``: two norms per
  block and a final one).  With both off and d_attn = d_model, d_ff = 4·d_model this is Kaplan
  et al. 2020 (Table 1): N = 2·d_model·n_layer·(2·d_attn + d_ff) = 12·n_layer·d_model².
* **embedding** counts the token embedding (vocab·d_model), the learned position table
  (n_ctx·d_model, when ``learned_positions``) and the output projection when it is not tied to
  the token embedding (another vocab·d_model).
* **total** = non-embedding + embedding.

FLOP conventions (training FLOPs per token = forward + backward; see :data:`CONVENTIONS`):

* ``"6N"`` — 6 x non-embedding N (Kaplan et al. 2020, C ≈ 6N).
* ``"6N-total"`` — 6 x total N (the habit of quoting C = 6ND with N including embeddings).
* ``"kaplan"`` — Kaplan Table 1: 3 x (2N + 2·n_layer·n_ctx·d_attn).
* ``"chinchilla"`` — Hoffmann et al. 2022, Appendix F: embeddings, attention (QKV, K@Q, softmax,
  softmax@V, output), dense layers and logits, multiply-accumulate = 2 FLOPs, backward = 2x
  forward.
* ``"palm"`` — Chowdhery et al. 2022, Appendix B: 6N + 12·n_layer·d_attn·n_ctx (N non-embedding
  here, so the ratio to 6N isolates the attention term; d_attn = n_heads·d_head = H·Q).
* ``"deepseek"`` — DeepSeek LLM 2024, M = 72·n_layer·d_model² + 12·n_layer·d_model·l_seq, taken
  literally (it assumes d_ff = 4·d_model and ignores the vocabulary).

None of the conventions halves the attention cost for causal masking: each counts every query
against all n_ctx keys, as the papers do.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scalinglaws.errors import QuantityError, UnknownNameError, did_you_mean

#: Named FLOP conventions accepted by :func:`flops_per_token`.
CONVENTIONS: tuple[str, ...] = ("6N", "6N-total", "kaplan", "chinchilla", "palm", "deepseek")

#: Largest size of an architecture field (layers, widths, heads, vocabulary, context): the
#: usable range of quantities (:data:`scalinglaws.units.QUANTITY_RANGE`).
MAX_SIZE = 10**65

#: One line on each convention, with its source, for tables and ``--help``.
CONVENTION_NOTES: dict[str, str] = {
    "6N": "6 x non-embedding N",
    "6N-total": "6 x total N (embeddings too)",
    "kaplan": "3 x (2N + 2 n_layer n_ctx d_attn)",
    "chinchilla": "3 x forward: embed, attention, logits",
    "palm": "6N + 12 n_layer d_attn n_ctx",
    "deepseek": "72 n_layer d^2 + 12 n_layer d n_ctx",
}

#: Where each convention is defined.
CONVENTION_SOURCES: dict[str, str] = {
    "6N": "Kaplan et al. 2020, §2.1",
    "6N-total": "common usage (C = 6ND with all parameters)",
    "kaplan": "Kaplan et al. 2020, Table 1",
    "chinchilla": "Hoffmann et al. 2022, Appendix F",
    "palm": "Chowdhery et al. 2022, Appendix B",
    "deepseek": "DeepSeek-AI 2024 (DeepSeek LLM), §3.1",
}


@dataclass(frozen=True)
class ParamCount:
    """Parameters of an architecture: ``non_embedding + embedding = total``."""

    non_embedding: int
    embedding: int
    total: int


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            is_whole = float(value).is_integer()
        except (TypeError, ValueError, OverflowError):
            is_whole = False
        if isinstance(value, bool) or not is_whole:
            raise QuantityError(f"Architecture {name} must be a positive integer, got {value!r}.")
        value = int(value)
    if value <= 0:
        raise QuantityError(f"Architecture {name} must be a positive integer, got {value!r}.")
    if value > MAX_SIZE:
        raise QuantityError(
            f"Architecture {name} must be a positive integer at most 1e65 (larger sizes "
            f"overflow the FLOP counts), got about 1e{int(math.log10(value))}."
        )
    return value


def _finite(value: float, what: str) -> float:
    """``value`` if it is a finite float, else one sentence saying ``what`` overflowed."""
    if not math.isfinite(value):
        raise QuantityError(
            f"the {what} of this architecture is {value:g}, beyond the range of floating-point "
            "numbers; give sizes of realistic magnitude."
        )
    return value


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, as far as parameter and FLOP counting needs it.

    ``d_ff`` defaults to 4·d_model (also for a gated MLP: pass the real width, e.g. Llama's
    8/3·d_model rounded), ``d_head`` to d_model // n_heads, ``n_kv_heads`` (grouped-query
    attention) to n_heads.  ``biases`` counts bias vectors of linear layers and norms;
    ``norm_gains`` counts normalisation gains; both default to off, as in Kaplan's N.
    """

    n_layer: int
    d_model: int
    n_heads: int
    vocab_size: int
    n_ctx: int
    d_ff: int | None = None
    d_head: int | None = None
    tied_embeddings: bool = True
    gated_mlp: bool = False
    learned_positions: bool = True
    n_kv_heads: int | None = None
    biases: bool = False
    norm_gains: bool = False

    def __post_init__(self) -> None:
        for name in ("n_layer", "d_model", "n_heads", "vocab_size", "n_ctx"):
            object.__setattr__(self, name, _positive_int(getattr(self, name), name))
        d_ff = 4 * self.d_model if self.d_ff is None else _positive_int(self.d_ff, "d_ff")
        object.__setattr__(self, "d_ff", d_ff)
        if self.d_head is None:
            if self.d_model % self.n_heads:
                raise QuantityError(
                    f"Architecture n_heads={self.n_heads} does not divide "
                    f"d_model={self.d_model}; give d_head explicitly or choose n_heads "
                    "that divides d_model."
                )
            object.__setattr__(self, "d_head", self.d_model // self.n_heads)
        else:
            object.__setattr__(self, "d_head", _positive_int(self.d_head, "d_head"))
        if self.n_kv_heads is None:
            object.__setattr__(self, "n_kv_heads", self.n_heads)
        else:
            kv = _positive_int(self.n_kv_heads, "n_kv_heads")
            if self.n_heads % kv:
                raise QuantityError(
                    f"Architecture n_kv_heads={kv} must divide n_heads={self.n_heads} "
                    "(grouped-query attention shares each key/value head among query heads)."
                )
            object.__setattr__(self, "n_kv_heads", kv)
        for flag in ("tied_embeddings", "gated_mlp", "learned_positions", "biases", "norm_gains"):
            if not isinstance(getattr(self, flag), bool):
                raise QuantityError(
                    f"Architecture {flag} must be True or False, got {getattr(self, flag)!r}."
                )

    @property
    def d_attn(self) -> int:
        """Width of the attention (Kaplan's d_attn): n_heads x d_head."""
        return self.n_heads * int(self.d_head)  # type: ignore[arg-type]

    @property
    def d_kv(self) -> int:
        """Width of the key (and of the value) projection: n_kv_heads x d_head."""
        return int(self.n_kv_heads) * int(self.d_head)  # type: ignore[arg-type]

    @property
    def mlp_matrices(self) -> int:
        """Weight matrices in the MLP: 3 when gated (SwiGLU/GeGLU), else 2."""
        return 3 if self.gated_mlp else 2

    def param_breakdown(self) -> dict[str, int]:
        """Parameters by component (see the module docstring for the convention).

        Keys: ``attention``, ``mlp``, ``norms`` (all blocks and the final norm),
        ``token_embedding``, ``position_embedding``, ``output_head`` (0 when tied).
        """
        d, ff, L = self.d_model, int(self.d_ff), self.n_layer  # type: ignore[arg-type]
        attn = d * self.d_attn + 2 * d * self.d_kv + self.d_attn * d
        mlp = self.mlp_matrices * d * ff
        if self.biases:
            attn += self.d_attn + 2 * self.d_kv + d
            mlp += (self.mlp_matrices - 1) * ff + d
        per_norm = d * (int(self.norm_gains) + int(self.biases))
        return {
            "attention": L * attn,
            "mlp": L * mlp,
            "norms": (2 * L + 1) * per_norm,
            "token_embedding": self.vocab_size * d,
            "position_embedding": self.n_ctx * d if self.learned_positions else 0,
            "output_head": 0 if self.tied_embeddings else self.vocab_size * d,
        }

    def params(self) -> ParamCount:
        """Non-embedding, embedding and total parameters.

        Non-embedding N = n_layer·(2·d·d_attn + 2·d·d_kv + n_mlp·d·d_ff) [+ biases, norm gains],
        which is Kaplan et al. 2020's 12·n_layer·d_model² for a standard block; embedding =
        vocab·d (+ n_ctx·d for learned positions) (+ vocab·d for an untied output head).
        """
        b = self.param_breakdown()
        non_emb = b["attention"] + b["mlp"] + b["norms"]
        emb = b["token_embedding"] + b["position_embedding"] + b["output_head"]
        return ParamCount(non_embedding=non_emb, embedding=emb, total=non_emb + emb)

    def to_dict(self) -> dict[str, Any]:
        """The resolved fields (defaults filled in), for JSON output."""
        return asdict(self)


def chinchilla_forward_breakdown(arch: Architecture) -> dict[str, float]:
    """Forward FLOPs per token by component, Hoffmann et al. 2022 (Appendix F).

    Per sequence of s = n_ctx tokens, with k·h = d_attn and a multiply-accumulate counted as 2:
    embeddings 2·s·V·d; per layer QKV 2·3·s·d·(k·h) (2·s·d·(d_attn + 2·d_kv) with grouped
    keys/values), K@Q 2·s²·(k·h), softmax 3·h·s², softmax@V 2·s²·(k·h), output 2·s·(k·h)·d,
    dense 2·s·(d·ffw + d·ffw) (three matrices when gated); logits 2·s·d·V.  Divided by s.
    """
    d, s, V, L = arch.d_model, arch.n_ctx, arch.vocab_size, arch.n_layer
    ff = float(arch.d_ff)  # type: ignore[arg-type]
    return {
        "embeddings": 2.0 * V * d,
        "qkv": L * 2.0 * d * (arch.d_attn + 2 * arch.d_kv),
        "attention_logits": L * 2.0 * s * arch.d_attn,
        "softmax": L * 3.0 * arch.n_heads * s,
        "attention_values": L * 2.0 * s * arch.d_attn,
        "attention_output": L * 2.0 * arch.d_attn * d,
        "dense": L * 2.0 * arch.mlp_matrices * d * ff,
        "logits": 2.0 * d * V,
    }


def check_convention(convention: str) -> str:
    """Return the canonical spelling of a convention name, or raise :class:`UnknownNameError`."""
    if isinstance(convention, str):
        for name in CONVENTIONS:
            if convention.strip().lower() == name.lower():
                return name
    raise UnknownNameError(
        f"unknown FLOP convention {convention!r}{did_you_mean(str(convention), CONVENTIONS)}"
    )


def flops_per_token(arch: Architecture, convention: str = "6N") -> float:
    """Training FLOPs per token (forward + backward) of ``arch`` under a named convention.

    ``"6N"``: 6·N (N non-embedding; Kaplan et al. 2020).  ``"6N-total"``: 6·N_total.
    ``"kaplan"``: 3·(2N + 2·n_layer·n_ctx·d_attn) (Kaplan Table 1; training = 3x forward).
    ``"chinchilla"``: 3 x the Appendix F forward count (:func:`chinchilla_forward_breakdown`;
    Hoffmann et al. 2022).  ``"palm"``: 6N + 12·n_layer·d_attn·n_ctx (Chowdhery et al. 2022,
    App. B).  ``"deepseek"``: 72·n_layer·d_model² + 12·n_layer·d_model·n_ctx (DeepSeek LLM 2024).
    """
    if not isinstance(arch, Architecture):
        raise QuantityError(
            f"flops_per_token needs an Architecture, got {type(arch).__name__}; "
            "build one with Architecture(n_layer=..., d_model=..., ...)."
        )
    conv = check_convention(convention)
    try:
        return _finite(_flops_per_token(arch, conv), f"FLOPs per token ({conv})")
    except OverflowError:  # a parameter count too large for a float
        raise QuantityError(
            f"the FLOPs per token ({conv}) of this architecture are beyond the range of "
            "floating-point numbers; give sizes of realistic magnitude."
        ) from None


def _flops_per_token(arch: Architecture, conv: str) -> float:
    p = arch.params()
    n = float(p.non_embedding)
    attn_ctx = float(arch.n_layer) * arch.n_ctx * arch.d_attn
    if conv == "6N":
        return 6.0 * n
    if conv == "6N-total":
        return 6.0 * p.total
    if conv == "kaplan":
        return 3.0 * (2.0 * n + 2.0 * attn_ctx)
    if conv == "chinchilla":
        return 3.0 * sum(chinchilla_forward_breakdown(arch).values())
    if conv == "palm":
        return 6.0 * n + 12.0 * attn_ctx
    # deepseek
    L, d = float(arch.n_layer), float(arch.d_model)
    return 72.0 * L * d * d + 12.0 * L * d * arch.n_ctx


def all_conventions(arch: Architecture) -> dict[str, float]:
    """Training FLOPs per token of ``arch`` under every convention in :data:`CONVENTIONS`."""
    return {c: flops_per_token(arch, c) for c in CONVENTIONS}


def training_flops(arch: Architecture, tokens: float, convention: str = "6N") -> float:
    """Training FLOPs for ``tokens`` tokens: C = flops_per_token(arch, convention) x D."""
    from scalinglaws.units import parse_quantity

    flops = flops_per_token(arch, convention) * parse_quantity(tokens, "tokens")
    return _finite(flops, "training FLOPs")


def flops_6nd(N: Any, D: Any, k: float = 6.0) -> Any:
    """The standard approximation C = 6·N·D (Kaplan et al. 2020; Hoffmann et al. 2022).

    ``k`` replaces 6 for other FLOPs-per-parameter-per-token accountings.  Works on arrays.
    """
    return k * N * D
