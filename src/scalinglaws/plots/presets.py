"""The allocation under every published preset (N*(C) and tokens per parameter), and the
presets' legend labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from scalinglaws.plots.frontier import frontier_curve
from scalinglaws.plots.inputs import (
    _fits,
    _geomspace,
    _label_of,
)
from scalinglaws.plots.published import PUBLISHED_MODELS, Model
from scalinglaws.plots.style import (
    COLUMN_WIDTH,
    LABELS,
    PALETTE,
    _figure,
    _set_log_limits,
    _styled,
    log_axis,
)


@_styled
def plot_presets(
    presets: Sequence[Any] | None = None,
    C_range: tuple[float, float] = (1e18, 1e26),
    fits: Any = (),
    models: Sequence[Model] | bool = True,
    budgets: Sequence[float] = (),
    flops_per_token: float = 6.0,
    title: str | None = None,
    fit_range: tuple[float, float] | None = None,
) -> Figure:
    """The allocation under every published preset on one axis: N*(C) (left) and tokens per
    parameter D*/N* (right), for Kaplan et al. 2020 (N* ∝ C^0.73, non-embedding N), Hoffmann
    et al. 2022 (Approach 1 through Table 3; Approach 3 as printed and unrounded), Besiroglu et
    al. 2024 and Llama 3, plus ``fits`` (your own) drawn thicker, over ``fit_range`` only
    (default: all of ``C_range``) -- a fit drawn many decades beyond its data would dominate the
    figure with a line nobody should read.  ``models=True`` marks the published models of
    :data:`PUBLISHED_MODELS`; ``budgets`` are drawn as vertical lines."""
    from scalinglaws.allocation import allocate
    from scalinglaws.presets import get_preset, list_presets

    names = list_presets() if presets is None else list(presets)
    preset_objs = [get_preset(p) for p in names]
    fit_list = _fits(fits) if fits else []
    grid = _geomspace(C_range[0], C_range[1], 120)
    # stacked: side by side, each panel would be half the report's column wide
    fig, axes = _figure(nrows=2, size=(COLUMN_WIDTH, 11.4))
    ax_n, ax_t = axes[0, 0], axes[1, 0]
    styles = ["-", "--", ":", "-."]
    papers: dict[str, int] = {}
    for p in preset_objs:
        papers.setdefault(p.citation.short, 0)
    seen: dict[str, int] = {}
    for p in preset_objs:
        a = allocate(p, C=grid, flops_per_token=flops_per_token)
        paper = p.citation.short
        colour = PALETTE[list(papers).index(paper) % len(PALETTE)]
        variant = seen.get(paper, 0)
        seen[paper] = variant + 1
        kw = {"color": colour, "ls": styles[variant % 4], "lw": 1.5}
        ax_n.plot(grid, a.N, label=preset_label(p), **kw)
        ax_t.plot(grid, a.tokens_per_param, **kw)
    fit_grid = grid if fit_range is None else _geomspace(fit_range[0], fit_range[1], 120)
    for j, fit in enumerate(fit_list):
        n, d = frontier_curve(fit, fit_grid, flops_per_token)
        kw = {"color": "black", "ls": styles[j % 4], "lw": 2.6}
        ax_n.plot(fit_grid, n, label=_label_of(fit), **kw)
        ax_t.plot(fit_grid, d / n, **kw)
    if models:
        mlist = PUBLISHED_MODELS if models is True else models
        for i, m in enumerate(mlist):
            if not C_range[0] <= m.C <= C_range[1]:
                continue
            mk = ["*", "P", "X", "s", "^", "v"][i % 6]
            kw = {"marker": mk, "s": 80, "color": "white", "edgecolor": "black", "zorder": 6}
            ax_n.scatter([m.C], [m.N], label=f"{m.name}", **kw)
            ax_t.scatter([m.C], [m.D / m.N], **kw)
    for b in budgets:
        for ax in (ax_n, ax_t):
            ax.axvline(float(b), color="0.5", lw=0.8, ls=":")
    ax_t.axhline(20.0, color="0.55", lw=4, alpha=0.25, zorder=0)
    ax_n.plot([], [], color="0.55", lw=4, alpha=0.25, label="20 tokens per parameter")
    for ax in (ax_n, ax_t):
        _set_log_limits(ax, "x", grid[0], grid[-1], 1.0)
        log_axis(ax, "x", "flops")
        ax.set_xlabel(LABELS["C"])
    ax_n.set_yscale("log")
    log_axis(ax_n, "y", "count")
    ax_t.set_yscale("log")
    log_axis(ax_t, "y", "plain")
    ax_n.set_ylabel("Compute-optimal parameters N*")
    ax_t.set_ylabel("Tokens per parameter D*/N*")
    ax_n.set_title("Compute-optimal model size under each preset")
    ax_t.set_title("Tokens per parameter under each preset")
    handles, labels = ax_n.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


#: The smallest training compute (FLOPs) among the runs each paper fitted its laws to.  Presets
#: carry no validity range, so these are read off the papers: Kaplan et al. 2020, Figure 1
#: (compute from about 1e-9 PF-days); Hoffmann et al. 2022, Figure 4 (its smallest run, 1.4e18
#: FLOPs, in Besiroglu et al.'s reconstruction, which Besiroglu et al. 2024 refit); Llama 3,
#: §3.2.1 (IsoFLOP budgets from 6e18 FLOPs).
PRESET_SMALLEST_C: dict[str, float] = {
    "kaplan2020": 1e11,
    "hoffmann2022": 1.4e18,
    "hoffmann2022-unrounded": 1.4e18,
    "hoffmann2022-approach1": 1.4e18,
    "besiroglu2024": 1.4e18,
    "llama3": 6e18,
    "llama3-fig3": 6e18,
}
#: How far below its paper's smallest run a preset's loss is still reported: two decades.
#: Further down the law extrapolates into models its paper never trained (Hoffmann et al.'s law
#: gives 17 nats at 1e12 FLOPs, far above any real model's loss).
LOSS_DECADES_BELOW = 2.0


def preset_loss_range(preset: Any) -> tuple[float, float]:
    """The compute range (FLOPs) over which the report shows a preset's loss: from
    :data:`LOSS_DECADES_BELOW` decades below its paper's smallest run
    (:data:`PRESET_SMALLEST_C`) up, with no upper bound (a preset is published to be
    extrapolated upwards); every C for a preset not in the table."""
    from scalinglaws.presets import get_preset

    smallest = PRESET_SMALLEST_C.get(get_preset(preset).name)
    if smallest is None:
        return 0.0, float("inf")
    return smallest / 10**LOSS_DECADES_BELOW, float("inf")


def preset_loss_in_range(preset: Any, C: float) -> bool:
    """True when the budget ``C`` lies in :func:`preset_loss_range` of ``preset``."""
    lo, hi = preset_loss_range(preset)
    return lo <= float(C) <= hi


_PRESET_LABELS = {
    "kaplan2020": "Kaplan et al. 2020, N* ∝ C^0.73 (non-embedding N)",
    "hoffmann2022": "Hoffmann et al. 2022, Approach 3 (printed constants)",
    "hoffmann2022-unrounded": "Hoffmann et al. 2022, Approach 3 (unrounded)",
    "hoffmann2022-approach1": "Hoffmann et al. 2022, Approach 1 (Table 3)",
    "besiroglu2024": "Besiroglu et al. 2024 (replication)",
    "llama3": "Llama 3 (2024), D* = 0.29·C^0.53 (text)",
    "llama3-fig3": "Llama 3 (2024), D* = 0.299·C^0.537 (Figure 3)",
}


def preset_label(preset: Any) -> str:
    """A legend label for a preset: the paper and the variant, in words."""
    from scalinglaws.presets import get_preset

    p = get_preset(preset)
    return _PRESET_LABELS.get(p.name, f"{p.citation.short} ({p.name})")
