"""A small in-memory stand-in for the platform's trip routes (DESIGN 10) and payment-status
feedback, served through ``httpx.MockTransport``, for the retailer's clients and the demo's back office.

Import from other test folders as ``from retailer.fake_platform import FakePlatform``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

CAPTURE_DECLINE_TOKEN = "tok_capture_decline"


@dataclass
class FakeTrip:
    trip_id: str
    token: str
    held: Decimal
    status: str = "OPEN"
    closed_by: str | None = None
    hold_status: str = "HELD"
    captured: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    total: Decimal | None = None
    settled: Decimal | None = None

    def view(self) -> dict[str, Any]:
        return {"shoppingTripId": self.trip_id, "status": self.status, "closedBy": self.closed_by,
                "totalAmount": _money(self.total), "settledAmount": _money(self.settled),
                "preauthorization": self.hold()}

    def hold(self) -> dict[str, Any]:
        return {"id": f"pa_{self.trip_id}", "status": self.hold_status, "heldAmount": _money(self.held),
                "capturedAmount": _money(self.captured), "refundedAmount": _money(self.refunded)}


@dataclass
class FakePlatform:
    trips: dict[str, FakeTrip] = field(default_factory=dict)
    keys: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # key -> (request, answer)
    requests: list[httpx.Request] = field(default_factory=list)
    failures: list[int | None] = field(default_factory=list)  # the next answers: a status, or None: no answer
    reports: list[dict[str, Any]] = field(default_factory=list)  # payment-status bodies, in order

    def open_trip(self, trip_id: str, *, token: str = "tok_visa", held: str = "25") -> FakeTrip:
        self.trips[trip_id] = trip = FakeTrip(trip_id, token, Decimal(held))
        return trip

    def sweep(self, trip_id: str) -> None:
        """What the platform's sweeper does to a trip past its store's maxTripMinutes."""
        trip = self.trips[trip_id]
        trip.status, trip.closed_by = "CLOSED", "TIMEOUT"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url="http://platform.test", transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            status = self.failures.pop(0)
            if status is None:
                raise httpx.ConnectError("connection reset", request=request)
            return _error(status, "UNAVAILABLE", "try again")
        parts = request.url.path.strip("/").split("/")
        body = json.loads(request.content) if request.content else {}
        if parts[:2] == ["v1", "feedback"]:
            self.reports.append(body)
            trip = self.trips[body["shoppingTripId"]]
            trip.total, trip.settled = Decimal(str(body["totalAmount"]["amount"])), \
                Decimal(str(body["settledAmount"]["amount"]))
            return httpx.Response(200, json={"status": "Accepted"})
        trip = self.trips.get(parts[2])
        if trip is None:
            return _error(404, "NOT_FOUND", f"trip {parts[2]} not found")
        if request.method == "GET":
            return httpx.Response(200, json=trip.view())
        if parts[3:] == ["close"]:
            if trip.status == "CLOSED":
                return httpx.Response(200, json={"shoppingTripId": trip.trip_id, "result": "ALREADY_CLOSED",
                                                 "closedBy": trip.closed_by})
            trip.status, trip.closed_by = "CLOSED", "RETAILER"
            return httpx.Response(200, json={"shoppingTripId": trip.trip_id, "result": "CLOSED",
                                             "closedBy": "RETAILER"})
        return self._settle(request, trip, parts[4], body)

    def _settle(self, request: httpx.Request, trip: FakeTrip, operation: str, body: dict[str, Any]) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return _error(400, "VALIDATION_ERROR", "Idempotency-Key: is required")
        fingerprint = json.dumps([trip.trip_id, operation, body], sort_keys=True)
        if key in self.keys:
            seen, answer = self.keys[key]
            if seen != fingerprint:
                return _error(409, "CONFLICT", "Idempotency-Key: this key was already used for another request")
            return httpx.Response(200, json=answer, headers={"Idempotent-Replayed": "true"})
        amount = Decimal(str(body["amount"]["value"])) if "amount" in body else None
        declined = None
        if operation == "capture":
            if trip.hold_status in ("CAPTURED", "RELEASED"):
                return _error(409, "CONFLICT", "the hold is settled")
            trip.total = amount
            if trip.token == CAPTURE_DECLINE_TOKEN:
                trip.hold_status, trip.settled, declined = "FAILED", Decimal(0), "CAPTURE"
            else:
                trip.hold_status, trip.captured, trip.settled = "CAPTURED", amount, amount
        elif operation == "cancel":
            trip.hold_status, trip.total, trip.settled = "RELEASED", Decimal(0), Decimal(0)
        elif operation == "adjust":
            if trip.status != "OPEN":
                return _error(409, "CONFLICT", "The hold can only be adjusted while the trip is open.")
            trip.held = amount
        elif operation == "refund":
            if trip.hold_status != "CAPTURED" or amount > trip.captured - trip.refunded:
                return _error(409, "CONFLICT", "nothing left to refund")
            trip.refunded += amount
            trip.total -= amount
            trip.settled -= amount
        answer = {"shoppingTripId": trip.trip_id, "preauthorization": trip.hold(), "declined": declined}
        self.keys[key] = (fingerprint, answer)
        return httpx.Response(200, json=answer)


def _money(value: Decimal | None) -> dict[str, Any] | None:
    return None if value is None else {"value": float(value), "currencyCode": "USD"}


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "fields": []}})
