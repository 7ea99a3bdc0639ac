"""The offline bundle a gate decides from when the platform does not answer (DESIGN 11).

The platform signs the bundle; the gate agent (``entrygate.agent``) verifies it and matches taps
against it without the platform's secret. This module is the format both sides share: the payload's
fields, how a card is turned into its ``lookupKey``, and the checks an offline entry goes through.
The signature itself (Ed25519 over the exact payload bytes) is made and checked at the edges that
hold the keys.

- ``lookupSalt`` is base64url (unpadded) of random bytes chosen per bundle; a card's lookup key is
  ``base64url(HMAC-SHA256(salt, "par:" + PAR))``, or ``"tok:" + paymentToken`` for a card that
  reports no PAR. A bundle so carries no card's PAR in the clear, and a key from one bundle says
  nothing in the next.
- Badges the same way: ``base64url(HMAC-SHA256(salt, "badge:" + canonical id))``, the canonical id
  being the one the retailer's identity connector receives (``<FORMAT>:<facility>:<card>`` or
  ``CSN:<uid>``, ``domain.badges.BadgeId.canonical``); ``badgeFormats`` lists the store's formats
  so the agent can decode a frame.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from entrygate.domain.money import Money


class BundleInvalid(ValueError):
    """A payload that is not an offline bundle: a field missing or of the wrong kind."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a base64url string")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def card_lookup_key(salt: bytes, *, par: str | None, payment_token: str) -> str:
    """The key a card is listed under in a bundle salted with ``salt``."""
    if par:
        return b64url(hmac.new(salt, ("par:" + par).encode(), hashlib.sha256).digest())
    return "tok:" + payment_token


def badge_lookup_key(salt: bytes, canonical_id: str) -> str:
    return b64url(hmac.new(salt, ("badge:" + canonical_id).encode(), hashlib.sha256).digest())


@dataclass(frozen=True, slots=True)
class OfflineLimits:
    max_entries_per_instrument: int  # entries one instrument may make offline while this bundle lasts
    max_exposure_per_gate: Money  # the most this gate may let in offline, counted at exposure_per_entry
    exposure_per_entry: Money  # what one offline entry may cost the retailer: the store's hold amount


@dataclass(frozen=True, slots=True)
class OfflineBundle:
    """A verified bundle's payload."""

    gate_id: str
    store_id: str
    expires_at: datetime
    lookup_salt: bytes
    instruments: Mapping[str, str]  # lookup key -> instrument id
    badges: Mapping[str, str]  # lookup key -> visitor id
    blocks: frozenset[str]  # lookup keys never let in offline
    limits: OfflineLimits
    badge_formats: tuple[str, ...] = ()  # the store's badge formats, to decode a frame offline

    @classmethod
    def from_payload(cls, payload: bytes) -> OfflineBundle:
        """Parse the payload bytes; BundleInvalid names what is wrong."""
        try:
            data = json.loads(payload.decode("utf-8"))
            limits = data["limits"]
            return cls(
                gate_id=_text(data["gateId"]), store_id=_text(data["storeId"]),
                expires_at=_instant(data["expiresAt"]), lookup_salt=b64url_decode(data["lookupSalt"]),
                instruments={_text(i["lookupKey"]): _text(i["instrumentId"]) for i in data["instruments"]},
                badges={_text(b["lookupKey"]): _text(b["visitorId"]) for b in data.get("badges", [])},
                blocks=frozenset(_text(b["lookupKey"]) for b in data.get("blocks", [])),
                limits=OfflineLimits(
                    max_entries_per_instrument=int(limits["maxEntriesPerInstrument"]),
                    max_exposure_per_gate=_money(limits["maxExposurePerGate"]),
                    exposure_per_entry=_money(limits["exposurePerEntry"])),
                badge_formats=tuple(_text(f) for f in data.get("badgeFormats", [])),
            )
        except BundleInvalid:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundleInvalid(f"not an offline bundle payload ({type(exc).__name__}: {exc})"[:200]) from None


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The canonical bytes a payload is signed as (the platform's side; the agent keeps the bytes it got)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise BundleInvalid(f"expected a non-empty string, got {type(value).__name__}")
    return value


def _money(value: object) -> Money:
    if not isinstance(value, dict):
        raise BundleInvalid("a money amount is {value, currencyCode}")
    return Money.of(str(value["value"]), _text(value["currencyCode"]))


def _instant(value: object) -> datetime:
    at = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise BundleInvalid("expiresAt has no time zone")
    return at
