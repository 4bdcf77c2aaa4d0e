"""Approach 1 (envelope of training curves): synthetic curves from a known law, a hand-computed
envelope, and the Pythia curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import ChinchillaLaw, Fit, PowerLaw
from scalinglaws.errors import DataError, FitError, QuantityError
from scalinglaws.fit.envelope import Approach1

HOFFMANN = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)


def curves(sizes=np.geomspace(1e7, 1e10, 16), noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Runs following L(N, D(t)) of Hoffmann's law from 0.5 to 100 tokens per parameter, 60
    checkpoints each (no schedule effect: every checkpoint is where a matched run would be)."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        D = np.geomspace(0.5 * n, 100 * n, 60)
        L = HOFFMANN(N=n, D=D) * np.exp(noise * rng.standard_normal(D.size))
        rows += [
            {"run": f"N={n:.3g}", "N": n, "D": d, "L": loss, "step": i}
            for i, (d, loss) in enumerate(zip(D, L, strict=True))
        ]
    return pd.DataFrame(rows)


def true_L_opt(c: float) -> float:
    n = np.geomspace(1e5, 1e13, 200_001)
    return float(HOFFMANN(N=n, D=c / (6 * n)).min())


# ----------------------------------------------------------------------------- synthetic law
def test_recovers_the_allocation_exponent_of_a_known_law():
    """Sizes 1.58× apart: the envelope is a staircase whose regression slope recovers
    a = beta/(alpha+beta) = 0.4565 to 0.003 (measured 0.4541)."""
    fit = Approach1().fit(curves())
    assert fit.derived["a"] == pytest.approx(HOFFMANN.a, abs=0.005)
    assert fit.derived["b"] == pytest.approx(HOFFMANN.b, abs=0.005)
    n = np.geomspace(1e6, 1e13, 400_001)
    n_true = n[np.argmin(HOFFMANN(N=n, D=1e22 / (6 * n)))]
    alloc = fit.allocate(1e22)
    assert alloc.N == pytest.approx(n_true, rel=0.03)  # measured 1.6% off
    assert alloc.L == pytest.approx(true_L_opt(1e22), abs=2e-3)
    # Approach 1's rule: N* = k_N·C^a, D* = k_D·C^b, L* = law(C)
    assert alloc.N == pytest.approx(fit.derived["k_N"] * 1e22 ** fit.derived["a"], rel=1e-12)
    assert alloc.D == pytest.approx(fit.derived["k_D"] * 1e22 ** fit.derived["b"], rel=1e-12)
    assert alloc.L == pytest.approx(float(fit.law(C=1e22)), rel=1e-12)
    assert isinstance(fit.law, PowerLaw) and fit.law.variable == "C"
    assert fit.params["E"] == pytest.approx(HOFFMANN.E, abs=0.02)


def test_envelope_is_the_best_run_and_never_below_the_law():
    fit = Approach1(n_grid=300).fit(curves())
    env = fit.extra["envelope"]
    C, L = np.array(env["C"]), np.array(env["L"], dtype=float)
    assert len(C) == 300 and np.allclose(np.diff(np.log(C)), np.log(C[1] / C[0]))
    inside = np.flatnonzero(env["used"])
    assert 150 < inside.size < 300  # the ends, where the smallest/largest size wins, are out
    for i in inside[::20]:
        lo = true_L_opt(C[i])
        assert lo - 1e-9 <= L[i] <= lo * 1.003  # sizes 1.58x apart: at most 0.3% above
    assert L[0] > 1.05 * true_L_opt(C[0])  # censored: a smaller model would have done better


def test_envelope_matches_a_hand_interpolation():
    """Two crossing curves; at C = 2e17 the envelope must be the lower of the two
    interpolations linear in ln C."""
    rows = []
    for run, n, losses in (
        ("small", 1e7, [4.0, 3.5, 3.3, 3.2]),
        ("big", 1e8, [4.5, 3.6, 3.1, 2.8]),
    ):
        for i, (c, loss) in enumerate(zip([1e16, 1e17, 1e18, 1e19], losses, strict=True)):
            rows.append({"run": run, "N": n, "C": c, "L": loss, "step": i})
    rows.append({"run": "mid", "N": 3e7, "C": 1e16, "L": 9.0, "step": 0})
    rows.append({"run": "mid", "N": 3e7, "C": 1e19, "L": 9.0, "step": 1})
    data = pd.DataFrame(rows)
    fit = Approach1(n_grid=31, exclude_edge_sizes=False, loss_offset=False).fit(data)
    env = fit.extra["envelope"]
    C = np.array(env["C"])
    i = int(np.argmin(np.abs(np.log(C / 2e17))))
    t = np.log(C[i] / 1e17) / np.log(10)
    small, big = 3.5 + t * (3.3 - 3.5), 3.6 + t * (3.1 - 3.6)
    assert env["L"][i] == pytest.approx(min(small, big), rel=1e-12)
    assert env["run_id"][i] == ("small" if small < big else "big")
    assert env["D"][i] == pytest.approx(C[i] / (6 * env["N"][i]), rel=1e-9)


def test_edge_sizes_are_left_out_because_they_bias_a():
    kept = Approach1(exclude_edge_sizes=False).fit(curves())
    left_out = Approach1().fit(curves())
    assert abs(left_out.derived["a"] - HOFFMANN.a) < abs(kept.derived["a"] - HOFFMANN.a)
    assert kept.derived["a"] < HOFFMANN.a - 0.02  # measured 0.421
    edge = [d for d in kept.diagnostics if d.code == "EDGE_MINIMUM"]
    assert edge and edge[0].severity == "warning"
    assert [d.severity for d in left_out.diagnostics if d.code == "EDGE_MINIMUM"] == ["info"]


def test_noisy_curves_with_smoothing():
    for seed in range(2):
        fit = Approach1(smooth=5).fit(curves(noise=0.005, seed=seed))
        assert fit.derived["a"] == pytest.approx(HOFFMANN.a, abs=0.015)  # measured 0.449, 0.443


def test_c_range_restricts_the_grid():
    fit = Approach1(c_range=(1e18, "1e21")).fit(curves())
    C = np.array(fit.extra["envelope"]["C"])
    assert C[0] == pytest.approx(1e18) and C[-1] == pytest.approx(1e21)
    with pytest.raises(FitError, match="does not overlap the curves"):
        Approach1(c_range=(1e30, 1e31)).fit(curves())


# ----------------------------------------------------------------------------- bootstrap
def test_bootstrap_resamples_whole_runs_and_is_seeded():
    data = curves(noise=0.003, seed=4)
    est = Approach1(n_grid=400, n_bootstrap=30, seed=5, level=0.9)
    a, b = est.fit(data), est.fit(data)
    assert a.intervals == b.intervals
    assert a.allocate(1e22).intervals == b.allocate(1e22).intervals
    samples = a.replicates.values
    assert set(samples) == {"E", "A", "alpha", "a", "b", "k_N", "k_D"}
    assert len(a.replicates) == 30 and all(len(v) == 30 for v in samples.values())
    law = PowerLaw(**{k: samples[k][0] for k in ("E", "A", "alpha")}, variable="C")
    assert np.isfinite(law(C=1e22))
    lo, hi = a.intervals["a"]
    assert lo < HOFFMANN.a < hi
    assert {"k_N", "b"} <= set(a.intervals)
    alloc = a.allocate(1e22)
    assert alloc.level == 0.9 and set(alloc.intervals) == {"N", "D", "L"}
    back = Fit.from_json(a.to_json())
    assert back.intervals["a"] == pytest.approx(a.intervals["a"])
    for x in ("N", "D", "L"):
        assert back.allocate(1e22).intervals[x] == pytest.approx(alloc.intervals[x])


# ----------------------------------------------------------------------------- bad input
def test_final_losses_only_is_a_fit_error():
    data = pd.DataFrame({"N": [1e7, 1e8, 1e9], "D": [2e8, 2e9, 2e10], "L": [3.5, 3.0, 2.6]})
    with pytest.raises(FitError, match="Approach 1 needs training curves"):
        Approach1().fit(data)


def test_a_run_with_two_sizes_is_a_data_error():
    data = curves(sizes=[1e7, 1e8, 1e9])
    data.loc[data.index[3], "N"] = 2e7
    with pytest.raises(DataError, match="run 'N=1e\\+07' .* has 2 different N values"):
        Approach1().fit(data)


def test_bad_options():
    with pytest.raises(QuantityError, match="n_grid must be a whole number"):
        Approach1(n_grid=3)
    with pytest.raises(QuantityError, match="c_range must be \\(low, high\\) with low < high"):
        Approach1(c_range=(1e20, 1e18))
    with pytest.raises(QuantityError, match="smooth must be a whole number"):
        Approach1(smooth=0)


# ----------------------------------------------------------------------------- Pythia
@pytest.mark.slow
def test_pythia_curves_give_a_finite_but_meaningless_a(shared_data):
    """Pythia's 14M, 70M and 160M models were all trained on the same 300B tokens with one
    cosine schedule, so the envelope is made of intermediate checkpoints (whose loss a
    schedule matched to that compute would beat) and, with three sizes, N* is censored at
    both ends: the fit runs, but a (measured 0.216) says nothing about compute optimality."""
    path = shared_data("pythia_train_loss.csv")
    from scalinglaws.runs import load_runs

    runs = load_runs(path)
    assert runs.n_runs == 18
    with pytest.raises(FitError, match="without the smallest and largest model"):
        Approach1().fit(runs)  # only 70M is left inside the envelope
    fit = Approach1(exclude_edge_sizes=False, smooth=5).fit(runs)
    assert np.isfinite(fit.derived["a"]) and np.isfinite(fit.law(C=1e21))
    codes = fit.diagnostic_codes()
    assert "INTERMEDIATE_ENVELOPE" in codes and "EDGE_MINIMUM" in codes
