"""The nested, multi-cut backtest of the automatic fit: how far each candidate law
extrapolates well, measured inside the runs it is given.

A single backtest (fit below one compute cut, predict above) measures a candidate's error at
one distance only, and the automatic fit is then asked for predictions much farther out.
Here the runs are cut at several quantiles of their compute (default 0.3, 0.4, ..., 0.9):
at each cut every candidate is fitted to the runs at or below it and predicts every run
above it (on a large table, :data:`MAX_SCORED_RUNS` of them), and each such prediction is
recorded with its distance beyond what was fitted,

    d = ln(C_run / C_max,cut)   (e-folds of compute beyond the largest run at or below the cut),

and in spans of the log C fitted, d / ln(C_max,cut / C_min,cut) (:attr:`NestedBacktest.
relative`), so that a candidate's out-of-sample error is known as a function of how far it
extrapolated (:mod:`scalinglaws.fit.weighting` models it).  Only the runs given are ever
used: a user's own held-out runs (``auto_backtest``) are never seen, which a test checks.

The *evidence* of the backtest is its number of budget checks: distinct (cut, held-out
budget) pairs, budgets binned as Approach 2 bins them.  Runs at one budget share most of
their error, so a budget, not a run, is the unit of evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.errors import QuantityError
from scalinglaws.fit.candidates import FitData
from scalinglaws.laws.base import Law

#: The default quantiles of the runs' C at which the nested backtest cuts.
DEFAULT_CUT_QUANTILES: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: A cut is kept only when at least this many runs lie at or below it.
MIN_FIT_RUNS = 8
#: Each cut scores at most this many held-out runs: above it, a systematic sample spread
#: evenly over their compute (so over the distances d).  MSE(d) is well estimated from
#: far fewer; scoring every run of a million-row table would hold millions of errors.
MAX_SCORED_RUNS = 20_000

FitMembers = Callable[[FitData], tuple[dict[str, Law], dict[str, str]]]


@dataclass(frozen=True)
class Cut:
    """One cut of the nested backtest: the ``quantile`` of the runs' C it sits at, the
    threshold ``C_cut``, the number of runs fitted (``n_fit``, those with C ≤ C_cut), the
    largest and smallest C among them, and the candidates that failed there (key -> reason)."""

    quantile: float
    C_cut: float
    n_fit: int
    C_max: float
    C_min: float
    failures: dict[str, str] = field(default_factory=dict)


@dataclass
class NestedBacktest:
    """Every out-of-sample prediction of the nested backtest, one row per (cut, held-out run).

    ``cut`` indexes :attr:`cuts`; ``N, D, C, L`` are the held-out run; ``distance`` is
    d = ln(C / C_max of the cut) in e-folds; ``group`` numbers the distinct (cut, budget)
    pairs; ``errors[key]`` is log L − log L̂ of each candidate (NaN where it failed).
    """

    cuts: list[Cut]
    cut: np.ndarray
    N: np.ndarray
    D: np.ndarray
    C: np.ndarray
    L: np.ndarray
    distance: np.ndarray
    group: np.ndarray
    errors: dict[str, np.ndarray]

    @property
    def n_checks(self) -> int:
        """The evidence: distinct (cut, held-out budget) pairs."""
        return int(np.unique(self.group).size)

    @property
    def relative(self) -> np.ndarray:
        """The distance in spans of the log C fitted at each row's cut:
        ln(C / C_max) / ln(C_max / C_min)."""
        if not self.cuts:
            return np.array([])
        span = np.array(
            [math.log(c.C_max / c.C_min) if c.C_max > c.C_min else math.nan for c in self.cuts]
        )
        return self.distance / span[self.cut]

    @property
    def reach(self) -> float:
        """The largest distance checked, in e-folds of C (NaN with no check)."""
        return float(self.distance.max()) if self.distance.size else math.nan

    def __len__(self) -> int:
        return int(self.distance.size)

    def scored(self, key: str) -> np.ndarray:
        """True for the rows where candidate ``key`` made a finite prediction."""
        e = self.errors.get(key)
        return np.zeros(len(self), dtype=bool) if e is None else np.isfinite(e)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (NaN written as None)."""
        return {
            "cuts": [
                {
                    "quantile": c.quantile,
                    "C_cut": c.C_cut,
                    "n_fit": c.n_fit,
                    "C_max": c.C_max,
                    "C_min": c.C_min,
                    "failures": dict(c.failures),
                }
                for c in self.cuts
            ],
            "cut": self.cut.tolist(),
            "N": self.N.tolist(),
            "D": self.D.tolist(),
            "C": self.C.tolist(),
            "L": self.L.tolist(),
            "distance": self.distance.tolist(),
            "group": self.group.tolist(),
            "errors": {
                k: [None if not np.isfinite(x) else float(x) for x in v]
                for k, v in self.errors.items()
            },  # fmt: skip
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NestedBacktest:
        """Rebuild from :meth:`to_dict`."""

        def arr(name: str, dtype: Any = float) -> np.ndarray:
            return np.array([np.nan if x is None else x for x in d.get(name, [])], dtype=dtype)

        return cls(
            cuts=[
                Cut(
                    float(c["quantile"]),
                    float(c["C_cut"]),
                    int(c["n_fit"]),
                    float(c["C_max"]),
                    float(c["C_min"]),
                    dict(c.get("failures", {})),
                )
                for c in d.get("cuts", [])
            ],
            cut=np.asarray(d.get("cut", []), dtype=np.int64),
            N=arr("N"),
            D=arr("D"),
            C=arr("C"),
            L=arr("L"),
            distance=arr("distance"),
            group=np.asarray(d.get("group", []), dtype=np.int64),
            errors={
                k: np.array([np.nan if x is None else x for x in v], dtype=float)
                for k, v in d.get("errors", {}).items()
            },
        )


def check_quantiles(quantiles: Any) -> tuple[float, ...]:
    """The cut quantiles as a sorted tuple of distinct numbers in (0, 1); raises
    :class:`~scalinglaws.errors.QuantityError` naming ``cut_quantiles`` otherwise."""
    if isinstance(quantiles, str):
        quantiles = [q for q in quantiles.split(",") if q.strip()]
    try:
        qs = tuple(sorted({float(q) for q in quantiles}))
    except (TypeError, ValueError):
        qs = ()
    if not qs or not all(0 < q < 1 for q in qs):
        raise QuantityError(
            "cut_quantiles must be one or more numbers between 0 and 1 (e.g. 0.5,0.7,0.9), "
            f"got {quantiles!r}"
        )
    return qs


def nested_backtest(
    data: FitData,
    fit_members: FitMembers,
    keys: Sequence[str],
    quantiles: Sequence[float] = DEFAULT_CUT_QUANTILES,
    bin_tolerance: float = 0.2,
    n_jobs: int | None = 1,
) -> NestedBacktest:
    """Cut ``data`` at each quantile of its C, fit the candidates (``fit_members``) to the
    runs at or below the cut and record their log errors on every run above it (at most
    :data:`MAX_SCORED_RUNS` per cut, spread over their C).

    A cut is kept when at least :data:`MIN_FIT_RUNS` runs lie at or below it and one above,
    and when it fits a different set of runs than the cuts kept before.  ``n_jobs`` > 1 fits
    the cuts in parallel processes (:func:`scalinglaws.fit.bootstrap.parallel_map`).
    """
    from scalinglaws.fit.bootstrap import parallel_imap
    from scalinglaws.fit.isoflop import assign_budgets
    from scalinglaws.progress import step

    masks: list[tuple[float, float, np.ndarray]] = []
    seen: set[int] = set()
    for q in check_quantiles(quantiles):
        c_cut = float(np.quantile(data.C, q))
        below = data.C <= c_cut * (1 + 1e-12)
        n_below = int(below.sum())
        if n_below < MIN_FIT_RUNS or n_below == len(data) or n_below in seen:
            continue
        seen.add(n_below)  # cuts are nested: the count identifies the set
        masks.append((q, c_cut, below))
    fitted = []
    tasks = [(fit_members, data.subset(m)) for _, _, m in masks]
    for i, result in enumerate(parallel_imap(_fit_cut, tasks, n_jobs=n_jobs)):
        fitted.append(result)
        step(f"nested backtest: cut {i + 1} of {len(tasks)} fitted ({len(tasks[i][1]):,} runs)")
    labels, _ = assign_budgets(data.C, bin_tolerance)
    cuts: list[Cut] = []
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("cut", "N", "D", "C", "L", "d", "g")}
    errors: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    n_groups = 0
    for j, ((q, c_cut, below), (laws, failures)) in enumerate(zip(masks, fitted, strict=True)):
        held = _scored(data.C, ~below)
        inner, test = data.subset(below), data.subset(held)
        cmax = float(inner.C.max())
        cuts.append(Cut(q, c_cut, len(inner), cmax, float(inner.C.min()), dict(failures)))
        _, g = np.unique(labels[held], return_inverse=True)
        rows["cut"].append(np.full(len(test), j))
        for name, v in (("N", test.N), ("D", test.D), ("C", test.C), ("L", test.L)):
            rows[name].append(v)
        rows["d"].append(np.log(test.C / cmax))
        rows["g"].append(n_groups + g)
        n_groups += int(g.max()) + 1
        for key in keys:
            errors[key].append(_log_errors(laws.get(key), test))
    if not cuts:
        empty = np.array([])
        return NestedBacktest([], empty.astype(np.int64), empty, empty, empty, empty, empty,
                              empty.astype(np.int64), {k: empty for k in keys})  # fmt: skip
    cat = {k: np.concatenate(v) for k, v in rows.items()}
    return NestedBacktest(
        cuts=cuts,
        cut=cat["cut"].astype(np.int64),
        N=cat["N"],
        D=cat["D"],
        C=cat["C"],
        L=cat["L"],
        distance=cat["d"],
        group=cat["g"].astype(np.int64),
        errors={k: np.concatenate(v) for k, v in errors.items()},
    )


def _scored(C: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """The held-out runs a cut scores: all of them up to :data:`MAX_SCORED_RUNS`, else that
    many, evenly spaced in the order of their C (the first and the last included)."""
    if int(held_out.sum()) <= MAX_SCORED_RUNS:
        return held_out
    rows = np.flatnonzero(held_out)
    by_c = rows[np.argsort(C[rows], kind="stable")]
    picked = by_c[np.linspace(0, by_c.size - 1, MAX_SCORED_RUNS).round().astype(np.int64)]
    mask = np.zeros_like(held_out)
    mask[picked] = True
    return mask


def _fit_cut(item: tuple[FitMembers, FitData]) -> tuple[dict[str, Law], dict[str, str]]:
    fit_members, inner = item
    return fit_members(inner)


def _log_errors(law: Law | None, test: FitData) -> np.ndarray:
    """log L − log L̂ of ``law`` on ``test`` (all NaN without a law or where it fails)."""
    if law is None:
        return np.full(len(test), np.nan)
    try:
        with np.errstate(all="ignore"):
            pred = np.asarray(law(N=test.N, D=test.D), dtype=float)
    except (ArithmeticError, ValueError):
        return np.full(len(test), np.nan)
    e = np.log(test.L) - np.log(pred)
    return np.where(np.isfinite(e), e, np.nan)


__all__ = [
    "DEFAULT_CUT_QUANTILES",
    "MIN_FIT_RUNS",
    "Cut",
    "NestedBacktest",
    "check_quantiles",
    "nested_backtest",
]
