"""The answers `scalinglaws allocate` and `scalinglaws predict` print, computed by the library
(scalinglaws.fit.questions.allocation_answers / prediction_answers): rows, intervals, how
far beyond the fit's data each request lies; the command line only prints them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws import ChinchillaLaw, Fit, PowerLaw
from scalinglaws.allocation import allocate
from scalinglaws.cli import main
from scalinglaws.errors import DataError, ScalingLawsError
from scalinglaws.fit.questions import (
    MissingVariables,
    allocation_answers,
    beyond_data,
    prediction_answers,
)
from scalinglaws.fit.result import Replicates

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
C_MAX = 1e22


@pytest.fixture(scope="module")
def bootstrapped() -> Fit:
    """Hoffmann's law with 40 replicates of its constants, fitted to runs up to 1e22 FLOPs."""
    rng = np.random.default_rng(0)
    reps = {
        name: value * np.exp(0.02 * rng.standard_normal(40))
        for name, value in HOFFMANN.params.items()
    }
    return Fit(
        law=HOFFMANN,
        params=HOFFMANN.params,
        approach="3",
        replicates=Replicates(reps, method="test"),
        extra={"data_range": {"C": [1e18, C_MAX], "N": [1e7, 1e10], "D": [1e9, 1e12]}},
    )


# ------------------------------------------------------------------------ allocation
def test_a_presets_allocation_has_no_intervals_and_no_data_range():
    answers = allocation_answers("hoffmann2022", C=[1e22, 5.76e23])
    expected = allocate("hoffmann2022", C=np.array([1e22, 5.76e23]))
    assert answers.method == expected.method == "closed form"
    assert [list(r) for r in answers.rows] == [["C", "N", "D", "tokens_per_param", "L"]] * 2
    for i, row in enumerate(answers.rows):
        for key in row:
            assert row[key] == pytest.approx(np.atleast_1d(getattr(expected, key))[i], rel=1e-14)
    assert answers.interval is answers.level is answers.beyond_data is None


def test_a_fits_allocation_carries_its_intervals_and_how_far_out_it_is(bootstrapped):
    budgets = np.array([1e21, 1e24])
    answers = allocation_answers(bootstrapped, C=budgets, level=0.8)
    expected = bootstrapped.allocate(budgets, 0.8)
    assert answers.level == 0.8 and answers.interval == expected.interval_method
    for i, row in enumerate(answers.rows):
        for x in ("N", "D", "L"):
            assert row[x] == pytest.approx(np.atleast_1d(getattr(expected, x))[i], rel=1e-12)
            low, high = (np.atleast_1d(v)[i] for v in expected.intervals[x])
            assert (row[f"{x}_low"], row[f"{x}_high"]) == pytest.approx((low, high), rel=1e-12)
        assert row["beyond_data"] == pytest.approx(budgets[i] / C_MAX)
    assert answers.beyond_data.startswith("C over the largest C of the fit's runs (1e+22 FLOPs)")
    assert "nothing in this fit measured its error that far out" in answers.beyond_data


def test_allocation_by_model_size_has_no_intervals(bootstrapped):
    answers = allocation_answers(bootstrapped, N=[1e9], flops_per_token=6)
    (row,) = answers.rows
    assert row["N"] == pytest.approx(1e9) and "N_low" not in row
    assert answers.interval is None and row["beyond_data"] == pytest.approx(row["C"] / C_MAX)


def test_allocation_errors_speak_of_the_arguments_not_of_flags(bootstrapped):
    with pytest.raises(DataError, match="exactly one of C") as info:
        allocation_answers(bootstrapped, C=1e22, N=1e9)
    assert "--" not in str(info.value)
    with pytest.raises(DataError, match="level goes with C") as info:
        allocation_answers(bootstrapped, N=1e9, level=0.8)
    assert "--" not in str(info.value) and info.value.argument == "level"


# ------------------------------------------------------------------------ prediction
def test_prediction_of_n_and_d_from_a_bootstrapped_fit(bootstrapped):
    answers = prediction_answers(bootstrapped, N=[1e9, 1e10], D=2e10, flops_per_token=6, level=0.9)
    assert answers.columns == ("C", "N", "D") and answers.method == HOFFMANN.formula
    assert answers.allocation is None
    pred = bootstrapped.predict(level=0.9, N=np.array([1e9, 1e10]), D=np.array([2e10, 2e10]))
    assert answers.level == 0.9 and answers.interval == pred.method
    for i, row in enumerate(answers.rows):
        assert list(row) == ["C", "N", "D", "L", "L_low", "L_high", "beyond_data"]
        assert row["C"] == pytest.approx(6 * row["N"] * row["D"])
        assert row["L"] == pytest.approx(pred.L[i], rel=1e-14)
        assert (row["L_low"], row["L_high"]) == pytest.approx((pred.low[i], pred.high[i]))


def test_prediction_from_a_budget_alone_is_the_loss_at_the_optimum(bootstrapped):
    answers = prediction_answers(bootstrapped, C=[1e23], flops_per_token=8)
    a = allocate(HOFFMANN, C=1e23, flops_per_token=8)
    (row,) = answers.rows
    assert answers.method == "loss at the compute-optimal allocation"
    assert answers.allocation == a.method == "closed form"
    assert (row["N"], row["D"], row["L"]) == pytest.approx((a.N, a.D, a.L), rel=1e-12)
    assert row["beyond_data"] == pytest.approx(10.0)
    # the interval of the loss at the optimum is the fit's allocation interval of L*
    low, high = bootstrapped.allocate(1e23, flops_per_token=8).intervals["L"]
    assert (row["L_low"], row["L_high"]) == pytest.approx((low, high), rel=1e-12)


def test_a_presets_prediction_and_its_refusals():
    answers = prediction_answers("kaplan2020", N=1e9)
    assert answers.rows[0]["L"] == pytest.approx((8.8e13 / 1e9) ** 0.076, rel=1e-14)
    assert answers.interval is answers.beyond_data is None
    with pytest.raises(ScalingLawsError, match="llama3 publishes no loss law"):
        prediction_answers("llama3", C=1e24)
    for asked, words in (({"S": 10, "D": 1e12}, "S goes with N"), ({}, "give N and D")):
        with pytest.raises(DataError, match=words) as info:
            prediction_answers("kaplan2020", **asked)
        assert "--" not in str(info.value)


def test_a_fit_asked_for_variables_its_law_does_not_take(tmp_path):
    law = PowerLaw(E=1.5, A=100.0, alpha=0.1, variable="C")
    fit = Fit(law=law, params=law.params, approach="2")
    with pytest.raises(MissingVariables) as info:
        prediction_answers(fit, N=1e9, D=1e12)
    assert info.value.variables == ("C",) and info.value.law_name == "power"
    assert str(info.value) == "the fitted law 'power' takes (C); give C"
    assert beyond_data(fit, 1e24) is None  # no data range recorded


# ------------------------------------------------------------------------ the command line
def test_the_command_line_prints_what_the_library_answered(bootstrapped, tmp_path, capsys):
    path = tmp_path / "fit.json"
    bootstrapped.to_json(path)
    loaded = Fit.from_json(path)
    argv = ["--fit", str(path), "--json"]
    assert main(["allocate", "--compute", "1e21,1e24", "--level", "0.8", *argv]) == 0
    doc = json.loads(capsys.readouterr().out)
    answers = allocation_answers(loaded, C=[1e21, 1e24], level=0.8)
    assert doc["rows"] == answers.rows and doc["method"] == answers.method
    assert doc["interval"] == answers.interval and doc["beyond_data"] == answers.beyond_data
    assert main(["predict", "--params", "1B", "--compute", "1e21,1e24", *argv]) == 0
    doc = json.loads(capsys.readouterr().out)
    answers = prediction_answers(loaded, N=1e9, C=[1e21, 1e24])
    assert doc["rows"] == answers.rows and doc["law"] == answers.method
    assert doc["interval"] == answers.interval and doc["beyond_data"] == answers.beyond_data
