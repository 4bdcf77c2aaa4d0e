"""Run tables: loading, column recognition, validation messages, filters, identifiability."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglaws.errors import DataError, FitError, ScalingLawsWarning
from scalinglaws.runs import Runs, as_runs, load_runs, require_identifiable


def _write(tmp_path: Path, text: str, name: str = "runs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GRID = pd.DataFrame(
    {
        "params": [1e8, 1e8, 4e8, 4e8, 1.6e9, 1.6e9],
        "tokens": [2e9, 8e9, 2e9, 8e9, 2e9, 8e9],
        "loss": [3.40, 3.21, 3.15, 2.96, 3.02, 2.80],
    }
)


# ----------------------------------------------------------------------------- real data
def test_chinchilla_fig4_columns_and_replication_filter(shared_data):
    path = shared_data("chinchilla_fig4_epoch2024.csv")
    raw = pd.read_csv(path)
    runs = load_runs(path, drop_highest=5)
    assert runs.column_map == {"N": "Model Size", "C": "Training FLOP", "L": "loss"}
    assert runs.derived == {"D": "C/(6·N)"}
    assert len(runs) == 240  # the 240 points Besiroglu et al. fit
    # the five dropped rows are exactly the five largest losses of the file
    dropped = raw.loc[~raw["loss"].isin(runs.L), "loss"].sort_values()
    assert list(dropped) == sorted(raw["loss"].nlargest(5))
    np.testing.assert_allclose(runs.D, runs.C / (6 * runs.N), rtol=1e-15)
    assert runs.L.max() < raw["loss"].nlargest(5).min()
    assert "dropped the 5 highest losses" in runs.filters[0]
    assert not runs.has_curves and runs.n_runs == 240 and runs.df["is_final"].all()


def test_pythia_curves_grouped_into_runs_by_size_and_seed(shared_data):
    path = shared_data("pythia_train_loss.csv")
    raw = pd.read_csv(path)
    # N is the model size in words ("14m"); D the tokens so far; no C column
    runs = load_runs(path, columns={"N": "model_size", "L": "train_lm_loss"})
    assert runs.column_map["D"] == "tokens_approx" and runs.column_map["step"] == "step"
    assert runs.has_curves
    assert runs.n_runs == raw.groupby(["model_size", "seed"]).ngroups
    final = runs.final()
    assert len(final) == runs.n_runs
    last_steps = raw.groupby(["model_size", "seed"])["step"].max().sort_values().to_numpy()
    np.testing.assert_array_equal(np.sort(final.df["step"].to_numpy()), last_steps)


# ----------------------------------------------------------------------------- formats
def test_two_of_N_D_C_give_the_third(tmp_path):
    path = tmp_path / "runs.csv"
    GRID.to_csv(path, index=False)
    runs = load_runs(path)
    np.testing.assert_allclose(runs.C, 6 * GRID["params"] * GRID["tokens"])
    runs8 = load_runs(path, flops_per_param_token=8)
    np.testing.assert_allclose(runs8.C, 8 * GRID["params"] * GRID["tokens"])
    assert runs8.describe()["flops convention"] == "C = 8·N·D"
    # N and C given: N recovered exactly from C / (6 D)
    frame = pd.DataFrame({"C": runs.C, "D": runs.D, "L": runs.L})
    np.testing.assert_allclose(load_runs(frame).N, GRID["params"], rtol=1e-14)


def test_parquet_jsonl_and_json_array_read_the_same(tmp_path):
    # pyarrow is in the [dev] extra that `make test` installs: without it this fails
    GRID.to_parquet(tmp_path / "runs.parquet")
    GRID.to_json(tmp_path / "runs.jsonl", orient="records", lines=True)
    GRID.to_json(tmp_path / "runs.json", orient="records")
    ref = load_runs(GRID)
    for name in ("runs.parquet", "runs.jsonl", "runs.json"):
        got = load_runs(tmp_path / name)
        np.testing.assert_array_equal(got.L, ref.L)
        np.testing.assert_array_equal(got.C, ref.C)


def test_explicit_mapping_string_dict_and_config_files(tmp_path):
    path = _write(tmp_path, "Model Size,Training FLOP,my loss\n1e8,1.2e18,3.3\n4e8,4.8e18,3.0\n")
    by_string = load_runs(path, columns="N=Model Size, C=Training FLOP, L=my loss")
    by_dict = load_runs(path, columns={"N": "Model Size", "C": "Training FLOP", "L": "my loss"})
    _write(tmp_path, "columns:\n  N: Model Size\n  C: Training FLOP\n  L: my loss\n", "map.yaml")
    _write(tmp_path, 'N = "Model Size"\nC = "Training FLOP"\nL = "my loss"\n', "map.toml")
    by_yaml = load_runs(path, columns=str(tmp_path / "map.yaml"))
    by_toml = load_runs(path, columns=str(tmp_path / "map.toml"))
    for runs in (by_string, by_dict, by_yaml, by_toml):
        assert runs.column_map == {"N": "Model Size", "C": "Training FLOP", "L": "my loss"}
        np.testing.assert_allclose(runs.D, [1.2e18 / 6e8, 4.8e18 / 24e8])
    assert "N ← 'Model Size'" in by_string.mapping_text()


def test_human_quantities_in_N_column(tmp_path):
    path = _write(tmp_path, "params,tokens,loss\n70M,1.4B,3.5\n1.4B,28B,2.9\n")
    runs = load_runs(path)
    np.testing.assert_allclose(runs.N, [7e7, 1.4e9])
    np.testing.assert_allclose(runs.D, [1.4e9, 2.8e10])


def test_dataframe_with_own_index_is_named_by_label():
    frame = GRID.copy()
    frame.index = [f"r{i}" for i in range(len(frame))]
    frame.loc["r3", "loss"] = -1.0
    with pytest.raises(DataError, match=r"index 'r3', column 'loss': -1 is not greater than 0"):
        load_runs(frame)


# ----------------------------------------------------------------------------- bad input
def test_missing_loss_column_lists_present_and_suggests(tmp_path):
    path = _write(tmp_path, "params,tokens,lm_loss_val\n1e8,2e9,3.3\n")
    with pytest.raises(DataError) as err:
        load_runs(path)
    msg = str(err.value)
    assert "has no column for loss (L)" in msg
    assert "columns present: params, tokens, lm_loss_val" in msg
    assert 'columns="L=lm_loss_val"' in msg and "--" not in msg  # the argument, not the flag
    assert err.value.argument == "columns"


def test_one_of_N_D_C_is_not_enough(tmp_path):
    path = _write(tmp_path, "flops,loss\n1e18,3.3\n")
    with pytest.raises(DataError, match=r"two of N, D, C are needed"):
        load_runs(path)


@pytest.mark.parametrize(
    "cell, problem",
    [
        ("abc", "'abc' is not a number"),
        ("", "the cell is empty"),
        ("nan", "the value is missing ('nan')"),
        ("NA", "the value is missing ('NA')"),
        ("inf", "the value is infinite"),
        ("-2.5", "-2.5 is not greater than 0"),
        ("0", "0 is not greater than 0"),
    ],
)
def test_bad_cell_names_file_row_and_column(tmp_path, cell, problem):
    path = _write(tmp_path, f"params,tokens,loss\n1e8,2e9,3.3\n4e8,2e9,3.1\n4e8,8e9,{cell}\n")
    with pytest.raises(DataError) as err:
        load_runs(path)
    assert str(err.value) == (
        f"{path}, data row 3 (line 4), column 'loss': {problem}; every value of L (loss) "
        "must be a finite number greater than 0"
    )


def test_bad_line_in_jsonl_is_named_by_file_line(tmp_path):
    text = '{"N": 1e8, "D": 2e9, "L": 3.3}\n\n{"N": 4e8, "D": 2e9, "L": "x"}\n'
    path = _write(tmp_path, text, "runs.jsonl")
    with pytest.raises(DataError, match=r"line 3, column 'L': 'x' is not a number"):
        load_runs(path)
    _write(tmp_path, '{"N": 1e8, "D": 2e9, "L": 3.3}\n{"N": 4e8,\n', "broken.jsonl")
    with pytest.raises(DataError, match=r"broken.jsonl, line 2: not valid JSON"):
        load_runs(tmp_path / "broken.jsonl")


def test_counts_further_bad_cells(tmp_path):
    path = _write(tmp_path, "N,D,L\n1e8,x,3\n1e8,y,3\n1e8,z,3\n")
    with pytest.raises(DataError, match=r"data row 1 .* \(2 more bad cells in this column\)"):
        load_runs(path)


def test_duplicated_rows_are_named(tmp_path):
    path = _write(tmp_path, "N,D,L\n1e8,2e9,3.3\n4e8,2e9,3.1\n1e8,2e9,3.3\n")
    with pytest.raises(DataError, match=r"data row 1 \(line 2\) and data row 3 \(line 4\)"):
        load_runs(path)


def test_same_checkpoint_twice_in_a_run(tmp_path):
    path = _write(tmp_path, "run,N,D,L\na,1e8,1e9,3.5\na,1e8,2e9,3.3\na,1e8,2e9,3.2\n")
    with pytest.raises(DataError, match=r"run 'a' has two measurements at the same D"):
        load_runs(path)


@pytest.mark.parametrize(
    "source, pattern",
    [
        ("nope.csv", r"runs file .*nope.csv does not exist"),
        ("runs.txt", r"has extension '.txt'; runs can be read from .csv"),
    ],
)
def test_bad_paths(tmp_path, source, pattern):
    (tmp_path / "runs.txt").write_text("N,D,L\n")
    with pytest.raises(DataError, match=pattern):
        load_runs(tmp_path / source)


@pytest.mark.parametrize(
    "columns, pattern",
    [
        ("N", r"cannot read the column mapping 'N' at 'N'; write it as comma-separated"),
        ("N=,L=loss", r"at 'N='"),
        ("Q=params", r"unknown column key 'Q'"),
        ("loss=params", r"unknown column key 'loss'"),
        ("N=Params", r"has no column 'Params' \(mapped to N\).*did you mean 'params'\?"),
    ],
)
def test_bad_column_mappings(tmp_path, columns, pattern):
    path = tmp_path / "runs.csv"
    GRID.to_csv(path, index=False)
    with pytest.raises(DataError, match=pattern):
        load_runs(path, columns=columns)


def test_inconsistent_flops_warn_with_ratio(tmp_path):
    frame = GRID.assign(flops=6 * GRID["params"] * GRID["tokens"])
    frame.loc[2, "flops"] *= 1.5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = load_runs(frame)
    codes = [w.message.code for w in caught if isinstance(w.message, ScalingLawsWarning)]
    assert codes == ["SL-RUNS-FLOPS-MISMATCH"]
    text = str(caught[0].message)
    assert "1 of 6 rows" in text and "worst 1.5 at row 3" in text
    assert runs.C[2] == pytest.approx(1.5 * 6 * 4e8 * 2e9)  # used as given
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_runs(frame, flops_tolerance=0.6)  # within tolerance: silent


# ----------------------------------------------------------------------------- filters
def _curves(tmp_path: Path) -> Path:
    rows = ["run,N,D,L"]
    for run, n in (("s", 1e8), ("m", 4e8)):
        for i, d in enumerate((1e9, 2e9, 4e9, 8e9)):
            rows.append(f"{run},{n:g},{d:g},{4.0 - 0.1 * i - (0.2 if run == 'm' else 0)}")
    return _write(tmp_path, "\n".join(rows) + "\n")


def test_curves_final_and_min_fraction(tmp_path):
    runs = load_runs(_curves(tmp_path))
    assert runs.has_curves and runs.n_runs == 2 and len(runs) == 8
    assert list(runs.df.loc[runs.df["is_final"], "D"]) == [8e9, 8e9]
    final = load_runs(_curves(tmp_path), final_only=True)
    assert len(final) == 2 and not final.has_curves
    assert final.filters == ["kept final checkpoints only (dropped 6 intermediate rows)"]
    late = load_runs(_curves(tmp_path), min_fraction=0.5)
    assert sorted(set(late.D)) == [4e9, 8e9] and len(late) == 4
    assert late.filters == ["dropped 4 checkpoints before 0.5 of their run's final tokens D"]


def test_drop_highest_drops_exactly_the_k_largest():
    losses = np.array([3.0, 5.0, 2.5, 4.0, 2.0, 3.5])
    frame = pd.DataFrame({"N": np.arange(1, 7) * 1e8, "D": 1e9, "L": losses})
    runs = load_runs(frame, drop_highest=2)
    assert sorted(runs.L) == [2.0, 2.5, 3.0, 3.5]
    assert runs.filters == ["dropped the 2 highest losses (L >= 4; rows 2, 4)"]
    with pytest.raises(DataError, match="would drop every one of the 6 rows"):
        load_runs(frame, drop_highest=6)
    with pytest.raises(DataError, match=r"min_fraction must be in \[0, 1\)"):
        load_runs(frame, min_fraction=1.5)


def test_subset_records_note_and_as_runs_passes_through():
    runs = load_runs(GRID)
    assert as_runs(runs) is runs
    small = runs.subset(runs.N < 1e9, "kept N < 1e9")
    assert len(small) == 4 and small.filters == ["kept N < 1e9"]
    assert isinstance(as_runs(GRID), Runs) and len(as_runs(GRID)) == 6


# ----------------------------------------------------------------------------- identifiability
def test_require_identifiable():
    require_identifiable(load_runs(GRID), ("N", "D"), min_distinct=2)
    with pytest.raises(FitError, match=r"only 2 distinct value\(s\) of D .* at least 3"):
        require_identifiable(load_runs(GRID), ("N", "D"), min_distinct=3)
    # every run at 20 tokens per parameter: N and D confounded
    n = np.array([1e8, 2e8, 4e8, 8e8])
    frame = pd.DataFrame({"N": n, "D": 20 * n, "L": [3.3, 3.1, 2.9, 2.8]})
    with pytest.raises(FitError, match=r"about 20 tokens per parameter"):
        require_identifiable(frame, ("N", "D"))
    with pytest.raises(FitError, match=r"4 rows, too few to fit 5 parameters"):
        require_identifiable(load_runs(GRID).subset(np.arange(6) < 4, "first 4"), ("N",), 2, 5)


def test_several_loss_columns_warn_and_say_which_was_used():
    frame = GRID.assign(train_loss=GRID["loss"] - 0.1).rename(columns={"loss": "val_loss"})
    frame = frame[["params", "tokens", "train_loss", "val_loss"]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = load_runs(frame)
    assert runs.column_map["L"] == "val_loss"  # val_loss is preferred over train_loss
    np.testing.assert_array_equal(runs.L, GRID["loss"])
    assert [w.message.code for w in caught] == ["SL-RUNS-AMBIGUOUS-COLUMN"]
    assert "using 'val_loss'" in str(caught[0].message)
    assert load_runs(frame, columns="L=train_loss").L[0] == pytest.approx(3.30)
