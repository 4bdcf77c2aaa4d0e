"""Diagnostics of a fit: residuals, predicted against observed loss, bootstrap
distributions of the exponents, and extrapolation backtests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from scalinglaws.errors import (
    DataError,
)
from scalinglaws.plots.inputs import (
    _final_runs,
    _quiet_log,
    _runs,
)
from scalinglaws.plots.style import (
    APPROACH_LABELS,
    BUDGET_CMAP,
    COLUMN_WIDTH,
    LABELS,
    PALETTE,
    _cmap,
    _colorbar,
    _figure,
    _legend_clear,
    _legend_under,
    _log_norm,
    _set_log_limits,
    _styled,
    log_axis,
)
from scalinglaws.units import format_flops


def _residual_table(fit: Any, runs: Any) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The fitted points' coordinates, observed L and predicted L̂.

    A law of (N, D): every row of ``runs`` (final checkpoints when the data has curves).
    A law of C (Approaches 1, 2): the fit's own points (IsoFLOP minima or envelope)."""
    law = fit.law
    variables = tuple(law.variables)
    if set(variables) <= {"N", "D", "C", "S"} and "C" not in variables:
        if runs is None:
            raise DataError(
                f"residuals of a law of {', '.join(variables)} need the runs it was fitted to"
            )
        r = _final_runs(_runs(runs))
        cols = {v: r.df[v].to_numpy(dtype=float) for v in ("N", "D", "C")}
        pred = np.asarray(law(**{v: cols[v] for v in variables}), dtype=float)
        return cols, r.L, pred
    profiles = fit.extra.get("profiles") or []
    pts = [p for p in profiles if p.get("used", True)]
    if pts:
        c = np.array([p["C"] for p in pts])
        cols = {
            "N": np.array([p["N_opt"] for p in pts]),
            "D": np.array([p["D_opt"] for p in pts]),
            "C": c,
        }
        obs = np.array([p["L_opt"] for p in pts])
        return cols, obs, np.asarray(law(C=c), dtype=float)
    env = fit.extra.get("envelope")
    if env:
        used = np.asarray(env["used"], dtype=bool)
        cols = {k: np.asarray(env[k], dtype=float)[used] for k in ("N", "D", "C")}
        obs = np.asarray(env["L"], dtype=float)[used]
        return cols, obs, np.asarray(law(C=cols["C"]), dtype=float)
    if runs is not None and variables == ("C",):
        r = _final_runs(_runs(runs))
        cols = {v: r.df[v].to_numpy(dtype=float) for v in ("N", "D", "C")}
        return cols, r.L, np.asarray(law(C=cols["C"]), dtype=float)
    raise DataError(f"cannot compute residuals of law '{law.name}' without its data")


def _binned_median(x: np.ndarray, y: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    lx = np.log(x)
    edges = np.linspace(lx.min(), lx.max() + 1e-12, bins + 1)
    idx = np.clip(np.searchsorted(edges, lx, side="right") - 1, 0, bins - 1)
    xs, ys = [], []
    for b in range(bins):
        sel = idx == b
        if sel.sum() >= 3:
            xs.append(math.exp(float(np.median(lx[sel]))))
            ys.append(float(np.median(y[sel])))
    return np.array(xs), np.array(ys)


@_styled
def plot_residuals(fit: Any, runs: Any = None, title: str | None = None) -> Figure:
    """Log-residuals r = log L − log L̂ against N, D and C (three panels), with the median
    residual in eight log-spaced bins: a trend means the functional form misses the data
    (e.g. curvature in N that a single power law cannot follow)."""
    cols, obs, pred = _residual_table(fit, runs)
    res = _quiet_log(obs) - _quiet_log(pred)
    ok = np.isfinite(res)
    fig, axes = _figure(nrows=3, size=(COLUMN_WIDTH, 8.4))  # stacked: legible at column width
    for ax, var in zip(axes[:, 0], ("N", "D", "C"), strict=True):
        x = cols[var][ok]
        ax.scatter(x, res[ok], s=12, color=PALETTE[0], alpha=0.6, lw=0, label="rows")
        ax.axhline(0.0, color="black", lw=0.8)
        if ok.sum() >= 8:
            bx, by = _binned_median(x, res[ok])
            ax.plot(bx, by, color=PALETTE[1], lw=1.8, marker="o", ms=3, label="binned median")
        _set_log_limits(ax, "x", float(x.min()), float(x.max()), 1.2)
        log_axis(ax, "x", "flops" if var == "C" else "count")
        ax.set_xlabel(LABELS[var])
        ax.set_ylabel("Residual log L − log L̂")
        ax.set_title(f"Residuals against {var}")
    lim = float(np.nanmax(np.abs(res[ok]))) * 1.1 if ok.any() else 0.1
    for ax in axes[:, 0]:
        ax.set_ylim(-lim, lim)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(handles))
    fig.suptitle(title or f"{APPROACH_LABELS.get(str(fit.approach), 'fit')}: residuals")
    return fig


@_styled
def plot_predicted_vs_observed(fit: Any, runs: Any = None, title: str | None = None) -> Figure:
    """Predicted loss L̂ against observed loss L, coloured by compute, with the line L̂ = L and
    the root-mean-square log residual and mean absolute relative error |L̂ − L|/L in the
    legend."""
    cols, obs, pred = _residual_table(fit, runs)
    ok = np.isfinite(obs) & np.isfinite(pred)
    obs, pred, c = obs[ok], pred[ok], cols["C"][ok]
    fig, axes = _figure(size=(6.4, 5.2))
    ax = axes[0, 0]
    norm = _log_norm(c)
    rmse = float(np.sqrt(np.mean((np.log(obs) - np.log(pred)) ** 2)))
    mare = float(np.mean(np.abs(pred - obs) / obs))
    ax.scatter(
        obs,
        pred,
        c=c,
        cmap=_cmap(BUDGET_CMAP),
        norm=norm,
        s=16,
        lw=0,
        alpha=0.85,
        zorder=3,
        label=f"{obs.size} points: RMS log residual {rmse:.4f}, mean |rel. error| {mare:.2%}",
    )
    lo = float(min(obs.min(), pred.min()))
    hi = float(max(obs.max(), pred.max()))
    pad = 0.04 * (hi - lo) if hi > lo else 0.1
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.9, label="L̂ = L")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Observed loss L (nats per token)")
    ax.set_ylabel("Predicted loss L̂ (nats per token)")
    ax.set_title(title or f"{APPROACH_LABELS.get(str(fit.approach), 'fit')}: predicted vs observed")
    _colorbar(fig, ax, BUDGET_CMAP, norm, "Training compute C (FLOPs)", "flops")
    _legend_clear(fig, ax, ncols=1)
    return fig


#: Published exponents drawn on the bootstrap histograms: (label, alpha, beta).
_PUBLISHED_EXPONENTS = (
    ("Hoffmann et al. 2022", 0.33917084, 0.2849083),
    ("Besiroglu et al. 2024", 0.3478, 0.3658),
)


@_styled
def plot_bootstrap(fit: Any, published: bool = True, title: str | None = None) -> Figure:
    """Bootstrap distributions of the fit's exponents: histograms of every exponent among
    ``fit.replicates`` (alpha, beta, alpha_N, ...), and for the Chinchilla form the
    allocation exponent a = β/(α+β) as well, with the point estimate and the interval at the
    fit's level.  ``published`` adds Hoffmann et al.'s and Besiroglu et al.'s values for the
    Chinchilla form."""
    if fit.replicates is None or not len(fit.replicates):
        raise DataError(
            "this fit has no bootstrap replicates (fit.replicates); fit with n_bootstrap > 0 "
            "(e.g. 200)"
        )
    law_constants = set(fit.law.params)
    arrays = {k: v for k, v in fit.replicates.values.items() if k in law_constants}
    panels: dict[str, tuple[np.ndarray, float]] = {}
    for name, v in arrays.items():
        if "alpha" in name or "beta" in name:
            panels[name] = (v, float(fit.law.params.get(name, fit.params.get(name, math.nan))))
    is_chinchilla = {"alpha", "beta"} <= set(arrays)
    if is_chinchilla:
        with np.errstate(all="ignore"):
            a = arrays["beta"] / (arrays["alpha"] + arrays["beta"])
        panels["a"] = (a, float(fit.law.a))  # type: ignore[attr-defined]
    if not panels:
        panels = {k: (v, float(fit.params.get(k, math.nan))) for k, v in arrays.items()}
    # one panel a row, its legend to its right: side by side, three panels and their legends
    # would not be legible at the report's column width
    fig, axes = _figure(nrows=len(panels), size=(COLUMN_WIDTH, 0.5 + 2.6 * len(panels)))
    tail = 100 * (1 - fit.level) / 2
    for ax, (name, (v, point)) in zip(axes[:, 0], panels.items(), strict=True):
        v = v[np.isfinite(v)]
        ax.hist(v, bins=min(40, max(8, v.size // 8)), color=PALETTE[0], alpha=0.75)
        lo, hi = np.percentile(v, [tail, 100 - tail]) if v.size >= 2 else (math.nan, math.nan)
        ax.axvline(point, color="black", lw=1.6, label=f"estimate {point:.4g}")
        ax.axvspan(lo, hi, color=PALETTE[0], alpha=0.1, label=f"{100 * fit.level:g}% interval")
        ax.axvline(lo, color=PALETTE[0], ls="--", lw=1)
        ax.axvline(hi, color=PALETTE[0], ls="--", lw=1)
        if published and is_chinchilla and name in ("alpha", "beta", "a"):
            for i, (label, al, be) in enumerate(_PUBLISHED_EXPONENTS):
                value = {"alpha": al, "beta": be, "a": be / (al + be)}[name]
                ax.axvline(
                    value, color=PALETTE[1 + i], ls=":", lw=1.6, label=f"{label}: {value:.3f}"
                )
        variable = getattr(fit.law, "variable", "N")
        pretty = {
            "alpha": f"α (exponent of {variable})",
            "beta": "β (exponent of D)",
            "a": "a = β/(α+β) (N* ∝ C^a)",
            "alpha_N": "α_N (exponent of N)",
            "alpha_D": "α_D (exponent of D)",
        }.get(name, name)
        ax.set_xlabel(pretty)
        ax.set_ylabel("Bootstrap replicates")
        ax.set_title(f"{name}: {v.size} replicates")
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title or "Bootstrap distributions of the exponents")
    return fig


@_styled
def plot_backtest(result: Any, runs: Any = None, title: str | None = None) -> Figure:
    """An extrapolation backtest (:func:`scalinglaws.fit.backtest.backtest`): the law fitted on
    the runs with final C at or below the cut predicts the held-out runs above it.

    Left: loss against compute, the runs fitted on in grey (when ``runs`` is given), the
    held-out losses (black crosses) and their predictions with the bootstrap prediction
    intervals (when the fit was bootstrapped), the cut as a dashed line.  Right: predicted
    against held-out loss with the same intervals and the line L̂ = L."""
    table = result.table
    fig, axes = _figure(nrows=2, size=(COLUMN_WIDTH, 10.6))  # stacked: legible at column width
    ax, ax2 = axes[0, 0], axes[1, 0]
    if runs is not None:
        r = _final_runs(_runs(runs))
        train = r.C <= result.cut * (1 + 1e-12)
        ax.scatter(
            r.C[train], r.L[train], s=10, color="0.7", lw=0, zorder=1,
            label=f"runs fitted on ({int(train.sum())})",
        )  # fmt: skip
    c = table["C"].to_numpy(dtype=float)
    obs = table["L"].to_numpy(dtype=float)
    pred = table["L_pred"].to_numpy(dtype=float)
    what = "runs" if result.kind == "runs" else "budgets"
    has_ci = "low" in table.columns
    if has_ci:
        pred_label = f"predicted, {100 * result.level:g}% interval (coverage {result.coverage:.0%})"
    else:
        pred_label = "predicted (no bootstrap: no intervals)"
    for axis, x in ((ax, c), (ax2, obs)):
        if has_ci:  # drawn from low to high: an interval may even miss its own prediction
            axis.vlines(
                x, table["low"], table["high"], color=PALETTE[0], lw=0.9, alpha=0.7, zorder=2,
                label="_interval",
            )  # fmt: skip
        axis.scatter(x, pred, s=14, color=PALETTE[0], zorder=3, label=pred_label)
    ax.scatter(
        c, obs, s=22, marker="x", color="black", lw=1.0, zorder=4,
        label=f"held out ({len(table)} {what}): mean |rel. error| "
        f"{result.mean_abs_rel_error:.2%}",
    )  # fmt: skip
    ax.axvline(
        result.cut, color=PALETTE[1], ls="--", lw=1.2, label=f"cut {format_flops(result.cut)}"
    )
    log_axis(ax, "x", "flops")
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel(LABELS["L"])
    ax.set_title("Held-out runs and their predictions")
    _legend_under(ax, ncols=1)
    lo = float(min(obs.min(), pred.min()))
    hi = float(max(obs.max(), pred.max()))
    if has_ci:
        lo = min(lo, float(table["low"].min()))
        hi = max(hi, float(table["high"].max()))
    pad = 0.05 * (hi - lo) if hi > lo else 0.05
    ax2.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.9, label="L̂ = L")
    ax2.set_xlim(lo - pad, hi + pad)
    ax2.set_ylim(lo - pad, hi + pad)
    ax2.set_aspect("equal", adjustable="box")
    ax2.set_xlabel("Held-out loss L (nats per token)")
    ax2.set_ylabel("Predicted loss L̂ (nats per token)")
    ax2.set_title("Predicted against held-out loss")
    _legend_under(ax2, ncols=1)
    fig.suptitle(title or f"Backtest: {APPROACH_LABELS.get(str(result.fit.approach), 'fit')}")
    return fig
