"""The key ring and its stored keys: first keys derived as before, rotations every process sees,
wrapped material, offline signing keys with their ids. Stored keys on the fake, SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, update

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.secret_keys import SqlSecretKeys
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.keyring import KeyRing, KeyUnwrapError
from entrygate.adapters.memory.secrets import MemorySecretKeys
from entrygate.adapters.palm_keys import KeyedTemplateCipher
from entrygate.adapters.template_crypto import TemplateCipher, TemplateDecryptionError, blob_key_id
from entrygate.domain.secrets import OFFLINE_BUNDLE_MAX_LIFETIME, SESSIONS_KEY_GRACE, Purpose
from entrygate.services.console.auth import SESSION_LIFETIME
from entrygate.services.ports.secrets import ConcurrentRotation
from support.factories import NOW

ROOT = b"keyring-test-secret-" + b"y" * 32


@pytest.fixture(scope="module", params=["memory", "sqlite", "postgres"])
def database(request, tmp_path_factory):
    """One migrated database per SQL backend for this module (None in memory)."""
    if request.param == "memory":
        yield None
        return
    from support.databases import drop_database, fresh_database

    url = fresh_database(request.param, tmp_path_factory.mktemp(f"ring-{request.param}"), name="ring")
    yield url
    drop_database(url)


@pytest.fixture
def stores(database):
    """Two stores over one database (two processes' views of it), and the engine (None in memory);
    the keys as migration 0007 leaves them."""
    if database is None:
        store = MemorySecretKeys()
        yield store, store, None
        return
    engines = [make_engine(database, pool_size=4), make_engine(database, pool_size=4)]
    with engines[0].begin() as conn:
        conn.execute(delete(t.secret_keys).where(t.secret_keys.c.material.is_not(None)))
        conn.execute(update(t.secret_keys).values(retired_at=None))
    yield SqlSecretKeys(SqlUnitOfWorkFactory(engines[0])), SqlSecretKeys(SqlUnitOfWorkFactory(engines[1])), engines[0]
    for engine in engines:
        engine.dispose()


def test_the_first_keys_are_the_ones_derived_before_keys_rotated(stores):
    store, _, _ = stores
    ring = KeyRing(store, ROOT, clock=FixedClock(NOW))
    assert {p: ring.active_key_id(p.value) for p in (Purpose.PALM, Purpose.SESSIONS, Purpose.OFFLINE)} == {
        Purpose.PALM: "palm-0", Purpose.SESSIONS: "sessions-0", Purpose.OFFLINE: "offline-0"}
    assert ring.session_key() == ("sessions-0", ROOT)  # what signed cookies and CSRF tokens before
    vec = np.arange(16, dtype=np.float32)
    old_blob = TemplateCipher(ROOT).encrypt_vector(vec, palm_id="palm_x")  # a template enrolled before
    assert blob_key_id(old_blob) == "palm-0"
    assert np.array_equal(KeyedTemplateCipher(ring).decrypt_vector(old_blob, palm_id="palm_x"), vec)


def test_a_rotation_is_seen_by_another_process_within_its_refresh_and_old_data_still_opens(stores):
    store, other_store, engine = stores
    clock = FixedClock(NOW)
    here = KeyRing(store, ROOT, clock=clock, refresh_s=0.2)
    there = KeyRing(other_store, ROOT, clock=clock, refresh_s=0.2)
    cipher_here, cipher_there = KeyedTemplateCipher(here), KeyedTemplateCipher(there)
    vec = np.linspace(-1, 1, 32).astype(np.float32)
    before = cipher_there.encrypt_vector(vec, palm_id="palm_a")
    key_id = here.rotate("palm")
    assert key_id.startswith("palm-") and key_id != "palm-0"
    after = cipher_here.encrypt_vector(vec, palm_id="palm_b")
    assert blob_key_id(after) == key_id
    # ``there`` has not read the new key yet, but a template naming it makes it read at once.
    assert np.array_equal(cipher_there.decrypt_vector(after, palm_id="palm_b"), vec)
    assert np.array_equal(cipher_here.decrypt_vector(before, palm_id="palm_a"), vec)
    time.sleep(0.25)
    assert there.active_key_id("palm") == key_id
    with pytest.raises(TemplateDecryptionError):
        cipher_here.decrypt_vector(after, palm_id="palm_other")  # bound to its palm id
    if engine is not None:  # the key is stored wrapped, never as it is
        with engine.connect() as conn:
            material = conn.execute(select(t.secret_keys.c.material).where(t.secret_keys.c.key_id == key_id)).scalar()
        assert material is not None and len(material) == 12 + 32 + 16
        with pytest.raises(KeyUnwrapError):  # another ENTRYGATE_SECRET_KEY fails loudly, it never guesses
            KeyRing(store, b"another-root-secret-" + b"z" * 32, clock=clock).active(Purpose.SESSIONS)


def test_an_old_sessions_key_verifies_for_a_session_lifetime_after_it_is_replaced(stores):
    assert SESSIONS_KEY_GRACE == SESSION_LIFETIME  # the domain's grace is the console's session lifetime
    store, _, _ = stores
    clock = FixedClock(NOW)
    ring = KeyRing(store, ROOT, clock=clock)
    ring.rotate("sessions")
    new_id, new_key = ring.session_key()
    assert new_id != "sessions-0" and new_key != ROOT
    assert ring.session_key_for("sessions-0") == ROOT
    clock.advance(seconds=SESSIONS_KEY_GRACE.total_seconds() - 1)
    assert ring.session_key_for("sessions-0") == ROOT
    clock.advance(seconds=2)
    assert ring.session_key_for("sessions-0") is None
    assert ring.session_key_for(new_id) == new_key
    assert ring.session_key_for("sessions-ffffffff") is None


def test_offline_keys_sign_with_the_active_key_and_publish_every_still_valid_public_key(stores):
    store, _, _ = stores
    clock = FixedClock(NOW)
    ring = KeyRing(store, ROOT, clock=clock)
    first = ring.offline_keys()
    assert first.active.key_id == "offline-0" and [k.key_id for k in first.public_keys] == ["offline-0"]
    payload = b'{"gateId":"lane-1"}'
    old_signature = first.active.sign(payload)
    assert len(old_signature) == 64 and len(first.public_keys[0].public_key) == 32
    new_id = ring.rotate("offline")
    rotated = ring.offline_keys()
    assert rotated.active.key_id == new_id
    assert [k.key_id for k in rotated.public_keys] == [new_id, "offline-0"]
    public = {k.key_id: Ed25519PublicKey.from_public_bytes(k.public_key) for k in rotated.public_keys}
    public["offline-0"].verify(old_signature, payload)  # a bundle signed before still verifies
    public[new_id].verify(rotated.active.sign(payload), payload)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidSignature
        public[new_id].verify(old_signature, payload)
    clock.advance(seconds=OFFLINE_BUNDLE_MAX_LIFETIME.total_seconds() + 1)
    assert [k.key_id for k in ring.offline_keys().public_keys] == [new_id]


def _rotate_at_once(rings: list[KeyRing]) -> list[str]:
    start = threading.Barrier(len(rings))
    outcomes: list[str] = []

    def rotate(ring: KeyRing) -> None:
        start.wait()
        try:
            outcomes.append(ring.rotate("sessions"))
        except ConcurrentRotation:
            outcomes.append("lost")

    threads = [threading.Thread(target=rotate, args=(r,)) for r in rings]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return outcomes


def test_two_rotations_at_once_leave_one_active_key(stores):
    store, other_store, engine = stores
    if engine is None:
        pytest.skip("the fake rotates one at a time")
    clock = FixedClock(NOW)
    rings = [KeyRing(store, ROOT, clock=clock), KeyRing(other_store, ROOT, clock=clock)]
    outcomes: list[str] = []
    for _ in range(4):
        outcomes += _rotate_at_once(rings)
    with engine.connect() as conn:
        active = conn.execute(select(t.secret_keys.c.key_id).where(t.secret_keys.c.purpose == "sessions",
                                                                   t.secret_keys.c.retired_at.is_(None))).all()
    assert len(active) == 1 and active[0].key_id in outcomes
    assert clock.now() - NOW == timedelta(0)
