"""Figures beyond the compute-optimal question: repeated data (Muennighoff et al. 2023), the
cost of serving a model (Sardana et al. 2024) and the price of over-training.

- :func:`plot_epochs`: loss against epochs over a fixed set of unique tokens, against fresh
  data, with where repetition stops paying (Muennighoff et al. 2023, Figure 3-like);
- :func:`plot_data_isoloss`: IsoLoss contours of the data-constrained law over (D, N) at fixed
  U, with the efficient frontier with and without the data limit (Muennighoff Figure 1 right);
- :func:`plot_inference_cost`: total (training + inference) cost against model size at a fixed
  loss, for several inference demands (Sardana et al. 2024, Figures 1-2-like);
- :func:`plot_overtraining`: the compute multiplier C/C_eq and the size ratio against tokens
  per parameter (derived from Hoffmann et al. 2022, App. D.2; :mod:`scalinglaws.overtraining`).

Every number drawn comes from the library's answers (:mod:`scalinglaws.data_limited`,
:mod:`scalinglaws.inference`, :mod:`scalinglaws.overtraining`); the figures compute none of
their own optima.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from scalinglaws.convention import FlopsConvention
from scalinglaws.plots.inputs import _short_label
from scalinglaws.plots.isoloss import _nice_levels
from scalinglaws.plots.style import (
    COLUMN_WIDTH,
    LABELS,
    LOSS_CMAP,
    PALETTE,
    SIZE_CMAP,
    FlopsPerToken,
    _cmap,
    _colorbar,
    _figure,
    _legend_under,
    _lin_norm,
    _styled,
    log_axis,
)
from scalinglaws.units import format_flops, format_quantity

#: Models marked on the over-training figure when their tokens per parameter are in range:
#: (label, parameters, training tokens).  Llama 3 8B: 8B on 15T tokens (Meta 2024, ~1,875
#: tokens per parameter); Llama 2 7B: 6.7B on 2T (Touvron et al. 2023, ~300).
OVERTRAINED_MODELS: tuple[tuple[str, float, float], ...] = (
    ("Llama 2 7B", 6.74e9, 2e12),
    ("Llama 3 8B", 8e9, 15e12),
)
#: Llama 3 8B's training budget, 6·8e9·15e12 FLOPs: the over-training figure's default C.
LLAMA3_8B_FLOPS = 6.0 * 8e9 * 15e12
#: "Up to ~4 epochs of repeated data are almost as good as fresh data" (Muennighoff et al.
#: 2023, §5): the span shaded on the epochs figure.
CHEAP_EPOCHS = 4.0


def _name(law: Any) -> str:
    """The law's short name for a title: "your fit" for a fit, else the citation."""
    return "your fit" if getattr(law, "approach", None) is not None else _short_label(law)


def _seq(values: Any) -> list[float]:
    return [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float)).reshape(-1)]


def _fig_legend(fig: Figure, ax: Any, ncols: int = 2) -> None:
    """The legend of ``ax`` under the figure (it covers no data)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(ncols, len(handles)))


# ============================================================================ 1. epochs
@_styled
def plot_epochs(
    law: Any = "muennighoff2023",
    unique_tokens: Any = (1e9, 1e10, 1e11),
    N: Any = None,
    max_epochs: float = 60.0,
    fraction: float = math.exp(-1.0),
    title: str | None = None,
) -> Figure:
    """Loss against epochs D/U over fixed unique data, against fresh data (Muennighoff et al.
    2023, "Scaling Data-Constrained Language Models", Figure 3-like, eq. 5).

    Top: for each U of ``unique_tokens`` (or, with several ``N``, each model size at one U),
    L(N, D, U) with D = epochs·U from 1 to ``max_epochs`` (solid) and L(N, D, U = D), the same
    model on D fresh tokens (dashed, U → ∞), from :func:`scalinglaws.data_limited.epochs_worth`.
    ``N`` None compares at N_opt(D), the size for which D fresh tokens are compute-optimal;
    numbers fix the model size(s).  Bottom: the worth of the last repeated token relative to a
    fresh one, exp(−R/R_D*), and of all D tokens, D'/D.  Shaded: up to 4 epochs, which "cost
    almost nothing"; dotted: :func:`~scalinglaws.data_limited.repetition_stops_paying` at
    ``fraction`` (1/e: 1 + R_D* epochs), marked on the bottom panel where the worth crosses it.
    """
    from scalinglaws.data_limited import data_constrained_law, epochs_worth, repetition_stops_paying

    dc = data_constrained_law(law)
    us = _seq(unique_tokens)
    ns: list[Any] = [None] if N is None else _seq(N)
    if len(us) > 1 and len(ns) > 1:
        from scalinglaws.errors import DomainError

        raise DomainError(
            "give several unique_tokens or several N, not both (one family of curves)",
            argument="N",
        )
    stop = float(repetition_stops_paying(dc, fraction))
    e_hi = max(float(max_epochs), 2.0)
    epochs = np.geomspace(1.0, e_hi, 160)
    fig, axes = _figure(nrows=2, size=(COLUMN_WIDTH, 6.8))
    ax, ax_w = axes[0, 0], axes[1, 0]
    pairs = [(u, n) for u in us for n in ns]
    cmap = _cmap(SIZE_CMAP)
    for i, (u, n) in enumerate(pairs):
        w = epochs_worth(dc, u, epochs, n)
        color = cmap(i / max(len(pairs) - 1, 1)) if len(pairs) > 1 else PALETTE[0]
        what = f"U = {format_quantity(u)}" + (f", N = {format_quantity(n)}" if n else "")
        ax.plot(epochs, w.L, color=color, lw=1.8, label=f"{what}, repeated")
        ax.plot(epochs, w.L_fresh, color=color, lw=1.3, ls="--", label=f"{what}, fresh data")
    for a in (ax, ax_w):
        a.axvspan(1.0, CHEAP_EPOCHS, color="#009E73", alpha=0.10, lw=0)
        if stop <= e_hi:
            a.axvline(stop, color="0.3", ls=":", lw=1.2)
    ax.fill_between(
        [], [], color="#009E73", alpha=0.25, label="≤ 4 epochs: almost as good as fresh"
    )
    ax.plot(
        [], [], color="0.3", ls=":", lw=1.2, label=f"repetition stops paying: {stop:.3g} epochs"
    )
    w1 = epochs_worth(dc, us[0], epochs, ns[0])
    ax_w.plot(
        epochs,
        w1.marginal,
        color=PALETTE[1],
        lw=1.8,
        label="worth of the last repeated token, exp(−R/R_D*)",
    )
    ax_w.plot(
        epochs,
        w1.data_fraction,
        color=PALETTE[0],
        lw=1.5,
        ls="-.",
        label="worth of all D tokens, D'/D",
    )
    ax_w.axhline(fraction, color="0.55", lw=0.8, ls="--")
    share = "1/e" if math.isclose(fraction, math.exp(-1.0)) else f"{fraction:.2g}"
    if stop <= e_hi:
        ax_w.scatter(
            [stop],
            [fraction],
            marker="o",
            s=45,
            color=PALETTE[1],
            edgecolor="black",
            lw=0.6,
            zorder=5,
            label=f"worth = {share} of a fresh token at {stop:.3g} epochs",
        )
    for a in (ax, ax_w):
        log_axis(a, "x", "plain")
        a.set_xlim(1.0, e_hi)
    ax.set_ylabel(LABELS["L"])
    ax.set_xlabel("Epochs over the unique tokens (D/U)")
    ax_w.set_ylim(0.0, 1.05)
    ax_w.set_ylabel("Worth relative to fresh tokens")
    ax_w.set_xlabel("Epochs over the unique tokens (D/U)")
    size = "at N_opt(D)" if N is None else "at fixed N"
    ax.set_title(title or f"Repeated against fresh data ({_name(law)}, {size})")
    _legend_under(ax, ncols=2)
    _legend_under(ax_w, ncols=2)
    return fig


# ============================================================================ 2. IsoLoss
@_styled
def plot_data_isoloss(
    law: Any = "muennighoff2023",
    C: float = 1e22,
    unique_tokens: float = 25e9,
    levels: Any = None,
    flops_per_token: FlopsPerToken = 6.0,
    C_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The data-constrained optimum on the IsoLoss plane (Muennighoff et al. 2023, Figure 1
    right, eq. 5): contours of L(N, D, U) at fixed U = ``unique_tokens`` over training tokens D
    (x) and parameters N (y), the efficient frontier N*(C), D*(C) with the data limit
    (:func:`scalinglaws.data_limited.data_limited_allocation`, solid) and without it (the base
    Chinchilla law, Hoffmann et al. 2022, dashed), which part where D* exceeds U; the IsoFLOP
    line C = k·N·D of the request's budget ``C`` with its data-limited optimum (star) and the
    unlimited one (hollow circle); and D = U (one epoch).  The frontier spans ``C_range``
    (default C/1000 to 100·C).
    """
    from scalinglaws.data_limited import data_constrained_law, data_limited_allocation

    dc = data_constrained_law(law)
    f = FlopsConvention.of(flops_per_token)
    u = float(unique_tokens)
    opt = data_limited_allocation(dc, C, u, f)
    c_lo, c_hi = C_range or (float(C) / 1e3, float(C) * 1e2)
    cs = np.geomspace(c_lo, c_hi, 80)
    fr = data_limited_allocation(dc, cs, u, f)
    # where the loss no longer falls with C (both N' and D' saturated, thousands of epochs),
    # every split of C gives the same loss and N* is not determined: the frontier ends there
    keep = _still_falling(np.asarray(fr.L, dtype=float))
    fr_d, fr_n, fr_l = (np.asarray(v, dtype=float)[keep] for v in (fr.D, fr.N, fr.L))
    d_all = np.concatenate([fr_d, fr.D_free, [u, float(opt.D)]])
    n_all = np.concatenate([fr_n, fr.N_free, [float(opt.N)]])
    d_range = (float(d_all.min()) / 3, float(d_all.max()) * 3)
    n_range = (float(n_all.min()) / 3, float(n_all.max()) * 3)
    dg = np.geomspace(*d_range, 300)
    ng = np.geomspace(*n_range, 300)
    DD, NN = np.meshgrid(dg, ng)
    LL = np.asarray(dc(N=NN, D=DD, U=u), dtype=float)
    if levels is None:
        levels = _nice_levels(float(np.min(fr_l)), float(np.max(fr_l)) + 0.15, 10)
    lv = np.sort(np.atleast_1d(np.asarray(levels, dtype=float)))
    norm = _lin_norm(lv)
    cmap = _cmap(LOSS_CMAP)
    fig, axes = _figure(size=(COLUMN_WIDTH, 6.2))
    ax = axes[0, 0]
    ax.contour(DD, NN, LL, levels=lv, cmap=cmap, norm=norm, linewidths=1.2)
    _label_on_path(ax, lv, fr_l, fr_d, fr_n, cmap, norm)
    ax.plot([], [], color=cmap(0.5), lw=1.2, label=f"IsoLoss contours at U = {format_quantity(u)}")
    ax.plot(
        fr_d, fr_n, color="black", lw=2.0, zorder=4, label="efficient frontier with the data limit"
    )
    ax.plot(
        fr.D_free,
        fr.N_free,
        color="black",
        lw=1.4,
        ls="--",
        zorder=4,
        label="efficient frontier without it (base law)",
    )
    ax.axvline(u, color=PALETTE[2], lw=1.2, ls="-.", zorder=3, label="D = U (one epoch)")
    iso_n = np.geomspace(*n_range, 100)
    iso_d = np.asarray(f.tokens(C, iso_n), dtype=float)
    ax.plot(
        iso_d,
        iso_n,
        color="0.4",
        lw=1.0,
        ls=":",
        zorder=3,
        label=f"IsoFLOP line C = {format_flops(float(C), 2)} FLOPs",
    )
    ax.scatter(
        [opt.D],
        [opt.N],
        marker="*",
        s=200,
        color=PALETTE[4],
        edgecolor="black",
        lw=0.7,
        zorder=7,
        label=f"optimum: N* = {format_quantity(float(opt.N))}, "
        f"D* = {format_quantity(float(opt.D))} ({float(opt.epochs):.3g} epochs)",
    )
    ax.scatter(
        [opt.D_free],
        [opt.N_free],
        marker="o",
        s=90,
        facecolor="white",
        edgecolor="black",
        lw=1.0,
        zorder=5,
        label=f"without the limit: N* = {format_quantity(float(opt.N_free))}, "
        f"D* = {format_quantity(float(opt.D_free))}",
    )
    ax.set_xlim(*d_range)
    ax.set_ylim(*n_range)
    log_axis(ax, "x", "count")
    log_axis(ax, "y", "count")
    ax.set_xlabel(LABELS["D"] + " (repeats included)")
    ax.set_ylabel(LABELS["N"])
    ax.set_title(title or f"Data-constrained optimum ({_name(law)})")
    _colorbar(fig, ax, LOSS_CMAP, norm, "Loss (nats per token)", "plain")
    _fig_legend(fig, ax, ncols=2)
    return fig


def _still_falling(loss: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """The frontier points up to where its loss stops falling with C (by ``rtol``)."""
    drop = loss[:-1] - loss[1:] > rtol * loss[1:]
    stalled = np.flatnonzero(~drop)
    keep = np.ones(loss.shape, dtype=bool)
    if stalled.size:
        keep[stalled[0] + 1 :] = False
    return keep


def _label_on_path(
    ax: Any,
    lv: np.ndarray,
    path_l: np.ndarray,
    path_d: np.ndarray,
    path_n: np.ndarray,
    cmap: Any,
    norm: Any,
) -> None:
    """Each contour's level written where it crosses the frontier path (its optimum), to the
    left of the path, in the contour's colour."""
    order = np.argsort(path_l)
    ll, ld, ln = path_l[order], np.log(path_d[order]), np.log(path_n[order])
    for level in lv:
        if not ll[0] <= level <= ll[-1]:
            continue
        d, n = math.exp(np.interp(level, ll, ld)), math.exp(np.interp(level, ll, ln))
        ax.annotate(
            f"{level:g}",
            (d, n),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8.5,
            color=cmap(norm(level)),
            zorder=5,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )


# ============================================================================ 3. inference
@_styled
def plot_inference_cost(
    law: Any = "hoffmann2022",
    loss: float = 2.0,
    inference_tokens: Any = (0.0, 2e11, 2e12, 2e13),
    train_flops_per_token: FlopsPerToken = 6.0,
    inference_flops_per_token: Any = 2.0,
    train_cost_per_flop: float = 1.0,
    inference_cost_per_flop: float = 1.0,
    title: str | None = None,
) -> Figure:
    """Total cost of training and serving against model size at a fixed loss (Sardana et al.
    2024, "Beyond Chinchilla-Optimal", Figures 1-2-like).

    For each inference demand D_inf of ``inference_tokens``, every model size N that reaches
    the target ``loss`` ℓ trains on D_tr(N) tokens with L(N, D_tr) = ℓ
    (:func:`scalinglaws.inference.tokens_for_loss`) and costs
    c_tr·f(N)·D_tr + c_inf·g(N)·D_inf (6N and 2N FLOPs per token by default).  Top: that cost;
    bottom: the cost relative to the Chinchilla-optimal model (least training compute at ℓ,
    :func:`scalinglaws.allocation.compute_for_loss`; dotted vertical line) serving the same
    demand.  Each curve's minimum is :func:`scalinglaws.inference.inference_optimal`'s
    answer (dots).
    """
    from scalinglaws.inference import inference_optimal, tokens_for_loss

    demands = _seq(inference_tokens)
    opt = inference_optimal(
        law,
        loss,
        np.asarray(demands),
        train_flops_per_token,
        inference_flops_per_token,
        train_cost_per_flop,
        inference_cost_per_flop,
    )
    tr = FlopsConvention.of(train_flops_per_token, "train_flops_per_token")
    n_opt = np.atleast_1d(np.asarray(opt.N, dtype=float))
    cost_opt = np.atleast_1d(np.asarray(opt.total_cost, dtype=float))
    ref = opt.compute_optimal
    n_chin = float(np.atleast_1d(np.asarray(ref.N, dtype=float))[0])
    ref_cost = np.atleast_1d(np.asarray(ref.total_cost, dtype=float))
    lo = min(float(n_opt.min()), n_chin) / 4
    hi = max(float(n_opt.max()), n_chin) * 4
    ns = np.geomspace(lo, hi, 400)
    d_tr = np.asarray(tokens_for_loss(law, ns, loss), dtype=float)
    fig, axes = _figure(nrows=2, size=(COLUMN_WIDTH, 7.0))
    ax, ax_r = axes[0, 0], axes[1, 0]
    cmap = _cmap(SIZE_CMAP)
    from scalinglaws.inference import _inference_convention  # g(N), as inference_optimal reads it

    g = _inference_convention(inference_flops_per_token)
    tops = []
    for i, d_inf in enumerate(demands):
        with np.errstate(all="ignore"):
            cost = train_cost_per_flop * np.asarray(
                tr.compute(ns, d_tr), dtype=float
            ) + inference_cost_per_flop * np.asarray(g.compute(ns, d_inf), dtype=float)
        color = cmap(i / max(len(demands) - 1, 1))
        word = "no inference" if d_inf == 0 else f"D_inf = {format_quantity(d_inf)} tokens"
        ax.plot(ns, cost, color=color, lw=1.8, label=word)
        ax.scatter(
            [n_opt[i]], [cost_opt[i]], s=50, color=color, edgecolor="black", lw=0.7, zorder=5
        )
        ax_r.plot(ns, cost / ref_cost[i], color=color, lw=1.8)
        ax_r.scatter(
            [n_opt[i]],
            [cost_opt[i] / ref_cost[i]],
            s=50,
            color=color,
            edgecolor="black",
            lw=0.7,
            zorder=5,
        )
        tops.append(cost_opt[i])
    ax.scatter([], [], s=50, color="0.6", edgecolor="black", lw=0.7, label="cheapest model")
    for a in (ax, ax_r):
        a.axvline(n_chin, color="0.3", ls=":", lw=1.3)
    ax.plot(
        [],
        [],
        color="0.3",
        ls=":",
        lw=1.3,
        label=f"Chinchilla-optimal size ({format_quantity(n_chin)})",
    )
    for a in (ax, ax_r):
        log_axis(a, "x", "count")
        a.set_xlim(lo, hi)
        a.set_xlabel(LABELS["N"])
    log_axis(ax, "y", "flops")
    ax.set_ylim(min(tops) / 1.6, max(tops) * 8)
    unit = "FLOPs" if train_cost_per_flop == inference_cost_per_flop == 1.0 else "cost units"
    ax.set_ylabel(f"Training + inference cost ({unit})")
    r_lo = min(0.9, float(np.min(cost_opt / ref_cost)) - 0.08)
    ax_r.set_ylim(r_lo, 1.0 + max(0.5, 1.0 - r_lo))
    ax_r.axhline(1.0, color="0.55", lw=0.8, ls="--")
    ax_r.set_ylabel("Relative to Chinchilla-optimal")
    ax.set_title(title or f"Total cost at loss {float(loss):g} ({_name(law)})")
    _legend_under(ax, ncols=2)
    return fig


# ============================================================================ 4. over-training
@_styled
def plot_overtraining(
    law: Any = "hoffmann2022",
    C: float | None = None,
    N: float | None = None,
    tokens_per_param: tuple[float, float] = (2.0, 5000.0),
    flops_per_token: FlopsPerToken = 6.0,
    models: Sequence[tuple[str, float, float]] | None = None,
    title: str | None = None,
) -> Figure:
    """The price of over-training against tokens per parameter D/N (derived from Hoffmann et
    al. 2022, App. D.2; :func:`scalinglaws.overtraining.overtraining_cost`).

    At a fixed budget ``C`` (default: Llama 3 8B's, 6·8e9·15e12 = 7.2e23 FLOPs) or a fixed
    model size ``N``, each ratio r = D/N in ``tokens_per_param`` is a model whose loss the
    compute-optimal recipe reaches with less compute C_eq.  Top: the compute multiplier
    C/C_eq (≥ 1, = 1 at the compute-optimal ratio, marked); bottom: the size ratio N_eq/N
    (the compute-optimal model of equal loss is that many times larger: > 1 when
    over-trained).  ``models`` ((label, N, D), default :data:`OVERTRAINED_MODELS`) are
    marked at their D/N when in range (at this figure's C or N, not at their own).
    """
    from scalinglaws.allocation import allocate, allocate_for_params
    from scalinglaws.errors import DomainError
    from scalinglaws.overtraining import overtraining_cost

    if C is not None and N is not None:
        raise DomainError("give a budget C or a model size N, not both", argument="N")
    f = FlopsConvention.of(flops_per_token)
    r_lo, r_hi = (float(x) for x in tokens_per_param)
    if not (0 < r_lo < r_hi):
        raise DomainError(
            f"tokens_per_param must be a range (low, high) with 0 < low < high, got "
            f"{tokens_per_param!r}",
            argument="tokens_per_param",
        )
    if N is None:
        C = LLAMA3_8B_FLOPS if C is None else float(C)
        r_star = float(allocate(law, C, f).tokens_per_param)
    else:
        r_star = float(allocate_for_params(law, N, f).tokens_per_param)
    rs = np.unique(np.concatenate([np.geomspace(r_lo, r_hi, 240), [r_star]]))
    rs = rs[(rs >= r_lo) & (rs <= r_hi)]

    def price(r: Any) -> Any:
        r = np.asarray(r, dtype=float)
        if N is None:
            return overtraining_cost(law, C=C, tokens_per_param=r, flops_per_token=f)
        return overtraining_cost(law, N=N, D=r * float(N), flops_per_token=f)

    p = price(rs)
    fig, axes = _figure(nrows=2, size=(COLUMN_WIDTH, 6.6))
    ax, ax_s = axes[0, 0], axes[1, 0]
    ax.plot(rs, p.price, color=PALETTE[0], lw=1.9, label="compute multiplier C / C_eq")
    ax_s.plot(
        rs,
        p.size_ratio,
        color=PALETTE[1],
        lw=1.9,
        label="size ratio N_eq / N (compute-optimal model of equal loss)",
    )
    for a in (ax, ax_s):
        a.axvline(r_star, color="0.3", ls=":", lw=1.2)
    at = price(r_star)
    ax.scatter(
        [r_star],
        [float(at.price)],
        marker="D",
        s=45,
        color="black",
        zorder=5,
        label=f"compute-optimal: {r_star:.3g} tokens/param (price 1)",
    )
    ax_s.axhline(1.0, color="0.55", lw=0.8, ls="--")
    markers = ["s", "^", "v", "P"]
    for j, (name, mn, md) in enumerate(OVERTRAINED_MODELS if models is None else models):
        r = md / mn
        if not r_lo <= r <= r_hi:
            continue
        q = price(r)
        style = {
            "marker": markers[j % 4],
            "s": 60,
            "color": PALETTE[3 + j % 3],
            "edgecolor": "black",
            "lw": 0.6,
            "zorder": 6,
        }
        label = f"{name}'s {r:,.0f} tokens/param: {float(q.price):.2f}× the compute"
        ax.scatter([r], [float(q.price)], label=label, **style)
        ax_s.scatter([r], [float(q.size_ratio)], **style)
    for a in (ax, ax_s):
        log_axis(a, "x", "count")
        a.set_xlim(r_lo, r_hi)
        a.set_xlabel("Tokens per parameter D/N")
    log_axis(ax, "y", "plain")
    log_axis(ax_s, "y", "plain")
    ax.set_ylabel("Compute multiplier C / C_eq")
    ax_s.set_ylabel("Size ratio N_eq / N")
    fixed = (
        f"at C = {format_flops(float(C), 2)} FLOPs"
        if N is None
        else f"at N = {format_quantity(float(N))}"
    )
    ax.set_title(title or f"The price of over-training ({_name(law)}, {fixed})")
    _legend_under(ax, ncols=1)
    _legend_under(ax_s, ncols=1)
    return fig
