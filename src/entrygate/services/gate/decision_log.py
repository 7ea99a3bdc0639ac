"""Writing a decision, with what it changes, before the gate hears it.

``DirectDecisionLog`` writes each ``DecisionWrite`` in a transaction of its own, through the
unit-of-work port (any database, and the in-memory one). The port, ``DecisionWrite`` and how HARD
anti-passback is settled at the write are in ``services/ports/decisions.py``; the SQLite adapter
groups concurrent writes into one transaction instead (``adapters/db/group_commit.py``).
"""
from __future__ import annotations

from entrygate.domain.records import DecisionRecord
from entrygate.services.events.recorder import EventRecorder, no_events
from entrygate.services.ports.decisions import DecisionLog, DecisionWrite
from entrygate.services.ports.storage import UnitOfWorkFactory

__all__ = ["DecisionLog", "DecisionWrite", "DirectDecisionLog"]


class DirectDecisionLog:
    def __init__(self, uow: UnitOfWorkFactory, *, events: EventRecorder | None = None) -> None:
        self._uow = uow
        self._events = events or no_events()

    def write(self, item: DecisionWrite) -> DecisionRecord:
        with self._uow(write=True) as uow:
            stored = item.apply(uow)
            self._events.decision_written(uow, item, stored)  # the outbox, in the same transaction
            uow.commit()
        return stored
