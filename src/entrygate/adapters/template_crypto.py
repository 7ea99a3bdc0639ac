"""Encryption of enrolled palm templates at rest (AES-256-GCM, NIST SP 800-38D).

A palm template is biometric data: the database keeps it only encrypted. The key is derived from
the server secret with HKDF-SHA256 (RFC 5869; info "entrygate palm template v1"), so the secret
itself never touches a template and another purpose can derive its own key from the same secret.

Blob layouts:

- version 1: ``1 || nonce (12 bytes) || ciphertext || tag (16 bytes)``, under the key derived from
  the server secret (the palm purpose's first key, ``palm-0``); associated data ``1 || palm id``.
- version 2 (DESIGN 15, keys that rotate): ``2 || n (1 byte) || key id (n ASCII bytes) || nonce ||
  ciphertext || tag``, under the palm key of that id (``adapters/palm_keys.py``); associated data
  the header (``2 || n || key id``) and the palm id, so a blob relabelled with another key id fails.

- The nonce is 96 random bits per encryption (SP 800-38D 8.2.2): with one key, 2^32 encryptions
  keep the chance of a repeated nonce below 2^-32, far beyond any count of enrollments.
- The associated data is the version byte and the palm id, so a ciphertext copied onto another
  row, or relabelled with another version, fails to decrypt instead of matching as someone else.
- Decryption failures all look the same to the caller (TemplateDecryptionError): a wrong key, a
  wrong palm id and a tampered blob are not told apart.
"""
from __future__ import annotations

import os

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# TemplateCryptoError (Exception)
#   └── TemplateDecryptionError    a blob did not decrypt: wrong key, wrong palm id, or tampered

VERSION = 1
VERSION_KEYED = 2
ROOT_KEY_ID = "palm-0"  # domain.secrets.root_key_id(Purpose.PALM): the key version 1 blobs are under
HKDF_INFO = b"entrygate palm template v1"
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_SECRET_BYTES = 16

_FLOAT32_LE = np.dtype("<f4")


class TemplateCryptoError(Exception):
    """Base of the template encryption errors."""


class TemplateDecryptionError(TemplateCryptoError):
    """The blob is not an intact template encrypted for this palm id under this key."""


def derive_template_key(secret: bytes | str) -> bytes:
    """The 256-bit template key derived from the server secret with HKDF-SHA256."""
    material = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(material) < MIN_SECRET_BYTES:
        raise ValueError(f"the secret must be at least {MIN_SECRET_BYTES} bytes")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO)
    return hkdf.derive(material)


class TemplateCipher:
    """Encrypts and decrypts palm templates bound to their palm id."""

    __slots__ = ("_aead",)

    def __init__(self, secret: bytes | str) -> None:
        self._aead = AESGCM(derive_template_key(secret))

    @classmethod
    def from_key(cls, key: bytes) -> TemplateCipher:
        """A cipher on the 256-bit template key itself (the palm key ``palm-0``)."""
        cipher = cls.__new__(cls)
        cipher._aead = AESGCM(key)
        return cipher

    def __repr__(self) -> str:
        return "TemplateCipher(<key hidden>)"

    def encrypt(self, vec_bytes: bytes, *, palm_id: str) -> bytes:
        """version || nonce || AES-GCM(vec_bytes), authenticated with the palm id."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, bytes(vec_bytes), _associated_data(VERSION, palm_id))
        return bytes([VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, *, palm_id: str) -> bytes:
        """The template bytes in ``blob``; TemplateDecryptionError unless intact and for this palm id."""
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != VERSION:
            raise TemplateDecryptionError("not a palm template blob of a known version")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, _associated_data(blob[0], palm_id))
        except InvalidTag:
            raise TemplateDecryptionError("the palm template did not decrypt") from None

    def encrypt_vector(self, vec: np.ndarray, *, palm_id: str) -> bytes:
        """Encrypt a template vector stored as little-endian float32."""
        return self.encrypt(np.asarray(vec).astype(_FLOAT32_LE).tobytes(), palm_id=palm_id)

    def decrypt_vector(self, blob: bytes, *, palm_id: str) -> np.ndarray:
        """The float32 template vector in ``blob``."""
        return np.frombuffer(self.decrypt(blob, palm_id=palm_id), dtype=_FLOAT32_LE).astype(np.float32)


def _associated_data(version: int, palm_id: str) -> bytes:
    return bytes([version]) + palm_id.encode("utf-8")


def blob_key_id(blob: bytes) -> str:
    """The id of the palm key a template blob is under; TemplateDecryptionError for no known layout."""
    blob = bytes(blob)
    if blob[:1] == bytes([VERSION]):
        return ROOT_KEY_ID
    if blob[:1] == bytes([VERSION_KEYED]) and len(blob) > 2 and len(blob) >= 2 + blob[1]:
        try:
            return blob[2:2 + blob[1]].decode("ascii")
        except UnicodeDecodeError:
            pass
    raise TemplateDecryptionError("not a palm template blob of a known version")


def seal_keyed(key: bytes, key_id: str, vec_bytes: bytes, *, palm_id: str) -> bytes:
    """A version 2 blob: the template under the palm key ``key_id``, bound to the palm id."""
    kid = key_id.encode("ascii")
    if not 1 <= len(kid) <= 255:
        raise ValueError("a key id is 1 to 255 ASCII characters")
    header = bytes([VERSION_KEYED, len(kid)]) + kid
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, bytes(vec_bytes), header + palm_id.encode("utf-8"))


def open_keyed(key: bytes, blob: bytes, *, palm_id: str) -> bytes:
    """The template bytes of a version 2 blob; TemplateDecryptionError unless intact, for this palm id and key."""
    blob = bytes(blob)
    key_id = blob_key_id(blob)
    if blob[0] != VERSION_KEYED:
        raise TemplateDecryptionError("not a version 2 palm template blob")
    end = 2 + len(key_id)
    header, nonce, sealed = blob[:end], blob[end:end + NONCE_BYTES], blob[end + NONCE_BYTES:]
    if len(nonce) < NONCE_BYTES or len(sealed) < TAG_BYTES:
        raise TemplateDecryptionError("a truncated palm template blob")
    try:
        return AESGCM(key).decrypt(nonce, sealed, header + palm_id.encode("utf-8"))
    except InvalidTag:
        raise TemplateDecryptionError("the palm template did not decrypt") from None
