"""The review queue (DESIGN 14): entries a store's REVIEW rule let in, and the retailer's verdict on each.

A verdict is given once: the database's conditional write settles two at once (the second is a
409). ``FRAUD`` becomes a ``CustomerFraud`` label (and its FEEDBACK block), ``BAD_DEBT`` a ``BadDebt``
label, ``OK`` none; the label is written in the verdict's transaction. ``decide`` is the change an
audit records.
"""
from __future__ import annotations

from dataclasses import replace

import structlog

from entrygate.domain.audit import Target
from entrygate.domain.risk_ops import Review, ReviewOutcome
from entrygate.domain.views import review_view
from entrygate.services.admin import audit
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import Conflict, NotFound
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.storage import UnitOfWorkFactory
from entrygate.services.risk_ops.lists import feedback_block

log = structlog.get_logger("entrygate.reviews")


class ReviewService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def list(self, principal: Principal, store_id: str, *, pending_only: bool = False) -> list[Review]:
        store_in_scope(self._uow, principal, store_id)
        with self._uow() as uow:
            return uow.reviews.list(store_id, pending_only=pending_only)

    def decide(self, principal: Principal, review_id: str, outcome: ReviewOutcome) -> Review:
        """Record the verdict and its label; ``Conflict`` when the review has one already."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            review = uow.reviews.get(review_id)
            store = uow.stores.get(review.store_id) if review else None
            if review is None or store is None or not principal.may_manage(store.retailer_id):
                raise NotFound(f"review {review_id} not found")
            if not uow.reviews.decide(review_id, outcome, at=now):
                raise Conflict(f"review {review_id} already has a verdict")
            label = outcome.label
            if label is not None and review.instrument_id is not None:
                uow.labels.add(instrument_id=review.instrument_id, store_id=review.store_id,
                               trip_id=review.trip_id or "", risk=label, note=f"review {review_id}", at=now)
                if outcome is ReviewOutcome.FRAUD:
                    feedback_block(uow, retailer_id=store.retailer_id, instrument_id=review.instrument_id,
                                   note=f"review {review_id}: FRAUD", at=now)
            decided = replace(review, outcome=outcome, decided_at=now)
            audit.record(uow, principal, "review.decided", Target("review", review_id), retailer_id=store.retailer_id,
                         store_id=review.store_id, before=review_view(review), after=review_view(decided), at=now)
            uow.commit()
        log.info("review_decided", store_id=review.store_id, review_id=review_id, outcome=outcome.value)
        return decided
