"""The Ray executor's local cluster stays on the machine: every listening socket of its
processes is on the loopback address, its temp folder is private, and an address where no
cluster listens fails within seconds instead of hanging (issue 11)."""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scalinglaws.errors import PlanError
from scalinglaws.sweep.executors import RAY_CLUSTER_ENV, _probe_ray_address, make_executor

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp{,6}


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_line = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat_line.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _address(hex_address: str) -> str:
    """Decode /proc/net/tcp's address (32-bit words in host byte order) to text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def listening_sockets(root: int) -> list[tuple[int, str, str, int]]:
    """(pid, command name, address, port) of every TCP socket in LISTEN state held by
    ``root`` or its descendants (read from /proc, so no psutil is needed)."""
    listening: dict[str, tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == LISTEN:
                    host, port = local.split(":")
                    listening[inode] = (_address(host), int(port, 16))
    found = []
    for pid in _descendants(root):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in listening:
                found.append((pid, name, *listening[target[8:-1]]))
    return found


def _is_loopback_v4(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)  # a dual-stack socket bound to ::ffff:127.0.0.1
    return str(mapped or ip) == "127.0.0.1"


def test_address_decoding():
    assert _address("0100007F") == "127.0.0.1"
    mapped = ipaddress.ip_address(_address("0000000000000000FFFF00000100007F"))
    assert str(mapped.ipv4_mapped) == "127.0.0.1"
    assert _address("00000000000000000000000000000000") == "::"
    assert _is_loopback_v4("::ffff:127.0.0.1") and not _is_loopback_v4("::")


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="lists sockets through /proc")
def test_local_ray_cluster_listens_on_loopback_only_and_keeps_its_folder_private(tmp_path):
    import ray

    before = os.environ.get(RAY_CLUSTER_ENV)
    with make_executor("ray", workers=2, sweep_folder=tmp_path / "sweep") as ex:
        # run tasks so that worker processes (each with its own server) exist too
        handles = [ex.submit(os.getpid) for _ in range(2)]
        deadline = time.monotonic() + 120
        while not all(h.done() for h in handles):
            assert time.monotonic() < deadline, "the Ray tasks did not finish in time"
            time.sleep(0.05)
        assert all(isinstance(h.result(), int) for h in handles)
        time.sleep(2)  # agents open their ports shortly after the raylet
        sockets = listening_sockets(os.getpid())
        temp = Path(ray._private.worker._global_node.get_temp_dir_path())
        mode = stat.S_IMODE(temp.stat().st_mode)
    names = {name for _, name, _, _ in sockets}
    # not vacuous: the core services were found (the comm name is at most 15 characters)
    assert {"gcs_server", "raylet"} <= names, sockets
    assert len(sockets) >= 6, sockets
    exposed = [s for s in sockets if not _is_loopback_v4(s[2])]
    assert not exposed, f"listening beyond 127.0.0.1: {exposed} (all: {sockets})"
    assert temp.is_relative_to(tmp_path) or temp.name.startswith("slray-")
    assert mode == 0o700, oct(mode)
    assert os.environ.get(RAY_CLUSTER_ENV) == before  # restored after the start
    assert not ray.is_initialized()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_probe_refuses_an_address_where_nothing_listens():
    port = _free_port()
    for address in ("127.0.0.1:1", f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        t0 = time.monotonic()
        with pytest.raises(PlanError, match=r"^no Ray cluster answers at address=") as info:
            _probe_ray_address(address)
        assert time.monotonic() - t0 < 10  # hang guard
        assert info.value.argument == "address"
    _probe_ray_address("auto")  # left to Ray


@pytest.mark.ray
@pytest.mark.slow
def test_ray_executor_fails_within_seconds_when_no_cluster_listens(tmp_path):
    code = (
        "from scalinglaws.errors import PlanError\n"
        "from scalinglaws.sweep.executors import make_executor\n"
        "try:\n"
        f"    make_executor('ray', address='127.0.0.1:1', sweep_folder={str(tmp_path)!r})\n"
        "except PlanError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    print('joined?')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )  # the timeout is a hang guard: Ray alone retries for minutes
    out = done.stdout.strip()
    assert out.startswith("no Ray cluster answers at address='127.0.0.1:1'"), (out, done.stderr)
    assert len(out.splitlines()) == 1 and out.count(". ") == 0  # one sentence
    assert not (tmp_path / ".ray").exists()  # nothing was started
