"""The sandbox payment processor: outcomes chosen by the payment token, like public test cards."""
from __future__ import annotations

import hashlib
import time

from entrygate.domain.money import Money
from entrygate.services.ports import PreauthResult, ProcessorUnavailable

# token -> (decline code, blocks the instrument from then on)
SANDBOX_DECLINES: dict[str, tuple[str, bool]] = {
    "tok_decline_insufficient_funds": ("insufficient_funds", False),
    "tok_decline_generic": ("generic", False),
    "tok_decline_lost_stolen": ("lost_stolen", True),
    "tok_expired_card": ("expired_card", False),
}
UNAVAILABLE_TOKEN = "tok_processor_unavailable"


class SandboxProcessor:
    """Approves every other ``tok_…`` token for the amount asked.

    ``tok_processor_unavailable`` behaves like a processor that never answers: the call waits
    out the platform's processor deadline and then gives up, as a real adapter's would.
    """

    def __init__(self, *, timeout_s: float = 2.0) -> None:
        self._timeout_s = timeout_s

    def preauthorize(self, *, token: str, amount: Money, idempotency_key: str) -> PreauthResult:
        if token == UNAVAILABLE_TOKEN:
            time.sleep(self._timeout_s)
            raise ProcessorUnavailable(f"no answer within {self._timeout_s:.1f}s")
        if not token.startswith("tok_") or len(token) > 255:
            return PreauthResult(approved=False, decline_code="invalid")
        decline = SANDBOX_DECLINES.get(token)
        if decline is not None:
            return PreauthResult(approved=False, decline_code=decline[0], block_instrument=decline[1])
        # The same idempotency key gives the same authorization, as a processor's would.
        preauth_id = "pa_" + hashlib.sha256(f"{idempotency_key}|{amount}".encode()).hexdigest()[:24]
        return PreauthResult(approved=True, preauth_id=preauth_id)
