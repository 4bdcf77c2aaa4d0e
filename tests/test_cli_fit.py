"""`scalinglaws fit` and `scalinglaws backtest` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglaws import ChinchillaLaw, Fit
from scalinglaws.cli import main
from scalinglaws.fit.parametric import Approach3
from scalinglaws.runs import load_runs

HOFFMANN = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)
COLUMNS = "N=Model Size,C=Training FLOP,L=eval loss"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str) -> str:
    """The single 'error: ...' line, asserting there is nothing else (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def grid_csv(tmp_path) -> Path:
    """Runs on a grid of N x tokens-per-parameter from Hoffmann's law, 0.3% log-normal noise,
    with the user's own column names."""
    rng = np.random.default_rng(0)
    N = np.repeat(np.geomspace(5e7, 5e9, 8), 6)
    D = N * np.tile(np.geomspace(5, 160, 6), 8)
    L = HOFFMANN(N=N, D=D) * np.exp(0.003 * rng.standard_normal(N.size))
    path = tmp_path / "grid.csv"
    pd.DataFrame({"Model Size": N, "Training FLOP": 6 * N * D, "eval loss": L}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture
def isoflop_csv(tmp_path) -> Path:
    """IsoFLOP profiles: 6 budgets x 9 model sizes around the optimum, exact Hoffmann losses."""
    rows = []
    for c in np.geomspace(1e18, 1e21, 6):
        n_opt = HOFFMANN.G * (c / 6) ** HOFFMANN.a
        for n in n_opt * np.geomspace(1 / 4, 4, 9):
            rows.append({"params": n, "flops": c, "loss": float(HOFFMANN(N=n, D=c / (6 * n)))})
    path = tmp_path / "isoflop.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- bad input
def test_nonexistent_file(tmp_path, capsys):
    code, out, err = run(["fit", tmp_path / "missing.csv"], capsys)
    assert code == 2
    assert one_error(err) == f"error: runs file {tmp_path / 'missing.csv'} does not exist"


def test_wrong_extension(tmp_path, capsys):
    path = tmp_path / "runs.xlsx"
    path.write_text("N,D,L\n")
    code, _, err = run(["fit", path], capsys)
    assert code == 2
    assert "has extension '.xlsx'; runs can be read from .csv" in one_error(err)


def test_missing_column_suggests_mapping(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("Model Size,Training FLOP,final_nll\n1e8,1e18,3.1\n")
    code, _, err = run(["fit", path], capsys)
    assert code == 2
    line = one_error(err)
    assert "has no column for loss (L)" in line
    assert "columns present: Model Size, Training FLOP, final_nll" in line
    assert '--columns "L=final_nll"' in line


def test_non_numeric_cell_names_file_row_column(tmp_path, capsys):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n1e8,2e9,3.3\n2e8,2e9,oops\n")
    code, _, err = run(["fit", path], capsys)
    assert code == 2
    assert one_error(err) == (
        f"error: {path}, data row 2 (line 3), column 'loss': 'oops' is not a number; every "
        "value of L (loss) must be a finite number greater than 0"
    )


def test_bad_columns_syntax(grid_csv, capsys):
    code, _, err = run(["fit", grid_csv, "--columns", "N:Model Size"], capsys)
    assert code == 2
    assert "cannot read the column mapping 'N:Model Size'" in one_error(err)
    assert "KEY=COLUMN" in err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--approach", "4"], "unknown approach '4' for --approach"),
        (["--approach", "powr"], "did you mean 'power'?"),
        (["--level", "95"], "--level must be between 0 and 1, got '95'"),
        (["--budgets", "1e22,abc"], "--budgets"),
        (["--min-fraction", "1.5"], "--min-fraction must be in [0, 1)"),
        (["--degree", "2"], "--degree does not apply to --approach 3"),
    ],
)
def test_bad_flags(grid_csv, capsys, flags, message):
    cols = ["--columns", "N=Model Size,C=Training FLOP,L=eval loss"]
    code, _, err = run(["fit", grid_csv, *cols, *flags], capsys)
    assert code == 2
    assert message in one_error(err)


def test_unknown_option_is_one_sentence(grid_csv, capsys):
    code, _, err = run(["fit", grid_csv, "--bootstrapp", "3"], capsys)
    assert code == 2
    assert "No such option '--bootstrapp'" in one_error(err)


# ----------------------------------------------------------------------------- fits
def test_fit_approach3_prints_mapping_table_and_writes_json(grid_csv, tmp_path, capsys):
    out_json = tmp_path / "fit.json"
    argv = [
        "fit", grid_csv, "--columns", "N=Model Size,C=Training FLOP,L=eval loss",
        "--bootstrap", "20", "--budgets", "1e22,5.76e23", "-o", out_json,
    ]  # fmt: skip
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "columns: N ← 'Model Size', C ← 'Training FLOP', L ← 'eval loss', D = C/(6·N)" in out
    assert "parameters" in out and "std err" in out and "95% interval" in out
    fit = Fit.from_json(out_json)
    assert fit.approach == "3"
    # the CLI passed every option through: the same fit as the Python API gives
    api = Approach3().fit(load_runs(grid_csv, columns=COLUMNS))
    for name, value in api.params.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6), name
    assert fit.allocate(1e22).N == pytest.approx(api.allocate(1e22).N, rel=1e-6)
    # and the data follow Hoffmann's law (0.3% noise): exponents and allocation recovered
    assert fit.params["alpha"] == pytest.approx(HOFFMANN.alpha, abs=0.03)
    assert fit.params["beta"] == pytest.approx(HOFFMANN.beta, abs=0.03)
    assert fit.derived["a"] == pytest.approx(HOFFMANN.a, abs=0.02)
    assert "N_opt@5.76e+23" in out and "alpha" in fit.stderr
    saved = fit.allocate(5.76e23)  # the saved fit answers the budget, with its interval
    assert np.isfinite(saved.N) and set(saved.intervals) == {"N", "D", "L"}
    assert saved.intervals["N"][0] < saved.N < saved.intervals["N"][1]
    assert fit.data["columns"].startswith("N ← 'Model Size'")


def test_fit_chinchilla_fig4_end_to_end(tmp_path, capsys, shared_data):
    path = shared_data("chinchilla_fig4_epoch2024.csv")
    out_json = tmp_path / "fig4.json"
    argv = ["fit", path, "--drop-highest", "5", "--bootstrap", "20", "-o", out_json]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "240 rows" in out and "filter: dropped the 5 highest losses" in out
    fit = Fit.from_json(out_json)
    # Besiroglu et al. 2024's Huber optimum on these 240 points:
    # E 1.8172, A 477.8, B 2143, alpha 0.3473, beta 0.3672
    assert fit.params["E"] == pytest.approx(1.8172, abs=0.02)
    assert fit.params["alpha"] == pytest.approx(0.3473, abs=0.01)
    assert fit.params["beta"] == pytest.approx(0.3672, abs=0.01)
    assert fit.data["rows"] == 240


def test_fit_approach2_on_isoflop_profiles(isoflop_csv, capsys):
    code, out, err = run(["fit", isoflop_csv, "--approach", "2", "--json"], capsys)
    assert code == 0, err
    record = json.loads(out)
    assert record["approach"] == "2"
    assert record["derived"]["a"] == pytest.approx(HOFFMANN.a, abs=0.02)


def test_fit_power_law_in_C_on_the_frontier(isoflop_csv, capsys):
    argv = ["fit", isoflop_csv, "--approach", "power", "--variable", "C", "--frontier"]
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    assert "columns: N ← 'params', C ← 'flops', L ← 'loss'" in err  # stdout is pure JSON
    record = json.loads(out)
    # Hoffmann's law at its optimum is exactly L*(C) = E + K C^-(alpha beta / (alpha + beta)),
    # and every profile here contains its optimal size
    exponent = HOFFMANN.alpha * HOFFMANN.beta / (HOFFMANN.alpha + HOFFMANN.beta)
    assert record["params"]["alpha"] == pytest.approx(exponent, abs=2e-3)
    assert record["params"]["E"] == pytest.approx(HOFFMANN.E, abs=0.01)
    code, out, err = run([*argv[:-1]], capsys)
    assert code == 0 and "approach power" in out and "NOT_A_FRONTIER" in out


def test_fit_approach1_on_training_curves(tmp_path, capsys):
    rows = []
    for i, n in enumerate(np.geomspace(3e7, 3e10, 13)):
        for step, d in enumerate(np.geomspace(1e8, 400 * n, 25), start=1):
            rows.append({"run": f"m{i}", "step": step, "params": n, "tokens": d})
    frame = pd.DataFrame(rows)
    frame["loss"] = HOFFMANN(N=frame["params"].to_numpy(), D=frame["tokens"].to_numpy())
    path = tmp_path / "curves.csv"
    frame.to_csv(path, index=False)
    code, out, err = run(["fit", path, "--approach", "1", "--json"], capsys)
    assert code == 0, err
    assert "run_id ← 'run'" in err and "step ← 'step'" in err
    record = json.loads(out)
    # the envelope of Hoffmann-law curves: N* ∝ C^a with a = beta / (alpha + beta) = 0.4565,
    # L* = E + K C^-(alpha beta / (alpha + beta)); N is sampled 1.78x apart, hence abs=0.02
    assert record["derived"]["a"] == pytest.approx(HOFFMANN.a, abs=0.02)
    exponent = HOFFMANN.alpha * HOFFMANN.beta / (HOFFMANN.alpha + HOFFMANN.beta)
    assert record["params"]["alpha"] == pytest.approx(exponent, abs=5e-3)


def test_flops_mismatch_is_printed_as_a_coded_warning(tmp_path, capsys):
    N = np.repeat(np.geomspace(1e8, 1e9, 4), 4)
    D = N * np.tile([5.0, 10.0, 20.0, 40.0], 4)
    frame = pd.DataFrame({"N": N, "D": D, "C": 8 * N * D, "L": HOFFMANN(N=N, D=D)})
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    code, _, err = run(["fit", path, "--approach", "power"], capsys)
    assert code == 0
    assert "warning: [SL-RUNS-FLOPS-MISMATCH] 16 of 16 rows" in err
    assert "e.g. 8" in err


# ----------------------------------------------------------------------------- backtest
def test_backtest_command(grid_csv, tmp_path, capsys):
    out_json = tmp_path / "bt.json"
    argv = [
        "backtest", grid_csv, "--columns", "N=Model Size,C=Training FLOP,L=eval loss",
        "--cut-quantile", "0.8", "--bootstrap", "20", "-o", out_json,
    ]  # fmt: skip
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "cut: C <=" in out and "coverage:" in out
    record = json.loads(out_json.read_text())
    assert record["n_test_runs"] == len(record["held_out"]) >= 8
    assert record["mean_abs_rel_error"] < 0.02


def test_backtest_cut_outside_the_data(grid_csv, capsys):
    cols = ["--columns", "N=Model Size,C=Training FLOP,L=eval loss"]
    code, _, err = run(["backtest", grid_csv, *cols, "--cut", "1e30"], capsys)
    assert code == 2
    assert "final C above the cut 1e+30 FLOPs" in one_error(err)


@pytest.mark.slow
def test_fit_approach_auto_prints_candidates_and_round_trips(isoflop_csv, tmp_path, capsys):
    out_json = tmp_path / "auto.json"
    code, out, err = run(
        [
            "fit",
            isoflop_csv,
            "--columns",
            "N=params,C=flops,L=loss",
            "--approach",
            "auto",
            "--budgets",
            "1e23",
            "-o",
            out_json,
        ],
        capsys,
    )
    assert code == 0, err
    assert "candidates (nested backtest; weights at the data and at 10x" in out
    for key in ("chinchilla-constrained", "kaplan", "approach2", "frontier"):
        assert key in out
    assert "N_opt@1e+23" in out
    fit = Fit.from_json(out_json.read_text())
    assert fit.approach == "auto"
    # without --bootstrap the command line draws what the API draws by default
    from scalinglaws.fit.auto import AutoFit
    from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP

    assert fit.extra["auto"]["bootstrap"]["replicates"] == AutoFit().n_bootstrap
    assert AutoFit().n_bootstrap == DEFAULT_BOOTSTRAP == 100
    weights = [v for k, v in fit.params.items() if k.startswith("w[")]
    assert len(weights) == 5 and abs(sum(weights) - 1) < 1e-9
    # the saved ensemble predicts the exact law it was fitted to
    n_opt = HOFFMANN.G * (1e20 / 6) ** HOFFMANN.a
    assert (
        abs(fit.law(N=n_opt, D=1e20 / (6 * n_opt)) / HOFFMANN(N=n_opt, D=1e20 / (6 * n_opt)) - 1)
        < 0.01
    )


def test_auto_only_flag_is_refused_elsewhere(isoflop_csv, capsys):
    code, _, err = run(
        ["fit", isoflop_csv, "--columns", "N=params,C=flops,L=loss", "--candidates", "kaplan"],
        capsys,
    )
    assert code == 2
    assert (
        "--candidates does not apply to --approach 3; it applies to --approach auto"
        in one_error(err)
    )


def test_backtest_approach_auto_compares_with_the_standard_recipe(isoflop_csv, capsys):
    code, out, err = run(
        [
            "backtest",
            isoflop_csv,
            "--columns",
            "N=params,C=flops,L=loss",
            "--approach",
            "auto",
            "--candidates",
            "chinchilla,frontier",
        ],
        capsys,
    )
    assert code == 0, err
    assert "standard recipe (Approach 3" in out
    assert "auto / standard =" in out
    assert "the automatic fit on the runs below the cut" in out


def test_predict_from_a_bootstrapped_fit_prints_intervals(grid_csv, tmp_path, capsys):
    out_json = tmp_path / "fit.json"
    columns = ["--columns", COLUMNS]
    code, _, err = run(["fit", grid_csv, *columns, "--bootstrap", "30", "-o", out_json], capsys)
    assert code == 0, err
    code, out, err = run(
        [
            "predict",
            "--fit",
            out_json,
            "--params",
            "1B",
            "--tokens",
            "20B",
            "--json",
            "--level",
            "0.9",
        ],
        capsys,
    )
    assert code == 0, err
    record = json.loads(out)
    row = record["rows"][0]
    assert record["level"] == 0.9 and "parameter uncertainty only" in record["interval"]
    assert row["L_low"] < row["L"] < row["L_high"]
    # the interval is the replicates' percentile interval, computed independently here
    fit = Fit.from_json(out_json.read_text())
    draws = [float(r(N=1e9, D=20e9)) for r in fit.replicate_laws()]
    assert len(draws) >= 25
    assert row["L_low"] == pytest.approx(np.percentile(draws, 5), rel=1e-12)
    assert row["L_high"] == pytest.approx(np.percentile(draws, 95), rel=1e-12)
    # the truth the runs were drawn from lies inside
    assert row["L_low"] < float(HOFFMANN(N=1e9, D=20e9)) < row["L_high"]


def test_predict_from_an_auto_fit_uses_its_calibrated_intervals(isoflop_csv, tmp_path, capsys):
    out_json = tmp_path / "auto.json"
    code, _, err = run(
        [
            "fit",
            isoflop_csv,
            "--columns",
            "N=params,C=flops,L=loss",
            "--approach",
            "auto",
            "--candidates",
            "chinchilla,frontier",
            "--bootstrap",
            "10",
            "-o",
            out_json,
        ],
        capsys,
    )
    assert code == 0, err
    code, out, err = run(["predict", "--fit", out_json, "--compute", "1e22", "--json"], capsys)
    assert code == 0, err
    record = json.loads(out)
    row = record["rows"][0]
    assert "out-of-sample" in record["interval"]
    assert row["L_low"] <= row["L"] <= row["L_high"]
    from scalinglaws.fit.auto import AutoFitResult

    opt = AutoFitResult.from_fit(Fit.from_json(out_json.read_text())).optimum(1e22)
    assert row["N"] == pytest.approx(opt["N_opt"]) and row["L_high"] == pytest.approx(
        opt["L_opt_high"]
    )


def test_predict_level_is_checked(capsys):
    code, _, err = run(["predict", "--params", "7B", "--tokens", "1T", "--level", "2"], capsys)
    assert code == 2 and "--level must be a number between 0 and 1" in one_error(err)


# ----------------------------------------------------------------------------- approach 2 flags
@pytest.fixture
def uneven_isoflop_csv(tmp_path) -> Path:
    """Exact Hoffmann losses at 6 budgets: the smallest (1e18) samples only 5 sizes around
    its optimum, the largest (1e21) 9 sizes all 2-16x above it (its minimum is at the edge),
    the others 9 sizes around it."""
    rows = []
    budgets = np.geomspace(1e18, 1e21, 6)
    for i, c in enumerate(budgets):
        n_opt = HOFFMANN.G * (c / 6) ** HOFFMANN.a
        factors = np.geomspace(1 / 4, 4, 5 if i == 0 else 9)
        if i == len(budgets) - 1:
            factors = np.geomspace(2, 16, 9)
        for n in n_opt * factors:
            rows.append({"params": n, "flops": c, "loss": float(HOFFMANN(N=n, D=c / (6 * n)))})
    path = tmp_path / "uneven.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def fit_record(path: Path, flags: list[str], capsys) -> dict:
    code, out, err = run(["fit", path, "--approach", "2", *flags, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def codes(record: dict) -> dict[str, str]:
    return {d["code"]: d["message"] for d in record["diagnostics"]}


def test_approach2_defaults_keep_every_budget(uneven_isoflop_csv, capsys):
    record = fit_record(uneven_isoflop_csv, [], capsys)
    assert record["method"]["profiles"].startswith("degree-2 polynomial of L in ln N")
    assert record["method"]["budgets"].startswith("6 used of 6 fitted;")
    assert "TOO_FEW_POINTS" not in codes(record)
    assert codes(record)["EDGE_MINIMUM"].startswith("1 of 6 IsoFLOP profiles")


def test_min_sizes_skips_the_sparse_budget(uneven_isoflop_csv, capsys):
    record = fit_record(uneven_isoflop_csv, ["--min-sizes", "6"], capsys)
    assert record["method"]["budgets"].startswith("5 used of 5 fitted, 1 skipped;")
    assert codes(record)["TOO_FEW_POINTS"] == (
        "skipped 1 budget(s) with fewer than 6 distinct model sizes (5 runs): C (sizes) 1e+18 (5)"
    )
    assert [p["C"] for p in record["extra"]["profiles"]][0] == pytest.approx(1e18 * 10**0.6)


def test_profile_akima_is_the_estimators_spline_fit(uneven_isoflop_csv, capsys):
    from scalinglaws.fit.isoflop import Approach2

    record = fit_record(uneven_isoflop_csv, ["--profile", "akima"], capsys)
    assert record["method"]["profiles"].startswith("Akima spline of ln L in ln N per budget")
    api = Approach2(profile="akima").fit(load_runs(uneven_isoflop_csv))
    assert record["derived"]["a"] == pytest.approx(api.derived["a"], rel=1e-9)
    # the spline's minima differ from the parabola's: the flag reached the estimator
    parabola = Approach2().fit(load_runs(uneven_isoflop_csv))
    assert abs(api.derived["a"] - parabola.derived["a"]) > 1e-4


def test_window_degree_drop_edge_and_offset_reach_the_estimator(uneven_isoflop_csv, capsys):
    record = fit_record(uneven_isoflop_csv, ["--window", "2.5", "--degree", "3"], capsys)
    assert record["method"]["profiles"] == (
        "degree-3 polynomial of L in ln N per budget, minimum over the sampled sizes within a "
        "factor 2.5 of the lowest loss"
    )
    record = fit_record(uneven_isoflop_csv, ["--drop-edge"], capsys)
    assert record["method"]["budgets"].startswith("5 used of 6 fitted;")
    assert "they were left out of the fits" in codes(record)["EDGE_MINIMUM"]
    record = fit_record(uneven_isoflop_csv, ["--no-loss-offset"], capsys)
    assert record["method"]["loss"].startswith("A·C^-alpha fitted")
    assert record["params"]["E"] == 0


def test_isoflop_budgets_leave_other_runs_out(uneven_isoflop_csv, capsys):
    record = fit_record(uneven_isoflop_csv, ["--isoflop-budgets", "1e18,1e21"], capsys)
    assert record["method"]["budgets"].startswith("2 used of 2 fitted;")
    assert codes(record)["OUTSIDE_BUDGETS"].startswith("36 runs are not within a factor 1.05")


def test_backtest_takes_the_approach2_flags(uneven_isoflop_csv, capsys):
    argv = ["backtest", uneven_isoflop_csv, "--approach", "2", "--cut-quantile", "0.7"]
    # 50 runs (5 at 1e18, then 9 a budget): the 0.7 quantile of their C is the 5th budget,
    # 2.5e20, so the fit sees 5 budgets, the 5-size one skipped under --min-sizes 6
    code, out, err = run([*argv, "--min-sizes", "6", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["fit"]["method"]["budgets"].startswith("4 used of 4 fitted, 1 skipped")
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["fit"]["method"]["budgets"].startswith("5 used of 5 fitted;")


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--profile", "akima"], "--profile does not apply to --approach 3; it applies to "
         "--approach 2"),
        (["--approach", "power", "--window", "3"], "--window does not apply to --approach "
         "power; it applies to --approach 2"),
        (["--approach", "1", "--min-sizes", "6"], "--min-sizes does not apply to --approach 1; "
         "it applies to --approach 2"),
        (["--drop-edge"], "--drop-edge does not apply to --approach 3; it applies to "
         "--approach 2"),
        (["--isoflop-budgets", "1e18"], "--isoflop-budgets does not apply to --approach 3; it "
         "applies to --approach 2"),
        (["--approach", "power", "--no-loss-offset"], "--no-loss-offset does not apply to "
         "--approach power; it applies to --approach 1 or 2"),
        (["--bin-tolerance", "0.1"], "--bin-tolerance does not apply to --approach 3; it "
         "applies to --approach 2 or auto"),
    ],
)  # fmt: skip
def test_approach2_flag_on_another_approach_is_refused(isoflop_csv, capsys, flags, message):
    code, out, err = run(["fit", isoflop_csv, *flags], capsys)
    assert code == 2
    assert one_error(err) == f"error: {message}"
    assert out == ""  # refused before the runs were read


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--profile", "akima", "--degree", "3"], "--degree sets the polynomial of --profile "
         "poly; --profile akima fits a spline through each profile and takes no degree"),
        (["--window", "0.5"], "--window must be greater than 1, got '0.5'"),
        (["--degree", "3", "--min-sizes", "3"], "--min-sizes must be a whole number >= 4 (the "
         "fewest sizes a degree-3 polynomial of L in ln N needs), got 3"),
        (["--degree", "1"], "--degree must be a whole number >= 2 (2 = a parabola in log N), "
         "got 1"),
        (["--bin-tolerance", "1.5"], "--bin-tolerance must be at least 0 and below 1 (a "
         "relative difference in C, e.g. 0.05), got '1.5'"),
        (["--profile", "spline"], "Invalid value for '--profile': 'spline' is not one of "
         "'poly', 'akima'"),
    ],
)  # fmt: skip
def test_bad_approach2_values_name_their_flag(isoflop_csv, capsys, flags, message):
    code, _, err = run(["fit", isoflop_csv, "--approach", "2", *flags], capsys)
    assert code == 2
    assert one_error(err).startswith(f"error: {message}")


def test_profile_choices_are_the_estimators():
    from scalinglaws.cli.options import PROFILES as _PROFILES
    from scalinglaws.fit.isoflop import PROFILE_METHODS

    assert tuple(_PROFILES) == tuple(PROFILE_METHODS)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--level", "95"], "error: --level must be between 0 and 1, got '95'"),
        (["--bin-tolerance", "x"], "error: --bin-tolerance must be a number, got 'x'"),
        (["--flops-per-token", "-6"], "error: --flops-per-token"),
    ],
)
def test_shared_options_parse_alike_in_fit_and_plot(isoflop_csv, tmp_path, capsys, flags, message):
    """--level, --bin-tolerance, --flops-per-token are one definition with one parser."""
    for argv in (
        ["fit", isoflop_csv, "--approach", "2"],
        ["plot", "isoflop", isoflop_csv, "-o", tmp_path / "iso.png"],
    ):
        code, _, err = run([*argv, *flags], capsys)
        assert code == 2
        assert one_error(err).startswith(message), argv
    assert not (tmp_path / "iso.png").exists()


def test_allocate_from_a_bootstrapped_fit_prints_intervals(grid_csv, tmp_path, capsys):
    from scalinglaws.allocation import allocate

    out_json = tmp_path / "fit.json"
    code, _, err = run(
        ["fit", grid_csv, "--columns", COLUMNS, "--bootstrap", "30", "-o", out_json], capsys
    )
    assert code == 0, err
    code, out, err = run(
        ["allocate", "--fit", out_json, "--compute", "1e21", "--level", "0.9", "--json"], capsys
    )
    assert code == 0, err
    record = json.loads(out)
    row = record["rows"][0]
    assert record["level"] == 0.9 and "parameter uncertainty only" in record["interval"]
    fit = Fit.from_json(out_json.read_text())
    n_draws = [float(allocate(r, C=1e21).N) for r in fit.replicate_laws()]
    assert row["N_low"] == pytest.approx(np.percentile(n_draws, 5), rel=1e-9)
    assert row["N_high"] == pytest.approx(np.percentile(n_draws, 95), rel=1e-9)
    assert row["N_low"] < row["N"] < row["N_high"]
    assert row["L_low"] < row["L"] < row["L_high"]
    truth = allocate(HOFFMANN, C=1e21)
    assert row["N_low"] < float(truth.N) < row["N_high"]


def test_allocate_from_an_auto_fit_uses_its_optimum(isoflop_csv, tmp_path, capsys):
    from scalinglaws.fit.auto import AutoFitResult

    out_json = tmp_path / "auto.json"
    code, _, err = run(
        ["fit", isoflop_csv, "--columns", "N=params,C=flops,L=loss", "--approach", "auto",
         "--candidates", "chinchilla,frontier", "--bootstrap", "10", "-o", out_json],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(["allocate", "--fit", out_json, "--compute", "1e22", "--json"], capsys)
    assert code == 0, err
    row = json.loads(out)["rows"][0]
    opt = AutoFitResult.from_fit(Fit.from_json(out_json.read_text())).optimum(1e22)
    assert row["N"] == pytest.approx(opt["N_opt"])
    assert (row["N_low"], row["N_high"]) == pytest.approx((opt["N_opt_low"], opt["N_opt_high"]))
    assert row["L_high"] == pytest.approx(opt["L_opt_high"])


def test_allocate_level_needs_a_budget(isoflop_csv, capsys):
    code, _, err = run(["allocate", "--params", "70B", "--level", "0.8"], capsys)
    assert code == 2 and "--level applies to a saved fit" in one_error(err)


def test_one_bootstrap_default_for_the_command_line_and_the_api(grid_csv, tmp_path, capsys):
    """Every estimator draws DEFAULT_BOOTSTRAP replicates unless told otherwise, and `fit`
    without --bootstrap does the same; --bootstrap 0 turns the intervals off."""
    from scalinglaws.fit.bootstrap import DEFAULT_BOOTSTRAP
    from scalinglaws.fit.envelope import Approach1
    from scalinglaws.fit.isoflop import Approach2
    from scalinglaws.fit.parametric import Approach3
    from scalinglaws.fit.powerlaw import PowerLawFit

    for cls in (Approach1, Approach2, Approach3, PowerLawFit):
        assert cls().n_bootstrap == DEFAULT_BOOTSTRAP, cls
    out_json = tmp_path / "fit.json"
    code, out, err = run(["fit", grid_csv, "--columns", COLUMNS, "-o", out_json], capsys)
    assert code == 0, err
    assert f"bootstrap: {DEFAULT_BOOTSTRAP} replicates" in out
    fit = Fit.from_json(out_json.read_text())
    assert len(fit.replicates["alpha"]) == DEFAULT_BOOTSTRAP == len(fit.replicates)
    code, out, err = run(["fit", grid_csv, "--columns", COLUMNS, "--bootstrap", "0"], capsys)
    assert code == 0 and "no standard errors" in out


def test_predict_says_how_far_beyond_the_data_each_request_lies(isoflop_csv, tmp_path, capsys):
    """A saved fit records its data's range: predict --fit gives C over the largest C of the
    runs for every row, and for an automatic fit how far its nested backtest checked."""
    cols = ["--columns", "N=params,C=flops,L=loss"]
    std_json, auto_json = tmp_path / "std.json", tmp_path / "auto.json"
    code, _, err = run(["fit", isoflop_csv, *cols, "--bootstrap", "0", "-o", std_json], capsys)
    assert code == 0, err
    code, out, err = run(
        ["predict", "--fit", std_json, "--params", "1B,30B", "--tokens", "10B,3.3T"], capsys
    )
    assert code == 0, err
    assert "beyond data" in out and "inside" in out
    assert "594x" in out  # 6 * 30e9 * 3.3e12 / 1e21
    assert "nothing in this fit measured its error that far out" in " ".join(out.split())
    code, _, err = run(
        ["fit", isoflop_csv, *cols, "--approach", "auto", "--candidates", "chinchilla,frontier",
         "--bootstrap", "10", "-o", auto_json],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(
        ["predict", "--fit", auto_json, "--params", "30B", "--tokens", "3.3T", "--json"], capsys
    )
    assert code == 0, err
    record = json.loads(out)
    assert record["rows"][0]["beyond_data"] == pytest.approx(594, rel=1e-3)
    assert "nested backtest checked extrapolation up to" in record["beyond_data"]
    assert "rather than measure it" in record["beyond_data"]
