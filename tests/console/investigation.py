"""Helpers for the investigation tests: a store of the shared console login, and a decision of the past."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.records import DecisionRecord
from support.server import Platform, StoreHandle


def mine(platform: Platform, login, **config) -> StoreHandle:  # noqa: ANN001
    return platform.store(retailer=(login.retailer_id, login.retailer_key), **config)


def past_decision(platform: Platform, store: StoreHandle, *, gate: str, minutes_ago: float, **over) -> str:  # noqa: ANN003
    """A decision at ``gate`` as if it had been made ``minutes_ago`` (the console reads the clock of the server)."""
    engine = make_engine(platform.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            gate_pk = conn.execute(select(t.gates.c.gate_pk).where(t.gates.c.store_id == store.store_id,
                                                                   t.gates.c.gate_id == gate)).scalar_one()
        at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        values = dict(gate_pk=gate_pk, gate_id=gate, store_id=store.store_id, event_id=str(uuid.uuid4()),
                      request_hash="h", channel="QR_CODE", outcome="OPEN", reasons=[], decided_by="RETAILER",
                      visitor_id="member-" + uuid.uuid4().hex[:8], visitor_type="SHOPPER", instrument_id=None,
                      trip_id=None, party_size=1, risk_score=None, risk_level=None,
                      authorized_amount=None, currency=None, latency_ms=4.0, event_time=at, decided_at=at)
        values.update(over)
        units = SqlUnitOfWorkFactory(engine)
        with units(write=True) as u:
            u.decisions.add(DecisionRecord(**values))
            u.commit()
        return values["event_id"]
    finally:
        engine.dispose()

