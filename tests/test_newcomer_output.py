"""What a newcomer reads (issue 12): the automatic fit rendered like the others, standard
errors only where they describe the bootstrap distribution, lists in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.fit.result import HEAVY_TAIL_WORDS, meaningful_stderr
from test_bad_input import run


@pytest.fixture
def runs_csv(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for C in np.geomspace(1e17, 1e20, 5):
        for f in np.geomspace(0.2, 5, 6):
            N = f * (C / 120) ** 0.5
            D = C / (6 * N)
            L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.005 * rng.standard_normal())
            rows.append({"N": N, "D": D, "L": L})
    path = tmp_path / "runs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_the_automatic_fit_prints_its_candidates_as_a_table(runs_csv, capsys):
    argv = ["fit", runs_csv, "--approach", "auto", "--candidates", "chinchilla,frontier",
            "--bootstrap", "8", "--budgets", "1e21"]  # fmt: skip
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "w[chinchilla]" not in out  # no table of bare weights with empty columns
    assert "candidate chinchilla: weight" not in out  # said once, in the table
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if "candidates (nested backtest" in line)
    header = lines[head + 2]
    for column in ("candidate", "default", "weight", "at 10x", "RMS@1", "bias", "constants"):
        assert column in header
    assert any(line.startswith("│ chinchilla ") for line in lines)
    # the allocation at the budget comes with its interval, like Approach 3's
    row = next(line for line in lines if "N_opt@1e+21" in line)
    assert "[" in row and "]" in row


def test_standard_errors_of_heavy_tailed_replicates_are_not_shown():
    assert meaningful_stderr(891.4, (1277.0, 5006.0), 0.95) == 891.4  # near-normal: kept
    assert meaningful_stderr(2.3e8, (2000.0, 50000.0), 0.95) is None  # a few wild replicates
    assert meaningful_stderr(1.0, None, 0.95) == 1.0
    assert meaningful_stderr(float("inf"), (0.0, 1.0), 0.95) is None
    fit = sl.Approach3(n_bootstrap=0).fit(sl.datasets.load_runs("chinchilla_fig4"))
    heavy = fit.with_bootstrap(
        {**{k: 0.0 for k in fit.params}, "B": 2.3e8},
        {**{k: (v, v) for k, v in fit.params.items()}, "B": (2000.0, 50000.0)},
        sl.Replicates({"B": np.array([2000.0, 50000.0])}, method="a test"),
        [],
    )
    text = heavy.summary()
    row = next(line for line in text.splitlines() if line.startswith("B "))
    assert "2.3e+08" not in row and "[2000, 50000]" in row
    assert HEAVY_TAIL_WORDS in text


def test_a_summary_lists_its_filters_in_words():
    runs = sl.datasets.load_runs("chinchilla_fig4", drop_highest=5)
    text = sl.Approach3(n_bootstrap=0).fit(runs).summary()
    line = next(line for line in text.splitlines() if line.startswith("filters: "))
    assert line == "filters: dropped the 5 highest losses (L >= 3.447; data rows 1, 2, 3, 4, 5)"
