"""The payment processor port: the whole life of a hold (hold, raise, capture, release, refund).

Every operation is idempotent on the caller's ``idempotency_key``: the same key with the same
arguments gives the first answer again and moves no more money; the same key with other arguments
is refused (``IdempotencyConflict``). A key belongs to one operation on one hold.

Exceptions::

    ProcessorUnavailable            no answer within the deadline: try again later,
                                    with the same idempotency key
    ProcessorError                  the processor answered and refused the request
     +-- InvalidProcessorRequest    an amount or currency it cannot take (not positive, too many
                                    decimals, another currency than the hold's)
     +-- HoldStateError             what the hold's state forbids: capture of a captured or released
     |    |                         hold, capture above the hold, refund before or above the capture
     |    +-- UnknownHold           no hold with this id
     +-- IdempotencyConflict        the key was used before for another request
     +-- ProcessorConfigError       the processor refuses our credentials or settings

A card decline is not an exception: it is a result with ``approved=False`` and a ``decline_code``
from one vocabulary, ``insufficient_funds``, ``generic``, ``lost_stolen``, ``expired_card``,
``invalid`` (``services.gate.admit`` maps them to reason codes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from entrygate.domain.money import Money

__all__ = [
    "DECLINE_CODES", "CaptureResult", "HoldStateError", "IdempotencyConflict", "IncrementResult",
    "InvalidProcessorRequest", "PaymentProcessor", "PreauthResult", "ProcessorConfigError", "ProcessorError",
    "ProcessorUnavailable", "RefundResult", "UnknownHold",
]

@dataclass(frozen=True, slots=True)
class PreauthResult:
    approved: bool
    preauth_id: str | None = None
    decline_code: str | None = None  # one of DECLINE_CODES
    block_instrument: bool = False


class ProcessorUnavailable(Exception):
    """The payment processor did not answer within its deadline."""


DECLINE_CODES = frozenset({"insufficient_funds", "generic", "lost_stolen", "expired_card", "invalid"})


class ProcessorError(Exception):
    """The processor answered and refused the request (a decline is a result, not this)."""


class InvalidProcessorRequest(ProcessorError):
    """An amount or currency the processor cannot take."""


class HoldStateError(ProcessorError):
    """The hold's state forbids the operation (the platform answers 409)."""


class UnknownHold(HoldStateError):
    """The processor has no hold with this id."""


class IdempotencyConflict(ProcessorError):
    """The idempotency key was already used for another request."""


class ProcessorConfigError(ProcessorError):
    """The processor refuses the platform's credentials or settings: an operator must act."""


@dataclass(frozen=True, slots=True)
class IncrementResult:
    """A raise of the hold: approved (``held`` is the hold now) or declined (the hold is unchanged)."""

    approved: bool
    held: Money | None = None
    decline_code: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """A capture: approved (``captured`` collected, the rest of the hold released) or declined (nothing)."""

    approved: bool
    captured: Money
    decline_code: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """A refund of part or all of a capture."""

    refund_id: str
    refunded: Money


class PaymentProcessor(Protocol):
    """A processor of holds: hold, raise, capture, release, refund."""

    def preauthorize(self, *, token: str, amount: Money, idempotency_key: str) -> PreauthResult:
        """Hold ``amount`` on the card behind ``token``; a decline is a result, not an exception."""
        ...

    def increment(self, *, preauth_id: str, new_amount: Money, idempotency_key: str) -> IncrementResult:
        """Raise a held amount to ``new_amount`` (above the hold); the card may decline the raise."""
        ...

    def capture(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> CaptureResult:
        """Collect ``amount`` (at most the hold) and release the rest; once per hold."""
        ...

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        """Let go of an uncaptured hold; releasing a released hold does nothing, a captured one is refused."""
        ...

    def refund(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        """Give back part of a capture; a hold's refunds add up to at most its capture."""
        ...
