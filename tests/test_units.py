"""Human quantities and FLOP units (scalinglaws.units)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglaws.errors import QuantityError, ScalingLawsError
from scalinglaws.units import (
    PF_DAY,
    flops_to_pfdays,
    format_flops,
    format_quantity,
    parse_count,
    parse_fraction,
    parse_price,
    parse_quantities,
    parse_quantity,
    pfdays_to_flops,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("70B", 7e10),
        ("1.4T", 1.4e12),
        ("400M", 4e8),
        ("2.5k", 2500.0),
        ("3.8e25", 3.8e25),
        ("5.76e23 FLOPs", 5.76e23),
        ("1,000", 1000.0),
        ("1,000,000.5 tokens", 1_000_000.5),
        ("125m", 1.25e8),
        (" 7 B ", 7e9),
        ("1.4T tokens", 1.4e12),
        ("70B params", 7e10),
        ("2x10^22", 2e22),
        ("10^24", 1e24),
        ("1e22 flop", 1e22),
        ("3640 PF-days", 3640 * 8.64e19),
        ("1 pf-day", 8.64e19),
        ("1_000", 1000.0),
        (7e10, 7e10),
        (12, 12.0),
        (np.float64(3.0), 3.0),
    ],
)
def test_parse_quantity_accepts_human_forms(text, expected):
    assert parse_quantity(text, "--x") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("70X", "unknown suffix"),
        ("-5", "must be positive"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("0", "must be positive"),
        ("nan", "finite"),
        ("inf", "finite"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("10^400", "finite"),
        ("1e400", "finite"),
        (0, "must be positive"),
        ("abc", "not a number"),
        ("B", "not a number"),
        ("1..2", "not a number"),
        ("1,5", "misplaced comma"),
        ("12,34", "misplaced comma"),
        (True, "boolean"),
    ],
)
def test_parse_quantity_rejects_with_one_sentence_naming_the_flag(text, fragment):
    with pytest.raises(QuantityError) as info:
        parse_quantity(text, "--params")
    msg = str(info.value)
    assert msg.startswith("--params ")
    assert fragment in msg
    assert msg.endswith(".") and "\n" not in msg
    assert isinstance(info.value, ScalingLawsError)


def test_parse_quantities_lists():
    assert parse_quantities("1e22,1e24", "--budgets") == [1e22, 1e24]
    assert parse_quantities("70B, 405B", "--params") == [7e10, 4.05e11]
    with pytest.raises(QuantityError, match="--budgets"):
        parse_quantities("1e22,,1e24", "--budgets")
    with pytest.raises(QuantityError, match="--budgets"):
        parse_quantities("", "--budgets")
    with pytest.raises(QuantityError, match="'70X'"):
        parse_quantities("1e22,70X", "--budgets")


def test_parse_count_fraction_price():
    assert parse_count("32k", "--vocab") == 32000
    assert parse_count("16,000", "--devices") == 16000
    with pytest.raises(QuantityError, match="--layers must be a whole number"):
        parse_count("2.5", "--layers")
    assert parse_fraction("0.4", "--mfu") == 0.4
    assert parse_fraction("40%", "--mfu") == pytest.approx(0.4)
    assert parse_fraction(1, "--mfu") == 1.0
    for bad in ("0", "1.2", "-0.1", "abc", "", "nan", 0.0):
        with pytest.raises(QuantityError, match=r"--mfu must be a fraction in \(0, 1\]"):
            parse_fraction(bad, "--mfu")
    assert parse_price("$2.50/h") == 2.5
    assert parse_price("3 per hour") == 3.0
    with pytest.raises(QuantityError, match="--price-per-hour"):
        parse_price("-1", "--price-per-hour")


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (7e10, "70B"),
        (1.4e12, "1.4T"),
        (4e8, "400M"),
        (2500, "2.5k"),
        (1.2079e9, "1.21B"),
        (999.96e9, "1T"),  # rounding carries into the next suffix
        (12, "12"),
        (0.5, "0.5"),
        (6.3e23, "6.3e23"),
    ],
)
def test_format_quantity(x, text):
    assert format_quantity(x) == text


def test_format_quantity_round_trips_and_units():
    for x in (7e10, 1.4e12, 4.05e11, 2.5e3, 3.8e25):
        assert parse_quantity(format_quantity(x)) == pytest.approx(x, rel=1e-12)
    assert format_quantity(7e10, "params") == "70B params"
    assert format_quantity(16.55e12, digits=4) == "16.55T"


def test_format_flops():
    assert format_flops(5.76e23) == "5.76e23"
    assert format_flops(1e22) == "1e22"
    assert format_flops(6.3e23) == "6.3e23"
    assert format_flops(4.0589e11, 4) == "4.059e11"


def test_pf_days():
    assert PF_DAY == 8.64e19
    # GPT-3: 3.14e23 FLOPs is "3640 PF-days" (Brown et al. 2020, Table D.1), to 0.2%.
    assert flops_to_pfdays(3.14e23) == pytest.approx(3640, rel=2e-3)
    assert pfdays_to_flops(3640) == pytest.approx(3.145e23, rel=1e-3)
    arr = np.array([8.64e19, 8.64e20])
    np.testing.assert_allclose(flops_to_pfdays(arr), [1.0, 10.0])
    assert math.isclose(pfdays_to_flops(flops_to_pfdays(1.23e21)), 1.23e21)
