"""Gate credentials from their validated JSON to the domain's types."""
from __future__ import annotations

from typing import Any

from entrygate.api.body import parse
from entrygate.api.schemas import CREDENTIAL_MODELS, BadgeCredentialIn, CardCredentialIn, PalmCredentialIn, QrCredentialIn
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel
from entrygate.domain.credentials import BadgeRead, PalmRead, QrScan
from entrygate.domain.decision import EntryEvent
from pydantic import BaseModel


def parse_credential(channel: Channel, data: Any) -> tuple[BaseModel, object]:
    """The credential validated against its channel's shape, and as the domain sees it."""
    model = parse(CREDENTIAL_MODELS[channel], data, prefix="credential")
    return model, to_domain(model)


def to_domain(model: BaseModel) -> object:
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
    from entrygate.api.body import request_hash
    from entrygate.api.schemas import EntryIn

    body = parse(EntryIn, data)
    cred_model, credential = parse_credential(body.channel, body.credential)
    return EntryEvent(event_id=body.eventId, timestamp=body.timestamp, channel=body.channel,
                      interaction_type=body.interactionType.value, party_size=body.partySize,
                      credential=credential,
                      request_hash=request_hash(body.model_copy(update={"credential": {}}), cred_model))
