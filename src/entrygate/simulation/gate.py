"""A simulated gate device: sends entries and exits to a running platform over HTTP.

A request that gets no answer (the server closed an idle keep-alive connection just as it was
reused, a reset) is sent again as it was, with the same event id: the platform answers a repeated
event id with its first answer and changes nothing (DESIGN 4.1), as a real gate relies on.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

ATTEMPTS = 3


class SimulatedGate:
    def __init__(self, base_url: str, gate_id: str, api_key: str, *, client: httpx.Client | None = None) -> None:
        self.gate_id = gate_id
        self._client = client or httpx.Client(base_url=base_url, timeout=10.0)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def enter(self, channel: str, credential: dict[str, Any], *, party_size: int = 1,
              interaction: str = "TAP") -> dict[str, Any]:
        body = {"eventId": str(uuid.uuid4()), "timestamp": _now(), "channel": channel,
                "interactionType": interaction, "partySize": party_size, "credential": credential}
        return self._post(f"/v1/gates/{self.gate_id}/entries", body)

    def exit(self, trip_id: str) -> dict[str, Any]:
        body = {"eventId": str(uuid.uuid4()), "timestamp": _now(), "shoppingTripId": trip_id}
        return self._post(f"/v1/gates/{self.gate_id}/exits", body)

    def close(self) -> None:
        self._client.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                r = self._client.post(path, json=body, headers=self._headers)
            except httpx.TransportError:
                if attempt == ATTEMPTS:
                    raise
                continue
            r.raise_for_status()
            return r.json()
        raise AssertionError("unreachable: the last attempt returns or raises")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
