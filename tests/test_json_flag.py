"""`--json` means one thing on every command: print the command's result as JSON on stdout,
and nothing else there.  A command that writes a result file takes `-o FILE` for it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest

from scalinglaws import ChinchillaLaw, Fit
from scalinglaws.cli import cli
from test_cli_fit import one_error, run

ROOT = Path(__file__).resolve().parents[1]
DEMO_SWEEP = ROOT / "examples" / "data" / "demo-sweep"
RUNS = "dataset:chinchilla_fig4"
TINY_PLAN = ["--n-ctx", "16", "--batch-size", "4", "--min-steps", "2"]

#: Small valid arguments of every command (before --json).  "{tmp}" is a fresh folder,
#: "{sweep}" a copy of the demo sweep folder, "{fit}" a saved fit.
ARGS: dict[str, list[str]] = {
    "allocate": ["--compute", "5.76e23", "--law", "hoffmann2022"],
    "predict": ["--params", "70B", "--tokens", "1.4T", "--law", "hoffmann2022"],
    "compare": ["--compute", "5.76e23"],
    "presets list": [],
    "presets show": ["llama3"],
    "kaplan-rules": ["--params", "1B", "--loss", "3.0"],
    "flops": ["--params", "7B", "--tokens", "1T"],
    "budget": ["--compute", "3.8e25", "--accelerator", "h100", "--devices", "16000"],
    "accelerators": [],
    "fit": [RUNS, "--bootstrap", "0"],
    "backtest": [RUNS, "--bootstrap", "0"],
    "sweep plan": ["--budgets", "1e13", *TINY_PLAN, "--corpus", "synthetic:markov"],
    "sweep run": ["{sweep}/plan.toml", "--out", "{sweep}"],
    "sweep status": ["{sweep}"],
    "sweep tables": ["{sweep}"],
    "report": ["{fit}", "-o", "{tmp}/report", "--budgets", "1e21", "--formats", "png"],
    "plot": ["presets", "-o", "{tmp}/presets.png"],
    "curve fit": ["dataset:pythia_train_loss", "--law", "power", "--run", "N=1.4e+07 seed=1"],
    "curve predict": [
        "dataset:pythia_train_loss",
        "--law",
        "power",
        "--run",
        "N=1.4e+07 seed=1",
        "--at-fraction",
        "0.5",
        "--bootstrap",
        "2",
    ],
    "curve backtest": [
        "dataset:pythia_train_loss",
        "--law",
        "power",
        "--fractions",
        "0.5",
    ],
    "datasets list": [],
    "datasets show": ["chinchilla_fig4"],
    "datasets export": ["chinchilla_fig4", "-o", "{tmp}/fig4.csv"],
}

HOFFMANN = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> dict[str, click.Command]:
    """Every command under ``group`` that is not itself a group, by its path ("sweep run")."""
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            out.update(_leaves(command, path))
        else:
            out[" ".join(path)] = command
    return out


COMMANDS = _leaves(cli)


def _argv(name: str, tmp_path: Path) -> list[str]:
    """The command's argv with its placeholders filled in (copying the demo sweep, writing
    the saved fit, only when used)."""
    places = {"{tmp}": str(tmp_path)}
    args = ARGS[name]
    if any("{sweep}" in a for a in args):
        places["{sweep}"] = str(shutil.copytree(DEMO_SWEEP, tmp_path / "sweep"))
    if "{fit}" in args:
        path = tmp_path / "fit.json"
        Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json(path)
        places["{fit}"] = str(path)
    argv = []
    for a in args:
        for key, value in places.items():
            a = a.replace(key, value)
        argv.append(a)
    return [*name.split(), *argv]


def test_every_command_has_arguments_here():
    assert set(COMMANDS) == set(ARGS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json_is_a_flag_on_every_command(name):
    (option,) = [p for p in COMMANDS[name].params if "--json" in p.opts]
    assert isinstance(option, click.Option) and option.is_flag, name


@pytest.mark.parametrize("name", sorted(ARGS))
def test_json_prints_only_json_on_stdout(name, tmp_path, capsys):
    code, out, err = run([*_argv(name, tmp_path), "--json"], capsys)
    assert code == 0, err
    json.loads(out)  # the whole of stdout is one JSON document


def test_fit_output_file_holds_what_json_prints(tmp_path, capsys):
    path = tmp_path / "fit.json"
    code, out, err = run(["fit", RUNS, "--bootstrap", "0", "--json", "-o", path], capsys)
    assert code == 0, err
    assert json.loads(out) == json.loads(path.read_text())
    assert out.strip() == path.read_text().strip()
    assert f"wrote {path}" in err and "runs: " in err  # the human lines went to stderr
    assert Fit.from_json(path).approach == "3"


def test_fit_output_without_json_prints_the_tables(tmp_path, capsys):
    path = tmp_path / "fit.json"
    code, out, err = run(["fit", RUNS, "--bootstrap", "0", "--output", path], capsys)
    assert code == 0, err
    assert "parameters" in out and f"wrote {path}" in out
    assert json.loads(path.read_text())["schema"].startswith("scalinglaws.fit/")


def test_report_json_is_report_json(tmp_path, capsys):
    code, out, err = run([*_argv("report", tmp_path), "--json"], capsys)
    assert code == 0, err
    written = tmp_path / "report" / "report.json"
    assert json.loads(out) == json.loads(written.read_text())
    assert f"wrote {tmp_path / 'report'}" in err


def test_plot_json_names_the_file(tmp_path, capsys):
    code, out, err = run([*_argv("plot", tmp_path), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out) == {"figure": "presets", "files": [str(tmp_path / "presets.png")]}
    assert (tmp_path / "presets.png").is_file()


def test_sweep_tables_json_names_the_tables(tmp_path, capsys):
    code, out, err = run([*_argv("sweep tables", tmp_path), "--json"], capsys)
    assert code == 0, err
    record = json.loads(out)
    assert Path(record["runs_csv"]).is_file() and Path(record["curves_csv"]).is_file()
    assert isinstance(record["problems"], list)


@pytest.mark.parametrize("command", ["fit", "backtest"])
@pytest.mark.parametrize(
    "old", [["--json", "out.json"], ["--json", "-"], ["--json=out.json"]], ids=str
)
def test_the_old_json_file_form_is_one_sentence(command, old, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    msg = one_error(run([command, RUNS, *old], capsys)[2])
    assert "--json takes no file now" in msg and "-o FILE (or --output FILE)" in msg
    assert not (tmp_path / "out.json").exists()


def test_json_before_the_runs_is_still_the_flag(tmp_path, capsys):
    code, out, err = run(["fit", "--json", RUNS, "--bootstrap", "0"], capsys)
    assert code == 0, err
    assert json.loads(out)["approach"] == "3"


def test_output_dash_is_refused(capsys):
    msg = one_error(run(["fit", RUNS, "-o", "-"], capsys)[2])
    assert "print the result on stdout with --json" in msg
