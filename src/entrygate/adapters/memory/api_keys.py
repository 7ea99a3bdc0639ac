"""An in-memory fake of ``services.ports.api_keys.ApiKeyStore`` over a ``MemoryStore``'s data, so the
fake authenticator sees the keys it manages. Writes are one at a time, as the database's are."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from entrygate.adapters.memory.audit import MemoryAudit
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.audit import AuditEntry
from entrygate.domain.records import ApiKeyRecord
from entrygate.services.ports.api_keys import GateKeyInfo, GateRef, LastActiveKey, RetailerKeyInfo
from entrygate.services.ports.storage import AlreadyExists

INITIAL_KEY_NAME = "initial key"  # as adapters/db/repositories.py names a retailer's first key


@dataclass
class _Meta:
    created_at: datetime
    revoked: bool = False
    last_used_at: datetime | None = None


class MemoryApiKeys:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        # Revoked keys, out of the authenticator's sight.
        self._revoked_gate: dict[str, ApiKeyRecord] = {}
        self._revoked_retailer: dict[str, ApiKeyRecord] = {}
        self._meta: dict[str, _Meta] = {}

    def _data(self):  # noqa: ANN202
        return self._store.data

    def _meta_of(self, key_id: str) -> _Meta:
        return self._meta.setdefault(key_id, _Meta(datetime(1970, 1, 1, tzinfo=UTC)))  # made by MemoryStore

    def gates_named(self, gate_id: str) -> list[GateRef]:
        d = self._data()
        return sorted((GateRef(g.gate_pk, g.gate_id, g.store_id, d.stores[g.store_id].retailer_id)
                       for g in d.gates.values() if g.gate_id == gate_id and g.store_id in d.stores),
                      key=lambda g: g.store_id)

    def rotate_gate_key(self, gate_pk: str, *, key_id: str, secret_hash: str, at: datetime,
                        previous_expire_at: datetime, audit: AuditEntry | None = None) -> None:
        with self._store.write_lock, self._store.lock:
            keys = self._data().gate_keys
            if key_id in keys or key_id in self._revoked_gate:
                raise AlreadyExists(key_id)
            for k, record in list(keys.items()):
                if record.owner == gate_pk and (record.expires_at is None or record.expires_at > previous_expire_at):
                    keys[k] = replace(record, expires_at=previous_expire_at)
            keys[key_id] = ApiKeyRecord(key_id, secret_hash, gate_pk)
            self._meta[key_id] = _Meta(at)
            self._audit(audit)

    def list_gate_keys(self, gate_pk: str) -> list[GateKeyInfo]:
        records = [r for r in [*self._data().gate_keys.values(), *self._revoked_gate.values()] if r.owner == gate_pk]
        infos = [GateKeyInfo(r.key_id, self._meta_of(r.key_id).created_at, r.expires_at,
                             self._meta_of(r.key_id).last_used_at, r.key_id in self._revoked_gate) for r in records]
        return sorted(infos, key=lambda k: (k.created_at, k.key_id), reverse=True)

    def revoke_gate_key(self, gate_pk: str, key_id: str, *, at: datetime, audit: AuditEntry | None = None) -> bool:
        with self._store.write_lock, self._store.lock:
            record = self._data().gate_keys.get(key_id) or self._revoked_gate.get(key_id)
            if record is None or record.owner != gate_pk:
                return False
            if self._data().gate_keys.pop(key_id, None) is not None:
                self._audit(audit)
            self._revoked_gate[key_id] = record
            return True

    def add_retailer_key(self, retailer_id: str, *, key_id: str, name: str, secret_hash: str, at: datetime,
                         audit: AuditEntry | None = None) -> None:
        with self._store.write_lock, self._store.lock:
            keys = self._data().retailer_keys
            if key_id in keys or key_id in self._revoked_retailer:
                raise AlreadyExists(key_id)
            keys[key_id] = ApiKeyRecord(key_id, secret_hash, retailer_id, name=name)
            self._meta[key_id] = _Meta(at)
            self._audit(audit)

    def list_retailer_keys(self, retailer_id: str) -> list[RetailerKeyInfo]:
        records = [r for r in [*self._data().retailer_keys.values(), *self._revoked_retailer.values()]
                   if r.owner == retailer_id]
        infos = [RetailerKeyInfo(r.key_id, r.name or INITIAL_KEY_NAME, self._meta_of(r.key_id).created_at,
                                 self._meta_of(r.key_id).last_used_at, r.key_id in self._revoked_retailer)
                 for r in records]
        return sorted(infos, key=lambda k: (k.created_at, k.key_id))

    def revoke_retailer_key(self, retailer_id: str, key_id: str, *, at: datetime, audit: AuditEntry | None = None) -> bool:
        with self._store.write_lock, self._store.lock:
            keys = self._data().retailer_keys
            record = keys.get(key_id) or self._revoked_retailer.get(key_id)
            if record is None or record.owner != retailer_id:
                return False
            if key_id in self._revoked_retailer:
                return True
            if sum(1 for r in keys.values() if r.owner == retailer_id) <= 1:
                raise LastActiveKey(f"key {key_id} is the last active key of retailer {retailer_id}")
            del keys[key_id]
            self._revoked_retailer[key_id] = record
            self._audit(audit)
            return True

    def _audit(self, entry: AuditEntry | None) -> None:
        if entry is not None:
            MemoryAudit(self._data().audit).add(entry)

    def record_uses(self, *, gate_keys: Mapping[str, datetime], retailer_keys: Mapping[str, datetime]) -> None:
        with self._store.lock:
            for key_id, at in [*gate_keys.items(), *retailer_keys.items()]:
                meta = self._meta_of(key_id)
                if meta.last_used_at is None or meta.last_used_at < at:
                    meta.last_used_at = at
