"""Writing results: one atomic writer and one JSON cleaner for the whole package.

A crash never leaves a half-written file: :func:`atomic_write_text` writes a temporary file in
the same folder, flushes (and fsyncs) it, then renames it over the target, which POSIX makes
atomic.  :func:`jsonable` turns numpy values and non-finite floats into plain JSON values.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from scalinglaws.errors import check_regular, output_error


def atomic_write_text(path: str | Path, text: str, durable: bool = True) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, flushed and
    (when ``durable``) fsync'ed, then ``os.replace``-d over ``path`` and the folder fsync'ed.
    The file is readable by all (0644, not mkstemp's 0600); a path that cannot be written
    raises :class:`~scalinglaws.errors.OutputError`.

    Only a regular file (or a new path) is replaced: a device, named pipe or socket raises
    :class:`~scalinglaws.errors.OutputError` and is left as it is.  A symbolic link is kept
    and the file it points to is written (replaced atomically in its own folder), as
    ``open(path, "w")`` would."""
    path = Path(path)
    if path.is_dir():
        raise output_error(path, IsADirectoryError(21, "it is a folder"))
    check_regular(path)
    shown, path = path, _link_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(shown, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o644)  # mkstemp makes 0600; results are for sharing
            fh.write(text)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise output_error(shown, exc) from None
        raise
    if durable:
        _fsync_dir(path.parent)


def _link_target(path: Path) -> Path:
    """``path``, or the file a symbolic link at ``path`` points to (through every link of a
    chain): what a write to ``path`` replaces, so that the link itself is kept."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


def atomic_write_json(
    path: str | Path, obj: Any, durable: bool = True, indent: int | None = None
) -> None:
    """:func:`atomic_write_text` of ``obj`` as strict JSON (NaN and inf written as null)."""
    separators = (",", ":") if indent is None else None
    text = json.dumps(jsonable(obj), allow_nan=False, indent=indent, separators=separators)
    atomic_write_text(path, text, durable)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def jsonable(obj: Any) -> Any:
    """Plain JSON values: NaN/inf floats -> None, tuples -> lists, numpy arrays -> lists,
    numpy scalars -> Python numbers, paths and other objects -> their text."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return jsonable(obj.tolist())
    return str(obj)


__all__ = ["atomic_write_json", "atomic_write_text", "jsonable"]
