"""Gate keys that rotate and named retailer keys (DESIGN 15), for the operator or the key's retailer.

A new gate key does not cut the gate off: the keys it replaces keep working for a grace period
(default a day), so the device can be given the new key first. Revocation stops a key at once
(in every process within the authenticator's cache time, at most a second). A retailer always
keeps one active key: revoking the last is a 409, whoever asks, and the store decides it under a
lock, so two revocations at once cannot leave none. Keys are shown once, in the answer that made them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from entrygate.domain.audit import Target
from entrygate.domain.keys import KeyKind, new_key
from entrygate.services.admin import audit
from entrygate.services.auth import Authenticator, Principal
from entrygate.services.errors import Conflict, InvalidRequest, NotFound
from entrygate.services.ports.api_keys import ApiKeyStore, GateKeyInfo, GateRef, LastActiveKey, RetailerKeyInfo
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.storage import UnitOfWorkFactory

DEFAULT_GRACE_SECONDS = 86_400
MAX_GRACE_SECONDS = 604_800  # a week
MAX_KEY_NAME = 100


@dataclass(frozen=True, slots=True)
class RotatedGateKey:
    key_id: str
    api_key: str  # the plaintext, shown once
    previous_key_expires_at: datetime


@dataclass(frozen=True, slots=True)
class CreatedRetailerKey:
    key_id: str
    name: str
    api_key: str  # the plaintext, shown once


class ApiKeyService:
    def __init__(self, *, uow: UnitOfWorkFactory, keys: ApiKeyStore, clock: Clock, auth: Authenticator) -> None:
        self._uow = uow
        self._keys = keys
        self._clock = clock
        self._auth = auth

    # -- gate keys --------------------------------------------------------------------------------

    def gate(self, principal: Principal, gate_id: str, *, store_id: str | None = None) -> GateRef:
        """The gate ``principal`` may manage with this id; another retailer's gate is unknown (404).

        A gate id is unique within its store only: when the caller sees several, ``store_id`` names one.
        """
        found = [g for g in self._keys.gates_named(gate_id) if principal.may_manage(g.retailer_id)
                 and (store_id is None or g.store_id == store_id)]
        if not found:
            raise NotFound(f"gate {gate_id} not found")
        if len(found) > 1:
            raise Conflict(f"gate id {gate_id} is used at several stores; name one with ?storeId=",
                           fields=["storeId"])
        return found[0]

    def rotate_gate_key(self, principal: Principal, gate_id: str, *, grace_seconds: int = DEFAULT_GRACE_SECONDS,
                        store_id: str | None = None) -> RotatedGateKey:
        """A new key for the gate; its previous working keys stop ``grace_seconds`` from now."""
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int) \
                or not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise InvalidRequest(f"graceSeconds: a whole number from 0 to {MAX_GRACE_SECONDS}", fields=["graceSeconds"])
        gate = self.gate(principal, gate_id, store_id=store_id)
        now = self._clock.now()
        expires = now + timedelta(seconds=grace_seconds)
        key = new_key(KeyKind.GATE)
        change = audit.entry(principal, "gateKey.rotated", Target("gateKey", key.key_id), retailer_id=gate.retailer_id,
                             store_id=gate.store_id, at=now,
                             after={"keyId": key.key_id, "gateId": gate_id, "previousKeyExpiresAt": _iso(expires)})
        self._keys.rotate_gate_key(gate.gate_pk, key_id=key.key_id, secret_hash=key.secret_hash, at=now,
                                   previous_expire_at=expires, audit=change)
        self._auth.forget()  # this process stops the old keys at their new time at once; others within the cache time
        return RotatedGateKey(key.key_id, key.plaintext, expires)

    def list_gate_keys(self, principal: Principal, gate_id: str, *, store_id: str | None = None) -> list[GateKeyInfo]:
        gate = self.gate(principal, gate_id, store_id=store_id)
        self._auth.flush_uses()  # this process's uses are in the answer
        return self._keys.list_gate_keys(gate.gate_pk)

    def revoke_gate_key(self, principal: Principal, gate_id: str, key_id: str, *, store_id: str | None = None) -> None:
        gate = self.gate(principal, gate_id, store_id=store_id)
        now = self._clock.now()
        change = audit.entry(principal, "gateKey.revoked", Target("gateKey", key_id), retailer_id=gate.retailer_id,
                             store_id=gate.store_id, at=now, before={"keyId": key_id, "gateId": gate_id, "revoked": False},
                             after={"keyId": key_id, "gateId": gate_id, "revoked": True})
        if not self._keys.revoke_gate_key(gate.gate_pk, key_id, at=now, audit=change):
            raise NotFound(f"key {key_id} not found at gate {gate_id}")
        self._auth.forget()

    # -- retailer keys ----------------------------------------------------------------------------

    def _retailer(self, principal: Principal, retailer_id: str) -> None:
        if not principal.may_manage(retailer_id):
            raise NotFound(f"retailer {retailer_id} not found")
        with self._uow() as uow:
            if uow.retailers.get(retailer_id) is None:
                raise NotFound(f"retailer {retailer_id} not found")

    def create_retailer_key(self, principal: Principal, retailer_id: str, *, name: str) -> CreatedRetailerKey:
        name = name.strip() if isinstance(name, str) else ""
        if not 1 <= len(name) <= MAX_KEY_NAME or not name.isprintable():
            raise InvalidRequest(f"name: 1 to {MAX_KEY_NAME} printable characters", fields=["name"])
        self._retailer(principal, retailer_id)
        key, now = new_key(KeyKind.RETAILER), self._clock.now()
        change = audit.entry(principal, "retailerKey.created", Target("retailerKey", key.key_id), retailer_id=retailer_id,
                             at=now, after={"keyId": key.key_id, "name": name, "revoked": False})
        self._keys.add_retailer_key(retailer_id, key_id=key.key_id, name=name, secret_hash=key.secret_hash, at=now,
                                    audit=change)
        return CreatedRetailerKey(key.key_id, name, key.plaintext)

    def list_retailer_keys(self, principal: Principal, retailer_id: str) -> list[RetailerKeyInfo]:
        self._retailer(principal, retailer_id)
        self._auth.flush_uses()
        return self._keys.list_retailer_keys(retailer_id)

    def revoke_retailer_key(self, principal: Principal, retailer_id: str, key_id: str) -> None:
        self._retailer(principal, retailer_id)
        now = self._clock.now()
        change = audit.entry(principal, "retailerKey.revoked", Target("retailerKey", key_id), retailer_id=retailer_id,
                             at=now, before={"keyId": key_id, "revoked": False}, after={"keyId": key_id, "revoked": True})
        try:
            revoked = self._keys.revoke_retailer_key(retailer_id, key_id, at=now, audit=change)
        except LastActiveKey:
            raise Conflict("this is the retailer's last active key: create another one first") from None
        if not revoked:
            raise NotFound(f"key {key_id} not found for retailer {retailer_id}")
        self._auth.forget()


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
