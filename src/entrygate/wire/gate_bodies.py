"""The gate's entry and exit bodies as the OpenAPI document shows them: one shape per channel.

The gate API reads ``EntryIn`` (``channel`` and a ``credential`` object) and then validates the
credential against its channel's model (``wire.credentials``), so its field paths read
``credential.paymentToken``. The document says the same thing in the terms OpenAPI has: a
``oneOf`` discriminated by ``channel``, each channel with its credential's model. Both are built
from the same fields and credential models, so they cannot tell different stories.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, RootModel

from entrygate.domain.channels import Channel
from entrygate.wire.schemas import (
    BadgeCredentialIn,
    CardCredentialIn,
    EntryFields,
    ExitFields,
    PalmCredentialIn,
    QrCredentialIn,
)


class CardEntry(EntryFields):
    channel: Literal[Channel.CREDIT_CARD] = Field(description="A card tapped, inserted or swiped at the terminal.")
    credential: CardCredentialIn


class PalmEntry(EntryFields):
    channel: Literal[Channel.PALM] = Field(description="A palm read by the gate's palm reader.")
    credential: PalmCredentialIn


class QrEntry(EntryFields):
    channel: Literal[Channel.QR_CODE] = Field(description="A code from the retailer's app, scanned at the gate.")
    credential: QrCredentialIn


class BadgeEntry(EntryFields):
    channel: Literal[Channel.BADGE] = Field(description="A badge read by the gate's badge reader.")
    credential: BadgeCredentialIn


class EntryRequest(RootModel[Annotated[CardEntry | PalmEntry | QrEntry | BadgeEntry, Field(discriminator="channel")]]):
    """An entry at a gate: the credential's shape follows ``channel``."""


class ExitByTrip(ExitFields):
    shoppingTripId: Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,255}$",
                                         description="The trip the visitor leaves (the entry's answer gave it).")]


class ExitByCredential(ExitFields):
    channel: Channel = Field(description="How the visitor identifies at the exit.")
    credential: CardCredentialIn | PalmCredentialIn | QrCredentialIn | BadgeCredentialIn = Field(
        description="The credential as for an entry of that channel; the visitor's open trip at this store closes.")


class ExitRequest(RootModel[ExitByTrip | ExitByCredential]):
    """An exit: the trip's id, or the credential the visitor entered with."""
