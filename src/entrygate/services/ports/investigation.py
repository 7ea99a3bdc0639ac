"""The console's investigation queries: one decision in full, searches, exports, each gate's last activity.

SQL in ``adapters/db/investigation_queries.py``, in memory in ``adapters/memory/investigation.py``.
Every query is bounded by a store and reads in a short transaction of its own; exports read in
keyset pages (``after``), so a month of a busy store is never held in memory at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.ports.console import DecisionRow


@dataclass(frozen=True, slots=True)
class DecisionCriteria:
    """What a search or an export asks for; every field given must match (``None``: any)."""

    visitor_id: str | None = None  # the visitor id, or the instrument id of a card or palm entry
    last4: str | None = None
    trip_id: str | None = None
    reason: str | None = None  # one reason code
    since: datetime | None = None  # decided at or after
    until: datetime | None = None  # decided before


@dataclass(frozen=True, slots=True)
class DecisionDetail:
    """One decision: as the console lists it (``row``) and as stored (``record``: what the gate sent, minus
    its secrets, and the calls made to decide it, in ``gate_request`` and ``connector_calls``)."""

    row: DecisionRow
    record: DecisionRecord


@dataclass(frozen=True, slots=True)
class GateActivity:
    """A gate's last decision (entry gates) or exit (exit gates), and how many it made since a moment."""

    gate_id: str
    last_at: datetime | None
    recent: int


class InvestigationQueries(Protocol):
    def decision(self, store_id: str, decision_id: int) -> DecisionDetail | None: ...

    def search(self, store_id: str, criteria: DecisionCriteria, *, before_id: int | None,
               limit: int) -> list[DecisionRow]:
        """Matching decisions, newest first, below ``before_id`` when given."""
        ...

    def decision_page(self, store_id: str, criteria: DecisionCriteria, *, after_id: int, limit: int) -> list[DecisionRow]:
        """Matching decisions with an id above ``after_id``, oldest first: one page of an export."""
        ...

    def trip_page(self, store_id: str, *, since: datetime | None, until: datetime | None, after: tuple[datetime, str] | None,
                  limit: int) -> list[Trip]:
        """Trips entered in ``[since, until)``, by (entered at, trip id) after ``after``: one page of an export."""
        ...

    def gate_activity(self, store_id: str, *, since: datetime) -> list[GateActivity]:
        """Every gate of the store, with its last decision or exit ever and how many it made at or after ``since``."""
        ...
