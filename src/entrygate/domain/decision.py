"""Gate decisions: what the gate is told, and why."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from entrygate.domain.channels import Channel, DecidedBy, DecisionOutcome, VisitorType
from entrygate.domain.money import Money
from entrygate.domain.reasons import ReasonCode


@dataclass(frozen=True, slots=True)
class Visitor:
    id: str
    type: VisitorType


@dataclass(frozen=True, slots=True)
class RiskAssessment:
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
    credential: object
    request_hash: str
