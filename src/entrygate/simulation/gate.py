"""A simulated gate device: sends entries and exits to a running platform over HTTP."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import httpx


class SimulatedGate:
    def __init__(self, base_url: str, gate_id: str, api_key: str, *, client: httpx.Client | None = None) -> None:
        self.gate_id = gate_id
        self._client = client or httpx.Client(base_url=base_url, timeout=10.0)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def enter(self, channel: str, credential: dict[str, Any], *, party_size: int = 1,
              interaction: str = "TAP") -> dict[str, Any]:
        body = {"eventId": str(uuid.uuid4()), "timestamp": _now(), "channel": channel,
                "interactionType": interaction, "partySize": party_size, "credential": credential}
        r = self._client.post(f"/v1/gates/{self.gate_id}/entries", json=body, headers=self._headers)
        r.raise_for_status()
        return r.json()

    def exit(self, trip_id: str) -> dict[str, Any]:
        body = {"eventId": str(uuid.uuid4()), "timestamp": _now(), "shoppingTripId": trip_id}
        r = self._client.post(f"/v1/gates/{self.gate_id}/exits", json=body, headers=self._headers)
        r.raise_for_status()
        return r.json()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
