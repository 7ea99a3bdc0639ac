"""The scope rule, "the operator, or the same retailer": one function, and each caller's own answer to a stranger.

Another retailer's store or trip is answered like an unknown one (404) where ids must not be
confirmed to strangers, refused (403) where the caller already knows the thing exists (a palm's
deletion: ``test_palm.py``), and, for a payment report naming a store in its body, a bad request
(400) naming the field.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from entrygate.adapters.memory.dashboard import MemoryDashboardQueries
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.console.dashboard import DashboardService
from entrygate.services.errors import Forbidden, InvalidRequest, NotFound
from entrygate.services.payments.feedback import FeedbackOutcome, FeedbackService, PaymentReport
from entrygate.services.ports.console import LiveFilter
from entrygate.services.trips.queries import QueryService
from support import payments
from support.factories import NOW, OPERATOR, World, card, event

STRANGER = Principal(KeyKind.RETAILER, retailer_id="ret_someone_else")
GATE = Principal(KeyKind.GATE, gate_pk="gpk_x")


@pytest.mark.parametrize("who, may", [
    (OPERATOR, True), (Principal(KeyKind.RETAILER, retailer_id="ret_1"), True), (STRANGER, False), (GATE, False),
    (Principal(KeyKind.RETAILER), False)])
def test_the_operator_and_the_retailer_itself_may_manage_its_things(who, may):
    assert who.may_manage("ret_1") is may


def test_a_refusal_is_the_callers_own_answer():
    refusal = NotFound("store s1 not found")
    with pytest.raises(NotFound) as err:
        STRANGER.require_scope("ret_1", otherwise=refusal)
    assert err.value is refusal
    OPERATOR.require_scope("ret_1", otherwise=refusal)
    with pytest.raises(Forbidden):
        STRANGER.require_retailer_scope("ret_1")


@pytest.fixture
def shop():
    """A store with one trip through its gate, and its retailer's principal."""
    w = World()
    w.admit(event(card()))
    with w.memory() as uow:
        [trip] = uow.trips.list(w.store.store_id)
    return w, trip, Principal(KeyKind.RETAILER, retailer_id=w.retailer_id)


def test_the_retailer_api_answers_a_stranger_with_404(shop):
    w, trip, owner = shop
    queries = QueryService(w.memory)
    assert queries.trip(owner, trip.trip_id) == trip and queries.trip(OPERATOR, trip.trip_id) == trip
    assert len(queries.trips(owner, w.store.store_id, status=None, limit=10)) == 1
    for who in (STRANGER, GATE):
        with pytest.raises(NotFound, match=f"trip {trip.trip_id} not found"):
            queries.trip(who, trip.trip_id)
        with pytest.raises(NotFound, match=f"store {w.store.store_id} not found"):
            queries.trips(who, w.store.store_id, status=None, limit=10)
        with pytest.raises(NotFound):
            queries.decisions(who, w.store.store_id, since=None, limit=10)


def test_the_console_answers_a_stranger_with_404(shop):
    w, trip, owner = shop
    dashboard = DashboardService(uow=w.memory, queries=MemoryDashboardQueries(w.memory), clock=w.clock)
    assert len(dashboard.live(owner, w.store.store_id, filters=LiveFilter())) == 1
    with pytest.raises(NotFound, match=f"store {w.store.store_id} not found"):
        dashboard.live(STRANGER, w.store.store_id, filters=LiveFilter())
    with pytest.raises(NotFound):
        dashboard.trip_history(STRANGER, trip)


def test_a_payment_report_for_a_strangers_store_is_a_bad_request_naming_the_store(shop):
    w, trip, owner = shop
    feedback = FeedbackService(w.memory, w.clock)

    def report(who: Principal) -> FeedbackOutcome:
        return feedback.report_payment(who, PaymentReport(w.store.store_id, trip.trip_id, Decimal("5"), "USD",
                                                          Decimal("5"), "USD", NOW + timedelta(minutes=5)))

    with pytest.raises(InvalidRequest) as err:
        report(STRANGER)
    assert err.value.fields == ["storeId"]
    assert report(owner) == FeedbackOutcome("Accepted")


def test_store_administration_refuses_a_stranger_with_403(shop):
    w, _, owner = shop
    assert w.admin.get_store(owner, w.store.store_id) == w.store
    with pytest.raises(Forbidden):
        w.admin.get_store(STRANGER, w.store.store_id)
    with pytest.raises(NotFound):  # an unknown store is unknown, to everyone
        w.admin.get_store(STRANGER, "store-unknown")


def test_settling_a_strangers_trip_is_404():
    w = payments.PaymentsWorld()
    trip = w.trip()
    for act in (lambda who: w.holds.get(who, trip.trip_id), lambda who: w.closing.close_trip(who, trip.trip_id)):
        with pytest.raises(NotFound, match=f"trip {trip.trip_id} not found"):
            act(payments.OTHER_RETAILER)
        act(payments.RETAILER)
