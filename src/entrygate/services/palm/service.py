"""Palm entry: enrolling a palm on a card, identifying it 1:N at the gate, keeping the index current.

An enrollment is platform-wide (DESIGN 4.2): once enrolled at any retailer's kiosk, the palm opens
the gate at every store that accepts palm entry, always on the card it was enrolled with. The
template is stored only encrypted; the searchable copy lives in each process's in-memory index,
which is a cache of the database (DESIGN 8):

- At start a background thread reads the change log's position W, decrypts every template and
  builds the index. Until then the process is not ready for palms: ``/readyz`` answers 503 and a
  palm at the gate gets 503 (no decision), never a ``PALM_NO_MATCH`` it could not know.
- It then polls ``palm_changes`` for rows after its watermark, re-reading a window below it, a
  margin against positions committed out of order (every palm write holds the store's lock, so
  they no longer are). A palm id is never reused, so applying a change twice, or late, is
  harmless: an enrollment whose row is gone is not added.
- An enrollment or deletion made through this process applies to its index at once; other
  processes follow within the poll interval. Until they do, the gate path still cannot admit a
  deleted palm: the card of a matched palm is read from its enrollment row, and a palm without
  one is no match.
- A palm is enrolled once, platform-wide. The duplicate check cannot trust this index alone (it
  lags the other processes by a poll), so it runs inside the store's enrollment transaction,
  which holds a lock every enrollment and deletion takes: it searches this index, then compares
  exactly every template enrolled after the index's sync position, then inserts. Two kiosks
  enrolling one hand, at one process or two, get one 201 and one 409.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import structlog

from entrygate.domain.cards import CardCredential, instrument_id, new_id
from entrygate.domain.credentials import PalmRead
from entrygate.domain.keys import KeyKind
from entrygate.domain.palm import (MATCH_THRESHOLD, PalmMatch, PalmSignatureError, decode_signature,
                                   liveness_passed)
from entrygate.domain.reasons import ReasonCode
from entrygate.services.auth import Principal
from entrygate.services.gate.context import EntryContext
from entrygate.services.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unavailable
from entrygate.services.ports.storage import StorageError
from entrygate.services.ports.clock import Clock

log = structlog.get_logger("entrygate.palm")

SEARCH_K = 5
SYNC_WINDOW = 256  # change-log positions re-read below the watermark (late PostgreSQL commits)
SYNC_PAGE = 5_000
LOAD_PAGE = 5_000
READY_WAIT_S = 30.0  # how long an enrollment waits for the index of a process that is starting
_PALM_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")  # anything else was never handed out


# --- what the store keeps ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A palm linked to a card: the encrypted template, the instrument, who enrolled it."""

    palm_id: str
    instrument_id: str
    retailer_id: str
    template: bytes  # TemplateCipher blob, bound to palm_id
    dimension: int
    card: CardCredential  # token, PAR and displayable parts; never a PAN
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PalmLink:
    """What a gate needs once a palm matched: the card it opens on."""

    palm_id: str
    instrument_id: str
    card: CardCredential


@dataclass(frozen=True, slots=True)
class SealedTemplate:
    palm_id: str
    template: bytes
    dimension: int


@dataclass(frozen=True, slots=True)
class PalmChange:
    seq: int
    palm_id: str
    op: str  # "add" or "remove"


# --- ports ---------------------------------------------------------------------------------------


class EnrollmentSession(Protocol):
    """One enrollment's write transaction, holding the lock that serialises every palm change."""

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        """The card of each palm that is still enrolled, as this transaction sees it."""

    def enrolled_after(self, seq: int) -> list[SealedTemplate]:
        """The templates of the palms still enrolled whose ``add`` change has a position above ``seq``."""

    def add(self, enrollment: Enrollment) -> None:
        """Upsert the instrument, insert the enrollment and an ``add`` change; committed with the session."""


class PalmRepository(Protocol):
    """Palm enrollments and their change log. Each write is one transaction of its own.

    Every write takes one lock, database-wide, so enrollments and deletions happen one at a time
    across processes and their change-log positions become visible in order.
    """

    def enrolling(self) -> AbstractContextManager[EnrollmentSession]:
        """A write transaction holding the lock; it commits when the block ends without an error."""

    def add(self, enrollment: Enrollment) -> None:
        """Upsert the instrument, insert the enrollment and an ``add`` change, atomically, unchecked."""

    def owner(self, palm_id: str) -> str | None:
        """The enrolling retailer's id, or None for an unknown palm."""

    def delete(self, palm_id: str, *, at: datetime) -> bool:
        """Delete the row for good and log a ``remove`` change, atomically; False if it was gone."""

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        """The card of each palm that is still enrolled, in one indexed read."""

    def last_seq(self) -> int:
        """The change log's highest position (0 when empty)."""

    def templates(self, *, after: str | None, limit: int) -> list[SealedTemplate]:
        """One page of every enrolled template, in palm id order, after ``after``."""

    def templates_of(self, palm_ids: Sequence[str]) -> list[SealedTemplate]:
        """The templates of these palms that are still enrolled."""

    def changes_since(self, seq: int, *, limit: int) -> list[PalmChange]:
        """Changes with a position above ``seq``, in order."""


class PalmIndexPort(Protocol):
    """The 1:N index (``adapters.palm_index.PalmIndex``)."""

    kind: str

    def __len__(self) -> int: ...
    def __contains__(self, palm_id: object) -> bool: ...
    def search(self, probe: np.ndarray, *, k: int = 5) -> list[PalmMatch]: ...
    def add(self, palm_id: str, vec: np.ndarray, *, watermark: int | None = None) -> None: ...
    def remove(self, palm_id: str, *, watermark: int | None = None) -> bool: ...
    def build(self, items: Iterable[tuple[str, np.ndarray]], *, watermark: int | None = None) -> None: ...


class TemplateCipherPort(Protocol):
    """Templates at rest (``adapters.template_crypto.TemplateCipher``)."""

    def encrypt_vector(self, vec: np.ndarray, *, palm_id: str) -> bytes: ...
    def decrypt_vector(self, blob: bytes, *, palm_id: str) -> np.ndarray: ...


# --- the use cases -------------------------------------------------------------------------------


class PalmService:
    """Enrollment, deletion and identification, over one process's index kept in step with the store."""

    def __init__(self, *, store: PalmRepository, index: PalmIndexPort, cipher: Callable[[], TemplateCipherPort],
                 clock: Clock, secret: bytes, dimension: int, match_threshold: float | None = None,
                 liveness_threshold: float, sync_interval_s: float = 1.0, window: int = SYNC_WINDOW) -> None:
        self._store = store
        self._index = index
        self._cipher_factory = cipher  # built on first use: a CLI command with no secret never needs it
        self._cipher: TemplateCipherPort | None = None
        self._clock = clock
        self._secret = secret
        self.dimension = dimension
        self.match_threshold = MATCH_THRESHOLD if match_threshold is None else match_threshold
        self.liveness_threshold = liveness_threshold
        self._interval = max(sync_interval_s, 0.05)
        self._window = window
        self._watermark = 0  # the change-log position applied so far (the index's is informational)
        self._apply = threading.Lock()  # index writes vs. the sync's read-then-apply
        # The store's lock makes the check-then-insert one step platform-wide; this one queues this
        # process's enrollments before they take a pooled connection to wait on it, so a burst of
        # kiosks cannot take the connections the gates need.
        self._enroll = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sync: float | None = None
        self._unreadable = 0

    # -- enrollment --------------------------------------------------------------------------

    def enroll(self, principal: Principal, *, signature: object, card: CardCredential, consent: object) -> str:
        """Link a palm to a card; the new palm id. The palm is searchable here when this returns."""
        if principal.kind is not KeyKind.RETAILER or principal.retailer_id is None:
            raise Forbidden("palms are enrolled with a retailer's key")
        if consent is not True:
            raise InvalidRequest("consent: must be true; a palm is enrolled only with the shopper's consent",
                                 fields=["consent"])
        vec = self._decode(signature, field="signature")
        now = self._clock.now()
        if card.expired_on(now.date()):
            raise InvalidRequest(f"card: expired at the end of {card.exp_month:02d}/{card.exp_year}",
                                 fields=["card.expMonth", "card.expYear"])
        self._await_ready()
        palm_id = new_id("palm")
        enrollment = Enrollment(palm_id, instrument_id(card, secret=self._secret), principal.retailer_id,
                                self.cipher.encrypt_vector(vec, palm_id=palm_id), self.dimension, card, now)
        with self._enroll:
            try:
                with self._store.enrolling() as session:
                    if self._already_enrolled(vec, session):
                        raise Conflict("this palm is already enrolled", fields=["signature"])
                    session.add(enrollment)
            except StorageError as exc:
                raise Unavailable("the enrollment could not be stored") from exc
            with self._apply:
                self._index.add(palm_id, vec)
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
            if not principal.is_operator and principal.retailer_id != owner:
                raise Forbidden("only the retailer that enrolled this palm (or the operator) can delete it")
            deleted = self._store.delete(palm_id, at=self._clock.now())
        except StorageError as exc:
            raise Unavailable("the enrollment could not be deleted") from exc
        with self._apply:
            self._index.remove(palm_id)
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
        mark = self._watermark  # read before the search: the index may only run ahead of it
        above = self._candidates(vec)
        if above and session.links([m.palm_id for m in above]):
            return True
        for sealed in session.enrolled_after(mark):
            template = self._decrypt(sealed)
            if template is not None and float(template @ vec) >= self.match_threshold:
                return True
        return False

    # -- identification ----------------------------------------------------------------------

    def decode_probe(self, signature: object, *, field: str) -> np.ndarray:
        return self._decode(signature, field=field)

    def identify(self, probe: np.ndarray) -> PalmLink | None:
        """The enrolled palm this read belongs to, with its card; None when nobody matches."""
        if not self._ready.is_set():
            raise Unavailable("palm identification is starting; no decision was made, try again shortly")
        return self._enrolled_match(probe)

    def _enrolled_match(self, probe: np.ndarray) -> PalmLink | None:
        """The best candidate at or above the threshold whose enrollment row still exists.

        The threshold is applied to the exact score (VECTORS.md). The rows are read in the same
        query that fetches the card, so a palm deleted in another process, still in this index
        until the next poll, is never taken for a match.
        """
        above = self._candidates(probe)
        if not above:
            return None
        try:
            links = self._store.links([m.palm_id for m in above])
        except StorageError as exc:
            raise Unavailable("palm enrollments could not be read; no decision was made") from exc
        return next((links[m.palm_id] for m in above if m.palm_id in links), None)

    def _candidates(self, probe: np.ndarray) -> list[PalmMatch]:
        return [m for m in self._index.search(probe, k=SEARCH_K) if m.score >= self.match_threshold]

    def _decode(self, signature: object, *, field: str) -> np.ndarray:
        try:
            return decode_signature(signature, dimension=self.dimension, field=field)  # type: ignore[arg-type]
        except PalmSignatureError as exc:
            raise InvalidRequest(f"{exc.field}: {exc.message}", fields=[exc.field]) from None

    # -- the index: load, follow the change log, rebuild -------------------------------------

    @property
    def cipher(self) -> TemplateCipherPort:
        if self._cipher is None:
            self._cipher = self._cipher_factory()
        return self._cipher

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def status(self) -> dict[str, object]:
        """For ``/readyz`` and logs: whether palms can be identified here, and how current the index is."""
        age = None if self._last_sync is None else round(time.monotonic() - self._last_sync, 3)
        return {"state": "ready" if self.ready else "loading", "palms": len(self._index),
                "layout": self._index.kind, "syncedSeq": self._watermark, "lastSyncAgeS": age,
                "unreadableTemplates": self._unreadable}

    def start(self) -> None:
        """Load the index in the background, then poll the change log until ``stop``."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="palm-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def load(self) -> int:
        """(Re)build the index from every enrolled template; gates are answered meanwhile.

        Reads the change log's position first, so a change committed during the load is applied
        by the next poll (twice at worst, which is harmless).
        """
        started = time.monotonic()
        self._unreadable = 0
        mark = self._store.last_seq()
        self._index.build(self._all_templates(), watermark=mark)
        with self._apply:
            self._watermark = max(self._watermark, mark)
        first = not self._ready.is_set()
        self._ready.set()
        self._last_sync = time.monotonic()
        details: dict[str, object] = {"palms": len(self._index), "layout": self._index.kind,
                                      "seconds": round(time.monotonic() - started, 3), "synced_seq": mark}
        if self._unreadable:
            details["unreadable_templates"] = self._unreadable
        _quietly(log.info, "palm_index_loaded" if first else "palm_index_rebuilt", **details)
        return len(self._index)

    def sync(self) -> int:
        """Apply the changes after the watermark (and a window below it); how many palms changed here."""
        applied = 0
        while True:
            low = max(0, self._watermark - self._window)
            changes = self._store.changes_since(low, limit=SYNC_PAGE)
            if changes:
                applied += self._apply_changes(changes)
            self._last_sync = time.monotonic()
            if len(changes) < SYNC_PAGE:  # a full page: a backlog, read on from the new watermark
                return applied

    def _apply_changes(self, changes: list[PalmChange]) -> int:
        removed = {c.palm_id for c in changes if c.op == "remove"}
        added = {c.palm_id for c in changes if c.op == "add"} - removed
        top = changes[-1].seq
        with self._apply:  # a local deletion cannot slip between reading a row and adding it
            fresh = sorted(p for p in added if p not in self._index)
            count = 0
            for sealed in self._store.templates_of(fresh) if fresh else []:
                vec = self._open(sealed)
                if vec is not None:
                    self._index.add(sealed.palm_id, vec, watermark=top)
                    count += 1
            for palm_id in removed:
                if palm_id in self._index:
                    self._index.remove(palm_id, watermark=top)
                    count += 1
            self._watermark = max(self._watermark, top)
        return count

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self.load()
                break
            except Exception as exc:  # noqa: BLE001 - keep trying: the database may still be starting
                _quietly(log.error, "palm_index_load_failed", error=f"{type(exc).__name__}: {exc}"[:300])
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        while not self._stop.wait(self._interval):
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried at the next one
                _quietly(log.warning, "palm_sync_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def _all_templates(self) -> Iterator[tuple[str, np.ndarray]]:
        after: str | None = None
        while True:
            page = self._store.templates(after=after, limit=LOAD_PAGE)
            for sealed in page:
                vec = self._open(sealed)
                if vec is not None:
                    yield sealed.palm_id, vec
            if len(page) < LOAD_PAGE:
                return
            after = page[-1].palm_id

    def _open(self, sealed: SealedTemplate) -> np.ndarray | None:
        """The decrypted template for the index, or None (counted) when it cannot be used: one bad
        row must not keep every other palm out of the index."""
        vec = self._decrypt(sealed)
        if vec is None:
            self._unreadable += 1
        return vec

    def _decrypt(self, sealed: SealedTemplate) -> np.ndarray | None:
        """The decrypted template, or None (logged) when it has another dimension or does not decrypt.

        Such a template is in no index, so it opens no gate; the duplicate check skips it too.
        """
        if sealed.dimension != self.dimension:
            _quietly(log.error, "palm_template_unreadable", palm_id=sealed.palm_id,
                     error=f"dimension {sealed.dimension}, expected {self.dimension}")
            return None
        try:
            return self.cipher.decrypt_vector(sealed.template, palm_id=sealed.palm_id)
        except Exception as exc:  # noqa: BLE001 - TemplateDecryptionError, whatever the adapter raises
            _quietly(log.error, "palm_template_unreadable", palm_id=sealed.palm_id, error=type(exc).__name__)
            return None

    def _await_ready(self) -> None:
        if not self._ready.wait(READY_WAIT_S):
            raise Unavailable("the palm index is still loading; try again shortly")


def _quietly(emit: Callable[..., object], event: str, **fields: object) -> None:
    """Log from the index's thread; a broken log sink (a closed pipe) must not stop the sync."""
    try:
        emit(event, **fields)
    except Exception:  # noqa: BLE001
        pass


class PalmHandler:
    """``PALM`` entry (and exit): a live palm that matches an enrollment enters on its linked card."""

    def __init__(self, palm: PalmService) -> None:
        self._palm = palm

    def identify(self, ctx: EntryContext) -> None:
        read = ctx.event.credential
        if not isinstance(read, PalmRead):
            ctx.decision.deny(ReasonCode.INVALID_CREDENTIAL)
            return
        # A malformed signature is a bad request (400), whatever the liveness says.
        probe = self._palm.decode_probe(read.signature, field="credential.signature")
        # Fail closed before any matching, so a presentation attack learns nothing about who is enrolled.
        if not liveness_passed(read.liveness, threshold=self._palm.liveness_threshold):
            ctx.decision.deny(ReasonCode.PALM_LIVENESS_FAILED)
            return
        link = self._palm.identify(probe)
        if link is None:
            ctx.decision.deny(ReasonCode.PALM_NO_MATCH)
            return
        ctx.card = link.card
        ctx.instrument_id = link.instrument_id
