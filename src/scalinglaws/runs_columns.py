"""The columns of a runs table: their canonical names and descriptions, mapping a file's
columns onto them (explicit ``--columns``-style mappings and automatic recognition), and the
checks of each value, reported with the file, row and column at fault
(:mod:`scalinglaws.runs` uses them)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import DataError, QuantityError, did_you_mean, warn

CANONICAL = ("N", "D", "C", "L")
OPTIONAL = ("run_id", "step", "group", "seed", "U")
DESCRIPTION = {
    "N": "parameters",
    "D": "training tokens",
    "C": "training FLOPs",
    "L": "loss",
    "run_id": "run id",
    "step": "step",
    "group": "group",
    "seed": "seed",
    "U": "unique tokens",
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
    # unique tokens U_D of a run (Muennighoff et al. 2023): D / U is the number of epochs
    "U": ("u", "unique_tokens", "u_d", "n_unique_tokens", "num_unique_tokens", "unique_data"),
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
    "u": "U",
    "unique_tokens": "U",
}

# Words that hint at a column's meaning, used to suggest a mapping when one is missing.
_HINTS = {
    "N": ("param", "size", "model"),
    "D": ("token", "data"),
    "C": ("flop", "compute", "budget"),
    "L": ("loss", "nll", "ppl", "perplex"),
}

SUFFIXES = (".csv", ".tsv", ".csv.gz", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


#: The usable range of each quantity, both ends included.  The fits work on logarithms, but
#: C = k·N·D, N = C/(k·D), the losses' powers and the bootstrap's sums are plain floating
#: point: with N and D up to 1e30, k up to 1e3 and C up to 1e65 every product and quotient of
#: them stays far inside float64 (about 1e-308 to 1e308), and no real run comes near the
#: ends (the largest trainings are about 1e13 parameters, 1e14 tokens and 1e27 FLOPs).
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "N": (1e-6, 1e30),
    "D": (1e-6, 1e30),
    "C": (1e-6, 1e65),
    "L": (1e-9, 1e9),
    "U": (1e-6, 1e30),
}

#: The usable range of k in C = k·N·D (6 by Kaplan et al. 2020; any real accounting is
#: within a factor of a few of it).
FLOPS_PER_TOKEN_RANGE: tuple[float, float] = (1e-3, 1e3)

# arguments of load_runs checked by _check_positive_number that have a usable range
_ARGUMENT_RANGES = {"flops_per_param_token": FLOPS_PER_TOKEN_RANGE}


def _range_text(low: float, high: float) -> str:
    return f"from {low:g} to {high:g}"


def _quote(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error sentence quotes what it was
    given, never megabytes of it.  A container is named by its type and size, never
    expanded (a YAML alias bomb of 300 bytes holds millions of shared items)."""
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "…"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ============================================================================ internals
def _check_positive_number(value: Any, what: str) -> float:
    """``value`` as a finite float > 0; arguments in :data:`_ARGUMENT_RANGES` (named by the
    first word of ``what``) must also lie in their usable range."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise DataError(
            f"{what} must be a finite number greater than 0, got {_quote(value)}"
        ) from None
    if not math.isfinite(x) or x <= 0:
        raise DataError(f"{what} must be a finite number greater than 0, got {_quote(value)}")
    bounds = _ARGUMENT_RANGES.get(what.split()[0]) if what.split() else None
    if bounds is not None and not bounds[0] <= x <= bounds[1]:
        raise DataError(
            f"{what} must be {_range_text(*bounds)} (the range the arithmetic of the fits "
            f"handles), got {_quote(value)}",
            argument=what.split()[0],
        )
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
                    f"cannot read the column mapping {_quote(columns)} at "
                    f"{_quote(part.strip())}; write it "
                    'as comma-separated KEY=COLUMN pairs, e.g. "N=Model Size,C=Training FLOP"'
                )
            if key.strip() in pairs:
                raise DataError(
                    f"the column mapping {_quote(columns)} gives {key.strip()[:40]} twice; "
                    "give each key once"
                )
            pairs[key.strip()] = value.strip()
        if not pairs:
            raise DataError(
                f"the column mapping {_quote(columns)} is empty; write it as comma-separated "
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
                f"unknown column key {_quote(str(key))} in the column mapping"
                + did_you_mean(
                    str(key), ["N", "D", "C", "L", "U", "run_id", "step", "group", "seed"]
                )
            )
        if canon in out:
            raise DataError(f"the column mapping gives {canon} twice; give each key once")
        if not isinstance(value, str) or not value.strip():
            raise DataError(
                f"the column mapping for {canon} must be a column name, got {_quote(value)}"
            )
        twin = next((k for k, v in out.items() if v == value.strip()), None)
        if twin is not None:
            raise DataError(
                f"the column mapping gives the column {_quote(value.strip())} to both {twin} and "
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
    for key, value in data.items():  # refuse containers before anything expands them
        if isinstance(value, (list, tuple, dict, set)):
            raise DataError(
                f"column-mapping file {path} maps {_quote(str(key), 40)} to "
                f"{_quote(value)}; "
                "each key must map to one column name, e.g. N: Model Size"
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
                f'columns="{canon}=<name>"',
                stacklevel=4,
                argument="columns",
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
        f'; map them with columns="{",".join(suggestions)}"'
        if suggestions
        else '; map them with columns="KEY=COLUMN,..."'
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
    allow_units = canon in ("N", "D", "C", "U")
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_complex_dtype(series.dtype):
        problems = [(i, f"{_quote(v)} is not a real number") for i, v in enumerate(series.tolist())]
    elif pd.api.types.is_numeric_dtype(series.dtype):
        out = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        for i, v in enumerate(series.tolist()):
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                continue
            if isinstance(v, (bool, complex, np.complexfloating)):
                problems.append((i, f"{_quote(v)} is not a real number"))
                continue
            if isinstance(v, (int, float, np.integer, np.floating)):
                out[i] = float(v)
                continue
            text = str(v).strip()
            if text.lower() in ("na", "n/a", "null", "none", "nan", "-nan"):
                problems.append((i, f"the value is missing ({_quote(text)})"))
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
            problems.append((i, f"{_quote(text)} is not a number"))
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
    low, high = VALUE_RANGES[canon]
    outside = np.isfinite(out) & (out > 0) & ((out < low) | (out > high))
    if not problems and outside.any():
        bad = np.flatnonzero(outside)
        i = int(bad[0])
        more = f" ({len(bad) - 1} more such cells in this column)" if len(bad) > 1 else ""
        raise DataError(
            f"{name}, {_where(row_kind, rows[i])}, column '{col}': {out[i]:g} is outside the "
            f"usable range of {canon} ({DESCRIPTION[canon]}), {_range_text(low, high)}, that the "
            f"arithmetic of the fits handles{more}"
        )
    if problems:
        problems.sort()
        i, what = problems[0]
        more = f" ({len(problems) - 1} more bad cells in this column)" if len(problems) > 1 else ""
        raise DataError(
            f"{name}, {_where(row_kind, rows[i])}, column '{col}': {what}; every value of "
            f"{canon} ({DESCRIPTION[canon]}) must be a finite number greater than 0{more}"
        )
    return out


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
            f"{name}, {_where(row_kind, rows[i])}, column '{col}': {_quote(series.iloc[i])} "
            f"is not a valid {opt}; every {opt} must be a "
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
        f"convention C = k·N·D, give its k as flops_per_param_token=k, e.g. {k * med:.3g}",
        stacklevel=4,
        argument="flops_per_param_token",
    )


def _check_duplicates(df: pd.DataFrame, mapping: dict[str, str], name: str, row_kind: str) -> None:
    keys = [
        c for c in ("run_id", "N", "D", "C", "L", "U", "step", "group", "seed") if c in df.columns
    ]
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
