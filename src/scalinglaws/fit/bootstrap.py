"""Shared bootstrap machinery: seeded resampling of whole runs, and interval summaries.

Resampling unit: a *run* (all checkpoints of one training run move together), never a single
point of a curve -- points of one curve are strongly correlated, and resampling them
independently gives falsely narrow intervals.  A replicate is expressed as integer weights
(how many times each point is drawn), which lets a vectorised optimiser fit all replicates at
once as a batch of weighted problems.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from scalinglaws.fit.result import Diagnostic, Fit, Replicates

T = TypeVar("T")
R = TypeVar("R")

#: Bootstrap replicates every estimator draws unless told otherwise, from Python and from the
#: command line alike: intervals are on by default (0 turns them off).
DEFAULT_BOOTSTRAP = 100


#: Bootstrap replicates are drawn and refitted in blocks of at most this many (replicate x
#: point) cells, so that memory stays bounded on large tables: a block of float64 weights is
#: 64 MiB.  Up to 83,886 points the default 100 replicates are one block.
BLOCK_CELLS = 2**23


def replicate_blocks(n_points: int, n_boot: int, max_cells: int | None = None) -> list[range]:
    """The replicates 0..n_boot-1 in consecutive blocks of at most ``max_cells`` (default
    :data:`BLOCK_CELLS`) (replicate x point) cells each (at least one replicate per block)."""
    cells = BLOCK_CELLS if max_cells is None else max_cells
    size = max(1, cells // max(1, n_points))
    return [range(s, min(s + size, n_boot)) for s in range(0, n_boot, size)]


def bootstrap_weight_blocks(
    groups: Sequence[Any] | np.ndarray | None,
    n_points: int,
    n_boot: int,
    seed: int,
    max_cells: int | None = None,
) -> Iterator[tuple[range, np.ndarray]]:
    """The rows of :func:`bootstrap_weights` block by block (:func:`replicate_blocks`): yields
    (the replicates, their ``(len(block), n_points)`` int32 weights).  The blocks together are
    exactly :func:`bootstrap_weights`' array, with at most one block in memory."""
    rng = np.random.default_rng(seed)
    if groups is None:
        codes = np.arange(n_points)
    else:
        _, codes = np.unique(np.asarray(groups), return_inverse=True)
        codes = codes.reshape(-1)
    n_groups = int(codes.max()) + 1 if n_points else 0
    for block in replicate_blocks(n_points, n_boot, max_cells):
        draws = rng.integers(0, n_groups, size=(len(block), n_groups))
        counts = np.empty((len(block), n_groups), dtype=np.int32)
        for i, row in enumerate(draws):
            counts[i] = np.bincount(row, minlength=n_groups)
        yield block, counts[:, codes]


def bootstrap_weights(
    groups: Sequence[Any] | np.ndarray | None, n_points: int, n_boot: int, seed: int
) -> np.ndarray:
    """Return an ``(n_boot, n_points)`` integer array: replicate ``r`` draws group ``g`` (all of
    its points) ``w[r, i]`` times.  ``groups=None`` treats every point as its own group.

    Each replicate draws as many groups, with replacement, as there are distinct groups
    (Efron's nonparametric bootstrap at the level of runs).  Seeded: the same ``seed`` gives
    the same replicates.  On large tables use :func:`bootstrap_weight_blocks`, which gives the
    same rows a block at a time.
    """
    blocks = [w for _, w in bootstrap_weight_blocks(groups, n_points, n_boot, seed)]
    if not blocks:
        return np.zeros((0, n_points), dtype=np.int64)
    return np.vstack(blocks).astype(np.int64)


def summarize(
    samples: dict[str, np.ndarray], level: float = 0.95
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Standard errors (sample standard deviation, ddof=1) and equal-tailed percentile
    intervals at ``level`` of each named bootstrap sample; non-finite draws are ignored."""
    if not 0 < level < 1:
        raise ValueError(f"interval level must be between 0 and 1, got {level}")
    stderr: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    tail = 100 * (1 - level) / 2
    for name, values in samples.items():
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size < 2:
            continue
        with np.errstate(all="ignore"):  # a wild replicate may overflow: its stderr is inf
            stderr[name] = float(np.std(v, ddof=1))
        lo, hi = np.percentile(v, [tail, 100 - tail])
        intervals[name] = (float(lo), float(hi))
    return stderr, intervals


def default_jobs() -> int:
    """Worker processes to use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(fn: Callable[[T], R], items: Iterable[T], n_jobs: int | None = None) -> list[R]:
    """``[fn(x) for x in items]`` over ``n_jobs`` processes (default: all cores), in order.

    ``fn`` must be a picklable top-level function; with one job (or one item) it runs inline.
    Worker processes are told to use one BLAS thread each, so the cores are not oversubscribed.
    """
    return list(parallel_imap(fn, items, n_jobs))


def parallel_imap(
    fn: Callable[[T], R], items: Iterable[T], n_jobs: int | None = None
) -> Iterator[R]:
    """:func:`parallel_map` yielding each result, in order, as soon as it and those before it
    are done (so that a caller can report progress)."""
    items = list(items)
    n_jobs = default_jobs() if n_jobs is None else max(1, n_jobs)
    if n_jobs == 1 or len(items) <= 1:
        for x in items:
            yield fn(x)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_one_thread) as ex:
        yield from ex.map(fn, items, chunksize=max(1, len(items) // (4 * n_jobs)))


def _one_thread() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def bootstrap_summary(
    fit: Fit, samples: dict[str, list[float]], law_fields: Sequence[str], level: float
) -> Fit:
    """``fit`` with its standard errors, intervals and replicates (every quantity per
    replicate, NaN where a replicate failed) from ``samples``."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in samples.items()}
    stderr, intervals = summarize(arrays, level)
    n = len(next(iter(arrays.values()))) if arrays else 0
    failed = int(sum(~np.isfinite(arrays[law_fields[0]]))) if law_fields else 0
    method = f"{n} replicates" + (f", {failed} failed" if failed else "")
    found: list[Diagnostic] = []
    if failed:
        found.append(
            Diagnostic(
                code="BOOTSTRAP_FAILURES",
                severity="warning" if failed > 0.05 * n else "info",
                message=(
                    f"the law ({', '.join(law_fields)}) could not be fitted in {failed} of {n} "
                    "bootstrap replicates; those are left out of its intervals (and of the "
                    "losses it predicts)"
                    + (
                        ", while the other quantities use every replicate where they are defined"
                        if any(k not in law_fields for k in arrays)
                        else ""
                    )
                ),
                data={"failed": failed, "replicates": n},
            )
        )
    return fit.with_bootstrap(stderr, intervals, Replicates(arrays, method=method), found)
