"""The data-constrained fit (Muennighoff et al. 2023, eq. 5): the U column, recovery of known
constants, the paper's numbers on its own runs, and the command line.

Numbers measured on dataset:datablations (182 runs; see the module docstring of
scalinglaws.fit.data_constrained and the closing note of the helper that wrote this):

* the paper's procedure (base held at the published C4 constants, R* from the paper's first
  finite start R* = 20/3) lands on R_D* = 15.372, R_N* = 5.315 against the published 15.388 and
  5.310 (0.1 %), at objective 0.0158259 (the notebook prints 0.0158259);
* the same objective has a lower optimum, 0.0158047, far along a flat valley at R_D* ~ 95,
  R_N* ~ 1.7: the published pair is a local minimum, and R_D*, R_N* trade off;
* the default procedure (base law fitted, alpha = beta, on the 29 single-epoch runs) gives
  E 1.933, A 871, B 3557, alpha = beta 0.372, R_D* 52.1, R_N* 67.8.

95 % bootstrap intervals (200 replicates, seed 0): paper procedure R_D* [4.7, 1e12] (median
17.4, quartiles 13.7 and 108), R_N* [0.35, 22] (median 4.3); default R_D* [26, 236], R_N*
[16, 5e11].  The runs do not pin R_D* and R_N* separately, so the tests hold the point
estimates to the optimiser's reproducibility, not to the width of those intervals.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scalinglaws.cli import main
from scalinglaws.errors import DataError, FitError
from scalinglaws.fit import estimator_class
from scalinglaws.fit.data_constrained import (
    PUBLISHED,
    DataConstrainedFit,
    _DecayObjective,
    repetitions,
)
from scalinglaws.fit.objectives import Loss
from scalinglaws.fit.result import Fit
from scalinglaws.laws.data_constrained import DataConstrainedLaw
from scalinglaws.presets import muennighoff_law
from scalinglaws.runs import load_runs

LAW = muennighoff_law()


def synthetic_runs(noise: float = 0.003, seed: int = 0) -> pd.DataFrame:
    """92 runs drawn from the published law with log-normal noise (``noise`` in log L):
    20 single-epoch runs at 0.1-1 x N_opt(U) for five U (the base law's data), and 72
    repeated runs, 2 to 100 epochs at 0.5-16 x N_opt(U) for three U (excess parameters)."""
    rng = np.random.default_rng(seed)
    rows = []
    for U in (3e8, 1e9, 3e9, 1e10, 3e10):
        rows += [(f * float(LAW.n_opt(U)), U, U) for f in (0.1, 0.25, 0.5, 1.0)]
    for U in (3e8, 1e9, 3e9):
        for f in (0.5, 1.0, 4.0, 16.0):
            rows += [(f * float(LAW.n_opt(U)), e * U, U) for e in (2, 4, 8, 16, 40, 100)]
    df = pd.DataFrame(rows, columns=["N", "D", "U"])
    exact = LAW(N=df["N"].to_numpy(), D=df["D"].to_numpy(), U=df["U"].to_numpy())
    df["L"] = exact * np.exp(noise * rng.standard_normal(len(df)))
    return df


# ============================================================================ the U column
def test_u_column_is_loaded_by_name_by_mapping_and_from_the_dataset(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,unique_tokens,loss\n1e8,2e9,1e9,3.1\n2e8,1e9,1e9,3.0\n")
    runs = load_runs(path)
    assert runs.U.tolist() == [1e9, 1e9]  # U = D (the second run): one epoch
    assert "U ← 'unique_tokens'" in runs.mapping_text()
    renamed = pd.DataFrame({"N": [1e8], "D": [2e9], "L": [3.1], "uniq": ["500M"]})
    assert load_runs(renamed, columns="U=uniq").U.tolist() == [5e8]
    assert load_runs(pd.DataFrame({"N": [1e8], "D": [2e9], "L": [3.1]})).U is None
    shipped = load_runs("dataset:datablations")
    assert shipped.U is not None and shipped.U.min() == 1e8 and len(shipped) == 182
    assert shipped.ranges()["U"] == [1e8, 1.78e11]


def test_unique_tokens_above_the_tokens_trained_are_refused(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,unique_tokens,loss\n1e8,2e9,1e9,3.1\n2e8,1e9,4e9,3.0\n")
    code = main(["fit", str(path), "--approach", "data-constrained"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: {path}, data row 2 (line 3), column 'unique_tokens': unique tokens U = 4e+09 "
        "exceed the tokens trained D = 1e+09; U counts the distinct tokens a run trained on "
        "(D/U epochs), so it is at most D -- check that the U and D columns are not swapped"
    ]


@pytest.mark.parametrize("value", ["0", "-4e9", "abc"])
def test_u_column_must_be_positive(value):
    frame = pd.DataFrame({"N": [1e8, 2e8], "D": [1e9, 1e9], "L": [3.0, 2.9], "U": ["1e9", value]})
    with pytest.raises(DataError, match=r"row 2, column 'U'.*U \(unique tokens\) must be"):
        load_runs(frame)


# ============================================================================ recovery
def test_recovers_known_decay_constants_from_noisy_runs():
    fit = DataConstrainedFit(n_bootstrap=0).fit(synthetic_runs())
    assert isinstance(fit.law, DataConstrainedLaw) and fit.converged
    # seeds 0-3 at 0.3 % noise: R_D* within 8 %, R_N* within 15 %, the exponent within 2 %
    assert fit.params["R_D_star"] == pytest.approx(LAW.R_D_star, rel=0.15)
    assert fit.params["R_N_star"] == pytest.approx(LAW.R_N_star, rel=0.25)
    assert fit.params["alpha"] == fit.params["beta"] == pytest.approx(LAW.alpha, rel=0.03)


def test_exact_runs_give_the_constants_back():
    fit = DataConstrainedFit(n_bootstrap=0, objective="log-mse").fit(synthetic_runs(noise=0))
    for name in ("E", "A", "B", "alpha", "R_D_star", "R_N_star"):
        assert fit.params[name] == pytest.approx(getattr(LAW, name), rel=1e-3), name


def test_bootstrap_intervals_cover_the_truth():
    """95 % intervals over 5 synthetic data sets (measured over 20 with 100 replicates each:
    R_D* and R_N* covered 20 times, alpha 19, E 18)."""
    covered = {"R_D_star": 0, "R_N_star": 0}
    for seed in range(5):
        fit = DataConstrainedFit(n_bootstrap=40, seed=seed).fit(synthetic_runs(seed=100 + seed))
        for name in covered:
            low, high = fit.intervals[name]
            covered[name] += low < getattr(LAW, name) < high
    assert min(covered.values()) >= 4, covered
    assert len(fit.replicates) == 40 and "R_D_star" in fit.conf_int(0.9)


# ============================================================================ the paper's data
@pytest.fixture(scope="module")
def datablations():
    return load_runs("dataset:datablations")


def test_paper_procedure_reproduces_the_published_decay_constants(datablations):
    fit = DataConstrainedFit(base="muennighoff2023", decay_starts=[20 / 3], n_bootstrap=0).fit(
        datablations
    )
    assert fit.params["R_D_star"] == pytest.approx(PUBLISHED["R_D_star"], rel=2e-3)
    assert fit.params["R_N_star"] == pytest.approx(PUBLISHED["R_N_star"], rel=2e-3)
    assert fit.params["A"] == pytest.approx(520.825, rel=1e-5)  # held, not fitted
    assert fit.method["decay objective value"] == pytest.approx(0.0158259, rel=1e-4)


def test_published_pair_is_a_local_minimum_of_a_flat_valley(datablations):
    """With the paper's base, the multi-start finds a lower objective far from (15.4, 5.3):
    R_D* and R_N* trade off, so the published pair is one local minimum of the valley."""
    fit = DataConstrainedFit(base="muennighoff2023", n_bootstrap=0).fit(datablations)
    base = {k: PUBLISHED[k] for k in ("E", "A", "B", "alpha", "beta")}
    u_n, r_n, _ = repetitions(datablations.N, datablations.D, datablations.U, base)
    obj = _DecayObjective(datablations.D, datablations.U, datablations.L, Loss(), base, u_n, r_n)
    at_published = obj(np.log([[PUBLISHED["R_D_star"], PUBLISHED["R_N_star"]]]), np.zeros(1, int))
    assert fit.method["decay objective value"] < at_published[0][0] * (1 - 1e-3)
    assert fit.params["R_D_star"] > 50 and fit.params["R_N_star"] < 2.5


def test_default_procedure_fits_the_base_law_on_single_epoch_runs(datablations):
    fit = DataConstrainedFit(n_bootstrap=0).fit(datablations)
    assert fit.data["single-epoch rows (stage 1)"] == 29
    assert fit.params["alpha"] == fit.params["beta"] == pytest.approx(0.3721, abs=2e-3)
    assert fit.params["R_D_star"] == pytest.approx(52.1, rel=0.02)
    assert fit.params["R_N_star"] == pytest.approx(67.8, rel=0.02)


# ============================================================================ bad input
def _frame(**columns):
    return pd.DataFrame(columns)


def test_library_refusals_are_one_sentence():
    no_u = _frame(N=[1e8, 2e8], D=[1e9, 2e9], L=[3.0, 2.9])
    with pytest.raises(DataError, match="needs each run's unique tokens U"):
        DataConstrainedFit().fit(no_u)
    repeated = synthetic_runs()
    repeated = repeated[repeated["D"] > repeated["U"]]
    with pytest.raises(FitError, match=r"has 0 of its 72 rows; at least 5 are needed"):
        DataConstrainedFit().fit(repeated)
    once = synthetic_runs()
    once = once[once["D"] <= once["U"]]
    with pytest.raises(FitError, match="R_D\\* cannot be identified"):
        DataConstrainedFit().fit(once)
    with pytest.raises(DataError, match="decay_starts must be numbers > 0"):
        DataConstrainedFit(decay_starts=[0, 1])


# ============================================================================ command line
@pytest.fixture
def runs_csv(tmp_path):
    path = tmp_path / "runs.csv"
    synthetic_runs().rename(columns={"U": "uniq", "L": "loss"}).to_csv(path, index=False)
    return path


def test_cli_fit_prints_saves_and_loads_back(runs_csv, tmp_path, capsys):
    out = tmp_path / "fit.json"
    args = ["fit", str(runs_csv), "--approach", "data-constrained", "--columns", "U=uniq"]
    assert main([*args, "--bootstrap", "4", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "approach data-constrained" in printed and "R_D_star" in printed
    fit = Fit.from_json(out)
    assert isinstance(fit.law, DataConstrainedLaw) and fit.approach == "data-constrained"
    assert fit.law.R_D_star == pytest.approx(fit.params["R_D_star"])
    assert fit.intervals["R_N_star"][0] < fit.params["R_N_star"] < fit.intervals["R_N_star"][1]
    assert main([*args, "--bootstrap", "0", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["law"]["law"] == "data-constrained"
    assert math.isclose(record["params"]["R_D_star"], fit.params["R_D_star"], rel_tol=1e-6)


def test_cli_paper_procedure(capsys):
    args = ["fit", "dataset:datablations", "--approach", "data-constrained", "--bootstrap", "0"]
    assert main([*args, "--base", "muennighoff2023", "--decay-starts", "6.6667", "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert params["R_D_star"] == pytest.approx(15.39, rel=3e-3)
    assert params["R_N_star"] == pytest.approx(5.31, rel=3e-3)


def _cli_error(args, capsys):
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "\n" not in err, err
    return err


def test_cli_bad_input_exits_2_with_one_sentence(tmp_path, capsys):
    base = ["fit", "--approach", "data-constrained", "--bootstrap", "0"]
    path = tmp_path / "a.csv"
    path.write_text("N,D,U,L\n1e8,1e9,1e9,3.0\n2e8,1e9,0,2.9\n")
    assert "column 'U': 0 is not greater than 0" in _cli_error([*base, str(path)], capsys)
    runs = synthetic_runs()
    runs.drop(columns="U").to_csv(path, index=False)
    assert '--columns "U=<column>"' in _cli_error([*base, str(path)], capsys)
    runs[runs["D"] > runs["U"]].to_csv(path, index=False)
    err = _cli_error([*base, str(path)], capsys)
    assert "has 0 of its 72 rows; at least 5 are needed" in err and "--base" in err
    runs[runs["D"] <= runs["U"]].to_csv(path, index=False)
    assert "R_D* cannot be identified" in _cli_error([*base, str(path)], capsys)
    assert "--law does not apply" in _cli_error([*base, str(path), "--law", "kaplan"], capsys)


def test_registered_as_an_approach():
    assert estimator_class("data-constrained") is DataConstrainedFit
