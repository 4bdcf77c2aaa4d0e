"""The automatic fit's evidence and its use: the nested multi-cut backtest (no peeking), the
error-growth model, the shrinkage of the weights toward the default, trimming, and the
interval model (scalinglaws.fit.nested, scalinglaws.fit.weighting)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scalinglaws import ChinchillaLaw
from scalinglaws.errors import QuantityError
from scalinglaws.fit.candidates import FitData
from scalinglaws.fit.nested import NestedBacktest, check_quantiles, nested_backtest
from scalinglaws.fit.weighting import (
    ErrorGrowth,
    combined_errors,
    common_rows,
    fit_growth,
    interval_model,
    shrinkage,
    weights_at,
)
from scalinglaws.runs import load_runs

LAW = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)


def sweep(budgets: np.ndarray, sizes: int = 5, noise: float = 0.005, seed: int = 0) -> FitData:
    rng = np.random.default_rng(seed)
    rows = []
    for c in budgets:
        n_star = LAW.G * (c / 6) ** LAW.a
        for n in n_star * np.geomspace(1 / 4, 4, sizes):
            d = c / (6 * n)
            rows.append((n, d, c, float(LAW(N=n, D=d)) * math.exp(noise * rng.standard_normal())))
    df = pd.DataFrame(rows, columns=["N", "D", "C", "L"])
    return FitData.from_runs(load_runs(df))


# ============================================================================ nested backtest
def test_each_cut_fits_only_the_runs_at_or_below_it_and_scores_every_run_above():
    """The no-peeking property: the fit at a cut sees exactly the runs with C <= the cut,
    never one above it, and every run above it is scored (once per cut)."""
    data = sweep(np.geomspace(1e17, 1e20, 7))
    seen: list[FitData] = []

    def members(sub: FitData):
        seen.append(sub)
        return {"law": LAW}, {}

    nested = nested_backtest(data, members, ["law"], (0.3, 0.5, 0.7, 0.9))
    assert len(seen) == len(nested.cuts) >= 3
    for sub, cut in zip(seen, nested.cuts, strict=True):
        assert sub.C.max() <= cut.C_cut * (1 + 1e-12)
        assert len(sub) == cut.n_fit == int(np.sum(data.C <= cut.C_cut * (1 + 1e-12)))
        assert cut.C_max == sub.C.max() and cut.C_min == sub.C.min()
    for j, cut in enumerate(nested.cuts):
        rows = nested.cut == j
        assert rows.sum() == len(data) - cut.n_fit
        assert np.all(nested.C[rows] > cut.C_cut)
        np.testing.assert_allclose(nested.distance[rows], np.log(nested.C[rows] / cut.C_max))
    # the true law's errors are the noise: log L - log L_true
    np.testing.assert_allclose(
        nested.errors["law"], np.log(nested.L) - np.log(LAW(N=nested.N, D=nested.D))
    )
    assert np.all(nested.relative > 0)


def test_cuts_need_eight_runs_below_and_one_above_and_are_distinct():
    data = sweep(np.geomspace(1e17, 1e19, 4), sizes=3)  # 12 runs, 3 per budget
    calls = []
    nested = nested_backtest(
        data, lambda s: calls.append(len(s)) or ({}, {}), [], (0.1, 0.3, 0.5, 0.6, 0.7, 0.95)
    )
    # 0.1 and 0.3 leave 3 runs below; 0.5 and 0.6 the same 6 (too few); 0.7 gives 9, 0.95 all 12
    assert calls == [9] and [c.n_fit for c in nested.cuts] == [9]


def test_budget_checks_count_cut_budget_pairs_and_round_trip():
    data = sweep(np.geomspace(1e17, 1e20, 7))
    nested = nested_backtest(data, lambda s: ({"law": LAW}, {}), ["law"], (0.4, 0.7))
    # 0.4 of 35 runs: 3 budgets below, 4 above; 0.7: 5 below, 2 above -> 6 checks
    assert [c.n_fit for c in nested.cuts] == [15, 25]
    assert nested.n_checks == 6
    back = NestedBacktest.from_dict(nested.to_dict())
    np.testing.assert_array_equal(back.group, nested.group)
    np.testing.assert_allclose(back.errors["law"], nested.errors["law"])
    assert back.cuts == nested.cuts


def test_bad_cut_quantiles_are_one_sentence():
    with pytest.raises(QuantityError, match="cut_quantiles must be"):
        check_quantiles([0.5, 1.2])
    with pytest.raises(QuantityError, match="cut_quantiles must be"):
        check_quantiles("a,b")
    assert check_quantiles("0.7,0.5,0.5") == (0.5, 0.7)


# ============================================================================ weighting
def test_error_growth_is_nonnegative_least_squares_of_squared_errors():
    d = np.array([0.1, 0.5, 1.0, 2.0, 3.0])
    e = np.sqrt(1e-4 + 4e-4 * d**2) * np.array([1, -1, 1, -1, 1])
    g = fit_growth(e, d)
    assert g.a == pytest.approx(1e-4, rel=1e-9) and g.b == pytest.approx(4e-4, rel=1e-9)
    assert g.rms(1.0) == pytest.approx(math.sqrt(5e-4))
    assert g.mse(-1.0) == pytest.approx(g.a)  # inside the data: no extrapolation error
    # a shrinking error cannot give a negative growth; the intercept keeps its floor
    shrinking = fit_growth(np.array([0.05, 0.01, 0.001]), np.array([0.5, 1.0, 2.0]))
    assert shrinking.b == 0.0
    assert fit_growth(np.array([0.001, 0.001]), np.array([1.0, 2.0]), floor=4e-6).a == 4e-6
    assert fit_growth(np.array([np.nan, 0.1]), np.array([1.0, 2.0])) is None


def test_shrinkage_limits():
    """One budget check leaves the default nearly untouched; many make the backtest's
    weights count; none leaves the default."""
    labels = ["standard", "other"]
    growth = {"standard": ErrorGrowth(1e-4, 1e-3, 10), "other": ErrorGrowth(1e-4, 1e-4, 10)}
    prior = [1.0, 0.0]
    backtest = weights_at(np.array([2.0]), labels, growth, prior, lam=1.0)[0]
    assert backtest[1] == pytest.approx((1 / 5e-4) / (1 / 5e-4 + 1 / 4.1e-3))
    n0 = 4.0
    one = weights_at(np.array([2.0]), labels, growth, prior, shrinkage(1, n0))[0]
    many = weights_at(np.array([2.0]), labels, growth, prior, shrinkage(400, n0))[0]
    assert shrinkage(0, n0) == 0.0 and shrinkage(1, n0) == pytest.approx(0.2)
    assert one[0] > 0.8 and one[1] < 0.2  # near the default
    np.testing.assert_allclose(many, backtest, atol=0.01)  # the backtest's
    np.testing.assert_allclose(weights_at(np.array([2.0]), labels, growth, prior, 0.0)[0], prior)


def test_weights_depend_on_the_distance_asked_and_trim_the_far_worse():
    """A candidate better near the data and worse far out leads near and not far; with
    trim, a candidate more than trim x worse gets none of the backtest's weight."""
    labels = ["near", "far", "bad"]
    growth = {
        "near": ErrorGrowth(1e-5, 4e-4, 10),
        "far": ErrorGrowth(1e-4, 1e-5, 10),
        "bad": ErrorGrowth(1e-2, 1e-2, 10),
    }
    w = weights_at(np.array([0.0, 3.0]), labels, growth, [1, 1, 1], lam=1.0)
    assert w[0, 0] > w[0, 1] and w[1, 1] > w[1, 0]
    assert w[:, 2].max() < 0.02
    trimmed = weights_at(np.array([0.0, 3.0]), labels, growth, [1, 1, 1], lam=1.0, trim=4.0)
    assert np.all(trimmed[:, 2] == 0.0)
    assert trimmed[0, 1] == 0.0  # at d = 0 'far' has 10x the MSE of 'near'
    np.testing.assert_allclose(trimmed.sum(axis=1), 1.0)


def test_combined_errors_renormalise_over_the_candidates_that_predicted():
    errors = {"a": np.array([0.01, np.nan]), "b": np.array([0.03, 0.02])}
    W = np.array([[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(combined_errors(errors, W, ["a", "b"]), [0.02, 0.02])
    scored, rows = common_rows({"a": np.array([0.1, np.nan, 0.2]), "b": np.ones(3),
                                "c": np.array([np.nan, np.nan, 1.0])})  # fmt: skip
    assert scored == ["a", "b"] and rows.tolist() == [True, False, True]


def test_interval_model_shrinks_the_growth_toward_the_prior():
    d = np.array([0.5, 1.0, 2.0])
    e = np.sqrt(9e-4 * d**2)
    m = interval_model(e, d, scatter=0.01, lam=0.25, b_prior=1e-4)
    assert m.b_backtest == pytest.approx(9e-4, rel=1e-6)
    assert m.b == pytest.approx(0.25 * 9e-4 + 0.75 * 1e-4)
    assert m.sd(0.0) == pytest.approx(0.01)  # inside the data: the runs' scatter
    assert m.sd(2.0) == pytest.approx(math.sqrt(1e-4 + m.b * 4))
    empty = interval_model(np.array([]), np.array([]), scatter=0.02, lam=0.0, b_prior=1e-4)
    assert empty.b == 1e-4 and empty.sd(1.0) == pytest.approx(math.sqrt(4e-4 + 1e-4))
