"""``ApiKeyStore``: gate keys that rotate and are revoked, named retailer keys, last use; fake, SQLite, PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from entrygate.adapters.db.api_keys import SqlApiKeys
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.api_keys import MemoryApiKeys
from entrygate.domain.keys import KeyKind, new_key
from entrygate.services.ports.api_keys import LastActiveKey
from support.contracts import T0, new_id, shop


@pytest.fixture
def keys(storage):
    return SqlApiKeys(storage) if isinstance(storage, SqlUnitOfWorkFactory) else MemoryApiKeys(storage)


def _gate_key(storage, key_id: str):  # noqa: ANN001, ANN202
    with storage() as u:
        return u.keys.get_gate_key(key_id)


def test_a_new_gate_key_leaves_the_previous_ones_working_until_the_grace_ends(storage, keys):
    where = shop(storage)
    first = keys.list_gate_keys(where.gate.gate_pk)
    assert len(first) == 1 and first[0].expires_at is None and not first[0].revoked
    new = new_key(KeyKind.GATE)
    keys.rotate_gate_key(where.gate.gate_pk, key_id=new.key_id, secret_hash=new.secret_hash,
                         at=T0 + timedelta(seconds=1), previous_expire_at=T0 + timedelta(hours=1))
    listed = keys.list_gate_keys(where.gate.gate_pk)
    assert [k.key_id for k in listed] == [new.key_id, first[0].key_id]  # newest first
    assert listed[0].expires_at is None and listed[1].expires_at == T0 + timedelta(hours=1)
    assert _gate_key(storage, first[0].key_id).expires_at == T0 + timedelta(hours=1)
    assert _gate_key(storage, new.key_id).secret_hash == new.secret_hash
    # A later rotation with a longer grace does not lengthen an earlier key's time; a shorter one shortens it.
    newer = new_key(KeyKind.GATE)
    keys.rotate_gate_key(where.gate.gate_pk, key_id=newer.key_id, secret_hash=newer.secret_hash,
                         at=T0 + timedelta(minutes=1), previous_expire_at=T0 + timedelta(hours=5))
    assert _gate_key(storage, first[0].key_id).expires_at == T0 + timedelta(hours=1)
    assert _gate_key(storage, new.key_id).expires_at == T0 + timedelta(hours=5)
    assert keys.list_gate_keys(where.exit_gate.gate_pk)[0].expires_at is None  # another gate is untouched


def test_a_revoked_gate_key_is_not_found_and_is_listed_as_revoked(storage, keys):
    where = shop(storage)
    (key,) = keys.list_gate_keys(where.gate.gate_pk)
    assert not keys.revoke_gate_key(where.exit_gate.gate_pk, key.key_id, at=T0)  # not that gate's key
    assert _gate_key(storage, key.key_id) is not None
    assert keys.revoke_gate_key(where.gate.gate_pk, key.key_id, at=T0)
    assert _gate_key(storage, key.key_id) is None
    assert keys.list_gate_keys(where.gate.gate_pk)[0].revoked
    assert keys.revoke_gate_key(where.gate.gate_pk, key.key_id, at=T0)  # again: still revoked, no error
    assert not keys.revoke_gate_key(where.gate.gate_pk, "0" * 16, at=T0)


def test_gates_are_found_by_id_across_stores_with_their_retailer(storage, keys):
    a, b = shop(storage), shop(storage)
    found = keys.gates_named("lane-1")
    mine = [g for g in found if g.store_id in (a.store_id, b.store_id)]
    assert {(g.gate_pk, g.retailer_id) for g in mine} == {(a.gate.gate_pk, a.retailer_id),
                                                          (b.gate.gate_pk, b.retailer_id)}
    assert keys.gates_named(new_id("nowhere")) == []


def test_retailer_keys_are_named_listed_and_never_all_revoked(storage, keys):
    where = shop(storage)
    (initial,) = keys.list_retailer_keys(where.retailer_id)
    assert initial.name == "initial key" and not initial.revoked
    second = new_key(KeyKind.RETAILER)
    keys.add_retailer_key(where.retailer_id, key_id=second.key_id, name="back office", secret_hash=second.secret_hash,
                          at=T0 + timedelta(seconds=1))
    assert [(k.key_id, k.name) for k in keys.list_retailer_keys(where.retailer_id)] == [
        (initial.key_id, "initial key"), (second.key_id, "back office")]
    with storage() as u:
        assert u.keys.get_retailer_key(second.key_id).name == "back office"
    assert keys.revoke_retailer_key(where.retailer_id, initial.key_id, at=T0)
    with pytest.raises(LastActiveKey):
        keys.revoke_retailer_key(where.retailer_id, second.key_id, at=T0)
    listed = {k.key_id: k.revoked for k in keys.list_retailer_keys(where.retailer_id)}
    assert listed == {initial.key_id: True, second.key_id: False}
    with storage() as u:
        assert u.keys.get_retailer_key(initial.key_id) is None
        assert u.keys.get_retailer_key(second.key_id) is not None
    assert not keys.revoke_retailer_key(shop(storage).retailer_id, second.key_id, at=T0)  # another retailer's


def test_last_use_is_recorded_and_never_moves_back(storage, keys):
    where = shop(storage)
    (gate_key,) = keys.list_gate_keys(where.gate.gate_pk)
    (retailer_key,) = keys.list_retailer_keys(where.retailer_id)
    later, earlier = T0 + timedelta(minutes=5), T0 + timedelta(minutes=1)
    keys.record_uses(gate_keys={gate_key.key_id: later}, retailer_keys={retailer_key.key_id: earlier})
    keys.record_uses(gate_keys={gate_key.key_id: earlier}, retailer_keys={})
    assert keys.list_gate_keys(where.gate.gate_pk)[0].last_used_at == later
    assert keys.list_retailer_keys(where.retailer_id)[0].last_used_at == earlier
