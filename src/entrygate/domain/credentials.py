"""Raw reads of the credentials that are not cards, as the gate sends them (parsed by handlers)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QrScan:
    scan_value: str


@dataclass(frozen=True, slots=True)
class BadgeRead:
    bits: str | None = None
    hex: str | None = None
    bit_length: int | None = None
    csn: str | None = None


@dataclass(frozen=True, slots=True)
class PalmRead:
    signature: str
    liveness: float
