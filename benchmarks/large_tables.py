"""Approach 3 on large tables (issue 11): time and peak memory from 1k to 1M rows.

Data: synthetic runs of Hoffmann et al. 2022's law (E 1.69337, A 406.401, B 410.723,
alpha 0.339, beta 0.285) with 1% log-normal noise, N log-uniform in [1e6, 1e10] and D in
[1e8, 1e12], seed 0.

* Ours: ``Approach3(n_bootstrap=0)`` -- Hoffmann's 4,500-start grid; above
  ``SEARCH_ROWS`` (4,000) rows the starts run on a stratified subsample and the best
  distinct end points are polished on every row.  Diagnostics included.
* Reference: ``Approach2(n_bootstrap=0)`` on an IsoFLOP table of the same number of rows
  (10 budgets 1e17..1e21 FLOPs, N log-uniform over 2.5 decades around each budget's
  optimum, D = C/6N), the approach that already scales.

Each size runs in a fresh process (so the peak RSS, ``resource.getrusage`` of the process and
of its workers, is that size's own).  Prints seconds, peak RSS and the time ratio
Approach 3 / Approach 2 per size, then checks on a mid-size table (10k rows) that the
subsampled search reaches the objective of the search over every row within 1e-6 relative.
Target: 1,000,000 rows with Approach 3 in <= 60 s on 2 cores.  No time is asserted.

Then the commands a user runs on such a table, each in a fresh process on a CSV of it, with
its peak RSS (``os.wait4``): ``fit --approach auto`` (nested backtest, 100 bootstrap
replicates) and ``report`` (Approaches 3, 2, 1, the backtest, every figure; 200 replicates),
against the reference ``fit`` (Approach 3, 100 replicates) on the same file; each prints
the ratio of its time to the reference's.  The bootstrap refits its replicates in blocks of
at most 2^23 cells, so memory stays bounded.

Usage: ``python benchmarks/large_tables.py [--sizes 1000,10000,100000,1000000]
[--command-sizes 10000,100000,1000000]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (1_000, 10_000, 100_000, 1_000_000)
COMMAND_SIZES = (10_000, 100_000, 1_000_000)
CLI = "import sys; from scalinglaws.cli import main; sys.exit(main())"
CHECK_ROWS = 10_000
TARGET_ROWS, TARGET_SECONDS = 1_000_000, 60.0
TRUTH = {"E": 1.69337, "A": 406.401, "B": 410.723, "alpha": 0.33917084, "beta": 0.2849083}


def law(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    t = TRUTH
    return t["E"] + t["A"] / N ** t["alpha"] + t["B"] / D ** t["beta"]


def random_table(n: int, seed: int = 0) -> pd.DataFrame:
    """n runs, N and D log-uniform and independent, 1% log-normal noise."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e6), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e8), np.log(1e12), n))
    L = law(N, D) * np.exp(0.01 * rng.standard_normal(n))
    return pd.DataFrame({"N": N, "D": D, "L": L})


def isoflop_table(n: int, seed: int = 0) -> pd.DataFrame:
    """n runs on 10 IsoFLOP budgets, N log-uniform over 2.5 decades around N ~ sqrt(C/120)."""
    rng = np.random.default_rng(seed)
    C = np.repeat(np.geomspace(1e17, 1e21, 10), -(-n // 10))[:n]
    centre = np.sqrt(C / 120.0)
    N = centre * np.exp(rng.uniform(-1.25, 1.25, n) * np.log(10))
    D = C / (6.0 * N)
    L = law(N, D) * np.exp(0.01 * rng.standard_normal(n))
    return pd.DataFrame({"N": N, "D": D, "L": L})


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024.0  # Linux: KiB


def _measure(approach: str, n: int, queue: mp.Queue) -> None:
    from scalinglaws.fit.isoflop import Approach2
    from scalinglaws.fit.parametric import Approach3

    df = random_table(n) if approach == "3" else isoflop_table(n)
    est = Approach3(n_bootstrap=0) if approach == "3" else Approach2(n_bootstrap=0)
    t0 = time.perf_counter()
    fit = est.fit(df)
    seconds = time.perf_counter() - t0
    queue.put((seconds, _peak_mb(), fit.method.get("objective value"), dict(fit.params)))


def measure(approach: str, n: int) -> tuple[float, float, float | None, dict[str, float]]:
    """(seconds, peak RSS in MB, objective, constants) of one fit, in a fresh process."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(approach, n, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def agreement(n: int) -> tuple[float, float, float, float]:
    """Objectives of the subsampled search and of the search over every row on one table
    of n rows, and both times."""
    from scalinglaws.fit import parametric
    from scalinglaws.fit.parametric import Approach3

    df = random_table(n, seed=1)
    t0 = time.perf_counter()
    sub = Approach3(n_bootstrap=0).fit(df)
    t_sub = time.perf_counter() - t0
    saved = parametric.SEARCH_ROWS
    parametric.SEARCH_ROWS = n  # every row
    try:
        t0 = time.perf_counter()
        full = Approach3(n_bootstrap=0).fit(df)
        t_full = time.perf_counter() - t0
    finally:
        parametric.SEARCH_ROWS = saved
    assert "search subsample" in sub.method and "search subsample" not in full.method
    return sub.method["objective value"], full.method["objective value"], t_sub, t_full


def run_command(args: list[str]) -> tuple[float, float, int, list[str]]:
    """(seconds, peak RSS in MB, exit code, progress lines on stderr) of one `scalinglaws`
    command in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    lines = [line for line in err.splitlines() if line.startswith(("[", "note:"))]
    return seconds, usage.ru_maxrss / 1024.0, proc.returncode, lines


def commands(sizes: list[int]) -> None:
    """`fit --approach auto` and `report` against `fit` on CSV tables of each size."""
    print(f"\n{'rows':>10} {'command':<22} {'s':>8} {'MB':>8} {'/fit':>6}  progress lines")
    with tempfile.TemporaryDirectory(prefix="sl-large-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"runs{n}.csv"
            random_table(n).to_csv(path, index=False)
            reference = None
            for name, args in (
                ("fit (Approach 3)", ["fit", str(path)]),
                ("fit --approach auto", ["fit", str(path), "--approach", "auto"]),
                ("report", ["report", str(path), "-o", str(Path(tmp) / f"report{n}")]),
            ):
                seconds, mb, code, lines = run_command(args)
                reference = reference or seconds
                status = "" if code == 0 else f"  EXIT {code}"
                print(f"{n:>10,} {name:<22} {seconds:8.1f} {mb:8.0f} {seconds / reference:6.1f}  "
                      f"{len(lines)}{status}", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--check-rows", type=int, default=CHECK_ROWS)
    parser.add_argument("--command-sizes", default=",".join(str(s) for s in COMMAND_SIZES))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    from scalinglaws.fit.bootstrap import default_jobs
    from scalinglaws.fit.parametric import SEARCH_ROWS

    print(f"{default_jobs()} cores; Approach 3 searches a subsample above {SEARCH_ROWS:,} rows")
    print(f"{'rows':>10} {'A3 s':>8} {'A3 MB':>8} {'A2 s':>8} {'A2 MB':>8} {'A3/A2':>7}  A3 fit")
    a3_times = {}
    for n in sizes:
        t3, m3, obj, p = measure("3", n)
        t2, m2, _, _ = measure("2", n)
        a3_times[n] = t3
        consts = ", ".join(f"{k} {v:.4g}" for k, v in p.items())
        print(f"{n:>10,} {t3:8.2f} {m3:8.0f} {t2:8.2f} {m2:8.0f} {t3 / t2:7.1f}  "
              f"objective {obj:.8e}; {consts}", flush=True)  # fmt: skip
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        print(f"growth: {hi / lo:g}x the rows, {a3_times[hi] / a3_times[lo]:.1f}x the time")

    f_sub, f_full, t_sub, t_full = agreement(args.check_rows)
    rel = abs(f_sub - f_full) / abs(f_full)
    print(
        f"\nsame optimum on {args.check_rows:,} rows: subsampled search {f_sub:.12e} "
        f"({t_sub:.1f} s), every row {f_full:.12e} ({t_full:.1f} s); relative difference "
        f"{rel:.1e} ({'within' if rel <= 1e-6 else 'NOT within'} 1e-6)"
    )
    if TARGET_ROWS in a3_times:
        t = a3_times[TARGET_ROWS]
        print(f"target: {TARGET_ROWS:,} rows <= {TARGET_SECONDS:g} s -> {t:.1f} s "
              f"({'met' if t <= TARGET_SECONDS else 'MISSED'})")  # fmt: skip
    commands([int(s) for s in args.command_sizes.split(",") if s])
    return 0


if __name__ == "__main__":
    sys.exit(main())
