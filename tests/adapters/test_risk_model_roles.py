"""The current and shadow versions in the database (``adapters/db/risk_models.py``), on SQLite and
PostgreSQL: recorded, read back, checked against the model store, and safe under concurrent writes."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.risk_models import SqlModelRoles
from entrygate.risk.model_store import ModelStore
from entrygate.risk.operations import ModelOperations, NotACandidate, UnknownModelVersion
from support.risk_models import bundled_version, save_always_high

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def roles(db_url):
    engine = make_engine(db_url, pool_size=8)
    yield SqlModelRoles(engine)
    engine.dispose()


def test_roles_are_recorded_and_promoting_the_shadow_ends_it(roles, tmp_path):
    candidate = save_always_high(tmp_path)
    ops = ModelOperations(ModelStore(tmp_path), roles, now=lambda: T0)
    assert roles.read().current is None and ops.served().current == bundled_version()
    ops.start_shadow(candidate)
    got = roles.read()
    assert (got.current, got.shadow, got.shadow_since) == (None, candidate, T0)
    ops.promote(candidate)
    got = roles.read()
    assert (got.current, got.shadow, got.current_since) == (candidate, None, T0)
    ops.start_shadow(bundled_version())
    ops.stop_shadow()
    assert roles.read().shadow is None and ops.served().current == candidate


def test_an_unknown_version_or_a_shadow_of_the_current_changes_nothing(roles, tmp_path):
    candidate = save_always_high(tmp_path)
    ops = ModelOperations(ModelStore(tmp_path), roles, now=lambda: T0)
    ops.start_shadow(candidate)
    before = roles.read()
    for change in (lambda: ops.promote("v20990101T000000Z-00000000"), lambda: ops.start_shadow("../etc/passwd"),
                   lambda: ops.start_shadow("v20990101T000000Z-00000000")):
        with pytest.raises(UnknownModelVersion):
            change()
    with pytest.raises(NotACandidate):
        ops.start_shadow(bundled_version())
    assert roles.read() == before


def test_concurrent_promotions_leave_one_current_version(roles, tmp_path):
    versions = [bundled_version(), save_always_high(tmp_path)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def promote(i: int) -> None:
        start.wait()
        try:
            roles.set_current(versions[i % 2], at=T0)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and roles.read().current in versions


def test_each_change_of_the_model_is_in_the_audit_log_with_who_made_it_and_a_refused_one_is_not(roles, tmp_path, db_url):
    from entrygate.adapters.db.audit import SqlAudit
    from entrygate.domain.audit import Actor, ActorType

    candidate = save_always_high(tmp_path)
    ops = ModelOperations(ModelStore(tmp_path), roles, now=lambda: T0)
    alice = Actor(ActorType.CONSOLE_USER, "usr_alice", "alice@example.com")
    ops.start_shadow(candidate, by=alice)
    ops.promote(candidate)  # from the command line
    with pytest.raises(UnknownModelVersion):
        ops.promote("v20990101T000000Z-00000000", by=alice)
    engine = make_engine(db_url, pool_size=1)
    try:
        with engine.connect() as conn:
            entries = SqlAudit(conn).list(retailer_id=None, store_id=None, since=None, limit=10)
    finally:
        engine.dispose()
    mine = [e for e in entries if e.target.type == "riskModel"]
    assert [(e.action, e.actor.name) for e in mine] == [("riskModel.promoted", "entrygate risk (command line)"),
                                                        ("riskModel.shadowStarted", "alice@example.com")]
    assert mine[0].before == {"current": bundled_version(), "shadow": candidate}
    assert mine[0].after == {"current": candidate, "shadow": None} and mine[0].retailer_id is None  # its shadow ended
