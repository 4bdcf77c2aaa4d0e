"""Figures beyond compute-optimal (issue 13, section 5): each builds, marks the optimum at the
library's number (read back from the artists), labels its axes, keeps its legends off the data;
the report draws the repeated-data figures for runs with a U column; `scalinglaws plot` draws
each kind and refuses bad options with one sentence and exit 2."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from scalinglaws import plots
from scalinglaws.allocation import allocate, compute_for_loss
from scalinglaws.cli import main
from scalinglaws.data_limited import (
    data_limited_allocation,
    epochs_worth,
    repetition_stops_paying,
)
from scalinglaws.inference import inference_optimal
from scalinglaws.overtraining import overtraining_cost
from scalinglaws.plots.style import data_points_px
from scalinglaws.presets import get_preset

pytestmark = pytest.mark.filterwarnings("error")

DC = get_preset("muennighoff2023").laws["L(N, D, U)"]


def _scatter_points(ax) -> np.ndarray:
    pts = [
        np.asarray(c.get_offsets(), dtype=float)
        for c in ax.collections
        if isinstance(c, PathCollection) and len(c.get_offsets())
    ]
    return np.concatenate(pts) if pts else np.empty((0, 2))


def _labelled(ax) -> None:
    assert ax.get_xlabel().strip() and ax.get_ylabel().strip()


def _legends(fig: Figure) -> list:
    return [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]


def _legends_clear(fig: Figure) -> None:
    fig.draw_without_rendering()
    legends = _legends(fig)
    assert legends
    for leg in legends:
        box = leg.get_window_extent()
        for ax in fig.axes:
            assert not box.count_contains(data_points_px(ax)), leg


# ============================================================================ 1. epochs
def test_epochs_curves_and_where_repetition_stops_paying():
    us = [1e9, 1e10]
    fig = plots.plot_epochs("muennighoff2023", us, max_epochs=60)
    ax, ax_w = fig.axes[0], fig.axes[1]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 2 * len(us)  # repeated and fresh per U
    e = np.asarray(lines[0].get_xdata())
    assert e[0] == pytest.approx(1.0) and e[-1] == pytest.approx(60.0)
    w = epochs_worth(DC, us[0], e)
    assert np.allclose(lines[0].get_ydata(), w.L) and np.allclose(lines[1].get_ydata(), w.L_fresh)
    # repeated data is never better than fresh, and equal at one epoch
    assert np.all(np.asarray(w.L) >= np.asarray(w.L_fresh) - 1e-12)
    assert w.L[0] == pytest.approx(w.L_fresh[0])
    stop = float(repetition_stops_paying(DC))
    assert stop == pytest.approx(1 + 15.387756, rel=1e-6)
    ((x, y),) = _scatter_points(ax_w)
    assert x == pytest.approx(stop) and y == pytest.approx(math.exp(-1))
    vlines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2]
    assert any(np.allclose(ln.get_xdata(), stop) for ln in vlines)
    # the "~4 epochs cost almost nothing" span
    spans = [p for p in ax.patches if p.get_x() == pytest.approx(1.0)]
    assert spans and spans[0].get_width() == pytest.approx(3.0)
    for a in (ax, ax_w):
        _labelled(a)
    _legends_clear(fig)


def test_epochs_at_fixed_sizes_and_bad_requests():
    fig = plots.plot_epochs("muennighoff2023", 25e9, N=[1e9, 8e9], max_epochs=40)
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 4
    w = epochs_worth(DC, 25e9, np.asarray(lines[2].get_xdata()), 8e9)
    assert np.allclose(lines[2].get_ydata(), w.L)
    from scalinglaws.errors import DomainError

    with pytest.raises(DomainError, match="not both"):
        plots.plot_epochs("muennighoff2023", [1e9, 1e10], N=[1e9, 2e9])
    with pytest.raises(DomainError, match="no data-constrained form"):
        plots.plot_epochs("hoffmann2022")


# ============================================================================ 2. IsoLoss
def test_data_isoloss_marks_the_data_limited_optimum():
    fig = plots.plot_data_isoloss("muennighoff2023", C=1e22, unique_tokens=25e9)
    ax = fig.axes[0]
    a = data_limited_allocation(DC, 1e22, 25e9)
    assert float(a.N) == pytest.approx(7.0e9, rel=0.01) and float(a.epochs) > 9  # issue 13
    star = [c for c in ax.collections if c.get_label().startswith("optimum")]
    ((d, n),) = star[0].get_offsets()
    assert d == pytest.approx(float(a.D)) and n == pytest.approx(float(a.N))
    free = [c for c in ax.collections if c.get_label().startswith("without the limit")]
    ((d0, n0),) = free[0].get_offsets()
    assert n0 == pytest.approx(float(a.N_free)) and d0 == pytest.approx(float(a.D_free))
    # the two frontiers: equal while D* <= U, parted beyond it
    lim = next(ln for ln in ax.get_lines() if ln.get_label().startswith("efficient frontier with"))
    base = next(ln for ln in ax.get_lines() if "without it" in ln.get_label())
    dl, nl = np.asarray(lim.get_xdata()), np.asarray(lim.get_ydata())
    db, nb = np.asarray(base.get_xdata()), np.asarray(base.get_ydata())
    inside = db < 25e9 * 0.99
    assert inside.any() and np.allclose(nl[inside], nb[inside], rtol=1e-6)
    assert np.all(nl[db > 25e9 * 1.5] < nb[db > 25e9 * 1.5])
    assert np.all(dl[db > 25e9 * 1.5] > db[db > 25e9 * 1.5])
    # D = U drawn, the IsoFLOP line through the optimum
    iso = next(ln for ln in ax.get_lines() if ln.get_label().startswith("IsoFLOP"))
    assert np.allclose(6 * np.asarray(iso.get_xdata()) * np.asarray(iso.get_ydata()), 1e22)
    assert any(ln.get_label().startswith("D = U") for ln in ax.get_lines())
    _labelled(ax)
    assert len(ax.texts) >= 5  # contour levels written on the frontier
    _legends_clear(fig)


# ============================================================================ 3. inference
def test_inference_cost_marks_each_optimum():
    demands = [0.0, 2e11, 2e12, 2e13]
    fig = plots.plot_inference_cost("hoffmann2022", 2.0, demands)
    ax, ax_r = fig.axes[0], fig.axes[1]
    opt = inference_optimal("hoffmann2022", 2.0, np.asarray(demands))
    pts = _scatter_points(ax)
    assert len(pts) == len(demands)
    assert np.allclose(pts[:, 0], opt.N) and np.allclose(pts[:, 1], opt.total_cost)
    # each marked point is the least cost of its curve (the library's minimum, not the grid's)
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(curves) == len(demands)
    for ln, cost in zip(curves, np.asarray(opt.total_cost), strict=True):
        y = np.asarray(ln.get_ydata())
        assert np.nanmin(y) >= cost * (1 - 1e-9)
        assert np.nanmin(y) <= cost * 1.01
    # D_inf = 0 is the Chinchilla-optimal model, marked as a vertical line
    chin = float(compute_for_loss("hoffmann2022", 2.0).N)
    assert float(np.asarray(opt.N)[0]) == pytest.approx(chin, rel=1e-6)
    assert any(
        len(ln.get_xdata()) == 2 and np.allclose(ln.get_xdata(), chin) for ln in ax.get_lines()
    )
    # relative panel: the cheapest models cost at most the Chinchilla model's bill
    rel = _scatter_points(ax_r)
    assert np.all(rel[:, 1] <= 1 + 1e-9) and rel[0, 1] == pytest.approx(1.0)
    for a in (ax, ax_r):
        _labelled(a)
    _legends_clear(fig)


def test_inference_cost_check_vector_of_sardana():
    """The issue's check vector, as drawn: Chinchilla constants, ℓ = 1.947, D_inf = 2e12."""
    from scalinglaws.laws import ChinchillaLaw

    law = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
    fig = plots.plot_inference_cost(law, 1.947, [2e12])
    ((n, _),) = _scatter_points(fig.axes[0])
    assert n == pytest.approx(2.418e10, rel=2e-3)


# ============================================================================ 4. over-training
def test_overtraining_price_curve():
    C = 6 * 8e9 * 15e12
    fig = plots.plot_overtraining("hoffmann2022", C=C)
    ax, ax_s = fig.axes[0], fig.axes[1]
    (curve,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    r = np.asarray(curve.get_xdata())
    p = overtraining_cost("hoffmann2022", C=C, tokens_per_param=r)
    assert np.allclose(curve.get_ydata(), p.price)
    assert np.all(np.asarray(curve.get_ydata()) >= 1 - 1e-9)
    r_star = float(allocate("hoffmann2022", C).tokens_per_param)
    opt = next(c for c in ax.collections if c.get_label().startswith("compute-optimal"))
    ((x, y),) = opt.get_offsets()
    assert x == pytest.approx(r_star) and y == pytest.approx(1.0, abs=1e-9)
    llama = next(c for c in ax.collections if c.get_label().startswith("Llama 3 8B"))
    ((x, y),) = llama.get_offsets()
    assert x == pytest.approx(1875.0)
    assert y == pytest.approx(float(overtraining_cost("hoffmann2022", N=8e9, D=15e12).price))
    assert "1,875 tokens/param" in llama.get_label()
    (size,) = [ln for ln in ax_s.get_lines() if len(ln.get_xdata()) > 2]
    assert np.allclose(size.get_ydata(), p.size_ratio)
    for a in (ax, ax_s):
        _labelled(a)
    _legends_clear(fig)


def test_overtraining_at_fixed_size_and_out_of_range_models():
    fig = plots.plot_overtraining("hoffmann2022", N=8e9, tokens_per_param=(2, 500))
    ax = fig.axes[0]
    labels = [c.get_label() for c in ax.collections]
    assert not any(lbl.startswith("Llama 3") for lbl in labels)  # 1,875 is out of range
    assert any(lbl.startswith("Llama 2") for lbl in labels)
    opt = next(c for c in ax.collections if c.get_label().startswith("compute-optimal"))
    ((x, y),) = opt.get_offsets()
    assert y == pytest.approx(1.0, abs=1e-6)
    from scalinglaws.allocation import allocate_for_params

    assert x == pytest.approx(float(allocate_for_params("hoffmann2022", 8e9).tokens_per_param))


# ============================================================================ legibility
@pytest.mark.parametrize(
    "make",
    [
        lambda: plots.plot_epochs(),
        lambda: plots.plot_data_isoloss(),
        lambda: plots.plot_inference_cost(loss=2.0),
        lambda: plots.plot_overtraining(),
    ],
)
def test_legible_in_the_report_column(make):
    from matplotlib.text import Text

    fig = make()
    fig.draw_without_rendering()
    assert fig.get_figwidth() * 96 <= 730  # fits the report's column at an 800 px window
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert min(t.get_fontsize() for t in texts) * 96 / 72 >= 10


# ============================================================================ the report
def _repeated_runs() -> pd.DataFrame:
    """Runs of the published data-constrained law at several U, single- and multi-epoch."""
    rng = np.random.default_rng(0)
    rows = []
    for u in (2e9, 8e9, 3e10):
        for n in (1e8, 3e8, 1e9, 3e9):
            for epochs in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 40.0):
                d = u * epochs
                loss = float(DC(N=n, D=d, U=u)) * math.exp(0.003 * rng.standard_normal())
                # a run shorter than one epoch saw D distinct tokens (U counts those it trained on)
                rows.append({"N": n, "D": d, "U": min(u, d), "L": loss})
    return pd.DataFrame(rows)


def test_report_draws_the_repeated_data_figures(tmp_path):
    from scalinglaws.report import build_report

    csv = tmp_path / "repeated.csv"
    _repeated_runs().to_csv(csv, index=False)
    result = build_report(
        csv, tmp_path / "out", n_bootstrap=0, backtest=False, formats=["png"], budgets=[1e21]
    )
    assert "epochs" in result.figures and "data_isoloss" in result.figures
    html = result.html.read_text()
    assert 'id="figure-epochs"' in html and 'id="figure-data_isoloss"' in html
    assert "R_D* = " in result.numbers["figures"]["epochs"]["caption"]
    # no U column: no repeated-data figures
    plain = tmp_path / "plain.csv"
    _repeated_runs().drop(columns="U").to_csv(plain, index=False)
    result = build_report(
        plain, tmp_path / "out2", n_bootstrap=0, backtest=False, formats=["png"], budgets=[1e21]
    )
    assert "epochs" not in result.figures and "data_isoloss" not in result.figures


def test_make_figure_from_repeated_runs(tmp_path):
    from scalinglaws.report import make_figure

    csv = tmp_path / "repeated.csv"
    _repeated_runs().to_csv(csv, index=False)
    fig = make_figure("data-isoloss", csv, compute=1e21, unique_tokens="8B")
    star = next(c for c in fig.axes[0].collections if c.get_label().startswith("optimum"))
    assert "your fit" in fig.axes[0].get_title()
    ((d, _),) = star.get_offsets()
    assert d > 0
    fig = make_figure("epochs", csv)
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 6  # the data's three U, repeated and fresh


# ============================================================================ the CLI
@pytest.mark.parametrize(
    "argv",
    [
        ["epochs", "--unique-tokens", "1B,10B"],
        ["epochs", "--unique-tokens", "25B", "--params", "1B,8B"],
        ["data-isoloss", "--unique-tokens", "25B", "--compute", "1e22"],
        ["inference-cost", "--loss", "2.0", "--inference-tokens", "0,2T,20T"],
        ["overtraining", "--compute", "7.2e23"],
        ["overtraining", "--params", "8B", "--law", "besiroglu2024"],
    ],
)
def test_cli_plot_kinds(tmp_path, capsys, argv):
    out = tmp_path / "f.png"
    assert main(["plot", *argv, "-o", str(out)]) == 0, capsys.readouterr().err
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["inference-cost"], "--loss is required"),
        (["inference-cost", "--loss", "1.5"], "--loss = 1.5 is unreachable"),
        (["inference-cost", "--loss", "2", "--inference-tokens", "0,-2T"], "--inference-tokens"),
        (["epochs", "--loss", "2"], "--loss (a target loss) applies to the inference-cost"),
        (["epochs", "--law", "hoffmann2022"], "no data-constrained form"),
        (["data-isoloss", "--unique-tokens", "1B,2B"], "--unique-tokens takes one number"),
        (["data-isoloss", "--unique-tokens", "lots"], "--unique-tokens"),
        (["overtraining", "--params", "8B", "--compute", "1e22"], "not both"),
        (["epochs", "RUNS"], "U column"),
    ],
)
def test_cli_plot_bad_options(tmp_path, capsys, argv, match):
    runs = tmp_path / "runs.csv"
    _repeated_runs().drop(columns="U").to_csv(runs, index=False)
    argv = [str(runs) if a == "RUNS" else a for a in argv]
    assert main(["plot", *argv, "-o", str(tmp_path / "f.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and match in err[0], err
    assert not (tmp_path / "f.png").exists()
