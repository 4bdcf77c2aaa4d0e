"""The compute-optimal frontier N*(C), D*(C) of a fit, its bootstrap band, and its figure
(Hoffmann et al. 2022, Figure 3 centre and right)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import (
    DataError,
)
from scalinglaws.laws.base import Law
from scalinglaws.plots.inputs import (
    _fits,
    _geomspace,
    _runs,
)
from scalinglaws.plots.style import (
    APPROACH_LABELS,
    COLUMN_WIDTH,
    LABELS,
    PALETTE,
    FlopsPerToken,
    _figure,
    _legend_under,
    _set_log_limits,
    _styled,
    log_axis,
)
from scalinglaws.units import format_flops, format_quantity


def _data_c_range(fits: list[Any], runs: Any) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    if runs is not None:
        c = _runs(runs).C
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    for f in fits:
        for p in f.extra.get("profiles") or []:
            lo, hi = min(lo, p["C"]), max(hi, p["C"])
        env = f.extra.get("envelope")
        if env:
            c = np.asarray(env["C"], dtype=float)
            lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    return (lo, hi) if math.isfinite(lo) and hi > 0 else None


def _is_rule(fit: Any) -> bool:
    """True for a fit with a power-law rule N* = k_N·C^a, D* = k_D·C^b (Approaches 1, 2)."""
    return {"k_N", "a", "k_D", "b"} <= {*fit.params, *fit.derived}


def frontier_curve(
    fit: Any, C: Any, flops_per_token: FlopsPerToken = 6.0
) -> tuple[np.ndarray, np.ndarray]:
    """(N*(C), D*(C)) of a fit: N* = k_N·C^a, D* = k_D·C^b for Approaches 1 and 2 (Hoffmann et
    al. 2022 §3.1-3.2); the allocation of the fitted (N, D) law under C = k·N·D otherwise
    (closed form N* = G·(C/k)^a for the Chinchilla form, Hoffmann App. D.2).  Under a
    convention C = f(N)·D the law is allocated numerically, and a rule keeps its N* with
    D* = C/f(N*)."""
    c = np.asarray(C, dtype=float)
    conv = FlopsConvention.of(flops_per_token)
    if _is_rule(fit):
        a = fit.allocate(c, level=None)
        n = np.asarray(a.N, dtype=float)
        return n, (np.asarray(a.D, dtype=float) if conv.linear else conv.tokens(c, n))
    from scalinglaws.allocation import allocate

    a = allocate(fit.law, C=c, flops_per_token=conv)
    return np.asarray(a.N, dtype=float), np.asarray(a.D, dtype=float)


def _replicate_laws(fit: Any) -> list[Law]:
    return fit.replicate_laws()


def frontier_band(
    fit: Any, C: Any, flops_per_token: FlopsPerToken = 6.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Bootstrap band of N*(C) and D*(C) at the fit's interval level: (N_lo, N_hi, D_lo, D_hi),
    the percentile intervals of :meth:`Fit.allocate` at every C (each replicate's law or
    rule allocated).  None for a fit without replicates.  A rule under a convention
    C = f(N)·D takes D* = C/f(N*), so its D band is C/f of the N band (f increasing: the ends
    swap).  An automatic fit's band is its replicates' allocations (parameter uncertainty)."""
    from scalinglaws.errors import ScalingLawsError

    c = np.asarray(C, dtype=float)
    conv = FlopsConvention.of(flops_per_token)
    if fit.approach == "auto":
        return _replicate_band(fit, c, conv)
    try:
        a = fit.allocate(c, level=None, flops_per_token=None if _is_rule(fit) else conv)
    except ScalingLawsError:
        return None
    if not a.intervals:
        return None
    (n_lo, n_hi), (d_lo, d_hi) = a.intervals["N"], a.intervals["D"]
    n_lo, n_hi, d_lo, d_hi = (np.asarray(v, dtype=float) for v in (n_lo, n_hi, d_lo, d_hi))
    if _is_rule(fit) and not conv.linear:
        ok = np.isfinite(n_lo) & np.isfinite(n_hi)
        d_lo, d_hi = np.full(c.shape, np.nan), np.full(c.shape, np.nan)
        d_lo[ok] = conv.tokens(c[ok], n_hi[ok])
        d_hi[ok] = conv.tokens(c[ok], n_lo[ok])
    return n_lo, n_hi, d_lo, d_hi


def _replicate_band(
    fit: Any, c: np.ndarray, conv: FlopsConvention
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    from scalinglaws.allocation import allocate
    from scalinglaws.errors import ScalingLawsError

    tail = 100 * (1 - fit.level) / 2
    Ns, Ds = [], []
    for law in _replicate_laws(fit):
        try:
            a = allocate(law, C=c, flops_per_token=conv)
        except ScalingLawsError:
            continue
        Ns.append(np.asarray(a.N, dtype=float))
        Ds.append(np.asarray(a.D, dtype=float))
    if len(Ns) < 2:
        return None
    n_lo, n_hi = np.nanpercentile(np.array(Ns), [tail, 100 - tail], axis=0)
    d_lo, d_hi = np.nanpercentile(np.array(Ds), [tail, 100 - tail], axis=0)
    return n_lo, n_hi, d_lo, d_hi


def _fit_label(fit: Any, exponent: str) -> str:
    value = {**fit.params, **fit.derived}.get(exponent)
    if value is None:
        law = fit.law
        value = getattr(law, exponent, None)
    head = APPROACH_LABELS.get(str(fit.approach), f"approach {fit.approach}")
    if value is None:
        return head
    text = f"{head}: {exponent} = {value:.3f}"
    ci = fit.intervals.get(exponent)
    if ci and all(math.isfinite(x) for x in ci):
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


@_styled
def plot_frontier(
    fits: Any,
    budgets: Sequence[float] = (),
    runs: Any = None,
    flops_per_token: FlopsPerToken = 6.0,
    C_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The compute-optimal frontier (Hoffmann et al. 2022, Figure 3 centre and right):
    N*(C) and D*(C) in two panels.

    For each fit (one Fit or several, e.g. Approaches 1, 2 and 3 overlaid): the data's optima
    (Approach 2's per-budget minima, hollow where at the edge of the sizes; Approach 1's
    envelope), the fitted power law (N* = k_N·C^a, or the allocation of an (N, D) law), its
    bootstrap band (:func:`frontier_band`), and the requested ``budgets`` marked with their
    intervals.  The region beyond the data's largest budget is shaded: that is extrapolation.
    ``flops_per_token`` is k of C = k·N·D or a callable f(N) for C = f(N)·D
    (:func:`frontier_curve`).
    """
    fits = _fits(fits)
    if not fits:
        raise DataError("plot_frontier needs at least one Fit")
    budgets = [float(b) for b in budgets]
    data = _data_c_range(fits, runs)
    if C_range is None:
        lo = data[0] / 2 if data else min(budgets or [1e18]) / 100
        hi = max([data[1] * 2 if data else lo * 1e4, *[b * 3 for b in budgets]])
        C_range = (lo, hi)
    grid = _geomspace(C_range[0], C_range[1], 160)
    # stacked: side by side, each panel would be half the report's column wide
    fig, axes = _figure(nrows=2, size=(COLUMN_WIDTH, 9.6 + 0.55 * len(fits)))
    single = len(fits) == 1
    bands = [frontier_band(fit, grid, flops_per_token) for fit in fits]
    for row, (which, ylabel) in enumerate(
        (("N", "Optimal parameters N*"), ("D", "Optimal training tokens D*"))
    ):
        ax = axes[row, 0]
        if data is not None and C_range[1] > data[1]:
            _shade_extrapolation(ax, data[1], C_range[1], single)
        for i, fit in enumerate(fits):
            colour = PALETTE[i % len(PALETTE)]
            N, D = frontier_curve(fit, grid, flops_per_token)
            ax.plot(
                grid,
                N if which == "N" else D,
                color=colour,
                lw=1.8,
                zorder=4,
                label=_fit_label(fit, "a" if which == "N" else "b"),
            )
            _frontier_data(ax, fit, which, colour)
            for b in budgets:
                _mark_budget(ax, fit, which, b, colour, flops_per_token, annotate=single)
        _draw_bands(ax, fits, bands, grid, which)
        _set_log_limits(ax, "x", C_range[0], C_range[1], 1.0)
        log_axis(ax, "x", "flops")
        ax.set_xlabel(LABELS["C"])
        ax.set_ylabel(ylabel + (" (parameters)" if which == "N" else " (tokens)"))
        ax.set_yscale("log")
        log_axis(ax, "y", "count")
        ax.set_title(
            "Compute-optimal model size N*(C)" if which == "N" else "Compute-optimal data D*(C)"
        )
    _frontier_legends(axes[0, 0], axes[1, 0])
    if title:
        fig.suptitle(title)
    return fig


def _shade_extrapolation(ax: Axes, c_data: float, c_hi: float, single: bool) -> None:
    """Grey beyond the data's largest compute, labelled "extrapolated"."""
    ax.axvspan(c_data, c_hi, color="0.93", zorder=0, lw=0)
    ax.text(
        math.sqrt(c_data * c_hi) if single else c_data * 1.15,
        0.03,
        "extrapolated",
        transform=ax.get_xaxis_transform(),
        ha="center" if single else "left",
        va="bottom",
        color="0.35",
        fontsize=8.5,
    )


def _draw_bands(ax: Axes, fits: list[Any], bands: list[Any], grid: np.ndarray, which: str) -> None:
    """Each fit's bootstrap band, the widest underneath, each outlined in its colour: a narrow
    band under two wide translucent ones would otherwise vanish."""
    drawn = []
    for i, (fit, band) in enumerate(zip(fits, bands, strict=True)):
        if band is None:
            continue
        lo_b, hi_b = (band[0], band[1]) if which == "N" else (band[2], band[3])
        ok = np.isfinite(lo_b) & np.isfinite(hi_b) & (lo_b > 0) & (hi_b > 0)
        if ok.any():
            width = float(np.mean(np.log(hi_b[ok] / lo_b[ok])))
            drawn.append((width, i, fit, lo_b, hi_b, ok))
    for rank, (_, i, fit, lo_b, hi_b, ok) in enumerate(sorted(drawn, key=lambda t: -t[0])):
        colour = PALETTE[i % len(PALETTE)]
        ax.fill_between(
            grid[ok],
            lo_b[ok],
            hi_b[ok],
            facecolor=mcolors.to_rgba(colour, 0.16),
            edgecolor=mcolors.to_rgba(colour, 0.9),
            lw=0.9,
            ls="--",
            zorder=2 + 0.1 * rank,
            label=f"{100 * fit.level:g}% bootstrap band",
        )


def _frontier_legends(ax_n: Axes, ax_d: Axes) -> None:
    """The legend of the N* panel under it; under the D* panel only what differs (its
    exponents b and its budgets' D*), so nothing is listed twice."""
    _legend_under(ax_n, ncols=1)
    handles, labels = ax_d.get_legend_handles_labels()
    shown = set(ax_n.get_legend_handles_labels()[1])
    keep = [(h, lbl) for h, lbl in zip(handles, labels, strict=True) if lbl not in shown]
    if keep:
        anchor = offset_copy(ax_d.transAxes, fig=ax_d.figure, y=-0.52, units="inches")
        ax_d.legend(
            [h for h, _ in keep],
            [lbl for _, lbl in keep],
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=anchor,
        )


def _frontier_data(ax: Axes, fit: Any, which: str, colour: str) -> None:
    profiles = fit.extra.get("profiles") or []
    if profiles:
        key = "N_opt" if which == "N" else "D_opt"
        good = [p for p in profiles if p.get("used", True) and p.get("interior", True)]
        bad = [p for p in profiles if not (p.get("used", True) and p.get("interior", True))]
        ax.scatter(
            [p["C"] for p in good],
            [p[key] for p in good],
            s=30,
            color=colour,
            edgecolor="black",
            lw=0.6,
            zorder=4,
            label="IsoFLOP minima",
        )
        if bad:
            ax.scatter(
                [p["C"] for p in bad],
                [p[key] for p in bad],
                s=30,
                facecolor="white",
                edgecolor=colour,
                lw=1.0,
                zorder=4,
                label="minima at the edge of the sizes",
            )
    env = fit.extra.get("envelope")
    if env:
        c = np.asarray(env["C"], dtype=float)
        y = np.asarray(env["N" if which == "N" else "D"], dtype=float)
        used = np.asarray(env.get("used", np.ones(c.size, bool)), dtype=bool)
        step = max(1, c.size // 150)
        sel = np.arange(c.size)[::step]
        ok = sel[np.isfinite(y[sel]) & used[sel]]
        ax.scatter(
            c[ok],
            y[ok],
            s=6,
            color=colour,
            alpha=0.55,
            lw=0,
            zorder=3,
            label="envelope of the training curves",
        )


def _mark_budget(
    ax: Axes, fit: Any, which: str, budget: float, colour: str, k: FlopsPerToken, annotate: bool
) -> None:
    N, D = frontier_curve(fit, [budget], k)
    value = float((N if which == "N" else D)[0])
    band = frontier_band(fit, [budget], k)
    ci = None
    if band is not None:
        lo, hi = band[0:2] if which == "N" else band[2:4]
        ci = (float(np.ravel(lo)[0]), float(np.ravel(hi)[0]))
    text = f"{format_flops(budget)} FLOPs: {which}* = {format_quantity(value)}"
    if ci and all(math.isfinite(x) and x > 0 for x in ci):
        # drawn from low to high (a percentile interval need not contain the estimate)
        ax.vlines([budget], [ci[0]], [ci[1]], color=colour, lw=1.4, zorder=5)
        for end in ci:
            ax.scatter([budget], [end], marker="_", s=60, color=colour, lw=1.4, zorder=5)
        text += f" [{format_quantity(ci[0])}, {format_quantity(ci[1])}]"
    ax.scatter(
        [budget], [value], s=70, marker="*", color=colour, edgecolor="black", lw=0.6, zorder=6,
        label=text if annotate else None,
    )  # fmt: skip
