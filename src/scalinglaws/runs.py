"""Run tables: load, validate and filter the measurements that scaling laws are fitted to.

A :class:`Runs` is a validated table with the canonical columns ``N`` (parameters), ``D``
(training tokens seen at this measurement), ``C`` (training FLOPs spent by this measurement)
and ``L`` (loss, nats per token), plus ``run_id`` (which training run a row belongs to),
``is_final`` (the row is its run's last checkpoint) and, when the source has them, ``step``,
``group`` and ``seed``.  Any two of N, D, C determine the third under the stated convention
C = k·N·D (k = 6 by default: Kaplan et al. 2020 Table 1, Hoffmann et al. 2022 §3).

Every problem with the input is reported once, at this boundary, as a :class:`DataError`
whose message names the file, the row and the column.  Row numbers are those a person sees:
for CSV "data row r (line r+1)" counting the header as line 1, for JSON Lines the line of the
file, for Parquet and DataFrames the 1-based row (or the DataFrame's index label).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError, FitError, QuantityError, did_you_mean, warn

CANONICAL = ("N", "D", "C", "L")
OPTIONAL = ("run_id", "step", "group", "seed")
DESCRIPTION = {
    "N": "parameters",
    "D": "training tokens",
    "C": "training FLOPs",
    "L": "loss",
    "run_id": "run id",
    "step": "step",
    "group": "group",
    "seed": "seed",
}

# Column names recognised automatically, compared after lower-casing and turning spaces and
# hyphens into underscores.  Earlier names win when a table has several.
AUTO_NAMES: dict[str, tuple[str, ...]] = {
    "N": (
        "n",
        "params",
        "parameters",
        "n_params",
        "num_params",
        "n_parameters",
        "num_parameters",
        "nparams",
        "model_size",
    ),
    "D": (
        "d",
        "tokens",
        "t",
        "n_tokens",
        "num_tokens",
        "training_tokens",
        "train_tokens",
        "tokens_seen",
        "tokens_so_far",
        "tokens_approx",
    ),
    "C": (
        "c",
        "flops",
        "compute",
        "training_flop",
        "training_flops",
        "train_flops",
        "total_flops",
    ),
    "L": (
        "l",
        "loss",
        "val_loss",
        "train_loss",
        "final_loss",
        "eval_loss",
        "valid_loss",
        "validation_loss",
        "test_loss",
        "lm_loss",
        "train_lm_loss",
    ),
    "run_id": ("run_id", "run", "run_name", "runid"),
    "step": ("step", "iteration", "iter", "global_step", "steps"),
    "group": ("group", "family"),
    "seed": ("seed",),
}

# Keys accepted by ``columns=`` (case-insensitive), mapped to the canonical name.
_KEY_ALIASES = {
    "n": "N",
    "d": "D",
    "c": "C",
    "l": "L",
    "run_id": "run_id",
    "run": "run_id",
    "step": "step",
    "group": "group",
    "family": "group",
    "seed": "seed",
}

# Words that hint at a column's meaning, used to suggest a mapping when one is missing.
_HINTS = {
    "N": ("param", "size", "model"),
    "D": ("token", "data"),
    "C": ("flop", "compute", "budget"),
    "L": ("loss", "nll", "ppl", "perplex"),
}

SUFFIXES = (".csv", ".tsv", ".csv.gz", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


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
        """[min, max] of N, D, C and L over the rows: what a fit saw, so that a saved fit can
        say how far beyond its data a request lies (``Fit.extra["data_range"]``)."""
        return {
            name: [float(self.df[name].min()), float(self.df[name].max())]
            for name in ("N", "D", "C", "L")
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
        table, name, row_kind, rows = _read(source)
        runs = _validate(table, name, row_kind, rows, _parse_columns(columns), k, tol)
    return apply_filters(runs, drop_highest, final_only, min_fraction)


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


# ============================================================================ internals
def _check_positive_number(value: Any, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be a finite number greater than 0, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise DataError(f"{what} must be a finite number greater than 0, got {value!r}")
    return x


_ROW_WORDS = {
    "csv": "data rows",
    "jsonl": "lines",
    "json": "records",
    "frame": "index labels",
    "table": "rows",
}


def _row_text(row_kind: str, row: Any) -> str:
    return repr(row) if row_kind == "frame" else str(int(row))


def _where(row_kind: str, row: Any) -> str:
    if row_kind == "csv":
        return f"data row {int(row)} (line {int(row) + 1})"
    if row_kind == "jsonl":
        return f"line {int(row)}"
    if row_kind == "json":
        return f"record {int(row)}"
    if row_kind == "frame":
        return f"index {row!r}"
    return f"row {row}"


def _read(source: Any) -> tuple[pd.DataFrame, str, str, np.ndarray]:
    """Return (table, name for messages, row kind, row labels as the user sees them)."""
    if isinstance(source, pd.DataFrame):
        names = [str(c) for c in source.columns]
        twice = sorted({c for c in names if names.count(c) > 1})
        if twice:
            raise DataError(
                f"the DataFrame has more than one column named {twice[0]!r}; give every column a "
                "distinct name (e.g. df.loc[:, ~df.columns.duplicated()])"
            )
        if (
            len(source.index)
            and not isinstance(source.index, pd.RangeIndex)
            and source.index.is_unique
        ):
            return source.reset_index(drop=True), "the DataFrame", "frame", source.index.to_numpy()
        return (
            source.reset_index(drop=True),
            "the DataFrame",
            "table",
            np.arange(1, len(source) + 1),
        )
    if not isinstance(source, (str, Path)):
        raise DataError(
            f"runs must be a file path, a pandas DataFrame or a Runs table, got "
            f"{type(source).__name__}"
        )
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise DataError(f"runs file {name} does not exist")
    if path.is_dir():
        if (path / "runs.csv").is_file():
            raise DataError(
                f"runs file {name} is a sweep folder; give its table {path / 'runs.csv'} (final "
                f"losses) or {path / 'curves.csv'} (training curves)"
            )
        raise DataError(f"runs file {name} is a directory; give a .csv, .parquet or .jsonl file")
    lower = path.name.lower()
    suffix = next((s for s in SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        raise DataError(
            f"runs file {name} has extension '{path.suffix or '(none)'}'; runs can be read "
            "from .csv, .tsv, .parquet, .jsonl (or .ndjson) and .json files"
        )
    if suffix in (".csv", ".tsv", ".csv.gz"):
        return _read_csv(path, name, suffix)
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise DataError(
                f"reading {name} needs pyarrow; install it with pip install 'scalinglaws[parquet]'"
            ) from None
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(f"runs file {name} is not a readable Parquet file ({exc})") from None
        return table.reset_index(drop=True), name, "table", np.arange(1, len(table) + 1)
    return _read_json(path, name, suffix)


def _read_csv(path: Path, name: str, suffix: str) -> tuple[pd.DataFrame, str, str, np.ndarray]:
    sep = "\t" if suffix == ".tsv" else ","
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(
                path,
                sep=sep,
                index_col=False,  # never take a column as the index when rows are too long
                encoding="utf-8-sig",  # a byte-order mark (Excel's "CSV UTF-8") is not a name
                skip_blank_lines=False,
                keep_default_na=False,  # so a literal "nan" or "NA" is reported as written
                na_values=[""],
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"runs file {name} is empty; it needs a header and rows") from None
    except pd.errors.ParserWarning:
        raise DataError(
            f"runs file {name} has data rows with more fields than its header has column names; "
            "give every column a name in the header (or remove the extra separators)"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"runs file {name} is not valid CSV ({first.rstrip('.')})") from None
    except (OSError, EOFError) as exc:  # unreadable, or a .csv.gz that is not gzip
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        what = "gzip-compressed CSV" if suffix == ".csv.gz" else "a readable file"
        raise DataError(f"runs file {name} is not {what} ({reason})") from None
    header = [str(c) for c in table.columns]
    if len(header) == 1:
        other = next((c for c in (";", "\t", ",", "|") if c != sep and c in header[0]), None)
        if other is not None:
            shown = {";": "';'", "\t": "tabs", ",": "','", "|": "'|'"}[other]
            raise DataError(
                f"runs file {name} has one column named {header[0]!r}: it seems separated by "
                f"{shown}, but a {suffix} file is read "
                + ("tab-separated" if sep == "\t" else "comma-separated")
                + "; save it "
                + ("with tabs" if sep == "\t" else "with commas (or tab-separated as .tsv)")
            )
    _check_header(path, name, suffix, sep, header)
    rows = np.arange(1, len(table) + 1)
    blank = table.isna().all(axis=1).to_numpy()
    return table.loc[~blank].reset_index(drop=True), name, "csv", rows[~blank]


def _check_header(path: Path, name: str, suffix: str, sep: str, header: list[str]) -> None:
    """pandas renames a repeated column name ("N", "N.1"); a repeat in the file is an error."""
    import csv
    import gzip

    opener = gzip.open if suffix == ".csv.gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            raw = next(csv.reader(fh, delimiter=sep), [])
    except (OSError, UnicodeDecodeError, csv.Error, EOFError):
        return  # pandas read it; the header check is a courtesy
    names = [c.strip() for c in raw]
    twice = sorted({c for c in names if c and names.count(c) > 1})
    if twice:
        raise DataError(
            f"runs file {name} has more than one column named {twice[0]!r} in its header; give "
            "every column a distinct name"
        )


def _read_json(path: Path, name: str, suffix: str) -> tuple[pd.DataFrame, str, str, np.ndarray]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"runs file {name} is not UTF-8 text") from None
    except OSError as exc:
        raise DataError(f"runs file {name} cannot be read ({exc.strerror})") from None
    if text.lstrip().startswith("{"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None  # JSON Lines: one object per line, read below
        if isinstance(whole, dict):
            if str(whole.get("schema", "")).startswith("scalinglaws."):
                raise DataError(
                    f"runs file {name} is a saved scalinglaws result ({whole['schema']}), not a "
                    "runs table; use a fit with --fit (allocate, predict) or as a report SOURCE"
                )
            columnar = bool(whole) and all(isinstance(v, (list, dict)) for v in whole.values())
            if columnar or len([ln for ln in text.splitlines() if ln.strip()]) > 1:
                raise DataError(
                    f"runs file {name} holds one JSON object; write the runs as JSON Lines (one "
                    'object per line, e.g. {"N": 1e9, "D": 2e10, "L": 2.9}) or as a JSON array '
                    "of such objects"
                )
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"runs file {name} is not valid JSON ({exc.msg} at line {exc.lineno})"
            ) from None
        for i, rec in enumerate(records, start=1):
            if not isinstance(rec, dict):
                raise DataError(
                    f"runs file {name}, record {i}: expected an object of column values, "
                    f"got {type(rec).__name__}"
                )
        if not records:
            raise DataError(f"runs file {name} holds no records")
        return pd.DataFrame.from_records(records), name, "json", np.arange(1, len(records) + 1)
    records, lines = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"runs file {name}, line {lineno}: not valid JSON ({exc.msg})"
            ) from None
        if not isinstance(rec, dict):
            raise DataError(
                f"runs file {name}, line {lineno}: expected a JSON object of column values, "
                f"got {type(rec).__name__}"
            )
        records.append(rec)
        lines.append(lineno)
    if not records:
        raise DataError(f"runs file {name} holds no records")
    return pd.DataFrame.from_records(records), name, "jsonl", np.asarray(lines)


def _parse_columns(columns: dict[str, str] | str | Path | None) -> dict[str, str]:
    """Canonical name -> source column from a dict, a "N=a,C=b" string or a config file."""
    if columns is None:
        return {}
    if isinstance(columns, str) and "=" not in columns and Path(columns.strip()).exists():
        given = Path(columns.strip())
        if given.is_dir() or not given.name.lower().endswith((".yaml", ".yml", ".toml", ".json")):
            raise DataError(
                f"column-mapping file {given} must be a .yaml, .toml or .json file holding a "
                'mapping such as N: Model Size, or give the mapping itself, e.g. "N=Model Size"'
            )
    if isinstance(columns, Path) or (
        isinstance(columns, str)
        and "=" not in columns
        and columns.lower().endswith((".yaml", ".yml", ".toml", ".json"))
    ):
        columns = _read_column_config(Path(columns))
    if isinstance(columns, str):
        text = columns.strip()
        pairs: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, eq, value = part.partition("=")
            if not eq or not key.strip() or not value.strip():
                raise DataError(
                    f"cannot read the column mapping {columns!r} at {part.strip()!r}; write it "
                    'as comma-separated KEY=COLUMN pairs, e.g. "N=Model Size,C=Training FLOP"'
                )
            if key.strip() in pairs:
                raise DataError(
                    f"the column mapping {columns!r} gives {key.strip()} twice; give each key once"
                )
            pairs[key.strip()] = value.strip()
        if not pairs:
            raise DataError(
                f"the column mapping {columns!r} is empty; write it as comma-separated "
                'KEY=COLUMN pairs, e.g. "N=Model Size,C=Training FLOP"'
            )
        columns = pairs
    if not isinstance(columns, dict):
        raise DataError(
            f"columns must be a mapping like {{'N': 'Model Size'}}, got {type(columns).__name__}"
        )
    out: dict[str, str] = {}
    for key, value in columns.items():
        canon = _KEY_ALIASES.get(str(key).strip().lower())
        if canon is None:
            raise DataError(
                f"unknown column key {str(key)!r} in the column mapping"
                + did_you_mean(str(key), ["N", "D", "C", "L", "run_id", "step", "group", "seed"])
            )
        if canon in out:
            raise DataError(f"the column mapping gives {canon} twice; give each key once")
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"the column mapping for {canon} must be a column name, got {value!r}")
        twin = next((k for k, v in out.items() if v == value.strip()), None)
        if twin is not None:
            raise DataError(
                f"the column mapping gives the column '{value.strip()}' to both {twin} and "
                f"{canon}; each column can hold one quantity"
            )
        out[canon] = value.strip()
    return out


def _read_column_config(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise DataError(f"column-mapping file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise DataError(f"column-mapping file {path} cannot be read ({reason})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # pragma: no cover - Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # yaml, toml and json each raise their own error type
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"column-mapping file {path} cannot be parsed ({first})") from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict):
        raise DataError(
            f"column-mapping file {path} must hold a mapping like N: Model Size (optionally "
            "under a 'columns' key)"
        )
    return data


def _closest(name: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _norm(name: Any) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def _map_columns(table: pd.DataFrame, explicit: dict[str, str], name: str) -> dict[str, str]:
    present = [str(c) for c in table.columns]
    by_str = {str(c): c for c in table.columns}
    mapping: dict[str, str] = {}
    for canon, col in explicit.items():
        if col not in by_str:
            raise DataError(
                f"{name} has no column '{col}' (mapped to {canon}); columns present: "
                f"{', '.join(present)}" + _closest(col, present)
            )
        mapping[canon] = col
    used = set(mapping.values())
    normalised = {}
    for col in present:
        normalised.setdefault(_norm(col), col)
    for canon, candidates in AUTO_NAMES.items():
        if canon in mapping:
            continue
        hits = [normalised[c] for c in candidates if c in normalised and normalised[c] not in used]
        if not hits:
            continue
        mapping[canon] = hits[0]
        used.add(hits[0])
        if len(hits) > 1 and canon in CANONICAL:
            warn(
                "SL-RUNS-AMBIGUOUS-COLUMN",
                f"{name} has several columns for {DESCRIPTION[canon]} ({canon}): "
                f"{', '.join(hits)}; using '{hits[0]}' — map another with "
                f"columns='{canon}=<name>' (--columns)",
                stacklevel=4,
            )
    return mapping


def _missing_message(table: pd.DataFrame, name: str, mapping: dict[str, str]) -> str:
    present = [str(c) for c in table.columns]
    have = [c for c in ("N", "D", "C") if c in mapping]
    needed = [c for c in ("N", "D", "C") if c not in mapping] if len(have) < 2 else []
    if "L" not in mapping:
        needed.append("L")
    used = set(mapping.values())
    suggestions = []
    for canon in needed:
        for col in present:
            if col not in used and any(h in col.lower() for h in _HINTS[canon]):
                suggestions.append(f"{canon}={col}")
                used.add(col)
                break
    what = " and ".join(f"{DESCRIPTION[c]} ({c})" for c in needed)
    looked = "; ".join(f"{c}: {', '.join(AUTO_NAMES[c][:6])}" for c in needed)
    hint = (
        f'; map them with --columns "{",".join(suggestions)}" (columns={{...}})'
        if suggestions
        else '; map them with --columns "KEY=COLUMN,..." (columns={...})'
    )
    need_two = " (two of N, D, C are needed)" if len(have) < 2 else ""
    return (
        f"{name} has no column for {what}{need_two}; looked for {looked}; columns present: "
        f"{', '.join(present)}{hint}"
    )


def _numeric(
    series: pd.Series, canon: str, col: str, name: str, row_kind: str, rows: np.ndarray
) -> np.ndarray:
    """Parse one column to floats and check every value is finite and > 0."""
    out = np.full(len(series), np.nan)
    problems: list[tuple[int, str]] = []
    allow_units = canon in ("N", "D", "C")
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_complex_dtype(series.dtype):
        problems = [(i, f"{v!r} is not a real number") for i, v in enumerate(series.tolist())]
    elif pd.api.types.is_numeric_dtype(series.dtype):
        out = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        for i, v in enumerate(series.tolist()):
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                continue
            if isinstance(v, (bool, complex, np.complexfloating)):
                problems.append((i, f"{v!r} is not a real number"))
                continue
            if isinstance(v, (int, float, np.integer, np.floating)):
                out[i] = float(v)
                continue
            text = str(v).strip()
            if text.lower() in ("na", "n/a", "null", "none", "nan", "-nan"):
                problems.append((i, f"the value is missing ({text!r})"))
                continue
            try:
                out[i] = float(text)
                continue
            except ValueError:
                pass
            if allow_units:
                try:
                    from scalinglaws.units import parse_quantity

                    out[i] = parse_quantity(text, what=f"{DESCRIPTION[canon]}")
                    continue
                except (QuantityError, ImportError):
                    pass
            problems.append((i, f"{text!r} is not a number"))
    flagged = {p[0] for p in problems}
    empty = "the cell is empty" if row_kind in ("csv", "jsonl", "json") else "the value is NaN"
    for i in np.flatnonzero(~np.isfinite(out) | (out <= 0)):
        if i in flagged:
            continue
        v = out[i]
        if np.isnan(v):
            raw = series.iloc[i]
            problems.append((int(i), "the value is NaN" if isinstance(raw, str) else empty))
        elif np.isinf(v):
            problems.append((int(i), f"the value is {'' if v > 0 else '-'}infinite"))
        else:
            problems.append((int(i), f"{v:g} is not greater than 0"))
    if problems:
        problems.sort()
        i, what = problems[0]
        more = f" ({len(problems) - 1} more bad cells in this column)" if len(problems) > 1 else ""
        raise DataError(
            f"{name}, {_where(row_kind, rows[i])}, column '{col}': {what}; every value of "
            f"{canon} ({DESCRIPTION[canon]}) must be a finite number greater than 0{more}"
        )
    return out


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
        raise DataError(_missing_message(table, name, mapping))
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


def _optional(
    series: pd.Series, opt: str, col: str, name: str, row_kind: str, rows: np.ndarray
) -> np.ndarray:
    if opt == "group":
        return series.astype(str).to_numpy()
    parsed = pd.to_numeric(series, errors="coerce")
    bad = parsed.isna().to_numpy() | ~np.isfinite(parsed.to_numpy(dtype=float, na_value=np.nan))
    if bad.any() or (opt == "step" and (parsed < 0).any()):
        i = int(np.flatnonzero(bad | (parsed < 0).to_numpy() if opt == "step" else bad)[0])
        raise DataError(
            f"{name}, {_where(row_kind, rows[i])}, column '{col}': {series.iloc[i]!r} is not a "
            f"valid {opt}; every {opt} must be a "
            + ("whole number >= 0" if opt == "step" else "number")
        )
    values = parsed.to_numpy(dtype=float)
    if np.all(values == np.round(values)):
        return values.astype(np.int64)
    return values


def _compose_ids(df: pd.DataFrame, keys: list[str]) -> list[str]:
    def fmt(key: str, v: Any) -> str:
        return f"{key}={v:.4g}" if key == "N" else f"{key}={v}"

    return [
        " ".join(fmt(k, v) for k, v in zip(keys, vals, strict=True))
        for vals in zip(*(df[k].tolist() for k in keys), strict=True)
    ]


def _check_flops(
    values: dict[str, np.ndarray], k: float, tol: float, name: str, row_kind: str, rows: np.ndarray
) -> None:
    ratio = values["C"] / (k * values["N"] * values["D"])
    off = np.abs(ratio - 1) > tol
    if not off.any():
        return
    worst = int(np.argmax(np.abs(np.log(ratio))))
    med = float(np.median(ratio))
    warn(
        "SL-RUNS-FLOPS-MISMATCH",
        f"{int(off.sum())} of {len(ratio)} rows of {name} have C differing from {k:g}·N·D by "
        f"more than {tol:.0%} (median C/({k:g}·N·D) = {med:.3g}, worst {ratio[worst]:.3g} at "
        f"{_where(row_kind, rows[worst])}); C is used as given — if your C follows another "
        f"convention set flops_per_param_token (--flops-per-token), e.g. {k * med:.3g}",
        stacklevel=4,
    )


def _check_duplicates(df: pd.DataFrame, mapping: dict[str, str], name: str, row_kind: str) -> None:
    keys = [c for c in ("run_id", "N", "D", "C", "L", "step", "group", "seed") if c in df.columns]
    if "run_id" not in mapping and "step" not in mapping:
        keys.remove("run_id")  # one run per row: compare the measurements themselves
    dup = df.duplicated(subset=keys, keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        same = df[keys].iloc[first]
        twin = next(j for j in np.flatnonzero(dup) if j != first and df[keys].iloc[j].equals(same))
        raise DataError(
            f"{name} has duplicated rows: {_where(row_kind, df['row'].iloc[first])} and "
            f"{_where(row_kind, df['row'].iloc[twin])} are identical (N={df['N'].iloc[first]:.4g}, "
            f"D={df['D'].iloc[first]:.4g}, L={df['L'].iloc[first]:.6g}); remove one of them"
        )
    if "run_id" in mapping or "step" in mapping:
        by = "step" if "step" in df.columns else "D"
        dup = df.duplicated(subset=["run_id", by], keep=False).to_numpy()
        if dup.any():
            idx = np.flatnonzero(dup)
            first = int(idx[0])
            twin = next(
                int(j)
                for j in idx[1:]
                if df["run_id"].iloc[j] == df["run_id"].iloc[first]
                and df[by].iloc[j] == df[by].iloc[first]
            )
            raise DataError(
                f"{name}: run '{df['run_id'].iloc[first]}' has two measurements at the same "
                f"{by} ({df[by].iloc[first]:.6g}) with different values, at "
                f"{_where(row_kind, df['row'].iloc[first])} and "
                f"{_where(row_kind, df['row'].iloc[twin])}; each checkpoint must appear once"
            )


def _final_flags(df: pd.DataFrame) -> np.ndarray:
    """True for each run's last checkpoint: the row with the largest step (or D)."""
    by = "step" if "step" in df.columns else "D"
    if len(df) == 0:
        return np.zeros(0, dtype=bool)
    last = df.groupby("run_id", sort=False)[by].transform("max").to_numpy()
    flags = df[by].to_numpy() == last
    # ties cannot survive validation, but a hand-built frame may have them: keep the last row
    dup = pd.Series(flags).groupby(df["run_id"].to_numpy()).cumsum().to_numpy()
    total = pd.Series(flags).groupby(df["run_id"].to_numpy()).transform("sum").to_numpy()
    return flags & (dup == total)
