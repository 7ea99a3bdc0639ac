"""The payments storage ports (``services/ports/payments.py``) on the database.

A payments unit of work is the gate's ``SqlUnitOfWork`` seen through the three payments ports:
the same connection and transaction, the same SQLite write lock (so this process's writers still
queue in one line), and the same mapping of every storage fault to ``StorageError``.

Every write another process could race is one conditional statement whose row count says who won:
a trip is closed ``WHERE status = 'OPEN'``, a hold is taken ``WHERE version = :v AND
pending_operation_id IS NULL`` (or inserted at version 0, yielding to a concurrent insert), an
intent is claimed ``WHERE completed_at IS NULL AND lease_until <= :now`` and completed ``WHERE
pending_operation_id = :op``. On PostgreSQL a second writer of a row waits for the first and
re-checks the condition on what it left; on SQLite writers take turns. Either way the loser
changes nothing and is told so.

A trip's ``hold_settled`` turns true in the same write that stores its hold captured or released,
so the release sweep reads, through a partial index, only the trips whose hold may still be held.
A denied decision's hold is noted released ``WHERE preauth_released_at IS NULL``, and the orphan
sweep reads the denied decisions not yet noted through a partial index of its own.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, insert, literal, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.outbox import SqlEventOutbox
from entrygate.adapters.db.repositories import SqlTrips
from entrygate.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import (
    Hold,
    HoldEntry,
    HoldOperation,
    HoldStatus,
    HoldSummary,
    PaymentOutcome,
    Plan,
    ProcessorStep,
)
from entrygate.domain.money import Money
from entrygate.domain.trips import DEFAULT_MAX_TRIP_MINUTES, DEFAULT_PREAUTH_RELEASE_HOURS, ClosedBy, TripPolicy
from entrygate.services.ports.payments import HoldAnswer, HoldIntent, OrphanHold, StoredHold, TripState
from entrygate.services.ports.storage import StorageError

_trips, _stores = t.shopping_trips.c, t.stores.c
_holds, _ops = t.preauthorizations.c, t.preauthorization_operations.c
# The partial index's predicate, written as the index has it (qualified: the hold has a status too), so
# the planner can take the index; its terms are constants, never bound parameters.
_UNSETTLED_TRIPS = text(" AND ".join(f"shopping_trips.{term}" for term in t.UNSETTLED_HOLD.split(" AND ")))
_decisions = t.decisions.c
_ORPHANS = text(t.ORPHAN_HOLD)


class SqlTripLedger:
    """``TripLedger``: the trips as the payments use cases read and close them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_state(self, trip_id: str) -> TripState | None:
        row = self.conn.execute(
            select(t.shopping_trips, _stores.retailer_id)
            .select_from(t.shopping_trips.join(t.stores, _stores.store_id == _trips.store_id))
            .where(_trips.trip_id == trip_id)).first()
        if row is None:
            return None
        return TripState(trip_id=row.trip_id, store_id=row.store_id, retailer_id=row.retailer_id,
                         status=TripStatus(row.status), currency=row.currency, entered_at=row.entered_at,
                         preauth_id=row.preauth_id, authorized_amount=row.authorized_amount,
                         closed_at=row.exited_at, closed_by=ClosedBy(row.closed_by) if row.closed_by else None,
                         total_amount=row.total_amount, settled_amount=row.settled_amount)

    def close(self, trip_id: str, *, at: datetime, closed_by: ClosedBy, gate_id: str | None = None) -> bool:
        # Closing is what ends HARD anti-passback: the partial unique index covers open trips only.
        values: dict[str, Any] = {"status": TripStatus.CLOSED.value, "exited_at": at, "closed_by": closed_by.value}
        if gate_id is not None:
            values["exit_gate_id"] = gate_id
        done = self.conn.execute(update(t.shopping_trips)
                                 .where(and_(_trips.trip_id == trip_id, _trips.status == TripStatus.OPEN.value))
                                 .values(**values))
        return done.rowcount == 1

    def list_overdue(self, store_id: str, *, entered_before: datetime, limit: int) -> list[str]:
        # ix_trips_store_status (store_id, status, entered_at) serves this range in order.
        rows = self.conn.execute(
            select(_trips.trip_id)
            .where(and_(_trips.store_id == store_id, _trips.status == TripStatus.OPEN.value,
                        _trips.entered_at <= entered_before))
            .order_by(_trips.entered_at, _trips.trip_id).limit(limit))
        return list(rows.scalars())

    def report_payment(self, trip_id: str, *, total: Decimal, settled: Decimal, status_time: datetime,
                       at: datetime) -> None:
        # The very write of POST /v1/feedback/payment-status: one balance, two ways to feed it.
        SqlTrips(self.conn).report_payment(trip_id, total=total, settled=settled, status_time=status_time, at=at)


def _insert_hold(dialect: str):  # noqa: ANN202
    """INSERT … ON CONFLICT (trip_id) DO NOTHING RETURNING trip_id: a hold stored meanwhile by another
    worker wins, and this one learns it without a savepoint rolled back."""
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(t.preauthorizations)
    return stmt.on_conflict_do_nothing(index_elements=["trip_id"]).returning(_holds.trip_id)


_INSERT_HOLD = {"sqlite": _insert_hold("sqlite"), "postgresql": _insert_hold("postgresql")}
_INTENT = (select(t.preauthorization_operations, _holds.preauth_id)
           .select_from(t.preauthorization_operations.join(t.preauthorizations,
                                                           _holds.trip_id == _ops.trip_id)))


class SqlHoldRepository:
    """``HoldRepository``: the trips' holds and the intents written before each processor call."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, trip_id: str) -> StoredHold | None:
        row = self.conn.execute(select(t.preauthorizations).where(_holds.trip_id == trip_id)).first()
        if row is None:
            return None
        pending = self._intent(_ops.operation_id == row.pending_operation_id) if row.pending_operation_id else None
        return StoredHold(trip_id, _hold(row), row.version, pending)

    def get_intent(self, scope: str, idempotency_key: str) -> HoldIntent | None:
        return self._intent(and_(_ops.scope == scope, _ops.idempotency_key == idempotency_key))

    def _intent(self, condition: Any) -> HoldIntent | None:
        row = self.conn.execute(_INTENT.where(condition)).first()
        return _intent(row) if row else None

    def save_intent(self, intent: HoldIntent, *, hold: Hold, expected_version: int) -> bool:
        # One savepoint for both rows: a key taken by a concurrent caller undoes the hold's mark too.
        try:
            with self.conn.begin_nested():
                if not self._mark(intent, hold, expected_version):
                    return False
                self.conn.execute(insert(t.preauthorization_operations).values(_intent_row(intent, hold.currency)))
        except IntegrityError:
            return False
        return True

    def _mark(self, intent: HoldIntent, hold: Hold, expected_version: int) -> bool:
        """Mark the hold busy with the intent: insert it at version 0, else only if still at ``expected_version``
        and free."""
        if expected_version == 0:
            values = {**_hold_row(hold), "trip_id": intent.trip_id, "preauth_id": hold.preauth_id,
                      "currency": hold.currency, "version": 0, "pending_operation_id": intent.operation_id}
            if self.conn.execute(_INSERT_HOLD[self.conn.dialect.name], values).first() is not None:
                self._settled(intent.trip_id, hold)
                return True
        done = self.conn.execute(update(t.preauthorizations)
                                 .where(and_(_holds.trip_id == intent.trip_id, _holds.version == expected_version,
                                             _holds.pending_operation_id.is_(None)))
                                 .values(pending_operation_id=intent.operation_id))
        return done.rowcount == 1

    def claim_intent(self, operation_id: str, *, now: datetime, lease_until: datetime) -> bool:
        done = self.conn.execute(update(t.preauthorization_operations)
                                 .where(and_(_ops.operation_id == operation_id, _ops.completed_at.is_(None),
                                             _ops.lease_until <= now))
                                 .values(lease_until=lease_until))
        return done.rowcount == 1

    def complete_intent(self, operation_id: str, *, hold: Hold, answer: HoldAnswer, refusal: str | None,
                        at: datetime) -> bool:
        trip_id = self.conn.execute(select(_ops.trip_id).where(_ops.operation_id == operation_id)).scalar()
        freed = self.conn.execute(update(t.preauthorizations)
                                  .where(and_(_holds.trip_id == trip_id, _holds.pending_operation_id == operation_id))
                                  .values(**_hold_row(hold), version=_holds.version + 1, pending_operation_id=None))
        if trip_id is None or freed.rowcount != 1:
            return False
        self._settled(trip_id, hold)
        summary, outcome = answer.preauthorization, answer.outcome
        self.conn.execute(update(t.preauthorization_operations).where(_ops.operation_id == operation_id).values(
            completed_at=at, refusal=refusal, result_status=summary.status.value, result_held=summary.held.amount,
            result_captured=summary.captured.amount, result_refunded=summary.refunded.amount,
            outcome_total=outcome.total.amount if outcome else None,
            outcome_settled=outcome.settled.amount if outcome else None,
            declined=answer.declined.value if answer.declined else None))
        return True

    def _settled(self, trip_id: str, hold: Hold) -> None:
        """A hold captured or released never goes back to held: its trip leaves the release sweep's index
        for good. Written wherever a hold's status is, so the flag and the status always agree."""
        if hold.status in (HoldStatus.CAPTURED, HoldStatus.RELEASED):
            self.conn.execute(update(t.shopping_trips).where(_trips.trip_id == trip_id).values(hold_settled=True))

    def list_to_release(self, store_id: str, *, closed_before: datetime, now: datetime, limit: int,
                        after: str | None = None) -> list[str]:
        # The index holds the trips whose hold is still held (or kept after a declined capture): a trip
        # without a stored hold was not touched since the gate. Of those, an operation in flight under
        # a live lease keeps its trip off the list.
        blocked = (select(_holds.trip_id)
                   .select_from(t.preauthorizations.join(t.preauthorization_operations,
                                                         _ops.operation_id == _holds.pending_operation_id))
                   .where(and_(_holds.pending_operation_id.is_not(None), _holds.trip_id == _trips.trip_id,
                               _ops.lease_until > now)))
        stmt = (select(_trips.trip_id)
                .where(and_(_trips.store_id == store_id, _UNSETTLED_TRIPS, _trips.exited_at <= closed_before,
                            ~blocked.exists()))
                .order_by(_trips.trip_id).limit(limit))
        if after is not None:
            stmt = stmt.where(_trips.trip_id > after)
        return list(self.conn.execute(stmt).scalars())

    def list_orphans(self, *, decided_before: datetime, limit: int,
                     after: OrphanHold | None = None) -> list[OrphanHold]:
        order = (_decisions.decided_at, _decisions.gate_pk, _decisions.event_id)
        stmt = (select(_decisions.gate_pk, _decisions.event_id, _decisions.store_id, _decisions.preauth_id,
                       _decisions.decided_at)
                .where(and_(_ORPHANS, _decisions.decided_at <= decided_before)).order_by(*order).limit(limit))
        if after is not None:
            past = (after.decided_at, after.gate_pk, after.event_id)
            stmt = stmt.where(tuple_(*order) > tuple_(*(literal(v, c.type) for c, v in zip(order, past))))
        return [OrphanHold(*row) for row in self.conn.execute(stmt)]

    def mark_orphan_released(self, gate_pk: str, event_id: str, *, at: datetime) -> bool:
        done = self.conn.execute(update(t.decisions)
                                 .where(and_(_decisions.gate_pk == gate_pk, _decisions.event_id == event_id,
                                             _decisions.preauth_id.is_not(None),
                                             _decisions.preauth_released_at.is_(None)))
                                 .values(preauth_released_at=at))
        return done.rowcount == 1


class SqlTripPolicyReader:
    """``TripPolicyReader``: each store's two trip clocks, from its config (keys as the store API names them)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def list(self) -> list[TripPolicy]:
        rows = self.conn.execute(select(_stores.store_id, _stores.config).order_by(_stores.store_id))
        return [TripPolicy(store_id, int(config.get("maxTripMinutes", DEFAULT_MAX_TRIP_MINUTES)),
                           int(config.get("preauthReleaseHours", DEFAULT_PREAUTH_RELEASE_HOURS)))
                for store_id, config in rows]


class SqlPaymentsUnitOfWork:
    """A ``SqlUnitOfWork`` with the payments ports on its connection; commits only on ``commit()``."""

    def __init__(self, unit: SqlUnitOfWork, *, write: bool) -> None:
        self._unit = unit
        self._write = write

    def __enter__(self) -> SqlPaymentsUnitOfWork:
        self._unit.__enter__()
        conn = self._unit.conn
        self.trips = SqlTripLedger(conn)
        self.holds = SqlHoldRepository(conn)
        self.trip_policies = SqlTripPolicyReader(conn)
        self.events = SqlEventOutbox(conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        self._unit.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        if not self._write:
            raise StorageError("a reading unit of work cannot commit")
        self._unit.commit()


class SqlPaymentsUnitOfWorkFactory:
    """``PaymentsUnitOfWorkFactory`` over the gate's units of work, sharing their SQLite write lock."""

    def __init__(self, units: SqlUnitOfWorkFactory) -> None:
        self.units = units

    def __call__(self, *, write: bool = False) -> SqlPaymentsUnitOfWork:
        return SqlPaymentsUnitOfWork(self.units(write=write), write=write)


# -- rows to and from the domain -------------------------------------------------------------------

def _money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money(Decimal(amount), currency)


def _hold_row(hold: Hold) -> dict[str, Any]:
    return {"status": hold.status.value, "held_amount": hold.held.amount, "authorized_amount": hold.authorized.amount,
            "captured_amount": hold.captured.amount, "refunded_amount": hold.refunded.amount,
            "captured_at": hold.captured_at, "history": [_entry_json(e) for e in hold.history]}


def _hold(row: Any) -> Hold:
    cur = row.currency
    return Hold(row.preauth_id, HoldStatus(row.status), held=Money(row.held_amount, cur),
                authorized=Money(row.authorized_amount, cur), captured=Money(row.captured_amount, cur),
                refunded=Money(row.refunded_amount, cur), captured_at=row.captured_at,
                history=tuple(_entry(e, cur) for e in row.history))


def _entry_json(entry: HoldEntry) -> dict[str, Any]:
    # Amounts as text: JSON numbers would lose a decimal's exactness.
    return {"operation": entry.operation.value, "amount": str(entry.amount.amount) if entry.amount else None,
            "status": entry.status.value, "at": entry.at.isoformat(),
            "declined": entry.declined.value if entry.declined else None}


def _entry(data: dict[str, Any], currency: str) -> HoldEntry:
    amount = Money(Decimal(data["amount"]), currency) if data["amount"] is not None else None
    return HoldEntry(HoldOperation(data["operation"]), amount, HoldStatus(data["status"]),
                     datetime.fromisoformat(data["at"]),
                     ProcessorStep(data["declined"]) if data["declined"] else None)


def _intent_row(intent: HoldIntent, currency: str) -> dict[str, Any]:
    plan = intent.plan
    return {"operation_id": intent.operation_id, "trip_id": intent.trip_id, "scope": intent.scope,
            "idempotency_key": intent.idempotency_key, "request_hash": intent.request_hash,
            "operation": plan.operation.value, "amount": plan.amount.amount if plan.amount else None,
            "currency": currency, "raise_to": plan.raise_to.amount if plan.raise_to else None,
            "release": plan.release, "processor_key": intent.processor_key, "created_at": intent.created_at,
            "lease_until": intent.lease_until}


def _intent(row: Any) -> HoldIntent:
    cur = row.currency
    plan = Plan(HoldOperation(row.operation), _money(row.amount, cur), _money(row.raise_to, cur), bool(row.release))
    answer = None
    if row.completed_at is not None:
        outcome = None
        if row.outcome_total is not None and row.outcome_settled is not None:
            outcome = PaymentOutcome(Money(row.outcome_total, cur), Money(row.outcome_settled, cur))
        summary = HoldSummary(row.preauth_id, HoldStatus(row.result_status), Money(row.result_held, cur),
                              Money(row.result_captured, cur), Money(row.result_refunded, cur))
        answer = HoldAnswer(row.trip_id, summary, outcome, ProcessorStep(row.declined) if row.declined else None)
    return HoldIntent(operation_id=row.operation_id, trip_id=row.trip_id, scope=row.scope,
                      idempotency_key=row.idempotency_key, request_hash=row.request_hash, plan=plan,
                      processor_key=row.processor_key, created_at=row.created_at, lease_until=row.lease_until,
                      answer=answer, refusal=row.refusal, completed_at=row.completed_at)
