"""The sandbox payment processor: outcomes chosen by the payment token, like public test cards.

It keeps each hold's life the way a card network does: a capture above the hold needs a raise
first, a hold is captured once (the rest is released), a released hold cannot be captured, refunds
add up to at most the capture, and the same idempotency key gives the same answer.

Holds live in this process's memory (a lock-guarded dict). The platform keeps its own record of
each hold in its database, and may touch a hold after a restart or from another worker process;
so a hold the sandbox does not know is *adopted* when its id is one the sandbox issued
(``holds_id``): the id says the token's behaviour, the currency and the amount first held. What the
adopted hold went through before (raises, a capture, a release) is lost with the memory that held
it, and there the sandbox defers to the platform's ledger, the record that survived:

- a capture above the amount first held is taken, as the raise it needs may have been approved
  elsewhere; but not for ``tok_no_increment``, whose raises are never approved;
- a refund of a hold seen only as held is taken, as the capture may have happened elsewhere;
- everything the token decides (declined captures, declined raises) holds as before.

With a ledger file, a request under an idempotency key this process has not seen is answered
from the ledger when any process already answered it there (``sandbox_ledger``): the sandbox
keeps its word on idempotency across restarts, as a processor does.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from entrygate.adapters.processors import holds_id
from entrygate.adapters.processors.sandbox_ledger import Ledger, read_ledger
from entrygate.domain.currencies import to_minor
from entrygate.domain.money import Money
from entrygate.services.ports.processor import (
    CaptureResult,
    HoldStateError,
    IdempotencyConflict,
    IncrementResult,
    InvalidProcessorRequest,
    PreauthResult,
    ProcessorUnavailable,
    RefundResult,
    UnknownHold,
)

# token -> (decline code, blocks the instrument from then on); DESIGN section 6a
SANDBOX_DECLINES: dict[str, tuple[str, bool]] = {
    "tok_decline_insufficient_funds": ("insufficient_funds", False),
    "tok_decline_generic": ("generic", False),
    "tok_decline_lost_stolen": ("lost_stolen", True),
    "tok_expired_card": ("expired_card", False),
}
UNAVAILABLE_TOKEN = "tok_processor_unavailable"
CAPTURE_DECLINE_TOKEN = "tok_capture_decline"
NO_INCREMENT_TOKEN = "tok_no_increment"
# A fault to inject, like the tokens above: the capture is taken, but its answer arrives only after
# the processor deadline, so the call gives up (ProcessorUnavailable) with the money already moved.
# What a retry under the same key must then do is replay the capture, never take it again.
SLOW_CAPTURE_TOKEN = "tok_slow_capture"
_KINDS = {CAPTURE_DECLINE_TOKEN: holds_id.CAPTURE_DECLINES, NO_INCREMENT_TOKEN: holds_id.NO_INCREMENT,
          SLOW_CAPTURE_TOKEN: holds_id.SLOW_CAPTURE}
__all__ = ["SandboxProcessor", "from_settings", "read_ledger"]
TEST_TOKENS = (*SANDBOX_DECLINES, UNAVAILABLE_TOKEN, CAPTURE_DECLINE_TOKEN, NO_INCREMENT_TOKEN, SLOW_CAPTURE_TOKEN)
log = structlog.get_logger("entrygate.processor.sandbox")


def looks_like_a_decline(token: str) -> bool:
    """A token whose name asks for a decline the sandbox has no rule for (``tok_visa_decline``, ``tok_decline_cvc``).

    Why refuse it rather than approve it as "any other token": a developer who wrote it is testing a
    decline, and an open gate would tell them their decline handling works when it never ran.
    """
    return token not in TEST_TOKENS and "decline" in token.lower()
# Memory stays bounded in a long-running demo; a hold pushed out is adopted again from its id.
MAX_HOLDS = 100_000
MAX_KEYS = 100_000

HELD, CAPTURED, RELEASED = "HELD", "CAPTURED", "RELEASED"


@dataclass
class _Hold:
    kind: str
    currency: str | None
    held: Decimal | None        # None: a legacy id, whose amount the sandbox never knew
    state: str = HELD
    captured: Decimal | None = None   # None while not captured, or captured before an adoption
    refunded: Decimal = Decimal(0)
    adopted: bool = False


class SandboxProcessor:
    """Approves every other ``tok_…`` token for the amount asked, except one that asks for a decline the sandbox
    does not know (``looks_like_a_decline``): that one is refused as invalid, and the log names the real ones.

    ``tok_processor_unavailable`` behaves like a processor that never answers: the call waits
    out the platform's processor deadline and then gives up, as a real adapter's would.

    ``released`` maps the holds let go in this process to the idempotency key of their release.
    With a ``ledger`` file, every hold, raise, capture, release and refund is also appended to it,
    one JSON line each, so that what a sandbox did can be checked from outside, across processes,
    the way a test-mode dashboard shows it (``read_ledger``).
    """

    def __init__(self, *, timeout_s: float = 2.0, ledger: str | Path | None = None) -> None:
        self._timeout_s = timeout_s
        self._ledger = Ledger(ledger) if ledger else None
        self.released: dict[str, str] = {}
        self._lock = threading.Lock()
        self._holds: OrderedDict[str, _Hold] = OrderedDict()
        self._answers: OrderedDict[str, tuple[tuple[Any, ...], Any]] = OrderedDict()

    # -- the port ----------------------------------------------------------------------------

    def preauthorize(self, *, token: str, amount: Money, idempotency_key: str) -> PreauthResult:
        if token == UNAVAILABLE_TOKEN:
            time.sleep(self._timeout_s)
            raise ProcessorUnavailable(f"no answer within {self._timeout_s:.1f}s")
        if not token.startswith("tok_") or len(token) > 255:
            return PreauthResult(approved=False, decline_code="invalid")
        if looks_like_a_decline(token):
            log.warning("sandbox_unknown_test_token", token=token, refused_as="INVALID_CREDENTIAL",
                        decline_tokens=", ".join(SANDBOX_DECLINES))
            return PreauthResult(approved=False, decline_code="invalid")
        decline = SANDBOX_DECLINES.get(token)
        if decline is not None:
            return PreauthResult(approved=False, decline_code=decline[0], block_instrument=decline[1])
        _positive(amount, "amount")
        request = ("preauthorize", token, amount.amount, amount.currency)
        with self._lock:
            replay = self._replay(idempotency_key, request)
            if replay is not None:
                return replay
            # The same key and request give the same id, even after a restart, as a network's would.
            kind = _KINDS.get(token, holds_id.ORDINARY)
            seed = f"{idempotency_key}|{token}|{to_minor(amount.amount, amount.currency)} {amount.currency}"
            preauth_id = holds_id.encode(kind=kind, currency=amount.currency, held=amount.amount, seed=seed)
            self._remember_hold(preauth_id, _Hold(kind=kind, currency=amount.currency, held=amount.amount))
            self._record("hold", preauth_id, idempotency_key, amount)
            return self._answer(idempotency_key, request, PreauthResult(approved=True, preauth_id=preauth_id))

    def increment(self, *, preauth_id: str, new_amount: Money, idempotency_key: str) -> IncrementResult:
        _positive(new_amount, "new_amount")
        return self._step("increment", preauth_id, new_amount, idempotency_key, self._raise)[0]

    def capture(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> CaptureResult:
        _positive(amount, "amount")
        result, hold = self._step("capture", preauth_id, amount, idempotency_key, self._take)
        if hold is not None and hold.kind == holds_id.SLOW_CAPTURE:  # taken now, not a replay
            time.sleep(self._timeout_s)  # outside the lock: other holds go on meanwhile
            raise ProcessorUnavailable(f"the capture was taken, but no answer came within {self._timeout_s:.1f}s")
        return result

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        request = ("release", preauth_id)
        with self._lock:
            if self._replay(idempotency_key, request) is not None:
                return
            hold = self._hold(preauth_id)
            if hold.state == CAPTURED:
                raise HoldStateError(f"hold {preauth_id} is captured; refund it instead of releasing it")
            # Releasing a released hold changes nothing: the release sweep may run twice.
            if hold.state != RELEASED:
                hold.state = RELEASED
                self.released[preauth_id] = idempotency_key
                self._record("release", preauth_id, idempotency_key)
            self._answer(idempotency_key, request, True)

    def refund(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        _positive(amount, "amount")
        return self._step("refund", preauth_id, amount, idempotency_key, self._give_back)[0]

    # -- raise, capture, refund: what each does to a hold (under the lock) ------------------

    def _step(self, op: str, preauth_id: str, amount: Money, key: str,
              apply: Callable[[str, _Hold, Money, str], Any]) -> tuple[Any, _Hold | None]:
        """A raise, capture or refund: the answer given before under ``key`` (and None), or ``apply``'s
        answer for the hold, recorded and kept (and the hold it was applied to)."""
        request = (op, preauth_id, amount.amount, amount.currency)
        with self._lock:
            replay = self._replay(key, request)
            if replay is not None:
                return replay, None
            hold = self._hold(preauth_id)
            self._same_currency(hold, amount)
            result = apply(preauth_id, hold, amount, key)
            self._record(op, preauth_id, key, amount, approved=getattr(result, "approved", None))  # refunds: None
            return self._answer(key, request, result), hold

    @staticmethod
    def _raise(preauth_id: str, hold: _Hold, new_amount: Money, key: str) -> IncrementResult:
        if hold.state != HELD:
            raise HoldStateError(f"hold {preauth_id} is {hold.state.lower()}; only a held amount can be raised")
        if hold.held is not None and new_amount.amount <= hold.held:
            raise HoldStateError(f"a raise must be above the {hold.held} {hold.currency} held")
        if hold.kind == holds_id.NO_INCREMENT:
            return IncrementResult(approved=False, decline_code="generic")
        hold.held = new_amount.amount
        return IncrementResult(approved=True, held=new_amount)

    def _take(self, preauth_id: str, hold: _Hold, amount: Money, key: str) -> CaptureResult:
        if hold.state != HELD:
            raise HoldStateError(f"hold {preauth_id} is {hold.state.lower()}; it cannot be captured")
        if hold.held is not None and amount.amount > hold.held and not self._lost_raise_possible(hold):
            raise HoldStateError(f"{amount.amount} {amount.currency} is above the {hold.held} {hold.currency} "
                                 "held: raise the hold first")
        if hold.kind == holds_id.CAPTURE_DECLINES:
            # The hold stays: the platform may release it, or try again and be declined again.
            return CaptureResult(approved=False, captured=Money(Decimal(0), amount.currency), decline_code="generic")
        hold.state, hold.captured = CAPTURED, amount.amount
        return CaptureResult(approved=True, captured=amount)

    @staticmethod
    def _give_back(preauth_id: str, hold: _Hold, amount: Money, key: str) -> RefundResult:
        if hold.state == HELD and hold.adopted:
            hold.state = CAPTURED     # captured before this process knew it, as far as it can tell
        if hold.state != CAPTURED:
            raise HoldStateError(f"hold {preauth_id} is {hold.state.lower()}; only a capture can be refunded")
        if hold.captured is not None and hold.refunded + amount.amount > hold.captured:
            left = hold.captured - hold.refunded
            raise HoldStateError(f"{amount.amount} {amount.currency} is above the {left} {hold.currency} "
                                 "captured and not yet refunded")
        hold.refunded += amount.amount
        return RefundResult(refund_id=_refund_id(preauth_id, key), refunded=amount)

    # -- holds and idempotency (under the lock) ---------------------------------------------

    def _hold(self, preauth_id: str) -> _Hold:
        hold = self._holds.get(preauth_id)
        if hold is not None:
            return hold
        facts = holds_id.decode(preauth_id)
        if facts is None:
            raise UnknownHold(f"no hold {preauth_id!r}: not a pre-authorization of the sandbox processor")
        hold = _Hold(kind=facts.kind, currency=facts.currency, held=facts.held, adopted=True)
        self._remember_hold(preauth_id, hold)
        return hold

    def _remember_hold(self, preauth_id: str, hold: _Hold) -> None:
        self._holds[preauth_id] = hold
        if len(self._holds) > MAX_HOLDS:
            self._holds.popitem(last=False)

    @staticmethod
    def _lost_raise_possible(hold: _Hold) -> bool:
        """An adopted hold may have been raised before this process knew it, unless its token never allows it."""
        return hold.adopted and hold.kind != holds_id.NO_INCREMENT

    @staticmethod
    def _same_currency(hold: _Hold, amount: Money) -> None:
        if hold.currency is None:
            hold.currency = amount.currency
        elif amount.currency != hold.currency:
            raise InvalidProcessorRequest(f"the hold is in {hold.currency}, not {amount.currency}")

    def _record(self, op: str, preauth_id: str, key: str, amount: Money | None = None, *,
                approved: bool | None = None) -> None:
        if self._ledger is None:
            return
        line: dict[str, object] = {"op": op, "preauthId": preauth_id, "idempotencyKey": key}
        if amount is not None:
            line.update(amount=str(amount.amount), currency=amount.currency)
        if approved is not None:
            line["approved"] = approved
        self._ledger.append(line)

    def _replay(self, key: str, request: tuple[Any, ...]) -> Any:
        seen = self._answers.get(key)
        if seen is None and self._ledger is not None:
            seen = self._from_ledger(key)
        if seen is None:
            return None
        if seen[0] != request:
            raise IdempotencyConflict(f"idempotency key {key!r} was used for another request")
        return seen[1]

    def _answer(self, key: str, request: tuple[Any, ...], result: Any) -> Any:
        # Only answers are kept: a refused request did nothing, so it may be sent again as it is.
        self._answers[key] = (request, result)
        if len(self._answers) > MAX_KEYS:
            self._answers.popitem(last=False)
        return result

    def _from_ledger(self, key: str) -> tuple[tuple[Any, ...], Any] | None:
        """The request and answer another process (or this one before a restart) gave under ``key``, applied
        to the hold as this process now knows it; None when the ledger has no such step."""
        line = self._ledger.find(key) if self._ledger is not None else None
        if line is None or line["op"] == "hold":  # a hold's id is the same for the same key anyway
            return None
        op, preauth_id = line["op"], line["preauthId"]
        hold = self._hold(preauth_id)
        if op == "release":
            hold.state = RELEASED
            self.released[preauth_id] = key
            seen: tuple[tuple[Any, ...], Any] = (("release", preauth_id), True)
        else:
            money = Money(Decimal(line["amount"]), line["currency"])
            request = (op, preauth_id, money.amount, money.currency)
            approved = bool(line.get("approved", True))
            if op == "capture":
                if approved:
                    hold.state, hold.captured = CAPTURED, money.amount
                result: Any = CaptureResult(approved=approved, captured=money if approved else Money(Decimal(0),
                                            money.currency), decline_code=None if approved else "generic")
            elif op == "increment":
                if approved:
                    hold.held = money.amount
                result = IncrementResult(approved=approved, held=money if approved else None,
                                         decline_code=None if approved else "generic")
            else:
                hold.state, hold.refunded = CAPTURED, hold.refunded + money.amount
                result = RefundResult(refund_id=_refund_id(preauth_id, key), refunded=money)
            seen = (request, result)
        self._answers[key] = seen
        return seen


def _refund_id(preauth_id: str, idempotency_key: str) -> str:
    digest = hashlib.blake2b(f"{preauth_id}|{idempotency_key}".encode(), digest_size=12).hexdigest()
    return f"re_{digest}"


def _positive(amount: Money, field: str) -> None:
    if amount.amount <= 0:
        raise InvalidProcessorRequest(f"{field} must be above zero, got {amount.amount} {amount.currency}")
    try:
        to_minor(amount.amount, amount.currency)
    except ValueError as exc:
        raise InvalidProcessorRequest(f"{field}: {exc}") from None


def from_settings(settings: object) -> SandboxProcessor:
    """The ``sandbox`` plugin's factory (entry point ``entrygate.processors``)."""
    return SandboxProcessor(timeout_s=getattr(settings, "processor_timeout_ms", 2000) / 1000,
                            ledger=getattr(settings, "sandbox_ledger", None))
