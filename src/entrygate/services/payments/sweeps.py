"""The sweeps of DESIGN 10: trips nobody scanned out, holds nobody settled, holds of denied taps.

A sweep may run in several processes on one database at once (every worker runs it each minute,
and ``entrygate trips sweep`` runs it by hand). Nothing here needs a lock for that: a trip is
closed by a conditional write that only one process can win, and a hold is released through an
intent that only one process can save, so each trip is closed once and each hold released once.
A denied tap's hold is noted released by a conditional write too, so no two sweepers both count it.
Work goes in bounded batches, so one run's transactions stay short whatever the backlog.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from entrygate.domain.trips import ClosedBy, TripPolicy
from entrygate.services.errors import Conflict, Unavailable
from entrygate.services.events.recorder import EventRecorder, no_events
from entrygate.services.payments.holds import HoldService
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.payments import OrphanHold, PaymentsUnitOfWorkFactory
from entrygate.services.ports.processor import PaymentProcessor
from entrygate.services.ports.storage import StorageError

log = structlog.get_logger("entrygate.payments")

# The gate releases a race loser's hold right after storing the denial; the sweep leaves a denial
# this young alone, so it never races the gate's own release.
ORPHAN_GRACE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one run did: trips closed by TIMEOUT, holds released, releases left for the next run, and
    holds of denied taps (HARD anti-passback race losers) released."""

    closed: int = 0
    released: int = 0
    deferred: int = 0
    orphans_released: int = 0


class TripSweeper:
    def __init__(self, uow: PaymentsUnitOfWorkFactory, holds: HoldService, clock: Clock, *,
                 processor: PaymentProcessor | None = None, batch_size: int = 200, max_batches: int = 50,
                 events: EventRecorder | None = None) -> None:
        """``processor`` releases the denied taps' holds; without one that sweep is not run."""
        self._uow = uow
        self._events = events or no_events()
        self._processor = processor
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
        orphans, d = self._release_orphans() if self._processor is not None else (0, 0)
        deferred += d
        if closed or released or deferred or orphans:
            log.info("trips_swept", closed=closed, released=released, deferred=deferred, orphans_released=orphans)
        return SweepReport(closed, released, deferred, orphans)

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
                won = 0
                for trip_id in due:
                    if uow.trips.close(trip_id, at=now, closed_by=ClosedBy.TIMEOUT):
                        won += 1
                        self._events.trip_closed(uow, trip_id=trip_id, store_id=policy.store_id)
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

    def _release_orphans(self) -> tuple[int, int]:
        """Release the holds of denials older than ``ORPHAN_GRACE`` that nobody released; count those this
        run noted released, and those the processor could not release now."""
        released = deferred = 0
        after: OrphanHold | None = None
        for _ in range(self._max_batches):
            now = self._clock.now()
            with self._uow() as uow:
                due = uow.holds.list_orphans(decided_before=now - ORPHAN_GRACE, limit=self._batch, after=after)
            for orphan in due:
                released_now = self._release_orphan(orphan)
                released, deferred = released + (released_now or 0), deferred + (released_now is None)
            if len(due) < self._batch:
                break
            after = due[-1]  # paging past the ones the processor would not release now
        return released, deferred

    def _release_orphan(self, orphan: OrphanHold) -> int | None:
        """1 when this run released the hold and noted it, 0 when another got there first, None: deferred."""
        assert self._processor is not None
        try:
            # The gate's own key: a hold the gate released already is released again as a no-op.
            self._processor.release(preauth_id=orphan.preauth_id, idempotency_key=orphan.release_key)
        except Exception as exc:  # noqa: BLE001 - any processor failure: the hold stays listed for the next run
            log.warning("orphan_release_deferred", gate_pk=orphan.gate_pk, event_id=orphan.event_id,
                        preauth_id=orphan.preauth_id, error=f"{type(exc).__name__}: {exc}")
            return None
        try:
            with self._uow(write=True) as uow:
                won = uow.holds.mark_orphan_released(orphan.gate_pk, orphan.event_id, at=self._clock.now())
                uow.commit()
        except StorageError as exc:  # released but not noted: the next run releases it again, a no-op
            log.warning("orphan_release_unrecorded", gate_pk=orphan.gate_pk, event_id=orphan.event_id, error=str(exc))
            return None
        log.info("orphan_hold_released", store_id=orphan.store_id, gate_pk=orphan.gate_pk,
                 event_id=orphan.event_id, preauth_id=orphan.preauth_id, counted=won)
        return int(won)
