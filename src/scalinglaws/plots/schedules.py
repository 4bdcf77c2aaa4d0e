"""Figures of loss curves under learning-rate schedules (:mod:`scalinglaws.curves`):

- :func:`plot_curve_fits` and :func:`plot_curve_prediction`: observed loss and the fitted
  curve law against steps, the learning-rate schedule drawn beneath (Tissue et al. 2024,
  Figs. 1-2; Luo et al. 2025, Fig. 1); a prediction shades the fitted window, draws the
  continuation with its interval at the final step, and marks the final losses predicted
  under other schedules;
- :func:`plot_curve_backtest`: predicted against observed final losses, one marker per law and
  fit fraction, the y = x line and the seed-to-seed spread (Luo et al. 2025, Fig. 6 style);
- :func:`plot_cooldown`: a cooldown sweep's constant-LR trunks and WSD branches against
  cosine runs at the same model sizes, final loss against tokens (Hägele et al. 2024, Fig. 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scalinglaws.errors import DataError
from scalinglaws.plots.style import (
    COLUMN_WIDTH,
    PALETTE,
    _styled,
    log_axis,
)
from scalinglaws.units import format_quantity

_FRACTION_MARKERS = ("o", "s", "D", "P", "X", "*", "h", "p")


def _count_fmt(x: float, _pos: Any = None) -> str:
    return format_quantity(x) if x >= 1e3 else f"{x:g}"


def _panels(height: float = 5.6) -> tuple[Figure, Axes, Axes]:
    fig = Figure(figsize=(COLUMN_WIDTH, height), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1.1)})
    bottom.xaxis.set_major_formatter(ticker.FuncFormatter(_count_fmt))
    bottom.set_xlabel("Training steps S")
    top.set_ylabel("Loss (nats per token)")
    bottom.set_ylabel("Learning rate")
    bottom.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:.2g}"))
    bottom.yaxis.set_major_locator(ticker.MaxNLocator(3))
    return fig, top, bottom


def _size_colors(sizes: Sequence[float]) -> dict[float, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(set(sizes)))}


def _legend_below(fig: Figure, handles: list, ncols: int = 3) -> None:
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(ncols, len(handles)))


def _x_of(curve: Any, fit: Any) -> np.ndarray | None:
    return None if fit.law != "power" or curve.x is None else np.asarray(curve.x, float)


@_styled
def plot_curve_fits(curves: Sequence[Any], fits: Sequence[Any]) -> Figure:
    """Observed loss (points) and the fitted curve law (lines) of each run against steps,
    coloured by model size, with the runs' learning-rate schedules beneath.

    ``curves`` are :class:`~scalinglaws.curves.RunCurve` and ``fits`` the matching
    :class:`~scalinglaws.curves.CurveFit` (same order).  The layout follows Tissue et al. 2024
    (Figs. 1-2) and Luo et al. 2025 (Fig. 1): the loss of a schedule law depends on the
    learning rate at every step, so the schedule is drawn under the curve it explains.
    """
    if len(curves) != len(fits):
        raise DataError(
            f"plot_curve_fits needs one fit per curve, got {len(curves)} curves "
            f"and {len(fits)} fits",
            argument="fits",
        )
    if not curves:
        raise DataError("plot_curve_fits needs at least one run", argument="curves")
    fig, top, bottom = _panels()
    colors = _size_colors([rc.N for rc in curves])
    counts: dict[float, int] = {}
    for rc, fit in zip(curves, fits, strict=True):
        c = rc.curve
        color = colors[rc.N]
        counts[rc.N] = counts.get(rc.N, 0) + 1
        top.scatter(c.steps, c.loss, s=6, color=color, alpha=0.35, linewidths=0, zorder=2)
        pred = fit.predict(c.steps, lr=c.lr, warmup=c.warmup, x=_x_of(c, fit))
        top.plot(c.steps, pred, color=color, lw=1.1, alpha=0.9, zorder=3)
    _loss_limits(
        top,
        np.concatenate([np.asarray(rc.curve.steps, float) for rc in curves]),
        np.concatenate([np.asarray(rc.curve.loss, float) for rc in curves]),
    )
    schedules: dict[str, Any] = {}
    for rc in curves:
        if rc.curve.lr is not None:
            schedules.setdefault(rc.schedule or "lr column", rc.curve.lr)
    styles = ("-", "--", ":", "-.")
    sched_handles = []
    for i, (text, lr) in enumerate(schedules.items()):
        steps = np.arange(1, len(lr) + 1)
        (line,) = bottom.plot(
            steps, lr, color="0.25", ls=styles[i % 4], lw=1.2, label=f"schedule: {text}"
        )
        sched_handles.append(line)
    if not schedules:
        bottom.text(
            0.5,
            0.5,
            "no schedule (power law in steps)",
            transform=bottom.transAxes,
            ha="center",
            va="center",
            color="0.3",
        )
    law = fits[0].law if len({f.law for f in fits}) == 1 else "curve"
    top.set_title(f"{law} law fitted to {len(curves)} run{'s' * (len(curves) > 1)}")
    handles = [
        Line2D(
            [],
            [],
            color=colors[n],
            marker="o",
            ls="-",
            ms=4,
            label=f"N = {format_quantity(n)} ({counts[n]} run{'s' * (counts[n] > 1)})",
        )
        for n in sorted(colors)
    ]
    handles.append(
        Line2D([], [], color="0.4", marker="o", ls="none", ms=3, alpha=0.5, label="observed loss")
    )
    handles.append(Line2D([], [], color="0.2", ls="-", lw=1.1, label=f"fitted {law} law"))
    _legend_below(fig, handles + sched_handles, ncols=2)
    return fig


def _loss_limits(
    ax: Axes, steps: np.ndarray, loss: np.ndarray, extra: Sequence[float] = ()
) -> None:
    """y limits that leave out the first steps' fall from ~10 nats: from below the lowest loss
    to the highest loss logged after the first 3% of the steps (and ``extra`` values)."""
    steps, loss = np.asarray(steps, float), np.asarray(loss, float)
    ok = np.isfinite(loss)
    if not ok.any():
        return
    late = ok & (steps >= 0.03 * steps[ok].max())
    v = np.concatenate([loss[ok], np.asarray(extra, float)])
    lo = float(v.min())
    hi = max(float(loss[late].max()) if late.any() else float(loss[ok].max()), *extra, lo)
    pad = 0.06 * (hi - lo) if hi > lo else 0.1
    ax.set_ylim(lo - pad, hi + pad)


@_styled
def plot_curve_prediction(run: Any, prediction: Any) -> Figure:
    """A run's loss predicted from its first part: the observed loss (points), the law fitted
    on the shaded window (solid), its continuation under the run's own schedule (dashed), the
    predicted final loss with its bootstrap interval, and the final losses predicted under the
    ``--under`` schedules, each marked at the last step in its schedule's colour; the schedules
    are drawn beneath.

    ``run`` is a :class:`~scalinglaws.curves.RunCurve`, ``prediction`` what
    :func:`~scalinglaws.curves.predict_run` returned for it.  Tissue et al. 2024 (Fig. 4, loss
    under other schedules from one fit); Luo et al. 2025 (Fig. 1).
    """
    from scalinglaws.curves.predict import _alternative_lr

    p = prediction
    c = run.curve
    fig, top, bottom = _panels()
    T = int(p.final_step)
    until = int(p.fit.steps.max())
    top.axvspan(0, until, color="#0072B2", alpha=0.08, lw=0, zorder=0)
    bottom.axvspan(0, until, color="#0072B2", alpha=0.08, lw=0, zorder=0)
    top.text(
        until,
        1.0,
        f" fitted on steps ≤ {format_quantity(until)} ",
        transform=top.get_xaxis_transform(),
        ha="right",
        va="top",
        fontsize=8.5,
        color="#0072B2",
    )
    steps = np.asarray(p.curve["step"], float)
    pred = np.asarray(p.curve["predicted"], float)
    inside = steps <= until
    top.scatter(
        c.steps, c.loss, s=8, color="0.45", alpha=0.6, linewidths=0, zorder=2, label="observed loss"
    )
    top.plot(
        steps[inside],
        pred[inside],
        color="#0072B2",
        lw=1.6,
        zorder=3,
        label=f"{p.fit.law} law, fitted",
    )
    top.plot(
        steps[~inside],
        pred[~inside],
        color="#0072B2",
        lw=1.6,
        ls="--",
        zorder=3,
        label="predicted continuation",
    )
    level = f"{p.level:.0%}"
    finals = [p.predicted_final]
    yerr = None
    if p.interval is not None:
        lo, hi = p.interval
        yerr = [[p.predicted_final - lo], [hi - p.predicted_final]]
        finals += [lo, hi]
    top.errorbar(
        [T],
        [p.predicted_final],
        yerr=yerr,
        fmt="o",
        color="#0072B2",
        ms=6,
        capsize=3,
        zorder=4,
        label=f"predicted final {p.predicted_final:.3f}" + (f" ({level} interval)" if yerr else ""),
    )
    if p.observed_final is not None:
        top.scatter(
            [T],
            [p.observed_final],
            marker="*",
            s=90,
            color="black",
            zorder=5,
            label=f"observed final {p.observed_final:.3f}",
        )
        finals.append(p.observed_final)
    if c.lr is not None:
        bottom.plot(
            np.arange(1, len(c.lr) + 1),
            c.lr,
            color="#0072B2",
            lw=1.4,
            label=f"as trained: {run.schedule or 'lr column'}",
        )
    peak = float(np.max(c.lr)) if c.lr is not None else 1.0
    offsets = np.linspace(0.015, 0.045, max(1, len(p.under))) * T
    for i, (text, u) in enumerate(p.under.items()):
        color = PALETTE[(i + 1) % len(PALETTE)]
        _, alr, _ = _alternative_lr(u.get("schedule", text), c, T, peak)
        bottom.plot(
            np.arange(1, len(alr) + 1), alr, color=color, lw=1.2, ls=("--", ":", "-.")[i % 3]
        )
        iv = u.get("interval")
        yerr_u = None
        if iv:
            yerr_u = [[u["predicted_final"] - iv[0]], [iv[1] - u["predicted_final"]]]
            finals += list(iv)
        top.errorbar(
            [T + offsets[i]],
            [u["predicted_final"]],
            yerr=yerr_u,
            fmt="D",
            color=color,
            ms=5,
            capsize=3,
            zorder=4,
            label=f"under {text}: {u['predicted_final']:.3f}",
        )
        finals.append(u["predicted_final"])
    _loss_limits(top, c.steps, c.loss, finals)
    top.set_xlim(0, T * (1.06 if p.under else 1.03))
    top.set_title(f"run {run.run_id}: final loss from the first {p.at_fraction:.0%} of the steps")
    handles, _ = top.get_legend_handles_labels()
    bh, _ = bottom.get_legend_handles_labels()
    _legend_below(fig, handles + bh, ncols=2)
    return fig


@_styled
def plot_curve_backtest(backtest: Any, spread: Sequence[dict[str, Any]] | None = None) -> Figure:
    """Final losses predicted from the first part of each run against the observed ones: one
    marker per (law, fit fraction) and run, the y = x line and, when ``spread`` (from
    :func:`~scalinglaws.curves.seed_spread`) knows several seeds per size, a band of ±1
    seed-to-seed standard deviation around it -- the noise floor a prediction is judged by.

    ``backtest`` is a :class:`~scalinglaws.curves.CurveBacktest`.  Luo et al. 2025 (Fig. 6:
    predicted against actual final loss).
    """
    rows = [
        r for r in backtest.rows if r.get("predicted") is not None and r.get("observed") is not None
    ]
    if not rows:
        raise DataError(
            "the backtest has no run with a predicted and an observed final loss",
            argument="backtest",
        )
    fig = Figure(figsize=(COLUMN_WIDTH, 5.8), layout="constrained")
    ax = fig.subplots()
    laws = list(dict.fromkeys(r["law"] for r in rows))
    fractions = sorted({float(r["fraction"]) for r in rows})
    obs = np.array([r["observed"] for r in rows], float)
    pred = np.array([r["predicted"] for r in rows], float)
    # the axes follow the observed losses (a fit on 10% of a run can miss by a factor of ten,
    # which would squash every other point into a corner): predictions beyond them are drawn
    # on the edge as triangles and counted in the legend
    lo = float(obs.min()) / 1.15
    hi = float(obs.max()) * 1.15
    off = ~((pred >= lo) & (pred <= hi))
    shown = np.clip(np.nan_to_num(pred, nan=lo), lo * 1.004, hi / 1.004)
    line = np.geomspace(lo, hi, 50)
    rel = [s["relative_sd"] for s in (spread or ()) if s.get("relative_sd") is not None]
    if rel:
        r = float(np.mean(rel))
        ax.fill_between(
            line, line * (1 - r), line * (1 + r), color="0.6", alpha=0.25, lw=0, zorder=0
        )
    ax.plot(line, line, color="0.3", lw=1.0, zorder=1)
    for i, law in enumerate(laws):
        color = PALETTE[i % len(PALETTE)]
        for j, f in enumerate(fractions):
            sel = np.array(
                [r["law"] == law and float(r["fraction"]) == f for r in rows], dtype=bool
            )
            above = off & (np.nan_to_num(pred, nan=-np.inf) > hi)
            # off the axes: a triangle pointing out, on the edge
            for mask, marker in (
                (sel & ~off, _FRACTION_MARKERS[j % 8]),
                (sel & above, "^"),
                (sel & off & ~above, "v"),
            ):
                if not mask.any():
                    continue
                ax.scatter(
                    obs[mask],
                    shown[mask],
                    s=30,
                    marker=marker,
                    facecolors=color if j == len(fractions) - 1 else "none",
                    edgecolors=color,
                    linewidths=1.2,
                    zorder=3,
                    clip_on=False,
                )
    log_axis(ax, "x", "plain")
    log_axis(ax, "y", "plain")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Observed final loss (nats per token)")
    ax.set_ylabel("Predicted final loss")
    ax.set_title("Final loss predicted from the start of each run")
    handles = [
        Line2D([], [], color=PALETTE[i % len(PALETTE)], marker="o", ls="none", ms=6, label=law)
        for i, law in enumerate(laws)
    ]
    handles += [
        Line2D(
            [],
            [],
            color="0.3",
            marker=_FRACTION_MARKERS[j % 8],
            ls="none",
            ms=6,
            markerfacecolor="0.3" if j == len(fractions) - 1 else "none",
            label=f"fitted on first {f:.0%}",
        )
        for j, f in enumerate(fractions)
    ]
    handles.append(Line2D([], [], color="0.3", lw=1.0, label="y = x"))
    if off.any():
        handles.append(
            Line2D(
                [],
                [],
                color="0.3",
                marker="^",
                ls="none",
                ms=6,
                markerfacecolor="none",
                label=f"{int(off.sum())} predictions off the axes, drawn on the edge",
            )
        )
    if rel:
        from matplotlib.patches import Patch

        handles.append(
            Patch(color="0.6", alpha=0.35, label=f"±1 s.d. over seeds ({float(np.mean(rel)):.1%})")
        )
    _legend_below(fig, handles, ncols=3)
    return fig


# ============================================================================ cooldown
def _curve_points(rec: dict[str, Any], after_tokens: float = 0.0) -> tuple[np.ndarray, ...]:
    pts = [
        (p["tokens"], p.get("train_loss"))
        for p in (rec.get("result") or {}).get("curve", [])
        if p.get("train_loss") is not None and p["tokens"] >= after_tokens
    ]
    if not pts:
        return np.empty(0), np.empty(0)
    a = np.asarray(pts, float)
    return a[:, 0], a[:, 1]


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    """A trailing mean over ``width`` points (train losses are single batches)."""
    if width <= 1 or y.size < 2:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, y.size + 1)
    start = np.maximum(0, idx - width)
    return (c[idx] - c[start]) / (idx - start)


def cooldown_records(folder: str | Path) -> list[dict[str, Any]]:
    """The finished runs of a cooldown sweep folder, each with ``role`` (trunk or branch),
    ``N``, ``D``, ``final`` (final validation loss) and the record."""
    from scalinglaws.sweep.store import SweepStore

    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{folder} is not a sweep folder (no such folder)", argument="sweep")
    out = []
    for rec in SweepStore(path).records().values():
        plan = rec.get("plan") or {}
        role = plan.get("role") or (rec.get("cooldown") or {}).get("role")
        if rec.get("status") != "ok" or role not in ("trunk", "branch"):
            continue
        out.append(
            {
                "role": role,
                "N": float(plan["N"]),
                "D": float(plan["D"]),
                "final": float(rec["result"]["final_val_loss"]),
                "record": rec,
            }
        )
    out.sort(key=lambda r: (r["role"] != "trunk", r["N"], r["D"]))
    if not any(r["role"] == "branch" for r in out):
        raise DataError(
            f"{folder} holds no finished cooldown branch; plot cooldown needs a sweep of a "
            'cooldown plan (kind = "cooldown") with finished runs',
            argument="sweep",
        )
    return out


@_styled
def plot_cooldown(sweep: str | Path, cosine: Any = None, smooth: int = 5) -> Figure:
    """WSD branches of a cooldown sweep against cosine runs: the constant-LR trunk's training
    loss per model size (thin line), each branch's cooldown drop from the trunk (thicker line)
    ending at its final validation loss (filled circle), and the final losses of cosine runs at
    the same model sizes (open squares, dashed), all against training tokens.

    ``sweep`` is the folder of a ``kind = "cooldown"`` sweep; ``cosine`` cosine runs (a path
    or dataset name for :func:`~scalinglaws.runs.load_runs`, or a table or Runs), whose final
    loss per run (its row of largest D) is drawn.  Training losses are single batches,
    smoothed by a trailing mean over ``smooth`` logged points.  Hägele et al. 2024 (Fig. 3: a
    cooldown of 20% matches or beats cosine at every length, for the price of one trunk).
    """
    runs = cooldown_records(sweep)
    sizes = sorted({r["N"] for r in runs})
    cos_final: list[tuple[float, float, float]] = []
    if cosine is not None:
        from scalinglaws.runs import as_runs, load_runs

        is_path = isinstance(cosine, (str, Path))
        df = (load_runs(str(cosine)) if is_path else as_runs(cosine)).df
        for _, rows in df.groupby("run_id", sort=False):
            last = rows.loc[rows["D"].idxmax()]
            cos_final.append((float(last["N"]), float(last["D"]), float(last["L"])))
        sizes = sorted(set(sizes) | {n for n, _, _ in cos_final})
    colors = _size_colors(sizes)
    fig = Figure(figsize=(COLUMN_WIDTH, 5.4), layout="constrained")
    ax = fig.subplots()
    finals: list[float] = []
    for r in runs:
        color = colors[r["N"]]
        rec = r["record"]
        if r["role"] == "trunk":
            x, y = _curve_points(rec)
            if x.size:
                ax.plot(x, _smooth(y, smooth), color=color, lw=0.9, alpha=0.55, zorder=1)
            continue
        start = float((rec.get("cooldown") or {}).get("tokens", 0.0))
        x, y = _curve_points(rec, after_tokens=start)
        if x.size:
            ax.plot(x, _smooth(y, min(smooth, max(1, x.size // 3))), color=color, lw=1.8, zorder=2)
    for n in sizes:
        br = sorted((r["D"], r["final"]) for r in runs if r["role"] == "branch" and r["N"] == n)
        if br:
            a = np.asarray(br)
            ax.scatter(
                a[:, 0],
                a[:, 1],
                s=40,
                color=colors[n],
                edgecolors="black",
                linewidths=0.6,
                zorder=5,
            )
            finals += list(a[:, 1])
        cs = sorted((d, loss) for m, d, loss in cos_final if m == n)
        if cs:
            a = np.asarray(cs)
            ax.plot(a[:, 0], a[:, 1], color=colors[n], ls="--", lw=1.0, zorder=3)
            ax.scatter(
                a[:, 0],
                a[:, 1],
                s=42,
                marker="s",
                facecolors="white",
                edgecolors=colors[n],
                linewidths=1.5,
                zorder=4,
            )
            finals += list(a[:, 1])
    log_axis(ax, "x", "count")
    fin = np.asarray(finals, float)
    ylo, yhi = float(fin.min()), float(fin.max())
    span = max(yhi - ylo, 0.05 * yhi)
    ax.set_ylim(ylo - 0.4 * span, yhi + 1.2 * span)
    starts = [
        float((r["record"].get("cooldown") or {}).get("tokens", r["D"]))
        for r in runs
        if r["role"] == "branch"
    ]
    xs = starts + [d for _, d, _ in cos_final] + [r["D"] for r in runs]
    ax.set_xlim(min(xs) / 1.6, max(xs) * 1.3)
    ax.set_xlabel("Training tokens D")
    ax.set_ylabel("Loss (nats per token)")
    ax.set_title("WSD cooldowns from one constant-LR trunk vs cosine runs")
    handles = [
        Line2D([], [], color=colors[n], lw=2, label=f"N = {format_quantity(n)}") for n in sizes
    ]
    handles += [
        Line2D([], [], color="0.4", lw=0.9, alpha=0.6, label="constant-LR trunk (train loss)"),
        Line2D([], [], color="0.3", lw=1.8, label="WSD cooldown (train loss)"),
        Line2D(
            [],
            [],
            color="0.3",
            marker="o",
            ls="none",
            markeredgecolor="black",
            ms=6,
            label="WSD branch, final val. loss",
        ),
    ]
    if cos_final:
        handles.append(
            Line2D(
                [],
                [],
                color="0.3",
                marker="s",
                ls="--",
                markerfacecolor="white",
                ms=6,
                label="cosine run, final loss",
            )
        )
    _legend_below(fig, handles, ncols=2)
    return fig
