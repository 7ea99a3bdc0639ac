"""The retailer's side of DESIGN 10: settling a trip through its pre-authorization, and closing it.

A back office calls ``capture`` with the basket total when a trip ends (an empty basket:
``cancel``), ``adjust`` to change the hold while the shopper is inside, and ``refund`` after a
capture. Each call carries an ``Idempotency-Key``; a call that gets no answer (a dropped
connection, a 502-504) is sent again with the same key, so the platform moves the money once.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx


class SettlementError(Exception):
    """entrygate refused the operation; ``status`` is the HTTP status, ``code`` the error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


# Why these are sent again and nothing else: they mean the answer never came, so whether the
# platform acted is unknown; the same Idempotency-Key makes the second call a safe replay.
_RETRIED_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class Preauthorization:
    """The trip's ``preauthorization`` as the platform answers it."""

    preauth_id: str
    status: str  # HELD, CAPTURED, RELEASED or FAILED (the capture was declined, nothing collected)
    held: Decimal
    captured: Decimal
    refunded: Decimal
    currency: str

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Preauthorization:
        held = body["heldAmount"]
        return cls(body["id"], body["status"], _decimal(held), _decimal(body["capturedAmount"]),
                   _decimal(body["refundedAmount"]), held["currencyCode"])


@dataclass(frozen=True, slots=True)
class Settled:
    """The answer to capture, cancel, adjust and refund.

    ``declined`` names the processor step that said no (``INCREMENT``: the raise, so only the hold
    was captured; ``CAPTURE``: nothing was collected) or is None; ``replayed`` is True when the
    platform answered a key it had seen before, and did nothing more.
    """

    trip_id: str
    hold: Preauthorization
    declined: str | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class TripClosed:
    """``POST /v1/trips/{id}/close``: ``result`` is CLOSED or ALREADY_CLOSED, ``closed_by`` who closed it."""

    trip_id: str
    result: str
    closed_by: str | None


class PlatformSettlement:
    def __init__(self, base_url: str, api_key: str, *, client: httpx.Client | None = None, attempts: int = 3,
                 backoff_s: float = 0.2) -> None:
        self._client = client or httpx.Client(base_url=base_url, timeout=10.0)
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._attempts = attempts
        self._backoff_s = backoff_s

    def capture(self, trip_id: str, amount: Decimal, currency: str, *, key: str | None = None) -> Settled:
        """Charge ``amount``; a declined capture is no error: the hold's status is FAILED."""
        return self._operate(trip_id, "capture", _amount(amount, currency), key)

    def cancel(self, trip_id: str, *, key: str | None = None) -> Settled:
        """Release the hold: an empty basket."""
        return self._operate(trip_id, "cancel", {}, key)

    def adjust(self, trip_id: str, amount: Decimal, currency: str, *, key: str | None = None) -> Settled:
        """Set the hold to ``amount`` while the trip is open."""
        return self._operate(trip_id, "adjust", _amount(amount, currency), key)

    def refund(self, trip_id: str, amount: Decimal, currency: str, *, key: str | None = None) -> Settled:
        """Give back part or all of the capture."""
        return self._operate(trip_id, "refund", _amount(amount, currency), key)

    def close(self, trip_id: str) -> TripClosed:
        """Close the trip by hand (``closedBy: RETAILER``); closing a closed trip says who closed it."""
        body = self._send("POST", f"/v1/trips/{trip_id}/close", json={})
        return TripClosed(body["shoppingTripId"], body["result"], body.get("closedBy"))

    def trip(self, trip_id: str) -> dict[str, Any]:
        """The trip resource: status, closedBy, amounts, preauthorization."""
        return self._send("GET", f"/v1/trips/{trip_id}")

    def close_client(self) -> None:
        self._client.close()

    def _operate(self, trip_id: str, operation: str, body: dict[str, Any], key: str | None) -> Settled:
        headers = {"Idempotency-Key": key or f"{operation}-{uuid.uuid4()}"}
        r = self._request("POST", f"/v1/trips/{trip_id}/preauthorization/{operation}", json=body, headers=headers)
        answer = r.json()
        return Settled(answer["shoppingTripId"], Preauthorization.from_json(answer["preauthorization"]),
                       answer.get("declined"), r.headers.get("Idempotent-Replayed") == "true")

    def _send(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._request(method, path, json=json).json()

    def _request(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> httpx.Response:
        for attempt in range(1, self._attempts + 1):
            try:
                r = self._client.request(method, path, json=json, headers={**self._headers, **(headers or {})})
            except httpx.TransportError as exc:
                if attempt == self._attempts:
                    raise SettlementError(0, "UNREACHABLE", str(exc) or type(exc).__name__) from exc
            else:
                if r.status_code == 200:
                    return r
                if r.status_code not in _RETRIED_STATUSES or attempt == self._attempts:
                    raise _error(r)
            time.sleep(self._backoff_s * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _amount(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": {"value": float(amount), "currencyCode": currency}}


def _decimal(money: dict[str, Any]) -> Decimal:
    # Through str: a JSON number arrives as a float, and 18.4 must read as 18.4, not 18.39999...
    return Decimal(str(money["value"]))


def _error(r: httpx.Response) -> SettlementError:
    try:
        error = r.json()["error"]
        return SettlementError(r.status_code, error.get("code", "HTTP_ERROR"), error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        return SettlementError(r.status_code, "HTTP_ERROR", r.text[:300])
