"""``InstrumentRepository`` and ``LabelRepository``: cards seen at the gates, blocked ones, risk labels."""
from __future__ import annotations

import pytest

from support.contracts import T0, add_trips, instrument, later, shop, trip
from support.factories import card


@pytest.fixture
def port(storage):
    return storage


def get(uow, instrument_id):  # noqa: ANN001, ANN201
    with uow() as u:
        return u.instruments.get(instrument_id)


def test_a_card_seen_again_keeps_its_first_sighting_and_takes_the_newest_details(port):
    uow = port
    first = card(brand="VISA", last4="4242", exp_year=2029, funding="debit", issuer_country="US")
    instrument_id = instrument(uow, first)
    seen = get(uow, instrument_id)
    assert (seen.brand, seen.last4, seen.exp_month, seen.exp_year, seen.funding, seen.issuer_country) == (
        "VISA", "4242", 12, 2029, "debit", "US")
    assert (seen.blocked, seen.blocked_reason, seen.first_seen_at, seen.last_seen_at) == (False, None, T0, T0)
    with uow(write=True) as u:
        u.instruments.record_seen(instrument_id, card(exp_year=2031, funding=None, issuer_country=None),
                                  at=later(3600))
        u.commit()
    again = get(uow, instrument_id)
    assert (again.exp_year, again.funding, again.issuer_country) == (2031, None, None)
    assert (again.first_seen_at, again.last_seen_at) == (T0, later(3600))
    assert get(uow, "ins_unknown") is None


def test_a_blocked_card_stays_blocked_when_seen_again(port):
    uow = port
    instrument_id = instrument(uow)
    with uow(write=True) as u:
        u.instruments.block(instrument_id, reason="lost_stolen")
        u.commit()
    with uow(write=True) as u:
        u.instruments.record_seen(instrument_id, card(), at=later(60))
        u.commit()
    seen = get(uow, instrument_id)
    assert (seen.blocked, seen.blocked_reason, seen.last_seen_at) == (True, "lost_stolen", later(60))


def test_blocking_a_card_never_seen_changes_nothing(port):
    uow = port
    with uow(write=True) as u:
        u.instruments.block("ins_never_seen", reason="lost_stolen")
        u.commit()
    assert get(uow, "ins_never_seen") is None


def test_labels_are_counted_per_risk_for_their_instrument(port):
    uow = port
    where = shop(uow)
    mine, other = instrument(uow), instrument(uow)
    t = trip(where, instrument_id=mine)
    add_trips(uow, t)
    with uow(write=True) as u:
        for risk, who in [("CustomerFraud", mine), ("BadDebt", mine), ("BadDebt", mine), ("BadDebt", other)]:
            u.labels.add(instrument_id=who, store_id=where.store_id, trip_id=t.trip_id, risk=risk, note=None,
                         at=T0)
        u.commit()
    with uow() as u:
        assert u.labels.counts(mine) == {"CustomerFraud": 1, "BadDebt": 2}
        assert u.labels.counts(other) == {"BadDebt": 1}
        assert u.labels.counts(instrument(uow)) == {}
