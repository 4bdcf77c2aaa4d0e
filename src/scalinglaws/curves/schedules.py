"""Learning-rate schedules as arrays: ``lr[i]`` is the learning rate of step ``i + 1``.

Three shapes, each with a linear warmup over the first ``warmup`` steps (``warmup`` < 1 is a
fraction of ``steps``):

* :func:`cosine` -- half a cosine from ``peak`` to ``min_ratio·peak`` at the last step
  (Loshchilov & Hutter 2017 without restarts; Hoffmann et al. 2022 decay to 10%).  It is the
  project trainer's :func:`scalinglaws.sweep.train.lr_at` evaluated at the end of each step.
* :func:`wsd` -- warmup, stable (constant) and a decay over the last ``decay_fraction`` of the
  steps, linear or "1-sqrt" (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training
  Beyond Fixed Training Durations"), to ``min_ratio·peak``.
* :func:`constant` -- warmup, then ``peak``.

A :class:`Schedule` is a name and parameters, parsed from text such as
``"cosine:warmup=100,min=0.1"`` or ``"wsd:decay=0.2,shape=1-sqrt"`` by :func:`parse_schedule`,
and turned into an array of any length by :meth:`Schedule.lr`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scalinglaws.errors import QuantityError

SCHEDULES: tuple[str, ...] = ("cosine", "wsd", "constant")
SHAPES: tuple[str, ...] = ("linear", "1-sqrt")
SCHEDULE_FORM = (
    "NAME[:key=value,...] with NAME one of cosine, wsd, constant and keys peak, warmup, min "
    "(cosine, wsd), decay and shape=linear|1-sqrt (wsd), e.g. 'cosine:warmup=100,min=0.1' or "
    "'wsd:decay=0.2,shape=1-sqrt'"
)
_KEYS = {
    "cosine": ("peak", "warmup", "min"),
    "wsd": ("peak", "warmup", "min", "decay", "shape"),
    "constant": ("peak", "warmup"),
}


def _warmup_steps(steps: int, warmup: float) -> int:
    w = float(warmup)
    if not (math.isfinite(w) and w >= 0):
        raise QuantityError(f"warmup must be a number of steps >= 0, got {warmup!r}")
    return int(round(w * steps)) if 0 < w < 1 else int(round(w))


def _steps(steps: int) -> np.ndarray:
    n = int(steps)
    if n < 1:
        raise QuantityError(f"steps must be at least 1, got {steps!r}")
    return np.arange(1, n + 1, dtype=float)


def _check_ratio(min_ratio: float) -> float:
    r = float(min_ratio)
    if not (0 <= r <= 1):
        raise QuantityError(f"min_ratio must be between 0 and 1, got {min_ratio!r}")
    return r


def cosine(steps: int, peak: float = 1.0, warmup: float = 0, min_ratio: float = 0.1) -> np.ndarray:
    """lr of steps 1..``steps``: peak·i/W for i < W, then
    peak·[r + (1 − r)·(1 + cos(π·p))/2] with p = (i − W)/(T − W), r = ``min_ratio``: the
    trainer's ``lr_at(i·b)`` for a run of T steps of b tokens and W·b warmup tokens."""
    t = _steps(steps)
    r = _check_ratio(min_ratio)
    W = _warmup_steps(int(steps), warmup)
    T = float(steps)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip((t - W) / max(T - W, 1e-300), 0.0, 1.0)
    lr = peak * (r + (1.0 - r) * 0.5 * (1.0 + np.cos(np.pi * p)))
    if W > 0:
        lr = np.where(t < W, peak * t / W, lr)
    return lr


def wsd(
    steps: int,
    peak: float = 1.0,
    warmup: float = 0,
    decay_fraction: float = 0.2,
    shape: str = "linear",
    min_ratio: float = 0.0,
) -> np.ndarray:
    """Warmup-stable-decay (Hägele et al. 2024): peak·i/W for i < W, ``peak`` until the last
    ``decay_fraction``·T steps, then with q = (i − S)/(T − S), S = (1 − f)·T, the progress
    through the decay, peak·[r + (1 − r)·(1 − q)] (``"linear"``) or peak·[r + (1 − r)·(1 − √q)]
    (``"1-sqrt"``): the trainer's ``lr_at`` with ``schedule="wsd"`` at the end of each step."""
    t = _steps(steps)
    r = _check_ratio(min_ratio)
    f = float(decay_fraction)
    if not (0 <= f <= 1):
        raise QuantityError(f"decay_fraction must be between 0 and 1, got {decay_fraction!r}")
    if shape not in SHAPES:
        raise QuantityError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    W = _warmup_steps(int(steps), warmup)
    T = float(steps)
    n_decay = f * T  # as the trainer: the decay starts at (1 − f)·T, unrounded
    start = T - n_decay
    q = np.clip((t - start) / n_decay, 0.0, 1.0) if n_decay > 0 else np.zeros_like(t)
    drop = q if shape == "linear" else np.sqrt(q)
    lr = peak * (1.0 - (1.0 - r) * drop)
    if W > 0:
        lr = np.where(t < W, peak * t / W, lr)
    return lr


def constant(steps: int, peak: float = 1.0, warmup: float = 0) -> np.ndarray:
    """``peak`` after a linear warmup of ``warmup`` steps (peak·i/W for i < W)."""
    t = _steps(steps)
    W = _warmup_steps(int(steps), warmup)
    lr = np.full_like(t, float(peak))
    if W > 0:
        lr = np.where(t < W, peak * t / W, lr)
    return lr


@dataclass(frozen=True)
class Schedule:
    """A schedule by name and parameters (``peak``, ``warmup``, ``min``, ``decay``, ``shape``,
    as in :data:`SCHEDULE_FORM`); :meth:`lr` gives its array for a run of ``steps`` steps."""

    name: str
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise QuantityError(f"unknown schedule {self.name!r}; the form is {SCHEDULE_FORM}")
        bad = [k for k in self.params if k not in _KEYS[self.name]]
        if bad:
            raise QuantityError(
                f"schedule {self.name!r} takes the keys {', '.join(_KEYS[self.name])}, "
                f"not {', '.join(bad)}; the form is {SCHEDULE_FORM}"
            )

    @property
    def peak(self) -> float:
        return float(self.params.get("peak", 1.0))

    def with_defaults(self, **defaults: object) -> Schedule:
        """This schedule with ``defaults`` filling the keys it does not set."""
        keys = _KEYS[self.name]
        return Schedule(
            self.name, {**{k: v for k, v in defaults.items() if k in keys}, **self.params}
        )

    def lr(self, steps: int) -> np.ndarray:
        """The learning rate of steps 1..``steps``."""
        p = self.params
        peak, warmup = float(p.get("peak", 1.0)), float(p.get("warmup", 0))
        if self.name == "cosine":
            return cosine(steps, peak, warmup, float(p.get("min", 0.1)))
        if self.name == "wsd":
            return wsd(
                steps,
                peak,
                warmup,
                float(p.get("decay", 0.2)),
                str(p.get("shape", "linear")),
                float(p.get("min", 0.0)),
            )
        return constant(steps, peak, warmup)

    def warmup_steps(self, steps: int) -> int:
        """Warmup length in steps for a run of ``steps`` steps."""
        return _warmup_steps(int(steps), float(self.params.get("warmup", 0)))

    def text(self) -> str:
        """The schedule as :func:`parse_schedule` reads it."""
        if not self.params:
            return self.name
        return (
            self.name
            + ":"
            + ",".join(
                f"{k}={v:g}" if not isinstance(v, str) else f"{k}={v}"
                for k, v in self.params.items()
            )
        )


def parse_schedule(text: str | Schedule, **defaults: object) -> Schedule:
    """A :class:`Schedule` from ``"NAME[:key=value,...]"`` (see :data:`SCHEDULE_FORM`);
    ``defaults`` fill the keys the text leaves out.  Raises :class:`QuantityError` saying the
    valid form when the text does not parse."""
    if isinstance(text, Schedule):
        return text.with_defaults(**defaults)
    raw = str(text).strip()
    name, _, rest = raw.partition(":")
    name = name.strip().lower()
    if name not in SCHEDULES:
        raise QuantityError(f"schedule {raw!r} does not parse; the form is {SCHEDULE_FORM}")
    params: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not key or not value:
            raise QuantityError(f"schedule {raw!r} does not parse; the form is {SCHEDULE_FORM}")
        if key == "shape":
            if value not in SHAPES:
                raise QuantityError(
                    f"schedule {raw!r}: shape must be linear or 1-sqrt, got {value!r}"
                )
            params[key] = value
            continue
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise QuantityError(
                f"schedule {raw!r}: {key} must be a number >= 0, got {value!r}; "
                f"the form is {SCHEDULE_FORM}"
            )
        params[key] = number
    return Schedule(name, params).with_defaults(**defaults)
