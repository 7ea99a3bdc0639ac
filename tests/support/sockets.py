"""`entrygate serve` under chosen open-file limits, and sockets watched for the server closing them.

Shared by the connection tests (tests/cli/test_serve_connections.py) and bench/slow_clients.py.
"""
from __future__ import annotations

import http.client
import os
import resource
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from support.server import TEST_SECRET, entrygate_exe, free_port, stop_server


@contextmanager
def serving(database_url: str, env: dict[str, str], *, nofile: tuple[int, int] | None = None
            ) -> Iterator[tuple[int, subprocess.Popen]]:
    """A real `entrygate serve` on ``database_url``, optionally started under lowered open-file limits."""
    port = free_port()

    def limits() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

    proc = subprocess.Popen([*entrygate_exe(), "serve", "--port", str(port)],
                            env={**os.environ, "ENTRYGATE_DATABASE_URL": database_url,
                                 "ENTRYGATE_SECRET_KEY": TEST_SECRET, "ENTRYGATE_LOG_LEVEL": "ERROR", **env},
                            preexec_fn=limits, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not come up"
            try:
                if get(http.client.HTTPConnection("127.0.0.1", port, timeout=2))[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield port, proc
    finally:
        stop_server(proc)


def get(conn: http.client.HTTPConnection, path: str = "/healthz") -> tuple[int, bytes]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def peer_closed(sock: socket.socket) -> bool:
    """Whether the server has closed this socket (a read at its end, or an error), without blocking."""
    try:
        return sock.recv(65536, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_closed(socks: list[socket.socket], *, within: float) -> dict[socket.socket, float]:
    """When the server closed each socket (seconds from now), for those it closed within ``within``."""
    started, closed = time.monotonic(), {}
    while len(closed) < len(socks) and time.monotonic() - started < within:
        readable, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.05)
        for s in readable:
            if peer_closed(s):
                closed[s] = time.monotonic() - started
    return closed
