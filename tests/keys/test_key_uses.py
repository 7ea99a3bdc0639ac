"""Keys' last use is written behind: a hundred requests with one key cost one write per flush, never one
each; the flusher writes on its interval and once more when it stops; uses that cannot be written wait."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.api_keys import MemoryApiKeys
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import GateDirection
from entrygate.domain.keys import KeyKind, new_key
from entrygate.domain.records import ApiKeyRecord, Gate
from entrygate.services.admin.key_uses import KeyUseFlusher
from entrygate.services.auth import Authenticator
from entrygate.services.ports.storage import StorageError
from support.factories import NOW


class CountingKeys(MemoryApiKeys):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.writes: list[dict[str, datetime]] = []
        self.fail = False

    def record_uses(self, *, gate_keys, retailer_keys) -> None:  # noqa: ANN001
        if self.fail:
            raise StorageError("the database is away")
        self.writes.append({**gate_keys, **retailer_keys})
        super().record_uses(gate_keys=gate_keys, retailer_keys=retailer_keys)


@pytest.fixture
def world():
    store, clock = MemoryStore(), FixedClock(NOW)
    key = new_key(KeyKind.GATE)
    with store(write=True) as u:
        u.gates.add(Gate("gpk_1", "lane-1", "s1", GateDirection.ENTRY, True, NOW), ApiKeyRecord(key.key_id,
                                                                                               key.secret_hash, "gpk_1"))
        u.commit()
    uses = CountingKeys(store)
    return Authenticator(store, clock=clock, uses=uses), uses, clock, key


def test_a_hundred_requests_cost_one_write_with_the_latest_use(world):
    auth, uses, clock, key = world
    for _ in range(100):
        auth.authenticate(f"Bearer {key.plaintext}", allow={KeyKind.GATE})
        clock.advance(seconds=0.1)
    assert uses.writes == []  # nothing written on the request path
    assert auth.flush_uses() == 1
    assert uses.writes == [{key.key_id: clock.now() - timedelta(seconds=0.1)}]
    assert auth.flush_uses() == 0 and len(uses.writes) == 1  # nothing new, nothing written


def test_uses_that_cannot_be_written_are_kept_for_the_next_flush(world):
    auth, uses, clock, key = world
    auth.authenticate(f"Bearer {key.plaintext}", allow={KeyKind.GATE})
    uses.fail = True
    with pytest.raises(StorageError):
        auth.flush_uses()
    uses.fail = False
    assert auth.flush_uses() == 1 and uses.writes == [{key.key_id: NOW}]


def test_the_flusher_writes_on_its_interval_and_when_it_stops(world):
    auth, uses, _, key = world
    flusher = KeyUseFlusher(auth, interval_s=0.05)
    flusher.start()
    try:
        auth.authenticate(f"Bearer {key.plaintext}", allow={KeyKind.GATE})
        deadline = time.monotonic() + 5
        while not uses.writes:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        flusher.stop()
    stopped = KeyUseFlusher(auth, interval_s=3600)
    stopped.start()
    auth.authenticate(f"Bearer {key.plaintext}", allow={KeyKind.GATE})
    stopped.stop()  # long before its interval: the stop writes what is left
    assert len(uses.writes) == 2
