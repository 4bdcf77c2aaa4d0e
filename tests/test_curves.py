"""Loss curves under learning-rate schedules (scalinglaws.curves): schedules against the
trainer, each law recovering the parameters it was simulated with, predictions, backtest."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws.curves import (
    Curve,
    CurveFit,
    MomentumLaw,
    MultiPowerLaw,
    StepPowerLaw,
    backtest_curves,
    constant,
    cosine,
    fit_curve,
    fit_curves,
    parse_schedule,
    predict_run,
    schedule_terms,
    wsd,
)
from scalinglaws.curves.data import RunCurve, lr_from_column
from scalinglaws.errors import DataError, QuantityError

# Luo et al. 2025's repo fit of their 400M model (../shared/LITERATURE.md), peak lr 3e-3
MPL = MultiPowerLaw(L0=2.375, A=0.654, alpha=0.429, B=523.4, C=2.025, beta=0.594, gamma=0.635)
T, W, PEAK = 1200, 50, 3e-3
STEPS = np.unique(np.linspace(W + 1, T, 60).astype(int))


def _noisy(law, lr, sd=5e-4, seed=0, steps=STEPS):
    L = law.loss(schedule_terms(steps, lr, W))
    return L * np.exp(np.random.default_rng(seed).normal(0.0, sd, L.size))


# ---------------------------------------------------------------- schedules
@pytest.mark.parametrize("schedule", ["cosine", "wsd-linear", "wsd-1-sqrt", "constant"])
def test_schedules_equal_the_trainers_lr_at(schedule):
    from scalinglaws.sweep.train import TrainConfig, lr_at

    b, steps, warm = 64, 500, 25  # tokens per step, steps, warmup steps
    kind, _, shape = schedule.partition("-")
    extra = {"schedule": kind}
    if kind == "wsd":
        extra.update(decay_fraction=0.2, decay_shape=shape or "linear")
    cfg = TrainConfig(
        n_layer=1,
        d_model=16,
        n_head=1,
        n_ctx=16,
        tokens=steps * b,
        batch_size=4,
        lr=1e-3,
        warmup_tokens=warm * b,
        min_lr_ratio=0.1,
        **extra,
    )
    ours = {
        "cosine": cosine(steps, 1e-3, warm, 0.1),
        "wsd": wsd(steps, 1e-3, warm, 0.2, shape or "linear", 0.1),
        "constant": constant(steps, 1e-3, warm),
    }[kind]
    theirs = np.array([lr_at(i * b, cfg) for i in range(1, steps + 1)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_wsd_shapes_by_hand():
    lin = wsd(100, 1.0, 0, 0.2, "linear", 0.0)
    sq = wsd(100, 1.0, 0, 0.2, "1-sqrt", 0.0)
    assert lin[79] == 1.0 and lin[89] == pytest.approx(0.5) and lin[99] == 0.0
    assert sq[84] == pytest.approx(1 - np.sqrt(0.25)) and sq[99] == 0.0
    assert cosine(100, 2.0, 0, 0.1)[-1] == pytest.approx(0.2)
    assert constant(10, 1.0, 4)[:4].tolist() == [0.25, 0.5, 0.75, 1.0]


def test_parse_schedule_reads_names_keys_and_fractional_warmup():
    s = parse_schedule("cosine:warmup=0.01,min=0.1,peak=6e-4")
    assert s.warmup_steps(143000) == 1430 and s.peak == 6e-4
    np.testing.assert_array_equal(s.lr(143000), cosine(143000, 6e-4, 1430, 0.1))
    w = parse_schedule("wsd:decay=0.1,shape=1-sqrt", peak=2.0)
    np.testing.assert_array_equal(w.lr(50), wsd(50, 2.0, 0, 0.1, "1-sqrt", 0.0))
    assert parse_schedule(w.text()) == w
    for bad in (
        "cosin",
        "cosine:warmup",
        "cosine:warmup=-1",
        "wsd:shape=cubic",
        "constant:min=0.1",
        "cosine:warmup=abc",
    ):
        with pytest.raises(QuantityError, match="form is|shape must"):
            parse_schedule(bad)


def test_lr_column_is_interpolated_and_its_warmup_found():
    full, warmup = lr_from_column(np.array([1, 10, 20]), np.array([0.1, 1.0, 0.5]))
    assert full.size == 20 and warmup == 9 and full[14] == pytest.approx(0.75)


# ---------------------------------------------------------------- laws
def test_multi_power_sum_blocks_match_the_exact_sum():
    lr = cosine(5000, PEAK, 100, 0.1)
    steps = np.unique(np.geomspace(101, 5000, 80).astype(int))
    exact = MPL.loss(schedule_terms(steps, lr, 100, max_knots=10**6))
    blocked = MPL.loss(schedule_terms(steps, lr, 100))  # 512 blocks
    np.testing.assert_allclose(blocked, exact, rtol=3e-4)


def test_multi_power_by_hand_on_a_step_schedule():
    # one drop of 0.5 at step 3 (η: 1, 1, 0.5, 0.5): LD(4) = B·0.5·G(0.5^-γ·(0.5+0.5))
    lr = np.array([1.0, 1.0, 0.5, 0.5])
    law = MultiPowerLaw(2.0, 1.0, 0.5, 2.0, 1.5, 0.7, 0.4)
    got = law.loss(schedule_terms(np.array([2, 4]), lr, 0))
    x = 0.5**-0.4 * 1.0
    want4 = 2.0 + 3.0**-0.5 - 2.0 * 0.5 * (1 - (1.5 * x + 1) ** -0.7)
    np.testing.assert_allclose(got, [2.0 + 2.0**-0.5, want4], rtol=1e-12)


def test_momentum_by_hand():
    lr = np.array([1.0, 1.0, 0.5, 0.5])  # m3 = 0.5, m4 = 0.5λ; S2(4) = 0.5(1 + λ)
    law = MomentumLaw(2.0, 1.0, 0.5, 0.3)
    got = law.loss(schedule_terms(np.array([4]), lr, 0))
    assert got[0] == pytest.approx(2.0 + 3.0**-0.5 - 0.3 * 0.5 * 1.999)


def test_multi_power_recovers_its_parameters_from_cosine_and_wsd_together():
    """Luo et al. fit several schedules at once; so do we: 2 x 60 points, 0.05% noise.
    Tolerances: L0, A, alpha within 1%; B, C, beta, gamma (the annealing term, weakly
    identified by two schedules) within 25%."""
    lrs = [cosine(T, PEAK, W, 0.1), wsd(T, PEAK, W, 0.2, "1-sqrt")]
    curves = [Curve(STEPS, _noisy(MPL, lr, seed=i), lr, W) for i, lr in enumerate(lrs)]
    fit = fit_curves(curves, "multi-power")
    for name, tol in (
        ("L0", 0.01),
        ("A", 0.01),
        ("alpha", 0.01),
        ("B", 0.25),
        ("C", 0.25),
        ("beta", 0.25),
        ("gamma", 0.25),
    ):
        assert fit.params[name] == pytest.approx(getattr(MPL, name), rel=tol), name
    # and the final loss under a third schedule, never seen, within 0.1%
    other = wsd(T, PEAK, W, 0.1, "linear")
    final = np.array([T])
    assert fit.predict(final, other)[0] == pytest.approx(
        MPL.loss(schedule_terms(final, other, W))[0], rel=1e-3
    )


@pytest.mark.parametrize("kind", ["cosine", "wsd"])
def test_multi_power_on_one_schedule_recovers_the_curve_and_the_constant_lr_part(kind):
    """0.02% noise.  Tolerances: L0, A, alpha within 3%, the fitted curve within 0.1%
    everywhere (one schedule identifies the annealing term's B, C, beta, gamma poorly)."""
    lr = cosine(T, PEAK, W, 0.1) if kind == "cosine" else wsd(T, PEAK, W, 0.2)
    L = _noisy(MPL, lr, sd=2e-4, seed=3)
    fit = fit_curve(STEPS, L, lr, "multi-power", W)
    for name in ("L0", "A", "alpha"):
        assert fit.params[name] == pytest.approx(getattr(MPL, name), rel=0.03), name
    truth = MPL.loss(schedule_terms(STEPS, lr, W))
    np.testing.assert_allclose(fit.predict(STEPS, lr), truth, rtol=1e-3)


@pytest.mark.parametrize("kind", ["cosine", "wsd"])
def test_momentum_recovers_its_parameters(kind):
    """0.02% noise; L0, A, alpha, C within 3%."""
    true = MomentumLaw(L0=2.4, A=0.6, alpha=0.45, C=0.12)
    lr = cosine(T, PEAK, W, 0.1) if kind == "cosine" else wsd(T, PEAK, W, 0.2)
    fit = fit_curve(STEPS, _noisy(true, lr, sd=2e-4, seed=5), lr, "momentum", W)
    for name in true.names:
        assert fit.params[name] == pytest.approx(getattr(true, name), rel=0.03), name


def test_power_law_recovers_its_parameters_in_tokens():
    true = StepPowerLaw(E=2.1, A=40.0, alpha=0.3)
    steps = np.unique(np.geomspace(10, 20000, 50).astype(int))
    tokens = steps * 4096.0
    L = true.loss(schedule_terms(steps, None, 0, tokens))
    L = L * np.exp(np.random.default_rng(1).normal(0, 5e-4, L.size))
    fit = fit_curve(steps, L, None, "power", x=tokens, x_name="tokens")
    for name in true.names:
        assert fit.params[name] == pytest.approx(getattr(true, name), rel=0.05), name


def test_a_fit_without_its_schedule_or_points_says_what_is_missing():
    with pytest.raises(DataError, match="needs the learning-rate schedule"):
        fit_curve(STEPS, np.ones(STEPS.size) * 3, None, "momentum")
    with pytest.raises(DataError, match="needs at least 8 points"):
        fit_curve(STEPS[:5], np.ones(5) * 3, cosine(T), "multi-power", W)


def test_curve_fit_round_trips_through_json(tmp_path):
    lr = cosine(T, PEAK, W, 0.1)
    fit = fit_curve(STEPS, _noisy(MomentumLaw(2.4, 0.6, 0.45, 0.12), lr), lr, "momentum", W)
    back = CurveFit.from_dict(json.loads(fit.to_json(tmp_path / "f.json")))
    assert back.params == fit.params and back.warmup == W
    np.testing.assert_array_equal(back.predict(STEPS, lr), fit.predict(STEPS, lr))


# ---------------------------------------------------------------- predict, backtest
def test_predict_the_second_half_and_other_schedules():
    true = MomentumLaw(L0=2.4, A=0.6, alpha=0.45, C=0.12)
    lr = cosine(T, PEAK, W, 0.1)
    steps = np.unique(np.linspace(W + 1, T, 80).astype(int))
    curve = Curve(steps, _noisy(true, lr, seed=7, steps=steps), lr, W)
    p = predict_run(
        curve, 0.5, "momentum", under=["wsd:decay=0.2", "constant"], n_bootstrap=20, seed=1
    )
    final = true.loss(schedule_terms(np.array([T]), lr, W))[0]
    assert p.final_step == T and int(p.fit.steps.max()) <= T // 2
    assert p.predicted_final == pytest.approx(final, rel=5e-3)
    lo, hi = p.interval
    assert lo < p.predicted_final < hi and hi - lo < 0.05
    wsd_lr = wsd(T, PEAK, W, 0.2)
    assert p.under["wsd:decay=0.2"]["predicted_final"] == pytest.approx(
        true.loss(schedule_terms(np.array([T]), wsd_lr, W))[0], rel=5e-3
    )
    # constant lr: no annealing bonus, so a higher final loss than cosine
    assert p.under["constant"]["predicted_final"] > p.predicted_final
    assert p.relative_error == pytest.approx(p.predicted_final / curve.loss[-1] - 1)
    with pytest.raises(QuantityError, match="at_fraction must be between 0 and 1"):
        predict_run(curve, 1.0, "momentum")


def test_backtest_scores_every_run_law_and_fraction():
    lr = cosine(T, PEAK, W, 0.1)
    runs = []
    for i, true in enumerate([MomentumLaw(2.4, 0.6, 0.45, 0.12), MomentumLaw(2.9, 0.5, 0.5, 0.1)]):
        L = _noisy(true, lr, seed=10 + i)
        runs.append(RunCurve(f"r{i}", 1e8 * (i + 1), 0, Curve(STEPS, L, lr, W), "cosine"))
    bt = backtest_curves(runs, laws=("momentum", "power"), fractions=(0.3, 0.6))
    assert len(bt.rows) == 2 * 2 * 2 and len(bt.summary) == 4
    by = {(s["law"], s["fraction"]): s for s in bt.summary}
    for row in bt.rows:
        assert row["relative_error"] == pytest.approx(row["predicted"] / row["observed"] - 1)
    # the right law predicts the final loss to noise level; a power law in steps cannot see
    # the cosine's annealing coming
    assert by["momentum", 0.6]["max_abs_relative_error"] < 3e-3
    assert (
        by["power", 0.6]["mean_abs_relative_error"] > by["momentum", 0.6]["mean_abs_relative_error"]
    )
