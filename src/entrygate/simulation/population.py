"""Simulated shoppers for the demo, `entrygate simulate` and the benchmarks."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from entrygate.simulation.terminal import TestCard, random_card_number, tokenize


@dataclass(frozen=True, slots=True)
class Shopper:
    """A person at the gate: a label for the demo's lines and the credential the gate sends."""

    label: str
    channel: str
    credential: dict[str, Any]
    party_size: int = 1


# (label, weight, card factory). Weights give a plausible store morning: most taps are good.
def card_population(rng: random.Random, *, good: int = 40) -> list[tuple[str, float, TestCard]]:
    people: list[tuple[str, float, TestCard]] = []
    for _ in range(good):
        prefix = rng.choice(["4", "51", "55", "2221", "37"])
        pan = random_card_number(rng, prefix=prefix) if prefix != "37" else _amex(rng)
        people.append(("good shopper", 1.0, TestCard(pan, exp_month=rng.randint(1, 12),
                                                     exp_year=rng.randint(2027, 2031),
                                                     funding=rng.choice(["credit", "credit", "debit"]))))
    people += [
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
        return Shopper(label, self.channel, tokenize(card), party_size=party)
