"""The README's command-line examples print what the README shows.

Every fenced block whose first line is ``$ scalinglaws ...`` and which shows its commands'
whole output (no ``...`` elision) is run through the real entry point, its commands in order,
and each command's output compared line by line (trailing spaces ignored); a command whose
output the block does not show (one that writes a file the next command reads) must succeed.
The commands run in a folder of their own laid out like the checkout (``examples/`` and
``../shared`` link to the real ones), so the files they write stay out of the checkout; a
file an earlier README block writes (``-o auto.json``) is made by that block's command
first if it is not there yet."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from scalinglaws.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"

Step = tuple[list[str], str]  # a command's argv (after "scalinglaws") and the output shown


def _blocks() -> list[list[str]]:
    blocks, current = [], None
    for line in README.read_text(encoding="utf-8").split("\n"):
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return [lines for lines in blocks if lines and lines[0].startswith("$ scalinglaws ")]


def _steps(lines: list[str]) -> list[Step] | None:
    """The block's commands with the output shown after each; None if one of them is not
    ``scalinglaws``."""
    steps: list[Step] = []
    body = list(lines)
    while body:
        command = [body.pop(0)]
        if not command[0].startswith("$ scalinglaws "):
            return None
        while command[-1].endswith("\\") and body:  # a command continued on the next line
            command[-1] = command[-1][:-1]
            command.append(body.pop(0))
        output = []
        while body and not body[0].startswith("$ "):
            output.append(body.pop(0))
        argv = shlex.split(" ".join(c.strip() for c in command))[2:]
        steps.append((argv, "\n".join(output)))
    return steps


#: The flags that name the file a command writes.
OUTPUT_FLAGS = ("-o", "--output")


def _inputs(argv: list[str]) -> list[str]:
    """The .json files a command reads (not the one it writes with ``-o``)."""
    return [
        a
        for i, a in enumerate(argv)
        if a.endswith(".json") and not (i and argv[i - 1] in OUTPUT_FLAGS)
    ]


def _writers() -> dict[str, list[str]]:
    """File -> the README command that writes it (``-o FILE.json``), from every block."""
    out: dict[str, list[str]] = {}
    for lines in _blocks():
        for argv, _ in _steps(lines) or []:
            for i, a in enumerate(argv[:-1]):
                if a in OUTPUT_FLAGS and argv[i + 1].endswith(".json"):
                    out.setdefault(argv[i + 1], argv)
    return out


WRITERS = _writers()


def _needs_auto_fit(steps: list[Step]) -> bool:
    """Whether the block runs an automatic fit (about 20 s), or needs one's file."""
    argvs = [argv for argv, _ in steps]
    argvs += [WRITERS[f] for argv in argvs for f in _inputs(argv) if f in WRITERS]
    return any(("--approach", "auto") in zip(a, a[1:], strict=False) for a in argvs)


def _examples() -> list:
    out = []
    for lines in _blocks():
        steps = _steps(lines)
        if steps is None or any(line.strip() == "..." for line in lines):
            continue
        if any("demo finished" in line for line in lines):  # make demo's printout, not the CLI's
            continue
        name = " && ".join(" ".join(argv) for argv, _ in steps)
        marks = [pytest.mark.slow] if _needs_auto_fit(steps) else []
        out.append(pytest.param(name, steps, marks=marks, id=name))
    return out


EXAMPLES = _examples()


def test_the_readme_has_command_examples():
    assert len(EXAMPLES) >= 4


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder laid out like the checkout for the README's relative paths."""
    top = tmp_path_factory.mktemp("readme")
    (top / ROOT.name).mkdir()
    (top / ROOT.name / "examples").symlink_to(ROOT / "examples")
    if SHARED.is_dir():
        (top / "shared").symlink_to(SHARED)
    return top / ROOT.name


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out + err


def _check_shared(argv: list[str], shared_data) -> None:
    """Skip without ../shared; fail if it lacks a file the command reads."""
    for a in argv:
        if a.startswith("../shared/data/"):
            shared_data(a.removeprefix("../shared/data/"))


@pytest.mark.parametrize(("name", "steps"), EXAMPLES)
def test_readme_example_prints_what_the_readme_shows(
    name, steps, workdir, shared_data, capsys, monkeypatch
):
    monkeypatch.chdir(workdir)
    for argv, _ in steps:
        _check_shared(argv, shared_data)
    for argv, expected in steps:
        for needed in _inputs(argv):
            if Path(needed).exists():
                continue
            if needed not in WRITERS:
                pytest.fail(f"{name} reads {needed}, which no README command writes")
            _check_shared(WRITERS[needed], shared_data)
            code, text = _run(WRITERS[needed], capsys)
            assert code == 0 and Path(needed).is_file(), text
        code, text = _run(argv, capsys)
        if not expected.strip():  # the block does not show this command's output
            assert code == 0, text
            continue
        got = [line.rstrip() for line in text.strip("\n").split("\n")]
        want = [line.rstrip() for line in expected.strip("\n").split("\n")]
        assert got == want
        assert code == (2 if want[0].startswith("error: ") else 0), text
