"""Risk operations' storage on both databases, against the in-memory fakes: list items, rules' versions, and
the writes two requests may race (a fraud label's block, a review's verdict)."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.records import ApiKeyRecord, Retailer
from entrygate.domain.risk_ops import (
    ItemSource,
    ItemType,
    ListItem,
    ListName,
    Presented,
    Review,
    ReviewOutcome,
    Rule,
    RuleAction,
)
from entrygate.services.risk_ops.lists import feedback_block
from support.factories import store_config

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sql", "memory"])
def units(request, backend):
    if request.param == "memory":
        if backend != "sqlite":
            pytest.skip("the fake runs once")
        yield MemoryStore()
        return
    engine = make_engine(request.getfixturevalue("db_url"))
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


def _retailer_and_store(units) -> str:  # noqa: ANN001
    with units(write=True) as uow:
        uow.retailers.add(Retailer("r1", "R", AT), ApiKeyRecord("k1", "h", "r1"))
        uow.stores.add(store_config("r1", store_id="s1"), at=AT)
        uow.commit()
    return "s1"


def test_list_items_round_trip_and_the_gate_s_lookup(units):
    _retailer_and_store(units)
    items = [ListItem("i1", "r1", ListName.BLOCK, ItemType.INSTRUMENT, "ins_1", "n", AT + timedelta(days=1), AT,
                      ItemSource.API),
             ListItem("i2", "r1", ListName.ALLOW, ItemType.ISSUER_COUNTRY, "FR", None, None, AT, ItemSource.CONSOLE),
             ListItem("i3", "r1", ListName.BLOCK, ItemType.VISITOR, "ins_1", None, None, AT, ItemSource.API)]
    with units(write=True) as uow:
        for item in items:
            uow.risk_lists.add(item)
        uow.commit()
    with units() as uow:
        assert uow.risk_lists.get("i1") == items[0]
        assert [i.item_id for i in uow.risk_lists.list("r1", ListName.BLOCK)] == ["i1", "i3"]  # newest, then by id
        found = uow.risk_lists.candidates(Presented(instrument_id="ins_1", issuer_country="FR", visitor_id=None))
        assert sorted(i.item_id for i in found) == ["i1", "i2"]  # a VISITOR item names visitors only
    with units(write=True) as uow:
        assert uow.risk_lists.delete("i1") and not uow.risk_lists.delete("i1")
        uow.commit()


def test_rules_versions_rise_with_every_change(units):
    _retailer_and_store(units)
    with units(write=True) as uow:
        assert uow.rules.put("s1", [Rule("a", "true", RuleAction.DENY)], at=AT) == 1
        assert uow.rules.put("s1", [], at=AT) == 2
        uow.commit()
    with units() as uow:
        stored = uow.rules.get("s1")
    assert stored is not None and stored.version == 2 and stored.rules == ()


def _race(units, work) -> list:  # noqa: ANN001
    barrier, results = threading.Barrier(2), []

    def run() -> None:
        barrier.wait()
        with units(write=True) as uow:
            results.append(work(uow))
            uow.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_fraud_labels_at_once_make_one_block_item(units):
    _retailer_and_store(units)
    results = _race(units, lambda uow: feedback_block(uow, retailer_id="r1", instrument_id="ins_9", note=None, at=AT))
    assert sorted(results) == [False, True]
    with units() as uow:
        assert [i.source for i in uow.risk_lists.list("r1", ListName.BLOCK)] == [ItemSource.FEEDBACK]


def test_two_verdicts_at_once_one_is_recorded(units):
    _retailer_and_store(units)
    with units(write=True) as uow:
        uow.reviews.add(Review("rev1", "s1", "g1", "e1", "t1", "v1", "ins_1", "rule", AT))
        uow.commit()
    outcomes = iter([ReviewOutcome.FRAUD, ReviewOutcome.OK])
    lock = threading.Lock()

    def decide(uow):  # noqa: ANN001, ANN202
        with lock:
            outcome = next(outcomes)
        return outcome, uow.reviews.decide("rev1", outcome, at=AT)

    results = _race(units, decide)
    assert sorted(done for _, done in results) == [False, True]
    [winner] = [o for o, done in results if done]
    with units() as uow:
        assert uow.reviews.get("rev1").outcome is winner
