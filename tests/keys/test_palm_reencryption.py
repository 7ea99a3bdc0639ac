"""A palm key rotation re-encrypts every template, and an interrupted one is finished by the next run
(DESIGN 15). Real palm store and key ring on SQLite and PostgreSQL."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import update

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.secret_keys import SqlSecretKeys, SqlTemplateKeys
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.keyring import KeyRing
from entrygate.adapters.palm_keys import KeyedTemplateCipher
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.cards import instrument_id
from entrygate.services.admin.secrets import SecretsService, UnknownPurpose
from entrygate.services.ports.palm import Enrollment
from support.contracts import retailer
from support.factories import NOW, card

ROOT = b"reencryption-test-secret-" + b"r" * 24
COUNT, PAGE = 23, 5


class Interrupted(Exception):
    """Stands for the operator's Ctrl-C, or a crash, in the middle of the re-encryption."""


@pytest.fixture
def world(backend, db_url):
    engine = make_engine(db_url, pool_size=4)
    uow = SqlUnitOfWorkFactory(engine)
    ring = KeyRing(SqlSecretKeys(uow), ROOT, clock=FixedClock(NOW), refresh_s=0.1)
    cipher = KeyedTemplateCipher(ring)
    palms, store, owner = {}, SqlPalmStore(uow), retailer(uow)
    legacy = TemplateCipher(ROOT)
    for i in range(COUNT):
        palm_id = f"palm_{i:03d}"
        vec = np.random.default_rng(i).standard_normal(32).astype(np.float32)
        # Some enrolled before keys rotated (version 1 blobs), the rest under palm-0 as keyed blobs.
        blob = legacy.encrypt_vector(vec, palm_id=palm_id) if i % 3 == 0 else cipher.encrypt_vector(vec, palm_id=palm_id)
        c = card(par=f"VTST{i:025d}")
        store.add(Enrollment(palm_id, instrument_id(c, secret=ROOT), owner, blob, 32, c, NOW))
        palms[palm_id] = vec
    service = SecretsService(ring=ring, templates=SqlTemplateKeys(uow), recipher=cipher, settle_s=0.0,
                             sleep=lambda s: None)
    yield service, store, cipher, palms, ring
    engine.dispose()


def _all_open(store: SqlPalmStore, cipher: KeyedTemplateCipher, palms: dict[str, np.ndarray]) -> None:
    stored = store.templates(after=None, limit=1000)
    assert len(stored) == len(palms)
    for sealed in stored:
        assert np.array_equal(cipher.decrypt_vector(sealed.template, palm_id=sealed.palm_id), palms[sealed.palm_id])


def test_an_interrupted_palm_rotation_is_finished_by_the_next_run(world):
    service, store, cipher, palms, _ = world
    seen: list[tuple[int, int]] = []

    def interrupt_after_two_pages(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 2 * PAGE:
            raise Interrupted()

    with pytest.raises(Interrupted):
        service.rotate("palm", progress=interrupt_after_two_pages, page=PAGE)
    assert seen == [(0, COUNT), (PAGE, COUNT), (2 * PAGE, COUNT)]
    status = {s.purpose: s for s in service.status()}
    new_key = status["palm"].active_key_id
    assert new_key != "palm-0"
    assert status["palm"].under_older_keys == COUNT - 2 * PAGE  # two committed pages, nothing lost
    _all_open(store, cipher, palms)  # mid-way, every palm still opens (old key or new)

    resumed = service.rotate("palm", page=PAGE)
    assert resumed.resumed and resumed.key_id == new_key  # the same key, not another rotation
    assert (resumed.reencrypted, resumed.templates, resumed.unreadable) == (COUNT, COUNT, 0)
    assert {s.purpose: s.under_older_keys for s in service.status()}["palm"] == 0
    _all_open(store, cipher, palms)

    again = service.rotate("palm", page=PAGE)  # nothing left to finish: a new rotation
    assert not again.resumed and again.key_id not in (new_key, "palm-0")
    assert again.reencrypted == COUNT
    _all_open(store, cipher, palms)


def test_only_the_rotatable_purposes_rotate(world):
    service, *_ = world
    for purpose in ("instrument", "keys", ""):
        with pytest.raises(UnknownPurpose):
            service.rotate(purpose)
    before = {s.purpose: s.active_key_id for s in service.status()}
    rotated = service.rotate("sessions")
    after = {s.purpose: s.active_key_id for s in service.status()}
    assert after == {**before, "sessions": rotated.key_id} and rotated.key_id != before["sessions"]


class DiesMidPage(SqlTemplateKeys):
    """A template store whose connection dies halfway through writing its second page."""

    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        super().__init__(uow)
        self.pages = 0

    def replace(self, rewrites):  # noqa: ANN001, ANN201
        self.pages += 1
        if self.pages == 2:
            with self._uow(write=True) as u:  # half the page written, then the process is gone: no commit
                for r in rewrites[: len(rewrites) // 2]:
                    u.conn.execute(update(t.palm_enrollments).where(t.palm_enrollments.c.palm_id == r.palm_id)
                                   .values(template=r.template, template_key_id=r.key_id))
                raise Interrupted()
        return super().replace(rewrites)


def test_a_rotation_that_dies_in_the_middle_of_a_page_loses_nothing_and_resumes(world, db_url):
    service, store, cipher, palms, ring = world
    engine = make_engine(db_url, pool_size=2)
    try:
        dying = SecretsService(ring=ring, templates=DiesMidPage(SqlUnitOfWorkFactory(engine)),
                               recipher=cipher, settle_s=0.0, sleep=lambda s: None)
        with pytest.raises(Interrupted):
            dying.rotate("palm", page=PAGE)
    finally:
        engine.dispose()
    assert {s.purpose: s.under_older_keys for s in service.status()}["palm"] == COUNT - PAGE  # one whole page
    _all_open(store, cipher, palms)
    finished = service.rotate("palm", page=PAGE)
    assert finished.resumed and (finished.reencrypted, finished.templates) == (COUNT, COUNT)
    _all_open(store, cipher, palms)
