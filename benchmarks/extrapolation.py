"""Extrapolation benchmark: the automatic fit against the standard recipe on published data.

For every task the shared data supports -- each of Porian et al. 2024's 15 IsoFLOP set-ups,
the Chinchilla Figure 4 points of Besiroglu et al. 2024 (5 highest losses dropped,
D = C/6N) and the single-epoch Datablations runs of Muennighoff et al. 2023 (the repeated-data
runs are outside the Chinchilla form's domain) -- the runs are split at the 75th percentile
of their final C; below it, two procedures are fitted in the same run:

* the standard recipe: Approach 3, Chinchilla form, Huber δ = 1e-3 on log residuals,
  Hoffmann's grid (:class:`scalinglaws.fit.parametric.Approach3`);
* ``auto`` with its defaults (:func:`scalinglaws.fit.auto.auto_backtest`): five candidates
  weighted by a nested backtest inside the runs below the cut, 80% prediction intervals.

Both predict every held-out run above the cut at its own (N, D) (the same runs for both).
Printed per task: the mean absolute relative error of each, their ratio auto/standard, and
the fraction of held-out runs inside auto's 80% intervals.  Targets (issue 6): median ratio
<= 0.7, no task above 1.2, coverage of the 80% intervals (pooled over all held-out runs)
between 75% and 90%.  One set of defaults for every task.

Usage: ``python benchmarks/extrapolation.py [--bootstrap N] [--jobs J] [--only TEXT]``.
Exits 0 with a message when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PORIAN_KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def tasks() -> dict[str, pd.DataFrame]:
    """Task name -> a table with columns N, D, C, L (one row per run)."""
    out: dict[str, pd.DataFrame] = {}
    porian = pd.read_csv(DATA / "porian2024_isoflop.csv")
    for key, g in porian.groupby(PORIAN_KEYS, sort=True):
        name = "porian " + "/".join(str(k) for k in key)
        out[name] = pd.DataFrame(
            {
                "N": g["n"].to_numpy(),
                "D": g["t"].to_numpy(),
                "C": g["flops"].to_numpy(),
                "L": g["loss"].to_numpy(),
            }
        )
    chin = pd.read_csv(DATA / "chinchilla_fig4_epoch2024.csv")
    chin = chin.sort_values("loss", kind="stable").iloc[:-5]  # drop the 5 highest losses
    n, c = chin["Model Size"].to_numpy(float), chin["Training FLOP"].to_numpy(float)
    out["chinchilla fig4 (Epoch)"] = pd.DataFrame(
        {"N": n, "D": c / (6 * n), "C": c, "L": chin["loss"].to_numpy(float)}
    )
    db = pd.read_csv(DATA / "muennighoff2023_datablations.csv")
    db = db[db["tokens"] <= db["unique_tokens"] * (1 + 1e-9)]  # one epoch or less
    n, d = db["params"].to_numpy(float), db["tokens"].to_numpy(float)
    out["datablations (1 epoch)"] = pd.DataFrame(
        {"N": n, "D": d, "C": 6 * n * d, "L": db["val_loss"].to_numpy(float)}
    )
    return out


def run_task(item: tuple[str, pd.DataFrame, int]) -> dict:
    """Backtest one task with both procedures; returns one row of the table."""
    from scalinglaws.fit.auto import auto_backtest
    from scalinglaws.runs import load_runs

    name, table, n_boot = item
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = load_runs(table.reset_index(drop=True))
        res = auto_backtest(runs, cut_quantile=0.75, level=0.8, n_bootstrap=n_boot, seed=0)
    fit = res.fit
    lead = max(fit.law.labels, key=lambda k: fit.extra["auto"]["weights"][k])
    return {
        "task": name,
        "train": res.n_train_runs,
        "held": res.n_test_runs,
        "standard": res.standard_mean_abs_rel_error,
        "auto": res.mean_abs_rel_error,
        "ratio": res.ratio,
        "coverage": res.coverage,
        "inside": int(res.table["inside"].sum()),
        "lead": f"{lead} {fit.extra['auto']['weights'][lead]:.2f}",
        "seconds": time.perf_counter() - start,
        "codes": ",".join(sorted({d.code for d in fit.diagnostics if d.severity == "warning"})),
    }


def main(argv: list[str]) -> int:
    """Run every task with both procedures in parallel and print the table and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=40, help="replicates per task (40)")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--only", default="", help="run the tasks whose name contains this")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"extrapolation benchmark skipped: the shared data folder {DATA} is absent")
        return 0
    from scalinglaws.fit.bootstrap import parallel_map

    items = [(k, v, args.bootstrap) for k, v in tasks().items() if args.only in k]
    start = time.perf_counter()
    rows = parallel_map(run_task, items, n_jobs=args.jobs)
    wall = time.perf_counter() - start
    df = pd.DataFrame(rows)

    print(
        "Extrapolation backtest: fit below the 75th-percentile compute cut, predict every run "
        "above it.\nstandard = Approach 3 (Chinchilla form, Huber 1e-3 on log L, Hoffmann's "
        "grid); auto = AutoFit defaults\n(5 candidates, nested backtest at the 75th percentile "
        f"of the training runs, inverse-MSE weights, {args.bootstrap} bootstrap replicates).\n"
        "MARE = mean |L_pred - L| / L over the held-out runs (the same runs for both).\n"
    )
    w = max(len(t) for t in df["task"]) + 2
    print(
        f"{'task':<{w}}{'train':>6}{'held':>6}{'standard':>10}{'auto':>8}{'ratio':>7}"
        f"{'cov80':>7}  {'leading candidate':<30}warnings"
    )
    for r in df.itertuples(index=False):
        print(
            f"{r.task:<{w}}{r.train:>6}{r.held:>6}{100 * r.standard:>9.2f}%{100 * r.auto:>7.2f}%"
            f"{r.ratio:>7.2f}{100 * r.coverage:>6.0f}%  {r.lead:<30}{r.codes}"
        )
    pooled = df["inside"].sum() / df["held"].sum()
    med, worst = float(df["ratio"].median()), float(df["ratio"].max())
    print(
        f"\n{len(df)} tasks in {wall:.0f} s.  median ratio {med:.2f} (target <= 0.7: "
        f"{'met' if med <= 0.7 else 'NOT met'}); worst ratio {worst:.2f} "
        f"({df.loc[df['ratio'].idxmax(), 'task']}; target <= 1.2: "
        f"{'met' if worst <= 1.2 else 'NOT met'})"
    )
    print(
        f"coverage of auto's 80% intervals: {100 * pooled:.1f}% of {int(df['held'].sum())} "
        f"held-out runs pooled (target 75-90%: {'met' if 0.75 <= pooled <= 0.90 else 'NOT met'}"
        f"); per task median {100 * df['coverage'].median():.0f}%, range "
        f"{100 * df['coverage'].min():.0f}-{100 * df['coverage'].max():.0f}%"
    )
    print(
        f"mean MARE: standard {100 * df['standard'].mean():.2f}%, auto "
        f"{100 * df['auto'].mean():.2f}%; geometric-mean ratio "
        f"{float(np.exp(np.log(df['ratio']).mean())):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
