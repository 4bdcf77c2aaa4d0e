"""Questions a fit answers at any budget (scalinglaws.fit.questions): allocate with intervals,
conf_int at any level, fresh or loaded from JSON, checked against independent computations
from the stored replicates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import scalinglaws
from scalinglaws import ChinchillaLaw, Fit, PowerLaw
from scalinglaws.fit.isoflop import Approach2
from scalinglaws.fit.parametric import Approach3

HOFFMANN = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)
NEAR_GRID = {"a": (5.0, 7.0), "b": (5.0, 7.0), "e": (0.0, 0.5), "alpha": (0.3, 0.5),
             "beta": (0.3, 0.5)}  # fmt: skip
NEW_BUDGET = 3.3e23  # asked of no fit before: nothing can have been stored for it


def isoflop_frame(noise: float = 0.003, seed: int = 2) -> pd.DataFrame:
    """Hoffmann's law on IsoFLOP profiles at 6 budgets, 9 sizes within 4x of the optimum."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in np.geomspace(1e18, 1e21, 6):
        n_opt = HOFFMANN.G * (c / 6) ** HOFFMANN.a
        for n in n_opt * np.geomspace(1 / 4, 4, 9):
            loss = float(HOFFMANN(N=n, D=c / (6 * n))) * math.exp(noise * rng.standard_normal())
            rows.append({"N": n, "C": c, "L": loss})
    return pd.DataFrame(rows)


def grid_runs(sigma: float = 0.01, seed: int = 1) -> pd.DataFrame:
    """Runs on a grid of N x tokens-per-parameter (5 to 160), log-normal noise sigma."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(5e7, 5e9, 8), 6)
    D = N * np.tile(np.geomspace(5, 160, 6), 8)
    L = HOFFMANN(N=N, D=D) * np.exp(sigma * rng.standard_normal(N.size))
    return pd.DataFrame({"N": N, "D": D, "L": L})


@pytest.fixture(scope="module")
def approach2():
    return Approach2(n_bootstrap=30, seed=3).fit(isoflop_frame())


@pytest.fixture(scope="module")
def approach3():
    return Approach3(init=NEAR_GRID, n_bootstrap=30, seed=7).fit(grid_runs())


# ----------------------------------------------------------------------------- (a)
def test_saved_approach2_fit_allocates_a_new_budget_like_the_fresh_one(approach2):
    """A bootstrapped Approach 2 fit, saved and loaded, gives at a budget it was never asked
    about the same N*, D*, L* intervals as the fresh fit, and those are the percentiles of
    k_N·C^a, k_D·C^b and L*(C) over its replicates."""
    fit = approach2
    assert fit.level == 0.95  # the intervals below are asked at another level
    back = Fit.from_json(fit.to_json())
    assert set(back.replicates.values) == set(fit.replicates.values)
    for name, values in fit.replicates.values.items():
        np.testing.assert_array_equal(back.replicates[name], values)

    fresh = fit.allocate(NEW_BUDGET, level=0.9)
    loaded = back.allocate(NEW_BUDGET, level=0.9)
    assert fresh.level == loaded.level == 0.9
    assert set(fresh.intervals) == set(loaded.intervals) == {"N", "D", "L"}
    for x in ("N", "D", "L"):
        assert getattr(loaded, x) == pytest.approx(getattr(fresh, x), rel=1e-12)
        assert loaded.intervals[x] == pytest.approx(fresh.intervals[x], rel=1e-12)
        assert loaded.stderr[x] == pytest.approx(fresh.stderr[x], rel=1e-12)

    # independently, from the replicates
    reps = fit.replicates
    assert len(reps) == 30
    draws = {
        "N": reps["k_N"] * NEW_BUDGET ** reps["a"],
        "D": reps["k_D"] * NEW_BUDGET ** reps["b"],
        "L": reps["E"] + reps["A"] * NEW_BUDGET ** -reps["alpha"],
    }
    for x, values in draws.items():
        ok = values[np.isfinite(values)]
        assert ok.size >= 28, x
        expected = tuple(np.percentile(ok, [5.0, 95.0]))
        assert fresh.intervals[x] == pytest.approx(expected, rel=1e-12), x
        assert fresh.stderr[x] == pytest.approx(np.std(ok, ddof=1), rel=1e-12), x
    # the point is the fitted rule and loss frontier at the budget
    assert fresh.N == pytest.approx(fit.derived["k_N"] * NEW_BUDGET ** fit.derived["a"], rel=1e-12)
    assert fresh.D == pytest.approx(fit.derived["k_D"] * NEW_BUDGET ** fit.derived["b"], rel=1e-12)
    assert fresh.L == pytest.approx(float(fit.law(C=NEW_BUDGET)), rel=1e-12)
    # the loss draws are the replicate laws' own predictions
    first = PowerLaw(E=reps["E"][0], A=reps["A"][0], alpha=reps["alpha"][0], variable="C")
    assert draws["L"][0] == pytest.approx(float(first(C=NEW_BUDGET)), rel=1e-12)


# ----------------------------------------------------------------------------- (b)
def test_approach3_conf_int_at_its_level_is_its_intervals(approach3):
    fit = approach3
    ci = fit.conf_int(fit.level)
    names = [*fit.params, "a", "b", "G"]
    assert set(names) <= set(ci)
    for name in names:
        assert ci[name] == pytest.approx(fit.intervals[name], rel=1e-12), name
    assert fit.conf_int() == ci  # the default level is the fit's
    # and from the replicates, independently: the exponents of each replicate law
    a = fit.replicates["beta"] / (fit.replicates["alpha"] + fit.replicates["beta"])
    lo, hi = np.percentile(a[np.isfinite(a)], [2.5, 97.5])
    assert ci["a"] == pytest.approx((lo, hi), rel=1e-12)
    # another level, another interval: narrower at 50%
    half = fit.conf_int(0.5)
    for name in names:
        assert ci[name][0] < half[name][0] < half[name][1] < ci[name][1], name


# ----------------------------------------------------------------------------- (c)
@pytest.mark.parametrize("which", ["approach2", "approach3"])
def test_budgets_closer_than_three_significant_digits_are_answered_apart(which, request):
    """5.761e23 and 5.764e23 print alike to 3 digits ("5.76e+23") but are different budgets."""
    fit = request.getfixturevalue(which)
    one, two = fit.allocate(5.761e23), fit.allocate(5.764e23)
    assert one.N != two.N and one.D != two.D
    a = fit.derived["a"]
    assert two.N / one.N == pytest.approx((5.764 / 5.761) ** a, rel=1e-9)
    assert one.intervals["N"] != two.intervals["N"]
    both = fit.allocate(np.array([5.761e23, 5.764e23]))
    np.testing.assert_allclose(both.N, [one.N, two.N], rtol=1e-12)


# ----------------------------------------------------------------------------- (d)
def test_approach3_allocate_point_is_the_laws_allocation(approach3):
    fit = approach3
    for C in (5.76e23, np.array([1e20, 1e22, 5.76e23])):
        ours, theirs = fit.allocate(C), scalinglaws.allocate(fit.law, C)
        for x in ("N", "D", "L", "tokens_per_param", "C"):
            np.testing.assert_allclose(getattr(ours, x), getattr(theirs, x), rtol=1e-12)
    assert isinstance(fit.allocate(5.76e23).N, float)
    n_opt = fit.law.G * (5.76e23 / 6) ** fit.law.a  # Hoffmann et al. 2022, App. D.2
    assert fit.allocate(5.76e23).N == pytest.approx(n_opt, rel=1e-10)
