"""In-memory list items, store rules and reviews, over the ``MemoryStore``'s tables (``storage.py``)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from entrygate.domain.risk_ops import ItemSource, ListItem, ListName, Presented, Review, ReviewOutcome, Rule
from entrygate.services.ports.risk_ops import StoredRules
from entrygate.services.ports.storage import AlreadyExists


class MemoryLists:
    def __init__(self, items: dict[str, ListItem]) -> None:
        self.items = items

    def add(self, item: ListItem) -> None:
        if item.item_id in self.items:
            raise AlreadyExists(item.item_id)
        self.items[item.item_id] = item

    def get(self, item_id: str) -> ListItem | None:
        return self.items.get(item_id)

    def list(self, retailer_id: str, list_name: ListName, *, limit: int = 1000) -> list[ListItem]:
        found = [i for i in self.items.values() if i.retailer_id == retailer_id and i.list_name is list_name]
        return sorted(found, key=lambda i: (-i.created_at.timestamp(), i.item_id))[:limit]

    def delete(self, item_id: str) -> bool:
        return self.items.pop(item_id, None) is not None

    def candidates(self, presented: Presented) -> list[ListItem]:
        return [i for i in self.items.values() if presented.matches(i)]

    def add_feedback_block(self, item: ListItem) -> bool:
        if any(i.source is ItemSource.FEEDBACK and i.retailer_id == item.retailer_id and i.value == item.value
               for i in self.items.values()):
            return False
        self.items[item.item_id] = item
        return True


class MemoryRules:
    def __init__(self, rules: dict[str, StoredRules]) -> None:
        self.rules = rules

    def get(self, store_id: str) -> StoredRules | None:
        return self.rules.get(store_id)

    def put(self, store_id: str, rules: Sequence[Rule], *, at: datetime) -> int:
        old = self.rules.get(store_id)
        version = old.version + 1 if old else 1
        self.rules[store_id] = StoredRules(store_id, tuple(rules), version, at)
        return version


class MemoryReviews:
    def __init__(self, reviews: dict[str, Review]) -> None:
        self.reviews = reviews

    def add(self, review: Review) -> None:
        if review.review_id in self.reviews:
            raise AlreadyExists(review.review_id)
        self.reviews[review.review_id] = review

    def get(self, review_id: str) -> Review | None:
        return self.reviews.get(review_id)

    def list(self, store_id: str, *, pending_only: bool = False, limit: int = 200) -> list[Review]:
        found = [r for r in self.reviews.values() if r.store_id == store_id and not (pending_only and r.outcome)]
        return sorted(found, key=lambda r: (-r.created_at.timestamp(), r.review_id))[:limit]

    def decide(self, review_id: str, outcome: ReviewOutcome, *, at: datetime) -> bool:
        review = self.reviews.get(review_id)
        if review is None or review.outcome is not None:
            return False
        self.reviews[review_id] = replace(review, outcome=outcome, decided_at=at)
        return True
