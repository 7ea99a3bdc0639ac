"""Secrets per purpose (DESIGN 15): which purposes there are, which rotate, and their key ids.

Every purpose has its own key. ``ENTRYGATE_SECRET_KEY`` is the root: the instrument-id key is the
root itself (instrument ids must never change, so neither does it), and each rotatable purpose
starts with a key derived from the root (key id ``<purpose>-0``). ``entrygate keys rotate`` gives a
purpose a new random key (``<purpose>-<8 hex>``), stored in the database wrapped under a key
derived from the root; docs/security.md describes the whole scheme.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from enum import Enum


class Purpose(str, Enum):
    INSTRUMENT = "instrument"  # instrument ids (HMAC-SHA256 of PAR or token): never rotates
    PALM = "palm"  # palm templates at rest (AES-256-GCM)
    SESSIONS = "sessions"  # console session cookies and CSRF tokens (HMAC-SHA256)
    OFFLINE = "offline"  # offline bundle signatures (Ed25519)


ROTATABLE = (Purpose.PALM, Purpose.SESSIONS, Purpose.OFFLINE)

# How long a retired key still verifies what it signed. A console session lives 12 hours
# (services/console/auth.SESSION_LIFETIME), so a sessions key verifies for 12 hours after it is
# replaced; an offline bundle lives at most OFFLINE_BUNDLE_MAX_LIFETIME, so a signing key's public
# half is published that long after it is replaced. A palm key is kept until no template is under it.
SESSIONS_KEY_GRACE = timedelta(hours=12)
OFFLINE_BUNDLE_MAX_LIFETIME = timedelta(days=7)



def root_key_id(purpose: Purpose) -> str:
    """The id of the key a purpose starts with, derived from ``ENTRYGATE_SECRET_KEY``."""
    return f"{purpose.value}-0"


def new_key_id(purpose: Purpose) -> str:
    """A fresh random key id for ``purpose``."""
    return f"{purpose.value}-{secrets.token_hex(4)}"


def rotatable(name: str) -> Purpose | None:
    """The rotatable purpose called ``name``, or None (an unknown or fixed purpose)."""
    try:
        purpose = Purpose(name)
    except ValueError:
        return None
    return purpose if purpose in ROTATABLE else None
