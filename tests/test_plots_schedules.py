"""Figures of loss curves under learning-rate schedules (issue 14): fitted curves with the
schedule beneath, predicted against observed final losses, WSD branches against cosine runs;
the `--plot FILE` of `curve fit|predict|backtest` and `plot cooldown`."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from scalinglaws.curves import backtest_curves, fit_curves, predict_run
from scalinglaws.plots import (
    plot_cooldown,
    plot_curve_backtest,
    plot_curve_fits,
    plot_curve_prediction,
    save,
)
from scalinglaws.plots.style import data_points_px
from scalinglaws.runs import load_runs
from test_cli_fit import one_error, run
from test_curve_cli import COLS, PEAK, T, curves_csv  # noqa: F401 (a fixture)

COLUMN_PX = 730.0


def _curves(path):
    from scalinglaws.cli.curve import _curves as read

    return read(str(path), COLS, None, "step")


def _legible(fig: Figure) -> None:
    """Every text is at least 10 CSS px at the figure's natural size in the report's column,
    the figure fits the column, and no legend covers data."""
    fig.draw_without_rendering()
    assert fig.get_figwidth() * 96 <= COLUMN_PX
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert min(t.get_fontsize() for t in texts) * 96 / 72 >= 10.0
    legends = list(fig.legends) + [a.get_legend() for a in fig.axes if a.get_legend()]
    assert legends
    for leg in legends:
        box = leg.get_window_extent()
        for ax in fig.axes:
            assert not box.count_contains(data_points_px(ax))


def test_fitted_curves_draw_each_run_its_law_and_the_schedule_beneath(curves_csv):  # noqa: F811
    curves = _curves(curves_csv)
    fits = [fit_curves([rc.curve], law="momentum", run_id=rc.run_id) for rc in curves]
    fig = plot_curve_fits(curves, fits)
    top, bottom = fig.axes
    # one fitted line per run, equal to the law's prediction at the logged steps
    assert len(top.lines) == 2
    for line, rc, f in zip(top.lines, curves, fits, strict=True):
        expected = f.predict(rc.curve.steps, lr=rc.curve.lr, warmup=rc.curve.warmup)
        np.testing.assert_allclose(line.get_ydata(), expected)
    # the schedule beneath is the run's learning rate at every step (one shared schedule)
    (lr_line,) = bottom.lines
    assert len(lr_line.get_ydata()) == T
    np.testing.assert_allclose(lr_line.get_ydata(), curves[0].curve.lr)
    assert max(lr_line.get_ydata()) == pytest.approx(PEAK, rel=1e-3)
    # the y axis follows the curve after its first steps, not the initial spike
    late = max(float(np.max(rc.curve.loss[rc.curve.steps >= 0.03 * T])) for rc in curves)
    assert late <= top.get_ylim()[1] < late + 0.5
    _legible(fig)


def test_prediction_shades_the_window_and_marks_every_final_loss(curves_csv):  # noqa: F811
    (rc,) = [c for c in _curves(curves_csv) if c.run_id == "a"]
    p = predict_run(
        rc.curve, 0.4, law="momentum", under=["wsd:decay=0.2", "constant"], n_bootstrap=8
    )
    fig = plot_curve_prediction(rc, p)
    top, bottom = fig.axes
    # the shaded window ends at the last fitted step
    assert top.patches[0].get_bbox().x1 == int(p.fit.steps.max())
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(f"predicted final {p.predicted_final:.3f}" in lbl for lbl in labels)
    assert any(f"observed final {p.observed_final:.3f}" in lbl for lbl in labels)
    for text, u in p.under.items():
        assert any(f"under {text}: {u['predicted_final']:.3f}" in lbl for lbl in labels)
    # three schedules beneath: as trained, WSD (decays to 0 over the last 20%) and constant
    assert len(bottom.lines) == 3
    wsd = bottom.lines[1].get_ydata()
    assert wsd[int(0.7 * T)] == pytest.approx(PEAK, rel=1e-3) and wsd[-1] < 0.05 * PEAK
    _legible(fig)


def test_backtest_figure_has_a_marker_per_prediction_and_the_seed_band(curves_csv):  # noqa: F811
    curves = _curves(curves_csv)
    bt = backtest_curves(curves, laws=("momentum", "power"), fractions=(0.3, 0.6))
    spread = [{"N": 1.0, "relative_sd": 0.01}]
    fig = plot_curve_backtest(bt, spread)
    (ax,) = fig.axes
    pts = np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
    expected = sorted((r["observed"], r["predicted"]) for r in bt.rows if "predicted" in r)
    assert len(pts) == len(expected) == 8
    np.testing.assert_allclose(sorted(map(tuple, pts)), expected)
    # the band is ±1% around y = x
    band = [c for c in ax.collections if not isinstance(c, PathCollection)][0]
    verts = band.get_paths()[0].vertices
    ratio = verts[:, 1] / verts[:, 0]
    assert ratio.min() == pytest.approx(0.99, abs=1e-6)
    assert ratio.max() == pytest.approx(1.01, abs=1e-6)
    _legible(fig)


def test_curve_cli_writes_the_figures(curves_csv, tmp_path, capsys):  # noqa: F811
    for args, name in (
        (["fit", "--law", "momentum"], "fit.png"),
        (["predict", "--run", "a", "--at-fraction", "0.5", "--under", "constant"], "p.svg"),
        (["backtest", "--law", "power", "--fractions", "0.5"], "bt.pdf"),
    ):
        target = tmp_path / "figs" / name
        code, out, err = run(
            ["curve", args[0], curves_csv, "--columns", COLS, *args[1:], "--plot", target],
            capsys,
        )
        assert code == 0, err
        assert target.is_file() and target.stat().st_size > 1000
        assert f"wrote {target}" in out
    # with --json the "wrote" line goes to stderr and stdout stays JSON
    target = tmp_path / "j.png"
    code, out, err = run(
        ["curve", "fit", curves_csv, "--columns", COLS, "--law", "power", "--json"]
        + ["--plot", target],
        capsys,
    )
    assert code == 0 and out.lstrip().startswith("[") and "wrote" in err


@pytest.mark.parametrize(
    "plot, words",
    [("fit.txt", "needs the extension .png, .svg or .pdf"), (".", "is a folder")],
)
def test_a_bad_plot_path_is_one_sentence_and_exit_2(curves_csv, tmp_path, capsys, plot, words):  # noqa: F811
    target = tmp_path / plot
    code, out, err = run(
        ["curve", "fit", curves_csv, "--columns", COLS, "--law", "power", "--plot", target],
        capsys,
    )
    assert code == 2 and out == ""
    assert words in one_error(err)


# -- WSD branches against cosine runs ------------------------------------------------------


@pytest.fixture(scope="module")
def cooldown_sweep(tmp_path_factory):
    """A real cooldown sweep: one 792-parameter model, a trunk and branches at 10 and 40
    steps of 64 tokens (synthetic Markov corpus; about 10 s)."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from scalinglaws.sweep.runner import run_sweep
    from test_cooldown import cooldown_plan

    out = tmp_path_factory.mktemp("cool") / "sweep"
    summary = run_sweep(cooldown_plan(tokens=(640, 2560)), out, workers=2, progress=False)
    assert summary.succeeded == 3
    return out


@pytest.mark.train
def test_cooldown_figure_draws_branches_trunk_and_cosine_runs(cooldown_sweep, tmp_path, capsys):
    from scalinglaws.sweep.store import SweepStore

    records = SweepStore(cooldown_sweep).records()
    branches = {
        (float(r["plan"]["D"]), float(r["result"]["final_val_loss"]))
        for r in records.values()
        if r["plan"]["role"] == "branch"
    }
    assert len(branches) == 2
    cosine = pd.DataFrame(
        {"run_id": ["c1", "c2"], "N": [792, 792], "D": [640, 2560], "L": [2.95, 2.9]}
    )
    fig = plot_cooldown(cooldown_sweep, cosine=load_runs(cosine))
    csv = tmp_path / "cos.csv"
    cosine.to_csv(csv, index=False)
    same = plot_cooldown(str(cooldown_sweep), cosine=str(csv))  # paths work as well
    assert len(same.axes[0].collections) == len(fig.axes[0].collections)
    (ax,) = fig.axes
    scat = [c for c in ax.collections if isinstance(c, PathCollection)]
    filled, squares = scat[0], scat[1]
    assert {tuple(map(float, p)) for p in filled.get_offsets()} == branches
    assert sorted(map(tuple, squares.get_offsets())) == [(640, 2.95), (2560, 2.9)]
    # the trunk's curve and each branch's cooldown from its checkpoint, and the cosine line
    assert len(ax.lines) == 1 + 2 + 1
    trunk = ax.lines[0].get_xdata()
    assert trunk.min() == 64 and trunk.max() == 2048  # up to the last branch's decay start
    starts = sorted(float(line.get_xdata()[0]) for line in ax.lines[1:3])
    assert starts == [512, 2048]  # the decay starts at 80% of each branch's tokens
    _legible(fig)

    target = tmp_path / "cool.png"
    code, out, err = run(
        ["plot", "cooldown", cooldown_sweep, "--cosine", csv, "-o", target], capsys
    )
    assert code == 0, err
    assert target.is_file() and f"wrote {target}" in out
    save(fig, tmp_path / "again", formats=("svg",))


def test_plot_cooldown_of_a_folder_without_branches_is_one_sentence(tmp_path, capsys):
    code, out, err = run(["plot", "cooldown", tmp_path, "-o", tmp_path / "c.png"], capsys)
    assert code == 2 and out == ""
    assert "holds no finished cooldown branch" in one_error(err)
    code, out, err = run(["plot", "cooldown", "-o", tmp_path / "c.png"], capsys)
    assert code == 2 and "needs SWEEP_FOLDER" in one_error(err)
    code, out, err = run(
        ["plot", "isoflop", tmp_path, "--cosine", "x.csv", "-o", tmp_path / "c.png"], capsys
    )
    assert code == 2 and "--cosine applies to the cooldown figure" in one_error(err)
    code, out, err = run(["plot", "cooldwn", tmp_path, "-o", tmp_path / "c.png"], capsys)
    assert code == 2 and "did you mean 'cooldown'?" in one_error(err)
    code, out, err = run(["plot", "cooldown", tmp_path / "nope", "-o", tmp_path / "c.png"], capsys)
    assert code == 2 and "is not a sweep folder" in one_error(err)
