"""Gate credentials from their validated JSON to the domain's types."""
from __future__ import annotations

from typing import Any

from entrygate.api.body import parse
from entrygate.api.schemas import CREDENTIAL_MODELS, BadgeCredentialIn, CardCredentialIn, PalmCredentialIn, QrCredentialIn
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel
from entrygate.domain.credentials import BadgeRead, PalmRead, QrScan
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
