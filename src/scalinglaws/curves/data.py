"""Training curves from a runs table: one :class:`~scalinglaws.curves.fit.Curve` per run.

A run's points are its rows ordered by the ``step`` column (required: the laws count steps);
its schedule is either a learning-rate column (interpolated linearly between logged steps to
every step; its warmup ends at the first step reaching 99.9% of the largest rate) or a named
:class:`~scalinglaws.curves.schedules.Schedule` spanning the run's last logged step.  The
plain power law's variable is the step or, with ``x="tokens"``, the run's D column.

``dataset:pythia_train_loss`` comes with its schedule (:data:`PYTHIA_SCHEDULES`): Pythia was
trained for 143,000 steps with a linear warmup of 1% (1,430 steps) and a cosine decay to 10%
of the peak rate, peak 1e-3 for the 14m and 70m models and 6e-4 for 160m (Biderman et al.
2023, Table 6 and the released GPT-NeoX configs; 14m's peak is taken equal to 70m's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalinglaws.curves.fit import Curve
from scalinglaws.curves.schedules import Schedule, parse_schedule
from scalinglaws.errors import DataError
from scalinglaws.runs import Runs

PYTHIA_SCHEDULES: dict[float, str] = {
    14e6: "cosine:peak=0.001,warmup=1430,min=0.1",
    70e6: "cosine:peak=0.001,warmup=1430,min=0.1",
    160e6: "cosine:peak=0.0006,warmup=1430,min=0.1",
}


@dataclass(frozen=True)
class RunCurve:
    """One run's curve with its identity: ``run_id``, ``N``, ``seed`` (or None), the
    :class:`Curve`, and ``schedule`` in words."""

    run_id: str
    N: float
    seed: object
    curve: Curve
    schedule: str | None

    @property
    def final_step(self) -> int:
        return int(np.max(self.curve.steps))

    @property
    def final_loss(self) -> float:
        return float(self.curve.loss[np.argmax(self.curve.steps)])


def lr_from_column(steps: np.ndarray, lr: np.ndarray) -> tuple[np.ndarray, int]:
    """Every step's learning rate from rates logged at ``steps`` (linear interpolation, the
    first logged rate held before it), and the warmup length: the first step whose rate is at
    least 99.9% of the largest."""
    order = np.argsort(steps)
    s, v = np.asarray(steps, float)[order], np.asarray(lr, float)[order]
    if not (np.all(np.isfinite(v)) and np.all(v >= 0)):
        raise DataError("the learning-rate column must hold finite numbers >= 0")
    if not np.any(v > 0):
        raise DataError("the learning-rate column is zero everywhere")
    T = int(s[-1])
    full = np.interp(np.arange(1, T + 1, dtype=float), s, v)
    warmup = int(np.argmax(full >= 0.999 * full.max()))  # steps before the peak
    return full, warmup


def curves_from_runs(
    runs: Runs,
    lr: np.ndarray | None = None,
    schedule: str | Schedule | None = None,
    x: str = "step",
    dataset: str | None = None,
) -> list[RunCurve]:
    """One :class:`RunCurve` per run of ``runs`` (see the module docstring).  ``lr`` holds a
    learning rate per row of ``runs.df``; ``schedule`` names one for every run; with neither,
    the runs come without a schedule (only the power law fits them) unless ``dataset`` is
    ``"pythia_train_loss"``."""
    df = runs.df
    if "step" not in df.columns:
        raise DataError(
            "curve laws need a step column in the runs table (map it with --columns step=NAME)",
            argument="columns",
        )
    sched = None if schedule is None else parse_schedule(schedule)
    out = []
    for run_id, rows in df.groupby("run_id", sort=False):
        rows = rows.sort_values("step")
        steps = rows["step"].to_numpy(dtype=float)
        if np.any(steps < 1) or np.any(steps != np.round(steps)):
            raise DataError(f"run {run_id}: steps must be whole numbers >= 1")
        loss = rows["L"].to_numpy(dtype=float)
        T = int(steps.max())
        N = float(rows["N"].iloc[0])
        text = None
        full = None
        warmup = 0
        if lr is not None:
            full, warmup = lr_from_column(steps, np.asarray(lr, float)[rows.index.to_numpy()])
            text = "lr column"
        else:
            s = sched
            if s is None and dataset == "pythia_train_loss":
                s = parse_schedule(_pythia_schedule(N))
            if s is not None:
                full, warmup, text = s.lr(T), s.warmup_steps(T), s.text()
        xs = rows["D"].to_numpy(dtype=float) if x == "tokens" else None
        seed = rows["seed"].iloc[0] if "seed" in rows.columns else None
        out.append(RunCurve(str(run_id), N, seed, Curve(steps, loss, full, warmup, xs), text))
    return out


def _pythia_schedule(N: float) -> str:
    for size, text in PYTHIA_SCHEDULES.items():
        if abs(N / size - 1) < 0.05:
            return text
    raise DataError(f"no Pythia schedule known for a model of {N:g} parameters")


def find_run(curves: list[RunCurve], run_id: str) -> RunCurve:
    """The curve of ``run_id``, or a :class:`DataError` listing a few that exist."""
    for c in curves:
        if c.run_id == str(run_id):
            return c
    ids = [c.run_id for c in curves]
    shown = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    raise DataError(f"no run {run_id!r} in the table; runs are {shown}", argument="run")
