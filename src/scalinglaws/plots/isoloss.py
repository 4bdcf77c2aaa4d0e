"""IsoLoss contours over compute and model size (Hoffmann et al. 2022, Figure 4 left)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scalinglaws.convention import FlopsConvention
from scalinglaws.laws.base import Law
from scalinglaws.plots.inputs import (
    _final_runs,
    _need_nd,
    _resolve_law,
    _runs,
    _short_label,
)
from scalinglaws.plots.published import PUBLISHED_MODELS, Model
from scalinglaws.plots.style import (
    COLUMN_WIDTH,
    LABELS,
    LOSS_CMAP,
    PALETTE,
    FlopsPerToken,
    _cmap,
    _colorbar,
    _figure,
    _legend_below,
    _lin_norm,
    _set_log_limits,
    _styled,
    log_axis,
)
from scalinglaws.units import format_quantity


def _nice_levels(lo: float, hi: float, n: int = 9) -> np.ndarray:
    """About ``n`` round loss levels between lo and hi (0.05, 0.1, 0.2, 0.25 or 0.5 steps)."""
    span = max(hi - lo, 1e-6)
    for step in (0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if span / step <= n:
            break
    start = math.ceil(lo / step) * step
    return np.round(np.arange(start, hi + 1e-9, step), 6)


@_styled
def plot_isoloss(
    law: Any,
    runs: Any = None,
    levels: Any = None,
    C_range: tuple[float, float] | None = None,
    N_range: tuple[float, float] | None = None,
    models: Sequence[Model] | bool | None = None,
    marks: Sequence[tuple[str, float, float]] = (),
    flops_per_token: FlopsPerToken = 6.0,
    title: str | None = None,
    budgets: Sequence[float] = (),
) -> Figure:
    """IsoLoss contours over compute and model size (Hoffmann et al. 2022, Figure 4 left).

    Each curve is a loss level ℓ of the (N, D) law: the model sizes N and the compute
    C = k·N·D at which L(N, D) = ℓ (Chinchilla: D = (B/(ℓ − E − A·N^−α))^(1/β)), drawn as
    contours of L(N, C/(k·N)) on a log grid of (C, N).  The dashed line is the efficient
    frontier N*(C) through the contours' minima (:func:`scalinglaws.allocation.efficient_frontier`).
    ``runs`` adds the data at (C, N) coloured by loss on the same scale; ``models=True`` marks
    the published models of :data:`PUBLISHED_MODELS` inside the range (the default, None, marks
    them for a published law given by its preset name, not for a fit); ``marks`` adds
    ``(label, N, C)`` points of your own.  ``flops_per_token`` is k of C = k·N·D or a callable
    f(N) for C = f(N)·D (e.g. a sweep's own convention).  ``budgets`` are marked as dotted
    vertical lines.  The compute axis spans the runs, the budgets, the marks and the models
    drawn, with a factor 3 margin (:func:`_default_c_range`), so GPT-3 stretches it over a
    dozen decades when its marker is asked for next to a law of small runs.
    """
    from scalinglaws.allocation import efficient_frontier

    nd = _resolve_law(law)
    _need_nd(nd, "an IsoLoss figure")
    r = _final_runs(_runs(runs)) if runs is not None else None
    if models is None:  # famous models belong next to a published law, not a user's fit
        models = isinstance(law, str) or type(law).__name__ == "Preset"
    model_list = list(PUBLISHED_MODELS if models is True else (models or []))
    if C_range is None:
        C_range = _default_c_range(r, model_list, marks, budgets)
    front = efficient_frontier(nd, C_range, 80, flops_per_token)
    f_n = np.asarray(front.N, dtype=float)
    if N_range is None:
        N_range = _default_n_range(f_n, r, model_list, marks, C_range)
    if levels is None:
        levels = _default_levels(np.asarray(front.L, dtype=float), r)
    lv = np.atleast_1d(np.asarray(levels, dtype=float))
    norm = _lin_norm(np.concatenate([lv, r.L if r is not None else []]))
    cmap = _cmap(LOSS_CMAP)
    fig, axes = _figure(size=(COLUMN_WIDTH, 6.0))
    ax = axes[0, 0]
    _draw_contours(ax, nd, lv, C_range, N_range, flops_per_token, cmap, norm)
    ax.plot([], [], color=cmap(0.5), lw=1.3, label="IsoLoss contours of the law")
    ax.plot(
        np.asarray(front.C), f_n, color="black", ls="--", lw=1.6, zorder=3,
        label="efficient frontier N*(C)",
    )  # fmt: skip
    if r is not None:
        ax.scatter(r.C, r.N, c=r.L, cmap=cmap, norm=norm, s=14, edgecolor="0.25", lw=0.3, zorder=4)
        ax.scatter([], [], s=14, color="0.6", edgecolor="0.25", lw=0.3, label=f"runs ({len(r)})")
    shown = [m for m in model_list if C_range[0] <= m.C <= C_range[1]]
    shown += [Model(lbl, n, math.nan, c, "user") for lbl, n, c in marks]
    _mark_models(ax, shown)
    for i, b in enumerate(budgets):
        ax.axvline(
            float(b), color="0.45", lw=0.9, ls=":", zorder=2,
            label="requested budgets" if i == 0 else None,
        )  # fmt: skip
    _set_log_limits(ax, "x", C_range[0], C_range[1], 1.0)
    ax.set_ylim(N_range[0], N_range[1])
    log_axis(ax, "x", "flops")
    log_axis(ax, "y", "count")
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel(LABELS["N"])
    ax.set_title(title or f"IsoLoss contours of {_short_label(law)}")
    _colorbar(fig, ax, LOSS_CMAP, norm, "Loss (nats per token)", "plain")
    _legend_below(fig, ax, ncols=3)
    return fig


def _default_c_range(
    r: Any,
    models: Sequence[Model],
    marks: Sequence[tuple[str, float, float]],
    budgets: Sequence[float] = (),
) -> tuple[float, float]:
    """The compute range of an IsoLoss figure: from a third of the smallest to three times
    the largest C of the runs, the budgets, the marks and the models (1e18 to 1e24 when there
    are none), at least two decades wide."""
    cs = [m.C for m in models] + [c for _, _, c in marks] + [float(b) for b in budgets]
    if r is not None:
        cs += [float(r.C.min()), float(r.C.max())]
    if not cs:
        return 1e18, 1e24
    lo, hi = min(cs) / 3, max(cs) * 3
    if hi / lo < 100:
        mid = math.sqrt(lo * hi)
        lo, hi = mid / 10, mid * 10
    return lo, hi


def _default_n_range(
    f_n: np.ndarray,
    r: Any,
    models: Sequence[Model],
    marks: Sequence[tuple[str, float, float]],
    C_range: tuple[float, float],
) -> tuple[float, float]:
    """The model-size range of an IsoLoss figure: 30x around the frontier's N* over the
    compute range, widened to hold the runs (with a factor 2 margin), the models inside the
    compute range and the marks."""
    ns = [m.N for m in models if C_range[0] <= m.C <= C_range[1]]
    ns += [n for _, n, _ in marks]
    n_lo, n_hi = float(f_n.min()) / 30, max([float(f_n.max()) * 30, *ns])
    if r is not None:
        n_lo, n_hi = min(n_lo, r.N.min() / 2), max(n_hi, r.N.max() * 2)
    return n_lo, n_hi * 1.5


def _default_levels(l_opt: np.ndarray, r: Any) -> np.ndarray:
    """About 12 round loss levels from the frontier's lowest loss ``l_opt[-1]`` to the runs'
    95th percentile loss (else 0.6 above the frontier's highest loss)."""
    top = float(np.quantile(r.L, 0.95)) if r is not None else float(l_opt[0]) + 0.6
    return _nice_levels(float(l_opt[-1]), max(top, float(l_opt[0])), 12)


def _draw_contours(
    ax: Axes,
    nd: Law,
    lv: np.ndarray,
    C_range: tuple[float, float],
    N_range: tuple[float, float],
    flops_per_token: FlopsPerToken,
    cmap: mcolors.Colormap,
    norm: mcolors.Normalize,
) -> None:
    """The contours of ``nd`` at the levels ``lv`` on a log grid of (C, N), each labelled at
    its nose, the compute-optimal point of that loss."""
    from scalinglaws.allocation import isoloss_contours

    # the law on a (log C, log N) grid; D = C/(k·N) (at least one token)
    cg = np.geomspace(C_range[0], C_range[1], 320)
    ng = np.geomspace(N_range[0], N_range[1], 320)
    CC, NN = np.meshgrid(cg, ng)
    DD = FlopsConvention.of(flops_per_token).tokens(CC, NN)
    LL = np.full(CC.shape, np.nan)
    ok = DD >= 1.0
    LL[ok] = np.asarray(nd(N=NN[ok], D=DD[ok]), dtype=float)
    ax.contour(CC, NN, LL, levels=np.sort(lv), cmap=cmap, norm=norm, linewidths=1.3)
    optimum = isoloss_contours(nd, lv, N_range, 8, flops_per_token).optimum
    tips = zip(lv, np.atleast_1d(optimum.C), np.atleast_1d(optimum.N), strict=True)
    placed: list[tuple[float, float]] = []  # label positions, in fractions of the axes
    for level, c_opt, n_opt in sorted(tips, key=lambda t: t[0]):
        if not (np.isfinite(c_opt) and C_range[0] < c_opt < C_range[1] and N_range[0] < n_opt):
            continue
        at = (_fraction(c_opt, C_range), _fraction(n_opt, N_range))
        if any(abs(at[0] - x) < 0.09 and abs(at[1] - y) < 0.045 for x, y in placed):
            continue  # would overlap a label already drawn: the colour bar names the level
        placed.append(at)
        ax.annotate(
            f"{level:g}", (c_opt, n_opt), xytext=(-5, 0), textcoords="offset points",
            ha="right", va="center", fontsize=8.5, color=cmap(norm(level)),
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
        )  # fmt: skip


def _fraction(x: float, lim: tuple[float, float]) -> float:
    """Where ``x`` sits on a log axis spanning ``lim``, as a fraction of its length."""
    return math.log(x / lim[0]) / math.log(lim[1] / lim[0])


def _mark_models(ax: Axes, models: Sequence[Model]) -> None:
    """Published models and marks as large distinct markers, labelled with their size."""
    markers = ["*", "P", "X", "s", "^", "v", "h", "p"]
    for i, m in enumerate(models):
        ax.scatter(
            [m.C],
            [m.N],
            marker=markers[i % len(markers)],
            s=90,
            color=PALETTE[i % 7],
            edgecolor="black",
            lw=0.6,
            zorder=6,
            label=f"{m.name} ({format_quantity(m.N)})",
        )
