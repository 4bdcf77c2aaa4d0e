"""Figures: every plot renders from small fits, writes PNG and SVG, and draws what the data and
the fits say (curves and points counted, plotted values checked against independent
computations), with labelled log axes and no warnings."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from scalinglaws import plots
from scalinglaws.allocation import allocate
from scalinglaws.errors import DataError, UnknownNameError
from scalinglaws.fit.backtest import backtest
from scalinglaws.fit.envelope import Approach1
from scalinglaws.fit.isoflop import Approach2
from scalinglaws.fit.parametric import Approach3
from scalinglaws.laws import ChinchillaLaw
from scalinglaws.presets import get_preset, list_presets
from scalinglaws.runs import load_runs
from scalinglaws.units import format_quantity

pytestmark = pytest.mark.filterwarnings("error")  # a figure that warns is a defect

TRUE = ChinchillaLaw(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.36)
BUDGETS = (1e17, 3e17, 1e18, 3e18, 1e19)
SIZES = 7


def sweep_frame(curves: bool = False, noise: float = 0.004, seed: int = 0) -> pd.DataFrame:
    """An IsoFLOP sweep of TRUE: SIZES model sizes within 8x of N* at each budget, D = C/(6N);
    with ``curves``, 8 checkpoints per run along its tokens (the last at the budget)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in BUDGETS:
        n_opt = TRUE.G * (c / 6) ** TRUE.a
        for n in n_opt * np.geomspace(1 / 8, 8, SIZES):
            d_final = c / (6 * n)
            fracs = np.geomspace(0.05, 1.0, 8) if curves else [1.0]
            for step, f in enumerate(fracs):
                d = d_final * f
                loss = float(TRUE(N=n, D=d)) * math.exp(noise * rng.standard_normal())
                rows.append({"run_id": f"{c:.0e}/{n:.4g}", "step": step, "N": n, "D": d, "L": loss})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def runs():
    return load_runs(sweep_frame())


@pytest.fixture(scope="module")
def curves():
    return load_runs(sweep_frame(curves=True))


@pytest.fixture(scope="module")
def fit2(runs):
    return Approach2(n_bootstrap=6, seed=1).fit(runs)


@pytest.fixture(scope="module")
def fit3(runs):
    return Approach3(n_bootstrap=6, seed=1).fit(runs)


@pytest.fixture(scope="module")
def fit1(curves):
    return Approach1(n_grid=200, n_bootstrap=0).fit(curves)


def data_lines(ax):
    """Lines that hold data (legend-only proxies have none)."""
    return [ln for ln in ax.get_lines() if len(np.atleast_1d(ln.get_xdata())) > 0]


def scatter_points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def labelled_log(ax, x: bool = True, y: bool = False) -> None:
    """Axes are labelled in words and log axes carry tick labels."""
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    if x:
        assert ax.get_xscale() == "log"
    if y:
        assert ax.get_yscale() == "log"


# ============================================================================ saving, axes
def test_save_writes_png_and_svg(tmp_path):
    fig = plots.plot_presets(presets=["kaplan2020", "hoffmann2022"])
    paths = plots.save(fig, tmp_path / "sub" / "presets.png")  # a known extension is replaced
    assert [p.name for p in paths] == ["presets.png", "presets.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.parse(paths[1]).getroot()
    assert root.tag.endswith("svg")
    # titles and axis labels are text in the SVG (fonttype none), so they can be searched
    assert "Tokens per parameter under each preset" in paths[1].read_text()


def test_save_rejects_unknown_format(tmp_path):
    fig = plots.plot_presets(presets=["kaplan2020"])
    with pytest.raises(UnknownNameError, match="did you mean 'svg'"):
        plots.save(fig, tmp_path / "x", formats=("svgg",))
    with pytest.raises(UnknownNameError):
        plots.save(fig, tmp_path / "x", formats=())


def test_log_axis_labels_are_readable():
    fig = Figure()
    ax = fig.subplots()
    ax.set_xlim(1e7, 1e11)
    plots.log_axis(ax, "x", "count")
    fmt = ax.xaxis.get_major_formatter()
    assert [fmt(v) for v in (1e7, 1e9, 1e11, 1e12)] == ["10M", "1B", "100B", "1T"]
    ax.set_ylim(1e18, 1e22)
    plots.log_axis(ax, "y", "flops")
    assert ax.yaxis.get_major_formatter()(1e20) == "$10^{20}$"
    fig2 = Figure()
    ax2 = fig2.subplots()
    ax2.set_ylim(2.0, 3.4)
    plots.log_axis(ax2, "y", "plain")
    ticks = ax2.yaxis.get_major_locator()()
    assert ticks.size >= 4 and np.all((ticks >= 2.0) & (ticks <= 3.4))  # not just "2" and "3"
    assert np.allclose(np.diff(ticks), ticks[1] - ticks[0])


# ============================================================================ IsoFLOP
def test_isoflop_profiles(fit2, runs):
    fig = plots.plot_isoflop(fit2, runs)
    ax = fig.axes[0]
    profiles = fit2.extra["profiles"]
    assert len(profiles) == len(BUDGETS)
    lines = data_lines(ax)
    assert len(lines) == len(profiles)  # one parabola per budget
    # every run is drawn once, plus one minimum per budget
    assert scatter_points(ax) == len(runs) + len(profiles)
    # the parabola is the fitted polynomial in ln(N / N_ref)
    p = profiles[2]
    line = min(lines, key=lambda ln: abs(np.log(np.median(ln.get_xdata()) / p["N_opt"])))
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert np.allclose(y, np.polyval(p["poly"], np.log(x / p["N_ref"])))
    # the minima sit at the fitted N*, near the true optimum of the law (noise 0.4%)
    for prof, c in zip(profiles, BUDGETS, strict=True):
        true_n = TRUE.G * (c / 6) ** TRUE.a
        assert abs(math.log(prof["N_opt"] / true_n)) < 0.35
    labelled_log(ax)
    assert len(fig.axes) == 2  # the colour bar of budgets


def test_isoflop_needs_profiles(fit3):
    with pytest.raises(DataError, match="Approach 2"):
        plots.plot_isoflop(fit3)


# ============================================================================ frontier
def test_frontier_lines_bands_and_budgets(fit2, fit3, runs):
    fig = plots.plot_frontier([fit3, fit2], budgets=[1e21], runs=runs)
    ax_n, ax_d = fig.axes
    for ax in (ax_n, ax_d):
        labelled_log(ax, x=True, y=True)
    # Approach 2's line is k_N C^a; Approach 3's is G (C/6)^a
    lines = {ln.get_label(): ln for ln in data_lines(ax_n)}
    a2 = next(ln for lbl, ln in lines.items() if lbl.startswith("Approach 2"))
    x = np.asarray(a2.get_xdata())
    assert np.allclose(a2.get_ydata(), fit2.derived["k_N"] * x ** fit2.derived["a"])
    a3 = next(ln for lbl, ln in lines.items() if lbl.startswith("Approach 3"))
    law = fit3.law
    assert np.allclose(a3.get_ydata(), law.G * (np.asarray(a3.get_xdata()) / 6) ** law.a)
    assert f"a = {fit3.derived['a']:.3f}" in a3.get_label()
    # the D* panel: D* = C / (6 N*)
    d3 = next(ln for ln in data_lines(ax_d) if ln.get_label().startswith("Approach 3"))
    assert np.allclose(
        d3.get_ydata(), np.asarray(d3.get_xdata()) / (6 * np.asarray(a3.get_ydata()))
    )
    # bootstrap bands for both fits; the IsoFLOP minima of Approach 2; the extrapolated region
    labels = [c.get_label() for c in ax_n.collections]
    assert labels.count("95% bootstrap band") == 2
    assert scatter_points(ax_n) >= len(fit2.extra["profiles"])
    assert any(p.get_x() == pytest.approx(runs.C.max()) for p in ax_n.patches)
    # a star at each fit's N_opt@1e21
    stars = [
        c.get_offsets()[0]
        for c in ax_n.collections
        if isinstance(c, PathCollection) and len(c.get_offsets()) == 1
    ]
    assert any(np.allclose(s, [1e21, fit3.allocate(1e21).N]) for s in stars)
    assert any(np.allclose(s, [1e21, fit2.allocate(1e21).N]) for s in stars)


def test_frontier_band_contains_the_estimate(fit3):
    grid = np.geomspace(1e18, 1e23, 9)
    n_lo, n_hi, d_lo, d_hi = plots.frontier_band(fit3, grid)
    n, d = plots.frontier_curve(fit3, grid)
    assert np.all(n_lo <= n * 1.0001) and np.all(n <= n_hi * 1.0001)
    assert np.all(d_lo <= d * 1.0001) and np.all(d <= d_hi * 1.0001)
    # the band at 1e21 is the percentile interval of the replicate laws' own allocations,
    # computed here independently, one replicate law at a time
    lo, hi, _, _ = plots.frontier_band(fit3, [1e21])
    own = [allocate(law, 1e21).N for law in fit3.replicate_laws()]
    assert (lo[0], hi[0]) == pytest.approx(tuple(np.percentile(own, [2.5, 97.5])), rel=1e-6)


def test_frontier_from_envelope(fit1, curves):
    fig = plots.plot_frontier(fit1, budgets=[1e21])
    ax = fig.axes[0]
    env = [c for c in ax.collections if c.get_label() == "envelope of the training curves"]
    assert len(env) == 1 and 10 <= len(env[0].get_offsets()) <= 200
    # a single fit lists its value at each budget in the legend
    value = format_quantity(fit1.allocate(1e21).N)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"1e21 FLOPs: N* = {value}" in legend


# ============================================================================ IsoLoss
def test_isoloss_contours(fit3, runs):
    plain = plots.plot_isoloss(fit3, runs, levels=[2.5, 3.0, 3.5, 4.0])  # a fit: no famous models
    assert "Chinchilla (70B)" not in [t.get_text() for t in plain.legends[0].get_texts()]
    fig = plots.plot_isoloss(fit3, runs, levels=[2.5, 3.0, 3.5, 4.0], models=True)
    ax = fig.axes[0]
    labelled_log(ax, x=True, y=True)
    # the contour of level 3.0 passes through points where the law equals 3.0
    from matplotlib.contour import ContourSet

    cs = next(c for c in ax.collections if isinstance(c, ContourSet))
    assert list(cs.levels) == [2.5, 3.0, 3.5, 4.0]
    paths = cs.get_paths()
    verts = paths[1].vertices
    assert len(verts) > 10
    C, N = verts[:, 0], verts[:, 1]
    assert np.allclose(fit3.law(N=N, D=C / (6 * N)), 3.0, atol=0.02)
    # the efficient frontier is allocate() of the law
    front = next(ln for ln in data_lines(ax) if ln.get_label() == "efficient frontier N*(C)")
    a = allocate(fit3.law, C=np.asarray(front.get_xdata()))
    assert np.allclose(front.get_ydata(), a.N)
    # every run is drawn, coloured by loss; published models inside the range are marked
    runs_pts = [
        c for c in ax.collections if isinstance(c, PathCollection) and c.get_array() is not None
    ]
    assert sum(len(c.get_offsets()) for c in runs_pts) == len(runs)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Chinchilla (70B)" in legend and "Gopher (280B)" in legend
    # each contour is labelled at its nose, the compute-optimal point of that loss
    assert {t.get_text() for t in ax.texts} >= {"2.5", "3", "3.5"}


def test_isoloss_of_a_preset_without_data():
    fig = plots.plot_isoloss("hoffmann2022", models=False, C_range=(1e18, 1e24))
    assert fig.axes[0].get_title() == "IsoLoss contours of Hoffmann et al. 2022"
    with pytest.raises(DataError, match="no \\(N, D\\) loss law"):
        plots.plot_isoloss("llama3")


# ============================================================ loss vs compute, curves
def test_loss_vs_compute(fit3, fit2, runs):
    fig = plots.plot_loss_vs_compute(runs, law=fit3, frontier=fit2)
    ax = fig.axes[0]
    labelled_log(ax, x=True, y=True)
    assert scatter_points(ax) == len(runs)
    lines = data_lines(ax)
    # one law curve per distinct size (7 sizes per budget, 35 distinct here, so 8 bins) + 2
    assert len(lines) == 8 + 2
    front = next(ln for ln in lines if ln.get_label() == "Approach 3: frontier L*(C)")
    c = np.asarray(front.get_xdata())
    assert np.allclose(front.get_ydata(), allocate(fit3.law, C=c).L)
    l2 = next(ln for ln in lines if ln.get_label().startswith("Approach 2"))
    assert np.allclose(l2.get_ydata(), fit2.law(C=np.asarray(l2.get_xdata())))


def test_training_curves(curves, fit3, runs):
    fig = plots.plot_training_curves(curves, law=fit3.law)
    ax = fig.axes[0]
    n_runs = curves.n_runs
    lines = data_lines(ax)
    assert len(lines) == 2 * n_runs  # measured and law per run
    dashed = [ln for ln in lines if ln.get_linestyle() == "--"]
    for ln in dashed[:3]:
        d = np.asarray(ln.get_xdata())
        y = np.asarray(ln.get_ydata())
        # the law along the run: find N from one point, L(N, D) must match everywhere
        n = next(
            float(g["N"].iloc[0])
            for _, g in curves.df.groupby("run_id")
            if np.isclose(g["D"].min(), d.min()) and np.isclose(g["D"].max(), d.max())
        )
        assert np.allclose(y, fit3.law(N=n, D=d))
    with pytest.raises(DataError, match="several checkpoints"):
        plots.plot_training_curves(runs)


# ============================================================================ diagnostics
def test_residuals_and_predicted(fit3, runs):
    fig = plots.plot_residuals(fit3, runs)
    assert len(fig.axes) == 3
    expected = np.log(runs.L) - np.log(fit3.law(N=runs.N, D=runs.D))
    assert np.allclose(expected, fit3.residuals)  # the fit's own residuals
    for ax, var in zip(fig.axes, ("N", "D", "C"), strict=True):
        pts = next(c for c in ax.collections if c.get_label() == "rows").get_offsets()
        assert np.allclose(pts[:, 0], runs.df[var]) and np.allclose(pts[:, 1], expected)
        labelled_log(ax)
    fig = plots.plot_predicted_vs_observed(fit3, runs)
    pts = fig.axes[0].collections[0].get_offsets()
    assert np.allclose(pts[:, 0], runs.L)
    assert np.allclose(pts[:, 1], fit3.law(N=runs.N, D=runs.D))
    mare = np.mean(np.abs(pts[:, 1] - pts[:, 0]) / pts[:, 0])
    assert f"{mare:.2%}" in fig.axes[0].collections[0].get_label()


def test_residuals_of_approach2_are_at_the_minima(fit2):
    fig = plots.plot_residuals(fit2)
    pts = next(c for c in fig.axes[2].collections if c.get_label() == "rows").get_offsets()
    used = [p for p in fit2.extra["profiles"] if p["used"]]
    assert len(pts) == len(used)
    assert np.allclose(pts[:, 1], fit2.residuals)


def test_bootstrap_histograms(fit3, fit2):
    fig = plots.plot_bootstrap(fit3)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["alpha", "beta", "a"]
    samples = fit3.replicates
    finite = np.isfinite(samples["alpha"]).sum()
    heights = sum(p.get_height() for p in fig.axes[0].patches if hasattr(p, "get_height"))
    assert heights >= finite  # every finite replicate is counted (plus the interval span)
    labels = [ln.get_label() for ln in fig.axes[2].get_lines()]
    assert f"estimate {fit3.law.a:.4g}" in labels
    assert any(lbl.startswith("Besiroglu et al. 2024: 0.513") for lbl in labels)
    fig2 = plots.plot_bootstrap(fit2)  # Approach 2 stores E, A, alpha of L*(C)
    assert [ax.get_title().split(":")[0] for ax in fig2.axes] == ["alpha"]
    with pytest.raises(DataError, match="n_bootstrap"):
        plots.plot_bootstrap(Approach2(n_bootstrap=0).fit(load_runs(sweep_frame())))


def test_backtest_figure(runs):
    res = backtest(Approach3(n_bootstrap=6, seed=2), runs, cut_quantile=0.6, level=0.8)
    fig = plots.plot_backtest(res, runs)
    ax, ax2 = fig.axes
    held = len(res.table)
    crosses = next(c for c in ax.collections if c.get_label().startswith("held out"))
    assert len(crosses.get_offsets()) == held
    assert np.allclose(crosses.get_offsets()[:, 1], res.table["L"])
    grey = next(c for c in ax.collections if c.get_label().startswith("runs fitted on"))
    assert len(grey.get_offsets()) == len(runs) - held
    assert any(
        ln.get_xdata()[0] == res.cut for ln in ax.get_lines() if ln.get_label().startswith("cut")
    )
    # the right panel: predictions against the truth, with their intervals low..high
    pred = next(c for c in ax2.collections if c.get_label().startswith("predicted, 80%"))
    assert np.allclose(pred.get_offsets(), np.column_stack([res.table["L"], res.table["L_pred"]]))
    assert f"coverage {res.coverage:.0%}" in pred.get_label()
    bars = next(c for c in ax2.collections if c.get_label() == "_interval").get_segments()
    assert np.allclose([b[0][1] for b in bars], res.table["low"])
    assert np.allclose([b[1][1] for b in bars], res.table["high"])


# ============================================================================ presets
def test_presets_figure(fit3):
    names = list_presets()
    fig = plots.plot_presets(fits=fit3, budgets=[1e22], C_range=(1e19, 1e25))
    ax_n, ax_t = fig.axes
    labelled_log(ax_n, x=True, y=True)
    labelled_log(ax_t, x=True, y=True)
    lines = [ln for ln in data_lines(ax_n) if len(ln.get_xdata()) > 2]
    assert len(lines) == len(names) + 1  # every preset and the fit
    by_label = {ln.get_label(): ln for ln in lines}
    for name in names:
        ln = by_label[plots.preset_label(name)]
        c = np.asarray(ln.get_xdata())
        assert np.allclose(ln.get_ydata(), allocate(get_preset(name), C=c).N)
    # Hoffmann's printed constants: N* = G (C/6)^a, independently of allocate()
    p = get_preset("hoffmann2022").law
    ln = by_label[plots.preset_label("hoffmann2022")]
    c = np.asarray(ln.get_xdata())
    g = (p.alpha * p.A / (p.beta * p.B)) ** (1 / (p.alpha + p.beta))
    assert np.allclose(ln.get_ydata(), g * (c / 6) ** (p.beta / (p.alpha + p.beta)))
    # tokens per parameter of Kaplan's rule: 2e10 C^0.27 / (1.3e9 C^0.73), C in PF-days
    kap = [ln for ln in ax_t.get_lines() if len(ln.get_xdata()) > 2][0]
    pf = np.asarray(kap.get_xdata()) / 8.64e19
    assert np.allclose(kap.get_ydata(), 2e10 * pf**0.27 / (1.3e9 * pf**0.73))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Chinchilla" in legend and "20 tokens per parameter" in legend


# ============================================================================ real data
def test_epoch_isoflop_and_isoloss(tmp_path, shared_data):
    path = shared_data("chinchilla_fig4_epoch2024.csv")
    runs = load_runs(path, drop_highest=5)
    fit2 = Approach2(min_sizes=5).fit(runs)
    fig = plots.plot_isoflop(fit2, runs)
    assert len(data_lines(fig.axes[0])) == len(fit2.extra["profiles"])
    # Besiroglu et al.'s law over the 240 points they fitted it to
    fig = plots.plot_isoloss("besiroglu2024", runs)
    ax = fig.axes[0]
    pts = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_array() is not None]
    assert sum(len(c.get_offsets()) for c in pts) == 240
    paths = plots.save(fig, tmp_path / "isoloss")
    assert all(p.stat().st_size > 10_000 for p in paths)
