"""What the gate writes on a trip for DESIGN 10: the SOFT anti-passback flag, and who closed it."""
from __future__ import annotations

from entrygate.domain.channels import AntiPassback
from entrygate.domain.trips import ClosedBy
from entrygate.services.gate.exits import ExitEvent
from support.factories import NOW, World, card, event


def _trip(w: World, trip_id: str):  # noqa: ANN202
    with w.memory() as uow:
        return uow.trips.get(trip_id)


def test_a_soft_store_marks_the_trip_opened_while_another_was_open():
    w = World(anti_passback=AntiPassback.SOFT)
    c = card()
    first, second = w.admit(event(c)), w.admit(event(c))
    assert _trip(w, first["shoppingTripId"]).passback_violation is False
    assert _trip(w, second["shoppingTripId"]).passback_violation is True


def test_a_trip_closed_at_an_exit_gate_says_so():
    w = World()
    trip_id = w.admit(event(card()))["shoppingTripId"]
    assert _trip(w, trip_id).closed_by is None
    w.exits.exit(w.exit_principal, "exit-1", ExitEvent("x1", NOW, "h", trip_id=trip_id))
    assert _trip(w, trip_id).closed_by is ClosedBy.EXIT_GATE
