"""A capture the processor did not answer: the page says so (503, in words) and keeps the form's key,
so sending it again finishes the same operation; on SQLite and PostgreSQL, in-process."""
from __future__ import annotations

import httpx
import pytest

from consolekit import PASSWORD, csrf_of, forms, history, shown
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.memory.processor import ScriptedProcessor
from entrygate.bootstrap import build
from entrygate.cli.serverthread import ServerThread
from entrygate.console.simulate import simulate_entry
from entrygate.domain.channels import Channel, GateDirection
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.store import StoreConfig
from entrygate.services.auth import Principal
from entrygate.services.payments.holds import HoldService
from entrygate.settings import Settings
from entrygate.web import create_app
from support.server import TEST_SECRET

OPERATOR = Principal(KeyKind.OPERATOR)


@pytest.fixture
def console(db_url):
    """A signed-in console on a container whose hold service talks to a processor that can go quiet."""
    c = build(Settings(database_url=db_url, secret_key=TEST_SECRET, cache_ttl_s=0, allow_private_urls=True))
    processor = ScriptedProcessor()
    c.holds = HoldService(SqlPaymentsUnitOfWorkFactory(c.uow), processor, c.clock)
    retailer = c.admin.create_retailer(OPERATOR, name="R")
    c.admin.create_user(OPERATOR, retailer.id, email="ops@example.com", password=PASSWORD)
    c.admin.create_store(OPERATOR, StoreConfig(store_id="s-1", retailer_id=retailer.id, name="S", timezone="UTC",
                                               currency="USD", authorized_amount=Money.of(25, "USD"),
                                               entry_methods=frozenset({Channel.CREDIT_CARD})))
    c.admin.add_gate(OPERATOR, "s-1", gate_id="lane-1", direction=GateDirection.ENTRY)
    me = Principal(KeyKind.RETAILER, retailer_id=retailer.id)
    trip_id = simulate_entry(c, me, "s-1", gate_id="lane-1", card_number="4242424242424242",
                             party_size=1)["shoppingTripId"]
    server = ServerThread(create_app(c)).start()
    http = httpx.Client(base_url=server.url, follow_redirects=False, timeout=20)
    token = csrf_of(http.get("/console/sign-in").text)
    assert http.post("/console/sign-in", data={"csrf_token": token, "email": "ops@example.com",
                                               "password": PASSWORD}).status_code == 303
    yield http, processor, f"/console/stores/s-1/trips/{trip_id}"
    http.close()
    server.stop()
    c.close()


def test_a_capture_the_processor_did_not_answer_is_finished_by_sending_the_form_again(console):
    http, processor, path = console
    capture = forms(http.get(path).text)["capture"]
    processor.lose_answer.add("capture")  # the processor captures, but its answer never arrives
    r = capture.post(http, amount="18.40")
    assert r.status_code == 503
    assert shown(r.text, "hold-problem").startswith("The payment processor or the database did not answer")
    again = forms(r.text)["capture"]
    assert again.fields["operation_key"] == capture.fields["operation_key"]  # the same operation, not a new one
    assert 'value="18.40"' in r.text
    assert again.post(http, amount="18.40").status_code == 303
    page = http.get(path + "?done=capture").text
    assert shown(page, "hold-status") == "CAPTURED" and shown(page, "hold-captured") == "18.40 USD"
    assert len(history(page)) == 1
    # Both attempts sent the processor the same key: it captured once.
    assert list(processor.keys("capture").values()) == [2]


def test_a_refused_form_gets_a_fresh_key(console):
    http, _, path = console
    capture = forms(http.get(path).text)["capture"]
    r = capture.post(http, amount="-1")
    assert r.status_code == 400
    assert forms(r.text)["capture"].fields["operation_key"] != capture.fields["operation_key"]
