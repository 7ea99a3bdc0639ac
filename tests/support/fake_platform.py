"""A stand-in for the platform's side of the gate agent's conversation (DESIGN 11), for the agent's
own tests: it signs real bundles with Ed25519, decides entries (or is slow, or fails), and keeps
what the agent uploads. The agent end to end against a real platform is in tests/e2e."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from entrygate.domain.offline import b64url, card_lookup_key, payload_bytes

GATE_KEY = "gk_agent_test_" + "k" * 24
SALT = b"agent-test-lookup-salt-000000000"


@dataclass
class FakePlatform:
    gate_id: str = "lane-1"
    mode: str = "up"  # up | slow | error
    slow_s: float = 2.0
    key_id: str = "ofk_1"
    signing: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    published: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    instruments: dict[str, str] = field(default_factory=dict)  # lookup key -> instrument id
    blocks: list[str] = field(default_factory=list)
    max_entries: int = 3
    bundle_gate: str | None = None  # sign the bundle for another gate
    bundle_expires_in: timedelta = timedelta(hours=24)
    tamper: bool = False
    entries: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    agent_headers: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.published[self.key_id] = self.signing

    def allow_card(self, par: str, instrument_id: str) -> None:
        self.instruments[card_lookup_key(SALT, par=par, payment_token="")] = instrument_id

    def block_card(self, par: str) -> None:
        self.blocks.append(card_lookup_key(SALT, par=par, payment_token=""))

    def rotate(self, key_id: str) -> None:
        self.key_id, self.signing = key_id, Ed25519PrivateKey.generate()
        self.published[key_id] = self.signing

    def bundle(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        expires = _iso(now + self.bundle_expires_in)
        payload = {"gateId": self.bundle_gate or self.gate_id, "storeId": "store-1", "expiresAt": expires,
                   "lookupSalt": b64url(SALT),
                   "instruments": [{"instrumentId": i, "lookupKey": k} for k, i in self.instruments.items()],
                   "badges": [], "blocks": [{"lookupKey": k} for k in self.blocks],
                   "limits": {"maxEntriesPerInstrument": self.max_entries,
                              "maxExposurePerGate": {"value": 500.0, "currencyCode": "USD"},
                              "exposurePerEntry": {"value": 25.0, "currencyCode": "USD"}}}
        raw = payload_bytes(payload)
        signature = self.signing.sign(raw)
        if self.tamper:
            raw = raw.replace(b'"maxEntriesPerInstrument":3', b'"maxEntriesPerInstrument":9')
        return {"bundleId": "ofb_" + uuid.uuid4().hex[:12], "gateId": self.bundle_gate or self.gate_id,
                "storeId": "store-1", "issuedAt": _iso(now), "expiresAt": expires, "keyId": self.key_id,
                "payload": b64url(raw), "signature": b64url(signature)}

    def uploaded_event_ids(self) -> list[str]:
        with self.lock:
            return [d["eventId"] for u in self.uploads for d in u["decisions"]]


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        fake = self.server.fake
        fake.agent_headers.append(self.headers.get("entrygate-agent", ""))
        if self.path == "/healthz":
            return self._send(200 if fake.mode != "error" else 503, {"status": "ok"})
        if self.path == "/v1/offline/keys":
            keys = [{"keyId": k, "publicKey": b64url(p.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))}
                    for k, p in fake.published.items()]
            return self._send(200, {"keys": keys})
        if self.path == f"/v1/gates/{fake.gate_id}/offline-bundle":
            if self.headers.get("authorization") != f"Bearer {GATE_KEY}":
                return self._send(401, {"error": {"code": "UNAUTHENTICATED", "message": "no", "fields": []}})
            return self._send(200, fake.bundle())
        return self._send(404, {"error": {"code": "NOT_FOUND", "message": self.path, "fields": []}})

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        fake.agent_headers.append(self.headers.get("entrygate-agent", ""))
        if self.path.endswith("/offline-decisions"):
            if fake.mode != "up":
                return self._send(503, {"error": {"code": "UNAVAILABLE", "message": "down", "fields": []}})
            with fake.lock:
                fake.uploads.append(body)
            return self._send(200, {"recorded": len(body["decisions"])})
        if fake.mode == "slow":
            time.sleep(fake.slow_s)
        if fake.mode == "error":
            return self._send(503, {"error": {"code": "UNAVAILABLE", "message": "the database is unavailable",
                                              "fields": []}})
        with fake.lock:
            fake.entries.append(body)
        return self._send(200, {"eventId": body.get("eventId"), "decision": "OPEN", "shoppingTripId": "trip_platform",
                                "visitor": {"id": "ins_platform", "type": "SHOPPER"}, "reasons": [], "risk": None,
                                "authorizedAmount": None, "decidedBy": "PLATFORM", "latencyMs": 1.0, "partySize": 1})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakePlatform, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.fake = fake


def start(fake: FakePlatform, port: int = 0) -> _Server:
    server = _Server(fake, port)
    threading.Thread(target=server.serve_forever, name="fake-platform", daemon=True).start()
    return server


def stop(server: _Server) -> None:
    server.shutdown()
    server.server_close()
