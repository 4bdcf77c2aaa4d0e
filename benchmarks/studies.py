"""The scaling studies the extrapolation benchmark scores a procedure on, grouped by study.

A *study* is one source of runs: a paper's data set, or one regime of synthetic runs drawn
from a known law.  A procedure is scored per study and leave-one-study-out
(``benchmarks/extrapolation.py``), so that no study, however many set-ups it has, decides the
defaults it is then scored with.

Real studies (shipped in ``scalinglaws/datasets/data``, see its ``SOURCES.md``):

* ``porian`` -- the 15 IsoFLOP set-ups of Porian et al. 2024, one task each;
* ``chinchilla`` -- the Chinchilla Figure 4 points of Besiroglu et al. 2024 (5 highest
  losses dropped, D = C/6N);
* ``datablations`` -- the single-epoch runs of Muennighoff et al. 2023 (repeated data is
  outside the Chinchilla form's domain);
* ``gemstones`` -- the ``cool_end`` points of McLeish et al. 2025 (each the end of a
  cooldown branched off a constant-LR trunk, taken as a run; C = 6ND as the authors count).

Synthetic studies (:func:`synthetic_studies`), three tasks each, every one seeded: runs drawn
from a known law L_true(N, D) with log-normal noise (seed-to-seed scatter of σ_run = 0.4-1.2%
per run, plus an offset of σ_run/2 shared by the runs of one model size, as one size's shape
and hyperparameters are shared), in the designs and regimes where extrapolation goes wrong:

=================  ===========================================================================
``syn-isoflop``     Chinchilla truth, an IsoFLOP sweep of 8-10 budgets over 2.5 decades
``syn-floorless``   E ≈ 2-10% of the loss: the frontier is straight, E is not identified
``syn-saturating``  the reducible loss is 10-25% of the loss: the runs sit near the floor
``syn-overtrain``   a grid of 6 sizes × 7 token multipliers (5-320 tokens/parameter) and two
                    larger models, truth E + (A/N^α + B/D^β)^γ (γ < 1: N and D interact)
``syn-ladder``      4 sizes × 4 multipliers and two models 5-10× larger, exponents that drift
                    with scale (α + s·ln(N/N0))
``syn-fewbudgets``  4 budgets × 4 sizes
``syn-far``         6 small IsoFLOP budgets, then 12 runs 3-300× beyond the largest, truth
                    with hyperparameters that fall behind with size (a penalty growing in
                    ln N)
``syn-mistuned``    an IsoFLOP sweep with that size-growing penalty
=================  ===========================================================================

Each task is a table of N, D, C (= 6ND for the synthetic ones) and L, one row per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglaws.datasets import DATA_DIR

DATA = DATA_DIR  # the data sets shipped with the package (scalinglaws.datasets)
PORIAN_KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
REAL_STUDIES = ("porian", "chinchilla", "datablations", "gemstones")


@dataclass(frozen=True)
class Task:
    """One scaling study's runs: ``table`` has columns N, D, C, L (one row per run)."""

    study: str
    name: str
    table: pd.DataFrame


# ============================================================================ real data
def real_studies(data: Path = DATA) -> list[Task]:
    """The tasks the shared data sets support (see the module docstring)."""
    out: list[Task] = []
    porian = pd.read_csv(data / "porian2024_isoflop.csv.gz")
    for key, g in porian.groupby(PORIAN_KEYS, sort=True):
        out.append(
            Task(
                "porian",
                "porian " + "/".join(str(k) for k in key),
                _table(g["n"], g["t"], g["flops"], g["loss"]),
            )
        )
    chin = pd.read_csv(data / "chinchilla_fig4_epoch2024.csv.gz")
    chin = chin.sort_values("loss", kind="stable").iloc[:-5]  # drop the 5 highest losses
    n, c = chin["Model Size"].to_numpy(float), chin["Training FLOP"].to_numpy(float)
    out.append(
        Task("chinchilla", "chinchilla fig4 (Epoch)", _table(n, c / (6 * n), c, chin["loss"]))
    )
    db = pd.read_csv(data / "muennighoff2023_datablations.csv.gz")
    db = db[db["tokens"] <= db["unique_tokens"] * (1 + 1e-9)]  # one epoch or less
    n, d = db["params"].to_numpy(float), db["tokens"].to_numpy(float)
    out.append(
        Task("datablations", "datablations (1 epoch)", _table(n, d, 6 * n * d, db["val_loss"]))
    )
    gem = pd.read_csv(data / "gemstones2025.csv.gz")
    gem = gem[gem["phase"] == "cool_end"]
    n, d = gem["params"].to_numpy(float), gem["tokens"].to_numpy(float)
    out.append(Task("gemstones", "gemstones (cooldown ends)", _table(n, d, 6 * n * d, gem["loss"])))
    return out


def _table(N, D, C, L) -> pd.DataFrame:  # noqa: ANN001 - array-likes
    return pd.DataFrame(
        {
            "N": np.asarray(N, dtype=float),
            "D": np.asarray(D, dtype=float),
            "C": np.asarray(C, dtype=float),
            "L": np.asarray(L, dtype=float),
        }
    )


# ============================================================================ synthetic
TrueLaw = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _chinchilla_constants(rng: np.random.Generator, regime: str) -> dict[str, float]:
    """E, A, B, α, β near the published fits; A and B set by the size of each term at
    N = 1e8 and D = 2e9 (the terms' share of the loss is what a regime changes)."""
    alpha, beta = rng.uniform(0.28, 0.40), rng.uniform(0.26, 0.38)
    if regime == "floorless":
        E = rng.uniform(0.05, 0.3)
        terms = rng.uniform(1.3, 2.0, 2)
    elif regime == "saturating":
        E = rng.uniform(1.6, 2.1)
        terms = rng.uniform(0.15, 0.35, 2)
    else:
        E = rng.uniform(1.6, 2.1)
        terms = rng.uniform(0.6, 1.2, 2)
    return {
        "E": E,
        "A": terms[0] * 1e8**alpha,
        "B": terms[1] * 2e9**beta,
        "alpha": alpha,
        "beta": beta,
    }


def _truth(rng: np.random.Generator, form: str, regime: str = "standard") -> TrueLaw:
    """The true law of a synthetic task: ``chinchilla``, ``interaction``
    (E + (A/N^α + B/D^β)^γ), ``drift`` (exponents moving by s per e-fold of N or D around
    1e8 and 2e9) or ``mistuned`` (the Chinchilla law times e^(m·ln(N/1e7)) for N > 1e7)."""
    p = _chinchilla_constants(rng, regime)
    E, A, B, al, be = p["E"], p["A"], p["B"], p["alpha"], p["beta"]
    if form == "chinchilla":
        return lambda N, D: E + A * N**-al + B * D**-be
    if form == "interaction":
        gamma = rng.uniform(0.75, 0.92)
        # rescale so the reducible loss at (1e8, 2e9) keeps its size
        scale = (A * 1e8**-al + B * 2e9**-be) ** (1 - gamma)
        return lambda N, D: E + scale * (A * N**-al + B * D**-be) ** gamma
    if form == "drift":
        sN, sD = rng.uniform(-0.008, 0.008, 2)
        return lambda N, D: (
            E
            + A * 1e8**-al * np.exp(-(al + sN * np.log(N / 1e8)) * np.log(N / 1e8))
            + B * 2e9**-be * np.exp(-(be + sD * np.log(D / 2e9)) * np.log(D / 2e9))
        )
    if form == "mistuned":
        m = rng.uniform(0.003, 0.008)
        return lambda N, D: (
            (E + A * N**-al + B * D**-be) * np.exp(m * np.maximum(0.0, np.log(N / 1e7)))
        )
    raise ValueError(form)


def _n_opt(law: TrueLaw, C: np.ndarray) -> np.ndarray:
    """The true compute-optimal N at each budget (C = 6ND), on a fine grid in ln N."""
    out = []
    for c in np.atleast_1d(C):
        n = np.geomspace(1e4, 1e14, 4001)
        n = n[(c / (6 * n) > 1e3)]
        out.append(n[np.argmin(law(n, c / (6 * n)))])
    return np.array(out)


def _isoflop(law: TrueLaw, budgets: np.ndarray, sizes: int, spread: float) -> list[tuple]:
    rows = []
    for c, n_star in zip(budgets, _n_opt(law, budgets), strict=True):
        for n in n_star * np.geomspace(1 / spread, spread, sizes):
            rows.append((n, c / (6 * n)))
    return rows


def _grid(sizes: np.ndarray, multipliers: np.ndarray) -> list[tuple]:
    return [(n, m * n) for n in sizes for m in multipliers]


def _draw(
    study: str,
    index: int,
    law: TrueLaw,
    design: list[tuple],
    rng: np.random.Generator,
) -> Task:
    """Noisy runs of ``law`` at the ``design`` points: log-normal noise σ_run per run plus
    an offset σ_run/2 per model size."""
    N = np.array([r[0] for r in design], dtype=float)
    D = np.array([r[1] for r in design], dtype=float)
    sigma = rng.uniform(0.004, 0.012)
    sizes, which = np.unique(np.round(np.log(N), 6), return_inverse=True)
    offset = 0.5 * sigma * rng.standard_normal(sizes.size)[which]
    L = law(N, D) * np.exp(sigma * rng.standard_normal(N.size) + offset)
    return Task(study, f"{study} #{index + 1}", _table(N, D, 6 * N * D, L))


def synthetic_studies(tasks_per_study: int = 3, seed: int = 20261203) -> list[Task]:
    """The synthetic tasks of the module docstring, ``tasks_per_study`` per study."""
    out: list[Task] = []
    for s, study in enumerate(SYNTHETIC_STUDIES):
        for i in range(tasks_per_study):
            rng = np.random.default_rng([seed, s, i])
            out.append(SYNTHETIC_STUDIES[study](study, i, rng))
    return out


def _syn_isoflop(study: str, i: int, rng: np.random.Generator, form: str = "chinchilla",
                 regime: str = "standard") -> Task:  # fmt: skip
    law = _truth(rng, form, regime)
    c0 = 10 ** rng.uniform(16.5, 18.0)
    budgets = c0 * np.geomspace(1, 10**2.5, int(rng.integers(8, 11)))
    return _draw(study, i, law, _isoflop(law, budgets, 7, 5.0), rng)


def _syn_overtrain(study: str, i: int, rng: np.random.Generator) -> Task:
    law = _truth(rng, "interaction")
    sizes = np.geomspace(1e7, 4e8, 6) * rng.uniform(0.8, 1.25)
    design = _grid(sizes, np.array([5, 10, 20, 40, 80, 160, 320]))
    design += [(n, 20 * n) for n in (1.4e9, 6.9e9)]
    return _draw(study, i, law, design, rng)


def _syn_ladder(study: str, i: int, rng: np.random.Generator) -> Task:
    law = _truth(rng, "drift")
    sizes = np.array([1.5e8, 3e8, 7.5e8, 1.3e9]) * rng.uniform(0.8, 1.25)
    design = _grid(sizes, np.array([20, 40, 100, 200]))
    design += [(7e9, 20 * 7e9), (1.3e10, 20 * 1.3e10)]
    return _draw(study, i, law, design, rng)


def _syn_fewbudgets(study: str, i: int, rng: np.random.Generator) -> Task:
    law = _truth(rng, "chinchilla")
    budgets = 10 ** rng.uniform(17, 18) * np.geomspace(1, 100, 4)
    return _draw(study, i, law, _isoflop(law, budgets, 4, 4.0), rng)


def _syn_far(study: str, i: int, rng: np.random.Generator) -> Task:
    law = _truth(rng, "mistuned")
    small = 10 ** rng.uniform(16.5, 17.5) * np.geomspace(1, 100, 6)
    design = _isoflop(law, small, 6, 4.0)
    big = small[-1] * np.geomspace(3, 300, 4)
    design += _isoflop(law, big, 3, 2.0)
    return _draw(study, i, law, design, rng)


SYNTHETIC_STUDIES: dict[str, Callable[[str, int, np.random.Generator], Task]] = {
    "syn-isoflop": _syn_isoflop,
    "syn-floorless": lambda s, i, r: _syn_isoflop(s, i, r, regime="floorless"),
    "syn-saturating": lambda s, i, r: _syn_isoflop(s, i, r, regime="saturating"),
    "syn-overtrain": _syn_overtrain,
    "syn-ladder": _syn_ladder,
    "syn-fewbudgets": _syn_fewbudgets,
    "syn-far": _syn_far,
    "syn-mistuned": lambda s, i, r: _syn_isoflop(s, i, r, form="mistuned"),
}


def all_tasks(data: Path = DATA) -> list[Task]:
    """Every task: the real ones (when ``data`` exists), then the synthetic ones."""
    real = real_studies(data) if data.is_dir() else []
    return real + synthetic_studies()


def split(table: pd.DataFrame, quantile: float = 0.75) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmark's protocol: runs with C at or below the ``quantile`` quantile of C are
    fitted, the runs above it are predicted."""
    cut = float(np.quantile(table["C"].to_numpy(dtype=float), quantile))
    below = table["C"] <= cut * (1 + 1e-12)
    return table[below].reset_index(drop=True), table[~below].reset_index(drop=True)


def describe(task: Task) -> str:
    """One line: runs fitted and held out, and how far beyond the fitted runs the held-out
    ones lie (multiples of the largest fitted C)."""
    train, test = split(task.table)
    far = test["C"].to_numpy() / train["C"].max()
    return (
        f"{task.name}: {len(train)} fitted, {len(test)} held out at "
        f"{far.min():.3g}-{far.max():.3g}x the largest fitted C"
    )


if __name__ == "__main__":
    for t in all_tasks():
        print(describe(t))
