"""Gate decisions: what the gate is told, and why; and what an exit did to the trip."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, DecidedBy, DecisionOutcome, TripStatus, VisitorType
from entrygate.domain.credentials import BadgeRead, PalmRead, QrScan
from entrygate.domain.money import Money
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.records import DecisionRecord, ExitRecord

# What a gate can present: a card, a palm, a QR code or a badge.
Credential = CardCredential | PalmRead | QrScan | BadgeRead


@dataclass(frozen=True, slots=True)
class Visitor:
    id: str
    type: VisitorType


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    score: int
    level: str


@dataclass(frozen=True, slots=True)
class ShadowAssessment:
    """A candidate model's view of the same entry (DESIGN 14): stored and shown, never deciding."""

    model_version: str
    score: int
    level: str


@dataclass(slots=True)
class Decision:
    """The outcome of one entry request, built up as the checks run."""

    outcome: DecisionOutcome = DecisionOutcome.OPEN
    reasons: list[ReasonCode] = field(default_factory=list)
    decided_by: DecidedBy = DecidedBy.PLATFORM
    visitor: Visitor | None = None
    risk: RiskAssessment | None = None
    shadow: ShadowAssessment | None = None  # the shadow model's score; the gate never hears it
    authorized_amount: Money | None = None
    instrument_id: str | None = None
    trip_id: str | None = None
    preauth_id: str | None = None
    block_instrument: bool = False
    passback_violation: bool = False

    @property
    def opened(self) -> bool:
        return self.outcome is DecisionOutcome.OPEN

    def deny(self, code: ReasonCode, *, by: DecidedBy | None = None) -> Decision:
        self.outcome = DecisionOutcome.DENY
        if code not in self.reasons:
            self.reasons.append(code)
        if by is not None:
            self.decided_by = by
        return self

    def note(self, code: ReasonCode) -> Decision:
        """Add an informational reason that does not change the outcome."""
        if code not in self.reasons:
            self.reasons.append(code)
        return self


@dataclass(frozen=True, slots=True)
class EntryEvent:
    """An entry request as the gate sent it, after parsing."""

    event_id: str
    timestamp: datetime
    channel: Channel
    interaction_type: str
    party_size: int
    credential: Credential
    request_hash: str


@dataclass(frozen=True, slots=True)
class GateDecision:
    """A decided entry as the gate hears it: the first time, and on every retry of its event id."""

    event_id: str
    outcome: DecisionOutcome
    trip_id: str | None
    visitor: Visitor | None
    reasons: tuple[ReasonCode, ...]
    risk: RiskAssessment | None
    authorized_amount: Money | None
    decided_by: DecidedBy
    latency_ms: float
    party_size: int

    @classmethod
    def of(cls, record: DecisionRecord) -> GateDecision:
        """The decision a stored record holds (the record is what the gate hears, so both answers agree)."""
        amount = record.authorized_amount
        return cls(
            event_id=record.event_id, outcome=DecisionOutcome(record.outcome), trip_id=record.trip_id,
            visitor=Visitor(record.visitor_id, VisitorType(record.visitor_type))
            if record.visitor_id is not None and record.visitor_type is not None else None,
            reasons=tuple(ReasonCode(r) for r in record.reasons),
            risk=RiskAssessment(record.risk_score, record.risk_level)
            if record.risk_score is not None and record.risk_level is not None else None,
            authorized_amount=Money(amount, record.currency) if amount is not None and record.currency else None,
            decided_by=DecidedBy(record.decided_by), latency_ms=record.latency_ms, party_size=record.party_size)


class ExitResult(str, Enum):
    """What an exit did to the trip; people are always let out, so none of these is a refusal."""

    CLOSED = "CLOSED"
    ALREADY_CLOSED = "ALREADY_CLOSED"  # a repeated exit: nothing changed
    NO_OPEN_TRIP = "NO_OPEN_TRIP"  # a credential with no visit in progress at this store

    @property
    def message(self) -> str:
        return _EXIT_MESSAGES[self]


_EXIT_MESSAGES = {
    ExitResult.CLOSED: "The trip is closed.",
    ExitResult.ALREADY_CLOSED: "The trip was already closed; nothing changed.",
    ExitResult.NO_OPEN_TRIP: "This credential has no open trip at this store.",
}


@dataclass(frozen=True, slots=True)
class ExitOutcome:
    """A recorded exit as the gate hears it: the first time, and on every retry of its event id."""

    event_id: str
    trip_id: str | None
    result: ExitResult

    @property
    def trip_status(self) -> TripStatus | None:
        """The trip's status after the exit: closed whenever there is a trip."""
        return TripStatus.CLOSED if self.trip_id else None

    @classmethod
    def of(cls, record: ExitRecord) -> ExitOutcome:
        """The outcome a stored exit record holds."""
        return cls(event_id=record.event_id, trip_id=record.trip_id, result=ExitResult(record.result))
