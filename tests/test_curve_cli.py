"""`scalinglaws curve fit|predict|backtest`: results, JSON, and one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglaws.curves import MomentumLaw, cosine, schedule_terms
from test_cli_fit import one_error, run

T, W, PEAK = 1000, 40, 2e-3
TRUE = {"a": MomentumLaw(2.6, 0.6, 0.45, 0.12), "b": MomentumLaw(3.1, 0.5, 0.5, 0.1)}


@pytest.fixture
def curves_csv(tmp_path) -> Path:
    """Two runs' curves with the user's own names and a learning-rate column."""
    lr = cosine(T, PEAK, W, 0.1)
    steps = np.unique(np.linspace(1, T, 70).astype(int))
    frames = []
    for i, (rid, law) in enumerate(TRUE.items()):
        L = law.loss(schedule_terms(steps, lr, W))
        L = L * np.exp(np.random.default_rng(i).normal(0, 2e-4, L.size))
        frames.append(
            pd.DataFrame(
                {
                    "name": rid,
                    "params": 1e8 * (i + 1),
                    "iter": steps,
                    "tokens": steps * 65536,
                    "loss": L,
                    "learning_rate": lr[steps - 1],
                }
            )
        )
    path = tmp_path / "curves.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


COLS = "run_id=name,N=params,D=tokens,L=loss,step=iter,lr=learning_rate"


def test_fit_prints_one_row_per_run_and_json_holds_the_parameters(curves_csv, capsys):
    code, out, err = run(
        ["curve", "fit", curves_csv, "--columns", COLS, "--law", "momentum"], capsys
    )
    assert code == 0, err
    assert "momentum law fits" in out and "schedule: lr column" in out and "a" in out and "b" in out
    code, out, err = run(
        [
            "curve",
            "fit",
            curves_csv,
            "--columns",
            COLS,
            "--law",
            "momentum",
            "--run",
            "b",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    (record,) = json.loads(out)
    assert record["run_id"] == "b" and record["law"] == "momentum"
    assert record["params"]["L0"] == pytest.approx(3.1, rel=0.02)


def test_predict_from_the_first_half_with_an_interval_and_other_schedules(
    curves_csv, tmp_path, capsys
):
    out_file = tmp_path / "p.json"
    code, out, err = run(
        [
            "curve",
            "predict",
            curves_csv,
            "--columns",
            COLS,
            "--run",
            "a",
            "--at-fraction",
            "0.5",
            "--law",
            "momentum",
            "--under",
            "wsd:decay=0.2",
            "--under",
            "constant",
            "--bootstrap",
            "10",
            "--json",
            "-o",
            out_file,
        ],
        capsys,
    )
    assert code == 0, err
    record = json.loads(out)
    assert record == json.loads(out_file.read_text())
    final = TRUE["a"].loss(schedule_terms(np.array([T]), cosine(T, PEAK, W, 0.1), W))[0]
    assert record["predicted_final"] == pytest.approx(final, rel=3e-3)
    assert record["fit_until_step"] <= T / 2 and record["final_step"] == T
    lo, hi = record["interval"]
    assert lo <= record["predicted_final"] <= hi
    assert len(record["under"]) == 2
    code, out, err = run(
        [
            "curve",
            "predict",
            curves_csv,
            "--columns",
            COLS,
            "--run",
            "a",
            "--at-fraction",
            "0.3",
            "--law",
            "momentum",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    assert code == 0, err
    assert "final loss" in out and "rel. error" in out


def test_backtest_summarises_each_law_and_fraction(curves_csv, capsys):
    code, out, err = run(
        [
            "curve",
            "backtest",
            curves_csv,
            "--columns",
            COLS,
            "--law",
            "momentum",
            "--law",
            "power",
            "--fractions",
            "0.3,0.6",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    record = json.loads(out)
    assert len(record["summary"]) == 4 and len(record["rows"]) == 8
    by = {(s["law"], s["fraction"]): s for s in record["summary"]}
    # from 60% of a cosine the annealing is under way and the right law sees it; from 30%
    # the lr has hardly dropped, C is barely identified and the error is ~3% (not asserted)
    assert by["momentum", 0.6]["max_abs_relative_error"] < 5e-3
    code, out, err = run(
        [
            "curve",
            "backtest",
            curves_csv,
            "--columns",
            COLS,
            "--law",
            "power",
            "--fractions",
            "0.5",
        ],
        capsys,
    )
    assert code == 0, err and "mean |rel err|" in out


def test_a_schedule_given_by_name_replaces_the_lr_column(curves_csv, capsys):
    cols = "run_id=name,N=params,D=tokens,L=loss,step=iter"
    code, out, err = run(
        [
            "curve",
            "fit",
            curves_csv,
            "--columns",
            cols,
            "--law",
            "momentum",
            "--run",
            "a",
            "--schedule",
            "cosine:peak=0.002,warmup=40,min=0.1",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)[0]["params"]["alpha"] == pytest.approx(0.45, rel=0.03)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            ["predict", "--run", "zz", "--at-fraction", "0.5"],
            "no run 'zz' in the table; runs are 'a', 'b'",
        ),
        (
            ["predict", "--run", "a", "--at-fraction", "1.5"],
            "--at-fraction must be between 0 and 1",
        ),
        (["predict", "--run", "a", "--at-fraction", "0"], "--at-fraction must be between 0 and 1"),
        (["fit", "--schedule", "cosine;warmup=3"], "does not parse; the form is NAME[:key=value"),
        (["fit", "--schedule", "cosine:warm=3"], "takes the keys peak, warmup, min"),
        (["predict", "--run", "a", "--at-fraction", "0.5", "--under", "linear"], "does not parse"),
        (["backtest", "--fractions", "0.1,2"], "--fractions must lie between 0 and 1"),
        (["backtest", "--fractions", "a,b"], "--fractions must be numbers"),
    ],
    ids=str,
)
def test_bad_input_is_one_sentence_and_exit_2(curves_csv, capsys, extra, words):
    command, *rest = extra
    code, out, err = run(["curve", command, curves_csv, "--columns", COLS, *rest], capsys)
    assert code == 2 and out == ""
    assert words in one_error(err)


def test_no_schedule_for_a_schedule_law_says_what_to_give(curves_csv, tmp_path, capsys):
    df = pd.read_csv(curves_csv).drop(columns="learning_rate")
    df.to_csv(tmp_path / "nolr.csv", index=False)
    cols = "run_id=name,N=params,D=tokens,L=loss,step=iter"
    code, _, err = run(["curve", "fit", tmp_path / "nolr.csv", "--columns", cols], capsys)
    assert code == 2 and "has no schedule: give --schedule" in one_error(err)
    code, _, err = run(["curve", "fit", curves_csv, "--columns", COLS + "x"], capsys)
    assert code == 2 and "learning-rate column 'learning_ratex'" in one_error(err)
    code, out, err = run(
        [
            "curve",
            "fit",
            tmp_path / "nolr.csv",
            "--columns",
            cols,
            "--law",
            "power",
            "--x",
            "tokens",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err and json.loads(out)[0]["x_name"] == "tokens"
