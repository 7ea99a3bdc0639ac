"""Trips and their money as JSON (DESIGN 10): the trip resource, its ``preauthorization``, and the
answers of closing a trip and of settling it. Pure: rendered from the use cases' typed results."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from entrygate.domain.holds import HoldSummary
from entrygate.domain.money import Money
from entrygate.domain.records import Trip
from entrygate.services.payments.closing import TripClosed
from entrygate.services.ports.payments import HoldAnswer


def _when(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def preauthorization_view(hold: HoldSummary) -> dict[str, Any]:
    """``{"id", "status", "heldAmount", "capturedAmount", "refundedAmount"}``."""
    return {"id": hold.preauth_id, "status": hold.status.value, "heldAmount": hold.held.to_json(),
            "capturedAmount": hold.captured.to_json(), "refundedAmount": hold.refunded.to_json()}


def trip_view(trip: Trip, hold: HoldSummary | None) -> dict[str, Any]:
    """``GET /v1/trips/{id}`` and each item of ``GET /v1/stores/{id}/trips``; ``hold`` None: no pre-authorization."""
    def money(value: Decimal | None) -> dict[str, Any] | None:
        return None if value is None else Money(value, trip.currency).to_json()
    return {
        "shoppingTripId": trip.trip_id, "storeId": trip.store_id, "status": trip.status.value,
        "channel": trip.channel, "visitorId": trip.visitor_id, "partySize": trip.party_size,
        "entryGateId": trip.entry_gate_id, "exitGateId": trip.exit_gate_id,
        "enteredAt": _when(trip.entered_at), "exitedAt": _when(trip.exited_at),
        "closedBy": trip.closed_by.value if trip.closed_by else None,
        "passbackViolation": trip.passback_violation,
        "authorizedAmount": money(trip.authorized_amount),
        "totalAmount": money(trip.total_amount), "settledAmount": money(trip.settled_amount),
        "outstanding": money(trip.unpaid) if trip.total_amount is not None else None,
        "preauthorization": preauthorization_view(hold) if hold is not None else None,
    }


def hold_answer(answer: HoldAnswer) -> dict[str, Any]:
    """The answer to capture, cancel, adjust and refund: the trip's ``preauthorization`` as it now stands.

    ``declined`` names the processor step that said no (``INCREMENT``: the raise, so only the hold
    was captured; ``CAPTURE``: nothing was collected), or is null.
    """
    return {"shoppingTripId": answer.trip_id, "preauthorization": preauthorization_view(answer.preauthorization),
            "declined": answer.declined.value if answer.declined else None}


def close_answer(closed: TripClosed) -> dict[str, Any]:
    """The answer to ``POST /v1/trips/{id}/close``, as for exits: ``CLOSED`` now or ``ALREADY_CLOSED``."""
    return {"shoppingTripId": closed.trip_id, "result": closed.result.value,
            "closedBy": closed.closed_by.value if closed.closed_by else None}
