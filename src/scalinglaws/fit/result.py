"""The result of every estimator: :class:`Fit`, with its :class:`Diagnostic` records.

Modelled on statsmodels' results (``summary()`` a person can paste into a paper, next to a
machine-readable form) and scipy.optimize's ``OptimizeResult`` (says whether it converged and
why).  Every parameter is reported in the units of the paper's formula, never on a normalised
scale.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.errors import DataError, ScalingLawsError, output_error
from scalinglaws.laws.base import Law, law_from_dict

SCHEMA = "scalinglaws.fit/1"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a fit.  ``code`` is stable (scripts test for it), ``severity`` is
    ``"info"``, ``"warning"`` or ``"error"``, ``message`` is one plain sentence."""

    code: str
    severity: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Fit:
    """A fitted law with its uncertainty and diagnostics.

    Attributes
    ----------
    law: the fitted law (``law(N=..., D=...)`` predicts); for Approaches 1 and 2 a
        :class:`~scalinglaws.laws.PowerLaw` of the loss at the optimum against C.
    params: point estimates by the paper's names (E, A, B, alpha, beta; k_N, a, k_D, b; ...).
    stderr: bootstrap standard errors of ``params`` and ``derived`` (empty without bootstrap).
    intervals: ``name -> (low, high)`` at ``level`` (parameters and derived quantities).
    derived: derived quantities (a, b, G; N_opt/D_opt/L_opt at requested budgets, ...).
    diagnostics: findings with stable codes.
    approach: ``"3"``, ``"2"``, ``"1"``, ``"power"``, ...
    method: how it was estimated (objective, grid size, starts that reached the best, ...).
    data: what went in (number of runs, filters applied, column mapping, FLOPs convention).
    converged / message: as in scipy.optimize.
    extra: estimator-specific tables (Approach 2's per-budget minima, bootstrap samples).
    """

    law: Law
    params: dict[str, float]
    approach: str
    stderr: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    level: float = 0.95
    derived: dict[str, float] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    method: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    converged: bool = True
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------- prediction
    def predict(self, **variables: Any) -> Any:
        """Evaluate the fitted law: ``fit.predict(N=..., D=...)``."""
        return self.law(**variables)

    def replicate_laws(self) -> list[Law]:
        """The law of every bootstrap replicate: the fitted law with the constants of
        ``extra["bootstrap_params"]`` (one list per constant, NaN where a replicate failed);
        failed or invalid replicates are skipped, and a fit without a bootstrap gives [].
        Raises :class:`~scalinglaws.errors.FitError` when the samples name constants the law
        does not have or have different lengths."""
        import dataclasses

        from scalinglaws.errors import FitError

        samples = (self.extra or {}).get("bootstrap_params") or {}
        if not samples:
            return []
        law = self.law
        names = {f.name for f in dataclasses.fields(law)}  # type: ignore[arg-type]
        unknown = sorted(set(samples) - names)
        if unknown:
            raise FitError(
                f"the fit's bootstrap samples name {unknown}, which are not constants of law "
                f"'{law.name}' ({sorted(names)})"
            )
        lengths = {len(v) for v in samples.values()}
        if len(lengths) != 1:
            raise FitError("the fit's bootstrap samples have different lengths per constant")
        base = {f.name: getattr(law, f.name) for f in dataclasses.fields(law)}  # type: ignore[arg-type]
        out = []
        for i in range(lengths.pop()):
            values = {k: v[i] for k, v in samples.items()}
            if any(x is None or not math.isfinite(float(x)) for x in values.values()):
                continue
            try:
                out.append(type(law)(**{**base, **{k: float(x) for k, x in values.items()}}))
            except ValueError:  # a replicate outside the law's domain is skipped
                continue
        return out

    def beyond_data(self, C: Any) -> np.ndarray | None:
        """C / C_max: how many times the largest training compute of the fit's data a
        request at budget ``C`` lies (below 1: inside the data's range).  None for a fit
        that did not record its data's range (``extra["data_range"]``)."""
        rng = (self.extra or {}).get("data_range") or {}
        if "C" not in rng:
            return None
        return np.asarray(C, dtype=float) / float(rng["C"][1])

    def diagnostic_codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    # ---------------------------------------------------------------- text
    def summary(self) -> str:
        """A plain-text table: estimate, standard error and interval for every parameter and
        derived quantity, then how it was estimated and the diagnostics."""
        pct = f"{100 * self.level:g}%"
        lines = [
            f"Scaling-law fit — approach {self.approach}: {self.law.formula or self.law.name}",
            f"converged: {'yes' if self.converged else 'NO'}"
            + (f" ({self.message})" if self.message else ""),
        ]
        for key, value in self.data.items():
            lines.append(f"{key}: {value}")
        for key, value in self.method.items():
            lines.append(f"{key}: {value}")
        names = [*self.params, *self.derived]
        w = max([14, *(len(str(n)) + 2 for n in names)])
        header = f"{'':<{w}}{'estimate':>14}{'std err':>12}   {pct + ' interval'}"
        for title, table in (("parameters", self.params), ("derived", self.derived)):
            if not table:
                continue
            lines += ["", title, header]
            for name, value in table.items():
                se = self.stderr.get(name)
                lo_hi = self.intervals.get(name)
                lines.append(
                    (
                        f"{name:<{w}}{_fmt(value):>14}{_fmt(se) if se is not None else '':>12}   "
                        + (f"[{_fmt(lo_hi[0])}, {_fmt(lo_hi[1])}]" if lo_hi else "")
                    ).rstrip()
                )
        if self.diagnostics:
            lines += ["", "diagnostics"]
            for d in self.diagnostics:
                lines.append(f"  {d.severity:<8}{d.code:<22}{d.message}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "law": self.law.to_dict(),
            "params": self.params,
            "approach": self.approach,
            "stderr": self.stderr,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "level": self.level,
            "derived": self.derived,
            "diagnostics": [asdict(d) for d in self.diagnostics],
            "method": self.method,
            "data": self.data,
            "converged": self.converged,
            "message": self.message,
            "extra": self.extra,
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """Serialise to JSON (NaN and inf become null); write to ``path`` if given."""
        text = json.dumps(_jsonable(self.to_dict()), indent=indent)
        if path is not None:
            _atomic_write(Path(path), text)
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "the fit") -> Fit:
        """Inverse of :meth:`to_dict`; raises :class:`DataError` naming ``source`` (and the
        key at fault) for anything :meth:`to_dict` would not have written."""
        if not isinstance(d, dict):
            raise DataError(
                f"{source} must be a JSON object written by Fit.to_json(), got {type(d).__name__}"
            )
        if d.get("schema") != SCHEMA:
            found = "no 'schema' key" if "schema" not in d else f"schema {d.get('schema')!r}"
            raise DataError(
                f"{source} is not a scalinglaws fit ({found}, expected {SCHEMA!r}); write one "
                "with Fit.to_json() or 'scalinglaws fit RUNS --json FIT.json'"
            )
        for key in ("law", "params", "approach"):
            if key not in d:
                raise DataError(
                    f"{source} is not a complete scalinglaws fit: the key '{key}' is missing; "
                    "write one with Fit.to_json() or 'scalinglaws fit RUNS --json FIT.json'"
                )
        key = "law"
        try:
            if not isinstance(d["law"], dict):
                raise TypeError("expected an object such as {'law': 'chinchilla', ...}")
            law = law_from_dict(d["law"])
            key = "params"
            params = {k: _num(v) for k, v in _mapping(d["params"]).items()}
            key = "stderr"
            stderr = {k: _num(v) for k, v in _mapping(d.get("stderr", {})).items()}
            key = "intervals"
            intervals = {
                k: (_num(v[0]), _num(v[1])) for k, v in _mapping(d.get("intervals", {})).items()
            }
            key = "level"
            level = _num(d.get("level", 0.95))
            if not 0 < level < 1:
                raise ValueError(f"a level must be between 0 and 1, got {level}")
            key = "derived"
            derived = {k: _num(v) for k, v in _mapping(d.get("derived", {})).items()}
            key = "diagnostics"
            diagnostics = [Diagnostic(**_mapping(x)) for x in d.get("diagnostics", []) or []]
            key = "method"
            method, data, extra = (
                _mapping(d.get("method", {})),
                _mapping(d.get("data", {})),
                _mapping(d.get("extra", {})),
            )
        except ScalingLawsError as exc:
            raise DataError(f"{source}, key '{key}': {exc}") from None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise DataError(
                f"{source}, key '{key}', is not what Fit.to_json() writes ({exc}); write the fit "
                "again with Fit.to_json() or 'scalinglaws fit RUNS --json FIT.json'"
            ) from None
        return cls(
            law=law,
            params=params,
            approach=str(d["approach"]),
            stderr=stderr,
            intervals=intervals,
            level=level,
            derived=derived,
            diagnostics=diagnostics,
            method=method,
            data=data,
            converged=bool(d.get("converged", True)),
            message=str(d.get("message", "") or ""),
            extra=extra,
        )

    @classmethod
    def from_json(cls, source: str | Path) -> Fit:
        """Load from a JSON string or a path to a JSON file written by :meth:`to_json`."""
        if not isinstance(source, (str, Path)):
            raise DataError(
                f"Fit.from_json takes a file path or a JSON string, got {type(source).__name__}"
            )
        text = str(source)
        name = "the fit JSON text"
        if not text.lstrip().startswith("{"):
            path = Path(text)
            name = f"fit file {path}"
            if path.is_dir():
                raise DataError(f"{name} is a folder; give the .json file written by Fit.to_json()")
            if not path.is_file():
                raise DataError(f"{name} does not exist")
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                raise DataError(
                    f"{name} is not UTF-8 text; give the .json file written by Fit.to_json()"
                ) from None
            except OSError as exc:
                raise DataError(f"{name} cannot be read ({exc.strerror})") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}); give a fit written "
                "by Fit.to_json() or 'scalinglaws fit RUNS --json FIT.json'"
            ) from None
        return cls.from_dict(d, source=name)


def _mapping(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TypeError(f"expected an object, got {type(v).__name__}")
    return v


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"expected a number, got {v!r}")
    return float(v)


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.4g}"
    return f"{x:.5g}"


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written file.
    The file is made readable by all (0644, not mkstemp's 0600); a path
    that cannot be written raises :class:`~scalinglaws.errors.OutputError`."""
    import os
    import tempfile

    if path.is_dir():
        raise output_error(path, IsADirectoryError(21, "it is a folder"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o644)  # mkstemp makes 0600; results are for sharing
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise output_error(path, exc) from None
        raise
