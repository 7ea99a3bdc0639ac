"""Card credentials as a payment terminal reports them, and the checks that need no network.

A gate never sends a primary account number (PAN): the terminal hands over a processor token and
the card's Payment Account Reference (PAR). ``contains_pan`` guards the edge against a device that
does send one anyway, so it can be refused before it is stored or logged.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_PAR = re.compile(r"^[A-Z0-9]{29}$")


def luhn_valid(digits: str) -> bool:
    """The mod-10 check (ISO/IEC 7812-1 annex B) over a string of digits."""
    if not digits.isdigit() or not digits:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def looks_like_pan(text: str) -> bool:
    """True when ``text`` holds 13-19 digits (spaces or dashes allowed) that pass the Luhn check."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def find_pan_field(payload: Any, path: str = "", *, skip: Callable[[str], bool] | None = None) -> str | None:
    """The dotted path of the first string or number in ``payload`` that looks like a PAN.

    ``skip`` exempts strings of a known harmless shape (an event id that is a UUID).
    """
    if isinstance(payload, dict):
        for key, value in payload.items():
            found = find_pan_field(value, f"{path}.{key}" if path else str(key), skip=skip)
            if found:
                return found
        return None
    if isinstance(payload, (list, tuple)):
        for i, value in enumerate(payload):
            found = find_pan_field(value, f"{path}[{i}]", skip=skip)
            if found:
                return found
        return None
    if isinstance(payload, bool):
        return None
    if isinstance(payload, str) and skip is not None and skip(payload):
        return None
    if isinstance(payload, (str, int)) and looks_like_pan(str(payload)):
        return path or "body"
    return None


def card_brand(pan: str) -> str | None:
    """The brand of a card number by its issuer identification number range."""
    if not pan.isdigit():
        return None
    two, three, four = int(pan[:2]), int(pan[:3]), int(pan[:4])
    if pan.startswith("4"):
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if four == 6011 or 644 <= three <= 649 or two == 65:
        return "DISCOVER"
    return None


def is_par(value: str) -> bool:
    """A Payment Account Reference: 29 characters, a 4-character BIN controller id and 25 more."""
    return bool(_PAR.match(value))


@dataclass(frozen=True, slots=True)
class CardCredential:
    """What a payment terminal reports for a tapped or inserted card. Never a PAN."""

    payment_token: str
    par: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str | None = None
    issuer_country: str | None = None

    def expired_on(self, today: date) -> bool:
        """A card is good through the last day of its expiry month."""
        return (self.exp_year, self.exp_month) < (today.year, today.month)

    def months_to_expiry(self, today: date) -> int:
        return (self.exp_year - today.year) * 12 + (self.exp_month - today.month)

    def display(self) -> dict[str, str]:
        """The part of a card that may be shown and sent to connectors."""
        return {"brand": self.brand, "last4": self.last4}


def instrument_id(card: CardCredential, *, secret: bytes) -> str:
    """The stable, opaque id of the payment instrument behind a card.

    Keyed by the PAR when the terminal gives one (a plastic card and its wallet tokens share it),
    otherwise by the processor token. A keyed hash (HMAC-SHA256 with the server secret), never a
    plain hash, so an id cannot be tested against guessed inputs.
    """
    source = f"par:{card.par}" if card.par else f"tok:{card.payment_token}"
    return instrument_id_for(source, secret=secret)


def instrument_id_for(source: str, *, secret: bytes) -> str:
    digest = hmac.new(secret, source.encode(), hashlib.sha256).hexdigest()
    return "pi_" + digest[:32].translate(_HEX_TO_LETTERS)


# Ids written with letters only can never hold a run of digits, so no id entrygate hands out is
# ever mistaken for a card number when a device sends it back.
_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str, *, length: int = 24) -> str:
    """A random id (letters only; 24 letters carry 112 bits)."""
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))
