"""``HoldSummaries``: the trip resource's batch read of holds, on the in-memory fake, SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from entrygate.adapters.db.hold_summaries import SqlHoldSummaries
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.hold_summaries import MemoryHoldSummaries
from entrygate.domain.holds import HoldStatus, apply_capture
from entrygate.services.ports.payments import HoldAnswer
from support.payments_storage import NOW, intent, open_backend, opened, trip_state, usd


@pytest.fixture
def ports(engine):  # noqa: ANN001 - None for memory, else an empty database
    backend = open_backend(engine)
    backend.store()
    reader = MemoryHoldSummaries(backend.memory) if engine is None else SqlHoldSummaries(SqlUnitOfWorkFactory(engine))
    yield backend, reader
    backend.close()


def _captured(backend, trip) -> None:  # noqa: ANN001
    """Store the trip's hold as captured, the way the hold service writes it."""
    hold, pending = opened(trip), intent(trip.trip_id)
    after = apply_capture(hold, pending.plan, raised=None, collected=usd("18.40"), at=NOW)
    with backend.uow(write=True) as u:
        assert u.holds.save_intent(pending, hold=hold, expected_version=0)
        u.commit()
    with backend.uow(write=True) as u:
        answer = HoldAnswer(trip.trip_id, after.hold.summary(), after.outcome)
        assert u.holds.complete_intent(pending.operation_id, hold=after.hold, answer=answer, refusal=None, at=NOW)
        u.commit()


def test_stored_holds_are_read_by_trip_and_untouched_ones_are_absent(ports):
    backend, reader = ports
    touched, untouched = backend.trip(trip_state()), backend.trip(trip_state())
    assert reader.of([]) == {}
    assert reader.of([touched.trip_id, untouched.trip_id, "trip_nope"]) == {}
    _captured(backend, touched)
    found = reader.of([touched.trip_id, untouched.trip_id, touched.trip_id])
    assert list(found) == [touched.trip_id]
    summary = found[touched.trip_id]
    assert summary.preauth_id == touched.preauth_id and summary.status is HoldStatus.CAPTURED
    assert (summary.held, summary.captured, summary.refunded) == (usd(25), usd("18.40"), usd(0))


def test_a_page_larger_than_one_query_reads_every_hold(ports):
    backend, reader = ports
    trips = [backend.trip(trip_state()) for _ in range(3)]
    for t in trips:
        _captured(backend, t)
    asked = [t.trip_id for t in trips] + [f"trip_missing_{i}" for i in range(1200)]
    assert set(reader.of(asked)) == {t.trip_id for t in trips}
