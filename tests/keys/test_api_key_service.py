"""Gate key rotation's grace, revocation, scopes and the last retailer key, through the service and the
authenticator on SQLite and PostgreSQL; the race between two revocations of a retailer's last two keys."""
from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.api_keys import SqlApiKeys
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.keys import KeyKind
from entrygate.services.admin.api_keys import ApiKeyService
from entrygate.services.auth import Authenticator, Principal
from entrygate.services.errors import Conflict, InvalidRequest, NotAuthenticated, NotFound
from support.contracts import shop
from support.factories import NOW

OPERATOR = Principal(KeyKind.OPERATOR)


def _service(engine, clock):  # noqa: ANN001, ANN202
    uow = SqlUnitOfWorkFactory(engine)
    store = SqlApiKeys(uow)
    auth = Authenticator(uow, ttl_s=0, clock=clock, uses=store)
    return ApiKeyService(uow=uow, keys=store, clock=clock, auth=auth), auth, uow


@pytest.fixture
def world(backend, db_url):
    engine = make_engine(db_url, pool_size=4)
    clock = FixedClock(NOW)
    service, auth, uow = _service(engine, clock)
    yield service, auth, uow, clock, engine
    engine.dispose()


def _bearer(key: str) -> str:
    return f"Bearer {key}"


def test_the_previous_gate_key_works_until_the_grace_ends_and_a_revoked_one_at_once_stops(world):
    service, auth, uow, clock, _ = world
    where = shop(uow)
    me = Principal(KeyKind.RETAILER, retailer_id=where.retailer_id)
    first = service.rotate_gate_key(me, "lane-1", grace_seconds=0, store_id=where.store_id)
    second = service.rotate_gate_key(me, "lane-1", grace_seconds=3600, store_id=where.store_id)
    assert second.previous_key_expires_at == NOW + timedelta(hours=1)
    assert auth.authenticate(_bearer(first.api_key), allow={KeyKind.GATE}).gate_pk == where.gate.gate_pk
    assert auth.authenticate(_bearer(second.api_key), allow={KeyKind.GATE}).key_id == second.key_id
    clock.advance(seconds=3599)
    auth.authenticate(_bearer(first.api_key), allow={KeyKind.GATE})
    clock.advance(seconds=1)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(_bearer(first.api_key), allow={KeyKind.GATE})
    auth.authenticate(_bearer(second.api_key), allow={KeyKind.GATE})
    service.revoke_gate_key(me, "lane-1", second.key_id, store_id=where.store_id)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(_bearer(second.api_key), allow={KeyKind.GATE})
    listed = {k.key_id: k for k in service.list_gate_keys(me, "lane-1", store_id=where.store_id)}
    assert listed[second.key_id].revoked and listed[first.key_id].expires_at == NOW + timedelta(hours=1)
    assert listed[first.key_id].last_used_at == NOW + timedelta(seconds=3599)  # written behind, on listing


def test_a_gate_key_with_no_grace_stops_at_once(world):
    service, auth, uow, _, _ = world
    where = shop(uow)
    old = service.rotate_gate_key(OPERATOR, "exit-1", store_id=where.store_id)
    auth.authenticate(_bearer(old.api_key), allow={KeyKind.GATE})
    service.rotate_gate_key(OPERATOR, "exit-1", grace_seconds=0, store_id=where.store_id)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(_bearer(old.api_key), allow={KeyKind.GATE})


def test_another_retailers_gate_and_keys_are_not_found_and_bad_grace_is_refused(world):
    service, _, uow, _, _ = world
    mine, theirs = shop(uow), shop(uow)
    me = Principal(KeyKind.RETAILER, retailer_id=mine.retailer_id)
    with pytest.raises(NotFound):
        service.rotate_gate_key(me, "lane-1", store_id=theirs.store_id)
    with pytest.raises(NotFound):
        service.list_retailer_keys(me, theirs.retailer_id)
    with pytest.raises(Conflict):  # the operator sees lane-1 at both stores: it must name one
        service.list_gate_keys(OPERATOR, "lane-1")
    for bad in (-1, 604_801, True, 1.5):
        with pytest.raises(InvalidRequest):
            service.rotate_gate_key(me, "lane-1", grace_seconds=bad, store_id=mine.store_id)
    with pytest.raises(InvalidRequest):
        service.create_retailer_key(me, mine.retailer_id, name="  ")


def test_the_last_active_retailer_key_cannot_be_revoked_by_anyone(world):
    service, auth, uow, _, _ = world
    where = shop(uow)
    me = Principal(KeyKind.RETAILER, retailer_id=where.retailer_id)
    (initial,) = service.list_retailer_keys(me, where.retailer_id)
    for who in (me, OPERATOR):
        with pytest.raises(Conflict):
            service.revoke_retailer_key(who, where.retailer_id, initial.key_id)
    made = service.create_retailer_key(me, where.retailer_id, name="kiosk")
    assert auth.authenticate(_bearer(made.api_key), allow={KeyKind.RETAILER}).key_name == "kiosk"
    service.revoke_retailer_key(OPERATOR, where.retailer_id, made.key_id)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(_bearer(made.api_key), allow={KeyKind.RETAILER})


def _at_once(*calls) -> list[str]:  # noqa: ANN002
    """Run the calls in threads released together; "revoked" or "409" for each."""
    start = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call) -> None:  # noqa: ANN001
        start.wait()
        try:
            call()
            outcomes.append("revoked")
        except Conflict:
            outcomes.append("409")

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return outcomes


def test_two_revocations_of_the_last_two_keys_at_once_leave_one(world):
    """Each revocation runs in its own engine (as two processes would): the database decides."""
    service, _, uow, clock, engine = world
    other_engine = make_engine(str(engine.url.render_as_string(hide_password=False)), pool_size=4)
    other, _, _ = _service(other_engine, clock)
    try:
        for _ in range(5):
            where = shop(uow)
            (initial,) = service.list_retailer_keys(OPERATOR, where.retailer_id)
            made = service.create_retailer_key(OPERATOR, where.retailer_id, name="second")
            outcomes = _at_once(partial(service.revoke_retailer_key, OPERATOR, where.retailer_id, initial.key_id),
                                partial(other.revoke_retailer_key, OPERATOR, where.retailer_id, made.key_id))
            assert sorted(outcomes) == ["409", "revoked"]
            active = [k for k in service.list_retailer_keys(OPERATOR, where.retailer_id) if not k.revoked]
            assert len(active) == 1
    finally:
        other_engine.dispose()
