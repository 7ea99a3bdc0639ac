"""Deciding an entry from the bundle, when the platform did not answer (DESIGN 11).

An instrument in the bundle opens, within the bundle's limits; anything else is denied
(``OFFLINE_UNKNOWN_CREDENTIAL``, ``OFFLINE_LIMIT_REACHED``); a listed block denies
``INSTRUMENT_BLOCKED``. Palm needs the platform (no template leaves it), and so does a QR code
(only the retailer's identity connector knows it). The answer has the shape of the platform's
(DESIGN 4.1) with ``decidedBy: OFFLINE`` and a trip id the agent makes; the platform records both
as given when the decision is uploaded.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from entrygate.domain.badges import BadgeError, csn_badge, decode, frame_from_bits, frame_from_hex
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, VisitorType
from entrygate.domain.credentials import BadgeRead
from entrygate.domain.currencies import to_minor
from entrygate.domain.decision import EntryEvent
from entrygate.domain.offline import OfflineBundle, badge_lookup_key, card_lookup_key
from entrygate.domain.reasons import ReasonCode


@dataclass(frozen=True, slots=True)
class OfflineVerdict:
    answer: dict[str, Any]
    instrument_id: str | None  # set on an OPEN for a shopper: counted against the limits
    exposure_minor: int


def new_trip_id() -> str:
    return "trip_" + secrets.token_hex(12)


def decide(event: EntryEvent, bundle: OfflineBundle | None, *, now: datetime, started: float) -> OfflineVerdict:
    """The offline answer to ``event`` before the limits are counted (``over_limit`` replaces it)."""
    if bundle is None or now >= bundle.expires_at:
        return _deny(event, ReasonCode.OFFLINE_UNKNOWN_CREDENTIAL, started,
                     "no valid offline bundle at this gate: it cannot decide without the platform")
    key = _lookup_key(event, bundle)
    if key is None:
        return _deny(event, ReasonCode.OFFLINE_UNKNOWN_CREDENTIAL, started)
    if key in bundle.blocks:
        return _deny(event, ReasonCode.INSTRUMENT_BLOCKED, started)
    if key in bundle.badges:
        return OfflineVerdict(_answer(event, "OPEN", None, bundle.badges[key], VisitorType.ASSOCIATE, [], started),
                              None, 0)
    instrument_id = bundle.instruments.get(key)
    if instrument_id is None:
        return _deny(event, ReasonCode.OFFLINE_UNKNOWN_CREDENTIAL, started)
    if isinstance(event.credential, CardCredential) and event.credential.expired_on(now.date()):
        return _deny(event, ReasonCode.CARD_EXPIRED, started)
    exposure = bundle.limits.exposure_per_entry
    return OfflineVerdict(_answer(event, "OPEN", new_trip_id(), instrument_id, VisitorType.SHOPPER, [], started),
                          instrument_id, int(to_minor(exposure.amount, exposure.currency)))


def limit_reached(event: EntryEvent, bundle: OfflineBundle, verdict: OfflineVerdict, *, entries: int,
                  exposure_minor: int, started: float) -> dict[str, Any] | None:
    """The denial to give instead of ``verdict`` when it would pass a limit, or None."""
    if verdict.instrument_id is None:
        return None
    limits = bundle.limits
    cap = int(to_minor(limits.max_exposure_per_gate.amount, limits.max_exposure_per_gate.currency))
    if entries >= limits.max_entries_per_instrument or exposure_minor + verdict.exposure_minor > cap:
        return _deny(event, ReasonCode.OFFLINE_LIMIT_REACHED, started).answer
    return None


def _lookup_key(event: EntryEvent, bundle: OfflineBundle) -> str | None:
    cred = event.credential
    if event.channel is Channel.CREDIT_CARD and isinstance(cred, CardCredential):
        return card_lookup_key(bundle.lookup_salt, par=cred.par, payment_token=cred.payment_token)
    if event.channel is Channel.BADGE and isinstance(cred, BadgeRead):
        try:
            if cred.csn:
                badge = csn_badge(cred.csn)
            else:
                value, bits = frame_from_bits(cred.bits) if cred.bits else frame_from_hex(cred.hex or "", cred.bit_length or 0)
                badge = decode(value, bits, bundle.badge_formats)
        except (BadgeError, ValueError):
            return None
        return badge_lookup_key(bundle.lookup_salt, badge.canonical)
    return None  # palm and QR need the platform


def _deny(event: EntryEvent, code: ReasonCode, started: float, message: str | None = None) -> OfflineVerdict:
    reason = {"code": code.value, "message": message or code.message}
    return OfflineVerdict(_answer(event, "DENY", None, None, None, [reason], started), None, 0)


def _answer(event: EntryEvent, decision: str, trip_id: str | None, visitor_id: str | None, visitor_type: VisitorType | None,
            reasons: list[dict[str, str]], started: float) -> dict[str, Any]:
    return {"eventId": event.event_id, "decision": decision, "shoppingTripId": trip_id,
            "visitor": {"id": visitor_id, "type": visitor_type.value} if visitor_id and visitor_type else None,
            "reasons": reasons, "risk": None, "authorizedAmount": None, "decidedBy": "OFFLINE",
            "latencyMs": round((time.perf_counter() - started) * 1e3, 2), "partySize": event.party_size}
