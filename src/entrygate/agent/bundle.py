"""Checking a bundle the platform sent: Ed25519 over the exact payload bytes, for this gate, not expired.

The agent trusts a bundle only after this check, at every use: when it arrives, and when it is read
back from the state directory after a restart (the keys it was signed with are kept there too, so
the check needs no network). A bundle that fails is refused with the reason, and the agent keeps
the previous valid one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from entrygate.domain.offline import BundleInvalid, OfflineBundle, b64url_decode


class BundleRefused(Exception):
    """A bundle the agent will not decide from; the message says why."""


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    bundle_id: str
    key_id: str
    issued_at: datetime
    expires_at: datetime
    bundle: OfflineBundle
    body: dict[str, Any]  # as received, to keep in the state directory


def verify(body: Any, keys: dict[str, str], *, gate_id: str, now: datetime) -> VerifiedBundle:
    """The bundle in ``body`` if its signature verifies under one of ``keys`` and it is for this gate and current."""
    if not isinstance(body, dict):
        raise BundleRefused("the answer is not a bundle")
    try:
        key_id, payload_b64, signature_b64 = (str(body[k]) for k in ("keyId", "payload", "signature"))
        bundle_id = str(body["bundleId"])
        issued_at = _instant(body["issuedAt"])
    except (KeyError, ValueError, TypeError) as exc:
        raise BundleRefused(f"the bundle lacks {exc}") from None
    public = keys.get(key_id)
    if public is None:
        raise BundleRefused(f"signed with key {key_id!r}, which the platform does not publish")
    try:
        payload = b64url_decode(payload_b64)
        Ed25519PublicKey.from_public_bytes(b64url_decode(public)).verify(b64url_decode(signature_b64), payload)
    except (InvalidSignature, ValueError):
        raise BundleRefused("its signature does not verify") from None
    try:
        bundle = OfflineBundle.from_payload(payload)
    except BundleInvalid as exc:
        raise BundleRefused(str(exc)) from None
    if bundle.gate_id != gate_id or body.get("gateId") != gate_id:
        raise BundleRefused(f"it is for gate {bundle.gate_id!r}, not {gate_id!r}")
    if now >= bundle.expires_at:
        raise BundleRefused(f"it expired at {bundle.expires_at.isoformat()}")
    return VerifiedBundle(bundle_id, key_id, issued_at, bundle.expires_at, bundle, body)


def _instant(value: Any) -> datetime:
    at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("issuedAt has no time zone")
    return at
