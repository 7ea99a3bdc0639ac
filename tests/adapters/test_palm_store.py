"""The SQL palm store on SQLite and PostgreSQL, against the in-memory one."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.adapters.memory.palm import MemoryPalmStore
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.cards import instrument_id
from entrygate.services.admin.service import AdminService
from entrygate.services.catalog import Catalog
from entrygate.adapters.clock import FixedClock
from entrygate.services.palm.service import Enrollment, PalmChange
from entrygate.services.ports.storage import StorageError
from support.databases import drop_database, fresh_database
from support.factories import NOW, OPERATOR, SECRET, PlainPasswords, card

CIPHER = TemplateCipher("palm-store-test-secret-" + "x" * 16)


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def world(request, tmp_path):  # noqa: ANN001
    """(palm store, unit-of-work factory, retailer id, engine or None) over a fresh database."""
    if request.param == "memory":
        uow, engine = MemoryStore(), None
        store = MemoryPalmStore(uow)
    else:
        url = fresh_database(request.param, tmp_path, name="palm")
        request.addfinalizer(lambda: drop_database(url))
        engine = make_engine(url, pool_size=2)
        request.addfinalizer(engine.dispose)
        uow = SqlUnitOfWorkFactory(engine)
        store = SqlPalmStore(uow)
    retailer = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords()).create_retailer(
        OPERATOR, name="R")
    return store, uow, retailer.id, engine


def enrollment(retailer_id: str, palm_id: str, *, seed: int = 0, **card_over) -> Enrollment:  # noqa: ANN003
    vec = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    c = card(**card_over)
    return Enrollment(palm_id, instrument_id(c, secret=SECRET), retailer_id,
                      CIPHER.encrypt_vector(vec / np.linalg.norm(vec), palm_id=palm_id), 128, c, NOW)


def test_an_enrollment_lands_with_its_instrument_and_its_change(world):
    store, uow, retailer_id, _ = world
    e = enrollment(retailer_id, "palm_a")
    store.add(e)
    assert store.owner("palm_a") == retailer_id and store.owner("palm_b") is None
    link = store.links(["palm_a", "palm_b"])
    assert list(link) == ["palm_a"]
    assert link["palm_a"].instrument_id == e.instrument_id and link["palm_a"].card == e.card
    assert store.changes_since(0, limit=10) == [PalmChange(1, "palm_a", "add")]
    assert store.last_seq() == 1
    with uow() as u:
        seen = u.instruments.get(e.instrument_id)
    assert (seen.brand, seen.last4, seen.exp_year, seen.blocked) == ("VISA", "4242", 2030, False)


def test_an_instrument_seen_before_is_kept_and_updated(world):
    store, uow, retailer_id, _ = world
    e = enrollment(retailer_id, "palm_a")
    with uow(write=True) as u:
        u.instruments.record_seen(e.instrument_id, e.card, at=NOW - timedelta(days=30))
        u.instruments.block(e.instrument_id, reason="lost_stolen")
        u.commit()
    store.add(e)
    with uow() as u:
        seen = u.instruments.get(e.instrument_id)
    assert seen.blocked and seen.first_seen_at == NOW - timedelta(days=30)


def test_deletion_removes_the_row_for_good_and_logs_it(world):
    store, _, retailer_id, _ = world
    store.add(enrollment(retailer_id, "palm_a"))
    store.add(enrollment(retailer_id, "palm_b", seed=1))
    assert store.delete("palm_a", at=NOW) is True
    assert store.delete("palm_a", at=NOW) is False
    assert store.owner("palm_a") is None and store.links(["palm_a"]) == {}
    assert [(c.seq, c.palm_id, c.op) for c in store.changes_since(1, limit=10)] == [
        (2, "palm_b", "add"), (3, "palm_a", "remove")]
    assert [s.palm_id for s in store.templates(after=None, limit=10)] == ["palm_b"]


def test_templates_come_in_pages_and_decrypt_only_for_their_palm(world):
    store, _, retailer_id, _ = world
    for i in range(7):
        store.add(enrollment(retailer_id, f"palm_{i}", seed=i))
    pages, after = [], None
    while True:
        page = store.templates(after=after, limit=3)
        pages.append([s.palm_id for s in page])
        if len(page) < 3:
            break
        after = page[-1].palm_id
    assert pages == [["palm_0", "palm_1", "palm_2"], ["palm_3", "palm_4", "palm_5"], ["palm_6"]]
    sealed = {s.palm_id: s for s in store.templates_of(["palm_4", "palm_6", "palm_gone"])}
    assert set(sealed) == {"palm_4", "palm_6"} and sealed["palm_4"].dimension == 128
    assert CIPHER.decrypt_vector(sealed["palm_4"].template, palm_id="palm_4").shape == (128,)
    with pytest.raises(Exception):
        CIPHER.decrypt_vector(sealed["palm_4"].template, palm_id="palm_6")
    assert [c.seq for c in store.changes_since(2, limit=3)] == [3, 4, 5]


def test_the_template_is_encrypted_at_rest(world):
    store, _, retailer_id, engine = world
    if engine is None:
        pytest.skip("at rest means in the database")
    e = enrollment(retailer_id, "palm_a")
    store.add(e)
    plain = CIPHER.decrypt(e.template, palm_id="palm_a")
    with engine.connect() as conn:
        raw, card_json = conn.execute(select(t.palm_enrollments.c.template, t.palm_enrollments.c.card)).one()
    raw = bytes(raw)
    assert raw == e.template and plain not in raw and plain[:16] not in raw
    assert set(card_json) == {"paymentToken", "par", "brand", "last4", "expMonth", "expYear", "funding",
                              "issuerCountry"}


def test_an_enrollment_that_cannot_be_stored_leaves_nothing_behind(world):
    store, uow, _, engine = world
    if engine is None:
        pytest.skip("foreign keys are the database's")
    e = enrollment("ret_unknown", "palm_a")
    with pytest.raises(StorageError):
        store.add(e)
    with engine.connect() as conn:
        for table in (t.palm_enrollments, t.palm_changes, t.payment_instruments):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
