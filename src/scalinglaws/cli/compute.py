"""Commands 'flops', 'budget' and 'accelerators': parameter and FLOP accounting, time and cost.

A thin layer over :mod:`scalinglaws.units`, :mod:`scalinglaws.flops` and
:mod:`scalinglaws.hardware`: parse the flags (naming the flag in every error), call the API,
print a table or ``--json``.
"""

from __future__ import annotations

import math
from typing import Any

import click

from scalinglaws.cli.output import emit_json, print_table
from scalinglaws.errors import QuantityError
from scalinglaws.flops import (
    CONVENTION_NOTES,
    CONVENTION_SOURCES,
    CONVENTIONS,
    Architecture,
    all_conventions,
    check_convention,
    flops_6nd,
)
from scalinglaws.hardware import ACCELERATORS, estimate_budget
from scalinglaws.units import (
    flops_to_pfdays,
    format_flops,
    format_quantity,
    parse_count,
    parse_quantity,
)

# flag -> Architecture field, in the order the help lists them
_ARCH_FLAGS: dict[str, str] = {
    "--layers": "n_layer",
    "--d-model": "d_model",
    "--heads": "n_heads",
    "--vocab": "vocab_size",
    "--context": "n_ctx",
}
_OPTIONAL_ARCH_FLAGS: dict[str, str] = {
    "--d-ff": "d_ff",
    "--d-head": "d_head",
    "--kv-heads": "n_kv_heads",
}
_ALL_ARCH_FLAGS = {**_ARCH_FLAGS, **_OPTIONAL_ARCH_FLAGS}


def _num(x: float) -> str:
    """A plain number for a table: thousands separators above 1000, else 4 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _architecture(values: dict[str, str | None], flags: dict[str, bool]) -> Architecture | None:
    """Build the Architecture from the flags, or None when no architecture flag was given.

    ``flags`` holds the Architecture's boolean fields; any that differs from its default
    (tied, plain MLP, learned positions, no biases, no norm gains) counts as "given".
    """
    defaults = {
        "tied_embeddings": True,
        "gated_mlp": False,
        "learned_positions": True,
        "biases": False,
        "norm_gains": False,
    }
    given = {f: v for f, v in values.items() if v is not None}
    if not given and all(flags[k] == v for k, v in defaults.items()):
        return None
    missing = [f for f in _ARCH_FLAGS if values.get(f) is None]
    if missing:
        raise QuantityError(
            f"an architecture needs {', '.join(_ARCH_FLAGS)}; missing {', '.join(missing)}."
        )
    kwargs: dict[str, Any] = {
        field: parse_count(given[flag], flag)
        for flag, field in _ALL_ARCH_FLAGS.items()
        if flag in given
    }
    try:
        return Architecture(**kwargs, **flags)
    except QuantityError as exc:  # say it with the flags: "n_heads=63" -> "--heads 63"
        import re

        text = str(exc).replace("Architecture ", "", 1)
        for flag, field in _ALL_ARCH_FLAGS.items():
            text = re.sub(rf"\b{field}=", f"{flag} ", text)
            text = re.sub(rf"\b{field}\b", flag, text)
        raise QuantityError(text) from None


def _flops_from_params(params: str, tokens: str | None, convention: str, as_json: bool) -> None:
    N = parse_quantity(params, "--params")
    if check_convention(convention) not in ("6N", "6N-total"):
        raise QuantityError(
            f"--convention {convention} needs an architecture (--layers, --d-model, --heads, "
            "--vocab, --context); with --params alone only 6N is available."
        )
    D = None if tokens is None else parse_quantity(tokens, "--tokens")
    per_token = flops_6nd(N, 1.0)
    C = None if D is None else flops_6nd(N, D)
    if as_json:
        emit_json(
            {
                "params": N,
                "convention": "6N",
                "flops_per_token": per_token,
                "tokens": D,
                "flops": C,
                "pf_days": None if C is None else flops_to_pfdays(C),
                "tokens_per_param": None if D is None else D / N,
            }
        )
        return
    rows: list[list[Any]] = [
        ["parameters N", format_quantity(N, digits=4)],
        ["FLOPs per token (6N)", format_flops(per_token, 4)],
    ]
    if D is not None and C is not None:
        rows += [
            ["tokens D", format_quantity(D, digits=4)],
            ["tokens per parameter", f"{D / N:.3g}"],
            ["training FLOPs C = 6ND", format_flops(C, 4)],
            ["PF-days", _num(flops_to_pfdays(C))],
        ]
    print_table(rows, ["quantity", "value"], title="Training compute, C = 6·N·D")


def _flops_from_architecture(
    arch: Architecture, tokens: str | None, convention: str, as_json: bool
) -> None:
    conv = check_convention(convention)
    D = None if tokens is None else parse_quantity(tokens, "--tokens")
    p = arch.params()
    per_conv = all_conventions(arch)
    six_n = per_conv["6N"]
    if D is not None and not all(math.isfinite(v * D) for v in per_conv.values()):
        raise QuantityError(
            f"the training FLOPs of this architecture for --tokens {tokens} are beyond the "
            "range of floating-point numbers; give sizes and tokens of realistic magnitude."
        )
    table = [
        {
            "convention": c,
            "description": CONVENTION_NOTES[c],
            "source": CONVENTION_SOURCES[c],
            "flops_per_token": per_conv[c],
            "flops": None if D is None else per_conv[c] * D,
            "ratio_to_6N": per_conv[c] / six_n,
        }
        for c in CONVENTIONS
    ]
    per_token = per_conv[conv]
    C = None if D is None else per_token * D
    if as_json:
        emit_json(
            {
                "architecture": arch.to_dict(),
                "params": {
                    "non_embedding": p.non_embedding,
                    "embedding": p.embedding,
                    "total": p.total,
                    "breakdown": arch.param_breakdown(),
                },
                "convention": conv,
                "flops_per_token": per_token,
                "tokens": D,
                "flops": C,
                "pf_days": None if C is None else flops_to_pfdays(C),
                "tokens_per_param": None if D is None else D / p.non_embedding,
                "conventions": table,
            }
        )
        return
    rows: list[list[Any]] = [
        [name.replace("_", " "), format_quantity(v) if v else "0", v]
        for name, v in arch.param_breakdown().items()
    ]
    rows += [
        ["non-embedding N", format_quantity(p.non_embedding), p.non_embedding],
        ["embedding", format_quantity(p.embedding), p.embedding],
        ["total", format_quantity(p.total), p.total],
    ]
    print_table(rows, ["parameters", "value", "exact"], title="Parameters")
    summary: list[list[Any]] = [["FLOPs per token", format_flops(per_token, 4)]]
    if D is not None and C is not None:
        summary += [
            ["tokens D", format_quantity(D, digits=4)],
            ["tokens per non-embedding parameter", f"{D / p.non_embedding:.3g}"],
            ["training FLOPs C", format_flops(C, 4)],
            ["PF-days", _num(flops_to_pfdays(C))],
        ]
    print_table(summary, ["quantity", "value"], title=f"Training compute ({conv})")
    columns = ["convention", "FLOPs / token"]
    columns += ["total FLOPs"] if D is not None else []
    columns += ["ratio to 6N", "what it counts"]
    conv_rows = []
    for row in table:
        r: list[Any] = [
            row["convention"] + (" *" if row["convention"] == conv else ""),
            format_flops(row["flops_per_token"], 4),
        ]
        if D is not None:
            r.append(format_flops(row["flops"], 4))
        r += [f"{row['ratio_to_6N']:.4f}", row["description"]]
        conv_rows.append(r)
    sources = "; ".join(f"{c}: {CONVENTION_SOURCES[c]}" for c in CONVENTIONS)
    print_table(
        conv_rows,
        columns,
        title="All conventions (training = forward + backward)",
        caption=f"* chosen convention. Sources — {sources}.",
    )


def _print_accelerators(as_json: bool) -> None:
    if as_json:
        emit_json({name: acc.__dict__ for name, acc in ACCELERATORS.items()})
        return
    rows = [
        [a.name, f"{a.peak_flops / 1e12:,.0f}", a.description, a.source]
        for a in ACCELERATORS.values()
    ]
    print_table(
        rows,
        ["name", "dense BF16 TFLOP/s", "device", "source"],
        title="Accelerators (override with --peak)",
    )


def _budget(
    compute: str | None,
    params: str | None,
    tokens: str | None,
    accelerator: str | None,
    peak: str | None,
    devices: str,
    mfu: str,
    price: str | None,
    as_json: bool,
) -> None:
    if compute is not None and (params is not None or tokens is not None):
        raise QuantityError("give either --compute or --params with --tokens, not both.")
    if compute is None:
        if params is None or tokens is None:
            raise QuantityError(
                "give the budget as --compute (e.g. 3.8e25) or as --params and --tokens "
                "(e.g. --params 70B --tokens 15T, C = 6ND)."
            )
        N, D = parse_quantity(params, "--params"), parse_quantity(tokens, "--tokens")
        flops: float | str = flops_6nd(N, D)
    else:
        flops = compute
    b = estimate_budget(
        flops, accelerator, peak=peak, mfu=mfu, devices=devices, price_per_hour=price
    )
    if as_json:
        emit_json(b.to_dict())
        return
    rows: list[list[Any]] = [
        ["compute", format_flops(b.flops) + " FLOPs"],
        ["PF-days", _num(b.pf_days)],
        ["accelerator", b.accelerator or "custom"],
        ["peak per device", f"{b.peak_flops / 1e12:,.4g} TFLOP/s"],
        ["MFU", f"{b.mfu:.3g}"],
        ["devices", b.devices],
        ["cluster throughput", format_flops(b.effective_flops_per_second) + " FLOP/s"],
        ["wall-clock days", _num(b.days)],
        ["device-hours", _num(b.device_hours)],
        [
            "cost",
            "— (give --price-per-hour)"
            if b.cost is None
            else f"{b.cost:,.0f} at {b.price_per_hour:g} per device-hour",
        ],
    ]
    print_table(rows, ["quantity", "value"], title="Training time and cost")


# ============================================================================ commands
def register(group: click.Group) -> None:
    """Add 'flops', 'budget' and 'accelerators' to the top-level group."""
    for name, callback, params in (
        ("flops", flops_command, _flops_params()),
        ("budget", budget_command, _budget_params()),
        ("accelerators", accelerators_command, [_json_flag("a table")]),
    ):
        group.add_command(
            click.Command(name, callback=callback, params=params, help=callback.__doc__)
        )


def _json_flag(what: str) -> click.Option:
    return click.Option(["--json", "as_json"], is_flag=True, help=f"Print JSON instead of {what}.")


# ------------------------------------------------------------------ flops
def _flops_params() -> list[click.Parameter]:
    """--params/--tokens, the architecture's sizes and switches, --convention and --json."""
    return [
        click.Option(["--params"], help="Parameters N (e.g. 70B); alone with --tokens gives 6ND."),
        click.Option(["--tokens"], help="Training tokens D (e.g. 1.4T)."),
        click.Option(["--layers"], help="Number of transformer blocks n_layer."),
        click.Option(["--d-model"], help="Residual width d_model."),
        click.Option(["--heads"], help="Attention (query) heads."),
        click.Option(["--vocab"], help="Vocabulary size (e.g. 32000 or 32k)."),
        click.Option(["--context"], help="Context length n_ctx in tokens."),
        click.Option(["--d-ff"], help="MLP width [default: 4 x d_model]."),
        click.Option(["--d-head"], help="Head width [default: d_model / heads]."),
        click.Option(
            ["--kv-heads"], help="Key/value heads for grouped-query attention [default: heads]."
        ),
        click.Option(
            ["--untied"], is_flag=True, help="Output head not tied to the token embedding."
        ),
        click.Option(["--gated"], is_flag=True, help="Gated MLP (SwiGLU/GeGLU): three matrices."),
        click.Option(
            ["--positions"],
            type=click.Choice(["learned", "none"]),
            default="learned",
            show_default=True,
            help="'learned' counts an n_ctx x d_model position table; 'none' for RoPE/ALiBi.",
        ),
        click.Option(
            ["--biases"], is_flag=True, help="Count bias vectors of linear layers and norms."
        ),
        click.Option(["--norm-gains"], is_flag=True, help="Count normalisation gains."),
        click.Option(
            ["--convention"],
            default="6N",
            show_default=True,
            help=f"FLOP convention: {', '.join(CONVENTIONS)}.",
        ),
        _json_flag("tables"),
    ]


def flops_command(
    params: str | None,
    tokens: str | None,
    untied: bool,
    gated: bool,
    positions: str,
    biases: bool,
    norm_gains: bool,
    convention: str,
    as_json: bool,
    **sizes: str | None,
) -> None:
    """Parameters and training FLOPs of an architecture under every FLOP convention.

    Example: scalinglaws flops --layers 80 --d-model 8192 --heads 64 --d-ff 32768
    --vocab 32000 --context 2048 --tokens 1.4T --convention chinchilla
    """
    flags = {
        "tied_embeddings": not untied,
        "gated_mlp": gated,
        "learned_positions": positions == "learned",
        "biases": biases,
        "norm_gains": norm_gains,
    }
    values = {flag: sizes[flag[2:].replace("-", "_")] for flag in _ALL_ARCH_FLAGS}
    arch = _architecture(values, flags)
    if arch is not None and params is not None:
        raise QuantityError(
            "give either --params or an architecture (--layers, --d-model, ...), not both."
        )
    if arch is None:
        if params is None:
            raise QuantityError(
                "give --params (e.g. 70B) or an architecture (--layers, --d-model, --heads, "
                "--vocab, --context)."
            )
        _flops_from_params(params, tokens, convention, as_json)
    else:
        _flops_from_architecture(arch, tokens, convention, as_json)


# ------------------------------------------------------------------ budget
def _budget_params() -> list[click.Parameter]:
    return [
        click.Option(["--compute"], help="Training FLOPs C (e.g. 3.8e25, '3640 PF-days')."),
        click.Option(["--params"], help="Parameters N (with --tokens: C = 6ND)."),
        click.Option(["--tokens"], help="Training tokens D (with --params)."),
        click.Option(
            ["--accelerator"],
            help="Accelerator name (see 'scalinglaws accelerators'), or 'list' to show the table.",
        ),
        click.Option(
            ["--peak"], help="Peak FLOP/s per device, overriding the table (e.g. 989e12)."
        ),
        click.Option(["--devices"], default="1", show_default=True, help="Number of devices."),
        click.Option(
            ["--mfu"], default="0.4", show_default=True, help="Model FLOPs utilisation in (0, 1]."
        ),
        click.Option(["--price-per-hour"], help="Price per device-hour (e.g. 2.5 or '$2.50')."),
        _json_flag("a table"),
    ]


def budget_command(
    compute: str | None,
    params: str | None,
    tokens: str | None,
    accelerator: str | None,
    peak: str | None,
    devices: str,
    mfu: str,
    price_per_hour: str | None,
    as_json: bool,
) -> None:
    """Wall-clock days, device-hours, PF-days and cost of a training budget.

    Example: scalinglaws budget --compute 3.8e25 --accelerator h100 --devices 16000 --mfu 0.4
    """
    if accelerator is not None and accelerator.strip().lower() == "list":
        given = (
            ("--compute", compute),
            ("--params", params),
            ("--tokens", tokens),
            ("--peak", peak),
            ("--price-per-hour", price_per_hour),
        )
        extra = [f for f, v in given if v is not None]
        if extra:
            raise QuantityError(
                f"--accelerator list only prints the table of accelerators and takes no "
                f"budget; drop {', '.join(extra)} or name an accelerator such as h100."
            )
        _print_accelerators(as_json)
        return
    _budget(compute, params, tokens, accelerator, peak, devices, mfu, price_per_hour, as_json)


# ------------------------------------------------------------------ accelerators
def accelerators_command(as_json: bool) -> None:
    """List the accelerators' dense BF16 peaks used by 'budget' (override with --peak)."""
    _print_accelerators(as_json)
