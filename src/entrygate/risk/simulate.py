"""A simulated entry history, to train and test the risk model before there is real feedback.

The population (shares of payment instruments, ``DEFAULT_MIX``):

- **honest shoppers** (88%): regulars at one to three home stores and one-off visitors, at
  daytime hours, mostly alone; a few are tourists with foreign cards, a few pay with prepaid
  cards, some hover a palm; now and then a card is declined (insufficient funds) and retried,
  and about one trip in a hundred goes unpaid, most of those paid later.
- **repeat non-payers** (5%): debit and prepaid cards, frequent visits, about half of their
  trips unpaid; some pay later, the retailer labels many as bad debt after a while.
- **card testers** (3.5%): many attempts in a short burst (a few slowly, over days) across
  several stores, half of them declined; mostly prepaid and foreign cards close to expiry;
  small baskets, most of them never paid.
- **stolen cards** (3.5%): a burst of entries within hours of the theft, often with a foreign
  issuer, larger parties, at odd hours, until the owner reports the card (then every attempt is
  declined); a third of the domestic ones have earlier, honest history of their owner.

Each instrument's attempts are replayed in time order and its features are computed only from
what the platform would have known at that moment: feedback (unpaid trips, labels) arrives with
a delay, so the first entries of a stolen card or a non-payer look like anyone's. One row per
*admitted* entry (a declined pre-authorization opens no gate, so it has no outcome; it only feeds
the decline counts of later rows). Label: the entry led to a loss (fraud or a trip never paid).
Loss: the trip value that was never collected, in store currency units.

The overlap is deliberate (honest tourists, night-shift workers, families, declines; fraud at
ordinary hours on domestic cards; first-time non-payers): a held-out ROC AUC around 0.9, not 1.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from entrygate.domain.channels import Channel
from entrygate.risk.features import RiskFeatures, to_matrix

SEGMENTS = ("honest", "non_payer", "card_tester", "stolen_card")
DEFAULT_MIX = {"honest": 0.88, "non_payer": 0.05, "card_tester": 0.035, "stolen_card": 0.035}
WINDOW_HOURS = 120 * 24.0  # four months of history
STORES = 40
_DAY = 24.0


@dataclass(frozen=True)
class SimulatedHistory:
    """Labelled entries of a simulated population, one row per admitted entry."""

    X: np.ndarray  # (n, features) float32
    y: np.ndarray  # (n,) int8: 1 when the entry led to a loss
    losses: np.ndarray  # (n,) float64: uncollected trip value, 0 for good entries
    trip_values: np.ndarray  # (n,) float64: the trip's basket value
    segments: np.ndarray  # (n,) int8 index into SEGMENTS
    instruments: np.ndarray  # (n,) int32 instrument number, for grouped splits
    hours: np.ndarray  # (n,) float64 entry time, hours since the window opened
    features: tuple[RiskFeatures, ...]

    def __len__(self) -> int:
        return len(self.y)

    @property
    def segment_names(self) -> np.ndarray:
        """The segment name of each row."""
        return np.asarray(SEGMENTS)[self.segments]


@dataclass(slots=True)
class _Attempt:
    t: float
    store: int
    party: int
    palm: bool
    declined: bool = False
    value: float = 0.0
    loss: float = 0.0
    unpaid_at: float | None = None  # when the platform learns the trip went unpaid
    repaid_at: float | None = None
    label: str | None = None  # "fraud" | "bad_debt" | "invalid_card"
    label_at: float = float("inf")


@dataclass(slots=True)
class _Card:
    brand: str
    funding: str
    foreign: bool
    expiry_month: int  # months after the window opened; the card is good through that month


def simulate_history(n_instruments: int, *, seed: int, mix: dict[str, float] | None = None,
                     progress: Callable[[int], None] | None = None) -> SimulatedHistory:
    """Simulate the entries of ``n_instruments`` payment instruments, reproducibly by ``seed``."""
    rng = random.Random(seed)
    shares = mix or DEFAULT_MIX
    names, weights = list(shares), list(shares.values())
    rows: list[RiskFeatures] = []
    meta: list[tuple[int, float, float, int, int, float]] = []
    for i in range(n_instruments):
        segment = rng.choices(names, weights)[0]
        card, attempts = _PLAN[segment](rng)
        for f, a in _replay(card, attempts):
            rows.append(f)
            meta.append((int(a.loss > 0), a.loss, a.value, SEGMENTS.index(segment), i, a.t))
        if progress is not None and (i + 1) % 500 == 0:
            progress(500)
    if progress is not None and n_instruments % 500:
        progress(n_instruments % 500)
    cols = list(zip(*meta)) if meta else [()] * 6
    return SimulatedHistory(
        X=to_matrix(rows), y=np.asarray(cols[0], dtype=np.int8),
        losses=np.asarray(cols[1], dtype=np.float64), trip_values=np.asarray(cols[2], dtype=np.float64),
        segments=np.asarray(cols[3], dtype=np.int8), instruments=np.asarray(cols[4], dtype=np.int32),
        hours=np.asarray(cols[5], dtype=np.float64), features=tuple(rows))


def _replay(card: _Card, attempts: list[_Attempt]):
    """Yield (features, attempt) for each admitted attempt, from what was known before it."""
    attempts.sort(key=lambda a: a.t)
    past: list[_Attempt] = []
    for a in attempts:
        t = a.t
        month = int(t // (30.4 * _DAY))
        if month > card.expiry_month:
            a.declined = True  # expired: the processor declines it
        if not a.declined:
            yield _features(card, past, a, month), a
        past.append(a)


def _features(card: _Card, past: list[_Attempt], a: _Attempt, month: int) -> RiskFeatures:
    t = a.t
    e1 = e24 = d24 = dtot = trips = unpaid = fraud = bad_debt = invalid = 0
    balance = 0.0
    stores: set[int] = set()
    for p in past:
        age = t - p.t
        if age <= _DAY:
            e24 += 1
            stores.add(p.store)
            d24 += p.declined
            e1 += age <= 1.0
        dtot += p.declined
        trips += not p.declined
        if p.unpaid_at is not None and p.unpaid_at <= t:
            unpaid += 1
            if p.repaid_at is None or p.repaid_at > t:
                balance += p.value
        if p.label_at <= t:
            fraud += p.label == "fraud"
            bad_debt += p.label == "bad_debt"
            invalid += p.label == "invalid_card"
    return RiskFeatures(
        entries_1h=e1, entries_24h=e24, entries_total=len(past), distinct_stores_24h=len(stores),
        declines_24h=d24, declines_total=dtot, trips_total=trips, unpaid_trips=unpaid,
        outstanding_balance=round(balance, 2), fraud_labels=fraud, bad_debt_labels=bad_debt,
        invalid_card_labels=invalid,
        days_since_first_seen=round((t - past[0].t) / _DAY, 3) if past else 0.0,
        brand=card.brand, funding=card.funding, foreign_issuer=card.foreign,
        months_to_expiry=card.expiry_month - month,
        channel=Channel.PALM if a.palm else Channel.CREDIT_CARD, party_size=a.party,
        local_hour=int(t % _DAY))


# --- the population -------------------------------------------------------------------------

def _pick(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), list(table.values()))[0]


def _day_hour(rng: random.Random, *, odd: float) -> float:
    """An hour of the day: mostly the morning, lunch and evening peaks; ``odd`` of them at night."""
    if rng.random() < odd:
        return rng.choice((22, 23, 0, 1, 2, 3, 4, 5)) + rng.random()
    center = rng.choice((8.5, 12.5, 17.5, 19.0))
    return min(max(rng.gauss(center, 1.4), 6.0), 22.99)


def _party(rng: random.Random, weights: tuple[float, ...]) -> int:
    return rng.choices((1, 2, 3, 4), weights)[0]


def _at(day: float, hour: float) -> float:
    return min(float(int(day)) * _DAY + hour, WINDOW_HOURS - 0.01)


def _expiry(rng: random.Random, *, tester: bool = False) -> int:
    """Months from the window's start to the card's expiry month.

    Every segment spans the same range (cards are issued for up to five years), so the model
    cannot learn "far from expiry means honest"; testers' cards lean towards expiry (old card
    dumps), and one in ten is already expired, so its attempts are declined.
    """
    if tester:
        return int(60 * rng.betavariate(1.0, 2.0)) - (rng.random() < 0.1) * 60
    return rng.randint(1, 60)


def _basket(rng: random.Random, mu: float, party: int) -> float:
    return round(rng.lognormvariate(mu, 0.6) * (1 + 0.5 * (party - 1)), 2)


_HONEST_BRANDS = {"VISA": 0.5, "MASTERCARD": 0.31, "AMEX": 0.11, "DISCOVER": 0.06, "OTHER": 0.02}
_HONEST_DECLINE = {"credit": 0.015, "debit": 0.04, "prepaid": 0.06, "unknown": 0.03}


def _honest_visits(rng: random.Random, card: _Card, start: float, end: float, n: int) -> list[_Attempt]:
    homes = rng.sample(range(STORES), rng.choice((1, 1, 2, 3)))
    palm_user = not card.foreign and rng.random() < 0.25
    out: list[_Attempt] = []
    for _ in range(n):
        day = rng.uniform(start, end) / _DAY
        store = rng.choice(homes) if rng.random() < 0.9 else rng.randrange(STORES)
        a = _Attempt(_at(day, _day_hour(rng, odd=0.03)), store, _party(rng, (75, 17, 5, 3)),
                     palm_user and rng.random() < 0.8)
        out.append(a)
        if rng.random() < _HONEST_DECLINE[card.funding]:
            a.declined = True
            if rng.random() < 0.4:  # tries again a few minutes later
                out.append(_Attempt(a.t + rng.uniform(0.02, 0.2), store, a.party, a.palm,
                                    declined=rng.random() < 0.5))
        if rng.random() < 0.04:  # comes back within the hour
            out.append(_Attempt(a.t + rng.uniform(0.1, 0.9), store, 1, a.palm))
    for a in out:
        if a.declined:
            continue
        a.value = _basket(rng, 2.9, a.party)
        if rng.random() < (0.01 if card.funding == "credit" else 0.02):
            _unpaid(rng, a, repay=0.6, label=0.4, label_after=(7, 21))
    return out


def _unpaid(rng: random.Random, a: _Attempt, *, repay: float, label: float,
            label_after: tuple[float, float]) -> None:
    a.unpaid_at = a.t + rng.uniform(24, 72)
    if rng.random() < repay:
        a.repaid_at = a.unpaid_at + rng.uniform(1, 20) * _DAY
    else:
        a.loss = a.value
        if rng.random() < label:
            a.label, a.label_at = "bad_debt", a.unpaid_at + rng.uniform(*label_after) * _DAY


def _plan_honest(rng: random.Random) -> tuple[_Card, list[_Attempt]]:
    foreign = rng.random() < 0.07
    card = _Card(_pick(rng, _HONEST_BRANDS),
                 _pick(rng, {"credit": 0.55, "debit": 0.36, "prepaid": 0.05, "unknown": 0.04}),
                 foreign, _expiry(rng))
    start = rng.uniform(0, WINDOW_HOURS * 0.95)
    if foreign:  # a tourist: a few visits within days
        n, end = 1 + int(rng.expovariate(1 / 1.5)), min(start + rng.uniform(1, 6) * _DAY, WINDOW_HOURS)
    else:
        n, end = min(60, max(1, int(rng.lognormvariate(1.3, 0.9)))), WINDOW_HOURS
    return card, _honest_visits(rng, card, start, end, n)


def _plan_non_payer(rng: random.Random) -> tuple[_Card, list[_Attempt]]:
    card = _Card(_pick(rng, _HONEST_BRANDS),
                 _pick(rng, {"debit": 0.45, "prepaid": 0.3, "credit": 0.2, "unknown": 0.05}),
                 rng.random() < 0.08, _expiry(rng))
    start = rng.uniform(0, WINDOW_HOURS * 0.8)
    n = min(40, 2 + int(rng.lognormvariate(1.5, 0.7)))
    homes = rng.sample(range(STORES), rng.choice((1, 2, 3, 4)))
    palm = rng.random() < 0.08
    out = []
    for _ in range(n):
        party = _party(rng, (65, 20, 10, 5))
        a = _Attempt(_at(rng.uniform(start, WINDOW_HOURS) / _DAY, _day_hour(rng, odd=0.06)),
                     rng.choice(homes), party, palm, declined=rng.random() < 0.18)
        if not a.declined:
            a.value = _basket(rng, 3.1, party)
            if rng.random() < 0.5:
                _unpaid(rng, a, repay=0.25, label=0.55, label_after=(3, 15))
        out.append(a)
    return card, out


def _plan_card_tester(rng: random.Random) -> tuple[_Card, list[_Attempt]]:
    card = _Card(_pick(rng, {"VISA": 0.55, "MASTERCARD": 0.35, "AMEX": 0.05, "DISCOVER": 0.03, "OTHER": 0.02}),
                 _pick(rng, {"prepaid": 0.45, "credit": 0.3, "debit": 0.15, "unknown": 0.1}),
                 rng.random() < 0.55, _expiry(rng, tester=True))
    if rng.random() < 0.75:  # a fast burst
        n, span = min(20, 2 + int(rng.expovariate(1 / 4))), rng.uniform(0.2, 3.0)
    else:  # a slow, patient tester
        n, span = rng.randint(2, 6), rng.uniform(1, 4) * _DAY
    stores = rng.sample(range(STORES), min(6, 1 + int(rng.expovariate(1 / 1.5))))
    t0 = _at(rng.uniform(0, WINDOW_HOURS - span) / _DAY, _day_hour(rng, odd=0.4))
    out = []
    for _ in range(n):
        party = _party(rng, (85, 15, 0, 0))
        a = _Attempt(min(t0 + rng.uniform(0, span), WINDOW_HOURS - 0.01), rng.choice(stores), party,
                     rng.random() < 0.01, declined=rng.random() < 0.5)
        if not a.declined:
            a.value = _basket(rng, 2.3, party)
            if rng.random() < 0.85:  # the cardholder disputes most of what a tester took
                a.loss = a.value
                kind = "invalid_card" if rng.random() < 0.65 else "fraud"
                a.label, a.label_at = kind, a.t + rng.uniform(12, 120)
        out.append(a)
    return card, out


def _plan_stolen_card(rng: random.Random) -> tuple[_Card, list[_Attempt]]:
    card = _Card(_pick(rng, {"VISA": 0.45, "MASTERCARD": 0.33, "AMEX": 0.18, "DISCOVER": 0.03, "OTHER": 0.01}),
                 _pick(rng, {"credit": 0.72, "debit": 0.22, "prepaid": 0.03, "unknown": 0.03}),
                 rng.random() < 0.45, _expiry(rng))
    theft = _at(rng.uniform(WINDOW_HOURS * 0.1, WINDOW_HOURS - 2) / _DAY, _day_hour(rng, odd=0.45))
    out: list[_Attempt] = []
    if not card.foreign and rng.random() < 0.35:  # the owner shopped here before the theft
        out = _honest_visits(rng, card, rng.uniform(0, theft * 0.8), theft - 1, rng.randint(1, 8))
        out = [a for a in out if a.t < theft]
    span = rng.uniform(1, 36)
    reported = theft + rng.expovariate(1 / 18)
    stores = rng.sample(range(STORES), min(5, 1 + int(rng.expovariate(1 / 1.2))))
    t = theft
    for _ in range(min(12, 1 + int(rng.expovariate(1 / 3)))):
        party = _party(rng, (40, 25, 20, 15))
        a = _Attempt(min(t, WINDOW_HOURS - 0.01), rng.choice(stores), party, rng.random() < 0.02,
                     declined=t >= reported or rng.random() < 0.08)
        if not a.declined:
            a.value = _basket(rng, 3.5, party)
            if rng.random() < 0.9:  # charged back once the owner notices
                a.loss = a.value
                if rng.random() < 0.9:
                    a.label, a.label_at = "fraud", reported + rng.uniform(24, 240)
        out.append(a)
        t += rng.uniform(0.25, max(0.5, span / 3))
    return card, out


_PLAN = {"honest": _plan_honest, "non_payer": _plan_non_payer,
         "card_tester": _plan_card_tester, "stolen_card": _plan_stolen_card}
