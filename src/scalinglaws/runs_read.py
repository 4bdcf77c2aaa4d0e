"""Reading a runs table from a file (CSV, TSV, Parquet, JSON Lines, JSON) or a DataFrame into
a raw :class:`pandas.DataFrame`, with the row numbering a person sees
(:mod:`scalinglaws.runs` validates it)."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
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
    if isinstance(source, str) and source.startswith("dataset:"):  # a shipped data set
        from scalinglaws.datasets import verified_path

        return _read_csv(verified_path(source), source, ".csv.gz")
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
                f"runs file {name} is a sweep folder; the commands (fit, backtest, report, plot) "
                "read it with the sweep's own FLOPs convention, and so does "
                "scalinglaws.report.sweep_folder.load_sweep(folder, None, 6.0) from Python (its "
                "table runs.csv alone would be read as C = k·N·D)"
            )
        raise DataError(f"runs file {name} is a directory; give a .csv, .parquet or .jsonl file")
    if not path.is_file():  # a named pipe, device or socket: reading it may wait forever
        raise DataError(
            f"runs file {name} is {_node_kind(path)}, not a regular file; save the runs to a "
            ".csv, .parquet or .jsonl file and give that"
        )
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
        _check_parquet_columns(path, name)
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataError(
                f"runs file {name} is not a readable Parquet file ({_first_line(exc)})"
            ) from None
        return table.reset_index(drop=True), name, "table", np.arange(1, len(table) + 1)
    return _read_json(path, name, suffix)


def _node_kind(path: Path) -> str:
    """What ``path``, which exists and is neither a folder nor a regular file, is, in words."""
    from scalinglaws.errors import _node_kind as kind_of_mode

    return kind_of_mode(path.stat().st_mode)


def _first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (pyarrow's run to many lines), without its period."""
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def _check_parquet_columns(path: Path, name: str) -> None:
    """A column name repeated in a Parquet file's schema is an error, as in a CSV header
    (pyarrow would otherwise fail with a many-line message of its internals)."""
    import pyarrow.parquet as pq

    try:
        names = [str(c) for c in pq.read_schema(path).names]
    except Exception:  # not Parquet: pd.read_parquet says so below
        return
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise DataError(
            f"runs file {name} has more than one column named {twice[0]!r}; give every column "
            "a distinct name"
        )


#: A .csv.gz runs file may decompress to at most this many bytes, and to more than
#: ``_GZIP_FLOOR`` only if within ``_GZIP_RATIO`` times its size on disk: a runs table
#: compresses a few times, a gzip bomb a thousand times.
_GZIP_MAX = 2**30
_GZIP_FLOOR = 64 * 2**20
_GZIP_RATIO = 200


class _GzipTooLarge(Exception):
    """Raised inside pandas' read when a .csv.gz decompresses past its cap."""


class _CappedGzip(io.RawIOBase):
    """The decompressed bytes of a gzip file, raising :class:`_GzipTooLarge` past ``cap``."""

    def __init__(self, path: Path, cap: int) -> None:
        self._gz = gzip.open(path, "rb")
        self._cap = cap
        self._total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._gz.readinto(buffer)
        self._total += n
        if self._total > self._cap:
            raise _GzipTooLarge
        return n

    def close(self) -> None:
        self._gz.close()
        super().close()


def _gzip_cap(path: Path) -> int:
    return min(_GZIP_MAX, max(_GZIP_FLOOR, _GZIP_RATIO * path.stat().st_size))


def _read_csv(path: Path, name: str, suffix: str) -> tuple[pd.DataFrame, str, str, np.ndarray]:
    sep = "\t" if suffix == ".tsv" else ","
    cap = _gzip_cap(path) if suffix == ".csv.gz" else 0
    try:
        with warnings.catch_warnings(), contextlib.ExitStack() as stack:
            warnings.simplefilter("error", pd.errors.ParserWarning)
            source: Any = path
            if cap:
                source = stack.enter_context(io.BufferedReader(_CappedGzip(path, cap)))
            table = pd.read_csv(
                source,
                sep=sep,
                index_col=False,  # never take a column as the index when rows are too long
                encoding="utf-8-sig",  # a byte-order mark (Excel's "CSV UTF-8") is not a name
                skip_blank_lines=False,
                keep_default_na=False,  # so a literal "nan" or "NA" is reported as written
                na_values=[""],
            )
    except _GzipTooLarge:
        raise DataError(
            f"runs file {name} decompresses to more than {cap // 2**20} MiB, too much for a "
            "runs table (a gzip bomb?); if it truly is one, decompress it and give the .csv"
        ) from None
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
            whole = loads_json(text, f"runs file {name}")
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
            records = loads_json(text, f"runs file {name}")
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
            rec = loads_json(line, f"runs file {name}", lineno)
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


class _IntTooLarge(Exception):
    """An integer literal no float holds (``args[0]`` is its text)."""


def _parse_int(text: str) -> int:
    # Beyond 309 digits no integer fits a float (and past 4,300 digits int() itself refuses).
    if len(text.lstrip("-")) > 309:
        raise _IntTooLarge(text)
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise _IntTooLarge(text) from None
    return value


def loads_json(text: str, where: str, first_line: int = 1) -> Any:
    """``json.loads(text)``, but an integer too large for a float or arrays and objects nested
    deeper than Python's JSON reader can follow raise :class:`DataError`: one sentence starting
    with ``where`` ("runs file X") and naming the line (``text`` begins on ``first_line``) and
    column.  A :class:`json.JSONDecodeError` is raised as is."""
    try:
        value = json.loads(text, parse_int=_parse_int)
        if "\\u" in text and _SURROGATE.search(text):
            _check_surrogates(value, text, where, first_line)
        return value
    except _IntTooLarge as exc:
        literal = exc.args[0]
        found = re.search(r"(?<![\w.+-])" + re.escape(literal) + r"(?![\w.])", text)
        pos = found.start() if found else 0
        digits = len(literal.lstrip("-"))
        shown = literal if digits <= 12 else f"{literal[:6]}…{literal[-3:]}"
        problem = (
            f"the integer {shown} ({digits} digits) is too large for a number (at most about "
            "1.8e308)"
        )
    except RecursionError:
        pos, depth = _deepest(text)
        problem = f"arrays or objects are nested {depth} deep, deeper than the JSON reader follows"
    line = first_line + text.count("\n", 0, pos)
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    raise DataError(f"{where}, line {line}, column {column}: {problem}") from None


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _check_surrogates(value: Any, text: str, where: str, first_line: int) -> None:
    """Raise :class:`DataError` when ``value`` (parsed from ``text``) holds half of a UTF-16
    surrogate pair: such a string is not text and cannot be written to a table or a page."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return
    except UnicodeEncodeError:
        pass
    pairs = {m.start() for m in _PAIR.finditer(text)} | {
        m.start() + 6 for m in _PAIR.finditer(text)
    }
    lone = next((m for m in _SURROGATE.finditer(text) if m.start() not in pairs), None)
    pos = lone.start() if lone else 0
    line = first_line + text.count("\n", 0, pos)
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    shown = lone.group(0) if lone else "a \\u escape"
    raise DataError(
        f"{where}, line {line}, column {column}: {shown} is half of a UTF-16 surrogate pair "
        "without its other half, not a character; write the character itself, or both "
        "halves of its pair"
    )


def _deepest(text: str) -> tuple[int, int]:
    """(position of the bracket that first reaches the deepest nesting, that depth), outside
    strings."""
    depth = best = where = 0
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > best:
                best, where = depth, i
        elif ch in "]}":
            depth -= 1
    return where, best
