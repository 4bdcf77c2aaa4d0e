"""`scalinglaws allocate` and `compare` beyond the compute-optimal question (issue 13): a data
limit (Muennighoff et al. 2023), inference demand (Sardana et al. 2024) and over-training
priced, through the real entry point, against the library in the same run."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from rich.cells import cell_len

from scalinglaws import ChinchillaLaw, Fit
from scalinglaws.cli import main
from scalinglaws.data_limited import (
    data_limited_allocation,
    epochs_worth,
    repetition_stops_paying,
)
from scalinglaws.inference import inference_aware_allocation, inference_optimal
from scalinglaws.overtraining import overtraining_cost
from scalinglaws.presets import PRESETS

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv: list, capsys) -> dict:
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0].removeprefix("error: ")


# ------------------------------------------------------------------------ data limit
def test_data_limited_check_vector_through_the_cli(capsys):
    code, out, err = run(["allocate", "--compute", "1e22", "--unique-tokens", "25B"], capsys)
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("law: muennighoff2023 (Muennighoff et al. 2023")
    assert first.endswith("the default for --unique-tokens")
    for text in ("7.03B", "237B", "9.49", "9.22B", "181B", "2.2221", "2.1880"):
        assert text in out
    assert "the data limit costs 0.0341 nats/token (+1.56%) against unlimited data" in out
    assert "repetition stops paying: past 16.4 epochs" in out and "93% of fresh data" in out


def test_data_limited_json_equals_the_library(capsys):
    doc = run_json(["allocate", "--compute", "1e22,1e23", "--unique-tokens", "25B"], capsys)
    a = data_limited_allocation("muennighoff2023", np.array([1e22, 1e23]), 25e9)
    assert doc["source"] == "muennighoff2023" and doc["default_law"] is True
    for i, row in enumerate(doc["rows"]):
        for key in ("N", "D", "L", "epochs", "N_free", "D_free", "L_free", "loss_cost"):
            assert row[key] == pytest.approx(float(getattr(a, key)[i]), rel=1e-12), key
        assert row["binding"] is True
        assert row["repetition_stops_paying_epochs"] == pytest.approx(
            repetition_stops_paying("muennighoff2023")
        )
        assert row["four_epochs_data_fraction"] == pytest.approx(
            epochs_worth("muennighoff2023", 25e9, 4.0).data_fraction
        )
    # the published check vector: ~7.0B parameters on 237B tokens, ~9.5 epochs
    assert doc["rows"][0]["N"] == pytest.approx(7.02e9, rel=2e-3)
    assert doc["rows"][0]["D"] == pytest.approx(237.3e9, rel=1e-3)


def test_data_limited_with_a_limit_that_does_not_bind(capsys):
    code, out, _ = run(["allocate", "--compute", "1e22", "--unique-tokens", "1T"], capsys)
    assert code == 0 and "the limit does not bind" in out
    doc = run_json(["allocate", "--compute", "1e22", "--unique-tokens", "1T"], capsys)
    base = PRESETS["muennighoff2023"].law
    from scalinglaws.allocation import allocate

    assert doc["rows"][0]["N"] == pytest.approx(allocate(base, C=1e22).N, rel=1e-12)


# ------------------------------------------------------------------------ inference
def test_inference_at_a_target_loss_equals_the_library(capsys):
    code, out, err = run(["allocate", "--loss", "1.947", "--inference-tokens", "2T"], capsys)
    assert code == 0, err
    assert out.splitlines()[0].endswith("the default for --inference-tokens")
    ref = inference_optimal("hoffmann2022", 1.947, 2e12)
    for text in ("19.9B", "26.6B", "3.24T", "2.36T", "3.87e23", "7.96e22", "4.67e23", "4.83e23"):
        assert text in out
    assert f"saving: {ref.saving:.3g}".replace("e+", "e") in out and "3.28%" in out
    doc = run_json(["allocate", "--loss", "1.947", "--inference-tokens", "2T"], capsys)
    (row,) = doc["rows"]
    assert row["optimum"]["N"] == pytest.approx(ref.N, rel=1e-12)
    assert row["optimum"]["D"] == pytest.approx(ref.D_train, rel=1e-12)
    assert row["compute_optimal"]["total_cost"] == pytest.approx(ref.compute_optimal.total_cost)
    assert row["saving_fraction"] == pytest.approx(ref.saving_fraction, rel=1e-12)


def test_inference_check_vector_of_sardana_through_a_fit(tmp_path, capsys):
    """Sardana et al.'s Chinchilla constants: l = 1.947, D_inf = 2e12 -> N 2.418e10,
    D_tr 2.657e12 (as tests/test_inference.py asserts of the library)."""
    law = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
    path = tmp_path / "sardana.json"
    Fit(law=law, params=law.params, approach="3").to_json(path)
    doc = run_json(
        ["allocate", "--fit", path, "--loss", "1.947", "--inference-tokens", "2T"], capsys
    )
    opt = doc["rows"][0]["optimum"]
    assert opt["N"] == pytest.approx(2.418e10, rel=2e-3)
    assert opt["D"] == pytest.approx(2.657e12, rel=2e-3)


def test_inference_costs_are_configurable(capsys):
    argv = ["allocate", "--loss", "2.0", "--inference-tokens", "5T"]
    argv += ["--inference-flops-per-token", "2.5", "--inference-cost-ratio", "2"]
    doc = run_json(argv, capsys)
    ref = inference_optimal(
        "hoffmann2022", 2.0, 5e12, inference_flops_per_token=2.5, inference_cost_per_flop=2.0
    )
    assert doc["rows"][0]["optimum"]["N"] == pytest.approx(ref.N, rel=1e-12)
    assert doc["costs"]["inference_cost_per_flop"] == 2.0
    code, out, _ = run(argv, capsys)
    assert "training-FLOP equivalents" in out


def test_inference_budget_form_equals_the_library(capsys):
    code, out, err = run(["allocate", "--compute", "1e22", "--inference-tokens", "2T"], capsys)
    assert code == 0, err
    for text in ("compute-optimal", "equal total cost", "equal loss", "27.30%"):
        assert text in out
    doc = run_json(["allocate", "--compute", "1e22", "--inference-tokens", "2T"], capsys)
    ref = inference_aware_allocation("hoffmann2022", 1e22, 2e12)
    (row,) = doc["rows"]
    assert row["equal_cost"]["N"] == pytest.approx(ref.equal_cost.N, rel=1e-12)
    assert row["equal_loss"]["N"] == pytest.approx(ref.equal_loss.N, rel=1e-12)
    assert row["compute_optimal"]["N"] == pytest.approx(ref.compute_optimal.N, rel=1e-12)
    assert row["saving"] == pytest.approx(ref.saving, rel=1e-12)


def test_no_inference_is_the_compute_optimal_answer(capsys):
    doc = run_json(["allocate", "--compute", "1e22", "--inference-tokens", "0"], capsys)
    row = doc["rows"][0]
    assert row["equal_loss"]["N"] == pytest.approx(row["compute_optimal"]["N"], rel=1e-6)
    assert row["saving"] == pytest.approx(0.0, abs=1e-6 * row["compute_optimal"]["total_cost"])


# ------------------------------------------------------------------------ over-training
def test_llama3_8b_priced(capsys):
    code, out, err = run(["allocate", "--params", "8B", "--tokens", "15T"], capsys)
    assert code == 0, err
    assert out.splitlines()[0].endswith("the default for --params with --tokens")
    assert "hoffmann2022" in out.splitlines()[0] and "price: 1.99x" in out
    doc = run_json(["allocate", "--params", "8B", "--tokens", "15T"], capsys)
    ref = overtraining_cost("hoffmann2022", N=8e9, D=15e12)
    (row,) = doc["rows"]
    for key in ("L", "L_opt", "C_equal", "N_equal", "price", "extra_flops", "size_ratio"):
        assert row[key] == pytest.approx(float(getattr(ref, key)), rel=1e-12), key
    assert row["price"] == pytest.approx(1.99, abs=0.005)
    # --params alone still asks the budget at which N is optimal
    doc = run_json(["allocate", "--params", "70B"], capsys)
    assert doc["source"] == "hoffmann2022-approach1"


def test_tokens_per_param_priced(capsys):
    doc = run_json(["allocate", "--compute", "1e22", "--tokens-per-param", "200"], capsys)
    ref = overtraining_cost("hoffmann2022", C=1e22, tokens_per_param=200)
    (row,) = doc["rows"]
    assert row["N"] == pytest.approx(ref.N, rel=1e-12)
    assert row["price"] == pytest.approx(ref.price, rel=1e-12)
    assert row["tokens_per_param"] == pytest.approx(200)


@pytest.fixture(scope="module")
def bootstrap_fit(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    argv = ["fit", "dataset:chinchilla_fig4", "--drop-highest", "5", "--bootstrap", "20"]
    assert main([*argv, "-o", str(path)]) == 0
    return path


def test_overtraining_with_a_bootstrapped_fit_has_intervals(bootstrap_fit, capsys):
    argv = ["allocate", "--fit", bootstrap_fit, "--params", "8B", "--tokens", "15T"]
    doc = run_json([*argv, "--level", "0.8"], capsys)
    ref = overtraining_cost(Fit.from_json(bootstrap_fit), N=8e9, D=15e12, level=0.8)
    (row,) = doc["rows"]
    assert doc["level"] == 0.8 and "bootstrap replicates" in doc["interval"]
    low, high = ref.intervals["price"]
    assert row["price_low"] == pytest.approx(float(low)) and row["price_high"] == pytest.approx(
        float(high)
    )
    assert row["price_low"] < row["price"] < row["price_high"]
    code, out, _ = run(argv, capsys)
    assert "price: " in out and "[95%: " in out


# ------------------------------------------------------------------------ compare
def test_compare_with_data_limit_and_inference(capsys):
    argv = ["compare", "--compute", "1e22", "--unique-tokens", "25B", "--inference-tokens", "2T"]
    doc = run_json(argv, capsys)
    rows = {r["preset"]: r for r in doc["rows"]}
    assert len(rows) == len(PRESETS)
    dl = data_limited_allocation("muennighoff2023", 1e22, 25e9)
    assert rows["muennighoff2023"]["data_limited"]["N"] == pytest.approx(dl.N, rel=1e-12)
    assert all(r["data_limited"] is None for n, r in rows.items() if n != "muennighoff2023")
    ia = inference_aware_allocation("hoffmann2022", 1e22, 2e12)
    assert rows["hoffmann2022"]["inference_aware"]["N"] == pytest.approx(ia.equal_loss.N, rel=1e-12)
    assert rows["llama3"]["inference_aware"] is None and rows["deepseek2024"]["L"] is None
    code, out, _ = run(argv, capsys)
    assert "N* (U)" in out and "saved" in out and "only muennighoff2023 does" in out


@pytest.mark.parametrize("budgets", ["1e22", "1e22,1e24"])
@pytest.mark.parametrize(
    "extra",
    [
        ["--unique-tokens", "25B"],
        ["--inference-tokens", "2T"],
        ["--unique-tokens", "25B", "--inference-tokens", "2T"],
    ],
    ids=["U", "T", "UT"],
)
def test_compare_fits_80_columns_and_names_every_preset(budgets, extra, capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(["compare", "--compute", budgets, *extra], capsys)
    assert code == 0
    lines = [ANSI.sub("", line).rstrip() for line in out.split("\n")]
    assert max(cell_len(line) for line in lines) <= 80
    for name in PRESETS:
        assert any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", x) for x in lines), name
    if "," in budgets:
        assert any("1e24" in line and "│" in line for line in lines)  # C tells rows apart


def test_presets_show_has_u_and_l_columns(capsys):
    code, out, _ = run(["presets", "show", "muennighoff2023"], capsys)
    assert code == 0
    head = next(line for line in out.splitlines() if "┃ source" in line)
    assert "┃   U ┃" in head and "L paper" in head and "L ours" in head
    assert "2.22564" in out and "2.2256" in out
    code, out, _ = run(["presets", "show", "llama3"], capsys)
    head = next(line for line in out.splitlines() if "┃ source" in line)
    assert "L paper" not in head and "┃   U ┃" not in head


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--compute", "1e22", "--unique-tokens", "25B", "--law", "hoffmann2022"],
            "--unique-tokens needs a law with a data-constrained form L(N, D, U), and preset "
            "'hoffmann2022' has none; use --law muennighoff2023 (or --fit with a fit from "
            "'scalinglaws fit RUNS --approach data-constrained')",
        ),
        (
            ["--compute", "1e22", "--unique-tokens", "0"],
            "--unique-tokens must be positive, got '0'; expected a positive quantity such as "
            "'70B', '1.4T' or '3.8e25'.",
        ),
        (
            ["--loss", "1.95", "--inference-tokens", "-2T"],
            "--inference-tokens must be 0 or more (the tokens the model will serve, e.g. '2T'), "
            "got '-2T'",
        ),
        (
            ["--loss", "1.69", "--inference-tokens", "2T"],
            "target loss L = 1.69 is unreachable: preset 'hoffmann2022' never goes below its "
            "irreducible loss E = 1.69; choose L > 1.69",
        ),
        (
            ["--tokens-per-param", "200"],
            "--tokens-per-param goes with --compute (the budget it divides between N and D), "
            "e.g. allocate --compute 1e22 --tokens-per-param 200",
        ),
        (
            ["--compute", "1e22", "--tokens", "15T"],
            "--tokens goes with --params (the model it trains), e.g. allocate --params 8B "
            "--tokens 15T",
        ),
        (
            ["--compute", "1e22", "--unique-tokens", "25B", "--inference-tokens", "2T"],
            "--unique-tokens and --inference-tokens ask different questions; give one of "
            "--unique-tokens (a data limit), --inference-tokens (inference demand), "
            "--tokens-per-param or --tokens (over-training); 'scalinglaws compare --compute C "
            "--unique-tokens U --inference-tokens T' shows the data-limited and inference-aware "
            "optima side by side",
        ),
        (
            ["--params", "8B", "--unique-tokens", "25B"],
            "--unique-tokens goes with --compute (a budget and the unique tokens it may repeat), "
            "e.g. allocate --compute 1e22 --unique-tokens 25B",
        ),
        (
            ["--params", "8B", "--inference-tokens", "2T"],
            "--inference-tokens goes with --loss (the cheapest model to train and serve at that "
            "loss) or --compute (a training budget re-spent with inference in view)",
        ),
        (
            ["--compute", "1e22", "--inference-cost-ratio", "2"],
            "--inference-cost-ratio goes with --inference-tokens (the tokens the model will serve)",
        ),
        (
            ["--loss", "2", "--inference-tokens", "2T", "--inference-cost-ratio", "0"],
            "--inference-cost-ratio must be greater than 0, got '0'",
        ),
        (
            ["--params", "8B", "--tokens", "15T", "--law", "llama3"],
            "--tokens needs a loss law of (N, D), and preset 'llama3' has none; use a preset "
            "with an (N, D) law such as 'hoffmann2022', 'besiroglu2024' or 'kaplan2020'",
        ),
        (
            ["--compute", "1e22,1e23", "--unique-tokens", "25B,1B,3B"],
            "the value lists must have the same length or length 1 (--compute has 2, "
            "--unique-tokens has 3)",
        ),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(argv, message, capsys):
    code, _, err = run(["allocate", *argv], capsys)
    assert code == 2
    assert one_error(err) == message


def test_unique_tokens_with_a_fit_without_a_data_constrained_law(tmp_path, capsys):
    law = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    path = tmp_path / "fit.json"
    Fit(law=law, params=law.params, approach="3").to_json(path)
    code, _, err = run(
        ["allocate", "--fit", path, "--compute", "1e22", "--unique-tokens", "25B"], capsys
    )
    assert code == 2
    assert one_error(err).startswith(
        f"--unique-tokens needs a law with a data-constrained form L(N, D, U), and fit {path} "
        "has none; use --law muennighoff2023"
    )


def test_compare_bad_input(capsys):
    code, _, err = run(["compare", "--compute", "1e22", "--inference-tokens", "-1T"], capsys)
    assert code == 2 and one_error(err).startswith("--inference-tokens must be 0 or more")
    code, _, err = run(["compare", "--compute", "1e22", "--unique-tokens", "1B,2B"], capsys)
    assert code == 2
    assert (
        one_error(err) == "compare takes one value of --unique-tokens (the same for every budget)"
    )
