"""Commands 'allocate', 'predict', 'presets' and 'compare': the published laws as a calculator.

A thin layer over :mod:`scalinglaws.allocation`, :mod:`scalinglaws.presets` and
:mod:`scalinglaws.fit.questions` (whose :func:`~scalinglaws.fit.questions.allocation_answers`
and :func:`~scalinglaws.fit.questions.prediction_answers` compute the rows, their intervals and
how far beyond a fit's data each lies): parse the flags (naming the flag in every error), call
the API, print a table with the paper cited under it, or ``--json`` for scripts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from scalinglaws.cli.output import echo_wrapped, emit_json, print_table
from scalinglaws.errors import (
    DataError,
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
            keys=(),
            optional={i: f"'scalinglaws presets show {p.name} --json'" for i in (7, 1, 4)},
        )
    if p.notes:
        click.echo("notes:")
        for n in p.notes:
            echo_wrapped(f"  - {n}", indent="    ")


def _consts(params: dict[str, float], stderr: Any) -> str:
    parts = []
    for key, value in params.items():
        se = stderr.get(key)
        parts.append(f"{key} = {value:.6g}" + (f" ± {se:g}" if se is not None else ""))
    return ", ".join(parts)


# ============================================================================ compare
def _compare(compute: str, flops_per_token: str, as_json: bool) -> None:
    from scalinglaws.allocation import allocate
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
        optional={6: "'scalinglaws presets list'"},
    )


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
            ["--level"],
            default=None,
            help="With --fit and --compute: interval level for N*, D*, L* "
            "(default: the fit's own).",
        ),
        *_law_params(
            f"{_ALLOCATE_DEFAULTS['N']} (Table 3's rule) for --params, "
            f"{_ALLOCATE_DEFAULTS['C']} for --compute and --loss"
        ),
    ]


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

    The first line names the law that answered.  Without --law or --fit, a model size is
    answered by Hoffmann et al. 2022's Table 3 rule (hoffmann2022-approach1), a budget or a
    loss by their Approach 3 law as printed (hoffmann2022).

    \b
    scalinglaws allocate --compute 5.76e23 --law hoffmann2022
    scalinglaws allocate --params 70B
    scalinglaws allocate --loss 2.0 --law besiroglu2024
    scalinglaws allocate --compute 1e24 --fit fit.json
    """
    _allocate(compute, params, loss, law, fit_path, flops_per_token, as_json, level)


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
            ["--flops-per-token"],
            default="6",
            show_default=True,
            help="k in C = k·N·D where a rule leaves N or D open.",
        ),
        _json_flag("a table"),
    ]


def compare_command(compute: str, flops_per_token: str, as_json: bool) -> None:
    """Every preset side by side at the same budget: N*, D*, tokens/param, L*."""
    _compare(compute, flops_per_token, as_json)
