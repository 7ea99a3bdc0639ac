"""The sandbox payment processor: outcomes chosen by the payment token, like public test cards."""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

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

    ``released`` lists the holds let go in this process. With a ``ledger`` file, every hold and
    release is also appended to it, one JSON line each, so that what a sandbox holds can be
    checked from outside, across processes, the way a test-mode dashboard shows it.
    """

    def __init__(self, *, timeout_s: float = 2.0, ledger: str | Path | None = None) -> None:
        self._timeout_s = timeout_s
        self._ledger = Path(ledger) if ledger else None
        self._lock = threading.Lock()
        self.released: dict[str, str] = {}  # preauth id -> the idempotency key of its release

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
        self._record({"op": "hold", "preauthId": preauth_id, "amount": str(amount.amount),
                      "currency": amount.currency, "idempotencyKey": idempotency_key})
        return PreauthResult(approved=True, preauth_id=preauth_id)

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        """Let the hold go; a hold already released stays released and nothing more happens."""
        with self._lock:
            if preauth_id in self.released:
                return
            self.released[preauth_id] = idempotency_key
        self._record({"op": "release", "preauthId": preauth_id, "idempotencyKey": idempotency_key})

    def _record(self, line: dict[str, str]) -> None:
        if self._ledger is None:
            return
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        # One append-mode write per line: lines from several processes never interleave.
        fd = os.open(self._ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def read_ledger(path: str | Path) -> list[dict[str, str]]:
    """The lines a sandbox ledger file holds, oldest first."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
