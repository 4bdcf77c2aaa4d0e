"""Large tables (issue 11): bounded memory and shown progress, without changing any number.

The bootstrap draws and refits its replicates in blocks of at most ``BLOCK_CELLS``
(replicate x point) cells; the blocks draw exactly the weights of one batch, and refit them to
the replicates of one batch within the optimiser's tolerance (a batched optimiser's last
digits depend on the batch it runs in; below the threshold there is one batch, as before).  The
constrained candidate's bounded search runs on the stratified subsample on large tables, and
must reach the optimum of the search over every row.  The command line says what it is doing
on a large table.  The sizes here are small: the thresholds are lowered, so that the code
paths of a million-row table run in seconds (``benchmarks/large_tables.py`` runs the real
sizes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws.fit import bootstrap, parametric
from scalinglaws.fit.auto import AutoFit
from scalinglaws.fit.bootstrap import bootstrap_weight_blocks, bootstrap_weights
from scalinglaws.fit.candidates import ChinchillaCandidate, FitData
from scalinglaws.fit.parametric import Approach3
from scalinglaws.progress import reporting, step
from test_bad_input import run


def _table(n: int, seed: int = 0, E: float = 1.69) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e6), np.log(1e9), n))
    D = np.exp(rng.uniform(np.log(1e8), np.log(1e11), n))
    L = (E + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.01 * rng.standard_normal(n))
    return pd.DataFrame({"N": N, "D": D, "L": L})


@pytest.mark.parametrize("groups", [None, np.array(list("aabbbcddeeffgghh"))])
@pytest.mark.parametrize("max_cells", [1, 16, 40, 10_000])
def test_weight_blocks_are_the_rows_of_one_draw(groups, max_cells):
    whole = bootstrap_weights(groups, 16, 11, seed=3)
    blocks = list(bootstrap_weight_blocks(groups, 16, 11, 3, max_cells=max_cells))
    assert np.array_equal(np.vstack([w for _, w in blocks]), whole)
    assert [r for b, _ in blocks for r in b] == list(range(11))
    assert all(len(b) * 16 <= max(max_cells, 16) for b, _ in blocks)
    # each replicate draws as many runs as there are
    n_groups = 16 if groups is None else len(set(groups))
    _, first = np.unique(groups if groups is not None else np.arange(16), return_index=True)
    assert (whole[:, first].sum(axis=1) == n_groups).all()


def test_approach3_bootstrap_in_blocks_gives_the_same_replicates(monkeypatch):
    df = _table(60)
    one = Approach3(n_bootstrap=12, seed=5).fit(df)
    monkeypatch.setattr(bootstrap, "BLOCK_CELLS", 60 * 5)  # blocks of 5 replicates
    blocks = Approach3(n_bootstrap=12, seed=5).fit(df)
    assert "in 3 batches (bounded memory)" in blocks.replicates.method
    assert "all in one batch" in one.replicates.method
    for name in ("E", "A", "B", "alpha", "beta"):
        np.testing.assert_allclose(blocks.replicates[name], one.replicates[name], rtol=1e-6)
    for name, (lo, hi) in one.intervals.items():
        assert blocks.intervals[name] == pytest.approx((lo, hi), rel=1e-6)


def test_auto_bootstrap_in_blocks_gives_the_same_record(monkeypatch):
    df = _table(30, seed=2)
    auto = AutoFit(candidates="chinchilla,chinchilla-constrained,frontier", n_bootstrap=7, n_jobs=1)
    one = auto.fit(df).extra["auto"]["replicates"]
    monkeypatch.setattr(bootstrap, "BLOCK_CELLS", 30 * 3)  # blocks of 3 replicates
    blocks = auto.fit(df).extra["auto"]["replicates"]
    assert list(one) == list(blocks) == ["chinchilla-constrained", "chinchilla", "frontier"]
    for key in one:
        assert len(one[key]) == len(blocks[key]) == 7
        for a, b in zip(one[key], blocks[key], strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                assert b == pytest.approx(a, rel=1e-6)


def test_bounded_search_on_a_subsample_reaches_the_whole_tables_optimum(monkeypatch):
    """A floor far below the data's losses: the constrained fit pins E at its lower bound.
    On a table 'larger' than SEARCH_ROWS the pinned grid runs on the subsample; the polish on
    every row must land where the search over every row lands."""
    data = FitData.from_runs(_table(400, seed=4, E=0.3))
    cand = ChinchillaCandidate(e_bounds=(0.5, 0.9))
    whole = cand.fit(data)
    monkeypatch.setattr(parametric, "SEARCH_ROWS", 100)
    monkeypatch.setattr("scalinglaws.fit.candidates._FREE_OPTIMA", {})
    sub = cand.fit(data)
    assert whole.E == pytest.approx(0.5 * data.L.min(), rel=1e-9)  # at the bound
    obj = cand._objective(data)
    values = [float(obj(cand._from_law(law, data)[None, :], np.zeros(1, int))[0][0])
              for law in (whole, sub)]  # fmt: skip
    assert values[1] == pytest.approx(values[0], rel=1e-6)


def test_progress_goes_to_the_installed_reporter_only():
    seen: list[str] = []
    step("nobody listens")
    with reporting(seen.append):
        step("one")
        with reporting(None):
            step("hidden")
        step("two")
    assert seen == ["one", "two"]


def test_a_large_table_shows_its_progress_on_stderr(tmp_path, capsys, monkeypatch):
    from scalinglaws.cli import output

    path = tmp_path / "runs.csv"
    _table(40).to_csv(path, index=False)
    code, out, err = run(["fit", path, "--bootstrap", "4"], capsys)
    assert code == 0 and "note:" not in err and "[" not in err  # small: silent
    monkeypatch.setattr(output, "LARGE_TABLE_ROWS", 40)
    monkeypatch.setattr(bootstrap, "BLOCK_CELLS", 40 * 2)
    code, out2, err = run(["fit", path, "--bootstrap", "4"], capsys)
    assert code == 0 and out2.splitlines()[:3] == out.splitlines()[:3]  # the same fit
    lines = err.splitlines()
    assert lines[0] == (
        "note: 40 rows; fitting a table this large takes a minute or more, so the steps are "
        "shown as they finish"
    )
    assert (
        "Approach 3: 4,500 starts searched, the best polished; now 4 bootstrap replicates"
        in (lines[1])
    )
    assert lines[2].endswith("] bootstrap: 2 of 4 replicates refitted")


def test_progress_shows_on_a_terminal_and_is_quiet_when_piped(tmp_path, capsys, monkeypatch):
    import sys

    from scalinglaws.cli import output

    path = tmp_path / "runs.csv"
    _table(40).to_csv(path, index=False)
    monkeypatch.setattr(output, "TERMINAL_PROGRESS_SECONDS", 0.0)  # as if the fit were long
    code, out, err = run(["fit", path, "--bootstrap", "4"], capsys)
    assert code == 0 and err == ""  # piped: nothing but the result
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out2, err = run(["fit", path, "--bootstrap", "4"], capsys)
    assert code == 0 and out2 == out  # progress never touches stdout
    assert "Approach 3: 4,500 starts searched" in err
    assert all(line.startswith("[") and "s] " in line for line in err.splitlines())


def test_each_cut_scores_a_bounded_sample_spread_over_compute(monkeypatch):
    from scalinglaws.fit import nested

    data = FitData.from_runs(_table(120, seed=6))
    auto = AutoFit(candidates="chinchilla", n_bootstrap=0, n_jobs=1)
    whole = nested.nested_backtest(data, auto.fit_members, auto.keys, (0.3, 0.6), 0.2, 1)
    monkeypatch.setattr(nested, "MAX_SCORED_RUNS", 10)
    capped = nested.nested_backtest(data, auto.fit_members, auto.keys, (0.3, 0.6), 0.2, 1)
    assert [len(c.failures) for c in capped.cuts] == [0, 0]
    for j in range(len(whole.cuts)):
        held = whole.C[whole.cut == j]
        kept = capped.C[capped.cut == j]
        assert held.size > 10 and kept.size == 10
        assert kept.min() == held.min() and kept.max() == held.max()  # the span is kept
        assert set(kept) <= set(held)
        # the same fits: the errors of the kept runs are those of the whole backtest
        lookup = dict(zip(held, whole.errors["chinchilla"][whole.cut == j], strict=True))
        assert [lookup[c] for c in kept] == list(capped.errors["chinchilla"][capped.cut == j])


def test_dense_point_clouds_are_embedded_as_images_in_vector_figures(tmp_path):
    from scalinglaws.plots import save
    from scalinglaws.plots.style import RASTER_POINTS, _figure

    rng = np.random.default_rng(0)
    sizes = {}
    for n in (RASTER_POINTS // 10, 4 * RASTER_POINTS):
        fig, axes = _figure()
        axes[0, 0].scatter(rng.random(n), rng.random(n), s=4)
        axes[0, 0].plot([0, 1], [0, 1])  # a fitted curve stays vector
        (svg,) = save(fig, tmp_path / f"f{n}", formats=("svg",))
        text = svg.read_text()
        sizes[n] = len(text)
        assert ("<image" in text) == (n > RASTER_POINTS)
    # 20,000 vector markers would be megabytes (the bytes per marker of the small figure);
    # as an image they take a fraction of that
    small, big = RASTER_POINTS // 10, 4 * RASTER_POINTS
    assert sizes[big] < 0.25 * sizes[small] / small * big


def test_many_held_out_points_get_sampled_intervals_close_to_the_exact_ones(monkeypatch):
    from scalinglaws.fit import backtest as bt

    rng = np.random.default_rng(1)
    log_preds = rng.normal(0.5, 0.01, (50, 300)) + np.linspace(0, 0.2, 300)[None, :]
    residuals = rng.normal(0, 0.02, 400)
    exact = bt._intervals(log_preds, residuals, 0.9, seed=0)
    assert bt.sampled_draws(50, 400, 300) is None
    monkeypatch.setattr(bt, "_TOTAL_DRAWS", 300 * 10_000)  # 10,000 pairs per point
    monkeypatch.setattr(bt, "_MIN_DRAWS", 1_000)
    assert bt.sampled_draws(50, 400, 300) == 10_000
    sampled = bt._intervals(log_preds, residuals, 0.9, seed=0)
    for a, b in zip(exact, sampled, strict=True):
        np.testing.assert_allclose(b, a, atol=0.004)  # 0.4% in L: Monte Carlo error
        assert np.all(np.isfinite(b))
