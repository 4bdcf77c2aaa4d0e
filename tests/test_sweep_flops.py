"""A sweep's own FLOPs convention, C = f(N)·D, used by every approach of the report.

f(N) is FamilyFlops (scalinglaws.sweep.family): the family's shape rule N -> architecture and
a FLOP convention of scalinglaws.flops, smoothed by a monotone interpolation in log-log through
the family's shapes.  Checked against: the FLOPs per token the runner recorded for every run
of the committed demo sweep (examples/data/demo-sweep), flops_per_token of the family's
architectures, and an independent scipy minimisation of L(N, C/f(N)).  A plain runs file
keeps C = 6·N·D; SL-RUNS-FLOPS-MISMATCH is warned once per sweep folder without a plan,
never when the plan's f(N) explains C.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

from scalinglaws.allocation import allocate, optimal_allocation
from scalinglaws.errors import DataError, QuantityError, UnknownNameError
from scalinglaws.fit.parametric import Approach3
from scalinglaws.fit.result import Fit
from scalinglaws.flops import flops_per_token
from scalinglaws.laws import ChinchillaLaw, KaplanNDLaw
from scalinglaws.report import build_report, format_value
from scalinglaws.sweep.family import FamilyFlops, ModelFamily

DEMO = Path(__file__).resolve().parents[1] / "examples" / "data" / "demo-sweep"
# the [family] table of examples/data/demo-sweep/plan.toml
DEMO_FAMILY = ModelFamily(n_ctx=64, head_dim=4, aspect_ratio=32.0, vocab_size=256, min_layers=2)
SWEEP_TEXT = "C under the sweep's chinchilla convention (family shape rule)"
SMALL_GRID = {
    "a": (0.0, 5.0, 10.0),
    "b": (0.0, 5.0, 10.0),
    "e": (-1.0, 0.0, 1.0),
    "alpha": (0.2, 0.5, 1.0),
    "beta": (0.2, 0.5, 1.0),
}

pytestmark = pytest.mark.skipif(not DEMO.is_dir(), reason="the demo sweep folder is absent")


@pytest.fixture(scope="module")
def f() -> FamilyFlops:
    return DEMO_FAMILY.flops_function("chinchilla")


def argmin_independent(law, C: float, f) -> float:
    """N* = argmin over log N of L(N, C/f(N)): the best of 4,000 log-spaced N (L along a
    budget can have two local minima where the family's depth changes), refined by scipy's
    bounded Brent search between its neighbours."""
    u = np.linspace(0.0, math.log(C / float(f(1.0))), 4000)  # beyond: D < 1 token
    values = np.asarray(law(N=np.exp(u), D=C / f(np.exp(u))), dtype=float)
    i = int(np.nanargmin(values))

    def loss(x: float) -> float:
        n = math.exp(x)
        return float(law(N=n, D=C / float(f(n))))

    res = minimize_scalar(loss, bounds=(u[i - 1], u[i + 1]), method="bounded",
                          options={"xatol": 1e-10})  # fmt: skip
    return math.exp(res.x)


# ============================================================================ f(N)
def test_f_reproduces_the_runners_flops_per_token(f):
    """The runner recorded flops_per_token (chinchilla, Hoffmann App. F) for every run."""
    runs = pd.read_csv(DEMO / "runs.csv")
    got = f(runs["N"].to_numpy(dtype=float))
    np.testing.assert_allclose(got, runs["flops_per_token"].to_numpy(dtype=float), rtol=1e-12)
    np.testing.assert_allclose(got * runs["D"], runs["C"], rtol=1e-9)


def test_f_is_exact_at_the_family_shapes_and_smooth_between(f):
    # exact at canonical shapes (the rule maps their own N back to them)
    for target in (300, 5e3, 7e4, 2e6, 3e8):
        arch = DEMO_FAMILY.nearest(target)
        n = arch.params().non_embedding
        if DEMO_FAMILY.nearest(n) == arch:
            assert f(n) == pytest.approx(flops_per_token(arch, "chinchilla"), rel=1e-12)
    # within a few percent of the step function everywhere, monotone, no jumps
    n = np.geomspace(300, 1e10, 4000)
    step = np.array([flops_per_token(DEMO_FAMILY.nearest(x), "chinchilla") for x in n])
    shape_n = np.array([DEMO_FAMILY.nearest(x).params().non_embedding for x in n])
    assert np.max(np.abs(f(shape_n) / step - 1)) < 0.08
    fine = f(np.geomspace(1.0, 1e18, 20_000))
    assert np.all(np.diff(fine) > 0)
    assert np.max(np.abs(np.diff(np.log(fine)))) < 0.01  # 20k points over 18 decades
    assert f(1e4) == pytest.approx(float(f(np.array([1e4]))[0]))
    assert f.description == SWEEP_TEXT


def test_f_bad_input():
    with pytest.raises(UnknownNameError, match="chinchila"):
        FamilyFlops(DEMO_FAMILY, "chinchila")
    with pytest.raises(QuantityError, match="greater than 0, got 0.0"):
        DEMO_FAMILY.flops_function()(np.array([10.0, 0.0]))
    with pytest.raises(QuantityError, match="ModelFamily"):
        FamilyFlops("demo")  # type: ignore[arg-type]


# ============================================================================ Approach 3
def test_approach3_allocates_under_f(f):
    """Exact runs of a known law with C = f(N)·D: the fit's N* is the independent argmin of
    the true L(N, C/f(N)), and C = f(N*)·D* at every budget."""
    true = ChinchillaLaw(E=1.6, A=60.0, B=900.0, alpha=0.45, beta=0.42)
    N = np.repeat(np.geomspace(800, 40_000, 6), 5)
    D = N * np.tile(np.geomspace(20, 2000, 5), 6)
    runs = pd.DataFrame({"N": N, "D": D, "C": f(N) * D, "L": true(N=N, D=D)})
    budgets = [1e12, 1e14]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # C is not 6·N·D: SL-RUNS-FLOPS-MISMATCH
        fit = Approach3(init=SMALL_GRID, flops_per_token=f).fit(runs)
        six = Approach3(init=SMALL_GRID).fit(runs)
    assert fit.method["compute convention"] == SWEEP_TEXT
    assert six.method["compute convention"] == "C = 6·N·D"
    for c in budgets:
        alloc = fit.allocate(c)
        n, d = alloc.N, alloc.D
        assert f(n) * d == pytest.approx(c, rel=1e-6)
        assert n == pytest.approx(argmin_independent(true, c, f), rel=1e-3)
        assert alloc.L == pytest.approx(float(fit.law(N=n, D=d)), rel=1e-12)
        alloc6 = six.allocate(c)
        n6, d6 = alloc6.N, alloc6.D
        assert 6 * n6 * d6 == pytest.approx(c, rel=1e-9)
    # the extrapolation diagnostic measures the data's compute by f, i.e. the recorded C
    (far,) = [d for d in fit.budget_diagnostics(budgets) if d.code == "EXTRAPOLATION"]
    assert f"budget 1e+14 FLOPs is {1e14 / runs['C'].max():.3g}×" in far.message
    assert f"largest C in the data ({runs['C'].max():.3g})" in far.message
    back = Fit.from_json(fit.to_json())
    assert back.method["compute convention"] == SWEEP_TEXT
    assert back.allocate(1e14).N == pytest.approx(fit.allocate(1e14).N, rel=1e-12)


def test_optimal_allocation_numeric_matches_allocate(f):
    """The batched numeric allocation (all replicates and budgets at once) against
    allocate() of each law, for both forms; a replicate with an exponent <= 0 gives NaN."""
    laws = [
        ChinchillaLaw(E=1.6, A=60.0, B=900.0, alpha=0.45, beta=0.42),
        ChinchillaLaw(E=1.2, A=200.0, B=400.0, alpha=0.3, beta=0.35),
    ]
    consts = {k: np.array([getattr(law, k) for law in laws] + [0.3]) for k in
              ("E", "A", "B", "alpha", "beta")}  # fmt: skip
    consts["alpha"][-1] = -0.1  # a degenerate replicate
    budgets = [3e11, 1e13]
    N, D, L = optimal_allocation(ChinchillaLaw, consts, np.array(budgets), f)
    assert N.shape == D.shape == L.shape == (3, 2)  # (replicates, budgets)
    for i, law in enumerate(laws):
        a = allocate(law, C=np.array(budgets), flops_per_token=f)
        for j, _c in enumerate(budgets):
            assert N[i, j] == pytest.approx(a.N[j], rel=1e-8)
            assert D[i, j] == pytest.approx(a.D[j], rel=1e-8)
            assert L[i, j] == pytest.approx(a.L[j], rel=1e-12)
    assert all(np.isnan(N[-1, j]) for j in range(len(budgets)))
    kaplan = KaplanNDLaw(N_c=8.8e13, alpha_N=0.076, D_c=5.4e13, alpha_D=0.095)
    kc = {k: np.array([getattr(kaplan, k)]) for k in ("N_c", "D_c", "alpha_N", "alpha_D")}
    kN, kD, _ = optimal_allocation(KaplanNDLaw, kc, np.array([1e20]), f)
    ka = allocate(kaplan, C=1e20, flops_per_token=f)
    assert kN[0, 0] == pytest.approx(ka.N, rel=1e-8)
    assert f(kN[0, 0]) * kD[0, 0] == pytest.approx(1e20, rel=1e-12)


def test_approach3_flops_per_token_bad_input():
    for bad in ("6", 0.0, -1, math.inf, True):
        with pytest.raises(QuantityError, match="flops_per_token must be None"):
            Approach3(flops_per_token=bad)


# ============================================================================ the report
@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-report")
    return build_report(
        DEMO,
        out,
        budgets="2e12,2e13",
        n_bootstrap=4,
        seed=0,
        backtest=False,
        formats=("png",),
        presets=["hoffmann2022"],
    )


def test_report_allocates_every_approach_under_the_sweep_convention(demo_report, f):
    nb = demo_report.numbers
    assert nb["settings"]["compute_convention"] == SWEEP_TEXT
    assert nb["settings"]["sweep_flops"]["convention"] == "chinchilla"
    assert nb["settings"]["sweep_flops"]["family"] == DEMO_FAMILY.to_dict()
    assert nb["data"]["compute_convention"] == SWEEP_TEXT
    assert nb["data"]["flops_check"]["max"] < 1e-6
    rows = nb["allocation"]
    assert {r["approach"] for r in rows} == {"1", "2", "3"}
    for r in rows:
        assert r["compute_convention"] == SWEEP_TEXT
        assert f(r["N"]) * r["D"] == pytest.approx(r["C"], rel=1e-6)
        if r["approach"] in ("1", "2"):  # D's interval is C/f of N's
            lo, hi = r["N_interval"]
            assert r["D_interval"] == pytest.approx([r["C"] / f(hi), r["C"] / f(lo)], rel=1e-9)
        else:  # Approach 3: N* is the argmin of the fitted law along C = f(N)·D
            law = Fit.from_json(demo_report.fits["3"]).law
            assert r["N"] == pytest.approx(argmin_independent(law, r["C"], f), rel=1e-3)
    a3 = nb["fits"]["3"]
    assert a3["method"]["compute convention"] == SWEEP_TEXT
    extrapolation = [d["message"] for d in a3["diagnostics"] if d["code"] == "EXTRAPOLATION"]
    assert extrapolation and all("largest C in the data (1e+12)" in m for m in extrapolation)
    page = demo_report.html.read_text()
    assert "Compute convention: " + SWEEP_TEXT.replace("'", "&#x27;") in page
    # every number the page shows is the number in report.json (with the new cells)
    numbers = json.loads(demo_report.json.read_text())
    cells = re.findall(
        r'data-key="([^"]+)" data-value="([^"]+)" data-format="(\w+)">([^<]*)<', page
    )
    assert "/data/flops_check/max" in {key for key, _, _, _ in cells}
    for key, value, kind, text in cells:
        doc = numbers
        for part in key.split("/")[1:]:
            doc = doc[int(part)] if isinstance(doc, list) else doc[part]
        assert float(html.unescape(value)) == float(doc), key
        assert html.unescape(text) == format_value(doc, kind), key


def test_report_does_not_warn_a_mismatch_the_plan_explains(demo_report):
    """C is not 6·N·D, but the plan's f(N)·D reproduces it: the report states the convention
    instead of suggesting another FLOPs-per-token constant."""
    assert not any("SL-RUNS-FLOPS-MISMATCH" in w for w in demo_report.warnings)
    assert demo_report.numbers["data"]["flops_check"]["max"] < 1e-6


def test_sweep_folder_without_plan_warns_the_mismatch_once(tmp_path):
    import warnings

    from scalinglaws.report import _load_sweep

    folder = sweep_copy(tmp_path, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _load_sweep(folder, None, 6.0)
    codes = [getattr(w.message, "code", None) for w in caught]
    assert codes.count("SL-RUNS-FLOPS-MISMATCH") == 1


def test_plain_runs_keep_six_n_d(tmp_path):
    """A runs file (not a sweep folder) allocates with C = k·N·D, k from flops_per_param_token."""
    import warnings

    shutil.copy(DEMO / "runs.csv", tmp_path / "runs.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scalinglaws.runs import load_runs

        runs = load_runs(tmp_path / "runs.csv")
    fit = Approach3(init=SMALL_GRID).fit(runs)
    alloc = fit.allocate(1e13)
    n, d = alloc.N, alloc.D
    assert 6 * n * d == pytest.approx(1e13, rel=1e-9)
    assert fit.method["compute convention"] == "C = 6·N·D"
    assert fit.data["flops convention"] == "C = 6·N·D"


# ============================================================================ bad sweep folders
def sweep_copy(tmp_path: Path, plan_text: str | None) -> Path:
    folder = tmp_path / "sweep"
    folder.mkdir()
    shutil.copy(DEMO / "runs.csv", folder / "runs.csv")
    if plan_text is not None:
        (folder / "plan.toml").write_text(plan_text)
    return folder


@pytest.mark.parametrize(
    ("plan_text", "match"),
    [
        ("[sweep\nname = 1", "not valid TOML"),
        ('[sweep]\nconvention = "palm"\n[family]\nn_ctx = 64\nhead_dim = 4\n', "'chinchilla'"),
        ('[sweep]\nconvention = "chinchila"\n', "did you mean 'chinchilla'"),
        ("[sweep]\n[family]\nhead_dims = 4\n", "did you mean 'head_dim'"),
        ("[sweep]\n[family]\nhead_dim = 0\n", "head_dim must be a whole number"),
    ],
)
def test_bad_plan_in_a_sweep_folder(tmp_path, plan_text, match):
    folder = sweep_copy(tmp_path, plan_text)
    with pytest.raises(DataError, match=match):
        build_report(folder, tmp_path / "out", n_bootstrap=0)


def test_plan_of_other_models_warns(tmp_path):
    """A plan.toml whose family is not the one the runs were trained with: f(N)·D misses the
    recorded C, which the report says (SL-SWEEP-FLOPS-MISMATCH) before fitting."""
    import warnings

    from scalinglaws.report import _load_sweep

    folder = sweep_copy(tmp_path, "[sweep]\n[family]\nn_ctx = 1024\nhead_dim = 4\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sweep = _load_sweep(folder, None, 6.0)
    codes = [getattr(w.message, "code", "") for w in caught]
    assert "SL-SWEEP-FLOPS-MISMATCH" in codes
    assert sweep.flops_check["max"] > 0.1


def test_sweep_folder_without_plan_falls_back_to_k(tmp_path):
    import warnings

    from scalinglaws.report import _load_sweep

    folder = sweep_copy(tmp_path, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sweep = _load_sweep(folder, None, 6.0)
    assert sweep.flops is None
    assert any("no plan.toml" in n and "C = 6·N·D" in n for n in sweep.notes)
