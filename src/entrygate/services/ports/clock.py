"""The clock port: what time it is, so use cases can be tested at a fixed moment."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
