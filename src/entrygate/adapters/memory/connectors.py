"""The retailer's connectors with scripted answers, for service tests: no HTTP, every call written down.

Like ``adapters/http/connectors.py``, a store with no such connector configured gets
``ConnectorFailed(NOT_CONFIGURED)`` and nothing is asked; otherwise the answer is looked up in
the script, and an exception found there is raised, as the HTTP client raises what it met.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from entrygate.domain.authorization import ShopperAuthorization
from entrygate.domain.decision import Visitor
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.services.ports.connectors import (
    IDENTITY,
    SHOPPER_AUTHORIZATION,
    AuthEvent,
    ConnectorError,
    ConnectorFailed,
    FailureKind,
    GateAuthEvent,
    IdentityRejected,
    KeyChannel,
    ProbeAnswer,
)

AUTHORIZED = ShopperAuthorization(shopper_authorized=True)


def _configured(store: StoreConfig, name: str) -> None:
    if store.connector(name) is None:
        raise ConnectorFailed(FailureKind.NOT_CONFIGURED, f"store {store.store_id} has no {name} connector")


class IdentityCall(NamedTuple):
    identity_key: bytes
    key_channel: KeyChannel
    auth_event: AuthEvent


class ScriptedIdentity:
    """An ``IdentityConnector`` answering from a table of raw keys; any other key is refused (401)."""

    def __init__(self, answers: Mapping[bytes, Visitor | ConnectorError] | None = None) -> None:
        self.answers: dict[bytes, Visitor | ConnectorError] = dict(answers or {})
        self.calls: list[IdentityCall] = []
        self._lock = threading.Lock()

    def identify(self, store: StoreConfig, *, identity_key: bytes, key_channel: KeyChannel,
                 auth_event: AuthEvent) -> Visitor:
        _configured(store, IDENTITY)
        with self._lock:
            self.calls.append(IdentityCall(identity_key, key_channel, auth_event))
        answer = self.answers.get(identity_key, IdentityRejected("the identity connector does not know this key"))
        if isinstance(answer, Exception):
            raise answer
        return answer


class AuthorizationCall(NamedTuple):
    store_id: str
    instrument_id: str
    authorized_amount: Money
    trip_id: str
    gate_event: GateAuthEvent
    recommendation: ShopperAuthorization | None


class ScriptedShopperAuthorization:
    """A ``ShopperAuthorizationConnector`` answering by instrument id, else with ``default``."""

    def __init__(self, answers: Mapping[str, ShopperAuthorization | ConnectorError] | None = None, *,
                 default: ShopperAuthorization | ConnectorError = AUTHORIZED) -> None:
        self.answers: dict[str, ShopperAuthorization | ConnectorError] = dict(answers or {})
        self.default = default
        self.calls: list[AuthorizationCall] = []
        self._lock = threading.Lock()

    def authorize_shopper(self, store: StoreConfig, *, instrument_id: str, authorized_amount: Money,
                          trip_id: str, gate_event: GateAuthEvent,
                          recommendation: ShopperAuthorization | None = None) -> ShopperAuthorization:
        _configured(store, SHOPPER_AUTHORIZATION)
        with self._lock:
            self.calls.append(AuthorizationCall(store.store_id, instrument_id, authorized_amount, trip_id,
                                                gate_event, recommendation))
        answer = self.answers.get(instrument_id, self.default)
        if isinstance(answer, Exception):
            raise answer
        return answer


class ProbeCall(NamedTuple):
    url: str
    path: str
    body: bytes
    headers: dict[str, str]
    budget_s: float


@dataclass
class ScriptedProbe:
    """A ``ConnectorProbe``: ``answer`` decides what each raw request gets (by default a bare 200).

    Never raises, as the real probe never does: an exception from ``answer`` becomes a transport error.
    """

    answer: Callable[[ProbeCall], ProbeAnswer] = field(default=lambda call: ProbeAnswer(200, b"{}", 1.0))
    calls: list[ProbeCall] = field(default_factory=list)

    def probe(self, connector: ConnectorConfig, path: str, body: bytes, headers: Mapping[str, str], *,
              budget_s: float) -> ProbeAnswer:
        call = ProbeCall(connector.url, path, body, dict(headers), budget_s)
        self.calls.append(call)
        try:
            return self.answer(call)
        except Exception as exc:  # noqa: BLE001 - the port's promise: a transport error is an answer
            return ProbeAnswer(None, b"", 0.0, f"{type(exc).__name__}: {exc}")
