"""Rotating the secrets per purpose (DESIGN 15) and reporting which keys are in use.

A rotation gives the purpose a new key that every process takes up within 10 s (the key ring reads
the stored keys every few seconds). What was made under the old key stays valid:

- palm: every template is re-encrypted under the new key, a page at a time, each page committed
  on its own with a conditional write, so an interrupted run loses nothing and the next run
  finishes it: a palm rotation that finds templates still under an older key resumes that
  re-encryption instead of making another key. Once the processes have all taken up the new key,
  one more pass picks up templates enrolled meanwhile by a process that still had the old one.
- sessions: cookies and CSRF tokens name their key, which verifies them until they expire.
- offline: bundles name their key, whose public half stays published until they expire.

The instrument-id key never rotates: instrument ids are the identity of balances, blocks and
palms, and must never change.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from entrygate.domain.secrets import Purpose, rotatable
from entrygate.services.ports.secrets import KeyRingPort, TemplateKeyStore, TemplateRecipher, TemplateRewrite

log = structlog.get_logger("entrygate.keys")

PAGE = 500
Progress = Callable[[int, int], None]  # (templates re-encrypted so far, templates to re-encrypt)


class UnknownPurpose(ValueError):
    """Not a purpose whose key rotates."""


@dataclass(frozen=True, slots=True)
class Rotation:
    purpose: str
    key_id: str
    resumed: bool = False  # a palm rotation that finished an earlier, interrupted re-encryption
    reencrypted: int = 0  # palm: templates under the new key at the end
    templates: int = 0  # palm: every enrolled template
    unreadable: int = 0  # palm: templates that opened under no key (left as they are)


@dataclass(frozen=True, slots=True)
class PurposeStatus:
    purpose: str
    active_key_id: str | None  # None for the instrument-id key, which is ENTRYGATE_SECRET_KEY itself
    under_older_keys: int | None = None  # palm: templates not yet under the active key


class SecretsService:
    def __init__(self, *, ring: KeyRingPort, templates: TemplateKeyStore, recipher: TemplateRecipher,
                 settle_s: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self._ring = ring
        self._templates = templates
        self._recipher = recipher
        self._settle_s = settle_s  # how long until every process has read a new key
        self._sleep = sleep

    def status(self) -> list[PurposeStatus]:
        self._ring.refresh()
        palm = self._ring.active_key_id(Purpose.PALM.value)
        counts = self._templates.counts_by_key()
        return [PurposeStatus(Purpose.INSTRUMENT.value, None),
                PurposeStatus(Purpose.PALM.value, palm, sum(n for k, n in counts.items() if k != palm)),
                PurposeStatus(Purpose.SESSIONS.value, self._ring.active_key_id(Purpose.SESSIONS.value)),
                PurposeStatus(Purpose.OFFLINE.value, self._ring.active_key_id(Purpose.OFFLINE.value))]

    def rotate(self, purpose: str, *, progress: Progress | None = None, page: int = PAGE) -> Rotation:
        """Replace the purpose's key; for palm, re-encrypt every template (resuming an unfinished run)."""
        p = rotatable(purpose)
        if p is None:
            raise UnknownPurpose(purpose)
        if p is not Purpose.PALM:
            return Rotation(p.value, self._ring.rotate(p.value))
        self._ring.refresh()
        active = self._ring.active_key_id(p.value)
        counts = self._templates.counts_by_key()
        resumed = any(n for k, n in counts.items() if k != active)
        rotated_at = None
        if not resumed:
            active = self._ring.rotate(p.value)
            rotated_at = time.monotonic()
        log.info("palm_reencryption_started", key_id=active, resumed=resumed)
        unreadable = self._reencrypt(active, progress=progress, page=page)
        if rotated_at is not None:
            # Processes that had not read the new key yet may have enrolled under the old one meanwhile.
            self._sleep(max(0.0, rotated_at + self._settle_s - time.monotonic()))
            unreadable = self._reencrypt(active, progress=None, page=page)
        counts = self._templates.counts_by_key()
        result = Rotation(p.value, active, resumed=resumed, reencrypted=counts.get(active, 0),
                          templates=sum(counts.values()), unreadable=unreadable)
        log.info("palm_reencryption_finished", key_id=active, reencrypted=result.reencrypted,
                 templates=result.templates, unreadable=unreadable)
        return result

    def _reencrypt(self, key_id: str, *, progress: Progress | None, page: int) -> int:
        """Re-encrypt every template not under ``key_id``, a committed page at a time; how many did not open."""
        total = sum(n for k, n in self._templates.counts_by_key().items() if k != key_id)
        done = unreadable = 0
        after: str | None = None
        if progress is not None:
            progress(done, total)
        while True:
            batch = self._templates.not_under(key_id, after=after, limit=page)
            if not batch:
                return unreadable
            rewrites = []
            for sealed in batch:
                try:
                    blob, new_key = self._recipher.reencrypt(sealed.template, palm_id=sealed.palm_id)
                except Exception as exc:  # noqa: BLE001 - one unreadable template must not stop the others
                    unreadable += 1
                    log.error("palm_template_unreadable", palm_id=sealed.palm_id, error=type(exc).__name__)
                    continue
                if new_key != key_id:
                    raise RuntimeError(f"the active palm key changed to {new_key} during the re-encryption")
                rewrites.append(TemplateRewrite(sealed.palm_id, sealed.key_id, blob, new_key))
            self._templates.replace(rewrites)
            done += len(batch)
            after = batch[-1].palm_id
            if progress is not None:
                progress(min(done, max(total, done)), max(total, done))
