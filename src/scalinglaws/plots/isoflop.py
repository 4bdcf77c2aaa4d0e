"""IsoFLOP profiles (Hoffmann et al. 2022, Figure 3 left)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from scalinglaws.errors import (
    DataError,
)
from scalinglaws.plots.inputs import (
    _final_runs,
    _geomspace,
    _runs,
)
from scalinglaws.plots.style import (
    BUDGET_CMAP,
    COLUMN_WIDTH,
    LABELS,
    _cmap,
    _colorbar,
    _figure,
    _legend_clear,
    _log_norm,
    _set_log_limits,
    _styled,
    log_axis,
)


@_styled
def plot_isoflop(fit: Any, runs: Any = None, title: str | None = None) -> Figure:
    """IsoFLOP profiles (Hoffmann et al. 2022, Figure 3 left): final loss against parameters N
    at each FLOP budget, the polynomial L = p(ln N) fitted to each profile and its minimum N*.

    ``fit`` is an Approach 2 Fit (its ``extra["profiles"]``); ``runs`` (optional) adds the
    measured points, each coloured by the budget whose range [C_low, C_high] holds its C.
    Minima used in the power laws are filled; minima at the edge of the sampled sizes (left out
    or flagged ``EDGE_MINIMUM``) are hollow.
    """
    profiles = (getattr(fit, "extra", None) or {}).get("profiles")
    if not profiles:
        raise DataError(
            "an IsoFLOP figure needs an Approach 2 fit (its extra['profiles']); fit "
            "Approach2() to runs with several model sizes per FLOP budget"
        )
    fig, axes = _figure(size=(COLUMN_WIDTH, 4.8))
    ax = axes[0, 0]
    norm = _log_norm([p["C"] for p in profiles])
    cmap = _cmap(BUDGET_CMAP)
    shown: list[float] = []  # losses drawn, for the y limits
    if runs is not None:
        r = _final_runs(_runs(runs))
        N, C, L = r.N, r.C, r.L
        for p in profiles:
            inside = (C >= p["C_low"] * (1 - 1e-9)) & (C <= p["C_high"] * (1 + 1e-9))
            ax.scatter(
                N[inside], L[inside], s=16, color=cmap(norm(p["C"])), alpha=0.75, lw=0, zorder=2
            )
            shown += L[inside].tolist()
    n_lo = min(p["N_low"] for p in profiles)
    n_hi = max(p["N_high"] for p in profiles)
    degrees = set()
    for p in profiles:
        colour = cmap(norm(p["C"]))
        good = p.get("used", True) and p.get("interior", True)
        if p.get("poly"):
            degrees.add(len(p["poly"]) - 1)
            grid = _geomspace(p["N_low"] / 1.15, p["N_high"] * 1.15, 120)
            curve = np.polyval(p["poly"], np.log(grid / p["N_ref"]))
            ax.plot(grid, curve, color=colour, lw=1.3, zorder=3)
            ends = np.polyval(p["poly"], np.log(np.array([p["N_low"], p["N_high"]]) / p["N_ref"]))
            shown += ends.tolist()
        ax.scatter(
            [p["N_opt"]], [p["L_opt"]], s=46, marker="D", facecolor=colour if good else "white",
            edgecolor="black", linewidth=0.8, zorder=4,
        )  # fmt: skip
        shown.append(p["L_opt"])
    # legend entries for the marker kinds (not per budget: the colour bar carries budgets)
    ax.scatter([], [], s=46, marker="D", facecolor="0.5", edgecolor="black", label="minimum N*")
    if any(not (p.get("used", True) and p.get("interior", True)) for p in profiles):
        ax.scatter(
            [], [], s=46, marker="D", facecolor="white", edgecolor="black",
            label="minimum at the edge of the sizes (censored)",
        )  # fmt: skip
    if degrees:
        what = "parabola" if degrees == {2} else "polynomial"
        ax.plot([], [], color="0.4", lw=1.3, label=f"fitted {what} in log N, per budget")
    if runs is not None:
        ax.scatter([], [], s=16, color="0.5", lw=0, label="runs (colour: budget)")
    _set_log_limits(ax, "x", n_lo, n_hi, 1.3)
    log_axis(ax, "x", "count")
    ax.set_xlabel(LABELS["N"])
    ax.set_ylabel(LABELS["L"])
    lo, hi = float(np.min(shown)), float(np.max(shown))
    pad = 0.04 * (hi - lo) if hi > lo else 0.05
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_title(title or f"IsoFLOP profiles: {len(profiles)} budgets")
    _colorbar(fig, ax, BUDGET_CMAP, norm, "FLOP budget C", "flops")
    _legend_clear(fig, ax, ncols=2)
    return fig
