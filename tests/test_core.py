"""The shared pieces: errors, the law base, the Fit record and the bootstrap resampler."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from scalinglaws import ChinchillaLaw, DomainError, Fit, PowerLaw, law_from_dict
from scalinglaws.errors import ScalingLawsWarning, UnknownNameError, did_you_mean, warn
from scalinglaws.fit.bootstrap import bootstrap_weights, summarize
from scalinglaws.fit.result import Diagnostic

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def test_chinchilla_law_value_by_hand():
    # 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28, computed term by term.
    expected = (
        1.69 + 406.4 * math.exp(-0.34 * math.log(70e9)) + 410.7 * math.exp(-0.28 * math.log(1.4e12))
    )
    assert HOFFMANN(N=70e9, D=1.4e12) == pytest.approx(expected, rel=1e-14)
    assert isinstance(HOFFMANN(N=70e9, D=1.4e12), float)


def test_law_broadcasts_over_arrays():
    N = np.array([1e8, 1e9, 1e10])[:, None]
    D = np.array([1e10, 1e11])[None, :]
    out = HOFFMANN(N=N, D=D)
    assert out.shape == (3, 2)
    assert out[1, 1] == pytest.approx(HOFFMANN(N=1e9, D=1e11))
    assert np.all(np.diff(out, axis=0) < 0) and np.all(np.diff(out, axis=1) < 0)


@pytest.mark.parametrize("N, D", [(0, 1e9), (-1, 1e9), (1e9, float("nan")), (1e9, np.inf)])
def test_law_rejects_non_positive_or_non_finite(N, D):
    with pytest.raises(DomainError, match="must be a finite number greater than 0"):
        HOFFMANN(N=N, D=D)
    assert issubclass(DomainError, ValueError)


def test_law_names_a_missing_variable():
    with pytest.raises(DomainError, match="missing D"):
        HOFFMANN(N=1e9)


def test_closed_form_exponents():
    assert HOFFMANN.a == pytest.approx(0.28 / 0.62)
    assert HOFFMANN.b == pytest.approx(0.34 / 0.62)
    assert HOFFMANN.G == pytest.approx((0.34 * 406.4 / (0.28 * 410.7)) ** (1 / 0.62))


def test_power_law_and_round_trip():
    law = PowerLaw(E=1.5, A=100.0, alpha=0.1, variable="C")
    assert law(C=1e20) == pytest.approx(1.5 + 100.0 * 1e20**-0.1)
    assert law_from_dict(law.to_dict()) == law
    assert law_from_dict(HOFFMANN.to_dict()) == HOFFMANN
    with pytest.raises(DomainError, match="variable must be one of"):
        PowerLaw(E=0, A=1, alpha=1, variable="X")


def test_unknown_law_name_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'chinchilla'"):
        law_from_dict({"law": "chinchila"})
    assert did_you_mean("zzz", ["a", "b"]) == "; valid names are: a, b"


def test_warning_has_stable_code():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("SL-TEST", "a message")
    assert isinstance(caught[0].message, ScalingLawsWarning)
    assert caught[0].message.code == "SL-TEST"


def test_fit_json_round_trip(tmp_path):
    fit = Fit(
        law=HOFFMANN,
        params=HOFFMANN.params,
        approach="3",
        stderr={"E": 0.03},
        intervals={"E": (1.63, 1.75)},
        derived={"a": HOFFMANN.a, "nan": float("nan")},
        diagnostics=[Diagnostic("E_COLLAPSED", "warning", "E went to 0.")],
        method={"objective": "huber"},
    )
    path = tmp_path / "fit.json"
    fit.to_json(path)
    back = Fit.from_json(path)
    assert back.law == HOFFMANN
    assert back.intervals["E"] == (1.63, 1.75)
    assert math.isnan(back.derived["nan"])
    assert back.diagnostic_codes() == ["E_COLLAPSED"]
    text = back.summary()
    assert "E_COLLAPSED" in text and "1.69" in text and "[1.63, 1.75]" in text


def test_fit_from_json_bad_inputs(tmp_path):
    from scalinglaws.errors import DataError

    with pytest.raises(DataError, match="does not exist"):
        Fit.from_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        Fit.from_json(bad)
    with pytest.raises(DataError, match="not a scalinglaws fit"):
        Fit.from_json('{"schema": "other"}')


def test_bootstrap_weights_resample_whole_groups():
    groups = np.array(["a", "a", "a", "b", "b", "c"])
    w = bootstrap_weights(groups, len(groups), n_boot=500, seed=3)
    assert w.shape == (500, 6)
    # Points of one group always carry the same weight; each replicate draws 3 groups.
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 3] == w[:, 4])
    assert np.all(w[:, [0, 3, 5]].sum(axis=1) == 3)
    # Each group is drawn once per replicate on average.
    assert w[:, [0, 3, 5]].mean() == pytest.approx(1.0, abs=0.1)
    assert np.array_equal(w, bootstrap_weights(groups, 6, 500, seed=3))


def test_summarize_percentile_interval():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 0.5, size=20000)
    se, ci = summarize({"x": x, "empty": np.array([np.nan])}, level=0.95)
    assert se["x"] == pytest.approx(0.5, rel=0.03)
    assert ci["x"][0] == pytest.approx(2 - 1.96 * 0.5, abs=0.03)
    assert "empty" not in se
