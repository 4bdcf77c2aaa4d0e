"""`scalinglaws allocate | predict | presets | compare` through the real entry point."""

from __future__ import annotations

import json
import math

import pytest

from scalinglaws import ChinchillaLaw, Fit, PowerLaw
from scalinglaws.allocation import allocate, allocate_for_params
from scalinglaws.cli import main
from scalinglaws.laws import KaplanNDLaw

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv: list[str], capsys) -> dict:
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def one_error(err: str) -> str:
    """The single 'error: ...' line, asserting there is nothing else (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def chinchilla_fit(tmp_path):
    path = tmp_path / "fit.json"
    Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json(path)
    return path


# ------------------------------------------------------------------------ allocate
def test_allocate_budget_table_has_human_units_and_citation(capsys):
    code, out, err = run(["allocate", "--compute", "5.76e23", "--law", "hoffmann2022"], capsys)
    assert code == 0, err
    for text in ("5.76e23", "32.2B", "2.98T", "92.6", "1.9307", "arXiv:2203.15556"):
        assert text in out


def test_allocate_json_matches_the_api(capsys):
    doc = run_json(["allocate", "--compute", "1e22,5.76e23"], capsys)  # default hoffmann2022
    assert doc["source"] == "hoffmann2022" and doc["method"] == "closed form"
    assert len(doc["rows"]) == 2
    a = allocate(HOFFMANN, C=5.76e23)
    row = doc["rows"][1]
    assert row["N"] == pytest.approx(a.N, rel=1e-12) and row["D"] == pytest.approx(a.D, rel=1e-12)
    assert row["tokens_per_param"] == pytest.approx(a.tokens_per_param)


def test_allocate_by_model_size(capsys):
    doc = run_json(["allocate", "--params", "70B", "--law", "hoffmann2022-approach1"], capsys)
    (row,) = doc["rows"]
    expected = allocate_for_params("hoffmann2022-approach1", N=70e9)
    assert row["N"] == pytest.approx(70e9) and row["C"] == pytest.approx(expected.C)
    assert row["L"] is None  # Approach 1 publishes no loss law


def test_allocate_by_loss_and_the_unreachable_loss(capsys):
    doc = run_json(["allocate", "--loss", "2.0", "--law", "besiroglu2024"], capsys)
    assert doc["rows"][0]["L"] == pytest.approx(2.0, rel=1e-12)
    code, _, err = run(["allocate", "--loss", "1.6", "--law", "hoffmann2022"], capsys)
    assert code == 2
    assert one_error(err) == (
        "error: target loss L = 1.6 is unreachable: preset 'hoffmann2022' never goes below its "
        "irreducible loss E = 1.69; choose L > 1.69"
    )


def test_allocate_power_law_preset_says_why_loss_is_missing(capsys):
    code, out, _ = run(["allocate", "--compute", "3.8e25", "--law", "llama3"], capsys)
    assert code == 0
    assert "10.5T" in out and "605B" in out and "publishes no loss law" in out


def test_allocate_with_a_saved_fit(chinchilla_fit, capsys):
    doc = run_json(["allocate", "--compute", "1e23", "--fit", chinchilla_fit], capsys)
    assert doc["rows"][0]["N"] == pytest.approx(allocate(HOFFMANN, C=1e23).N, rel=1e-12)
    assert doc["n_counts"] == "as in your runs"


def test_allocate_with_a_kaplan_fit(tmp_path, capsys):
    law = KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
    path = tmp_path / "kaplan.json"
    Fit(law=law, params=law.params, approach="3").to_json(path)
    doc = run_json(["allocate", "--compute", "1e23", "--fit", path], capsys)
    assert doc["rows"][0]["N"] == pytest.approx(allocate(law, C=1e23).N, rel=1e-12)


def test_allocate_with_an_approach2_fit_uses_its_rule(tmp_path, capsys):
    law = PowerLaw(E=1.7, A=3e3, alpha=0.15, variable="C")
    derived = {"a": 0.5, "b": 0.5, "k_N": 0.09, "k_D": 1 / 0.54}  # as Approach 2 stores them
    path = tmp_path / "approach2.json"
    Fit(law=law, params=law.params, derived=derived, approach="2").to_json(path)
    doc = run_json(["allocate", "--compute", "1e22", "--fit", path], capsys)
    (row,) = doc["rows"]
    assert row["N"] == pytest.approx(0.09 * 1e11) and row["D"] == pytest.approx(1e11 / 0.54)
    assert row["L"] == pytest.approx(law(C=1e22)) and doc["method"] == "power-law rule"


def test_allocate_with_a_one_variable_fit_is_refused(tmp_path, capsys):
    path = tmp_path / "power.json"
    Fit(law=PowerLaw(E=1.5, A=100.0, alpha=0.1), params={}, approach="2").to_json(path)
    code, _, err = run(["allocate", "--compute", "1e23", "--fit", path], capsys)
    assert code == 2
    assert "the fit's law 'power' takes (C), so it cannot allocate a budget" in one_error(err)


# ------------------------------------------------------------------------ predict
def test_predict_params_and_tokens(capsys):
    doc = run_json(["predict", "--params", "70B", "--tokens", "1.4T"], capsys)
    (row,) = doc["rows"]
    assert row["L"] == pytest.approx(HOFFMANN(N=70e9, D=1.4e12), rel=1e-14)
    assert row["C"] == pytest.approx(6 * 70e9 * 1.4e12)
    code, out, _ = run(["predict", "--params", "70B", "--tokens", "1.4T"], capsys)
    assert "70B" in out and "1.4T" in out and f"{HOFFMANN(N=70e9, D=1.4e12):.4f}" in out


def test_predict_two_of_three_and_broadcasting(capsys):
    doc = run_json(["predict", "--params", "1B,10B", "--compute", "1e21"], capsys)
    D = [1e21 / (6 * 1e9), 1e21 / (6 * 1e10)]
    for row, d in zip(doc["rows"], D, strict=True):
        assert row["D"] == pytest.approx(d)
        assert row["L"] == pytest.approx(HOFFMANN(N=row["N"], D=d), rel=1e-14)


def test_predict_compute_alone_is_the_compute_optimal_loss(capsys):
    doc = run_json(["predict", "--compute", "1e24"], capsys)
    assert doc["rows"][0]["L"] == pytest.approx(allocate(HOFFMANN, C=1e24).L, rel=1e-14)
    doc = run_json(["predict", "--compute", "1e24", "--law", "kaplan2020"], capsys)
    assert doc["rows"][0]["L"] == pytest.approx((3.1e8 * 8.64e19 / 1e24) ** 0.05, rel=1e-14)


def test_predict_kaplan_single_variable_laws(capsys):
    doc = run_json(["predict", "--params", "1B", "--law", "kaplan2020"], capsys)
    assert doc["rows"][0]["L"] == pytest.approx((8.8e13 / 1e9) ** 0.076, rel=1e-14)
    doc = run_json(["predict", "--params", "1B", "--steps", "100k", "--law", "kaplan2020"], capsys)
    expected = (6.5e13 / 1e9) ** 0.077 + (2.1e3 / 1e5) ** 0.76
    assert doc["rows"][0]["L"] == pytest.approx(expected, rel=1e-14)


def test_predict_with_fits(chinchilla_fit, tmp_path, capsys):
    doc = run_json(
        ["predict", "--fit", chinchilla_fit, "--params", "1B", "--tokens", "20B"], capsys
    )
    assert doc["rows"][0]["L"] == pytest.approx(HOFFMANN(N=1e9, D=2e10), rel=1e-14)
    law = PowerLaw(E=1.5, A=100.0, alpha=0.1, variable="C")
    path = tmp_path / "power.json"
    Fit(law=law, params=law.params, approach="2").to_json(path)
    doc = run_json(["predict", "--fit", path, "--compute", "1e24"], capsys)
    assert doc["rows"][0]["L"] == pytest.approx(law(C=1e24), rel=1e-14)
    code, _, err = run(["predict", "--fit", path, "--params", "1B", "--tokens", "1T"], capsys)
    assert code == 2 and "takes (C); give --compute" in one_error(err)


# ------------------------------------------------------------------------ presets, compare
def test_presets_list(capsys):
    code, out, _ = run(["presets", "list"], capsys)
    assert code == 0
    for name in ("kaplan2020", "hoffmann2022", "besiroglu2024", "llama3"):
        assert name in out
    doc = json.loads(run(["presets", "list", "--json"], capsys)[1])
    assert [p["name"] for p in doc][:2] == ["kaplan2020", "hoffmann2022"]


def test_presets_show_recomputes_projections(capsys):
    code, out, _ = run(["presets", "show", "llama3"], capsys)
    assert code == 0
    for text in ("arXiv:2407.21783", "16.55T", "10.5T", "-36.78%", "5.71", "0.5373"):
        assert text in out
    doc = json.loads(run(["presets", "show", "hoffmann2022-approach1", "--json"], capsys)[1])
    errors = [r["err_C"] for r in doc["reproduction"] if r["paper_N"] != 67e9]
    assert len(errors) == 8 and max(abs(e) for e in errors) < 0.004


def test_compare(capsys):
    doc = run_json(["compare", "--compute", "1e24"], capsys)
    rows = {r["preset"]: r for r in doc["rows"]}
    assert len(rows) == 9
    assert rows["llama3"]["L"] is None and math.isfinite(rows["hoffmann2022"]["L"])
    # the data-limited and inference-aware columns only when asked (tests/test_cli_beyond.py)
    assert not {"data_limited", "inference_aware"} & set(rows["muennighoff2023"])
    assert rows["hoffmann2022"]["N"] == pytest.approx(allocate(HOFFMANN, C=1e24).N)
    code, out, _ = run(["compare", "--compute", "1e24"], capsys)
    assert "arXiv:2001.08361" in out and "41.3B" in out and "non-embedding" in out


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "argv, needle",
    [
        (["allocate", "--compute", "70X"], "--compute has an unknown suffix or unit in '70X'"),
        (["allocate", "--compute", "-5"], "--compute must be positive"),
        (["allocate", "--compute", "1e22", "--params", "1B"], "exactly one of --compute"),
        (["allocate"], "got none"),
        (["allocate", "--compute", "1e22", "--law", "hofman2022"], "did you mean 'hoffmann2022'"),
        (["allocate", "--compute", "1e22", "--flops-per-token", "0"], "--flops-per-token"),
        (["allocate", "--compute", "1e22", "--law", "x", "--fit", "f.json"], "not both"),
        (["allocate", "--compute", "1e22", "--fit", "missing.json"], "does not exist"),
        (["predict"], "predict needs --params and --tokens"),
        (["predict", "--params", "1,2,3", "--tokens", "1T,2T"], "same length or length 1"),
        (["predict", "--params", "1B", "--tokens", "1T", "--compute", "1e22"], "two of"),
        (["predict", "--params", "1B", "--tokens", "1T", "--law", "llama3"], "no law of (N, D)"),
        (["predict", "--compute", "1e24", "--law", "llama3"], "publishes no loss law"),
        (["predict", "--tokens", "1T", "--steps", "10"], "--steps goes with --params only"),
        (["presets", "show", "chinchila"], "unknown preset 'chinchila'"),
        (["compare", "--compute", "1e24,"], "--compute has an empty item"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(argv, needle, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    line = one_error(err)
    assert needle in line and "Traceback" not in err


def test_malformed_fit_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "scalinglaws.fit/1"}')
    code, _, err = run(["allocate", "--compute", "1e22", "--fit", bad], capsys)
    assert code == 2 and "is not a complete scalinglaws fit" in one_error(err)
    bad.write_text("{not json")
    code, _, err = run(["predict", "--compute", "1e22", "--fit", bad], capsys)
    assert code == 2 and "not valid JSON" in one_error(err)
