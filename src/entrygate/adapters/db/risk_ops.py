"""SQL repositories of risk operations: list items, store rules, reviews. Repositories never commit."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from entrygate.adapters.db import tables as t
from entrygate.domain.risk_ops import (
    ItemSource,
    ItemType,
    ListItem,
    ListName,
    Presented,
    Review,
    ReviewOutcome,
    Rule,
)
from entrygate.services.ports.risk_ops import StoredRules
from entrygate.services.ports.storage import AlreadyExists

_L = t.risk_list_items.c


def _item(row) -> ListItem:  # noqa: ANN001
    return ListItem(item_id=row.item_id, retailer_id=row.retailer_id, list_name=ListName(row.list_name),
                    item_type=ItemType(row.item_type), value=row.value, note=row.note, expires_at=row.expires_at,
                    created_at=row.created_at, source=ItemSource(row.source))


def _values(item: ListItem) -> dict:
    return dict(item_id=item.item_id, retailer_id=item.retailer_id, list_name=item.list_name.value,
                item_type=item.item_type.value, value=item.value, note=item.note, expires_at=item.expires_at,
                created_at=item.created_at, source=item.source.value)


# On the gate's path, built once: the items naming the instrument, its issuer country or the visitor, of any
# retailer (the index on value serves it; which apply is the domain's to say).
_CANDIDATES = select(t.risk_list_items).where(or_(
    and_(_L.value == bindparam("iid"), _L.item_type == ItemType.INSTRUMENT.value),
    and_(_L.value == bindparam("country"), _L.item_type == ItemType.ISSUER_COUNTRY.value),
    and_(_L.value == bindparam("vid"), _L.item_type == ItemType.VISITOR.value)))


def _feedback_insert(dialect: str):  # noqa: ANN202
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(t.risk_list_items)
    return stmt.on_conflict_do_nothing(index_elements=["retailer_id", "value"],
                                       index_where=text(t.FEEDBACK_ITEM)).returning(_L.item_id)


_FEEDBACK_INSERT = {"sqlite": _feedback_insert("sqlite"), "postgresql": _feedback_insert("postgresql")}


class SqlLists:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, item: ListItem) -> None:
        self.conn.execute(insert(t.risk_list_items).values(**_values(item)))

    def get(self, item_id: str) -> ListItem | None:
        row = self.conn.execute(select(t.risk_list_items).where(_L.item_id == item_id)).first()
        return _item(row) if row else None

    def list(self, retailer_id: str, list_name: ListName, *, limit: int = 1000) -> list[ListItem]:
        rows = self.conn.execute(select(t.risk_list_items)
                                 .where(_L.retailer_id == retailer_id, _L.list_name == list_name.value)
                                 .order_by(_L.created_at.desc(), _L.item_id).limit(limit))
        return [_item(r) for r in rows]

    def delete(self, item_id: str) -> bool:
        return self.conn.execute(delete(t.risk_list_items).where(_L.item_id == item_id)).rowcount == 1

    def candidates(self, presented: Presented) -> list[ListItem]:
        rows = self.conn.execute(_CANDIDATES, {"iid": presented.instrument_id or "", "vid": presented.visitor_id or "",
                                               "country": presented.issuer_country or ""})
        return [_item(r) for r in rows]

    def add_feedback_block(self, item: ListItem) -> bool:
        return self.conn.execute(_FEEDBACK_INSERT[self.conn.dialect.name], _values(item)).first() is not None


def _rules(row) -> StoredRules:  # noqa: ANN001
    return StoredRules(row.store_id, tuple(Rule.from_json(r) for r in row.rules), int(row.version), row.updated_at)


class SqlRules:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, store_id: str) -> StoredRules | None:
        row = self.conn.execute(select(t.store_rules).where(t.store_rules.c.store_id == store_id)).first()
        return _rules(row) if row else None

    def put(self, store_id: str, rules: Sequence[Rule], *, at: datetime) -> int:
        """An upsert whose version is raised by the database: two changes at once get two versions."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.store_rules).values(store_id=store_id, rules=[r.to_json() for r in rules],
                                                    version=1, updated_at=at)
        stmt = stmt.on_conflict_do_update(index_elements=["store_id"], set_={
            "rules": stmt.excluded.rules, "updated_at": stmt.excluded.updated_at,
            "version": t.store_rules.c.version + 1}).returning(t.store_rules.c.version)
        return int(self.conn.execute(stmt).scalar_one())


_R = t.reviews.c


def _review(row) -> Review:  # noqa: ANN001
    return Review(review_id=row.review_id, store_id=row.store_id, gate_pk=row.gate_pk, event_id=row.event_id,
                  trip_id=row.trip_id, visitor_id=row.visitor_id, instrument_id=row.instrument_id, rule=row.rule,
                  created_at=row.created_at, outcome=ReviewOutcome(row.outcome) if row.outcome else None,
                  decided_at=row.decided_at)


class SqlReviews:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, review: Review) -> None:
        """On the gate's path, in the decision's transaction: a duplicate event fails the decision first."""
        from sqlalchemy.exc import IntegrityError

        try:
            self.conn.execute(insert(t.reviews).values(
                review_id=review.review_id, store_id=review.store_id, gate_pk=review.gate_pk, event_id=review.event_id,
                trip_id=review.trip_id, visitor_id=review.visitor_id, instrument_id=review.instrument_id,
                rule=review.rule, created_at=review.created_at))
        except IntegrityError as exc:
            raise AlreadyExists(str(exc.orig)[:200]) from None

    def get(self, review_id: str) -> Review | None:
        row = self.conn.execute(select(t.reviews).where(_R.review_id == review_id)).first()
        return _review(row) if row else None

    def list(self, store_id: str, *, pending_only: bool = False, limit: int = 200) -> list[Review]:
        stmt = select(t.reviews).where(_R.store_id == store_id)
        if pending_only:
            stmt = stmt.where(_R.outcome.is_(None))
        return [_review(r) for r in self.conn.execute(stmt.order_by(_R.created_at.desc(), _R.review_id).limit(limit))]

    def decide(self, review_id: str, outcome: ReviewOutcome, *, at: datetime) -> bool:
        # The condition is in the UPDATE: of two verdicts at once, PostgreSQL re-checks the WHERE on the
        # row the first one wrote, and SQLite's writers go one at a time; either way one of them wins.
        done = self.conn.execute(update(t.reviews).where(_R.review_id == review_id, _R.outcome.is_(None))
                                 .values(outcome=outcome.value, decided_at=at))
        return done.rowcount == 1
