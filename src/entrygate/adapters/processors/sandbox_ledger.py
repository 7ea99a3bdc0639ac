"""The sandbox's ledger: a file of what it did, one JSON line per step, shared by every process naming it.

It is what a test-mode dashboard shows (``read_ledger``), and the sandbox's memory of its answers
beyond one process: a request repeated under an idempotency key the process has not seen (after a
restart, or from another worker) is answered from the ledger, as a real processor answers from
its own records, instead of moving the money again.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class Ledger:
    """Appends lines, and finds the first line written under an idempotency key."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._offset = 0  # how much of the file is indexed
        self._by_key: dict[str, dict[str, Any]] = {}

    def append(self, line: dict[str, Any]) -> None:
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        # One append-mode write per line: lines from several processes never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def find(self, idempotency_key: str) -> dict[str, Any] | None:
        """The first line written under ``idempotency_key`` by any process, or None."""
        with self._lock:
            self._catch_up()
            return self._by_key.get(idempotency_key)

    def _catch_up(self) -> None:
        """Index the lines appended since the last look (complete lines only: a write may be under way)."""
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        for raw in data[:end].splitlines():
            if raw.strip():
                line = json.loads(raw)
                self._by_key.setdefault(line["idempotencyKey"], line)
        self._offset += end


def read_ledger(path: str | Path) -> list[dict[str, Any]]:
    """The lines a sandbox ledger file holds, oldest first."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
