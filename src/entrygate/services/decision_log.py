"""Writing a decision, with what it changes, before the gate hears it.

``DecisionWrite`` is one decision's writes: the decision record, the payment instrument it saw
(and whether it is now blocked), and the trip it opens. ``DirectDecisionLog`` writes each in a
transaction of its own, through the unit-of-work port (any database, and the in-memory one).
The SQLite adapter groups concurrent writes into one transaction instead (group commit), so one
fsync covers many gates: see ``adapters/db/group_commit.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from entrygate.domain.cards import CardCredential
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class DecisionWrite:
    record: DecisionRecord
    instrument_id: str | None = None
    card: CardCredential | None = None
    block_instrument: bool = False
    trip: Trip | None = None

    def apply(self, uow: UnitOfWork) -> None:
        """The writes, decision first: a duplicate event id stops here, before anything else."""
        uow.decisions.add(self.record)
        if self.card is not None and self.instrument_id is not None:
            uow.instruments.record_seen(self.instrument_id, self.card, at=self.record.decided_at)
            if self.block_instrument:
                uow.instruments.block(self.instrument_id, reason="lost_stolen")
        if self.trip is not None:
            uow.trips.add(self.trip)


class DecisionLog(Protocol):
    def write(self, item: DecisionWrite) -> None:
        """Durable when it returns; raises DuplicateEvent or StorageError, and then nothing was written."""
        ...


class DirectDecisionLog:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def write(self, item: DecisionWrite) -> None:
        with self._uow(write=True) as uow:
            item.apply(uow)
            uow.commit()
