"""Commands 'allocate', 'predict', 'presets' and 'compare': the published laws as a calculator.

A thin layer over :mod:`scalinglaws.allocation`, :mod:`scalinglaws.presets` and
:mod:`scalinglaws.fit.questions` (whose :func:`~scalinglaws.fit.questions.allocation_answers`
and :func:`~scalinglaws.fit.questions.prediction_answers` compute the rows, their intervals and
how far beyond a fit's data each lies): parse the flags (naming the flag in every error), call
the API, print a table with the paper cited under it, or ``--json`` for scripts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from scalinglaws.cli.output import echo_wrapped, emit_json, print_table
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

#: The preset that answers each allocation question when neither --law nor --fit is given.  A
#: model size is answered by the rule through Hoffmann et al. 2022's Table 3 (Approach 1),
#: the projections a reader checks that question against (70B -> 1.46T tokens); a budget
#: and a target loss by the Approach 3 law as printed, which has the loss law that a loss
#: needs and that L* comes from (a rule publishes none).
_ALLOCATE_DEFAULTS = {"C": "hoffmann2022", "N": "hoffmann2022-approach1", "L": "hoffmann2022"}


# ============================================================================ formatting
def _q(x: float) -> str:
    """70B, 1.4T; a dash for NaN."""
    return format_quantity(x) if math.isfinite(x) else "—"


def _c(x: float) -> str:
    return format_flops(x) if math.isfinite(x) else "—"


def _l(x: float) -> str:
    return f"{x:.4f}" if math.isfinite(x) else "—"


def _r(x: float) -> str:
    """A ratio: 3 significant digits, whole with thousands separators from 1,000 (1,875)."""
    if not math.isfinite(x):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


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
    what: str = ""  # what answers, in a few words: "hoffmann2022 (Hoffmann et al. 2022, ...)"
    citation: str | None = None  # the preset's citation, short form ("Hoffmann et al. 2022")


def _source(law: str | None, fit: str | None, default: str = _DEFAULT_LAW) -> _Source:
    """The preset named by ``law`` (``default`` when neither ``law`` nor ``fit`` is given),
    or the fit saved at ``fit``."""
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
            what=f"fit {fit} (approach {fitted.approach}, law {fitted.law.name})",
        )
    name = (law if law is not None else default).strip().lower()
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
        what=f"{preset.name} ({preset.citation.short}, {_preset_words(preset)})",
        citation=preset.citation.short,
    )


def _preset_words(preset: Any) -> str:
    """What a preset is, from its title without the citation that leads it:
    "Approach 1: N* = k·C^a through Table 3" for hoffmann2022-approach1."""
    title = preset.title
    cuts = [title.find(sep) + len(sep) for sep in ("), ", ": ") if sep in title]
    return title[min(cuts) :] if cuts else title


def _load_fit(path: str) -> Any:
    from scalinglaws.fit.result import Fit

    try:
        return Fit.from_json(path)
    except ScalingLawsError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"--fit {path} is not a complete scalinglaws fit ({type(exc).__name__}: {exc}); "
            "write one with Fit.to_json() or 'scalinglaws fit RUNS -o FIT.json'"
        ) from None


def _k(text: str) -> float:
    return parse_quantity(text, "--flops-per-token")


def _list(text: str | None, flag: str) -> np.ndarray | None:
    return None if text is None else np.array(parse_quantities(text, flag), dtype=float)


def _law_params(default: str = _DEFAULT_LAW) -> list[click.Parameter]:
    """--law (its help saying the ``default``), --fit, --flops-per-token and --json, shared by
    'allocate' and 'predict'."""
    return [
        click.Option(
            ["--law"],
            default=None,
            help=f"Preset name (see 'scalinglaws presets list'; default {default}).",
        ),
        click.Option(
            ["--fit", "fit_path"],
            default=None,
            metavar="FIT.json",
            help="A fit saved by Fit.to_json() / 'scalinglaws fit', instead of a preset.",
        ),
        click.Option(
            ["--flops-per-token"],
            default="6",
            show_default=True,
            help="k in C = k·N·D (6 is Kaplan's and Hoffmann's 6ND).",
        ),
        _json_flag("tables"),
    ]


def _json_flag(what: str) -> click.Option:
    return click.Option(["--json", "as_json"], is_flag=True, help=f"Print JSON instead of {what}.")


# ============================================================================ allocate
#: The allocation questions: the library's argument -> (flag, the question in words).
_QUESTIONS = {
    "C": ("--compute", "budget"),
    "N": ("--params", "model size"),
    "L": ("--loss", "target loss"),
}


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
    from scalinglaws.fit.questions import allocation_answers

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
    asked = dict(zip(_QUESTIONS, (compute, params, loss), strict=True))
    key = next(key for key, text in asked.items() if text is not None)
    flag, question = _QUESTIONS[key]
    src = _source(law, fit_path, default=_ALLOCATE_DEFAULTS[key])
    k = _k(flops_per_token)
    answers = allocation_answers(
        src.target, **{key: _list(asked[key], flag)}, flops_per_token=k, level=level
    )
    by_default = law is None and fit_path is None
    if as_json:
        head = {"citation": src.citation, "default_law": by_default}
        _emit_answers(answers, src, k, {"question": question, "method": answers.method} | head)
        return
    echo_wrapped(f"law: {src.what}" + (f", the default for {flag}" if by_default else ""), "  ")
    _print_allocation(answers, src, k, question)


def _print_allocation(answers: Any, src: _Source, k: float, question: str) -> None:
    """The allocation table, with interval columns when the fit gave intervals."""
    rows = answers.rows
    caption = src.caption + f"  Method: {answers.method}; C = {k:g}·N·D."
    if answers.beyond_data is not None:
        caption += (
            "  Beyond data: "
            + ", ".join(f"{_c(r['C'])} is {_factor(r['beyond_data'])}" for r in rows)
            + f" ({answers.beyond_data})."
        )
    if any(not math.isfinite(r["L"]) for r in rows):
        caption += "  L* — : the source publishes no loss law."
    heads = ["C (FLOPs)", "N* (params)", "D* (tokens)", "tokens/param", "L* (nats/token)"]
    table = [
        [_c(r["C"]), _q(r["N"]), _q(r["D"]), _r(r["tokens_per_param"]), _l(r["L"])] for r in rows
    ]
    optional: dict[int, str] = {}
    if answers.interval is not None:
        pct = f"{100 * answers.level:g}%"
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
        caption += f"  Intervals: {answers.interval}."
        optional = dict.fromkeys((5, 7), "the same command with --json")
    print_table(
        table,
        heads,
        title=f"Compute-optimal allocation by {question} — {src.label}",
        caption=caption,
        optional=optional,
    )


def _emit_answers(answers: Any, src: _Source, k: float, head: dict[str, Any]) -> None:
    """The answers as JSON: the source, ``head`` (what was asked and how it was answered),
    the rows, and the words about intervals and the data's range where there are some."""
    out = {
        "source": src.label,
        **head,
        "flops_per_token": k,
        "n_counts": src.n_counts,
        "rows": [{key: _json_num(v) for key, v in r.items()} for r in answers.rows],
    }
    if answers.interval is not None:
        out |= {"level": answers.level, "interval": answers.interval}
    if answers.beyond_data is not None:
        out |= {"beyond_data": answers.beyond_data}
    emit_json(out)


def _factor(f: float) -> str:
    """A request's C over the data's largest C, as a reader wants it: 'inside' or '17.2x'."""
    return "inside" if f <= 1 + 1e-9 else f"{f:.3g}x"


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


_FLAGS = {"N": "--params", "D": "--tokens", "C": "--compute", "S": "--steps"}


def _predict_request(
    params: str | None, tokens: str | None, compute: str | None, steps: str | None
) -> dict[str, np.ndarray]:
    """The flags of a prediction as the library's N, D, C, S, equally long."""
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
    sizes = {len(v) for v in given.values()}
    n = max(sizes)
    if sizes - {1, n}:
        listing = ", ".join(f"{_FLAGS[k]} has {len(v)}" for k, v in given.items())
        raise QuantityError(f"the value lists must have the same length or length 1 ({listing})")
    return {k: np.broadcast_to(v, (n,)).astype(float) for k, v in given.items()}


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
    from scalinglaws.fit.questions import MissingVariables, prediction_answers

    level = _level_flag(level_text, fit_path)
    request = _predict_request(params, tokens, compute, steps)
    src = _source(law, fit_path)
    k = _k(flops_per_token)
    try:
        answers = prediction_answers(src.target, **request, flops_per_token=k, level=level)
    except MissingVariables as exc:
        raise DataError(
            f"the fitted law '{exc.law_name}' takes ({', '.join(exc.variables)}); give "
            + " and ".join(_FLAGS[x] for x in exc.variables)
        ) from None
    if answers.interval is None and level is not None:
        raise DataError(
            f"--level needs a fit with intervals, but {fit_path} has no bootstrap replicates "
            "and is not from --approach auto; refit with --bootstrap 200 (or --approach "
            "auto), or drop --level"
        )
    if as_json:
        _emit_answers(answers, src, k, {"law": answers.method})
        return
    _print_prediction(answers, src, k)


def _print_prediction(answers: Any, src: _Source, k: float) -> None:
    """The prediction table: the requests, the loss, its interval and how far beyond the
    fit's data each lies, where the fit gives them."""
    cols = answers.columns
    heads = {"C": "C (FLOPs)", "N": "N (params)", "D": "D (tokens)", "S": "S (steps)"}
    fmt = {"C": _c, "N": _q, "D": _q, "S": _q}
    band, beyond = answers.interval is not None, answers.beyond_data is not None
    extra_heads = [f"{100 * answers.level:g}% interval"] if band else []
    if beyond:
        extra_heads.append("beyond data")
    caption = src.caption
    if answers.allocation is not None:
        caption += f"  N and D are the compute-optimal allocation ({answers.allocation})."
    caption += f"  C = {k:g}·N·D." if "C" in cols else ""
    caption += f"  Interval: {answers.interval}." if band else ""
    caption += f"  Beyond data: {answers.beyond_data}." if beyond else ""
    print_table(
        [
            [fmt[x](r[x]) for x in cols]
            + [_l(r["L"])]
            + ([f"[{_l(r['L_low'])}, {_l(r['L_high'])}]"] if band else [])
            + ([_factor(r["beyond_data"])] if beyond else [])
            for r in answers.rows
        ],
        [heads[x] for x in cols] + ["L (nats/token)"] + extra_heads,
        title=f"Predicted loss — {src.label}: {answers.method}",
        caption=caption,
    )


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
        optional={1: "'scalinglaws presets show NAME'"},
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
    for line in (
        f"{p.name}: {p.title}",
        cite,
        f"authors: {p.citation.authors}",
        f"N counts {p.n_counts} parameters.",
        f"allocation: {p.allocation_method}",
    ):
        echo_wrapped(line, indent="  ")
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
        _print_projections(p, reproduction, cite)
    if p.notes:
        click.echo("notes:")
        for n in p.notes:
            echo_wrapped(f"  - {n}", indent="    ")


def _print_projections(p: Any, reproduction: list[dict[str, Any]], cite: str) -> None:
    """The paper's projections recomputed: C, N, D (paper, ours, error), and U and L where
    the preset has rows with unique tokens or losses (Muennighoff et al.'s check vectors)."""
    with_u = any(r.get("U") for r in reproduction)
    with_l = any(r.get("paper_L") is not None for r in reproduction)

    def given(r: dict[str, Any], x: str, key: str) -> str:
        return "given" if x in r["given"] else _pct(r.get(key))

    heads = ["source"] + (["U"] if with_u else [])
    heads += ["C paper", "C ours", "err", "N paper", "N ours", "err", "D paper", "D ours", "err"]
    heads += ["L paper", "L ours", "err"] if with_l else []
    rows = []
    for r in reproduction:
        row = [r["source"]] + ([_q(r["U"]) if r.get("U") else "—"] if with_u else [])
        row += [
            _c(r["paper_C"]) if r["paper_C"] else "—",
            _c(r["C"]),
            "given" if r["given"] == "C" else _pct(r.get("err_C")),
            format_quantity(r["paper_N"], digits=4) if r["paper_N"] else "—",
            _q(r["N"]),
            given(r, "N", "err_N"),
            format_quantity(r["paper_D"], digits=4) if r["paper_D"] else "—",
            _q(r["D"]),
            given(r, "D", "err_D"),
        ]
        if with_l:
            paper_l = r.get("paper_L")
            row += [
                "—" if paper_l is None else f"{paper_l:g}",
                _l(r.get("L", math.nan)),
                _pct(r.get("err_L")) if paper_l is not None else "",
            ]
        rows.append(row)
    shift = 1 if with_u else 0
    drop = [7 + shift, 1 + shift, 4 + shift]  # D paper, C paper, N paper
    if with_l:  # L's error first; then C's error, U and C ours
        drop = [12 + shift, *drop, 3 + shift, *([1] if with_u else []), 2 + shift]
    print_table(
        rows,
        heads,
        title="The paper's projections, recomputed with this preset (C = 6·N·D)",
        caption=cite,
        keys=(),
        optional={i: f"'scalinglaws presets show {p.name} --json'" for i in drop},
    )


def _consts(params: dict[str, float], stderr: Any) -> str:
    parts = []
    for key, value in params.items():
        se = stderr.get(key)
        parts.append(f"{key} = {value:.6g}" + (f" ± {se:g}" if se is not None else ""))
    return ", ".join(parts)


# ============================================================================ compare
def _compare(
    compute: str,
    flops_per_token: str,
    as_json: bool,
    unique: str | None = None,
    inference: str | None = None,
    inference_k: str | None = None,
    cost_ratio: str | None = None,
) -> None:
    from scalinglaws.allocation import allocate
    from scalinglaws.presets import PRESETS

    if inference is None and (inference_k is not None or cost_ratio is not None):
        flag = (
            "--inference-flops-per-token" if inference_k is not None else "--inference-cost-ratio"
        )
        raise DataError(f"{flag} goes with --inference-tokens (the tokens the model will serve)")
    budgets = _list(compute, "--compute")
    k = _k(flops_per_token)
    U = None if unique is None else _list(unique, "--unique-tokens")
    T = None if inference is None else _inference_tokens(inference)
    for flag, values in (("--unique-tokens", U), ("--inference-tokens", T)):
        if values is not None and len(values) != 1:
            raise DataError(f"compare takes one value of {flag} (the same for every budget)")
    g, ratio = _inference_costs(inference_k, cost_ratio)
    rows = []
    for C in budgets:
        for p in PRESETS.values():
            a = allocate(p, C=float(C), flops_per_token=k)
            row: dict[str, Any] = {
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
            if U is not None:
                row["data_limited"] = _compare_data_limited(p, float(C), float(U[0]), k)
            if T is not None:
                row["inference_aware"] = _compare_inference(p, float(C), float(T[0]), k, g, ratio)
            rows.append(row)
    if as_json:
        head: dict[str, Any] = {"flops_per_token": k}
        if U is not None:
            head["unique_tokens"] = float(U[0])
        if T is not None:
            head |= {
                "inference_tokens": float(T[0]),
                "inference_flops_per_token": g,
                "inference_cost_ratio": ratio,
            }
        emit_json(head | {"rows": [_json_row(r) for r in rows]})
        return
    sources = []
    for p in PRESETS.values():
        if str(p.citation) not in sources:
            sources.append(str(p.citation))
    heads = ["preset", "C (FLOPs)", "N*", "D*", "tokens/param", "L*", "N counts"]
    table = [
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
    ]
    caption = (
        "Sources: " + "; ".join(sources) + f".  C = {k:g}·N·D where a rule leaves N or "
        "D open.  Losses are not comparable across papers (different data and tokenizers); "
        "Kaplan's N excludes embeddings; L* — : no published loss law."
    )
    optional = {6: "'scalinglaws presets list'"}
    also = "the same command with --json"
    if U is not None:
        heads += ["N* (U)", "D* (U)", "epochs", "L* (U)"]
        for line, r in zip(table, rows, strict=True):
            dl = r["data_limited"]
            line += (
                ["—"] * 4
                if dl is None
                else [_q(dl["N"]), _q(dl["D"]), f"{dl['epochs']:.3g}", _l(dl["L"])]
            )
        caption += (
            f"  (U): the optimum with {_q(float(U[0]))} unique tokens (Muennighoff et al. "
            "2023's data-constrained law); — : the preset publishes no data-constrained form "
            f"(only {', '.join(_data_presets())} does)."
        )
    if T is not None:
        start = len(heads)
        heads += ["N* (inf)", "D* (inf)", "saved"]
        for line, r in zip(table, rows, strict=True):
            ia = r["inference_aware"]
            line += (
                ["—"] * 3
                if ia is None
                else [_q(ia["N"]), _q(ia["D"]), f"{100 * ia['saving_fraction']:.1f}%"]
            )
        caption += (
            f"  (inf): the least total cost at L* with {_q(float(T[0]))} inference tokens "
            f"(Sardana et al. 2024; {g:g}·N FLOPs per inference token, costing {ratio:g}× a "
            "training FLOP); saved: the share of the compute-optimal model's total cost it "
            "saves; "
            "— : the preset publishes no loss law of (N, D)."
        )
    optional[4] = also
    if len(budgets) == 1:  # several budgets: C tells their rows apart
        optional[1] = also
    if T is not None:
        optional[start + 2] = also
    if U is not None:
        optional |= {9: also, 10: also}
    if U is not None or T is not None:
        optional |= {5: also, 3: also}
    print_table(
        table,
        heads,
        title="Every preset at the same budget",
        caption=caption,
        optional=optional,
    )


def _json_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (_json_num(v) if isinstance(v, float) else _pick(v, 0) if isinstance(v, dict) else v)
        for key, v in r.items()
    }


def _data_presets() -> list[str]:
    from scalinglaws.data_limited import data_constrained_presets

    return data_constrained_presets()


def _compare_data_limited(p: Any, C: float, U: float, k: float) -> dict[str, Any] | None:
    """The preset's data-limited optimum (None without a data-constrained law)."""
    from scalinglaws.data_limited import data_limited_allocation

    if p.name not in _data_presets():
        return None
    return data_limited_allocation(p, C, U, flops_per_token=k).to_dict()


def _compare_inference(
    p: Any, C: float, T: float, k: float, g: float, ratio: float
) -> dict[str, Any] | None:
    """The preset's inference-aware optimum at equal loss (None without an (N, D) loss law)."""
    from scalinglaws.inference import inference_aware_allocation

    if p.law is None or tuple(sorted(p.law.variables)) != ("D", "N"):
        return None
    a = inference_aware_allocation(
        p, C, T, train_flops_per_token=k, inference_flops_per_token=g, inference_cost_per_flop=ratio
    )
    return a.equal_loss.to_dict() | {
        "saving": float(a.saving),
        "saving_fraction": float(a.saving_fraction),
    }


# ======================================================================= beyond compute-optimal
#: The preset that answers each question beyond the compute-optimal one when neither --law nor
#: --fit is given: a data limit by the only preset with a data-constrained law (Muennighoff et
#: al. 2023); inference demand and over-training by the Approach 3 law as printed.
_BEYOND_DEFAULTS = {"data": "muennighoff2023", "inference": "hoffmann2022", "over": "hoffmann2022"}


def _inference_tokens(text: str) -> np.ndarray:
    """--inference-tokens: quantities >= 0 (0: no inference, the compute-optimal answer)."""
    values = []
    for item in (t.strip() for t in text.split(",")):
        if item.startswith("-"):
            raise DataError(
                f"--inference-tokens must be 0 or more (the tokens the model will serve, e.g. "
                f"'2T'), got {item!r}"
            )
        try:
            zero = float(item) == 0.0
        except ValueError:
            zero = False
        values.append(0.0 if zero else parse_quantity(item, "--inference-tokens"))
    return np.array(values, dtype=float)


def _pair(a: np.ndarray, b: np.ndarray, flags: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two value lists of the same length, or one of them of length 1."""
    if len(a) != len(b) and 1 not in (len(a), len(b)):
        raise QuantityError(
            f"the value lists must have the same length or length 1 ({flags[0]} has {len(a)}, "
            f"{flags[1]} has {len(b)})"
        )
    x, y = np.broadcast_arrays(a, b)
    return np.array(x, dtype=float), np.array(y, dtype=float)


def _pick(value: Any, i: int) -> Any:
    """Element ``i`` of a library record's ``to_dict()`` (lists for list input), recursively."""
    if isinstance(value, dict):
        return {k: _pick(v, i) for k, v in value.items()}
    if isinstance(value, list):
        return _pick(value[i], i) if value and not isinstance(value[0], list) else value
    if isinstance(value, float):
        return _json_num(value)
    return value


def _beyond_question(
    compute: str | None,
    params: str | None,
    loss: str | None,
    tokens: str | None,
    tokens_per_param: str | None,
    unique: str | None,
    inference: str | None,
    inference_k: str | None,
    cost_ratio: str | None,
) -> str | None:
    """Which question beyond the compute-optimal one the flags ask ("data", "inference",
    "over"), None for none; one sentence for a combination that asks none."""
    if inference is None:
        for flag, value in (
            ("--inference-flops-per-token", inference_k),
            ("--inference-cost-ratio", cost_ratio),
        ):
            if value is not None:
                raise DataError(
                    f"{flag} goes with --inference-tokens (the tokens the model will serve)"
                )
    extras = {
        "--unique-tokens": unique,
        "--inference-tokens": inference,
        "--tokens-per-param": tokens_per_param,
        "--tokens": tokens,
    }
    given = [flag for flag, value in extras.items() if value is not None]
    if not given:
        return None
    if len(given) > 1:
        raise DataError(
            f"{' and '.join(given)} ask different questions; give one of --unique-tokens (a "
            "data limit), --inference-tokens (inference demand), --tokens-per-param or --tokens "
            "(over-training); 'scalinglaws compare --compute C --unique-tokens U "
            "--inference-tokens T' shows the data-limited and inference-aware optima side by side"
        )
    flag = given[0]
    needs = {
        "--unique-tokens": (
            ("--compute",),
            "--unique-tokens goes with --compute (a budget and the unique "
            "tokens it may repeat), e.g. allocate --compute 1e22 --unique-tokens 25B",
        ),
        "--inference-tokens": (
            ("--loss", "--compute"),
            "--inference-tokens goes with --loss (the cheapest model "
            "to train and serve at that loss) or --compute (a training budget re-spent with "
            "inference in view)",
        ),
        "--tokens-per-param": (
            ("--compute",),
            "--tokens-per-param goes with --compute (the budget it divides "
            "between N and D), e.g. allocate --compute 1e22 --tokens-per-param 200",
        ),
        "--tokens": (
            ("--params",),
            "--tokens goes with --params (the model it trains), e.g. allocate "
            "--params 8B --tokens 15T",
        ),
    }
    allowed, sentence = needs[flag]
    asked = {"--compute": compute, "--params": params, "--loss": loss}
    present = [f for f, v in asked.items() if v is not None]
    if len(present) != 1 or present[0] not in allowed:
        raise DataError(sentence)
    if flag == "--unique-tokens":
        return "data"
    if flag == "--inference-tokens":
        return "inference"
    return "over"


def _beyond(
    question: str,
    compute: str | None,
    params: str | None,
    loss: str | None,
    tokens: str | None,
    tokens_per_param: str | None,
    unique: str | None,
    inference: str | None,
    inference_k: str | None,
    cost_ratio: str | None,
    law: str | None,
    fit_path: str | None,
    flops_per_token: str,
    as_json: bool,
    level_text: str | None,
) -> None:
    """allocate with --unique-tokens, --inference-tokens, --tokens-per-param or --tokens."""
    level = _level_flag(level_text, fit_path)
    if level is not None and question != "over":
        raise DataError(
            "--level gives intervals of the compute-optimal and over-training answers "
            "(--tokens-per-param, --tokens); the data-limited and inference-aware answers "
            "have none: drop --level"
        )
    src = _source(law, fit_path, default=_BEYOND_DEFAULTS[question])
    k = _k(flops_per_token)
    by_default = law is None and fit_path is None
    if question == "data":
        flag = "--unique-tokens"
        record, head = _data_limited(src, compute, unique, k)
    elif question == "inference":
        flag = "--inference-tokens"
        with _loss_law_needed(flag):
            record, head = _inference(src, compute, loss, inference, inference_k, cost_ratio, k)
    else:
        flag = "--params with --tokens" if params is not None else "--tokens-per-param"
        with _loss_law_needed("--tokens" if params is not None else "--tokens-per-param"):
            record, head = _overtraining(src, compute, params, tokens, tokens_per_param, k, level)
    if as_json:
        emit_json(
            {"source": src.label, "citation": src.citation, "default_law": by_default}
            | head
            | {"flops_per_token": k, "n_counts": src.n_counts}
            | {"rows": record["rows"]}
        )
        return
    echo_wrapped(f"law: {src.what}" + (f", the default for {flag}" if by_default else ""), "  ")
    record["print"]()


@contextmanager
def _loss_law_needed(flag: str) -> Iterator[None]:
    """The library's 'inference_optimal needs a loss law of (N, D), ...' in the flag's words."""
    try:
        yield
    except DomainError as exc:
        text = str(exc)
        if getattr(exc, "argument", None) != "law" or " needs " not in text:
            raise
        raise DataError(flag + text[text.index(" needs ") :]) from None


def _transposed(title: str, heads: list[str], rows: list[list[str]], caption: str) -> None:
    """A small table whose columns are models and whose rows are quantities."""
    print_table(rows, ["", *heads], title=title, caption=caption)


def _law_floor_check(src: _Source, losses: np.ndarray) -> None:
    """A target loss at or below the law's floor E: the sentence allocate --loss gives."""
    from scalinglaws.inference import _floor, _law

    try:
        nd = _law(src.target, "allocate")
    except ScalingLawsError:
        return
    floor = _floor(nd)
    if floor is None:
        return
    for x in losses:
        if x <= floor:
            raise DataError(
                f"target loss L = {x:g} is unreachable: {_what_words(src)} never goes below its "
                f"irreducible loss E = {floor:g}; choose L > {floor:g}"
            )


def _what_words(src: _Source) -> str:
    return f"preset '{src.label}'" if src.citation is not None else src.label


# ------------------------------------------------------------------ data limit
def _data_limited(
    src: _Source, compute: str | None, unique: str | None, k: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    from scalinglaws.data_limited import (
        data_constrained_presets,
        data_limited_allocation,
        epochs_worth,
        repetition_stops_paying,
    )

    assert compute is not None and unique is not None
    C, U = _pair(
        _list(compute, "--compute"),
        _list(unique, "--unique-tokens"),
        ("--compute", "--unique-tokens"),
    )
    names = data_constrained_presets()
    usable = " or ".join(f"--law {n}" for n in names)
    if src.citation is not None and src.label not in names:
        raise DataError(
            f"--unique-tokens needs a law with a data-constrained form L(N, D, U), and preset "
            f"'{src.label}' has none; use {usable} (or --fit with a fit from 'scalinglaws fit "
            "RUNS --approach data-constrained')"
        )
    try:
        a = data_limited_allocation(src.target, C, U, flops_per_token=k)
    except DomainError as exc:
        if getattr(exc, "argument", None) != "law":
            raise
        raise DataError(
            f"--unique-tokens needs a law with a data-constrained form L(N, D, U), and "
            f"{src.label} has none; use {usable} (or a fit from 'scalinglaws fit RUNS "
            "--approach data-constrained')"
        ) from None
    stops = float(repetition_stops_paying(src.target))
    half = float(repetition_stops_paying(src.target, 0.5))
    worth = epochs_worth(src.target, U, 4.0)
    d = a.to_dict()
    rows = []
    for i in range(len(C)):
        row = _pick(d, i)
        row["repetition_stops_paying_epochs"] = stops
        row["half_worth_epochs"] = half
        row["four_epochs_data_fraction"] = float(np.atleast_1d(worth.data_fraction)[i])
        rows.append(row)

    def show() -> None:
        for r in rows:
            u = _q(r["U"])
            _transposed(
                f"Data-limited: C = {_c(r['C'])}, U = {u} — {src.label}",
                [f"{u} unique tokens", "unlimited data"],
                [
                    ["N* (params)", _q(r["N"]), _q(r["N_free"])],
                    ["D* (tokens)", _q(r["D"]), _q(r["D_free"])],
                    ["epochs", f"{r['epochs']:.3g}", "1 (all fresh)"],
                    ["tokens/param", _r(r["tokens_per_param"]), _r(r["D_free"] / r["N_free"])],
                    ["L* (nats/token)", _l(r["L"]), _l(r["L_free"])],
                ],
                src.caption + f"  Method: {r['method']}; C = {k:g}·N·D.  Unlimited data: the "
                "base law L(N, D) on fresh tokens.",
            )
            if r["binding"]:
                echo_wrapped(
                    f"the data limit costs {r['loss_cost']:.4f} nats/token "
                    f"({100 * r['loss_cost'] / r['L_free']:+.2f}%) against unlimited data, "
                    f"whose optimum needs {_q(r['D_free'])} unique tokens.",
                    "  ",
                )
            else:
                echo_wrapped(
                    f"the limit does not bind: the unlimited optimum needs {_q(r['D_free'])} "
                    f"tokens, no more than the {u} unique ones, so it is the answer.",
                    "  ",
                )
            echo_wrapped(
                f"repetition stops paying: past {stops:.3g} epochs a repeated token is worth "
                f"less than 1/e of a fresh one (1 + R_D*; half at {half:.3g}); 4 epochs of {u} "
                f"are worth {100 * r['four_epochs_data_fraction']:.0f}% of fresh data (the "
                "paper: up to ~4 epochs cost almost nothing).",
                "  ",
            )

    return {"rows": rows, "print": show}, {"question": "budget with a unique-data limit"}


# ------------------------------------------------------------------ inference demand
def _inference_costs(inference_k: str | None, cost_ratio: str | None) -> tuple[float, float]:
    from scalinglaws.cli.options import parse_number

    g = 2.0 if inference_k is None else parse_quantity(inference_k, "--inference-flops-per-token")
    ratio = 1.0 if cost_ratio is None else parse_number(cost_ratio, "--inference-cost-ratio", low=0)
    return g, ratio


def _cost_words(k: float, g: float, ratio: float) -> str:
    unit = "FLOPs" if ratio == 1 else "training-FLOP equivalents"
    return (
        f"Total cost = training FLOPs ({k:g}·N·D) + {ratio:g} × inference FLOPs ({g:g}·N per "
        f"inference token; --inference-cost-ratio {ratio:g}), in {unit}."
    )


def _costed_rows(models: list[dict[str, Any]]) -> list[list[str]]:
    return [
        ["N (params)", *(_q(m["N"]) for m in models)],
        ["D (training tokens)", *(_q(m["D"]) for m in models)],
        ["tokens/param", *(_r(m["tokens_per_param"]) for m in models)],
        ["L (nats/token)", *(_l(m["L"]) for m in models)],
        ["training FLOPs", *(_c(m["train_flops"]) for m in models)],
        ["inference FLOPs", *(_c(m["inference_flops"]) for m in models)],
        ["total cost", *(_c(m["total_cost"]) for m in models)],
    ]


def _inference(
    src: _Source,
    compute: str | None,
    loss: str | None,
    inference: str | None,
    inference_k: str | None,
    cost_ratio: str | None,
    k: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from scalinglaws.inference import inference_aware_allocation, inference_optimal

    assert inference is not None
    g, ratio = _inference_costs(inference_k, cost_ratio)
    T = _inference_tokens(inference)
    kw = {
        "train_flops_per_token": k,
        "inference_flops_per_token": g,
        "inference_cost_per_flop": ratio,
    }
    words = _cost_words(k, g, ratio)
    unit = "FLOPs" if ratio == 1 else "training-FLOP equivalents"
    if loss is not None:
        L, T = _pair(_list(loss, "--loss"), T, ("--loss", "--inference-tokens"))
        _law_floor_check(src, L)
        res = inference_optimal(src.target, L, T, **kw)
        d = res.to_dict()
        rows = [_pick(d, i) for i in range(len(L))]

        def show() -> None:
            for r in rows:
                opt, ref = r["optimum"], r["compute_optimal"]
                _transposed(
                    f"Least cost at L = {r['loss']:g}, {_q(r['inference_tokens'])} "
                    f"inference tokens — {src.label}",
                    ["inference-aware", "compute-optimal"],
                    _costed_rows([opt, ref]),
                    src.caption + f"  {words}  Method: {r['method']}.",
                )
                echo_wrapped(
                    f"saving: {_c(r['saving'])} {unit} ({100 * r['saving_fraction']:.2f}% of "
                    "the compute-optimal model's total cost) with a model "
                    f"{ref['N'] / opt['N']:.3g}x smaller, trained longer (Sardana et al. 2024).",
                    "  ",
                )

        return {"rows": rows, "print": show}, {
            "question": "least total cost at a target loss with inference demand",
            "costs": d["costs"],
        }
    C, T = _pair(_list(compute, "--compute"), T, ("--compute", "--inference-tokens"))
    res2 = inference_aware_allocation(src.target, C, T, **kw)
    d = res2.to_dict()
    rows = [_pick(d, i) for i in range(len(C))]

    def show_budget() -> None:
        for r in rows:
            ref, ec, el = r["compute_optimal"], r["equal_cost"], r["equal_loss"]
            _transposed(
                f"C = {_c(r['C_train'])}, {_q(r['inference_tokens'])} inference tokens "
                f"— {src.label}",
                ["compute-optimal", "equal total cost", "equal loss"],
                _costed_rows([ref, ec, el]),
                src.caption + f"  {words}  Method: {r['method']}.",
            )
            echo_wrapped(
                f"equal total cost: L {_l(ec['L'])}, {r['loss_reduction']:.4f} nats/token below "
                f"the compute-optimal model's {_l(ref['L'])}; equal loss: "
                f"{_c(r['saving'])} {unit} cheaper ({100 * r['saving_fraction']:.2f}% of its "
                "total cost).",
                "  ",
            )

    return {"rows": rows, "print": show_budget}, {
        "question": "training budget with inference demand",
        "costs": d["costs"],
    }


# ------------------------------------------------------------------ over-training
def _overtraining(
    src: _Source,
    compute: str | None,
    params: str | None,
    tokens: str | None,
    tokens_per_param: str | None,
    k: float,
    level: float | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from scalinglaws.overtraining import PRICED, overtraining_cost

    if params is not None:
        N, D = _pair(_list(params, "--params"), _list(tokens, "--tokens"), ("--params", "--tokens"))
        res = overtraining_cost(src.target, N=N, D=D, flops_per_token=k, level=level)
        n = len(N)
    else:
        C, R = _pair(
            _list(compute, "--compute"),
            _list(tokens_per_param, "--tokens-per-param"),
            ("--compute", "--tokens-per-param"),
        )
        res = overtraining_cost(src.target, C=C, tokens_per_param=R, flops_per_token=k, level=level)
        n = len(C)
    d = res.to_dict()
    rows = []
    for i in range(n):
        row = {k: v for k, v in _pick(d, i).items() if k not in ("intervals", "level")}
        row.pop("interval_method", None)
        for key in PRICED:
            if key in res.intervals:
                low, high = (float(np.atleast_1d(v)[i]) for v in res.intervals[key])
                row[f"{key}_low"], row[f"{key}_high"] = _json_num(low), _json_num(high)
        rows.append(row)
    head: dict[str, Any] = {"question": "price of over-training", "method": res.method}
    if res.intervals:
        head |= {"level": res.level, "interval": res.interval_method}
    pct = f"{100 * res.level:g}%" if res.level is not None else ""

    def band(r: dict[str, Any], key: str, fmt: Any) -> str:
        if f"{key}_low" not in r or r[f"{key}_low"] is None or r[f"{key}_high"] is None:
            return ""
        return f" [{pct}: {fmt(r[f'{key}_low'])}–{fmt(r[f'{key}_high'])}]"

    def show() -> None:
        for r in rows:
            _transposed(
                f"Price of over-training: N = {_q(r['N'])} on D = {_q(r['D'])} — {src.label}",
                ["this model", "optimal at same C", "optimal at same L"],
                [
                    ["N (params)", _q(r["N"]), _q(r["N_opt"]), _q(r["N_equal"])],
                    ["D (tokens)", _q(r["D"]), _q(r["D_opt"]), _q(r["D_equal"])],
                    [
                        "tokens/param",
                        _r(r["tokens_per_param"]),
                        _r(r["D_opt"] / r["N_opt"]),
                        _r(r["D_equal"] / r["N_equal"]),
                    ],
                    ["C (FLOPs)", _c(r["C"]), _c(r["C"]), _c(r["C_equal"])],
                    ["L (nats/token)", _l(r["L"]), _l(r["L_opt"]), _l(r["L"])],
                ],
                src.caption
                + f"  C = {k:g}·N·D; method: {res.method}."
                + (f"  Intervals: {res.interval_method}." if res.intervals else ""),
            )
            x = lambda v: f"{v:.3g}x"  # noqa: E731
            echo_wrapped(
                f"loss: {_l(r['L'])}{band(r, 'L', _l)}, {r['loss_gap']:+.4f} nats/token against "
                f"the compute-optimal {_l(r['L_opt'])} at the same C{band(r, 'loss_gap', _l)}.",
                "  ",
            )
            echo_wrapped(
                f"price: {r['price']:.3g}x{band(r, 'price', x)}: the compute-optimal recipe "
                f"reaches L {_l(r['L'])} with {_c(r['C_equal'])} FLOPs, this model spends "
                f"{_c(r['C'])} ({_c(r['extra_flops'])} more{band(r, 'extra_flops', _c)}); in "
                f"exchange it is {r['size_ratio']:.3g}x{band(r, 'size_ratio', x)} smaller than "
                f"that recipe's {_q(r['N_equal'])} model.",
                "  ",
            )

    return {"rows": rows, "print": show}, head


# ============================================================================ registration
def register(group: click.Group) -> None:
    """Add 'allocate', 'predict', 'presets' and 'compare' to the top-level group."""
    for name, callback, params in (
        ("allocate", allocate_command, _allocate_params()),
        ("predict", predict_command, _predict_params()),
        ("compare", compare_command, _compare_params()),
    ):
        group.add_command(_command(name, callback, params))
    presets = group.group("presets")(presets_group)
    presets.add_command(_command("list", presets_list, [_json_flag("a table")]))
    presets.add_command(
        _command("show", presets_show, [click.Argument(["name"]), _json_flag("tables")])
    )


def _command(name: str, callback: Any, params: list[click.Parameter]) -> click.Command:
    return click.Command(name, callback=callback, params=params, help=callback.__doc__)


def _inference_cost_options() -> list[click.Parameter]:
    """The two options that price inference, shared by `allocate` and `compare`."""
    return [
        click.Option(
            ["--inference-flops-per-token"],
            default=None,
            help="With --inference-tokens: g in inference FLOPs = g·N per token (default 2).",
        ),
        click.Option(
            ["--inference-cost-ratio"],
            default=None,
            help="With --inference-tokens: the cost of an inference FLOP relative to a "
            "training FLOP (default 1).",
        ),
    ]


def _allocate_params() -> list[click.Parameter]:
    return [
        click.Option(["--compute"], default=None, help="Budget(s) in FLOPs: 5.76e23, '1e22,1e24'."),
        click.Option(
            ["--params"], default=None, help="Model size(s): the budget for which each is optimal."
        ),
        click.Option(
            ["--loss"], default=None, help="Target loss(es): the least compute reaching it."
        ),
        click.Option(
            ["--unique-tokens"],
            default=None,
            help="With --compute: the unique tokens available (25B); the data-limited optimum "
            "(Muennighoff et al. 2023; default law muennighoff2023).",
        ),
        click.Option(
            ["--inference-tokens"],
            default=None,
            help="With --loss or --compute: tokens the model will serve (2T); the "
            "inference-aware optimum (Sardana et al. 2024).",
        ),
        *_inference_cost_options(),
        click.Option(
            ["--tokens-per-param"],
            default=None,
            help="With --compute: train at this D/N (200) and price the over-training.",
        ),
        click.Option(
            ["--tokens"],
            default=None,
            help="With --params: train on these tokens (8B on 15T) and price the over-training.",
        ),
        click.Option(
            ["--level"],
            default=None,
            help="With --fit and --compute (or an over-training question): interval level "
            "(default: the fit's own).",
        ),
        *_law_params(
            f"{_ALLOCATE_DEFAULTS['N']} (Table 3's rule) for --params, "
            f"{_ALLOCATE_DEFAULTS['C']} for --compute and --loss, "
            f"{_BEYOND_DEFAULTS['data']} with --unique-tokens"
        ),
    ]


def allocate_command(
    compute: str | None,
    params: str | None,
    loss: str | None,
    unique_tokens: str | None,
    inference_tokens: str | None,
    inference_flops_per_token: str | None,
    inference_cost_ratio: str | None,
    tokens_per_param: str | None,
    tokens: str | None,
    level: str | None,
    law: str | None,
    fit_path: str | None,
    flops_per_token: str,
    as_json: bool,
) -> None:
    """Compute-optimal N*, D*, L* for a budget (or the budget for a size or a loss), and
    the answers when unique data or inference cost binds, or a model is over-trained.

    The first line names the law that answered.  Without --law or --fit, a model size is
    answered by Hoffmann et al. 2022's Table 3 rule (hoffmann2022-approach1), a budget or a
    loss by their Approach 3 law as printed (hoffmann2022), a data limit by Muennighoff et
    al. 2023's data-constrained law (muennighoff2023).

    \b
    scalinglaws allocate --compute 5.76e23 --law hoffmann2022
    scalinglaws allocate --params 70B
    scalinglaws allocate --loss 2.0 --law besiroglu2024
    scalinglaws allocate --compute 1e24 --fit fit.json
    scalinglaws allocate --compute 1e22 --unique-tokens 25B
    scalinglaws allocate --loss 1.95 --inference-tokens 2T
    scalinglaws allocate --compute 1e22 --inference-tokens 2T --inference-cost-ratio 2
    scalinglaws allocate --compute 1e22 --tokens-per-param 200
    scalinglaws allocate --params 8B --tokens 15T
    """
    beyond = (
        tokens,
        tokens_per_param,
        unique_tokens,
        inference_tokens,
        inference_flops_per_token,
        inference_cost_ratio,
    )
    question = _beyond_question(compute, params, loss, *beyond)
    if question is None:
        _allocate(compute, params, loss, law, fit_path, flops_per_token, as_json, level)
        return
    _beyond(
        question, compute, params, loss, *beyond, law, fit_path, flops_per_token, as_json, level
    )


def _predict_params() -> list[click.Parameter]:
    return [
        click.Option(["--params"], default=None, help="Parameters N: 70B, '1B,7B'."),
        click.Option(["--tokens"], default=None, help="Training tokens D: 1.4T."),
        click.Option(["--compute"], default=None, help="Training FLOPs C: 1e24."),
        click.Option(["--steps"], default=None, help="Minimum steps S_min (Kaplan's L(N, S))."),
        click.Option(
            ["--level"],
            default=None,
            help="Interval level for a fit saved with a bootstrap or by --approach auto "
            "(default: the fit's own).",
        ),
        *_law_params(),
    ]


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


def presets_group() -> None:
    """The published constants: list them, or show one with its citation and checks."""


def presets_list(as_json: bool) -> None:
    """Every preset with its source."""
    _presets_list(as_json)


def presets_show(name: str, as_json: bool) -> None:
    """One preset: laws, constants, allocation, the paper's projections recomputed, notes."""
    _presets_show(name, as_json)


def _compare_params() -> list[click.Parameter]:
    return [
        click.Option(["--compute"], required=True, help="Budget(s) in FLOPs: 1e24 or '1e22,1e24'."),
        click.Option(
            ["--unique-tokens"],
            default=None,
            help="Also the data-limited optimum with these unique tokens (presets with a "
            "data-constrained law).",
        ),
        click.Option(
            ["--inference-tokens"],
            default=None,
            help="Also the inference-aware optimum for these inference tokens (presets with a "
            "loss law).",
        ),
        *_inference_cost_options(),
        click.Option(
            ["--flops-per-token"],
            default="6",
            show_default=True,
            help="k in C = k·N·D where a rule leaves N or D open.",
        ),
        _json_flag("a table"),
    ]


def compare_command(
    compute: str,
    unique_tokens: str | None,
    inference_tokens: str | None,
    inference_flops_per_token: str | None,
    inference_cost_ratio: str | None,
    flops_per_token: str,
    as_json: bool,
) -> None:
    """Every preset side by side at the same budget: N*, D*, tokens/param, L*; with
    --unique-tokens the data-limited optimum and with --inference-tokens the inference-aware
    one, where the preset can answer them.

    \b
    scalinglaws compare --compute 5.76e23
    scalinglaws compare --compute 1e22 --unique-tokens 25B --inference-tokens 2T
    """
    _compare(
        compute,
        flops_per_token,
        as_json,
        unique_tokens,
        inference_tokens,
        inference_flops_per_token,
        inference_cost_ratio,
    )
