"""Time, device-hours and cost on accelerators (scalinglaws.hardware)."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import QuantityError, UnknownNameError
from scalinglaws.hardware import (
    ACCELERATORS,
    Accelerator,
    achieved_mfu,
    estimate_budget,
    flops_in_time,
    get_accelerator,
    training_seconds,
)


def test_table_of_dense_bf16_peaks():
    expected = {
        "a100": 312e12,
        "h100": 989e12,
        "h200": 989e12,
        "b200": 2.25e15,
        "tpu-v4": 275e12,
        "tpu-v5p": 459e12,
        "mi300x": 1307e12,
    }
    assert {k: a.peak_flops for k, a in ACCELERATORS.items()} == expected
    for acc in ACCELERATORS.values():
        assert acc.description and acc.source


@pytest.mark.parametrize(
    ("name", "key"),
    [("H100", "h100"), ("h100-sxm", "h100"), ("tpu_v4", "tpu-v4"), ("v5p", "tpu-v5p")],
)
def test_lookup_is_forgiving_about_spelling(name, key):
    assert get_accelerator(name).name == key


def test_unknown_accelerator_suggests():
    with pytest.raises(UnknownNameError) as info:
        get_accelerator("h10")
    assert str(info.value) == "unknown accelerator 'h10'; did you mean 'h100'?"
    with pytest.raises(UnknownNameError, match="valid names are a100, h100"):
        get_accelerator("xyzzy")


def test_llama3_405b_on_16k_h100():
    # Hand computation: 3.8e25 / (16,000 x 989e12 x 0.4) s = 6.0035e6 s = 69.49 days.
    b = estimate_budget("3.8e25", "h100", devices=16000, mfu=0.4)
    seconds = 3.8e25 / (16000 * 989e12 * 0.4)
    assert b.seconds == pytest.approx(seconds, rel=1e-12)
    assert b.days == pytest.approx(seconds / 86400, rel=1e-12)
    assert round(b.days, 1) == 69.5
    assert b.device_hours == pytest.approx(16000 * seconds / 3600, rel=1e-12)
    assert b.pf_days == pytest.approx(3.8e25 / 8.64e19, rel=1e-12)
    assert b.cost is None and b.price_per_hour is None
    assert b.effective_flops_per_second == pytest.approx(6.3296e18, rel=1e-12)


def test_cost_and_peak_override():
    b = estimate_budget(1e24, "a100", devices=1024, mfu="50%", price_per_hour="$2")
    hours = 1e24 / (1024 * 312e12 * 0.5) / 3600
    assert b.device_hours == pytest.approx(1024 * hours, rel=1e-12)
    assert b.cost == pytest.approx(2 * 1024 * hours, rel=1e-12)
    custom = estimate_budget(1e24, peak="1e15", devices=10, mfu=1)
    assert custom.seconds == pytest.approx(1e8, rel=1e-12)
    assert custom.accelerator is None
    overridden = estimate_budget(1e24, "h100", peak=1e15)
    assert overridden.peak_flops == 1e15 and "overridden" in str(overridden.accelerator)


def test_inverse_questions_round_trip():
    b = estimate_budget(5.76e23, "tpu-v4", devices=3072, mfu=0.45)
    assert flops_in_time(b.days, "tpu-v4", devices=3072, mfu=0.45) == pytest.approx(5.76e23)
    assert achieved_mfu(5.76e23, b.seconds, 3072, "tpu-v4") == pytest.approx(0.45)
    t = training_seconds(np.array([1e21, 2e21]), 1e15, 0.5, 2)
    np.testing.assert_allclose(t, [1e6, 2e6])


@pytest.mark.parametrize(
    ("kwargs", "fragment", "argument"),
    [
        ({"mfu": 0}, r"^mfu must be a fraction in \(0, 1\]", "mfu"),
        ({"mfu": 1.5}, r"^mfu must be a fraction in \(0, 1\]", "mfu"),
        ({"mfu": "-0.4"}, r"^mfu must be a fraction in \(0, 1\]", "mfu"),
        ({"devices": 0}, "^devices must be positive", "devices"),
        ({"devices": "2.5"}, "^devices must be a whole number", "devices"),
        ({"price_per_hour": "-3"}, "^price_per_hour must be positive", "price_per_hour"),
        ({"peak": "abc"}, "^peak is not a number", "peak"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, fragment, argument):
    """A Python caller is told about its own argument (the CLI restates it as the flag)."""
    with pytest.raises(QuantityError, match=fragment) as err:
        estimate_budget(1e24, "h100", **kwargs)
    assert err.value.argument == argument and "--" not in str(err.value)


def test_budget_needs_compute_and_a_peak():
    with pytest.raises(QuantityError, match="^flops must be positive"):
        estimate_budget("-5", "h100")
    with pytest.raises(QuantityError, match="no accelerator peak given.*accelerator='h100'"):
        estimate_budget(1e24)
    assert isinstance(get_accelerator(ACCELERATORS["h100"]), Accelerator)
