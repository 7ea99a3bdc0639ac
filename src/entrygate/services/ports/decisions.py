"""The decision log port: one decision's writes, stored before the gate hears the answer.

``DecisionWrite`` is what a decision writes: the decision record, the payment instrument it saw
(and whether it is now blocked), and the trip it opens. ``services/gate/decision_log.py`` writes
each in a transaction of its own (any database, and in memory); ``adapters/db/group_commit.py``
groups concurrent writes into one SQLite transaction (one fsync for many gates).

Under HARD anti-passback the read of the visitor's open trip happens before the decision, outside
any transaction, so two gates can both see none. The storage settles it: a trip opened under HARD
carries a passback key that the database allows on one open trip per store, and the write that
loses stores its ``passback_denial`` (DENY ``ALREADY_INSIDE``) instead, in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from entrygate.domain.cards import CardCredential
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.domain.risk_ops import Review
from entrygate.services.ports.storage import TripAlreadyOpen, UnitOfWork


@dataclass(frozen=True, slots=True)
class DecisionWrite:
    record: DecisionRecord
    instrument_id: str | None = None
    card: CardCredential | None = None
    block_instrument: bool = False
    trip: Trip | None = None
    passback_denial: DecisionRecord | None = None  # stored instead of ``record`` when ``trip`` loses the race
    review: Review | None = None  # a REVIEW rule's entry, queued with its decision (DESIGN 14)

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
        if self.review is not None and stored is self.record:
            uow.reviews.add(self.review)
        return stored


class DecisionLog(Protocol):
    def write(self, item: DecisionWrite) -> DecisionRecord:
        """Durable when it returns, and returns the decision stored; raises DuplicateEvent or StorageError,
        and then nothing was written."""
        ...
