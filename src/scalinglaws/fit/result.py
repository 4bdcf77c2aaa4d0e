"""The result of every estimator: :class:`Fit`, with its :class:`Diagnostic` records.

Modelled on statsmodels' results (``summary()`` a person can paste into a paper, next to a
machine-readable form) and scipy.optimize's ``OptimizeResult`` (says whether it converged and
why).  Every parameter is reported in the units of the paper's formula, never on a normalised
scale.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.convention import SIX_ND, FlopsConvention
from scalinglaws.errors import DataError, ScalingLawsError
from scalinglaws.files import atomic_write_text, jsonable
from scalinglaws.laws.base import Law, law_from_dict

SCHEMA = "scalinglaws.fit/1"


@dataclass(frozen=True)
class Replicates:
    """The bootstrap replicates of a fit: one array per fitted quantity (the law's constants,
    and for Approaches 1 and 2 also k_N, a, k_D, b of N* = k_N·C^a, D* = k_D·C^b), one entry
    per replicate, NaN where that replicate failed.  ``method`` says how they were drawn
    (what was resampled, the seed)."""

    values: dict[str, np.ndarray]
    method: str = ""

    def __post_init__(self) -> None:
        arrays = {str(k): np.asarray(v, dtype=float).reshape(-1) for k, v in self.values.items()}
        if len({a.size for a in arrays.values()}) > 1:
            raise ValueError("every quantity of the replicates needs one value per replicate")
        object.__setattr__(self, "values", arrays)

    def __len__(self) -> int:
        return next(iter(self.values.values())).size if self.values else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "values": {k: v.tolist() for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, d: Any) -> Replicates:
        d = _mapping(d)
        values = {
            str(k): np.array([_num(x) for x in _list(v)], dtype=float)
            for k, v in _mapping(d.get("values", {})).items()
        }
        return cls(values=values, method=str(d.get("method", "") or ""))


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a fit.  ``code`` is stable (scripts test for it), ``severity`` is
    ``"info"``, ``"warning"`` or ``"error"``, ``message`` is one plain sentence.

    Every code is registered in :data:`scalinglaws.fit.codes.CODES` (its meaning and what to
    do: :func:`scalinglaws.fit.codes.describe`); constructing one with an unregistered code
    raises :class:`ValueError`.  :meth:`saved` rebuilds one read from a file without that
    check."""

    code: str
    severity: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from scalinglaws.fit.codes import CODES

        if self.code not in CODES:
            raise ValueError(
                f"unregistered diagnostic code {self.code!r}: add it to "
                "scalinglaws.fit.codes.CODES and to docs/diagnostics.md"
            )

    @classmethod
    def saved(
        cls, code: str, severity: str, message: str, data: dict[str, Any] | None = None
    ) -> Diagnostic:
        """A diagnostic as a saved fit recorded it, kept whatever its code: a file written by
        another version may carry a code this version does not register."""
        self = object.__new__(cls)
        for name, value in (
            ("code", code),
            ("severity", severity),
            ("message", message),
            ("data", {} if data is None else data),
        ):
            object.__setattr__(self, name, value)
        return self


@dataclass(frozen=True)
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
    extra: estimator-specific tables (Approach 2's per-budget minima, ...).
    replicates: the bootstrap replicates of every fitted quantity (:class:`Replicates`), or
        None without a bootstrap; :meth:`conf_int`, :meth:`allocate` and :meth:`predict`
        answer from them at any level and budget, fresh or loaded from JSON.
    residuals: log L - log L̂ of every point the law was fitted to (runs for Approach 3, the
        optima for Approaches 1 and 2), or None.
    convention: how a budget splits into N and D for this fit's law (C = k·N·D with the
        runs' k, or a sweep family's f(N)), used by :meth:`allocate`.
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
    replicates: Replicates | None = None
    residuals: np.ndarray | None = None
    convention: FlopsConvention = SIX_ND

    def with_bootstrap(
        self,
        stderr: dict[str, float],
        intervals: dict[str, tuple[float, float]],
        replicates: Replicates,
        diagnostics: Sequence[Diagnostic] = (),
    ) -> Fit:
        """A copy with the bootstrap's results: standard errors, intervals, the replicates
        (their ``method`` also recorded in ``method["bootstrap"]``) and its diagnostics.  For
        estimators, which build a result before they return it."""
        return dataclasses.replace(
            self,
            stderr=dict(stderr),
            intervals=dict(intervals),
            replicates=replicates,
            method={**self.method, "bootstrap": replicates.method},
            diagnostics=[*self.diagnostics, *diagnostics],
        )

    # ---------------------------------------------------------------- questions
    def predict(self, level: float | None = None, **variables: Any) -> Any:
        """The fitted law's loss at ``N=..., D=...`` (or ``C=...`` for Approaches 1 and 2):
        ``fit.predict(N=70e9, D=1.4e12)`` is ``fit.law(N=70e9, D=1.4e12)``.  With ``level``
        (e.g. 0.95) a :class:`~scalinglaws.fit.questions.Prediction` with the interval the
        fit supports: the bootstrap replicates' predictions (parameter uncertainty only), or
        an automatic fit's interval calibrated for extrapolation."""
        if level is None:
            return self.law(**variables)
        from scalinglaws.fit.questions import predict_with_interval

        return predict_with_interval(self, variables, level)

    def allocate(self, C: Any, level: float | None = None, flops_per_token: Any = None) -> Any:
        """Compute-optimal N*, D*, L* at budget(s) ``C`` (FLOPs) from this fit, with
        intervals at ``level`` (default: the fit's) from its bootstrap replicates: an
        :class:`~scalinglaws.allocation.Allocation` whose ``intervals`` map "N", "D", "L" to
        (low, high).  ``flops_per_token`` overrides the fit's own convention.  Works on a
        fit loaded from JSON as on a fresh one (:mod:`scalinglaws.fit.questions`)."""
        from scalinglaws.fit.questions import allocate_fit

        return allocate_fit(self, C, level, flops_per_token)

    def conf_int(self, level: float | None = None) -> dict[str, tuple[float, float]]:
        """Equal-tailed percentile intervals at ``level`` (default: the fit's) of every
        parameter and derived quantity, from the bootstrap replicates (statsmodels' name);
        empty without replicates."""
        from scalinglaws.fit.questions import conf_int

        return conf_int(self, self.level if level is None else level)

    def budget_diagnostics(self, C: Any) -> list[Diagnostic]:
        """Findings about requests at budget(s) ``C``: ``EXTRAPOLATION`` beyond the data's
        range of C, and ``OPTIMUM_OUTSIDE_DATA`` where, inside it, the optimum is not
        bracketed by the runs."""
        from scalinglaws.fit.questions import budget_diagnostics

        return budget_diagnostics(self, C)

    def replicate_laws(self) -> list[Law]:
        """The law of every bootstrap replicate: the fitted law with the constants of
        :attr:`replicates` (quantities that are not the law's constants, such as k_N, are
        ignored); failed or invalid replicates are skipped, and a fit without a bootstrap
        gives []."""
        import dataclasses

        if self.replicates is None or not len(self.replicates):
            return []
        law = self.law
        names = {f.name for f in dataclasses.fields(law)}  # type: ignore[arg-type]
        samples = {k: v for k, v in self.replicates.values.items() if k in names}
        if not samples:
            return []
        base = {f.name: getattr(law, f.name) for f in dataclasses.fields(law)}  # type: ignore[arg-type]
        out = []
        for i in range(len(self.replicates)):
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
    def summary(self, budgets: Any = ()) -> str:
        """A plain-text table: estimate, standard error and interval for every parameter and
        derived quantity (and N*, D*, L* at ``budgets``, from :meth:`allocate`), how it was
        estimated, how well it fits, and the diagnostics (with those of the budgets)."""
        from scalinglaws.fit.questions import allocation_rows

        pct = f"{100 * self.level:g}%"
        lines = [
            f"Scaling-law fit — approach {self.approach}: {self.law.formula or self.law.name}",
            f"converged: {'yes' if self.converged else 'NO'}"
            + (f" ({self.message})" if self.message else ""),
        ]
        for key, value in self.data.items():
            lines.append(f"{key}: {_words(value)}")
        for key, value in self.method.items():
            lines.append(f"{key}: {_words(value)}")
        fit_line = self.goodness_of_fit()
        if fit_line:
            lines.append(fit_line)
        tables = {
            "parameters": [
                (n, v, self.stderr.get(n), self.intervals.get(n)) for n, v in self.params.items()
            ],
            "derived": [
                (n, v, self.stderr.get(n), self.intervals.get(n)) for n, v in self.derived.items()
            ],
        }
        tables["derived"] += allocation_rows(self, budgets)
        heavy = False
        for rows in tables.values():
            for i, (n, v, se, ci) in enumerate(rows):
                shown = meaningful_stderr(se, ci, self.level)
                heavy = heavy or (se is not None and shown is None)
                rows[i] = (n, v, shown, ci)
        names = [r[0] for rows in tables.values() for r in rows]
        w = max([14, *(len(str(n)) + 2 for n in names)])
        header = f"{'':<{w}}{'estimate':>14}{'std err':>12}   {pct + ' interval'}"
        for title, rows in tables.items():
            if not rows:
                continue
            lines += ["", title, header]
            for name, value, se, lo_hi in rows:
                lines.append(
                    (
                        f"{name:<{w}}{_fmt(value):>14}{_fmt(se) if se is not None else '':>12}   "
                        + (f"[{_fmt(lo_hi[0])}, {_fmt(lo_hi[1])}]" if lo_hi else "")
                    ).rstrip()
                )
        if heavy:
            lines += ["", HEAVY_TAIL_WORDS]
        diagnostics = [
            *self.diagnostics,
            *(self.budget_diagnostics(budgets) if np.size(budgets) else []),
        ]
        if diagnostics:
            lines += ["", "diagnostics"]
            for d in diagnostics:
                lines.append(f"  {d.severity:<8}{d.code:<22}{d.message}")
        return "\n".join(lines)

    def goodness_of_fit(self) -> str:
        """One line: the RMS of the log residuals (≈ relative error of L̂) and the points
        fitted against the parameters estimated; empty without residuals."""
        if self.residuals is None or not np.size(self.residuals):
            return ""
        r = np.asarray(self.residuals, dtype=float)
        r = r[np.isfinite(r)]
        if not r.size:
            return ""
        rms = float(np.sqrt(np.mean(r**2)))
        return (
            f"goodness of fit: RMS of log residuals {rms:.3g} ({100 * rms:.2g}% of L) over "
            f"{r.size} points, {len(self.params)} parameters"
        )

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
            "replicates": None if self.replicates is None else self.replicates.to_dict(),
            "residuals": None if self.residuals is None else np.asarray(self.residuals).tolist(),
            "convention": self.convention.to_dict(),
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """Serialise to JSON (NaN and inf become null); write to ``path`` if given."""
        text = json.dumps(jsonable(self.to_dict()), indent=indent)
        if path is not None:
            atomic_write_text(Path(path), text)
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
                "with Fit.to_json() or 'scalinglaws fit RUNS -o FIT.json'"
            )
        for key in ("law", "params", "approach"):
            if key not in d:
                raise DataError(
                    f"{source} is not a complete scalinglaws fit: the key '{key}' is missing; "
                    "write one with Fit.to_json() or 'scalinglaws fit RUNS -o FIT.json'"
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
            diagnostics = [_diagnostic(x) for x in _list(d.get("diagnostics", []) or [])]
            key = "method"
            method, data, extra = (
                _mapping(d.get("method", {})),
                _mapping(d.get("data", {})),
                dict(_mapping(d.get("extra", {}))),
            )
            key = "extra.data_range"
            if extra.get("data_range") is not None:
                extra["data_range"] = _data_range(extra["data_range"])
            key = "extra.extrapolation"
            if extra.get("extrapolation") is not None:
                extra["extrapolation"] = _extrapolation(extra["extrapolation"])
            key = "extra.profiles"
            if extra.get("profiles") is not None:
                extra["profiles"] = [_profile(x) for x in _list(extra["profiles"])]
            key = "extra.envelope"
            if extra.get("envelope") is not None:
                extra["envelope"] = _envelope(extra["envelope"])
            key = "approach"
            if not isinstance(d["approach"], str):
                raise TypeError(f"expected a string such as '3', got {d['approach']!r}")
            key = "converged"
            if not isinstance(d.get("converged", True), bool):
                raise TypeError(f"expected true or false, got {d['converged']!r}")
            key = "replicates"
            legacy = extra.pop("bootstrap_params", None)  # files written before replicates
            replicates = None
            if d.get("replicates") is not None:
                replicates = Replicates.from_dict(d["replicates"])
            elif legacy:
                replicates = Replicates.from_dict({"values": legacy})
            key = "residuals"
            raw = d.get("residuals", extra.pop("residuals", None))
            residuals = None if raw is None else np.array([_num(x) for x in _list(raw)])
            key = "convention"
            convention = SIX_ND
            if d.get("convention") is not None:
                convention = FlopsConvention.from_dict(_mapping(d["convention"])) or SIX_ND
        except ScalingLawsError as exc:
            raise DataError(f"{source}, key '{key}': {exc}") from None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise DataError(
                f"{source}, key '{key}', is not what Fit.to_json() writes ({exc}); write the fit "
                "again with Fit.to_json() or 'scalinglaws fit RUNS -o FIT.json'"
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
            replicates=replicates,
            residuals=residuals,
            convention=convention,
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
        from scalinglaws.runs_read import loads_json

        try:
            d = loads_json(text, name)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}); give a fit written "
                "by Fit.to_json() or 'scalinglaws fit RUNS -o FIT.json'"
            ) from None
        fit = cls.from_dict(d, source=name)
        if cls is Fit and fit.approach == "auto":  # its own result type answers with intervals
            from scalinglaws.fit.auto import AutoFitResult

            return AutoFitResult.from_fit(fit)
        return fit


def _mapping(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TypeError(f"expected an object, got {type(v).__name__}")
    return v


def _diagnostic(x: Any) -> Diagnostic:
    """A saved diagnostic: code, severity and message strings, data an object."""
    x = _mapping(x)
    unknown = sorted(set(x) - {"code", "severity", "message", "data"})
    if unknown:
        raise TypeError(f"a diagnostic has unknown keys {unknown}")
    for name in ("code", "severity", "message"):
        if not isinstance(x.get(name), str):
            raise TypeError(f"a diagnostic's {name!r} must be a string, got {x.get(name)!r}")
    data = x.get("data")
    return Diagnostic.saved(
        x["code"], x["severity"], x["message"], None if data is None else _mapping(data)
    )


#: A standard error is shown only when it is at most this many times the one the interval
#: implies for a normal distribution (width / (2·z)); beyond, the bootstrap distribution is
#: heavy-tailed (a few wild replicates) and the standard error says nothing about the rest.
HEAVY_TAIL_RATIO = 2.0
HEAVY_TAIL_WORDS = (
    "std err — : heavy-tailed bootstrap distribution (its standard deviation is more than "
    f"{HEAVY_TAIL_RATIO:g}× the one its interval implies); read the interval"
)


def meaningful_stderr(
    stderr: float | None, interval: tuple[float, float] | None, level: float
) -> float | None:
    """``stderr``, or None when it does not describe the bootstrap distribution: when it
    exceeds :data:`HEAVY_TAIL_RATIO` times the standard deviation a normal distribution with
    the equal-tailed ``level`` interval ``interval`` would have, (high − low) / (2·z)."""
    if stderr is None or not math.isfinite(stderr):
        return None
    if interval is None:
        return stderr
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    implied = (interval[1] - interval[0]) / (2 * z)
    if not math.isfinite(implied) or stderr > HEAVY_TAIL_RATIO * implied:
        return None
    return stderr


def _pair(v: Any) -> list[float]:
    """A [low, high] pair of finite numbers, low <= high."""
    v = _list(v)
    if len(v) != 2:
        raise ValueError(f"expected [low, high], got {len(v)} values")
    lo, hi = _num(v[0]), _num(v[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"expected [low, high] with finite low <= high, got {v!r}")
    return [lo, hi]


def _data_range(v: Any) -> dict[str, list[float]]:
    """``extra["data_range"]``: each of N, D, C, L (those present) a [min, max] pair."""
    return {str(k): _pair(r) for k, r in _mapping(v).items()}


def _extrapolation(v: Any) -> dict[str, Any]:
    """``extra["extrapolation"]``: the range of C a power law was fitted over, in words."""
    v = _mapping(v)
    for name in ("what", "consequence"):
        if not isinstance(v.get(name), str):
            raise TypeError(f"its {name!r} must be a string, got {v.get(name)!r}")
    return {**v, "range": [_num(x) for x in _list(v.get("range"))]}


#: The numbers each IsoFLOP profile of an Approach 2 fit holds (``extra["profiles"]``).
_PROFILE_NUMBERS = ("C", "C_low", "C_high", "N_low", "N_high", "N_opt", "D_opt", "L_opt")


def _profile(v: Any) -> dict[str, Any]:
    """One of ``extra["profiles"]``: its numbers, flags and polynomial of the right types."""
    v = dict(_mapping(v))
    for name in _PROFILE_NUMBERS:
        if name not in v:
            raise ValueError(f"a profile must hold {name!r} (and {', '.join(_PROFILE_NUMBERS)})")
        v[name] = _num(v[name])
    if v.get("N_ref") is not None:
        v["N_ref"] = _num(v["N_ref"])
    for name in ("used", "interior"):
        if not isinstance(v.get(name, True), bool):
            raise TypeError(f"a profile's {name!r} must be true or false, got {v[name]!r}")
    if v.get("poly") is not None:
        v["poly"] = [_num(c) for c in _list(v["poly"])]
        if v.get("N_ref") is None:
            raise ValueError("a profile with a polynomial ('poly') must hold its 'N_ref'")
    return v


def _envelope(v: Any) -> dict[str, Any]:
    """``extra["envelope"]`` of an Approach 1 fit: C, N, D, L numbers of one length, ``used``
    flags and run ids."""
    v = dict(_mapping(v))
    size = None
    for name in ("C", "N", "D", "L"):
        v[name] = [_num(x) for x in _list(v.get(name))]
        if size is not None and len(v[name]) != size:
            raise ValueError(f"the envelope's {name!r} has {len(v[name])} values, not {size}")
        size = len(v[name])
    if "used" in v:
        used = _list(v["used"])
        if len(used) != size or not all(isinstance(u, bool) for u in used):
            raise TypeError(f"the envelope's 'used' must be {size} values true or false")
    if "run_id" in v:
        ids = _list(v["run_id"])
        if len(ids) != size or not all(i is None or isinstance(i, str) for i in ids):
            raise TypeError(f"the envelope's 'run_id' must be {size} strings or nulls")
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError(f"expected a list, got {type(v).__name__}")
    return v


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"expected a number, got {v!r}")
    return float(v)


def _words(value: Any) -> str:
    """A method or data value as a reader wants it: floats to 6 significant digits, a list as
    its items joined by '; ' ('none' when empty)."""
    if isinstance(value, float):
        return _fmt(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(_words(v) for v in value) if value else "none"
    return str(value)


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.4g}"
    return f"{x:.5g}"
