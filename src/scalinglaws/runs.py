"""Run tables: load, validate and filter the measurements that scaling laws are fitted to.

A :class:`Runs` is a validated table with the canonical columns ``N`` (parameters), ``D``
(training tokens seen at this measurement), ``C`` (training FLOPs spent by this measurement)
and ``L`` (loss, nats per token), plus ``run_id`` (which training run a row belongs to),
``is_final`` (the row is its run's last checkpoint) and, when the source has them, ``step``,
``group``, ``seed`` and ``U`` (unique training tokens, U_D of Muennighoff et al. 2023: the
run saw D / U epochs of its data, so U ≤ D; U = D is one epoch).  Any two of N, D, C determine
the third under the stated convention C = k·N·D (k = 6 by default: Kaplan et al. 2020
Table 1, Hoffmann et al. 2022 §3).

Every problem with the input is reported once, at this boundary, as a :class:`DataError`
whose message names the file, the row and the column.  Row numbers are those a person sees:
for CSV "data row r (line r+1)" counting the header as line 1, for JSON Lines the line of the
file, for Parquet and DataFrames the 1-based row (or the DataFrame's index label).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws import progress
from scalinglaws.errors import DataError, FitError
from scalinglaws.runs_columns import (
    _ROW_WORDS,
    AUTO_NAMES,  # noqa: F401 - the column vocabulary stays importable from here
    CANONICAL,
    DESCRIPTION,  # noqa: F401
    OPTIONAL,
    SUFFIXES,  # noqa: F401
    _check_duplicates,
    _check_flops,
    _check_positive_number,
    _compose_ids,
    _final_flags,
    _map_columns,
    _missing_message,
    _numeric,
    _optional,
    _parse_columns,
    _row_text,
    _where,
)
from scalinglaws.runs_read import _read


# ============================================================================ the table
class Runs:
    """A validated table of training measurements (see the module docstring for columns).

    Build one with :func:`load_runs`; the constructor takes an already canonical DataFrame.
    ``flops_per_param_token`` is the k of C = k·N·D; ``filters`` records, in plain words,
    every filter applied since loading; ``column_map`` maps canonical names to source
    columns, ``derived`` the canonical columns computed from others (e.g. ``D = C/(6·N)``).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        source: str = "DataFrame",
        column_map: dict[str, str] | None = None,
        derived: dict[str, str] | None = None,
        flops_per_param_token: float = 6.0,
        filters: Sequence[str] = (),
        row_kind: str = "table",
    ) -> None:
        missing = [c for c in CANONICAL if c not in df.columns]
        if missing:
            raise DataError(
                f"a Runs table needs the columns N, D, C and L, but {', '.join(missing)} "
                "is missing; build one with load_runs()"
            )
        df = df.reset_index(drop=True).copy()
        for col in CANONICAL:
            df[col] = df[col].astype(float)
        if "U" in df.columns:
            df["U"] = df["U"].astype(float)
        if "row" not in df.columns:
            df["row"] = np.arange(1, len(df) + 1)
        if "run_id" not in df.columns:
            df["run_id"] = df["row"].astype(str)
        if "is_final" not in df.columns:
            df["is_final"] = _final_flags(df)
        df["is_final"] = df["is_final"].astype(bool)
        self.df = df
        self.source = source
        self.column_map = dict(column_map or {})
        self.derived = dict(derived or {})
        self.flops_per_param_token = float(flops_per_param_token)
        self.filters = list(filters)
        self.row_kind = row_kind

    # ------------------------------------------------------------------ arrays
    @property
    def N(self) -> np.ndarray:
        """Parameters, as counted by the source's N column."""
        return self.df["N"].to_numpy(dtype=float)

    @property
    def D(self) -> np.ndarray:
        """Training tokens seen at each measurement."""
        return self.df["D"].to_numpy(dtype=float)

    @property
    def C(self) -> np.ndarray:
        """Training FLOPs spent by each measurement."""
        return self.df["C"].to_numpy(dtype=float)

    @property
    def L(self) -> np.ndarray:
        """Loss in nats per token."""
        return self.df["L"].to_numpy(dtype=float)

    @property
    def U(self) -> np.ndarray | None:
        """Unique training tokens of each row (D / U epochs), or None without a U column."""
        return self.df["U"].to_numpy(dtype=float) if "U" in self.df.columns else None

    @property
    def run_ids(self) -> np.ndarray:
        """The run each row belongs to (strings)."""
        return self.df["run_id"].to_numpy()

    @property
    def n_runs(self) -> int:
        """Number of distinct runs."""
        return int(self.df["run_id"].nunique())

    @property
    def has_curves(self) -> bool:
        """True when some run has more than one row (intermediate checkpoints)."""
        return bool(len(self.df) and self.df["run_id"].value_counts().max() > 1)

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        return (
            f"Runs({len(self)} rows, {self.n_runs} runs from {self.source}; "
            f"{self.mapping_text()}; filters: {self.filters or 'none'})"
        )

    # ------------------------------------------------------------------ selection
    def subset(self, mask: np.ndarray, note: str) -> Runs:
        """The rows where ``mask`` is true, with ``note`` appended to :attr:`filters`.
        ``is_final`` keeps its meaning: the run's last checkpoint in the source."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self),):
            raise DataError(
                f"a subset mask must have one entry per row ({len(self)}), got shape {mask.shape}"
            )
        return Runs(
            self.df.loc[mask].reset_index(drop=True),
            source=self.source,
            column_map=self.column_map,
            derived=self.derived,
            flops_per_param_token=self.flops_per_param_token,
            filters=[*self.filters, note],
            row_kind=self.row_kind,
        )

    def final(self) -> Runs:
        """Only each run's last checkpoint (the row with its largest D)."""
        if not self.has_curves and bool(self.df["is_final"].all()):
            return self
        kept = self.df["is_final"].to_numpy()
        return self.subset(
            kept, f"kept final checkpoints only (dropped {int((~kept).sum())} intermediate rows)"
        )

    # ------------------------------------------------------------------ description
    def where(self, i: int) -> str:
        """Where row ``i`` (0-based position in :attr:`df`) is in the source, in words."""
        return _where(self.row_kind, self.df["row"].iloc[i])

    def mapping_text(self) -> str:
        """The column mapping in words: ``N ← 'Model Size', ..., D = C/(6·N) (derived)``."""
        parts = [f"{k} ← '{v}'" for k, v in self.column_map.items()]
        parts += [f"{k} = {v} (derived)" for k, v in self.derived.items()]
        return ", ".join(parts)

    def ranges(self) -> dict[str, list[float]]:
        """[min, max] of N, D, C and L (and U when present) over the rows: what a fit saw, so
        that a saved fit can say how far beyond its data a request lies
        (``Fit.extra["data_range"]``)."""
        return {
            name: [float(self.df[name].min()), float(self.df[name].max())]
            for name in ("N", "D", "C", "L", "U")
            if name in self.df.columns
        }

    def describe(self) -> dict[str, Any]:
        """What went into a fit, for ``Fit.data``: source, rows, runs, mapping, convention,
        filters."""
        return {
            "source": self.source,
            "rows": len(self),
            "runs": self.n_runs,
            "columns": self.mapping_text(),
            "flops convention": f"C = {self.flops_per_param_token:g}·N·D",
            "filters": "; ".join(self.filters) if self.filters else "none",
        }


def as_runs(obj: Any) -> Runs:
    """Return ``obj`` if it is a :class:`Runs`, else :func:`load_runs` of it (a path or a
    DataFrame)."""
    if isinstance(obj, Runs):
        return obj
    return load_runs(obj)


# ============================================================================ loading
def load_runs(
    source: str | Path | pd.DataFrame | Runs,
    columns: dict[str, str] | str | None = None,
    flops_per_param_token: float = 6.0,
    drop_highest: int = 0,
    final_only: bool = False,
    min_fraction: float = 0.0,
    flops_tolerance: float = 0.1,
) -> Runs:
    """Load and validate a run table from CSV/TSV, Parquet, JSON Lines (or a JSON array of
    records), a pandas DataFrame, or a :class:`Runs` (filters are then applied to it).
    ``"dataset:NAME"`` reads a data set shipped with the package (:mod:`scalinglaws.datasets`),
    its own column mapping the default ``columns``.

    An optional column ``U`` holds each run's unique training tokens (``unique_tokens`` is
    recognised; every value must be > 0), for the data-constrained law of Muennighoff et al.
    2023 (:class:`scalinglaws.fit.data_constrained.DataConstrainedFit`).

    Columns are recognised by common names (see :data:`AUTO_NAMES`) or mapped explicitly by
    ``columns``: a dict ``{"N": "Model Size", ...}``, a string ``"N=Model Size,C=Training FLOP"``
    or the path of a small .yaml/.toml/.json file holding that mapping.  Any two of N, D, C
    give the third by C = k·N·D with ``k = flops_per_param_token`` (6: Kaplan et al. 2020,
    Table 1); when all three are given, rows where C/(k·N·D) differs from 1 by more than
    ``flops_tolerance`` raise the warning ``SL-RUNS-FLOPS-MISMATCH`` (C is used as given).

    Runs: rows sharing a run id belong to one run; without a run-id column but with a step
    column, each (group, N, seed) combination present is one run (said in ``Runs.derived``);
    otherwise every row is its own run.  ``is_final`` marks each run's last checkpoint (largest
    step, else largest D).  Fully identical rows, and one run measured twice at the same step
    (or D), are errors.

    Filters, applied in this order and recorded in ``Runs.filters``: ``final_only`` keeps each
    run's last checkpoint; ``min_fraction`` drops checkpoints with D below that fraction of
    their run's final D; ``drop_highest`` drops the k rows with the highest loss (Besiroglu et
    al. 2024 drop the 5 highest of Chinchilla's Figure 4 points).
    """
    k = _check_positive_number(flops_per_param_token, "flops_per_param_token (FLOPs per token)")
    tol = _check_positive_number(flops_tolerance, "flops_tolerance")
    if isinstance(source, Runs):
        runs = source
    else:
        if columns is None and isinstance(source, str) and source.startswith("dataset:"):
            from scalinglaws.datasets import default_columns

            columns = default_columns(source)  # the shipped data set's own mapping
        table, name, row_kind, rows = _read(source)
        runs = _validate(table, name, row_kind, rows, _parse_columns(columns), k, tol)
    runs = apply_filters(runs, drop_highest, final_only, min_fraction)
    progress.sized(len(runs))
    return runs


def apply_filters(
    runs: Runs, drop_highest: int = 0, final_only: bool = False, min_fraction: float = 0.0
) -> Runs:
    """Apply the three standard filters (see :func:`load_runs`), recording each."""
    if isinstance(drop_highest, bool) or not isinstance(drop_highest, (int, np.integer)):
        raise DataError(f"drop_highest must be a whole number >= 0, got {drop_highest!r}")
    if drop_highest < 0:
        raise DataError(f"drop_highest must be a whole number >= 0, got {drop_highest}")
    try:
        min_fraction = float(min_fraction)
    except (TypeError, ValueError):
        raise DataError(f"min_fraction must be a number in [0, 1), got {min_fraction!r}") from None
    if not 0.0 <= min_fraction < 1.0:
        raise DataError(
            f"min_fraction must be in [0, 1) (a fraction of each run's final tokens), "
            f"got {min_fraction:g}"
        )
    if final_only:
        runs = runs.final()
    if min_fraction > 0:
        d_final = runs.df.groupby("run_id", sort=False)["D"].transform("max").to_numpy()
        keep = runs.D >= min_fraction * d_final * (1 - 1e-12)
        runs = runs.subset(
            keep,
            f"dropped {int((~keep).sum())} checkpoints before {min_fraction:g} of their run's "
            "final tokens D",
        )
    if drop_highest:
        if drop_highest >= len(runs):
            raise DataError(
                f"drop_highest={drop_highest} would drop every one of the {len(runs)} rows of "
                f"{runs.source}; use a number below {len(runs)}"
            )
        order = np.argsort(-runs.L, kind="stable")[:drop_highest]
        keep = np.ones(len(runs), dtype=bool)
        keep[order] = False
        where = ", ".join(_row_text(runs.row_kind, r) for r in sorted(runs.df["row"].iloc[order]))
        runs = runs.subset(
            keep,
            f"dropped the {drop_highest} highest losses (L >= {runs.L[order].min():.4g}; "
            f"{_ROW_WORDS.get(runs.row_kind, 'rows')} {where})",
        )
    return runs


# ============================================================================ identifiability
def require_identifiable(
    runs: Any,
    law_variables: Sequence[str] | Any,
    min_distinct: int = 3,
    n_params: int | None = None,
) -> None:
    """Raise :class:`FitError` unless the runs can identify a law of ``law_variables``.

    Each variable (``"N"``, ``"D"``, ``"C"``) must take at least ``min_distinct`` distinct
    values (an exponent and an offset cannot be told apart from fewer); a law of (N, D) also
    needs N and D to vary independently (if log D is an affine function of log N -- every run
    at the same tokens per parameter -- the two exponents are confounded); and with
    ``n_params`` given there must be more rows than parameters.  ``law_variables`` may also be
    a law (its ``variables`` are used).
    """
    runs = as_runs(runs)
    names = tuple(getattr(law_variables, "variables", law_variables))
    for name in names:
        if name not in ("N", "D", "C"):
            raise FitError(f"cannot check identifiability of variable {name!r}; use N, D or C")
        values = runs.df[name].to_numpy(dtype=float)
        distinct = np.unique(np.round(np.log10(values), 6)) if len(values) else np.array([])
        if distinct.size < min_distinct:
            shown = ", ".join(f"{10**v:.3g}" for v in distinct[:5])
            raise FitError(
                f"the law's dependence on {name} cannot be identified: the {len(runs)} rows of "
                f"{runs.source} have only {distinct.size} distinct value(s) of {name}"
                + (f" ({shown})" if shown else "")
                + f", and at least {min_distinct} are needed"
            )
    if "N" in names and "D" in names and len(runs) >= 3:
        x = np.log(runs.N)
        y = np.log(runs.D)
        design = np.column_stack([np.ones_like(x), x])
        resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
        if np.std(resid) < 1e-6 * max(1.0, float(np.std(y))):
            ratio = np.median(runs.D / runs.N)
            raise FitError(
                f"the exponents of N and D cannot be told apart: in {runs.source} log D is a "
                f"linear function of log N (e.g. about {ratio:.3g} tokens per parameter for "
                "every run); add runs that vary D at fixed N"
            )
    if n_params is not None and len(runs) <= n_params:
        raise FitError(
            f"{runs.source} has {len(runs)} rows, too few to fit {n_params} parameters; "
            f"at least {n_params + 1} are needed"
        )


# ============================================================================ validation
def _check_one_size_per_run(df: pd.DataFrame, name: str, row_kind: str, derived: bool) -> None:
    """Every row of a run has the run's parameter count: one run id given to rows of
    different N (two runs merged under one id) is refused, naming the run and two rows.  N
    read from a column must agree to 1e-6 (relative); N derived as C/(k·D), from rounded C
    and D, to 1%."""
    tol = 1e-2 if derived else 1e-6
    n = df["N"].to_numpy(dtype=float)
    groups = df.groupby("run_id", sort=False)["N"]
    low, high = groups.transform("min").to_numpy(), groups.transform("max").to_numpy()
    bad = np.flatnonzero(high > low * (1 + tol))
    if not bad.size:
        return
    run = df["run_id"].iloc[bad[0]]
    mine = np.flatnonzero(df["run_id"].to_numpy() == run)
    a, b = int(mine[np.argmin(n[mine])]), int(mine[np.argmax(n[mine])])
    a, b = min(a, b), max(a, b)
    raise DataError(
        f"run '{run}' of {name} has {np.unique(n[mine]).size} different N values, "
        f"{_where(row_kind, df['row'].iloc[a])} (N={n[a]:.6g}) and "
        f"{_where(row_kind, df['row'].iloc[b])} (N={n[b]:.6g}) among them; every row of a run "
        "must have the same parameter count, so give each run its own id"
    )


def _validate(
    table: pd.DataFrame,
    name: str,
    row_kind: str,
    rows: np.ndarray,
    explicit: dict[str, str],
    k: float,
    tol: float,
) -> Runs:
    if len(table) == 0:
        raise DataError(f"{name} has no data rows")
    mapping = _map_columns(table, explicit, name)
    have = [c for c in ("N", "D", "C") if c in mapping]
    if len(have) < 2 or "L" not in mapping:
        raise DataError(_missing_message(table, name, mapping), argument="columns")
    by_str = {str(c): c for c in table.columns}
    values = {
        canon: _numeric(table[by_str[mapping[canon]]], canon, mapping[canon], name, row_kind, rows)
        for canon in ("N", "D", "C", "L")
        if canon in mapping
    }
    derived: dict[str, str] = {}
    if "N" not in values:
        values["N"] = values["C"] / (k * values["D"])
        derived["N"] = f"C/({k:g}·D)"
    elif "D" not in values:
        values["D"] = values["C"] / (k * values["N"])
        derived["D"] = f"C/({k:g}·N)"
    elif "C" not in values:
        values["C"] = k * values["N"] * values["D"]
        derived["C"] = f"{k:g}·N·D"
    else:
        _check_flops(values, k, tol, name, row_kind, rows)

    df = pd.DataFrame({c: values[c] for c in CANONICAL})
    df["row"] = rows
    for opt in ("step", "group", "seed"):
        if opt in mapping:
            column = table[by_str[mapping[opt]]]
            df[opt] = _optional(column, opt, mapping[opt], name, row_kind, rows)
    if "U" in mapping:
        df["U"] = _numeric(table[by_str[mapping["U"]]], "U", mapping["U"], name, row_kind, rows)
        _check_unique_tokens(df, mapping["U"], name, row_kind, rows)
    if "run_id" in mapping:
        ids = table[by_str[mapping["run_id"]]]
        bad = ids.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{name}, {_where(row_kind, rows[i])}, column '{mapping['run_id']}': the run id "
                "is empty; every row needs the id of the run it belongs to"
            )
        df["run_id"] = ids.astype(str).str.strip().to_numpy()
        run_note = None
    elif "step" in mapping:
        keys = [c for c in ("group", "N", "seed") if c in df.columns]
        df["run_id"] = _compose_ids(df, keys)
        run_note = f"each ({', '.join(keys)}) combination"
    else:
        df["run_id"] = [str(r) for r in rows]
        run_note = None
    _check_duplicates(df, mapping, name, row_kind)
    if "run_id" in mapping:
        _check_one_size_per_run(df, name, row_kind, derived="N" in derived)
    df["is_final"] = _final_flags(df)
    column_map = {c: str(mapping[c]) for c in (*CANONICAL, *OPTIONAL) if c in mapping}
    if run_note:
        derived["run_id"] = run_note
    return Runs(
        df,
        source=name,
        column_map=column_map,
        derived=derived,
        flops_per_param_token=k,
        row_kind=row_kind,
    )


def _check_unique_tokens(
    df: pd.DataFrame, column: Any, name: str, row_kind: str, rows: Sequence[Any]
) -> None:
    """Refuse a row whose unique tokens U exceed its training tokens D: U counts the distinct
    tokens a run trained on (Muennighoff et al. 2023's U_D; the run saw D/U epochs), so U <= D
    (a relative tolerance of 1e-9 forgives rounding)."""
    u, d = df["U"].to_numpy(dtype=float), df["D"].to_numpy(dtype=float)
    bad = u > d * (1.0 + 1e-9)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name}, {_where(row_kind, rows[i])}, column '{column}': unique tokens U = "
            f"{u[i]:.4g} exceed the tokens trained D = {d[i]:.4g}; U counts the distinct tokens "
            "a run trained on (D/U epochs), so it is at most D -- check that the U and D columns "
            "are not swapped"
        )
