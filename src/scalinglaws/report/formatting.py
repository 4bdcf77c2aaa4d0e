"""How the report prints a number (on the page and on the command line)."""

from __future__ import annotations

import math
from typing import Any


def format_value(value: Any, kind: str = "float") -> str:
    """How the report prints a number: ``"count"`` as 70B / 1.4T, ``"flops"`` as 5.76e23,
    ``"percent"`` as 12.3%, ``"float"`` to 4 significant digits, ``"int"`` with thousands
    separators; None and NaN as an em dash."""
    from scalinglaws.units import format_flops, format_quantity

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "—"
    if kind == "count":
        return format_quantity(x)
    if kind == "flops":
        return format_flops(x)
    if kind == "percent":
        return f"{100 * x:.1f}%"
    if kind == "int":
        return f"{int(round(x)):,}"
    ax = abs(x)
    if 1e3 <= ax < 1e6:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def kind_of(name: str) -> str:
    """The printing kind of a quantity by its name (``N_opt@1e+22`` is a count)."""
    base = name.split("@", 1)[0]
    if base in ("N_opt", "D_opt", "N", "D", "G", "k_N", "k_D", "N_c", "D_c"):
        return "count"
    if base in ("C", "C_c", "cut") or base.startswith("C_"):
        return "flops"
    return "float"
