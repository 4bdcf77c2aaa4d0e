"""The README's command-line examples print what the README shows.

Every fenced block whose first line is ``$ scalinglaws ...`` and which shows one command's
whole output (no ``...`` elision, no second command) is run through the real entry point and
its output compared line by line (trailing spaces ignored)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from scalinglaws.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared" / "data"


def _examples() -> list[tuple[str, list[str], str]]:
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
    out = []
    for lines in blocks:
        if not lines or not lines[0].startswith("$ scalinglaws "):
            continue
        command = [lines[0]]
        body = lines[1:]
        while command[-1].endswith("\\"):  # a command continued on the next line
            command[-1] = command[-1][:-1]
            command.append(body.pop(0))
        if any(line.startswith("$ ") for line in body) or any(
            line.strip() == "..." for line in body
        ):
            continue
        if any("demo finished" in line for line in body):  # make demo's printout, not the CLI's
            continue
        argv = shlex.split(" ".join(c.strip() for c in command))[2:]
        out.append((" ".join(argv), argv, "\n".join(body)))
    return out


EXAMPLES = _examples()


def test_the_readme_has_command_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize(("name", "argv", "expected"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_readme_example_prints_what_the_readme_shows(name, argv, expected, capsys, monkeypatch):
    if any("../shared/" in a for a in argv):
        if not SHARED.is_dir():
            pytest.skip("../shared is absent")
    made_earlier = [a for a in argv if a.endswith(".json") and not (ROOT / a).exists()]
    if made_earlier:
        pytest.skip(f"needs {made_earlier[0]}, which an earlier README command writes")
    monkeypatch.chdir(ROOT)
    main(argv)
    out, err = capsys.readouterr()
    got = [line.rstrip() for line in (out + err).strip("\n").split("\n")]
    want = [line.rstrip() for line in expected.strip("\n").split("\n")]
    assert got == want
