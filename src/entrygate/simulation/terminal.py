"""A simulated payment terminal: turns public test card numbers into what a gate may send.

The card number stays here. What leaves is the processor token, a stable Payment Account
Reference, the brand, the last four digits and the expiry — never the PAN (DESIGN 6a).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import random
from dataclasses import dataclass
from typing import Any

from entrygate.domain.cards import card_brand, luhn_valid

TEST_CARD_TOKENS = {
    "4242424242424242": "tok_visa_approve",
    "4000000000009995": "tok_decline_insufficient_funds",
    "4000000000000002": "tok_decline_generic",
    "4000000000009987": "tok_decline_lost_stolen",
    "4000000000000069": "tok_expired_card",
}
_TERMINAL_KEY = b"entrygate simulated terminal"


class CardReadError(ValueError):
    """The terminal could not read the card: wrong length, failed Luhn check, unknown brand."""


@dataclass(frozen=True, slots=True)
class TestCard:
    pan: str
    exp_month: int = 12
    exp_year: int = 2030
    funding: str = "credit"
    issuer_country: str = "US"
    # The sandbox token the processor issues for this card, when its behaviour is set on purpose
    # (``tok_capture_decline`` for a card that holds but never pays); otherwise one derived from the PAN.
    token: str | None = None


def tokenize(card: TestCard) -> dict[str, Any]:
    """The credential a gate sends for a tapped card (DESIGN 4.1)."""
    pan = card.pan.replace(" ", "")
    if not (13 <= len(pan) <= 19) or not luhn_valid(pan):
        raise CardReadError("card number failed the Luhn check")
    brand = card_brand(pan)
    if brand is None:
        raise CardReadError("card brand not recognised")
    digest = hmac.new(_TERMINAL_KEY, pan.encode(), hashlib.sha256).digest()
    token = card.token or TEST_CARD_TOKENS.get(pan) or "tok_" + digest[:12].hex()
    par_tail = base64.b32encode(digest).decode().rstrip("=")[:25]
    return {"paymentToken": token, "par": "T001" + par_tail, "brand": brand, "last4": pan[-4:],
            "expMonth": card.exp_month, "expYear": card.exp_year, "funding": card.funding,
            "issuerCountry": card.issuer_country}


def random_card_number(rng: random.Random, *, prefix: str = "4") -> str:
    """A Luhn-valid card number in a brand's range, for simulated shoppers."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(15 - len(prefix)))
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")
