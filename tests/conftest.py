"""Shared fixtures.

The replication tests read published data from ``../shared/data`` (next to this checkout).
Where ``../shared`` exists (``make test``, CI) a missing file there is a failure, not a skip:
only a checkout without ``../shared`` at all skips them, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"


def shared_data_file(name: str) -> Path:
    """The path of ``../shared/data/<name>``: skips if ``../shared`` is absent, fails if only
    the file is."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the replication data are not available")
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.fail(
            f"{path} is missing although {SHARED} exists: the replication tests need it",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Callable[[str], Path]:
    """``shared_data("file.csv")``: see :func:`shared_data_file`; usable from fixtures of any
    scope."""
    return shared_data_file


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's output as piped to a file, whatever the environment running the
    tests says: no terminal width (``COLUMNS``) and no forced terminal or colour.  Tests of
    terminal output set these themselves."""
    for name in ("COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
