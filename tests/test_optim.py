"""The batched L-BFGS and the objectives it minimises (scalinglaws.fit.optim, .objectives)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from scipy.optimize import minimize

from scalinglaws.errors import QuantityError, ScalingLawsError, UnknownNameError
from scalinglaws.fit.objectives import (
    OBJECTIVES,
    BatchObjective,
    ChinchillaForm,
    KaplanForm,
    Loss,
    asymmetric_huber,
    huber,
    huber_derivative,
)
from scalinglaws.fit.optim import STATUS, minimize_batch, polish

RNG = np.random.default_rng(12345)


# ----------------------------------------------------------------------------- the optimiser
def test_batch_of_ill_conditioned_quadratics_reaches_each_exact_minimum():
    """S quadratics ½(x − c_s)ᵀH(x − c_s), H with condition number 1e4: minimum x = c_s."""
    k, S = 5, 300
    Q, _ = np.linalg.qr(RNG.standard_normal((k, k)))
    H = Q @ np.diag(np.geomspace(1.0, 1e4, k)) @ Q.T
    centres = RNG.standard_normal((S, k)) * 3

    def fun(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = x - centres[rows]
        g = d @ H
        return 0.5 * np.einsum("ij,ij->i", d, g) + 1.0, g

    res = minimize_batch(fun, np.zeros((S, k)), ftol=1e-15, gtol=1e-13, max_iter=5000)
    assert res.converged.all()
    np.testing.assert_allclose(res.x, centres, atol=1e-6)
    np.testing.assert_allclose(res.fun, 1.0, rtol=1e-12)


def test_rosenbrock_from_many_starts_reaches_one_one():
    """f = (1 − x)² + 100 (y − x²)², minimum at (1, 1) (Rosenbrock 1960)."""

    def fun(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = x[:, 0], x[:, 1]
        f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        g = np.stack([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], axis=1)
        return f, g

    x0 = RNG.uniform(-2, 2, size=(200, 2))
    res = minimize_batch(fun, x0, ftol=1e-16, gtol=1e-12, max_iter=5000)
    assert res.converged.all()
    np.testing.assert_allclose(res.x, 1.0, atol=1e-5)


def test_rows_stop_independently_and_report_why():
    def fun(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = np.sum((x - 2.0) ** 2, axis=1) + 1.0
        f = np.where(np.isfinite(x).all(axis=1), f, np.inf)
        return f, 2 * (x - 2.0)

    x0 = np.array([[0.0, 0.0], [np.nan, 0.0], [2.0, 2.0]])
    res = minimize_batch(fun, x0)
    assert STATUS[res.status[1]] == "not finite" and not res.converged[1]
    assert STATUS[res.status[2]] == "gtol" and res.n_iter[2] == 0  # already at the minimum
    assert res.converged[0] and res.x[0] == pytest.approx([2.0, 2.0], abs=1e-6)
    limited = minimize_batch(fun, x0[:1] - 5.0, max_iter=1)
    assert STATUS[limited.status[0]] == "max_iter" and "iteration limit" in limited.message(0)


def test_polish_matches_scipy_and_never_worsens_the_start():
    c = np.array([1.0, -2.0, 3.0])

    def one(x: np.ndarray) -> tuple[float, np.ndarray]:
        d = x - c
        return float(1e-3 * (d @ d) + 1e-3), 2e-3 * d

    p = polish(one, np.zeros(3))
    assert p.success and p.x == pytest.approx(c, abs=1e-6)
    again = polish(one, c)  # at the optimum already
    assert again.fun <= one(c)[0]


# ----------------------------------------------------------------------------- the losses
def test_huber_is_scipys_convention():
    r = np.linspace(-0.01, 0.01, 201)
    for delta in (1e-3, 3e-3):
        np.testing.assert_allclose(huber(r, delta), scipy.special.huber(delta, r), rtol=1e-14)
        np.testing.assert_allclose(huber_derivative(r, delta), np.clip(r, -delta, delta))


def test_asymmetric_huber_weights_each_side():
    r = np.array([-0.02, -5e-4, 5e-4, 0.02])
    h = huber(r, 1e-3)
    np.testing.assert_allclose(asymmetric_huber(r, 1e-3, 0.5), h)
    np.testing.assert_allclose(asymmetric_huber(r, 1e-3, 0.25), h * [1.5, 1.5, 0.5, 0.5])


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = np.exp(RNG.uniform(np.log(1e7), np.log(1e10), n))
    D = N * np.exp(RNG.uniform(np.log(2), np.log(300), n))
    L = (1.7 + 400 / N**0.34 + 410 / D**0.28) * np.exp(0.01 * RNG.standard_normal(n))
    return N, D, L


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("law", ["chinchilla", "kaplan"])
def test_analytic_gradient_matches_finite_differences(objective, law):
    N, D, L = _data()
    xN, xD = np.log(N) - np.log(N).mean(), np.log(D) - np.log(D).mean()
    form = ChinchillaForm(xN, xD) if law == "chinchilla" else KaplanForm(xN, xD)
    weights = RNG.integers(0, 3, size=(3, L.size)).astype(float)
    obj = BatchObjective(form, Loss(objective, delta=0.02, tau=0.3), L, weights)
    if law == "chinchilla":
        theta = np.array([[-1.0, -0.8, 0.5, 0.35, 0.3], [-2.0, -1.5, 0.2, 0.5, 0.2]] * 2)[:3]
    else:
        theta = np.array([[8.0, 6.0, 0.08, 0.1], [10.0, 9.0, 0.05, 0.12], [9.0, 8.0, 0.07, 0.2]])
    rows = np.arange(3)
    _, grad = obj(theta, rows)
    h = 1e-6
    for j in range(theta.shape[1]):
        up, down = theta.copy(), theta.copy()
        up[:, j] += h
        down[:, j] -= h
        fd = (obj(up, rows)[0] - obj(down, rows)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-10)


def test_forms_reproduce_the_laws():
    """log L̂ of the centred forms equals log of the laws evaluated directly."""
    from scalinglaws.laws import ChinchillaLaw, KaplanNDLaw

    N, D, _ = _data()
    mN, mD = np.log(N).mean(), np.log(D).mean()
    chin = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    theta = [[np.log(406.4) - 0.34 * mN, np.log(410.7) - 0.28 * mD, np.log(1.69), 0.34, 0.28]]
    f, _ = ChinchillaForm(np.log(N) - mN, np.log(D) - mD).log_predict(np.array(theta))
    np.testing.assert_allclose(f[0], np.log(chin(N=N, D=D)), rtol=1e-12)
    kap = KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
    theta = [[np.log(6.4e13) - mN, np.log(1.8e13) - mD, 0.076, 0.103]]
    f, _ = KaplanForm(np.log(N) - mN, np.log(D) - mD).log_predict(np.array(theta))
    np.testing.assert_allclose(f[0], np.log(kap(N=N, D=D)), rtol=1e-12)


def test_extreme_parameters_fall_back_to_the_stable_log_sum_exp():
    N, D, L = _data()
    form = ChinchillaForm(np.log(N) - np.log(N).mean(), np.log(D) - np.log(D).mean())
    obj = BatchObjective(form, Loss("huber"), L)
    theta = np.array([[800.0, 0.0, 0.0, 0.3, 0.3], [-800.0, -800.0, -800.0, 0.3, 0.3]])
    value, grad = obj(theta, np.arange(2))
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    # first row: log L̂ ≈ a' − α x_N, so the residuals are known in closed form
    r = np.log(L) - (800.0 - 0.3 * form.xN)
    assert value[0] == pytest.approx(np.sum(scipy.special.huber(1e-3, r)), rel=1e-10)


def test_batched_refits_match_scipy_on_weighted_huber_problems():
    """Bootstrap-style weighted problems: the batch reaches scipy L-BFGS-B's optimum."""
    N, D, L = _data(60)
    xN, xD = np.log(N) - np.log(N).mean(), np.log(D) - np.log(D).mean()
    W = RNG.multinomial(60, np.ones(60) / 60, size=6).astype(float)
    obj = BatchObjective(ChinchillaForm(xN, xD), Loss("huber"), L, W)
    start = np.array([0.0, 0.0, 0.5, 0.4, 0.3])
    res = minimize_batch(obj, np.repeat(start[None], 6, axis=0), ftol=1e-14, gtol=1e-12)
    assert res.converged.all()
    for i in range(6):
        one = BatchObjective(ChinchillaForm(xN, xD), Loss("huber"), L, W[i])

        def f(x: np.ndarray, one: BatchObjective = one) -> tuple[float, np.ndarray]:
            v, g = one(x[None], np.zeros(1, dtype=int))
            return float(v[0]) * 1e3, g[0] * 1e3

        ref = minimize(f, start, jac=True, method="L-BFGS-B",
                       options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000})  # fmt: skip
        assert res.fun[i] <= ref.fun / 1e3 * (1 + 1e-9)
        np.testing.assert_allclose(res.x[i], ref.x, atol=1e-4)


# ----------------------------------------------------------------------------- bad options
@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"name": "hubber"}, UnknownNameError, "did you mean 'huber'?"),
        ({"delta": 0}, QuantityError, "delta must be a finite number greater than 0"),
        ({"delta": "x"}, QuantityError, "delta must be a finite number greater than 0"),
        ({"tau": 1.5}, QuantityError, "tau must be between 0 and 1"),
    ],
)
def test_bad_loss_options_are_one_sentence(kwargs, exc, text):
    with pytest.raises(exc) as info:
        Loss(**kwargs)
    assert isinstance(info.value, ScalingLawsError)
    assert text in str(info.value) and "\n" not in str(info.value)
