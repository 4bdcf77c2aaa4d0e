"""A small GPT in the nanoGPT style, written to be read in one sitting.

Architecture (Radford et al. 2019, GPT-2, as re-implemented by Karpathy's nanoGPT):

    h_0   = wte[x_t] + wpe[t]                                   learned positions
    h'    = h + Attn(LN_1(h))                                   pre-LN residual blocks
    h     = h' + MLP(LN_2(h'))         MLP(u) = W_2 GELU(W_1 u), d_ff = 4 d_model
    p(x_{t+1} | x_<=t) = softmax(LN_f(h_L) wte^T)               tied input/output embedding

Attention is causal multi-head ``scaled_dot_product_attention``.  Choices, stated once:

* **No biases** in linear layers and **LayerNorm with a gain but no bias** (nanoGPT's
  ``bias=False``, as in PaLM): fewer parameters that do nothing useful at this scale.
* Parameter counts: *embedding* = token table (tied with the output head, counted once) +
  position table; *non-embedding* = everything else, i.e. Kaplan et al. 2020's
  12 n_layer d_model^2 **plus** the LayerNorm gains, (2 n_layer + 1) d_model.  This equals
  ``flops.Architecture(..., norm_gains=True).params()`` (see :meth:`GPTConfig.architecture`).
* Initialisation: N(0, 0.02) for every weight matrix and embedding, and N(0, 0.02/sqrt(2 n_layer))
  for the two residual output projections of each block (GPT-2 §2.3).
* Weight decay (see :func:`param_groups`): on the weight matrices of the blocks only — never
  on LayerNorm gains or the (tied) token and position embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from scalinglaws.flops import Architecture


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT: depth, width, heads, context length and vocabulary (256 bytes)."""

    n_layer: int
    d_model: int
    n_head: int
    n_ctx: int
    vocab_size: int = 256
    dropout: float = 0.0

    def architecture(self) -> Architecture:
        """This shape as a :class:`scalinglaws.flops.Architecture` (for parameter/FLOP counts).

        Tied embeddings, learned positions, d_ff = 4 d_model, no biases, LayerNorm gains
        counted as non-embedding parameters.
        """
        from scalinglaws.flops import Architecture

        return Architecture(
            n_layer=self.n_layer,
            d_model=self.d_model,
            n_heads=self.n_head,
            vocab_size=self.vocab_size,
            n_ctx=self.n_ctx,
            tied_embeddings=True,
            learned_positions=True,
            biases=False,
            norm_gains=True,
        )


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t attends to positions <= t only."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.dropout = cfg.dropout
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, n_head, T, d_head)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: W_2 GELU(W_1 x), hidden width 4 d_model."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model, bias=False)
        self.act = nn.GELU()
        self.proj = nn.Linear(4 * cfg.d_model, cfg.d_model, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(self.act(self.fc(x))))


class Block(nn.Module):
    """One pre-LN transformer block: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model, bias=False)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.d_model, bias=False)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only transformer language model over ``vocab_size`` byte tokens."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.n_ctx, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model, bias=False)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one matrix, counted once
        self.register_buffer("pos", torch.arange(cfg.n_ctx), persistent=False)
        self._init_weights()

    def _init_weights(self) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            if p.dim() < 2:  # LayerNorm gains (initialised to 1 by LayerNorm)
                continue
            is_residual_out = name.endswith("attn.proj.weight") or name.endswith("mlp.proj.weight")
            nn.init.normal_(p, mean=0.0, std=residual_std if is_residual_out else 0.02)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, vocab) for token ids ``idx`` (B, T), and the mean cross-entropy in nats
        per token, -(1/BT) sum_t log p(targets_t | idx_<=t), when ``targets`` is given."""
        T = idx.shape[1]
        h = self.drop(self.wte(idx) + self.wpe(self.pos[:T]))
        for block in self.blocks:
            h = block(h)
        logits = self.lm_head(self.ln_f(h))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def param_counts(self) -> dict[str, int]:
        """Parameters actually in the model: ``non_embedding``, ``embedding``, ``total``.

        embedding = vocab·d (tied token table and output head, counted once) + n_ctx·d;
        non_embedding = 12·n_layer·d² + (2·n_layer + 1)·d (blocks and LayerNorm gains).
        """
        total = sum(p.numel() for p in self.parameters())  # shared tensors are yielded once
        embedding = self.wte.weight.numel() + self.wpe.weight.numel()
        return {"non_embedding": total - embedding, "embedding": embedding, "total": total}


def param_groups(model: GPT, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: decay the blocks' weight matrices; not LayerNorm gains, not the
    (tied) token embedding, not the position embedding (Loshchilov & Hutter 2019 decoupled
    decay; the usual GPT practice of exempting gains and embeddings)."""
    embeddings = {id(model.wte.weight), id(model.wpe.weight)}
    decay, no_decay = [], []
    for p in model.parameters():
        if p.dim() >= 2 and id(p) not in embeddings:
            decay.append(p)
        else:
            no_decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
