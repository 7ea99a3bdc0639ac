"""The two sweeps of DESIGN 10: trips nobody scanned out, and holds nobody settled.

A sweep may run in several processes on one database at once (every worker runs it each minute,
and ``entrygate trips sweep`` runs it by hand). Nothing here needs a lock for that: a trip is
closed by a conditional write that only one process can win, and a hold is released through an
intent that only one process can save, so each trip is closed once and each hold released once.
Work goes in bounded batches, so one run's transactions stay short whatever the backlog.
"""
from __future__ import annotations

from dataclasses import dataclass

import structlog

from entrygate.domain.trips import ClosedBy, TripPolicy
from entrygate.services.errors import Conflict, Unavailable
from entrygate.services.payments.holds import HoldService
from entrygate.services.ports.payments import PaymentsUnitOfWorkFactory
from entrygate.services.ports.storage import StorageError
from entrygate.services.ports.clock import Clock

log = structlog.get_logger("entrygate.payments")


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one run did: trips closed by TIMEOUT, holds released, releases left for the next run."""

    closed: int = 0
    released: int = 0
    deferred: int = 0


class TripSweeper:
    def __init__(self, uow: PaymentsUnitOfWorkFactory, holds: HoldService, clock: Clock, *,
                 batch_size: int = 200, max_batches: int = 50) -> None:
        self._uow = uow
        self._holds = holds
        self._clock = clock
        self._batch = batch_size
        self._max_batches = max_batches

    def sweep(self) -> SweepReport:
        """Close overdue trips, then release the holds due; run it at least every 60 s (DESIGN 10).

        Closing goes first, so a store whose ``preauthReleaseHours`` is 0 has its timed-out trips'
        holds released in the same run. A database fault while closing leaves as ``StorageError``
        with each batch either written or not; a release that cannot be done now is deferred.
        """
        policies = self._policies()
        closed = sum(self._close_overdue(p) for p in policies)
        released = deferred = 0
        for policy in policies:
            r, d = self._release_due(policy)
            released, deferred = released + r, deferred + d
        if closed or released or deferred:
            log.info("trips_swept", closed=closed, released=released, deferred=deferred)
        return SweepReport(closed, released, deferred)

    def _policies(self) -> list[TripPolicy]:
        with self._uow() as uow:
            return uow.trip_policies.list()

    def _close_overdue(self, policy: TripPolicy) -> int:
        closed = 0
        for _ in range(self._max_batches):
            now = self._clock.now()
            with self._uow() as uow:
                due = uow.trips.list_overdue(policy.store_id, entered_before=policy.overdue_before(now),
                                             limit=self._batch)
            if not due:
                break
            with self._uow(write=True) as uow:
                # Conditional closes: a trip another sweeper or an exit closed meanwhile counts as nothing.
                won = sum(uow.trips.close(trip_id, at=now, closed_by=ClosedBy.TIMEOUT) for trip_id in due)
                uow.commit()
            closed += won
            if len(due) < self._batch:
                break
        return closed

    def _release_due(self, policy: TripPolicy) -> tuple[int, int]:
        released = deferred = 0
        after: str | None = None
        for _ in range(self._max_batches):
            now = self._clock.now()
            with self._uow() as uow:
                due = uow.holds.list_to_release(policy.store_id, closed_before=policy.release_before(now), now=now,
                                                limit=self._batch, after=after)
            for trip_id in due:
                try:
                    released += self._holds.release_unsettled(trip_id)
                except (Unavailable, Conflict, StorageError) as exc:
                    # Left as it is (a pending intent at worst); the next run finishes it.
                    deferred += 1
                    log.warning("hold_release_deferred", trip_id=trip_id, error=str(exc))
            # Paging by id, not re-reading the first page: a hold the processor refused to release
            # stays listed, and must not keep the holds behind it from their release.
            if len(due) < self._batch:
                break
            after = due[-1]
        return released, deferred
