"""One-variable power laws: fit_power, fit_loss_power, frontier_mask and PowerLawFit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import Fit, PowerLaw
from scalinglaws.errors import DomainError, FitError, QuantityError, UnknownNameError
from scalinglaws.fit.powerlaw import (
    PowerLawFit,
    fit_loss_power,
    fit_power,
    frontier_mask,
)

# Kaplan et al. 2020 eq. 1.1: L(N) = (N_c / N)^alpha_N, N_c = 8.8e13, alpha_N = 0.076
KAPLAN_NC, KAPLAN_ALPHA_N = 8.8e13, 0.076


def frame(**columns: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(columns)


# ----------------------------------------------------------------------------- fit_power
def test_fit_power_recovers_an_exact_power_law():
    x = np.geomspace(1e18, 1e22, 7)
    k, e = fit_power(x, 0.29 * x**0.53)  # Llama 3's N*(C) = 0.29 C^0.53 (§3.2.1)
    assert k == pytest.approx(0.29, rel=1e-9)
    assert e == pytest.approx(0.53, rel=1e-12)


def test_fit_power_weights_match_numpy_weighted_polyfit():
    rng = np.random.default_rng(3)
    x = np.geomspace(1e17, 1e21, 9)
    y = 2.0 * x**0.5 * np.exp(0.1 * rng.standard_normal(9))
    w = rng.integers(1, 5, size=9).astype(float)
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1, w=np.sqrt(w))
    k, e = fit_power(x, y, weights=w)
    assert e == pytest.approx(slope, rel=1e-10)
    assert np.log(k) == pytest.approx(intercept, rel=1e-10)


def test_fit_power_needs_two_distinct_x():
    with pytest.raises(FitError, match="at least two distinct x values"):
        fit_power([1e20, 1e20], [1e9, 2e9])
    with pytest.raises(FitError, match="finite positive y"):
        fit_power([1e19, 1e20], [1e9, -2e9])


# ----------------------------------------------------------------------------- fit_loss_power
@pytest.mark.parametrize("objective", ["huber", "log-mse"])
def test_offset_power_law_is_recovered_exactly(objective):
    C = np.geomspace(1e18, 1e23, 15)
    L = 1.69 + 2.0e3 * C**-0.17
    res = fit_loss_power(C, L, objective=objective)
    assert res.E == pytest.approx(1.69, rel=1e-5)
    assert res.A == pytest.approx(2.0e3, rel=1e-4)
    assert res.alpha == pytest.approx(0.17, rel=1e-5)
    assert res.converged


def test_pure_power_law_by_log_mse_is_the_log_log_regression():
    rng = np.random.default_rng(0)
    N = np.geomspace(1e6, 1e9, 12)
    L = (KAPLAN_NC / N) ** KAPLAN_ALPHA_N * np.exp(0.01 * rng.standard_normal(12))
    res = fit_loss_power(N, L, offset=False, objective="log-mse")
    slope, intercept = np.polyfit(np.log(N), np.log(L), 1)
    assert res.E == 0.0
    assert res.alpha == pytest.approx(-slope, rel=1e-10)
    assert np.log(res.A) == pytest.approx(intercept, rel=1e-10)


def test_huber_ignores_an_outlier_that_pulls_least_squares():
    N = np.geomspace(1e6, 1e9, 12)
    L = (KAPLAN_NC / N) ** KAPLAN_ALPHA_N
    L[-1] *= 1.3  # one diverged run
    huber = fit_loss_power(N, L, offset=False, objective="huber")
    mse = fit_loss_power(N, L, offset=False, objective="log-mse")
    assert huber.alpha == pytest.approx(KAPLAN_ALPHA_N, abs=1e-4)
    assert abs(mse.alpha - KAPLAN_ALPHA_N) > 0.01


def test_offset_fit_needs_four_distinct_points():
    with pytest.raises(FitError, match="needs at least 4 distinct x values, got 3"):
        fit_loss_power([1e18, 1e19, 1e20], [3.0, 2.8, 2.6])


# ----------------------------------------------------------------------------- frontier
def test_frontier_mask_keeps_the_lower_left_pareto_front():
    x = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    L = np.array([5.0, 4.0, 4.5, 4.2, 3.0, 3.0])
    # (2, 4.5) loses to (2, 4.0); (3, 4.2) to (2, 4.0); (5, 3.0) ties (4, 3.0) with more x
    assert frontier_mask(x, L).tolist() == [True, True, False, False, True, False]


# ----------------------------------------------------------------------------- PowerLawFit
def test_kaplan_L_of_N_round_trip():
    N = np.geomspace(1e6, 1e9, 10)
    L = (KAPLAN_NC / N) ** KAPLAN_ALPHA_N
    fit = PowerLawFit(variable="N", offset=False).fit(frame(N=N, D=np.full(10, 1e11), L=L))
    assert isinstance(fit.law, PowerLaw) and fit.law.variable == "N"
    assert fit.approach == "power"
    assert fit.params["alpha"] == pytest.approx(KAPLAN_ALPHA_N, rel=1e-6)
    assert fit.derived["N_c"] == pytest.approx(KAPLAN_NC, rel=1e-4)
    assert np.max(np.abs(fit.residuals)) < 1e-6


def test_frontier_option_fits_the_envelope_not_the_cloud():
    """Points on L(C) = 1.8 + 900 C^-0.15 plus, at every C, worse runs above it."""
    rng = np.random.default_rng(1)
    C = np.geomspace(1e17, 1e22, 12)
    best = 1.8 + 900.0 * C**-0.15
    worse = best[:, None] * (1 + rng.uniform(0.02, 0.2, size=(12, 4)))
    C_all = np.concatenate([C, np.repeat(C, 4)])
    L_all = np.concatenate([best, worse.ravel()])
    N = np.full(C_all.size, 1e8)
    data = frame(N=N, C=C_all, L=L_all)
    on = PowerLawFit(variable="C", frontier=True).fit(data)
    assert on.params["alpha"] == pytest.approx(0.15, rel=1e-4)
    assert on.params["E"] == pytest.approx(1.8, rel=1e-4)
    assert len(on.extra["rows"]) == 12
    off = PowerLawFit(variable="C").fit(data)
    assert "NOT_A_FRONTIER" in off.diagnostic_codes()
    assert off.law(C=1e20) > on.law(C=1e20) + 0.01


def test_budgets_and_extrapolation():
    C = np.geomspace(1e18, 1e21, 10)
    L = 1.7 + 1.5e3 * C**-0.16
    fit = PowerLawFit(variable="C").fit(frame(N=np.full(10, 1e8), C=C, L=L))
    assert fit.law(C=5.76e23) == pytest.approx(1.7 + 1.5e3 * 5.76e23**-0.16, rel=1e-5)
    assert fit.predict(C=1e20) == pytest.approx(1.7 + 1.5e3 * 1e20**-0.16, rel=1e-6)
    assert not any(d.code == "EXTRAPOLATION" for d in fit.diagnostics)
    extrap = [d for d in fit.budget_diagnostics(["1e20", 5.76e23]) if d.code == "EXTRAPOLATION"]
    assert len(extrap) == 1 and extrap[0].data["factor"] == pytest.approx(576, rel=1e-6)
    assert extrap[0].severity == "warning"
    same = fit.budget_diagnostics(np.array([1e20, 5.76e23]))
    assert [d.code for d in same] == ["EXTRAPOLATION"]
    assert same[0].data["factor"] == pytest.approx(576, rel=1e-6)
    with pytest.raises(DomainError, match="C \\(training FLOPs\\)"):
        fit.budget_diagnostics(["70X"])


def _noisy_runs(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e6, 1e9, 8), 3)  # 3 seeds per size
    L = (KAPLAN_NC / N) ** KAPLAN_ALPHA_N * np.exp(0.01 * rng.standard_normal(N.size))
    return frame(N=N, D=np.full(N.size, 1e11), L=L, run_id=[f"r{i}" for i in range(N.size)])


def test_bootstrap_is_seeded_and_rebuilds_replicate_laws():
    data = _noisy_runs()
    est = PowerLawFit(variable="N", offset=False, n_bootstrap=60, seed=7, level=0.9)
    a, b = est.fit(data), est.fit(data)
    assert a.intervals == b.intervals
    c = PowerLawFit(variable="N", offset=False, n_bootstrap=60, seed=8, level=0.9).fit(data)
    assert c.intervals["alpha"] != a.intervals["alpha"]
    samples = a.replicates.values
    assert set(samples) == {"E", "A", "alpha", "N_c"}  # offset=False: x_c = N_c too
    assert len(a.replicates) == 60 and all(len(v) == 60 for v in samples.values())
    law = PowerLaw(**{k: samples[k][3] for k in ("E", "A", "alpha")}, variable="N")
    assert law.alpha == samples["alpha"][3]
    lo, hi = a.intervals["alpha"]
    assert lo < KAPLAN_ALPHA_N < hi
    assert a.stderr["alpha"] > 0
    assert "N_c" in a.intervals


def test_fit_survives_json_round_trip():
    fit = PowerLawFit(variable="N", offset=False, n_bootstrap=20).fit(_noisy_runs())
    back = Fit.from_json(fit.to_json())
    assert back.law == fit.law
    assert back.intervals["alpha"] == pytest.approx(fit.intervals["alpha"])


# ----------------------------------------------------------------------------- bad options
def test_bad_options_raise_one_sentence():
    with pytest.raises(UnknownNameError, match="unknown variable 'X'.*use N"):
        PowerLawFit(variable="X")
    with pytest.raises(UnknownNameError, match="did you mean 'huber'"):
        PowerLawFit(objective="hubr")
    with pytest.raises(QuantityError, match="n_bootstrap must be 0 .* at least 2"):
        PowerLawFit(n_bootstrap=1)
    with pytest.raises(QuantityError, match="level must be a number between 0 and 1"):
        PowerLawFit(level=1.5)
    with pytest.raises(QuantityError, match="Huber delta must be a number > 0"):
        PowerLawFit(delta=0)
    with pytest.raises(TypeError, match="budgets"):  # a fit answers any budget afterwards
        PowerLawFit(budgets=[1e20])


def test_too_few_points_is_a_fit_error():
    data = frame(N=np.array([1e7, 1e8, 1e9]), D=np.full(3, 1e10), L=np.array([3.0, 2.7, 2.5]))
    with pytest.raises(FitError, match="at least 4 distinct x values, got 3"):
        PowerLawFit(variable="N").fit(data)


def test_loss_floor_diagnostic_flags_a_collapsed_offset():
    from scalinglaws.fit.diagnostics import loss_floor_diagnostics

    L = np.array([3.0, 2.6, 2.3])
    (d,) = loss_floor_diagnostics(1e-12, L, offset=True)
    assert d.code == "E_COLLAPSED" and d.severity == "warning"
    assert d.data == {"E": 1e-12, "L_min": 2.3}
    assert loss_floor_diagnostics(1.7, L, offset=True) == []
    assert loss_floor_diagnostics(0.0, L, offset=False) == []  # no offset was fitted


def test_approach1_on_the_demo_sweep_reports_its_collapsed_floor():
    """The committed demo sweep's envelope has no visible floor: E of L*(C) goes to ~0, and the
    fit says so rather than extrapolating L* silently."""
    import warnings
    from pathlib import Path

    from scalinglaws.fit.envelope import Approach1
    from scalinglaws.runs import load_runs

    curves = Path(__file__).resolve().parents[1] / "examples" / "data" / "demo-sweep" / "curves.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # C follows the sweep's convention, not 6·N·D
        runs = load_runs(curves, columns="L=val_loss")
    fit = Approach1().fit(runs)
    assert fit.params["E"] < 0.05 * float(runs.L.min())
    assert "E_COLLAPSED" in fit.diagnostic_codes()
