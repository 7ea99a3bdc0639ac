"""The instrument history reader on both databases, against the in-memory one."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.channels import Channel, GateDirection, ShopperRisk
from entrygate.domain.keys import KeyKind
from entrygate.domain.risk_ops import ItemSource, ItemType, ListItem, ListName
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.payments.feedback import FeedbackService, PaymentReport
from entrygate.wire.decisions import decision_answer
from support.factories import NOW, OPERATOR, PlainPasswords, card, event, store_config


def _play(uow) -> str:  # noqa: ANN001
    clock = FixedClock(NOW - timedelta(days=3))
    catalog = Catalog(uow, ttl_s=0)
    admin = AdminService(uow, clock, catalog, PlainPasswords())
    retailer = admin.create_retailer(OPERATOR, name="R")
    stores = [admin.create_store(OPERATOR, store_config(retailer.id)) for _ in range(2)]
    gates = []
    for s in stores:
        admin.add_gate(OPERATOR, s.store_id, gate_id="g", direction=GateDirection.ENTRY)
        with uow() as u:
            gates.append(Principal(KeyKind.GATE, gate_pk=u.gates.find(s.store_id, "g").gate_pk))
    entries = EntryService(uow=uow, catalog=catalog, clock=clock, processor=SandboxProcessor(timeout_s=0),
                           handlers={Channel.CREDIT_CARD: CardHandler(secret=b"k")})
    feedback = FeedbackService(uow, clock)
    par = "V001" + "A" * 25
    first = decision_answer(entries.admit(gates[0], "g", event(card(par=par))))  # 3 days ago
    clock.at = NOW - timedelta(hours=5)
    entries.admit(gates[1], "g", event(card("tok_decline_generic", par=par)))
    clock.at = NOW - timedelta(minutes=30)
    second = decision_answer(entries.admit(gates[0], "g", event(card(par=par))))
    entries.admit(gates[1], "g", event(card(par=par), party_size=9))  # refused before the card is read: not counted
    # Refused by the retailer's block list: the store's policy, not the card: neither an entry nor a decline.
    with uow(write=True) as u:
        u.risk_lists.add(ListItem("item_h", retailer.id, ListName.BLOCK, ItemType.INSTRUMENT, second["visitor"]["id"],
                                  None, None, clock.now(), ItemSource.API))
        u.commit()
    clock.at = NOW - timedelta(minutes=10)
    for _ in range(3):
        blocked = decision_answer(entries.admit(gates[0], "g", event(card(par=par))))
        assert [r["code"] for r in blocked["reasons"]] == ["INSTRUMENT_BLOCKED"]
    feedback.report_payment(OPERATOR, PaymentReport(stores[0].store_id, first["shoppingTripId"], Decimal(30), "USD",
                                                    Decimal(10), "USD", NOW - timedelta(days=2)))
    feedback.label(OPERATOR, store_id=stores[0].store_id, trip_id=second["shoppingTripId"], risk=ShopperRisk.BadDebt,
                   note=None)
    return first["visitor"]["id"]


def test_history_reads_the_same_on_sql_and_in_memory(db_url):
    engine = make_engine(db_url)
    try:
        sql = SqlUnitOfWorkFactory(engine)
        memory = MemoryStore()
        sql_id, mem_id = _play(sql), _play(memory)
        with sql() as u:
            from_sql = u.history.of(sql_id, now=NOW)
        with memory() as u:
            from_memory = u.history.of(mem_id, now=NOW)
    finally:
        engine.dispose()
    assert from_sql == from_memory
    assert (from_sql.entries_total, from_sql.entries_24h, from_sql.entries_1h) == (3, 2, 1)
    assert from_sql.distinct_stores_24h == 2
    assert (from_sql.declines_total, from_sql.declines_24h) == (1, 1)
    assert (from_sql.trips_total, from_sql.unpaid_trips, from_sql.outstanding_balance) == (2, 1, 20.0)
    assert (from_sql.bad_debt_labels, from_sql.fraud_labels) == (1, 0)
    assert 2.9 < from_sql.days_since_first_seen < 3.1
