"""The demo retailer's back office: settles each trip that ends, the way a store would (DESIGN 10).

Most trips are settled through their hold: the basket's total is captured, and an empty basket
cancels the hold. A card that declines the capture leaves the basket unpaid, a debt, exactly as a
report through the feedback API would. Trips without a hold (QR codes, badges) and the trips of
stores whose retailer charges on its own (``feedback_stores``) are reported through
``POST /v1/feedback/payment-status``, as before. A debtor pays all they owe after ``debt_s``
seconds (reported through the feedback API) and is let in again.

Trips nobody scans out are watched: the back office settles them once the platform has closed
them by ``maxTripMinutes`` (``closedBy: TIMEOUT``), and only then.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from entrygate.retailer.reporting import FeedbackError, PlatformFeedback
from entrygate.retailer.settlement import PlatformSettlement, SettlementError
from entrygate.simulation.population import NON_PAYER

# One basket in twenty is empty (a shopper who walks in and takes nothing); by count, not by
# chance, so every run long enough to settle twenty trips shows a cancel.
EMPTY_BASKET_EVERY = 20
POLL_EVERY_S = 1.0        # how often a trip past its maxTripMinutes is looked up until it closes


@dataclass(frozen=True, slots=True)
class EndedTrip:
    """A trip the back office settles: where, whose, and whether it holds a pre-authorization."""

    trip_id: str
    store: str
    channel: str
    label: str
    person: str
    held: bool
    entered: float = 0.0  # when the gate opened, in the back office's clock (epoch seconds)


@dataclass(frozen=True, slots=True)
class Step:
    """A line for the demo: ``kind`` is CAPT, RPRT, VOID, DECL, DEBT, PAID, CLOSE or FAIL."""

    kind: str
    trip: EndedTrip
    detail: str


@dataclass
class Ledger:
    """What the back office did, and what is unpaid now (by trip)."""

    captured: int = 0
    captured_amount: Decimal = Decimal(0)
    declined: int = 0
    cancelled: int = 0
    reported: int = 0
    timed_out: int = 0
    unpaid: dict[str, Decimal] = field(default_factory=dict)

    @property
    def outstanding(self) -> Decimal:
        return sum(self.unpaid.values(), Decimal(0))


@dataclass
class _Debt:
    due: float
    trip: EndedTrip
    total: Decimal


@dataclass
class _Watched:
    due: float  # when the trip passes its maxTripMinutes: the platform may close it from then on
    trip: EndedTrip
    next_look: float = 0.0


def _debtor(trip: EndedTrip) -> str:
    """Who owes: the card (its PAR) that paid for the trip; a debt of an unknown payer stands alone."""
    return trip.person or trip.trip_id


class BackOffice:
    def __init__(self, settlement: PlatformSettlement, feedback: PlatformFeedback, rng: random.Random, *,
                 currency: str = "USD", debt_s: float = 30.0, feedback_stores: frozenset[str] = frozenset(),
                 clock: Callable[[], float] = time.time) -> None:
        self._settlement = settlement
        self._feedback = feedback
        self._rng = rng
        self._currency = currency
        self._debt_s = debt_s
        self._feedback_stores = feedback_stores
        self._clock = clock
        self._debts: list[_Debt] = []
        self._watched: list[_Watched] = []
        self._baskets = 0  # trips settled through their hold so far
        self.ledger = Ledger()

    def settle(self, trip: EndedTrip) -> list[Step]:
        """Charge the basket of a trip that ended, by capture or by a payment report."""
        try:
            if trip.held and trip.store not in self._feedback_stores:
                return [self._capture(trip)]
            return [self._report(trip)]
        except (SettlementError, FeedbackError) as exc:
            return [Step("FAIL", trip, str(exc)[:120])]

    def watch(self, trip: EndedTrip, *, max_trip_minutes: int) -> None:
        """A trip nobody scanned out: settle it once the platform closes it by time."""
        # From the entry, as the platform counts: a trip is overdue maxTripMinutes after it opened.
        self._watched.append(_Watched(trip.entered + max_trip_minutes * 60, trip))

    def closed_by_time(self, *, last: bool = False) -> list[Step]:
        """Watched trips the platform has closed: a CLOSE line each, then its settlement.

        ``last``: a final look at every trip past its time, however recently it was looked at.
        """
        now = self._clock()
        steps: list[Step] = []
        for w in [w for w in self._watched if w.due <= now and (last or w.next_look <= now)]:
            w.next_look = now + POLL_EVERY_S
            try:
                trip = self._settlement.trip(w.trip.trip_id)
            except SettlementError as exc:
                steps.append(Step("FAIL", w.trip, str(exc)[:120]))
                continue
            if trip.get("status") != "CLOSED":
                continue  # not yet: the platform's sweeper closes it within its interval
            self._watched.remove(w)
            if trip.get("closedBy") == "TIMEOUT":
                self.ledger.timed_out += 1
                steps.append(Step("CLOSE", w.trip, "closed by TIMEOUT (no exit scan)"))
            steps += self.settle(w.trip)
        return steps

    def still_open(self) -> list[tuple[EndedTrip, float]]:
        """Watched trips not yet closed, with the time each passes its maxTripMinutes."""
        return [(w.trip, w.due) for w in self._watched]

    def collect_debts(self) -> tuple[list[Step], list[EndedTrip]]:
        """Debtors whose time has come pay everything they owe; the lines, and a trip of each one let in again."""
        now = self._clock()
        steps: list[Step] = []
        restored: list[EndedTrip] = []
        for person in dict.fromkeys(_debtor(d.trip) for d in self._debts if d.due <= now):
            paid: Step | None = None
            for debt in [d for d in self._debts if _debtor(d.trip) == person]:
                try:
                    self._feedback.report_payment(store_id=debt.trip.store, trip_id=debt.trip.trip_id,
                                                  total=debt.total, settled=debt.total, currency=self._currency)
                except FeedbackError as exc:
                    steps.append(Step("FAIL", debt.trip, str(exc)[:120]))
                    continue
                self._debts.remove(debt)
                self.ledger.unpaid.pop(debt.trip.trip_id, None)
                paid = Step("PAID", debt.trip, f"{self._money(debt.total)} settled")
                steps.append(paid)
            if paid is not None and not any(_debtor(d.trip) == person for d in self._debts):
                # Only once nothing is owed any more is the shopper let in again.
                steps[steps.index(paid)] = Step("PAID", paid.trip, paid.detail + "; access restored")
                restored.append(paid.trip)
        return steps, restored

    def close(self) -> None:
        self._settlement.close_client()
        self._feedback.close()

    def _basket(self) -> Decimal:
        return Decimal(self._rng.randrange(300, 6000)) / 100

    def _capture(self, trip: EndedTrip) -> Step:
        self._baskets += 1
        if self._baskets % EMPTY_BASKET_EVERY == 0:
            self._settlement.cancel(trip.trip_id, key=f"cancel-{trip.trip_id}")
            self.ledger.cancelled += 1
            return Step("VOID", trip, "empty basket, hold released")
        total = self._basket()
        # One key per trip: a back office that retries after a crash must not charge twice.
        answer = self._settlement.capture(trip.trip_id, total, self._currency, key=f"capture-{trip.trip_id}")
        hold = answer.hold
        collected = hold.captured if hold.status == "CAPTURED" else Decimal(0)
        if hold.status == "CAPTURED":
            self.ledger.captured += 1
            self.ledger.captured_amount += collected
        if collected >= total:
            return Step("CAPT", trip, f"{self._money(collected)} captured")
        unpaid = total - collected
        self.ledger.declined += 1
        self._owe(trip, total, unpaid)
        why = "capture declined" if collected == 0 else f"{collected:.2f} captured, raise declined"
        return Step("DECL", trip, f"{why}, {self._money(unpaid).strip()} unpaid")

    def _report(self, trip: EndedTrip) -> Step:
        total = self._basket()
        settled = Decimal(0) if trip.label == NON_PAYER else total
        self._feedback.report_payment(store_id=trip.store, trip_id=trip.trip_id, total=total, settled=settled,
                                      currency=self._currency)
        self.ledger.reported += 1
        if settled < total:
            self._owe(trip, total, total - settled)
            return Step("DEBT", trip, f"{self._money(total)} unpaid")
        return Step("RPRT", trip, f"{self._money(total)} paid, reported")

    def _money(self, amount: Decimal) -> str:
        return f"{amount:>6.2f} {self._currency}"

    def _owe(self, trip: EndedTrip, total: Decimal, unpaid: Decimal) -> None:
        self._debts.append(_Debt(self._clock() + self._debt_s, trip, total))
        self.ledger.unpaid[trip.trip_id] = unpaid
