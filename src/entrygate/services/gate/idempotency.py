"""Gate requests are idempotent on the gate's event id: a retry hears the first answer and changes nothing.

Entries and exits keep one record per (gate, event id), each with the hash of the request that
made it. A retry with the same body gets the stored record back, to be answered from; the same
event id with another body is a ``Conflict`` (409): the gate reused an id, and answering either
request from the other's record would be wrong.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from entrygate.services.errors import Conflict, Unavailable
from entrygate.services.ports.storage import StorageError, UnitOfWork, UnitOfWorkFactory


class Recorded(Protocol):
    @property
    def request_hash(self) -> str: ...


R = TypeVar("R", bound=Recorded)
R_co = TypeVar("R_co", bound=Recorded, covariant=True)


class ByEvent(Protocol[R_co]):
    def get_by_event(self, gate_pk: str, event_id: str) -> R_co | None: ...


class EventRecords(Generic[R]):
    """One kind of gate record (decisions, exits) looked up by gate and event id."""

    def __init__(self, uow: UnitOfWorkFactory, records: Callable[[UnitOfWork], ByEvent[R]], *,
                 unavailable: str, unrecorded: str) -> None:
        self._uow = uow
        self._records = records
        self._unavailable = unavailable  # the 503's message when the lookup itself fails
        self._unrecorded = unrecorded  # the 503's message when a write lost to a record that is not there

    def replay(self, gate_pk: str, event_id: str, request_hash: str) -> R | None:
        """The record of this event, when it was already answered; ``Conflict`` if with another request."""
        try:
            with self._uow() as uow:
                stored = self._records(uow).get_by_event(gate_pk, event_id)
        except StorageError as exc:
            raise Unavailable(self._unavailable) from exc
        if stored is None:
            return None
        if stored.request_hash != request_hash:
            raise Conflict(f"eventId {event_id} was already used for a different request", fields=["eventId"])
        return stored

    def winner(self, gate_pk: str, event_id: str, request_hash: str) -> R:
        """The record another request stored first, after this one's write met its duplicate."""
        stored = self.replay(gate_pk, event_id, request_hash)
        if stored is None:
            raise Unavailable(self._unrecorded)
        return stored
