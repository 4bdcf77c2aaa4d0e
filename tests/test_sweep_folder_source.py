"""`scalinglaws fit` and `backtest` read a sweep folder as the report does: through
:func:`scalinglaws.report.sweep_folder.load_sweep`, with the sweep's FLOPs convention
C = f(N)·D given to Approach 3, so `fit`, `report` and `plot` answer with the same N*, D*."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scalinglaws.cli import main
from scalinglaws.fit.result import Fit
from scalinglaws.report import build_report

DEMO = Path(__file__).resolve().parents[1] / "examples" / "data" / "demo-sweep"
BUDGET = 1e13  # where fitting runs.csv under C = 6·N·D gives a D* 30% off the report's


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def report_row(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report")
    result = build_report(DEMO, out, budgets=[BUDGET], n_bootstrap=0, backtest=False)
    (row,) = [r for r in result.numbers["allocation"] if r["approach"] == "3"]
    return row


def test_fit_of_a_sweep_folder_allocates_as_the_report_does(report_row, tmp_path, capsys):
    path = tmp_path / "fit.json"
    argv = ["fit", DEMO, "--bootstrap", "0", "--budgets", f"{BUDGET:g}", "-o", path]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "FLOPS-MISMATCH" not in err + out and "--flops-per-token" not in err
    assert "FLOPs convention: C = f(N)·D, the sweep's chinchilla convention" in out
    fit = Fit.from_json(path)
    a = fit.allocate(BUDGET)
    assert float(a.N) == pytest.approx(report_row["N"], rel=1e-6)
    assert float(a.D) == pytest.approx(report_row["D"], rel=1e-6)
    # the printed table shows the same numbers (4 significant digits)
    assert f"{report_row['N']:.4g}" in out and f"{report_row['D']:.4g}" in out
    assert report_row["D"] == pytest.approx(1.0192e7, rel=1e-3)
    # runs.csv alone is read as C = 6·N·D: a D* 30% away from the report's
    alone = tmp_path / "alone.json"
    argv = ["fit", DEMO / "runs.csv", "--bootstrap", "0", "--budgets", f"{BUDGET:g}", "-o", alone]
    assert run(argv, capsys)[0] == 0
    assert float(Fit.from_json(alone).allocate(BUDGET).D) / report_row["D"] > 1.25


def test_backtest_reads_a_sweep_folder(capsys):
    code, out, err = run(["backtest", DEMO, "--bootstrap", "0"], capsys)
    assert code == 0, err
    assert "FLOPS-MISMATCH" not in err and "the sweep's chinchilla convention" in out
    assert "held out 5 runs above the cut" in out


def test_approach1_needs_the_sweep_curves(tmp_path, capsys):
    folder = tmp_path / "sweep"
    folder.mkdir()
    for name in ("runs.csv", "plan.toml"):
        shutil.copy(DEMO / name, folder / name)
    code, out, err = run(["fit", folder, "--approach", "1", "--bootstrap", "0"], capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: Approach 1 needs training curves, and the sweep folder of {folder / 'runs.csv'} "
        "has no curves.csv; use approach 2 or 3, or re-run the sweep to record curves"
    ]


def test_approach2_bins_by_the_plan_budgets_and_says_its_convention(capsys):
    code, out, err = run(["fit", DEMO, "--approach", "2", "--bootstrap", "0"], capsys)
    assert code == 0, err
    assert "note: approach 2 takes no FLOPs convention" in out
    assert "OUTSIDE_BUDGETS" not in out + err
