"""`make demo`: the main job of scalinglaws, end to end, on data the project ships.

1. The calculator: every published law's compute-optimal allocation at the Gopher/Chinchilla
   budget (5.76e23 FLOPs) and at Llama 3's (3.8e25), and how long the latter takes on H100s.
2. A real IsoFLOP sweep of small GPTs (the committed one in examples/data/demo-sweep, or a new
   one with `make demo SWEEP=1`) fitted by Chinchilla's Approaches 1, 2 and 3 with bootstrap
   intervals, backtested, drawn, and written as one HTML report.

    python examples/demo.py [--sweep] [--out out/demo] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_SWEEP = ROOT / "examples" / "data" / "demo-sweep"
PLAN = ROOT / "examples" / "sweeps" / "demo.toml"
BUDGETS = "2e12,2e13"  # a little and a lot beyond the sweep's largest budget, 1e12 FLOPs


def cli(*argv: str) -> None:
    """Run one `scalinglaws` command in this process, echoing it as a user would type it."""
    from scalinglaws.cli import main

    print(f"\n$ scalinglaws {' '.join(argv)}", flush=True)
    code = main(list(argv))
    if code != 0:
        raise SystemExit(f"demo: 'scalinglaws {' '.join(argv)}' exited with {code}")


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def heading(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def calculator() -> None:
    heading("1. The published laws: how big a model, on how many tokens, for a budget?")
    cli("compare", "--compute", "5.76e23")
    cli("allocate", "--params", "70B", "--law", "hoffmann2022-approach1")
    cli("compare", "--compute", "3.8e25")
    cli("budget", "--compute", "3.8e25", "--accelerator", "h100", "--devices", "16000")


def run_sweep(folder: Path) -> None:
    heading(
        f"2a. Training the demo IsoFLOP sweep into {folder} "
        "(6 min 22 s for the committed runs on 2 cores)"
    )
    cli("sweep", "run", str(PLAN), "--out", str(folder))


def fit_sweep(source: Path, out: Path, n_bootstrap: int) -> None:
    from scalinglaws.report import build_report, format_value

    heading(f"2. Fitting the IsoFLOP sweep in {_shown(source)} by Approaches 1, 2, 3")
    print(
        f"$ scalinglaws report {_shown(source)} -o {_shown(out)} --budgets {BUDGETS} "
        f"--bootstrap {n_bootstrap}",
        flush=True,
    )
    t0 = time.perf_counter()
    shown = _shown(source)  # relative, as a user would type it, in the report too
    result = build_report(
        shown if Path(shown).exists() else source,
        out,
        budgets=BUDGETS,
        n_bootstrap=n_bootstrap,
        seed=0,
    )
    nb = result.numbers
    data = nb["data"]
    print(
        f"\ndata: {data['runs']} runs, {data.get('isoflop_budgets', '?')} IsoFLOP budgets, "
        f"N = {format_value(data['N_range'][0], 'count')}–"
        f"{format_value(data['N_range'][1], 'count')} non-embedding parameters, "
        f"C up to {format_value(data['C_range'][1], 'flops')} FLOPs"
    )
    convention = nb["settings"].get("compute_convention")
    if convention:
        print(f"compute: {convention}")
    level = f"{100 * nb['settings']['level']:g}%"
    print(f"\nexponent a in N* ∝ C^a, with {level} bootstrap intervals ({n_bootstrap} replicates):")
    for _, fit in sorted(nb["fits"].items()):
        a = fit["derived"].get("a")
        lo_hi = fit["intervals"].get("a")
        shown = "—" if a is None else f"{a:.3f}"
        if lo_hi:
            shown += f" [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"
        print(f"  {fit['title']:<62} a = {shown}")
    for approach, reason in nb["not_fitted"].items():
        print(f"  approach {approach}: not fitted ({reason})")
    print(
        "(Approach 3's a = β/(α+β) holds where C ∝ N·D; at this scale embeddings, logits and "
        "attention make FLOPs per token grow slower than N, so its frontier in the figures "
        "departs from C^a.)"
    )
    print("\ncompute-optimal allocation beyond the data:")
    print(f"  {'approach':<10}{'C (FLOPs)':>11}{'N*':>10}{'D*':>10}{'tokens/param':>14}{'L*':>8}")
    for row in nb["allocation"]:
        print(
            f"  {row['approach']:<10}{format_value(row['C'], 'flops'):>11}"
            f"{format_value(row['N'], 'count'):>10}{format_value(row['D'], 'count'):>10}"
            f"{row['tokens_per_param']:>14.1f}{row['L']:>8.3f}"
        )
    bt = nb.get("backtest") or {}
    if bt.get("done"):
        print(
            f"\nbacktest (Approach 3 fitted on the {bt['n_train_runs']} runs below the "
            f"{100 * bt['cut_quantile']:g}th percentile of compute, predicting the "
            f"{bt['n_test_runs']} above): mean |relative error| "
            f"{100 * bt['mean_abs_rel_error']:.2f}%, max {100 * bt['max_abs_rel_error']:.2f}%, "
            f"{100 * bt['coverage']:.0f}% inside the {100 * bt['level']:g}% intervals"
        )
    warnings = [d for d in nb["diagnostics"] if d["severity"] == "warning"]
    for d in warnings:
        print(f"diagnostic (approach {d['approach']}): {d['code']}: {d['message']}")
    print(
        "\nThese are models of a few thousand parameters trained on a few million bytes of "
        "Shakespeare: the exponents describe that regime, not large language models."
    )
    print(
        f"\nreport: {_shown(result.html)}  ({len(result.figures)} figures, numbers in "
        f"{result.json.name}; {time.perf_counter() - t0:.1f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="train the demo sweep first")
    parser.add_argument("--out", default="out/demo", help="report folder (default out/demo)")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates")
    args = parser.parse_args(argv)
    if args.bootstrap < 0:
        parser.error("--bootstrap must be 0 or more")
    t0 = time.perf_counter()
    out = (ROOT / args.out).resolve() if not Path(args.out).is_absolute() else Path(args.out)
    calculator()
    source = COMMITTED_SWEEP
    if args.sweep:
        source = ROOT / "out" / "demo-sweep"
        run_sweep(source)
    fit_sweep(source, out, args.bootstrap)
    print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
