"""``SessionStore.delete_for_user``: a password change ends a user's other sessions; a removed user's end with it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from entrygate.adapters.db.console_store import SqlConsoleSessions
from entrygate.adapters.memory.console import MemorySessions
from entrygate.services.ports.console import ConsoleSession
from support.contracts import T0, new_id, retailer, user


def session(who) -> ConsoleSession:  # noqa: ANN001
    return ConsoleSession(new_id("s"), who.user_id, who.retailer_id, who.email, T0, T0 + timedelta(hours=12))


def test_every_session_of_the_user_but_the_kept_one_ends(storage, engine):
    sessions = MemorySessions() if engine is None else SqlConsoleSessions(engine)
    r = retailer(storage)
    me, colleague = user(storage, r), user(storage, r)
    here, elsewhere, other_browser, theirs = session(me), session(me), session(me), session(colleague)
    for s in (here, elsewhere, other_browser, theirs):
        sessions.create(s)
    assert sessions.delete_for_user(me.user_id, keep=here.session_hash) == 2
    assert [sessions.get(s.session_hash) for s in (here, elsewhere, other_browser, theirs)] == [
        here, None, None, theirs]
    assert sessions.delete_for_user(me.user_id) == 1
    assert sessions.get(here.session_hash) is None


def test_removing_a_user_ends_its_sessions_in_the_same_transaction(storage, engine):
    if engine is None:
        pytest.skip("the fake keeps sessions apart; the console honours a session only while its user exists")
    sessions = SqlConsoleSessions(engine)
    r = retailer(storage)
    me, colleague = user(storage, r), user(storage, r)
    mine, theirs = session(me), session(colleague)
    sessions.create(mine)
    sessions.create(theirs)
    with storage(write=True) as u:
        assert u.users.delete(me.user_id)
        assert sessions.get(mine.session_hash) == mine  # not before the commit
        u.commit()
    assert sessions.get(mine.session_hash) is None
    assert sessions.get(theirs.session_hash) == theirs
