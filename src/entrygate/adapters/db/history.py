"""An instrument's history as the risk model reads it, in one round trip.

Every figure comes from the append-only decision record, the trips and the labels, through the
indexes on the instrument id: nothing to keep in step, and every process sees the same history.
Four small aggregate queries in one read transaction.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, String, and_, case, cast, distinct, func, or_, select

from entrygate.adapters.db import tables as t
from entrygate.risk.features import InstrumentHistory


DECLINE_CODES = ("PREAUTH_DECLINED", "CARD_EXPIRED", "INSTRUMENT_BLOCKED", "INVALID_CREDENTIAL")


class SqlHistory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of(self, instrument_id: str, *, now: datetime) -> InstrumentHistory:
        d, tr, lb, pi = t.decisions.c, t.shopping_trips.c, t.instrument_labels.c, t.payment_instruments.c
        hour, day = now - timedelta(hours=1), now - timedelta(days=1)
        mine = d.instrument_id == instrument_id
        # A decline is what the card network said (as in the model's training data), not the
        # platform's own risk or balance denials: counting those would feed a score back into itself.
        reasons = cast(d.reasons, String)
        declined = or_(*(reasons.like(f'%"{code}"%') for code in DECLINE_CODES))
        decisions = select(
            func.count(),
            func.coalesce(func.sum(case((d.decided_at > hour, 1), else_=0)), 0),
            func.coalesce(func.sum(case((d.decided_at > day, 1), else_=0)), 0),
            func.count(distinct(case((d.decided_at > day, d.store_id)))),
            func.coalesce(func.sum(case((and_(declined, d.decided_at > day), 1), else_=0)), 0),
            func.coalesce(func.sum(case((declined, 1), else_=0)), 0),
        ).where(mine)
        trips = select(
            func.count(),
            func.coalesce(func.sum(case((tr.total_amount > tr.settled_amount, 1), else_=0)), 0),
            func.coalesce(func.sum(case((tr.total_amount > tr.settled_amount, tr.total_amount - tr.settled_amount),
                                        else_=0)), 0),
        ).where(tr.instrument_id == instrument_id)
        labels = select(
            func.coalesce(func.sum(case((lb.risk == "CustomerFraud", 1), else_=0)), 0),
            func.coalesce(func.sum(case((lb.risk == "BadDebt", 1), else_=0)), 0),
            func.coalesce(func.sum(case((lb.risk == "InvalidCard", 1), else_=0)), 0),
        ).where(lb.instrument_id == instrument_id)
        dec = self.conn.execute(decisions).one()
        trp = self.conn.execute(trips).one()
        lab = self.conn.execute(labels).one()
        seen = self.conn.execute(select(pi.first_seen_at).where(pi.instrument_id == instrument_id)).scalar()
        return InstrumentHistory(
            entries_total=int(dec[0]), entries_1h=int(dec[1]), entries_24h=int(dec[2]),
            distinct_stores_24h=int(dec[3]), declines_24h=int(dec[4]), declines_total=int(dec[5]),
            trips_total=int(trp[0]), unpaid_trips=int(trp[1]), outstanding_balance=float(trp[2]),
            fraud_labels=int(lab[0]), bad_debt_labels=int(lab[1]), invalid_card_labels=int(lab[2]),
            days_since_first_seen=max((now - seen).total_seconds() / 86400, 0.0) if seen else 0.0)
