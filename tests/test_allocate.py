"""Compute-optimal allocation: closed forms against the numeric minimiser, the inverse questions,
frontiers, IsoLoss contours and Kaplan's rules of thumb."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from scalinglaws import DomainError, Fit, PowerLaw, UnknownNameError
from scalinglaws.allocation import (
    Allocation,
    allocate,
    allocate_for_params,
    compute_for_loss,
    critical_batch_size,
    early_stopping_steps,
    efficient_frontier,
    isoloss_contours,
    min_compute,
    min_examples,
    min_steps,
    min_tokens_no_overfit,
    overfitting_penalty,
    overfitting_rule,
)
from scalinglaws.laws import ChinchillaLaw, KaplanNDLaw, KaplanNLaw
from scalinglaws.laws.base import Law, positive, scalar_or_array
from scalinglaws.presets import get_preset

HOFFMANN = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
UNROUNDED = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)
BESIROGLU = ChinchillaLaw(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
KAPLAN_ND = KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
BUDGETS = np.geomspace(1e17, 1e27, 11)
PF_DAY = 8.64e19


@dataclass(frozen=True)
class CoupledLaw(Law):
    """A law with no closed-form optimum: L = E + (A/N^alpha + B/D^beta)^gamma (test only)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    gamma: float

    name: ClassVar[str] = "test-coupled"
    variables: ClassVar[tuple[str, ...]] = ("N", "D")

    def __call__(self, N=None, D=None):
        self._check_kwargs({"N": N, "D": D})
        n, d = positive("N", N), positive("D", D)
        return scalar_or_array(
            self.E + (self.A / n**self.alpha + self.B / d**self.beta) ** self.gamma
        )


COUPLED = CoupledLaw(E=1.7, A=400.0, B=1000.0, alpha=0.33, beta=0.3, gamma=1.2)


# ------------------------------------------------------------------------ closed forms
def test_closed_form_by_hand_at_gopher_budget():
    C = 5.76e23
    G = (0.34 * 406.4 / (0.28 * 410.7)) ** (1 / 0.62)
    a = allocate(HOFFMANN, C=C)
    assert a.N == pytest.approx(G * (C / 6) ** (0.28 / 0.62), rel=1e-13)
    assert a.D == pytest.approx((C / 6) ** (0.34 / 0.62) / G, rel=1e-13)
    assert a.L == pytest.approx(HOFFMANN(N=a.N, D=a.D), rel=1e-14)
    assert a.tokens_per_param == pytest.approx(a.D / a.N) and a.C == C
    assert a.method == "closed form"
    assert isinstance(a.N, float)


@pytest.mark.parametrize("law", [HOFFMANN, UNROUNDED, BESIROGLU, KAPLAN_ND])
def test_closed_form_matches_numeric_minimiser(law):
    closed = allocate(law, C=BUDGETS)
    numeric = allocate(law, C=BUDGETS, method="numeric")
    assert closed.method == "closed form" and numeric.method == "numeric"
    np.testing.assert_allclose(numeric.N, closed.N, rtol=1e-6)
    np.testing.assert_allclose(numeric.D, closed.D, rtol=1e-6)
    np.testing.assert_allclose(numeric.L, closed.L, rtol=1e-12)
    np.testing.assert_allclose(6 * closed.N * closed.D, BUDGETS, rtol=1e-12)


@pytest.mark.parametrize(
    "law, a",
    [(HOFFMANN, 0.28 / 0.62), (BESIROGLU, 0.3658 / 0.7136), (KAPLAN_ND, 0.103 / 0.179)],
)
def test_allocation_exponents(law, a):
    # N* ∝ C^a: Chinchilla a = beta/(alpha+beta); Kaplan L(N, D) a = alpha_D/(alpha_N+alpha_D).
    n = allocate(law, C=BUDGETS, method="numeric").N
    slope = np.polyfit(np.log(BUDGETS), np.log(n), 1)[0]
    assert slope == pytest.approx(a, abs=1e-7)


def test_flops_per_token_constant_scales_the_budget():
    # With C = k·N·D the optimum depends on C/k only.
    a8 = allocate(HOFFMANN, C=8e22, flops_per_token=8.0)
    a6 = allocate(HOFFMANN, C=6e22, flops_per_token=6.0)
    assert a8.N == pytest.approx(a6.N, rel=1e-13) and a8.D == pytest.approx(a6.D, rel=1e-13)


def test_callable_flops_per_token():
    same = allocate(HOFFMANN, C=BUDGETS, flops_per_token=lambda n: 6.0 * n)
    np.testing.assert_allclose(same.N, allocate(HOFFMANN, C=BUDGETS).N, rtol=1e-6)
    # A FLOPs-per-token rule with a fixed attention cost: C = (6N + 2e9)·D.
    f = lambda n: 6.0 * n + 2e9  # noqa: E731
    a = allocate(HOFFMANN, C=1e21, flops_per_token=f)
    assert a.method == "numeric"
    assert f(a.N) * a.D == pytest.approx(1e21, rel=1e-12)
    for step in (1 - 1e-3, 1 + 1e-3):  # a local minimum along the constraint
        n = a.N * step
        assert HOFFMANN(N=n, D=1e21 / f(n)) > a.L
    # The fixed cost makes tokens dearer, so the optimum has fewer tokens than with 6N.
    assert a.D < allocate(HOFFMANN, C=1e21).D
    with pytest.raises(DomainError, match="no closed form"):
        allocate(HOFFMANN, C=1e21, flops_per_token=f, method="closed")


def test_numeric_minimiser_on_a_law_without_closed_form():
    a = allocate(COUPLED, C=np.array([1e20, 1e23]))
    assert a.method == "numeric"
    for i, C in enumerate((1e20, 1e23)):
        best = a.L[i]
        grid = a.N[i] * np.exp(np.linspace(-0.05, 0.05, 101))
        assert best <= COUPLED(N=grid, D=C / (6 * grid)).min() + 1e-15
    with pytest.raises(DomainError, match="no closed form for law 'test-coupled'"):
        allocate(COUPLED, C=1e20, method="closed")


def test_arrays_in_arrays_out():
    C = np.array([[1e20, 1e21], [1e22, 1e23]])
    a = allocate("hoffmann2022", C=C)
    assert all(np.shape(getattr(a, k)) == (2, 2) for k in ("N", "D", "L", "tokens_per_param"))
    assert a.N[1, 0] == pytest.approx(allocate(HOFFMANN, C=1e22).N)
    assert a.to_dict()["N"][0][1] == pytest.approx(float(a.N[0, 1]))
    assert isinstance(allocate(HOFFMANN, C=[1e20]).N, np.ndarray)


def test_accepts_law_preset_name_preset_and_fit():
    fit = Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3")
    expected = allocate(HOFFMANN, C=1e22).N
    for source in (HOFFMANN, "hoffmann2022", get_preset("hoffmann2022"), fit):
        assert allocate(source, C=1e22).N == expected


# ------------------------------------------------------------------------ power-law rules
def test_kaplan_rule():
    C = 1e4 * PF_DAY
    a = allocate("kaplan2020", C=C)
    assert a.N == pytest.approx(1.3e9 * 1e4**0.73, rel=1e-13)
    assert a.D == pytest.approx(2e10 * 1e4**0.27, rel=1e-13)
    assert a.L == pytest.approx((3.1e8 / 1e4) ** 0.05, rel=1e-13)  # L(C_min)
    assert a.method == "power-law rule"


def test_llama3_rule_has_no_loss():
    C = np.array([1e22, 3.8e25])
    a = allocate("llama3", C=C)
    np.testing.assert_allclose(a.D, 0.29 * C**0.53, rtol=1e-13)
    np.testing.assert_allclose(a.N, C / (6 * a.D), rtol=1e-13)
    assert np.all(np.isnan(a.L))
    # A callable FLOPs-per-token rule is solved for N: f(N)·D = C.
    f = lambda n: 6.0 * n + 1e10  # noqa: E731
    b = allocate("llama3", C=C, flops_per_token=f)
    np.testing.assert_allclose(f(b.N) * b.D, C, rtol=1e-10)


# ------------------------------------------------------------------------ inverse questions
@pytest.mark.parametrize("law", [HOFFMANN, KAPLAN_ND, "hoffmann2022-approach1", "kaplan2020"])
def test_allocate_for_params_inverts_allocate(law):
    N = np.array([4e8, 7e10, 1e12])
    a = allocate_for_params(law, N=N)
    np.testing.assert_allclose(a.N, N, rtol=1e-12)
    np.testing.assert_allclose(allocate(law, C=a.C).N, N, rtol=1e-12)


@pytest.mark.parametrize("law", [HOFFMANN, KAPLAN_ND])
def test_allocate_for_params_closed_matches_numeric(law):
    N = np.array([1e9, 7e10])
    closed = allocate_for_params(law, N=N)
    numeric = allocate_for_params(law, N=N, method="numeric")
    np.testing.assert_allclose(numeric.C, closed.C, rtol=1e-6)
    np.testing.assert_allclose(numeric.N, N, rtol=1e-6)


def test_allocate_for_params_numeric_law_and_llama_rule():
    a = allocate_for_params(COUPLED, N=5e9)
    assert allocate(COUPLED, C=a.C).N == pytest.approx(5e9, rel=1e-6)
    b = allocate_for_params("llama3", N=402e9)
    assert b.N == pytest.approx(402e9, rel=1e-12)
    assert b.D == pytest.approx(0.29 * b.C**0.53, rel=1e-12)


@pytest.mark.parametrize("law", [HOFFMANN, BESIROGLU, KAPLAN_ND])
def test_compute_for_loss(law):
    L = np.array([2.0, 2.5, 3.0])
    a = compute_for_loss(law, L=L)
    np.testing.assert_allclose(a.L, L, rtol=1e-12)
    numeric = compute_for_loss(law, L=L, method="numeric")
    np.testing.assert_allclose(numeric.C, a.C, rtol=1e-6)
    # It is the least compute: a slightly smaller budget cannot reach L.
    assert np.all(allocate(law, C=a.C * (1 - 1e-6)).L > L)


def test_compute_for_loss_kaplan_rule_and_numeric_law():
    a = compute_for_loss("kaplan2020", L=2.0)
    assert a.C == pytest.approx(3.1e8 * PF_DAY * 2.0 ** (-1 / 0.05), rel=1e-13)
    b = compute_for_loss(COUPLED, L=2.2)
    assert b.L == pytest.approx(2.2, rel=1e-10)


def test_unreachable_losses_are_one_clear_sentence():
    with pytest.raises(DomainError) as info:
        compute_for_loss("hoffmann2022", L=[2.0, 1.6])
    assert str(info.value) == (
        "target loss L = 1.6 is unreachable: preset 'hoffmann2022' never goes below its "
        "irreducible loss E = 1.69; choose L > 1.69"
    )
    with pytest.raises(DomainError, match="preset 'llama3' publishes no loss law"):
        compute_for_loss("llama3", L=2.0)


# ------------------------------------------------------------------------ frontier, contours
def test_efficient_frontier():
    fr = efficient_frontier("hoffmann2022", (1e18, 1e26), num=9)
    np.testing.assert_allclose(fr.C, np.geomspace(1e18, 1e26, 9))
    np.testing.assert_allclose(fr.N, allocate(HOFFMANN, C=fr.C).N)
    assert np.all(np.diff(fr.N) > 0) and np.all(np.diff(fr.L) < 0)
    with pytest.raises(DomainError, match="C_range must have low < high"):
        efficient_frontier(HOFFMANN, (1e26, 1e18))
    with pytest.raises(DomainError, match="num must be an integer of at least 2"):
        efficient_frontier(HOFFMANN, (1e18, 1e26), num=1)


@pytest.mark.parametrize("law", [HOFFMANN, KAPLAN_ND, COUPLED])
def test_isoloss_contours_lie_on_their_level(law):
    levels = [2.2, 2.6, 3.0]
    iso = isoloss_contours(law, levels, (1e7, 1e12), num=40)
    assert iso.D.shape == (3, 40) and iso.C.shape == (3, 40)
    for i, level in enumerate(levels):
        ok = np.isfinite(iso.D[i])
        assert ok.sum() > 5
        np.testing.assert_allclose(law(N=iso.N[ok], D=iso.D[i, ok]), level, rtol=1e-9)
        np.testing.assert_allclose(iso.C[i, ok], 6 * iso.N[ok] * iso.D[i, ok], rtol=1e-12)
        # The compute-optimal point is the cheapest point of its contour.
        assert iso.optimum.L[i] == pytest.approx(level, rel=1e-9)
        assert np.nanmin(iso.C[i]) >= iso.optimum.C[i] * (1 - 1e-9)


def test_isoloss_below_the_irreducible_loss_is_nan():
    iso = isoloss_contours(HOFFMANN, [1.6, 2.5], (1e8, 1e10), num=5)
    assert np.all(np.isnan(iso.D[0])) and np.isnan(iso.optimum.C[0])
    assert np.all(np.isfinite(iso.D[1]))


# ------------------------------------------------------------------------ Kaplan's rules
def test_overfitting_rule_reproduces_5e3_n_074():
    coefficient, exponent = overfitting_rule(0.02)
    # D ≳ 5e3·N^0.74 (Kaplan et al. 2020, eq. 4.4), derived from Table 2's L(N, D):
    assert round(exponent, 2) == 0.74 and exponent == pytest.approx(0.076 / 0.103)
    # The derivation gives 5.5e3, which the paper prints as "5 x 10^3".
    assert 5e3 <= coefficient < 6e3 and round(coefficient, -2) == 5500
    assert coefficient == pytest.approx(
        1.8e13 * 6.4e13 ** (-0.076 / 0.103) / (1.02 ** (1 / 0.103) - 1), rel=1e-13
    )
    N = np.geomspace(1e6, 1e11, 6)
    ratio = min_tokens_no_overfit(N) / (5e3 * N**0.74)
    assert np.all((ratio > 0.9) & (ratio < 1.2))


@pytest.mark.parametrize("law", ["kaplan2020", HOFFMANN])
def test_min_tokens_give_exactly_the_tolerated_penalty(law):
    N = np.array([1e8, 1e10])
    D = min_tokens_no_overfit(N, delta=0.02, law=law)
    np.testing.assert_allclose(overfitting_penalty(law, N, D), 0.02, rtol=1e-10)
    assert np.all(overfitting_penalty(law, N, 2 * D) < 0.02)


def test_overfitting_penalty_by_hand():
    N, D = 1e9, 1e10
    expected = (1 + (N / 6.4e13) ** (0.076 / 0.103) * 1.8e13 / D) ** 0.103 - 1
    assert overfitting_penalty("kaplan2020", N, D) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(DomainError, match="needs a loss law of \\(N, D\\)"):
        overfitting_penalty("llama3", N, D)


def test_critical_batch_and_batch_tradeoffs():
    assert critical_batch_size(1.0) == 2e8
    assert critical_batch_size(2.5) == pytest.approx(2e8 / 2.5 ** (1 / 0.21), rel=1e-14)
    assert critical_batch_size(2.5, B_star=2.1e8) == pytest.approx(2.1e8 / 2.5 ** (1 / 0.21))
    S, B, Bc = 1e5, 1e6, 2e6
    s_min, e_min = min_steps(S, B, Bc), min_examples(B * S, B, Bc)
    assert s_min == pytest.approx(S / 3) and e_min == pytest.approx(B * S / 1.5)
    # Kaplan et al. 2020, eq. 5.4: (S/S_min - 1)(E/E_min - 1) = 1.
    assert (S / s_min - 1) * (B * S / e_min - 1) == pytest.approx(1.0, rel=1e-12)
    assert min_compute(1e21, B=Bc, B_crit=Bc) == pytest.approx(0.5e21)  # C = 2·C_min at B_crit


def test_early_stopping_steps_by_hand():
    N, D = 1e9, 1e10
    gap = KAPLAN_ND(N=N, D=D) - (6.4e13 / N) ** 0.076
    assert early_stopping_steps(N, D) == pytest.approx(2.1e3 / gap ** (1 / 0.76), rel=1e-12)
    # More data, less overfitting, later stopping.
    assert early_stopping_steps(N, 1e11) > early_stopping_steps(N, D)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "call, error, needle",
    [
        (lambda: allocate(HOFFMANN, C=0), DomainError, "C (training FLOPs) must be a finite"),
        (lambda: allocate(HOFFMANN, C=[1e20, -1]), DomainError, "got -1.0 at index 1"),
        (lambda: allocate(HOFFMANN, C=1e20, flops_per_token=-6), DomainError, "greater than 0"),
        (lambda: allocate(HOFFMANN, C=1e20, flops_per_token="6"), DomainError, "a number k"),
        (lambda: allocate(HOFFMANN, C=1e20, method="exact"), UnknownNameError, "unknown method"),
        (lambda: allocate("hofman2022", C=1e20), UnknownNameError, "did you mean 'hoffmann2022'"),
        (lambda: allocate(KaplanNLaw(8.8e13, 0.076), C=1e20), DomainError, "law of (N, D)"),
        (lambda: allocate(42, C=1e20), UnknownNameError, "cannot allocate with a int"),
        (
            lambda: allocate("kaplan2020", C=1e20, method="numeric"),
            DomainError,
            "allocates by its published power-law rule, so method='numeric' does not apply",
        ),
        (lambda: allocate_for_params(HOFFMANN, N=-1), DomainError, "N (parameters)"),
        (lambda: compute_for_loss(HOFFMANN, L=0), DomainError, "L (target loss"),
    ],
)
def test_bad_input(call, error, needle):
    with pytest.raises(error) as info:
        call()
    assert needle in str(info.value)


def test_fit_of_a_one_variable_law_cannot_allocate():
    fit = Fit(law=PowerLaw(E=1.5, A=100.0, alpha=0.1), params={}, approach="2")
    with pytest.raises(DomainError, match="takes \\(C\\), so it cannot allocate a budget"):
        allocate(fit, C=1e22)


def test_fit_with_a_power_law_allocation_rule():
    law = PowerLaw(E=1.5, A=100.0, alpha=0.1, variable="C")
    derived = {"k_N": 0.1, "a": 0.5, "k_D": 1 / 0.6, "b": 0.5}  # as Approach 2 stores them
    a = allocate(Fit(law=law, params=law.params, derived=derived, approach="2"), C=1e22)
    assert a.N == pytest.approx(0.1 * 1e11) and a.L == pytest.approx(law(C=1e22))


def test_allocation_record_is_frozen():
    a = allocate(HOFFMANN, C=1e22)
    assert isinstance(a, Allocation)
    with pytest.raises(AttributeError):
        a.N = 1.0  # type: ignore[misc]
    assert math.isfinite(a.L)


def test_overtraining_law_allocates_by_the_chinchilla_closed_form():
    # Gadre et al. 2024's law is Chinchilla's with alpha = beta = 2*eta, A = a*6^-eta,
    # B = b*6^-eta; by hand (Hoffmann et al. 2022, App. D.2, with alpha = beta):
    # G = (A/B)^(1/(2 alpha)), N* = G*(C/6)^(1/2), D* = (C/6)^(1/2)/G.
    from scalinglaws.allocation import optimal_allocation
    from scalinglaws.laws import OvertrainingLaw

    law = OvertrainingLaw(E=1.8, a=900.0, b=3000.0, eta=0.17)
    A, B, al = 900.0 * 6**-0.17, 3000.0 * 6**-0.17, 0.34
    G = (A / B) ** (1 / (2 * al))
    n_hand, d_hand = G * np.sqrt(BUDGETS / 6), np.sqrt(BUDGETS / 6) / G
    got = allocate(law, BUDGETS)
    twin = allocate(law.to_chinchilla(), BUDGETS, method="closed")
    assert got.method == "closed form"
    assert allocate(law, BUDGETS, method="closed").method == "closed form"
    for key in ("N", "D", "L"):
        np.testing.assert_allclose(getattr(got, key), getattr(twin, key), rtol=1e-12)
    np.testing.assert_allclose(got.N, n_hand, rtol=1e-12)
    np.testing.assert_allclose(got.D, d_hand, rtol=1e-12)
    np.testing.assert_allclose(got.L, law(N=n_hand, D=d_hand), rtol=1e-12)
    # the numeric minimiser of the law itself agrees: it is the same law
    numeric = allocate(law, BUDGETS, method="numeric")
    np.testing.assert_allclose(numeric.N, n_hand, rtol=1e-6)
    # and the engine takes arrays of its constants (rows = e.g. bootstrap replicates)
    consts = {"E": [1.8, 1.8], "a": [900.0, 900.0], "b": [3000.0, 3000.0], "eta": [0.17, 0.17]}
    N, D, L = optimal_allocation(OvertrainingLaw, consts, BUDGETS)
    np.testing.assert_allclose(N, np.vstack([n_hand, n_hand]), rtol=1e-12)
    np.testing.assert_allclose(D, np.vstack([d_hand, d_hand]), rtol=1e-12)
    np.testing.assert_allclose(L[0], got.L, rtol=1e-12)
