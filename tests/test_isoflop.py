"""Approach 2 (IsoFLOP profiles): synthetic laws, Chinchilla's Figure 4 points, and the
15 training set-ups of Porian et al. 2024."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scalinglaws import ChinchillaLaw, Fit, PowerLaw
from scalinglaws.errors import FitError, QuantityError, UnknownNameError
from scalinglaws.fit.isoflop import Approach2, assign_budgets, profile_minimum

HOFFMANN = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)
HOFFMANN_BUDGETS = [6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21]  # Hoffmann §3.2


def isoflop_frame(
    budgets=np.geomspace(1e18, 1e21, 6),
    spread: float = 4.0,
    n_sizes: int = 9,
    centre: float = 1.0,
    noise: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Hoffmann's law on IsoFLOP profiles: ``n_sizes`` sizes within a factor ``spread`` of
    ``centre`` × the true N_opt at each budget, D = C/(6N)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in budgets:
        n_opt = HOFFMANN.G * (c / 6) ** HOFFMANN.a
        for n in centre * n_opt * np.geomspace(1 / spread, spread, n_sizes):
            loss = float(HOFFMANN(N=n, D=c / (6 * n))) * math.exp(noise * rng.standard_normal())
            rows.append({"N": n, "C": c, "L": loss})
    return pd.DataFrame(rows)


def true_optimum(c: float) -> tuple[float, float]:
    """(N_opt, L_opt) of Hoffmann's law at budget c by a dense search along the IsoFLOP."""
    n = np.geomspace(1e6, 1e13, 400_001)
    loss = HOFFMANN(N=n, D=c / (6 * n))
    i = int(np.argmin(loss))
    return float(n[i]), float(loss[i])


# ----------------------------------------------------------------------------- budgets
def test_assign_budgets_exact_binned_and_given():
    C = np.array([1e18, 1e18, 1e18 * (1 + 1e-12), 1e19, 1.1e19, 0.95e19, 5e19])
    labels, centres = assign_budgets(C, tolerance=0.0)
    assert labels.tolist() == [0, 0, 0, 2, 3, 1, 4]  # exact: 0.95e19, 1e19, 1.1e19 apart
    labels, centres = assign_budgets(C, tolerance=0.2)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert centres[1] == pytest.approx(math.exp(np.log([1e19, 1.1e19, 0.95e19]).mean()))
    labels, centres = assign_budgets(C, tolerance=0.2, centers=[1e18, 1e19])
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, -1]
    assert centres.tolist() == [1e18, 1e19]


# ----------------------------------------------------------------------------- one profile
def test_parabola_minimum_is_exact_on_a_parabola():
    N = np.geomspace(1e7, 1e9, 7)
    L = 2.5 + 0.05 * np.log(N / 3e7) ** 2
    m = profile_minimum(N, L)
    assert m.N_opt == pytest.approx(3e7, rel=1e-9)
    assert m.L_opt == pytest.approx(2.5, rel=1e-12)
    assert m.interior


def test_akima_minimum_on_a_smooth_valley():
    N = np.geomspace(1e7, 1e9, 9)
    L = 2.5 + 0.05 * np.log(N / 1.3e8) ** 2
    m = profile_minimum(N, L, method="akima")
    assert m.N_opt == pytest.approx(1.3e8, rel=0.01)
    assert m.L_opt == pytest.approx(2.5, abs=1e-4)
    assert m.interior


def test_monotone_profile_has_an_edge_minimum():
    N = np.geomspace(1e7, 1e9, 6)
    m = profile_minimum(N, 3.0 - 0.1 * np.log(N / 1e7))
    assert not m.interior and m.lowest_at_edge
    assert m.N_opt == pytest.approx(1e9)


def test_window_keeps_only_sizes_near_the_lowest_loss():
    N = np.geomspace(1e6, 1e10, 17)
    L = 2.5 + 0.05 * np.log(N / 1e8) ** 2 + 0.02 * np.maximum(np.log(N / 1e8), 0) ** 3
    wide = profile_minimum(N, L)
    local = profile_minimum(N, L, window=4)
    assert local.n_points == 5 and wide.n_points == 17
    # the valley's steep cubic side drags a parabola over all 4 decades 53% below the
    # minimum (4.7e7); one over the 5 sizes within ×4 of the lowest run lands 9% below
    assert wide.N_opt < 0.6e8
    assert local.N_opt == pytest.approx(1e8, rel=0.1)


# ----------------------------------------------------------------------------- synthetic law
def test_exponents_and_frontier_of_hoffmanns_law():
    fit = Approach2().fit(isoflop_frame())
    # self-similar profiles: the parabola's bias in N* is the same factor at every budget,
    # so the exponents are exact; a = beta/(alpha + beta) = 0.45653
    assert fit.derived["a"] == pytest.approx(HOFFMANN.a, abs=1e-9)
    assert fit.derived["b"] == pytest.approx(HOFFMANN.b, abs=1e-9)
    n_true, l_true = true_optimum(1e22)
    alloc = fit.allocate(1e22)
    assert alloc.N == pytest.approx(n_true, rel=0.02)
    assert alloc.L == pytest.approx(l_true, abs=1e-3)
    # Approach 2's rule: N* = k_N·C^a, D* = k_D·C^b, L* = law(C)
    assert alloc.N == pytest.approx(fit.derived["k_N"] * 1e22 ** fit.derived["a"], rel=1e-12)
    assert alloc.D == pytest.approx(fit.derived["k_D"] * 1e22 ** fit.derived["b"], rel=1e-12)
    assert alloc.L == pytest.approx(float(fit.law(C=1e22)), rel=1e-12)
    assert isinstance(fit.law, PowerLaw) and fit.law.variable == "C"
    assert fit.approach == "2" and set(fit.params) == {"E", "A", "alpha"}
    profiles = fit.extra["profiles"]
    assert len(profiles) == 6 and all(p["interior"] and p["n_runs"] == 9 for p in profiles)
    assert fit.diagnostics == []
    assert [d.code for d in fit.budget_diagnostics(1e22)] == ["EXTRAPOLATION"]


@pytest.mark.parametrize(("kwargs", "tol"), [({"degree": 4}, 1e-3), ({"profile": "akima"}, 5e-3)])
def test_other_profile_fits_find_the_true_optimum(kwargs, tol):
    fit = Approach2(**kwargs).fit(isoflop_frame())
    for p in fit.extra["profiles"]:
        n_true, l_true = true_optimum(p["C"])
        assert p["N_opt"] == pytest.approx(n_true, rel=tol)
        assert p["L_opt"] == pytest.approx(l_true, abs=1e-5)
        assert p["D_opt"] == pytest.approx(p["C"] / (6 * p["N_opt"]), rel=1e-12)


def test_edge_minima_are_flagged_and_can_be_dropped():
    good = isoflop_frame(budgets=np.geomspace(1e18, 1e21, 6))
    # two more budgets swept only far below their optimum: the minimum sits at the edge
    bad = isoflop_frame(budgets=[3e21, 1e22], spread=2.0, centre=1 / 8, n_sizes=5)
    data = pd.concat([good, bad], ignore_index=True)
    kept = Approach2().fit(data)
    edge = [d for d in kept.diagnostics if d.code == "EDGE_MINIMUM"]
    assert len(edge) == 1 and edge[0].data["budgets"] == pytest.approx([3e21, 1e22])
    assert [p["interior"] for p in kept.extra["profiles"]] == [True] * 6 + [False] * 2
    assert kept.derived["a"] < HOFFMANN.a - 0.02  # censored minima bias a downwards
    dropped = Approach2(drop_edge=True).fit(data)
    assert "left out" in [d for d in dropped.diagnostics if d.code == "EDGE_MINIMUM"][0].message
    assert dropped.derived["a"] == pytest.approx(HOFFMANN.a, abs=1e-9)


def test_sparse_budgets_are_skipped_then_too_few_budgets_is_an_error():
    data = pd.concat(
        [isoflop_frame(budgets=[1e18, 1e19]), isoflop_frame(budgets=[1e20], n_sizes=2)],
        ignore_index=True,
    )
    fit = Approach2().fit(data)
    codes = fit.diagnostic_codes()
    assert "TOO_FEW_POINTS" in codes and "TOO_FEW_BUDGETS" in codes
    assert fit.extra["skipped_budgets"] == [{"C": pytest.approx(1e20), "n_runs": 2, "n_sizes": 2}]
    assert fit.law.E == 0.0  # two budgets: L*(C) without an offset, said so
    one = isoflop_frame(budgets=[1e18])
    with pytest.raises(FitError, match=r"too few budgets to fit N\* ∝ C\^a: 1 budget"):
        Approach2().fit(one)


def test_implausible_exponent_is_flagged():
    rows = []
    for c in np.geomspace(1e18, 1e21, 5):
        n_star = 1e-14 * c**1.2  # N* growing faster than C
        for n in n_star * np.geomspace(0.25, 4, 7):
            rows.append({"N": n, "C": c, "L": 2.0 + 0.03 * math.log(n / n_star) ** 2})
    fit = Approach2().fit(pd.DataFrame(rows))
    assert fit.derived["a"] == pytest.approx(1.2, abs=1e-9)
    flagged = {d.data["name"] for d in fit.diagnostics if d.code == "EXPONENT_IMPLAUSIBLE"}
    assert flagged == {"a", "b"}  # b = 1 - a = -0.2


def test_curves_use_final_checkpoints():
    final = isoflop_frame(budgets=np.geomspace(1e18, 1e20, 4))
    final["run_id"] = [f"r{i}" for i in range(len(final))]
    early = final.copy()
    early["C"] /= 2
    early["L"] += 0.5
    data = pd.concat([early, final], ignore_index=True)
    fit = Approach2().fit(data)
    assert "FINAL_CHECKPOINTS" in fit.diagnostic_codes()
    assert fit.derived["a"] == pytest.approx(Approach2().fit(final).derived["a"], abs=1e-12)


# ----------------------------------------------------------------------------- bootstrap
def test_bootstrap_resamples_runs_within_budgets_and_is_seeded():
    data = isoflop_frame(noise=0.003, seed=2)
    est = Approach2(n_bootstrap=40, seed=11, level=0.9)
    a, b = est.fit(data), est.fit(data)
    assert a.intervals == b.intervals
    assert a.allocate(1e22).intervals == b.allocate(1e22).intervals
    samples = a.replicates.values
    assert set(samples) == {"E", "A", "alpha", "a", "b", "k_N", "k_D"}
    assert len(a.replicates) == 40 and all(len(v) == 40 for v in samples.values())
    laws = [
        PowerLaw(**{k: samples[k][i] for k in ("E", "A", "alpha")}, variable="C") for i in range(3)
    ]
    assert all(np.isfinite(law(C=1e22)) for law in laws)
    lo, hi = a.intervals["a"]
    assert lo < HOFFMANN.a < hi and hi - lo < 0.1
    assert {"a", "b", "k_N", "k_D"} <= set(a.intervals)
    alloc = a.allocate(1e22)
    assert alloc.level == 0.9 and set(alloc.intervals) == {"N", "D", "L"}
    for x in ("N", "D", "L"):
        lo, hi = alloc.intervals[x]
        assert np.isfinite(lo) and np.isfinite(hi) and lo < getattr(alloc, x) < hi
    c = Approach2(n_bootstrap=40, seed=12, level=0.9).fit(data)
    assert c.intervals["a"] != a.intervals["a"]


def test_json_round_trip_keeps_profiles():
    fit = Approach2(n_bootstrap=10).fit(isoflop_frame())
    back = Fit.from_json(fit.to_json())
    assert back.law == fit.law
    assert back.extra["profiles"][0]["N_opt"] == pytest.approx(fit.extra["profiles"][0]["N_opt"])


def test_bad_options():
    with pytest.raises(QuantityError, match="degree must be a whole number >= 2"):
        Approach2(degree=1)
    with pytest.raises(UnknownNameError, match="unknown IsoFLOP profile fit 'akma'.*akima"):
        Approach2(profile="akma")
    with pytest.raises(QuantityError, match="bin_tolerance must be >= 0"):
        Approach2(bin_tolerance=-0.1)
    with pytest.raises(QuantityError, match="window must be a factor > 1"):
        Approach2(window=1)
    with pytest.raises(QuantityError, match="min_sizes must be a whole number >= 3"):
        Approach2(min_sizes=2)


def test_cli_reports_too_few_budgets_as_one_error_line(tmp_path, capsys):
    from scalinglaws.cli import main

    path = tmp_path / "one_budget.csv"
    isoflop_frame(budgets=[1e19]).to_csv(path, index=False)
    code = main(["fit", str(path), "--approach", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: too few budgets to fit N* ∝ C^a")


# ----------------------------------------------------------------------------- Chinchilla Fig. 4
def chinchilla_points(shared_data):
    path = shared_data("chinchilla_fig4_epoch2024.csv")
    from scalinglaws.runs import load_runs

    return load_runs(path, drop_highest=5)  # D = C/(6N), as Besiroglu et al. 2024


@pytest.mark.slow
def test_chinchilla_figure4_points_give_a_near_one_half(shared_data):
    """The points were read off a figure, so C is only near Hoffmann's nine budgets (about
    0.9× each, ±15%).  A tolerance of 0.2 (runs within ×1.2 of a bin's centre) spans that
    scatter and stays below half the closest gap between budgets (6e18 → 1e19 is ×1.67, half
    of it in log is ×1.29).  Hoffmann Table 2: Approach 2 a = 0.49 (10-90%: 0.462-0.534)."""
    runs = chinchilla_points(shared_data)
    fit = Approach2(bin_tolerance=0.2).fit(runs)
    assert fit.derived["a"] == pytest.approx(0.50, abs=0.03)  # measured 0.488
    assert fit.derived["a"] + fit.derived["b"] == pytest.approx(1.0, abs=1e-9)
    nominal = Approach2(bin_tolerance=0.2, isoflop_budgets=HOFFMANN_BUDGETS).fit(runs)
    assert nominal.derived["a"] == pytest.approx(0.50, abs=0.03)  # measured 0.515
    local = Approach2(bin_tolerance=0.2, window=3).fit(runs)
    assert local.derived["a"] == pytest.approx(0.50, abs=0.02)  # measured 0.500
    assert "EDGE_MINIMUM" in fit.diagnostic_codes()


# ----------------------------------------------------------------------------- Porian et al. 2024
PORIAN_STEPS = [  # RefinedWeb, Porian et al. 2024 Figure 1: a moves 0.83 -> 0.50
    (("base", "long", "kaplan", "kaplan", "train"), 0.83),  # Kaplan's set-up
    (("base", "long", "kaplan", "standard", "val"), 0.70),  # count the last layer's FLOPs
    (("base", "short", "kaplan", "standard", "val"), 0.60),  # warmup = N tokens
    (("base", "short", "chinchilla", "standard", "val"), 0.57),  # cosine matched to budget
    (("tuned", "short", "const", "standard", "val"), 0.50),  # tuned LR, batch, beta2
]
KEYS = ["hparams", "warmup", "decay", "param_count", "loss_split"]


@pytest.fixture(scope="module")
def porian(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data("porian2024_isoflop.csv"))


def porian_runs(table: pd.DataFrame, dataset: str, config: tuple[str, ...]):
    from scalinglaws.runs import load_runs

    sel = table["dataset"] == dataset
    for key, value in zip(KEYS, config, strict=True):
        sel &= table[key] == value
    # one loss split per configuration in the file: val where Porian had it, else train
    assert table.loc[sel, "loss_split"].nunique() == 1
    return load_runs(table.loc[sel, ["n", "t", "flops", "loss"]].reset_index(drop=True))


@pytest.mark.slow
def test_porian_progression_with_their_profile_procedure(porian):
    """Porian et al. find each budget's minimum with an Akima spline of log loss in log N
    and drop budgets whose minimum is at an edge; doing the same reproduces their a to within
    0.015 at every step (measured 0.834, 0.715, 0.606, 0.572, 0.497)."""
    got = [
        Approach2(profile="akima", drop_edge=True, bin_tolerance=0)
        .fit(porian_runs(porian, "rw", config))
        .derived["a"]
        for config, _ in PORIAN_STEPS
    ]
    for (config, paper), a in zip(PORIAN_STEPS, got, strict=True):
        assert a == pytest.approx(paper, abs=0.02), config
    assert got == sorted(got, reverse=True)


@pytest.mark.slow
def test_porian_progression_with_a_local_parabola(porian):
    """Hoffmann's parabola fitted within a factor 3 of each profile's lowest run (measured
    0.838, 0.693, 0.597, 0.548, 0.503): within 0.025 of the paper at every step."""
    for config, paper in PORIAN_STEPS:
        fit = Approach2(window=3, drop_edge=True, bin_tolerance=0).fit(
            porian_runs(porian, "rw", config)
        )
        assert fit.derived["a"] == pytest.approx(paper, abs=0.025), config


def test_porian_global_parabola_is_biased_by_edge_minima(porian):
    """A parabola over Kaplan's wide profiles puts three minima at the edge and inflates a
    (measured 0.983); flagged.  With tuned settings the profiles are clean (0.514)."""
    kaplan = Approach2(bin_tolerance=0).fit(porian_runs(porian, "rw", PORIAN_STEPS[0][0]))
    assert kaplan.derived["a"] > 0.9
    edge = [d for d in kaplan.diagnostics if d.code == "EDGE_MINIMUM"]
    assert len(edge) == 1 and len(edge[0].data["budgets"]) == 3
    for dataset in ("rw", "owt2"):
        tuned = Approach2(bin_tolerance=0).fit(porian_runs(porian, dataset, PORIAN_STEPS[-1][0]))
        assert tuned.derived["a"] == pytest.approx(0.50, abs=0.02)  # 0.514 rw, 0.511 owt2
        assert "EDGE_MINIMUM" not in tuned.diagnostic_codes()


@pytest.mark.slow
def test_porian_openwebtext2_tells_the_same_story(porian):
    got = [
        Approach2(profile="akima", drop_edge=True, bin_tolerance=0)
        .fit(porian_runs(porian, "owt2", config))
        .derived["a"]
        for config, _ in PORIAN_STEPS
    ]  # measured 0.870, 0.718, 0.604, 0.568, 0.518
    assert got == sorted(got, reverse=True)
    assert got[0] > 0.8 and got[-1] == pytest.approx(0.50, abs=0.03)


def test_parabola_matches_an_independent_numpy_computation(porian):
    """Per budget: numpy.polyfit of L on ln N and the vertex; then a log-log polyfit."""
    runs = porian_runs(porian, "rw", PORIAN_STEPS[-1][0])
    df = runs.df
    c_vals, n_star = [], []
    for c, g in df.groupby("C"):
        p2, p1, _ = np.polyfit(np.log(g["N"]), g["L"], 2)
        c_vals.append(c)
        n_star.append(math.exp(-p1 / (2 * p2)))
    slope = np.polyfit(np.log(c_vals), np.log(n_star), 1)[0]
    fit = Approach2(bin_tolerance=0).fit(runs)
    assert fit.derived["a"] == pytest.approx(slope, abs=1e-9)
