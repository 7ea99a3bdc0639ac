"""Idle, trickling and flooding clients against `entrygate serve` (docs/serving.md).

Starts `entrygate serve` on a throw-away SQLite database with the open-file soft limit lowered
to ``--soft-nofile`` (the common default of 1,024; ``--hard-nofile`` lowers the hard limit too, so
the server cannot raise it), then measures:

1. idle: ``--idle`` sockets that connect and send nothing; how many the server has closed after
   ``--wait`` seconds, and when the last one closed;
2. trickle: one connection sending a request head one byte a second; when the server closed it;
3. flood: ``--flood`` idle sockets at once, then a gate request on a connection opened before the
   flood (keep-alive) and one on a new connection: their status and time.

    .venv/bin/python bench/slow_clients.py [--idle 200] [--wait 15] [--flood 1100] [--soft-nofile 1024]
                                           [--hard-nofile N]
"""
from __future__ import annotations

import argparse
import http.client
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.sockets import serving, wait_closed  # noqa: E402


def idle(port: int, count: int, wait_s: float) -> str:
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    closed = wait_closed(socks, within=wait_s)
    for s in socks:
        s.close()
    when = f", the last after {max(closed.values()):.1f} s" if closed and len(closed) == count else ""
    return f"{len(closed)} of {count} closed by the server within {wait_s:.0f} s{when}"


def trickle(port: int, wait_s: float) -> str:
    sock = socket.create_connection(("127.0.0.1", port))
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200
    started = time.monotonic()
    for i, byte in enumerate(head):
        if time.monotonic() - started > wait_s:
            break
        try:
            sock.send(bytes([byte]))
        except OSError:
            return f"closed by the server after {time.monotonic() - started:.1f} s ({i} bytes sent)"
        if wait_closed([sock], within=1.0):
            return f"closed by the server after {time.monotonic() - started:.1f} s ({i + 1} bytes sent)"
    sock.close()
    return f"still open after {wait_s:.0f} s"


def timed_get(conn: http.client.HTTPConnection) -> str:
    started = time.monotonic()
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse()
        status.read()
        return f"{status.status} in {(time.monotonic() - started) * 1000:.0f} ms"
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__} after {(time.monotonic() - started) * 1000:.0f} ms"


def flood(port: int, count: int) -> tuple[str, str]:
    gate = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    gate.request("GET", "/healthz")
    gate.getresponse().read()
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.5)  # let the server accept what it can
    try:
        kept = timed_get(gate)
        fresh = timed_get(http.client.HTTPConnection("127.0.0.1", port, timeout=5))
    finally:
        for s in socks:
            s.close()
    return kept, fresh


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, default=200)
    ap.add_argument("--wait", type=float, default=15)
    ap.add_argument("--flood", type=int, default=1100)
    ap.add_argument("--soft-nofile", type=int, default=1024)
    ap.add_argument("--hard-nofile", type=int, default=None)
    args = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the clients need the sockets themselves
    with tempfile.TemporaryDirectory() as tmp:
        nofile = (args.soft_nofile, args.hard_nofile or hard)
        with serving(f"sqlite:///{tmp}/eg.db", {}, nofile=nofile) as (port, _):
            print(f"idle      {idle(port, args.idle, args.wait)}")
            print(f"trickle   {trickle(port, args.wait)}")
            kept, fresh = flood(port, args.flood)
            print(f"flood     {args.flood} idle sockets: keep-alive gate connection {kept}; new connection {fresh}")


if __name__ == "__main__":
    main()
