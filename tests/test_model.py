"""The GPT: parameter counts against flops.Architecture and a hand formula, causal masking,
the loss against an explicit cross-entropy, and attention against an explicit masked softmax."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from scalinglaws.flops import Architecture  # noqa: E402
from scalinglaws.sweep.model import GPT, GPTConfig, param_groups  # noqa: E402

pytestmark = pytest.mark.train

SHAPES = [(1, 32, 1, 16), (2, 64, 4, 32), (4, 128, 4, 128), (3, 96, 3, 64)]


@pytest.mark.parametrize("n_layer,d_model,n_head,n_ctx", SHAPES)
def test_param_count_matches_architecture_and_hand_formula(n_layer, d_model, n_head, n_ctx):
    cfg = GPTConfig(n_layer=n_layer, d_model=d_model, n_head=n_head, n_ctx=n_ctx)
    counts = GPT(cfg).param_counts()
    # Independent formula: 12 L d^2 in the blocks + (2L + 1) LayerNorm gains; tied V d + n_ctx d.
    non_emb = 12 * n_layer * d_model**2 + (2 * n_layer + 1) * d_model
    emb = 256 * d_model + n_ctx * d_model
    assert counts == {"non_embedding": non_emb, "embedding": emb, "total": non_emb + emb}
    arch = Architecture(
        n_layer=n_layer,
        d_model=d_model,
        n_heads=n_head,
        vocab_size=256,
        n_ctx=n_ctx,
        norm_gains=True,
    )
    p = arch.params()
    assert (p.non_embedding, p.embedding, p.total) == (non_emb, emb, non_emb + emb)
    assert cfg.architecture().params() == p
    # Kaplan's N (no gains) is 12 L d^2 exactly.
    assert Architecture(n_layer, d_model, n_head, 256, n_ctx).params().non_embedding == (
        12 * n_layer * d_model**2
    )


def test_embeddings_are_tied_and_counted_once():
    model = GPT(GPTConfig(2, 64, 2, 32))
    assert model.lm_head.weight is model.wte.weight
    assert sum(p.numel() for p in model.parameters()) == model.param_counts()["total"]
    assert model.param_counts()["total"] == 2 * 12 * 64**2 + 5 * 64 + 256 * 64 + 32 * 64


def test_weight_decay_groups():
    cfg = GPTConfig(3, 64, 4, 32)
    model = GPT(cfg)
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    # four matrices per block decay: qkv (3d x d), attn proj, MLP in, MLP out
    assert len(decay["params"]) == 4 * cfg.n_layer
    assert sum(p.numel() for p in decay["params"]) == 12 * cfg.n_layer * cfg.d_model**2
    ids = {id(p) for p in no_decay["params"]}
    assert id(model.wte.weight) in ids and id(model.wpe.weight) in ids
    assert len(no_decay["params"]) == 2 + 2 * cfg.n_layer + 1  # embeddings + LayerNorm gains


def test_causal_masking_future_tokens_do_not_change_earlier_logits():
    torch.manual_seed(0)
    model = GPT(GPTConfig(2, 64, 4, 32)).eval()
    x = torch.randint(0, 256, (2, 32))
    y = x.clone()
    y[:, 20] = (y[:, 20] + 1) % 256
    y[:, 27:] = 7
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(y)
    assert torch.allclose(a[:, :20], b[:, :20], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, 20:], b[:, 20:], atol=1e-3)  # the change is visible after


def test_attention_equals_explicit_masked_softmax():
    torch.manual_seed(1)
    model = GPT(GPTConfig(1, 32, 4, 16)).eval()
    attn = model.blocks[0].attn
    x = torch.randn(3, 10, 32)
    with torch.no_grad():
        out = attn(x)
        q, k, v = (x @ attn.qkv.weight.T).split(32, dim=2)
        heads = []
        for h in range(4):
            sl = slice(8 * h, 8 * h + 8)
            scores = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(8)
            mask = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)
            scores = scores.masked_fill(mask, float("-inf"))
            heads.append(torch.softmax(scores, dim=-1) @ v[..., sl])
        expected = torch.cat(heads, dim=-1) @ attn.proj.weight.T
    assert torch.allclose(out, expected, atol=1e-5)


def test_loss_is_mean_cross_entropy_in_nats_and_starts_near_log_vocab():
    torch.manual_seed(2)
    model = GPT(GPTConfig(2, 64, 2, 32)).eval()
    x = torch.randint(0, 256, (4, 33))
    with torch.no_grad():
        logits, loss = model(x[:, :-1], x[:, 1:])
    logp = torch.log_softmax(logits.double(), dim=-1)
    manual = -logp.gather(-1, x[:, 1:, None]).mean()
    assert float(loss) == pytest.approx(float(manual), rel=1e-5)
    # N(0, 0.02) weights give near-uniform predictions: loss ~ ln 256 = 5.545 nats
    assert abs(float(loss) - math.log(256)) < 0.05


def test_shorter_input_than_context_and_seeded_init():
    torch.manual_seed(3)
    a = GPT(GPTConfig(2, 32, 2, 64))
    torch.manual_seed(3)
    b = GPT(GPTConfig(2, 32, 2, 64))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    logits, loss = a(torch.zeros(1, 5, dtype=torch.long))
    assert logits.shape == (1, 5, 256) and loss is None
