"""Helpers for the webhook tests: a platform of their own with fast retries, endpoints, events to send."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from support.server import Platform, StoreHandle, card, entry, new_par
from support.trips import settle, usd

ALL_EVENTS = ["decision.created", "trip.opened", "trip.closed", "preauthorization.updated", "instrument.blocked"]
# Retry delays a hundredth of the real ones (5 s -> 50 ms), the worker looking every 50 ms, no sweep.
FAST = {"ENTRYGATE_WEBHOOK_BACKOFF_SCALE": "0.01", "ENTRYGATE_WEBHOOK_POLL_INTERVAL_S": "0.05",
        "ENTRYGATE_SWEEP_INTERVAL_S": "0"}


def add_endpoint(platform: Platform, store: StoreHandle, url: str, events: list[str] | None = None) -> tuple[str, str]:
    r = platform.http.post("/v1/webhook-endpoints", json={"url": url, "events": events or ALL_EVENTS},
                           headers=platform.as_retailer(store))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["secret"]


def deliveries(platform: Platform, store: StoreHandle, endpoint_id: str) -> list[dict]:
    r = platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=platform.as_retailer(store))
    assert r.status_code == 200, r.text
    return sorted(r.json()["deliveries"], key=lambda d: int(d["deliveryId"]))


def all_delivered(platform: Platform, store: StoreHandle, endpoint_id: str, count: int) -> bool:
    found = deliveries(platform, store, endpoint_id)
    return len(found) == count and all(d["status"] == "DELIVERED" for d in found)


def tap(platform: Platform, store: StoreHandle, token: str = "tok_visa_approve") -> dict:
    r = platform.enter(store, entry(card(token, par=new_par())))
    assert r.status_code == 200, r.text
    return r.json()


def leave(platform: Platform, store: StoreHandle, trip_id: str, gate: str = "exit-1") -> None:
    r = platform.exit(store, {"eventId": str(uuid.uuid4()), "shoppingTripId": trip_id,
                              "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z")}, gate=gate)
    assert r.status_code == 200 and r.json()["result"] == "CLOSED", r.text


def a_bit_of_everything(platform: Platform, store: StoreHandle) -> int:
    """Make every kind of event happen at the store; how many events that is."""
    first = tap(platform, store)["shoppingTripId"]                    # decision.created, trip.opened
    r = settle(platform, store, first, "capture", usd(18.4))           # preauthorization.updated
    assert r.status_code == 200, r.text
    leave(platform, store, first)                                      # trip.closed
    second = tap(platform, store)["shoppingTripId"]                   # decision.created, trip.opened
    r = platform.http.post(f"/v1/trips/{second}/close", headers=platform.as_retailer(store))  # trip.closed
    assert r.status_code == 200, r.text
    r = platform.http.post("/v1/feedback/shopper-risk", headers=platform.as_retailer(store),  # instrument.blocked
                           json={"storeId": store.store_id, "shoppingTripId": second, "risk": "CustomerFraud"})
    assert r.json() == {"status": "Accepted"}, r.text
    denied = tap(platform, store, "tok_decline_lost_stolen")          # decision.created, instrument.blocked
    assert denied["decision"] == "DENY", denied
    return 10
