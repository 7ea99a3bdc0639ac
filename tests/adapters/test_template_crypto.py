"""Palm templates at rest: AES-GCM bound to the palm id, key derived from the server secret."""
from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from entrygate.adapters.template_crypto import (
    HKDF_INFO,
    NONCE_BYTES,
    TAG_BYTES,
    VERSION,
    TemplateCipher,
    TemplateDecryptionError,
    derive_template_key,
)

SECRET = "test-secret-" + "x" * 32
TEMPLATE = np.arange(128, dtype="<f4").tobytes()


@pytest.fixture
def cipher() -> TemplateCipher:
    return TemplateCipher(SECRET)


def test_round_trip(cipher: TemplateCipher) -> None:
    blob = cipher.encrypt(TEMPLATE, palm_id="palm_1")
    assert cipher.decrypt(blob, palm_id="palm_1") == TEMPLATE


def test_layout_is_version_nonce_ciphertext_tag(cipher: TemplateCipher) -> None:
    blob = cipher.encrypt(TEMPLATE, palm_id="palm_1")
    assert blob[0] == VERSION == 1
    assert len(blob) == 1 + NONCE_BYTES + len(TEMPLATE) + TAG_BYTES
    assert TEMPLATE not in blob


def test_a_fresh_nonce_every_time(cipher: TemplateCipher) -> None:
    blobs = {cipher.encrypt(TEMPLATE, palm_id="palm_1") for _ in range(50)}
    assert len(blobs) == 50
    assert len({b[1 : 1 + NONCE_BYTES] for b in blobs}) == 50


@pytest.mark.parametrize("position", [0, 1, 12, 13, 200, -1])
def test_tampering_anywhere_is_detected(cipher: TemplateCipher, position: int) -> None:
    blob = bytearray(cipher.encrypt(TEMPLATE, palm_id="palm_1"))
    blob[position] ^= 0x01
    with pytest.raises(TemplateDecryptionError):
        cipher.decrypt(bytes(blob), palm_id="palm_1")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\x00" * 27, b"\x02" + b"\x00" * 100])
def test_truncated_or_unknown_blobs_are_refused(cipher: TemplateCipher, blob: bytes) -> None:
    with pytest.raises(TemplateDecryptionError):
        cipher.decrypt(blob, palm_id="palm_1")


def test_a_ciphertext_moved_to_another_palm_does_not_decrypt(cipher: TemplateCipher) -> None:
    blob = cipher.encrypt(TEMPLATE, palm_id="palm_1")
    with pytest.raises(TemplateDecryptionError):
        cipher.decrypt(blob, palm_id="palm_2")


def test_the_wrong_key_does_not_decrypt(cipher: TemplateCipher) -> None:
    blob = cipher.encrypt(TEMPLATE, palm_id="palm_1")
    with pytest.raises(TemplateDecryptionError):
        TemplateCipher("another-secret-" + "y" * 32).decrypt(blob, palm_id="palm_1")


def test_the_key_is_hkdf_sha256_of_the_secret_with_the_versioned_info() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(SECRET.encode())
    assert HKDF_INFO == b"entrygate palm template v1"
    assert derive_template_key(SECRET) == expected
    assert derive_template_key(SECRET.encode()) == expected
    assert expected != SECRET.encode()[:32]
    # an independent AES-GCM with that key opens the blob: the format is what the docstring says
    blob = TemplateCipher(SECRET).encrypt(TEMPLATE, palm_id="palm_1")
    opened = AESGCM(expected).decrypt(blob[1:13], blob[13:], b"\x01palm_1")
    assert opened == TEMPLATE


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError):
        TemplateCipher("short")


def test_the_key_never_prints(cipher: TemplateCipher) -> None:
    assert "hidden" in repr(cipher)
    assert SECRET not in repr(cipher)


def test_vectors_round_trip(cipher: TemplateCipher) -> None:
    vec = np.random.default_rng(0).standard_normal(128).astype(np.float32)
    blob = cipher.encrypt_vector(vec, palm_id="palm_9")
    out = cipher.decrypt_vector(blob, palm_id="palm_9")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, vec)
