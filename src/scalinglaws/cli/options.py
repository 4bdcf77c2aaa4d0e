"""Options that several commands share, each defined once with the parser of its text.

`fit` and `backtest` (:mod:`scalinglaws.cli.fitting`) and `report` and `plot`
(:mod:`scalinglaws.cli.report`) read a runs table, bootstrap it and bin IsoFLOP budgets
alike; their flags are made here so that a flag's name, help and parsing are the same in
every command.  Where a default differs between commands, the command says which (the
``default_text`` arguments).  Each parser raises one sentence naming the flag.

The library names its Python arguments in its messages (``time_min must be ...``), never a
flag; :func:`flag_table` and :func:`in_flag_words` restate such a message in the flags of the
command that ran (``--time must be ...``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from scalinglaws.errors import DataError, ScalingLawsError

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def with_options(fn: Callable[..., Any], options: Sequence[Decorator]) -> Callable[..., Any]:
    """Apply ``options`` to ``fn`` so that ``--help`` lists them in the order given."""
    for option in reversed(options):
        fn = option(fn)
    return fn


# ============================================================================ reading runs
def columns_option() -> Decorator:
    return click.option(
        "--columns",
        default=None,
        help='Map your column names: "N=Model Size,C=Training FLOP" (keys N, D, C, L, '
        "run_id, step, group, seed), or a .yaml/.toml/.json file holding the mapping.",
    )


def drop_highest_option() -> Decorator:
    return click.option(
        "--drop-highest",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Drop the K rows with the highest loss (Besiroglu et al. 2024 drop 5).",
    )


def flops_per_token_option() -> Decorator:
    return click.option(
        "--flops-per-token",
        default="6",
        show_default=True,
        help="k in C = k·N·D, used to derive the missing one of N, D, C.",
    )


# ============================================================================ uncertainty
def bootstrap_option(default: int | None = 0, default_text: str | None = None) -> Decorator:
    """``--bootstrap N`` (stored as ``n_bootstrap``); ``default_text`` describes a default
    that the command works out itself (``default=None``)."""
    return click.option(
        "--bootstrap",
        "n_bootstrap",
        type=click.IntRange(min=0),
        default=default,
        show_default=default_text is None,
        help="Bootstrap replicates (whole runs resampled) for standard errors and intervals"
        + (f" ({default_text})." if default_text else "."),
    )


def seed_option() -> Decorator:
    return click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")


def level_option(default: str = "0.95", kind: str = "Interval") -> Decorator:
    return click.option(
        "--level", default=default, show_default=True, help=f"{kind} level, between 0 and 1."
    )


# ============================================================================ Approach 2
def bin_tolerance_option(applies: str, default_text: str) -> Decorator:
    """``--bin-tolerance``; ``applies`` names the approaches ("Approach 2", ...)."""
    return click.option(
        "--bin-tolerance",
        default=None,
        help=f"{applies}: runs within this relative difference of C share a FLOP budget "
        f"({default_text}; about 0.2 suits points read off a figure).",
    )


def min_sizes_option(default_text: str) -> Decorator:
    return click.option(
        "--min-sizes",
        type=click.IntRange(min=3),
        default=None,
        help="Approach 2: fewest distinct model sizes a budget needs to be fitted; sparser "
        f"budgets are skipped with a TOO_FEW_POINTS warning ({default_text}).",
    )


# ============================================================================ parsers
def parse_number(
    text: str, flag: str, low: float | None = None, high: float | None = None
) -> float:
    """Parse a plain number given to ``flag``; ``low < x < high`` when bounds are given."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise DataError(f"{flag} must be a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError(f"{flag} must be a finite number, got {text!r}")
    if (low is not None and value <= low) or (high is not None and value >= high):
        rng = (
            f"between {low:g} and {high:g}"
            if low is not None and high is not None
            else f"greater than {low:g}"
            if low is not None
            else f"less than {high:g}"
        )
        raise DataError(f"{flag} must be {rng}, got {text!r}")
    return value


def parse_level(text: str, flag: str = "--level") -> float:
    """An interval level strictly between 0 and 1."""
    return parse_number(text, flag, 0.0, 1.0)


def parse_flops_per_token(text: str) -> float:
    """k of C = k·N·D: a positive quantity in the usable range
    (:data:`scalinglaws.runs_columns.FLOPS_PER_TOKEN_RANGE`)."""
    from scalinglaws.runs_columns import FLOPS_PER_TOKEN_RANGE
    from scalinglaws.units import parse_quantity

    k = parse_quantity(text, what="--flops-per-token")
    low, high = FLOPS_PER_TOKEN_RANGE
    if not low <= k <= high:
        raise DataError(
            f"--flops-per-token must be from {low:g} to {high:g} (k of C = k·N·D is 6 by "
            f"Kaplan et al. 2020; beyond this range C overflows), got {text!r}"
        )
    return k


def parse_bin_tolerance(text: str | None) -> float | None:
    """A relative difference in C, at least 0 and below 1 (None when not given)."""
    if text is None:
        return None
    value = parse_number(text, "--bin-tolerance")
    if not 0 <= value < 1:
        raise DataError(
            "--bin-tolerance must be at least 0 and below 1 (a relative difference in C, "
            f"e.g. 0.05), got {text!r}"
        )
    return value


#: The IsoFLOP profile fits of Approach 2 (``scalinglaws.fit.isoflop.PROFILE_METHODS``),
#: named here so that `scalinglaws --help` does not import the estimator.
PROFILES = ("poly", "akima")


def profile_options() -> list[Decorator]:
    """--profile, --degree and --window: how Approach 2 finds each IsoFLOP minimum."""
    return [
        click.option(
            "--profile",
            type=click.Choice(PROFILES, case_sensitive=False),
            default=None,
            help="Approach 2: how each IsoFLOP profile's minimum is found: poly (a "
            "polynomial of L in ln N, see --degree; Hoffmann et al. 2022) or akima (an "
            "Akima spline of ln L in ln N; Porian et al. 2024); default poly.",
        ),
        click.option(
            "--degree",
            type=int,
            default=None,
            help="Approach 2 with --profile poly: degree of the polynomial fitted to each "
            "profile, 2 to 6 (default 2, Hoffmann's parabola).",
        ),
        click.option(
            "--window",
            default=None,
            help="Approach 2: fit each profile only on the sizes within this factor (> 1, "
            "e.g. 3) of its lowest-loss size, for valleys too wide or lopsided for one "
            "parabola (default: every size).",
        ),
    ]


def parse_profile_options(
    profile: str | None, degree: int | None, window: str | float | None
) -> dict[str, Any]:
    """The values of :func:`profile_options` as estimator arguments (None where not given);
    --degree with --profile akima is refused."""
    if degree is not None and profile is not None and profile.lower() == "akima":
        raise DataError(
            "--degree sets the polynomial of --profile poly; --profile akima fits a spline "
            "through each profile and takes no degree"
        )
    return {
        "profile": None if profile is None else profile.lower(),
        "degree": degree,
        "window": None if window is None else parse_number(str(window), "--window", low=1.0),
    }


# ============================================================================ flags in messages
#: Library arguments whose flag is named otherwise, for every command that has the flag:
#: ``estimate_budget(flops=...)`` is given with ``--compute``,
#: ``load_runs(flops_per_param_token=...)`` with ``--flops-per-token``.
LIBRARY_FLAGS: dict[str, str] = {
    "flops": "--compute",
    "flops_per_param_token": "--flops-per-token",
}


def flag_table(command: click.Command) -> dict[str, str]:
    """Python argument -> flag, for the library messages met while ``command`` runs: each of
    its options under the name it is stored as (``--time`` as ``time_min``, ``--bootstrap`` as
    ``n_bootstrap``), and :data:`LIBRARY_FLAGS` for the flags it has."""
    table: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name:
            long = [opt for opt in param.opts if opt.startswith("--")]
            if long:
                table[param.name] = long[0]
    given = set(table.values())
    for argument, flag in LIBRARY_FLAGS.items():
        if flag in given:
            table.setdefault(argument, flag)
    return table


def in_flag_words(text: str, flags: Mapping[str, str], argument: str | None = None) -> str:
    """A library message in the words of a command whose ``flags`` map Python arguments to
    flags.  The ``argument`` at fault, leading the message, becomes its flag, and so do the
    arguments listed right after it ("partition, gpus only apply ..."); every ``name=value``
    of an argument in ``flags`` becomes ``--flag value``, the quotes around a plain word
    dropped: "time_min must be ..." -> "--time must be ...", "executor='slurm'" ->
    "--executor slurm", 'columns="L=loss"' -> '--columns "L=loss"'."""
    if argument in flags and re.match(rf"{re.escape(argument)}(?![\w=])", text):
        text = flags[argument] + text[len(argument) :]
        pos = len(flags[argument])
        listed = re.compile(r"(?:, | and )([A-Za-z_]\w*)(?![\w=])")
        while (m := listed.match(text, pos)) and m.group(1) in flags:
            flag = flags[m.group(1)]
            text = text[: m.start(1)] + flag + text[m.end(1) :]
            pos = m.start(1) + len(flag)
    if flags:
        names = "|".join(re.escape(name) for name in sorted(flags, key=len, reverse=True))
        keyword = re.compile(rf"(?<![\w.-])({names})=(?!=)(?:(['\"])([\w.:/+@%-]+)\2)?")
        text = keyword.sub(lambda m: f"{flags[m.group(1)]} {m.group(3) or ''}", text)
    return text


def restate(exc: ScalingLawsError, command: click.Command) -> None:
    """Say the library error ``exc`` in the flags of ``command`` (see :func:`in_flag_words`),
    in place: its type, ``argument`` and traceback stay."""
    if not exc.args or not isinstance(exc.args[0], str) or str(exc) != exc.args[0]:
        return
    text = in_flag_words(exc.args[0], flag_table(command), getattr(exc, "argument", None))
    exc.args = (text, *exc.args[1:])
