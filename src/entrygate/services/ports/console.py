"""Console ports: sign-in sessions, the sign-in backoff's counters, the dashboard's read queries.

SQL in ``adapters/db/console_store.py`` and ``adapters/db/dashboard_queries.py``, in memory in
``adapters/memory/console.py`` and ``adapters/memory/dashboard.py``. Each method is its own short
transaction; nothing here takes part in a gate decision.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from entrygate.domain.holds import HoldStatus
from entrygate.domain.reasons import ReasonCode

# --- sign-in -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser, stored by the hash of the id its cookie holds."""

    session_hash: str
    user_id: str
    retailer_id: str
    email: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """Consecutive failed sign-ins of one email from one client, and the lock they earned."""

    failures: int
    last_failed_at: datetime
    locked_until: datetime | None


class SessionStore(Protocol):
    def create(self, session: ConsoleSession) -> None: ...
    def get(self, session_hash: str) -> ConsoleSession | None: ...
    def delete(self, session_hash: str) -> None: ...

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of ``user_id`` but the one whose hash is ``keep``; how many ended."""
        ...

    def purge_expired(self, *, now: datetime) -> int:
        """Delete the sessions that expired at or before ``now``; how many."""
        ...


class SignInFailureStore(Protocol):
    def get(self, key: str) -> FailureRecord | None: ...

    def record_failure(self, key: str, *, now: datetime, forget_after: timedelta,
                       lockout: Callable[[int], float]) -> FailureRecord:
        """Count one more failure, atomically across processes: the count starts again at 1 when
        the last failure is older than ``forget_after``; the lock is ``lockout(count)`` seconds
        from ``now`` (none for 0)."""
        ...

    def clear(self, key: str) -> None: ...

    def purge_stale(self, *, before: datetime) -> int:
        """Forget counters whose last failure, and lock if any, ended before ``before``; how many."""
        ...


# --- the dashboard's queries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveFilter:
    gate_id: str | None = None
    channel: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionRow:
    decision_id: int
    event_id: str
    decided_at: datetime
    gate_id: str
    channel: str
    outcome: str
    reasons: tuple[str, ...]
    decided_by: str
    visitor_id: str | None
    visitor_type: str | None
    trip_id: str | None
    party_size: int
    risk_score: int | None
    risk_level: str | None
    latency_ms: float
    authorized_amount: Decimal | None = None
    currency: str | None = None
    brand: str | None = None  # the payment instrument's, for card and palm entries
    last4: str | None = None

    @property
    def reason_list(self) -> list[tuple[str, str]]:
        """Each reason's code and the sentence the console shows for it (``domain/reasons.py``)."""
        out = []
        for code in self.reasons:
            try:
                out.append((code, ReasonCode(code).message))
            except ValueError:
                out.append((code, code))
        return out


@dataclass(frozen=True, slots=True)
class ExitRow:
    event_id: str
    decided_at: datetime
    result: str
    message: str


@dataclass(frozen=True, slots=True)
class Balance:
    """What one shopper (a payment method, or a visitor without one) owes a retailer in one currency."""

    instrument_id: str
    visitor_id: str
    brand: str | None
    last4: str | None
    currency: str
    amount: Decimal  # over all of the retailer's stores: what the gate's OUTSTANDING_BALANCE counts
    trips: int
    last_reported_at: datetime | None
    at_store: Decimal = Decimal(0)  # the part of ``amount`` left unpaid at the store asked about


@dataclass(frozen=True, slots=True)
class ConnectorCalls:
    """A connector's health as the recorded decisions show it."""

    name: str
    calls: int
    failures: int

    @property
    def failure_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0


# Reasons that end a QR or badge entry before the retailer's identity connector is asked: such a
# decision made no call to it, so ``connector_calls`` does not count it.
BEFORE_IDENTITY = ("ENTRY_METHOD_DISABLED", "GATE_DISABLED", "PARTY_TOO_LARGE", "INVALID_CREDENTIAL",
                   "QR_PATTERN_MISMATCH", "BADGE_FORMAT_UNSUPPORTED", "BADGE_PARITY_ERROR")


class DashboardQueries(Protocol):
    """Read-only queries over recorded decisions and trips (``adapters/db/dashboard_queries.py``).

    Every query but the trip's is bounded by a store; the windowed ones count decisions at or
    after ``since``. Live rows come newest first by ``decision_id``, the order they were stored.
    """

    def decisions_per_minute(self, store_id: str, *, since: datetime) -> list[tuple[datetime, str, int]]: ...
    def reason_counts(self, store_id: str, *, since: datetime, outcome: str) -> dict[str, int]: ...
    def risk_histogram(self, store_id: str, *, since: datetime, bucket: int) -> list[tuple[int, int]]: ...
    def latency_percentiles(self, store_id: str, *, since: datetime,
                            percentiles: tuple[int, ...]) -> tuple[int, dict[int, float], float | None]: ...
    def connector_calls(self, store_id: str, *, since: datetime) -> list[ConnectorCalls]:
        """Identity calls: QR and badge decisions past ``BEFORE_IDENTITY``, failed when
        ``CONNECTOR_UNAVAILABLE``. Shopper-authorization calls: card and palm decisions decided by
        the retailer or its fallback, or with ``CONNECTOR_UNAVAILABLE``; failed unless the retailer decided."""
        ...
    def live(self, store_id: str, *, filters: LiveFilter, after_id: int | None, recent_since: datetime | None,
             limit: int) -> list[DecisionRow]: ...
    def decision_by_event(self, store_id: str, event_id: str) -> DecisionRow | None: ...
    def trip_decisions(self, trip_id: str) -> list[DecisionRow]: ...
    def trip_exits(self, trip_id: str) -> list[ExitRow]: ...
    def outstanding_balances(self, store_id: str, *, limit: int) -> list[Balance]:
        """What shoppers owe the retailer that owns ``store_id``, over all of that retailer's stores
        (DESIGN 10, the gate's own rule): per payment method (a visitor without one) and currency,
        the sum of total - settled over trips with both reported and the total above the settled;
        largest first."""
        ...

    def hold_statuses(self, trip_ids: Sequence[str]) -> dict[str, HoldStatus]:
        """The status of each stored hold among ``trip_ids``; a hold no operation touched yet is absent."""
        ...
