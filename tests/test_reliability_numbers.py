"""Numbers too large, too small, too long or misleading (reliability audit, issue 11).

Each is refused at the boundary with one sentence that says the usable range, instead of a
traceback, an infinite result, a huge allocation or a silent second meaning.  Every test here
failed before its fix.
"""

from __future__ import annotations

import pandas as pd
import pytest

from scalinglaws import ChinchillaLaw, load_runs
from scalinglaws.errors import DataError, QuantityError
from scalinglaws.flops import Architecture, flops_per_token
from scalinglaws.hardware import estimate_budget
from scalinglaws.units import parse_quantities, parse_quantity
from scalinglaws.validate import MAX_BOOTSTRAP, check_common
from test_bad_input import one_error, run

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
ARCH = ["--d-model", "4096", "--heads", "32", "--vocab", "32000", "--context", "2048"]


@pytest.fixture
def runs_csv(tmp_path):
    """Final losses of Hoffmann's law on a small IsoFLOP grid, as a CSV file."""
    rows = []
    for C in (1e18, 1e19, 1e20):
        for f in (0.3, 1.0, 3.0):
            N = 0.1 * (C / 6) ** 0.5 * f
            D = C / (6 * N)
            rows.append({"N": N, "D": D, "L": float(HOFFMANN(N=N, D=D))})
    path = tmp_path / "runs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# ============================================================================ 1. overflow
def test_a_runs_value_beyond_the_usable_range_names_file_row_column_and_range(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("N,D,L\n1e308,1e9,2.5\n1e8,1e9,2.6\n2e8,2e9,2.5\n4e8,4e9,2.4\n")
    line = one_error(*run(["fit", path], capsys)[::2])
    assert "r.csv, data row 1 (line 2), column 'N'" in line
    assert "1e+308" in line and "from 1e-06 to 1e+30" in line


def test_a_tiny_loss_is_refused_with_its_range():
    df = pd.DataFrame({"N": [1e8, 2e8, 4e8], "D": [1e9, 2e9, 4e9], "L": [2.5, 1e-300, 2.4]})
    with pytest.raises(DataError, match=r"column 'L': 1e-300 .*from 1e-09 to 1e\+09"):
        load_runs(df)


def test_flops_per_token_beyond_its_range_is_refused(runs_csv, capsys):
    line = one_error(*run(["fit", runs_csv, "--flops-per-token", "1e308"], capsys)[::2])
    assert "--flops-per-token must be from" in line
    line = one_error(*run(["fit", runs_csv, "--flops-per-token", "1e5"], capsys)[::2])
    assert "from 0.001 to 1000" in line
    with pytest.raises(DataError, match="flops_per_param_token .*from 0.001 to 1000"):
        load_runs(runs_csv, flops_per_param_token=1e308)


def test_a_seed_beyond_32_bits_is_refused(runs_csv, capsys):
    with pytest.raises(QuantityError, match="seed must be .*<= 4294967295"):
        check_common(0, 10**30, 0.95)
    line = one_error(*run(["fit", runs_csv, "--seed", 10**30], capsys)[::2])
    assert line.startswith("error: --seed must be")


@pytest.mark.parametrize("n", [1_000_000_000, 9223372036854775808])
def test_bootstrap_replicates_are_capped(runs_csv, capsys, n):
    line = one_error(*run(["fit", runs_csv, "--bootstrap", n], capsys)[::2])
    assert line.startswith("error: --bootstrap must be at most 100,000 replicates")
    assert MAX_BOOTSTRAP == 100_000
    assert check_common(MAX_BOOTSTRAP, 0, 0.95)[0] == MAX_BOOTSTRAP


def test_a_budget_far_below_any_data_is_refused_not_inf_times_below(runs_csv, capsys):
    code, out, err = run(["fit", runs_csv, "--budgets", "1e-300"], capsys)
    line = one_error(code, err)
    assert "--budgets must be from 1e-30 to 1e+65" in line and "inf" not in out + err


# ============================================================================ 2. tracebacks
def test_a_quantity_text_of_thousands_of_digits_is_refused_briefly(capsys):
    line = one_error(*run(["allocate", "--compute", "2x10^" + "9" * 5000], capsys)[::2])
    assert "5,005 characters long" in line and "at most 100 characters" in line
    assert len(line) < 300


@pytest.mark.parametrize(
    ("text", "words"),
    [("2x10^400", "from 1e-30 to 1e+65"), ("1e-400", "from 1e-30 to 1e+65"), ("1e66", "1e+65")],
)
def test_quantities_outside_the_range_are_refused(text, words):
    with pytest.raises(QuantityError, match=words.replace("+", r"\+")):
        parse_quantity(text, "flops")


def test_flops_with_an_overflowing_layer_count_is_refused(capsys):
    line = one_error(*run(["flops", "--layers", "1e308", *ARCH], capsys)[::2])
    assert line.startswith("error: --layers must be from")


def test_flops_of_an_architecture_too_large_for_floats_is_refused(capsys):
    with pytest.raises(QuantityError, match="at most 1e"):
        Architecture(n_layer=10**400, d_model=64, n_heads=1, vocab_size=10, n_ctx=8)
    arch = Architecture(n_layer=10**65, d_model=10**65, n_heads=1, vocab_size=10, n_ctx=8)
    assert flops_per_token(arch) > 0  # finite at the edge of the range
    huge = [
        *("--layers 1e65 --d-model 1e65 --heads 1e65 --d-head 1e65").split(),
        "--tokens",
        "1e65",
    ]
    line = one_error(*run(["flops", *huge, "--vocab", "10", "--context", "1e65"], capsys)[::2])
    assert line.startswith("error: --layers must be a whole number up to 1e15")


@pytest.mark.parametrize("flag", ["--devices", "--layers"])
def test_counts_beyond_exact_floats_are_refused(capsys, flag):
    """A count above 1e15 is not exact in floating point: `budget --devices 1e60` printed a
    61-digit device count; now it is refused with the usable range."""
    if flag == "--devices":
        argv = ["budget", "--compute", "1e24", "--accelerator", "h100", "--devices", "1e60"]
    else:
        argv = ["flops", "--layers", "2e15", *ARCH]
    code, out, err = run(argv, capsys)
    assert one_error(code, err).startswith(f"error: {flag} must be a whole number up to 1e15")
    assert out == ""
    if flag == "--devices":
        argv[-1] = "1e15"
        code, out, err = run(argv, capsys)
        assert code == 0 and "1,000,000,000,000,000" in out


def test_plot_frontier_with_an_overflowing_budget_is_refused(runs_csv, tmp_path, capsys):
    argv = ["plot", "frontier", runs_csv, "--budgets", "1e300", "-o", tmp_path / "f.png"]
    line = one_error(*run(argv, capsys)[::2])
    assert "--budgets must be from" in line


@pytest.mark.parametrize(
    "extra", [["--devices", "1e308"], ["--price-per-hour", "1e308"], ["--mfu", "1e-300"]]
)
def test_budget_never_prints_an_infinite_throughput_or_cost(capsys, extra):
    argv = ["budget", "--compute", "1e24", "--accelerator", "h100", *extra]
    if extra[0] == "--mfu":
        argv += ["--devices", "1e15"]
    code, out, err = run(argv, capsys)
    line = one_error(code, err)
    assert out == "" and "inf" not in line.replace("infinite", "")


def test_estimate_budget_refuses_an_infinite_result():
    with pytest.raises(QuantityError, match="device-hours of these inputs overflows"):
        estimate_budget(1e24, "h100", mfu=1e-300, devices=10**15)


# ============================================================================ 3. decimal comma
def test_a_decimal_comma_in_a_list_is_refused_not_read_as_two_budgets(capsys):
    line = one_error(*run(["allocate", "--compute", "1,5e24"], capsys)[::2])
    assert "looks like a decimal comma" in line and "'1.5e24'" in line
    # lists that only look alike stay lists
    assert parse_quantities("1e-3,3e-4", "lr") == [1e-3, 3e-4]
    assert parse_quantities("1e22,5e24", "flops") == [1e22, 5e24]
    assert parse_quantities("70B,405B", "params") == [7e10, 4.05e11]


# ============================================================================ 4. long quotes
def test_a_yaml_alias_bomb_is_refused_without_expanding_it(runs_csv, tmp_path, capsys):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(
            f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n"
            for a, b in zip("abcdefg", "bcdefgh", strict=True)
        )
        + "columns: {N: *h}\n"
    )
    assert bomb.stat().st_size < 400
    code, out, err = run(["fit", runs_csv, "--columns", bomb], capsys)
    line = one_error(code, err)
    assert "maps 'N' to a list of 9 items" in line and len(err) < 400


def test_a_huge_cell_is_quoted_briefly(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("N,D,L\n" + "x" * 1_000_000 + ",1e9,2.5\n1e8,1e9,2.6\n")
    line = one_error(*run(["fit", path], capsys)[::2])
    assert "column 'N'" in line and len(line) < 600
