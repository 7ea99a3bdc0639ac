"""A restart with the palm index on disk: restored, brought up to date from the change log, checked
against the store, and rebuilt from the store whenever the file cannot be trusted."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from entrygate.adapters.memory.palm import MemoryPalmStore
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.palm_snapshot import PalmSnapshotFile, binding_for, snapshot_key
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.cards import instrument_id
from entrygate.services.palm.sync import PalmIndexSync
from entrygate.services.ports.palm import Enrollment
from support.factories import SECRET, card

CIPHER = TemplateCipher("palm-snapshot-sync-secret-" + "x" * 16)
KEY = snapshot_key(b"palm-snapshot-sync-key-" + b"k" * 16)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def enroll(store: MemoryPalmStore, palm_id: str, seed: int) -> np.ndarray:
    vec = np.random.default_rng(seed).standard_normal(32).astype(np.float32)
    c = card(par=f"PAR{seed:08d}", last4=f"{seed % 10_000:04d}")
    store.add(Enrollment(palm_id, instrument_id(c, secret=SECRET), "ret_1", CIPHER.encrypt_vector(vec, palm_id=palm_id),
                         32, c, T0))
    return vec / np.linalg.norm(vec)


def new_sync(store: MemoryPalmStore, path, *, binding: str = binding_for("db-one", 32)) -> PalmIndexSync:
    return PalmIndexSync(store=store, index=PalmIndex(dimension=32, exact_limit=1_000), cipher=lambda: CIPHER,
                         dimension=32, sync_interval_s=0.05, snapshot=PalmSnapshotFile(path, key=KEY, binding=binding))


def contents(sync: PalmIndexSync, store: MemoryPalmStore) -> set[str]:
    return {t.palm_id for t in store.templates(after=None, limit=10**6) if t.palm_id in sync.index}


@pytest.fixture
def store() -> MemoryPalmStore:
    palms = MemoryPalmStore(MemoryStore())
    for i in range(1_500):  # above exact_limit: the faiss layout is what is restored
        enroll(palms, f"palm_{i:05d}", i)
    return palms


def test_a_restart_restores_the_index_and_applies_the_changes_made_since(tmp_path, store):
    path = tmp_path / "palms.idx"
    first = new_sync(store, path)
    first.load()
    assert first.save_snapshot() and path.exists()  # (load also starts a write in the background)
    added = enroll(store, "palm_late", 99_999)
    store.delete("palm_00003", at=T0)
    second = new_sync(store, path)
    second.load()
    assert second.loaded_from == "snapshot" and second.snapshot_refusal is None
    assert second.ready and second.watermark == store.last_seq()
    assert "palm_00003" not in second.index and second.index.search(added)[0].palm_id == "palm_late"
    assert len(second.index) == store.count() and second.index.kind == first.index.kind
    probe = second.index.vector_of("palm_00500")
    assert second.index.search(probe)[0].palm_id == "palm_00500"


def _rebuilt(store, path, **kw) -> tuple[PalmIndexSync, str]:
    """A start that refuses the file and builds from the store; the reason it gave."""
    sync = new_sync(store, path, **kw)
    sync.load()
    assert sync.loaded_from == "database" and sync.snapshot_refusal is not None
    assert contents(sync, store) == {t.palm_id for t in store.templates(after=None, limit=10**6)}
    return sync, sync.snapshot_refusal


def test_a_tampered_file_is_rebuilt_from_the_store(tmp_path, store):
    path = tmp_path / "palms.idx"
    first = new_sync(store, path)
    first.load()
    first.save_snapshot()
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF
    path.write_bytes(bytes(raw))
    _, why = _rebuilt(store, path)
    assert "verify" in why


def test_a_file_from_another_database_with_the_same_name_is_not_trusted(tmp_path, store):
    path = tmp_path / "palms.idx"
    other = MemoryPalmStore(MemoryStore())
    for i in range(1_600):
        enroll(other, f"palm_{i:05d}", 10_000 + i)  # the same palm ids, other templates, a longer log
    foreign = new_sync(other, path)
    foreign.load()
    foreign.save_snapshot()
    _, why = _rebuilt(store, path)  # its log is behind the file's: refused before restoring
    assert "ahead" in why
    for i in range(200):  # now the store's log is as long: caught by the count or the templates
        enroll(store, f"palm_extra_{i}", 50_000 + i)
    foreign.save_snapshot()
    _, why = _rebuilt(store, path)
    assert "database" in why


def test_a_file_for_another_dimension_or_binding_is_refused(tmp_path, store):
    path = tmp_path / "palms.idx"
    first = new_sync(store, path)
    first.load()
    first.save_snapshot()
    _, why = _rebuilt(store, path, binding=binding_for("db-two", 32))
    assert "another database" in why


def test_without_a_file_the_first_start_builds_and_writes_one(tmp_path, store):
    path = tmp_path / "state" / "palms.idx"
    sync = new_sync(store, path)
    sync.load()
    sync.save_snapshot()
    assert path.exists() and len(PalmSnapshotFile(path, key=KEY, binding=binding_for("db-one", 32)).load().palm_ids) == 1_500
