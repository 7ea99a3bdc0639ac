"""`entrygate serve` closes idle and trickling connections, caps them with a fast 503, and raises
its open-file limit (issue 9, finding 3; docs/serving.md). Connection handling does not depend on
the database, so these servers run on SQLite only."""
from __future__ import annotations

import http.client
import json
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.sockets import get, serving, wait_closed

HEADER_TIMEOUT_S = 1.5
SHORT = {"ENTRYGATE_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S), "ENTRYGATE_BODY_TIMEOUT_S": "1.5",
         "ENTRYGATE_KEEP_ALIVE_TIMEOUT_S": "1"}


def _sqlite(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'eg.db'}"


@pytest.fixture(scope="module")
def short_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, subprocess.Popen]]:
    """Short timeouts, started with the common default soft open-file limit of 1,024."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with serving(_sqlite(tmp_path_factory.mktemp("short")), SHORT, nofile=(min(1024, hard), hard)) as running:
        yield running


@pytest.fixture
def short_server(short_server_process: tuple[int, subprocess.Popen]) -> int:
    return short_server_process[0]


def test_idle_sockets_that_send_nothing_are_closed_within_the_header_timeout(short_server):
    socks = [socket.create_connection(("127.0.0.1", short_server)) for _ in range(50)]
    try:
        closed = wait_closed(socks, within=HEADER_TIMEOUT_S + 1)
        assert len(closed) == 50, f"{len(closed)} of 50 idle sockets closed within {HEADER_TIMEOUT_S + 1} s"
    finally:
        for s in socks:
            s.close()


def test_a_request_head_trickled_a_byte_a_second_is_closed(short_server):
    sock = socket.create_connection(("127.0.0.1", short_server))
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 50
    started, sent = time.monotonic(), 0
    try:
        while time.monotonic() - started < HEADER_TIMEOUT_S + 1:
            try:
                sock.send(head[sent:sent + 1])
            except OSError:
                break
            sent += 1
            if wait_closed([sock], within=1.0):
                break
        assert sent >= 2, "the trickle was cut before it trickled"
        assert time.monotonic() - started <= HEADER_TIMEOUT_S + 1, "a trickling head kept its connection"
    finally:
        sock.close()


def test_a_later_request_trickled_on_a_keep_alive_connection_is_closed(short_server):
    conn = http.client.HTTPConnection("127.0.0.1", short_server, timeout=5)
    assert get(conn)[0] == 200
    sock = conn.sock
    started = time.monotonic()
    try:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":  # every 0.4 s: under the idle timeout each time
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            if wait_closed([sock], within=0.4):
                break
            assert time.monotonic() - started <= HEADER_TIMEOUT_S + 1, "a trickling second request kept its connection"
    finally:
        conn.close()


def test_a_body_trickled_after_its_head_is_closed(short_server):
    sock = socket.create_connection(("127.0.0.1", short_server))
    sock.sendall(b"POST /v1/gates/lane-1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 500\r\n\r\n{")
    started = time.monotonic()
    try:
        while not wait_closed([sock], within=0.5):
            assert time.monotonic() - started <= 1.5 + 1, "a trickling body kept its connection"
            sock.send(b" ")
    finally:
        sock.close()


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(short_server):
    conn = http.client.HTTPConnection("127.0.0.1", short_server, timeout=5)
    assert get(conn)[0] == 200
    try:
        assert wait_closed([conn.sock], within=1 + 1), "the idle keep-alive connection was not closed"
    finally:
        conn.close()


def test_beyond_the_cap_a_new_connection_gets_503_at_once_and_an_admitted_gate_still_works(tmp_path):
    env = {"ENTRYGATE_MAX_CONNECTIONS": "20", "ENTRYGATE_HEADER_TIMEOUT_S": "30", "ENTRYGATE_KEEP_ALIVE_TIMEOUT_S": "30"}
    with serving(_sqlite(tmp_path), env) as (port, _):
        gate = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        assert get(gate)[0] == 200
        gate_sock = gate.sock
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(19 + 5)]  # 19 fill the cap, 5 beyond
        try:
            started = time.monotonic()
            status, body = get(http.client.HTTPConnection("127.0.0.1", port, timeout=5))
            assert time.monotonic() - started < 1.0
            assert status == 503
            assert json.loads(body)["error"]["code"] == "UNAVAILABLE"
            # the refused idle ones are dropped within about a second; the admitted ones are not
            closed = wait_closed(idle, within=2.0)
            assert set(closed) == set(idle[19:]), f"closed: {sorted(idle.index(s) for s in closed)}"
            assert get(gate) == (200, b'{"status":"ok"}')
            assert gate.sock is gate_sock, "the gate's keep-alive connection was replaced"
        finally:
            for s in idle:
                s.close()
            gate.close()


def _soft_nofile(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-file limit in /proc")


def test_the_open_file_soft_limit_is_raised_to_the_hard_limit(short_server_process):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 1024:
        pytest.skip(f"needs a finite hard open-file limit above 1024 (have {hard})")
    assert _soft_nofile(short_server_process[1].pid) == hard


def test_under_an_unraisable_limit_a_flood_of_idle_sockets_still_leaves_gates_an_answer(tmp_path):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip("the test itself needs about 1,200 sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    env = {"ENTRYGATE_HEADER_TIMEOUT_S": "30", "ENTRYGATE_KEEP_ALIVE_TIMEOUT_S": "30"}
    with serving(_sqlite(tmp_path), env, nofile=(1024, 1024)) as (port, _):
        gate = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        assert get(gate)[0] == 200
        flood = []
        try:
            for _ in range(1100):  # more than the process may open
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                flood.append(s)
            started = time.monotonic()
            try:
                status = get(http.client.HTTPConnection("127.0.0.1", port, timeout=3))[0]
            except (ConnectionError, http.client.RemoteDisconnected):
                status = None  # refused by closing: also an answer
            assert time.monotonic() - started < 1.5, "a new gate waited on a server out of file descriptors"
            assert status in (503, None)
            assert get(gate)[0] == 200
        finally:
            for s in flood:
                s.close()
            gate.close()
