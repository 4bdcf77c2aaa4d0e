"""Property-based checks (hypothesis) of the boundary: whatever quantities or run tables a
user hands the command line, it answers or refuses in one sentence -- exit 0, or exit 2 with
one ``error:`` line -- and never prints a traceback (issue 11)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalinglaws.cli import main
from scalinglaws.errors import ScalingLawsError
from scalinglaws.units import parse_quantity

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure reproduces
)

#: Numbers as people and programs write them, the extremes included.
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-320, max_value=1e308),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 1e308, 1e-320, 5.76e23, 70e9, 1.4e12]),
)


def _as_text(x: float | int) -> str:
    return str(x) if isinstance(x, int) else f"{x!r}"


#: Quantity text: a number in some notation, or text made of the characters quantities use.
QUANTITY_TEXT = st.one_of(
    NUMBERS.map(_as_text),
    st.tuples(
        st.floats(min_value=0.01, max_value=999, allow_nan=False),
        st.sampled_from(["", "K", "M", "B", "T", "k", "e23", "x10^22", " PF-days", "%"]),
    ).map(lambda t: f"{t[0]:g}{t[1]}"),
    st.text(alphabet="0123456789eE+-.,xX^BKMGTkmgpt _", min_size=1, max_size=40),
)

#: CLI calls whose one free argument is a quantity.
COMMANDS = [
    ["allocate", "--law", "hoffmann2022", "--compute"],
    ["allocate", "--law", "hoffmann2022", "--params"],
    ["predict", "--law", "hoffmann2022", "--params", "70B", "--tokens"],
    ["compare", "--compute"],
    ["budget", "--accelerator", "h100", "--compute"],
    ["budget", "--compute", "1e24", "--accelerator", "h100", "--devices"],
    ["flops", "--params"],
    ["sweep", "plan", "--sizes-per-budget", "3", "--budgets"],
    ["sweep", "plan", "--budgets", "1e13", "--spread"],
]


def _check(code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = [line for line in err.strip().splitlines() if not line.startswith("warning")]
        assert len(lines) == 1 and lines[0].startswith("error: "), err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:1] + c[-1:]))
@SETTINGS
@given(text=QUANTITY_TEXT)
def test_every_quantity_is_answered_or_refused_in_one_sentence(command, text, capsys):
    code = main([*command, text])
    _check(code, capsys.readouterr().err)


@SETTINGS
@given(text=QUANTITY_TEXT)
def test_a_parsed_quantity_is_finite_and_positive_or_refused(text):
    try:
        value = parse_quantity(text, what="C")
    except ScalingLawsError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600
        return
    assert math.isfinite(value)


#: A runs table cell: a number (any), empty, or text.
CELLS = st.one_of(
    NUMBERS.map(_as_text),
    st.just(""),
    st.sampled_from(["nan", "inf", "-inf", "abc", "1e400", "1,5", '"']),
)


@SETTINGS
@given(
    rows=st.lists(st.tuples(CELLS, CELLS, CELLS), min_size=0, max_size=12),
    approach=st.sampled_from(["2", "power"]),
)
def test_every_runs_table_is_fitted_or_refused_in_one_sentence(
    rows, approach, tmp_path: Path, capsys
):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n" + "".join(",".join(r) + "\n" for r in rows))
    code = main(["fit", str(path), "--approach", approach, "--bootstrap", "0"])
    _check(code, capsys.readouterr().err)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.floats(min_value=1e3, max_value=1e12),
            st.floats(min_value=1e6, max_value=1e14),
            st.floats(min_value=0.5, max_value=8.0),
        ),
        min_size=4,
        max_size=30,
    )
)
def test_plausible_tables_fit_by_approach_2_or_are_refused_in_one_sentence(
    rows, tmp_path: Path, capsys
):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss\n" + "".join(f"{n!r},{d!r},{ell!r}\n" for n, d, ell in rows))
    code = main(["fit", str(path), "--approach", "2", "--bootstrap", "0"])
    _check(code, capsys.readouterr().err)
