"""Simulated shoppers for the demo, `entrygate simulate` and the benchmarks."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from entrygate.domain import qr
from entrygate.domain.badges import encode, encode_bits
from entrygate.simulation.palm_reader import PalmPerson, PalmPopulation
from entrygate.simulation.palm_reader import read as palm_read
from entrygate.simulation.terminal import TestCard, random_card_number, tokenize


@dataclass(frozen=True, slots=True)
class Shopper:
    """A person at the gate: a label for the demo's lines and the credential the gate sends."""

    label: str
    channel: str
    credential: dict[str, Any]
    party_size: int = 1
    person: str = ""  # the PAR of the card that pays, for card and palm shoppers: who owes what


NON_PAYER = "repeat non-payer"
CARD_TESTER = "card tester"
# The sandbox token of a card that holds at the gate and declines every capture (DESIGN 10): a
# non-payer's basket stays unpaid at the capture, as a retailer would report it.
CAPTURE_DECLINE_TOKEN = "tok_capture_decline"


# (label, weight, card). Weights give a plausible store morning: most taps are good.
def card_population(rng: random.Random, *, good: int = 40) -> list[tuple[str, float, TestCard]]:
    people: list[tuple[str, float, TestCard]] = []
    for _ in range(good):
        prefix = rng.choice(["4", "51", "55", "2221", "37"])
        pan = random_card_number(rng, prefix=prefix) if prefix != "37" else _amex(rng)
        # All good shoppers together weigh 40: most taps are good, however many there are.
        people.append(("good shopper", 40 / good, TestCard(pan, exp_month=rng.randint(1, 12),
                                                     exp_year=rng.randint(2027, 2031),
                                                     funding=rng.choice(["credit", "credit", "debit"]))))
    # Repeat non-payers: cards that hold at the gate and decline the capture (or whose trips the
    # retailer reports unpaid); they pay up later.
    for _ in range(3):
        people.append((NON_PAYER, 1.2, TestCard(random_card_number(rng, prefix="4"), funding="debit",
                                                token=CAPTURE_DECLINE_TOKEN)))
    people += [
        # A card tester probes one prepaid foreign card again and again; the model learns the pattern.
        (CARD_TESTER, 1.0, TestCard("4000000000009995", funding="prepaid", issuer_country="NG")),
        ("stolen card", 0.5, TestCard(random_card_number(rng, prefix="55"), funding="prepaid", issuer_country="RU")),
        ("good shopper (test card)", 3.0, TestCard("4242424242424242")),
        ("insufficient funds", 1.5, TestCard("4000000000009995")),
        ("generic decline", 1.0, TestCard("4000000000000002")),
        ("lost card", 0.5, TestCard("4000000000009987")),
        ("expired card", 0.7, TestCard("4000000000000069", exp_month=1, exp_year=2024)),
    ]
    return people


def _amex(rng: random.Random) -> str:
    from entrygate.domain.cards import luhn_valid

    body = "37" + "".join(str(rng.randrange(10)) for _ in range(12))
    return next(body + c for c in "0123456789" if luhn_valid(body + c))


class CardLane:
    """Picks the next card tap: a weighted choice, now and then a group."""

    channel = "CREDIT_CARD"

    def __init__(self, rng: random.Random, *, good: int = 40) -> None:
        self._rng = rng
        self._people = card_population(rng, good=good)
        self._weights = [w for _, w, _ in self._people]

    def next(self) -> Shopper:
        label, _, card = self._rng.choices(self._people, weights=self._weights)[0]
        party = 1 if self._rng.random() < 0.85 else self._rng.randint(2, 5)
        if label == "stolen card":
            party = self._rng.randint(3, 5)
        credential = tokenize(card)
        return Shopper(label, self.channel, credential, party_size=party, person=credential["par"])

    def again(self, shopper: Shopper) -> Shopper:
        """The same shopper back at the gate, alone: the same card tapped again."""
        return Shopper(shopper.label, self.channel, shopper.credential, person=shopper.person)


# --- retailer-identified lanes: QR codes and badges ---------------------------------------------


@dataclass(frozen=True, slots=True)
class AppUser:
    """A visitor of the reference retailer whose app shows rotating QR codes."""

    visitor_id: str
    qr_token: str
    associate: bool = False


class QrLane:
    """Phones at the QR scanner: registered shoppers and associates, and the codes that must fail.

    A code opens once per visitor and time step, so a registered shopper is only drawn when
    their current code is unused; replays and expired codes are drawn on purpose.
    """

    channel = "QR_CODE"

    def __init__(self, rng: random.Random, *, qr_key: bytes, shoppers: list[AppUser],
                 associates: list[AppUser], clock: Any = None) -> None:
        self._rng = rng
        self._key = qr_key
        self._shoppers = shoppers
        self._associates = associates
        self._clock = clock or time.time
        self._used: dict[str, int] = {}  # token -> the last step its code was shown at a gate
        self._recent: list[str] = []

    def next(self) -> Shopper:
        now = self._clock()
        step = qr.time_step(now)
        kind = self._rng.choices(["shopper", "associate", "replay", "expired", "stranger", "other code"],
                                 weights=[10, 1.5, 1, 1, 0.7, 0.5])[0]
        if kind in ("shopper", "associate"):
            fresh = [u for u in (self._associates if kind == "associate" else self._shoppers)
                     if self._used.get(u.qr_token) != step]
            if fresh:
                user = self._rng.choice(fresh)
                self._used[user.qr_token] = step
                code = qr.issue(self._key, user.qr_token, now=now)
                self._recent = [code, *self._recent[:9]]
                label = "associate (app)" if user.associate else "registered shopper (app)"
                return Shopper(label, self.channel, {"scanValue": code})
            kind = "replay"  # everyone has shown this step's code already: a second scan is a replay
        if kind == "replay" and self._recent:
            return Shopper("replayed screenshot", self.channel, {"scanValue": self._rng.choice(self._recent)})
        if kind == "expired":
            user = self._rng.choice(self._shoppers)
            code = qr.issue(self._key, user.qr_token, now=now - 3 * qr.STEP_SECONDS)
            return Shopper("expired code", self.channel, {"scanValue": code})
        if kind == "other code":
            return Shopper("someone else's QR code", self.channel,
                           {"scanValue": f"https://example.com/coupon/{self._rng.randrange(10**6)}"})
        token = "".join(self._rng.choice("abcdefghijkmnpqrstuvwxyz0123456789") for _ in range(16))
        return Shopper("stranger's code", self.channel, {"scanValue": qr.issue(b"not the retailer's key", token,
                                                                                now=now)})


@dataclass(frozen=True, slots=True)
class DemoBadge:
    """A badge the reference retailer knows: a Wiegand format with facility and card, or a serial number."""

    format: str
    facility: int | None = None
    card: int | None = None
    csn: str | None = None
    associate: bool = False


class BadgeLane:
    """Badges at the reader: registered shoppers and associates, unknown badges, misreads."""

    channel = "BADGE"

    def __init__(self, rng: random.Random, *, badges: list[DemoBadge]) -> None:
        self._rng = rng
        self._badges = badges

    def next(self) -> Shopper:
        kind = self._rng.choices(["known", "unknown", "parity", "unsupported"], weights=[10, 1.2, 0.8, 0.6])[0]
        if kind == "unknown":
            return Shopper("unknown badge", self.channel,
                           {"bits": encode_bits("H10301", self._rng.randrange(200, 256), self._rng.randrange(65536))})
        if kind == "unsupported":
            return Shopper("34-bit badge (not accepted)", self.channel,
                           {"bits": encode_bits("H10306", self._rng.randrange(65536), self._rng.randrange(65536))})
        badge = self._rng.choice([b for b in self._badges if b.csn is None] if kind == "parity" else self._badges)
        who = "associate badge" if badge.associate else "registered badge"
        if badge.csn is not None:
            return Shopper(f"{who} (CSN)", self.channel, {"csn": badge.csn})
        bits = encode_bits(badge.format, badge.facility, badge.card or 0)
        if kind == "parity":
            flip = self._rng.randrange(len(bits))
            return Shopper("badge misread (parity)", self.channel,
                           {"bits": bits[:flip] + ("1" if bits[flip] == "0" else "0") + bits[flip + 1:]})
        if self._rng.random() < 0.5:
            value, length = encode(badge.format, badge.facility, badge.card or 0)
            return Shopper(f"{who} ({badge.format})", self.channel, {"hex": format(value, "x"), "bitLength": length})
        return Shopper(f"{who} ({badge.format})", self.channel, {"bits": bits})


# --- the palm lane: enrolled palms, strangers, spoofs --------------------------------------------


@dataclass(frozen=True, slots=True)
class PalmEnrollee:
    """A person who enrolled a palm at the kiosk, and the card it pays with."""

    label: str
    person: PalmPerson
    card: dict[str, Any]  # the terminal's tokenized card (never a PAN)


def palm_enrollees(rng: random.Random, palms: PalmPopulation, *, count: int = 50,
                   non_payers: int = 3) -> list[PalmEnrollee]:
    """``count`` people with a good test card each; a few of them leave their trips unpaid."""
    people = []
    for i in range(count):
        label = NON_PAYER if i < non_payers else "enrolled palm"
        card = TestCard(random_card_number(rng, prefix=rng.choice(["4", "51", "55"])),
                        exp_month=rng.randint(1, 12), exp_year=rng.randint(2028, 2031),
                        token=CAPTURE_DECLINE_TOKEN if label == NON_PAYER else None)
        people.append(PalmEnrollee(label, palms.person(i), tokenize(card)))
    return people


class PalmLane:
    """Hands over the palm reader: enrolled shoppers (a fresh noisy read each time), strangers
    whose palm nobody enrolled (PALM_NO_MATCH), and photos or replicas (PALM_LIVENESS_FAILED)."""

    channel = "PALM"

    def __init__(self, rng: random.Random, *, palms: PalmPopulation, enrolled: list[PalmEnrollee]) -> None:
        self._rng = rng
        self._np = np.random.default_rng(rng.randrange(2**32))
        self._palms = palms
        self._enrolled = enrolled

    def next(self) -> Shopper:
        kind = self._rng.choices(["enrolled", "stranger", "spoof"], weights=[10, 1.5, 1])[0]
        if kind == "stranger" or not self._enrolled:
            stranger = self._palms.stranger(self._rng.randrange(10_000))
            return Shopper("stranger's palm", self.channel, palm_read(stranger, self._np).credential())
        who = self._rng.choice(self._enrolled)
        if kind == "spoof":
            spoof = palm_read(who.person, self._np, spoof=True).credential()
            return Shopper("spoofed palm (photo)", self.channel, spoof)
        label = who.label if who.label == NON_PAYER else "enrolled palm"
        return Shopper(label, self.channel, palm_read(who.person, self._np).credential(), person=who.card["par"])

    def again(self, shopper: Shopper) -> Shopper:
        """The same enrolled person back at the reader: a fresh read of the same palm."""
        who = next(p for p in self._enrolled if p.card["par"] == shopper.person)
        return Shopper(shopper.label, self.channel, palm_read(who.person, self._np).credential(), person=shopper.person)
