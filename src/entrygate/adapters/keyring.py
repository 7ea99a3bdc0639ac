"""The key ring: every purpose's keys, as each process reads them (DESIGN 15, docs/security.md).

- The root is ``ENTRYGATE_SECRET_KEY``. It is the instrument-id key itself (byte for byte what it
  always was: instrument ids never change), and every other key is derived from it or wrapped under it.
- A rotatable purpose's first key (``<purpose>-0``) is derived from the root as it was before keys
  rotated, so nothing made before is lost: ``palm-0`` is HKDF-SHA256(root, "entrygate palm template
  v1") (``template_crypto``), ``sessions-0`` is the root's bytes (what signed cookies and CSRF tokens),
  ``offline-0`` is the Ed25519 seed HKDF-SHA256(root, "entrygate offline bundle signing v1").
- A rotated key is 32 random bytes, stored in ``secret_keys`` wrapped with AES-256-GCM under
  HKDF-SHA256(root, "entrygate key wrap v1"), the purpose and key id as associated data; a database
  dump alone therefore reveals no key.
- Every process reads the stored keys again at most ``refresh_s`` after it last did (default 5 s),
  so a rotation reaches every process within 10 s; a key id it does not know yet (data made by a
  process that already has the new key) makes it read again at once. If the database cannot be
  read, the keys it has stay in use.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from entrygate.adapters.template_crypto import derive_template_key
from entrygate.domain.secrets import (
    OFFLINE_BUNDLE_MAX_LIFETIME,
    ROTATABLE,
    SESSIONS_KEY_GRACE,
    Purpose,
    new_key_id,
    root_key_id,
)
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.secrets import (
    OfflineKeySet,
    OfflinePublicKey,
    OfflineSigningKey,
    SecretKeyStore,
    StoredKey,
)
from entrygate.services.ports.storage import StorageError

log = structlog.get_logger("entrygate.keys")

WRAP_INFO = b"entrygate key wrap v1"
OFFLINE_ROOT_INFO = b"entrygate offline bundle signing v1"
KEY_BYTES = 32
NONCE_BYTES = 12
DEFAULT_REFRESH_S = 5.0
_UNKNOWN_ID_REREAD_S = 0.5  # an unknown key id reads the store again, at most this often
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class KeyUnwrapError(Exception):
    """A stored key did not unwrap: ENTRYGATE_SECRET_KEY is not the one it was wrapped under."""


@dataclass(frozen=True, slots=True)
class PurposeKey:
    purpose: Purpose
    key_id: str
    material: bytes = b""
    created_at: datetime = _EPOCH
    retired_at: datetime | None = None

    def __repr__(self) -> str:
        return f"PurposeKey({self.purpose.value}, {self.key_id}, retired_at={self.retired_at})"


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)


def _aad(purpose: str, key_id: str) -> bytes:
    return f"{purpose}:{key_id}".encode()


class KeyRing:
    def __init__(self, store: SecretKeyStore, secret: bytes, *, clock: Clock, refresh_s: float = DEFAULT_REFRESH_S) -> None:
        self._store = store
        self._secret = bytes(secret)
        self._clock = clock
        self._refresh_s = refresh_s
        self._wrap = AESGCM(_hkdf(self._secret, WRAP_INFO))
        self._keys: dict[Purpose, list[PurposeKey]] | None = None
        self._read_at = float("-inf")
        self._reread_at = float("-inf")  # the last read for a key id not known yet
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "KeyRing(<keys hidden>)"

    @property
    def instrument_secret(self) -> bytes:
        """The instrument-id key: the root itself, as it has always been (instrument ids never change)."""
        return self._secret

    # -- reading ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        rows = self._store.list()
        keys: dict[Purpose, list[PurposeKey]] = {p: [] for p in ROTATABLE}
        for row in rows:
            try:
                purpose = Purpose(row.purpose)
            except ValueError:
                continue
            if purpose in keys:
                keys[purpose].append(self._open(row, purpose))
        for purpose, found in keys.items():
            if not found:  # a store that never recorded the purpose: its derived first key is the one
                found.append(PurposeKey(purpose, root_key_id(purpose), self._derived(purpose)))
            found.sort(key=lambda k: (k.retired_at is None, k.retired_at or k.created_at, k.created_at))
        with self._lock:
            self._keys = keys
            self._read_at = time.monotonic()

    def _current(self, *, max_age_s: float | None = None) -> dict[Purpose, list[PurposeKey]]:
        age = time.monotonic() - self._read_at
        if self._keys is None or age >= (self._refresh_s if max_age_s is None else max_age_s):
            try:
                self.refresh()
            except StorageError as exc:
                if self._keys is None:
                    raise
                log.warning("keys_not_refreshed", error=str(exc)[:300])
                self._read_at = time.monotonic()  # try again at the next interval, not at every call
        assert self._keys is not None
        return self._keys

    def keys(self, purpose: Purpose) -> list[PurposeKey]:
        """The purpose's keys, oldest first, the active one last."""
        return list(self._current()[purpose])

    def active(self, purpose: Purpose) -> PurposeKey:
        return self._current()[purpose][-1]

    def active_key_id(self, purpose: str) -> str:
        return self.active(Purpose(purpose)).key_id

    def find(self, purpose: Purpose, key_id: str) -> PurposeKey | None:
        """The purpose's key of this id; an id not known yet reads the store again first."""
        for key in self._current()[purpose]:
            if key.key_id == key_id:
                return key
        now = time.monotonic()
        if now - self._reread_at < _UNKNOWN_ID_REREAD_S:
            return None
        self._reread_at = now
        for key in self._current(max_age_s=0.0)[purpose]:
            if key.key_id == key_id:
                return key
        return None

    # -- rotating ---------------------------------------------------------------------------------

    def rotate(self, purpose: str) -> str:
        """A new random key for ``purpose``, active from now on in every process; its key id."""
        p = Purpose(purpose)
        if p not in ROTATABLE:
            raise ValueError(f"{purpose} keys do not rotate")
        key_id = new_key_id(p)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrap.encrypt(nonce, os.urandom(KEY_BYTES), _aad(p.value, key_id))
        self._store.rotate(p.value, key_id=key_id, material=wrapped, at=self._clock.now())
        self.refresh()
        log.info("key_rotated", purpose=p.value, key_id=key_id)
        return key_id

    # -- console sessions and CSRF ---------------------------------------------------------------

    def session_key(self) -> tuple[str, bytes]:
        key = self.active(Purpose.SESSIONS)
        return key.key_id, key.material

    def session_key_for(self, key_id: str) -> bytes | None:
        key = self.find(Purpose.SESSIONS, key_id)
        if key is None:
            return None
        if key.retired_at is not None and key.retired_at + SESSIONS_KEY_GRACE <= self._clock.now():
            return None
        return key.material

    # -- offline bundle signing -------------------------------------------------------------------

    def offline_keys(self) -> OfflineKeySet:
        now = self._clock.now()
        keys = self.keys(Purpose.OFFLINE)
        valid = [k for k in keys if k.retired_at is None or k.retired_at + OFFLINE_BUNDLE_MAX_LIFETIME > now]
        active = keys[-1]
        signer = Ed25519PrivateKey.from_private_bytes(active.material)
        publics = [OfflinePublicKey(k.key_id, Ed25519PrivateKey.from_private_bytes(k.material).public_key()
                                    .public_bytes(Encoding.Raw, PublicFormat.Raw)) for k in reversed(valid)]
        return OfflineKeySet(OfflineSigningKey(active.key_id, signer.sign), publics)

    # -- derivation and wrapping ------------------------------------------------------------------

    def _derived(self, purpose: Purpose) -> bytes:
        if purpose is Purpose.PALM:
            return derive_template_key(self._secret)
        if purpose is Purpose.SESSIONS:
            return self._secret
        return _hkdf(self._secret, OFFLINE_ROOT_INFO)

    def _open(self, row: StoredKey, purpose: Purpose) -> PurposeKey:
        if row.material is None:
            material = self._derived(purpose)
        else:
            nonce, sealed = row.material[:NONCE_BYTES], row.material[NONCE_BYTES:]
            try:
                material = self._wrap.decrypt(nonce, sealed, _aad(row.purpose, row.key_id))
            except InvalidTag:
                raise KeyUnwrapError(f"key {row.key_id} does not unwrap under this ENTRYGATE_SECRET_KEY") from None
        return PurposeKey(purpose, row.key_id, material, row.created_at, row.retired_at)
