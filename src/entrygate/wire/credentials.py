"""Gate credentials from their validated JSON to the domain's types, and a gate's entry body as an ``EntryEvent``."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel
from entrygate.domain.credentials import BadgeRead, PalmRead, QrScan
from entrygate.domain.decision import EntryEvent
from entrygate.wire.parse import parse, request_hash
from entrygate.wire.schemas import (
    CREDENTIAL_MODELS,
    BadgeCredentialIn,
    CardCredentialIn,
    EntryIn,
    PalmCredentialIn,
    QrCredentialIn,
)

Credential = CardCredential | PalmRead | QrScan | BadgeRead


def parse_credential(channel: Channel, data: Any) -> tuple[BaseModel, Credential]:
    """The credential validated against its channel's shape, and as the domain sees it."""
    model = parse(CREDENTIAL_MODELS[channel], data, prefix="credential")
    return model, to_domain(model)


def to_domain(model: BaseModel) -> Credential:
    """A validated credential model as the domain's credential."""
    if isinstance(model, CardCredentialIn):
        return CardCredential(payment_token=model.paymentToken, par=model.par, brand=model.brand,
                              last4=model.last4, exp_month=model.expMonth, exp_year=model.expYear,
                              funding=model.funding, issuer_country=model.issuerCountry)
    if isinstance(model, PalmCredentialIn):
        return PalmRead(signature=model.signature, liveness=model.liveness)
    if isinstance(model, QrCredentialIn):
        return QrScan(scan_value=model.scanValue)
    if isinstance(model, BadgeCredentialIn):
        return BadgeRead(bits=model.bits, hex=model.hex, bit_length=model.bitLength, csn=model.csn)
    raise TypeError(type(model).__name__)


def entry_event(data: Any) -> EntryEvent:
    """A gate's entry body (already read, PAN-checked JSON) as the entry service takes it.

    The request hash covers what the request means once validated, unknown fields dropped, so a
    retry that differs only in fields entrygate ignores is the same request.
    """
    body = parse(EntryIn, data)
    cred_model, credential = parse_credential(body.channel, body.credential)
    return EntryEvent(event_id=body.eventId, timestamp=body.timestamp, channel=body.channel,
                      interaction_type=body.interactionType.value, party_size=body.partySize,
                      credential=credential,
                      request_hash=request_hash(body.model_copy(update={"credential": {}}), cred_model))
