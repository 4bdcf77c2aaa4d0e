"""Figures a reader can read (issue 12): at the report's column width every text of every
figure renders at 10 CSS px or more, legends cover no data, the IsoLoss axes follow the runs
and budgets of a fit (without published models), and presets show no loss far below the
compute their papers fitted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from scalinglaws import plots
from scalinglaws.fit.backtest import backtest
from scalinglaws.fit.envelope import Approach1
from scalinglaws.fit.isoflop import Approach2
from scalinglaws.fit.parametric import Approach3
from scalinglaws.laws import ChinchillaLaw
from scalinglaws.plots.presets import preset_loss_range
from scalinglaws.plots.published import PUBLISHED_MODELS
from scalinglaws.plots.style import data_points_px
from scalinglaws.report.html import MIN_FIGURE_SCALE, png_css_width
from scalinglaws.report.numbers import preset_rows
from scalinglaws.runs import load_runs

pytestmark = pytest.mark.filterwarnings("error")

#: The report's figure column at an 800 px wide window: 800 - 2·24 (main's padding)
#: - 2·(10 + 1) (the figure's padding and border).
COLUMN_PX = 730.0
MIN_TEXT_PX = 10.0
TRUE = ChinchillaLaw(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.36)
BUDGETS = (1e17, 3e17, 1e18, 3e18, 1e19)
REQUESTED = [1e20, 1e21]


def _sweep(curves: bool = False) -> pd.DataFrame:
    """An IsoFLOP sweep of TRUE (7 sizes per budget), with checkpoints when ``curves``."""
    rng = np.random.default_rng(0)
    rows = []
    for c in BUDGETS:
        n_opt = TRUE.G * (c / 6) ** TRUE.a
        for n in n_opt * np.geomspace(1 / 8, 8, 7):
            d_final = c / (6 * n)
            for step, f in enumerate(np.geomspace(0.05, 1.0, 6) if curves else [1.0]):
                d = d_final * f
                loss = float(TRUE(N=n, D=d)) * math.exp(0.004 * rng.standard_normal())
                rows.append({"run_id": f"{c:.0e}/{n:.4g}", "step": step, "N": n, "D": d, "L": loss})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def made():
    runs, curves = load_runs(_sweep()), load_runs(_sweep(curves=True))
    fit1 = Approach1(n_grid=200, n_bootstrap=0).fit(curves)
    fit2 = Approach2(n_bootstrap=6, seed=1).fit(runs)
    fit3 = Approach3(n_bootstrap=8, seed=1).fit(runs)
    bt = backtest(Approach3(n_bootstrap=6, seed=2), runs, cut_quantile=0.6, level=0.8)
    return runs, curves, fit1, fit2, fit3, bt


def _report_figures(made) -> dict[str, Figure]:
    """Every figure of a report, drawn as report/figures.py draws them."""
    runs, curves, fit1, fit2, fit3, bt = made
    fits = [fit3, fit2, fit1]
    return {
        "frontier": plots.plot_frontier(fits, budgets=REQUESTED, runs=runs),
        "isoflop": plots.plot_isoflop(fit2, runs),
        "isoloss": plots.plot_isoloss(fit3, runs, models=False, budgets=REQUESTED),
        "loss_compute": plots.plot_loss_vs_compute(curves, law=fit3, frontier=fit2),
        "curves": plots.plot_training_curves(curves, law=fit3),
        "residuals": plots.plot_residuals(fit3, runs),
        "predicted": plots.plot_predicted_vs_observed(fit3, runs),
        "bootstrap": plots.plot_bootstrap(fit3),
        "backtest": plots.plot_backtest(bt, runs),
        "presets": plots.plot_presets(fits=fits, budgets=REQUESTED, C_range=(1e16, 1e26)),
        # runs with a unique-tokens column U add these two (issue 13), here from the preset
        "epochs": plots.plot_epochs("muennighoff2023", [1e9, 1e10, 1e11]),
        "data_isoloss": plots.plot_data_isoloss("muennighoff2023", 1e22, 25e9),
    }


@pytest.fixture(scope="module")
def figures(made):
    figs = _report_figures(made)
    for fig in figs.values():
        fig.draw_without_rendering()
    return figs


def _css_scale(fig: Figure) -> float:
    """How much the report scales the figure in the 730 px column: shown at its natural
    size (96 CSS px per inch), shrunk to fit the column, never below MIN_FIGURE_SCALE."""
    natural = fig.get_figwidth() * 96.0
    return max(MIN_FIGURE_SCALE, min(1.0, COLUMN_PX / natural))


def test_every_text_is_at_least_10_css_px_in_the_column(figures):
    for name, fig in figures.items():
        scale = _css_scale(fig)
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert texts, name
        smallest = min(t.get_fontsize() for t in texts)
        assert smallest * 96 / 72 * scale >= MIN_TEXT_PX, (name, smallest, scale)
        # the figure fits the column without shrinking
        assert fig.get_figwidth() * 96 <= COLUMN_PX, name


def test_png_natural_width_is_read_from_its_resolution(tmp_path, figures):
    fig = figures["predicted"]
    png = next(p for p in plots.save(fig, tmp_path / "p", formats=("png",)))
    assert png_css_width(png.read_bytes()) == pytest.approx(fig.get_figwidth() * 96, abs=1.0)
    assert png_css_width(b"not a png") is None


def _legends(fig: Figure) -> list:
    out = list(fig.legends)
    out += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return out


@pytest.mark.parametrize(
    "name",
    [
        "frontier",
        "isoflop",
        "curves",
        "residuals",
        "predicted",
        "bootstrap",
        "backtest",
        "epochs",
        "data_isoloss",
    ],
)
def test_legends_cover_no_data(figures, name):
    fig = figures[name]
    legends = _legends(fig)
    assert legends, name
    for leg in legends:
        box = leg.get_window_extent()
        for ax in fig.axes:
            pts = data_points_px(ax)
            assert not box.count_contains(pts), (name, ax.get_title(), leg)


def test_isoloss_of_a_fit_follows_the_runs_and_budgets(made):
    runs, _, _, _, fit3, _ = made
    fig = plots.plot_isoloss(fit3, runs, models=False)
    lo, hi = fig.axes[0].get_xlim()
    c_lo, c_hi = float(runs.C.min()), float(runs.C.max())
    assert c_lo / 10 <= lo <= c_lo and c_hi <= hi <= c_hi * 10
    fig = plots.plot_isoloss(fit3, runs, models=False, budgets=REQUESTED)
    lo, hi = fig.axes[0].get_xlim()
    assert c_lo / 10 <= lo <= c_lo and max(REQUESTED) <= hi <= max(REQUESTED) * 10
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert not any(m.name in lbl for m in PUBLISHED_MODELS for lbl in labels)
    assert sum(1 for c in fig.axes[0].collections if c.get_label().startswith("GPT")) == 0


def test_report_isoloss_of_a_fit_has_no_published_models(tmp_path):
    from scalinglaws.report.figures import make_figure

    csv = tmp_path / "runs.csv"
    _sweep().to_csv(csv, index=False)
    fig = make_figure("isoloss", csv, budgets=[1e20])
    ax = fig.axes[0]
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert not any(m.name in lbl for m in PUBLISHED_MODELS for lbl in labels)
    lo, hi = ax.get_xlim()
    assert min(BUDGETS) / 10 <= lo and hi <= 1e20 * 10
    # a published law is drawn with the published models
    fig = make_figure("isoloss", law="hoffmann2022")
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert any("Chinchilla" in lbl for lbl in labels)


def test_contour_labels_do_not_overlap(made):
    runs, _, _, _, fit3, _ = made
    fig = plots.plot_isoloss(fit3, runs, models=False, budgets=REQUESTED)
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in fig.axes[0].texts]
    assert len(boxes) >= 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_preset_losses_far_below_their_papers_compute_are_dashes():
    rows = preset_rows(["hoffmann2022", "besiroglu2024", "kaplan2020"], [1e12, 1e21], 6.0)
    loss = {(r["preset"], r["C"]): r["L"] for r in rows}
    assert loss[("hoffmann2022", 1e12)] is None  # the law would say ~17 nats
    assert loss[("besiroglu2024", 1e12)] is None
    assert 1.5 < loss[("hoffmann2022", 1e21)] < 3.0
    assert loss[("kaplan2020", 1e12)] is not None  # Kaplan et al. trained models that small
    assert preset_loss_range("hoffmann2022")[0] == pytest.approx(1.4e16)
    # N* and D* are still given: a dash is for the loss only
    assert all(r["N"] > 0 for r in rows)
