"""``HoldSummaries`` in memory, read from the in-memory payments store (``adapters/memory/payments.py``)."""
from __future__ import annotations

from collections.abc import Sequence

from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.domain.holds import HoldSummary


class MemoryHoldSummaries:
    def __init__(self, payments: MemoryPayments) -> None:
        self.payments = payments

    def of(self, trip_ids: Sequence[str]) -> dict[str, HoldSummary]:
        with self.payments() as uow:
            stored = {trip_id: uow.holds.get(trip_id) for trip_id in trip_ids}
        return {trip_id: s.hold.summary() for trip_id, s in stored.items() if s is not None}
