"""``EventOutbox`` (``uow.events``): it reads the trip its own transaction wrote, so an event's body is the
change as committed with it; a trip no operation has touched has no stored hold."""
from __future__ import annotations

from entrygate.domain.channels import TripStatus
from support.contracts import shop, trip


def test_the_outbox_sees_the_trip_its_transaction_wrote(storage):
    where = shop(storage)
    t = trip(where, preauth_id="pa_1")
    with storage(write=True) as u:
        u.trips.add(t)
        assert u.events.trip(t.trip_id) == t
        assert u.trips.close(t.trip_id, at=t.entered_at, gate_id="exit-1")
        closed = u.events.trip(t.trip_id)
        assert closed.status is TripStatus.CLOSED and closed.exit_gate_id == "exit-1"
        assert u.events.hold(t.trip_id) is None
        assert u.events.trip("trip_unknown") is None
