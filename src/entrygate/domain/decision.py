"""Gate decisions: what the gate is told, and why; and what an exit did to the trip."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, DecidedBy, DecisionOutcome, TripStatus, VisitorType
from entrygate.domain.credentials import BadgeRead, PalmRead, QrScan
from entrygate.domain.money import Money
from entrygate.domain.reasons import POLICY_CODES, ReasonCode
from entrygate.domain.records import DecisionRecord, ExitRecord
from entrygate.domain.risk_ops import Contribution, RiskDetail, RuleResult

# What a gate can present: a card, a palm, a QR code or a badge.
Credential = CardCredential | PalmRead | QrScan | BadgeRead


@dataclass(frozen=True, slots=True)
class Visitor:
    id: str
    type: VisitorType


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The answer's ``risk``: the model's score and level, the version and explanation when the model ran;
    only ``allow_listed`` when the allow list skipped the model."""

    score: int | None
    level: str | None
    model_version: str | None = None
    explanation: tuple[Contribution, ...] = ()
    allow_listed: bool = False


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
    list_block: bool = False  # denied by a list item (policy, not the card)
    list_item: str | None = None  # the list item that blocked or allowed this entry
    rule: str | None = None  # the store rule that decided
    rule_failures: tuple[RuleResult, ...] = ()  # rules that failed at run time, skipped
    review: bool = False  # opened, and queued for the retailer's review by ``rule``
    messages: dict[ReasonCode, str] = field(default_factory=dict)  # sentences naming the item or rule

    @property
    def opened(self) -> bool:
        return self.outcome is DecisionOutcome.OPEN

    @property
    def policy_denied(self) -> bool:
        """Refused by the store's policy rather than by the card: not counted as velocity or a decline."""
        return not self.opened and (self.list_block or any(r in POLICY_CODES for r in self.reasons))

    def deny(self, code: ReasonCode, *, by: DecidedBy | None = None, message: str | None = None) -> Decision:
        self.outcome = DecisionOutcome.DENY
        if code not in self.reasons:
            self.reasons.append(code)
        if by is not None:
            self.decided_by = by
        if message is not None:
            self.messages[code] = message
        return self

    def detail(self) -> RiskDetail:
        """What the decision records beside its score (``decisions.risk_detail``)."""
        risk = self.risk
        return RiskDetail(explanation=risk.explanation if risk else (), allow_listed=bool(risk and risk.allow_listed),
                          list_item=self.list_item, rule=self.rule, rule_failures=self.rule_failures,
                          messages={code.value: text for code, text in self.messages.items()})

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
    detail: RiskDetail = RiskDetail()

    def message(self, code: ReasonCode) -> str:
        """The reason's sentence: the one naming the list item or rule when there is one."""
        return self.detail.messages.get(code.value) or code.message

    @classmethod
    def of(cls, record: DecisionRecord) -> GateDecision:
        """The decision a stored record holds (the record is what the gate hears, so both answers agree)."""
        amount = record.authorized_amount
        detail = RiskDetail.from_json(record.risk_detail)
        risk = None
        if record.risk_score is not None and record.risk_level is not None:
            risk = RiskAssessment(record.risk_score, record.risk_level, record.model_version, detail.explanation)
        elif detail.allow_listed:
            risk = RiskAssessment(None, None, allow_listed=True)
        return cls(
            event_id=record.event_id, outcome=DecisionOutcome(record.outcome), trip_id=record.trip_id,
            visitor=Visitor(record.visitor_id, VisitorType(record.visitor_type))
            if record.visitor_id is not None and record.visitor_type is not None else None,
            reasons=tuple(ReasonCode(r) for r in record.reasons),
            risk=risk,
            authorized_amount=Money(amount, record.currency) if amount is not None and record.currency else None,
            decided_by=DecidedBy(record.decided_by), latency_ms=record.latency_ms, party_size=record.party_size,
            detail=detail)


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
