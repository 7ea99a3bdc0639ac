"""Strict validation of the two connector requests (DESIGN 5), one field at a time.

Every refusal names the field and says what it must be, so the sender can fix it without
reading this code. Unknown extra fields are ignored: the platform may add fields later.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

MAX_IDENTITY_KEY_CHARS = 1000
MAX_ID_CHARS = 255
LOCATIONS = ("ENTRY", "EXIT")
KEY_CHANNELS = ("OPTICAL", "RFID")
GATE_EVENT_TYPES = ("CREDIT_CARD", "PALM")
RISKS = ("InvalidCard", "CustomerFraud", "BadDebt", "HighVelocity", "ExpiredCard")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


class RequestInvalid(ValueError):
    """A request the retailer refuses with 400; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class IdentityRequest:
    request_id: str
    identity_key: bytes  # decoded from base64
    store_id: str
    auth_event_id: str
    auth_event_time: datetime
    location: str
    key_channel: str


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    value: Decimal
    currency: str

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "amount": {"value": float(self.value), "currencyCode": self.currency}}


@dataclass(frozen=True, slots=True)
class ReceivedRecommendation:
    """The platform's recommendation as the reference retailer reads it from an authorization request."""

    shopper_authorized: bool
    conditions: tuple[Condition, ...]
    risks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    store_id: str
    shopper_id: str
    amount: Decimal
    currency: str
    trip_id: str
    gate_event_id: str
    gate_event_type: str
    location: str
    recommendation: ReceivedRecommendation | None


def json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise RequestInvalid("body", "a JSON object is required")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestInvalid("body", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise RequestInvalid("body", "must be a JSON object")
    return data


def identity_request(data: dict[str, Any]) -> IdentityRequest:
    request_id = _uuid(data, "requestId")
    key = _string(data, "identityKey", max_len=MAX_IDENTITY_KEY_CHARS)
    if not _BASE64.fullmatch(key):
        raise RequestInvalid("identityKey", "must be base64 (standard alphabet, padded)")
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise RequestInvalid("identityKey", "must be base64 (standard alphabet, padded)") from None
    store_id = _string(data, "storeId", max_len=MAX_ID_CHARS)
    event = _object(data, "authEvent")
    return IdentityRequest(
        request_id=request_id, identity_key=raw, store_id=store_id,
        auth_event_id=_uuid(event, "id", "authEvent.id"),
        auth_event_time=_timestamp(event, "timestamp", "authEvent.timestamp"),
        location=_choice(event, "location", LOCATIONS, "authEvent.location"),
        key_channel=_choice(data, "keyChannel", KEY_CHANNELS))


def authorization_request(data: dict[str, Any]) -> AuthorizationRequest:
    store_id = _string(data, "storeId", max_len=MAX_ID_CHARS)
    shopper = _object(data, "shopperIdentity")
    shopper_id = _string(shopper, "id", max_len=MAX_ID_CHARS, where="shopperIdentity.id")
    value, currency = _money(data, "authorizedAmount")
    interaction = _object(data, "shopperInteraction")
    trip_id = _string(interaction, "shoppingTripId", max_len=MAX_ID_CHARS, where="shopperInteraction.shoppingTripId")
    gae = "shopperInteraction.gateAuthenticationEvent"
    event = _object(interaction, "gateAuthenticationEvent", gae)
    event_id = _uuid(event, "id", f"{gae}.id")
    event_type = _choice(event, "type", GATE_EVENT_TYPES, f"{gae}.type")
    _timestamp(event, "timestamp", f"{gae}.timestamp")
    location = _choice(event, "location", LOCATIONS, f"{gae}.location")
    if "interactionType" in event and not (isinstance(event["interactionType"], str)
                                           and 1 <= len(event["interactionType"]) <= 32):
        raise RequestInvalid(f"{gae}.interactionType", "must be a string of 1-32 characters")
    if event.get("data") is not None and not isinstance(event["data"], dict):
        raise RequestInvalid(f"{gae}.data", "must be an object")
    recommendation = None
    if interaction.get("recommendation") is not None:
        recommendation = _recommendation(_object(interaction, "recommendation", "shopperInteraction.recommendation"))
    return AuthorizationRequest(store_id, shopper_id, value, currency, trip_id, event_id, event_type, location,
                                recommendation)


def _recommendation(rec: dict[str, Any]) -> ReceivedRecommendation:
    where = "shopperInteraction.recommendation"
    authorized = rec.get("shopperAuthorized")
    if not isinstance(authorized, bool):
        raise RequestInvalid(f"{where}.shopperAuthorized", "must be true or false")
    raw_conditions = rec.get("authorizationConditions") or []
    if not isinstance(raw_conditions, list) or len(raw_conditions) > 10:
        raise RequestInvalid(f"{where}.authorizationConditions", "must be a list of at most 10 conditions")
    conditions = []
    for i, c in enumerate(raw_conditions):
        here = f"{where}.authorizationConditions[{i}]"
        if not isinstance(c, dict):
            raise RequestInvalid(here, "must be an object")
        if c.get("type") != "ADJUST":
            raise RequestInvalid(f"{here}.type", "must be ADJUST")
        value, currency = _money(c, "amount", f"{here}.amount")
        conditions.append(Condition("ADJUST", value, currency))
    raw_risks = rec.get("shopperRisks") or []
    if not isinstance(raw_risks, list) or len(raw_risks) > 20:
        raise RequestInvalid(f"{where}.shopperRisks", "must be a list of at most 20 labels")
    for i, r in enumerate(raw_risks):
        if r not in RISKS:
            raise RequestInvalid(f"{where}.shopperRisks[{i}]", f"must be one of {', '.join(RISKS)}")
    return ReceivedRecommendation(authorized, tuple(conditions), tuple(raw_risks))


# --- field readers ----------------------------------------------------------------------------


def _present(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise RequestInvalid(where, "is required")
    return data[key]


def _string(data: dict[str, Any], key: str, *, max_len: int, where: str | None = None) -> str:
    where = where or key
    value = _present(data, key, where)
    if not isinstance(value, str) or not value:
        raise RequestInvalid(where, "must be a non-empty string")
    if len(value) > max_len:
        raise RequestInvalid(where, f"at most {max_len} characters")
    return value


def _uuid(data: dict[str, Any], key: str, where: str | None = None) -> str:
    where = where or key
    value = _present(data, key, where)
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise RequestInvalid(where, "must be a UUID (8-4-4-4-12 hex digits)")
    return value.lower()


def _timestamp(data: dict[str, Any], key: str, where: str) -> datetime:
    value = _present(data, key, where)
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise RequestInvalid(where, "must be an ISO-8601 timestamp with a time zone, e.g. 2026-11-27T18:00:00Z")


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], where: str | None = None) -> str:
    where = where or key
    value = _present(data, key, where)
    if value not in allowed:
        raise RequestInvalid(where, f"must be one of {', '.join(allowed)}")
    return value


def _object(data: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
    where = where or key
    value = _present(data, key, where)
    if not isinstance(value, dict):
        raise RequestInvalid(where, "must be an object")
    return value


def _money(data: dict[str, Any], key: str, where: str | None = None) -> tuple[Decimal, str]:
    where = where or key
    money = _object(data, key, where)
    value = _present(money, "value", f"{where}.value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= 1_000_000:
        raise RequestInvalid(f"{where}.value", "must be a number from 0 to 1000000")
    currency = _present(money, "currencyCode", f"{where}.currencyCode")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise RequestInvalid(f"{where}.currencyCode", "must be three capital letters (ISO 4217)")
    return Decimal(str(value)), currency
