"""Human quantities and FLOP units.

Scaling-laws numbers span 30 orders of magnitude and people write them the way papers print
them: "70B" parameters, "1.4T" tokens, "3.8e25" or "5.76e23 FLOPs" of compute, "3640 PF-days".
This module turns such text into floats (and back) with one clear error sentence when it cannot.

Suffixes (case-insensitive, decimal): k = 1e3, M = 1e6, B or G = 1e9, T = 1e12, P = 1e15.
A trailing unit is allowed and ignored when it does not change the value ("FLOPs", "tokens",
"params"); "PF-days" (petaflop/s-days, Kaplan et al. 2020) converts to FLOPs.
"""

from __future__ import annotations

import math
import re
from typing import Any

from scalinglaws.errors import QuantityError

#: One petaflop/s-day in FLOPs: 1e15 FLOP/s x 86,400 s (Kaplan et al. 2020, §1.2).
PF_DAY: float = 1e15 * 86_400.0

SUFFIXES: dict[str, float] = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}

#: Unit words accepted after a number, mapped to the factor that converts them to the base unit.
UNITS: dict[str, float] = {
    "": 1.0,
    "flop": 1.0,
    "flops": 1.0,
    "tokens": 1.0,
    "token": 1.0,
    "params": 1.0,
    "param": 1.0,
    "parameters": 1.0,
    "pf-days": PF_DAY,
    "pf-day": PF_DAY,
    "pfdays": PF_DAY,
    "pfday": PF_DAY,
    "pf days": PF_DAY,
    "pf day": PF_DAY,
    "petaflop-days": PF_DAY,
    "petaflop/s-days": PF_DAY,
    "pf/s-days": PF_DAY,
}

_EXAMPLES = "such as '70B', '1.4T' or '3.8e25'"

#: The usable range of every quantity, both ends included: the largest training runs are
#: about 1e27 FLOPs, and within these bounds products such as C = 6·N·D, a time x a price or
#: a count x a peak FLOP/s stay finite in float64 (about 1e-308 to 1e308).
QUANTITY_RANGE: tuple[float, float] = (1e-30, 1e65)

#: Longest text read as one quantity ("3640 petaflop/s-days" is 20 characters); longer text
#: is refused before any conversion, so "2x10^<5,000 digits>" costs nothing.
MAX_QUANTITY_TEXT = 100

#: Longest text quoted in an error sentence.
MAX_QUOTE = 200

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
# "2.5", "70B", "3.8e25", "1.4 T", "2x10^22", "2*10**22", "10^24"
_PATTERN = re.compile(
    rf"^(?P<num>{_NUMBER})?"
    r"(?:\s*(?:x|\*|×)?\s*10\s*(?:\^|\*\*)\s*(?P<exp>[+-]?\d+))?"
    r"\s*(?P<suffix>[kmbgtp](?![a-z]))?"
    r"\s*(?P<unit>[a-z/ -]*)$",
    re.IGNORECASE,
)


def _error(what: str, message: str) -> QuantityError:
    """A :class:`QuantityError` whose ``argument`` is the argument ``what`` names, if any:
    ``"flops"``, ``"flops item '70X'"`` and ``"cut (FLOPs)"`` name one, ``"value"`` does not."""
    m = re.match(r"[A-Za-z_]\w*(?=$| item | \()", what)
    argument = m.group(0) if m and m.group(0) != "value" else None
    return QuantityError(message, argument=argument)


def quote(value: Any, limit: int = MAX_QUOTE) -> str:
    """``repr(value)`` cut to ``limit`` characters (an error sentence never quotes megabytes)."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "…"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(what: str, text: Any, why: str) -> QuantityError:
    return _error(
        what, f"{what} {why}, got {quote(text)}; expected a positive quantity {_EXAMPLES}."
    )


def _out_of_range(what: str, text: Any) -> QuantityError:
    low, high = QUANTITY_RANGE
    return _error(
        what,
        f"{what} must be from {low:g} to {high:g} (the range whose arithmetic stays finite), "
        f"got {quote(text)}.",
    )


def parse_quantity(text: str | float | int, what: str = "value") -> float:
    """Parse a positive human quantity into a float.

    ``"70B"`` -> 7e10, ``"1.4T"`` -> 1.4e12, ``"400M"`` -> 4e8, ``"2.5k"`` -> 2500,
    ``"3.8e25"``, ``"5.76e23 FLOPs"``, ``"1,000"``, ``"2x10^22"``; ``"3640 PF-days"`` ->
    3640 x 8.64e19 FLOPs (1 PF-day = 1e15 FLOP/s for a day, Kaplan et al. 2020).

    Raises :class:`QuantityError` naming ``what`` (e.g. ``"params"``) for text that is not a
    number, and for zero, negative, NaN or infinite values.
    """
    if isinstance(text, bool):
        raise _fail(what, text, "is a boolean, not a number")
    if isinstance(text, (int, float)) or _is_numpy_number(text):
        value = float(text)
        return _check(value, what, text)
    if not isinstance(text, str):
        raise _fail(what, text, f"has type {type(text).__name__}")
    raw = text
    if len(text) > MAX_QUANTITY_TEXT:
        raise _error(
            what,
            f"{what} is {len(text):,} characters long, got {quote(text, 40)}; a quantity is at "
            f"most {MAX_QUANTITY_TEXT} characters, {_EXAMPLES}.",
        )
    s = text.strip().replace("_", "")
    if "," in s:
        # Only thousands separators ("1,000,000"); "1,5" is a decimal comma we will not guess at.
        grouped = re.match(r"^[+-]?\d{1,3}(?:,\d{3})+(?![\d,])", s)
        if grouped is None or "," in s[grouped.end() :]:
            raise _error(
                what,
                f"{what} has a misplaced comma in {quote(raw)}; commas may only separate thousands "
                "('1,000,000') and the decimal mark is a point ('1.5').",
            )
        s = s.replace(",", "")
    if not s:
        raise _error(what, f"{what} is empty; expected a positive quantity {_EXAMPLES}.")
    if s.lower() in {"nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
        raise _fail(what, raw, "must be a finite number")
    m = _PATTERN.match(s)
    if m is None or (m.group("num") is None and m.group("exp") is None):
        raise _fail(what, raw, "is not a number")
    unit = re.sub(r"\s+", " ", (m.group("unit") or "").strip().lower())
    if unit not in UNITS:
        units = "FLOPs, PF-days, tokens, params"
        raise _error(
            what,
            f"{what} has an unknown suffix or unit in {quote(raw)}; valid suffixes are k, M, B, "
            f"T, P and valid units are {units} (e.g. '70B', '3640 PF-days').",
        )
    value = float(m.group("num")) if m.group("num") is not None else 1.0
    if m.group("exp") is not None:
        exp = int(m.group("exp"))  # at most MAX_QUANTITY_TEXT digits
        if abs(exp) > 300:  # far outside QUANTITY_RANGE, and 10.0**400 overflows
            if value <= 0:
                raise _fail(what, raw, "must be positive")
            raise _out_of_range(what, raw)
        value *= 10.0**exp
    if m.group("suffix"):
        value *= SUFFIXES[m.group("suffix").lower()]
    value *= UNITS[unit]
    if value == 0 and re.search(r"[1-9]", (m.group("num") or "1").split("e")[0].split("E")[0]):
        raise _out_of_range(what, raw)  # "1e-400": a positive number too small for a float
    return _check(value, what, raw)


def _is_numpy_number(x: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, (np.integer, np.floating))


def _check(value: float, what: str, raw: Any) -> float:
    if math.isnan(value) or math.isinf(value):
        raise _fail(what, raw, "must be a finite number")
    if value <= 0:
        raise _fail(what, raw, "must be positive")
    if not QUANTITY_RANGE[0] <= value <= QUANTITY_RANGE[1]:
        raise _out_of_range(what, raw)
    return value


def parse_quantities(text: str, what: str) -> list[float]:
    """Parse a comma-separated list of quantities, e.g. ``"1e22,1e24"`` or ``"70B, 405B"``.

    Thousands separators are not allowed inside a list (the comma separates items); each item
    follows :func:`parse_quantity`.  An empty list raises :class:`QuantityError`.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return [parse_quantity(text, what)]
    if not isinstance(text, str) or not text.strip():
        raise _error(
            what,
            f"{what} is empty; expected a comma-separated list of positive quantities "
            "such as '1e22,1e24' or '70B,405B'.",
        )
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise _error(
            what,
            f"{what} has an empty item in {quote(text)}; expected a comma-separated list of "
            "positive quantities such as '1e22,1e24' (no thousands separators inside a list).",
        )
    for before, after in zip(items[:-1], items[1:], strict=True):
        # "1,5e24": a decimal comma, not the budgets 1 and 5e24
        if re.fullmatch(r"[+-]?\d{1,3}", before) and re.match(r"\d+e", after, re.IGNORECASE):
            raise _error(
                what,
                f"{what} has {before + ',' + after!r}, which looks like a decimal comma; use "
                f"'.' for decimals ('{before}.{after}') and separate values with commas "
                "('1e22,5e24').",
            )
    return [
        parse_quantity(t, f"{what} item {quote(t, 40)}" if len(items) > 1 else what) for t in items
    ]


#: The largest count :func:`parse_count` takes (layers, heads, devices, ...): 2^53 ~ 9e15 is
#: where floating point stops holding every whole number.
MAX_COUNT = 1e15


def parse_count(text: str | float | int, what: str = "value") -> int:
    """Parse a positive whole number written as a quantity: ``"32k"`` -> 32000, ``"16,000"``.

    Follows :func:`parse_quantity` and then requires a whole number (layers, heads, devices).
    """
    value = parse_quantity(text, what)
    if not value.is_integer():
        raise _error(what, f"{what} must be a whole number such as '80' or '32k', got {text!r}.")
    if value > MAX_COUNT:
        raise _error(
            what,
            f"{what} must be a whole number up to 1e15 (larger counts are not exact "
            f"in floating point, and no model or cluster comes near), got {text!r}.",
        )
    return int(value)


def parse_price(text: str | float | int, what: str = "price") -> float:
    """Parse a positive price per hour: ``"2.5"``, ``"$2.50"``, ``"$2.50/h"``, ``"3 per hour"``.

    The currency symbol and an hourly suffix are accepted and dropped; the number follows
    :func:`parse_quantity`.
    """
    if isinstance(text, str):
        s = text.strip()
        s = re.sub(r"^\s*[$€£]\s*", "", s)
        s = re.sub(r"\s*(?:/\s*(?:h|hr|hour)|per\s+hour|/gpu-?h(?:our)?)\s*$", "", s, flags=re.I)
        return parse_quantity(s, what) if s else parse_quantity(text, what)
    return parse_quantity(text, what)


def parse_fraction(text: str | float | int, what: str = "value") -> float:
    """Parse a fraction in (0, 1], written ``"0.4"`` or ``"40%"`` (e.g. model FLOPs utilisation).

    Raises :class:`QuantityError` naming ``what`` when the value is not a number or lies
    outside (0, 1].
    """
    raw = text
    pct = False
    if isinstance(text, str):
        s = text.strip()
        if s.endswith("%"):
            pct, s = True, s[:-1].strip()
        try:
            value = float(s)
        except ValueError:
            raise _error(
                what, f"{what} must be a fraction in (0, 1] such as '0.4' or '40%', got {raw!r}."
            ) from None
    elif isinstance(text, (int, float)) and not isinstance(text, bool) or _is_numpy_number(text):
        value = float(text)
    else:
        raise _error(
            what, f"{what} must be a fraction in (0, 1] such as '0.4' or '40%', got {raw!r}."
        )
    if pct:
        value /= 100.0
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise _error(
            what, f"{what} must be a fraction in (0, 1] such as '0.4' or '40%', got {raw!r}."
        )
    return value


_FORMAT_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _round_sig(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits - 1}e}")


def _trim(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def format_quantity(x: float, unit: str = "", digits: int = 3) -> str:
    """Format a count the way papers print it: 7e10 -> ``"70B"``, 1.4e12 -> ``"1.4T"``.

    Rounds to ``digits`` significant figures and uses k, M, B, T; values of 1e15 and above are
    written in scientific notation (``"6.3e23"``).  ``unit`` is appended after a space.
    """
    x = float(x)
    if not math.isfinite(x):
        text = str(x)
    else:
        r = _round_sig(abs(x), digits)
        sign = "-" if x < 0 else ""
        if r >= 1e15:
            text = sign + format_flops(r, digits)
        else:
            text = ""
            for scale, suffix in _FORMAT_SUFFIXES:
                if r >= scale:
                    text = sign + _trim(f"{r / scale:.{digits}g}") + suffix
                    break
            if not text:
                text = sign + _trim(f"{r:.{digits}g}")
    return f"{text} {unit}" if unit else text


def format_flops(x: float, digits: int = 3) -> str:
    """Format FLOPs in compact scientific notation: 5.76e23 -> ``"5.76e23"``, 1e22 -> ``"1e22"``."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{_trim(mantissa)}e{int(exponent)}"


def flops_to_pfdays(C: Any) -> Any:
    """FLOPs -> petaflop/s-days: C / 8.64e19 (Kaplan et al. 2020, §1.2). Arrays pass through."""
    return C / PF_DAY


def pfdays_to_flops(p: Any) -> Any:
    """Petaflop/s-days -> FLOPs: p x 8.64e19 (Kaplan et al. 2020, §1.2). Arrays pass through."""
    return p * PF_DAY
