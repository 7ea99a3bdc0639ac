"""What the trip resource reads beyond the trips themselves: their holds, many at a time."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from entrygate.domain.holds import HoldSummary


class HoldSummaries(Protocol):
    def of(self, trip_ids: Sequence[str]) -> dict[str, HoldSummary]:
        """The stored holds of these trips, by trip id, read at one point in time; a trip whose hold no
        operation has touched yet (or that has none) is absent."""
        ...
