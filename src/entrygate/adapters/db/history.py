"""An instrument's history as the risk model reads it, in one round trip.

Every figure comes from the append-only decision record, the trips and the labels, through the
indexes on the instrument id: nothing to keep in step, and every process sees the same history.
One statement, built once, one round trip at the gate.

Entries and declines count the taps the card itself answered for: a tap the store's policy refused
(``decisions.policy_denied``: an unpaid balance, anti-passback, a rule, a list block) is left out, so a
shopper who settles a debt after a few refused taps does not look like a card tester.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, String, and_, bindparam, case, cast, distinct, func, or_, select, true

from entrygate.adapters.db import tables as t
from entrygate.risk.features import InstrumentHistory

DECLINE_CODES = ("PREAUTH_DECLINED", "CARD_EXPIRED", "INSTRUMENT_BLOCKED", "INVALID_CREDENTIAL")


def _statement():  # noqa: ANN202 - a compiled-once SELECT
    """One SELECT (three one-row aggregates, cross-joined) built once: a single round trip."""
    d, tr, lb, pi = t.decisions.c, t.shopping_trips.c, t.instrument_labels.c, t.payment_instruments.c
    iid = bindparam("iid")
    hour, day = bindparam("hour", type_=t.UTCDateTime), bindparam("day", type_=t.UTCDateTime)
    # A decline is what the card network said (as in the model's training data), not the
    # platform's own risk or balance denials: counting those would feed a score back into itself.
    reasons = cast(d.reasons, String)
    declined = or_(*(reasons.like(f'%"{code}"%') for code in DECLINE_CODES))
    decisions = select(
        func.count().label("entries_total"),
        func.coalesce(func.sum(case((d.decided_at > hour, 1), else_=0)), 0).label("entries_1h"),
        func.coalesce(func.sum(case((d.decided_at > day, 1), else_=0)), 0).label("entries_24h"),
        func.count(distinct(case((d.decided_at > day, d.store_id)))).label("stores_24h"),
        func.coalesce(func.sum(case((and_(declined, d.decided_at > day), 1), else_=0)), 0).label("declines_24h"),
        func.coalesce(func.sum(case((declined, 1), else_=0)), 0).label("declines_total"),
    ).where(d.instrument_id == iid, d.policy_denied.is_(False)).subquery()
    unpaid = tr.total_amount > tr.settled_amount
    trips = select(
        func.count().label("trips_total"),
        func.coalesce(func.sum(case((unpaid, 1), else_=0)), 0).label("unpaid_trips"),
        func.coalesce(func.sum(case((unpaid, tr.total_amount - tr.settled_amount), else_=0)), 0).label("balance"),
    ).where(tr.instrument_id == iid).subquery()
    labels = select(
        func.coalesce(func.sum(case((lb.risk == "CustomerFraud", 1), else_=0)), 0).label("fraud"),
        func.coalesce(func.sum(case((lb.risk == "BadDebt", 1), else_=0)), 0).label("bad_debt"),
        func.coalesce(func.sum(case((lb.risk == "InvalidCard", 1), else_=0)), 0).label("invalid_card"),
    ).where(lb.instrument_id == iid).subquery()
    first_seen = select(pi.first_seen_at).where(pi.instrument_id == iid).scalar_subquery()
    return (select(decisions, trips, labels, first_seen.label("first_seen"))
            .select_from(decisions.join(trips, true()).join(labels, true())))


HISTORY = _statement()


class SqlHistory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of(self, instrument_id: str, *, now: datetime) -> InstrumentHistory:
        r = self.conn.execute(HISTORY, {"iid": instrument_id, "hour": now - timedelta(hours=1),
                                        "day": now - timedelta(days=1)}).one()
        seen = r.first_seen
        if seen is not None and isinstance(seen, str):  # SQLite returns a scalar subquery's time as text
            seen = datetime.fromisoformat(seen)
        if seen is not None and seen.tzinfo is None:
            seen = seen.replace(tzinfo=UTC)
        return InstrumentHistory(
            entries_total=int(r.entries_total), entries_1h=int(r.entries_1h), entries_24h=int(r.entries_24h),
            distinct_stores_24h=int(r.stores_24h), declines_24h=int(r.declines_24h),
            declines_total=int(r.declines_total), trips_total=int(r.trips_total), unpaid_trips=int(r.unpaid_trips),
            outstanding_balance=float(r.balance), fraud_labels=int(r.fraud), bad_debt_labels=int(r.bad_debt),
            invalid_card_labels=int(r.invalid_card),
            days_since_first_seen=max((now - seen).total_seconds() / 86400, 0.0) if seen else 0.0)
