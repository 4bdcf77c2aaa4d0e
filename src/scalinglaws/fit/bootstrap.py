"""Shared bootstrap machinery: seeded resampling of whole runs, and interval summaries.

Resampling unit: a *run* (all checkpoints of one training run move together), never a single
point of a curve -- points of one curve are strongly correlated, and resampling them
independently gives falsely narrow intervals.  A replicate is expressed as integer weights
(how many times each point is drawn), which lets a vectorised optimiser fit all replicates at
once as a batch of weighted problems.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from scalinglaws.fit.result import Diagnostic, Fit, Replicates

T = TypeVar("T")
R = TypeVar("R")

#: Bootstrap replicates every estimator draws unless told otherwise, from Python and from the
#: command line alike: intervals are on by default (0 turns them off).
DEFAULT_BOOTSTRAP = 100


def bootstrap_weights(
    groups: Sequence[Any] | np.ndarray | None, n_points: int, n_boot: int, seed: int
) -> np.ndarray:
    """Return an ``(n_boot, n_points)`` integer array: replicate ``r`` draws group ``g`` (all of
    its points) ``w[r, i]`` times.  ``groups=None`` treats every point as its own group.

    Each replicate draws as many groups, with replacement, as there are distinct groups
    (Efron's nonparametric bootstrap at the level of runs).  Seeded: the same ``seed`` gives
    the same replicates.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        codes = np.arange(n_points)
    else:
        _, codes = np.unique(np.asarray(groups), return_inverse=True)
        codes = codes.reshape(-1)
    n_groups = int(codes.max()) + 1 if n_points else 0
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    counts = np.zeros((n_boot, n_groups), dtype=np.int64)
    rows = np.repeat(np.arange(n_boot), n_groups)
    np.add.at(counts, (rows, draws.ravel()), 1)
    return counts[:, codes]


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
    items = list(items)
    n_jobs = default_jobs() if n_jobs is None else max(1, n_jobs)
    if n_jobs == 1 or len(items) <= 1:
        return [fn(x) for x in items]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_one_thread) as ex:
        return list(ex.map(fn, items, chunksize=max(1, len(items) // (4 * n_jobs))))


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
