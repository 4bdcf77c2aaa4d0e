"""Muennighoff et al. 2023 (data-constrained scaling) and DeepSeek LLM 2024 against their sources.

Check vectors: the datablations README ("Parametric Fit") evaluates the law at the two Figure 1
models and prints their losses to 17 digits; LITERATURE.md gives the C = 1e22, U = 25B optimum;
DeepSeek's Table 3 gives the FLOPs-per-token ratios.  Independent computations use scipy and
the README's own formulas written out here, not our code.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from scalinglaws import DomainError, UnknownNameError
from scalinglaws.allocation import allocate, allocate_for_params
from scalinglaws.data_limited import (
    DataLimitedAllocation,
    data_constrained_law,
    data_constrained_presets,
    data_limited_allocation,
    epochs_worth,
    repetition_stops_paying,
)
from scalinglaws.flops import Architecture, flops_per_token
from scalinglaws.laws import ChinchillaLaw, DataConstrainedLaw, law_from_dict
from scalinglaws.presets import MUENNIGHOFF_ROUNDED, get_preset

PRESET = get_preset("muennighoff2023")
LAW: DataConstrainedLaw = PRESET.law_for(("N", "D", "U"))

# The README's constants are logarithms: A = exp(a), B = exp(b), E = exp(e).
README = {"a": 6.255414, "b": 7.3049974, "e": 0.6254804, "alpha": 0.3526596, "rd": 15.387756}
README["rn"] = 5.309743


def readme_scaling_law(N: float, D: float, U: float) -> float:
    """The README's scaling_law, transcribed (U clipped to D as its optimal_allocation does)."""
    A, B, E = (math.exp(README[k]) for k in "abe")
    alpha = beta = README["alpha"]
    G = ((alpha * A) / (beta * B)) ** (1 / (alpha + beta))
    U = min(U, D)
    RD = max(D / U - 1, 0)
    UN = min(N, (U * G) ** (beta / alpha) * G)
    RN = max(N / UN - 1, 0)
    rd, rn = README["rd"], README["rn"]
    return (
        E
        + A / (UN + UN * rn * (1 - math.exp(-RN / rn))) ** alpha
        + B / (U + U * rd * (1 - math.exp(-RD / rd))) ** beta
    )


# ------------------------------------------------------------------------ the law and its constants
def test_check_vectors_to_every_digit_the_readme_prints():
    # README: scaling_law(6.34e9, 242e9, 25e9) = 2.2256440889984477, (8.67e9, 178e9) 2.2269634...
    assert LAW(N=6.34e9, D=242e9, U=25e9) == pytest.approx(2.2256440889984477, rel=1e-13)
    assert LAW(N=8.67e9, D=178e9, U=25e9) == pytest.approx(2.2269634075087867, rel=1e-13)
    # LITERATURE.md's 5-decimal versions, through the preset's own reproduction.
    rows = [r for r in PRESET.reproduce() if r["given"] == "ND"]
    assert [r["paper_L"] for r in rows] == [2.22564, 2.22696]
    assert all(abs(r["L"] - r["paper_L"]) < 5e-6 for r in rows)


def test_rounded_constants_miss_the_check_vectors_by_the_rounding_of_E():
    # The usual quotes A 520.82, B 1487.72, E 1.8691 give losses 4.4e-5 lower: within 1e-4
    # but not 1e-5.  The reason is E's rounding (exp(0.6254804) = 1.8691437), not N_opt:
    # the gap equals E's rounding error to within 3e-6 (A's and B's roundings add the rest).
    rounded = dataclasses.replace(LAW, **MUENNIGHOFF_ROUNDED)
    for (N, D, U), printed in (((6.34e9, 242e9, 25e9), 2.22564), ((8.67e9, 178e9, 25e9), 2.22696)):
        got = rounded(N=N, D=D, U=U)
        assert abs(got - printed) < 1e-4
        assert abs(got - printed) > 1e-5
        assert LAW(N=N, D=D, U=U) - got == pytest.approx(LAW.E - 1.8691, abs=3e-6)
    assert rounded.n_opt(1.0) == pytest.approx(LAW.n_opt(1.0), rel=1e-4)


def test_published_constants():
    assert LAW.A == pytest.approx(520.82, abs=0.01) and LAW.B == pytest.approx(1487.72, abs=0.01)
    assert LAW.E == pytest.approx(1.8691, abs=1e-4)
    assert LAW.alpha == LAW.beta == 0.3526596
    assert (LAW.R_D_star, LAW.R_N_star) == (15.387756, 5.309743)
    assert PRESET.n_counts == "total"
    assert PRESET.law == LAW.base() and isinstance(PRESET.law, ChinchillaLaw)


def test_n_opt_is_the_readme_D_to_N():
    # alpha = beta, so N_opt(U) = G²·U; the README's D_to_N gives the same from the same constants.
    G = LAW.base().G
    assert LAW.n_opt(25e9) == pytest.approx((25e9 * G) ** 1.0 * G, rel=1e-12)
    assert LAW.n_opt(1.0) == pytest.approx(0.0509865, rel=1e-5)
    assert round(LAW.n_opt(1.0), 3) == 0.051  # as write-ups round it
    # and our law is the README's everywhere, also with U > D (clipped to D), at random points
    rng = np.random.default_rng(3)
    for N, D, U in 10 ** rng.uniform([7, 8, 7], [11, 13, 13], size=(50, 3)):
        assert LAW(N=N, D=D, U=U) == pytest.approx(readme_scaling_law(N, D, U), rel=1e-12)


def test_one_epoch_or_less_is_chinchilla_up_to_excess_parameters():
    base = LAW.base()
    D = np.array([1e9, 5e10, 3e11])
    N = 0.5 * np.asarray(LAW.n_opt(D))  # N <= N_opt(D): no excess parameters
    for U in (D, 2 * D, np.full(3, 1e15)):
        assert np.array_equal(LAW(N=N, D=D, U=U), base(N=N, D=D))
    assert np.array_equal(LAW.effective_data(D, 10 * D), D)  # unseen unique tokens count 0
    # A model larger than N_opt(D) has excess parameters even on one epoch (the paper's law).
    big = 4 * np.asarray(LAW.n_opt(D))
    assert np.all(LAW(N=big, D=D, U=D) > base(N=big, D=D))


def test_repeated_data_is_worth_less_than_fresh_and_at_least_the_unique_tokens():
    U = 25e9
    epochs = np.array([1.0, 1.5, 2, 4, 8, 16, 40, 100, 1e4])
    d_eff = np.asarray(LAW.effective_data(epochs * U, U))
    assert d_eff[0] == U
    assert np.all(np.diff(d_eff) > 0)  # more epochs never lower the effective data
    assert np.all(d_eff >= U)  # ... nor below the unique tokens
    assert np.all(d_eff[1:] < epochs[1:] * U)  # ... and repeated tokens are worth less
    assert np.all(d_eff[:-1] < U * (1 + LAW.R_D_star))  # the ceiling, reached only at R = inf
    assert d_eff[-1] == pytest.approx(U * (1 + LAW.R_D_star), rel=1e-12)
    # 4 epochs by hand: D'/D = (1 + R*(1 - exp(-3/R*)))/4
    r = LAW.R_D_star
    assert d_eff[3] / (4 * U) == pytest.approx((1 + r * (1 - math.exp(-3 / r))) / 4, rel=1e-14)


def test_json_round_trip():
    text = json.dumps(LAW.to_dict())
    assert law_from_dict(json.loads(text)) == LAW
    assert law_from_dict(LAW.to_dict()) == LAW
    assert json.loads(text)["law"] == "data-constrained"
    json.dumps(PRESET.to_dict(), allow_nan=False)


# ------------------------------------------------------------------------ data-limited allocation
def brent_optimum(C: float, U: float, k: float = 6.0) -> float:
    """An independent minimiser: scipy's Brent on L(N, C/(kN), U) over log N."""
    res = minimize_scalar(
        lambda x: readme_scaling_law(math.exp(x), C / (k * math.exp(x)), U),
        bracket=(math.log(C**0.5 / 1e3), math.log(C**0.5 / 10)),
        tol=1e-12,
    )
    return math.exp(res.x)


def test_the_1e22_optimum_with_25B_unique_tokens():
    a = data_limited_allocation("muennighoff2023", C=1e22, unique_tokens=25e9)
    assert isinstance(a, DataLimitedAllocation)
    assert a.N == pytest.approx(7.02e9, rel=1e-3)
    assert a.D == pytest.approx(237.3e9, rel=1e-3)
    assert round(a.epochs, 2) == 9.49
    assert a.N == pytest.approx(brent_optimum(1e22, 25e9), rel=1e-6)
    assert 6 * a.N * a.D == pytest.approx(1e22, rel=1e-12)
    assert a.L == pytest.approx(LAW(N=a.N, D=a.D, U=25e9), rel=1e-14)
    # The limit binds: fewer parameters, more tokens, and a loss cost against unlimited data.
    assert a.binding and a.method == "numeric"
    assert a.N < a.N_free and a.D > a.D_free
    assert a.loss_cost == pytest.approx(a.L - a.L_free) and a.loss_cost > 0.03
    rows = [r for r in PRESET.reproduce() if r["given"] == "C"]
    assert all(abs(r["err_N"]) < 1e-3 and abs(r["err_D"]) < 1e-3 for r in rows)


def test_the_readme_grid_search():
    # README: optimal_allocation(8.67e9, 178e9, 25e9) -> 227B tokens, 9.1 epochs, 6.8B parameters.
    a = data_limited_allocation(PRESET, C=6 * 8.67e9 * 178e9, unique_tokens=25e9)
    assert round(a.N / 1e8) == 68 and round(a.D / 1e9) == 227 and round(a.epochs, 1) == 9.1


def test_unlimited_data_gives_the_base_chinchilla_closed_form():
    C = np.array([1e18, 1e20, 1e22, 1e24])
    base = LAW.base()
    N = base.G * (C / 6) ** base.a  # Hoffmann et al. 2022, App. D.2, written out
    D = C / (6 * N)
    for U in (1e30, D, D * (1 + 1e-9)):  # U -> inf, and U >= D* exactly
        a = data_limited_allocation(LAW, C, U)
        np.testing.assert_allclose(a.N, N, rtol=1e-6)
        np.testing.assert_allclose(a.D, D, rtol=1e-6)
        np.testing.assert_allclose(a.L, base(N=N, D=D), rtol=1e-12)
        assert not np.any(a.binding) and a.method == "closed form"
        assert np.all(a.loss_cost == 0.0)
        assert np.array_equal(a.N, allocate("muennighoff2023", C).N)
    # Just below D* the limit binds, and the answer moves continuously away from it.
    a = data_limited_allocation(LAW, C, D * (1 - 1e-6))
    assert np.all(a.binding)
    np.testing.assert_allclose(
        a.N, N, rtol=1e-5
    )  # the golden-section polish; 1.6e-5 off without it
    assert np.all((a.loss_cost >= 0) & (a.loss_cost < 1e-12))


def test_allocation_is_vectorised_and_other_conventions_hold():
    a = data_limited_allocation("muennighoff2023", C=[1e20, 1e22, 1e24], unique_tokens=25e9)
    assert a.N.shape == (3,) and a.binding.tolist() == [False, True, True]
    assert a.method == "numeric"
    assert a.N[1] == pytest.approx(7.026e9, rel=1e-3)
    json.dumps(a.to_dict(), allow_nan=False)
    grid = data_limited_allocation(LAW, C=np.full((2, 2), 1e22), unique_tokens=[[1e10], [1e11]])
    assert grid.N.shape == (2, 2) and grid.N[0, 0] < grid.N[1, 0]
    # C = 8·N·D
    k8 = data_limited_allocation(LAW, C=1e22, unique_tokens=25e9, flops_per_token=8.0)
    assert 8 * k8.N * k8.D == pytest.approx(1e22, rel=1e-12)
    assert k8.N == pytest.approx(brent_optimum(1e22, 25e9, k=8.0), rel=1e-6)


def test_less_unique_data_costs_more():
    U = np.geomspace(1e9, 2e11, 12)
    a = data_limited_allocation(LAW, C=1e22, unique_tokens=U)
    assert np.all(np.diff(a.loss_cost) <= 0) and a.loss_cost[-1] == 0.0
    assert np.all(np.diff(a.epochs[a.binding]) < 0)


# ------------------------------------------------------------------------ repetition
def test_epochs_worth():
    w = epochs_worth("muennighoff2023", unique_tokens=25e9, epochs=[1, 2, 4, 16, 40])
    assert w.data_fraction[0] == 1.0 and w.loss_gap[0] == 0.0
    assert np.all(np.diff(w.data_fraction) < 0) and np.all(np.diff(w.loss_gap) > 0)
    # Up to ~4 epochs repetition costs little: 4 epochs are worth 93% of fresh tokens ...
    assert w.data_fraction[2] == pytest.approx(0.93142, abs=1e-5)
    # ... and the same model (N_opt(D)) loses under 1% in loss; at 40 epochs over 5%.
    assert w.relative_gap[2] < 0.01 and w.relative_gap[4] > 0.05
    assert w.N[2] == pytest.approx(LAW.n_opt(100e9), rel=1e-12)
    assert w.L[2] == pytest.approx(LAW(N=w.N[2], D=100e9, U=25e9), rel=1e-14)
    assert w.L_fresh[2] == pytest.approx(LAW.base()(N=w.N[2], D=100e9), rel=1e-14)
    # A fixed model below N_opt(U) pays for the data only.
    small = epochs_worth(LAW, 25e9, 4, N=1e9)
    assert small.N == 1e9 and 0 < small.relative_gap < w.relative_gap[2]
    json.dumps(small.to_dict())


def test_repetition_stops_paying():
    assert repetition_stops_paying(PRESET) == pytest.approx(1 + 15.387756, rel=1e-15)
    half = repetition_stops_paying(LAW, fraction=0.5)
    assert half == pytest.approx(1 + 15.387756 * math.log(2), rel=1e-15)
    assert round(half, 1) == 11.7
    # At that epoch the next repeated token is worth exactly the fraction of a fresh one: the
    # slope dD'/dD by finite differences, and epochs_worth's marginal.
    U, h = 25e9, 1e-4
    slope = (LAW.effective_data((half + h) * U, U) - LAW.effective_data((half - h) * U, U)) / (
        2 * h * U
    )
    assert slope == pytest.approx(0.5, rel=1e-6)
    assert epochs_worth(LAW, U, half).marginal == pytest.approx(0.5, rel=1e-12)
    fractions = repetition_stops_paying(LAW, [0.9, 0.5, 0.1])
    assert np.all(np.diff(fractions) > 0)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [0, -25e9, float("nan"), float("inf"), "25B", True])
def test_bad_unique_tokens(bad):
    with pytest.raises(DomainError, match="unique_tokens .* must be a finite number") as info:
        data_limited_allocation("muennighoff2023", C=1e22, unique_tokens=bad)
    assert info.value.argument == "unique_tokens"
    with pytest.raises(DomainError, match="unique_tokens"):
        epochs_worth("muennighoff2023", unique_tokens=bad, epochs=2)


def test_laws_without_a_data_constrained_form_are_refused_by_name():
    assert data_constrained_presets() == ["muennighoff2023"]
    for law in ("hoffmann2022", get_preset("besiroglu2024"), LAW.base()):
        with pytest.raises(DomainError, match="no data-constrained form .*'muennighoff2023'") as e:
            data_limited_allocation(law, C=1e22, unique_tokens=25e9)
        assert e.value.argument == "law"
    with pytest.raises(UnknownNameError, match="did you mean 'muennighoff2023'"):
        data_limited_allocation("muenighoff2023", C=1e22, unique_tokens=25e9)
    with pytest.raises(UnknownNameError, match="cannot answer a unique-data question with a dict"):
        data_limited_allocation({"law": "data-constrained"}, C=1e22, unique_tokens=25e9)


def test_other_bad_input():
    with pytest.raises(DomainError, match="C .* must be a finite number greater than 0"):
        data_limited_allocation(LAW, C=-1.0, unique_tokens=25e9)
    with pytest.raises(DomainError, match="epochs") as info:
        epochs_worth(LAW, 25e9, epochs=0)
    assert info.value.argument == "epochs"
    with pytest.raises(DomainError, match="fraction must lie strictly between 0 and 1"):
        repetition_stops_paying(LAW, fraction=1.0)
    with pytest.raises(DomainError, match="fraction"):
        repetition_stops_paying(LAW, fraction=-0.5)


def test_a_fit_of_the_law_is_accepted():
    class FakeFit:  # what a fit result exposes: its law
        law = LAW

    assert data_constrained_law(FakeFit()) is LAW
    assert data_limited_allocation(FakeFit(), 1e22, 25e9).N == pytest.approx(7.026e9, rel=1e-3)


# ------------------------------------------------------------------------ DeepSeek LLM 2024
def test_deepseek_rule_closes_the_budget_up_to_rounding():
    p = get_preset("deepseek2024")
    # 0.1715 x 5.8316 = 1.00012: M_opt·D_opt = C up to the constants' rounding, at every C.
    assert 0.1715 * 5.8316 == pytest.approx(1.00012, abs=1e-5)
    assert 0.5243 + 0.4757 == pytest.approx(1.0, abs=1e-15)
    C = np.array([1e17, 1e21, 1e25])
    a = allocate(p, C=C)
    np.testing.assert_allclose(6 * a.N, 0.1715 * C**0.5243, rtol=1e-12)  # N* = M_opt / 6
    np.testing.assert_allclose(a.D, 5.8316 * C**0.4757, rtol=1e-12)
    np.testing.assert_allclose(6 * a.N * a.D / C, 1.00012, atol=1e-5)
    assert np.all(np.isnan(a.L)) and p.n_counts == "non-embedding"


def test_deepseek_table3_check_vector_against_the_flops_convention():
    # Table 3: 24 layers, d 2048, vocab 102400, l_seq 4096 -> M = 9.66B, 6N1/M = 0.75, 6N2/M = 0.88.
    arch = Architecture(24, 2048, 16, 102400, 4096, learned_positions=False)
    M = flops_per_token(arch, "deepseek")
    n = arch.params()
    assert round(M / 1e9, 2) == 9.66
    assert round(6 * n.non_embedding / M, 2) == 0.75 and round(6 * n.total / M, 2) == 0.88
    # The budget for which this M is optimal, through the preset (N = M/6), and back.
    a = allocate_for_params("deepseek2024", N=M / 6)
    assert a.C == pytest.approx((M / 0.1715) ** (1 / 0.5243), rel=1e-12)
    assert 6 * a.N == pytest.approx(M, rel=1e-12)
    # M/6 overstates the non-embedding parameters by a third for this model.
    assert M / 6 / n.non_embedding == pytest.approx(1 / 0.75, abs=0.01)
