"""`flowdesk serve --workers 2`: two server processes answer on one port, one job worker.

Real processes on a real port: the command is started as an operator starts it, and
which process holds each accepted connection is read from the kernel (/proc), so no
test-only endpoint is needed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")

PROBE = "/api/v1/openapi.json"
FLOWDESK = Path(sys.executable).with_name("flowdesk")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _server_processes(parent: int) -> list[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    return [
        child
        for child in _children(parent)
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tcp_inodes(port: int, state: str) -> set[str]:
    """Inodes of the sockets bound locally to `port` in `state` (01 established, 0A listen)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def _get(port: int, conn: http.client.HTTPConnection | None = None) -> int:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", PROBE)
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "FLOWDESK_DATABASE_URL": db_url, "FLOWDESK_DEV": "1"}
    env.pop("FLOWDESK_SECRET_KEY", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(FLOWDESK), "serve", "--dev", "--workers", "2", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if _get(port) == 200 and len(_server_processes(server.pid)) == 2:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield server, port, log
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_two_processes_answer_on_one_port(
    served: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    server, port, log = served
    workers = _server_processes(server.pid)
    assert len(workers) == 2
    # One listening socket, inherited by both processes: one port, not two.
    listening = _tcp_inodes(port, "0A")
    assert len(listening) == 1
    assert all(listening <= _socket_inodes(pid) for pid in workers)
    # Connections kept open until we look: the kernel says which process accepted each.
    answered_by: set[int] = set()
    for _attempt in range(10):
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(16)]
        try:
            assert all(_get(port, conn) == 200 for conn in conns)
            established = _tcp_inodes(port, "01")
            answered_by |= {pid for pid in workers if established & _socket_inodes(pid)}
        finally:
            for conn in conns:
                conn.close()
        if answered_by == set(workers):
            break
    assert answered_by == set(workers), "one process took every connection"
    # Exactly one job loop, in the parent (never one per server process).
    # The job loop announces itself in a JSON line, as everything else logs.
    started = [
        line for line in log.read_text().splitlines() if re.search(r"worker \S+ started", line)
    ]
    assert len(started) == 1, log.read_text()
    assert json.loads(started[0])["msg"].startswith("worker ")


def test_no_worker_runs_no_job_loop(db_url: str, tmp_path: Path) -> None:
    """`--workers 2 --no-worker` (PostgreSQL with `flowdesk worker` beside it) runs none."""
    port = _free_port()
    env = {**os.environ, "FLOWDESK_DATABASE_URL": db_url, "FLOWDESK_DEV": "1"}
    server = subprocess.Popen(
        [str(FLOWDESK), "serve", "--dev", "--no-worker", "--workers", "2", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None
            try:
                if _get(port) == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=20)
    assert b"flowdesk.worker.runner" not in output, output.decode()
