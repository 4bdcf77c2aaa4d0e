"""Reliability of the files the package reads and writes (audit issue 11): JSON runs files
with numbers no float holds or nesting no reader follows, hand-edited fit files, plan names
with control characters, the report's embedded JSON, and one run id shared by rows of
different N.  Each is refused with one sentence (or written safely), never a traceback."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglaws import Fit, load_runs
from scalinglaws.errors import DataError, PlanError
from scalinglaws.fit.parametric import Approach3
from scalinglaws.laws import ChinchillaLaw
from scalinglaws.sweep.plan import Plan, load_plan, write_plan

TRUE = ChinchillaLaw(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.36)
GOOD = '{"N": 1e8, "D": 2e9, "L": 3.1}'


# ----------------------------------------------------------------------------- 1. JSON runs
@pytest.mark.parametrize(
    "suffix, text, line, column, words",
    [
        (".jsonl", GOOD + '\n{"N": 1' + "0" * 400 + ', "D": 2e9, "L": 3}\n', 2, 7, "401 digits"),
        (".jsonl", GOOD + '\n{"N": 2e8, "D": 2e9, "L": -1' + "0" * 5000 + "}\n", 2, 27, "5001"),
        (".json", "[" + GOOD + ',\n {"N": 1' + "0" * 4400 + ', "D": 1, "L": 2}]', 2, 8, "4401"),
        (".json", '{"N": 1' + "0" * 5000 + ', "D": 2e9, "L": 3}', 1, 7, "5001 digits"),
        (".jsonl", GOOD + '\n{"N": 2e8, "x": ' + "[" * 5000 + "]" * 5000 + "}", 2, None,
         "nested"),
        (".jsonl", "[" * 100_000 + "]" * 100_000 + "\n", 1, None, "nested"),
        (".json", "[" + GOOD + ',\n {"x": ' + "[" * 3000 + "]" * 3000 + "}]", 2, None,
         "nested"),
    ],
)  # fmt: skip
def test_json_runs_with_unreadable_numbers_or_nesting_name_line_and_column(
    tmp_path, suffix, text, line, column, words
):
    path = tmp_path / f"runs{suffix}"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_runs(path)
    message = str(info.value)
    assert message.startswith(f"runs file {path}, line {line}, column "), message
    if column is not None:
        assert f", column {column}:" in message
    assert words in message and "\n" not in message and len(message) < 300


def test_json_runs_with_ordinary_integers_still_load(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(
        '{"N": 100000000, "D": 2000000000, "L": 3.1}\n'
        '{"N": 200000000, "D": 100000000000000000000, "L": 2.9}\n'
    )
    assert load_runs(path).df["D"].tolist() == [2e9, 1e20]


def test_a_fit_file_with_a_huge_integer_or_deep_nesting_is_a_data_error(tmp_path, saved):
    _, text = saved
    for bad in (
        text.replace('"level": 0.95', '"level": 1' + "0" * 5000),
        text.replace('"extra": {', '"extra": {"x": ' + "[" * 5000 + "]" * 5000 + ", ", 1),
    ):
        path = tmp_path / "fit.json"
        path.write_text(bad)
        with pytest.raises(DataError, match=rf"fit file {re.escape(str(path))}, line \d+, col"):
            Fit.from_json(path)


# ----------------------------------------------------------------------------- 2. fit files
@pytest.fixture(scope="module")
def saved():
    """A bootstrapped Approach 3 fit and its JSON text."""
    rng = np.random.default_rng(0)
    N = np.repeat(np.geomspace(5e7, 5e9, 6), 4)
    D = N * np.tile(np.geomspace(5, 160, 4), 6)
    L = TRUE(N=N, D=D) * np.exp(0.01 * rng.standard_normal(N.size))
    fit = Approach3(n_bootstrap=4, seed=1).fit(pd.DataFrame({"N": N, "D": D, "L": L}))
    return fit, fit.to_json()


def _use(fit: Fit) -> None:
    """What the allocate and predict commands ask of a loaded fit."""
    fit.allocate([1e21, 1e24], level=0.9)
    fit.predict(N=1e9, D=2e10, level=0.9)
    fit.summary([1e21, 1e24])
    fit.beyond_data(1e24)
    fit.budget_diagnostics([1e19, 1e24])


@pytest.mark.parametrize(
    "key, value, named",
    [
        ("replicates", {"values": {"alpha": "x"}}, "replicates"),
        ("replicates", {"values": {"alpha": [1.0, 2.0], "beta": [1.0]}}, "replicates"),
        ("residuals", "abc", "residuals"),
        ("convention", {"k": "six"}, "convention"),
        ("law", {"law": "chinchilla", "E": "a"}, "law"),
        ("diagnostics", [{"code": 5}], "diagnostics"),
        ("diagnostics", [{"code": 5, "severity": "warning", "message": "m"}], "diagnostics"),
        ("diagnostics", [{"code": "X", "severity": "warning", "message": "m", "data": 1}],
         "diagnostics"),
        ("diagnostics", "abc", "diagnostics"),
        ("extra", {"data_range": "x"}, "extra.data_range"),
        ("extra", {"data_range": [1, 2]}, "extra.data_range"),
        ("extra", {"data_range": {"C": "x"}}, "extra.data_range"),
        ("extra", {"data_range": {"C": [1e18]}}, "extra.data_range"),
        ("extra", {"data_range": {"C": ["a", "b"]}}, "extra.data_range"),
        ("extra", {"data_range": {"C": [1e18, None]}}, "extra.data_range"),
        ("extra", {"extrapolation": "x"}, "extra.extrapolation"),
        ("extra", {"extrapolation": {"range": "x", "what": "C", "consequence": "c"}},
         "extra.extrapolation"),
        ("converged", "no", "converged"),
        ("approach", 3, "approach"),
    ],
)  # fmt: skip
def test_a_hand_edited_fit_file_is_a_data_error_naming_file_and_key(
    tmp_path, saved, key, value, named
):
    _, text = saved
    d = json.loads(text)
    d[key] = value
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(d))
    with pytest.raises(DataError, match=rf"^fit file {re.escape(str(path))}, key '{named}'"):
        _use(Fit.from_json(path))


def test_the_saved_fit_itself_still_loads_and_answers(saved):
    fit, text = saved
    back = Fit.from_json(text)
    _use(back)
    assert back.extra["data_range"] == fit.extra["data_range"]
    assert back.diagnostics == fit.diagnostics


DEMO_SWEEP = Path(__file__).resolve().parents[1] / "examples" / "data" / "demo-sweep"


@pytest.fixture(scope="module")
def profile_and_envelope_fits() -> dict[str, str]:
    """An Approach 2 fit (its extra['profiles']) and an Approach 1 fit (extra['envelope'])
    of the shipped demo sweep, as saved text."""
    import warnings

    from scalinglaws.fit.envelope import Approach1
    from scalinglaws.fit.isoflop import Approach2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sweep's own FLOPs convention
        runs = load_runs(DEMO_SWEEP / "runs.csv")
        curves = load_runs(DEMO_SWEEP / "curves.csv")
        return {
            "profiles": Approach2(n_bootstrap=0).fit(runs).to_json(),
            "envelope": Approach1(n_bootstrap=0).fit(curves).to_json(),
        }


@pytest.mark.parametrize(
    ("key", "edit"),
    [
        ("profiles", lambda v: "oops"),
        ("profiles", lambda v: ["x"]),
        ("profiles", lambda v: [{**v[0], "C": "big"}]),
        ("profiles", lambda v: [{k: x for k, x in v[0].items() if k != "N_opt"}]),
        ("profiles", lambda v: [{**v[0], "used": "yes"}]),
        ("profiles", lambda v: [{**v[0], "poly": [1, "x"]}]),
        ("envelope", lambda v: {**v, "C": v["C"][:-1]}),
        ("envelope", lambda v: {**v, "used": [1] * len(v["C"])}),
        ("envelope", lambda v: {**v, "N": None}),
    ],
)  # fmt: skip
def test_hand_edited_profiles_or_envelope_are_a_data_error(
    tmp_path, profile_and_envelope_fits, key, edit, capsys
):
    """The IsoFLOP and frontier figures read these: a wrong type was a traceback in `report`
    and `plot`; now it is one sentence naming the file and the key."""
    from scalinglaws.cli import main

    d = json.loads(profile_and_envelope_fits[key])
    assert Fit.from_json(json.dumps(d)).extra[key]  # the fit as written loads
    d["extra"][key] = edit(d["extra"][key])
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(d))
    with pytest.raises(DataError, match=rf"key 'extra.{key}', is not what Fit.to_json"):
        Fit.from_json(path)
    kind = "isoflop" if key == "profiles" else "frontier"
    code = main(["plot", kind, str(path), "-o", str(tmp_path / "f.png"), "--budgets", "1e15"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and f"key 'extra.{key}'" in err


def test_predict_command_with_an_edited_fit_is_one_line(tmp_path, saved, capsys):
    from scalinglaws.cli import main

    _, text = saved
    d = json.loads(text)
    d["extra"] = {"data_range": "x"}
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(d))
    code = main(["predict", "--fit", str(path), "--params", "1B", "--tokens", "20B"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert str(path) in err and "extra.data_range" in err


# ----------------------------------------------------------------------------- 3. plan name
@pytest.mark.parametrize("name", ["a\nb", "evil\n[sweep]\nkind = 'grid'", "tab\there", "x\x00",
                                  "line\u2028sep", "bell\x07", "del\x7f"])  # fmt: skip
def test_a_plan_name_with_a_control_character_is_refused(name):
    with pytest.raises(PlanError, match=r"\[sweep\] name .* control character"):
        Plan(budgets=(1e13,), name=name)


@pytest.mark.parametrize("name", ["../outside", "/etc", "a/b", "..", ".", "back\\slash"])
def test_a_plan_name_that_is_not_one_folder_name_is_refused(name, tmp_path, monkeypatch):
    """A Plan run without a folder runs in ./<name>: '/etc' or '../x' would lead elsewhere."""
    with pytest.raises(PlanError, match=r"is not a single folder name"):
        Plan(budgets=(1e13,), name=name)
    from scalinglaws.sweep.runner import default_folder

    monkeypatch.chdir(tmp_path)
    assert default_folder(Plan(budgets=(1e13,), name="ok.name")) == tmp_path / "ok.name"


def test_a_plan_file_whose_name_escapes_a_newline_is_refused(tmp_path):
    path = tmp_path / "plan.toml"
    write_plan(Plan(budgets=(1e13,), name="fine"), path)
    path.write_text(path.read_text().replace('name = "fine"', 'name = "a\\nkind = 1"'))
    with pytest.raises(PlanError, match="control character"):
        load_plan(path)


def test_a_printable_unicode_plan_name_round_trips(tmp_path):
    plan = Plan(budgets=(1e13,), name='Chinchilla "réplica" ✓ <b>')
    path = write_plan(plan, tmp_path / "plan.toml")
    assert load_plan(path).name == plan.name
    assert sum(line.startswith("# scalinglaws sweep plan") for line in path.read_text().split("\n"))


# ----------------------------------------------------------------------------- 4. report JSON
def test_report_data_island_survives_run_ids_that_look_like_html(tmp_path):
    """Run ids with ``<!--<script>`` and ``</script>`` (shown in the back-test) neither end the
    JSON element early nor make a browser read past its end, and the island parses back to
    report.json."""
    from scalinglaws.report import build_report

    sys.path.insert(0, str(Path(__file__).parent))
    from test_report import sweep_frame

    df = sweep_frame()
    df["run_id"] = df["run_id"] + np.where(np.arange(len(df)) % 2, "<!--<script>", "</script>&")
    csv = tmp_path / "runs.csv"
    df.to_csv(csv, index=False)
    result = build_report(csv, tmp_path / "out", n_bootstrap=2, seed=0)
    html = result.html.read_text()
    start = html.index('<script type="application/json" id="report-data">')
    start = html.index(">", start) + 1
    island = html[start : html.index("</script>", start)]
    for text in ("<", ">", "&"):
        assert text not in island
    numbers = json.loads(result.json.read_text())
    assert json.loads(island) == numbers
    assert "<!--<script>" in json.dumps(numbers)  # the run ids are in the data, intact
    assert html.count("</script>") == html.count("<script")


# ----------------------------------------------------------------------------- 5. run ids
def test_one_run_id_on_rows_of_different_n_is_refused(tmp_path):
    table = pd.DataFrame(
        {
            "run": ["a", "a", "b", "b", "a"],
            "N": [1e8, 1e8, 3e8, 3e8, 2e8],
            "D": [1e9, 2e9, 1e9, 2e9, 4e9],
            "L": [3.0, 2.9, 2.8, 2.7, 2.6],
        }
    )
    path = tmp_path / "runs.csv"
    table.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        load_runs(path, columns="run_id=run")
    message = str(info.value)
    assert message.startswith(f"run 'a' of {path} has 2 different N values")
    assert "data row 1 (line 2) (N=1e+08)" in message and "data row 5 (line 6) (N=2e+08)" in message
    with pytest.raises(DataError, match="run 'a' of the DataFrame has 2 different N values"):
        load_runs(table.rename(columns={"run": "run_id"}))


def test_a_run_of_one_size_loads_and_derived_n_may_round(tmp_path):
    table = pd.DataFrame(
        {
            "run_id": ["a", "a", "b", "b"],
            "C": [6.0e17, 1.2e18, 1.8e18, 3.6e18],
            "D": [1e9, 2.000001e9, 1e9, 2e9],
            "L": [3.0, 2.9, 2.8, 2.7],
        }
    )
    runs = load_runs(table)
    assert runs.n_runs == 2
