"""Group commit (SQLite): concurrent decisions share a transaction; a duplicate fails alone."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.group_commit import GroupCommitLog
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.channels import GateDirection
from entrygate.domain.records import DecisionRecord
from entrygate.services.admin.service import AdminService
from entrygate.services.catalog import Catalog
from entrygate.services.gate.decision_log import DecisionWrite
from entrygate.services.ports.storage import DuplicateEvent, StorageError
from support.databases import fresh_database
from support.factories import NOW, OPERATOR, PlainPasswords, store_config


@pytest.fixture
def sqlite_world(tmp_path: Path):
    """Group commit is the SQLite adapter's (PostgreSQL groups commits itself)."""
    url = fresh_database("sqlite", tmp_path, name="gc")
    engine = make_engine(url)
    uow = SqlUnitOfWorkFactory(engine)
    admin = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords())
    retailer = admin.create_retailer(OPERATOR, name="R")
    store = admin.create_store(OPERATOR, store_config(retailer.id))
    admin.add_gate(OPERATOR, store.store_id, gate_id="g", direction=GateDirection.ENTRY)
    with uow() as u:
        gate = u.gates.find(store.store_id, "g")
    yield uow, gate, store
    engine.dispose()


def _record(gate, store, event_id: str) -> DecisionRecord:  # noqa: ANN001
    return DecisionRecord(gate_pk=gate.gate_pk, gate_id="g", store_id=store.store_id, event_id=event_id,
                          request_hash="h", channel="CREDIT_CARD", outcome="DENY", reasons=["PREAUTH_DECLINED"],
                          decided_by="PLATFORM", visitor_id=None, visitor_type=None, instrument_id=None, trip_id=None,
                          party_size=1, risk_score=None, risk_level=None, authorized_amount=None, currency=None,
                          latency_ms=1.0, event_time=NOW, decided_at=NOW)


def test_concurrent_writes_are_all_durable_and_a_duplicate_fails_alone(sqlite_world):
    uow, gate, store = sqlite_world
    log = GroupCommitLog(uow)
    ids = [str(uuid.uuid4()) for _ in range(200)]
    batches: list[int] = []
    original = log._commit

    def counting(batch):  # noqa: ANN001
        batches.append(len(batch))
        original(batch)

    log._commit = counting  # type: ignore[method-assign]

    def write(event_id: str) -> str:
        try:
            log.write(DecisionWrite(record=_record(gate, store, event_id)))
            return "ok"
        except DuplicateEvent:
            return "dup"

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(write, ids + [ids[7]], timeout=60))
    log.close()
    assert results.count("dup") == 1 and results.count("ok") == len(ids)
    assert max(batches) > 1, "concurrent writes never shared a commit"
    with uow() as u:
        assert all(u.decisions.get_by_event(gate.gate_pk, e) is not None for e in ids)


def test_a_failed_commit_fails_every_waiting_write_and_stores_nothing(sqlite_world):
    uow, gate, store = sqlite_world
    log = GroupCommitLog(uow)
    bad = replace(_record(gate, store, "x"), gate_pk="no-such-gate")  # violates the foreign key at commit
    with pytest.raises(StorageError):
        log.write(DecisionWrite(record=bad))
    log.write(DecisionWrite(record=_record(gate, store, "after")))  # the writer keeps going
    log.close()
    with uow() as u:
        assert u.decisions.get_by_event("no-such-gate", "x") is None
        assert u.decisions.get_by_event(gate.gate_pk, "after") is not None


class _Broken(DecisionWrite):
    """A write whose apply fails with a programming error, not a storage fault."""

    def apply(self, uow):  # noqa: ANN001, ANN201
        raise RuntimeError("a bug in one write")


def test_an_unexpected_error_fails_its_batch_and_the_writer_keeps_going(sqlite_world):
    uow, gate, store = sqlite_world
    log = GroupCommitLog(uow)
    with pytest.raises(StorageError):
        log.write(_Broken(record=_record(gate, store, "bug")))
    pool = ThreadPoolExecutor(1)  # with a dead writer thread this write would wait for ever
    try:
        pool.submit(log.write, DecisionWrite(record=_record(gate, store, "next"))).result(timeout=10)
    finally:
        pool.shutdown(wait=False)
    log.close()
    with uow() as u:
        assert u.decisions.get_by_event(gate.gate_pk, "bug") is None
        assert u.decisions.get_by_event(gate.gate_pk, "next") is not None
