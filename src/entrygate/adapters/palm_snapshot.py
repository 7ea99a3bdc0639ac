"""The palm index kept on disk between restarts, encrypted like the templates (AES-256-GCM).

A process that restarts at a million palms would otherwise decrypt every template and build the
faiss index again before it can answer a palm entry. Instead it reads back the layout it built
last time (``PalmIndex.export_state``) and applies the change log from there. The file holds
decrypted biometric templates, so it is encrypted and authenticated as a whole; anything that does
not verify is refused (``SnapshotRefused``) and the caller rebuilds from the database.

File layout::

    magic "EGPALMX1" | header length (4 bytes, big-endian) | header (UTF-8 JSON)
    then, per chunk: length (4 bytes) | nonce (12 bytes) | AES-GCM ciphertext and tag

- The header is plaintext but bound into every chunk's associated data (its SHA-256), with the
  chunk's position and the number of chunks, so a header edited, chunks reordered, dropped or
  copied from another file all fail to decrypt.
- The key is derived from the server secret with HKDF-SHA256 under its own label; the header
  names a ``binding`` (a digest of the database the index came from and the template dimension),
  so a file written for another database or dimension is refused before anything is decrypted.
- Chunks are 64 MiB (AES-GCM in this library takes at most 2^31 bytes at once, and a bounded
  chunk keeps the peak memory of a read at one chunk above the state itself).
- The file is written beside its final name, fsync'd and renamed, so a crash mid-write leaves
  the previous file in place, and several processes on one host may write it in turn.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from entrygate.services.ports.palm import PalmIndexState, SnapshotRefused

MAGIC = b"EGPALMX1"
FORMAT = 1
HKDF_INFO = b"entrygate palm index snapshot v1"
CHUNK_BYTES = 64 * 1024 * 1024
NONCE_BYTES = 12
_LEN = struct.Struct(">I")
_AAD_TAIL = struct.Struct(">II")


def snapshot_key(secret: bytes) -> bytes:
    """The 256-bit snapshot key, derived from the server secret under this file's own label."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(bytes(secret))


def binding_for(database_identity: str, dimension: int) -> str:
    """What a snapshot is for: a digest of the database it came from and the template size."""
    return hashlib.sha256(f"{database_identity}\x00{dimension}".encode()).hexdigest()


class PalmSnapshotFile:
    """Reads and writes one snapshot file for one database."""

    def __init__(self, path: Path, *, key: bytes, binding: str) -> None:
        self.path = Path(path)
        self._aead = AESGCM(key)
        self._binding = binding

    def __repr__(self) -> str:
        return f"PalmSnapshotFile({str(self.path)!r}, <key hidden>)"

    def save(self, state: PalmIndexState) -> int:
        """Write ``state`` atomically; the number of bytes written."""
        if any("\n" in palm_id for palm_id in state.palm_ids):
            raise ValueError("a palm id holds a line break")
        sections = _sections(state)
        total = sum(len(s) for _, s in sections)
        chunks = max(1, -(-total // CHUNK_BYTES))
        header = json.dumps({
            "format": FORMAT, "binding": self._binding, "dimension": state.dimension,
            "count": len(state.palm_ids), "base": state.base, "nlist": state.nlist,
            "watermark": state.watermark, "skipped": state.skipped, "chunks": chunks,
            "sections": [[name, len(data)] for name, data in sections],
        }, separators=(",", ":")).encode()
        digest = hashlib.sha256(header).digest()
        payload = memoryview(b"".join(data for _, data in sections))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        written = 0
        try:
            with open(tmp, "wb") as out:
                out.write(MAGIC + _LEN.pack(len(header)) + header)
                for i in range(chunks):
                    nonce = os.urandom(NONCE_BYTES)
                    sealed = self._aead.encrypt(nonce, payload[i * CHUNK_BYTES:(i + 1) * CHUNK_BYTES],
                                                digest + _AAD_TAIL.pack(i, chunks))
                    out.write(_LEN.pack(len(sealed)) + nonce + sealed)
                written = out.tell()
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)
        return written

    def load(self) -> PalmIndexState:
        """The state in the file; SnapshotRefused unless it is intact and for this database."""
        try:
            with open(self.path, "rb") as src:
                return self._read(src)
        except FileNotFoundError:
            raise SnapshotRefused("no snapshot file") from None
        except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
            raise SnapshotRefused(f"unreadable: {type(exc).__name__}") from None

    def _read(self, src) -> PalmIndexState:
        if src.read(len(MAGIC)) != MAGIC:
            raise SnapshotRefused("not a palm index snapshot")
        (length,) = _LEN.unpack(src.read(_LEN.size))
        header_bytes = src.read(length)
        header = json.loads(header_bytes)
        if header.get("format") != FORMAT:
            raise SnapshotRefused(f"format {header.get('format')!r}, expected {FORMAT}")
        if header.get("binding") != self._binding:
            raise SnapshotRefused("written for another database or template dimension")
        digest, chunks = hashlib.sha256(header_bytes).digest(), int(header["chunks"])
        sizes = [(str(name), int(size)) for name, size in header["sections"]]
        expected, plain_chunks = sum(size for _, size in sizes), []
        for i in range(chunks):
            (size,) = _LEN.unpack(src.read(_LEN.size))
            nonce, sealed = src.read(NONCE_BYTES), src.read(size)
            try:
                plain = self._aead.decrypt(nonce, sealed, digest + _AAD_TAIL.pack(i, chunks))
            except InvalidTag:
                raise SnapshotRefused("does not verify (tampered, truncated or another key)") from None
            plain_chunks.append(plain)
        payload = b"".join(plain_chunks)
        del plain_chunks
        if len(payload) != expected or src.read(1):
            raise SnapshotRefused("its length does not match its header")
        return _state(header, sizes, payload)


def _sections(state: PalmIndexState) -> list[tuple[str, bytes]]:
    out = [("vectors", np.ascontiguousarray(state.vectors, dtype="<f4").tobytes()),
           ("alive", np.ascontiguousarray(state.alive, dtype=np.uint8).tobytes()),
           ("ids", "\n".join(state.palm_ids).encode())]
    if state.ann is not None:
        out += [("ann", state.ann), ("trained", state.trained or b"")]
    return out


def _state(header: dict, sizes: list[tuple[str, int]], payload: bytes) -> PalmIndexState:
    parts, offset = {}, 0
    view = memoryview(payload)
    for name, size in sizes:
        parts[name] = view[offset:offset + size]
        offset += size
    count, dimension = int(header["count"]), int(header["dimension"])
    ids = bytes(parts["ids"]).decode().split("\n") if count else []
    if len(ids) != count:
        raise SnapshotRefused("its palm ids do not match its count")
    vectors = np.frombuffer(parts["vectors"], dtype="<f4").reshape(count, dimension)
    alive = np.frombuffer(parts["alive"], dtype=np.uint8).astype(bool)
    return PalmIndexState(dimension=dimension, palm_ids=ids, vectors=vectors, alive=alive,
                          base=int(header["base"]), nlist=int(header["nlist"]),
                          ann=bytes(parts["ann"]) if "ann" in parts else None,
                          trained=bytes(parts["trained"]) if "trained" in parts else None,
                          watermark=int(header["watermark"]), skipped=int(header.get("skipped", 0)))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
