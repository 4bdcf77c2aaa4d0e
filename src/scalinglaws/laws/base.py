"""What every law shares: input validation, a registry by name, and (de)serialisation.

A *law* is a small frozen dataclass whose fields are its constants, named as in the paper
(``E, A, B, alpha, beta``; ``N_c, alpha_N``; ...), and whose ``__call__`` maps keyword
variables (``N=``, ``D=``, ``C=``, ``S=``) to a loss in nats per token.  Calls are
vectorised over numpy arrays (broadcasting like numpy) and return a float for scalar input.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from scalinglaws.errors import DomainError, UnknownNameError, did_you_mean

ArrayLike = Any  # float | Sequence[float] | np.ndarray

_REGISTRY: dict[str, type[Law]] = {}


def positive(name: str, value: ArrayLike, what: str = "") -> np.ndarray:
    """Return ``value`` as a float array, raising :class:`DomainError` unless every entry is a
    finite number > 0.  ``name`` (``"N"``, ``"D"``...) and ``what`` make the message precise."""
    label = f"{name} ({what})" if what else name
    raw = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if raw.dtype.kind == "b" or raw.dtype.kind == "c":
        raise DomainError(
            f"{label} must be a finite number greater than 0, got {value!r} "
            f"({'booleans' if raw.dtype.kind == 'b' else 'complex numbers'} are not accepted)"
        )
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        hint = (
            "; parse text such as '70B' with scalinglaws.units.parse_quantity"
            if isinstance(value, str)
            else ""
        )
        raise DomainError(
            f"{label} must be a finite number greater than 0 (or an array of them), got "
            f"{value!r}{hint}"
        ) from None
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        first = arr.flat[int(np.flatnonzero(bad)[0])]
        raise DomainError(
            f"{label} must be a finite number greater than 0, got {float(first)!r}"
            + (f" at index {int(np.flatnonzero(bad)[0])}" if arr.ndim else "")
        )
    return arr


def check_constants(law: Law) -> None:
    """Raise :class:`DomainError` unless every ``float`` constant of ``law`` is a real number
    (not a string, None or a boolean); ints and numpy scalars become floats.  Infinite values
    pass: a fit whose exponent diverges says so in its diagnostics.  Reading a saved law
    (:meth:`Law.from_dict`) also requires them finite."""
    for f in dataclasses.fields(law):  # type: ignore[arg-type]
        if f.type not in ("float", float):
            continue
        value = getattr(law, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise DomainError(
                f"constant {f.name} of law '{law.name}' must be a finite number, got {value!r}"
            )
        object.__setattr__(law, f.name, float(value))


def scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    """Return a Python float for 0-d results, the array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


def register(cls: type[Law]) -> type[Law]:
    """Class decorator: make a law constructible by name from :func:`law_from_dict`."""
    _REGISTRY[cls.name] = cls
    return cls


class Law:
    """Base class of the laws.  Subclasses are ``@dataclass(frozen=True)`` and set ``name``
    (the registry key), ``variables`` (the keyword arguments ``__call__`` takes) and
    ``n_counts`` (``"non-embedding"``, ``"total"`` or ``"n/a"``)."""

    name: ClassVar[str] = "law"
    variables: ClassVar[tuple[str, ...]] = ()
    formula: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"law": name, <constant>: value, ...}``; inverse of :meth:`from_dict`."""
        out: dict[str, Any] = {"law": self.name}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = getattr(self, f.name)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Law:
        """Build the law from :meth:`to_dict`'s output (the ``"law"`` key may be omitted)."""
        data = dict(data)
        data.pop("law", None)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        names = set(fields)
        unknown = sorted(set(data) - names)
        if unknown:
            raise UnknownNameError(
                f"unknown constant(s) {unknown} for law '{cls.name}'; valid: {sorted(names)}"
            )
        missing = sorted(
            n
            for n, f in fields.items()
            if n not in data
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        )
        if missing:
            raise DomainError(f"law '{cls.name}' needs the constant(s) {missing}")
        for key, value in data.items():
            if fields[key].type in ("float", float) and (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.integer, np.floating))
                or not np.isfinite(value)
            ):
                raise DomainError(
                    f"constant {key} of law '{cls.name}' must be a finite number, got {value!r}"
                )
        return cls(**data)

    @property
    def params(self) -> dict[str, float]:
        """The law's numeric constants, by the paper's names."""
        return {
            f.name: float(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if isinstance(getattr(self, f.name), (int, float))
            and not isinstance(getattr(self, f.name), bool)
        }

    def _check_kwargs(self, given: dict[str, Any]) -> None:
        extra = sorted(k for k, v in given.items() if v is not None and k not in self.variables)
        missing = [k for k in self.variables if given.get(k) is None]
        if extra or missing:
            raise DomainError(
                f"law '{self.name}' takes {', '.join(self.variables)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; does not take {', '.join(extra)}" if extra else "")
            )


def law_from_dict(data: dict[str, Any]) -> Law:
    """Construct any registered law from ``{"law": name, ...constants}``."""
    if not isinstance(data, dict):
        raise DomainError(
            "a law is written as an object such as {'law': 'chinchilla', 'E': 1.69, ...}, got "
            f"{type(data).__name__}"
        )
    name = data.get("law")
    if not isinstance(name, str):
        raise UnknownNameError(
            f"a law needs a 'law' key naming it, got {name!r}; valid names are: "
            + ", ".join(sorted(_REGISTRY))
        )
    if name not in _REGISTRY:
        raise UnknownNameError(f"unknown law '{name}'" + did_you_mean(str(name), list(_REGISTRY)))
    return _REGISTRY[name].from_dict(data)


def registered_laws() -> dict[str, type[Law]]:
    """Name -> class of every registered law."""
    return dict(_REGISTRY)
