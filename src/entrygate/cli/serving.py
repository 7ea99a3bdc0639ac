"""``entrygate serve``'s process setup: open-file limit, connection cap, metrics directory, workers."""
from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socket import socket

import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from entrygate.cli.http_guard import ConnectionLimits, ServeConfig
from entrygate.settings import Settings

log = structlog.get_logger("entrygate.serve")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# File descriptors a worker needs besides client connections: the database pool (pool and
# overflow; on SQLite each connection also opens the -wal and -shm files), the connector pool (up
# to 256 connections to retailers), model and log files, the event loop's own. The connection cap
# stays this far under the open-file limit, so accepting a connection never fails for want of one.
CONNECTOR_CONNECTIONS = 256
OTHER_FILES = 64
FLOOR_CONNECTIONS = 16
# Linux refuses an RLIMIT_NOFILE above fs.nr_open, whose default is this.
NR_OPEN_DEFAULT = 1_048_576


def raise_open_files(target: int | None = None) -> tuple[int, int]:
    """Raise the soft open-file limit to ``target`` (default: the hard limit), never lower; returns (soft, hard).

    The hard limit is the administrator's; the soft one is only a default, often 1,024, far below
    what a server with thousands of keep-alive gate connections needs.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = NR_OPEN_DEFAULT if hard == resource.RLIM_INFINITY else hard
    want = min(ceiling, target if target is not None else ceiling)
    if soft != resource.RLIM_INFINITY and want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as exc:
            log.warning("open_files_limit_unchanged", soft=soft, hard=hard, wanted=want, error=str(exc))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def connection_cap(settings: Settings, open_files: int) -> int:
    """``max_connections``, lowered to what the open-file limit leaves after the worker's own files."""
    reserved = CONNECTOR_CONNECTIONS + 6 * settings.db_pool_size + OTHER_FILES
    room = NR_OPEN_DEFAULT if open_files == resource.RLIM_INFINITY else open_files - reserved
    cap = max(FLOOR_CONNECTIONS, min(settings.max_connections, room))
    if cap < settings.max_connections:
        log.warning("max_connections_lowered", max_connections=settings.max_connections, cap=cap,
                    open_files_limit=open_files, reserved=reserved)
    return cap


def limits_from(settings: Settings) -> ConnectionLimits:
    """The connection limits for this process, after raising its open-file limit."""
    soft, _ = raise_open_files(settings.open_files_limit)
    return ConnectionLimits(header_timeout_s=settings.header_timeout_s, body_timeout_s=settings.body_timeout_s,
                            keep_alive_timeout_s=settings.keep_alive_timeout_s,
                            max_connections=connection_cap(settings, soft))


@contextmanager
def metrics_directory(workers: int) -> Iterator[str | None]:
    """A fresh private directory where the workers' metrics meet (prometheus_client's multiprocess
    mode), removed afterwards; one process needs none and counts in memory.

    Set before any worker starts: prometheus_client picks its storage when it is first imported.
    A value already in the environment is replaced, so files of another run are never summed in.
    """
    os.environ.pop(MULTIPROC_ENV, None)
    os.environ.pop(MULTIPROC_ENV.lower(), None)
    if workers == 1:
        yield None
        return
    path = tempfile.mkdtemp(prefix="entrygate-metrics-")  # mode 0700, empty
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor; when a worker is replaced, its live gauges leave the metrics."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket], *, metrics_dir: str) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir

    def keep_subprocess_alive(self) -> None:
        self._reaping(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        self._reaping(super().restart_all)

    def _reaping(self, step: Callable[[], None]) -> None:
        from prometheus_client.multiprocess import mark_process_dead

        before = {p.pid for p in self.processes}
        step()
        for pid in before - {p.pid for p in self.processes}:
            if pid is not None:
                mark_process_dead(pid, self.metrics_dir)


def listening_url(sock: socket) -> str:
    """``http://host:port`` of a bound socket (the real port when 0 was asked for; IPv6 in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server that says ``listening on http://host:port`` once it serves requests."""

    def __init__(self, config: uvicorn.Config, *, announce: Callable[[str], None]) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: list[socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            self.announce(f"listening on {listening_url(sockets[0])}")


def run(settings: Settings, *, host: str, port: int, workers: int, announce: Callable[[str], None] = print) -> None:
    """Serve the platform until a signal; exits 3 when it cannot start (uvicorn's startup failure).

    ``announce`` hears ``listening on http://host:port``: with one process once the app serves, with
    several once the socket is bound (each worker then loads the app and accepts on it).
    """
    limits = limits_from(settings)
    with metrics_directory(workers) as metrics_dir:
        config = ServeConfig("entrygate.asgi:create", factory=True, host=host, port=port, workers=workers,
                             log_level="warning", access_log=False, limits=limits,
                             # The app believes forwarded headers only from ENTRYGATE_TRUSTED_PROXIES (web.py).
                             proxy_headers=False)
        sock = config.bind_socket()
        if metrics_dir is not None:
            announce(f"listening on {listening_url(sock)} ({workers} workers)")
            Supervisor(config, [sock], metrics_dir=metrics_dir).run()
            return
        server = AnnouncingServer(config, announce=announce)
        server.run(sockets=[sock])
        if not server.started:
            sys.exit(STARTUP_FAILURE)
