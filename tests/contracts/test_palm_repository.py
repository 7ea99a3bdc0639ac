"""``PalmRepository``: enrollments with their instrument and change log, and the enrolling() session."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.palm import MemoryPalmStore
from entrygate.adapters.template_crypto import TemplateCipher, TemplateDecryptionError
from entrygate.domain.cards import instrument_id
from entrygate.services.ports.palm import Enrollment, PalmChange
from entrygate.services.ports.storage import StorageError
from support.contracts import T0, retailer
from support.factories import SECRET, card

CIPHER = TemplateCipher("palm-contract-test-secret-" + "x" * 16)


@pytest.fixture
def port(storage):
    """(the palm store, the storage it records instruments in, a retailer id)."""
    store = MemoryPalmStore(storage) if not isinstance(storage, SqlUnitOfWorkFactory) else SqlPalmStore(storage)
    return store, storage, retailer(storage)


def is_increasing(seqs: list[int]) -> bool:
    """Change-log positions only grow; they may skip (a PostgreSQL sequence does), never repeat."""
    return all(a < b for a, b in zip(seqs, seqs[1:]))


def enrollment(retailer_id: str, palm_id: str, *, seed: int = 0, **card_over) -> Enrollment:  # noqa: ANN003
    vec = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    c = card(**card_over)
    return Enrollment(palm_id, instrument_id(c, secret=SECRET), retailer_id,
                      CIPHER.encrypt_vector(vec / np.linalg.norm(vec), palm_id=palm_id), 128, c, T0)


def test_an_enrollment_lands_with_its_instrument_and_its_change(port):
    store, uow, retailer_id = port
    start = store.last_seq()
    e = enrollment(retailer_id, "palm_a")
    store.add(e)
    assert store.owner("palm_a") == retailer_id and store.owner("palm_b") is None
    links = store.links(["palm_a", "palm_b"])
    assert list(links) == ["palm_a"]
    assert links["palm_a"].instrument_id == e.instrument_id and links["palm_a"].card == e.card
    assert store.links([]) == {}
    [change] = store.changes_since(start, limit=10)
    assert change == PalmChange(change.seq, "palm_a", "add") and change.seq > start
    assert store.last_seq() == change.seq
    with uow() as u:
        seen = u.instruments.get(e.instrument_id)
    assert (seen.brand, seen.last4, seen.exp_year, seen.blocked) == ("VISA", "4242", 2030, False)


def test_an_instrument_seen_before_is_kept_and_updated(port):
    store, uow, retailer_id = port
    e = enrollment(retailer_id, "palm_a")
    with uow(write=True) as u:
        u.instruments.record_seen(e.instrument_id, e.card, at=T0 - timedelta(days=30))
        u.instruments.block(e.instrument_id, reason="lost_stolen")
        u.commit()
    store.add(e)
    with uow() as u:
        seen = u.instruments.get(e.instrument_id)
    assert seen.blocked and seen.first_seen_at == T0 - timedelta(days=30) and seen.last_seen_at == T0


def test_a_palm_id_is_enrolled_once(port):
    store, _, retailer_id = port
    store.add(enrollment(retailer_id, "palm_a"))
    start = store.last_seq()
    with pytest.raises(StorageError):
        store.add(enrollment(retailer_id, "palm_a", seed=1))
    with pytest.raises(StorageError), store.enrolling() as session:  # all of a session, or nothing
        session.add(enrollment(retailer_id, "palm_b", seed=2))
        session.add(enrollment(retailer_id, "palm_a", seed=3))
    assert store.last_seq() == start and store.owner("palm_b") is None
    assert [s.palm_id for s in store.templates(after=None, limit=10)] == ["palm_a"]


def test_deletion_removes_the_row_for_good_and_logs_it(port):
    store, _, retailer_id = port
    start = store.last_seq()
    store.add(enrollment(retailer_id, "palm_a"))
    store.add(enrollment(retailer_id, "palm_b", seed=1))
    assert store.delete("palm_a", at=T0) is True
    assert store.delete("palm_a", at=T0) is False
    assert store.delete("palm_never", at=T0) is False
    assert store.owner("palm_a") is None and store.links(["palm_a"]) == {}
    changes = store.changes_since(start, limit=10)
    assert [(c.palm_id, c.op) for c in changes] == [("palm_a", "add"), ("palm_b", "add"), ("palm_a", "remove")]
    assert is_increasing([start] + [c.seq for c in changes]) and store.last_seq() == changes[-1].seq
    assert store.changes_since(changes[0].seq, limit=10) == changes[1:]
    assert [s.palm_id for s in store.templates(after=None, limit=10)] == ["palm_b"]
    assert store.templates_of(["palm_a", "palm_b"])[0].palm_id == "palm_b"


def test_templates_come_in_pages_by_palm_id_and_decrypt_only_for_their_palm(port):
    store, _, retailer_id = port
    start = store.last_seq()
    for i in (4, 0, 6, 2, 1, 5, 3):
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
    with pytest.raises(TemplateDecryptionError):
        CIPHER.decrypt_vector(sealed["palm_4"].template, palm_id="palm_6")
    changes = store.changes_since(start, limit=100)
    assert len(changes) == 7 and is_increasing([c.seq for c in changes])
    assert store.changes_since(changes[1].seq, limit=3) == changes[2:5]


def test_an_enrolling_session_commits_what_it_added_when_it_ends(port):
    store, _, retailer_id = port
    start = store.last_seq()
    with store.enrolling() as session:
        session.add(enrollment(retailer_id, "palm_a"))
        # The transaction sees its own insert: its palm and its change.
        assert list(session.links(["palm_a"])) == ["palm_a"]
        assert [s.palm_id for s in session.enrolled_after(start)] == ["palm_a"]
    assert store.owner("palm_a") == retailer_id
    assert [(c.palm_id, c.op) for c in store.changes_since(start, limit=10)] == [("palm_a", "add")]


def test_an_enrolling_session_that_fails_leaves_nothing_behind(port):
    store, uow, retailer_id = port
    start = store.last_seq()
    e = enrollment(retailer_id, "palm_a")
    with pytest.raises(RuntimeError), store.enrolling() as session:
        session.add(e)
        raise RuntimeError("the duplicate check refused it")
    assert store.owner("palm_a") is None and store.last_seq() == start
    with uow() as u:
        assert u.instruments.get(e.instrument_id) is None


def test_the_session_sees_the_palms_enrolled_after_a_position_that_are_still_enrolled(port):
    store, _, retailer_id = port
    store.add(enrollment(retailer_id, "palm_old"))
    mark = store.last_seq()
    store.add(enrollment(retailer_id, "palm_b", seed=1))
    store.add(enrollment(retailer_id, "palm_gone", seed=2))
    store.add(enrollment(retailer_id, "palm_c", seed=3))
    store.delete("palm_gone", at=T0)
    with store.enrolling() as session:
        after = session.enrolled_after(mark)
        links = session.links(["palm_old", "palm_gone", "palm_c"])
    assert [s.palm_id for s in after] == ["palm_b", "palm_c"]  # in the order they were enrolled
    assert CIPHER.decrypt_vector(after[0].template, palm_id="palm_b").shape == (128,)
    assert set(links) == {"palm_old", "palm_c"}


def test_the_count_is_of_palms_enrolled_now(port):
    store, _, retailer_id = port
    start = store.count()
    store.add(enrollment(retailer_id, "palm_count_a"))
    store.add(enrollment(retailer_id, "palm_count_b", seed=1, par="P2", last4="1111"))
    assert store.count() == start + 2
    store.delete("palm_count_a", at=T0 + timedelta(minutes=1))
    assert store.count() == start + 1
