"""Approach 3 (scalinglaws.fit.parametric) and its diagnostics (scalinglaws.fit.diagnostics).

Reference numbers: Besiroglu et al. 2024 ("Chinchilla Scaling: A replication attempt"), on the
240 points of Hoffmann et al. 2022's Figure 4 that their repository publishes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.special

from scalinglaws.errors import DataError, FitError, QuantityError, UnknownNameError
from scalinglaws.fit import diagnostics as diag
from scalinglaws.fit.parametric import HOFFMANN_GRID, Approach3, starting_grid
from scalinglaws.fit.result import Fit
from scalinglaws.laws import ChinchillaLaw, KaplanNDLaw

EPOCH = "chinchilla_fig4_epoch2024.csv"  # in ../shared/data
HOFFMANN = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)
# a 3^5 = 243-start grid: enough for synthetic data, ~20x cheaper than Hoffmann's
SMALL_GRID = {
    "a": (0.0, 5.0, 10.0),
    "b": (0.0, 5.0, 10.0),
    "e": (-1.0, 0.0, 1.0),
    "alpha": (0.2, 0.5, 1.0),
    "beta": (0.2, 0.5, 1.0),
}
NEAR_GRID = {"a": (5.0, 7.0), "b": (5.0, 7.0), "e": (0.0, 0.5), "alpha": (0.3, 0.5),
             "beta": (0.3, 0.5)}  # fmt: skip


def grid_runs(law, n_sizes=8, n_tokens=6, sigma=0.01, seed=0) -> pd.DataFrame:
    """Runs on a grid of N x tokens-per-parameter (5 to 160), log-normal noise sigma."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(5e7, 5e9, n_sizes), n_tokens)
    D = N * np.tile(np.geomspace(5, 160, n_tokens), n_sizes)
    L = law(N=N, D=D) * np.exp(sigma * rng.standard_normal(N.size))
    return pd.DataFrame({"N": N, "D": D, "L": L})


# ============================================================================ Epoch / Chinchilla
@pytest.fixture(scope="module")
def epoch(shared_data):
    from scalinglaws.runs import load_runs

    runs = load_runs(shared_data(EPOCH), drop_highest=5)
    fit = Approach3(n_bootstrap=200, seed=0).fit(runs)
    return runs, fit


def test_epoch_reaches_the_replications_huber_optimum(epoch):
    runs, fit = epoch
    assert len(runs) == 240 and fit.data["rows"] == 240
    assert any("dropped the 5 highest losses" in f for f in fit.data["filters"])
    # Besiroglu et al. 2024: objective 1.01827e-3, E 1.8172, A 477.8, B 2143,
    # alpha 0.3473, beta 0.3672
    assert fit.method["objective value"] == pytest.approx(1.01827e-3, rel=2e-5)
    assert fit.params["E"] == pytest.approx(1.8172, abs=2e-4)
    assert fit.params["A"] == pytest.approx(477.8, rel=1e-3)
    assert fit.params["B"] == pytest.approx(2143, rel=1e-3)
    assert fit.params["alpha"] == pytest.approx(0.3473, abs=1e-4)
    assert fit.params["beta"] == pytest.approx(0.3672, abs=1e-4)
    assert fit.derived["a"] == pytest.approx(0.514, abs=1e-3)
    assert fit.converged and fit.approach == "3"
    assert fit.method["starts"] == 4500 == len(starting_grid("chinchilla"))
    assert 100 < fit.method["starts at best"] < 4500


def test_epoch_objective_is_the_sum_of_scipy_huber(epoch):
    """The reported objective is Σ scipy.special.huber(1e-3, log L − log L̂), recomputed here
    from the fitted law (the convention that gives the replication's 1.01827e-3)."""
    runs, fit = epoch
    r = np.log(runs.L) - np.log(fit.law(N=runs.N, D=runs.D))
    assert fit.method["objective value"] == pytest.approx(
        np.sum(scipy.special.huber(1e-3, r)), rel=1e-10
    )
    np.testing.assert_allclose(fit.residuals, r, atol=1e-12)
    assert fit.extra["optima"][0]["starts"] == fit.method["starts at best"]


def test_epoch_bootstrap_errors_are_the_size_besiroglu_publish(epoch):
    """Their standard errors (4,000 bootstraps of a likelihood fit): E 0.03, A 124.58,
    B 1293.23, alpha 0.02, beta 0.02; ours (200 replicates of the Huber fit, runs resampled)
    must agree within a factor 2."""
    _, fit = epoch
    published = {"E": 0.03, "A": 124.58, "B": 1293.23, "alpha": 0.02, "beta": 0.02}
    for name, se in published.items():
        assert se / 2 < fit.stderr[name] < 2 * se, (name, fit.stderr[name])
        lo, hi = fit.intervals[name]
        assert lo < fit.params[name] < hi
    assert "200 replicates" in fit.method["bootstrap"]


def test_epoch_derived_allocation_is_the_closed_form(epoch):
    from scalinglaws.allocation import allocate

    runs, fit = epoch
    law, C = fit.law, 5.76e23
    n_opt = law.G * (C / 6) ** law.a
    assert fit.derived["G"] == pytest.approx(law.G, rel=1e-12)
    ours = fit.allocate(C)
    assert ours.N == pytest.approx(n_opt, rel=1e-10)
    assert ours.D == pytest.approx(C / (6 * n_opt), rel=1e-10)
    alloc = allocate(law, C=C)  # the allocation module's own implementation
    assert ours.N == pytest.approx(alloc.N, rel=1e-8)
    assert ours.L == pytest.approx(alloc.L, rel=1e-10)
    codes = fit.diagnostic_codes()
    budget_codes = [d.code for d in fit.budget_diagnostics(C)]
    assert "EXTRAPOLATION" in budget_codes  # 5.76e23 is 44x the largest C of the data
    d = next(d for d in fit.budget_diagnostics(C) if d.code == "EXTRAPOLATION")
    assert d.data["factor"] == pytest.approx(C / runs.C.max(), rel=1e-9)
    assert d.severity == "info"  # below 100x
    for bad in ("E_COLLAPSED", "ILL_CONDITIONED", "FEW_STARTS", "NOT_CONVERGED"):
        assert bad not in codes


def test_replicates_rebuild_each_replicates_law(epoch):
    _, fit = epoch
    samples = fit.replicates.values
    assert set(samples) == {"E", "A", "B", "alpha", "beta"}
    laws = [
        type(fit.law)(**{k: v[i] for k, v in samples.items()}) for i in range(len(samples["E"]))
    ]
    a = np.array([law.a for law in laws])
    lo, hi = np.percentile(a, [2.5, 97.5])
    assert fit.intervals["a"] == pytest.approx((lo, hi), rel=1e-12)
    assert fit.stderr["a"] == pytest.approx(np.std(a, ddof=1), rel=1e-12)


def test_fit_json_round_trip(epoch, tmp_path):
    _, fit = epoch
    path = tmp_path / "fit.json"
    fit.to_json(path)
    back = Fit.from_json(path)
    assert back.law == fit.law
    assert back.params == pytest.approx(fit.params)
    assert back.derived == pytest.approx(fit.derived)
    assert back.stderr == pytest.approx(fit.stderr)
    for k, v in fit.intervals.items():
        assert back.intervals[k] == pytest.approx(v)
    assert back.diagnostics == fit.diagnostics
    assert back.method == fit.method and back.data == fit.data
    assert set(back.replicates.values) == set(fit.replicates.values)
    for k, v in fit.replicates.values.items():
        np.testing.assert_array_equal(back.replicates[k], v)
    assert back.summary() == fit.summary()
    assert "starts at best" in fit.summary() and "std err" in fit.summary()


def test_parallel_bootstrap_equals_serial(monkeypatch, shared_data):
    """With n_jobs=2 the 300 replicates are split over two processes; same answer."""
    path = shared_data(EPOCH)
    from scalinglaws.fit import parametric
    from scalinglaws.runs import load_runs

    calls = []

    def spy(fn, items, n_jobs=None):
        items = list(items)
        calls.append((len(items), n_jobs))
        return real(fn, items, n_jobs=n_jobs)

    real = parametric.parallel_map
    monkeypatch.setattr(parametric, "parallel_map", spy)
    runs = load_runs(path, drop_highest=5)
    start = [math.log(477.8), math.log(2143), math.log(1.8172), 0.3473, 0.3672]
    one = Approach3(init=start, n_bootstrap=300, seed=3, n_jobs=1).fit(runs)
    two = Approach3(init=start, n_bootstrap=300, seed=3, n_jobs=2).fit(runs)
    assert calls[1] == (1, 1) and calls[3] == (2, 2)  # (chunks, processes) of each bootstrap
    for k, v in one.stderr.items():
        assert two.stderr[k] == pytest.approx(v, rel=1e-7)


# ============================================================================ synthetic truth
def _coverage(objective: str, n_sizes: int, n_tokens: int, reps: int, names: tuple[str, ...]):
    truth = {**HOFFMANN.params, "a": HOFFMANN.a}
    hits = {k: [] for k in names}
    se = {k: [] for k in names}
    est = {k: [] for k in names}
    for rep in range(reps):
        frame = grid_runs(HOFFMANN, n_sizes, n_tokens, sigma=0.01, seed=100 + rep)
        fit = Approach3(objective=objective, init=NEAR_GRID, n_bootstrap=200, seed=rep).fit(frame)
        for k in names:
            lo, hi = fit.intervals[k]
            hits[k].append(lo <= truth[k] <= hi)
            se[k].append(fit.stderr[k])
            est[k].append(fit.params.get(k, fit.derived.get(k)))
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    ratio = {k: float(np.mean(se[k]) / np.std(est[k], ddof=1)) for k in names}
    return coverage, ratio


def test_huber_intervals_cover_the_truth():
    """40 data sets of 120 runs from Hoffmann's law with 1% noise: the 95% intervals hold the
    true constants in ~95% of them, and the bootstrap standard error matches the spread of
    the estimates across data sets (too narrow intervals -- loose re-fits, point instead of
    run resampling -- or too wide ones fail)."""
    names = ("E", "A", "B", "alpha", "beta", "a")
    coverage, ratio = _coverage("huber", 12, 10, 40, names)
    assert 0.88 <= np.mean(list(coverage.values())) <= 1.0, coverage
    assert min(coverage.values()) >= 0.85, coverage
    for k in ("E", "alpha", "beta", "a"):
        assert 0.7 < ratio[k] < 1.6, ratio


def test_log_mse_intervals_cover_the_truth():
    names = ("E", "alpha", "beta", "a")
    coverage, ratio = _coverage("log-mse", 8, 5, 40, names)
    assert 0.87 <= np.mean(list(coverage.values())) <= 0.99, coverage
    for k in names:
        assert 0.75 < ratio[k] < 1.5, ratio


def test_seeded_bootstrap_repeats():
    frame = grid_runs(HOFFMANN, seed=1)
    a = Approach3(init=NEAR_GRID, n_bootstrap=30, seed=7).fit(frame)
    b = Approach3(init=NEAR_GRID, n_bootstrap=30, seed=7).fit(frame)
    c = Approach3(init=NEAR_GRID, n_bootstrap=30, seed=8).fit(frame)
    assert a.intervals == b.intervals and a.stderr == b.stderr
    assert a.intervals["alpha"] != c.intervals["alpha"]


def test_bootstrap_resamples_whole_runs():
    """With curves (several checkpoints per run), a replicate draws runs, not points: every
    checkpoint of a run gets the same weight."""
    from scalinglaws.fit.bootstrap import bootstrap_weights

    frame = grid_runs(HOFFMANN, n_sizes=6, n_tokens=4, seed=2)
    frame["run_id"] = np.repeat(np.arange(12), 2)  # pairs of rows form one run
    fit = Approach3(init=NEAR_GRID, n_bootstrap=20, seed=5).fit(frame)
    note = [d for d in fit.diagnostics if d.code == "INTERMEDIATE_CHECKPOINTS"]
    assert note and note[0].data == {"rows": 24, "final": 12}
    W = bootstrap_weights(frame["run_id"].to_numpy(), len(frame), 20, 5)
    assert np.all(W[:, 0::2] == W[:, 1::2])
    assert len(fit.replicates["alpha"]) == 20 == len(fit.replicates)


@pytest.mark.parametrize("objective", ["huber", "log-mse", "mse", "asymmetric"])
def test_every_objective_recovers_an_exact_law(objective):
    frame = grid_runs(HOFFMANN, sigma=0.0)
    fit = Approach3(objective=objective, init=SMALL_GRID).fit(frame)
    for k, v in HOFFMANN.params.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-4), k
    assert fit.converged


@pytest.mark.parametrize("tau", [0.1, 0.25, 0.75])
def test_asymmetric_loss_fits_the_tau_quantile(tau):
    """With δ far below the noise, the asymmetric Huber loss is quantile regression of log L:
    a fraction ≈ τ of the runs lie below the fitted law."""
    frame = grid_runs(HOFFMANN, n_sizes=10, n_tokens=10, sigma=0.02, seed=5)
    fit = Approach3(objective="asymmetric", tau=tau, init=SMALL_GRID).fit(frame)
    r = np.array(fit.residuals)
    assert np.mean(r < -1e-3) == pytest.approx(tau, abs=0.08)
    assert np.mean(r > 1e-3) == pytest.approx(1 - tau, abs=0.08)
    assert "tau 0.25" in Approach3(objective="asymmetric").loss.describe()


def test_kaplan_law_recovers_its_constants_and_allocation():
    from scalinglaws.allocation import allocate

    truth = KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
    frame = grid_runs(truth, sigma=0.002, seed=4)
    fit = Approach3(law="kaplan", n_bootstrap=30).fit(frame)
    assert isinstance(fit.law, KaplanNDLaw)
    assert fit.params["alpha_N"] == pytest.approx(0.076, abs=0.002)
    assert fit.params["alpha_D"] == pytest.approx(0.103, abs=0.004)
    assert fit.params["N_c"] == pytest.approx(6.4e13, rel=0.15)
    assert fit.params["D_c"] == pytest.approx(1.8e13, rel=0.3)
    assert fit.derived["a"] == pytest.approx(fit.law.a, rel=1e-12)
    alloc = allocate(fit.law, C=1e21)
    assert fit.allocate(1e21).N == pytest.approx(alloc.N, rel=1e-8)
    assert fit.allocate(1e21).L == pytest.approx(alloc.L, rel=1e-8)
    assert set(fit.replicates.values) == {"N_c", "D_c", "alpha_N", "alpha_D"}
    assert "G" not in fit.derived


# ============================================================================ diagnostics
def test_no_floor_in_the_data_collapses_E():
    N = np.repeat(np.geomspace(5e7, 5e9, 8), 6)
    D = N * np.tile(np.geomspace(5, 160, 6), 8)
    L = 406.4 / N**0.34 + 410.7 / D**0.28  # Hoffmann's law without E
    fit = Approach3(init=SMALL_GRID).fit(pd.DataFrame({"N": N, "D": D, "L": L}))
    assert fit.params["E"] < 0.05 * L.min()
    assert "E_COLLAPSED" in fit.diagnostic_codes()
    clean = Approach3(init=SMALL_GRID).fit(grid_runs(HOFFMANN))
    assert "E_COLLAPSED" not in clean.diagnostic_codes()


def _narrow(ratio: float) -> pd.DataFrame:
    """32 runs at 4 sizes spanning only a factor ``ratio`` in N, 5 to 640 tokens/param."""
    N = np.repeat(np.geomspace(1e8, ratio * 1e8, 4), 8)
    D = N * np.tile(np.geomspace(5, 640, 8), 4)
    rng = np.random.default_rng(0)
    L = HOFFMANN(N=N, D=D) * np.exp(0.003 * rng.standard_normal(N.size))
    return pd.DataFrame({"N": N, "D": D, "L": L})


def test_narrow_range_of_sizes_is_ill_conditioned():
    fit = Approach3(init=SMALL_GRID, n_bootstrap=20).fit(_narrow(3.0))
    assert fit.method["condition number"] > diag.CONDITION_LIMIT
    assert "ILL_CONDITIONED" in fit.diagnostic_codes()
    assert fit.stderr["A"] > fit.params["A"]  # A is indeed not determined
    clean = Approach3(init=SMALL_GRID).fit(grid_runs(HOFFMANN))
    assert clean.method["condition number"] < diag.CONDITION_LIMIT


def test_sizes_within_five_percent_let_alpha_diverge():
    fit = Approach3(init=SMALL_GRID).fit(_narrow(1.05))
    diverged = [d for d in fit.diagnostics if d.code == "DIVERGED"]
    assert {d.data["name"] for d in diverged} >= {"alpha"}
    assert fit.params["alpha"] > diag.EXPONENT_LIMIT


def test_overtrained_runs_never_bracket_the_optimum():
    N = np.repeat(np.geomspace(1e6, 1e7, 6), 5)
    D = N * np.tile(np.geomspace(2000, 8000, 5), 6)  # 100-400x Chinchilla's 20 tokens/param
    frame = pd.DataFrame({"N": N, "D": D, "L": HOFFMANN(N=N, D=D)})
    fit = Approach3(init=SMALL_GRID).fit(frame)
    asked = fit.budget_diagnostics([1e18, 1e24])
    codes = fit.diagnostic_codes() + [d.code for d in asked]
    assert codes.count("OPTIMUM_OUTSIDE_DATA") == 2  # the whole range, and the budget 1e18
    assert fit.diagnostic_codes().count("OPTIMUM_OUTSIDE_DATA") == 1  # the whole range
    extrap = [d for d in asked if d.code == "EXTRAPOLATION"]
    C_max = 6 * float((N * D).max())
    assert len(extrap) == 1 and extrap[0].data["factor"] == pytest.approx(1e24 / C_max)
    assert extrap[0].severity == "warning"


def test_a_single_start_is_reported():
    start = [6.0, 6.0, 0.5, 0.34, 0.28]
    fit = Approach3(init=start).fit(grid_runs(HOFFMANN, sigma=0.0))
    few = [d for d in fit.diagnostics if d.code == "FEW_STARTS"]
    assert fit.method["starts"] == 1 and few and few[0].severity == "info"


def test_residual_trend_flags_a_trend_and_ignores_noise():
    rng = np.random.default_rng(0)
    N = np.geomspace(1e7, 1e10, 200)
    noise = 0.003 * rng.standard_normal(N.size)
    assert diag.residual_trend(noise, N, "N") == []
    trend = diag.residual_trend(noise + 0.004 * np.log10(N / 1e7), N, "N")
    assert [d.code for d in trend] == ["RESIDUAL_TREND"]
    assert trend[0].data["slope_per_decade"] == pytest.approx(0.004, abs=0.001)
    from scipy.stats import spearmanr

    rho, p = spearmanr(np.log10(N), noise + 0.004 * np.log10(N / 1e7))
    assert trend[0].data["spearman"] == pytest.approx(rho, rel=1e-10)
    assert trend[0].data["p_value"] == pytest.approx(p, rel=1e-6)
    tiny = diag.residual_trend(noise * 0.01 + 1e-4 * np.log10(N), N, "N")
    assert tiny == []  # significant but smaller than 0.5% across the range


def test_generic_checks():
    assert diag.condition_number(np.array([[1.0, 0.999], [0.999, 1.0]])) == pytest.approx(
        1.999 / 0.001
    )
    assert diag.condition_number(np.diag([1.0, 1e-12])) == pytest.approx(1.0)  # units only
    bound = diag.at_bound({"alpha": 1e-4, "beta": 0.3}, {"alpha": (0, 3), "beta": (0, 3)})
    assert [d.data["name"] for d in bound] == ["alpha"] and bound[0].code == "AT_BOUND"
    assert diag.few_starts(40, 4500, 1e-5)[0].severity == "warning"
    assert diag.few_starts(45, 4500, 1e-5) == []
    below = diag.extrapolation_distance([1e15], [1e18, 1e20])
    assert below[0].data["factor"] == pytest.approx(1e3) and "below" in below[0].message
    assert diag.extrapolation_distance([1e19], [1e18, 1e20]) == []
    failures = diag.bootstrap_failures(10, 100)
    assert failures[0].severity == "warning" and diag.bootstrap_failures(0, 100) == []


def test_codes_are_documented_in_one_place():
    # The registry (scalinglaws.fit.codes) is that place; tests/test_diagnostic_codes.py checks
    # every emitted code against it and against docs/diagnostics.md.
    from scalinglaws.fit.codes import CODES

    assert "scalinglaws.fit.codes.CODES" in diag.__doc__
    codes = (
        "E_COLLAPSED TERM_VANISHED AT_BOUND DIVERGED FEW_STARTS NOT_CONVERGED ILL_CONDITIONED "
        "RESIDUAL_TREND OPTIMUM_OUTSIDE_DATA EXTRAPOLATION BOOTSTRAP_FAILURES EXPONENT_IMPLAUSIBLE "
        "INTERMEDIATE_CHECKPOINTS"
    )
    for code in codes.split():
        assert code in CODES


# ============================================================================ bad input
@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"law": "kaplna"}, UnknownNameError, "unknown law 'kaplna' for Approach 3; did you mean"),
        ({"objective": "hubr"}, UnknownNameError, "did you mean 'huber'?"),
        ({"delta": -1}, QuantityError, "delta must be a finite number greater than 0"),
        ({"init": {"a": 1}}, DataError, "init for law 'chinchilla' is missing b, e, alpha, beta"),
        ({"init": {**HOFFMANN_GRID, "gamma": 1}}, UnknownNameError, "unknown start coordinate"),
        ({"init": {**HOFFMANN_GRID, "E": 1.7}}, DataError, "gives both 'e' and its exponential"),
        ({"init": {"a": 5, "b": 5, "E": -1, "alpha": 0.3, "beta": 0.3}}, DataError,
         "init['E'] values must be greater than 0"),
        ({"init": [[1.0, 2.0]]}, DataError, "must have shape (starts, 5)"),
        ({"init": "random"}, UnknownNameError, "unknown init 'random'"),
        ({"law": "kaplan", "init": "hoffmann"}, UnknownNameError, "unknown init 'hoffmann'"),
        ({"n_jobs": 0}, QuantityError, "n_jobs must be a whole number >= 1"),
        ({"tol": 2}, QuantityError, "tol must be a number between 0 and 1"),
        ({"n_bootstrap": 1}, QuantityError, "n_bootstrap must be 0"),
    ],
)  # fmt: skip
def test_bad_options_are_one_sentence(kwargs, exc, text):
    with pytest.raises(exc) as info:
        Approach3(**kwargs)
    assert text in str(info.value) and "\n" not in str(info.value)


def test_paper_units_in_a_grid_dict():
    X = starting_grid("chinchilla", {"A": [400, 500], "B": 400, "E": 1.7, "alpha": 0.3,
                                     "beta": [0.3, 0.4]})  # fmt: skip
    assert X.shape == (4, 5)
    assert X[0] == pytest.approx([math.log(400), math.log(400), math.log(1.7), 0.3, 0.3])


def test_unidentifiable_runs_raise_fit_error():
    N = np.geomspace(1e8, 1e10, 6)
    frame = pd.DataFrame({"N": N, "D": 20 * N, "L": HOFFMANN(N=N, D=20 * N)})
    with pytest.raises(FitError, match="cannot be told apart"):
        Approach3(init=SMALL_GRID).fit(frame)
    with pytest.raises(FitError, match="too few to fit 5 parameters"):
        Approach3(init=SMALL_GRID).fit(grid_runs(HOFFMANN, n_sizes=3, n_tokens=1).iloc[:3]
                                       .assign(D=[1e10, 3e9, 7e11]))  # fmt: skip


def test_cli_fits_kaplan_and_rejects_a_bad_objective(tmp_path, capsys):
    from scalinglaws.cli import main

    path = tmp_path / "runs.csv"
    grid_runs(KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103), sigma=0.002) \
        .to_csv(path, index=False)  # fmt: skip
    assert main(["fit", str(path), "--law", "kaplan", "-o", str(tmp_path / "k.json")]) == 0
    out, _ = capsys.readouterr()
    assert "alpha_N" in out and "starts at best" in out
    assert Fit.from_json(tmp_path / "k.json").params["alpha_N"] == pytest.approx(0.076, abs=0.003)
    assert main(["fit", str(path), "--objective", "hubr"]) == 2
    _, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        "error: unknown objective 'hubr' for Approach 3; did you mean 'huber'?"
    ]
