"""Bad input, as a hostile new user gives it: one sentence on stderr, exit 2, no traceback.

Each test here failed before the fix it guards (a traceback, a silent guess, a misleading
sentence or a wrong exit code).  No test trains a model or runs a long fit.
"""

from __future__ import annotations

import gzip
import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import ChinchillaLaw, Fit
from scalinglaws.cli import main
from scalinglaws.errors import (
    DataError,
    DomainError,
    OutputError,
    PlanError,
    QuantityError,
    UnknownNameError,
)

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(code: int, err: str) -> str:
    """The single 'error: ...' line of an exit-2 failure (no traceback, nothing else)."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def runs_df() -> pd.DataFrame:
    """Final losses of Hoffmann's law on a small IsoFLOP grid."""
    rows = []
    for C in (1e18, 1e19, 1e20):
        for f in (0.3, 1.0, 3.0):
            N = 0.1 * (C / 6) ** 0.5 * f
            D = C / (6 * N)
            rows.append({"N": N, "D": D, "C": C, "L": float(HOFFMANN(N=N, D=D))})
    return pd.DataFrame(rows)


@pytest.fixture
def fit_dict(tmp_path) -> dict:
    return json.loads(Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json())


# ============================================================================ the entry point
def test_a_group_without_its_command_prints_its_help_not_an_error(capsys):
    code, out, err = run(["sweep"], capsys)
    assert code == 2 and out == ""
    assert "error:" not in err and err.lstrip().startswith("Usage: scalinglaws sweep")
    assert "see 'scalinglaws" not in err  # the help is not glued to an error sentence


# ============================================================================ saved fits
@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["law"].__setitem__("E", None), "constant E of law 'chinchilla'"),
        (lambda d: d["law"].__setitem__("E", "abc"), "must be a finite number, got 'abc'"),
        (lambda d: d.__setitem__("law", [1, 2]), "key 'law'"),
        (lambda d: d.__setitem__("params", [1]), "key 'params'"),
        (lambda d: d.__setitem__("level", "high"), "key 'level'"),
        (lambda d: d.pop("approach"), "the key 'approach' is missing"),
        (lambda d: d.pop("schema"), "no 'schema' key"),
    ],
)
def test_a_tampered_fit_file_is_one_sentence_naming_the_file(
    tmp_path, capsys, fit_dict, change, words
):
    change(fit_dict)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fit_dict))
    for argv in (
        ["predict", "--params", "1B", "--tokens", "20B", "--fit", path],
        ["allocate", "--compute", "1e24", "--fit", path],
    ):
        msg = one_error(*run(argv, capsys)[::2])
        assert words in msg and f"fit file {path}" in msg


def test_fit_files_that_are_not_json_or_not_files(tmp_path, capsys, fit_dict):
    trunc = tmp_path / "trunc.json"
    trunc.write_text(json.dumps(fit_dict)[:200])
    binary = tmp_path / "binary.json"
    binary.write_bytes(bytes(range(128, 256)))
    for path, words in ((trunc, "is not valid JSON"), (binary, "is not UTF-8 text")):
        msg = one_error(*run(["allocate", "--compute", "1e24", "--fit", path], capsys)[::2])
        assert f"fit file {path} {words}" in msg
    msg = one_error(*run(["allocate", "--compute", "1e24", "--fit", tmp_path], capsys)[::2])
    assert "is a folder" in msg
    with pytest.raises(DataError, match="takes a file path or a JSON string"):
        Fit.from_json(5)
    with pytest.raises(DataError, match="must be a JSON object"):
        Fit.from_dict([])


def test_an_auto_fit_without_its_candidates_says_so(tmp_path, capsys, fit_dict):
    fit_dict["approach"] = "auto"
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fit_dict))
    msg = one_error(
        *run(["predict", "--params", "1B", "--tokens", "2B", "--fit", path], capsys)[::2]
    )
    assert "lacks the evidence record" in msg and "not from the automatic fit" not in msg


def test_a_fit_with_a_negative_exponent_cannot_be_allocated(tmp_path, capsys, fit_dict):
    fit_dict["law"]["alpha"] = -0.3
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fit_dict))
    msg = one_error(*run(["allocate", "--compute", "1e24", "--fit", path], capsys)[::2])
    assert "alpha = -0.3" in msg and "needs A, B, alpha and beta > 0" in msg


# ============================================================================ writing results
def test_writing_where_it_cannot_is_one_sentence_and_files_are_readable(tmp_path):
    fit = Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=r"a_file is a file, not a folder"):
        fit.to_json(blocker / "fit.json")
    with pytest.raises(OutputError, match="cannot write"):
        fit.to_json(tmp_path)  # a folder
    fit.to_json(tmp_path / "new" / "fit.json")
    mode = stat.S_IMODE(os.stat(tmp_path / "new" / "fit.json").st_mode)
    assert mode & 0o044 == 0o044  # readable by others, not mkstemp's 0600


def test_a_report_into_an_impossible_folder_fails_before_any_fit(tmp_path, runs_df):
    runs = tmp_path / "runs.csv"
    runs_df.to_csv(runs, index=False)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="a_file is a file, not a folder"):
        sl.build_report(runs, blocker / "report", n_bootstrap=0, backtest=False)


def test_a_figure_into_an_impossible_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    msg = one_error(*run(["plot", "presets", "-o", blocker / "x.png"], capsys)[::2])
    assert "a_file is a file, not a folder" in msg


# ============================================================================ runs files
def test_runs_files_with_the_wrong_shape(tmp_path, capsys, runs_df):
    text = runs_df.to_csv(index=False)
    cases = {
        "semi.csv": (text.replace(",", ";"), "seems separated by ';'"),
        "tabs.csv": (text.replace(",", "\t"), "seems separated by tabs"),
        "long.csv": (text.replace("\n", ",1\n").replace("N,D,C,L,1", "N,D,C,L", 1), None),
        "twice.csv": (text.replace("N,D,C,L", "N,N,C,L", 1), "more than one column named 'N'"),
    }
    cases["long.csv"] = (cases["long.csv"][0], "more fields than its header has column names")
    for name, (body, words) in cases.items():
        (tmp_path / name).write_text(body)
        msg = one_error(*run(["fit", tmp_path / name], capsys)[::2])
        assert words in msg, msg
    (tmp_path / "bad.csv.gz").write_text(text)  # not compressed
    msg = one_error(*run(["fit", tmp_path / "bad.csv.gz"], capsys)[::2])
    assert "is not gzip-compressed CSV" in msg


def test_a_csv_with_a_bom_and_a_gzipped_csv_are_read(tmp_path, runs_df):
    text = runs_df.to_csv(index=False)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    with gzip.open(tmp_path / "runs.csv.gz", "wt") as fh:
        fh.write(text)
    (tmp_path / "bom.jsonl").write_bytes(
        b"\xef\xbb\xbf" + runs_df.to_json(orient="records", lines=True).encode()
    )
    for name in ("bom.csv", "runs.csv.gz", "bom.jsonl"):
        assert sl.load_runs(tmp_path / name).column_map["N"] == "N"


def test_json_that_is_not_a_runs_table(tmp_path, capsys, runs_df):
    fit = tmp_path / "fit.json"
    Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json(fit)
    msg = one_error(*run(["fit", fit], capsys)[::2])
    assert "is a saved scalinglaws result" in msg and "not a runs table" in msg
    columns = tmp_path / "columns.json"
    columns.write_text(json.dumps(runs_df.to_dict(orient="list")))
    msg = one_error(*run(["fit", columns], capsys)[::2])
    assert "holds one JSON object" in msg and "JSON Lines" in msg


def test_a_sweep_folder_is_read_by_fit_and_load_runs_points_at_the_loader(
    tmp_path, capsys, runs_df
):
    runs_df.to_csv(tmp_path / "runs.csv", index=False)
    code, out, _ = run(["fit", tmp_path, "--bootstrap", "0"], capsys)
    assert code == 0 and "approach 3" in out
    with pytest.raises(DataError, match=r"is a sweep folder; the commands .*\.load_sweep\("):
        sl.load_runs(tmp_path)


def test_column_mappings_that_map_twice(tmp_path, capsys, runs_df):
    runs_df.to_csv(tmp_path / "runs.csv", index=False)
    for mapping, words in (
        ("N=C,C=C", "gives the column 'C' to both N and C"),
        ("N=N,N=D", "gives N twice"),
        (str(tmp_path), "must be a .yaml, .toml or .json file"),
    ):
        msg = one_error(*run(["fit", tmp_path / "runs.csv", "--columns", mapping], capsys)[::2])
        assert words in msg


def test_dataframes_with_duplicated_names_labels_or_complex_values(runs_df):
    with pytest.raises(DataError, match="more than one column named 'N'"):
        sl.load_runs(pd.concat([runs_df, runs_df[["N"]]], axis=1))
    # a repeated index label is not a run id: every row is still its own run
    runs = sl.load_runs(runs_df.set_index(pd.Index([0] * len(runs_df))))
    assert runs.n_runs == len(runs_df)
    with pytest.raises(DataError, match="is not a real number"):
        sl.load_runs(runs_df.assign(L=runs_df.L + 0j))


# ============================================================================ laws and the API
def test_laws_reject_text_and_non_numbers():
    with pytest.raises(DomainError, match="parse_quantity"):
        HOFFMANN(N="70B", D=1e12)
    with pytest.raises(DomainError, match="must be a finite number greater than 0"):
        sl.allocate(HOFFMANN, C="abc")
    with pytest.raises(DomainError, match="booleans are not accepted"):
        sl.allocate(HOFFMANN, C=True)
    with pytest.raises(DomainError, match="constant E of law 'chinchilla'"):
        ChinchillaLaw(E="x", A=406.4, B=410.7, alpha=0.34, beta=0.28)
    with pytest.raises(DomainError, match="is written as an object"):
        sl.law_from_dict(5)
    with pytest.raises(UnknownNameError, match="needs a 'law' key"):
        sl.law_from_dict({})


def test_allocate_stays_a_function_after_its_module_is_imported():
    sl.efficient_frontier(HOFFMANN, C_range=(1e20, 1e24), num=3)  # imports the module
    import scalinglaws.allocation  # noqa: F401

    assert callable(sl.allocate) and sl.allocate(HOFFMANN, C=1e24).N > 0


def test_estimators_and_backtest_reject_bad_arguments(runs_df):
    with pytest.raises(UnknownNameError, match="candidates must be names"):
        sl.AutoFit(candidates=5)
    with pytest.raises(QuantityError, match="seed must be a whole number >= 0"):
        sl.Approach3(seed=-1, n_bootstrap=2)
    with pytest.raises(DataError, match="needs an estimator such as Approach3"):
        sl.backtest(None, runs_df)


# ============================================================================ calculator flags
def test_calculator_flags_that_were_silently_ignored(tmp_path, capsys):
    fit = tmp_path / "fit.json"
    Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json(fit)
    cases = [
        (["allocate", "--compute", ""], "--compute is empty"),
        (["predict", "--params", "70B", "--tokens", "1T", "--level", "0.9"], "not to a preset"),
        (
            ["predict", "--params", "70B", "--tokens", "1T", "--level", "0.9", "--fit", fit],
            "has no bootstrap replicates",
        ),
        (["budget", "--accelerator", "list", "--compute", "1e24"], "drop --compute"),
        (
            ["flops", "--layers", "8", "--d-model", "512", "--heads", "7"]
            + ["--vocab", "32k", "--context", "2048"],
            "--heads 7 does not divide --d-model 512",
        ),
        (["fit", tmp_path / "none.csv", "--seed", "-1", "--bootstrap", "2"], "seed"),
    ]
    for argv, words in cases:
        assert words in one_error(*run(argv, capsys)[::2])


# ============================================================================ sweeps
TINY = ["--n-ctx", "16", "--batch-size", "4", "--min-steps", "2", "--corpus", "synthetic:markov"]
GRID = ["--kind", "grid", "--sizes", "3k", "--tokens", "20k", *TINY]
ISOFLOP = ["--budgets", "1e13", *TINY]


def test_sweep_plan_bad_flags_and_outputs(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    cases = [
        ([*GRID, "--workers", "0"], "--workers must be a whole number >= 1"),
        ([*GRID, "-o", tmp_path / "plan.json"], "a plan is written as TOML"),
        ([*GRID, "-o", tmp_path], "is a folder"),
        ([*GRID, "--corpus", tmp_path / "empty.txt"], "is empty"),
        ([*GRID, "--corpus", "synthetic:markov:size=1e12"], "size must be at most"),
        ([*ISOFLOP, "--sizes-per-budget", "1000000000"], "at most 100"),
        ([*ISOFLOP, "--center", "abc"], "--center 'abc' is neither"),
    ]
    for flags, words in cases:
        msg = one_error(*run(["sweep", "plan", *flags], capsys)[::2])
        assert words in msg, msg
        assert "the flags" not in msg and "[sweep]" not in msg  # said in the flags' words


def test_sweep_plan_files_that_are_folders_or_point_at_bad_fits(tmp_path, capsys):
    msg = one_error(*run(["sweep", "plan", tmp_path], capsys)[::2])
    assert "is a folder" in msg
    (tmp_path / "trunc.json").write_text('{"schema": "scalinglaws.fit/1", "la')
    plan = tmp_path / "p.toml"
    plan.write_text('[sweep]\nbudgets = [1e13]\ncenter = "fit:trunc.json"\n')
    msg = one_error(*run(["sweep", "plan", plan], capsys)[::2])
    assert f"plan file {plan}, [sweep] center" in msg and "is not valid JSON" in msg


def test_sweep_status_of_things_that_are_not_sweeps(tmp_path, capsys):
    plan = tmp_path / "p.toml"
    plan.write_text("[sweep]\n")
    msg = one_error(*run(["sweep", "status", plan], capsys)[::2])
    assert "is a file, not a sweep folder" in msg and str(tmp_path / "p") in msg
    for body in ('{"runs": 5}', "[1]", '{"runs": [{"x": 1}]}', "{}"):
        (tmp_path / "planned.json").write_text(body)
        msg = one_error(*run(["sweep", "status", tmp_path], capsys)[::2])
        assert "is not the list of planned runs" in msg
    row = {"run_id": "r1", "N": 3120, "D": 20480, "C": 1.4e9}
    (tmp_path / "planned.json").write_text(json.dumps({"name": "x", "runs": [row]}))
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "r1.json").write_text('{"run_id": "r1", "status": "ok", "result": {}}')
    code, out, err = run(["sweep", "status", tmp_path], capsys)
    assert code == 0 and "r1" in out, err


def test_sweep_run_refuses_a_folder_holding_something_else(tmp_path, capsys):
    from scalinglaws.sweep.plan import plan_from_dict, write_plan

    plan = plan_from_dict(
        {
            "sweep": {
                "name": "mine",
                "kind": "grid",
                "sizes": ["3k"],
                "tokens": ["20k"],
                "corpus": "synthetic:markov",
            },
            "family": {"n_ctx": 16},
            "hparams": {"batch_size": 4, "min_steps": 2},
        }
    )
    plan_file = write_plan(plan, tmp_path / "mine.toml")
    other = tmp_path / "other"
    other.mkdir()
    (other / "planned.json").write_text('{"name": "theirs", "runs": []}')
    msg = one_error(*run(["sweep", "run", plan_file, "--out", other], capsys)[::2])
    assert "holds the sweep 'theirs'" in msg and "not 'mine'" in msg
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "runs.csv").write_text("precious\n")
    msg = one_error(*run(["sweep", "run", plan_file, "--out", mine], capsys)[::2])
    assert "already holds files that are not a sweep's (runs.csv)" in msg
    assert (mine / "runs.csv").read_text() == "precious\n"
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    msg = one_error(*run(["sweep", "run", plan_file, "--out", blocker / "s"], capsys)[::2])
    assert "cannot write the sweep folder" in msg


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ({"time_min": float("nan")}, "^time_min must be a positive number"),
        ({"gpus": -1}, "^gpus must be a whole number >= 0"),
        ({"mem_gb": -1.0}, "^mem_gb must be a positive number"),
    ],
)
def test_slurm_options_are_checked_before_any_work(option, words):
    from scalinglaws.sweep.executors import check_executor

    with pytest.raises(PlanError, match=words):
        check_executor("slurm", **option)


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--time", "nan"], "error: --time must be a positive number of minutes, got nan"),
        (["--gpus", "-1"], "error: --gpus must be a whole number >= 0, got -1"),
        (["--mem-gb", "-1"], "error: --mem-gb must be a positive number of gigabytes, got -1.0"),
        (["--address", "auto"], "error: --address only applies to --executor ray, not local"),
    ],
)
def test_sweep_run_says_in_flags_what_the_library_says_in_arguments(flags, line, capsys):
    assert one_error(*run(["sweep", "run", "plan.toml", *flags], capsys)[::2]) == line


def test_library_messages_are_restated_in_a_commands_flags():
    """The library names arguments; the CLI's table (options by stored name, plus the library
    names of shared flags) turns the leading argument and every name=value into flags."""
    from scalinglaws.cli import cli
    from scalinglaws.cli.options import flag_table, in_flag_words

    run_flags = flag_table(cli.commands["sweep"].commands["run"])
    assert run_flags["time_min"] == "--time" and run_flags["mem_gb"] == "--mem-gb"
    assert flag_table(cli.commands["budget"])["flops"] == "--compute"
    assert "flops" not in flag_table(cli.commands["flops"])  # no --compute there
    say = in_flag_words
    assert say("time_min must be > 0", run_flags, "time_min") == "--time must be > 0"
    assert say("time_min must be > 0", run_flags) == "time_min must be > 0"  # not at fault
    assert (
        say(
            "partition, gpus and mem_gb only apply to executor='slurm', not local",
            run_flags,
            "partition",
        )
        == "--partition, --gpus and --mem-gb only apply to --executor slurm, not local"
    )
    assert say("give a folder (out=FOLDER); timeout=3", run_flags) == (
        "give a folder (--out FOLDER); timeout=3"
    )
    assert say('map them with columns="L=loss"', {"columns": "--columns"}, "columns") == (
        'map them with --columns "L=loss"'
    )


def test_sweep_run_with_failed_runs_exits_non_zero(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    import scalinglaws.sweep.runner as runner

    def fake(*args, **kwargs):
        return runner.SweepSummary(
            folder=Path(tmp_path),
            planned=2,
            already_done=0,
            kept_failed=0,
            ran=2,
            succeeded=1,
            failed=[("r2", "Diverged: the loss became non-finite")],
            wall_seconds=1.0,
            executor="local",
            runs_csv=Path(tmp_path) / "runs.csv",
            curves_csv=Path(tmp_path) / "curves.csv",
        )

    monkeypatch.setattr(runner, "run_sweep", fake)
    code, out, err = run(["sweep", "run", tmp_path / "p.toml"], capsys)
    assert code == 1 and "failed: r2" in out and "1 of 2 run(s) failed" in err
    code, out, err = run(["sweep", "run", tmp_path / "p.toml", "--json"], capsys)
    assert code == 1 and json.loads(out)["failed"][0]["run_id"] == "r2"


def test_the_runs_of_a_checked_plan_stay_few(tmp_path):
    """A huge sizes_per_budget used to build a billion-point grid before any check."""
    from scalinglaws.sweep.plan import Plan

    with pytest.raises(PlanError, match="at most 100"):
        Plan(budgets=(1e13,), sizes_per_budget=10**9)
    assert np.isfinite(Plan(budgets=(1e13,), corpus="synthetic:markov").runs[0].C)


# ---------------------------------------------------------------- fit / backtest / plot / report
def test_fit_refuses_to_write_its_result_over_the_runs_file(tmp_path, capsys, runs_df):
    path = tmp_path / "runs.csv"
    runs_df.to_csv(path, index=False)
    before = path.read_bytes()
    for command in ("fit", "backtest"):
        msg = one_error(*run([command, path, "-o", path], capsys)[::2])
        assert "is the runs file being read" in msg
    assert path.read_bytes() == before


def test_empty_budgets_are_refused_by_name(tmp_path, capsys, runs_df):
    path = tmp_path / "runs.csv"
    runs_df.to_csv(path, index=False)
    assert "--budgets is empty" in one_error(*run(["fit", path, "--budgets="], capsys)[::2])
    msg = one_error(*run(["plot", "frontier", path, "-o", tmp_path / "f.png", "--budgets", "1e"],
                         capsys)[::2])  # fmt: skip
    assert msg.startswith("error: --budgets ")


def test_plot_refuses_arguments_it_would_ignore(tmp_path, capsys, runs_df):
    path = tmp_path / "runs.csv"
    runs_df.to_csv(path, index=False)
    out = tmp_path / "p.png"
    msg = one_error(*run(["plot", "presets", path, "-o", out], capsys)[::2])
    assert "takes no SOURCE" in msg
    msg = one_error(
        *run(["plot", "frontier", path, "-o", out, "--law", "hoffmann2022"], capsys)[::2]
    )
    assert "--law applies to the isoloss, loss-compute, curves, epochs, data-isoloss, " in msg
    assert not out.exists()


def test_report_seed_is_named(tmp_path, capsys, runs_df):
    path = tmp_path / "runs.csv"
    runs_df.to_csv(path, index=False)
    msg = one_error(*run(["report", path, "-o", tmp_path / "r", "--seed", "-1"], capsys)[::2])
    assert msg == "error: --seed must be a whole number >= 0, got -1"


def test_a_foreign_warning_is_shown_once_and_the_command_ends(tmp_path):
    """Issue 11, item 1: a numpy RuntimeWarning inside `fit` (a run at N = 1e308 overflows
    the arithmetic) used to loop forever -- showing a warning inside catch_warnings(record=True)
    records it again.  Run in a subprocess with a time limit so that a regression fails
    instead of eating the machine's memory."""
    import subprocess
    import sys

    rows = ["N,D,loss"] + [
        f"{n:g},{d:g},{1.7 + 400 / n**0.34 + 400 / d**0.28:.5f}"
        for n in (1e6, 3e6, 1e7, 3e7, 1e8)
        for d in (1e8, 1e9, 1e10)
    ]
    path = tmp_path / "r.csv"
    path.write_text("\n".join([*rows, "1e308,1e9,2.5"]) + "\n")
    code = (
        "import sys; from scalinglaws.cli import main; "
        f"sys.exit(main(['fit', {str(path)!r}, '--bootstrap', '0']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 2), done.stderr
    assert done.stderr.count("RuntimeWarning: overflow encountered in multiply") <= 2
