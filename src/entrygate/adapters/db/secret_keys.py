"""The rotatable secrets' keys in SQL (``services.ports.secrets.SecretKeyStore``) and palm templates by
the key they are under (``services.ports.secrets.TemplateKeyStore``).

A rotation retires the active key and inserts the new one in one transaction; the partial unique
index ``uq_secret_keys_active_purpose`` keeps at most one active key per purpose, so of two
rotations at once one commits and the other gets ``ConcurrentRotation``. A template's re-encryption
is a conditional write (``WHERE template_key_id = <the key it was read under>``), so a page written
twice, or a row deleted meanwhile, is harmless: that is what makes the re-encryption resumable.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.services.ports.secrets import ConcurrentRotation, KeyedTemplate, StoredKey, TemplateRewrite

_k, _e = t.secret_keys.c, t.palm_enrollments.c


class SqlSecretKeys:
    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self._uow = uow

    def list(self) -> list[StoredKey]:
        with self._uow() as u:
            rows = u.conn.execute(select(t.secret_keys).order_by(_k.created_at, _k.key_id))
            return [StoredKey(r.purpose, r.key_id, bytes(r.material) if r.material is not None else None,
                              r.created_at, r.retired_at) for r in rows]

    def rotate(self, purpose: str, *, key_id: str, material: bytes, at: datetime) -> None:
        with self._uow(write=True) as u:
            u.conn.execute(update(t.secret_keys).where(_k.purpose == purpose, _k.retired_at.is_(None))
                           .values(retired_at=at))
            try:
                u.conn.execute(insert(t.secret_keys).values(key_id=key_id, purpose=purpose, material=material,
                                                            created_at=at))
            except IntegrityError:
                raise ConcurrentRotation(f"another rotation of {purpose} committed first") from None
            u.commit()


class SqlTemplateKeys:
    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self._uow = uow

    def counts_by_key(self) -> dict[str, int]:
        with self._uow() as u:
            rows = u.conn.execute(select(_e.template_key_id, func.count()).group_by(_e.template_key_id))
            return {key_id: int(n) for key_id, n in rows}

    def not_under(self, key_id: str, *, after: str | None, limit: int) -> list[KeyedTemplate]:
        stmt = (select(_e.palm_id, _e.template, _e.template_key_id).where(_e.template_key_id != key_id)
                .order_by(_e.palm_id).limit(limit))
        if after is not None:
            stmt = stmt.where(_e.palm_id > after)
        with self._uow() as u:
            return [KeyedTemplate(r.palm_id, bytes(r.template), r.template_key_id) for r in u.conn.execute(stmt)]

    def replace(self, rewrites: list[TemplateRewrite]) -> int:
        if not rewrites:
            return 0
        stmt = (update(t.palm_enrollments)
                .where(and_(_e.palm_id == bindparam("p"), _e.template_key_id == bindparam("old")))
                .values(template=bindparam("blob"), template_key_id=bindparam("new")))
        written = 0
        with self._uow(write=True) as u:
            for r in rewrites:  # one statement each: every rowcount tells whether that row was still under its old key
                written += u.conn.execute(stmt, {"p": r.palm_id, "old": r.old_key_id, "blob": r.template,
                                                 "new": r.key_id}).rowcount
            u.commit()
        return written
