"""A credential shown at a gate, an entry request through the decision pipeline, and the steps' ports."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import DecidedBy
from entrygate.domain.decision import Decision, EntryEvent, Visitor
from entrygate.domain.decision_trace import ConnectorCall
from entrygate.domain.money import Money
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.records import Gate, PaymentInstrument
from entrygate.domain.store import StoreConfig
from entrygate.risk.features import InstrumentHistory


@dataclass(slots=True)
class Presentation:
    """A credential presented at an entry or exit gate, and whom its channel's handler found it names."""

    store: StoreConfig
    gate: Gate
    event: EntryEvent
    now: datetime
    card: CardCredential | None = None  # card-backed channels: the card, and the instrument it is
    instrument_id: str | None = None
    visitor: Visitor | None = None  # retailer-identified channels: the visitor the retailer named
    refusals: tuple[ReasonCode, ...] = ()  # why it names no one (the first causes, the rest explain)
    decided_by: DecidedBy | None = None  # who settled the identification, when not the platform
    calls: list[ConnectorCall] = field(default_factory=list)  # every call made to decide, kept on the decision

    def called(self, name: str, outcome: str, started: float, *, status: int | None = None) -> None:
        """Note a call to ``name`` begun at ``started`` (``time.perf_counter()``) and just ended."""
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        self.calls.append(ConnectorCall(name, outcome, elapsed, status))

    def refuse(self, *codes: ReasonCode, by: DecidedBy | None = None) -> None:
        """The credential names no one, for these reasons."""
        self.refusals = tuple(dict.fromkeys((*self.refusals, *codes)))
        if by is not None:
            self.decided_by = by

    def named(self, visitor: Visitor, *, by: DecidedBy) -> None:
        """The credential names this visitor, by the word of ``by``."""
        self.visitor = visitor
        self.decided_by = by

    @property
    def visitor_id(self) -> str | None:
        """The instrument (card-backed) or the visitor (retailer-identified) the credential names."""
        return self.instrument_id or (self.visitor.id if self.visitor else None)


@dataclass(slots=True)
class EntryContext(Presentation):
    """An entry request through the decision pipeline: the presentation, and the decision it builds."""

    decision: Decision = field(default_factory=Decision)
    instrument: PaymentInstrument | None = None
    amount: Money | None = None  # what will be pre-authorized; a risk step may adjust it
    trip_id: str | None = None  # allocated up front: the retailer's connector is told it
    history: InstrumentHistory | None = None  # the instrument's history, when a risk step read it
    owes_retailer: bool = False  # an unpaid trip at a store of this store's retailer, when a risk step read it
    allow_listed: bool = False  # the retailer's allow list names this entry: the model is skipped (DESIGN 14)


class ChannelHandler(Protocol):
    """Authenticates one kind of credential, at an entry or an exit.

    On success it sets ``p.card`` and ``p.instrument_id`` (card-backed channels) or calls
    ``p.named`` (retailer-identified channels); on failure it calls ``p.refuse``.
    """

    def identify(self, p: Presentation) -> None: ...


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
