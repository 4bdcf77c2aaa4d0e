"""Loss against compute per model size (Kaplan et al. 2020, Figure 1 left) and training
curves with a learning-curve law."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from scalinglaws.convention import FlopsConvention
from scalinglaws.errors import (
    DataError,
)
from scalinglaws.plots.inputs import (
    _geomspace,
    _need_nd,
    _resolve_law,
    _runs,
    _short_label,
)
from scalinglaws.plots.style import (
    COLUMN_WIDTH,
    LABELS,
    SIZE_CMAP,
    FlopsPerToken,
    _cmap,
    _colorbar,
    _figure,
    _legend_below,
    _legend_clear,
    _log_norm,
    _set_log_limits,
    _styled,
    log_axis,
)


def _size_groups(N: np.ndarray, max_groups: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Representative sizes and each row's group: distinct sizes when there are few, else
    ``max_groups`` bins equally wide in log N (geometric-mean size per bin)."""
    sizes = np.unique(N)
    if sizes.size <= max_groups + 4:
        return sizes, np.searchsorted(sizes, N)
    edges = np.linspace(np.log(N.min()), np.log(N.max()) + 1e-12, max_groups + 1)
    group = np.clip(np.searchsorted(edges, np.log(N), side="right") - 1, 0, max_groups - 1)
    reps = np.array(
        [
            math.exp(np.log(N[group == g]).mean()) if np.any(group == g) else math.nan
            for g in range(max_groups)
        ]
    )
    keep = np.isfinite(reps)
    remap = np.cumsum(keep) - 1
    return reps[keep], remap[group]


@_styled
def plot_loss_vs_compute(
    runs: Any,
    law: Any = None,
    frontier: Any = None,
    flops_per_token: FlopsPerToken | None = None,
    title: str | None = None,
) -> Figure:
    """Loss against training compute for each model size (Kaplan et al. 2020, Figure 1 left).

    The runs' losses against C (curves when runs have checkpoints, points otherwise), coloured
    by N.  With an (N, D) ``law``: its curve L(N, C/(k·N)) for each size (for many distinct
    sizes, for representative sizes of 8 log-spaced bins) and the compute-efficient frontier
    L*(C) = min_N L(N, C/(k·N)) (:func:`scalinglaws.allocation.allocate`).  ``frontier`` draws a
    law of C instead or as well (an Approach 1 or 2 fit's L*(C) = E + A·C^−α, or Kaplan's
    L(C_min)).  ``flops_per_token`` (default: the runs' k) is k of C = k·N·D or a callable
    f(N) for C = f(N)·D, the law's curves then being L(N, C/f(N)).
    """
    r = _runs(runs)
    k = FlopsConvention.of(r.flops_per_param_token if flops_per_token is None else flops_per_token)
    fig, axes = _figure(size=(COLUMN_WIDTH, 4.9))
    ax = axes[0, 0]
    N, C, L = r.N, r.C, r.L
    norm = _log_norm(N)
    cmap = _cmap(SIZE_CMAP)
    if r.has_curves:
        for _, g in r.df.groupby("run_id", sort=False):
            g = g.sort_values("C")
            ax.plot(g["C"], g["L"], color=cmap(norm(g["N"].iloc[0])), lw=1.0, alpha=0.85)
        ax.plot([], [], color="0.4", lw=1.0, label=f"training curves ({r.n_runs} runs)")
    else:
        ax.scatter(
            C,
            L,
            c=N,
            cmap=_cmap(SIZE_CMAP),
            norm=norm,
            s=14,
            lw=0,
            alpha=0.85,
            zorder=3,
        )
        ax.scatter([], [], s=14, color="0.5", lw=0, label=f"runs ({len(r)}; colour: N)")
    c_lo, c_hi = float(C.min()), float(C.max())
    grid = _geomspace(c_lo / 1.5, c_hi * 3, 200)
    if law is not None:
        nd = _resolve_law(law)
        _need_nd(nd, "the law's curves in a loss-compute figure")
        reps, group = _size_groups(N)
        for g, n in enumerate(reps):
            cs = C[group == g]
            cg = _geomspace(max(cs.min() / 2, grid[0]), grid[-1], 80)
            ax.plot(
                cg,
                nd(N=np.full_like(cg, n), D=k.tokens(cg, np.full_like(cg, n))),
                color=cmap(norm(n)),
                ls="--",
                lw=1.0,
                alpha=0.9,
                zorder=2,
            )
        name = _short_label(law)
        per = f"{k.k:g}N" if k.linear else "f(N)"
        ax.plot([], [], color="0.4", ls="--", lw=1.0, label=f"{name}: L(N, C/{per}) per size")
        from scalinglaws.allocation import allocate

        opt = allocate(nd, C=grid, flops_per_token=k)
        ax.plot(grid, opt.L, color="black", lw=2.0, zorder=4, label=f"{name}: frontier L*(C)")
    if frontier is not None:
        fl = _resolve_law(frontier)
        if tuple(fl.variables) != ("C",):
            raise DataError(
                f"frontier must be a law of compute C (an Approach 1 or 2 fit, Kaplan's "
                f"L(C_min)), got law '{fl.name}' of {', '.join(fl.variables)}"
            )
        ax.plot(
            grid,
            fl(C=grid),
            color="#D55E00",
            lw=2.0,
            ls="-.",
            zorder=4,
            label=f"{_short_label(frontier)}: "
            + ("L*(C) = E + A·C^−α" if fl.name == "power" else (fl.formula or "L(C)")),
        )
    _set_log_limits(ax, "x", grid[0], grid[-1], 1.0)
    log_axis(ax, "x", "flops")
    top = float(np.quantile(L, 0.99))
    ax.set_ylim(float(L.min()) * 0.95, top * 1.05)
    log_axis(ax, "y", "plain")
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel(LABELS["L"])
    ax.set_title(title or "Loss against compute, by model size")
    _colorbar(fig, ax, SIZE_CMAP, norm, "Parameters N", "count")
    _legend_below(fig, ax, ncols=2)
    return fig


@_styled
def plot_training_curves(
    runs: Any, law: Any = None, max_runs: int = 40, title: str | None = None
) -> Figure:
    """Training curves: loss against tokens seen for each run, coloured by model size, with
    a learning-curve law drawn along each run: L(N_run, D) for a law of (N, D) (the Chinchilla
    form read as a learning curve), or L(N_run, S) along the steps for Kaplan's L(N, S)
    (Kaplan et al. 2020, eq. 5.6).  At most ``max_runs`` runs (evenly chosen over sizes)."""
    r = _runs(runs)
    if not r.has_curves:
        raise DataError(
            f"training curves need runs with several checkpoints, but every run of {r.source} "
            "has one row; give a run id or step column"
        )
    fig, axes = _figure(size=(COLUMN_WIDTH, 4.9))
    ax = axes[0, 0]
    norm = _log_norm(r.N)
    cmap = _cmap(SIZE_CMAP)
    groups = [g for _, g in r.df.groupby("run_id", sort=False) if len(g) > 1]
    groups.sort(key=lambda g: float(g["N"].iloc[0]))
    if len(groups) > max_runs:
        pick = np.unique(np.linspace(0, len(groups) - 1, max_runs).round().astype(int))
        groups = [groups[i] for i in pick]
    nd = _resolve_law(law) if law is not None else None
    variable = None
    if nd is not None:
        variables = tuple(sorted(nd.variables))
        if variables == ("D", "N"):
            variable = "D"
        elif variables == ("N", "S"):
            if "step" not in r.df.columns:
                raise DataError("a law of (N, S) needs runs with a step column")
            variable = "S"
        else:
            raise DataError(
                f"a learning-curve law takes (N, D) or (N, S), got law '{nd.name}' of "
                f"{', '.join(nd.variables)}"
            )
    for g in groups:
        g = g.sort_values("D")
        colour = cmap(norm(g["N"].iloc[0]))
        ax.plot(g["D"], g["L"], color=colour, lw=1.1, alpha=0.85)
        if nd is not None:
            n = float(g["N"].iloc[0])
            if variable == "D":
                d = _geomspace(float(g["D"].min()), float(g["D"].max()), 100)
                ax.plot(d, nd(N=np.full_like(d, n), D=d), color=colour, ls="--", lw=1.2)
            else:
                s = g["step"].to_numpy(dtype=float)
                ok = s > 0
                ax.plot(g["D"][ok], nd(N=np.full(ok.sum(), n), S=s[ok]), color=colour, ls="--")
    ax.plot([], [], color="0.4", lw=1.1, label=f"measured ({len(groups)} runs)")
    if nd is not None:
        what = "L(N, D)" if variable == "D" else "L(N, S)"
        ax.plot([], [], color="0.4", ls="--", lw=1.2, label=f"{_short_label(law)}: {what}")
    d_all = np.concatenate([g["D"].to_numpy(dtype=float) for g in groups])
    l_all = np.concatenate([g["L"].to_numpy(dtype=float) for g in groups])
    _set_log_limits(ax, "x", float(d_all.min()), float(d_all.max()), 1.2)
    log_axis(ax, "x", "count")
    lo, hi = float(l_all.min()), float(np.quantile(l_all, 0.98))
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax.set_xlabel(LABELS["D"] + " seen")
    ax.set_ylabel(LABELS["L"])
    ax.set_title(title or "Training curves")
    _colorbar(fig, ax, SIZE_CMAP, norm, "Parameters N", "count")
    _legend_clear(fig, ax, ncols=2)
    return fig
