"""The reference retailer's rotating QR codes.

A QR code is ``EG1.<visitor token>.<time step>.<MAC>``:

- ``EG1`` names this layout, so a later one can be told apart.
- The visitor token is the retailer's opaque, URL-safe id for the visitor (``[A-Za-z0-9_-]+``).
- The time step is ``floor(unix_time / step_seconds)``. DESIGN 6 asks for a 15-30 s step; 20 s
  is short enough that a photographed code is stale by the time it is carried to another gate,
  and long enough that a phone refreshing its code rarely shows one that is already late.
- The MAC is HMAC-SHA256 over ``EG1.<token>.<step>`` with the retailer's key, truncated to its
  first 16 bytes and written in base64url without padding (22 characters). 128 bits is far above
  the 80-bit floor and half-output guidance for truncated HMAC tags (NIST SP 800-107 section
  5.3.4, RFC 2104 section 5), and a shorter string makes a sparser QR symbol that gate scanners
  read faster.

Every code matches the store's default ``qrPattern``
``^EG1\\.[A-Za-z0-9_-]+\\.[0-9]+\\.[A-Za-z0-9_-]+$``.

A code is accepted at most one step late (RFC 6238 section 5.2's allowance for transmission
delay) and at most one step early (clock skew between the retailer's issuing and verifying hosts,
or a code issued just after a step boundary by a clock slightly ahead). Single use is not this
module's job: ``verify`` answers a ``QrClaim`` and the caller's storage must remember its
``(token, step)`` and refuse it a second time, until ``QrClaim.remember_until`` has passed.

Exception hierarchy::

    QrCodeError
    ├── QrCodeMalformed   not an EG1 code at all
    ├── QrCodeBadMac      the MAC does not match (forged or for another key)
    ├── QrCodeExpired     more than ``max_late_steps`` steps old
    └── QrCodeFromFuture  more than ``max_early_steps`` steps ahead
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass


class QrCodeError(Exception):
    """A scanned code that must not open the gate."""


class QrCodeMalformed(QrCodeError):
    """The string is not an ``EG1.<token>.<step>.<MAC>`` code."""


class QrCodeBadMac(QrCodeError):
    """The code's MAC does not match: forged, altered, or issued under another key."""


class QrCodeExpired(QrCodeError):
    """The code's time step is more than the allowed number of steps in the past."""


class QrCodeFromFuture(QrCodeError):
    """The code's time step is more than the allowed number of steps in the future."""


PREFIX = "EG1"
STEP_SECONDS = 20
MAC_BYTES = 16
# Bounds that keep a code well inside the connector's 1000-character identity key once base64'd.
MAX_TOKEN_LENGTH = 256
_MAX_STEP_DIGITS = 15

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_CODE = re.compile(
    rf"EG1\.([A-Za-z0-9_-]{{1,{MAX_TOKEN_LENGTH}}})\.(0|[1-9][0-9]{{0,{_MAX_STEP_DIGITS - 1}}})"
    rf"\.([A-Za-z0-9_-]{{{math.ceil(MAC_BYTES * 4 / 3)}}})"
)


@dataclass(frozen=True, slots=True)
class QrClaim:
    """A verified code: who it names and the time step it was issued for."""

    token: str
    step: int

    def remember_until(self, *, step_seconds: int = STEP_SECONDS, max_late_steps: int = 1) -> float:
        """The unix time after which this code is refused as expired, so need not be remembered."""
        return float((self.step + max_late_steps + 1) * step_seconds)


def time_step(now: float, *, step_seconds: int = STEP_SECONDS) -> int:
    """The time step a unix time falls in."""
    if step_seconds <= 0:
        raise ValueError("step_seconds must be positive")
    if not math.isfinite(now) or now < 0:
        raise ValueError("now must be a non-negative unix time")
    return int(now // step_seconds)


def issue(key: bytes, token: str, *, now: float, step_seconds: int = STEP_SECONDS) -> str:
    """A fresh code for a visitor token, valid for the step ``now`` falls in."""
    _check_key(key)
    if not isinstance(token, str) or not _TOKEN.fullmatch(token) or len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(f"a visitor token is 1-{MAX_TOKEN_LENGTH} characters of [A-Za-z0-9_-]")
    step = time_step(now, step_seconds=step_seconds)
    return f"{PREFIX}.{token}.{step}.{_mac(key, token, step)}"


def verify(
    key: bytes,
    code: str,
    *,
    now: float,
    step_seconds: int = STEP_SECONDS,
    max_late_steps: int = 1,
    max_early_steps: int = 1,
) -> QrClaim:
    """The claim a code makes, once its MAC and time step check out; a QrCodeError otherwise.

    The MAC is checked before the time, so a forged code learns nothing about the window.
    """
    _check_key(key)
    match = _CODE.fullmatch(code) if isinstance(code, str) else None
    if not match:
        raise QrCodeMalformed("not an EG1 code")
    token, step = match[1], int(match[2])
    if not hmac.compare_digest(_mac(key, token, step).encode(), match[3].encode()):
        raise QrCodeBadMac("the code's MAC does not match")
    current = time_step(now, step_seconds=step_seconds)
    if step < current - max_late_steps:
        raise QrCodeExpired("the code has expired")
    if step > current + max_early_steps:
        raise QrCodeFromFuture("the code is from the future")
    return QrClaim(token, step)


def _mac(key: bytes, token: str, step: int) -> str:
    digest = hmac.new(key, f"{PREFIX}.{token}.{step}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()


def _check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise ValueError("the retailer's QR key must be non-empty bytes")

