"""`entrygate serve`'s process setup, without a server: the metrics directory, a replaced worker's
live gauges, and the connection cap under the open-file limit."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from entrygate.cli import serving
from entrygate.settings import Settings

MULTIPROC = serving.MULTIPROC_ENV


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(MULTIPROC, raising=False)
    return monkeypatch


def test_several_workers_get_a_fresh_private_directory_removed_afterwards(clean_env, tmp_path):
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"old run")
    clean_env.setenv(MULTIPROC, str(stale))
    with serving.metrics_directory(2) as path:
        assert path is not None and path != str(stale)
        assert os.environ[MULTIPROC] == path
        assert os.listdir(path) == []
        assert Path(path).stat().st_mode & 0o077 == 0
    assert not Path(path).exists()
    assert MULTIPROC not in os.environ


def test_one_worker_counts_in_memory_even_when_a_directory_was_set(clean_env, tmp_path):
    clean_env.setenv(MULTIPROC, str(tmp_path))
    with serving.metrics_directory(1) as path:
        assert path is None
        assert MULTIPROC not in os.environ


class _Worker:
    def __init__(self, pid: int) -> None:
        self.pid = pid


def test_a_replaced_worker_leaves_the_live_gauges_and_keeps_its_counts(tmp_path):
    for name in ("gauge_livemax_101.db", "counter_101.db", "gauge_livemax_102.db"):
        (tmp_path / name).write_bytes(b"")
    supervisor = serving.Supervisor.__new__(serving.Supervisor)  # no signal handlers, no processes
    supervisor.metrics_dir = str(tmp_path)
    supervisor.processes = [_Worker(101), _Worker(102)]

    def replace_first() -> None:
        supervisor.processes[0] = _Worker(103)

    supervisor._reaping(replace_first)
    assert sorted(os.listdir(tmp_path)) == ["counter_101.db", "gauge_livemax_102.db"]


def test_the_cap_stays_under_the_open_file_limit():
    settings = Settings(max_connections=2048, db_pool_size=16)
    reserved = serving.CONNECTOR_CONNECTIONS + 6 * 16 + serving.OTHER_FILES
    assert serving.connection_cap(settings, 1024) == 1024 - reserved
    assert serving.connection_cap(settings, 100_000) == 2048
    assert serving.connection_cap(settings, 200) == serving.FLOOR_CONNECTIONS
