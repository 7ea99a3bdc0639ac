"""Standard Webhooks signatures (https://www.standardwebhooks.com), as connector calls carry them.

Every call entrygate makes to a retailer connector is signed, and the reference retailer verifies
the signature the same way any Standard Webhooks receiver does:

    webhook-id:        msg_<random>
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">

The key is the bytes after ``whsec_``, base64-decoded. A receiver accepts a timestamp at most
five minutes from its own clock either way (the spec's default tolerance), which bounds how long
a captured request can be replayed; within that window it should also remember ``webhook-id``.

Exception hierarchy::

    WebhookVerificationError
    ├── WebhookHeadersMissing      a webhook-* header is absent or empty
    ├── WebhookTimestampInvalid    webhook-timestamp is not unix seconds
    ├── WebhookTimestampTooOld     more than the tolerance behind the receiver's clock
    ├── WebhookTimestampTooNew     more than the tolerance ahead of the receiver's clock
    └── WebhookSignatureMismatch   no v1 signature in the header matches
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass


class WebhookVerificationError(Exception):
    """A signed request that must not be trusted."""


class WebhookHeadersMissing(WebhookVerificationError):
    """A required webhook-* header is absent or empty."""


class WebhookTimestampInvalid(WebhookVerificationError):
    """The webhook-timestamp header is not a whole number of unix seconds."""


class WebhookTimestampTooOld(WebhookVerificationError):
    """The message was signed longer ago than the tolerance allows."""


class WebhookTimestampTooNew(WebhookVerificationError):
    """The message claims to be signed further in the future than the tolerance allows."""


class WebhookSignatureMismatch(WebhookVerificationError):
    """No signature in the header matches the body under this secret."""


SECRET_PREFIX = "whsec_"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
# Standard Webhooks' default, and DESIGN 5: at most five minutes of clock skew either way.
DEFAULT_TOLERANCE_S = 300
# The spec asks for secrets of 24 to 64 random bytes; 32 sits in the middle.
SECRET_BYTES = 32

_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    """What a verified request's headers say: its id (for de-duplication) and signing time."""

    msg_id: str
    timestamp: int


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret; a malformed secret raises ValueError."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_'")
    encoded = secret[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None
    if not key:
        raise ValueError("a webhook secret holds a non-empty key")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of a message."""
    return _sign_with(secret_key(secret), msg_id, timestamp, body)


def headers(
    secret: str, body: bytes, *, msg_id: str | None = None, now: float | None = None
) -> dict[str, str]:
    """The three webhook-* headers for a request body, with a fresh id unless one is given."""
    key = secret_key(secret)
    msg_id = msg_id if msg_id is not None else "msg_" + secrets.token_urlsafe(18)
    timestamp = int(time.time() if now is None else now)
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: _sign_with(key, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> VerifiedWebhook:
    """Check a request's signature and timestamp; raise a WebhookVerificationError if either fails.

    The header may carry several space-separated signatures (the sender is rotating keys); any
    one valid ``v1`` signature passes. Other versions are skipped, as the spec asks.
    """
    key = secret_key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    signatures = lowered.get(SIGNATURE_HEADER, "")
    required = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
    missing = [name for name in required if not lowered.get(name)]
    if missing:
        raise WebhookHeadersMissing(f"missing header: {', '.join(missing)}")
    if not _TIMESTAMP.fullmatch(stamp):
        raise WebhookTimestampInvalid("webhook-timestamp must be unix seconds")
    timestamp = int(stamp)
    if timestamp < now - tolerance_s:
        raise WebhookTimestampTooOld("webhook-timestamp is too old")
    if timestamp > now + tolerance_s:
        raise WebhookTimestampTooNew("webhook-timestamp is in the future")

    # Signed over the header text as sent, which is what the sender's HMAC covered.
    expected = _sign_with(key, msg_id, stamp, body).encode()
    matched = False
    for candidate in signatures.split(" "):
        if candidate.startswith("v1,"):
            # Every candidate is compared (no early exit) and in constant time.
            matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise WebhookSignatureMismatch("no matching signature")
    return VerifiedWebhook(msg_id, timestamp)


def _sign_with(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
