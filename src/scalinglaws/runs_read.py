"""Reading a runs table from a file (CSV, TSV, Parquet, JSON Lines, JSON) or a DataFrame into
a raw :class:`pandas.DataFrame`, with the row numbering a person sees
(:mod:`scalinglaws.runs` validates it)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError
from scalinglaws.runs_columns import SUFFIXES


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
                    "runs table; give it where a saved fit is read (Fit.from_json, the "
                    "allocate and predict commands, a report's source)"
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
