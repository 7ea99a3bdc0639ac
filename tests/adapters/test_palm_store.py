"""What only the SQL palm store can show: templates encrypted at rest, foreign keys. The port's rules,
on the in-memory store too, are in ``tests/contracts/test_palm_repository.py``."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.cards import instrument_id
from entrygate.services.admin.service import AdminService
from entrygate.services.catalog import Catalog
from entrygate.services.ports.palm import Enrollment
from entrygate.services.ports.storage import StorageError
from support.factories import NOW, OPERATOR, SECRET, PlainPasswords, card

CIPHER = TemplateCipher("palm-store-test-secret-" + "x" * 16)


@pytest.fixture
def world(db_url):  # noqa: ANN001
    """(palm store, unit-of-work factory, retailer id, engine) over a fresh database."""
    engine = make_engine(db_url, pool_size=2)
    uow = SqlUnitOfWorkFactory(engine)
    store = SqlPalmStore(uow)
    retailer = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords()).create_retailer(
        OPERATOR, name="R")
    yield store, uow, retailer.id, engine
    engine.dispose()


def enrollment(retailer_id: str, palm_id: str, *, seed: int = 0, **card_over) -> Enrollment:  # noqa: ANN003
    vec = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    c = card(**card_over)
    return Enrollment(palm_id, instrument_id(c, secret=SECRET), retailer_id,
                      CIPHER.encrypt_vector(vec / np.linalg.norm(vec), palm_id=palm_id), 128, c, NOW)


def test_the_template_is_encrypted_at_rest(world):
    store, _, retailer_id, engine = world
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
    store, _, _, engine = world
    e = enrollment("ret_unknown", "palm_a")
    with pytest.raises(StorageError):
        store.add(e)
    with engine.connect() as conn:
        for table in (t.palm_enrollments, t.palm_changes, t.payment_instruments):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
