"""Inference-aware allocation (Sardana et al. 2024): the check vector, the limits, the cost
options, the budget form and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from scalinglaws.allocation import allocate, compute_for_loss
from scalinglaws.errors import DomainError
from scalinglaws.flops import Architecture
from scalinglaws.inference import (
    forward_flops_per_token,
    inference_aware_allocation,
    inference_optimal,
    tokens_for_loss,
)
from scalinglaws.laws import ChinchillaLaw, KaplanNDLaw, OvertrainingLaw

# Sardana et al. 2024 use Chinchilla's unrounded-looking constants (LITERATURE.md), not the
# hoffmann2022 preset's printed 0.34 / 0.28.
SARDANA = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)


def brute_force_cost(law, loss, d_inf, k_tr=6.0, k_inf=2.0, c_tr=1.0, c_inf=1.0):
    """argmin over log N of c_tr·k_tr·N·D(N) + c_inf·k_inf·N·D_inf on the iso-loss curve,
    by scipy's bounded scalar minimiser (independent of the package's bisection)."""
    n_min = (law.A / (loss - law.E)) ** (1 / law.alpha)

    def d_of(n):
        return (law.B / (loss - law.E - law.A * n**-law.alpha)) ** (1 / law.beta)

    def cost(log_n):
        n = np.exp(log_n)
        return np.log(c_tr * k_tr * n * d_of(n) + c_inf * k_inf * n * d_inf)

    res = minimize_scalar(
        cost,
        bounds=(np.log(n_min) + 1e-9, np.log(n_min) + 15),
        method="bounded",
        options={"xatol": 1e-12},
    )
    n = float(np.exp(res.x))
    return n, float(d_of(n))


# ============================================================================ the check vector
def test_sardana_check_vector():
    r = inference_optimal(SARDANA, 1.947, 2e12)
    assert r.N == pytest.approx(2.418e10, rel=1e-3)
    assert r.D_train == pytest.approx(2.657e12, rel=1e-3)
    assert r.tokens_per_param == pytest.approx(r.D_train / r.N)
    assert r.train_flops == pytest.approx(6 * r.N * r.D_train)
    assert r.inference_flops == pytest.approx(2 * r.N * 2e12)
    assert r.total_cost == pytest.approx(r.train_flops + r.inference_flops)
    assert SARDANA(N=r.N, D=r.D_train) == pytest.approx(1.947, rel=1e-12)


def test_agrees_with_an_independent_minimiser():
    for loss, d_inf in ((1.947, 2e12), (2.2, 1e14), (1.8, 5e11)):
        n, d = brute_force_cost(SARDANA, loss, d_inf)
        r = inference_optimal(SARDANA, loss, d_inf)
        assert r.N == pytest.approx(n, rel=1e-6)
        assert r.D_train == pytest.approx(d, rel=1e-6)


def test_compute_optimal_reference_and_saving():
    r = inference_optimal(SARDANA, 1.947, 2e12)
    ref = compute_for_loss(SARDANA, 1.947)
    assert r.compute_optimal.N == pytest.approx(ref.N, rel=1e-12)
    assert r.compute_optimal.train_flops == pytest.approx(ref.C, rel=1e-12)
    assert r.compute_optimal.inference_flops == pytest.approx(2 * ref.N * 2e12, rel=1e-12)
    # smaller model, more tokens, more training compute, less total cost
    assert r.N < ref.N and r.D_train > ref.D and r.train_flops > ref.C
    assert r.saving == pytest.approx(r.compute_optimal.total_cost - r.total_cost)
    assert 0 < r.saving_fraction < 1


def test_zero_inference_is_compute_for_loss():
    for loss in (1.947, 2.5, 1.75):
        r = inference_optimal(SARDANA, loss, 0.0)
        ref = compute_for_loss(SARDANA, loss)
        assert r.N == pytest.approx(ref.N, rel=1e-12)
        assert r.D_train == pytest.approx(ref.D, rel=1e-12)
        assert r.train_flops == pytest.approx(ref.C, rel=1e-12)
        assert r.saving == pytest.approx(0.0, abs=1e-9 * ref.C)


def test_arrays_broadcast():
    r = inference_optimal(SARDANA, [1.947, 2.0], [[0.0], [2e12]])
    assert np.shape(r.N) == (2, 2)
    single = inference_optimal(SARDANA, 2.0, 2e12)
    assert r.N[1, 1] == pytest.approx(single.N, rel=1e-12)
    assert r.to_dict()["optimum"]["N"][1][1] == pytest.approx(single.N, rel=1e-12)


# ============================================================================ cost options
def test_cost_per_flop_moves_the_optimum_the_expected_way():
    base = inference_optimal(SARDANA, 1.947, 2e12)
    dear_inference = inference_optimal(SARDANA, 1.947, 2e12, inference_cost_per_flop=2.0)
    dear_training = inference_optimal(SARDANA, 1.947, 2e12, train_cost_per_flop=2.0)
    assert dear_inference.N < base.N  # serving dearer: a smaller model on more tokens
    assert dear_inference.D_train > base.D_train
    assert dear_training.N > base.N
    # an inference FLOP costing twice is the same optimum as twice the inference tokens
    doubled = inference_optimal(SARDANA, 1.947, 4e12)
    assert dear_inference.N == pytest.approx(doubled.N, rel=1e-10)
    assert dear_inference.total_cost == pytest.approx(
        dear_inference.train_flops + 2 * dear_inference.inference_flops
    )
    n, _ = brute_force_cost(SARDANA, 1.947, 2e12, c_inf=2.0)
    assert dear_inference.N == pytest.approx(n, rel=1e-6)


def test_numeric_path_matches_the_closed_one():
    closed = inference_optimal(SARDANA, 1.947, 2e12)
    numeric = inference_optimal(SARDANA, 1.947, 2e12, inference_flops_per_token=lambda n: 2 * n)
    assert "numeric" in numeric.method and "closed" in closed.method
    assert numeric.N == pytest.approx(closed.N, rel=1e-6)
    assert numeric.D_train == pytest.approx(closed.D_train, rel=1e-6)


def test_any_nd_law():
    kaplan = KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
    r = inference_optimal(kaplan, 2.2, 0.0)
    ref = compute_for_loss(kaplan, 2.2)
    assert r.N == pytest.approx(ref.N, rel=1e-5)
    served = inference_optimal(kaplan, 2.2, 1e13)
    assert served.N < r.N
    assert kaplan(N=served.N, D=served.D_train) == pytest.approx(2.2, rel=1e-9)
    # Gadre et al.'s law answers exactly as its Chinchilla twin
    gadre = OvertrainingLaw.from_chinchilla(
        ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.3, beta=0.3)
    )
    a = inference_optimal(gadre, 1.95, 2e12)
    b = inference_optimal(gadre.to_chinchilla(), 1.95, 2e12)
    assert a.N == pytest.approx(b.N, rel=1e-12)


def test_presets_and_fits_are_answered_by_their_loss_law():
    r = inference_optimal("hoffmann2022", 1.947, 2e12)
    ref = inference_optimal(
        ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28), 1.947, 2e12
    )
    assert r.N == pytest.approx(ref.N, rel=1e-12)


def test_inference_flops_from_an_architecture():
    arch = Architecture(n_layer=32, d_model=4096, n_heads=32, vocab_size=128256, n_ctx=8192)
    assert forward_flops_per_token(arch, "6N") == pytest.approx(2 * arch.params().non_embedding)
    r = inference_optimal(SARDANA, 1.947, 2e12, inference_flops_per_token=arch)
    k = forward_flops_per_token(arch) / arch.params().total
    assert k > 2  # attention over an 8k context and the logits cost more than 2N
    assert r.inference_flops == pytest.approx(k * r.N * 2e12)
    same = inference_optimal(SARDANA, 1.947, 2e12, inference_flops_per_token=k)
    assert r.N == pytest.approx(same.N, rel=1e-12)


def test_tokens_for_loss():
    d = tokens_for_loss(SARDANA, 2e10, 2.0)
    assert SARDANA(N=2e10, D=d) == pytest.approx(2.0, rel=1e-12)
    assert np.isnan(tokens_for_loss(SARDANA, 1e6, 2.0))  # too small ever to get there


# ============================================================================ the budget form
def test_budget_form_without_inference_is_the_compute_optimum():
    a = inference_aware_allocation(SARDANA, 1e23, 0.0)
    opt = allocate(SARDANA, 1e23)
    for model in (a.compute_optimal, a.equal_cost, a.equal_loss):
        assert model.N == pytest.approx(opt.N, rel=1e-6)
        assert model.D == pytest.approx(opt.D, rel=1e-6)
    assert a.saving == pytest.approx(0.0, abs=1e-9 * 1e23)


def test_budget_form_with_inference():
    C, d_inf = 1e23, 2e12
    a = inference_aware_allocation(SARDANA, C, d_inf)
    opt = allocate(SARDANA, C)
    K0 = C + 2 * opt.N * d_inf
    assert a.compute_optimal.total_cost == pytest.approx(K0, rel=1e-12)
    # (a) same total cost, lower loss
    assert a.equal_cost.total_cost == pytest.approx(K0, rel=1e-9)
    assert a.equal_cost.L < opt.L and a.loss_reduction > 0
    assert a.equal_cost.N < opt.N

    def loss_at_cost(log_n):  # independent: D from the cost budget, minimise L
        n = np.exp(log_n)
        return SARDANA(N=n, D=(K0 - 2 * n * d_inf) / (6 * n))

    res = minimize_scalar(
        loss_at_cost, bounds=(np.log(1e9), np.log(4e10)), method="bounded", options={"xatol": 1e-10}
    )
    assert a.equal_cost.N == pytest.approx(np.exp(res.x), rel=1e-5)
    assert a.equal_cost.L == pytest.approx(res.fun, rel=1e-12)
    # (b) same loss, lower cost
    assert a.equal_loss.L == pytest.approx(opt.L, rel=1e-12)
    assert a.equal_loss.total_cost < K0 and a.saving > 0
    direct = inference_optimal(SARDANA, opt.L, d_inf)
    assert a.equal_loss.N == pytest.approx(direct.N, rel=1e-12)
    assert set(a.to_dict()) >= {"compute_optimal", "equal_cost", "equal_loss", "saving"}


# ============================================================================ bad input
@pytest.mark.parametrize(
    ("kwargs", "argument", "needle"),
    [
        ({"inference_tokens": -1.0}, "inference_tokens", ">= 0"),
        ({"inference_tokens": float("inf")}, "inference_tokens", "finite"),
        ({"inference_tokens": "lots"}, "inference_tokens", "number of tokens"),
        ({"loss": 1.6}, "loss", "the law's floor is E = 1.69; a loss above it is reachable"),
        ({"loss": 1.69}, "loss", "floor is E = 1.69"),
        ({"loss": float("nan")}, "loss", "finite"),
        ({"inference_cost_per_flop": 0.0}, "inference_cost_per_flop", "greater than 0"),
        ({"train_cost_per_flop": float("nan")}, "train_cost_per_flop", "greater than 0"),
        ({"law": "llama3"}, "law", "(N, D)"),
    ],
)
def test_bad_input_is_one_sentence(kwargs, argument, needle):
    args = {"law": SARDANA, "loss": 1.947, "inference_tokens": 2e12, **kwargs}
    with pytest.raises(DomainError) as info:
        inference_optimal(**args)
    assert needle in str(info.value)
    assert str(info.value).count(". ") == 0
    if argument is not None:
        assert info.value.argument == argument


def test_budget_form_bad_input():
    with pytest.raises(DomainError, match="inference_tokens"):
        inference_aware_allocation(SARDANA, 1e23, -5)
    with pytest.raises(DomainError, match="C_train") as info:
        inference_aware_allocation(SARDANA, 0.0, 1e12)
    assert info.value.argument == "C_train"
