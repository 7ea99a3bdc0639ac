"""Writing a decision, with what it changes, before the gate hears it.

``DecisionWrite`` is one decision's writes: the decision record, the payment instrument it saw
(and whether it is now blocked), and the trip it opens. ``DirectDecisionLog`` writes each in a
transaction of its own, through the unit-of-work port (any database, and the in-memory one).
The SQLite adapter groups concurrent writes into one transaction instead (group commit), so one
fsync covers many gates: see ``adapters/db/group_commit.py``.

Under HARD anti-passback the read of the visitor's open trip happens before the decision, outside
any transaction, so two gates can both see none. The storage settles it: a trip opened under HARD
carries a passback key that the database allows on one open trip per store, and the write that
loses stores its ``passback_denial`` (DENY ``ALREADY_INSIDE``) instead, in the same transaction.
The writer returns what it stored; that is what the gate hears.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from entrygate.domain.cards import CardCredential
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.ports.storage import TripAlreadyOpen, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class DecisionWrite:
    record: DecisionRecord
    instrument_id: str | None = None
    card: CardCredential | None = None
    block_instrument: bool = False
    trip: Trip | None = None
    passback_denial: DecisionRecord | None = None  # stored instead of ``record`` when ``trip`` loses the race

    def apply(self, uow: UnitOfWork) -> DecisionRecord:
        """The writes; returns the decision stored (``record``, or ``passback_denial`` and no trip).

        The trip goes before the decision so that the decision written is already the right one: a
        duplicate event id then fails at the decision insert and takes the whole write back with it.
        """
        if self.card is not None and self.instrument_id is not None:
            uow.instruments.record_seen(self.instrument_id, self.card, at=self.record.decided_at)
            if self.block_instrument:
                uow.instruments.block(self.instrument_id, reason="lost_stolen")
        stored = self.record
        if self.trip is not None:
            try:
                uow.trips.add(self.trip)
            except TripAlreadyOpen:
                if self.passback_denial is None:
                    raise
                stored = self.passback_denial
        uow.decisions.add(stored)
        return stored


class DecisionLog(Protocol):
    def write(self, item: DecisionWrite) -> DecisionRecord:
        """Durable when it returns, and returns the decision stored; raises DuplicateEvent or StorageError,
        and then nothing was written."""
        ...


class DirectDecisionLog:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def write(self, item: DecisionWrite) -> DecisionRecord:
        with self._uow(write=True) as uow:
            stored = item.apply(uow)
            uow.commit()
        return stored
