"""The decisions feed (DESIGN 13): ``GET /v1/stores/{storeId}/decisions?after=<cursor>&limit=N``.

A reader starts at ``after=0`` and follows ``nextCursor``; the port (``services/ports/feed.py``)
makes sure nothing can appear behind a cursor once it was handed out, so the reader sees every
decision exactly once, in commit order. On an empty page ``nextCursor`` is the ``after`` it was
given, so a reader can poll with it for ever.

A cursor is ``<txid>.<decision id>.<tag>``: the position of the last decision the page held and a
MAC over the store's id and that position. Only cursors the feed issued, for this store, are
taken; anything else is refused with 400 naming ``after`` (a made-up position could start a reader
in the middle of a transaction's decisions, or at another store's).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from entrygate.domain.records import DecisionRecord
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import InvalidRequest
from entrygate.services.ports.feed import DecisionFeed, FeedPosition
from entrygate.services.ports.storage import UnitOfWorkFactory

START = "0"
MAX_PAGE = 1000
_CURSOR = re.compile(r"(0|[1-9][0-9]{0,18})\.([1-9][0-9]{0,18})\.([0-9a-f]{20})")
_TAG_HEX = 20


@dataclass(frozen=True, slots=True)
class FeedPage:
    decisions: list[DecisionRecord]
    next_cursor: str


class DecisionFeedService:
    def __init__(self, *, uow: UnitOfWorkFactory, feed: DecisionFeed, secret: bytes) -> None:
        self._uow = uow
        self._feed = feed
        self._key = hmac.new(secret, b"entrygate decisions feed cursor", hashlib.sha256).digest()

    def page(self, principal: Principal, store_id: str, *, after: str, limit: int) -> FeedPage:
        """The page after ``after`` (``"0"`` or a cursor this feed issued for this store)."""
        store_in_scope(self._uow, principal, store_id)
        position = self.position(store_id, after)
        entries = self._feed.page(store_id, after=position, limit=max(1, min(limit, MAX_PAGE)))
        if not entries:
            return FeedPage([], after)
        return FeedPage([e.decision for e in entries], self.cursor(store_id, entries[-1].position))

    def cursor(self, store_id: str, position: FeedPosition) -> str:
        body = f"{position.txid}.{position.decision_id}"
        return f"{body}.{self._tag(store_id, body)}"

    def position(self, store_id: str, cursor: str) -> FeedPosition:
        """The position a cursor stands for; ``InvalidRequest`` naming ``after`` for one not issued here."""
        if cursor == START:
            return FeedPosition.START
        match = _CURSOR.fullmatch(cursor)
        if match is None or not hmac.compare_digest(match[3], self._tag(store_id, f"{match[1]}.{match[2]}")):
            raise InvalidRequest("after: not a cursor this feed issued for this store; start with after=0 and "
                                 "follow nextCursor", fields=["after"])
        return FeedPosition(int(match[1]), int(match[2]))

    def _tag(self, store_id: str, body: str) -> str:
        mac = hmac.new(self._key, f"{store_id}\n{body}".encode(), hashlib.sha256)
        return mac.hexdigest()[:_TAG_HEX]
