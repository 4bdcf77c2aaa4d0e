"""Parameter counts and FLOPs per token (scalinglaws.flops).

Every expected number is either printed by a paper or model card, or computed by hand here,
term by term, independently of the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import QuantityError, UnknownNameError
from scalinglaws.flops import (
    CONVENTIONS,
    Architecture,
    ParamCount,
    all_conventions,
    check_convention,
    chinchilla_forward_breakdown,
    flops_6nd,
    flops_per_token,
    training_flops,
)

# Chinchilla (Hoffmann et al. 2022, Table 4): 80 layers, d_model 8192, 64 heads of 128,
# d_ff = 4 d_model, vocab 32000 (SentencePiece), sequence 2048; relative positions (no table).
CHINCHILLA = Architecture(
    n_layer=80,
    d_model=8192,
    n_heads=64,
    vocab_size=32000,
    n_ctx=2048,
    d_ff=32768,
    learned_positions=False,
)
CHINCHILLA_TOKENS = 1.4e12


def test_defaults_are_filled_in():
    a = Architecture(n_layer=2, d_model=64, n_heads=4, vocab_size=100, n_ctx=16)
    assert a.d_ff == 256 and a.d_head == 16 and a.n_kv_heads == 4
    assert a.d_attn == 64 and a.d_kv == 64 and a.mlp_matrices == 2
    assert a.to_dict()["d_ff"] == 256


def test_kaplan_non_embedding_formula_with_narrow_attention():
    # Kaplan Table 1: N = 2 d_model n_layer (2 d_attn + d_ff); here d_attn = 4*32 = 128 != d_model.
    a = Architecture(n_layer=4, d_model=256, n_heads=4, vocab_size=1000, n_ctx=64, d_head=32)
    p = a.params()
    assert p.non_embedding == 2 * 256 * 4 * (2 * 128 + 1024)
    # embedding = token table + learned position table (tied head)
    assert p.embedding == 1000 * 256 + 64 * 256
    assert p.total == p.non_embedding + p.embedding
    assert isinstance(p, ParamCount)


def test_twelve_n_d_squared():
    a = Architecture(n_layer=24, d_model=1024, n_heads=16, vocab_size=50257, n_ctx=1024)
    assert a.params().non_embedding == 12 * 24 * 1024**2


def test_gpt2_small_with_biases_and_layernorm_matches_published_count():
    # GPT-2 small as in Hugging Face / nanoGPT: 124,439,808 parameters in total, nanoGPT's
    # "123.65M" excludes the 1024 x 768 position table.  Hand count: per block attention
    # 4d^2 + 4d, MLP 8d^2 + 5d, two LayerNorms 4d; final LayerNorm 2d; tied embedding.
    d, L = 768, 12
    a = Architecture(L, d, 12, 50257, 1024, biases=True, norm_gains=True)
    hand_blocks = L * (4 * d * d + 4 * d + 8 * d * d + 5 * d + 4 * d) + 2 * d
    assert a.params().non_embedding == hand_blocks
    assert a.params().total == 124_439_808
    assert a.params().total - 1024 * d == 123_653_376


def test_llama3_8b_gated_gqa_untied_matches_published_count():
    # Meta-Llama-3-8B: 32 layers, d 4096, 32 heads, 8 KV heads, SwiGLU d_ff 14336, vocab 128256,
    # untied head, RMSNorm gains only, RoPE.  Published parameter count 8,030,261,248.
    a = Architecture(
        n_layer=32,
        d_model=4096,
        n_heads=32,
        vocab_size=128256,
        n_ctx=8192,
        d_ff=14336,
        n_kv_heads=8,
        gated_mlp=True,
        tied_embeddings=False,
        learned_positions=False,
        norm_gains=True,
    )
    p = a.params()
    assert p.total == 8_030_261_248
    assert p.embedding == 2 * 128256 * 4096
    b = a.param_breakdown()
    assert b["attention"] == 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024)
    assert b["mlp"] == 32 * 3 * 4096 * 14336
    assert b["norms"] == (2 * 32 + 1) * 4096


def test_deepseek_check_vector():
    # DeepSeek LLM 2024, Table 3: n_layer 24, d 2048, vocab 102400, l_seq 4096 ->
    # 6 N1 = 72 n d^2 (N1 = 1.21B), N2 = 1.42B, M = 9.66B, 6N1/M = 0.75, 6N2/M = 0.88.
    a = Architecture(24, 2048, 16, 102400, 4096, learned_positions=False)
    p = a.params()
    assert 6 * p.non_embedding == 72 * 24 * 2048**2
    assert round(p.non_embedding / 1e9, 2) == 1.21
    assert round(p.total / 1e9, 2) == 1.42
    M = flops_per_token(a, "deepseek")
    assert round(M / 1e9, 2) == 9.66
    assert round(6 * p.non_embedding / M, 2) == 0.75
    assert round(6 * p.total / M, 2) == 0.88
    # For this standard block DeepSeek's M equals PaLM's 6N + 12 L d n_ctx.
    assert flops_per_token(a, "palm") == pytest.approx(M, rel=1e-15)


def test_chinchilla_appendix_f_hand_computation():
    # Appendix F, per sequence, s = 2048, k*h = 8192, multiply-accumulate = 2 FLOPs.
    L, d, h, kh, ff, V, s = 80, 8192, 64, 8192, 32768, 32000, 2048
    embeddings = 2 * s * V * d
    per_layer = (
        2 * 3 * s * d * kh  # QKV projections
        + 2 * s * s * kh  # K @ Q
        + 3 * h * s * s  # softmax
        + 2 * s * s * kh  # softmax @ V
        + 2 * s * kh * d  # output projection
        + 2 * s * (d * ff + d * ff)  # dense block
    )
    logits = 2 * s * d * V
    forward_per_token = (embeddings + L * per_layer + logits) / s
    assert sum(chinchilla_forward_breakdown(CHINCHILLA).values()) == pytest.approx(
        forward_per_token, rel=1e-15
    )
    per_token = flops_per_token(CHINCHILLA, "chinchilla")
    assert per_token == pytest.approx(3 * forward_per_token, rel=1e-15)
    C = per_token * CHINCHILLA_TOKENS
    assert C == pytest.approx(5.6825e23, rel=1e-4)
    # The formulas as printed give 5.68e23 for this architecture and 1.4T tokens: 5% above
    # 6ND with the architecture's 64.4B non-embedding parameters, 3.4% below 6 x 70B x 1.4T.
    six_nd = 6 * CHINCHILLA.params().non_embedding * CHINCHILLA_TOKENS
    assert C / six_nd == pytest.approx(1.0500, abs=1e-4)
    assert C / flops_6nd(70e9, CHINCHILLA_TOKENS) == pytest.approx(0.9664, abs=1e-4)


def test_all_conventions_for_chinchilla_by_hand():
    N = 12 * 80 * 8192**2  # non-embedding, exact for this block
    assert CHINCHILLA.params().non_embedding == N
    assert CHINCHILLA.params().total == N + 32000 * 8192
    attn = 80 * 2048 * 8192  # n_layer n_ctx d_attn
    expected = {
        "6N": 6 * N,
        "6N-total": 6 * (N + 32000 * 8192),
        "kaplan": 3 * (2 * N + 2 * attn),
        "palm": 6 * N + 12 * attn,
        "deepseek": 72 * 80 * 8192**2 + 12 * 80 * 8192 * 2048,
    }
    got = all_conventions(CHINCHILLA)
    assert set(got) == set(CONVENTIONS)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-15), name
    # Kaplan's attention term is 1/6 of PaLM's (2 vs 12 per layer per context token).
    assert got["kaplan"] - got["6N"] == pytest.approx((got["palm"] - got["6N"]) / 2, rel=1e-15)


def test_gated_mlp_counts_three_matrices():
    plain = Architecture(2, 128, 4, 1000, 32, d_ff=384)
    gated = Architecture(2, 128, 4, 1000, 32, d_ff=384, gated_mlp=True)
    assert gated.params().non_embedding - plain.params().non_embedding == 2 * 128 * 384
    dense = chinchilla_forward_breakdown(gated)["dense"]
    assert dense == 2 * 2 * 3 * 128 * 384


def test_untied_adds_output_head_and_positions_toggle():
    tied = Architecture(2, 128, 4, 1000, 32)
    untied = Architecture(2, 128, 4, 1000, 32, tied_embeddings=False)
    rope = Architecture(2, 128, 4, 1000, 32, learned_positions=False)
    assert untied.params().embedding - tied.params().embedding == 1000 * 128
    assert tied.params().embedding - rope.params().embedding == 32 * 128
    assert untied.params().non_embedding == tied.params().non_embedding


def test_training_flops_and_6nd():
    assert training_flops(CHINCHILLA, "1.4T", "6N") == pytest.approx(
        6 * 12 * 80 * 8192**2 * 1.4e12, rel=1e-15
    )
    assert flops_6nd(70e9, 1.4e12) == pytest.approx(5.88e23)
    np.testing.assert_allclose(flops_6nd(np.array([1e9, 2e9]), 2e10), [1.2e20, 2.4e20])


def test_convention_names():
    assert check_convention("Chinchilla") == "chinchilla"
    assert check_convention("6n-total") == "6N-total"
    with pytest.raises(UnknownNameError, match="did you mean 'chinchilla'"):
        flops_per_token(CHINCHILLA, "chinchila")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n_layer": 0}, "n_layer must be a positive integer"),
        ({"d_model": -5}, "d_model must be a positive integer"),
        ({"n_heads": 2.5}, "n_heads must be a positive integer"),
        ({"vocab_size": True}, "vocab_size must be a positive integer"),
        ({"n_heads": 3}, "does not divide"),
        ({"n_kv_heads": 3}, "n_kv_heads=3 must divide n_heads=4"),
        ({"d_ff": 0}, "d_ff must be a positive integer"),
        ({"tied_embeddings": "yes"}, "tied_embeddings must be True or False"),
    ],
)
def test_architecture_validation(kwargs, fragment):
    base = {"n_layer": 2, "d_model": 64, "n_heads": 4, "vocab_size": 100, "n_ctx": 16}
    with pytest.raises(QuantityError, match=fragment):
        Architecture(**{**base, **kwargs})


def test_flops_per_token_needs_architecture():
    with pytest.raises(QuantityError, match="needs an Architecture"):
        flops_per_token(7e10, "6N")  # type: ignore[arg-type]
