"""Enrolling a palm on a card, once platform-wide, and deleting an enrollment for good.

An enrollment is platform-wide (DESIGN 4.2): once enrolled at any retailer's kiosk, the palm opens
the gate at every store that accepts palm entry, always on the card it was enrolled with.

A palm is enrolled once. The duplicate check cannot trust this process's index alone (it lags
the other processes by a poll), so it runs inside the store's enrollment transaction, which holds
a lock every enrollment and deletion takes: it searches this index, then compares exactly every
template enrolled after the index's sync position, then inserts. Two kiosks enrolling one hand,
at one process or two, get one 201 and one 409.
"""
from __future__ import annotations

import re
import threading

import numpy as np
import structlog

from entrygate.domain.cards import CardCredential, instrument_id, new_id
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unavailable
from entrygate.services.palm.identification import PalmMatcher
from entrygate.services.palm.sync import PalmIndexSync
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.palm import Enrollment, EnrollmentSession, PalmRepository
from entrygate.services.ports.storage import StorageError

log = structlog.get_logger("entrygate.palm")

READY_WAIT_S = 30.0  # how long an enrollment waits for the index of a process that is starting
_PALM_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")  # anything else was never handed out


class PalmEnrollment:
    """Enrollment and deletion, checked against the store under its palm lock."""

    def __init__(self, *, store: PalmRepository, index: PalmIndexSync, matcher: PalmMatcher, clock: Clock,
                 secret: bytes) -> None:
        self._store = store
        self._sync = index
        self._matcher = matcher
        self._clock = clock
        self._secret = secret
        # The store's lock makes the check-then-insert one step platform-wide; this one queues this
        # process's enrollments before they take a pooled connection to wait on it, so a burst of
        # kiosks cannot take the connections the gates need.
        self._enroll = threading.Lock()

    def enroll(self, principal: Principal, *, signature: object, card: CardCredential, consent: object) -> str:
        """Link a palm to a card; the new palm id. The palm is searchable here when this returns."""
        if principal.kind is not KeyKind.RETAILER or principal.retailer_id is None:
            raise Forbidden("palms are enrolled with a retailer's key")
        if consent is not True:
            raise InvalidRequest("consent: must be true; a palm is enrolled only with the shopper's consent",
                                 fields=["consent"])
        vec = self._matcher.decode(signature, field="signature")
        now = self._clock.now()
        if card.expired_on(now.date()):
            raise InvalidRequest(f"card: expired at the end of {card.exp_month:02d}/{card.exp_year}",
                                 fields=["card.expMonth", "card.expYear"])
        if not self._sync.wait_ready(READY_WAIT_S):
            raise Unavailable("the palm index is still loading; try again shortly")
        palm_id = new_id("palm")
        enrollment = Enrollment(palm_id, instrument_id(card, secret=self._secret), principal.retailer_id,
                                self._sync.cipher.encrypt_vector(vec, palm_id=palm_id), self._sync.dimension,
                                card, now)
        with self._enroll:
            try:
                with self._store.enrolling() as session:
                    if self._already_enrolled(vec, session):
                        raise Conflict("this palm is already enrolled", fields=["signature"])
                    session.add(enrollment)
            except StorageError as exc:
                raise Unavailable("the enrollment could not be stored") from exc
            self._sync.added_here(palm_id, vec)
        log.info("palm_enrolled", palm_id=palm_id, retailer_id=principal.retailer_id)
        return palm_id

    def delete(self, principal: Principal, palm_id: str) -> None:
        """Remove an enrollment for good: the row, and this process's copy of the template at once."""
        if principal.kind not in (KeyKind.RETAILER, KeyKind.OPERATOR):
            raise Forbidden("enrollments are deleted with a retailer's or the operator's key")
        try:
            owner = self._store.owner(palm_id) if _PALM_ID.match(palm_id) else None
            if owner is None:
                raise NotFound(f"palm enrollment {palm_id} not found")
            principal.require_scope(owner, otherwise=Forbidden(
                "only the retailer that enrolled this palm (or the operator) can delete it"))
            deleted = self._store.delete(palm_id, at=self._clock.now())
        except StorageError as exc:
            raise Unavailable("the enrollment could not be deleted") from exc
        self._sync.removed_here(palm_id)
        if not deleted:
            raise NotFound(f"palm enrollment {palm_id} not found")
        log.info("palm_deleted", palm_id=palm_id, by="operator" if principal.is_operator else principal.retailer_id)

    def _already_enrolled(self, vec: np.ndarray, session: EnrollmentSession) -> bool:
        """Whether an enrolled palm matches ``vec``, as the locked session sees the store.

        This index holds every palm whose ``add`` is at or below the position read first (the sync
        applies a change before it moves the position), so a search covers those, and the rows
        after it are compared exactly. Those are the palms enrolled since this process's last
        poll, its own included: a second's worth, a few rows to decrypt.
        """
        mark = self._sync.watermark  # read before the search: the index may only run ahead of it
        above = self._matcher.candidates(vec)
        if above and session.links([m.palm_id for m in above]):
            return True
        for sealed in session.enrolled_after(mark):
            template = self._sync.decrypt(sealed)
            if template is not None and float(template @ vec) >= self._matcher.match_threshold:
                return True
        return False
