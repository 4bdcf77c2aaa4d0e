"""Run every benchmark in this folder, one after the other, and fail if any fails.

Each benchmark compares against a reference in the same run and prints a ratio; none of them
asserts a time.  Usage: ``make bench`` (or ``python benchmarks/run_all.py [name ...]``).
Every ``*.py`` here but this file and ``HELPERS`` is a benchmark, run without arguments;
``study_cost`` is the long one (it trains sweeps into ``build/study_cost/``: up to ~15 minutes
of 2 cores the first time, seconds when its runs are already there).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELPERS = {"studies.py"}  # modules the benchmarks import, not benchmarks themselves


def main(argv: list[str]) -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and p.name not in HELPERS
    )
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.name}: exit {rc}, {time.perf_counter() - start:.1f} s", flush=True)
        if rc != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
