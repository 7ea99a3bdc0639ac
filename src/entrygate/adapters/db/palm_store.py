"""Palm enrollments and their change log in SQL (``services.ports.palm.PalmRepository``).

Unlike the repositories a unit of work hands out, each method here is a unit of work of its own
(through the same factory, so SQLite writers still queue on this process's write lock): an
enrollment lands together with its instrument and its ``add`` change, a deletion together with
its ``remove`` change, and nothing else joins them. The gate path's read (``links``) is a
primary-key lookup.

Every write first takes the palm lock, database-wide: on PostgreSQL a transaction-scoped advisory
lock on one fixed key, on SQLite the write lock ``BEGIN IMMEDIATE`` already holds, which the other
processes' writers wait for too. So an enrollment's duplicate check and its insert are one step
across processes, and a change-log position is taken and committed before the next one is: a
reader never sees a position while a lower one is still to commit.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, literal, select
from sqlalchemy.exc import SQLAlchemyError

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from entrygate.adapters.template_crypto import blob_key_id
from entrygate.domain.cards import CardCredential
from entrygate.services.ports.palm import Enrollment, PalmChange, PalmLink, SealedTemplate
from entrygate.services.ports.storage import StorageError

_e, _c = t.palm_enrollments, t.palm_changes
_IN_CHUNK = 500  # ids per IN (...) list
PALM_LOCK_KEY = 0x70616C6D  # "palm": the advisory lock key of every palm write; nothing else locks it
# A writer holds the lock for a few milliseconds; one that waits longer than this gets a 503 rather
# than piling up behind a stuck one (SQLite's busy_timeout bounds the same wait there).
LOCK_TIMEOUT = "10s"


def card_to_json(card: CardCredential) -> dict[str, Any]:
    """The card parts an enrollment keeps: the processor token, the PAR and what may be displayed."""
    return {"paymentToken": card.payment_token, "par": card.par, "brand": card.brand, "last4": card.last4,
            "expMonth": card.exp_month, "expYear": card.exp_year, "funding": card.funding,
            "issuerCountry": card.issuer_country}


def card_from_json(data: dict[str, Any]) -> CardCredential:
    return CardCredential(payment_token=data["paymentToken"], par=data.get("par"), brand=data["brand"],
                          last4=data["last4"], exp_month=int(data["expMonth"]), exp_year=int(data["expYear"]),
                          funding=data.get("funding"), issuer_country=data.get("issuerCountry"))


class SqlEnrollment:
    """One enrollment's write transaction, holding the palm lock (``services.ports.palm.EnrollmentSession``)."""

    def __init__(self, u: SqlUnitOfWork) -> None:
        self._u = u

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        return _links(self._u.conn, palm_ids)

    def enrolled_after(self, seq: int) -> list[SealedTemplate]:
        rows = self._u.conn.execute(
            select(_e.c.palm_id, _e.c.template, _e.c.dimension).select_from(_c.join(_e, _e.c.palm_id == _c.c.palm_id))
            .where(_c.c.seq > seq, _c.c.op == "add").order_by(_c.c.seq))
        return [SealedTemplate(r.palm_id, bytes(r.template), r.dimension) for r in rows]

    def add(self, enrollment: Enrollment) -> None:
        e, conn = enrollment, self._u.conn
        self._u.instruments.record_seen(e.instrument_id, e.card, at=e.created_at)
        conn.execute(insert(_e).values(palm_id=e.palm_id, instrument_id=e.instrument_id, retailer_id=e.retailer_id,
                                       template=e.template, dimension=e.dimension, card=card_to_json(e.card),
                                       created_at=e.created_at, template_key_id=blob_key_id(e.template)))
        conn.execute(insert(_c).values(palm_id=e.palm_id, op="add", changed_at=e.created_at))


class SqlPalmStore:
    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self._uow = uow

    @contextmanager
    def _work(self, *, write: bool = False) -> Iterator[SqlUnitOfWork]:
        """One unit of work; a write commits when the block ends without an error."""
        try:
            with self._uow(write=write) as u:
                yield u
                if write:
                    u.commit()
        except SQLAlchemyError as exc:
            raise StorageError(f"palm store: {type(exc).__name__}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._work() as u:
            yield u.conn

    @contextmanager
    def _locked(self) -> Iterator[SqlUnitOfWork]:
        """A write unit of work that holds the palm lock from its first statement on."""
        with self._work(write=True) as u:
            if u.conn.dialect.name == "postgresql":
                u.conn.execute(select(func.set_config("lock_timeout", LOCK_TIMEOUT, True)))
                u.conn.execute(select(func.pg_advisory_xact_lock(literal(PALM_LOCK_KEY))))
            yield u  # on SQLite, BEGIN IMMEDIATE took the database's write lock already

    # -- writes ---------------------------------------------------------------------------------

    @contextmanager
    def enrolling(self) -> Iterator[SqlEnrollment]:
        with self._locked() as u:
            yield SqlEnrollment(u)

    def add(self, enrollment: Enrollment) -> None:
        with self.enrolling() as session:
            session.add(enrollment)

    def delete(self, palm_id: str, *, at: datetime) -> bool:
        with self._locked() as u:
            gone = u.conn.execute(delete(_e).where(_e.c.palm_id == palm_id)).rowcount
            if gone:
                u.conn.execute(insert(_c).values(palm_id=palm_id, op="remove", changed_at=at))
        return bool(gone)

    # -- reads ----------------------------------------------------------------------------------

    def owner(self, palm_id: str) -> str | None:
        with self._read() as conn:
            return conn.execute(select(_e.c.retailer_id).where(_e.c.palm_id == palm_id)).scalar()

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        if not palm_ids:
            return {}
        with self._read() as conn:
            return _links(conn, palm_ids)

    def last_seq(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(_c.c.seq), 0))).scalar_one())

    def count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(_e)).scalar_one())

    def templates(self, *, after: str | None, limit: int) -> list[SealedTemplate]:
        stmt = select(_e.c.palm_id, _e.c.template, _e.c.dimension).order_by(_e.c.palm_id).limit(limit)
        if after is not None:
            stmt = stmt.where(_e.c.palm_id > after)
        with self._read() as conn:
            return [SealedTemplate(r.palm_id, bytes(r.template), r.dimension) for r in conn.execute(stmt)]

    def templates_of(self, palm_ids: Sequence[str]) -> list[SealedTemplate]:
        ids = list(palm_ids)
        out: list[SealedTemplate] = []
        with self._read() as conn:
            for i in range(0, len(ids), _IN_CHUNK):
                rows = conn.execute(select(_e.c.palm_id, _e.c.template, _e.c.dimension)
                                    .where(_e.c.palm_id.in_(ids[i:i + _IN_CHUNK])))
                out += [SealedTemplate(r.palm_id, bytes(r.template), r.dimension) for r in rows]
        return out

    def changes_since(self, seq: int, *, limit: int) -> list[PalmChange]:
        with self._read() as conn:
            rows = conn.execute(select(_c.c.seq, _c.c.palm_id, _c.c.op).where(_c.c.seq > seq)
                                .order_by(_c.c.seq).limit(limit))
            return [PalmChange(int(r.seq), r.palm_id, r.op) for r in rows]


def _links(conn: Connection, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
    """The cards of the palms among ``palm_ids`` that are still enrolled (a handful: the search's candidates)."""
    if not palm_ids:
        return {}
    rows = conn.execute(select(_e.c.palm_id, _e.c.instrument_id, _e.c.card)
                        .where(_e.c.palm_id.in_(list(palm_ids)))).all()
    return {r.palm_id: PalmLink(r.palm_id, r.instrument_id, card_from_json(r.card)) for r in rows}
