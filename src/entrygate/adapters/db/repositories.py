"""SQLAlchemy implementations of the repository ports. Repositories never commit."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.mapping import store_from_json, store_to_json
from entrygate.adapters.db.users import user_from_row
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import GateDirection, TripStatus
from entrygate.domain.decision_trace import ConnectorCall
from entrygate.domain.records import (
    ApiKeyRecord,
    DecisionRecord,
    ExitRecord,
    Gate,
    PaymentInstrument,
    Retailer,
    RetailerUser,
    Trip,
)
from entrygate.domain.store import StoreConfig
from entrygate.domain.trips import ClosedBy
from entrygate.services.ports.storage import AlreadyExists, DuplicateEvent, TripAlreadyOpen

INITIAL_KEY_NAME = "initial key"  # the name of the key a retailer is created with, unless one is given


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, stmt, duplicate: type[Exception] = AlreadyExists, *, params: dict | None = None,
                savepoint: bool = True) -> None:  # noqa: ANN001
        """Insert; a duplicate raises ``duplicate``.

        With ``savepoint`` the surrounding transaction stays usable after a duplicate. The gate's
        hot path inserts its decision first in its transaction and skips the savepoint's two
        round trips: a duplicate there ends the whole transaction anyway.
        """
        try:
            if savepoint:
                with self.conn.begin_nested():
                    self.conn.execute(stmt, params)
            else:
                self.conn.execute(stmt, params)
        except IntegrityError as exc:
            raise duplicate(str(exc.orig)[:200]) from None


class SqlKeys(_Repo):
    def add_operator(self, record: ApiKeyRecord, *, at: datetime) -> None:
        self._insert(insert(t.operator_tokens).values(key_id=record.key_id, secret_hash=record.secret_hash,
                                                      created_at=at))

    def get_operator(self, key_id: str) -> ApiKeyRecord | None:
        row = self.conn.execute(select(t.operator_tokens).where(t.operator_tokens.c.key_id == key_id)).first()
        return ApiKeyRecord(row.key_id, row.secret_hash, "operator") if row else None

    def get_retailer_key(self, key_id: str) -> ApiKeyRecord | None:
        k = t.retailer_keys.c
        row = self.conn.execute(select(k.key_id, k.secret_hash, k.retailer_id, k.name)
                                .where(k.key_id == key_id, k.revoked_at.is_(None))).first()
        return ApiKeyRecord(row.key_id, row.secret_hash, row.retailer_id, name=row.name) if row else None

    def get_gate_key(self, key_id: str) -> ApiKeyRecord | None:
        """The gate key unless revoked; one replaced by a newer key carries when it stops working."""
        k = t.gate_keys.c
        row = self.conn.execute(select(k.key_id, k.secret_hash, k.gate_pk, k.expires_at)
                                .where(k.key_id == key_id, k.revoked_at.is_(None))).first()
        return ApiKeyRecord(row.key_id, row.secret_hash, row.gate_pk, expires_at=row.expires_at) if row else None


class SqlRetailers(_Repo):
    def add(self, retailer: Retailer, key: ApiKeyRecord) -> None:
        self._insert(insert(t.retailers).values(retailer_id=retailer.retailer_id, name=retailer.name,
                                                created_at=retailer.created_at))
        self._insert(insert(t.retailer_keys).values(key_id=key.key_id, retailer_id=retailer.retailer_id,
                                                    name=key.name or INITIAL_KEY_NAME, secret_hash=key.secret_hash,
                                                    created_at=retailer.created_at))

    def get(self, retailer_id: str) -> Retailer | None:
        row = self.conn.execute(select(t.retailers).where(t.retailers.c.retailer_id == retailer_id)).first()
        return Retailer(row.retailer_id, row.name, row.created_at) if row else None

    def list(self) -> list[Retailer]:
        rows = self.conn.execute(select(t.retailers).order_by(t.retailers.c.created_at))
        return [Retailer(r.retailer_id, r.name, r.created_at) for r in rows]

    def add_user(self, user: RetailerUser, *, at: datetime) -> None:
        self._insert(insert(t.retailer_users).values(user_id=user.user_id, retailer_id=user.retailer_id,
                                                     email=user.email, password_hash=user.password_hash,
                                                     role=user.role.value, created_at=at))

    def get_user_by_email(self, email: str) -> RetailerUser | None:
        row = self.conn.execute(select(t.retailer_users).where(t.retailer_users.c.email == email)).first()
        return user_from_row(row) if row else None


class SqlStores(_Repo):
    def add(self, config: StoreConfig, *, at: datetime) -> None:
        self._insert(insert(t.stores).values(store_id=config.store_id, retailer_id=config.retailer_id,
                                             name=config.name, config=store_to_json(config),
                                             created_at=at, updated_at=at))

    def get(self, store_id: str, *, for_change: bool = False) -> StoreConfig | None:
        stmt = select(t.stores).where(t.stores.c.store_id == store_id)
        if for_change and self.conn.dialect.name == "postgresql":
            # A store change reads, diffs and writes in one transaction: the row lock makes two
            # changes at once apply one after the other instead of the later undoing the earlier.
            # NO KEY UPDATE, not UPDATE: a trip's insert checks its foreign key to the store with a
            # KEY SHARE lock, which FOR UPDATE would make wait, holding up the store's gates.
            # (SQLite's write transactions are BEGIN IMMEDIATE and already one at a time.)
            stmt = stmt.with_for_update(key_share=True)
        row = self.conn.execute(stmt).first()
        return store_from_json(row.store_id, row.retailer_id, row.name, row.config) if row else None

    def update(self, config: StoreConfig, *, at: datetime) -> None:
        self.conn.execute(update(t.stores).where(t.stores.c.store_id == config.store_id)
                          .values(name=config.name, config=store_to_json(config), updated_at=at))

    def list(self, *, retailer_id: str | None = None) -> list[StoreConfig]:
        stmt = select(t.stores).order_by(t.stores.c.store_id)
        if retailer_id is not None:
            stmt = stmt.where(t.stores.c.retailer_id == retailer_id)
        return [store_from_json(r.store_id, r.retailer_id, r.name, r.config) for r in self.conn.execute(stmt)]


def _gate(row) -> Gate:  # noqa: ANN001
    return Gate(row.gate_pk, row.gate_id, row.store_id, GateDirection(row.direction), row.enabled, row.created_at)


class SqlGates(_Repo):
    def add(self, gate: Gate, key: ApiKeyRecord) -> None:
        self._insert(insert(t.gates).values(gate_pk=gate.gate_pk, gate_id=gate.gate_id, store_id=gate.store_id,
                                            direction=gate.direction.value, enabled=gate.enabled,
                                            created_at=gate.created_at))
        self._insert(insert(t.gate_keys).values(key_id=key.key_id, gate_pk=gate.gate_pk, secret_hash=key.secret_hash,
                                                created_at=gate.created_at))

    def get(self, gate_pk: str) -> Gate | None:
        row = self.conn.execute(select(t.gates).where(t.gates.c.gate_pk == gate_pk)).first()
        return _gate(row) if row else None

    def find(self, store_id: str, gate_id: str) -> Gate | None:
        row = self.conn.execute(select(t.gates).where(and_(t.gates.c.store_id == store_id,
                                                           t.gates.c.gate_id == gate_id))).first()
        return _gate(row) if row else None

    def exists(self, gate_id: str) -> bool:
        return self.conn.execute(select(t.gates.c.gate_pk).where(t.gates.c.gate_id == gate_id).limit(1)).first() is not None

    def list(self, store_id: str) -> list[Gate]:
        rows = self.conn.execute(select(t.gates).where(t.gates.c.store_id == store_id).order_by(t.gates.c.gate_id))
        return [_gate(r) for r in rows]

    def set_enabled(self, gate_pk: str, enabled: bool) -> None:
        self.conn.execute(update(t.gates).where(t.gates.c.gate_pk == gate_pk).values(enabled=enabled))


def _instrument(row) -> PaymentInstrument:  # noqa: ANN001
    return PaymentInstrument(row.instrument_id, row.brand, row.last4, row.exp_month, row.exp_year, row.funding,
                             row.issuer_country, row.blocked, row.blocked_reason, row.first_seen_at, row.last_seen_at)


_GET_INSTRUMENT = select(t.payment_instruments).where(t.payment_instruments.c.instrument_id == bindparam("iid"))
_SEEN_COLUMNS = ("brand", "last4", "exp_month", "exp_year", "funding", "issuer_country", "last_seen_at")


def _upsert_seen(dialect: str):  # noqa: ANN202
    """INSERT … ON CONFLICT DO UPDATE: one statement, and two processes seeing a new card at once
    cannot collide. SQLite (3.24+) and PostgreSQL spell it the same way."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(t.payment_instruments)
    return stmt.on_conflict_do_update(index_elements=["instrument_id"],
                                      set_={c: stmt.excluded[c] for c in _SEEN_COLUMNS})


_UPSERT_SEEN = {"sqlite": _upsert_seen("sqlite"), "postgresql": _upsert_seen("postgresql")}


class SqlInstruments(_Repo):
    def get(self, instrument_id: str) -> PaymentInstrument | None:
        row = self.conn.execute(_GET_INSTRUMENT, {"iid": instrument_id}).first()
        return _instrument(row) if row else None

    def record_seen(self, instrument_id: str, card: CardCredential, *, at: datetime) -> None:
        self.conn.execute(_UPSERT_SEEN[self.conn.dialect.name], {
            "instrument_id": instrument_id, "brand": card.brand, "last4": card.last4, "exp_month": card.exp_month,
            "exp_year": card.exp_year, "funding": card.funding, "issuer_country": card.issuer_country,
            "blocked": False, "first_seen_at": at, "last_seen_at": at})

    def block(self, instrument_id: str, *, reason: str) -> None:
        self.conn.execute(update(t.payment_instruments).where(t.payment_instruments.c.instrument_id == instrument_id)
                          .values(blocked=True, blocked_reason=reason))


def trip_record(row) -> Trip:  # noqa: ANN001
    """A shopping_trips row as its record."""
    return Trip(trip_id=row.trip_id, store_id=row.store_id, entry_gate_id=row.entry_gate_id, channel=row.channel,
                visitor_id=row.visitor_id, instrument_id=row.instrument_id, party_size=row.party_size,
                status=TripStatus(row.status), entered_at=row.entered_at, currency=row.currency,
                authorized_amount=row.authorized_amount, preauth_id=row.preauth_id, exited_at=row.exited_at,
                exit_gate_id=row.exit_gate_id, total_amount=row.total_amount, settled_amount=row.settled_amount,
                payment_status_time=row.payment_status_time, passback_key=row.passback_key,
                closed_by=ClosedBy(row.closed_by) if row.closed_by else None,
                passback_violation=bool(row.passback_violation))


_INSERT_TRIP = insert(t.shopping_trips)


def _insert_passback_trip(dialect: str):  # noqa: ANN202
    """INSERT … ON CONFLICT (store_id, passback_key) WHERE <the index's predicate> DO NOTHING.

    The loser of a HARD anti-passback race inserts nothing and learns it from the empty RETURNING
    (an INSERT's row count is not reported reliably), and its transaction stays usable without a
    savepoint's round trips. On PostgreSQL a concurrent insert of the same key waits for the other
    transaction and then yields to it if it committed.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(t.shopping_trips)
    return stmt.on_conflict_do_nothing(index_elements=["store_id", "passback_key"],
                                       index_where=text(t.OPEN_PASSBACK)).returning(t.shopping_trips.c.trip_id)


_INSERT_PASSBACK_TRIP = {"sqlite": _insert_passback_trip("sqlite"), "postgresql": _insert_passback_trip("postgresql")}
_FIND_OPEN = (select(t.shopping_trips)
              .where(and_(t.shopping_trips.c.visitor_id == bindparam("visitor"),
                          t.shopping_trips.c.store_id == bindparam("store"),
                          t.shopping_trips.c.status == TripStatus.OPEN.value))
              .order_by(t.shopping_trips.c.entered_at.desc()).limit(1))


# On the gate's path (DESIGN 10: what the instrument owes the store's retailer), so built once.
_OUTSTANDING = (select(t.shopping_trips.c.currency,
                       func.sum(t.shopping_trips.c.total_amount - t.shopping_trips.c.settled_amount))
                .select_from(t.shopping_trips.join(t.stores, t.stores.c.store_id == t.shopping_trips.c.store_id))
                .where(and_(t.shopping_trips.c.instrument_id == bindparam("iid"),
                            t.stores.c.retailer_id == bindparam("rid"),
                            t.shopping_trips.c.total_amount.is_not(None),
                            t.shopping_trips.c.total_amount > t.shopping_trips.c.settled_amount))
                .group_by(t.shopping_trips.c.currency))


class SqlTrips(_Repo):
    def add(self, trip: Trip) -> None:
        params = dict(
            trip_id=trip.trip_id, store_id=trip.store_id, entry_gate_id=trip.entry_gate_id, channel=trip.channel,
            visitor_id=trip.visitor_id, instrument_id=trip.instrument_id, party_size=trip.party_size,
            status=trip.status.value, entered_at=trip.entered_at, currency=trip.currency,
            authorized_amount=trip.authorized_amount, preauth_id=trip.preauth_id, passback_key=trip.passback_key,
            passback_violation=trip.passback_violation)
        if trip.passback_key is None:
            # Trip ids are random: a clash is not expected, so no savepoint on the gate's path.
            self._insert(_INSERT_TRIP, savepoint=False, params=params)
            return
        if self.conn.execute(_INSERT_PASSBACK_TRIP[self.conn.dialect.name], params).first() is None:
            raise TripAlreadyOpen(f"visitor already inside store {trip.store_id}")

    def get(self, trip_id: str) -> Trip | None:
        row = self.conn.execute(select(t.shopping_trips).where(t.shopping_trips.c.trip_id == trip_id)).first()
        return trip_record(row) if row else None

    def find_open(self, *, visitor_id: str, store_id: str) -> Trip | None:
        row = self.conn.execute(_FIND_OPEN, {"visitor": visitor_id, "store": store_id}).first()
        return trip_record(row) if row else None

    def close(self, trip_id: str, *, at: datetime, gate_id: str) -> bool:
        c = t.shopping_trips.c
        done = self.conn.execute(update(t.shopping_trips).where(and_(c.trip_id == trip_id,
                                                                     c.status == TripStatus.OPEN.value))
                                 .values(status=TripStatus.CLOSED.value, exited_at=at, exit_gate_id=gate_id,
                                         closed_by=ClosedBy.EXIT_GATE.value))
        return done.rowcount == 1

    def list(self, store_id: str, *, status: str | None = None, limit: int = 100) -> list[Trip]:
        c = t.shopping_trips.c
        stmt = select(t.shopping_trips).where(c.store_id == store_id).order_by(c.entered_at.desc()).limit(limit)
        if status:
            stmt = stmt.where(c.status == status)
        return [trip_record(r) for r in self.conn.execute(stmt)]

    def report_payment(self, trip_id: str, *, total: Decimal, settled: Decimal, status_time: datetime,
                       at: datetime) -> bool:
        # The condition is in the UPDATE itself: two reports at once cannot both pass a read of the old
        # time and leave the older one standing (PostgreSQL re-checks the WHERE on the newest row).
        c = t.shopping_trips.c
        done = self.conn.execute(update(t.shopping_trips)
                                 .where(and_(c.trip_id == trip_id,
                                             or_(c.payment_status_time.is_(None), c.payment_status_time <= status_time)))
                                 .values(total_amount=total, settled_amount=settled, payment_status_time=status_time,
                                         payment_reported_at=at))
        return done.rowcount == 1

    def outstanding_balance(self, instrument_id: str, *, retailer_id: str) -> dict[str, Decimal]:
        rows = self.conn.execute(_OUTSTANDING, {"iid": instrument_id, "rid": retailer_id})
        return {cur: Decimal(str(amount)) for cur, amount in rows if amount}


def decision_record(row) -> DecisionRecord:  # noqa: ANN001
    """A decisions row as its record."""
    return DecisionRecord(
        gate_pk=row.gate_pk, gate_id=row.gate_id, store_id=row.store_id, event_id=row.event_id,
        request_hash=row.request_hash, channel=row.channel, outcome=row.outcome, reasons=list(row.reasons),
        decided_by=row.decided_by, visitor_id=row.visitor_id, visitor_type=row.visitor_type,
        instrument_id=row.instrument_id, trip_id=row.trip_id, party_size=row.party_size,
        risk_score=row.risk_score, risk_level=row.risk_level, authorized_amount=row.authorized_amount,
        currency=row.currency, latency_ms=float(row.latency_ms), event_time=row.event_time,
        decided_at=row.decided_at, preauth_id=row.preauth_id, model_version=row.model_version,
        risk_detail=row.risk_detail, policy_denied=bool(row.policy_denied),
        shadow_model_version=row.shadow_model_version, shadow_score=row.shadow_score, shadow_level=row.shadow_level,
        gate_request=row.gate_request,
        connector_calls=tuple(ConnectorCall.from_json(c) for c in row.connector_calls or ()))


_BY_EVENT = select(t.decisions).where(and_(t.decisions.c.gate_pk == bindparam("gate"),
                                            t.decisions.c.event_id == bindparam("event")))
_INSERT_DECISION = insert(t.decisions)


class SqlDecisions(_Repo):
    def get_by_event(self, gate_pk: str, event_id: str) -> DecisionRecord | None:
        row = self.conn.execute(_BY_EVENT, {"gate": gate_pk, "event": event_id}).first()
        return decision_record(row) if row else None

    def add(self, record: DecisionRecord) -> None:
        """On the gate's path: a duplicate event ends the transaction (or the group commit's savepoint), so no
        savepoint of its own."""
        values = {name: getattr(record, name) for name in record.__dataclass_fields__}
        values["connector_calls"] = [c.to_json() for c in record.connector_calls] or None
        self._insert(_INSERT_DECISION, DuplicateEvent, params=values, savepoint=False)

    def list(self, store_id: str, *, since: datetime | None = None, limit: int = 100) -> list[DecisionRecord]:
        c = t.decisions.c
        stmt = select(t.decisions).where(c.store_id == store_id)
        if since is not None:
            stmt = stmt.where(c.decided_at > since).order_by(c.decided_at.asc(), c.decision_id.asc())
        else:
            stmt = stmt.order_by(c.decided_at.desc(), c.decision_id.desc())
        return [decision_record(r) for r in self.conn.execute(stmt.limit(limit))]


class SqlExits(_Repo):
    def get_by_event(self, gate_pk: str, event_id: str) -> ExitRecord | None:
        c = t.exits.c
        row = self.conn.execute(select(t.exits).where(and_(c.gate_pk == gate_pk, c.event_id == event_id))).first()
        return ExitRecord(row.gate_pk, row.event_id, row.request_hash, row.trip_id, row.result,
                          row.decided_at) if row else None

    def add(self, record: ExitRecord) -> None:
        values = {name: getattr(record, name) for name in record.__dataclass_fields__}
        self._insert(insert(t.exits).values(**values), DuplicateEvent)


class SqlLabels(_Repo):
    def add(self, *, instrument_id: str, store_id: str, trip_id: str, risk: str, note: str | None,
            at: datetime) -> None:
        self.conn.execute(insert(t.instrument_labels).values(instrument_id=instrument_id, store_id=store_id,
                                                             trip_id=trip_id, risk=risk, note=note, created_at=at))

    def counts(self, instrument_id: str) -> dict[str, int]:
        c = t.instrument_labels.c
        rows = self.conn.execute(select(c.risk, func.count()).where(c.instrument_id == instrument_id)
                                 .group_by(c.risk))
        return {risk: int(n) for risk, n in rows}
