"""Kaplan et al. 2020's rules of thumb in the public API and as `scalinglaws kaplan-rules`,
and the law `allocate` answers with when none is named (issue 12)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli import main
from scalinglaws.errors import DomainError

# Kaplan et al. 2020: Table 2's L(N, D), Table 3's L(N, S), §1.2's B* and alpha_B
ND = {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}
NS = {"N_c": 6.5e13, "alpha_N": 0.077, "S_c": 2.1e3, "alpha_S": 0.76}
B_STAR, ALPHA_B = 2e8, 0.21

RULES = (
    "overfitting_penalty",
    "min_tokens_no_overfit",
    "overfitting_rule",
    "critical_batch_size",
    "min_steps",
    "min_examples",
    "min_compute",
    "min_steps_for_loss",
    "min_examples_for_loss",
    "early_stopping_steps",
)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _l_nd(n: float, d: float) -> float:
    p = ND["alpha_N"] / ND["alpha_D"]
    return ((ND["N_c"] / n) ** p + ND["D_c"] / d) ** ND["alpha_D"]


# ------------------------------------------------------------------------ the library
@pytest.mark.parametrize("name", RULES)
def test_rules_are_public(name):
    assert name in sl.__all__ and callable(getattr(sl, name))


def test_overfitting_bound_is_the_papers_rule():
    coef, expo = sl.overfitting_rule(0.02)
    # the paper rounds it to D ≳ 5e3·N^0.74 (eq. 4.4)
    assert expo == pytest.approx(0.74, abs=0.003) and coef == pytest.approx(5e3, rel=0.12)
    n = 1e9
    d = sl.min_tokens_no_overfit(n)
    # at that D, L(N, D)/L(N, ∞) - 1 is exactly the tolerated 2%
    limit = (ND["N_c"] / n) ** ND["alpha_N"]
    assert _l_nd(n, d) / limit - 1 == pytest.approx(0.02, rel=1e-9)
    assert sl.overfitting_penalty("kaplan2020", n, d) == pytest.approx(0.02, rel=1e-9)


def test_critical_batch_size():
    assert sl.critical_batch_size(3.0) == pytest.approx(B_STAR / 3.0 ** (1 / ALPHA_B), rel=1e-12)
    assert sl.critical_batch_size(3.0) == pytest.approx(1.069e6, rel=1e-3)


def test_min_steps_for_loss_inverts_l_of_n_s():
    n, loss = 1e9, 3.0
    s_min = sl.min_steps_for_loss(n, loss)
    back = (NS["N_c"] / n) ** NS["alpha_N"] + (NS["S_c"] / s_min) ** NS["alpha_S"]
    assert back == pytest.approx(loss, rel=1e-12)
    assert s_min == pytest.approx(3682.5, rel=1e-4)


def test_e_min_is_b_crit_times_s_min_and_agrees_with_eq_5_4():
    n, loss = 1e9, 3.0
    s_min, e_min = sl.min_steps_for_loss(n, loss), sl.min_examples_for_loss(n, loss)
    b_crit = sl.critical_batch_size(loss)
    assert e_min == pytest.approx(b_crit * s_min, rel=1e-12)
    # training at any batch B: S = S_min(1 + B_crit/B) steps, E = B·S tokens; eq. 5.4 and
    # E_min = E/(1 + B/B_crit) then give back the same S_min and E_min
    for b in (1e4, b_crit, 1e8):
        s = s_min * (1 + b_crit / b)
        assert sl.min_steps(s, b, b_crit) == pytest.approx(s_min, rel=1e-12)
        assert sl.min_examples(b * s, b, b_crit) == pytest.approx(e_min, rel=1e-12)
        assert (s / s_min - 1) * (b * s / e_min - 1) == pytest.approx(1.0, rel=1e-9)


def test_min_steps_for_an_unreachable_loss_says_why():
    with pytest.raises(DomainError, match=r"L = 2 is unreachable for N = 1B.*2\.347"):
        sl.min_steps_for_loss(1e9, 2.0)


def test_early_stopping_step():
    n, d = 1e9, 20e9
    gap = _l_nd(n, d) - (ND["N_c"] / n) ** ND["alpha_N"]
    expected = NS["S_c"] / gap ** (1 / NS["alpha_S"])
    assert sl.early_stopping_steps(n, d) == pytest.approx(expected, rel=1e-12)


def test_rules_take_arrays():
    n = np.array([1e8, 1e9])
    assert np.asarray(sl.min_steps_for_loss(n, 3.5)).shape == (2,)
    assert np.asarray(sl.min_examples_for_loss(n, [3.5, 3.0])).shape == (2,)


# ------------------------------------------------------------------------ the command
def test_kaplan_rules_prints_each_rule_with_formula_and_source(capsys):
    code, out, err = run(["kaplan-rules", "--params", "1B", "--loss", "3.0"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("law: kaplan2020 (Kaplan et al. 2020")
    for text in (
        "D ≳ 24.1B tokens",
        "B_crit = 1.07M tokens",
        "S_min = 3.68k steps",
        "E_min = 3.94B tokens",
        "C_min = 2.36e19 FLOPs",
        "5.52e3·N^0.738",
        "eq. 4.4",
        "eq. 5.3",
        "eq. 5.4",
    ):
        assert text in out, text
    assert sum(line.startswith("  formula: ") for line in lines) == 5
    assert sum(line.startswith("  source:  ") for line in lines) == 5


def test_kaplan_rules_json_matches_the_api(capsys):
    code, out, err = run(
        ["kaplan-rules", "--params", "1B", "--loss", "2.0", "--tokens", "20B", "--json"], capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    rules = {r["name"]: r for r in doc["rules"]}
    assert rules["min_tokens_no_overfit"]["value"] == pytest.approx(sl.min_tokens_no_overfit(1e9))
    assert rules["critical_batch_size"]["value"] == pytest.approx(sl.critical_batch_size(2.0))
    assert rules["overfitting_penalty"]["value"] == pytest.approx(
        sl.overfitting_penalty("kaplan2020", 1e9, 20e9)
    )
    assert rules["early_stopping_steps"]["value"] == pytest.approx(
        sl.early_stopping_steps(1e9, 20e9)
    )
    # L = 2 is below what 1B parameters reach with unlimited steps: not defined, and why
    assert rules["min_steps_for_loss"]["value"] is None
    assert "unreachable" in rules["min_steps_for_loss"]["note"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--params", "1X"], "error: --params has an unknown suffix or unit in '1X'"),
        (["--params", "1B", "--loss", "-3"], "error: --loss must be positive"),
        (["--params", "1B", "--tokens", "lots"], "error: --tokens "),
        ([], "error: Missing option '--params'"),
    ],
)
def test_kaplan_rules_bad_input_is_one_sentence(argv, message, capsys):
    code, out, err = run(["kaplan-rules", *argv], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith(message), err


# ------------------------------------------------------------------------ allocate's default law
def test_allocate_for_a_model_size_answers_with_table_3s_rule(capsys):
    code, out, err = run(["allocate", "--params", "70B"], capsys)
    assert code == 0, err
    first = out.splitlines()[0]
    assert first == (
        "law: hoffmann2022-approach1 (Hoffmann et al. 2022, Approach 1: N* = k·C^a through "
        "Table 3), the default for --params"
    )
    assert "1.46T" in out and "6.12e23" in out  # Table 3: 67B -> 1.5T, 175B -> 3.7T
    code, out, err = run(["allocate", "--params", "70B", "--json"], capsys)
    doc = json.loads(out)
    assert doc["source"] == "hoffmann2022-approach1" and doc["default_law"] is True
    assert doc["citation"] == "Hoffmann et al. 2022"
    assert doc["rows"][0]["D"] == pytest.approx(
        sl.allocate_for_params("hoffmann2022-approach1", N=70e9).D
    )


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (
            ["--compute", "5.76e23"],
            "law: hoffmann2022 (Hoffmann et al. 2022, Approach 3 parametric fit, as printed), "
            "the default for --compute",
        ),
        (
            ["--loss", "2.0"],
            "law: hoffmann2022 (Hoffmann et al. 2022, Approach 3 parametric fit, as printed), "
            "the default for --loss",
        ),
        (
            ["--params", "70B", "--law", "hoffmann2022"],
            "law: hoffmann2022 (Hoffmann et al. 2022, Approach 3 parametric fit, as printed)",
        ),
        (
            ["--compute", "1e24", "--law", "kaplan2020"],
            "law: kaplan2020 (Kaplan et al. 2020, power laws in N, D, C and the "
            "compute-efficient frontier)",
        ),
    ],
)
def test_allocate_says_which_law_answered(argv, first, capsys):
    code, out, err = run(["allocate", *argv], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == first


def test_allocate_with_a_fit_names_it(tmp_path, capsys):
    law = sl.ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    path = tmp_path / "fit.json"
    sl.Fit(law=law, params=law.params, approach="3").to_json(path)
    code, out, err = run(["allocate", "--compute", "1e23", "--fit", path], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == f"law: fit {path} (approach 3, law chinchilla)"
