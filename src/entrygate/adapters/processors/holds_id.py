"""The sandbox's pre-authorization ids: each carries the facts a card network would look up.

A sandbox hold lives in one process's memory, while the platform keeps the hold's id in its
database and may capture it after a restart or from another worker. So the id itself says what
the sandbox needs to go on: the token's behaviour (not the token), the currency and the amount
first held, with a check so that a mistyped or made-up id is refused rather than adopted::

    pa_<kind><CUR><minor units held>_<nonce: 16 hex><check: 8 hex>     e.g. pa_nUSD5000_3f...c1

``kind`` is ``n`` (ordinary), ``c`` (``tok_capture_decline``), ``i`` (``tok_no_increment``) or ``s``
(``tok_slow_capture``).
The check is a keyed hash, not a secret: the sandbox moves no money; it only tells its own ids
from others. Ids of the first sandbox (``pa_`` and 24 hex digits) still parse, with no amount.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from entrygate.domain.currencies import from_minor, to_minor

ORDINARY, CAPTURE_DECLINES, NO_INCREMENT, SLOW_CAPTURE = "n", "c", "i", "s"
_KEY = b"entrygate-sandbox-preauth-v2"
_ID = re.compile(r"^pa_([ncis])([A-Z]{3})(\d{1,18})_([0-9a-f]{16})([0-9a-f]{8})$")
_LEGACY_ID = re.compile(r"^pa_[0-9a-f]{24}$")


@dataclass(frozen=True, slots=True)
class HoldFacts:
    """What a sandbox preauth id says about its hold; ``None`` where a legacy id does not say."""

    kind: str
    currency: str | None
    held: Decimal | None


def _check(body: str) -> str:
    return hashlib.blake2b(body.encode(), digest_size=4, key=_KEY).hexdigest()


def encode(*, kind: str, currency: str, held: Decimal, seed: str) -> str:
    """A new preauth id; the same ``seed`` (idempotency key, token, amount) gives the same id."""
    nonce = hashlib.blake2b(seed.encode(), digest_size=8, key=_KEY).hexdigest()
    body = f"pa_{kind}{currency}{to_minor(held, currency)}_{nonce}"
    return body + _check(body)


def decode(preauth_id: str) -> HoldFacts | None:
    """The facts in a sandbox preauth id, or ``None`` when it is not one the sandbox issued."""
    if _LEGACY_ID.match(preauth_id):
        return HoldFacts(kind=ORDINARY, currency=None, held=None)
    match = _ID.match(preauth_id)
    if match is None or _check(preauth_id[:-8]) != match.group(5):
        return None
    kind, currency, units = match.group(1), match.group(2), int(match.group(3))
    try:
        held = from_minor(units, currency)
    except ValueError:
        return None
    return HoldFacts(kind=kind, currency=currency, held=held)
