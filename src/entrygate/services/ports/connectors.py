"""The retailer connectors as the use cases see them: ports, results, failures, and the wire format.

entrygate calls two retailer endpoints (DESIGN 5): the identity connector, which says who a QR
code or badge belongs to, and the shopper-authorization connector, which decides card and palm
entries under ``PLATFORM_RECOMMENDATION`` and ``RETAILER_MANAGED``. The HTTP client in
``adapters/http/connectors.py`` implements both ports; the connectivity test
(``services/admin/connectivity.py``) builds its requests with the same wire-format functions, so
there is one definition of the contract's JSON in the code.

Exception hierarchy::

    ConnectorError
    ├── ConnectorFailed     no usable answer: not configured, circuit open, connection refused,
    │                       deadline passed, 5xx, 4xx other than the contract's, malformed body.
    │                       ``kind`` says which; the store's fallback applies.
    └── IdentityRejected    the identity connector answered 401: it does not know this key.
"""
from __future__ import annotations

import base64
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from entrygate.domain.authorization import ADJUST, AuthorizationCondition, ShopperAuthorization
from entrygate.domain.channels import Channel, ShopperRisk, VisitorType
from entrygate.domain.decision import Visitor
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig


class ConnectorError(Exception):
    """A connector call that did not admit the visitor."""


class FailureKind(str, Enum):
    """Why a connector call gave no usable answer (also the ``outcome`` label of its metrics)."""

    NOT_CONFIGURED = "not_configured"
    CIRCUIT_OPEN = "circuit_open"
    CONNECT_ERROR = "connect_error"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    BAD_REQUEST = "bad_request"
    BAD_STATUS = "bad_status"
    MALFORMED = "malformed"

    @property
    def counts_against_breaker(self) -> bool:
        """Failures that mean the retailer is down or sick, not that it answered something odd.

        A fast 4xx is an answer: opening the circuit for it would save no time at the gate.
        """
        return self in (FailureKind.CONNECT_ERROR, FailureKind.TIMEOUT, FailureKind.SERVER_ERROR,
                        FailureKind.MALFORMED)


class ConnectorFailed(ConnectorError):
    """The connector gave no usable answer within its deadline."""

    def __init__(self, kind: FailureKind, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind
        self.message = message
        self.status = status


class IdentityRejected(ConnectorError):
    """The identity connector answered 401: the key is invalid, unknown, expired or used."""


# --- the contract's vocabulary ----------------------------------------------------------------

IDENTITY = "identity"
SHOPPER_AUTHORIZATION = "shopperAuthorization"
IDENTITY_PATH = "/v1/identity/identity-keys"
SHOPPER_AUTHORIZATION_PATH = "/v1/fraudandabuse/shopperauthorization"
PATHS = {IDENTITY: IDENTITY_PATH, SHOPPER_AUTHORIZATION: SHOPPER_AUTHORIZATION_PATH}
MAX_IDENTITY_KEY_CHARS = 1000
# The most raw bytes whose base64 fits in MAX_IDENTITY_KEY_CHARS.
MAX_IDENTITY_KEY_BYTES = MAX_IDENTITY_KEY_CHARS // 4 * 3
MAX_STORE_ID_CHARS = 255
MAX_VISITOR_ID_CHARS = 255  # what the trip and decision records hold
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AUTH_EVENT_NAMESPACE = uuid.UUID("5a0b8f7e-4f0e-4c64-9d6a-3f7e0c1b2a90")


class KeyChannel(str, Enum):
    OPTICAL = "OPTICAL"  # a QR code
    RFID = "RFID"  # a badge


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """The gate event an identity lookup is for (``authEvent``)."""

    id: str
    timestamp: datetime
    location: str  # ENTRY or EXIT


@dataclass(frozen=True, slots=True)
class GateAuthEvent:
    """The gate event a shopper authorization is for (``gateAuthenticationEvent``)."""

    id: str
    type: Channel  # CREDIT_CARD or PALM
    interaction_type: str
    timestamp: datetime
    location: str = "ENTRY"
    data: Mapping[str, str] = field(default_factory=dict)  # e.g. brand and last4; never a PAN


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """What one raw connectivity-test request got: a status and body, or the transport error."""

    status: int | None
    body: bytes
    elapsed_ms: float
    error: str | None = None


# --- ports ------------------------------------------------------------------------------------


class IdentityConnector(Protocol):
    def identify(self, store: StoreConfig, *, identity_key: bytes, key_channel: KeyChannel,
                 auth_event: AuthEvent) -> Visitor:
        """Who the retailer says ``identity_key`` (raw bytes; sent base64-encoded) belongs to.

        Raises IdentityRejected on 401 and ConnectorFailed when there is no usable answer.
        """
        ...


class ShopperAuthorizationConnector(Protocol):
    def authorize_shopper(self, store: StoreConfig, *, instrument_id: str, authorized_amount: Money,
                          trip_id: str, gate_event: GateAuthEvent,
                          recommendation: ShopperAuthorization | None = None) -> ShopperAuthorization:
        """The retailer's answer for a card or palm entry; ConnectorFailed when there is none."""
        ...


class ConnectorProbe(Protocol):
    def probe(self, connector: ConnectorConfig, path: str, body: bytes, headers: Mapping[str, str], *,
              budget_s: float) -> ProbeAnswer:
        """Send exactly these bytes and headers once (no retry, no breaker); never raises."""
        ...


# --- the wire format (DESIGN 5) ---------------------------------------------------------------


def iso_utc(at: datetime) -> str:
    """An ISO-8601 UTC timestamp with milliseconds and a ``Z``."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def auth_event_id(gate_pk: str, event_id: str) -> str:
    """The uuid the connector sees for a gate event: the gate's own event id when that is a uuid,
    else a uuid derived from gate and event id, so a retried gate event keeps its id."""
    try:
        return str(uuid.UUID(event_id))
    except ValueError:
        return str(uuid.uuid5(_AUTH_EVENT_NAMESPACE, f"{gate_pk}:{event_id}"))


def encode_identity_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def identity_request(*, request_id: str, identity_key: bytes, store_id: str, auth_event: AuthEvent,
                     key_channel: KeyChannel) -> dict[str, Any]:
    """The body of ``POST {identity.url}/v1/identity/identity-keys``."""
    return {"requestId": request_id, "identityKey": encode_identity_key(identity_key), "storeId": store_id,
            "authEvent": {"id": auth_event.id, "timestamp": iso_utc(auth_event.timestamp),
                          "location": auth_event.location},
            "keyChannel": key_channel.value}


def shopper_authorization_request(*, store_id: str, instrument_id: str, authorized_amount: Money, trip_id: str,
                                  gate_event: GateAuthEvent,
                                  recommendation: ShopperAuthorization | None) -> dict[str, Any]:
    """The body of ``POST {shopperAuthorization.url}/v1/fraudandabuse/shopperauthorization``."""
    interaction: dict[str, Any] = {
        "shoppingTripId": trip_id,
        "gateAuthenticationEvent": {"id": gate_event.id, "type": gate_event.type.value,
                                    "interactionType": gate_event.interaction_type,
                                    "timestamp": iso_utc(gate_event.timestamp), "location": gate_event.location,
                                    "data": dict(gate_event.data)},
    }
    if recommendation is not None:
        interaction["recommendation"] = recommendation.to_json()
    return {"storeId": store_id, "shopperIdentity": {"id": instrument_id},
            "authorizedAmount": authorized_amount.to_json(), "shopperInteraction": interaction}


class MalformedAnswer(ValueError):
    """A 200 answer whose body does not follow the contract."""


def parse_identity_answer(data: Any) -> Visitor:
    """``{"visitorDetails": {"id", "type"}}``; unknown extra fields are ignored."""
    details = data.get("visitorDetails") if isinstance(data, dict) else None
    if not isinstance(details, dict):
        raise MalformedAnswer("visitorDetails: an object is required")
    visitor_id, kind = details.get("id"), details.get("type")
    if not isinstance(visitor_id, str) or not 1 <= len(visitor_id) <= MAX_VISITOR_ID_CHARS \
            or _CONTROL.search(visitor_id):
        raise MalformedAnswer(f"visitorDetails.id: 1-{MAX_VISITOR_ID_CHARS} printable characters are required")
    if kind not in (VisitorType.SHOPPER.value, VisitorType.ASSOCIATE.value):
        raise MalformedAnswer("visitorDetails.type: must be SHOPPER or ASSOCIATE")
    return Visitor(visitor_id, VisitorType(kind))


def parse_money(data: Any, where: str) -> Money:
    if not isinstance(data, dict):
        raise MalformedAnswer(f"{where}: an object {{value, currencyCode}} is required")
    value, currency = data.get("value"), data.get("currencyCode")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= 1_000_000:
        raise MalformedAnswer(f"{where}.value: a number from 0 to 1000000 is required")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise MalformedAnswer(f"{where}.currencyCode: three capital letters are required")
    return Money(Decimal(str(value)), currency)


def parse_authorization(data: Any, *, currency: str) -> ShopperAuthorization:
    """A shopper-authorization answer, strictly.

    Why strict on conditions and lenient on risks: an unknown condition, or an ``ADJUST`` in
    another currency than the store's, would admit on terms the retailer did not state, so the
    answer counts as malformed (the store's fallback applies). An unknown risk label only
    explains; it is dropped, the way unknown fields are, so a connector can grow new labels.
    """
    if not isinstance(data, dict):
        raise MalformedAnswer("body: a JSON object is required")
    authorized = data.get("shopperAuthorized")
    if not isinstance(authorized, bool):
        raise MalformedAnswer("shopperAuthorized: true or false is required")
    raw_conditions = data.get("authorizationConditions", [])
    raw_risks = data.get("shopperRisks", [])
    if raw_conditions is None:
        raw_conditions = []
    if raw_risks is None:
        raw_risks = []
    if not isinstance(raw_conditions, list) or len(raw_conditions) > 10:
        raise MalformedAnswer("authorizationConditions: a list of at most 10 conditions is required")
    if not isinstance(raw_risks, list) or len(raw_risks) > 20:
        raise MalformedAnswer("shopperRisks: a list of at most 20 labels is required")
    conditions = []
    for i, c in enumerate(raw_conditions):
        where = f"authorizationConditions[{i}]"
        if not isinstance(c, dict) or c.get("type") != ADJUST:
            raise MalformedAnswer(f"{where}.type: only ADJUST is understood")
        amount = parse_money(c.get("amount"), f"{where}.amount")
        if amount.currency != currency:
            raise MalformedAnswer(f"{where}.amount.currencyCode: must be the store's currency {currency}")
        conditions.append(AuthorizationCondition(ADJUST, amount))
    risks = []
    for i, r in enumerate(raw_risks):
        if not isinstance(r, str):
            raise MalformedAnswer(f"shopperRisks[{i}]: a string is required")
        if r in ShopperRisk.__members__:
            risks.append(ShopperRisk(r))
    return ShopperAuthorization(authorized, tuple(conditions), tuple(dict.fromkeys(risks)))

