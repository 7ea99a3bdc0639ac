"""The connector client over real HTTP against loopback retailers that misbehave on purpose.

Every failure mode must end within the connector's deadline plus a small margin: the gate
always gets its answer.
"""
from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from entrygate.adapters.http.breaker import BreakerState, CircuitBreaker
from entrygate.adapters.http.connectors import ConnectorClient, ConnectorMetrics
from entrygate.domain import webhooks
from entrygate.domain.channels import Channel, ShopperRisk, VisitorType
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.services.ports.connectors import (
    AuthEvent,
    AuthorizationCondition,
    ConnectorFailed,
    FailureKind,
    GateAuthEvent,
    IdentityRejected,
    KeyChannel,
    ShopperAuthorization,
)
from retailer.harness import LoopbackRetailer, Reply, closed_port_url

# The retailers here listen on loopback, which the outbound guard refuses unless allowed.
SECRET = webhooks.new_secret()
TIMEOUT_MS = 300
# What the deadline may be overrun by: thread scheduling and one last socket wake-up on a busy CI box.
MARGIN_S = 0.2
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
VISITOR = {"visitorDetails": {"id": "v-42", "type": "SHOPPER"}}


def store_at(url: str, *, timeout_ms: int = TIMEOUT_MS, store_id: str | None = None) -> StoreConfig:
    connector = ConnectorConfig(url=url, secret=SECRET, timeout_ms=timeout_ms)
    return StoreConfig(store_id=store_id or "st-" + uuid.uuid4().hex[:8], retailer_id="r", name="S", timezone="UTC",
                       currency="USD", authorized_amount=Money.of(25, "USD"), entry_methods=frozenset({Channel.QR_CODE}),
                       connectors={"identity": connector, "shopperAuthorization": connector})


def identify(client: ConnectorClient, store: StoreConfig, key: bytes = b"EG1.abc.1.mac", *,
             channel: KeyChannel = KeyChannel.OPTICAL):
    return client.identify(store, identity_key=key, key_channel=channel,
                           auth_event=AuthEvent("3f0c8a0e-7d7f-4e52-9d3f-2b9a0f4b8c11", NOW, "ENTRY"))


def authorize(client: ConnectorClient, store: StoreConfig, recommendation: ShopperAuthorization | None = None):
    event = GateAuthEvent("6b1d1d8e-0a55-4a43-8c2e-0f7f0a3b9c01", Channel.CREDIT_CARD, "TAP", NOW, "ENTRY",
                          {"brand": "VISA", "last4": "4242"})
    return client.authorize_shopper(store, instrument_id="pi_abc", authorized_amount=Money.of(25, "USD"),
                                    trip_id="trip_1", gate_event=event, recommendation=recommendation)


@pytest.fixture(scope="module")
def client():
    # every test uses its own store, so its own circuit
    c = ConnectorClient(failure_threshold=100, allow_private_urls=True)
    yield c
    c.close()


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    try:
        return fn(*args, **kwargs), time.monotonic() - started
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc, time.monotonic() - started


# --- the wire format --------------------------------------------------------------------------


def test_identity_call_is_signed_and_follows_the_contract(client):
    with LoopbackRetailer(lambda r: Reply(200, VISITOR)) as retailer:
        visitor = identify(client, store_at(retailer.url, store_id="store-001"), b"EG1.tok.88.mac",
                           channel=KeyChannel.OPTICAL)
    assert visitor.id == "v-42" and visitor.type is VisitorType.SHOPPER
    [got] = retailer.received
    assert got.path == "/v1/identity/identity-keys"
    assert got.headers["content-type"] == "application/json"
    webhooks.verify(SECRET, got.headers, got.body, now=time.time())
    body = got.json()
    assert set(body) == {"requestId", "identityKey", "storeId", "authEvent", "keyChannel"}
    assert uuid.UUID(body["requestId"])
    assert base64.b64decode(body["identityKey"]) == b"EG1.tok.88.mac"
    assert body["storeId"] == "store-001"
    assert body["authEvent"] == {"id": "3f0c8a0e-7d7f-4e52-9d3f-2b9a0f4b8c11", "timestamp": "2026-11-27T18:00:00.000Z",
                                 "location": "ENTRY"}
    assert body["keyChannel"] == "OPTICAL"


def test_shopper_authorization_call_follows_the_contract(client):
    answer = {"shopperAuthorized": True, "shopperRisks": ["HighVelocity", "SomethingNew"],
              "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 50.0, "currencyCode": "USD"}}],
              "extra": "ignored"}
    rec = ShopperAuthorization(False, (AuthorizationCondition("ADJUST", Money.of(40, "USD")),), (ShopperRisk.BadDebt,))
    with LoopbackRetailer(lambda r: Reply(200, answer)) as retailer:
        result = authorize(client, store_at(retailer.url, store_id="store-001"), rec)
    assert result.shopper_authorized is True
    assert result.risks == (ShopperRisk.HighVelocity,)  # an unknown label is dropped
    assert result.adjusted_amount == Money.of(50, "USD")
    [got] = retailer.received
    assert got.path == "/v1/fraudandabuse/shopperauthorization"
    webhooks.verify(SECRET, got.headers, got.body, now=time.time())
    assert got.json() == {
        "storeId": "store-001", "shopperIdentity": {"id": "pi_abc"},
        "authorizedAmount": {"value": 25.0, "currencyCode": "USD"},
        "shopperInteraction": {
            "shoppingTripId": "trip_1",
            "gateAuthenticationEvent": {"id": "6b1d1d8e-0a55-4a43-8c2e-0f7f0a3b9c01", "type": "CREDIT_CARD",
                                        "interactionType": "TAP", "timestamp": "2026-11-27T18:00:00.000Z",
                                        "location": "ENTRY", "data": {"brand": "VISA", "last4": "4242"}},
            "recommendation": {"shopperAuthorized": False,
                               "authorizationConditions": [{"type": "ADJUST",
                                                            "amount": {"value": 40.0, "currencyCode": "USD"}}],
                               "shopperRisks": ["BadDebt"]}}}


def test_without_a_recommendation_the_field_is_absent(client):
    with LoopbackRetailer(lambda r: Reply(200, {"shopperAuthorized": False})) as retailer:
        result = authorize(client, store_at(retailer.url))
    assert result == ShopperAuthorization(False)
    assert "recommendation" not in retailer.received[0].json()["shopperInteraction"]


@pytest.mark.parametrize("answer", [
    {"shopperAuthorized": "yes"},
    {"authorizationConditions": []},
    {"shopperAuthorized": True, "authorizationConditions": [{"type": "REQUIRE_ID"}]},
    {"shopperAuthorized": True, "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 9,
                                                                                          "currencyCode": "EUR"}}]},
    {"shopperAuthorized": True, "authorizationConditions": [{"type": "ADJUST", "amount": {"value": -1,
                                                                                          "currencyCode": "USD"}}]},
    {"shopperAuthorized": True, "shopperRisks": [7]},
    [True],
])
def test_an_authorization_answer_off_the_contract_is_a_failure(client, answer):
    with LoopbackRetailer(lambda r: Reply(200, answer)) as retailer:
        exc, _ = timed(authorize, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.MALFORMED


@pytest.mark.parametrize("answer", [
    {}, {"visitorDetails": {"id": "v", "type": "VIP"}}, {"visitorDetails": {"id": "", "type": "SHOPPER"}},
    {"visitorDetails": {"id": "x" * 256, "type": "SHOPPER"}}, {"visitorDetails": {"id": "a\nb", "type": "SHOPPER"}},
    {"visitorDetails": "v-1"},
])
def test_an_identity_answer_off_the_contract_is_a_failure(client, answer):
    with LoopbackRetailer(lambda r: Reply(200, answer)) as retailer:
        exc, _ = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.MALFORMED


def test_401_is_a_rejection_and_is_not_retried(client):
    with LoopbackRetailer(lambda r: Reply(401, {"message": "unknown"})) as retailer:
        exc, _ = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, IdentityRejected)
    assert len(retailer.received) == 1


@pytest.mark.parametrize("status, kind", [(400, FailureKind.BAD_REQUEST), (404, FailureKind.BAD_STATUS),
                                          (302, FailureKind.BAD_STATUS), (409, FailureKind.BAD_STATUS)])
def test_other_statuses_fail_without_retry(client, status, kind):
    with LoopbackRetailer(lambda r: Reply(status, {"message": "no"}, headers={"location": "http://x/"})) as retailer:
        exc, _ = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is kind and exc.status == status
    assert len(retailer.received) == 1


# --- retries ----------------------------------------------------------------------------------


def test_a_5xx_is_retried_with_the_same_message_id(client):
    replies = iter([Reply(503), Reply(200, VISITOR)])
    with LoopbackRetailer(lambda r: next(replies)) as retailer:
        assert identify(client, store_at(retailer.url)).id == "v-42"
    first, second = retailer.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.json()["requestId"] == second.json()["requestId"]


def test_a_connection_dropped_without_an_answer_is_retried(client):
    replies = iter([Reply(drop=True), Reply(200, VISITOR)])
    with LoopbackRetailer(lambda r: next(replies)) as retailer:
        assert identify(client, store_at(retailer.url)).id == "v-42"
    assert len(retailer.received) == 2


def test_retries_stop_at_the_attempt_limit_and_the_deadline(client):
    with LoopbackRetailer(lambda r: Reply(500)) as retailer:
        exc, took = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.SERVER_ERROR and exc.status == 500
    assert len(retailer.received) == 3
    assert took < TIMEOUT_MS / 1000 + MARGIN_S


def test_a_slow_5xx_leaves_no_time_to_retry(client):
    with LoopbackRetailer(lambda r: Reply(502, delay_s=0.25)) as retailer:
        exc, took = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed)
    assert len(retailer.received) <= 2
    assert took < TIMEOUT_MS / 1000 + MARGIN_S


# --- the deadline -----------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    Reply(200, VISITOR, delay_s=2.0),  # slow
    Reply(hold=True),  # holds the connection open, never answers
    Reply(200, VISITOR, trickle_s=0.05),  # one byte every 50 ms: each read is quick, the whole is not
], ids=["slow", "hold", "trickle"])
def test_the_deadline_holds_whatever_the_retailer_does(client, reply):
    with LoopbackRetailer(lambda r: reply) as retailer:
        exc, took = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.TIMEOUT
    assert took < TIMEOUT_MS / 1000 + MARGIN_S
    assert len(retailer.received) == 1  # a timeout spends the budget: no retry


def test_a_listener_that_never_accepts_times_out():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # the kernel completes the handshake; nobody ever reads
    client = ConnectorClient(allow_private_urls=True)
    try:
        exc, took = timed(identify, client, store_at(f"http://127.0.0.1:{listener.getsockname()[1]}"))
    finally:
        client.close()
        listener.close()
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.TIMEOUT
    assert took < TIMEOUT_MS / 1000 + MARGIN_S


def test_a_retailer_that_is_down_fails_fast(client):
    exc, took = timed(identify, client, store_at(closed_port_url()))
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.CONNECT_ERROR
    assert took < TIMEOUT_MS / 1000 + MARGIN_S


@pytest.mark.parametrize("reply, kind", [
    (Reply(raw=b"this is not http at all\r\n\r\n"), FailureKind.CONNECT_ERROR),
    (Reply(200, b"<html>proxy error</html>"), FailureKind.MALFORMED),
    (Reply(200, b"{\"visitorDetails\": "), FailureKind.MALFORMED),
    (Reply(200, b"x" * 70_000), FailureKind.MALFORMED),  # over the size limit
], ids=["not-http", "html", "truncated-json", "oversized"])
def test_garbage_is_a_failure_within_the_deadline(client, reply, kind):
    with LoopbackRetailer(lambda r: reply) as retailer:
        exc, took = timed(identify, client, store_at(retailer.url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is kind
    assert took < TIMEOUT_MS / 1000 + MARGIN_S


def test_a_store_without_the_connector_fails_at_once(client):
    store = store_at("http://127.0.0.1:9")
    store = store.with_changes(connectors={})
    exc, _ = timed(identify, client, store)
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.NOT_CONFIGURED


# --- connections, breaker, metrics, logs ------------------------------------------------------


def test_connections_are_pooled(client):
    with LoopbackRetailer(lambda r: Reply(200, VISITOR)) as retailer:
        store = store_at(retailer.url)
        for _ in range(5):
            identify(client, store)
    assert len(retailer.received) == 5
    assert retailer.connections == 1


def test_the_circuit_opens_after_repeated_failures_and_lets_one_trial_through_after_the_cool_down():
    healthy = False
    client = ConnectorClient(failure_threshold=3, cooldown_s=0.3, max_attempts=1, allow_private_urls=True)
    with LoopbackRetailer(lambda r: Reply(200, VISITOR) if healthy else Reply(503)) as retailer:
        store = store_at(retailer.url)
        for _ in range(3):
            assert timed(identify, client, store)[0].kind is FailureKind.SERVER_ERROR
        exc, took = timed(identify, client, store)
        assert exc.kind is FailureKind.CIRCUIT_OPEN and took < 0.01
        assert len(retailer.received) == 3  # nothing was sent while open
        other_store = store_at(retailer.url)  # another store's circuit is its own
        assert timed(identify, client, other_store)[0].kind is FailureKind.SERVER_ERROR
        time.sleep(0.35)
        healthy = True
        assert identify(client, store).id == "v-42"  # the half-open trial succeeds and closes the circuit
        assert identify(client, store).id == "v-42"
    client.close()


def test_a_failed_trial_opens_the_circuit_again():
    t = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=5, clock=lambda: t[0])
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    t[0] = 5.0
    assert breaker.allow()  # the one trial
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow()  # only one at a time
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    t[0] = 10.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_a_rejection_is_an_answer_and_resets_the_failure_count():
    replies = iter([Reply(503), Reply(503), Reply(401), Reply(503), Reply(503), Reply(200, VISITOR)])
    client = ConnectorClient(failure_threshold=3, max_attempts=1, allow_private_urls=True)
    with LoopbackRetailer(lambda r: next(replies)) as retailer:
        store = store_at(retailer.url)
        kinds = [type(timed(identify, client, store)[0]).__name__ for _ in range(6)]
    client.close()
    assert kinds == ["ConnectorFailed", "ConnectorFailed", "IdentityRejected", "ConnectorFailed", "ConnectorFailed",
                     "Visitor"]


def test_every_call_leaves_metrics_and_a_log_line():
    registry = CollectorRegistry()
    client = ConnectorClient(metrics=ConnectorMetrics(registry), allow_private_urls=True)
    replies = iter([Reply(200, VISITOR), Reply(401), Reply(500), Reply(500), Reply(500)])
    with LoopbackRetailer(lambda r: next(replies)) as retailer, capture_logs() as logs:
        store = store_at(retailer.url, store_id="store-m")
        identify(client, store)
        timed(identify, client, store)
        timed(identify, client, store)
    client.close()
    value = registry.get_sample_value
    assert value("entrygate_connector_calls_total", {"store_id": "store-m", "connector": "identity",
                                                     "outcome": "ok"}) == 1
    assert value("entrygate_connector_calls_total", {"store_id": "store-m", "connector": "identity",
                                                     "outcome": "rejected"}) == 1
    assert value("entrygate_connector_calls_total", {"store_id": "store-m", "connector": "identity",
                                                     "outcome": "server_error"}) == 1
    assert value("entrygate_connector_attempts_total", {"connector": "identity"}) == 5
    assert value("entrygate_connector_latency_seconds_count", {"connector": "identity", "outcome": "ok"}) == 1
    assert value("entrygate_connector_circuit_state", {"store_id": "store-m", "connector": "identity"}) == 0
    calls = [e for e in logs if e["event"] == "connector_call"]
    assert [(e["outcome"], e["status"], e["attempts"]) for e in calls] == [("ok", 200, 1), ("rejected", 401, 1),
                                                                          ("server_error", 500, 3)]
    assert all(e["store_id"] == "store-m" and e["connector"] == "identity" and e["latency_ms"] >= 0 for e in calls)


def test_the_transport_is_a_seam():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=VISITOR)

    client = ConnectorClient(transport=httpx.MockTransport(handler))
    assert identify(client, store_at("https://retailer.example/entry")).id == "v-42"
    assert str(seen[0].url) == "https://retailer.example/entry/v1/identity/identity-keys"
    client.close()


def test_a_request_goes_out_in_one_write_and_every_socket_wait_ends_by_the_deadline():
    import httpcore

    from entrygate.adapters.http.transport import _DeadlineStream, deadline

    class Recorder(httpcore.NetworkStream):
        def __init__(self) -> None:
            self.writes, self.timeouts = [], []

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.writes.append(buffer)
            self.timeouts.append(timeout)

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            self.timeouts.append(timeout)
            return b"HTTP/1.1 200 OK\r\n"

        def close(self) -> None:
            return None

    inner = Recorder()
    stream = _DeadlineStream(inner)
    with deadline(time.monotonic() + 0.2):
        stream.write(b"POST / HTTP/1.1\r\n\r\n", 5.0)
        stream.write(b"{}", 5.0)
        assert inner.writes == []
        stream.read(1024, 5.0)
    assert inner.writes == [b"POST / HTTP/1.1\r\n\r\n{}"]
    assert all(t <= 0.2 for t in inner.timeouts)
    with deadline(time.monotonic() - 1), pytest.raises(httpcore.ReadTimeout):
        stream.read(1024, 5.0)


@pytest.mark.parametrize("url", ["http://:::", "ftp://retailer.example", "http://[::1"])
def test_a_connector_url_that_cannot_be_called_is_a_failure_not_a_crash(client, url):
    exc, took = timed(identify, client, store_at(url))
    assert isinstance(exc, ConnectorFailed) and exc.kind is FailureKind.CONNECT_ERROR
    assert took < 0.05
