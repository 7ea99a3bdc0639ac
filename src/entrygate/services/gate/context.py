"""What one entry request carries through the decision pipeline, and the steps' ports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from entrygate.domain.cards import CardCredential
from entrygate.domain.decision import Decision, EntryEvent
from entrygate.domain.money import Money
from entrygate.domain.records import Gate, PaymentInstrument
from entrygate.domain.store import StoreConfig


@dataclass(slots=True)
class EntryContext:
    store: StoreConfig
    gate: Gate
    event: EntryEvent
    now: datetime
    decision: Decision = field(default_factory=Decision)
    card: CardCredential | None = None
    instrument_id: str | None = None
    instrument: PaymentInstrument | None = None
    amount: Money | None = None  # what will be pre-authorized; a risk step may adjust it
    trip_id: str | None = None  # allocated up front: the retailer's connector is told it
    history: object | None = None  # the instrument's history, when a risk step read it


class ChannelHandler(Protocol):
    """Authenticates one kind of credential.

    On success it sets ``ctx.card`` and ``ctx.instrument_id`` (card-backed channels) or
    ``ctx.decision.visitor`` (retailer-identified channels); on failure it denies ``ctx.decision``.
    """

    def identify(self, ctx: EntryContext) -> None: ...


class RiskAssessor(Protocol):
    """Applies the store's risk strategy to a card-backed entry that passed the baseline checks.

    May deny, set ``ctx.decision.risk`` and ``decided_by``, or change ``ctx.amount`` (ADJUST).
    Runs outside any database transaction: it may call the retailer.
    """

    def assess(self, ctx: EntryContext) -> None: ...


class NoRiskAssessment:
    """Strategy ``NONE``, and the default until a risk assessor is configured."""

    def assess(self, ctx: EntryContext) -> None:
        return None
