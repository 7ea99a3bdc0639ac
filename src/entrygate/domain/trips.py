"""How a trip ends (DESIGN 10): who closed it, and the store's clocks for closing it and its hold."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

# DESIGN 10: the store settings ``maxTripMinutes`` and ``preauthReleaseHours`` when a store sets neither.
DEFAULT_MAX_TRIP_MINUTES = 180
DEFAULT_PREAUTH_RELEASE_HOURS = 24


class ClosedBy(str, Enum):
    EXIT_GATE = "EXIT_GATE"
    TIMEOUT = "TIMEOUT"
    RETAILER = "RETAILER"
    OPERATOR = "OPERATOR"


class CloseResult(str, Enum):
    CLOSED = "CLOSED"
    ALREADY_CLOSED = "ALREADY_CLOSED"


@dataclass(frozen=True, slots=True)
class TripPolicy:
    """A store's two trip clocks: ``maxTripMinutes`` and ``preauthReleaseHours``."""

    store_id: str
    max_trip_minutes: int
    preauth_release_hours: int

    def overdue_before(self, now: datetime) -> datetime:
        """An open trip entered at or before this instant has run past ``maxTripMinutes``."""
        return now - timedelta(minutes=self.max_trip_minutes)

    def release_before(self, now: datetime) -> datetime:
        """A hold still held on a trip closed at or before this instant is due for release."""
        return now - timedelta(hours=self.preauth_release_hours)
