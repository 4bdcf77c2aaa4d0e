"""The sweep folder: atomic writes, records, markers (live, dead, stale, pid reuse), the lock."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading

import pytest

from scalinglaws.errors import DataError
from scalinglaws.sweep import store as store_mod
from scalinglaws.sweep.store import (
    SweepBusyError,
    SweepStore,
    atomic_write_text,
    hostname,
    process_alive,
    process_start_ticks,
)


def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "sub" / "f.json"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second")
    assert path.read_text() == "second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write_text(path, "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


def test_records_round_trip_with_nan_as_null(tmp_path):
    st = SweepStore(tmp_path).create()
    st.write_record({"run_id": "a", "status": "ok", "curve": [{"val_loss": math.nan, "x": 1}]})
    st.write_record({"run_id": "b", "status": "failed", "error": {"type": "X"}})
    (st.runs_dir / ".b.json.123.tmp").write_text("{torn")  # a writer killed mid-write
    recs = st.records()
    assert sorted(recs) == ["a", "b"]
    assert recs["a"]["curve"][0]["val_loss"] is None
    assert recs["a"]["version"] == store_mod.RECORD_VERSION
    json.loads(st.record_path("a").read_text())  # strict JSON: no NaN literal
    assert st.read_record("missing") is None


def test_a_hand_edited_record_is_reported_with_its_path(tmp_path):
    st = SweepStore(tmp_path).create()
    st.record_path("x").write_text("{not json")
    with pytest.raises(DataError, match=r"x\.json is not valid JSON .*delete it"):
        st.records()


def test_run_ids_must_be_file_names(tmp_path):
    st = SweepStore(tmp_path).create()
    for bad in ("../escape", "a/b", ".hidden", ""):
        with pytest.raises(DataError, match="cannot be a file name"):
            st.record_path(bad)


def test_write_record_requires_id_and_status(tmp_path):
    with pytest.raises(DataError, match="needs 'status'"):
        SweepStore(tmp_path).create().write_record({"run_id": "a"})


def test_markers_tell_live_from_dead_workers(tmp_path):
    st = SweepStore(tmp_path).create()
    marker = st.start("run-1", attempt=1)
    assert marker["pid"] == os.getpid() and marker["host"] == hostname()
    assert st.marker_alive(st.markers()["run-1"])
    st.heartbeat(marker, tokens=128)
    assert st.markers()["run-1"]["tokens"] == 128

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = {**marker, "pid": child.pid, "pid_start": None}
    assert not process_alive(child.pid)
    assert not st.marker_alive(dead)

    # the same pid with another start time is another process (pid reuse)
    reused = {**marker, "pid_start": (process_start_ticks(os.getpid()) or 0) + 1}
    if process_start_ticks(os.getpid()) is not None:
        assert not st.marker_alive(reused)

    # another host: judged by the age of its heartbeat
    remote = {**marker, "host": "elsewhere", "heartbeat_at": store_mod.now() - 5}
    assert st.marker_alive(remote)
    remote["heartbeat_at"] = store_mod.now() - 10 * store_mod.STALE_SECONDS
    assert not st.marker_alive(remote)

    st.finish("run-1")
    assert st.markers() == {}
    st.finish("run-1")  # finishing twice is harmless


def test_the_driver_lock_admits_one_sweep_at_a_time(tmp_path):
    st = SweepStore(tmp_path)
    with st.lock(executor="local"):
        info = st.driver()
        assert info["pid"] == os.getpid() and info["alive"] and info["executor"] == "local"
        with pytest.raises(SweepBusyError, match=rf"already being run by pid {os.getpid()}"):
            with SweepStore(tmp_path).lock():
                pass
    with st.lock():  # released
        pass


def test_a_killed_driver_releases_the_lock(tmp_path):
    code = (
        "import os, sys\n"
        "from scalinglaws.sweep.store import SweepStore\n"
        f"with SweepStore({str(tmp_path)!r}).lock():\n"
        "    os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    info = SweepStore(tmp_path).driver()
    assert info["pid"] != os.getpid() and info["alive"] is False
    with SweepStore(tmp_path).lock():
        pass


def test_concurrent_writers_never_tear_or_lose_records(tmp_path):
    st = SweepStore(tmp_path).create()
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(40):
                st.write_record({"run_id": f"w{k}-{i}", "status": "ok", "payload": "x" * 2000})
                st.write_record({"run_id": f"w{k}-{i}", "status": "ok", "payload": "y" * 3000})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(40):
                for rec in st.records().values():
                    assert rec["payload"] in ("x" * 2000, "y" * 3000)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    recs = st.records()
    assert len(recs) == 160 and all(r["payload"] == "y" * 3000 for r in recs.values())
