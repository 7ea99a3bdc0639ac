"""The connectivity test on in-memory ports, over the scripted probe: what is sent, and how answers are judged."""
from __future__ import annotations

import pytest

from entrygate.adapters.memory.connectors import ProbeCall, ScriptedProbe
from entrygate.domain import webhooks
from entrygate.domain.keys import KeyKind
from entrygate.domain.store import ConnectorConfig
from entrygate.services.admin.connectivity import ConnectivityService
from entrygate.services.auth import Principal
from entrygate.services.errors import Forbidden
from entrygate.services.ports.connectors import IDENTITY_PATH, ProbeAnswer
from support.factories import NOW, OPERATOR, World

SECRET = "whsec_" + "A" * 44


def service(answer) -> tuple[World, ScriptedProbe, ConnectivityService]:  # noqa: ANN001
    w = World(connectors={"identity": ConnectorConfig("https://retailer.test", SECRET)})
    probe = ScriptedProbe(answer)
    return w, probe, ConnectivityService(uow=w.memory, probe=probe, wall_clock=NOW.timestamp)


def test_when_nothing_answers_only_the_first_request_is_sent():
    w, probe, connectivity = service(lambda call: ProbeAnswer(None, b"", 2.0, "connection refused"))
    results = connectivity.run(OPERATOR, w.store.store_id, "identity")
    assert len(probe.calls) == 1 and probe.calls[0].path == IDENTITY_PATH
    assert results[0].got_status is None and not results[0].passed
    assert all(r.got_summary == "not sent" and not r.passed for r in results[1:]) and len(results) > 10


def test_a_connector_refusing_everything_passes_the_401_checks_and_fails_the_400_ones_by_name():
    w, probe, connectivity = service(lambda call: ProbeAnswer(401, b"", 3.0))
    results = {r.name: r for r in connectivity.run(OPERATOR, w.store.store_id, "identity")}
    assert len(probe.calls) == len(results)
    for name in ("well-formed request", "unknown key", "unsigned request", "wrong signature", "stale signature"):
        assert results[name].passed, name
    assert not results["requestId missing"].passed and results["requestId missing"].got_status == 401
    assert results["requestId missing"].hint


def test_every_request_is_signed_with_the_stores_secret_but_the_signature_checks():
    w, probe, connectivity = service(lambda call: ProbeAnswer(401, b"", 3.0))
    results = connectivity.run(OPERATOR, w.store.store_id, "identity")
    by_name = dict(zip((r.name for r in results), probe.calls))

    def signed(call: ProbeCall) -> bool:
        try:
            webhooks.verify(SECRET, call.headers, call.body, now=NOW.timestamp())
        except webhooks.WebhookVerificationError:
            return False
        return True

    assert by_name["unsigned request"].headers == {}
    assert not signed(by_name["wrong signature"]) and not signed(by_name["stale signature"])
    others = [call for name, call in by_name.items() if "signature" not in name and name != "unsigned request"]
    assert others and all(signed(call) for call in others)


def test_a_probe_that_breaks_is_a_transport_error_never_an_exception():
    def broken(call: ProbeCall) -> ProbeAnswer:
        raise OSError("network is unreachable")

    answer = ScriptedProbe(broken).probe(ConnectorConfig("https://retailer.test", SECRET), IDENTITY_PATH, b"{}",
                                         {}, budget_s=1.0)
    assert answer.status is None and "network is unreachable" in answer.error


def test_only_the_stores_retailer_or_the_operator_may_run_it():
    w, probe, connectivity = service(lambda call: ProbeAnswer(401, b"", 3.0))
    with pytest.raises(Forbidden):
        connectivity.run(Principal(KeyKind.RETAILER, retailer_id="ret_other"), w.store.store_id, "identity")
    assert probe.calls == []
