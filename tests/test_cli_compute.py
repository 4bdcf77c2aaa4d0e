"""The 'flops', 'budget' and 'accelerators' commands, through scalinglaws.cli.main."""

from __future__ import annotations

import json

import pytest

from scalinglaws.cli import main

CHINCHILLA_ARGS = [
    "--layers",
    "80",
    "--d-model",
    "8192",
    "--heads",
    "64",
    "--d-ff",
    "32768",
    "--vocab",
    "32000",
    "--context",
    "2048",
    "--positions",
    "none",
]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_flops_chinchilla_architecture_json(capsys):
    data = run_json(
        capsys, "flops", *CHINCHILLA_ARGS, "--tokens", "1.4T", "--convention", "chinchilla"
    )
    N = 12 * 80 * 8192**2
    assert data["params"]["non_embedding"] == N
    assert data["params"]["embedding"] == 32000 * 8192
    assert data["params"]["total"] == N + 32000 * 8192
    assert data["convention"] == "chinchilla"
    assert data["tokens"] == 1.4e12
    assert data["flops"] == pytest.approx(5.6825e23, rel=1e-4)
    assert data["pf_days"] == pytest.approx(data["flops"] / 8.64e19)
    ratios = {row["convention"]: row["ratio_to_6N"] for row in data["conventions"]}
    assert ratios["6N"] == 1.0
    assert ratios["chinchilla"] == pytest.approx(1.0500, abs=1e-4)
    # PaLM adds 12 L d n_ctx to 6N: 12*2048/(72*8192) = 1/24.
    assert ratios["palm"] == pytest.approx(1 + 1 / 24, rel=1e-12)
    assert ratios["kaplan"] == pytest.approx(1 + 1 / 48, rel=1e-12)


def test_flops_tables_show_every_convention(capsys):
    code, out, err = run(capsys, "flops", *CHINCHILLA_ARGS, "--tokens", "1.4T")
    assert code == 0, err
    for name in ("6N", "6N-total", "kaplan", "chinchilla", "palm", "deepseek"):
        assert name in out
    assert "64,424,509,440" in out  # exact non-embedding count
    assert "5.683e23" in out  # chinchilla total in the conventions table
    assert "1.0500" in out


def test_flops_params_and_tokens_gives_6nd(capsys):
    data = run_json(capsys, "flops", "--params", "70B", "--tokens", "1.4T")
    assert data["flops"] == pytest.approx(5.88e23, rel=1e-12)
    assert data["flops_per_token"] == pytest.approx(4.2e11, rel=1e-12)
    assert data["tokens_per_param"] == pytest.approx(20.0)
    code, out, _ = run(capsys, "flops", "--params", "70B", "--tokens", "1.4T")
    assert code == 0 and "5.88e23" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["flops", "--params", "70X"], "--params has an unknown suffix or unit in '70X'"),
        (["flops", "--params", "-5"], "--params must be positive"),
        (["flops", "--params", ""], "--params is empty"),
        (["flops", "--params", "70B", "--tokens", "abc"], "--tokens is not a number"),
        (["flops"], "give --params"),
        (["flops", "--layers", "80"], "missing --d-model, --heads, --vocab, --context"),
        (["flops", "--params", "70B", *CHINCHILLA_ARGS], "not both"),
        (["flops", *CHINCHILLA_ARGS, "--convention", "chinchila"], "did you mean 'chinchilla'"),
        (["flops", "--params", "70B", "--convention", "palm"], "needs an architecture"),
        (
            ["flops", *CHINCHILLA_ARGS[:-2], "--positions", "rope"],
            "Invalid value for '--positions'",
        ),
        (["flops", *CHINCHILLA_ARGS, "--d-ff", "1.5"], "--d-ff must be a whole number"),
        (["budget", "--compute", "70X", "--accelerator", "h100"], "--compute has an unknown"),
        (["budget", "--compute", "1e24", "--accelerator", "h10"], "unknown accelerator 'h10'"),
        (["budget", "--compute", "1e24", "--accelerator", "h100", "--mfu", "0"], "--mfu must be"),
        (["budget", "--compute", "1e24", "--accelerator", "h100", "--mfu", "1.2"], "(0, 1]"),
        (["budget", "--compute", "1e24", "--accelerator", "h100", "--devices", "0"], "--devices"),
        (["budget", "--compute", "1e24"], "no accelerator peak given"),
        (["budget", "--accelerator", "h100"], "give the budget as --compute"),
        (["budget", "--params", "70B", "--accelerator", "h100"], "give the budget as --compute"),
        (["budget", "--compute", "1e24", "--params", "7B", "--tokens", "1T"], "not both"),
        (["budget", "--compute", "1e24", "--peak", "fast"], "--peak is not a number"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ")
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_unknown_accelerator_message_exactly(capsys):
    code, _, err = run(capsys, "budget", "--compute", "1e24", "--accelerator", "h10")
    assert code == 2
    assert err == "error: unknown accelerator 'h10'; did you mean 'h100'?\n"


def test_budget_llama3_405b(capsys):
    data = run_json(
        capsys,
        "budget",
        "--compute",
        "3.8e25",
        "--accelerator",
        "h100",
        "--devices",
        "16000",
        "--mfu",
        "0.4",
    )
    seconds = 3.8e25 / (16000 * 989e12 * 0.4)
    assert data["days"] == pytest.approx(seconds / 86400, rel=1e-12)
    assert data["device_hours"] == pytest.approx(16000 * seconds / 3600, rel=1e-12)
    assert data["pf_days"] == pytest.approx(3.8e25 / 8.64e19, rel=1e-12)
    assert data["cost"] is None
    code, out, _ = run(
        capsys, "budget", "--compute", "3.8e25", "--accelerator", "h100", "--devices", "16k"
    )
    assert code == 0 and "69.49" in out and "give --price-per-hour" in out


def test_budget_from_params_tokens_with_price(capsys):
    data = run_json(
        capsys,
        "budget",
        "--params",
        "70B",
        "--tokens",
        "15T",
        "--accelerator",
        "H100",
        "--devices",
        "1024",
        "--mfu",
        "40%",
        "--price-per-hour",
        "$2.50",
    )
    C = 6 * 70e9 * 15e12
    hours = 1024 * C / (1024 * 989e12 * 0.4) / 3600
    assert data["flops"] == pytest.approx(C, rel=1e-12)
    assert data["device_hours"] == pytest.approx(hours, rel=1e-12)
    assert data["cost"] == pytest.approx(2.5 * hours, rel=1e-12)


def test_budget_peak_override(capsys):
    data = run_json(capsys, "budget", "--compute", "1e21", "--peak", "1e15", "--mfu", "1")
    assert data["seconds"] == pytest.approx(1e6, rel=1e-12)
    assert data["accelerator"] is None


def test_accelerator_listing(capsys):
    data = run_json(capsys, "accelerators")
    assert data["h100"]["peak_flops"] == 989e12
    assert set(data) == {"a100", "h100", "h200", "b200", "tpu-v4", "tpu-v5p", "mi300x"}
    code, out, _ = run(capsys, "budget", "--accelerator", "list")
    assert code == 0 and "mi300x" in out and "1,307" in out
