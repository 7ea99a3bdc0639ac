"""A trip's pre-authorization on the console: the capture form's amount, the operation key, and words.

Each rendered form carries an operation key of its own (a hidden field), sent to the hold use cases
as the ``Idempotency-Key``: a form sent twice (a double click, a resent request) is one operation,
answered the second time with the first answer, while a page rendered again is a new operation.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from entrygate.console.display import money_text
from entrygate.domain.holds import Hold, HoldOperation, HoldStatus, ProcessorStep
from entrygate.domain.money import Money
from entrygate.domain.trips import ClosedBy, CloseResult
from entrygate.services.errors import Conflict, ServiceError, Unavailable

KEY_FIELD = "operation_key"
AMOUNT_FIELD = "amount"
# The API's own bound on an amount (wire/schemas.MoneyIn), so the console takes no amount the API refuses.
MAX_AMOUNT = Decimal("1000000")

OPERATIONS = {
    HoldOperation.CAPTURE: "Capture",
    HoldOperation.CANCEL: "Release (by the retailer)",
    HoldOperation.ADJUST: "Adjust",
    HoldOperation.REFUND: "Refund",
    HoldOperation.RELEASE: "Release (by the platform)",
}
DECLINED = {
    ProcessorStep.INCREMENT: "the processor declined raising the hold",
    ProcessorStep.CAPTURE: "the processor declined the capture",
    ProcessorStep.RELEASE: "the processor refused the release",
    ProcessorStep.REFUND: "the processor refused the refund",
}
CLOSED_BY = {ClosedBy.EXIT_GATE: "at an exit gate", ClosedBy.TIMEOUT: "by the platform, after the longest trip",
             ClosedBy.RETAILER: "by the retailer", ClosedBy.OPERATOR: "by the platform's operator"}
# Badge colours: green once the money is in, red when the capture failed, amber while money is held.
STATUS_CSS = {HoldStatus.HELD: "warn", HoldStatus.CAPTURED: "open", HoldStatus.RELEASED: "plain",
              HoldStatus.FAILED: "deny"}


class AmountRefused(ValueError):
    """What was typed in the amount field is no amount; the message completes "The amount …"."""


def new_operation_key() -> str:
    """A fresh key for one rendered form; ``console-`` keeps it apart from the keys of the retailer's API calls."""
    return "console-" + secrets.token_urlsafe(24)


def parse_amount(typed: str, currency: str) -> Money:
    """The capture form's amount in the trip's currency (the use case checks its sign and decimals)."""
    text = typed.strip()
    if not text:
        raise AmountRefused("is required")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    # Plain digits and a point only: "1e3" or "NaN" are numbers to Python, not to someone typing a price.
    if value is None or not value.is_finite() or any(c not in "0123456789.-+" for c in text):
        raise AmountRefused("must be a number, such as 12.50")
    if value > MAX_AMOUNT:
        raise AmountRefused(f"must be at most {money_text(MAX_AMOUNT, currency)}")
    return Money(value, currency)


@dataclass(frozen=True, slots=True)
class Problem:
    """A refused operation in words, shown next to the amount field or above the hold's actions."""

    status: int
    message: str
    on_amount: bool = False


def amount_problem(exc: AmountRefused) -> Problem:
    return Problem(400, f"The amount {exc}.", on_amount=True)


def problem(exc: ServiceError) -> Problem:
    """A 409 (the hold's state forbids it), a 400 (the request) or a 503 (try again), in words; never a 500."""
    if isinstance(exc, Unavailable):
        # The page comes back with the same operation key, so sending it again finishes this operation
        # with the processor keys it already used, and moves no more money.
        return Problem(503, "The payment processor or the database did not answer, so this is not done yet. "
                            "Send the form again; it is the same operation and nothing is charged twice.")
    status = 409 if isinstance(exc, Conflict) else 400
    if "Idempotency-Key" in exc.fields:
        # Only a form edited after it was sent, or one that lost its hidden key, gets here.
        return Problem(status, "This form was already sent with other values, or without its key. "
                               "The page now shows the trip as it stands; try again.")
    if any(f == AMOUNT_FIELD or f.startswith(AMOUNT_FIELD + ".") for f in exc.fields):
        return Problem(status, f"The amount {exc.message.split(': ', 1)[-1]}.", on_amount=True)
    return Problem(status, exc.message[:1].upper() + exc.message[1:])


def notice(done: str | None, hold: Hold | None) -> str | None:
    """The sentence shown once a capture, release or close went through (the ``done`` query parameter)."""
    if done == "capture" and hold is not None and hold.status is HoldStatus.FAILED:
        return "The processor declined the capture; nothing was collected. Try again, or release the hold."
    if done == "capture" and hold is not None and hold.status is HoldStatus.CAPTURED:
        text = f"Captured {money_text(hold.captured)}."
        if hold.history and hold.history[-1].declined is ProcessorStep.INCREMENT:
            text += " The processor declined raising the hold, so the held amount was captured; the rest is unpaid."
        return text
    if done == "release":
        return "The hold is released: nothing is charged, and the trip owes nothing."
    if done == CloseResult.CLOSED.value.lower():
        return "The trip is closed."
    if done == CloseResult.ALREADY_CLOSED.value.lower():
        return "The trip was already closed; nothing changed."
    return None
