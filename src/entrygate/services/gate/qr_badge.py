"""``QR_CODE`` and ``BADGE`` entry: the retailer's identity connector says who it is (DESIGN 2).

entrygate does what it can without the retailer first: a QR code must match the store's
``qrPattern`` and a badge frame must decode in one of the store's ``badgeFormats`` with good
parity. Only then is the retailer asked, with the scanned value or canonical badge id base64'd
as ``identityKey``. A ``SHOPPER`` gets a trip (the entry service opens it), an ``ASSOCIATE`` gets
in with no trip and no pre-authorization.

When the connector gives no usable answer the store's fallback would apply (DESIGN 3), but for
identity the only possible fallback is ``DENY``: without the retailer there is no visitor to
admit, whatever ``fallbackDecision`` says. The decision says so: decided by ``FALLBACK``, with
``CONNECTOR_UNAVAILABLE`` and ``FALLBACK_APPLIED``.
"""
from __future__ import annotations

import time

import structlog

from entrygate.domain import badges, patterns
from entrygate.domain.channels import DecidedBy, GateDirection
from entrygate.domain.credentials import BadgeRead, QrScan
from entrygate.domain.decision_trace import OK, REJECTED
from entrygate.domain.reasons import ReasonCode
from entrygate.services.errors import InvalidRequest
from entrygate.services.gate.context import Presentation
from entrygate.services.ports.connectors import (
    IDENTITY,
    MAX_IDENTITY_KEY_BYTES,
    AuthEvent,
    ConnectorFailed,
    IdentityConnector,
    IdentityRejected,
    KeyChannel,
    auth_event_id,
)

log = structlog.get_logger("entrygate.gate")


def ask_identity(identity: IdentityConnector, ctx: Presentation, key: bytes, channel: KeyChannel) -> None:
    """Ask the retailer whose key this is, and name the visitor or refuse accordingly."""
    location = GateDirection.EXIT.value if ctx.gate.direction is GateDirection.EXIT else GateDirection.ENTRY.value
    event = AuthEvent(id=auth_event_id(ctx.gate.gate_pk, ctx.event.event_id), timestamp=ctx.event.timestamp,
                      location=location)
    started = time.perf_counter()
    try:
        visitor = identity.identify(ctx.store, identity_key=key, key_channel=channel, auth_event=event)
    except IdentityRejected:
        ctx.called(IDENTITY, REJECTED, started, status=401)
        ctx.refuse(ReasonCode.IDENTITY_REJECTED, by=DecidedBy.RETAILER)
        return
    except ConnectorFailed as exc:
        ctx.called(IDENTITY, exc.kind.value, started, status=exc.status)
        ctx.refuse(ReasonCode.CONNECTOR_UNAVAILABLE, ReasonCode.FALLBACK_APPLIED, by=DecidedBy.FALLBACK)
        return
    ctx.called(IDENTITY, OK, started, status=200)
    ctx.named(visitor, by=DecidedBy.RETAILER)


class QrHandler:
    """A scanned QR code: the store's pattern, then the retailer (keyChannel ``OPTICAL``)."""

    def __init__(self, *, identity: IdentityConnector) -> None:
        self._identity = identity

    def identify(self, ctx: Presentation) -> None:
        scan = ctx.event.credential
        if not isinstance(scan, QrScan):
            ctx.refuse(ReasonCode.INVALID_CREDENTIAL)
            return
        # Searched, so the pattern's own anchors decide whether it must match the whole code (the
        # default pattern is anchored at both ends); RE2, so the time is linear whatever the pattern.
        try:
            pattern = patterns.compile_pattern(ctx.store.qr_pattern)  # cached: compiled once per pattern
        except patterns.PatternRefused as exc:
            # Saved before patterns had to run in linear time: fail closed, and say why in the log.
            log.warning("qr_pattern_refused", store_id=ctx.store.store_id, reason=str(exc))
            ctx.refuse(ReasonCode.QR_PATTERN_MISMATCH)
            return
        if not pattern.matches(scan.scan_value):
            ctx.refuse(ReasonCode.QR_PATTERN_MISMATCH)
            return
        key = scan.scan_value.encode("utf-8")
        if len(key) > MAX_IDENTITY_KEY_BYTES:
            # Its base64 would exceed the contract's 1000 characters: no retailer can know it.
            ctx.refuse(ReasonCode.INVALID_CREDENTIAL)
            return
        ask_identity(self._identity, ctx, key, KeyChannel.OPTICAL)


class BadgeHandler:
    """A badge read: decoded in the store's formats, parity checked, then the retailer (``RFID``)."""

    def __init__(self, *, identity: IdentityConnector) -> None:
        self._identity = identity

    def identify(self, ctx: Presentation) -> None:
        read = ctx.event.credential
        if not isinstance(read, BadgeRead):
            ctx.refuse(ReasonCode.INVALID_CREDENTIAL)
            return
        try:
            badge = decode_read(read, ctx.store.badge_formats)
        except badges.BadgeReadMalformed as exc:
            raise InvalidRequest(str(exc), fields=[exc.field]) from None
        except (badges.BadgeFormatUnsupported, badges.BadgeParityError) as exc:
            assert exc.reason is not None
            ctx.refuse(exc.reason)
            return
        ask_identity(self._identity, ctx, badge.canonical.encode("ascii"), KeyChannel.RFID)


def decode_read(read: BadgeRead, formats: tuple[str, ...]) -> badges.BadgeId:
    """The badge a read names, in the formats a store enables; a ``BadgeError`` otherwise."""
    if read.csn is not None:
        badge = badges.csn_badge(read.csn)  # a malformed serial number is a 400 whatever the store accepts
        if badges.CSN not in formats:
            raise badges.BadgeFormatUnsupported(len(badge.csn or "") * 4)
        return badge
    if read.bits is not None:
        value, length = badges.frame_from_bits(read.bits)
    elif read.hex is not None:
        if read.bit_length is None:
            raise badges.BadgeReadMalformed("credential.bitLength", "is required with hex")
        value, length = badges.frame_from_hex(read.hex, read.bit_length)
    else:
        raise badges.BadgeReadMalformed("credential", "give bits, hex with bitLength, or csn")
    return badges.decode(value, length, formats)
