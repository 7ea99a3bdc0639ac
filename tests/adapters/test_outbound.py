"""The outbound guard at connect time: a name is resolved, every address checked, the checked one connected to."""
from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime

import httpcore
import pytest
from structlog.testing import capture_logs

from entrygate.adapters.http.connectors import LIMITS, ConnectorClient
from entrygate.adapters.http.outbound import GuardedBackend, OutboundPolicy, OutboundRefused
from entrygate.adapters.http.transport import DeadlineTransport
from entrygate.domain import webhooks
from entrygate.domain.channels import Channel
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.services.ports.connectors import AuthEvent, ConnectorFailed, FailureKind, KeyChannel
from retailer.harness import LoopbackRetailer, Reply

VISITOR = {"visitorDetails": {"id": "v-1", "type": "SHOPPER"}}
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


class Resolver:
    """A DNS whose answers the test sets; each lookup is counted, as a rebinding attacker would see it."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int, **_: object) -> list[tuple]:
        self.lookups.append(host)
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]


class Recording(httpcore.NetworkBackend):
    """An inner backend that notes where it was asked to connect and connects nowhere."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001
        self.connects.append((host, port))
        raise httpcore.ConnectError("nothing listens in this test")

    def sleep(self, seconds: float) -> None:
        return None


def _store(url: str) -> StoreConfig:
    connector = ConnectorConfig(url=url, secret=webhooks.new_secret(), timeout_ms=500)
    return StoreConfig(store_id="st-" + uuid.uuid4().hex[:8], retailer_id="r", name="S", timezone="UTC",
                       currency="USD", authorized_amount=Money.of(25, "USD"), entry_methods=frozenset({Channel.QR_CODE}),
                       connectors={"identity": connector})


def _identify(client: ConnectorClient, url: str):
    return client.identify(_store(url), identity_key=b"EG1.abc.1.mac", key_channel=KeyChannel.OPTICAL,
                           auth_event=AuthEvent(str(uuid.uuid4()), NOW, "ENTRY"))


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["::1"], ["10.0.0.5"], ["169.254.169.254"], ["::ffff:127.0.0.1"],
                                    ["fd00:ec2::254"], ["0.0.0.0"], ["93.184.216.34", "192.168.1.1"]])
def test_a_name_that_resolves_to_a_refused_address_is_never_connected_to(answer):
    inner = Recording()
    backend = GuardedBackend(inner, OutboundPolicy(resolver=Resolver(answer)))
    with pytest.raises(OutboundRefused, match="resolves to"):
        backend.connect_tcp("retailer.example", 443, timeout=1.0)
    assert inner.connects == []


def test_the_socket_connects_to_the_checked_address_not_to_the_name():
    inner, resolver = Recording(), Resolver(["93.184.216.34", "2606:2800:220:1::1"])
    backend = GuardedBackend(inner, OutboundPolicy(resolver=resolver))
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("retailer.example", 443, timeout=1.0)
    assert inner.connects == [("93.184.216.34", 443), ("2606:2800:220:1::1", 443)]


def test_every_connect_resolves_again_so_a_rebinding_is_caught():
    inner = Recording()
    resolver = Resolver(["93.184.216.34"], ["127.0.0.1"])  # public when first asked, loopback after
    backend = GuardedBackend(inner, OutboundPolicy(resolver=resolver))
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("rebind.example", 443, timeout=1.0)
    with pytest.raises(OutboundRefused):
        backend.connect_tcp("rebind.example", 443, timeout=1.0)
    assert resolver.lookups == ["rebind.example", "rebind.example"]
    assert inner.connects == [("93.184.216.34", 443)]


def test_allowed_private_addresses_pass_the_name_through_unresolved():
    inner, resolver = Recording(), Resolver(["127.0.0.1"])
    backend = GuardedBackend(inner, OutboundPolicy(allow_private=True, resolver=resolver))
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("localhost", 8080, timeout=1.0)
    assert inner.connects == [("localhost", 8080)] and resolver.lookups == []


def test_an_unresolvable_name_is_a_connection_error():
    def fails(*_: object, **__: object):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    backend = GuardedBackend(Recording(), OutboundPolicy(resolver=fails))
    with pytest.raises(httpcore.ConnectError, match="cannot resolve"):
        backend.connect_tcp("nowhere.example", 443, timeout=1.0)


# --- through the connector client, against a real loopback server -------------------------------


def test_the_transport_refuses_a_name_resolving_to_loopback_at_connect_time_and_connects_when_allowed():
    with LoopbackRetailer(lambda r: Reply(200, VISITOR)) as retailer:
        port = retailer.url.rsplit(":", 1)[1]
        # https to a name: nothing in the URL is refused, only where the name leads at the call.
        url = f"https://retailer.example:{port}"
        strict = ConnectorClient(max_attempts=3, transport=DeadlineTransport(
            limits=LIMITS, policy=OutboundPolicy(resolver=Resolver(["127.0.0.1"]))))
        try:
            with pytest.raises(ConnectorFailed) as caught:
                _identify(strict, url)
        finally:
            strict.close()
        assert caught.value.kind is FailureKind.CONNECT_ERROR and "loopback" in caught.value.message
        assert retailer.connections == 0 and retailer.received == []

        lenient = ConnectorClient(allow_private_urls=True)
        try:
            visitor = _identify(lenient, f"http://localhost:{port}")
        finally:
            lenient.close()
    assert visitor.id == "v-1" and len(retailer.received) == 1


@pytest.mark.parametrize("form", ["http://127.0.0.1:{port}", "https://127.0.0.1:{port}", "https://localhost:{port}",
                                  "https://[::ffff:127.0.0.1]:{port}", "https://2130706433:{port}"])
def test_the_default_client_refuses_loopback_and_plain_http_without_retrying(form):
    with LoopbackRetailer(lambda r: Reply(200, VISITOR)) as retailer:
        client = ConnectorClient(max_attempts=3)
        try:
            with pytest.raises(ConnectorFailed) as caught, capture_logs() as logs:
                _identify(client, form.format(port=retailer.url.rsplit(":", 1)[1]))
        finally:
            client.close()
    assert caught.value.kind is FailureKind.CONNECT_ERROR and "entrygate refuses" in caught.value.message
    assert retailer.connections == 0
    [line] = [e for e in logs if e["event"] == "connector_call"]
    assert line["outcome"] == "connect_error" and line["attempts"] == 1  # a refusal is not retried
