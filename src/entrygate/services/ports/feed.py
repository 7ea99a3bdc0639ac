"""The decisions feed port: a store's decisions in commit order, from a position on.

SQL in ``adapters/db/decision_feed.py``, in memory in ``adapters/memory/decision_feed.py``. A
position is a pair of integers the adapter defines (``FeedPosition.START`` is before the first
decision); the service (``services/events/feed.py``) turns it into the cursor the API hands out.

The rule every adapter keeps: once a page has been answered up to a position, no decision can
later appear at or before that position. A reader that asks again from the page's last position
therefore sees every decision exactly once, whatever the writers do in the meantime.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from entrygate.domain.records import DecisionRecord


@dataclass(frozen=True, slots=True, order=True)
class FeedPosition:
    """Where a decision stands in the feed: ``(txid, decision_id)``, compared in that order."""

    txid: int
    decision_id: int

    START: ClassVar[FeedPosition]


FeedPosition.START = FeedPosition(0, 0)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    position: FeedPosition
    decision: DecisionRecord


class DecisionFeed(Protocol):
    def page(self, store_id: str, *, after: FeedPosition, limit: int) -> list[FeedEntry]:
        """Up to ``limit`` of the store's decisions after ``after``, in feed order, only from the part
        of the feed that is final (see the module's docstring)."""
        ...
