"""Over-training priced, and Gadre et al. 2024's over-training law: the law against its
Chinchilla twin, the fit on synthetic and shipped data, the price and its intervals."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.allocation import allocate, compute_for_loss
from scalinglaws.errors import DomainError, FitError
from scalinglaws.fit.result import Fit
from scalinglaws.laws import ChinchillaLaw, OvertrainingLaw, law_from_dict
from scalinglaws.overtraining import (
    PRICED,
    compare_overtraining_fit,
    fit_overtraining_law,
    overtraining_cost,
    price_draws,
)

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # the preset's law
TRUE = OvertrainingLaw(E=1.8, a=900.0, b=3000.0, eta=0.17)


def synthetic(law, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    N = np.geomspace(1e7, 3e9, 12).repeat(8)
    D = N * np.tile(np.geomspace(2, 400, 8), 12)
    L = np.asarray(law(N=N, D=D)) * np.exp(rng.normal(0.0, noise, N.size))
    return N, D, L


# ============================================================================ the law
def test_gadre_law_is_chinchilla_with_tied_exponents():
    chin = ChinchillaLaw(E=1.7, A=420.0, B=1300.0, alpha=0.31, beta=0.31)
    gadre = OvertrainingLaw.from_chinchilla(chin)
    assert gadre.eta == pytest.approx(0.155, rel=1e-15)
    assert gadre.a == pytest.approx(420.0 * 6**0.155, rel=1e-15)
    N = np.geomspace(1e6, 1e12, 13)[:, None]
    D = np.geomspace(1e8, 1e14, 11)[None, :]
    np.testing.assert_allclose(gadre(N=N, D=D), chin(N=N, D=D), rtol=1e-12, atol=0)
    C, M = 6 * N * D, D / N
    np.testing.assert_allclose(gadre.loss_at(C, M), chin(N=N, D=D), rtol=1e-12, atol=0)
    n, d = OvertrainingLaw.params_tokens(C, M)
    np.testing.assert_allclose(n, np.broadcast_to(N, n.shape), rtol=1e-12)
    twin = gadre.to_chinchilla()
    for name in ("E", "A", "B", "alpha", "beta"):
        assert getattr(twin, name) == pytest.approx(getattr(chin, name), rel=1e-12)


def test_gadre_frontier_and_multiplier_are_the_compute_optimum():
    C = np.array([1e19, 1e22, 1e25])
    opt = allocate(TRUE.to_chinchilla(), C)  # the closed form of Hoffmann App. D.2
    np.testing.assert_allclose(TRUE.frontier(C), opt.L, rtol=1e-12)
    np.testing.assert_allclose(opt.tokens_per_param, TRUE.optimal_multiplier, rtol=1e-10)
    numeric = allocate(TRUE, C)  # the law itself, through the numeric engine
    np.testing.assert_allclose(numeric.N, opt.N, rtol=1e-6)
    # over-training by a factor x multiplies the reducible loss by cosh(eta·ln x)
    x = 50.0
    n, d = OvertrainingLaw.params_tokens(1e22, TRUE.optimal_multiplier * x)
    ratio = (TRUE(N=n, D=d) - TRUE.E) / (TRUE.frontier(1e22) - TRUE.E)
    assert ratio == pytest.approx(np.cosh(TRUE.eta * np.log(x)), rel=1e-12)


def test_gadre_law_is_registered_and_refuses_untied_exponents():
    assert law_from_dict(TRUE.to_dict()) == TRUE
    with pytest.raises(DomainError, match="alpha = beta"):
        OvertrainingLaw.from_chinchilla(HOFFMANN)


# ============================================================================ the price
def test_price_is_one_at_the_compute_optimum_and_more_on_both_sides():
    for C in (1e21, 1e24):
        opt = allocate(HOFFMANN, C)
        at = overtraining_cost(HOFFMANN, C=C, tokens_per_param=opt.tokens_per_param)
        assert at.price == pytest.approx(1.0, rel=1e-9)
        assert at.extra_flops == pytest.approx(0.0, abs=1e-8 * C)
        assert at.size_ratio == pytest.approx(1.0, rel=1e-9)
        assert at.loss_gap == pytest.approx(0.0, abs=1e-12)
        for factor in (1 / 30, 1 / 3, 3, 30, 300):
            p = overtraining_cost(HOFFMANN, C=C, tokens_per_param=opt.tokens_per_param * factor)
            assert p.price > 1 and p.extra_flops > 0 and p.loss_gap > 0
            assert (p.size_ratio > 1) == (factor > 1)  # over-trained: a smaller model


def test_price_does_not_depend_on_the_budget_under_chinchilla():
    ratio = allocate(HOFFMANN, 1e22).tokens_per_param * 40  # same multiple of the optimum
    a = overtraining_cost(HOFFMANN, C=1e22, tokens_per_param=ratio)
    b = overtraining_cost(
        HOFFMANN, C=1e26, tokens_per_param=ratio * (1e26 / 1e22) ** (HOFFMANN.b - HOFFMANN.a)
    )
    assert a.price == pytest.approx(b.price, rel=1e-9)
    al, be = HOFFMANN.alpha, HOFFMANN.beta
    t = np.log(40) / 2
    r = (be * np.exp(al * t) + al * np.exp(-be * t)) / (al + be)
    assert a.price == pytest.approx(r ** ((al + be) / (al * be)), rel=1e-9)


def test_llama3_8b_against_a_brute_force_grid():
    p = overtraining_cost("hoffmann2022", N=8e9, D=15e12)
    E, A, B, al, be = 1.69, 406.4, 410.7, 0.34, 0.28
    L = E + A / 8e9**al + B / 15e12**be
    C = 6 * 8e9 * 15e12
    # the least compute on the iso-loss curve L(N, D) = L, over a fine grid of N
    n = np.geomspace(8.5e9, 1e12, 2_000_001)
    d = (B / (L - E - A * n**-al)) ** (1 / be)
    i = int(np.argmin(n * d))
    c_eq = 6 * n[i] * d[i]
    # the least loss at C, over a fine grid of N
    m = np.geomspace(1e9, 1e12, 2_000_001)
    l_opt = float(np.min(E + A / m**al + B / (C / (6 * m)) ** be))
    assert p.L == pytest.approx(L, rel=1e-12)
    assert p.C == pytest.approx(7.2e23)
    assert p.C_equal == pytest.approx(c_eq, rel=1e-9)
    assert p.N_equal == pytest.approx(n[i], rel=1e-4)
    assert p.L_opt == pytest.approx(l_opt, rel=1e-12)
    assert p.price == pytest.approx(C / c_eq, rel=1e-9)
    # the numbers quoted in the README / reply
    assert p.price == pytest.approx(1.988, abs=1e-3)
    assert p.size_ratio == pytest.approx(3.263, abs=1e-3)
    assert p.L == pytest.approx(1.9485, abs=1e-4)
    assert p.L_opt == pytest.approx(1.9226, abs=1e-4)


def test_budget_and_model_forms_agree():
    a = overtraining_cost(HOFFMANN, N=8e9, D=15e12)
    b = overtraining_cost(HOFFMANN, C=7.2e23, tokens_per_param=1875.0)
    for key in ("N", "D", "L", "price", "C_equal"):
        assert getattr(a, key) == pytest.approx(getattr(b, key), rel=1e-12)
    # a callable FLOPs convention 6N gives the same answer, by the numeric engine
    c = overtraining_cost(
        HOFFMANN, C=7.2e23, tokens_per_param=1875.0, flops_per_token=lambda n: 6 * n
    )
    assert c.N == pytest.approx(8e9, rel=1e-9)
    assert c.price == pytest.approx(a.price, rel=1e-6)


def test_vectorised_and_to_dict():
    p = overtraining_cost(HOFFMANN, C=1e23, tokens_per_param=[5.0, 20.0, 200.0])
    assert np.shape(p.price) == (3,)
    assert p.to_dict()["price"][2] == pytest.approx(float(p.price[2]))


def test_bad_input():
    with pytest.raises(DomainError, match="either C and tokens_per_param"):
        overtraining_cost(HOFFMANN, C=1e23, N=8e9)
    with pytest.raises(DomainError, match="either C and tokens_per_param"):
        overtraining_cost(HOFFMANN, C=1e23)
    with pytest.raises(DomainError, match="give both N and D"):
        overtraining_cost(HOFFMANN, N=8e9)
    with pytest.raises(DomainError, match="tokens_per_param") as info:
        overtraining_cost(HOFFMANN, C=1e23, tokens_per_param=-3)
    assert info.value.argument == "tokens_per_param"
    with pytest.raises(DomainError) as info:
        overtraining_cost("llama3", N=8e9, D=15e12)
    assert info.value.argument == "law"
    with pytest.raises(FitError, match="bootstrap replicates"):
        overtraining_cost(HOFFMANN, N=8e9, D=15e12, level=0.9)


# ============================================================================ the fit
def test_fit_recovers_synthetic_constants():
    N, D, L = synthetic(TRUE)
    fit = fit_overtraining_law(N, D, L)
    assert isinstance(fit, Fit) and isinstance(fit.law, OvertrainingLaw)
    for name, value in TRUE.params.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6)


def test_fit_with_noise_and_intervals():
    N, D, L = synthetic(TRUE, noise=0.003, seed=1)
    fit = fit_overtraining_law(N, D, L, n_bootstrap=40, seed=3)
    for name, value in TRUE.params.items():
        assert fit.params[name] == pytest.approx(value, rel=0.05)
    lo, hi = fit.intervals["eta"]
    assert lo < TRUE.eta < hi
    # the price with intervals from the replicates, fresh and reloaded from JSON
    p = overtraining_cost(fit, N=8e9, D=15e12, level=0.9)
    assert set(p.intervals) == set(PRICED)
    lo, hi = p.intervals["price"]
    assert lo < p.price < hi
    loaded = Fit.from_json(fit.to_json())
    q = overtraining_cost(loaded, N=8e9, D=15e12, level=0.9)
    assert q.intervals["price"] == pytest.approx(p.intervals["price"], rel=1e-12)
    # the vectorised replicate path equals each replicate law answered on its own
    draws = price_draws(OvertrainingLaw, fit.replicates.values, [8e9], [15e12])
    for i, law in enumerate(fit.replicate_laws()[:5]):
        one = overtraining_cost(law, N=8e9, D=15e12)
        assert draws["price"][i, 0] == pytest.approx(one.price, rel=1e-9)
        assert draws["C_equal"][i, 0] == pytest.approx(
            compute_for_loss(law.to_chinchilla(), one.L).C, rel=1e-9
        )
    # allocation from the fit uses the law through the engine, with intervals
    alloc = fit.allocate(1e22, level=0.9)
    assert alloc.intervals["N"][0] < alloc.N < alloc.intervals["N"][1]


def test_fit_rejects_bad_tables():
    with pytest.raises(sl.errors.DataError, match="one value per run"):
        fit_overtraining_law([1e8, 2e8], [1e9], [3.0, 2.9])
    with pytest.raises(DomainError):
        fit_overtraining_law([1e8] * 6, [1e9] * 6, [3.0, 2.9, 2.8, -1, 2.7, 2.6])


# ============================================================================ the comparison
def _as_table(N, D, L):
    import pandas as pd

    return pd.DataFrame({"N": N, "D": D, "L": L})


def test_comparison_prefers_the_true_form_on_synthetic_data():
    tied = compare_overtraining_fit(_as_table(*synthetic(TRUE, noise=0.002, seed=2)))
    gadre, free = tied.forms
    assert gadre.name == "gadre2024" and gadre.n_params == 4 and free.n_params == 5
    assert free.objective <= gadre.objective * (1 + 1e-6)  # the tied form is nested in it
    assert gadre.aic < free.aic  # one constant fewer for an equally good fit
    untied = ChinchillaLaw(E=1.8, A=400.0, B=3000.0, alpha=0.45, beta=0.25)
    apart = compare_overtraining_fit(_as_table(*synthetic(untied, noise=0.001, seed=2)))
    gadre, free = apart.forms
    assert free.aic < gadre.aic - 20  # ΔAIC ≈ 44 on these 96 runs
    assert free.params["beta"] == pytest.approx(0.25, rel=0.02)
    assert free.params["alpha"] == pytest.approx(0.45, rel=0.1)  # A/N^α is the weaker term


def test_comparison_on_chinchilla_figure_4():
    runs = sl.datasets.load_runs("chinchilla_fig4", drop_highest=5)
    cmp = compare_overtraining_fit(runs, C_split=1e21, predict_C=5.76e23)
    gadre, free = cmp.forms
    assert cmp.fitted_runs + cmp.heldout_runs == 240 and cmp.heldout_runs > 0
    assert free.objective <= gadre.objective * (1 + 1e-6)
    assert np.isfinite(gadre.heldout_rmse_log) and np.isfinite(free.heldout_rmse_log)
    assert "gadre2024" in cmp.table()
    whole = compare_overtraining_fit(runs)
    # the free form reaches Besiroglu et al. 2024's Huber optimum on all 240 points
    assert whole.forms[1].objective == pytest.approx(1.01827e-3, rel=1e-4)
    assert whole.forms[0].params["eta"] == pytest.approx(0.178, abs=0.01)


def test_fit_approach_overtraining_on_the_command_line(tmp_path, capsys):
    import json

    from scalinglaws.cli import main

    path = tmp_path / "ot.json"
    argv = ["fit", "dataset:chinchilla_fig4", "--drop-highest", "5", "--approach"]
    assert main([*argv, "overtraining", "--bootstrap", "8", "-o", str(path)]) == 0
    out = capsys.readouterr().out
    assert "approach overtraining: L = E + (a·M^eta + b·M^-eta)·C^-eta" in out
    fit = Fit.from_json(path)
    assert fit.approach == "overtraining" and isinstance(fit.law, OvertrainingLaw)
    runs = sl.datasets.load_runs("chinchilla_fig4", drop_highest=5)
    direct = fit_overtraining_law(runs.N, runs.D, runs.L)
    assert fit.params == pytest.approx(direct.params, rel=1e-9)  # the same fit as the library
    argv = ["allocate", "--fit", str(path), "--params", "8B", "--tokens", "15T", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    price = overtraining_cost(fit, N=8e9, D=15e12)
    (row,) = doc["rows"]
    assert row["price"] == pytest.approx(float(price.price), rel=1e-12)
    assert row["N_equal"] == pytest.approx(float(price.N_equal), rel=1e-12)
    assert (
        main(["fit", "dataset:chinchilla_fig4", "--approach", "overtraining", "--min-sizes", "3"])
        == 2
    )
    assert "--min-sizes does not apply to --approach overtraining" in capsys.readouterr().err
