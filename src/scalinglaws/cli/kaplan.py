"""Command 'kaplan-rules': Kaplan et al. 2020's rules of thumb for one model size.

A thin layer over the rules in :mod:`scalinglaws.allocation` (:func:`min_tokens_no_overfit`,
:func:`overfitting_penalty`, :func:`early_stopping_steps`, :func:`critical_batch_size`,
:func:`min_steps_for_loss`, :func:`min_examples_for_loss`): parse the flags (naming the flag
in every error), compute the rules the flags give what they need, and print each with its
formula and its source, or ``--json`` for scripts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import click

from scalinglaws.cli.output import echo_wrapped, emit_json
from scalinglaws.errors import DomainError
from scalinglaws.units import format_flops, format_quantity, parse_quantity

_PRESET = "kaplan2020"


@dataclass
class Rule:
    """One rule of thumb evaluated: ``name`` is the library function, ``value`` (None where
    the rule is not defined, ``note`` then saying why) in ``unit``."""

    name: str
    what: str
    symbol: str
    value: float | None
    unit: str
    formula: str
    source: str
    note: str = ""


def _e(x: float) -> str:
    """A constant as the paper prints it: 5.5e3, 6.4e13, 2e8."""
    return format_flops(x)


def _shown(rule: Rule) -> str:
    assert rule.value is not None
    if rule.unit == "fraction":
        return f"{100 * rule.value:.3g}%"
    if rule.unit == "FLOPs":
        return f"{format_flops(rule.value)} FLOPs"
    return f"{format_quantity(rule.value)} {rule.unit}"


def kaplan_rules(N: float, L: float | None = None, D: float | None = None) -> list[Rule]:
    """Kaplan et al. 2020's rules for N non-embedding parameters: the overfitting bound on D
    always; with D the overfitting penalty and the early-stopping step; with a loss L the
    critical batch size and S_min, E_min, C_min (not defined, and saying why, where L is
    below what N parameters reach with unlimited steps)."""
    from scalinglaws import allocation as al
    from scalinglaws.presets import get_preset

    preset = get_preset(_PRESET)
    nd, ns, k = preset.laws["L(N, D)"], preset.laws["L(N, S)"], dict(preset.constants)
    coef, expo = al.overfitting_rule()
    delta = k["overfit_delta"]
    rules = [
        Rule(
            "min_tokens_no_overfit",
            f"tokens that keep the overfitting penalty within {delta:.0%}",
            "D ≳",
            float(al.min_tokens_no_overfit(N)),
            "tokens",
            f"D ≳ D_c·(N/N_c)^(α_N/α_D) / ((1 + δ)^(1/α_D) − 1) = {_e(coef)}·N^{expo:.3f} at "
            f"δ = {delta:g} (the paper rounds it to {_e(k['overfit_coefficient'])}·"
            f"N^{k['overfit_exponent']:g})",
            "Kaplan et al. 2020, eq. 4.4 (§4.2), with Table 2's L(N, D): "
            f"N_c = {_e(nd.N_c)}, D_c = {_e(nd.D_c)}, α_N = {nd.alpha_N:g}, α_D = {nd.alpha_D:g}",
        )
    ]
    if D is not None:
        rules += [
            Rule(
                "overfitting_penalty",
                "overfitting penalty on D tokens",
                "δL =",
                float(al.overfitting_penalty(_PRESET, N, D)),
                "fraction",
                "δL = L(N, D)/L(N, ∞) − 1 = [1 + (N/N_c)^(α_N/α_D)·D_c/D]^α_D − 1",
                "Kaplan et al. 2020, eq. 4.3, with Table 2's L(N, D)",
            ),
            Rule(
                "early_stopping_steps",
                "step to stop early at, on D tokens",
                "S_stop ≳",
                float(al.early_stopping_steps(N, D)),
                "steps",
                "S_stop ≳ S_c / [L(N, D) − L(N, ∞)]^(1/α_S), "
                f"S_c = {_e(ns.S_c)}, α_S = {ns.alpha_S:g}",
                "Kaplan et al. 2020, eq. 5.7 (§5.3), with Table 2's L(N, D) and Table 3's S_c, α_S",
            ),
        ]
    if L is not None:
        b_crit = float(al.critical_batch_size(L))
        rules.append(
            Rule(
                "critical_batch_size",
                "critical batch size at loss L",
                "B_crit =",
                b_crit,
                "tokens",
                f"B_crit(L) = B*/L^(1/α_B), B* = {_e(k['B_star'])} tokens, α_B = {k['alpha_B']:g}",
                "Kaplan et al. 2020, eq. 5.3 (§5.1; B* from §1.2, Table 5 prints 2.1e8)",
            )
        )
        try:
            s_min, note = float(al.min_steps_for_loss(N, L)), ""
        except DomainError as exc:
            s_min, note = None, str(exc)
        e_min = None if s_min is None else b_crit * s_min
        rules += [
            Rule(
                "min_steps_for_loss",
                "fewest steps to reach L (at a batch far above B_crit)",
                "S_min =",
                s_min,
                "steps",
                "S_min = S_c / (L − (N_c/N)^α_N)^(1/α_S), "
                f"N_c = {_e(ns.N_c)}, α_N = {ns.alpha_N:g}, S_c = {_e(ns.S_c)}, "
                f"α_S = {ns.alpha_S:g}; steps S at batch B: S_min = S/(1 + B_crit/B)",
                "Kaplan et al. 2020, L(N, S) of eq. 1.6 and Table 3, inverted; eq. 5.4",
                note,
            ),
            Rule(
                "min_examples_for_loss",
                "fewest tokens to reach L (at a batch far below B_crit)",
                "E_min =",
                e_min,
                "tokens",
                "E_min = B_crit(L)·S_min; tokens E at batch B: E_min = E/(1 + B/B_crit)",
                "Kaplan et al. 2020, §5.1 (B_crit = E_min/S_min) and eq. 5.4 [derived]",
                note,
            ),
            Rule(
                "min_compute",
                "least compute to reach L",
                "C_min =",
                None if e_min is None else 6.0 * N * e_min,
                "FLOPs",
                "C_min = 6·N·E_min; compute C at batch B: C_min = C/(1 + B/B_crit)",
                "Kaplan et al. 2020, eq. 5.5 (C = 6NBS, Table 1)",
                note,
            ),
        ]
    return rules


def _print(rules: list[Rule], N: float, L: float | None, D: float | None) -> None:
    from scalinglaws.presets import get_preset

    given = [f"N = {format_quantity(N)} non-embedding parameters"]
    if D is not None:
        given.append(f"D = {format_quantity(D)} tokens")
    if L is not None:
        given.append(f"L = {L:g} nats/token")
    echo_wrapped(f"law: {_PRESET} ({get_preset(_PRESET).citation})", "  ")
    click.echo("Rules of thumb for " + ", ".join(given))
    for rule in rules:
        click.echo("")
        value = f"{rule.symbol} {_shown(rule)}" if rule.value is not None else "not defined"
        echo_wrapped(f"{rule.what}: {value}", "  ")
        if rule.note:
            echo_wrapped(f"  why:     {rule.note}", "           ")
        echo_wrapped(f"  formula: {rule.formula}", "           ")
        echo_wrapped(f"  source:  {rule.source}", "           ")
    missing = []
    if D is None:
        missing.append("--tokens D for the overfitting penalty and the early-stopping step")
    if L is None:
        missing.append("--loss L for the critical batch size and S_min, E_min, C_min")
    if missing:
        click.echo("")
        click.echo("Give " + "; ".join(missing) + ".")


def _json_value(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def kaplan_rules_command(params: str, loss: str | None, tokens: str | None, as_json: bool) -> None:
    """Kaplan et al. 2020's rules of thumb for a model size: the tokens that avoid
    overfitting, the critical batch size at a loss, the fewest steps and tokens to reach it
    (S_min, E_min), and the early-stopping step, each with its formula and source.

    \b
    scalinglaws kaplan-rules --params 1B
    scalinglaws kaplan-rules --params 1B --loss 3.0 --tokens 20B
    """
    N = parse_quantity(params, "--params")
    L = None if loss is None else parse_quantity(loss, "--loss")
    D = None if tokens is None else parse_quantity(tokens, "--tokens")
    rules = kaplan_rules(N, L, D)
    if as_json:
        from scalinglaws.presets import get_preset

        emit_json(
            {
                "source": _PRESET,
                "citation": str(get_preset(_PRESET).citation),
                "n_counts": "non-embedding",
                "N": N,
                "L": L,
                "D": D,
                "rules": [{k: _json_value(v) for k, v in asdict(r).items()} for r in rules],
            }
        )
        return
    _print(rules, N, L, D)


def register(group: click.Group) -> None:
    """Add 'kaplan-rules' to the top-level group."""
    group.add_command(
        click.Command(
            "kaplan-rules",
            callback=kaplan_rules_command,
            help=kaplan_rules_command.__doc__,
            short_help="Kaplan et al. 2020's rules of thumb: overfitting, B_crit, S_min, E_min.",
            params=[
                click.Option(
                    ["--params"],
                    required=True,
                    help="Non-embedding parameters N: 1B, 350M.",
                ),
                click.Option(
                    ["--loss"],
                    default=None,
                    help="Loss L in nats per token, for B_crit(L) and S_min, E_min.",
                ),
                click.Option(
                    ["--tokens"],
                    default=None,
                    help="Training tokens D, for the overfitting penalty and early stopping.",
                ),
                click.Option(["--json", "as_json"], is_flag=True, help="Print JSON instead."),
            ],
        )
    )
