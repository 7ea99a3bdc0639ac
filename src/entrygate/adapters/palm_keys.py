"""Palm templates under the palm key of the moment (DESIGN 15): new templates under the active key,
every template readable under the key it names (``template_crypto`` describes both blob layouts)."""
from __future__ import annotations

import numpy as np

from entrygate.adapters.keyring import KeyRing
from entrygate.adapters.template_crypto import (
    ROOT_KEY_ID,
    VERSION,
    TemplateCipher,
    TemplateDecryptionError,
    blob_key_id,
    open_keyed,
    seal_keyed,
)
from entrygate.domain.secrets import Purpose

_FLOAT32_LE = np.dtype("<f4")


class KeyedTemplateCipher:
    """``services.ports.palm.TemplateCipherPort`` and ``services.ports.secrets.TemplateRecipher`` on the key ring."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def __repr__(self) -> str:
        return "KeyedTemplateCipher(<keys hidden>)"

    def encrypt(self, vec_bytes: bytes, *, palm_id: str) -> bytes:
        key = self._ring.active(Purpose.PALM)
        return seal_keyed(key.material, key.key_id, vec_bytes, palm_id=palm_id)

    def decrypt(self, blob: bytes, *, palm_id: str) -> bytes:
        key_id = blob_key_id(blob)
        key = self._ring.find(Purpose.PALM, key_id)
        if key is None:
            raise TemplateDecryptionError(f"the palm key {key_id} is unknown")
        if bytes(blob)[0] == VERSION and key_id == ROOT_KEY_ID:
            return TemplateCipher.from_key(key.material).decrypt(blob, palm_id=palm_id)
        return open_keyed(key.material, blob, palm_id=palm_id)

    def encrypt_vector(self, vec: np.ndarray, *, palm_id: str) -> bytes:
        return self.encrypt(np.asarray(vec).astype(_FLOAT32_LE).tobytes(), palm_id=palm_id)

    def decrypt_vector(self, blob: bytes, *, palm_id: str) -> np.ndarray:
        return np.frombuffer(self.decrypt(blob, palm_id=palm_id), dtype=_FLOAT32_LE).astype(np.float32)

    def reencrypt(self, blob: bytes, *, palm_id: str) -> tuple[bytes, str]:
        """The template under the active palm key, and that key's id."""
        key = self._ring.active(Purpose.PALM)
        return seal_keyed(key.material, key.key_id, self.decrypt(blob, palm_id=palm_id), palm_id=palm_id), key.key_id
