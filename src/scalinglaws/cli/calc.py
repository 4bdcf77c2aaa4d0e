"""Commands 'allocate', 'predict', 'presets' and 'compare': the published laws as a calculator.

A thin layer over :mod:`scalinglaws.allocate` and :mod:`scalinglaws.presets`: parse the flags
(naming the flag in every error), call the API, print a table with the paper cited under it, or
``--json`` for scripts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from scalinglaws.cli.output import emit_json, print_table
from scalinglaws.errors import (
    DataError,
    DomainError,
    QuantityError,
    ScalingLawsError,
    UnknownNameError,
    did_you_mean,
)
from scalinglaws.units import format_flops, format_quantity, parse_quantities, parse_quantity

_DEFAULT_LAW = "hoffmann2022"


# ============================================================================ formatting
def _q(x: float) -> str:
    """70B, 1.4T; a dash for NaN."""
    return format_quantity(x) if math.isfinite(x) else "—"


def _c(x: float) -> str:
    return format_flops(x) if math.isfinite(x) else "—"


def _l(x: float) -> str:
    return f"{x:.4f}" if math.isfinite(x) else "—"


def _r(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else "—"


def _pct(x: float | None) -> str:
    return "" if x is None or not math.isfinite(x) else f"{100 * x:+.2f}%"


def _json_num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


# ============================================================================ the law flags
@dataclass
class _Source:
    """What --law or --fit selected: a preset or a fitted law, with words for the caption."""

    target: Any  # a Preset, or a Fit
    label: str
    caption: str
    n_counts: str


def _source(law: str | None, fit: str | None) -> _Source:
    from scalinglaws.presets import PRESETS

    if law is not None and fit is not None:
        raise DataError("give --law or --fit, not both")
    if fit is not None:
        fitted = _load_fit(fit)
        return _Source(
            target=fitted,
            label=f"fit {fit}",
            caption=f"Fitted law from {fit} (approach {fitted.approach}): "
            f"{fitted.law.formula or fitted.law.name}; N counts what your runs' N column counts.",
            n_counts="as in your runs",
        )
    name = (law if law is not None else _DEFAULT_LAW).strip().lower()
    if name not in PRESETS:
        raise UnknownNameError(
            f"unknown preset '{law}' for --law" + did_you_mean(name, list(PRESETS))
        )
    preset = PRESETS[name]
    return _Source(
        target=preset,
        label=preset.name,
        caption=f"{preset.citation}.  N counts {preset.n_counts} parameters.",
        n_counts=preset.n_counts,
    )


def _load_fit(path: str) -> Any:
    from scalinglaws.fit.result import Fit

    try:
        return Fit.from_json(path)
    except ScalingLawsError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"--fit {path} is not a complete scalinglaws fit ({type(exc).__name__}: {exc}); "
            "write one with Fit.to_json() or 'scalinglaws fit RUNS --json FIT.json'"
        ) from None


def _k(text: str) -> float:
    return parse_quantity(text, "--flops-per-token")


def _list(text: str | None, flag: str) -> np.ndarray | None:
    return None if text is None else np.array(parse_quantities(text, flag), dtype=float)


def _law_options(fn: Any) -> Any:
    options = [
        click.option(
            "--law",
            default=None,
            help=f"Preset name (see 'scalinglaws presets list'; default {_DEFAULT_LAW}).",
        ),
        click.option(
            "--fit",
            "fit_path",
            default=None,
            metavar="FIT.json",
            help="A fit saved by Fit.to_json() / 'scalinglaws fit', instead of a preset.",
        ),
        click.option(
            "--flops-per-token",
            default="6",
            show_default=True,
            help="k in C = k·N·D (6 is Kaplan's and Hoffmann's 6ND).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


# ============================================================================ allocate
def _allocate(
    compute: str | None,
    params: str | None,
    loss: str | None,
    law: str | None,
    fit_path: str | None,
    flops_per_token: str,
    as_json: bool,
    level_text: str | None = None,
) -> None:
    from scalinglaws.allocate import allocate, allocate_for_params, compute_for_loss
    from scalinglaws.presets import Preset

    flags = (("--compute", compute), ("--params", params), ("--loss", loss))
    given = [f for f, v in flags if v is not None]
    if len(given) != 1:
        raise DataError(
            "allocate needs exactly one of --compute (budgets), --params (model sizes) or "
            f"--loss (target losses), got {', '.join(given) if given else 'none'}"
        )
    level = _level_flag(level_text, fit_path)
    if level is not None and compute is None:
        raise DataError("--level goes with --compute (intervals of N*, D*, L* at a budget)")
    src = _source(law, fit_path)
    k = _k(flops_per_token)
    band = None
    if compute is not None:
        values, question = _list(compute, "--compute"), "budget"
        result = allocate(src.target, C=values, flops_per_token=k)
        if not isinstance(src.target, Preset):
            band = _allocation_band(src.target, values, k, level)
    elif params is not None:
        values, question = _list(params, "--params"), "model size"
        result = allocate_for_params(src.target, N=values, flops_per_token=k)
    else:
        values, question = _list(loss, "--loss"), "target loss"
        result = compute_for_loss(src.target, L=values, flops_per_token=k)
    rows = [
        {
            "C": float(result.C[i]),
            "N": float(result.N[i]),
            "D": float(result.D[i]),
            "tokens_per_param": float(result.tokens_per_param[i]),
            "L": float(result.L[i]),
        }
        for i in range(len(values))
    ]
    if band is not None:
        for i, r in enumerate(rows):
            if "N_opt" in band:  # an automatic fit: its own optimum, with its intervals
                r.update(N=float(band["N_opt"][i]), D=float(band["D_opt"][i]))
                r.update(L=float(band["L_opt"][i]), tokens_per_param=r["D"] / r["N"])
            for x in ("N", "D", "L"):
                r[f"{x}_low"] = float(band[f"{x}_opt_low"][i])
                r[f"{x}_high"] = float(band[f"{x}_opt_high"][i])
    beyond = _beyond(src.target, np.array([r["C"] for r in rows]))
    if beyond is not None:
        for r, f in zip(rows, beyond["factor"], strict=True):
            r["beyond_data"] = float(f)
    if as_json:
        out = {
            "source": src.label,
            "question": question,
            "method": result.method,
            "flops_per_token": k,
            "n_counts": src.n_counts,
            "rows": [{key: _json_num(v) for key, v in r.items()} for r in rows],
        }
        if band is not None:
            out |= {"level": band["level"], "interval": band["words"]}
        if beyond is not None:
            out |= {"beyond_data": beyond["words"]}
        emit_json(out)
        return
    no_loss = any(not math.isfinite(r["L"]) for r in rows)
    caption = src.caption + f"  Method: {result.method}; C = {k:g}·N·D."
    if beyond is not None:
        caption += (
            "  Beyond data: "
            + ", ".join(f"{_c(r['C'])} is {_factor(r['beyond_data'])}" for r in rows)
            + f" ({beyond['words']})."
        )
    if no_loss:
        caption += "  L* — : the source publishes no loss law."
    heads = ["C (FLOPs)", "N* (params)", "D* (tokens)", "tokens/param", "L* (nats/token)"]
    table = [
        [_c(r["C"]), _q(r["N"]), _q(r["D"]), _r(r["tokens_per_param"]), _l(r["L"])] for r in rows
    ]
    if band is not None:
        pct = f"{100 * band['level']:g}%"
        heads = [heads[0], "N*", f"N* {pct}", "D*", f"D* {pct}", "tokens/param", "L*", f"L* {pct}"]
        table = [
            [
                _c(r["C"]),
                _q(r["N"]),
                f"{_q(r['N_low'])}–{_q(r['N_high'])}",
                _q(r["D"]),
                f"{_q(r['D_low'])}–{_q(r['D_high'])}",
                _r(r["tokens_per_param"]),
                _l(r["L"]),
                f"{_l(r['L_low'])}–{_l(r['L_high'])}",
            ]
            for r in rows
        ]
        caption += f"  Intervals: {band['words']}."
    print_table(
        table,
        heads,
        title=f"Compute-optimal allocation by {question} — {src.label}",
        caption=caption,
    )


# ============================================================================ predict
def _level_flag(level_text: str | None, fit_path: str | None) -> float | None:
    """--level: a number in (0, 1), and only with --fit (a preset carries no intervals)."""
    if level_text is None:
        return None
    try:
        level = float(level_text)
    except ValueError:
        level = math.nan
    if not 0 < level < 1:
        raise DataError(f"--level must be a number between 0 and 1 (e.g. 0.8), got {level_text!r}")
    if fit_path is None:
        raise DataError(
            "--level applies to a saved fit with intervals (--fit FIT.json), not to a "
            "preset; drop --level or give --fit"
        )
    return level


def _percentile_interval(draws: list[np.ndarray], level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval at ``level`` of replicate draws (one array per
    replicate), per column, NaN draws ignored."""
    tail = 50 * (1 - level)
    low, high = np.nanpercentile(np.array(draws), [tail, 100 - tail], axis=0)
    return np.atleast_1d(low), np.atleast_1d(high)


def _allocation_band(
    fit: Any, C: np.ndarray, k: float, level: float | None
) -> dict[str, Any] | None:
    """Intervals of N*, D*, L* at budgets ``C`` from a saved fit: an automatic fit's own
    (:meth:`~scalinglaws.fit.auto.AutoFitResult.optimum`: the candidates' replicate optima,
    and L* with the out-of-sample error), or the percentile intervals of a bootstrapped L(N, D)
    fit's replicate allocations (parameter uncertainty only).  None when the fit has neither."""
    from scalinglaws.allocate import allocate

    if fit.approach == "auto":
        from scalinglaws.fit.auto import AutoFitResult

        auto = AutoFitResult.from_fit(fit)
        lev = auto.level if level is None else level
        opts = [auto.optimum(float(c), lev) for c in C]
        band = {key: np.array([o[key] for o in opts]) for key in opts[0] if key != "level"}
        band |= {
            "level": lev,
            "words": "the candidates' bootstrap optima, and for L* the nested backtest's "
            "out-of-sample error, widened with the distance beyond the data",
        }
        return band
    if tuple(sorted(fit.law.variables)) != ("D", "N"):
        return None
    reps = fit.replicate_laws()
    if not reps:
        return None
    lev = fit.level if level is None else level
    draws = {"N_opt": [], "D_opt": [], "L_opt": []}
    for rep in reps:
        try:
            with np.errstate(all="ignore"):
                a = allocate(rep, C=C, flops_per_token=k)
        except (ScalingLawsError, ValueError, ArithmeticError):
            continue
        draws["N_opt"].append(np.asarray(a.N, float))
        draws["D_opt"].append(np.asarray(a.D, float))
        draws["L_opt"].append(np.asarray(a.L, float))
    if not draws["N_opt"]:
        return None
    band: dict[str, Any] = {}
    for key, values in draws.items():
        band[f"{key}_low"], band[f"{key}_high"] = _percentile_interval(values, lev)
    band |= {
        "level": lev,
        "words": f"the {len(draws['N_opt'])} bootstrap replicates' allocations (parameter "
        "uncertainty only; 'scalinglaws fit --approach auto' gives intervals calibrated for "
        "extrapolation)",
    }
    return band


def _broadcast(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    sizes = {len(v) for v in values.values()}
    n = max(sizes)
    if sizes - {1, n}:
        listing = ", ".join(f"{_FLAGS[k]} has {len(v)}" for k, v in values.items())
        raise QuantityError(f"the value lists must have the same length or length 1 ({listing})")
    return {k: np.broadcast_to(v, (n,)).astype(float) for k, v in values.items()}


_FLAGS = {"N": "--params", "D": "--tokens", "C": "--compute", "S": "--steps"}


def _predict(
    params: str | None,
    tokens: str | None,
    compute: str | None,
    steps: str | None,
    law: str | None,
    fit_path: str | None,
    flops_per_token: str,
    as_json: bool,
    level_text: str | None = None,
) -> None:
    from scalinglaws.allocate import allocate
    from scalinglaws.presets import Preset

    level = _level_flag(level_text, fit_path)
    raw = {"N": params, "D": tokens, "C": compute, "S": steps}
    given = {key: _list(text, _FLAGS[key]) for key, text in raw.items() if text is not None}
    if not given:
        raise DataError(
            "predict needs --params and --tokens, two of --params/--tokens/--compute, "
            "--compute alone (the loss at the compute-optimal allocation), or --params with "
            "--steps (Kaplan's L(N, S))"
        )
    if "S" in given and ("C" in given or "D" in given):
        raise DataError("--steps goes with --params only (Kaplan's L(N, S))")
    if {"N", "D", "C"} <= set(given):
        raise DataError("give two of --params, --tokens and --compute, not all three")
    v = _broadcast(given)
    src = _source(law, fit_path)
    k = _k(flops_per_token)
    if "C" in v and "N" in v:
        v["D"] = v["C"] / (k * v["N"])
    elif "C" in v and "D" in v:
        v["N"] = v["C"] / (k * v["D"])
    elif "N" in v and "D" in v:
        v["C"] = k * v["N"] * v["D"]
    variables = tuple(x for x in ("N", "D", "S") if x in v) or ("C",)

    note = ""
    fitted_law = None if isinstance(src.target, Preset) else src.target.law
    if isinstance(src.target, Preset):
        try:
            chosen = src.target.law_for(variables)
        except UnknownNameError:
            if variables != ("C",):
                raise
            chosen = None
    else:
        chosen = (
            fitted_law if tuple(sorted(fitted_law.variables)) == tuple(sorted(variables)) else None
        )
    if chosen is not None:
        L = np.asarray(chosen(**{x: v[x] for x in chosen.variables}), dtype=float)
        formula = chosen.formula
    elif variables == ("C",):
        a = allocate(src.target, C=v["C"], flops_per_token=k)
        if not np.all(np.isfinite(a.L)):
            raise DomainError(
                f"{src.label} publishes no loss law, so it cannot predict a loss; use a "
                "preset with one such as 'hoffmann2022' or 'kaplan2020'"
            )
        v["N"], v["D"], L = np.asarray(a.N), np.asarray(a.D), np.asarray(a.L)
        formula = "loss at the compute-optimal allocation"
        note = f"  N and D are the compute-optimal allocation ({a.method})."
    else:
        takes = ", ".join(fitted_law.variables) if fitted_law is not None else ""
        raise DataError(
            f"the fitted law '{fitted_law.name}' takes ({takes}); give "
            + " and ".join(_FLAGS[x] for x in fitted_law.variables)
        )
    band = None
    if not isinstance(src.target, Preset):
        band = _fit_band(src.target, v, variables, chosen, k, level)
        if band is None and level is not None:
            raise DataError(
                f"--level needs a fit with intervals, but {fit_path} has no bootstrap replicates "
                "and is not from --approach auto; refit with --bootstrap 200 (or --approach "
                "auto), or drop --level"
            )
        if band is not None and band.get("N") is not None:  # auto: its own optimum
            v["N"], v["D"], L = band["N"], band["D"], band["L"]
    cols = [x for x in ("C", "N", "D", "S") if x in v]
    rows = [{x: float(v[x][i]) for x in cols} | {"L": float(L[i])} for i in range(len(L))]
    if band is not None:
        for i, r in enumerate(rows):
            r["L_low"], r["L_high"] = float(band["low"][i]), float(band["high"][i])
    beyond = _beyond(src.target, v.get("C"), v.get("N") if "C" not in given else None, v.get("D"))
    if beyond is not None:
        for r, f in zip(rows, beyond["factor"], strict=True):
            r["beyond_data"] = float(f)
    if as_json:
        out = {
            "source": src.label,
            "law": formula,
            "flops_per_token": k,
            "n_counts": src.n_counts,
            "rows": [{key: _json_num(val) for key, val in r.items()} for r in rows],
        }
        if band is not None:
            out |= {"level": band["level"], "interval": band["words"]}
        if beyond is not None:
            out |= {"beyond_data": beyond["words"]}
        emit_json(out)
        return
    heads = {"C": "C (FLOPs)", "N": "N (params)", "D": "D (tokens)", "S": "S (steps)"}
    fmt = {"C": _c, "N": _q, "D": _q, "S": _q}
    extra_heads = [] if band is None else [f"{100 * band['level']:g}% interval"]
    if beyond is not None:
        extra_heads.append("beyond data")
    print_table(
        [
            [fmt[x](r[x]) for x in cols]
            + [_l(r["L"])]
            + ([] if band is None else [f"[{_l(r['L_low'])}, {_l(r['L_high'])}]"])
            + ([] if beyond is None else [_factor(r["beyond_data"])])
            for r in rows
        ],
        [heads[x] for x in cols] + ["L (nats/token)"] + extra_heads,
        title=f"Predicted loss — {src.label}: {formula}",
        caption=src.caption
        + note
        + (f"  C = {k:g}·N·D." if "C" in cols else "")
        + ("" if band is None else f"  Interval: {band['words']}.")
        + ("" if beyond is None else f"  Beyond data: {beyond['words']}."),
    )


def _factor(f: float) -> str:
    """A request's C over the data's largest C, as a reader wants it: 'inside' or '17.2x'."""
    return "inside" if f <= 1 + 1e-9 else f"{f:.3g}x"


def _beyond(
    target: Any, C: np.ndarray | None, N: np.ndarray | None = None, D: np.ndarray | None = None
) -> dict[str, Any] | None:
    """How far beyond a saved fit's data each request lies: C / C_max per row and a sentence
    (for an automatic fit, how far its nested backtest checked).  A request given as (N, D)
    to an automatic fit is placed by the fit's own C = k·N·D, as its weights and intervals
    are.  None for a preset, a request without C, or a fit that did not record its data's
    range."""
    from scalinglaws.fit.result import Fit

    if C is None or not isinstance(target, Fit):
        return None
    own_k = None
    if target.approach == "auto" and N is not None and D is not None:
        own_k = float(getattr(target.law, "k", 6.0))
        C = own_k * np.asarray(N) * np.asarray(D)
    factor = target.beyond_data(C)
    if factor is None:
        return None
    c_max = float(target.extra["data_range"]["C"][1])
    words = f"C over the largest C of the fit's runs ({c_max:.3g} FLOPs)"
    if own_k is not None:
        words += f", C = {own_k:.4g}·N·D as in those runs"
    if target.approach == "auto":
        from scalinglaws.fit.auto import AutoFitResult

        reach = AutoFitResult.from_fit(target).nested.reach
        if math.isfinite(reach):
            checked = math.exp(reach)
            words += f"; its nested backtest checked extrapolation up to {checked:.3g}x"
            if float(np.max(factor)) > checked:
                words += (
                    ", so the intervals of the rows beyond that extend its measured error "
                    "growth (a + b*d^2) rather than measure it"
                )
        else:
            words += "; its nested backtest checked no extrapolation"
    elif float(np.max(factor)) > 1:
        words += "; nothing in this fit measured its error that far out (fit --approach auto does)"
    return {"factor": np.atleast_1d(np.asarray(factor, dtype=float)), "words": words}


def _fit_band(
    fit: Any,
    v: dict[str, np.ndarray],
    variables: tuple[str, ...],
    chosen: Any,
    k: float,
    level: float | None,
) -> dict[str, Any] | None:
    """Intervals for the predicted losses of a saved fit: for an automatic fit
    (``--approach auto``), its prediction intervals calibrated for extrapolation (and, for
    --compute alone, its own compute-optimal N*, D*); for a bootstrapped fit, the percentile
    interval of the replicate laws' predictions (parameter uncertainty only).  None when the
    fit carries no bootstrap."""
    from scalinglaws.allocate import allocate

    if fit.approach == "auto":
        from scalinglaws.fit.auto import AutoFitResult

        auto = AutoFitResult.from_fit(fit)
        lev = auto.level if level is None else level
        words = (
            "bootstrap replicates combined with the nested backtest's out-of-sample errors, "
            "widened with the distance beyond the data"
        )
        if variables == ("C",):
            opts = [auto.optimum(float(c), lev) for c in v["C"]]
            return {
                "N": np.array([o["N_opt"] for o in opts]),
                "D": np.array([o["D_opt"] for o in opts]),
                "L": np.array([o["L_opt"] for o in opts]),
                "low": np.array([o["L_opt_low"] for o in opts]),
                "high": np.array([o["L_opt_high"] for o in opts]),
                "level": lev,
                "words": words,
            }
        if set(variables) != {"N", "D"}:
            return None
        pred = auto.predict_interval(v["N"], v["D"], lev)
        return {
            "low": np.atleast_1d(pred.low),
            "high": np.atleast_1d(pred.high),
            "level": lev,
            "words": words,
        }
    reps = fit.replicate_laws()
    if not reps:
        return None
    lev = fit.level if level is None else level
    draws = []
    for rep in reps:
        with np.errstate(all="ignore"):
            if chosen is not None:
                draws.append(np.asarray(rep(**{x: v[x] for x in rep.variables}), dtype=float))
            else:
                draws.append(np.asarray(allocate(rep, C=v["C"], flops_per_token=k).L, float))
    low, high = _percentile_interval(draws, lev)
    return {
        "low": low,
        "high": high,
        "level": lev,
        "words": (
            f"the {len(reps)} bootstrap replicates' predictions (parameter uncertainty only, not "
            "out-of-sample error; 'scalinglaws fit --approach auto' gives intervals calibrated "
            "for extrapolation)"
        ),
    }


# ============================================================================ presets
def _presets_list(as_json: bool) -> None:
    from scalinglaws.presets import PRESETS

    if as_json:
        emit_json([p.to_dict() for p in PRESETS.values()])
        return
    print_table(
        [
            [p.name, p.citation.short, p.n_counts, _law_words(p), _rule_words(p)]
            for p in PRESETS.values()
        ],
        ["preset", "source", "N counts", "loss law", "allocation"],
        title="Published scaling-law presets",
        caption="Details, constants, citations and the paper's own projections recomputed: "
        "'scalinglaws presets show NAME'.",
    )


def _law_words(p: Any) -> str:
    if p.law is None:
        return "none published"
    return ", ".join(p.laws) if p.laws else p.law.name


def _rule_words(p: Any) -> str:
    if p.rule is None:
        return "minimise L(N, D) along C = 6ND"
    return "rule " + p.rule.formula


def _presets_show(name: str, as_json: bool) -> None:
    from scalinglaws.presets import PRESETS

    key = name.strip().lower()
    if key not in PRESETS:
        raise UnknownNameError(f"unknown preset '{name}'" + did_you_mean(key, list(PRESETS)))
    p = PRESETS[key]
    reproduction = p.reproduce()
    if as_json:
        emit_json(p.to_dict() | {"reproduction": reproduction})
        return
    cite = str(p.citation)
    click.echo(f"{p.name}: {p.title}")
    click.echo(f"{cite}\nauthors: {p.citation.authors}\nN counts {p.n_counts} parameters.")
    click.echo(f"allocation: {p.allocation_method}")
    laws = dict(p.laws) or ({"L(N, D)": p.law} if p.law is not None else {})
    rows = [[label, law.formula, _consts(law.params, p.stderr)] for label, law in laws.items()]
    if p.rule is not None:
        rows.append(["allocation rule", p.rule.formula, ""])
    if p.constants:
        rows.append(["other constants", "", _consts(dict(p.constants), {})])
    print_table(
        rows, ["law", "formula", "constants (± standard error)"], title="Laws", caption=cite
    )
    if reproduction:
        print_table(
            [
                [
                    r["source"],
                    _c(r["paper_C"]) if r["paper_C"] else "—",
                    _c(r["C"]),
                    "given" if r["given"] == "C" else _pct(r.get("err_C")),
                    format_quantity(r["paper_N"], digits=4) if r["paper_N"] else "—",
                    _q(r["N"]),
                    "given" if r["given"] == "N" else _pct(r.get("err_N")),
                    format_quantity(r["paper_D"], digits=4) if r["paper_D"] else "—",
                    _q(r["D"]),
                    _pct(r.get("err_D")),
                ]
                for r in reproduction
            ],
            [
                "source",
                "C paper",
                "C ours",
                "err",
                "N paper",
                "N ours",
                "err",
                "D paper",
                "D ours",
                "err",
            ],
            title="The paper's projections, recomputed with this preset (C = 6·N·D)",
            caption=cite,
        )
    if p.notes:
        click.echo("notes:")
        for n in p.notes:
            click.echo(f"  - {n}")


def _consts(params: dict[str, float], stderr: Any) -> str:
    parts = []
    for key, value in params.items():
        se = stderr.get(key)
        parts.append(f"{key} = {value:.6g}" + (f" ± {se:g}" if se is not None else ""))
    return ", ".join(parts)


# ============================================================================ compare
def _compare(compute: str, flops_per_token: str, as_json: bool) -> None:
    from scalinglaws.allocate import allocate
    from scalinglaws.presets import PRESETS

    budgets = _list(compute, "--compute")
    k = _k(flops_per_token)
    rows = []
    for C in budgets:
        for p in PRESETS.values():
            a = allocate(p, C=float(C), flops_per_token=k)
            rows.append(
                {
                    "C": float(C),
                    "preset": p.name,
                    "N": float(a.N),
                    "D": float(a.D),
                    "tokens_per_param": float(a.tokens_per_param),
                    "L": float(a.L),
                    "n_counts": p.n_counts,
                    "method": a.method,
                    "citation": str(p.citation),
                }
            )
    if as_json:
        emit_json(
            {
                "flops_per_token": k,
                "rows": [
                    {key: (_json_num(v) if isinstance(v, float) else v) for key, v in r.items()}
                    for r in rows
                ],
            }
        )
        return
    sources = []
    for p in PRESETS.values():
        if str(p.citation) not in sources:
            sources.append(str(p.citation))
    print_table(
        [
            [
                r["preset"],
                _c(r["C"]),
                _q(r["N"]),
                _q(r["D"]),
                _r(r["tokens_per_param"]),
                _l(r["L"]),
                r["n_counts"],
            ]
            for r in rows
        ],
        ["preset", "C (FLOPs)", "N*", "D*", "tokens/param", "L*", "N counts"],
        title="Every preset at the same budget",
        caption="Sources: " + "; ".join(sources) + f".  C = {k:g}·N·D where a rule leaves N or "
        "D open.  Losses are not comparable across papers (different data and tokenizers); "
        "Kaplan's N excludes embeddings; L* — : no published loss law.",
    )


# ============================================================================ registration
def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""

    @group.command("allocate")
    @click.option("--compute", default=None, help="Budget(s) in FLOPs: 5.76e23, '1e22,1e24'.")
    @click.option(
        "--params", default=None, help="Model size(s): the budget for which each is optimal."
    )
    @click.option("--loss", default=None, help="Target loss(es): the least compute reaching it.")
    @click.option(
        "--level",
        default=None,
        help="With --fit and --compute: interval level for N*, D*, L* (default: the fit's own).",
    )
    @_law_options
    def allocate_command(
        compute: str | None,
        params: str | None,
        loss: str | None,
        level: str | None,
        law: str | None,
        fit_path: str | None,
        flops_per_token: str,
        as_json: bool,
    ) -> None:
        """Compute-optimal N*, D*, L* for a budget (or the budget for a size or a loss).

        \b
        scalinglaws allocate --compute 5.76e23 --law hoffmann2022
        scalinglaws allocate --params 70B
        scalinglaws allocate --loss 2.0 --law besiroglu2024
        scalinglaws allocate --compute 1e24 --fit fit.json
        """
        _allocate(compute, params, loss, law, fit_path, flops_per_token, as_json, level)

    @group.command("predict")
    @click.option("--params", default=None, help="Parameters N: 70B, '1B,7B'.")
    @click.option("--tokens", default=None, help="Training tokens D: 1.4T.")
    @click.option("--compute", default=None, help="Training FLOPs C: 1e24.")
    @click.option("--steps", default=None, help="Minimum steps S_min (Kaplan's L(N, S)).")
    @click.option(
        "--level",
        default=None,
        help="Interval level for a fit saved with a bootstrap or by --approach auto "
        "(default: the fit's own).",
    )
    @_law_options
    def predict_command(
        params: str | None,
        tokens: str | None,
        compute: str | None,
        steps: str | None,
        level: str | None,
        law: str | None,
        fit_path: str | None,
        flops_per_token: str,
        as_json: bool,
    ) -> None:
        """Predicted loss of a model size and data size (or a budget) under a law.

        \b
        scalinglaws predict --params 70B --tokens 1.4T --law hoffmann2022
        scalinglaws predict --params 1B --law kaplan2020          # Kaplan's L(N)
        scalinglaws predict --fit fit.json --compute 1e24
        """
        _predict(params, tokens, compute, steps, law, fit_path, flops_per_token, as_json, level)

    @group.group("presets")
    def presets_group() -> None:
        """The published constants: list them, or show one with its citation and checks."""

    @presets_group.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def presets_list(as_json: bool) -> None:
        """Every preset with its source."""
        _presets_list(as_json)

    @presets_group.command("show")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
    def presets_show(name: str, as_json: bool) -> None:
        """One preset: laws, constants, allocation, the paper's projections recomputed, notes."""
        _presets_show(name, as_json)

    @group.command("compare")
    @click.option("--compute", required=True, help="Budget(s) in FLOPs: 1e24 or '1e22,1e24'.")
    @click.option(
        "--flops-per-token",
        default="6",
        show_default=True,
        help="k in C = k·N·D where a rule leaves N or D open.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def compare_command(compute: str, flops_per_token: str, as_json: bool) -> None:
        """Every preset side by side at the same budget: N*, D*, tokens/param, L*."""
        _compare(compute, flops_per_token, as_json)
