"""Tables fit the terminal, and piped output is complete (issue 12).

On a terminal (forced here the way rich lets the environment force it: ``TTY_COMPATIBLE=1``
and ``COLUMNS=80``) no line of a table command is wider than the terminal and no name a user
types next is cut; piped (stdout not a terminal, as under capsys) nothing is cut at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from scalinglaws.cli import main
from scalinglaws.cli.output import PIPE_WIDTH, console, print_table
from scalinglaws.presets import list_presets

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 80
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BOX = set("│┃┏┓┡┩└┘━─")
FIT_DATA = "chinchilla_fig4_epoch2024.csv"

COMMANDS = {
    "presets list": ["presets", "list"],
    "compare": ["compare", "--compute", "5.76e23,3.8e25"],
    "allocate": ["allocate", "--compute", "5.76e23,3.8e25"],
    "budget": [
        *("budget", "--compute", "3.8e25", "--accelerator", "h100"),
        *("--devices", "16000", "--mfu", "0.4", "--price-per-hour", "2"),
    ],
    "flops": [
        *("flops", "--layers", "126", "--d-model", "16384", "--heads", "128"),
        *("--kv-heads", "8", "--d-ff", "53248", "--vocab", "128256", "--context", "8192"),
        *("--gated", "--untied", "--positions", "none", "--tokens", "15.6T"),
    ],
    "accelerators": ["accelerators"],
    "sweep plan": ["sweep", "plan", str(ROOT / "examples/sweeps/demo.toml")],
    "sweep status": ["sweep", "status", str(ROOT / "examples/data/demo-sweep")],
    **{f"presets show {name}": ["presets", "show", name] for name in list_presets()},
}
#: Commands whose lines before the tables are echoed by code outside the tables (the
#: 'law:' line of allocate, the fit's method lines): only their tables are checked here.
TABLES_ONLY = {"allocate", "fit"}


@pytest.fixture
def terminal(monkeypatch) -> None:
    """stdout a terminal WIDTH cells wide, as rich reads it from the environment."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", str(WIDTH))


@pytest.fixture
def piped(monkeypatch) -> None:
    """stdout not a terminal (capsys) and no COLUMNS: the plain, complete form."""
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


def _run(argv: list[str], capsys) -> list[str]:
    """The command's stdout lines, without the terminal's colours."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return [ANSI.sub("", line).rstrip() for line in out.split("\n")]


def _fit_argv(shared_data) -> list[str]:
    data = shared_data(FIT_DATA)
    return [
        *("fit", str(data), "--columns", "N=Model Size,C=Training FLOP"),
        *("--drop-highest", "5"),
    ]


def _too_wide(name: str, lines: list[str]) -> list[str]:
    """The lines wider than WIDTH (of the tables only, for :data:`TABLES_ONLY`)."""
    if name in TABLES_ONLY:
        lines = [line for line in lines if BOX & set(line)]
    return [line for line in lines if cell_len(line) > WIDTH]


def _shows_whole(name: str, lines: list[str]) -> bool:
    """Whether ``name`` appears on some line, not cut and not part of a longer name."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    return any(pattern.search(line) for line in lines)


# ============================================================================ console()
def test_piped_console_is_wide_enough_for_anything(piped):
    c = console()
    assert not c.is_terminal and c.width == PIPE_WIDTH


def test_piped_console_honours_columns(piped, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    assert console().width == 90


def test_terminal_console_is_as_wide_as_the_terminal(terminal):
    c = console()
    assert c.is_terminal and c.width == WIDTH


# ============================================================================ print_table
def test_a_key_column_is_never_cut_even_when_the_table_cannot_fit(monkeypatch, capsys):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "20")
    name = "a-rather-long-identifier-2024"
    print_table([[name, "some words that can wrap"]], ["name", "text"])
    lines = [ANSI.sub("", line) for line in capsys.readouterr().out.split("\n")]
    assert _shows_whole(name, lines)
    assert not any("…" in line for line in lines)


def test_an_optional_column_is_dropped_with_a_note_only_when_needed(terminal, capsys):
    rows = [["id-1", "x" * 30, "y" * 30, "z" * 30]]
    print_table(rows, ["id", "a", "b", "c"], optional={2: "'scalinglaws b'"})
    lines = [ANSI.sub("", line).rstrip() for line in capsys.readouterr().out.split("\n")]
    assert all(cell_len(line) <= WIDTH for line in lines)
    assert not any("y" * 30 in line for line in lines)
    assert any("b: see 'scalinglaws b'" in line for line in lines)
    print_table(rows[:1], ["id", "a", "b", "c"][:2], optional={1: "'scalinglaws a'"})
    assert "not shown" not in capsys.readouterr().out


def test_a_narrowed_column_wraps_between_words_not_inside_them(terminal, capsys):
    words = " ".join(f"word{i:02d}" for i in range(30))
    print_table([["id", words, words]], ["id", "a", "b"])
    text = ANSI.sub("", capsys.readouterr().out)
    assert all(f"word{i:02d}" in text for i in range(30))
    assert all(cell_len(line.rstrip()) <= WIDTH for line in text.split("\n"))


# ============================================================================ commands
@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_fits_an_80_column_terminal(name, terminal, capsys):
    lines = _run(COMMANDS[name], capsys)
    assert not _too_wide(name, lines)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_piped_command_output_is_complete(name, piped, capsys):
    lines = _run(COMMANDS[name], capsys)
    assert not [line for line in lines if "…" in line]
    assert not any("not shown at this width" in line for line in lines)


def test_fit_tables_fit_an_80_column_terminal(terminal, capsys, shared_data):
    lines = _run(_fit_argv(shared_data), capsys)
    assert [line for line in lines if BOX & set(line)]
    assert not _too_wide("fit", lines)


def test_piped_fit_output_is_complete(piped, capsys, shared_data):
    lines = _run(_fit_argv(shared_data), capsys)
    assert not [line for line in lines if "…" in line]


@pytest.fixture(scope="module")
def bootstrap_fit(tmp_path_factory, shared_data) -> Path:
    """A saved fit with bootstrap intervals (allocate's widest table)."""
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    code = main([*_fit_argv(shared_data), "--bootstrap", "20", "-o", str(path)])
    assert code == 0 and path.is_file()
    return path


@pytest.mark.parametrize("fixture", ["terminal", "piped"])
def test_allocate_with_intervals_fits_and_pipes_whole(fixture, request, capsys, bootstrap_fit):
    request.getfixturevalue(fixture)
    lines = _run(["allocate", "--fit", str(bootstrap_fit), "--compute", "5.76e23,3.8e25"], capsys)
    assert not [line for line in lines if "…" in line]
    if fixture == "terminal":
        assert not _too_wide("allocate", lines)
        note = " ".join(line.strip() for line in lines)
        assert "tokens/param, L* 95%: see the same command with --json" in note
    else:
        assert any("tokens/param" in line and "┃" in line for line in lines)


@pytest.mark.parametrize("fixture", ["terminal", "piped"])
def test_presets_list_shows_every_preset_name_whole(fixture, request, capsys):
    request.getfixturevalue(fixture)
    lines = _run(["presets", "list"], capsys)
    assert [n for n in list_presets() if not _shows_whole(n, lines)] == []


@pytest.mark.parametrize("fixture", ["terminal", "piped"])
def test_compare_shows_every_preset_name_whole(fixture, request, capsys):
    request.getfixturevalue(fixture)
    lines = _run(["compare", "--compute", "5.76e23"], capsys)
    assert [n for n in list_presets() if not _shows_whole(n, lines)] == []


def test_sweep_status_shows_every_run_name_whole(terminal, capsys):
    lines = _run(COMMANDS["sweep status"], capsys)
    runs = sorted(p.stem for p in (ROOT / "examples/data/demo-sweep/runs").glob("*.json"))
    assert runs
    assert [r for r in runs if not _shows_whole(r, lines)] == []
