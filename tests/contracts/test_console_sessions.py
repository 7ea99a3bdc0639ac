"""``SessionStore``: console sessions by the hash of their id, until they expire or are signed out."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from entrygate.adapters.db.console_store import SqlConsoleSessions
from entrygate.adapters.memory.console import MemorySessions
from entrygate.services.ports.console import ConsoleSession
from entrygate.services.ports.storage import StorageError
from support.contracts import T0, later, new_id, retailer, user


@pytest.fixture
def port(storage, engine):
    """(the session store, a console user to sign in)."""
    sessions = MemorySessions() if engine is None else SqlConsoleSessions(engine)
    return sessions, user(storage, retailer(storage))


def session(who, *, hours: float = 12) -> ConsoleSession:  # noqa: ANN001
    return ConsoleSession(new_id("s"), who.user_id, who.retailer_id, who.email, T0, T0 + timedelta(hours=hours))


def test_a_session_reads_back_until_it_is_deleted(port):
    sessions, who = port
    s = session(who)
    sessions.create(s)
    assert sessions.get(s.session_hash) == s
    assert sessions.get("unknown") is None
    sessions.delete(s.session_hash)
    assert sessions.get(s.session_hash) is None
    sessions.delete(s.session_hash)  # signing out twice is no error


def test_a_session_id_is_stored_once(port):
    sessions, who = port
    s = session(who)
    sessions.create(s)
    with pytest.raises(StorageError):
        sessions.create(replace(s, expires_at=later(60)))
    assert sessions.get(s.session_hash) == s


def test_purging_removes_the_sessions_expired_by_then_and_counts_them(port):
    sessions, who = port
    short, edge, long = session(who, hours=1), session(who, hours=2), session(who, hours=12)
    for s in (short, edge, long):
        sessions.create(s)
    assert sessions.purge_expired(now=T0 + timedelta(hours=2)) == 2  # expiring at that instant counts
    assert [sessions.get(s.session_hash) for s in (short, edge, long)] == [None, None, long]
    assert sessions.purge_expired(now=T0 + timedelta(hours=2)) == 0
