"""A trip's pre-authorization hold and the rules that move it (DESIGN 10). Pure: no I/O.

    HoldError            a rule refused the operation; ``reason`` says which
    ├── HoldConflict     what the hold's state forbids (the API answers 409 CONFLICT)
    └── HoldInvalid      an amount missing, negative, too precise or in another currency (400);
                         ``field`` names it

Each operation is planned, then applied. ``plan_*`` checks the rules and says what to ask the
processor; ``apply_*`` takes the processor's answers and gives a ``Transition``: the next hold and
the payment outcome the trip gets, the same ``(total, settled)`` pair a retailer reports through
payment-status feedback (one balance, two ways to feed it). The split lets the caller write the
plan down before money moves and finish it afterwards, whatever happened in between.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum

from entrygate.domain.currencies import minor_units
from entrygate.domain.money import Money

# DESIGN 10: a refund is accepted within 30 days of the capture.
REFUND_WINDOW = timedelta(days=30)


class HoldStatus(str, Enum):
    HELD = "HELD"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"
    # The processor declined the capture and nothing was collected. Its authorization stays (as
    # card networks keep it), so the capture may be tried again, or the hold cancelled or released.
    FAILED = "FAILED"


class HoldOperation(str, Enum):
    CAPTURE = "CAPTURE"
    CANCEL = "CANCEL"    # the retailer's release: an empty basket
    ADJUST = "ADJUST"
    REFUND = "REFUND"
    RELEASE = "RELEASE"  # the platform's release of a hold nobody settled in time


class ProcessorStep(str, Enum):
    INCREMENT = "INCREMENT"
    CAPTURE = "CAPTURE"
    RELEASE = "RELEASE"
    REFUND = "REFUND"


class HoldRefusal(str, Enum):
    """Why an operation on a hold was refused: one closed set, each with its sentence."""

    ALREADY_CAPTURED = "ALREADY_CAPTURED"
    RELEASED = "RELEASED"
    CAPTURE_FAILED = "CAPTURE_FAILED"
    NOT_CAPTURED = "NOT_CAPTURED"
    REFUND_ABOVE_CAPTURE = "REFUND_ABOVE_CAPTURE"
    REFUND_WINDOW_CLOSED = "REFUND_WINDOW_CLOSED"
    TRIP_CLOSED = "TRIP_CLOSED"
    IN_PROGRESS = "IN_PROGRESS"
    PROCESSOR_REFUSED = "PROCESSOR_REFUSED"

    @property
    def message(self) -> str:
        return _REFUSALS[self]


_REFUSALS = {
    HoldRefusal.ALREADY_CAPTURED: "The pre-authorization was already captured; refund it instead.",
    HoldRefusal.RELEASED: "The pre-authorization was released; nothing is held.",
    HoldRefusal.CAPTURE_FAILED: "The processor declined the capture and nothing was collected.",
    HoldRefusal.NOT_CAPTURED: "Nothing was captured, so nothing can be refunded.",
    HoldRefusal.REFUND_ABOVE_CAPTURE: "The trip's refunds would add up to more than the capture.",
    HoldRefusal.REFUND_WINDOW_CLOSED: "Refunds are accepted for 30 days after the capture.",
    HoldRefusal.TRIP_CLOSED: "The hold can only be adjusted while the trip is open.",
    HoldRefusal.IN_PROGRESS: "Another operation on this pre-authorization is in progress; try again shortly.",
    HoldRefusal.PROCESSOR_REFUSED: "The payment processor refused the operation.",
}


class HoldError(Exception):
    """A rule of DESIGN 10 refused the operation."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class HoldConflict(HoldError):
    """The hold's state forbids the operation."""

    def __init__(self, refusal: HoldRefusal, detail: str | None = None) -> None:
        super().__init__(refusal.value, f"{refusal.message} {detail}" if detail else refusal.message)
        self.refusal = refusal


class HoldInvalid(HoldError):
    """An amount the operation cannot take; ``field`` is its path in the request body."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__("VALIDATION_ERROR", f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What a trip's payment came to: the retailer's ``totalAmount`` and ``settledAmount``."""

    total: Money
    settled: Money


@dataclass(frozen=True, slots=True)
class HoldEntry:
    """One finished operation in a hold's history."""

    operation: HoldOperation
    amount: Money | None
    status: HoldStatus  # the hold's status after it
    at: datetime
    declined: ProcessorStep | None = None  # the step the processor declined or refused


@dataclass(frozen=True, slots=True)
class HoldSummary:
    """The trip resource's ``preauthorization``: ``{id, status, heldAmount, capturedAmount, refundedAmount}``."""

    preauth_id: str
    status: HoldStatus
    held: Money
    captured: Money
    refunded: Money


@dataclass(frozen=True, slots=True)
class Hold:
    """A pre-authorization on the shopper's card, in the trip's currency.

    ``authorized`` is what the processor holds. Lowering the hold frees nothing there (the
    processor port has no partial release, as card networks mostly do not), so it stays at its
    highest approved amount, and a later raise up to it needs no call to the processor.
    """

    preauth_id: str
    status: HoldStatus
    held: Money
    authorized: Money
    captured: Money
    refunded: Money
    captured_at: datetime | None = None
    history: tuple[HoldEntry, ...] = ()

    @classmethod
    def opened(cls, preauth_id: str, amount: Money) -> Hold:
        """The hold a trip starts with: the amount pre-authorized at the gate."""
        zero = Money(Decimal(0), amount.currency)
        return cls(preauth_id, HoldStatus.HELD, held=amount, authorized=amount, captured=zero, refunded=zero)

    @property
    def currency(self) -> str:
        return self.held.currency

    def summary(self) -> HoldSummary:
        return HoldSummary(self.preauth_id, self.status, self.held, self.captured, self.refunded)

    def _then(self, entry: HoldEntry, **changes: object) -> Hold:
        return replace(self, history=(*self.history, entry), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Plan:
    """What an operation will ask of the processor, fixed before anything is asked."""

    operation: HoldOperation
    amount: Money | None = None    # what the caller asked for (capture, adjust, refund)
    raise_to: Money | None = None  # first ask the processor to raise its hold to this
    release: bool = False          # ask the processor to release the hold


@dataclass(frozen=True, slots=True)
class Transition:
    """The hold after an operation, and what the trip's payment now comes to."""

    hold: Hold
    outcome: PaymentOutcome | None  # None: the trip's total and settled amounts stay as they are
    declined: ProcessorStep | None = None
    refusal: str | None = None      # the processor's refusal, when it refused a step


def check_amount(amount: Money | None, currency: str, *, field_name: str = "amount") -> Money:
    """An amount an operation can take: present, in ``currency``, positive, within its minor units."""
    if amount is None:
        raise HoldInvalid(field_name, "is required")
    if amount.currency != currency:
        raise HoldInvalid(f"{field_name}.currencyCode", f"must be the trip's currency, {currency}")
    if amount.amount < 0:
        raise HoldInvalid(f"{field_name}.value", "must not be negative")
    # Why not zero: a zero capture is a cancel, and a zero hold or refund means nothing.
    if amount.amount == 0:
        raise HoldInvalid(f"{field_name}.value", "must be greater than zero")
    places = minor_units(currency)
    if _decimals(amount.amount) > places:
        raise HoldInvalid(f"{field_name}.value", f"has more decimals than {currency} has ({places})")
    return amount


def _decimals(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _require_held(hold: Hold, *, failed_too: bool = False) -> None:
    if hold.status is HoldStatus.CAPTURED:
        raise HoldConflict(HoldRefusal.ALREADY_CAPTURED)
    if hold.status is HoldStatus.RELEASED:
        raise HoldConflict(HoldRefusal.RELEASED)
    if hold.status is HoldStatus.FAILED and not failed_too:
        raise HoldConflict(HoldRefusal.CAPTURE_FAILED)


def _raise_needed(hold: Hold, amount: Money) -> Money | None:
    return amount if amount.amount > hold.authorized.amount else None


def plan_capture(hold: Hold, amount: Money | None) -> Plan:
    """Capture on an open or closed trip, or again after a decline; above what the processor holds, raise first."""
    amount = check_amount(amount, hold.currency)
    _require_held(hold, failed_too=True)
    return Plan(HoldOperation.CAPTURE, amount, raise_to=_raise_needed(hold, amount))


def plan_cancel(hold: Hold) -> Plan:
    """Release the hold: the basket is empty."""
    if hold.status is HoldStatus.CAPTURED:
        raise HoldConflict(HoldRefusal.ALREADY_CAPTURED)
    # A hold the platform already released is what a cancel asks for; the cancel still records
    # the empty basket, so only a hold still held (or kept after a declined capture) goes to the processor.
    return Plan(HoldOperation.CANCEL, release=hold.status is not HoldStatus.RELEASED)


def plan_adjust(hold: Hold, amount: Money | None, *, trip_open: bool) -> Plan:
    """Change the hold, up or down, while the trip is open."""
    amount = check_amount(amount, hold.currency)
    _require_held(hold)
    if not trip_open:
        raise HoldConflict(HoldRefusal.TRIP_CLOSED)
    return Plan(HoldOperation.ADJUST, amount, raise_to=_raise_needed(hold, amount))


def plan_refund(hold: Hold, amount: Money | None, *, at: datetime) -> Plan:
    """Refund part of a capture, within the window, the trip's refunds adding up to at most the capture."""
    amount = check_amount(amount, hold.currency)
    if hold.status is HoldStatus.FAILED:
        raise HoldConflict(HoldRefusal.CAPTURE_FAILED)
    if hold.status is not HoldStatus.CAPTURED or hold.captured_at is None:
        raise HoldConflict(HoldRefusal.NOT_CAPTURED)
    if at > hold.captured_at + REFUND_WINDOW:
        raise HoldConflict(HoldRefusal.REFUND_WINDOW_CLOSED)
    left = hold.captured - hold.refunded
    if amount.amount > left.amount:
        raise HoldConflict(HoldRefusal.REFUND_ABOVE_CAPTURE, f"At most {left} can still be refunded.")
    return Plan(HoldOperation.REFUND, amount)


def plan_release(hold: Hold) -> Plan | None:
    """The platform's release of a hold nobody captured or cancelled; ``None`` when nothing is held."""
    if hold.status in (HoldStatus.HELD, HoldStatus.FAILED):
        return Plan(HoldOperation.RELEASE, release=True)
    return None


def capture_amount(hold: Hold, plan: Plan, *, raised: bool | None) -> Money:
    """What to capture: the amount asked, or what is held when the processor declined the raise."""
    assert plan.amount is not None
    if plan.raise_to is None or raised:
        return plan.amount
    return hold.held


def _after_raise(hold: Hold, plan: Plan, raised: bool | None) -> Hold:
    """The hold once the raise a plan asked for is answered (approved, declined, or not needed)."""
    assert plan.amount is not None
    if plan.raise_to is not None and not raised:
        return hold
    target = plan.amount if plan.operation is HoldOperation.ADJUST else max(hold.held, plan.amount,
                                                                            key=lambda m: m.amount)
    authorized = plan.raise_to if plan.raise_to is not None else hold.authorized
    return replace(hold, held=target, authorized=authorized)


def apply_capture(hold: Hold, plan: Plan, *, raised: bool | None, collected: Money | None, at: datetime) -> Transition:
    """The hold after a capture, from the processor's answers to the raise and the capture.

    ``raised`` is the answer to the raise (``None``: none was asked); ``collected`` what the
    capture took (``None``: declined). The trip's total is the amount asked and its settled
    amount what was collected: a declined raise leaves the part above the hold unpaid, a
    declined capture all of it.
    """
    assert plan.amount is not None
    base = _after_raise(hold, plan, raised)
    declined = ProcessorStep.INCREMENT if plan.raise_to is not None and not raised else None
    zero = Money(Decimal(0), hold.currency)
    if collected is None:
        entry = HoldEntry(plan.operation, plan.amount, HoldStatus.FAILED, at, ProcessorStep.CAPTURE)
        after = base._then(entry, status=HoldStatus.FAILED)
        return Transition(after, PaymentOutcome(plan.amount, zero), ProcessorStep.CAPTURE)
    entry = HoldEntry(plan.operation, plan.amount, HoldStatus.CAPTURED, at, declined)
    after = base._then(entry, status=HoldStatus.CAPTURED, captured=collected, captured_at=at)
    return Transition(after, PaymentOutcome(plan.amount, collected), declined)


def apply_cancel(hold: Hold, plan: Plan, *, at: datetime) -> Transition:
    """Released; the trip's total and settled amounts become zero."""
    zero = Money(Decimal(0), hold.currency)
    after = hold._then(HoldEntry(plan.operation, None, HoldStatus.RELEASED, at), status=HoldStatus.RELEASED)
    return Transition(after, PaymentOutcome(zero, zero))


def apply_adjust(hold: Hold, plan: Plan, *, raised: bool | None, at: datetime) -> Transition:
    """The hold at the new amount, or as it was when the processor declined the raise."""
    base = _after_raise(hold, plan, raised)
    declined = ProcessorStep.INCREMENT if plan.raise_to is not None and not raised else None
    after = base._then(HoldEntry(plan.operation, plan.amount, HoldStatus.HELD, at, declined))
    return Transition(after, None, declined)


def apply_refund(hold: Hold, plan: Plan, *, refunded: Money, at: datetime,
                 current: PaymentOutcome | None) -> Transition:
    """``refunded`` more refunded; the trip's total and settled amounts each lowered by it.

    ``current`` is the trip's payment as it stands (a retailer's later report may have changed it
    since the capture); without one, the capture's collected amount net of refunds stands in.
    """
    after = hold._then(HoldEntry(plan.operation, plan.amount, HoldStatus.CAPTURED, at),
                       refunded=hold.refunded + refunded)
    if current is None:
        net = hold.captured - hold.refunded
        current = PaymentOutcome(net, net)
    zero = Money(Decimal(0), hold.currency)
    lowered = PaymentOutcome(max(current.total - refunded, zero, key=lambda m: m.amount),
                             max(current.settled - refunded, zero, key=lambda m: m.amount))
    return Transition(after, lowered)


def apply_release(hold: Hold, plan: Plan, *, at: datetime) -> Transition:
    """Released by the platform; the trip's payment stays as the retailer last reported it."""
    after = hold._then(HoldEntry(plan.operation, None, HoldStatus.RELEASED, at), status=HoldStatus.RELEASED)
    return Transition(after, None)


def apply_refused(hold: Hold, plan: Plan, *, step: ProcessorStep, raised: bool | None, at: datetime,
                  refusal: str) -> Transition:
    """The processor refused ``step``: nothing moved at that step, though an approved raise before it stands."""
    base = _after_raise(hold, plan, raised) if plan.amount is not None and raised else hold
    after = base._then(HoldEntry(plan.operation, plan.amount, base.status, at, step))
    return Transition(after, None, step, refusal)
