"""The audit log and console users on the in-memory ports: entries made with the change, never with
a refused one, read per retailer; users' roles, removal, and a password change ending other sessions."""
from __future__ import annotations

from datetime import timedelta

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.console import MemorySessions, MemorySignInFailures
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.audit import Actor, ActorType
from entrygate.domain.keys import KeyKind
from entrygate.domain.roles import ConsoleRole
from entrygate.services.admin.audit import AuditTrail
from entrygate.services.admin.service import AdminService
from entrygate.services.admin.store_changes import StoreChange
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.console.auth import ConsoleAuthService, session_hash
from entrygate.services.errors import Conflict, InvalidRequest, NotFound
from support.factories import NOW, PlainPasswords, store_config

OPERATOR = Principal(KeyKind.OPERATOR, actor=Actor(ActorType.OPERATOR, "op1", "operator"))
PASSWORD = "a-long-password"


@pytest.fixture
def world():
    uow, clock = MemoryStore(), FixedClock(NOW)
    admin = AdminService(uow, clock, Catalog(uow, ttl_s=0), PlainPasswords())
    sessions = MemorySessions()
    auth = ConsoleAuthService(uow=uow, clock=clock, passwords=PlainPasswords(), sessions=sessions,
                              failures=MemorySignInFailures())
    return uow, admin, AuditTrail(uow), auth, sessions


def test_changes_are_recorded_and_refused_ones_are_not(world):
    uow, admin, trail, _, _ = world
    retailer = admin.create_retailer(OPERATOR, name="R")
    me = Principal(KeyKind.RETAILER, retailer_id=retailer.id, actor=Actor(ActorType.RETAILER_KEY, "k1", "default"))
    store = admin.create_store(me, store_config(retailer.id))
    admin.update_store(me, store.store_id, StoreChange(name="Renamed"))
    with pytest.raises(InvalidRequest):
        admin.update_store(me, store.store_id, StoreChange(max_party_size=0))
    with pytest.raises(Conflict):
        admin.create_store(me, store_config(retailer.id, store_id=store.store_id))
    entries = trail.list(me)
    assert [(e.action, e.actor.type) for e in entries] == [
        ("store.updated", ActorType.RETAILER_KEY), ("store.created", ActorType.RETAILER_KEY),
        ("retailer.created", ActorType.OPERATOR)]
    assert (entries[0].before["name"], entries[0].after["name"]) == (store.name, "Renamed")
    other = admin.create_retailer(OPERATOR, name="Other")
    theirs = admin.create_store(OPERATOR, store_config(other.id, store_id="their-store"))
    with pytest.raises(NotFound):
        trail.list(me, store_id=theirs.store_id)
    assert {e.retailer_id for e in trail.list(OPERATOR)} == {retailer.id, other.id}
    with pytest.raises(InvalidRequest) as refused:
        trail.list(me, limit=1001)
    assert refused.value.fields == ["limit"]


def test_users_with_roles_removal_and_the_last_admin(world):
    _, admin, trail, auth, sessions = world
    retailer = admin.create_retailer(OPERATOR, name="R")
    boss = admin.users.create(OPERATOR, retailer.id, email="boss@example.com", password=PASSWORD)
    viewer = admin.users.create(OPERATOR, retailer.id, email="v@example.com", password=PASSWORD,
                                role=ConsoleRole.VIEWER)
    assert (boss.role, viewer.role) == (ConsoleRole.ADMIN, ConsoleRole.VIEWER)
    signed = auth.sign_in("v@example.com", PASSWORD, client="c")
    assert auth.user(signed.session_id).role is ConsoleRole.VIEWER
    admin.users.remove(OPERATOR, retailer.id, viewer.user_id)
    assert auth.user(signed.session_id) is None  # signed out at once
    with pytest.raises(Conflict):
        admin.users.remove(OPERATOR, retailer.id, boss.user_id)
    assert [e.action for e in trail.list(OPERATOR)][:3] == ["user.removed", "user.added", "user.added"]


def test_a_password_change_ends_the_other_sessions_only(world):
    _, admin, _, auth, sessions = world
    retailer = admin.create_retailer(OPERATOR, name="R")
    admin.users.create(OPERATOR, retailer.id, email="me@example.com", password=PASSWORD)
    here, there = (auth.sign_in("me@example.com", PASSWORD, client="c") for _ in range(2))
    with pytest.raises(InvalidRequest) as wrong:
        auth.change_password(here.user, here.session_id, current="wrong", new="another-password", client="c")
    assert wrong.value.fields == ["currentPassword"]
    assert auth.change_password(here.user, here.session_id, current=PASSWORD, new="another-password",
                                client="c") == 1
    assert auth.user(here.session_id) is not None and auth.user(there.session_id) is None
    assert set(sessions.rows) == {session_hash(here.session_id)}
    assert auth.sign_in("me@example.com", "another-password", client="c").expires_at == NOW + timedelta(hours=12)
