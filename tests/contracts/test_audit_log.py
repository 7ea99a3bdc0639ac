"""``AuditRepository``: entries stored in the change's unit of work, read newest first, per retailer and store."""
from __future__ import annotations

from datetime import timedelta

from entrygate.domain.audit import Actor, ActorType, AuditEntry, Target
from support.contracts import T0, new_id

ACTOR = Actor(ActorType.OPERATOR, "op1", "operator")


def entry(retailer_id: str | None, *, at_s: float = 0, store_id: str | None = None, action: str = "store.updated",
          before: dict | None = None, after: dict | None = None) -> AuditEntry:
    return AuditEntry(at=T0 + timedelta(seconds=at_s), actor=ACTOR, action=action,
                      target=Target("store", store_id or "none"), retailer_id=retailer_id, store_id=store_id,
                      before=before, after=after)


def add(storage, *entries: AuditEntry) -> None:  # noqa: ANN001
    with storage(write=True) as u:
        for e in entries:
            u.audit.add(e)
        u.commit()


def listed(storage, **query) -> list[AuditEntry]:  # noqa: ANN001, ANN003
    query = {"retailer_id": None, "store_id": None, "since": None, "limit": 100} | query
    with storage() as u:
        return u.audit.list(**query)


def test_an_entry_reads_back_as_written(storage):
    r = new_id("ret")
    written = entry(r, store_id="s1", before={"name": "A", "connectors": {}}, after={"name": "B", "maxPartySize": 4})
    add(storage, written)
    [got] = listed(storage, retailer_id=r)
    assert got.entry_id is not None
    assert (got.at, got.actor, got.action, got.target, got.retailer_id, got.store_id, got.before, got.after) == (
        written.at, written.actor, written.action, written.target, r, "s1", written.before, written.after)


def test_an_uncommitted_entry_leaves_nothing(storage):
    r = new_id("ret")
    with storage(write=True) as u:
        u.audit.add(entry(r))
    assert listed(storage, retailer_id=r) == []


def test_newest_first_and_in_stored_order_at_one_instant(storage):
    r = new_id("ret")
    add(storage, entry(r, at_s=1, action="a.first"), entry(r, at_s=3, action="c.third"))
    add(storage, entry(r, at_s=3, action="d.fourth"), entry(r, at_s=2, action="b.second"))
    assert [e.action for e in listed(storage, retailer_id=r)] == ["d.fourth", "c.third", "b.second", "a.first"]


def test_since_is_inclusive_and_limit_keeps_the_newest(storage):
    r = new_id("ret")
    add(storage, *(entry(r, at_s=s, action=f"x.at{s}") for s in range(5)))
    assert [e.action for e in listed(storage, retailer_id=r, since=T0 + timedelta(seconds=2))] == [
        "x.at4", "x.at3", "x.at2"]
    assert [e.action for e in listed(storage, retailer_id=r, limit=2)] == ["x.at4", "x.at3"]


def test_each_retailer_and_store_reads_its_own(storage):
    mine, theirs = new_id("ret"), new_id("ret")
    add(storage, entry(mine, store_id="m1", action="m.one"), entry(mine, at_s=1, action="m.account"),
        entry(theirs, at_s=2, store_id="t1", action="t.one"), entry(None, at_s=3, action="platform.wide"))
    assert [e.action for e in listed(storage, retailer_id=mine)] == ["m.account", "m.one"]
    assert [e.action for e in listed(storage, retailer_id=mine, store_id="m1")] == ["m.one"]
    assert [e.action for e in listed(storage, retailer_id=mine, store_id="t1")] == []
    everyone = [e.action for e in listed(storage, limit=1000)]
    assert {"m.one", "m.account", "t.one", "platform.wide"} <= set(everyone)  # only the operator reads the last
