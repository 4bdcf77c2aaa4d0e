"""Reliability of reading and writing files (audit issue 11): a result never replaces what is
not ours (a device, a pipe, a symbolic link, someone's report.html); a runs file that is a
pipe, a gzip bomb or a Parquet file with a repeated column is refused in one sentence.

Each test here failed before the fix it guards.  No test trains a model or runs a long fit.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import threading
from pathlib import Path

import pandas as pd
import pytest

from scalinglaws import Fit
from scalinglaws.cli import main
from scalinglaws.errors import DataError, OutputError, check_writable
from scalinglaws.files import atomic_write_text
from test_bad_input import HOFFMANN, one_error, run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs_csv(tmp_path) -> Path:
    """Final losses of Hoffmann's law on a small IsoFLOP grid, as a CSV file."""
    rows = []
    for C in (1e18, 1e19, 1e20):
        for f in (0.3, 1.0, 3.0):
            N = 0.1 * (C / 6) ** 0.5 * f
            D = C / (6 * N)
            rows.append({"N": N, "D": D, "C": C, "L": float(HOFFMANN(N=N, D=D))})
    path = tmp_path / "runs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def cli_main():
    from scalinglaws.cli import cli
    from scalinglaws.cli import report as report_cli

    if "report" not in cli.commands:
        report_cli.register(cli)
    return main


# ============================================================================ outputs
def test_json_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path, runs_csv, capsys):
    """Chosen: write through the link (as open(path, 'w') would), never replace the link."""
    real = tmp_path / "results" / "fit.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    code, out, err = run(["fit", runs_csv, "-o", link], capsys)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["schema"].startswith("scalinglaws.fit/")
    assert not list(tmp_path.glob(".latest.json.*")) and not list(real.parent.glob(".*.tmp"))


def test_atomic_write_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "new.txt")
    atomic_write_text(link, "hello")
    assert link.is_symlink() and (tmp_path / "new.txt").read_text() == "hello"


def test_json_onto_a_named_pipe_is_refused_and_the_pipe_kept(tmp_path, runs_csv, capsys):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    msg = one_error(*run(["fit", runs_csv, "-o", fifo], capsys)[::2])
    assert f"-o {fifo}" in msg and "named pipe, not a regular file" in msg
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_atomic_write_refuses_a_pipe_and_a_symlink_to_one(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for path in (fifo, link):
        with pytest.raises(OutputError, match="named pipe, not a regular file"):
            atomic_write_text(path, "x")
        with pytest.raises(OutputError, match="named pipe, not a regular file"):
            check_writable(path, "-o")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()


def test_a_character_device_is_never_replaced(tmp_path, runs_csv, capsys):
    """As root, -o /dev/null replaced /dev/null; a copy of that node stands in for it."""
    dev = tmp_path / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    msg = one_error(*run(["fit", runs_csv, "-o", dev], capsys)[::2])
    assert f"-o {dev}" in msg and "character device, not a regular file" in msg
    with pytest.raises(OutputError, match="character device"):
        atomic_write_text(dev, "x")
    assert stat.S_ISCHR(os.lstat(dev).st_mode)


def test_dev_null_is_refused_before_any_write():
    """The check alone (no write is attempted, so this is safe even when run as root)."""
    with pytest.raises(OutputError, match="/dev/null .*character device"):
        check_writable("/dev/null", "-o")


@pytest.fixture
def saved_fit(tmp_path) -> Path:
    path = tmp_path / "fit.json"
    Fit(law=HOFFMANN, params=HOFFMANN.params, approach="3").to_json(path)
    return path


@pytest.mark.parametrize("name", ["report.html", "report.json"])
def test_report_refuses_to_overwrite_a_foreign_report(cli_main, tmp_path, saved_fit, capsys, name):
    """Chosen: a report.html / report.json without our schema marker is someone else's."""
    out = tmp_path / "site"
    out.mkdir()
    (out / name).write_text("<html>my own page</html>")
    argv = ["report", saved_fit, "-o", out, "--budgets", "1e21", "--formats", "png"]
    msg = one_error(*run(argv, capsys)[::2])
    assert f"{out} already holds a {name} that scalinglaws did not write" in msg
    assert (out / name).read_text() == "<html>my own page</html>"
    assert not (out / "figures").exists()  # refused before anything was written


def test_report_reruns_into_its_own_folder(cli_main, tmp_path, saved_fit, capsys):
    out = tmp_path / "site"
    argv = ["report", saved_fit, "-o", out, "--budgets", "1e21", "--formats", "png"]
    for _ in range(2):
        code, _, err = run(argv, capsys)
        assert code == 0, err
    assert "scalinglaws.report/" in (out / "report.html").read_text()


def test_report_refuses_a_pipe_named_report_html(cli_main, tmp_path, saved_fit, capsys):
    out = tmp_path / "site"
    out.mkdir()
    os.mkfifo(out / "report.html")
    argv = ["report", saved_fit, "-o", out, "--budgets", "1e21", "--formats", "png"]
    msg = one_error(*run(argv, capsys)[::2])
    assert "report.html" in msg and "named pipe" in msg


# ============================================================================ inputs
def _unblock(fifo: Path) -> threading.Timer:
    """Open ``fifo`` for writing after a while, so a test that reads it cannot hang."""

    def feed() -> None:
        with open(fifo, "w") as fh:
            fh.write("N,D,L\n1e9,2e10,2.9\n")

    timer = threading.Timer(5.0, feed)
    timer.daemon = True
    timer.start()
    return timer


@pytest.mark.parametrize("name", ["runs.csv", "runs.jsonl", "runs.csv.gz"])
def test_a_named_pipe_as_the_runs_file_is_refused(tmp_path, capsys, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    timer = _unblock(fifo)
    try:
        msg = one_error(*run(["fit", fifo], capsys)[::2])
    finally:
        timer.cancel()
    assert f"runs file {fifo} is a named pipe, not a regular file" in msg


def test_a_named_pipe_named_like_a_saved_fit_is_refused_as_a_report_source(tmp_path, capsys):
    fifo = tmp_path / "fit.json"
    os.mkfifo(fifo)
    timer = _unblock(fifo)
    try:
        msg = one_error(*run(["report", fifo, "-o", tmp_path / "out"], capsys)[::2])
    finally:
        timer.cancel()
    assert f"report source {fifo} is not a regular file" in msg


def test_a_gzip_bomb_is_refused(tmp_path, capsys, monkeypatch):
    from scalinglaws import runs_read

    monkeypatch.setattr(runs_read, "_GZIP_FLOOR", 2**20)  # 1 MiB, not 64: a quick test
    monkeypatch.setattr(runs_read, "_GZIP_RATIO", 10)  # these rows compress ~400 times
    bomb = tmp_path / "runs.csv.gz"
    row = b"1e9,2e10,6e19,2.9\n"
    with gzip.open(bomb, "wb") as fh:
        fh.write(b"N,D,C,L\n")
        for _ in range(8):
            fh.write(row * (2**20 // len(row)))  # 8 MiB of rows, ~20 kB on disk
    assert bomb.stat().st_size * runs_read._GZIP_RATIO < 2**20
    msg = one_error(*run(["fit", bomb], capsys)[::2])
    assert f"runs file {bomb} decompresses to more than 1 MiB" in msg


def test_a_small_gzip_runs_file_still_reads(tmp_path, runs_csv):
    from scalinglaws.runs import load_runs

    gz = tmp_path / "runs.csv.gz"
    gz.write_bytes(gzip.compress(runs_csv.read_bytes()))
    assert len(load_runs(gz)) == len(load_runs(runs_csv)) == 9


@pytest.mark.parametrize(
    ("suffix", "run_id", "where"),
    [
        (".jsonl", "r\\ud800", "line 1, column 14"),  # a high half alone
        (".jsonl", "\\udc00x", "line 1, column 13"),  # a low half alone
        (".json", "r\\ud83d\\ud83d", "line 1, column 15"),  # two high halves
    ],
)
def test_a_lone_surrogate_in_json_is_one_sentence(
    tmp_path, runs_csv, capsys, suffix, run_id, where
):
    """It parsed, then every write of the run id (table, JSON, page) raised
    UnicodeEncodeError as a traceback."""
    df = pd.read_csv(runs_csv)
    cells = df[["N", "D", "L"]].itertuples(index=False)
    lines = [
        f'{{"run_id": "{run_id if i == 0 else f"r{i}"}", "N": {n!r}, "D": {d!r}, "L": {loss!r}}}'
        for i, (n, d, loss) in enumerate(cells)
    ]
    path = tmp_path / f"runs{suffix}"
    path.write_text("[" + ",\n".join(lines) + "]" if suffix == ".json" else "\n".join(lines))
    msg = one_error(*run(["fit", path, "--bootstrap", "0"], capsys)[::2])
    assert msg.startswith(f"error: runs file {path}, {where}: \\u")
    assert "half of a UTF-16 surrogate pair" in msg


def test_a_surrogate_pair_in_json_is_the_character_it_encodes(tmp_path, runs_csv):
    from scalinglaws.runs import load_runs

    df = pd.read_csv(runs_csv)
    cells = df[["N", "D", "L"]].itertuples(index=False)
    lines = [
        f'{{"run_id": "r{i}\\ud83d\\ude00", "N": {n!r}, "D": {d!r}, "L": {loss!r}}}'
        for i, (n, d, loss) in enumerate(cells)
    ]
    path = tmp_path / "runs.jsonl"
    path.write_text("\n".join(lines))
    assert load_runs(path).run_ids[0] == "r0\U0001f600"


def test_parquet_with_a_repeated_column_is_one_sentence(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "runs.parquet"
    pq.write_table(pa.table([[1e9], [2e9], [2.9]], names=["N", "N", "L"]), path)
    msg = one_error(*run(["fit", path], capsys)[::2])
    assert f"runs file {path} has more than one column named 'N'" in msg
    assert "FieldRef" not in msg and "__fragment_index" not in msg
    with pytest.raises(DataError, match="more than one column named 'N'"):
        from scalinglaws.runs import load_runs

        load_runs(path)


def test_an_unreadable_parquet_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "runs.parquet"
    path.write_bytes(b"PAR1 not really parquet\n\n\nPAR1")
    msg = one_error(*run(["fit", path], capsys)[::2])
    assert f"runs file {path} is not a readable Parquet file" in msg


# ============================================================================ dependencies
def test_pyarrow_bound_excludes_the_cve_2023_47248_release():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    Requirement = pytest.importorskip("packaging.requirements").Requirement

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = meta["project"]["optional-dependencies"]
    specs = [Requirement(r) for group in extras.values() for r in group]
    arrow = [r for r in specs if r.name == "pyarrow"]
    assert arrow, "pyarrow is no longer an optional dependency"
    for req in arrow:
        assert not req.specifier.contains("14.0.0"), req  # CVE-2023-47248
        assert req.specifier.contains("14.0.1"), req


def test_the_installed_pyarrow_satisfies_the_bound():
    pa = pytest.importorskip("pyarrow")
    Version = pytest.importorskip("packaging.version").Version

    assert Version(pa.__version__) >= Version("14.0.1")
