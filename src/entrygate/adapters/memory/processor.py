"""The sandbox processor with faults put in on purpose and every hold operation written down.

``down``: methods that fail before reaching the processor. ``lose_answer``: methods whose next
call is done by the processor but whose answer is lost, as in a timeout. ``refuse``: methods the
processor refuses. ``during``: a hook run inside the next call of a method, after the processor
acted, while the caller waits (no transaction is open then). Pre-authorizations pass straight
through and are not written down: they open the trips a test then works on.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.money import Money
from entrygate.services.ports.processor import (
    CaptureResult,
    HoldStateError,
    IncrementResult,
    PreauthResult,
    ProcessorUnavailable,
    RefundResult,
)


class ScriptedProcessor:
    """A ``PaymentProcessor`` over ``inner`` (a fast sandbox by default), with scripted faults."""

    def __init__(self, inner: SandboxProcessor | None = None) -> None:
        self.inner = inner or SandboxProcessor(timeout_s=0.01)
        self.calls: list[tuple[str, str]] = []  # (method, idempotency key)
        self.down: set[str] = set()
        self.lose_answer: set[str] = set()
        self.refuse: set[str] = set()
        self.during: dict[str, Callable[[], None]] = {}

    def keys(self, method: str) -> Counter[str]:
        """How often each idempotency key was sent to ``method``."""
        return Counter(key for m, key in self.calls if m == method)

    def _call(self, method: str, key: str, act: Callable[[], Any]) -> Any:
        self.calls.append((method, key))
        if method in self.down:
            raise ProcessorUnavailable("simulated: no answer")
        if method in self.refuse:
            raise HoldStateError("simulated: the processor refuses")
        result = act()
        hook = self.during.pop(method, None)
        if hook is not None:
            hook()
        if method in self.lose_answer:
            self.lose_answer.discard(method)
            raise ProcessorUnavailable("simulated: the answer was lost")
        return result

    def preauthorize(self, *, token: str, amount: Money, idempotency_key: str) -> PreauthResult:
        return self.inner.preauthorize(token=token, amount=amount, idempotency_key=idempotency_key)

    def increment(self, *, preauth_id: str, new_amount: Money, idempotency_key: str) -> IncrementResult:
        return self._call("increment", idempotency_key, lambda: self.inner.increment(
            preauth_id=preauth_id, new_amount=new_amount, idempotency_key=idempotency_key))

    def capture(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> CaptureResult:
        return self._call("capture", idempotency_key, lambda: self.inner.capture(
            preauth_id=preauth_id, amount=amount, idempotency_key=idempotency_key))

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        return self._call("release", idempotency_key, lambda: self.inner.release(
            preauth_id=preauth_id, idempotency_key=idempotency_key))

    def refund(self, *, preauth_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        return self._call("refund", idempotency_key, lambda: self.inner.refund(
            preauth_id=preauth_id, amount=amount, idempotency_key=idempotency_key))
