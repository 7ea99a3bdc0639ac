"""The palm index on disk: a restored index answers as the one that was saved; a file that does not
verify, or is for another database, is refused."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.palm_snapshot import MAGIC, PalmSnapshotFile, binding_for, snapshot_key
from entrygate.services.ports.palm import SnapshotRefused

KEY = snapshot_key(b"palm-snapshot-test-secret-" + b"x" * 16)
BINDING = binding_for("sqlite:////tmp/entrygate.db", 32)


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, 32)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def built(n: int, *, exact_limit: int = 50_000) -> PalmIndex:
    index = PalmIndex(dimension=32, exact_limit=exact_limit, auto_compact=False)
    index.build(((f"palm_{i}", v) for i, v in enumerate(unit_rows(n))), watermark=n)
    return index


@pytest.mark.parametrize("n, exact_limit", [(300, 50_000), (3_000, 1_000)], ids=["exact", "ivf"])
def test_a_restored_index_answers_as_the_saved_one(tmp_path, n, exact_limit):
    saved = built(n, exact_limit=exact_limit)
    saved.add("palm_tail", unit_rows(1, seed=9)[0], watermark=n + 1)  # past the faiss rows: scanned exactly
    saved.remove("palm_7", watermark=n + 2)
    snapshot = PalmSnapshotFile(tmp_path / "palms.idx", key=KEY, binding=BINDING)
    assert snapshot.save(saved.export_state()) > n * 32 * 4
    restored = PalmIndex(dimension=32, exact_limit=exact_limit, auto_compact=False)
    restored.restore(snapshot.load())
    assert restored.kind == saved.kind and len(restored) == len(saved) == n
    assert restored.watermark == n + 2 and restored.generation == 1
    assert "palm_7" not in restored and restored.vector_of("palm_7") is None
    for probe in unit_rows(40, seed=3):
        assert restored.search(probe) == saved.search(probe)
    assert restored.search(unit_rows(1, seed=9)[0])[0].palm_id == "palm_tail"
    restored.add("palm_new", unit_rows(1, seed=5)[0])  # a restored index takes writes as any other
    assert restored.search(unit_rows(1, seed=5)[0])[0].palm_id == "palm_new"


def test_the_file_holds_no_template_in_the_clear(tmp_path):
    index = built(50)
    snapshot = PalmSnapshotFile(tmp_path / "palms.idx", key=KEY, binding=BINDING)
    snapshot.save(index.export_state())
    raw = (tmp_path / "palms.idx").read_bytes()
    assert index.vector_of("palm_3").tobytes()[:16] not in raw and b"palm_3" not in raw
    assert (tmp_path / "palms.idx").stat().st_mode & 0o077 == 0


def _tampered(raw: bytes, where: str) -> bytes:
    (length,) = struct.unpack(">I", raw[len(MAGIC):len(MAGIC) + 4])
    body = len(MAGIC) + 4 + length
    if where == "payload":
        return raw[:body + 40] + bytes([raw[body + 40] ^ 1]) + raw[body + 41:]
    if where == "header":
        header = json.loads(raw[len(MAGIC) + 4:body])
        header["watermark"] += 1
        new = json.dumps(header, separators=(",", ":")).encode()
        return MAGIC + struct.pack(">I", len(new)) + new + raw[body:]
    if where == "truncated":
        return raw[:-10]
    return b"garbage" + raw


@pytest.mark.parametrize("where", ["payload", "header", "truncated", "magic"])
def test_a_tampered_file_is_refused(tmp_path, where):
    path = tmp_path / "palms.idx"
    snapshot = PalmSnapshotFile(path, key=KEY, binding=BINDING)
    snapshot.save(built(60).export_state())
    path.write_bytes(_tampered(path.read_bytes(), where))
    with pytest.raises(SnapshotRefused):
        snapshot.load()


def test_another_key_or_another_database_is_refused(tmp_path):
    path = tmp_path / "palms.idx"
    PalmSnapshotFile(path, key=KEY, binding=BINDING).save(built(20).export_state())
    with pytest.raises(SnapshotRefused, match="verify"):
        PalmSnapshotFile(path, key=snapshot_key(b"another-secret-" + b"y" * 20), binding=BINDING).load()
    with pytest.raises(SnapshotRefused, match="another database"):
        PalmSnapshotFile(path, key=KEY, binding=binding_for("postgresql://db/other", 32)).load()
    with pytest.raises(SnapshotRefused, match="no snapshot"):
        PalmSnapshotFile(tmp_path / "missing.idx", key=KEY, binding=BINDING).load()


def test_a_state_for_another_dimension_is_not_restored():
    state = built(20).export_state()
    with pytest.raises(ValueError):
        PalmIndex(dimension=64).restore(state)
