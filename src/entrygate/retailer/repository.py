"""The reference retailer's records: visitors and their keys and badges, balances, the deny list,
loyalty members, used QR codes. Each method is one short transaction."""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from entrygate.retailer.tables import badges, balances, deny_list, identity_keys, loyalty_members, qr_claims, visitors

VISITOR_TYPES = ("SHOPPER", "ASSOCIATE")
# Used QR codes are pruned at most this often; a claim row outlives its code by a step or two.
_PRUNE_EVERY_S = 60.0


class RegistrationError(ValueError):
    """A registration that contradicts what is stored (a visitor of another type, a key taken)."""


@dataclass(frozen=True, slots=True)
class KnownVisitor:
    visitor_id: str
    visitor_type: str
    qr_token: str


@dataclass(frozen=True, slots=True)
class ShopperAccount:
    """What the retailer's own data says about a shopper identity (a payment instrument id)."""

    balance: Decimal
    currency: str | None
    denied_as: str | None  # the risk label of a deny-list entry
    loyalty_member: bool


def key_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class RetailerRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pruned_at = 0.0

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.info["write"] = write  # SQLite: take the write lock up front (adapters/db/engine.py)
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info["write"] = False

    # -- registration ------------------------------------------------------------------------------

    def add_visitor(self, visitor_id: str, visitor_type: str) -> KnownVisitor:
        """Register a visitor, or return the one registered under this id with the same type."""
        if visitor_type not in VISITOR_TYPES:
            raise RegistrationError(f"visitor type must be one of {', '.join(VISITOR_TYPES)}")
        if not 1 <= len(visitor_id) <= 255:
            raise RegistrationError("a visitor id is 1-255 characters")
        with self._tx(write=True) as conn:
            row = conn.execute(select(visitors).where(visitors.c.visitor_id == visitor_id)).first()
            if row is None:
                token = secrets.token_urlsafe(12)
                conn.execute(insert(visitors).values(visitor_id=visitor_id, visitor_type=visitor_type,
                                                     qr_token=token, created_at=time.time()))
                return KnownVisitor(visitor_id, visitor_type, token)
        if row.visitor_type != visitor_type:
            raise RegistrationError(f"{visitor_id} is registered as {row.visitor_type}, not {visitor_type}")
        return KnownVisitor(row.visitor_id, row.visitor_type, row.qr_token)

    def add_identity_key(self, raw: bytes, visitor_id: str) -> None:
        self._link(identity_keys, "key_hash", key_hash(raw), visitor_id, what="identity key")

    def add_badge(self, badge_id: str, visitor_id: str) -> None:
        self._link(badges, "badge_id", badge_id, visitor_id, what=f"badge {badge_id}")

    def _link(self, table, column: str, value: str, visitor_id: str, *, what: str) -> None:  # noqa: ANN001
        with self._tx(write=True) as conn:
            owner = conn.execute(select(table.c.visitor_id).where(table.c[column] == value)).scalar()
            if owner is None:
                conn.execute(insert(table).values({column: value, "visitor_id": visitor_id,
                                                   "created_at": time.time()}))
        if owner is not None and owner != visitor_id:
            raise RegistrationError(f"this {what} belongs to {owner} already")

    # -- lookups -----------------------------------------------------------------------------------

    def visitor(self, visitor_id: str) -> KnownVisitor | None:
        with self._tx() as conn:
            row = conn.execute(select(visitors).where(visitors.c.visitor_id == visitor_id)).first()
        return KnownVisitor(row.visitor_id, row.visitor_type, row.qr_token) if row else None

    def visitor_by_key(self, raw: bytes) -> KnownVisitor | None:
        return self._visitor_via(identity_keys, identity_keys.c.key_hash == key_hash(raw))

    def visitor_by_badge(self, badge_id: str) -> KnownVisitor | None:
        return self._visitor_via(badges, badges.c.badge_id == badge_id)

    def visitor_by_qr_token(self, token: str) -> KnownVisitor | None:
        with self._tx() as conn:
            row = conn.execute(select(visitors).where(visitors.c.qr_token == token)).first()
        return KnownVisitor(row.visitor_id, row.visitor_type, row.qr_token) if row else None

    def _visitor_via(self, table, condition) -> KnownVisitor | None:  # noqa: ANN001
        query = select(visitors).join(table, table.c.visitor_id == visitors.c.visitor_id).where(condition)
        with self._tx() as conn:
            row = conn.execute(query).first()
        return KnownVisitor(row.visitor_id, row.visitor_type, row.qr_token) if row else None

    # -- single use of QR codes --------------------------------------------------------------------

    def claim_qr(self, token: str, step: int, *, expires_at: float, now: float) -> bool:
        """Record that a code (token, step) was used; False when it was used before."""
        try:
            with self._tx(write=True) as conn:
                conn.execute(insert(qr_claims).values(qr_token=token, step=step, claimed_at=now,
                                                      expires_at=expires_at))
                if now - self._pruned_at > _PRUNE_EVERY_S:
                    self._pruned_at = now
                    conn.execute(delete(qr_claims).where(qr_claims.c.expires_at < now))
        except IntegrityError:
            return False
        return True

    # -- the shopper-authorization data ------------------------------------------------------------

    def set_balance(self, shopper_id: str, amount: Decimal, currency: str) -> None:
        with self._tx(write=True) as conn:
            values = dict(amount=amount, currency=currency, updated_at=time.time())
            done = conn.execute(update(balances).where(balances.c.shopper_id == shopper_id).values(**values))
            if done.rowcount == 0:
                conn.execute(insert(balances).values(shopper_id=shopper_id, **values))

    def deny(self, shopper_id: str, *, risk: str = "CustomerFraud") -> None:
        with self._tx(write=True) as conn:
            conn.execute(delete(deny_list).where(deny_list.c.shopper_id == shopper_id))
            conn.execute(insert(deny_list).values(shopper_id=shopper_id, risk=risk, created_at=time.time()))

    def add_loyalty_member(self, shopper_id: str) -> None:
        with self._tx(write=True) as conn:
            if conn.execute(select(loyalty_members).where(loyalty_members.c.shopper_id == shopper_id)).first() is None:
                conn.execute(insert(loyalty_members).values(shopper_id=shopper_id, created_at=time.time()))

    def account(self, shopper_id: str) -> ShopperAccount:
        with self._tx() as conn:
            balance = conn.execute(select(balances.c.amount, balances.c.currency)
                                   .where(balances.c.shopper_id == shopper_id)).first()
            denied = conn.execute(select(deny_list.c.risk).where(deny_list.c.shopper_id == shopper_id)).scalar()
            member = conn.execute(select(loyalty_members.c.shopper_id)
                                  .where(loyalty_members.c.shopper_id == shopper_id)).first() is not None
        return ShopperAccount(Decimal(balance.amount) if balance else Decimal(0), balance.currency if balance else None,
                              denied, member)
