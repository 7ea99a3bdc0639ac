"""Gate and retailer keys in SQL (``services.ports.api_keys.ApiKeyStore``).

Each method is a unit of work of its own, through the platform's factory, so SQLite writers still
queue on this process's write lock. The one check-then-act, "a retailer keeps at least one active
key", is held by the database: the revocation locks the retailer's row first (PostgreSQL,
``FOR NO KEY UPDATE``; on SQLite ``BEGIN IMMEDIATE`` already holds the database's write lock), so
two revocations of a retailer's last two keys run one after the other and the second sees one left.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from entrygate.domain.audit import AuditEntry
from entrygate.services.ports.api_keys import GateKeyInfo, GateRef, LastActiveKey, RetailerKeyInfo
from entrygate.services.ports.storage import AlreadyExists

_g, _r = t.gate_keys.c, t.retailer_keys.c


class SqlApiKeys:
    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self._uow = uow

    @contextmanager
    def _write(self) -> Iterator[SqlUnitOfWork]:
        with self._uow(write=True) as u:
            yield u
            u.commit()

    # -- gates ------------------------------------------------------------------------------------

    def gates_named(self, gate_id: str) -> list[GateRef]:
        stmt = (select(t.gates.c.gate_pk, t.gates.c.gate_id, t.gates.c.store_id, t.stores.c.retailer_id)
                .select_from(t.gates.join(t.stores, t.stores.c.store_id == t.gates.c.store_id))
                .where(t.gates.c.gate_id == gate_id).order_by(t.gates.c.store_id))
        with self._uow() as u:
            return [GateRef(r.gate_pk, r.gate_id, r.store_id, r.retailer_id) for r in u.conn.execute(stmt)]

    def rotate_gate_key(self, gate_pk: str, *, key_id: str, secret_hash: str, at: datetime,
                        previous_expire_at: datetime, audit: AuditEntry | None = None) -> None:
        with self._write() as u:
            _audit(u, audit)
            # The gate's other working keys stop at the grace's end; one set to stop sooner keeps its time.
            u.conn.execute(update(t.gate_keys).where(
                _g.gate_pk == gate_pk, _g.revoked_at.is_(None),
                or_(_g.expires_at.is_(None), _g.expires_at > previous_expire_at)).values(expires_at=previous_expire_at))
            try:
                u.conn.execute(insert(t.gate_keys).values(key_id=key_id, gate_pk=gate_pk, secret_hash=secret_hash,
                                                          created_at=at))
            except IntegrityError as exc:
                raise AlreadyExists(str(exc.orig)[:200]) from None

    def list_gate_keys(self, gate_pk: str) -> list[GateKeyInfo]:
        stmt = select(t.gate_keys).where(_g.gate_pk == gate_pk).order_by(_g.created_at.desc(), _g.key_id)
        with self._uow() as u:
            return [GateKeyInfo(r.key_id, r.created_at, r.expires_at, r.last_used_at, r.revoked_at is not None)
                    for r in u.conn.execute(stmt)]

    def revoke_gate_key(self, gate_pk: str, key_id: str, *, at: datetime, audit: AuditEntry | None = None) -> bool:
        with self._write() as u:
            found = u.conn.execute(select(_g.revoked_at).where(_g.gate_pk == gate_pk, _g.key_id == key_id)).first()
            if found is None:
                return False
            revoked = u.conn.execute(update(t.gate_keys).where(_g.key_id == key_id, _g.revoked_at.is_(None))
                                     .values(revoked_at=at)).rowcount
            if revoked:
                _audit(u, audit)
            return True

    # -- retailers --------------------------------------------------------------------------------

    def add_retailer_key(self, retailer_id: str, *, key_id: str, name: str, secret_hash: str, at: datetime,
                         audit: AuditEntry | None = None) -> None:
        with self._write() as u:
            _audit(u, audit)
            try:
                u.conn.execute(insert(t.retailer_keys).values(key_id=key_id, retailer_id=retailer_id, name=name,
                                                              secret_hash=secret_hash, created_at=at))
            except IntegrityError as exc:
                raise AlreadyExists(str(exc.orig)[:200]) from None

    def list_retailer_keys(self, retailer_id: str) -> list[RetailerKeyInfo]:
        stmt = select(t.retailer_keys).where(_r.retailer_id == retailer_id).order_by(_r.created_at, _r.key_id)
        with self._uow() as u:
            return [RetailerKeyInfo(r.key_id, r.name, r.created_at, r.last_used_at, r.revoked_at is not None)
                    for r in u.conn.execute(stmt)]

    def revoke_retailer_key(self, retailer_id: str, key_id: str, *, at: datetime, audit: AuditEntry | None = None) -> bool:
        with self._write() as u:
            conn = u.conn
            lock = select(t.retailers.c.retailer_id).where(t.retailers.c.retailer_id == retailer_id)
            if conn.dialect.name == "postgresql":
                lock = lock.with_for_update(key_share=True)
            if conn.execute(lock).first() is None:
                return False
            found = conn.execute(select(_r.revoked_at).where(_r.retailer_id == retailer_id,
                                                             _r.key_id == key_id)).first()
            if found is None:
                return False
            if found.revoked_at is not None:
                return True
            active = conn.execute(select(func.count()).select_from(t.retailer_keys).where(
                _r.retailer_id == retailer_id, _r.revoked_at.is_(None))).scalar_one()
            if active <= 1:
                raise LastActiveKey(f"key {key_id} is the last active key of retailer {retailer_id}")
            conn.execute(update(t.retailer_keys).where(_r.key_id == key_id).values(revoked_at=at))
            _audit(u, audit)
            return True

    # -- last use ---------------------------------------------------------------------------------

    def record_uses(self, *, gate_keys: Mapping[str, datetime], retailer_keys: Mapping[str, datetime]) -> None:
        if not gate_keys and not retailer_keys:
            return
        with self._write() as u:
            for table, uses in ((t.gate_keys, gate_keys), (t.retailer_keys, retailer_keys)):
                if not uses:
                    continue
                c = table.c
                stmt = (update(table).where(and_(c.key_id == bindparam("k"),
                                                 or_(c.last_used_at.is_(None), c.last_used_at < bindparam("at"))))
                        .values(last_used_at=bindparam("at")))
                u.conn.execute(stmt, [{"k": k, "at": at} for k, at in uses.items()])


def _audit(u: SqlUnitOfWork, entry: AuditEntry | None) -> None:
    """The change's audit entry, in the change's own transaction (DESIGN 15)."""
    if entry is not None:
        u.audit.add(entry)
