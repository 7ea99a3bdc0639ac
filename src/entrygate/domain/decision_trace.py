"""What a decision keeps for the people who investigate it: what the gate sent, minus its secrets, and
every call made to decide it (the retailer's connectors, the processor), with its outcome and time.

Both are stored on the decision in the same insert (two JSON columns), so keeping them costs the
gate no round trip. What is kept of a credential is what the console may show: a card's brand,
last 4, expiry, funding and issuer country (never the payment token or the PAR), a palm read's
liveness and size (never the signature), a QR code's length and its first characters, a badge
read's form and length (never its bits: a badge's number is what a cloner needs).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from entrygate.domain.cards import CardCredential
from entrygate.domain.credentials import BadgeRead, PalmRead, QrScan

QR_SHOWN_CHARS = 4  # enough to tell a code's format (``EG1.``), far too little to replay it

# Call outcomes: the answer was used (OK), refused by the contract's own answer (REJECTED: an
# identity 401, a processor decline), or no usable answer (a ``FailureKind`` value, or UNAVAILABLE).
OK = "OK"
REJECTED = "REJECTED"
UNAVAILABLE = "UNAVAILABLE"  # the processor did not answer in time
REFUSED = "REFUSED"  # the processor refused the request itself (a key or amount it does not take)
PROCESSOR = "processor"  # the name of the pre-authorization's call (the connectors are named as in DESIGN 5)


@dataclass(frozen=True, slots=True)
class ConnectorCall:
    """One call made while deciding: to ``identity``, ``shopperAuthorization`` or ``processor``."""

    name: str
    outcome: str
    elapsed_ms: float
    status: int | None = None  # the HTTP status, when the call got one

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome, "elapsedMs": self.elapsed_ms, "status": self.status}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectorCall:
        status = data.get("status")
        return cls(str(data["name"]), str(data["outcome"]), float(data["elapsedMs"]),
                   int(status) if status is not None else None)


def credential_summary(credential: object) -> dict[str, Any]:
    """The part of a credential the console may show (see the module's docstring)."""
    if isinstance(credential, CardCredential):
        return {"brand": credential.brand, "last4": credential.last4, "expMonth": credential.exp_month,
                "expYear": credential.exp_year, "funding": credential.funding,
                "issuerCountry": credential.issuer_country, "parGiven": credential.par is not None}
    if isinstance(credential, PalmRead):
        return {"liveness": credential.liveness, "signatureChars": len(credential.signature)}
    if isinstance(credential, QrScan):
        value = credential.scan_value
        return {"scanStart": value[:QR_SHOWN_CHARS], "scanChars": len(value)}
    if isinstance(credential, BadgeRead):
        if credential.csn is not None:
            return {"form": "csn", "chars": len(credential.csn)}
        if credential.hex is not None:
            return {"form": "hex", "bitLength": credential.bit_length}
        return {"form": "bits", "bitLength": len(credential.bits or "")}
    return {}


def gate_request_summary(*, event_id: str, timestamp: Any, channel: str, interaction_type: str, party_size: int,
                         credential: object) -> dict[str, Any]:
    """The entry request as the console shows it: the gate's fields and the credential's summary."""
    return {"eventId": event_id, "timestamp": timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "channel": channel, "interactionType": interaction_type, "partySize": party_size,
            "credential": credential_summary(credential)}
