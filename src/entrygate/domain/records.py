"""Stored things: retailers, gates, payment instruments, trips, decision records."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from entrygate.domain.channels import GateDirection, TripStatus
from entrygate.domain.decision_trace import ConnectorCall
from entrygate.domain.roles import ConsoleRole
from entrygate.domain.trips import ClosedBy


@dataclass(frozen=True, slots=True)
class Retailer:
    retailer_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RetailerUser:
    user_id: str
    retailer_id: str
    email: str
    password_hash: str
    role: ConsoleRole = ConsoleRole.ADMIN  # users made before roles existed are admins (migration 0008)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Gate:
    gate_pk: str
    gate_id: str
    store_id: str
    direction: GateDirection
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A hashed key: the id part is looked up, the secret part compared in constant time."""

    key_id: str
    secret_hash: str
    owner: str
    expires_at: datetime | None = None  # a gate key replaced by a newer one works until then
    name: str | None = None  # a retailer key's name


@dataclass(frozen=True, slots=True)
class PaymentInstrument:
    instrument_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str | None
    issuer_country: str | None
    blocked: bool
    blocked_reason: str | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Trip:
    trip_id: str
    store_id: str
    entry_gate_id: str
    channel: str
    visitor_id: str
    instrument_id: str | None
    party_size: int
    status: TripStatus
    entered_at: datetime
    currency: str
    authorized_amount: Decimal | None = None
    preauth_id: str | None = None
    exited_at: datetime | None = None
    exit_gate_id: str | None = None
    total_amount: Decimal | None = None
    settled_amount: Decimal | None = None
    payment_status_time: datetime | None = None
    passback_key: str | None = None  # the visitor id when opened under HARD anti-passback: one open trip per key
    closed_by: ClosedBy | None = None
    passback_violation: bool = False  # a SOFT anti-passback store let the visitor in with another trip open

    @property
    def unpaid(self) -> Decimal:
        """What the retailer last reported as not yet collected for this trip."""
        if self.total_amount is None or self.settled_amount is None:
            return Decimal(0)
        return max(self.total_amount - self.settled_amount, Decimal(0))


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    gate_pk: str
    gate_id: str
    store_id: str
    event_id: str
    request_hash: str
    channel: str
    outcome: str
    reasons: list[str]
    decided_by: str
    visitor_id: str | None
    visitor_type: str | None
    instrument_id: str | None
    trip_id: str | None
    party_size: int
    risk_score: int | None
    risk_level: str | None
    authorized_amount: Decimal | None
    currency: str | None
    latency_ms: float
    event_time: datetime
    decided_at: datetime
    preauth_id: str | None = None  # the hold this decision obtained; on a passback loser's denial, the one released
    model_version: str | None = None  # the risk model version that scored it (DESIGN 14)
    risk_detail: dict | None = None  # ``domain.risk_ops.RiskDetail.to_json``: explanation, lists, rules
    policy_denied: bool = False  # refused by the store's policy, not the card: not an entry of its risk history
    # What the shadow model (DESIGN 14) said of this entry; never part of the gate's answer.
    shadow_model_version: str | None = None
    shadow_score: int | None = None
    shadow_level: str | None = None
    # For investigating it (``domain/decision_trace.py``, migration 0010): what the gate sent, minus its
    # secrets, and every call made to decide it; None and () on decisions stored before.
    gate_request: Mapping[str, Any] | None = None
    connector_calls: tuple[ConnectorCall, ...] = ()


@dataclass(frozen=True, slots=True)
class ExitRecord:
    gate_pk: str
    event_id: str
    request_hash: str
    trip_id: str | None
    result: str  # an ``ExitResult``: CLOSED, ALREADY_CLOSED or NO_OPEN_TRIP
    decided_at: datetime
